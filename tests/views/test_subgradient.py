"""views/subgradient.py: the subgradient explorer's callback over a grid holding 0, 1 and the values just
outside, its widget headless, and notebook 04's figures."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.views.style import CourseFigure
from backprop.views.subgradient import subgradient_slopes, subgradient_view
from backprop.views.style import MAX_WIDTH, MIN_FONT
from strategies import settle, assert_explained


def fonts(fig):
    return [t.get_fontsize() for ax in fig.axes for t in [ax.title, ax.xaxis.label, ax.yaxis.label,
                                                          *ax.get_xticklabels(), *ax.get_yticklabels()]
            if t.get_text()] + [t.get_fontsize() for ax in fig.axes if ax.get_legend()
                                for t in ax.get_legend().get_texts()]


def test_the_slopes_hold_0_1_and_the_values_just_outside():
    slopes = subgradient_slopes()
    for value in (0.0, 1.0, -0.01, 1.01, -0.05, 1.05):
        assert value in slopes
    assert slopes == sorted(slopes) and slopes[0] == -0.5 and slopes[-1] == 1.5
    assert 0.1 in subgradient_slopes(alpha=0.1) and 0.09 in subgradient_slopes(alpha=0.1)


@pytest.mark.parametrize("slope", subgradient_slopes())
def test_the_callback_over_every_slider_value(slope):
    fig, message = subgradient_view(slope)
    valid = 0 <= slope <= 1
    assert message == bp.subgradient_verdict(slope).message
    assert ("is a subgradient" in message) == valid
    title = fig.axes[0].get_title()
    assert ("not a subgradient" in title) != valid
    shaded = [c for c in fig.axes[0].collections if c.get_label() == "line above the function"]
    assert bool(shaded) != valid  # the region where the line rises above is shaded exactly when invalid
    assert fig.get_figwidth() <= MAX_WIDTH and min(fonts(fig)) >= MIN_FONT


def test_the_verdict_changes_at_0_and_at_1():
    slopes = subgradient_slopes()
    verdicts = [subgradient_view(s)[1] for s in slopes]
    valid = ["is a subgradient" in v for v in verdicts]
    changes = [slopes[i + 1] for i in range(len(slopes) - 1) if valid[i] != valid[i + 1]]
    assert changes == [0.0, 1.01]  # invalid -> valid at 0, valid -> invalid just after 1


def test_the_leaky_callback_uses_alpha():
    assert "is a subgradient" in subgradient_view(0.1, alpha=0.1)[1]
    assert "not a subgradient" in subgradient_view(0.09, alpha=0.1)[1]


def test_the_explorer_widget_redraws_and_says_the_verdict():
    box = bp.subgradient_explorer()
    controls, verdict, image = box.children
    (slider,) = controls.children
    assert slider.value == 0.5 and "is a subgradient" in verdict.value and bytes(image.value).startswith(b"\x89PNG")
    before = bytes(image.value)
    slider.value = 1.01
    settle(box)
    assert "not a subgradient" in verdict.value and bytes(image.value) != before
    slider.value = 0.0
    settle(box)
    assert "is a subgradient" in verdict.value
    slider.value = -0.01
    settle(box)
    assert "not a subgradient" in verdict.value
    text = box._repr_mimebundle_()["text/plain"]
    assert "run this cell" in text.lower() and "VBox" not in text


def test_notebook_04_figures_fit_and_are_readable():
    for fig in (bp.draw_kinks(), bp.draw_kinks(alpha=0.2, lower=0.1, upper=0.3), bp.central_difference_figure(),
                bp.central_difference_figure(h=1e-3)):
        assert isinstance(fig, CourseFigure)
        assert fig.get_figwidth() <= MAX_WIDTH and min(fonts(fig)) >= MIN_FONT
    assert len(bp.draw_kinks().axes) == 3
    secant = [line for line in bp.central_difference_figure(h=0.5).axes[0].lines if "1/2" in line.get_label()][0]
    x, y = secant.get_data()
    assert np.allclose(np.diff(y) / np.diff(x), 0.5)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: subgradient_view("a"), TypeError, ["'slope'"]),
    (lambda: bp.subgradient_explorer(alpha=2.0), ValueError, ["'alpha'"]),
    (lambda: bp.central_difference_figure(h=-1.0), ValueError, ["'h'"]),
    (lambda: bp.draw_kinks(alpha=-0.1), ValueError, ["'alpha'"]),
])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
