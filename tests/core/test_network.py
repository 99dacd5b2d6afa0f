"""Tests backprop.core.network: backprop against finite differences and the scalar loops, naming, sharing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.examples import vector_network
from backprop.core.layers import ActivationLayer, Affine, Multiplicative
from strategies import FD_EXAMPLES, OUTPUTS, assert_explained, assert_gradients, random_network

@settings(max_examples=FD_EXAMPLES)
@given(depth=st.integers(1, 4), divergence=st.sampled_from(sorted(OUTPUTS)), seed=st.integers(0, 2**32 - 1))
def test_backprop_matches_finite_differences_on_random_networks(depth, divergence, seed):
    net, X, d = random_network(np.random.default_rng(seed), depth, divergence)
    report = net.gradient_check(X, d)
    assert_gradients(report)


@settings(max_examples=100)
@given(depth=st.integers(1, 3), divergence=st.sampled_from(sorted(OUTPUTS)), seed=st.integers(0, 2**32 - 1))
def test_loss_equals_the_scalar_loops(depth, divergence, seed):
    """Network.loss (a batch, matrix products) against ScalarNetwork.loss (one neuron at a time)."""
    net, X, d = random_network(np.random.default_rng(seed), depth, divergence)
    assert net.loss(X, d) == pytest.approx(bp.ScalarNetwork.from_network(net).loss(X, d), rel=1e-12, abs=1e-14)


@settings(max_examples=20)  # the composition of layers whose rules have their own witnesses: a few draws suffice
@given(seed=st.integers(0, 2**32 - 1))
def test_backprop_through_residual_and_multiplicative_layers(seed):
    rng = np.random.default_rng(seed)
    net = bp.Network([
        Affine(rng.normal(size=(4, 3)), rng.normal(size=4)), ActivationLayer("tanh"),
        bp.Residual([Affine(rng.normal(size=(4, 4)), rng.normal(size=4)), ActivationLayer("leaky_relu")]),
        Multiplicative([(0, 1), (2, 3), (1, 1)]),
        Affine(rng.normal(size=(2, 3)), rng.normal(size=2)), ActivationLayer("softmax"),
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


def test_parameters_are_the_layers_arrays_themselves():
    net = bp.mlp([2, 3, 1], ["tanh", "identity"], rng=np.random.default_rng(0))
    assert net.parameters()["W(1)"] is net.layers[0].W and net.parameters()["b(2)"] is net.layers[2].b


def test_a_wrong_backward_is_caught_and_located(monkeypatch):
    rng = np.random.default_rng(5)
    net = bp.mlp([2, 3, 1], ["tanh", "identity"], rng=rng)
    original = Affine.backward

    def buggy(self, d_out, cache, input_grad=True):  # 0.1 % off for the first layer's W
        dY, grads = original(self, d_out, cache, input_grad)
        if self is net.layers[0]:
            grads = {**grads, "W": grads["W"] * 1.001}
        return dY, grads

    monkeypatch.setattr(Affine, "backward", buggy)
    report = net.gradient_check(rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))
    assert not report.passed
    assert {e.parameter for e in report.failures} == {"W(1)"}
    assert "w(1)_11" in str(report) and "FAIL" in str(report)


def test_an_entry_at_a_relu_kink_is_flagged_not_failed():
    # z(1)_1 = w x + b = 0 exactly: moving w by h flips the unit on and off
    net = bp.Network([Affine([[1.0], [2.0]], [-1.0, 0.5]), ActivationLayer("relu"),
                      Affine([[1.0, 1.0]], [0.0]), ActivationLayer("identity")])
    report = net.gradient_check(np.array([[1.0]]), np.array([[0.0]]))
    kinks = {(e.parameter, e.index) for e in report.kinks}
    assert ("W(1)", (0, 0)) in kinks and ("b(1)", (0,)) in kinks
    assert report.passed, str(report)


def test_predict_and_loss_by_hand():
    """The worked example: Y = 2 for x = 1, Div = (2 - 3)^2 = 1; a second instance x = 2 gives Y = 4, Div = 1."""
    net = vector_network(bp.examples.TWO_RELU)
    assert net.predict(np.array([[1.0], [2.0]])).tolist() == [[2.0], [4.0]]
    assert net.loss(np.array([[1.0]]), np.array([[3.0]])) == bp.examples.TWO_RELU["numbers"]["Div"]
    assert net.loss(np.array([[1.0], [2.0], [0.0]]), np.array([[3.0], [3.0], [3.0]])) == (1.0 + 1.0 + 9.0) / 3


def test_predict_gives_distributions_for_a_softmax_output():
    rng = np.random.default_rng(7)
    net = bp.mlp([3, 4, 3], ["relu", "softmax"], rng=rng, divergence="cross_entropy")
    Y = net.predict(rng.normal(size=(6, 3)))
    assert Y.shape == (6, 3) and np.all(Y > 0)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=1e-14)


# -- a layer object used twice: shared parameters ---------------------------------------------------
def shared_network():
    """aff used twice: Y = w (w x + b) + b, at w = 2, b = 0; half squared error."""
    aff = Affine([[2.0]], [0.0])
    return bp.Network([aff, aff], "half_squared_error"), aff


def test_a_layer_used_twice_has_one_name_and_the_sum_of_both_shares():
    """At x = 1, d = 0: h = w x + b = 2, Y = w h + b = 4, loss = 8, dL/dY = 4.  The outer use's share is
    4 h = 8 for w and 4 for b, the inner use's 4 w x = 8 and 4 w = 8: gradients 16 and 12 (dY/dw = 2 w x)."""
    net, aff = shared_network()
    params = net.parameters()
    assert list(params) == ["W(1)", "b(1)"]
    assert params["W(1)"] is aff.W
    X, d = np.array([[1.0]]), np.array([[0.0]])
    assert net.predict(X).tolist() == [[4.0]]
    loss, grads = net.loss_and_gradients(X, d)
    assert loss == 8.0
    assert list(grads) == ["W(1)", "b(1)"]
    assert grads["W(1)"].tolist() == [[16.0]] and grads["b(1)"].tolist() == [12.0]
    assert_gradients(net.gradient_check(X, d))


def test_a_shared_layer_inside_a_larger_network_passes_the_gradient_check():
    rng = np.random.default_rng(2)
    shared = Affine(rng.normal(size=(3, 3)), rng.normal(size=3))
    net = bp.Network([Affine(rng.normal(size=(3, 2)), rng.normal(size=3)), ActivationLayer("tanh"),
                      shared, ActivationLayer("sigmoid"), shared, ActivationLayer("tanh"),
                      Affine(rng.normal(size=(1, 3)), rng.normal(size=1))])
    assert list(net.parameters()) == ["W(1)", "b(1)", "W(2)", "b(2)", "W(4)", "b(4)"]  # k counts every use
    assert_gradients(net.gradient_check(rng.normal(size=(4, 2)), rng.normal(size=(4, 1))))


# -- the input check -------------------------------------------------------------------------------
def test_check_input_names_the_argument_it_is_given():
    net = bp.mlp([3, 2], "identity", rng=np.random.default_rng(0))
    X = net.check_input([[1, 2, 3]])
    assert X.dtype == np.float64 and X.tolist() == [[1.0, 2.0, 3.0]]
    assert_explained(lambda: net.check_input(np.ones((2, 4)), name="X_test"), ValueError,
                     ["'X_test'", "expected shape (B, 3)", "got (2, 4)"])
    assert_explained(lambda: net.check_input(np.ones((0, 3))), ValueError,
                     ["'X'", "expected at least one instance", "(0, 3)"])
    assert_explained(lambda: net.forward(np.ones((0, 3))), ValueError, ["'X'", "expected at least one instance"])
    assert_explained(lambda: net.backward(np.ones((1, 2)), []), ValueError,
                     ["'caches'", "expected 2 caches", "got list"])
