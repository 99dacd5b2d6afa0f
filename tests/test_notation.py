"""One layout of the Jacobian everywhere, the lecture's: ``J[i, j] = d out_i / d in_j`` (a row per output, a column
per input), and going backward the row dDiv/d(out) is right-multiplied by J.

The softmax's Jacobian is symmetric, so it cannot tell the layout from its transpose. These tests use Jacobians
that are neither symmetric nor square (a multiplicative layer's, and a made-up vector activation's) in every place
that builds, shows or uses one: the finite-difference Jacobian, the layer's own backward pass, SymPy, the heatmap,
the vector form's backward passes (the lecture's rows and the delta notation's columns), and homework 03's grader.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import backprop as bp
from backprop.core.layers import ActivationLayer, Affine
from backprop.experiments.vector_form import delta_backward
from backprop.core.activations import Activation
from backprop.grading import get_part

#: o_1 = y_1 y_3, o_2 = y_2 y_2: two outputs from three inputs
PAIRS = [(0, 2), (1, 1)]
Y = np.array([2.0, -1.0, 3.0])
#: by hand, row i for the output o_i, column j for the input y_j: do_1/dy = (y_3, 0, y_1), do_2/dy = (0, 2 y_2, 0)
J_BY_HAND = np.array([[3.0, 0.0, 2.0], [0.0, -2.0, 0.0]])


def test_the_finite_difference_jacobian_puts_the_outputs_on_the_rows():
    y = Y.copy()
    J = bp.numerical_jacobian(lambda: bp.multiplicative_forward(y[None, :], PAIRS)[0][0], y, order=4)
    assert J.shape == (2, 3) and np.allclose(J, J_BY_HAND, rtol=0, atol=1e-9)


def test_the_layers_backward_pass_is_the_row_times_the_jacobian():
    do = np.array([[0.5, -2.0]])
    dy = bp.multiplicative_backward(do, bp.multiplicative_forward(Y[None, :], PAIRS)[1])
    assert np.allclose(dy[0], do[0] @ J_BY_HAND)


def test_sympy_lays_out_a_jacobian_the_same_way():
    y = sp.symbols("y_1:4")
    o = sp.Matrix([y[j] * y[l] for j, l in PAIRS])
    J = np.array(o.jacobian(y).subs(dict(zip(y, Y))), dtype=float)
    assert np.array_equal(J, J_BY_HAND)


def test_the_heatmap_draws_row_i_for_the_output_and_column_j_for_the_input():
    fig = bp.jacobian_heatmap(J_BY_HAND, inputs="y", outputs="o", decimals=0)
    ax = fig.axes[0]
    drawn = {(round(t.get_position()[1]), round(t.get_position()[0])): float(t.get_text()) for t in ax.texts}
    assert drawn == {(i, j): J_BY_HAND[i, j] for i in range(2) for j in range(3)}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$o_{1}$", "$o_{2}$"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$y_{1}$", "$y_{2}$", "$y_{3}$"]


def test_homework_03s_grader_expects_the_row_times_the_jacobian():
    part = get_part("03_vector_backward")
    do = [0.5, -2.0]
    expected = part.one_expected({"dy": do, "J": J_BY_HAND.tolist()})
    layer = bp.multiplicative_backward(np.array([do]), bp.multiplicative_forward(Y[None, :], PAIRS)[1])[0]
    assert np.allclose(expected, layer)
    square = np.array([[1.0, 2.0], [0.0, 3.0]])  # a square, non-symmetric J: the transposed product must fail
    verdict = part.one_judge({"dy": [1.0, 1.0], "J": square.tolist()}, (square @ [1.0, 1.0]).tolist(),
                             part.one_expected({"dy": [1.0, 1.0], "J": square.tolist()}))
    assert not verdict.passed and "the other way round" in verdict.diagnosis


class Twisted(Activation):
    """A made-up vector activation with a Jacobian that is not symmetric: y = (z_1 z_2, z_2, z_1 + z_3^2)."""

    name = "twisted"
    is_vector = True

    def forward(self, z, xp=np):
        z = np.asarray(z, dtype=float)
        return np.stack([z[..., 0] * z[..., 1], z[..., 1], z[..., 0] + z[..., 2] ** 2], axis=-1)

    def jacobian(self, z, y=None, xp=np):
        z = np.asarray(z, dtype=float)
        zero, one = np.zeros_like(z[..., 0]), np.ones_like(z[..., 0])
        rows = [[z[..., 1], z[..., 0], zero], [zero, one, zero], [one, zero, 2 * z[..., 2]]]  # row i: dy_i/dz
        return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)

    def backward(self, dy, z, y=None, xp=np):
        return np.einsum("...i,...ij->...j", np.asarray(dy, dtype=float), self.jacobian(z))


def test_the_vector_forms_backward_passes_use_the_lecture_layout():
    rng = np.random.default_rng(7)
    twisted = Twisted()
    z = rng.normal(size=3)
    assert np.allclose(bp.numerical_jacobian(lambda: twisted.forward(z), z, order=4), twisted.jacobian(z), atol=1e-8)
    net = bp.Network([Affine(rng.normal(size=(3, 2)), rng.normal(size=3)), ActivationLayer(twisted),
                      Affine(rng.normal(size=(2, 3)), rng.normal(size=2)), ActivationLayer("identity")])
    x, d = rng.normal(size=2), rng.normal(size=2)
    assert net.gradient_check(x[None, :], d[None, :]).passed  # the layers' own backward against finite differences
    _, grads = net.loss_and_gradients(x[None, :], d[None, :])
    rows, columns = bp.jacobian_backward(net, x, d), delta_backward(net, x, d)
    for k in (1, 2):
        assert np.allclose(rows["dW"][k].T, grads[f"W({k})"]) and np.allclose(columns["grad_W"][k], grads[f"W({k})"])
    assert not np.allclose(rows["J"][1], rows["J"][1].T)  # the Jacobian at z(1) is truly not symmetric
