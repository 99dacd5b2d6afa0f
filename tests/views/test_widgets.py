"""The explorers and the stepper (views/widgets.py): each pure callback over a grid of values, each widget headless."""

import re
import io
import math
import threading
import time

import numpy as np
import pytest
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import backprop as bp
from backprop.experiments.descent import get_surface
from backprop.views.tables import path_sum_table_html
from backprop.experiments.descent import SURFACES
from backprop.views import widgets as views_widgets
from backprop.views.widgets import (LatestOnly, described, explorer_figure, grid, learning_rate_explorer, pass_step_figure,
                                    pass_stepper, path_sum_explorer, path_sum_view, png_width)
from strategies import settle, assert_explained, influence_example, influence_examples

NAMES = sorted(SURFACES)
examples = bp.examples
TINY_X, TINY_D = np.array(examples.TINY["x"]), np.array(examples.TINY["d"])
RELU = examples.TWO_RELU
PNG = b"\x89PNG\r\n\x1a\n"


def png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


# -- notebook 00: the learning rate -------------------------------------------------------------------
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


# -- notebook 01: path sums --------------------------------------------------------------------------
x, y, u, v, w, z = sp.symbols("x y u v w z")


@pytest.mark.parametrize("name", influence_examples())
def test_path_sum_view_draws_the_point(name):
    diagram, target, at = influence_example(name)
    for value in (-1.5, 0.25, 2.0):
        point = {s: value for s in diagram.inputs}
        fig, table = path_sum_view(diagram, diagram.inputs[0], target, point)
        assert table == path_sum_table_html(diagram, diagram.inputs[0], target, point)
        (ax,) = fig.axes
        assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == len(diagram.edges)
        shown = [t.get_text() for t in ax.texts]
        assert shown[0] == "at " + ", ".join(f"{s} = {value:.4g}" for s in diagram.inputs)  # as the sliders
        for s_, t_ in diagram.edges:  # every arrow is labelled with its local derivative's value here
            assert any(t.endswith(f" = {diagram.evaluate(diagram.weight(s_, t_), point):.2f}") for t in shown)
        for n in diagram.nodes:  # every variable with its value
            assert any(t.endswith(f"\n{diagram.evaluate(n, point):.2f}") for t in shown)


def test_path_sum_view_when_there_is_no_path():
    diagram = bp.influence_diagram({u: x**2, v: y + 1, z: u * v})
    fig, table = path_sum_view(diagram, x, v, {x: 1.0, y: 2.0})  # x does not influence v
    assert "no path" in table and isinstance(fig, Figure)


def test_path_sum_view_values_are_the_path_products():
    diagram, target, at = influence_example("product")
    _, table = path_sum_view(diagram, x, target, at)
    assert f"{3 * math.cos(1.0):.4f}" in table and f"{-math.sin(1.0):.4f}" in table  # 3 x^2 cos x, -x^3 sin x


def explorer():
    named = {name: influence_example(name) for name in ("product", "two inputs")}
    named["log"] = (bp.influence_diagram({u: sp.log(x), z: u * x}), z, {x: 1.0})
    return path_sum_explorer(named), named


def parts(box):
    controls, image, table = box.children  # the controls above the figure, the table below it
    pick, source, sliders = controls.children
    return pick, source, sliders, image, table


def test_explorer_follows_the_sliders():
    box, named = explorer()
    pick, source, sliders, image, table = parts(box)
    assert list(pick.options) == list(named) and pick.value == "product"
    assert [s.description for s in sliders.children] == ["x"]
    assert image.value[:8] == PNG
    diagram, target, _ = named["product"]
    assert table.value == path_sum_view(diagram, x, target, {x: 1.0})[1]
    seen = {bytes(image.value)}
    for value in (-2.0, -0.35, 0.0, 1.6):
        sliders.children[0].value = value
        settle(box)
        assert table.value == path_sum_view(diagram, x, target, {x: value})[1]
        assert bytes(image.value) not in seen  # the drawing follows the slider too
        seen.add(bytes(image.value))
    source.value = u
    settle(box)
    assert table.value == path_sum_view(diagram, u, target, {x: 1.6})[1]


def test_explorer_switches_example_and_source():
    box, named = explorer()
    pick, source, sliders, image, table = parts(box)
    before = bytes(image.value)
    pick.value = "two inputs"
    settle(box)
    assert bytes(image.value) != before
    diagram, target, at = named["two inputs"]
    assert [s.description for s in sliders.children] == ["x", "y"]
    assert [label for label, _ in source.options] == ["x", "y", "u"]
    sliders.children[1].value = 0.75
    settle(box)
    assert table.value == path_sum_view(diagram, x, target, {x: at[x], y: 0.75})[1]
    source.value = y
    settle(box)
    assert table.value == path_sum_view(diagram, y, target, {x: at[x], y: 0.75})[1]


def test_explorer_explains_an_undefined_point():
    box, _ = explorer()
    pick, source, sliders, image, table = parts(box)
    pick.value = "log"
    settle(box)
    before = image.value
    sliders.children[0].value = -1.0  # log of a negative number
    settle(box)
    assert "not a finite real number" in table.value
    assert image.value == before  # the last good drawing stays


@pytest.mark.parametrize("named, error, words", [
    ({}, TypeError, ["'examples'", "a non-empty dict name -> (diagram, target, at)"]),
    ({"a": (bp.influence_diagram({z: x}), z)}, TypeError, ["'examples['a']'", "(diagram, target, at)"]),
    ({"a": (bp.influence_diagram({z: x * y}), z, {x: 1.0})}, ValueError, ["'at'", "missing"]),
    ({"a": (bp.influence_diagram({u: x, z: sp.Integer(3)}), z, {x: 1.0})}, ValueError,
     ["'examples['a']'", "depends on an input"]),
    ({"a": (bp.influence_diagram({u: x}), x, {x: 1.0})}, ValueError, ["'target'", "input"]),
    ({"a": (bp.InfluenceDiagram().add_edge(x, z, 2 * x), z, {x: 1.0})}, ValueError, ["'diagram'", "hand-built"]),
])
def test_bad_explorer_examples(named, error, words):
    assert_explained(lambda: path_sum_explorer(named), error, words)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(value_range=(1.0, -1.0)), ValueError, ["'value_range'", "low < high", "got (1.0, -1.0)"]),
    (dict(value_range=(0.0, "1")), TypeError, ["'value_range'", "expected a real number"]),
    (dict(step="fine"), TypeError, ["'step'", "expected a real number"]),
])
def test_bad_explorer_settings(kwargs, error, words):
    assert_explained(lambda: path_sum_explorer({"a": influence_example("chain")}, **kwargs), error, words)


def test_path_sum_view_refuses_a_stranger():
    diagram, target, at = influence_example("product")
    assert_explained(lambda: path_sum_view(diagram, y, z, at), ValueError, ["'source'", "diagram", "got y"])


# -- notebook 02: the passes, step by step -----------------------------------------------------------
@pytest.mark.parametrize("step", range(1, 27))
def test_pass_step_figure_for_every_slider_value(step):
    steps = bp.pass_steps(examples.tiny_network(), TINY_X, TINY_D)
    fig = pass_step_figure(examples.tiny_network(), TINY_X, TINY_D, step)
    assert isinstance(fig, Figure)
    shown = texts(fig)
    (title,) = [t for t in shown if t.startswith(("forward pass, step", "backward pass, step"))]
    assert title.startswith(f"{steps[step - 1].phase} pass, step {step} of 26")
    assert all(f"${line}$" in title for line in steps[step - 1].lines)  # the step's formulas, as the title
    fig.canvas.draw()  # the mathtext of every formula renders


def test_pass_step_figure_hides_what_is_not_computed_yet():
    first = texts(pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 1))
    assert "$z^{(1)}_{1}$\n2" in first and "$z^{(1)}_{2}$" in first  # only z(1)_1 is known after step 1
    assert "$y^{(2)}_{1}$" in first and not any(t.startswith("$y^{(2)}_{1}$\n") for t in first)
    last = texts(pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 16))
    assert "-2" in last  # the last backward step: every gradient shown, dDiv/dw(1)_11 = -2 on its arrow


def test_pass_stepper_runs_its_callback():
    net = examples.two_relu_network()
    ui = pass_stepper(net, RELU["x"], RELU["d"], biases=False)
    (slider,), image = ui.children[0].children, ui.children[1]
    assert slider.min == 1 and slider.max == len(bp.pass_steps(examples.two_relu_network(), RELU["x"], RELU["d"]))
    seen = {bytes(image.value)}
    assert bytes(image.value).startswith(PNG)
    for value in (2, 7, slider.max):
        slider.value = value  # fires the callback
        settle(ui)
        assert bytes(image.value).startswith(PNG) and bytes(image.value) not in seen
        seen.add(bytes(image.value))


# -- bad input ----------------------------------------------------------------------------------------
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
    ("stepper past the last step", lambda: pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 99),
     ValueError, ["'step'", "1..16", "99"]),
    ("stepper at a fractional step", lambda: pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 1.5),
     ValueError, ["'step'", "an integer in 1..16", "1.5"]),
    ("stepper of no network", lambda: pass_stepper("net", RELU["x"], RELU["d"]),
     TypeError, ["'net'", "ScalarNetwork"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- the grid of a slider, and what a widget says before it is run ----------------------------------------
def test_grid_holds_every_marked_point_exactly():
    values = grid(-2.0, 2.0, count=81, marks=[0.8655, 1.1925, 7.0])
    assert 0.8655 in values and 1.1925 in values and 7.0 not in values  # outside the range: left out
    assert values == sorted(values) and len(values) == 81 + 2
    assert grid(0.0, 1.0, count=5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    logs = grid(1e-3, 1.0, count=4, log=True, marks=[0.25])
    assert logs == [0.001, 0.01, 0.1, 0.25, 1.0]


def test_grid_bad_range_is_explained():
    assert_explained(lambda: grid(1.0, 0.0), ValueError, ["'grid'", "low < high"])


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


def test_path_sum_sliders_hold_the_marked_points():
    diagram, target, at = influence_example("product")
    box = path_sum_explorer({"product": (diagram, target, at)}, marks={"product": {x: [1.1925]}})
    _, _, sliders, _, table = parts(box)
    slider = sliders.children[0]
    assert 1.1925 in [v for _, v in slider.options]
    slider.value = 1.1925
    settle(box)
    assert table.value == path_sum_view(diagram, x, target, {x: 1.1925})[1]


@pytest.mark.parametrize("marks, error, words", [
    ({"nope": {x: [1.0]}}, ValueError, ["'marks'", "example name"]),
    ({"product": {y: [1.0]}}, ValueError, ["'marks['product']'", "input", "['x']"]),
    ({"product": {x: 1.0}}, TypeError, ["'marks['product']'", "list of values"]),
    ({"product": {x: ["one"]}}, TypeError, ["'marks['product']'", "real number"]),
], ids=["unknown example", "not an input", "a bare number", "a word"])
def test_bad_marks_are_explained(marks, error, words):
    assert_explained(lambda: path_sum_explorer({"product": influence_example("product")}, marks=marks), error, words)


REPR = re.compile(r"^\s*[A-Z]\w*\((children|value|description|options)=")


@pytest.mark.parametrize("make", [
    lambda: learning_rate_explorer(),
    lambda: path_sum_explorer({"product": influence_example("product")}),
    lambda: pass_stepper(examples.two_relu_network(), RELU["x"], RELU["d"]),
], ids=["learning rate explorer", "path-sum explorer", "pass stepper"])
def test_each_widget_says_in_words_what_running_its_cell_gives(make):
    bundle = make()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert not REPR.match(text) and "run this cell" in text.lower() and len(text.split()) >= 12


@pytest.mark.parametrize("make", [
    lambda: learning_rate_explorer(),
    lambda: path_sum_explorer({"product": influence_example("product")}),
], ids=["learning rate explorer", "path-sum explorer"])
def test_the_sentence_shown_unrun_breaks_between_words(make):
    """JupyterLab wraps a long plain-text output anywhere, even inside a word ("150 st eps"): the sentence comes in
    lines short enough for a laptop screen with the file browser open."""
    lines = make()._repr_mimebundle_()["text/plain"].splitlines()
    assert len(lines) > 1 and max(len(line) for line in lines) <= 80, lines


def test_described_replaces_only_the_plain_text():
    import ipywidgets as widgets

    slider = described(widgets.IntSlider(value=3), "A slider from 0 to 100; run this cell to move it.")
    bundle = slider._repr_mimebundle_()
    assert bundle["text/plain"] == "A slider from 0 to 100; run this cell to move it."
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == slider.model_id
    assert_explained(lambda: described(widgets.IntSlider(), ""), TypeError, ["'text'", "sentence"])


def test_described_adds_a_reader_form_only_when_given_one():
    import base64

    import ipywidgets as widgets
    from backprop.views.style import new_figure, png

    plain = described(widgets.IntSlider(), "Run this cell to move a slider.")._repr_mimebundle_()
    assert views_widgets.READER_MIME not in plain
    data = png(new_figure(2, 1))
    slider = described(widgets.IntSlider(), "Run this cell to move a slider.", reader="In JupyterLab, a slider.",
                       figure=data, alt="Figure. Nothing drawn.")
    form = slider._repr_mimebundle_()[views_widgets.READER_MIME]
    assert form == {"text": "In JupyterLab, a slider.", "image/png": base64.b64encode(data).decode(), "alt": "Figure. Nothing drawn."}
    assert_explained(lambda: described(widgets.IntSlider(), "Run it.", reader=" "), TypeError, ["'reader'", "sentence"])
    assert_explained(lambda: described(widgets.IntSlider(), "Run it.", reader="Read.", figure=b"GIF89a" + bytes(30),
                                       alt="a"), ValueError, ["PNG"])
    assert_explained(lambda: described(widgets.IntSlider(), "Run it.", reader="Read.", figure=data), TypeError,
                     ["'alt'", "alt text"])


@pytest.mark.parametrize("make", [
    lambda: learning_rate_explorer(eta=0.1, steps=20),
    lambda: path_sum_explorer({"product": influence_example("product")}),
    lambda: pass_stepper(examples.two_relu_network(), RELU["x"], RELU["d"]),
    lambda: bp.softmax_explorer(),
    lambda: bp.subgradient_explorer(alpha=0.0, slope=0.5),
    lambda: bp.product_explorer(widths=(2, 3, 1), batch_size=4),
], ids=["learning rate", "path sum", "pass stepper", "softmax", "subgradient", "shapes"])
def test_each_explorer_gives_a_reading_edition_its_first_figure_and_a_sentence_for_a_reader(make):
    """A static page cannot run a cell: it gets the figure the explorer draws first, with its alt text, and a
    sentence saying what the explorer does in JupyterLab and which setting the figure shows."""
    import base64

    box = make()
    bundle = box._repr_mimebundle_()
    form = bundle[views_widgets.READER_MIME]
    image = next(c for c in box.children if isinstance(getattr(c, "value", None), (bytes, memoryview)))
    assert base64.b64decode(form["image/png"]) == bytes(image.value)  # the figure shown first
    assert form["alt"] == image.alt and form["alt"].startswith("Figure")
    name = bundle["text/plain"].split(" (interactive)")[0]
    assert form["text"].startswith(f"{name}. In JupyterLab, this explorer lets you ")
    assert "run this cell" not in form["text"].lower() and "The figure shows its first setting: " in form["text"]
    does = " ".join(bundle["text/plain"].split("run this cell to ", 1)[1].split())
    assert does in form["text"], "the same words in both sentences"


def test_the_setting_in_words_names_each_control_and_its_shown_value():
    import ipywidgets as widgets

    controls = [widgets.Dropdown(options=[("a bowl", "bowl")], description="surface"),
                widgets.HBox([widgets.FloatSlider(value=0.25, description="eta")]),
                widgets.Checkbox(value=True, description="residual"), widgets.Label("no value")]
    assert views_widgets._setting(controls) == "surface: a bowl, eta: 0.25, residual: on"


# -- what every explorer shares: the figure at its natural size, only the newest setting drawn -------------
def test_png_width_reads_the_header_and_refuses_other_bytes():
    from backprop.views.style import new_figure, png

    fig = new_figure(3.0, 2.0)
    assert png_width(png(fig)) == 300  # 3 inches at the course's 100 dpi
    assert_explained(lambda: png_width(b"GIF89a" + bytes(30)), ValueError, ["'data'", "PNG"])


def test_latest_only_skips_the_settings_overtaken_while_it_worked():
    import threading

    started, release, done = threading.Event(), threading.Event(), []

    def work(item):
        if item == 0:
            started.set()
            release.wait(10)
        done.append(item)

    scheduler = LatestOnly(work)
    scheduler.submit(0)
    started.wait(10)
    for item in range(1, 20):  # a student dragging a slider across 19 values while the first draws
        scheduler.submit(item)
    release.set()
    assert scheduler.wait(10)
    assert done == [0, 19] and scheduler.runs == 2  # the first, then only the newest


def test_a_change_during_a_redraw_replaces_the_stale_ones():
    done, gate = [], threading.Event()

    def work(item):
        gate.wait(5)
        done.append(item)

    scheduler = LatestOnly(work)
    for item in range(10):
        scheduler.submit(item)
        time.sleep(0.001)
    assert scheduler.superseded()
    gate.set()
    assert scheduler.wait(10)
    assert done[-1] == 9 and len(done) <= 2 and scheduler.runs == len(done)
    assert not scheduler.superseded()
