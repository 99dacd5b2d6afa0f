"""The loss surfaces in SymPy (symbolic/surfaces.py): rules verified, critical points solved and classified."""

import numpy as np
import pytest
import sympy as sp

import backprop as bp
from backprop.experiments.descent import Surface, get_surface
from backprop.experiments.descent import SURFACES
from backprop.symbolic.surfaces import (CriticalPoint, classify_critical_point, critical_points, surface_expression,
                                        surface_symbols, verify_surface)
from strategies import assert_explained

NAMES = sorted(SURFACES)


def monkey_saddle():
    """w_1^3 - 3 w_1 w_2^2: gradient and Hessian both 0 at the origin."""
    return Surface(**{**vars(bp.saddle()), "name": "monkey_saddle", "formula": "w_1^3 - 3 w_1 w_2^2",
                         "value_rule": lambda a, b: a**3 - 3 * a * b**2,
                         "gradient_rule": lambda a, b: (3 * a**2 - 3 * b**2, -6 * a * b),
                         "hessian_rule": lambda a, b: ((6 * a, -6 * b), (-6 * b, -6 * a))})


@pytest.mark.parametrize("name", NAMES)
def test_gradient_and_hessian_rules_equal_sympy(name):
    checks = verify_surface(name)
    assert [c.rule for c in checks] == [f"{name}_gradient", f"{name}_hessian"]
    for check in checks:
        assert check.ok, str(check)
        assert check.difference.is_zero_matrix


@pytest.mark.parametrize("rule, wrong", [
    ("gradient_rule", lambda w: (2 * (w - 1),)),  # the true slope is 4 (w - 1)
    ("hessian_rule", lambda w: ((2,),)),  # the true curvature is 4
])
def test_verify_catches_a_wrong_rule(rule, wrong):
    s = bp.quadratic_1d()
    gradient, hessian = verify_surface(Surface(**{**vars(s), rule: wrong}))
    bad, good = (gradient, hessian) if rule == "gradient_rule" else (hessian, gradient)
    assert not bad.ok and "FAILS" in str(bad) and good.ok


def test_symbols_and_expression():
    w = sp.Symbol("w", real=True)
    w1, w2 = sp.symbols("w_1 w_2", real=True)
    assert surface_symbols("quadratic_1d") == (w,)
    assert surface_symbols("saddle") == (w1, w2)
    assert sp.expand(surface_expression("quadratic_1d") - 2 * (w - 1) ** 2) == 0
    assert sp.expand(surface_expression(bp.quadratic_1d(curvature=6.0, minimum=-2.0)) - 3 * (w + 2) ** 2) == 0
    assert sp.expand(surface_expression("elongated_bowl") - (w1**2 + 10 * w2**2) / 2) == 0
    assert sp.expand(surface_expression("saddle") - (w1**2 - w2**2)) == 0


@pytest.mark.parametrize("name", NAMES)
def test_critical_points_are_exact_and_match_the_stored_ones(name):
    s = get_surface(name)
    solved = critical_points(s)
    assert [tuple(float(c) for c in p) for p in solved] == [p for p, _ in s.critical_points]
    expr, ws = surface_expression(s), surface_symbols(s)
    for point in solved:
        assert all(sp.diff(expr, v).subs(dict(zip(ws, point))) == 0 for v in ws)  # the gradient vanishes exactly
    lowest = min(float(expr.subs(dict(zip(ws, p)))) for p, _ in s.critical_points)
    for point, kind in s.critical_points:
        if kind == "global minimum":  # a local minimum (the Hessian says) that no other point lies below
            assert classify_critical_point(s, point).kind == "local minimum"
            value = float(expr.subs(dict(zip(ws, point))))
            assert value == lowest
            grid = np.stack(np.meshgrid(*[np.linspace(-10, 10, 81)] * s.dim), -1).reshape(-1, s.dim)
            assert np.all([s.f(g) >= value - 1e-12 for g in grid])
        else:
            assert classify_critical_point(s, point).kind == kind


def test_classification_reads_the_hessian_eigenvalues():
    cp = classify_critical_point("saddle_between_minima", (0, 0))
    assert isinstance(cp, CriticalPoint)
    assert cp.eigenvalues == (-1, 2) and cp.kind == "saddle point"
    assert cp.hessian == sp.Matrix([[2, 0], [0, -1]])
    assert str(cp) == "w = (0, 0): Hessian eigenvalues -1, 2 -> saddle point"
    assert classify_critical_point("saddle_between_minima", (0, 1)).eigenvalues == (2, 2)
    assert classify_critical_point("two_minima_1d", 0.0).eigenvalues == (-2,)
    assert classify_critical_point("two_minima_1d", 0.0).kind == "local maximum"
    assert classify_critical_point("elongated_bowl", np.zeros(2)).kind == "local minimum"


def test_a_degenerate_critical_point_is_named():
    monkey = monkey_saddle()
    assert all(c.ok for c in verify_surface(monkey))
    cp = classify_critical_point(monkey, (0, 0))
    assert cp.kind == "degenerate" and cp.eigenvalues == (0, 0)
    assert critical_points(monkey) == [(0, 0)]


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: classify_critical_point("saddle", (1.0, 0.0)), ValueError,
     ["'point'", "expected a critical point of 'saddle'", "gradient is [2, 0]"]),
    (lambda: classify_critical_point("saddle", (1.0, 0.0, 0.0)), ValueError,
     ["'point'", "expected shape (2,)", "got shape (3,)"]),
    (lambda: verify_surface("bowl"), ValueError, ["'surface'", "expected one of", "got 'bowl'"]),
    (lambda: critical_points(3), TypeError, ["'surface'", "expected a name", "got int"]),
], ids=["not critical", "wrong dimension", "unknown surface", "not a surface"])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
