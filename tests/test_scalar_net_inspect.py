"""What the scalar network keeps from its backward pass, and its own gradient check (notebook 02)."""

import numpy as np
import pytest

import backprop as bp
from nb02_examples import two_relu_example

pytestmark = pytest.mark.nb02


def test_backward_keeps_every_derivative_of_the_worked_example():
    net = two_relu_example()
    net.forward([1.0])
    dw, db = net.backward(np.array([3.0]))
    assert net.dy[2] == [-2.0] and net.dz[2] == [-2.0]  # dL/dY = -2, identity output
    assert net.dy[1] == [-2.0, -4.0]  # w(2)_i dL/dz(2)
    assert net.dz[1] == [-2.0, 0.0]  # the dead unit stops the gradient
    assert net.dw is dw and net.db is db
    assert net.dy[0] is None and net.dz[0] is None  # nothing computed for the input


def test_a_new_forward_pass_clears_stale_derivatives():
    net = two_relu_example()
    net.forward([1.0])
    net.backward(np.array([3.0]))
    net.forward([2.0])
    assert net.dy == [] and net.dz == [] and net.dw == [] and net.db == []


def test_loss_is_the_average_divergence():
    net = two_relu_example()
    X, D = np.array([[1.0], [2.0]]), np.array([[3.0], [3.0]])
    loss, _ = net.loss_and_gradients(X, D)
    assert net.loss(X, D) == loss == (1.0 + 1.0) / 2  # Y = 2 and Y = 4


@pytest.mark.parametrize("seed", range(6))
def test_gradient_check_passes_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    acts = ["sigmoid", "tanh", "leaky_relu", "identity"]
    net = bp.mlp([3, 4, 2], [acts[seed % 4], "identity"], rng=rng)
    scalar = bp.ScalarNetwork.from_network(net)
    before = scalar.parameters()
    report = scalar.gradient_check(rng.normal(size=(2, 3)), rng.normal(size=(2, 2)))
    assert report.passed, str(report)
    assert len(report.entries) == 3 * 4 + 4 + 4 * 2 + 2
    for name, p in scalar.parameters().items():
        np.testing.assert_array_equal(p, before[name])  # the network itself is untouched


def test_gradient_check_names_a_wrong_gradient():
    net = two_relu_example()
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
    net = two_relu_example()
    assert net.kink_signature([[1.0]]) != net.kink_signature([[-1.0]])
    assert net.kink_signature([[1.0]]) == net.kink_signature([[2.0]])


def test_loss_refuses_mismatched_targets():
    with pytest.raises(ValueError, match="'D' expected 2 targets"):
        two_relu_example().loss([[1.0], [2.0]], [[3.0]])
