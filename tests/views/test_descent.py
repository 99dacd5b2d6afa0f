"""Notebook 00's learning-rate explorer (views/descent.py): its pure callback over a grid of controls, the widget
headless, its sliders on the rates the text asks about."""

import io

import pytest
from matplotlib.figure import Figure

import backprop as bp
from backprop.experiments.descent import SURFACES, get_surface
from backprop.views.descent import explorer_figure, learning_rate_explorer
from backprop.views.widgets import png_width
from strategies import assert_explained, settle

NAMES = sorted(SURFACES)
PNG = b"\x89PNG\r\n\x1a\n"


def png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("eta", [1e-3, 0.2, 3.0])
@pytest.mark.parametrize("steps", [1, 150])
def test_explorer_callback_over_a_grid_of_controls(name, eta, steps):
    fig = explorer_figure(name, eta, steps)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    path_ax, loss_ax = fig.axes
    assert f"eta = {eta:.3g}" in path_ax.get_title()
    surface = get_surface(name)
    path = bp.gradient_descent(surface, surface.start, eta, steps)
    done = "1 step" if path.steps_taken == 1 else f"{path.steps_taken} steps"
    end = ", ".join(f"{v:.3g}" for v in path.final)
    ends = f"diverged: |w| > 1e6 after {done}" if path.diverged else \
        f"after {done}: w = {end if surface.dim == 1 else f'({end})'}"
    assert path_ax.get_title().endswith(ends)
    assert len(loss_ax.get_lines()) == 1 and len(loss_ax.get_lines()[0].get_xdata()) == path.steps_taken + 1
    if steps == 150:  # drawing is where log scales and contours could warn: render the longer runs
        assert png(fig).startswith(PNG)


def test_explorer_writes_the_rate_as_its_slider_does():
    box = learning_rate_explorer(eta=0.5, steps=20)
    _, eta, _ = box.children[0].children
    rates = [value for _, value in eta.options]
    shown, value = eta.options[rates.index(0.5) + 1]  # the slider's neighbour above 2/f''
    assert shown == "0.5294" and value == pytest.approx(0.529353, abs=1e-6)  # a grid value, 6 digits
    fig = explorer_figure("quadratic_1d", value, 20)
    names = [t.get_text() for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
             for t in legend.get_texts()]
    assert f"eta = {shown}" in names and fig.axes[0].get_title().startswith(f"eta = {shown}: diverging")


def test_explorer_titles_state_the_regime_and_the_outcome():
    title = explorer_figure("quadratic_1d", 0.45, 12).axes[0].get_title()
    assert title == "eta = 0.45: oscillating\n1 - eta f'' = -0.8\nafter 12 steps: w = 0.828"
    title = explorer_figure("elongated_bowl", 0.18, 5).axes[0].get_title()
    assert title.startswith("eta = 0.18\n$w_1$ monotone, $w_2$ oscillating\nafter 5 steps: w = (")
    assert "diverged" in explorer_figure("quadratic_1d", 3.0, 150).axes[0].get_title()
    assert explorer_figure().axes[0].get_title().startswith("eta = 0.1: monotone")  # the defaults


def test_the_explorer_widget_redraws_when_a_control_moves():
    box = learning_rate_explorer(eta=0.1, steps=5)
    controls, image = box.children
    surface, eta, steps = controls.children
    assert {value for _, value in surface.options} == set(NAMES)
    assert all("_" not in label.split(":")[0] for label, _ in surface.options)  # words, not code names
    first = bytes(image.value)
    assert first.startswith(PNG) and image.layout.width == f"{png_width(first)}px"  # natural size, not stretched
    eta.value = 0.5
    settle(box)
    second = bytes(image.value)
    assert second != first
    surface.value = "saddle_between_minima"
    settle(box)
    third = bytes(image.value)
    assert third not in (first, second)
    steps.value = 40
    settle(box)
    assert bytes(image.value) not in (first, second, third)
    assert eta.value == 0.5  # exactly: 2/f'' of quadratic_1d is one of the slider's values


def test_the_explorer_widget_keeps_its_settings_in_range():
    box = learning_rate_explorer(["saddle", "quadratic_1d"], eta=10.0, steps=500, eta_range=(0.01, 1.0),
                                 max_steps=50)
    surface, eta, steps = box.children[0].children
    assert [v for _, v in surface.options] == ["saddle", "quadratic_1d"] and surface.value == "saddle"
    assert eta.value == 1.0 and steps.value == 50 and steps.max == 50


def test_the_learning_rate_slider_holds_the_rates_the_text_asks_about():
    (controls, _) = learning_rate_explorer().children
    options = [v for _, v in controls.children[1].options]
    for name in NAMES:
        curvatures = [c for c in (get_surface(name).curvatures or ()) if c > 0]
        for c in curvatures:
            assert 1 / c in options and 2 / c in options, name
        if len(curvatures) > 1:
            assert 2 / (min(curvatures) + max(curvatures)) in options
    assert 0.25 in options  # notebook 00: eta = 1/f'' on 2(w - 1)^2
    title = explorer_figure("quadratic_1d", 0.25, 5).axes[0].get_title()
    assert "1 - eta f'' = 0\n" in title and "one step" in title


CASES = [
    ("surface is not a name", lambda: explorer_figure(3, 0.1, 5),
     TypeError, ["'surface'", "expected a name", "got int"]),
    ("explorer with a negative learning rate", lambda: explorer_figure("saddle", -1.0, 5),
     ValueError, ["'eta'", "expected a learning rate (the step size) > 0", "got -1"]),
    ("explorer with a fractional step count", lambda: explorer_figure("saddle", 0.1, 4.5),
     TypeError, ["'steps'", "expected a positive integer"]),
    ("explorer with an unknown surface", lambda: learning_rate_explorer(surfaces=["bowl"]),
     ValueError, ["'surfaces'", "expected one of", "got 'bowl'"]),
    ("explorer with no surfaces", lambda: learning_rate_explorer(surfaces=[]),
     ValueError, ["'surfaces'", "at least one surface name"]),
    ("explorer with an upside-down range", lambda: learning_rate_explorer(eta_range=(1.0, 0.1)),
     ValueError, ["'eta_range'", "low < high"]),
    ("explorer with a zero in its range", lambda: learning_rate_explorer(eta_range=(0.0, 1.0)),
     ValueError, ["'eta_range'", "a learning rate > 0", "got 0"]),
    ("explorer with a range that is not a pair", lambda: learning_rate_explorer(eta_range=(0.1, 0.5, 1.0)),
     TypeError, ["'eta_range'", "expected a pair (low, high)", "got tuple of shape (3,)"]),
    ("explorer with one number for its range", lambda: learning_rate_explorer(eta_range=0.5),
     TypeError, ["'eta_range'", "expected a pair (low, high)", "got float 0.5"]),
    ("explorer starting at a negative rate", lambda: learning_rate_explorer(eta=-0.1),
     ValueError, ["'eta'", "expected a learning rate (the step size) > 0", "got -0.1"]),
]

@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
