"""Tests backprop.symbolic.softmax: the SymPy derivations of notebook 03 hold, and they would catch a wrong rule."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import backprop as bp
from backprop.core import activations as A
from backprop.symbolic import softmax as S


def test_the_general_jacobian_holds_for_any_width():
    general = bp.general_softmax_jacobian()
    assert general.ok and general.difference == 0
    assert general.raw.has(sp.KroneckerDelta) and general.raw.has(sp.Sum)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_the_jacobian_of_each_width_entry_by_entry(width):
    derivation = bp.softmax_jacobian_derivation(width)
    assert derivation.ok and derivation.library.ok and derivation.difference == sp.zeros(width, width)
    y = derivation.y
    for i in range(width):
        for j in range(width):
            want = y[i] * (1 - y[i]) if i == j else -y[i] * y[j]
            assert sp.simplify(derivation.in_y[i, j] - want) == 0


@pytest.mark.parametrize("divergence", ["cross_entropy", "kl_divergence"])
@pytest.mark.parametrize("width", [1, 2, 3])
def test_softmax_then_divergence_collapses_to_y_minus_d(divergence, width):
    assert bp.softmax_divergence_collapse(divergence, width).ok


def test_the_witness_catches_a_wrong_jacobian(monkeypatch):
    def diagonal_only(self, z, y=None, xp=np):
        y = self.forward(z, xp) if y is None else y
        return y[..., :, None] * (np.eye(y.shape[-1], dtype=int) - y[..., None, :]) * np.eye(y.shape[-1], dtype=int)

    monkeypatch.setattr(A.Softmax, "jacobian", diagonal_only)
    assert not bp.softmax_jacobian_derivation(3).library.ok


def test_the_witness_catches_a_wrong_backward(monkeypatch):
    monkeypatch.setattr(A.Softmax, "backward", lambda self, dy, z, y=None, xp=np: y * dy)  # the diagonal term only
    assert not bp.softmax_divergence_collapse("cross_entropy", 3).ok


def test_worked_numbers_from_the_symbols():
    derivation = bp.softmax_jacobian_derivation(3)
    z = sp.symbols("z_1:4", real=True)
    at = dict(zip(z, [0, sp.log(2), sp.log(3)]))
    exact = derivation.jacobian.subs(at).applyfunc(sp.nsimplify) * 36
    assert exact.tolist() == bp.examples.SOFTMAX_HAND["numbers"]["jacobian_36ths"]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="width"):
        bp.softmax_jacobian_derivation(9)
    with pytest.raises(ValueError, match="divergence"):
        S.softmax_divergence_collapse("squared_error")
