"""Tests backprop.grading.hw01: homework 01's checks name the path, arrow or factor that is wrong, and catch every bug.

As for homework 02: diagnoses of typical mistakes; a bank of buggy answers that the
public cases and the hidden cases of every seed must all catch; the points of every
seed's hidden cases (both signs, never where 2x = 1).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp

from backprop.grading import check, get_part, hidden_rng
from backprop.grading.hw01 import PUBLIC_POINTS
from strategies import case_verdicts, check_message

ROOT = Path(__file__).resolve().parents[2]
x, a, b, c, F = sp.symbols("x a b c F")
SEEDS = range(6)
RIGHT_EDGES = {(x, a): 2 * x, (x, b): sp.cos(x), (a, c): b, (b, c): a, (c, F): sp.Integer(1), (a, F): sp.exp(a)}
PATHS = [(x, a, c, F), (x, a, F), (x, b, c, F)]




def _edges(**changes):
    edges = dict(RIGHT_EDGES)
    for key, value in changes.items():
        s, t = (sp.Symbol(n) for n in key.split("_"))
        if value is None:
            del edges[(s, t)]
        else:
            edges[(s, t)] = value
    return lambda: edges


def _path_sum(edges=RIGHT_EDGES, paths=PATHS, total=None):
    def total_derivative(x_value):
        values = {x: x_value, a: x_value**2, b: np.sin(x_value), c: x_value**2 * np.sin(x_value)}
        products = {}
        for path in paths:
            product = 1.0
            for s, t in zip(path, path[1:]):
                product *= float(sp.sympify(edges[(s, t)]).subs(values))
            products[path] = product
        return (total(x_value) if total else sum(products.values())), products
    return total_derivative


def _dF_dx():
    return sp.diff(x**2 * sp.sin(x) + sp.exp(x**2), x)


def _a_taken_as_x(x_value):
    """The path sum with every weight right but evaluated at a = x (x**2 forgotten)."""
    values = {x: x_value, a: x_value, b: np.sin(x_value), c: x_value * np.sin(x_value)}
    weight = lambda s, t: float(sp.sympify(RIGHT_EDGES[(s, t)]).subs(values))  # noqa: E731
    products = {path: float(np.prod([weight(s, t) for s, t in zip(path, path[1:])])) for path in PATHS}
    return sum(products.values()), products


#: dF/dx with exp(x**2) differentiated as exp(x**2): the chain rule's inner derivative 2x forgotten
NO_INNER_FACTOR = 2 * x * sp.sin(x) + x**2 * sp.cos(x) + sp.exp(x**2)


BUGS = [
    ("01_local_derivatives", "da/dx without its factor 2", _edges(x_a=x)),
    ("01_local_derivatives", "an extra factor 2x on a -> F", _edges(a_F=2 * x * sp.exp(a))),
    ("01_local_derivatives", "2 sqrt(a) for 2x", _edges(x_a=2 * sp.sqrt(a))),
    ("01_local_derivatives", "a missing arrow", _edges(a_F=None)),
    ("01_local_derivatives", "a path taken for an arrow", lambda: {**RIGHT_EDGES, (x, F): sp.Integer(1)}),
    ("01_local_derivatives", "the sign of cos", _edges(x_b=-sp.cos(x))),
    ("01_influence_paths", "a missing path", lambda: PATHS[:2]),
    ("01_influence_paths", "a path twice", lambda: PATHS + [PATHS[0]]),
    ("01_influence_paths", "a path that follows no arrow", lambda: PATHS + [(x, c, F)]),
    ("01_total_derivative", "SymPy's total, no paths", lambda x0: (float(_dF_dx().subs(x, x0)), {})),
    ("01_total_derivative", "a missing path", _path_sum(paths=PATHS[1:])),
    ("01_total_derivative", "a product without its factor 2x", _path_sum(edges={**RIGHT_EDGES, (x, a): x})),
    ("01_total_derivative", "a product with 2|x|", _path_sum(edges={**RIGHT_EDGES, (x, a): 2 * sp.sqrt(a)})),
    ("01_total_derivative", "a total that is not the sum", _path_sum(total=lambda x0: 0.0)),
    ("01_symbolic_total", "a missing term", lambda: sp.diff(x**2 * sp.sin(x), x)),
    ("01_total_derivative", "weights evaluated at a = x", _a_taken_as_x),
    ("01_symbolic_total", "exp(x**2) without its inner derivative", lambda: NO_INNER_FACTOR),
    ("01_symbolic_total", "F itself", lambda: x**2 * sp.sin(x) + sp.exp(x**2)),
    ("01_symbolic_total", "|x| for x", lambda: sp.diff(x**2 * sp.sin(x), x) + 2 * sp.sqrt(x**2) * sp.exp(x**2)),
    ("01_central_difference", "the forward difference", lambda f, x0, h: (f(x0 + h) - f(x0)) / h),
    ("01_central_difference", "no half", lambda f, x0, h: (f(x0 + h) - f(x0 - h)) / h),
    ("01_central_difference", "reversed", lambda f, x0, h: (f(x0 - h) - f(x0 + h)) / (2 * h)),
]


@pytest.mark.parametrize("part_id, label, fn", BUGS, ids=[f"{b[0]}: {b[1]}" for b in BUGS])
def test_every_bug_fails_the_public_cases_and_the_hidden_cases_of_every_seed(part_id, label, fn):
    assert not all(v.passed for _, v in case_verdicts(part_id, fn)), f"{label} passes the self-check"
    if get_part(part_id).hidden_count:
        for seed in SEEDS:
            assert not all(v.passed for _, v in case_verdicts(part_id, fn, seed)), f"{label} passes seed {seed}"


@pytest.mark.parametrize("part_id, fn", [
    ("01_local_derivatives", lambda: RIGHT_EDGES),
    ("01_local_derivatives", lambda: {(x, a): x + x, (x, b): sp.sin(x + sp.pi / 2), (a, c): sp.sin(x), (b, c): x**2,
                                      (c, F): 1, (a, F): sp.exp(x**2)}),  # the same derivatives, written otherwise
    ("01_influence_paths", lambda: PATHS),
    ("01_influence_paths", lambda: (tuple(path) for path in PATHS)),  # a search that yields its paths
    ("01_influence_paths", lambda: set(map(tuple, PATHS))),
    ("01_total_derivative", _path_sum()), ("01_symbolic_total", _dF_dx),
    ("01_central_difference", lambda f, x0, h: (f(x0 + h) - f(x0 - h)) / (2 * h)),
])
def test_right_answers_pass_every_case(part_id, fn):
    for seed in (None, *SEEDS):
        assert all(v.passed for _, v in case_verdicts(part_id, fn, seed)), seed


def test_symbols_with_assumptions_are_the_homeworks_symbols():
    xr, ar, br, cr, Fr = (sp.Symbol(n, real=True) for n in "xabcF")
    edges = {(xr, ar): 2 * xr, (xr, br): sp.cos(xr), (ar, cr): br, (br, cr): ar, (cr, Fr): 1, (ar, Fr): sp.exp(ar)}
    check("01_local_derivatives", lambda: edges, hidden=True)
    xp = sp.Symbol("x", positive=True)
    check("01_symbolic_total", lambda: sp.diff(xp**2 * sp.sin(xp) + sp.exp(xp**2), xp), hidden=True)


@pytest.mark.parametrize("seed", range(40))
def test_every_seeds_points_have_both_signs_and_keep_2x_away_from_1(seed):
    for part_id in ("01_local_derivatives", "01_total_derivative", "01_symbolic_total", "01_central_difference"):
        part = get_part(part_id)
        points = [c.payload["at"]["x"] if "at" in c.payload else c.payload["x"] for c in part.hidden_cases(hidden_rng(part_id, seed))]
        assert min(points) < 0 < max(points), (part_id, points)
        if part_id != "01_central_difference":
            assert all(abs(abs(2 * p) - 1) > 0.1 for p in points), (part_id, points)
    assert min(PUBLIC_POINTS) < 0 < max(PUBLIC_POINTS) and all(abs(abs(2 * p) - 1) > 0.1 for p in PUBLIC_POINTS)


def test_a_missing_path_is_named():
    msg = check_message("01_influence_paths", lambda: [(x, a, c, F), (x, a, F)])
    assert "2 of the 3 paths" in msg and "An arrow out of x is on none of your paths" in msg
    msg = check_message("01_influence_paths", lambda: [(x, a, c, F), (x, b, c, F)])
    assert "An arrow out of a is on none of your paths" in msg
    assert "x -> a -> F" not in msg  # where it branches, not the path itself: listing the paths is the exercise


def test_an_opposite_sign_at_a_positive_x_is_not_blamed_on_abs_x():
    def negated_cos():
        return {(x, a): 2 * x, (x, b): -sp.cos(x), (a, c): b, (b, c): a, (c, F): sp.Integer(1), (a, F): sp.exp(a)}

    msg = check_message("01_local_derivatives", negated_cos)
    assert "opposite sign at x = 0.75: check the sign of the derivative rule you used for sin(x)" in msg
    assert "|x|" not in msg


def test_the_path_sum_names_the_missing_path_and_the_missing_factor():
    assert "the path x -> a -> c -> F is missing from products" in check_message("01_total_derivative", _path_sum(paths=PATHS[1:]))
    msg = check_message("01_total_derivative", _path_sum(edges={**RIGHT_EDGES, (a, c): sp.Integer(1)}))
    assert "the product along x -> a -> c -> F is missing the factor dc/da (the arrow a -> c)" in msg


def test_sympys_total_without_the_paths_earns_nothing_for_the_path_sum():
    sympys = lambda x0: (float(_dF_dx().subs(x, x0)), {})  # noqa: E731
    verdicts = case_verdicts("01_total_derivative", sympys, seed=0)
    assert not any(v.passed for _, v in verdicts)
    assert "is missing from products" in check_message("01_total_derivative", sympys)


def test_a_missing_factor_2x_is_named_with_both_numbers():
    assert "da/dx at x = 0.75: expected 1.5, got 0.75" in check_message("01_local_derivatives", _edges(x_a=x))


def test_a_forward_difference_is_named():
    assert "forward difference" in check_message("01_central_difference", lambda f, x, h: (f(x + h) - f(x)) / h)


def test_an_arrow_that_is_a_path_is_named():
    edges = {**RIGHT_EDGES, (x, F): 1}
    assert "there is no arrow x -> F" in check_message("01_local_derivatives", lambda: edges)


def test_a_weight_right_only_for_positive_x_is_named():
    msg = check_message("01_local_derivatives", _edges(x_a=2 * sp.sqrt(a)))
    assert "da/dx at x = -1.25: expected -2.5, got 2.5" in msg and "opposite sign" in msg


def test_homework_01_shows_the_function_the_grader_grades():
    from backprop.grading.hw01 import homework_diagram

    nb = nbformat.read(ROOT / "solutions" / "01_calculus_refresher.ipynb", 4)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    namespace: dict = {}
    exec("\n".join(line for line in setup.source.splitlines() if not line.startswith("%")), namespace)
    assert namespace["definitions"] == homework_diagram().definitions


def test_a_symbolic_total_without_the_inner_derivative_names_the_factor():
    msg = check_message("01_symbolic_total", lambda: NO_INNER_FACTOR)
    assert "the term of the path x -> a -> F lacks the factor da/dx (the arrow x -> a)" in msg
    assert "inner derivative" in msg and "2*x" not in msg and "2x" not in msg  # the factor is named, not given


def test_a_symbolic_total_that_is_F_itself_is_named():
    msg = check_message("01_symbolic_total", lambda: x**2 * sp.sin(x) + sp.exp(x**2))
    assert "your expression equals F itself, not its derivative" in msg


def test_a_symbolic_total_missing_a_term_or_with_abs_x_is_named():
    msg = check_message("01_symbolic_total", lambda: sp.diff(x**2 * sp.sin(x), x))
    assert "the term of the path x -> a -> F is missing" in msg
    abs_x = sp.diff(x**2 * sp.sin(x), x) + 2 * sp.sqrt(x**2) * sp.exp(x**2)
    msg = check_message("01_symbolic_total", lambda: abs_x)
    assert "the term of the path x -> a -> F has the wrong sign at x = -1.25: is |x| or sqrt(x**2)" in msg


def test_a_weight_evaluated_at_the_wrong_point_is_named():
    msg = check_message("01_total_derivative", _a_taken_as_x)
    assert "multiplies the right weights, but evaluates a -> F at the wrong point" in msg
    assert "it takes a = 0.75, the value of x" in msg
    assert "should multiply the weight of each of its arrows" not in msg
