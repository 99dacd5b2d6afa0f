"""views/dashboard.py: the dashboard's callback and SVG over a grid, its widget headless (presets, the newest
change wins), its plain-text fallback, and notebook 06's figures."""

from __future__ import annotations

import itertools
import threading
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import backprop as bp
from backprop.core.dashboard import PRESETS, DashboardSettings, dashboard_state
from backprop.views import dashboard as V
from backprop.views.style import MAX_WIDTH


def test_reexported():
    for name in V.__all__:
        assert getattr(bp, name) is getattr(V, name)


@pytest.mark.parametrize("depth, activation, residual, clip, eta", [
    (d, a, r, c, e) for d, a, r, c, e in itertools.product((1, 12, 50), ("sigmoid", "relu"), (False, True),
                                                           (None, 1.0), (0.01, 2.0))])
def test_the_callback_over_a_grid_gives_a_valid_svg_and_readout(depth, activation, residual, clip, eta):
    svg, readout = V.dashboard_view(depth=depth, activation=activation, residual=residual, clip=clip, eta=eta)
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg") and root.get("width") == "980"
    state = dashboard_state(depth=depth, activation=activation, residual=residual, clip=clip, eta=eta)
    assert f"diagnosis: {state.diagnosis}" in svg
    assert f'<span class="bp-first">{state.first:.3g}</span>' in readout
    assert f'<b class="bp-diagnosis">{state.diagnosis}</b>' in readout
    assert "nan" not in svg.split("<text")[0]


def test_the_plain_text_fallback_is_a_sentence_and_the_readout():
    text = V.dashboard_text()
    assert text.startswith("Vanishing/exploding-gradients dashboard (interactive): run this cell")
    assert "vanishing" in text and "VBox" not in text


def test_the_widget_headless_redraws_on_every_control_and_preset():
    board = V.vanishing_dashboard("deep sigmoid", threaded=False)
    assert board._repr_mimebundle_()["text/plain"] == V.dashboard_text(PRESETS["deep sigmoid"])
    c = board.controls
    c["depth"].value = 5
    a = float(board.readout.value.split('class="bp-first">')[1].split("<")[0])
    c["depth"].value = 40
    b = float(board.readout.value.split('class="bp-first">')[1].split("<")[0])
    assert b < a * 1e-10
    board.presets["ReLU + He"].click()
    assert c["activation"].value == "relu" and c["init"].value == "he" and c["depth"].value == 30
    assert "bp-diagnosis\">healthy" in board.readout.value
    assert c["scale"].disabled
    for name in PRESETS:
        board.presets[name].click()
        assert f"{PRESETS[name].label()}" in board.image.value


def test_a_change_during_a_redraw_replaces_the_stale_ones():
    done, gate = [], threading.Event()

    def work(item):
        gate.wait(5)
        done.append(item)

    scheduler = V.LatestOnly(work)
    for item in range(10):
        scheduler.submit(item)
        time.sleep(0.001)
    gate.set()
    assert scheduler.wait(10)
    assert done[-1] == 9 and len(done) <= 2 and scheduler.runs == len(done)


def test_the_threaded_widget_ends_on_the_newest_settings():
    board = V.vanishing_dashboard("ReLU + He")
    for depth in range(2, 30):
        board.controls["depth"].value = depth
    assert board.scheduler.wait(30)
    assert "depth 29," in board.image.value
    assert board.scheduler.runs < 28


def test_figures_are_course_figures():
    fig = V.dashboard_figure(dashboard_state(PRESETS["clipping"]))
    assert isinstance(fig, bp.CourseFigure) and fig.get_size_inches()[0] <= MAX_WIDTH
    grid = V.dashboard_grid_figure(depths=(3, 6))
    assert len(grid.axes) == 6 and grid.get_size_inches()[0] <= MAX_WIDTH
    net = bp.dashboard_network(DashboardSettings(depth=4))
    hist = V.activation_histograms({"He": bp.layer_outputs(net, np.ones((5, 64)))})
    assert len(hist.axes) == 3
    with pytest.raises(TypeError, match="'rows'"):
        V.activation_histograms([np.ones((2, 2))])
    with pytest.raises(ValueError, match="preset names"):
        V.dashboard_grid_figure(cases=("nope",))


def test_a_failing_redraw_says_why_and_keeps_the_last_figure(monkeypatch):
    board = V.vanishing_dashboard("ReLU + He", threaded=False)
    before = board.image.value

    def refuse(settings):
        raise ValueError("argument 'depth' expected 1..60 hidden layers, got 99")

    monkeypatch.setattr(V, "dashboard_view", refuse)
    board.controls["depth"].value = 12
    assert board.image.value == before
    assert "expected 1..60" in board.children[1].children[2].children[1].value
