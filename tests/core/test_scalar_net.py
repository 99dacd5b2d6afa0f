"""Tests backprop.core.scalar_net: the lecture's loops, what they keep, their gradient check, and the vector form."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
import backprop.core.layers
from strategies import FD_EXAMPLES, OUTPUTS, assert_explained, assert_gradients, random_network

TWO_RELU = bp.examples.TWO_RELU


# -- what the backward pass keeps (notebook 02) -------------------------------------------------------
def test_backward_keeps_every_derivative_of_the_worked_example():
    net = bp.two_relu_network()
    net.forward(TWO_RELU["x"])
    dw, db = net.backward(np.array(TWO_RELU["d"]))
    numbers = TWO_RELU["numbers"]
    assert net.dy[2] == numbers["dDiv/dY"] and net.dz[2] == numbers["dDiv/dY"]  # identity output: dz = dy
    assert net.dy[1] == [-2.0, -4.0]  # w(2)_i dDiv/dz(2) = (1, 2) * -2
    assert net.dz[1] == numbers["dDiv/dz(1)"]  # the dead unit stops the gradient
    assert net.dw is dw and net.db is db
    assert net.dy[0] is None and net.dz[0] is None  # nothing computed for the input


def test_ran_example_has_its_passes_done():
    net = bp.two_relu_network(ran=True)
    assert net.y[-1] == TWO_RELU["numbers"]["Y"] and net.dw[1] == TWO_RELU["numbers"]["dDiv/dw(1)"]
    assert bp.two_relu_network().y == []  # before any pass


def test_a_new_forward_pass_clears_stale_derivatives():
    net = bp.two_relu_network(ran=True)
    net.forward([2.0])
    assert net.dy == [] and net.dz == [] and net.dw == [] and net.db == []


def test_loss_is_the_average_divergence():
    net = bp.two_relu_network()
    X, D = np.array([[1.0], [2.0]]), np.array([[3.0], [3.0]])
    loss, _ = net.loss_and_gradients(X, D)
    assert net.loss(X, D) == loss == (1.0 + 1.0) / 2  # Y = 2 and Y = 4


def test_loss_and_gradients_average_over_the_instances():
    """x = 1 gives dDiv/dw(2) = (-4, 0); x = 2 gives Y = 4, dDiv/dY = 2, dDiv/dw(2) = 2 y(1) = (8, 0): mean (2, 0)."""
    _, grads = bp.two_relu_network().loss_and_gradients(np.array([[1.0], [2.0]]), np.array([[3.0], [3.0]]))
    np.testing.assert_array_equal(grads["W(2)"], [[2.0, 0.0]])
    np.testing.assert_array_equal(grads["b(2)"], [0.0])  # (-2 + 2) / 2


# -- its own gradient check ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_gradient_check_passes_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    acts = ["sigmoid", "tanh", "leaky_relu", "identity"]
    net = bp.mlp([3, 4, 2], [acts[seed % 4], "identity"], rng=rng)
    scalar = bp.ScalarNetwork.from_network(net)
    before = scalar.parameters()
    report = scalar.gradient_check(rng.normal(size=(2, 3)), rng.normal(size=(2, 2)))
    assert_gradients(report)
    assert len(report.entries) == 3 * 4 + 4 + 4 * 2 + 2
    for name, p in scalar.parameters().items():
        np.testing.assert_array_equal(p, before[name])  # the network itself is untouched


def test_gradient_check_names_a_wrong_gradient():
    net = bp.two_relu_network()
    real = net.loss_and_gradients

    def broken(X, D):
        loss, grads = real(X, D)
        grads["W(2)"] = grads["W(2)"] * 2
        return loss, grads

    net.loss_and_gradients = broken
    report = net.gradient_check([[1.0]], [[3.0]])
    assert not report.passed and report.failures[0].parameter == "W(2)"


def test_gradient_check_flags_a_kink():
    net = bp.ScalarNetwork(weights=[[[1.0]], [[1.0]]], biases=[[-1.0], [0.0]], activations=["relu", "identity"],
                           divergence="squared_error")  # z(1) = 0 at x = 1
    report = net.gradient_check([[1.0]], [[3.0]])
    assert {(e.parameter, e.index) for e in report.kinks} >= {("W(1)", (0, 0)), ("b(1)", (0,))}
    assert report.passed


def test_kink_signature_changes_across_the_kink():
    net = bp.two_relu_network()
    assert net.kink_signature([[1.0]]) != net.kink_signature([[-1.0]])
    assert net.kink_signature([[1.0]]) == net.kink_signature([[2.0]])


# -- the scalar and the vector implementation are the same function --------------------------
@settings(max_examples=FD_EXAMPLES)
@given(depth=st.integers(1, 4), divergence=st.sampled_from(sorted(OUTPUTS)), seed=st.integers(0, 2**32 - 1))
def test_scalar_network_equals_vectorised_network(depth, divergence, seed):
    net, X, d = random_network(np.random.default_rng(seed), depth, divergence)
    loss_v, grads_v = net.loss_and_gradients(X, d)
    loss_s, grads_s = bp.ScalarNetwork.from_network(net).loss_and_gradients(X, d)
    assert abs(loss_v - loss_s) <= 1e-12 * max(1.0, abs(loss_v))
    assert grads_s.keys() == grads_v.keys()
    for name in grads_v:
        np.testing.assert_allclose(grads_s[name], grads_v[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_parameters_round_trip_between_the_two_forms():
    net = bp.mlp([3, 4, 2], ["tanh", "identity"], rng=np.random.default_rng(1))
    scalar = bp.ScalarNetwork.from_network(net)
    for name, p in net.parameters().items():
        np.testing.assert_array_equal(scalar.parameters()[name], p)
    assert scalar.w[1][2][3] == net.parameters()["W(1)"][3, 2]  # w(k)_ij = W(k)[j, i]


def test_from_network_needs_alternating_affine_and_activation_layers():
    net = bp.Network([backprop.core.layers.Affine([[1.0]], [0.0]), bp.Residual([backprop.core.layers.ActivationLayer("relu")])])
    with pytest.raises(ValueError, match="'net' expected alternating Affine and ActivationLayer"):
        bp.ScalarNetwork.from_network(net)


# -- bad input -----------------------------------------------------------------------------------
def test_backward_before_forward_is_explained():
    with pytest.raises(RuntimeError, match="forward"):
        bp.two_relu_network().backward(np.array([3.0]))


def test_loss_refuses_mismatched_targets():
    with pytest.raises(ValueError, match="'D' expected 2 targets"):
        bp.two_relu_network().loss([[1.0], [2.0]], [[3.0]])
    with pytest.raises(ValueError, match="'D' expected 2 targets"):
        bp.two_relu_network().loss_and_gradients([[1.0], [2.0]], [[3.0]])


def test_lists_indexed_by_the_layer_k_are_the_same_network():
    ex = bp.examples.TWO_RELU
    by_k = bp.ScalarNetwork([None] + ex["weights"], [None] + ex["biases"], [None] + ex["activations"], ex["divergence"])
    plain = bp.two_relu_network()
    assert by_k.w == plain.w and by_k.b == plain.b and by_k.f == plain.f
    assert by_k.w[1][0][1] == -1.0  # w(1)_12, as the lecture numbers it: weights[k][i][j], i and j from 0
    assert by_k.forward(ex["x"]) == ex["numbers"]["Y"]


def test_lists_indexed_by_k_need_entry_0_none_in_every_list():
    assert_explained(lambda: bp.ScalarNetwork([None, [[1.0]]], [[0.0]], [None, "relu"]), ValueError,
                     ["'biases'", "expected entry 0 None like 'weights'", "got list of shape (1,)"])
