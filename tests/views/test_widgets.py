"""What every explorer shares (views/widgets.py): the sentences in its place before it runs and in a reading
edition, a slider's grid, the figure at its natural size, only the newest setting drawn."""

import re
import threading
import time

import pytest

import backprop as bp
from backprop.views import widgets as views_widgets
from backprop.views.descent import learning_rate_explorer
from backprop.views.paths import path_sum_explorer
from backprop.views.stepper import pass_stepper
from backprop.views.widgets import LatestOnly, described, grid, png_width
from strategies import assert_explained, influence_example

examples = bp.examples
RELU = examples.TWO_RELU


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
