"""Tests backprop.grading.hw02: homework 02's self-check names the factor of the chain rule that is wrong."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.grading import CheckFailed, check


def _message(part_id, fn):
    with pytest.raises(CheckFailed) as info:
        check(part_id, fn)
    return str(info.value)


@pytest.mark.parametrize(
    "wrong, says",
    [
        (lambda dy, z, f: dy, "the factor f'(z) is missing"),
        (lambda dy, z, f: f.forward(z) * dy, "instead of its derivative"),
        (lambda dy, z, f: f.derivative(z), "the factor dDiv/dy"),
    ],
)
def test_activation_step_diagnoses_the_factor(wrong, says):
    assert says in _message("02_activation_step", wrong)


def test_a_transposed_weight_gradient_is_named():
    assert "transposed" in _message("02_weight_step", lambda dz, y: (np.outer(dz, y), dz))


def test_backward_pass_names_the_first_wrong_factor():
    def backward(d, z, y, weights, activations, divergence):
        N = len(weights) - 1
        dy, dz, dw, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)
        dy[N] = divergence.derivative(y[N], d)
        for k in range(N, 0, -1):
            dz[k] = dy[k]  # forgot f'
            dw[k], db[k] = np.outer(y[k - 1], dz[k]), dz[k]
            dy[k - 1] = weights[k] @ dz[k]
        return {"dy": dy, "dz": dz, "dw": dw, "db": db}

    msg = _message("02_backward_pass", backward)
    assert "layer 1: dDiv/dy(1) is right but dDiv/dz(1) is not: the factor f_1'(z(1)_i)" in msg
    assert "dz[1][1]: expected 0, got -4" in msg


def test_summing_instead_of_averaging_is_named():
    def summed(X, D, weights, biases, activations, divergence):
        sn = bp.ScalarNetwork([w for w in weights[1:]], [b for b in biases[1:]], activations[1:], divergence)
        loss, g = sn.loss_and_gradients(X, D)
        N = len(weights) - 1
        T = len(X)
        return T * loss, [None] + [T * g[f"W({k})"].T for k in range(1, N + 1)], [None] + [T * g[f"b({k})"] for k in range(1, N + 1)]

    with pytest.raises(CheckFailed, match="sum over the instances"):
        check("02_average_gradients", summed, hidden=True)
