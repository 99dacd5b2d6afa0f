"""Influence diagrams and the distributed chain rule (symbolic/influence.py): the algebra, exact and numeric."""

import functools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.tolerance import relative_error
from backprop.symbolic.influence import InfluenceDiagram, PathContribution, influence_diagram
from strategies import FD_EXAMPLES, assert_explained

x, y, u, v, w, a, b, c, z, u1, u2, v1, v2, t = sp.symbols("x y u v w a b c z u1 u2 v1 v2 t")

# Each case: definitions, the input and outcome, the composed expression written
# out by hand (an independent witness), the number of paths, and a safe domain.
CASES = {
    "product of two branches": (
        {u: x**2, v: sp.sin(x), z: u * v}, x, z, x**2 * sp.sin(x), 2, (-3.0, 3.0)),
    "diamond with two inputs": (
        {a: x * y, b: x + y, c: a * b}, y, c, (x * y) * (x + y), 2, (-3.0, 3.0)),
    "three levels, four paths": (
        {u1: x**2, u2: sp.cos(x), v1: u1 * u2, v2: u1 + u2**2, z: v1 * v2}, x, z,
        (x**2 * sp.cos(x)) * (x**2 + sp.cos(x) ** 2), 4, (-2.0, 2.0)),
    "exp, log, tanh and a skip arrow": (
        {u: sp.exp(x), v: sp.log(u + x**2), w: sp.tanh(v * x), z: w + u}, x, z,
        sp.tanh(sp.log(sp.exp(x) + x**2) * x) + sp.exp(x), 4, (-2.0, 2.0)),
    "a chain, one path": (
        {u: sp.exp(x), v: 1 + u, z: sp.log(v)}, x, z, sp.log(1 + sp.exp(x)), 1, (-5.0, 5.0)),
    "direct and indirect influence": (
        {u: x * y, z: x * u + y}, x, z, x * (x * y) + y, 2, (-3.0, 3.0)),
    "sigmoid neuron with a squared divergence": (
        {a: w * x + b, y: 1 / (1 + sp.exp(-a)), z: (y - t) ** 2}, w, z,
        (1 / (1 + sp.exp(-(w * x + b))) - t) ** 2, 1, (-2.0, 2.0)),
}
POINT = {x: 0.7, y: -1.3, w: 0.4, b: -0.2, t: 0.9}


@pytest.mark.parametrize("case", CASES)
def test_path_sum_equals_sympy_diff_exactly(case):
    definitions, source, target, composed, n_paths, _ = CASES[case]
    diagram = influence_diagram(definitions)
    assert len(diagram.paths(source, target)) == n_paths
    path_sum = diagram.total_derivative(source, target, in_inputs=True)
    assert path_sum.free_symbols <= set(diagram.inputs)
    assert sp.simplify(path_sum - sp.diff(composed, source)) == 0
    assert sp.simplify(diagram.expression(target) - composed) == 0


@pytest.mark.parametrize("case", CASES)
def test_total_derivative_with_respect_to_every_input(case):
    definitions, _, target, composed, _, _ = CASES[case]
    diagram = influence_diagram(definitions)
    for source in diagram.inputs:
        assert sp.simplify(diagram.total_derivative(source, target, in_inputs=True) - sp.diff(composed, source)) == 0


@functools.cache
def _diagram_and_composed(case):
    """The case's diagram and its composed function of the source alone (the other inputs at POINT): built
    once per case, not once per example."""
    definitions, source, _, composed, _, _ = CASES[case]
    diagram = influence_diagram(definitions)
    fixed = {s: POINT[s] for s in diagram.inputs if s != source}
    return diagram, fixed, sp.lambdify([source], composed.xreplace(fixed), "math")


@pytest.mark.parametrize("case", CASES)
@settings(max_examples=FD_EXAMPLES, deadline=None)
@given(data=st.data())
def test_path_sum_matches_central_difference(case, data):
    _, source, target, _, _, (low, high) = CASES[case]
    diagram, fixed, f = _diagram_and_composed(case)
    at = {**fixed, source: data.draw(st.floats(low, high), label=str(source))}
    x = np.array([at[source]])
    numeric = float(bp.numerical_gradient(lambda: f(x[0]), x, order=4)[0])  # the library's fourth-order difference
    analytic = diagram.evaluate(diagram.total_derivative(source, target), at)
    assert relative_error(analytic, numeric) <= 1e-7 or abs(analytic - numeric) <= 1e-9, (at, analytic, numeric)


def test_worked_example_edges_and_paths():
    diagram = influence_diagram({u: x**2, v: sp.sin(x), z: u * v})
    assert diagram.nodes == (x, u, v, z)
    assert diagram.edges == ((x, u), (x, v), (u, z), (v, z))
    assert diagram.weight(x, u) == 2 * x and diagram.weight(u, z) == v and diagram.weight(v, z) == u
    assert diagram.paths(x, z) == [(x, u, z), (x, v, z)]
    assert diagram.path_product((x, u, z)) == 2 * x * v
    assert diagram.total_derivative(x, z) == 2 * x * v + u * sp.cos(x)


def test_path_contributions_add_up_to_the_total():
    diagram = influence_diagram(CASES["three levels, four paths"][0])
    rows = diagram.path_contributions(x, z, {x: 0.8})
    assert all(isinstance(r, PathContribution) for r in rows) and len(rows) == 4
    total = diagram.evaluate(diagram.total_derivative(x, z), {x: 0.8})
    assert math.fsum(r.value for r in rows) == pytest.approx(total, rel=1e-14)
    assert [r.path for r in rows] == diagram.paths(x, z)
    assert all(r.product == diagram.path_product(r.path) for r in rows)


def test_evaluate_a_variable_and_an_expression():
    diagram = influence_diagram({u: x**2, v: sp.sin(x), z: u * v})
    assert diagram.evaluate(z, {x: 2.0}) == pytest.approx(4 * math.sin(2.0), rel=1e-15)
    assert diagram.evaluate(u + 1, {x: 3}) == 10.0


def test_self_and_no_path_conventions():
    diagram = influence_diagram({u: x**2, z: u + y})
    assert diagram.paths(x, x) == [(x,)] and diagram.total_derivative(x, x) == 1
    assert diagram.paths(y, u) == [] and diagram.total_derivative(y, u) == 0  # y does not influence u
    assert diagram.paths(z, x) == [] and diagram.total_derivative(z, x) == 0  # arrows only go forwards


def test_hand_built_diagram():
    diagram = InfluenceDiagram().add_edge(x, u, 2 * x).add_edge(x, v, sp.cos(x)).add_edge(u, z, v).add_edge(v, z, u)
    assert diagram.inputs == (x,)
    assert diagram.total_derivative(x, z) == 2 * x * v + u * sp.cos(x)
    assert diagram.evaluate(diagram.total_derivative(x, z), {x: 1.0, u: 1.0, v: math.sin(1.0)}) == pytest.approx(
        2 * math.sin(1.0) + math.cos(1.0), rel=1e-15)


def test_an_input_without_influence_has_no_arrow():
    diagram = influence_diagram({z: x + y - y})  # SymPy cancels y: it does not influence z
    assert diagram.edges == ((x, z),)


# --- bad input ----------------------------------------------------------------------

DIAGRAM = influence_diagram({u: x**2, z: u + 1})
LOG = influence_diagram({u: sp.log(x), z: u * y})
BAD = [
    ("a cycle among the definitions", lambda: influence_diagram({u: v + x, v: u * 2}),
     ValueError, ["'definitions'", "no cycles", "got a cycle among [u, v]"]),
    ("an arrow closing a cycle", lambda: InfluenceDiagram().add_edge(x, u, 1).add_edge(u, z, 1).add_edge(z, x, 1),
     ValueError, ["'target'", "z -> x", "would close a cycle"]),
    ("an unknown symbol", lambda: influence_diagram({z: x * y}, inputs=[x]),
     ValueError, ["'definitions'", "unknown symbol(s) [y]", "inputs [x]"]),
    ("a name instead of a Symbol", lambda: influence_diagram({"z": x**2}),
     TypeError, ["'definitions'", "expected a sympy Symbol", "got str 'z'"]),
    ("an expression as text", lambda: influence_diagram({z: "x**2"}),
     TypeError, ["'definitions[z]'", "expected a sympy expression", "got str 'x**2'"]),
    ("no definitions", lambda: influence_diagram({}),
     ValueError, ["'definitions'", "at least one definition"]),
    ("definitions as pairs", lambda: influence_diagram([(z, x)]),
     TypeError, ["'definitions'", "expected a dict Symbol -> expression", "got list"]),
    ("inputs as names", lambda: influence_diagram({z: x}, ["x"]),
     TypeError, ["'inputs'", "expected a sympy Symbol", "got str 'x'"]),
    ("one input, not a list", lambda: influence_diagram({z: x}, x),
     TypeError, ["'inputs'", "expected a sequence of Symbols", "got Symbol"]),
    ("an input that is also defined", lambda: influence_diagram({z: x, x: y}, [x, y]),
     ValueError, ["'inputs'", "without a definition", "got [x]"]),
    ("a source outside the diagram", lambda: DIAGRAM.paths(y, z),
     ValueError, ["'source'", "a variable of the diagram [x, u, z]", "got y"]),
    ("a target outside the diagram", lambda: DIAGRAM.total_derivative(x, y),
     ValueError, ["'target'", "a variable of the diagram", "got y"]),
    ("a source as text", lambda: DIAGRAM.paths("x", z),
     TypeError, ["'source'", "expected a sympy Symbol", "got str 'x'"]),
    ("a path through a missing arrow", lambda: DIAGRAM.path_product((x, z)),
     ValueError, ["there is no arrow x -> z"]),
    ("a path as a list", lambda: DIAGRAM.path_product([x, u]),
     TypeError, ["'path'", "non-empty tuple of Symbols", "got list"]),
    ("an arrow added twice", lambda: InfluenceDiagram().add_edge(x, u, 2 * x).add_edge(x, u, 2),
     ValueError, ["'target'", "the arrow x -> u already exists"]),
    ("an arrow from a variable to itself", lambda: InfluenceDiagram().add_edge(u, u, 1),
     ValueError, ["'source' and 'target'", "different variables", "got u twice"]),
    ("a derivative as text", lambda: InfluenceDiagram().add_edge(u, z, "v"),
     TypeError, ["'derivative'", "expected a sympy expression", "got str 'v'"]),
    ("a target that is a number", lambda: InfluenceDiagram().add_edge(u, 3, 1),
     TypeError, ["'target'", "expected a sympy Symbol", "got int 3"]),
    ("a missing input value", lambda: LOG.evaluate(z, {x: 2.0}),
     ValueError, ["'at'", "a value for every input", "missing [y]"]),
    ("a NaN input value", lambda: LOG.evaluate(z, {x: float("nan"), y: 1.0}),
     ValueError, ["'at[x]'", "finite real number", "nan"]),
    ("a value for a defined variable", lambda: LOG.evaluate(z, {u: 1.0, y: 1.0}),
     ValueError, ["'at'", "values for the inputs", "got u, which is defined as u = log(x)"]),
    ("a point outside the domain", lambda: LOG.evaluate(z, {x: -1.0, y: 1.0}),
     ValueError, ["'at'", "not a finite real number there"]),
    ("values as a list", lambda: LOG.evaluate(z, [1.0, 2.0]),
     TypeError, ["'at'", "expected a dict Symbol -> number", "got list"]),
    ("the expression of an unknown variable", lambda: LOG.expression(w),
     ValueError, ["'var'", "a variable of the diagram", "got w"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_the_expression_of_a_hand_built_variable_is_unknown():
    diagram = InfluenceDiagram().add_edge(x, u, 2 * x)
    assert_explained(lambda: diagram.expression(u), ValueError, ["'var'", "u has arrows into it but no definition"])
    assert diagram.expression(x) == x  # an input is its own expression


def test_repr_lists_the_arrows():
    assert repr(influence_diagram({u: x**2, z: u + y})) == "InfluenceDiagram(x->u: 2*x, y->z: 1, u->z: 1)"
    assert bp.InfluenceDiagram is InfluenceDiagram and bp.influence_diagram is influence_diagram
