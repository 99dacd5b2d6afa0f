"""views/dashboard.py: the dashboard's callback and SVG over a grid (fixed scales, bands), its widget headless
(presets, two stages, the newest change wins, clipping "off"), its plain-text fallback, and notebook 06's figures."""

from __future__ import annotations

import itertools
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

import backprop as bp
from backprop.views.style import CourseFigure
from backprop.views.quiz import wrapped
from backprop.experiments.dashboard import PRESETS, DashboardSettings, dashboard_state
from backprop.views import dashboard as V
from backprop.views.style import MAX_WIDTH, png

NS = {"svg": "http://www.w3.org/2000/svg"}


def _yticks(svg, panel=""):
    return re.findall(rf'class="bp-ytick[^"]*{panel}"[^>]*>([^<]+)<', svg)


def _bands(svg):
    el = ET.fromstring(svg).find(".//svg:text[@class='bp-bands']", NS)
    return int(el.get("data-vanished")), int(el.get("data-exploded")), int(el.get("data-depth"))


@pytest.mark.parametrize("depth, activation, residual, clip, eta", [
    (d, a, r, c, e) for d, a, r, c, e in itertools.product((1, 12, 50), ("sigmoid", "relu"), (False, True),
                                                           (None, 1.0), (0.01, 2.0))])
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
    import base64

    from backprop.views.style import alt_text, png
    from backprop.views.widgets import READER_MIME

    board = V.vanishing_dashboard("deep sigmoid", threaded=False)
    form = board._repr_mimebundle_()[READER_MIME]
    fig = V.dashboard_figure(dashboard_state(PRESETS["deep sigmoid"]))
    assert base64.b64decode(form["image/png"]) == png(fig) and form["alt"] == alt_text(fig)
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


def test_figures_are_course_figures():
    fig = V.dashboard_figure(dashboard_state(PRESETS["clipping"]))
    assert isinstance(fig, CourseFigure) and fig.get_size_inches()[0] <= MAX_WIDTH
    assert fig.axes[0].get_ylim() == pytest.approx((1e-12, 1e12))
    grid = V.dashboard_grid_figure(depths=(3, 6))
    assert len(grid.axes) == 6 and grid.get_size_inches()[0] <= MAX_WIDTH
    assert {ax.get_ylim() for ax in grid.axes} == {(1e-12, 1e12)}
    with warnings.catch_warnings():  # laid out as drawn: no "constrained_layout not applied" (values at the edge)
        warnings.simplefilter("error")
        png(V.dashboard_grid_figure(depths=(5, 30)))
        png(V.dashboard_figure(dashboard_state(PRESETS["deep sigmoid"])))
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

    def refuse(settings, **kwargs):
        raise ValueError("argument 'depth' expected 1..60 hidden layers, got 99")

    monkeypatch.setattr(V, "dashboard_state", refuse)
    board.controls["depth"].value = 12
    assert board.image.value == before
    assert "expected 1..60" in board.children[1].children[2].children[1].value
