"""Loss surfaces with descent paths, loss curves and error curves (views/plots.py)."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

import backprop as bp
from backprop.experiments.descent import get_surface
from backprop.views.descent import explorer_figure
from backprop.views import plots
from backprop.views.plots import (compare_learning_rates, plot_curves, plot_descent_1d, plot_descent_2d,
                                  plot_first_order_errors, plot_loss_curves)
from strategies import assert_explained

STEPS = np.logspace(-4, -1, 7)


def png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


def legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def beside(ax):
    """The axes' legend is drawn outside the axes (it covers no data)."""
    ax.get_figure(root=True).draw_without_rendering()
    box, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    return box.x0 >= frame.x1 or box.y1 <= frame.y0 or box.x1 <= frame.x0 or box.y0 >= frame.y1


# -- any curves ------------------------------------------------------------------------------------
def test_plot_curves():
    x = np.linspace(0, 1, 5)
    fig = plot_curves(x, {"a": x, "b": x**2}, xlabel="x", ylabel="y", title="t", logy=True, vlines={"1/c": 0.5})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 and ax.get_yscale() == "log" and ax.get_xlabel() == "x"
    assert ax.get_ylabel() == "y" and ax.get_title() == "t"
    assert legend(ax) == ["a", "b", "1/c"] and beside(ax)
    assert np.array_equal(ax.get_lines()[1].get_ydata(), x**2)
    assert list(ax.get_lines()[2].get_xdata()) == [0.5, 0.5]  # the vertical line
    assert png(fig).startswith(b"\x89PNG")


def test_plot_curves_on_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_curves([0.0, 1.0], {"a": [1.0, 2.0]}, ax=ax) is fig and ax.get_yscale() == "linear"


# -- descent on a surface ---------------------------------------------------------------------------
def test_plot_descent_2d_draws_the_paths_and_the_critical_points():
    s = bp.elongated_bowl()
    paths = [bp.gradient_descent(s, s.start, eta, 10) for eta in (0.05, 0.18)]
    ax = plot_descent_2d(s, paths, labels=["slow", "fast"]).axes[0]
    assert legend(ax) == ["slow", "fast", "start", "global minimum"] and beside(ax)
    for path in paths:
        assert any(np.array_equal(line.get_xdata(), path.points[:, 0]) and
                   np.array_equal(line.get_ydata(), path.points[:, 1]) for line in ax.get_lines())
    assert ax.get_xlim() == s.window[0] and ax.get_ylim() == s.window[1]
    assert ax.get_title() == f"${s.formula}$"


def test_plot_descent_2d_marks_a_saddle():
    s = bp.saddle_between_minima()
    ax = plot_descent_2d(s, bp.gradient_descent(s, (2.0, 1e-3), 0.1, 30)).axes[0]
    assert legend(ax) == ["eta = 0.1", "start", "global minimum", "saddle point"]


def test_plot_descent_1d_draws_each_iterate_on_the_curve():
    two = bp.two_minima_1d()
    path = bp.gradient_descent(two, -2.0, 0.1, 5)
    ax = plot_descent_1d("two_minima_1d", path, title="two valleys").axes[0]
    (line,) = [line for line in ax.get_lines() if np.array_equal(line.get_xdata(), path.points[:, 0])]
    assert line.get_ydata() == pytest.approx([two.f(p) for p in path.points], rel=1e-12)
    assert ax.get_title() == "two valleys" and beside(ax)
    assert legend(ax) == ["eta = 0.1", "start", "local minimum", "local maximum", "global minimum"]


def test_plot_loss_curves_logs_the_gap_to_a_known_minimum():
    q = bp.quadratic_1d()
    paths = [bp.gradient_descent(q, -1.5, eta, 8) for eta in (0.1, 0.25)]  # 0.25 = 1/c: the gap is exactly 0
    ax = plot_loss_curves(q, paths).axes[0]
    assert ax.get_yscale() == "log"
    slow, exact = ax.get_lines()
    assert slow.get_ydata() == pytest.approx([q.f(p) - q.minimum_value for p in paths[0].points], rel=1e-12)
    assert exact.get_ydata()[0] == pytest.approx(q.f(-1.5)) and np.all(exact.get_ydata()[1:] == 1e-16)
    assert beside(ax) and legend(ax) == ["eta = 0.1", "eta = 0.25"]
    ax = plot_loss_curves("saddle", bp.gradient_descent(bp.saddle(), (2.0, 0.0), 0.1, 5)).axes[0]
    assert ax.get_yscale() == "linear"  # no minimum: the loss itself


@pytest.mark.parametrize("surface", ["quadratic_1d", "elongated_bowl", "saddle", "two_minima_1d"])
def test_loss_curves_keep_the_surfaces_scale(surface):
    """Runs with different learning rates are drawn on one scale, set by the surface, not by the runs."""
    s = get_surface(surface)
    limits = {plot_loss_curves(s, bp.gradient_descent(s, s.start, eta, 30)).axes[0].get_ylim()
              for eta in (0.01, 0.1, 0.3, 0.6)}
    assert limits == {plots._loss_scale(s)}
    if s.minimum_value is not None:  # a gap of exactly 0 (drawn at 1e-16) is inside the scale
        assert plots._loss_scale(s)[0] < 1e-16


@pytest.mark.parametrize("surface, eta, side", [("quadratic_1d", 0.529353, "above"), ("elongated_bowl", 0.205, "above"),
                                                ("saddle", 0.1, "below")])
def test_a_run_beyond_the_scale_stays_in_sight_on_its_edge(surface, eta, side):
    s = get_surface(surface)
    path = bp.gradient_descent(s, s.start, eta, 150)
    ax = plot_loss_curves(s, path).axes[0]
    low, high = ax.get_ylim()
    gap = s.values(path.points) - (s.minimum_value or 0.0)
    beyond = ~(gap <= high) if side == "above" else gap < low
    assert beyond.any()
    (marks,) = [c for c in ax.collections if c.get_gid() == side]
    offsets = marks.get_offsets()
    assert list(offsets[:, 0]) == list(np.flatnonzero(beyond))  # every iterate beyond the scale, in step order
    assert np.all(offsets[:, 1] == (high if side == "above" else low)) and not marks.get_clip_on()
    assert legend(ax)[-1] == f"loss {side} the scale"


def test_a_run_inside_the_scale_has_no_edge_marks():
    q = bp.quadratic_1d()
    ax = plot_loss_curves(q, bp.gradient_descent(q, q.start, 0.1, 20)).axes[0]
    assert len(ax.collections) == 0 and "scale" not in " ".join(legend(ax))


def test_learning_rates_are_written_as_the_slider_writes_them():
    q = bp.quadratic_1d()
    ax = plot_loss_curves(q, bp.gradient_descent(q, q.start, 0.529353, 8)).axes[0]
    assert legend(ax)[0] == "eta = 0.5294"


@pytest.mark.parametrize("make", [lambda: compare_learning_rates("elongated_bowl", [0.02, 0.1, 0.18, 0.205], 40),
                                  lambda: plot_descent_2d("saddle_between_minima",
                                                          bp.gradient_descent(bp.saddle_between_minima(), (2.0, 1e-6),
                                                                              0.1, 250)),
                                  lambda: explorer_figure("saddle", 0.1, 150)])
def test_a_figure_draws_the_same_every_time(make):
    """Laid out once: the PNG a notebook stores and the one a second draw gives are the same pixels."""
    fig = make()
    first = png(fig)
    assert png(fig) == first and png(fig) == first


def test_compare_learning_rates_has_a_panel_per_rate_and_a_loss_panel():
    fig = compare_learning_rates("quadratic_1d", [0.02, 0.25, 0.45, 0.55], 12)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 5 and visible[-1].get_yscale() == "log"
    assert all(ax.get_legend() is None for ax in visible)  # no legend over a path or a curve
    (spare,) = [ax for ax in fig.axes if not ax.axison]  # the sixth place of the 3 x 2 grid holds the one legend
    assert legend(spare) == ["eta = 0.02", "eta = 0.25", "eta = 0.45", "eta = 0.55", "start", "global minimum",
                             "loss above the scale"]  # 0.55 diverges: its iterates stay in sight on the top edge
    assert [len(ax.get_lines()) for ax in visible[-1:]] == [4]
    colours = [ax.get_lines()[1].get_color() for ax in visible[:4]]
    assert colours == [line.get_color() for line in visible[-1].get_lines()]  # a rate keeps its colour
    assert "diverging" in visible[3].get_title() and "one step" in visible[1].get_title()
    assert fig.get_suptitle().endswith("from w(0) = (-1.5), 12 steps")
    assert png(fig).startswith(b"\x89PNG")


def test_compare_learning_rates_in_2d_from_a_given_start():
    fig = compare_learning_rates("elongated_bowl", [0.05, 0.18], 6, w0=(1.0, 1.0))
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 3 and all(ax.get_legend() is None for ax in visible)
    (shared,) = fig.legends  # no spare place: one legend under the panels
    assert [t.get_text() for t in shared.get_texts()] == ["eta = 0.05", "eta = 0.18", "start", "global minimum"]
    fig.draw_without_rendering()
    assert shared.get_window_extent().y1 <= min(ax.get_window_extent().y0 for ax in visible)
    path = bp.gradient_descent(bp.elongated_bowl(), (1.0, 1.0), 0.05, 6)
    assert any(np.array_equal(line.get_xdata(), path.points[:, 0]) for line in visible[0].get_lines())


# -- first-order errors ---------------------------------------------------------------------------
def test_plot_first_order_errors():
    curves = {"sin at 1": bp.first_order_errors(np.sin, np.cos, 1.0, 1.0, STEPS), "x^2": STEPS**2}
    fig = plot_first_order_errors(STEPS, curves)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 3 and ax.get_xscale() == ax.get_yscale() == "log"
    assert legend(ax) == ["sin at 1: slope 2.00", "x^2: slope 2.00", "reference: slope 2"]
    ref = ax.lines[-1].get_ydata()
    assert np.log(ref[-1] / ref[0]) / np.log(STEPS[-1] / STEPS[0]) == pytest.approx(2.0, rel=1e-12)
    assert all((ref < c).all() for c in curves.values())  # below every curve, hiding none


def test_plot_first_order_errors_with_another_reference_slope():
    fig = plot_first_order_errors(STEPS, {"cubic": STEPS**3}, reference_slope=3)
    assert legend(fig.axes[0]) == ["cubic: slope 3.00", "reference: slope 3"]
    assert png(fig).startswith(b"\x89PNG")


# -- bad input ------------------------------------------------------------------------------------
BOWL = bp.elongated_bowl()
PATH = bp.gradient_descent(BOWL, BOWL.start, 0.1, 3)
CASES = [
    ("1-D plot of a 2-D surface", lambda: plot_descent_1d(BOWL, PATH),
     ValueError, ["'surface'", "expected a 1-D surface", "'elongated_bowl' in 2-D"]),
    ("2-D plot of a 1-D surface", lambda: plot_descent_2d("quadratic_1d", PATH),
     ValueError, ["'surface'", "expected a 2-D surface", "'quadratic_1d' in 1-D"]),
    ("paths of the wrong dimension", lambda: plot_descent_1d("quadratic_1d", PATH),
     ValueError, ["'paths'", "expected paths in 1-D", "got one in 2-D at index 0"]),
    ("paths are not paths", lambda: plot_descent_2d(BOWL, [PATH.points]),
     TypeError, ["'paths'", "expected DescentPath entries", "got array of shape (4, 2)"]),
    ("no paths", lambda: plot_loss_curves(BOWL, []),
     TypeError, ["'paths'", "a DescentPath or a non-empty list of them"]),
    ("one label for two paths", lambda: plot_descent_2d(BOWL, [PATH, PATH], labels=["a"]),
     ValueError, ["'labels'", "expected one label per path (2)", "got list of shape (1,)"]),
    ("one colour for two paths", lambda: plot_loss_curves(BOWL, [PATH, PATH], colours=["red"]),
     ValueError, ["'colours'", "one matplotlib colour per path (2)"]),
    ("no contour levels", lambda: plot_descent_2d(BOWL, PATH, levels=0),
     ValueError, ["'levels'", "expected a positive integer", "got 0"]),
    ("no learning rates to compare", lambda: compare_learning_rates(BOWL, [], 5),
     TypeError, ["'etas'", "expected a non-empty list of learning rates"]),
    ("a negative learning rate to compare", lambda: compare_learning_rates(BOWL, [0.1, -0.1], 5),
     ValueError, ["'eta'", "expected a learning rate (the step size) > 0", "got -0.1"]),
    ("curve of another length", lambda: plot_curves([0.0, 1.0], {"a": [1.0, 2.0, 3.0]}),
     ValueError, ["'curves['a']'", "expected shape (2,) (like x)", "got (3,)"]),
    ("no curves", lambda: plot_curves([0.0, 1.0], {}),
     TypeError, ["'curves'", "a non-empty mapping label -> y values"]),
    ("a vertical line at text", lambda: plot_curves([0.0, 1.0], {"a": [1.0, 2.0]}, vlines={"v": "half"}),
     TypeError, ["'vlines['v']'", "expected a real number"]),
    ("errors not a dict", lambda: plot_first_order_errors(STEPS, STEPS),
     TypeError, ["'errors'", "a non-empty dict label -> errors (S,)"]),
    ("errors of another length", lambda: plot_first_order_errors(STEPS, {"a": STEPS[:3]}),
     ValueError, ["'errors'", "one error per step"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
