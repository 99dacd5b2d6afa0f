"""Divergences: value, derivative w.r.t. the network output, fused forms, stability."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
import backprop.symbolic as sym
from strategies import FD_EXAMPLES, RTOL, assert_gradients, batch_shapes

pytestmark = [pytest.mark.nb00, pytest.mark.nb03]


@pytest.mark.parametrize("rule", sorted(bp.DIVERGENCES))
def test_rule_equals_sympy(rule):
    check = sym.verify(rule)
    assert check.ok, str(check)


def _case(name, shape, rng):
    """An output (or logits) and a valid target for the divergence ``name``."""
    B, K = shape
    if name in ("squared_error", "half_squared_error"):
        return rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape)
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    if name == "sigmoid_binary_cross_entropy":
        return rng.uniform(-4, 4, shape), rng.uniform(0, 1, shape)
    d = rng.dirichlet(np.ones(K), size=B) if rng.random() < 0.5 else bp.one_hot(rng.integers(0, K, B), K)
    if name == "softmax_cross_entropy":
        return rng.uniform(-4, 4, shape), d
    return rng.dirichlet(np.ones(K), size=B) * 0.9 + 0.1 / K, d  # probabilities bounded away from 0


@pytest.mark.parametrize("name", sorted(bp.DIVERGENCES))
@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=5, min_width=2), seed=st.integers(0, 2**32 - 1))
def test_derivative_matches_finite_differences(name, shape, seed):
    """dDiv/dY per instance, and d loss/dY for the batch average, against central differences."""
    div = bp.get_divergence(name)
    Y, d = _case(name, shape, np.random.default_rng(seed))
    x = Y.copy()
    for total, gradient in ((lambda: float(div.value(x, d).sum()), div.derivative(Y, d)),
                            (lambda: div.loss(x, d), div.loss_derivative(Y, d))):
        assert_gradients(bp.check_gradients(total, {div.input_name: x}, {div.input_name: gradient}, rtol=RTOL))


# -- worked numbers -------------------------------------------------------------------------
def test_both_squared_error_forms():
    # the two-ReLU example: Y = 2, d = 3, (Y - d)^2 = 1 and dL/dY = -2
    assert bp.SquaredError().value(np.array([2.0]), np.array([3.0])) == 1.0
    assert bp.SquaredError().derivative(np.array([2.0]), np.array([3.0]))[0] == -2.0
    assert bp.HalfSquaredError().value(np.array([2.0, 1.0]), np.array([3.0, 3.0])) == 2.5
    np.testing.assert_array_equal(bp.HalfSquaredError().derivative(np.array([2.0, 1.0]), np.array([3.0, 3.0])), [-1, -2])


def test_cross_entropy_values():
    Y = np.array([[0.25, 0.25, 0.5], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(bp.CrossEntropy().value(Y, [2, 1]), [np.log(2), -np.log(0.8)])
    np.testing.assert_allclose(bp.CrossEntropy().derivative(Y, [2, 1]), [[0, 0, -2], [0, -1.25, 0]])
    assert bp.BinaryCrossEntropy().value(np.array([0.5]), np.array([1.0])) == pytest.approx(np.log(2))


def test_labels_and_one_hot_targets_agree():
    Y = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    for div in (bp.CrossEntropy(), bp.KLDivergence()):
        np.testing.assert_array_equal(div.value(Y, [2, 0]), div.value(Y, bp.one_hot([2, 0], 3)))
    assert bp.CrossEntropy().value(Y[0], 2) == pytest.approx(-np.log(0.5))  # one instance, one label


@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=6, min_width=2), seed=st.integers(0, 2**32 - 1))
def test_kl_equals_cross_entropy_for_one_hot_targets(shape, seed):
    rng = np.random.default_rng(seed)
    Y = rng.dirichlet(np.ones(shape[1]), size=shape[0])
    d = bp.one_hot(rng.integers(0, shape[1], shape[0]), shape[1])
    np.testing.assert_allclose(bp.KLDivergence().value(Y, d), bp.CrossEntropy().value(Y, d), rtol=1e-14)
    np.testing.assert_array_equal(bp.KLDivergence().derivative(Y, d), bp.CrossEntropy().derivative(Y, d))


@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=6), seed=st.integers(0, 2**32 - 1))
def test_fused_softmax_cross_entropy_equals_the_composition(shape, seed):
    """Through softmax's Jacobian, -d/Y collapses to y - d."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-5, 5, shape)
    d = bp.one_hot(rng.integers(0, shape[1], shape[0]), shape[1])
    y = bp.Softmax().forward(z)
    composed = bp.Softmax().backward(bp.CrossEntropy().derivative(y, d), z)
    np.testing.assert_allclose(bp.SoftmaxCrossEntropy().derivative(z, d), composed, rtol=1e-9, atol=1e-12)
    # equal up to rounding; the fused form is the more accurate (log y loses digits when y is near 1)
    np.testing.assert_allclose(bp.SoftmaxCrossEntropy().value(z, d), bp.CrossEntropy().value(y, d), rtol=1e-9, atol=1e-15)


@settings(max_examples=FD_EXAMPLES)
@given(z=st.floats(-8, 8), d=st.floats(0, 1))
def test_fused_sigmoid_bce_equals_the_composition(z, d):
    y = bp.Sigmoid().forward(np.array([z]))
    composed = bp.Sigmoid().backward(bp.BinaryCrossEntropy().derivative(y, np.array([d])), np.array([z]))
    np.testing.assert_allclose(bp.SigmoidBinaryCrossEntropy().derivative(np.array([z]), np.array([d])), composed,
                               rtol=1e-9, atol=1e-12)


def test_no_log_of_zero_and_no_overflow():
    """Warnings are errors in this suite, so any log(0) or overflow would fail here."""
    assert bp.CrossEntropy().value(np.array([0.0, 1.0]), 1) == 0.0
    assert bp.BinaryCrossEntropy().value(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    big = bp.BinaryCrossEntropy().value(np.array([0.0]), np.array([1.0]))
    assert np.isfinite(big) and big > 700  # -log of the smallest float64, not inf
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert bp.SoftmaxCrossEntropy().value(z, [0])[0] == 0.0
    assert bp.SoftmaxCrossEntropy().value(z, [1])[0] == pytest.approx(2000.0)
    assert bp.SigmoidBinaryCrossEntropy().value(np.array([-1000.0]), np.array([1.0])) == pytest.approx(1000.0)
    assert bp.log_sum_exp(np.array([1000.0, 1000.0])) == pytest.approx(1000.0 + np.log(2))


def test_registry_and_batch_shapes():
    assert sorted(bp.DIVERGENCES) == sorted([
        "squared_error", "half_squared_error", "binary_cross_entropy", "cross_entropy", "kl_divergence",
        "softmax_cross_entropy", "sigmoid_binary_cross_entropy"])
    Y, d = np.zeros((4, 3)), np.ones((4, 3))
    assert bp.SquaredError().value(Y, d).shape == (4,)
    assert bp.SquaredError().loss(Y, d) == 3.0
    np.testing.assert_array_equal(bp.SquaredError().loss_derivative(Y, d), np.full((4, 3), -0.5))
    assert isinstance(bp.SquaredError().value(Y[0], d[0]), float)


def test_symbolic_check_catches_a_wrong_rule(monkeypatch):
    monkeypatch.setattr(bp.HalfSquaredError, "derivative_rule", lambda self, Y, d, xp=np: 2 * (Y - d))
    assert not sym.verify("half_squared_error").ok
