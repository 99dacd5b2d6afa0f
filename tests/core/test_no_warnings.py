"""Every rule of the library, called directly on valid input, says nothing: no RuntimeWarning, no floating-point error.

Valid input includes the edges a student or a check meets: targets with zeros (0 log 0 = 0), a probability of 0
where its target is 0, logits far above and far below the others, sigmoid units at |z| = 760, units at a kink.
Each rule runs with numpy set to raise on division by zero, overflow and invalid values (underflow to 0 is
no event: exp(-1000) is 0) and every warning an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop.core.activations import ACTIVATIONS, get_activation
from backprop.core.divergences import DIVERGENCES, get_divergence

#: valid (Y, d) pairs per divergence: each a batch of rows
PROBABILITIES = [
    (np.array([[0.2, 0.3, 0.5], [0.0, 0.25, 0.75], [1.0, 0.0, 0.0]]),
     np.array([[0.0, 0.0, 1.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])),
    (np.array([[1e-300, 1.0 - 1e-16, 0.0]]), np.array([[0.0, 1.0, 0.0]])),
]
BINARY = [
    (np.array([[0.0, 1.0, 0.5, 1e-300]]), np.array([[0.0, 1.0, 0.25, 0.0]])),
    (np.array([[0.3, 0.999999]]), np.array([[1.0, 0.0]])),
]
LOGITS = [
    (np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, 0.0]]),
     np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])),
]
BINARY_LOGITS = [(np.array([[1000.0, -1000.0, 760.0, -760.0, 0.0]]), np.array([[0.0, 1.0, 1.0, 0.0, 0.5]]))]
REAL = [(np.array([[1e150, -3.0, 0.0]]), np.array([[0.0, 2.0, 0.0]]))]

INPUTS = {
    "half_squared_error": REAL,
    "squared_error": REAL,
    "binary_cross_entropy": BINARY,
    "cross_entropy": PROBABILITIES,
    "kl_divergence": PROBABILITIES,
    "softmax_cross_entropy": LOGITS,
    "sigmoid_binary_cross_entropy": BINARY_LOGITS,
}

Z = np.array([[-1000.0, -760.0, -1.0, -1e-300, 0.0, 1e-300, 1.0, 760.0, 1000.0]])


def test_every_divergence_has_valid_inputs_here():
    assert set(INPUTS) == set(DIVERGENCES)


def _silently(fn, *args):
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        return fn(*args)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_a_divergence_rule_says_nothing_on_valid_input(name):
    div = get_divergence(name)
    for Y, d in INPUTS[name]:
        value, slope = _silently(div.rule, Y, d)  # the rule itself, as an independent check calls it
        assert value.shape == (Y.shape[0],) and slope.shape == Y.shape
        for row in range(Y.shape[0]):  # one instance at a time too
            _silently(div.rule, Y[row], d[row])
        _silently(div.value, Y, d)
        _silently(div.derivative, Y, d)
        _silently(div.loss_and_derivative, Y, d)


def test_the_kl_divergence_with_zeros_in_its_target_is_right_and_quiet():
    Y, d = np.array([0.2, 0.3, 0.5]), np.array([0.0, 0.5, 0.5])
    value, slope = _silently(get_divergence("kl_divergence").rule, Y, d)
    assert value == pytest.approx(0.5 * np.log(0.5 / 0.3) + 0.5 * np.log(0.5 / 0.5))
    assert slope.tolist() == pytest.approx([0.0, -0.5 / 0.3, -1.0])


def test_a_probability_of_0_where_the_target_is_not_is_infinite_and_quiet():
    value, slope = _silently(get_divergence("cross_entropy").rule, np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert value == np.inf and slope[0] == -np.inf and slope[1] == 0.0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_an_activation_rule_says_nothing_on_valid_input(name):
    f = get_activation(name)
    y = _silently(f.forward, Z)
    assert np.isfinite(y).all()
    dy = np.linspace(-1.0, 1.0, Z.shape[-1])[None, :]
    assert np.isfinite(_silently(f.backward, dy, Z)).all()
    if not f.is_vector:
        assert np.isfinite(_silently(f.derivative, Z)).all()
    assert np.isfinite(_silently(f.jacobian, Z[0])).all()
