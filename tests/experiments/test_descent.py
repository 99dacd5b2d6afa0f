"""Tests backprop.experiments.descent: loss surfaces, gradient descent and the learning rate (notebook 00)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.experiments.descent import SURFACES, get_surface
from strategies import FD_EXAMPLES, assert_explained  # the suite's one bad-input check

NAMES = sorted(SURFACES)


# -- the surfaces' rules: finite differences, worked numbers, critical points ------------------------------
def _point_in(window):
    return st.tuples(*[st.floats(lo, hi) for lo, hi in window]).map(np.array)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=FD_EXAMPLES)
@given(data=st.data())
def test_gradient_and_hessian_match_finite_differences(name, data):
    s = get_surface(name)
    w = data.draw(_point_in(s.window)).astype(np.float64)
    bp.check_gradients(lambda: s.f(w), {"w": w}, {"w": s.grad(w)}).assert_ok()
    for i in range(s.dim):  # row i of the Hessian is the gradient of dLoss/dw_i
        bp.check_gradients(lambda: s.grad(w)[i], {"w": w}, {"w": s.hessian(w)[i]}).assert_ok()


def test_worked_values():
    q = bp.quadratic_1d(curvature=4.0, minimum=1.0)
    assert q.f(-1.5) == 12.5 and q.grad(-1.5).tolist() == [-10.0] and q.hessian(0.3).tolist() == [[4.0]]
    two = bp.two_minima_1d()
    assert two.f(-1.0) == pytest.approx(-5 / 12, abs=1e-15) and two.f(2.0) == pytest.approx(-8 / 3, abs=1e-15)
    assert two.minimum_value == pytest.approx(two.f(2.0), abs=1e-15)
    s = bp.saddle_between_minima()
    assert s.f([0.0, 1.0]) == -0.25 == s.minimum_value and s.hessian([0.0, 0.0]).tolist() == [[2.0, 0.0], [0.0, -1.0]]
    assert bp.saddle().grad([1.0, 2.0]).tolist() == [2.0, -4.0]
    assert bp.elongated_bowl((1.0, 10.0)).curvatures == (1.0, 10.0)


@pytest.mark.parametrize("name", NAMES)
def test_values_on_many_points_agree_with_f(name):
    s = get_surface(name)
    pts = np.random.default_rng(0).uniform(-1, 1, size=(4, 3, s.dim))
    vals = s.values(pts)
    assert vals.shape == (4, 3)
    assert vals[2, 1] == pytest.approx(s.f(pts[2, 1]), rel=1e-15)
    axes, grid = s.grid(11)
    assert len(axes) == s.dim and grid.shape == (11,) * s.dim


@pytest.mark.parametrize("name", NAMES)
def test_stored_critical_points_have_a_zero_gradient_and_the_stated_curvature(name):
    """Numerically: the gradient vanishes, and the Hessian's eigenvalues have the signs the kind says."""
    s = get_surface(name)
    assert s.critical_points
    for point, kind in s.critical_points:
        assert np.all(s.grad(point) == 0.0), (point, s.grad(point))
        eigenvalues = np.linalg.eigvalsh(s.hessian(point))
        expected = {"global minimum": eigenvalues > 0, "local minimum": eigenvalues > 0,
                    "local maximum": eigenvalues < 0}.get(kind)
        if expected is None:
            assert kind == "saddle point" and eigenvalues.min() < 0 < eigenvalues.max()
        else:
            assert np.all(expected), (point, kind, eigenvalues)
        # a global minimum is as low as the surface goes; a local one is not
        if kind == "global minimum":
            assert s.f(point) == pytest.approx(s.minimum_value, abs=1e-12)
        if kind == "local minimum":
            assert s.f(point) > s.minimum_value


def test_the_lowest_points_are_called_global_and_the_others_local():
    kinds = {name: [kind for _, kind in get_surface(name).critical_points] for name in NAMES}
    assert kinds["quadratic_1d"] == ["global minimum"] and kinds["elongated_bowl"] == ["global minimum"]
    assert kinds["two_minima_1d"] == ["local minimum", "local maximum", "global minimum"]
    assert kinds["saddle_between_minima"] == ["global minimum", "saddle point", "global minimum"]


def test_curvatures_are_the_constant_hessian_eigenvalues():
    for name in NAMES:
        s = get_surface(name)
        if s.curvatures is not None:
            for w in (s.start, np.zeros(s.dim)):
                np.testing.assert_array_equal(np.sort(np.linalg.eigvalsh(s.hessian(w))), np.sort(s.curvatures))


def test_the_surface_shows_its_formula():
    assert repr(bp.quadratic_1d()) == "Surface('quadratic_1d', '2(w - 1)^2')"
    assert bp.quadratic_1d(2.0, 0.0).formula == "w^2" and bp.quadratic_1d(2.0, -1.5).formula == "(w + 1.5)^2"
    assert bp.elongated_bowl().formula == "(w_1^2 + 10w_2^2)/2"


# -- descent behaviour ----------------------------------------------------------------------
C = 4.0  # curvature of the default 1-D quadratic: 1/C = 0.25, 2/C = 0.5


def _errors(eta, steps=12):
    q = bp.quadratic_1d(curvature=C, minimum=1.0)
    return bp.gradient_descent(q, -1.5, eta, steps).points[:, 0] - 1.0


def test_the_path_has_one_row_per_iterate():
    path = bp.gradient_descent(bp.elongated_bowl(), (-5.0, 2.0), 0.1, 7)
    assert path.points.shape == (8, 2) and path.steps_taken == 7 and path.status == "completed"
    assert path.points[0].tolist() == [-5.0, 2.0]
    assert path.points[1].tolist() == pytest.approx([-4.5, 0.0], abs=1e-15)  # w - 0.1 * (w_1, 10 w_2)
    assert "7 of 7 steps, completed" in repr(path)


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.2, 0.3, 0.45, 0.49])
def test_each_step_multiplies_the_error_by_one_minus_eta_c(eta):
    e = _errors(eta)  # w - 1 loses relative precision as w nears 1: compare absolutely
    assert e[1:] == pytest.approx(bp.quadratic_step_factor(eta, C) * e[:-1], rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.24])
def test_below_one_over_c_the_error_keeps_its_sign_and_shrinks(eta):
    e = _errors(eta, steps=6)  # (few steps: near eta = 1/c the error reaches rounding level fast)
    assert np.all(e < 0) and np.all(np.abs(np.diff(e)) > 0) and np.all(np.diff(np.abs(e)) < 0)


@pytest.mark.parametrize("eta", [0.26, 0.4, 0.49])
def test_between_one_and_two_over_c_the_error_flips_sign_and_shrinks(eta):
    e = _errors(eta, steps=6)
    assert np.all(np.sign(e[1:]) == -np.sign(e[:-1])) and np.all(np.diff(np.abs(e)) < 0)


def test_eta_one_over_c_lands_on_the_minimum_in_one_step():
    assert _errors(1 / C)[1:] == pytest.approx(np.zeros(12), abs=1e-15)
    assert bp.steps_to_converge("quadratic_1d", -1.5, 1 / C) == 1


def test_eta_two_over_c_bounces_forever():
    e = _errors(2 / C)
    assert np.abs(e) == pytest.approx(np.full(13, 2.5)) and np.all(np.sign(e[1:]) == -np.sign(e[:-1]))


@pytest.mark.parametrize("eta", [0.51, 0.6, 1.0, 10.0, 1e200])
def test_above_two_over_c_descent_diverges_cleanly(eta):
    path = bp.gradient_descent(bp.quadratic_1d(C), -1.5, eta, 5000)  # filterwarnings=error: no overflow warning
    assert path.diverged and path.status == "diverged" and np.all(np.isfinite(path.points))
    assert path.steps_taken < 5000 and np.all(np.diff(np.abs(path.points[:, 0] - 1.0)) > 0)
    assert bp.steps_to_converge("quadratic_1d", -1.5, eta) is None


def test_a_non_finite_step_ends_the_path_at_the_last_finite_iterate():
    path = bp.gradient_descent(lambda w: w * 1e300, [1.0], 1e300, 10)
    assert path.diverged and path.points.tolist() == [[1.0]]


def test_steps_to_converge_is_fastest_at_one_over_c():
    counts = {eta: bp.steps_to_converge("quadratic_1d", -1.5, eta) for eta in (0.05, 0.15, 0.25, 0.35, 0.45)}
    assert counts[0.25] == 1 and counts[0.05] > counts[0.15] > counts[0.25] < counts[0.35] < counts[0.45]


@pytest.mark.parametrize("eta, converges", [(0.05, True), (0.18, True), (0.199, True), (0.201, False), (0.3, False)])
def test_in_the_bowl_the_steepest_curvature_sets_the_limit(eta, converges):
    path = bp.gradient_descent(bp.elongated_bowl((1.0, 10.0)), (-5.0, 2.0), eta, 4000, tol=1e-8)
    assert path.status == ("converged" if converges else "diverged")


def test_the_best_single_rate_in_the_bowl_is_two_over_the_sum_of_curvatures():
    counts = {eta: bp.steps_to_converge("elongated_bowl", (-5.0, 2.0), eta) for eta in (0.1, 0.16, 2 / 11, 0.195)}
    assert min(counts, key=counts.get) == 2 / 11


def test_descent_started_on_the_stable_manifold_stalls_at_the_saddle():
    s = bp.saddle_between_minima()
    stuck = bp.gradient_descent(s, (2.0, 0.0), 0.1, 300)
    assert np.abs(stuck.final).max() < 1e-20 and s.f(stuck.final) == pytest.approx(0.0, abs=1e-30)
    escaped = bp.gradient_descent(s, (2.0, 1e-6), 0.1, 300)
    assert escaped.final == pytest.approx([0.0, 1.0], abs=1e-9) and s.f(escaped.final) == pytest.approx(-0.25)
    # near the saddle w_2 grows by the factor 1 + eta each step: the plateau lasts about log(1e6)/log(1.1) steps
    assert escaped.points[100, 1] == pytest.approx(1e-6 * 1.1**100, rel=0.05)
    plain = bp.gradient_descent(bp.saddle(), (2.0, 0.0), 0.1, 200)
    assert np.abs(plain.final).max() < 1e-15 and plain.status == "completed"
    assert bp.gradient_descent(bp.saddle(), (2.0, 1e-6), 0.1, 500).diverged  # no minimum to escape to


def test_descent_ends_in_the_valley_it_starts_in():
    two = bp.two_minima_1d()
    assert bp.gradient_descent(two, -2.0, 0.05, 400).final == pytest.approx([-1.0])
    assert bp.gradient_descent(two, 0.5, 0.05, 400).final == pytest.approx([2.0])


def test_a_plain_gradient_function_works_too():
    path = bp.gradient_descent(lambda w: 2 * w, np.array([1.0, -2.0, 4.0]), 0.25, 3, tol=0.0)
    assert path.points.shape == (4, 3) and path.final.tolist() == [0.125, -0.25, 0.5]
    assert bp.gradient_descent(lambda w: 2 * w, 3.0, 0.5, 5, tol=1e-12).status == "converged"


def test_the_start_is_not_modified():
    w0 = np.array([-5.0, 2.0])
    bp.gradient_descent(bp.elongated_bowl(), w0, 0.1, 3)
    bp.gradient_descent(lambda w: w, w0, 0.1, 3)
    assert w0.tolist() == [-5.0, 2.0]


@pytest.mark.parametrize("eta, c, regime", [
    (0.01, 4, "monotone"), (0.25, 4, "one step"), (0.1, 10, "one step"), (0.3, 4, "oscillating"),
    (0.5, 4, "bouncing"), (0.51, 4, "diverging"), (0.1, 0, "flat"), (0.1, -1, "escaping"),
])
def test_learning_rate_regime(eta, c, regime):
    assert bp.learning_rate_regime(eta, c) == regime


def test_quadratic_step_factor():
    assert bp.quadratic_step_factor(0.45, 4) == pytest.approx(-0.8) and bp.quadratic_step_factor(0.25, 4) == 0.0


# -- bad input -------------------------------------------------------------------------------
BOWL = bp.elongated_bowl()
ETA = "expected a learning rate (the step size) > 0"
CASES = [
    ("negative learning rate", lambda: bp.gradient_descent(BOWL, BOWL.start, -0.1, 5),
     ValueError, [f"argument 'eta' {ETA}, got -0.1"]),
    ("zero learning rate", lambda: bp.gradient_descent(BOWL, BOWL.start, 0, 5),
     ValueError, ["'eta'", ETA, "got 0"]),
    ("learning rate as text", lambda: bp.gradient_descent(BOWL, BOWL.start, "0.1", 5),
     TypeError, ["'eta'", "expected a real number", "got str"]),
    ("fractional step count", lambda: bp.gradient_descent(BOWL, BOWL.start, 0.1, 2.5),
     TypeError, ["'steps'", "expected a positive integer", "got float 2.5"]),
    ("zero steps", lambda: bp.gradient_descent(BOWL, BOWL.start, 0.1, 0),
     ValueError, ["'steps'", "expected a positive integer", "got 0"]),
    ("start of the wrong shape", lambda: bp.gradient_descent(BOWL, [1.0, 2.0, 3.0], 0.1, 5),
     ValueError, ["'w0'", "expected shape (2,)", "'elongated_bowl'", "got shape (3,)"]),
    ("start is a number on a 2-D surface", lambda: bp.gradient_descent(BOWL, 1.0, 0.1, 5),
     ValueError, ["'w0'", "expected shape (2,)", "got shape ()"]),
    ("start is NaN", lambda: bp.gradient_descent(BOWL, [np.nan, 0.0], 0.1, 5),
     ValueError, ["'w0'", "expected finite values"]),
    ("grad is not a function", lambda: bp.gradient_descent("bowl", [1.0], 0.1, 5),
     TypeError, ["'grad'", "expected a Surface or a function", "got str"]),
    ("grad returns the wrong shape", lambda: bp.gradient_descent(lambda w: np.ones(3), [1.0, 2.0], 0.1, 5),
     ValueError, ["'grad'", "shaped like w0 (2,)", "got shape (3,)"]),
    ("non-positive blowup", lambda: bp.gradient_descent(BOWL, BOWL.start, 0.1, 5, blowup=0.0),
     ValueError, ["'blowup'", "> 0", "got 0"]),
    ("unknown surface name", lambda: get_surface("bowl"),
     ValueError, ["'surface'", "expected one of", "'elongated_bowl'", "got 'bowl'"]),
    ("surface is not a name", lambda: get_surface(3),
     TypeError, ["'surface'", "expected a name", "got int"]),
    ("steps to converge on an unknown surface", lambda: bp.steps_to_converge("bowl", 1.0, 0.1),
     ValueError, ["'surface'", "got 'bowl'"]),
    ("non-positive curvature", lambda: bp.quadratic_1d(curvature=0.0),
     ValueError, ["argument 'curvature' expected a curvature (the second derivative f'' of a bowl) > 0, got 0"]),
    ("bowl with one curvature", lambda: bp.elongated_bowl((1.0,)),
     TypeError, ["'curvatures'", "expected a pair (a, b)", "got tuple of shape (1,)"]),
    ("bowl curving down", lambda: bp.elongated_bowl((1.0, -2.0)),
     ValueError, ["'curvatures[1]'", "expected a curvature", "> 0", "got -2"]),
    ("regime with a negative learning rate", lambda: bp.learning_rate_regime(-0.5, 4.0),
     ValueError, ["'eta'", ETA, "got -0.5"]),
    ("step factor with a curvature as text", lambda: bp.quadratic_step_factor(0.1, "4"),
     TypeError, ["'curvature'", "expected a real number", "got str"]),
    ("grid window upside down", lambda: BOWL.grid(5, window=[(1.0, -1.0), (0.0, 1.0)]),
     ValueError, ["'window'", "low < high"]),
    ("points of the wrong width", lambda: BOWL.values(np.ones((3, 3))),
     ValueError, ["'points'", "expected shape (..., 2)", "got shape (3, 3)"]),
    ("a point of the wrong shape", lambda: BOWL.f([1.0]),
     ValueError, ["'w'", "expected shape (2,)", "got shape (1,)"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)  # names the argument, raised by the library's own checks
