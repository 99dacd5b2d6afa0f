"""Tests backprop.core.divergences: value, derivative w.r.t. the network output, fused forms, edge cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.divergences import BinaryCrossEntropy, DIVERGENCES, HalfSquaredError, KLDivergence, SigmoidBinaryCrossEntropy, SquaredError
import backprop.core.divergences
import backprop.symbolic as sym
from strategies import FD_EXAMPLES, RTOL, assert_explained, assert_gradients, batch_shapes


@pytest.mark.parametrize("rule", sorted(DIVERGENCES) + ["log_sum_exp"])
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


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=5, min_width=2), seed=st.integers(0, 2**32 - 1))
def test_derivative_matches_finite_differences(name, shape, seed):
    """dDiv/dY per instance, and d loss/dY for the batch average, against central differences."""
    div = bp.get_divergence(name)
    Y, d = _case(name, shape, np.random.default_rng(seed))
    x = Y.copy()
    loss, loss_derivative = div.loss_and_derivative(Y, d)
    assert loss == div.loss(Y, d)
    np.testing.assert_array_equal(loss_derivative, div.loss_derivative(Y, d))
    for total, gradient in ((lambda: float(div.value(x, d).sum()), div.derivative(Y, d)),
                            (lambda: div.loss(x, d), loss_derivative)):
        assert_gradients(bp.check_gradients(total, {div.input_name: x}, {div.input_name: gradient}, rtol=RTOL))


# -- worked numbers -------------------------------------------------------------------------
def test_both_squared_error_forms():
    # the two-ReLU example: Y = 2, d = 3, (Y - d)^2 = 1 and dL/dY = -2
    assert SquaredError().value(np.array([2.0]), np.array([3.0])) == 1.0
    assert SquaredError().derivative(np.array([2.0]), np.array([3.0]))[0] == -2.0
    assert HalfSquaredError().value(np.array([2.0, 1.0]), np.array([3.0, 3.0])) == 2.5
    np.testing.assert_array_equal(HalfSquaredError().derivative(np.array([2.0, 1.0]), np.array([3.0, 3.0])), [-1, -2])


def test_cross_entropy_values():
    Y = np.array([[0.25, 0.25, 0.5], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(bp.CrossEntropy().value(Y, [2, 1]), [np.log(2), -np.log(0.8)])
    np.testing.assert_allclose(bp.CrossEntropy().derivative(Y, [2, 1]), [[0, 0, -2], [0, -1.25, 0]])
    assert BinaryCrossEntropy().value(np.array([0.5]), np.array([1.0])) == pytest.approx(np.log(2))


def test_labels_and_one_hot_targets_agree():
    Y = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    for div in (bp.CrossEntropy(), KLDivergence()):
        np.testing.assert_array_equal(div.value(Y, [2, 0]), div.value(Y, bp.one_hot([2, 0], 3)))
    assert bp.CrossEntropy().value(Y[0], 2) == pytest.approx(-np.log(0.5))  # one instance, one label


@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=6, min_width=2), seed=st.integers(0, 2**32 - 1))
def test_kl_equals_cross_entropy_for_one_hot_targets(shape, seed):
    rng = np.random.default_rng(seed)
    Y = rng.dirichlet(np.ones(shape[1]), size=shape[0])
    d = bp.one_hot(rng.integers(0, shape[1], shape[0]), shape[1])
    np.testing.assert_allclose(KLDivergence().value(Y, d), bp.CrossEntropy().value(Y, d), rtol=1e-14)
    np.testing.assert_array_equal(KLDivergence().derivative(Y, d), bp.CrossEntropy().derivative(Y, d))


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
    composed = bp.Sigmoid().backward(BinaryCrossEntropy().derivative(y, np.array([d])), np.array([z]))
    np.testing.assert_allclose(SigmoidBinaryCrossEntropy().derivative(np.array([z]), np.array([d])), composed,
                               rtol=1e-9, atol=1e-12)


def test_no_log_of_zero_and_no_overflow():
    """Warnings are errors in this suite, so any log(0) or overflow warning would fail here."""
    assert bp.CrossEntropy().value(np.array([0.0, 1.0]), 1) == 0.0  # a term with d_i = 0 contributes exactly 0
    assert BinaryCrossEntropy().value(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert bp.SoftmaxCrossEntropy().value(z, [0])[0] == 0.0
    assert bp.SoftmaxCrossEntropy().value(z, [1])[0] == pytest.approx(2000.0)
    assert SigmoidBinaryCrossEntropy().value(np.array([-1000.0]), np.array([1.0])) == pytest.approx(1000.0)
    assert backprop.core.divergences.log_sum_exp(np.array([1000.0, 1000.0])) == pytest.approx(1000.0 + np.log(2))


def test_a_probability_of_exactly_zero_against_the_target_is_infinite():
    """No probability floor: -log 0 = inf (value and derivative), not a finite 708.4."""
    bce = BinaryCrossEntropy()
    assert bce.value(np.array([0.0]), np.array([1.0])) == np.inf
    assert bce.derivative(np.array([0.0]), np.array([1.0])).tolist() == [-np.inf]
    assert bce.value(np.array([1.0]), np.array([0.0])) == np.inf
    assert bp.CrossEntropy().value(np.array([0.0, 1.0]), 0) == np.inf
    assert bp.CrossEntropy().derivative(np.array([0.0, 1.0]), 0).tolist() == [-np.inf, 0.0]
    assert KLDivergence().value(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]]))[0] == np.inf
    assert bp.CrossEntropy().loss(np.array([[0.0, 1.0], [0.5, 0.5]]), [0, 1]) == np.inf


def test_unfused_softmax_then_cross_entropy_saturates_where_the_fused_form_does_not():
    """At a logit gap of 1000 the softmax output is exactly 0 for the wrong class: the unfused
    cross-entropy is inf (not a finite wrong number such as 708), the fused one is exactly the gap."""
    z = np.array([[1000.0, 0.0]])
    y = bp.Softmax().forward(z)
    assert y.tolist() == [[1.0, 0.0]]
    assert bp.CrossEntropy().loss(y, [1]) == np.inf
    fused = bp.SoftmaxCrossEntropy().loss(z, [1])
    assert np.isfinite(fused) and fused == pytest.approx(1000.0, rel=1e-15)  # log(e^1000 + 1) - 0
    np.testing.assert_allclose(bp.SoftmaxCrossEntropy().derivative(z, [1]), [[1.0, -1.0]])  # y - d
    assert bp.SoftmaxCrossEntropy().loss(z, [0]) == 0.0


def test_soft_targets_summing_to_one_within_the_tolerance_are_distributions():
    """[0.3, 0.7 + 5e-10] is accepted (sums to 1 within 1e-9) and the fused derivative is exact for it."""
    div = bp.SoftmaxCrossEntropy()
    d = np.array([[0.3, 0.7 + 5e-10]])
    z = np.array([[0.4, -1.3]])
    np.testing.assert_array_equal(div.targets(d, z.shape), d)  # kept as given, not renormalised
    x = z.copy()
    assert_gradients(bp.check_gradients(lambda: float(div.value(x, d).sum()), {"z": x},
                                        {"z": div.derivative(z, d)}, rtol=RTOL))
    assert_gradients(bp.check_gradients(lambda: div.loss(x, d), {"z": x}, {"z": div.loss_derivative(z, d)}, rtol=RTOL))
    with pytest.raises(ValueError, match="summing to 1"):
        div.value(z, np.array([[0.3, 0.7 + 5e-9]]))


@settings(max_examples=FD_EXAMPLES)
@given(shape=batch_shapes(max_width=5), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 3.0))
def test_fused_softmax_cross_entropy_rule_is_exact_for_any_non_negative_target(shape, seed, scale):
    """dDiv/dz = sum(d) softmax(z) - d: the rule's derivative is the derivative of its value for any d >= 0."""
    rng = np.random.default_rng(seed)
    div = bp.SoftmaxCrossEntropy()
    z = rng.uniform(-4, 4, shape)
    d = rng.uniform(0, 1, shape) * scale
    x = z.copy()
    value, slope = div.rule(z, d)
    assert value.shape == shape[:1] and slope.shape == shape
    assert_gradients(bp.check_gradients(lambda: float(div.rule(x, d)[0].sum()), {"z": x}, {"z": slope}, rtol=RTOL))


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_an_empty_batch_is_refused_cleanly(name):
    """Shape (0, k): a ValueError from the library's check, not a mean of nothing (a numpy warning)."""
    div = bp.get_divergence(name)
    for call in (lambda: div.loss(np.zeros((0, 3)), np.zeros((0, 3))),
                 lambda: div.value(np.zeros((0, 3)), np.zeros((0, 3))),
                 lambda: div.loss_and_derivative(np.zeros((0, 3)), np.zeros((0, 3)))):
        assert_explained(call, ValueError, [f"'{div.input_name}'", "expected at least one instance", "(0, 3)"])


@pytest.mark.parametrize("name", ["cross_entropy", "kl_divergence", "softmax_cross_entropy"])
def test_fractional_class_labels_are_refused(name):
    div = bp.get_divergence(name)
    assert_explained(lambda: div.value(np.full((2, 3), 1 / 3), np.array([0.5, 1.0])), TypeError,
                     ["'labels'", "expected integer class labels", "non-integer value 0.5"])
    assert_explained(lambda: div.loss(np.full(3, 1 / 3), 1.5), TypeError,
                     ["'labels'", "expected integer class labels", "non-integer value 1.5"])
    # a whole float is a class number
    np.testing.assert_array_equal(div.targets(np.array([2.0, 0.0]), (2, 3)), [[0, 0, 1], [1, 0, 0]])


def test_targets_turn_integer_labels_into_one_hot_rows():
    np.testing.assert_array_equal(bp.CrossEntropy().targets([2, 0], (2, 3)), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(bp.CrossEntropy().targets(1, (3,)), [0, 1, 0])  # one instance, one label
    np.testing.assert_array_equal(HalfSquaredError().targets([[0.5, 1.5]], (1, 2)), [[0.5, 1.5]])
    assert_explained(lambda: SquaredError().targets(np.ones((2, 2)), (2, 3), name="d_test"), ValueError,
                     ["'d_test'", "expected the shape of 'Y' (2, 3)", "got (2, 2)"])
    assert_explained(lambda: bp.CrossEntropy().targets([0, 1, 2], (2, 3)), ValueError,
                     ["'d'", "expected 2 class labels", "got 3"])


def test_registry_and_batch_shapes():
    assert sorted(DIVERGENCES) == sorted([
        "squared_error", "half_squared_error", "binary_cross_entropy", "cross_entropy", "kl_divergence",
        "softmax_cross_entropy", "sigmoid_binary_cross_entropy"])
    Y, d = np.zeros((4, 3)), np.ones((4, 3))
    assert SquaredError().value(Y, d).shape == (4,)
    assert SquaredError().loss(Y, d) == 3.0
    np.testing.assert_array_equal(SquaredError().loss_derivative(Y, d), np.full((4, 3), -0.5))
    assert isinstance(SquaredError().value(Y[0], d[0]), float)
