"""Tests backprop.views.softmax: the tempered softmax and its Jacobian (three witnesses), the heatmap, the
explorer's pure callback over a grid of slider values, and the explorer widget itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.views.softmax import HAND_LOGITS
from strategies import FD_EXAMPLES, arrays, assert_explained, floats


# -- the rule: y = softmax(z / T), J[i, j] = dy_i/dz_j = y_i (delta_ij - y_j) / T -----------------------------------
def test_tempered_softmax_worked_numbers():
    y, J = bp.tempered_softmax(HAND_LOGITS, 1.0)
    assert np.allclose(y, [1 / 6, 1 / 3, 1 / 2])
    assert np.allclose(36 * J, bp.examples.SOFTMAX_HAND["numbers"]["jacobian_36ths"])
    y2, J2 = bp.tempered_softmax(HAND_LOGITS, 2.0)  # softmax(z / 2) of (0, ln 2, ln 3): e^(z/2) = (1, sqrt 2, sqrt 3)
    e = np.array([1.0, math.sqrt(2.0), math.sqrt(3.0)])
    assert np.allclose(y2, e / e.sum())
    assert np.allclose(J2, (np.diag(y2) - np.outer(y2, y2)) / 2)


@settings(max_examples=FD_EXAMPLES, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: arrays((n,), -5.0, 5.0)), floats(0.2, 5.0))
def test_tempered_jacobian_against_finite_differences(z, temperature):
    z = z.copy()
    _, J = bp.tempered_softmax(z, temperature)
    numeric = bp.numerical_jacobian(lambda: bp.tempered_softmax(z, temperature)[0], z, order=4)  # row i: dy_i/dz
    assert (bp.agree(numeric, J) | np.isclose(numeric, J, rtol=0, atol=1e-9)).all()


def test_tempered_jacobian_symbolically():
    import sympy as sp

    zs, t = sp.symbols("z_1:4", real=True), sp.Symbol("T", positive=True)
    y = [sp.exp(v / t) / sum(sp.exp(u / t) for u in zs) for v in zs]
    at = {zs[0]: 0.3, zs[1]: -1.2, zs[2]: 2.0, t: 0.7}
    _, J = bp.tempered_softmax([0.3, -1.2, 2.0], 0.7)
    exact = np.array([[float(sp.diff(y[i], zs[j]).subs(at)) for j in range(3)] for i in range(3)])  # [i, j] = dy_i/dz_j
    assert bp.agree(J, exact).all()


def test_tempered_softmax_explains_bad_arguments():
    assert_explained(lambda: bp.tempered_softmax([1.0, 2.0], 0.0), ValueError, ["temperature", "> 0"])
    assert_explained(lambda: bp.tempered_softmax([[1.0, 2.0]], 1.0), ValueError, ["'z'", "vector"])
    assert_explained(lambda: bp.tempered_softmax([], 1.0), ValueError, ["'z'", "at least one"])


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
    y, J = bp.tempered_softmax(z, temperature)
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
    logits, t_slider, image, readout = box.children
    sliders = logits.children
    assert [s.description for s in sliders] == ["z_1", "z_2", "z_3"]
    assert all(math.log(2.0) in s.options or any(v == math.log(2.0) for _, v in s.options) for s in sliders)
    assert t_slider.value == 1.0 and "y = (0.167, 0.333, 0.500)" in readout.value
    before = image.value
    sliders[2].value = 4.0
    assert image.value != before and "z = (0.000, 0.693, 4.000)" in readout.value
    t_slider.value = 10.0
    assert "T = 10" in readout.value


def test_explorer_reads_well_unrun_and_checks_arguments():
    text = bp.softmax_explorer()._repr_mimebundle_()["text/plain"]
    assert text.startswith("Softmax explorer (interactive): run this cell")
    assert_explained(lambda: bp.softmax_explorer(temperature=50.0), ValueError, ["temperature"])
    assert_explained(lambda: bp.softmax_explorer(z=list(range(7))), ValueError, ["'z'", "at most 6"])
