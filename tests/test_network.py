"""The vectorised network: gradients by backprop against finite differences, naming, repeatability."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from strategies import assert_gradients
from test_scalar_net import CASES, _random_case

pytestmark = pytest.mark.nb05


@settings(max_examples=100)
@given(depth=st.integers(1, 4), divergence=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**32 - 1))
def test_backprop_matches_finite_differences_on_random_networks(depth, divergence, seed):
    net, X, d = _random_case(np.random.default_rng(seed), depth, divergence)
    report = net.gradient_check(X, d)
    assert_gradients(report)


@settings(max_examples=100)
@given(seed=st.integers(0, 2**32 - 1))
def test_backprop_through_residual_and_multiplicative_layers(seed):
    rng = np.random.default_rng(seed)
    net = bp.Network([
        bp.Affine(rng.normal(size=(4, 3)), rng.normal(size=4)), bp.ActivationLayer("tanh"),
        bp.Residual([bp.Affine(rng.normal(size=(4, 4)), rng.normal(size=4)), bp.ActivationLayer("leaky_relu")]),
        bp.Multiplicative([(0, 1), (2, 3), (1, 1)]),
        bp.Affine(rng.normal(size=(2, 3)), rng.normal(size=2)), bp.ActivationLayer("softmax"),
    ], "cross_entropy")
    assert list(net.parameters()) == ["W(1)", "b(1)", "W(2)", "b(2)", "W(3)", "b(3)"]
    report = net.gradient_check(rng.normal(size=(3, 3)), rng.integers(0, 2, size=3))
    assert_gradients(report)


def test_backward_twice_gives_the_same_gradients():
    rng = np.random.default_rng(3)
    net = bp.mlp([3, 5, 2], ["relu", "identity"], rng=rng)
    X, d = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    Y, caches = net.forward(X)
    dY = net.divergence.loss_derivative(Y, d)
    first = net.backward(dY, caches)
    second = net.backward(dY, caches)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    _, again = net.loss_and_gradients(X, d)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])


def test_gradients_are_shaped_like_parameters_and_named_as_in_the_lecture():
    net = bp.mlp([4, 3, 2], ["sigmoid", "softmax"], rng=np.random.default_rng(0), divergence="cross_entropy")
    params = net.parameters()
    assert {k: v.shape for k, v in params.items()} == {"W(1)": (3, 4), "b(1)": (3,), "W(2)": (2, 3), "b(2)": (2,)}
    _, grads = net.loss_and_gradients(np.ones((5, 4)), [0, 1, 1, 0, 1])
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in params.items()}


def test_a_wrong_backward_is_caught_and_located(monkeypatch):
    rng = np.random.default_rng(5)
    net = bp.mlp([2, 3, 1], ["tanh", "identity"], rng=rng)
    original = bp.Affine.backward

    def buggy(self, d_out, cache):  # forgets to transpose-multiply for the first layer's W
        dY, grads = original(self, d_out, cache)
        if self is net.layers[0]:
            grads = {**grads, "W": grads["W"] * 1.001}
        return dY, grads

    monkeypatch.setattr(bp.Affine, "backward", buggy)
    report = net.gradient_check(rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))
    assert not report.passed
    assert {e.parameter for e in report.failures} == {"W(1)"}
    assert "W(1)[0, 0]" in str(report) and "FAIL" in str(report)


def test_an_entry_at_a_relu_kink_is_flagged_not_failed():
    # z(1)_1 = w x + b = 0 exactly: moving w by h flips the unit on and off
    net = bp.Network([bp.Affine([[1.0], [2.0]], [-1.0, 0.5]), bp.ActivationLayer("relu"),
                      bp.Affine([[1.0, 1.0]], [0.0]), bp.ActivationLayer("identity")])
    report = net.gradient_check(np.array([[1.0]]), np.array([[0.0]]))
    kinks = {(e.parameter, e.index) for e in report.kinks}
    assert ("W(1)", (0, 0)) in kinks and ("b(1)", (0,)) in kinks
    assert report.passed, str(report)


def test_predict_and_loss_agree_with_forward():
    rng = np.random.default_rng(7)
    net = bp.mlp([3, 4, 3], ["relu", "softmax"], rng=rng, divergence="cross_entropy")
    X = rng.normal(size=(6, 3))
    np.testing.assert_allclose(net.predict(X).sum(axis=1), 1.0)
    labels = rng.integers(0, 3, 6)
    assert net.loss(X, labels) == pytest.approx(bp.CrossEntropy().loss(net.predict(X), labels))
