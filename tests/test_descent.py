"""Loss surfaces, gradient descent and the learning rate (notebook 00)."""

import io
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import backprop as bp
from backprop.descent import SURFACES
from strategies import assert_explained  # the suite's one bad-input check

pytestmark = pytest.mark.nb00

NAMES = sorted(SURFACES)


# -- the surfaces' rules: SymPy, finite differences, worked numbers ------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradient_and_hessian_rules_equal_sympy(name):
    checks = bp.get_surface(name).verify()
    assert [c.rule for c in checks] == [f"{name}_gradient", f"{name}_hessian"]
    for check in checks:
        assert check.ok, str(check)


def test_verify_catches_a_wrong_rule():
    s = bp.quadratic_1d()
    wrong = bp.Surface(**{**vars(s), "gradient_rule": lambda w: (2 * (w - 1),)})  # the true slope is 4 (w - 1)
    gradient, _ = wrong.verify()
    assert not gradient.ok and "FAILS" in str(gradient)


def _point_in(window):
    return st.tuples(*[st.floats(lo, hi) for lo, hi in window]).map(np.array)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200)
@given(data=st.data())
def test_gradient_and_hessian_match_finite_differences(name, data):
    s = bp.get_surface(name)
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
    s = bp.get_surface(name)
    pts = np.random.default_rng(0).uniform(-1, 1, size=(4, 3, s.dim))
    vals = s.values(pts)
    assert vals.shape == (4, 3)
    assert vals[2, 1] == pytest.approx(s.f(pts[2, 1]), rel=1e-15)
    axes, grid = s.grid(11)
    assert len(axes) == s.dim and grid.shape == (11,) * s.dim


@pytest.mark.parametrize("name", NAMES)
def test_stored_critical_points_are_sympys_and_correctly_classified(name):
    s = bp.get_surface(name)
    solved = s.solve_critical_points()
    assert [tuple(float(c) for c in p) for p in solved] == [p for p, _ in s.critical_points]
    for point, kind in s.critical_points:
        assert bp.classify_critical_point(s, point).kind == kind


def test_classification_reads_the_hessian_eigenvalues():
    cp = bp.classify_critical_point("saddle_between_minima", (0, 0))
    assert cp.eigenvalues == (-1, 2) and cp.kind == "saddle point"
    assert cp.hessian == sp.Matrix([[2, 0], [0, -1]])
    assert str(cp) == "w = (0, 0): Hessian eigenvalues -1, 2 -> saddle point"
    assert bp.classify_critical_point("saddle_between_minima", (0, 1)).eigenvalues == (2, 2)
    assert bp.classify_critical_point("two_minima_1d", 0.0).eigenvalues == (-2,)


def test_a_degenerate_critical_point_is_named():
    w = bp.saddle()
    monkey = bp.Surface(**{**vars(w), "name": "monkey_saddle", "formula": "w_1^3 - 3 w_1 w_2^2",
                           "value_rule": lambda a, b: a**3 - 3 * a * b**2,
                           "gradient_rule": lambda a, b: (3 * a**2 - 3 * b**2, -6 * a * b),
                           "hessian_rule": lambda a, b: ((6 * a, -6 * b), (-6 * b, -6 * a))})
    assert all(c.ok for c in monkey.verify())
    assert bp.classify_critical_point(monkey, (0, 0)).kind == "degenerate"


def test_the_surface_shows_its_formula():
    assert repr(bp.quadratic_1d()) == "Surface('quadratic_1d', '2(w - 1)^2')"
    assert bp.quadratic_1d(2.0, 0.0).formula == "w^2" and bp.quadratic_1d(2.0, -1.5).formula == "(w + 1.5)^2"
    assert bp.elongated_bowl().formula == "(w_1^2 + 10w_2^2)/2"
    w = sp.Symbol("w", real=True)
    assert sp.expand(bp.quadratic_1d().expression() - 2 * (w - 1) ** 2) == 0


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


# -- the bias as a weight on a constant input 1 ------------------------------------------------
def test_the_bias_is_the_weight_on_a_constant_input():
    rng = np.random.default_rng(0)
    Y, W, b = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    Yx, Wx = bp.extended_input(Y), bp.extended_weights(W, b)
    assert Yx.shape == (5, 4) and np.all(Yx[:, -1] == 1) and Wx.shape == (2, 4) and np.all(Wx[:, -1] == b)
    Z, cache = bp.affine_forward(Y, W, b)
    Zx, cache_x = bp.affine_forward(Yx, Wx, np.zeros(2))
    assert Zx == pytest.approx(Z, abs=1e-14)
    dZ = rng.normal(size=(5, 2))
    _, dW, db = bp.affine_backward(dZ, cache)
    _, dWx, _ = bp.affine_backward(dZ, cache_x)
    assert dWx[:, -1] == pytest.approx(db, abs=1e-14) and dWx[:, :-1] == pytest.approx(dW, abs=1e-14)
    assert bp.extended_input([2.0, -1.0]).tolist() == [2.0, -1.0, 1.0]


# -- figures and the widget ----------------------------------------------------------------------
def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("eta", [1e-3, 0.2, 3.0])
@pytest.mark.parametrize("steps", [1, 150])
def test_explorer_callback_over_a_grid_of_controls(name, eta, steps):
    fig = bp.explorer_figure(name, eta, steps)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    path_ax, loss_ax = fig.axes
    assert f"eta = {eta:.3g}" in path_ax.get_title()
    if steps == 150:  # drawing is where log scales and contours could warn: render the longer runs
        assert _png(fig).startswith(b"\x89PNG")


def test_explorer_titles_state_the_regime_and_the_outcome():
    title = bp.explorer_figure("quadratic_1d", 0.45, 12).axes[0].get_title()
    assert title == "eta = 0.45: oscillating (1 - eta f'' = -0.8)\nafter 12 steps: w = (0.828)"
    title = bp.explorer_figure("elongated_bowl", 0.18, 5).axes[0].get_title()
    assert title.startswith("eta = 0.18: $w_1$ monotone, $w_2$ oscillating")
    assert "diverged" in bp.explorer_figure("quadratic_1d", 3.0, 150).axes[0].get_title()


def test_compare_learning_rates_has_a_panel_per_rate_and_a_loss_panel():
    fig = bp.compare_learning_rates("quadratic_1d", [0.02, 0.25, 0.45, 0.55], 12)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 5 and visible[-1].get_yscale() == "log"
    assert [len(ax.get_lines()) for ax in visible[-1:]] == [4]
    colours = [ax.get_lines()[1].get_color() for ax in visible[:4]]
    assert colours == [line.get_color() for line in visible[-1].get_lines()]  # a rate keeps its colour
    assert _png(fig).startswith(b"\x89PNG")


def test_plot_functions_draw_the_paths():
    s = bp.elongated_bowl()
    paths = [bp.gradient_descent(s, s.start, eta, 10) for eta in (0.05, 0.18)]
    ax = bp.plot_descent_2d(s, paths, labels=["slow", "fast"]).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["slow", "fast", "local minimum"]
    ax = bp.plot_descent_1d("two_minima_1d", bp.gradient_descent(bp.two_minima_1d(), -2.0, 0.1, 5)).axes[0]
    assert any(np.array_equal(line.get_xdata(), np.asarray(
        bp.gradient_descent(bp.two_minima_1d(), -2.0, 0.1, 5).points[:, 0])) for line in ax.get_lines())
    ax = bp.plot_loss_curves("saddle", bp.gradient_descent(bp.saddle(), (2.0, 0.0), 0.1, 5)).axes[0]
    assert ax.get_yscale() == "linear"  # no minimum: the loss itself


def test_plot_curves():
    x = np.linspace(0, 1, 5)
    fig = bp.plot_curves(x, {"a": x, "b": x**2}, xlabel="x", logy=True, vlines={"1/c": 0.5})
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 and ax.get_yscale() == "log" and ax.get_xlabel() == "x"


def test_the_explorer_widget_redraws_when_a_control_moves():
    box = bp.learning_rate_explorer(eta=0.1, steps=5)
    controls, image = box.children
    surface, eta, steps = controls.children
    assert set(surface.options) == set(NAMES)
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    eta.value = 0.45
    second = bytes(image.value)
    assert second != first
    surface.value = "saddle_between_minima"
    steps.value = 40
    assert bytes(image.value) not in (first, second)
    assert eta.value == pytest.approx(0.45, rel=0.03)  # the log slider rounds to its step


def test_importing_the_library_imports_no_widgets():
    code = "import sys, backprop; assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- bad input -------------------------------------------------------------------------------
BOWL = bp.elongated_bowl()
PATH = bp.gradient_descent(BOWL, BOWL.start, 0.1, 3)
CASES = [
    ("negative learning rate", lambda: bp.gradient_descent(BOWL, BOWL.start, -0.1, 5),
     ValueError, ["'eta'", "expected a positive learning rate", "got -0.1"]),
    ("zero learning rate", lambda: bp.gradient_descent(BOWL, BOWL.start, 0, 5),
     ValueError, ["'eta'", "expected a positive learning rate", "got 0"]),
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
    ("unknown surface name", lambda: bp.get_surface("bowl"),
     ValueError, ["'surface'", "expected one of", "'elongated_bowl'", "got 'bowl'"]),
    ("surface is not a name", lambda: bp.explorer_figure(3, 0.1, 5),
     TypeError, ["'surface'", "expected a name", "got int"]),
    ("explorer with a negative learning rate", lambda: bp.explorer_figure("saddle", -1.0, 5),
     ValueError, ["'eta'", "expected a positive learning rate"]),
    ("explorer with a fractional step count", lambda: bp.explorer_figure("saddle", 0.1, 4.5),
     TypeError, ["'steps'", "expected a positive integer"]),
    ("non-positive curvature", lambda: bp.quadratic_1d(curvature=0.0),
     ValueError, ["'curvature'", "expected a positive number", "got 0"]),
    ("bowl with one curvature", lambda: bp.elongated_bowl((1.0,)),
     TypeError, ["'curvatures'", "expected a pair (a, b)", "got tuple of shape (1,)"]),
    ("bowl curving down", lambda: bp.elongated_bowl((1.0, -2.0)),
     ValueError, ["'curvatures[1]'", "expected a positive number", "got -2"]),
    ("classify a point that is not critical", lambda: bp.classify_critical_point("saddle", (1.0, 0.0)),
     ValueError, ["'point'", "expected a critical point of 'saddle'", "gradient is [2, 0]"]),
    ("regime with a negative learning rate", lambda: bp.learning_rate_regime(-0.5, 4.0),
     ValueError, ["'eta'", "expected a positive learning rate"]),
    ("1-D plot of a 2-D surface", lambda: bp.plot_descent_1d(BOWL, PATH),
     ValueError, ["'surface'", "expected a 1-D surface", "'elongated_bowl' in 2-D"]),
    ("paths of the wrong dimension", lambda: bp.plot_descent_1d("quadratic_1d", PATH),
     ValueError, ["'paths'", "expected paths in 1-D", "got one in 2-D at index 0"]),
    ("paths are not paths", lambda: bp.plot_descent_2d(BOWL, [PATH.points]),
     TypeError, ["'paths'", "expected DescentPath entries", "got array of shape (4, 2)"]),
    ("one label for two paths", lambda: bp.plot_descent_2d(BOWL, [PATH, PATH], labels=["a"]),
     ValueError, ["'labels'", "expected one label per path (2)", "got list of shape (1,)"]),
    ("no learning rates to compare", lambda: bp.compare_learning_rates(BOWL, [], 5),
     TypeError, ["'etas'", "expected a non-empty list of learning rates"]),
    ("curve of another length", lambda: bp.plot_curves([0.0, 1.0], {"a": [1.0, 2.0, 3.0]}),
     ValueError, ["'curves['a']'", "expected shape (2,) (like x)", "got (3,)"]),
    ("bias of the wrong length", lambda: bp.extended_weights(np.ones((2, 3)), np.ones(3)),
     ValueError, ["'b'", "expected shape (2,)", "got (3,)"]),
    ("input with three axes", lambda: bp.extended_input(np.ones((2, 2, 2))),
     ValueError, ["'Y'", "expected a 1-D or 2-D array", "got 3-D"]),
    ("explorer with an unknown surface", lambda: bp.learning_rate_explorer(surfaces=["bowl"]),
     ValueError, ["'surfaces'", "expected one of", "got 'bowl'"]),
    ("grid window upside down", lambda: BOWL.grid(5, window=[(1.0, -1.0), (0.0, 1.0)]),
     ValueError, ["'window'", "low < high"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)  # names the argument, raised by the library's own checks
