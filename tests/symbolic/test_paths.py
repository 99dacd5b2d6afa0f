"""Path sums with three witnesses (symbolic/paths.py): the sum over paths, sympy.diff and a central difference."""

import dataclasses
import math

import pytest
import sympy as sp

from backprop.symbolic.influence import InfluenceDiagram
from backprop.symbolic.paths import PathSumCheck, check_path_sum, numerical_total_derivative
from strategies import assert_explained, influence_example, influence_examples

x, y, u, v, w, z = sp.symbols("x y u v w z")


def sources(diagram, target):
    return [n for n in diagram.nodes if n != target and diagram.paths(n, target)]


@pytest.mark.parametrize("name", influence_examples())
def test_check_path_sum_for_every_source(name):
    diagram, target, at = influence_example(name)
    for source in sources(diagram, target):
        check = check_path_sum(diagram, source, target, at)
        assert isinstance(check, PathSumCheck)
        assert check.exact and check.ok, check.summary()
        assert sp.simplify(check.path_sum - check.sympy_diff) == 0
        assert math.fsum(c.value for c in check.contributions) == pytest.approx(check.value, rel=1e-14)
        assert check.relative_error <= 1e-9
        assert "-> ok" in check.summary()
        assert (check.source, check.target, check.at) == (source, target, at)


def test_check_path_sum_against_a_derivative_worked_by_hand():
    diagram, target, at = influence_example("product")  # z = x^3 cos x
    check = check_path_sum(diagram, x, z, at)
    assert sp.simplify(check.sympy_diff - (3 * x**2 * sp.cos(x) - x**3 * sp.sin(x))) == 0
    assert check.value == pytest.approx(3 * math.cos(1.0) - math.sin(1.0), rel=1e-15)
    assert [c.path for c in check.contributions] == [(x, u, z), (x, v, z)]
    # from the intermediate u, holding x fixed: z = u cos(x), so dz/du = cos(x)
    assert check_path_sum(diagram, u, z, at).value == pytest.approx(math.cos(1.0), rel=1e-15)


def test_a_wrong_diagram_fails_every_witness():
    diagram, target, at = influence_example("product")
    diagram.add_edge(x, z, 1)  # an arrow that the definitions do not justify
    check = check_path_sum(diagram, x, z, at)
    assert not check.exact and not check.ok
    assert check.value - check.numeric == pytest.approx(1.0, abs=1e-9)
    assert "FAIL" in check.summary() and "!=" in check.summary()


def test_ok_needs_the_numbers_to_agree_too():
    diagram, target, at = influence_example("chain")
    check = check_path_sum(diagram, x, z, at)
    assert check.ok
    off = dataclasses.replace(check, numeric=check.value * (1 + 1e-3))  # a central difference 0.1 % away
    assert off.exact and not off.ok and "FAIL" in off.summary()
    assert dataclasses.replace(off, rtol=1e-2).ok  # within a looser tolerance


@pytest.mark.parametrize("name", influence_examples())
def test_numerical_total_derivative_matches_sympy(name):
    diagram, target, at = influence_example(name)
    for source in diagram.inputs:
        exact = diagram.evaluate(sp.diff(diagram.expression(target), source), at)
        assert numerical_total_derivative(diagram, source, target, at) == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_numerical_total_derivative_from_an_intermediate_variable():
    diagram, target, at = influence_example("skip arrow")  # z = (v - y)^2: nudging v alone moves z by 2 (v - y)
    v_at = diagram.evaluate(v, at)
    assert numerical_total_derivative(diagram, v, z, at) == pytest.approx(2 * (v_at - at[y]), rel=1e-9)
    assert numerical_total_derivative(diagram, v, z, at, order=2, h=1e-6) == pytest.approx(2 * (v_at - at[y]),
                                                                                            rel=1e-7)


DIAGRAM, TARGET, AT = influence_example("product")
BAD = [
    ("a hand-built diagram", lambda: check_path_sum(InfluenceDiagram().add_edge(x, z, 2 * x), x, z, {x: 1.0}),
     ValueError, ["'diagram'", "built from definitions", "hand-built"]),
    ("not a diagram", lambda: check_path_sum({u: x}, x, u, {x: 1.0}),
     TypeError, ["'diagram'", "expected an InfluenceDiagram", "got dict"]),
    ("an input as the target", lambda: check_path_sum(DIAGRAM, u, x, AT),
     ValueError, ["'target'", "a defined variable (an outcome)", "got the input x"]),
    ("a source outside the diagram", lambda: check_path_sum(DIAGRAM, y, z, AT),
     ValueError, ["'source'", "a variable of the diagram", "got y"]),
    ("no point", lambda: numerical_total_derivative(DIAGRAM, x, z, {}),
     ValueError, ["'at'", "missing [x]"]),
    ("a tolerance as text", lambda: check_path_sum(DIAGRAM, x, z, AT, rtol="tight"),
     TypeError, ["'rtol'", "expected a real number", "got str 'tight'"]),
    ("a difference order that does not exist", lambda: numerical_total_derivative(DIAGRAM, x, z, AT, order=3),
     ValueError, ["'order'", "expected 2 or 4", "got 3"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_path_sum_arguments(call, exc, fragments):
    assert_explained(call, exc, fragments)
