"""Tests backprop.views.softmax: the heatmap, the
explorer's pure callback over a grid of slider values, and the explorer widget itself."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.core.activations import tempered_softmax
from backprop.views.softmax import HAND_LOGITS
from strategies import settle, assert_explained


# -- figures -----------------------------------------------------------------------------------------
def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_heatmap_writes_every_entry_where_the_lecture_puts_it_and_fits_the_page():
    J = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])  # 2 outputs, 3 inputs: not square
    fig = bp.jacobian_heatmap(J, decimals=1)
    ax = fig.axes[0]
    at = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert at == {(i, j): f"{J[i, j] + 0.0:.1f}" for i in range(2) for j in range(3)}  # row i, column j
    assert fig.get_size_inches()[0] * fig.dpi <= 1000
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$y_{1}$", "$y_{2}$"]  # rows: the outputs
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$z_{1}$", "$z_{2}$", "$z_{3}$"]  # columns: the inputs
    assert_explained(lambda: bp.jacobian_heatmap(np.ones(3)), ValueError, ["'J'", "Jacobian"])


def test_activation_diagrams_draw_one_path_against_all_paths():
    fig = bp.activation_diagrams(3)
    from matplotlib.text import Text

    scalar, vector = ([t.get_text() for t in ax.findobj(Text)] for ax in fig.axes)
    assert any("scalar" in t for t in scalar) and any("every" in t for t in vector)
    assert sum("f'(z_" in t for t in scalar) == 3  # one labelled arrow per unit
    assert fig.get_size_inches()[0] * fig.dpi <= 1000
    with pytest.raises(ValueError, match="width"):
        bp.activation_diagrams(7)


# -- the explorer's pure callback, over a grid of slider values ------------------------------------------------
GRID_Z = [-4.0, -1.0, 0.0, math.log(2.0), math.log(3.0), 2.5, 4.0]
GRID_T = [0.1, 0.5, 1.0, 4.0, 10.0]


@pytest.mark.parametrize("temperature", GRID_T)
@pytest.mark.parametrize("z1", GRID_Z[::2])
def test_softmax_view_over_a_grid_of_sliders(z1, temperature):
    z = [z1, math.log(2.0), 3.0]
    fig, readout = bp.softmax_view(z, temperature)
    y, J = tempered_softmax(z, temperature)
    assert f"T = {temperature:.3g}" in readout and f"y = ({', '.join(f'{v:.3f}' for v in y)})" in readout
    bars = [f"{v:.3f}" for v in y]
    assert all(b in _texts(fig) for b in bars)  # each output written on its bar
    assert np.isclose(y.sum(), 1.0) and np.allclose(J.sum(axis=1), 0.0, atol=1e-12)
    assert fig.get_size_inches()[0] * fig.dpi <= 1000


def test_softmax_view_at_the_hand_example():
    _, readout = bp.softmax_view(HAND_LOGITS, 1.0)
    assert "y = (0.167, 0.333, 0.500)" in readout
    assert "largest dy_i/dz_j on the diagonal: 0.250" in readout and "most negative off the diagonal: -0.167" in readout


# -- the widget ---------------------------------------------------------------------------------------
def test_explorer_starts_at_the_hand_example_and_redraws():
    box = bp.softmax_explorer()
    controls, image, readout = box.children
    *sliders, t_slider = controls.children
    assert [s.description for s in sliders] == ["z_1", "z_2", "z_3"]
    assert all(math.log(2.0) in s.options or any(v == math.log(2.0) for _, v in s.options) for s in sliders)
    assert t_slider.value == 1.0 and "y = (0.167, 0.333, 0.500)" in readout.value
    before = image.value
    sliders[2].value = 4.0
    settle(box)
    assert image.value != before and "z = (0.000, 0.693, 4.000)" in readout.value
    t_slider.value = 10.0
    settle(box)
    assert "T = 10" in readout.value


def test_the_heatmap_never_writes_minus_zero():
    fig = bp.jacobian_heatmap(np.array([[1e-7, -1e-7], [-0.25, 0.0]]), decimals=3)
    assert sorted(_texts(fig)) == ["-0.250", "0.000", "0.000", "0.000"]


def test_explorer_reads_well_unrun_and_checks_arguments():
    text = bp.softmax_explorer()._repr_mimebundle_()["text/plain"]
    assert text.startswith("Softmax explorer (interactive): run this cell")
    assert_explained(lambda: bp.softmax_explorer(temperature=50.0), ValueError, ["temperature"])
    assert_explained(lambda: bp.softmax_explorer(z=list(range(7))), ValueError, ["'z'", "at most 6"])
