"""Tests backprop.core.initialisation: the schemes' scales, redrawing a network, and what the activations show."""

import math

import numpy as np
import pytest

import backprop as bp
from backprop.core.examples import vector_network
from backprop.core.initialisation import INITIALISATIONS
from backprop.core.layers import ActivationLayer, Affine
from strategies import assert_explained


def test_init_std_follows_each_scheme():
    assert bp.init_std("he", 50, 10) == pytest.approx(math.sqrt(2 / 50), rel=1e-15)
    assert bp.init_std("xavier", 50, 10) == pytest.approx(math.sqrt(2 / 60), rel=1e-15)
    assert bp.init_std("normal", 50, 10, std=0.3) == 0.3
    assert bp.init_std("he", 2, 7) == 1.0 and bp.init_std("xavier", 3, 1) == math.sqrt(0.5)
    assert INITIALISATIONS == ("normal", "xavier", "he")


def test_initialise_draws_each_layer_from_its_scale_and_zeroes_the_biases():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([400, 300, 200], "relu", rng=rng), "xavier", rng=np.random.default_rng(5))
    params = net.parameters()
    assert params["W(1)"].std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)
    assert params["W(2)"].std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert abs(params["W(1)"].mean()) < 0.1 * math.sqrt(2 / 700)  # mean 0
    assert not params["b(1)"].any() and not params["b(2)"].any()
    again = bp.initialise(bp.mlp([400, 300, 200], "relu", rng=rng), "xavier", rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.parameters()["W(2)"], params["W(2)"])


def test_initialise_works_in_place_and_returns_the_network():
    net = bp.mlp([3, 4, 2], "tanh", rng=np.random.default_rng(0))
    W = net.parameters()["W(1)"]
    before = W.copy()
    assert bp.initialise(net, "he", rng=np.random.default_rng(1)) is net
    assert net.parameters()["W(1)"] is W and not np.array_equal(W, before)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda net: bp.initialise(net, "normal", rng=np.random.default_rng(0)), TypeError, ["'std' expected a positive"]),
    (lambda net: bp.initialise(net, "normal", rng=np.random.default_rng(0), std=-1.0), ValueError,
     ["'std'", "expected a standard deviation > 0", "got -1"]),
    (lambda net: bp.initialise(net, "he", rng=np.random.default_rng(0), std=0.1), TypeError,
     ["'std'", "only for scheme 'normal'"]),
    (lambda net: bp.initialise(net, "glorot", rng=np.random.default_rng(0)), ValueError,
     ["'scheme' expected one of", "got 'glorot'"]),
    (lambda net: bp.initialise(net, "he", rng=0), TypeError, ["'rng' expected a numpy.random.Generator", "got int"]),
    (lambda net: bp.initialise("net", "he", rng=np.random.default_rng(0)), TypeError,
     ["'net' expected a backprop Network", "got str"]),
    (lambda net: bp.init_std("he", 0, 3), ValueError, ["'fan_in'", "expected a positive integer", "got 0"]),
], ids=["normal without std", "negative std", "std for he", "unknown scheme", "seed for rng", "not a network",
        "zero fan_in"])
def test_initialise_refuses_bad_arguments(call, exc, fragments):
    net = bp.mlp([3, 2], "relu", rng=np.random.default_rng(0))
    assert_explained(lambda: call(net), exc, fragments)


def deep_relu_mean_squares(scheme, std=None, nets=16, width=128, depth=20, seed=0, rows=32):
    """E[y(k)^2] / E[x^2] for k = 1..depth, averaged over independently drawn networks."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, width))
    ratios = []
    for _ in range(nets):
        layers = []
        for _ in range(depth):
            layers += [Affine(np.zeros((width, width)), np.zeros(width)), ActivationLayer("relu")]
        net = bp.initialise(bp.Network(layers), scheme, rng=rng, std=std)
        ratios.append([np.mean(y**2) / np.mean(X**2) for y in bp.layer_outputs(net, X)])
    return np.mean(ratios, axis=0)


def test_he_keeps_the_activation_variance_of_20_relu_layers_within_a_factor_of_2():
    """He's derivation keeps E[y(k)^2] (the variance of y about 0) equal to E[x^2] in every layer.

    One network drifts by chance (the product of 20 random matrices), so the
    expectation is estimated over 16 independent networks.
    """
    ratios = deep_relu_mean_squares("he")
    assert len(ratios) == 20
    assert np.all((ratios >= 0.5) & (ratios <= 2.0)), ratios


def test_a_too_small_scale_makes_the_activations_collapse():
    """Half He's standard deviation: a quarter of the variance per layer, (1/4)^20 ~ 1e-12 after 20 layers."""
    he = bp.init_std("he", 128, 128)
    ratios = deep_relu_mean_squares("normal", std=he / 2, nets=2)
    assert np.all(np.diff(ratios) < 0)
    assert ratios[-1] < 1e-9
    assert ratios[-1] / ratios[-2] == pytest.approx(0.25, rel=0.3)


def test_layer_outputs_are_the_activation_layers_outputs():
    rng = np.random.default_rng(0)
    net = bp.mlp([5, 7, 3], ["tanh", "softmax"], rng=rng, divergence="cross_entropy")
    X = rng.normal(size=(12, 5))
    outs = bp.layer_outputs(net, X)
    assert [y.shape for y in outs] == [(12, 7), (12, 3)]
    np.testing.assert_allclose(outs[-1], net.predict(X))
    assert np.all(np.abs(outs[0]) < 1)  # tanh


def test_layer_outputs_of_the_worked_example():
    outs = bp.layer_outputs(vector_network(bp.examples.TWO_RELU), np.array([bp.examples.TWO_RELU["x"]]))
    numbers = bp.examples.TWO_RELU["numbers"]
    assert [y.tolist() for y in outs] == [[numbers["y(1)"]], [numbers["Y"]]]
