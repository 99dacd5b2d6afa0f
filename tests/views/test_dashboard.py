"""views/dashboard.py: the dashboard's callback and SVG over a grid (fixed scales, bands), its widget headless
(presets, two stages, the newest change wins, clipping "off"), its plain-text fallback, and notebook 06's figures."""

from __future__ import annotations

import base64
import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

import backprop as bp
from backprop.views.style import DPI, MAX_WIDTH, CourseFigure, SvgFigure
from backprop.views.quiz import wrapped
from backprop.experiments.dashboard import PRESETS, DashboardSettings, dashboard_state
from backprop.views import dashboard as V

NS = {"svg": "http://www.w3.org/2000/svg"}


def _yticks(svg, panel=""):
    return re.findall(rf'class="bp-ytick[^"]*{panel}"[^>]*>([^<]+)<', svg)


def _bands(svg):
    el = ET.fromstring(svg).find(".//svg:text[@class='bp-bands']", NS)
    return int(el.get("data-vanished")), int(el.get("data-exploded")), int(el.get("data-depth"))


@pytest.mark.parametrize("depth, activation, residual, clip, eta", [  # eta and clip act from the first update on:
    (d, a, r, c, e) for d, a, r, (c, e) in itertools.product(  # each pair meets every network once
        (1, 12, 50), ("sigmoid", "relu"), (False, True), ((None, 0.01), (1.0, 2.0)))])
def test_the_first_pass_over_a_grid_gives_a_valid_svg_on_fixed_scales(depth, activation, residual, clip, eta):
    state = dashboard_state(depth=depth, activation=activation, residual=residual, clip=clip, eta=eta, train=False)
    svg = V.dashboard_svg(state)
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg") and root.get("width") == "980"
    assert _yticks(svg) == _yticks(V.dashboard_svg(dashboard_state(PRESETS["deep sigmoid"], train=False)))
    vanished, exploded, shown = _bands(svg)
    assert (vanished, exploded, shown) == (int(np.sum(state.bands == "vanished")),
                                           int(np.sum(state.bands == "exploded")), depth)
    # every layer drawn: a circle inside the range or a triangle at its edge, coloured by its band
    marks = root.findall(".//svg:circle[@class='bp-layer']", NS) + root.findall(".//svg:polygon[@class='bp-edge']", NS)
    assert len(marks) >= depth
    assert "training ..." in svg and "nan" not in svg


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_through_the_callback(name):
    svg, readout = V.dashboard_view(PRESETS[name])
    state = dashboard_state(PRESETS[name])
    assert f"diagnosis: {state.diagnosis}" in svg and state.evidence() in svg.replace("&#x27;", "'")
    assert f'<b class="bp-diagnosis">{state.diagnosis}</b>' in readout
    assert f'data-gain="{state.gain:.6g}"' in readout and readout.count(f"= {state.gain:.3g}") >= 1
    assert f'data-loss-ratio="{state.loss_ratio:.6g}"' in readout
    assert readout.count(PRESETS[name].label()) == 1 and PRESETS[name].label() not in svg  # the settings once
    assert len(ET.fromstring(svg).findall(".//svg:circle[@class='bp-loss']", NS)) + svg.count("bp-edge") > 0


def test_the_gradient_panel_keeps_its_range_and_the_vanished_band_grows_with_depth():
    a = V.dashboard_svg(dashboard_state(PRESETS["deep sigmoid"], train=False))
    b = V.dashboard_svg(dashboard_state(replace(PRESETS["deep sigmoid"], depth=50), train=False))
    assert _yticks(a) == _yticks(b)
    assert _yticks(a, "gradient") == ["1e-12", "1e-8", "1e-4", "1", "1e4", "1e8", "1e12"]
    assert _bands(b)[0] >= _bands(a)[0] + 15
    healthy = V.dashboard_svg(dashboard_state(PRESETS["ReLU + He"], train=False))
    assert _bands(healthy)[:2] == (0, 0)


def test_the_plain_text_fallback_is_a_sentence_and_the_readout():
    text = V.dashboard_text()
    assert text.startswith("Vanishing/exploding-gradients dashboard (interactive): run this cell")
    assert "diagnosis: vanishing" in text and "VBox" not in text


def test_a_reading_edition_gets_the_first_setting_drawn_and_a_sentence_for_a_reader():
    from backprop.views.widgets import READER_MIME

    board = V.vanishing_dashboard("deep sigmoid", threaded=False)
    form = board._repr_mimebundle_()[READER_MIME]
    fig = V.dashboard_figure(dashboard_state(PRESETS["deep sigmoid"]))
    assert form["image/svg+xml"] == fig.svg == board.image.value and form["alt"] == fig.alt  # what the widget drew
    assert form["text"].startswith("Vanishing/exploding-gradients dashboard. In JupyterLab, this dashboard lets you set")
    assert form["text"].endswith(f"its first setting: {PRESETS['deep sigmoid'].label()}.")
    assert "run this cell" not in form["text"].lower()


def test_the_widget_headless_redraws_on_every_control_and_preset():
    board = V.vanishing_dashboard("deep sigmoid", threaded=False)
    assert board._repr_mimebundle_()["text/plain"] == wrapped(V.dashboard_text(PRESETS["deep sigmoid"]))
    c = board.controls
    assert c["clip"].value == 0.0 and c["clip"].label == "off"  # not blank
    c["depth"].value = 50
    assert _bands(board.image.value)[0] >= 45
    board.presets["ReLU + He"].click()
    assert c["activation"].value == "relu" and c["init"].value == "he" and c["depth"].value == 30
    assert 'bp-diagnosis">healthy' in board.readout.value
    assert c["scale"].disabled
    c["eta"].value = 2.0
    assert 'bp-diagnosis">diverged' in board.readout.value
    for name in PRESETS:
        board.presets[name].click()
        assert f'<div class="bp-settings">{PRESETS[name].label()}</div>' in board.readout.value
        assert board.drawn[-1][0] == "training" and board.drawn[-2][0] == "gradient"
        assert board.drawn[-1][1] == PRESETS[name]
    assert c["clip"].label == "tau = 5"


def test_the_threaded_widget_ends_on_the_newest_settings_and_never_draws_a_stale_training_run():
    board = V.vanishing_dashboard("ReLU + He")
    for depth in range(2, 30):
        board.controls["depth"].value = depth
    assert board.scheduler.wait(60)
    assert '<div class="bp-settings">depth 29,' in board.readout.value
    assert board.drawn[-1][0] == "training" and board.drawn[-1][1].depth == 29
    assert board.scheduler.runs < 28
    trained = [s.depth for stage, s, _ in board.drawn if stage == "training"]
    assert trained[-1] == 29 and len(trained) < 10  # training runs of stale settings were abandoned, not drawn


def test_stored_figures_are_the_widgets_drawing_with_alt_text():
    """Notebook 06 stores the dashboard as the widget draws it (one renderer), on the same fixed scales, with alt
    text that gives the numbers a reader of the page cannot see."""
    state = dashboard_state(PRESETS["clipping"])
    fig = V.dashboard_figure(state)
    assert isinstance(fig, SvgFigure) and fig.svg == V.dashboard_svg(state) and fig.size()[0] <= MAX_WIDTH * DPI
    data = fig._repr_mimebundle_()  # an <img> in text/html, never image/svg+xml (shown only in a trusted notebook)
    assert set(data) == {"text/html", "text/plain"} and data["text/plain"] == "<SvgFigure 980x330>"
    img = ET.fromstring(data["text/html"])
    assert img.tag == "img" and img.get("alt") == fig.alt and img.get("width") == "980"
    assert base64.b64decode(img.get("src").split(",", 1)[1]).decode() == fig.svg
    vanished, exploded, depth = _bands(fig.svg)
    assert fig.alt.startswith("Figure. The vanishing/exploding-gradients dashboard for " + PRESETS["clipping"].label())
    assert f"of {depth} layers, {vanished} are in the vanished band and {exploded} in the exploded band" in fig.alt
    assert f"from {state.losses[0]:.3g} to {state.losses[-1]:.3g}" in fig.alt
    grid = V.dashboard_grid_figure(depths=(3, 6))
    root = ET.fromstring(grid.svg)
    assert grid.size()[0] <= MAX_WIDTH * DPI and len(root.findall(".//svg:rect[@stroke='#999']", NS)) == 6
    assert set(_yticks(grid.svg, "gradient")) == set(_yticks(V.dashboard_svg(state), "gradient"))  # one scale
    for case in ("deep sigmoid", "ReLU + He", "residual"):
        for depth in (3, 6):
            bands = dashboard_state(replace(PRESETS[case], depth=depth), train=False).bands
            assert f"{case}, depth {depth}: {int(np.sum(bands == 'vanished'))} of {depth} layers vanished" in grid.alt
    net = bp.dashboard_network(DashboardSettings(depth=4))
    hist = V.activation_histograms({"He": bp.layer_outputs(net, np.ones((5, 64)))})
    assert isinstance(hist, CourseFigure) and len(hist.axes) == 3
    with pytest.raises(TypeError, match="'rows'"):
        V.activation_histograms([np.ones((2, 2))])
    with pytest.raises(ValueError, match="preset names"):
        V.dashboard_grid_figure(cases=("nope",))
    with pytest.raises(ValueError, match="'depths'"):
        V.dashboard_grid_figure(depths=(0, 99))
    with pytest.raises(TypeError, match="'alt'"):
        SvgFigure(fig.svg, " ")


def test_a_failing_redraw_says_why_and_keeps_the_last_figure(monkeypatch):
    board = V.vanishing_dashboard("ReLU + He", threaded=False)
    before = board.image.value

    def refuse(settings, **kwargs):
        raise ValueError("argument 'depth' expected 1..60 hidden layers, got 99")

    monkeypatch.setattr(V, "dashboard_state", refuse)
    board.controls["depth"].value = 12
    assert board.image.value == before
    assert "expected 1..60" in board.children[1].children[2].children[1].value
