"""The scalar-notation network: the lecture's loops, its worked example, and the vector form's reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from strategies import FD_EXAMPLES

pytestmark = pytest.mark.nb02


def two_relu_example(residual=False):
    """The lecture's example: x = 1, d = 3, w(1) = (2, -1), w(2) = (1, 2), no biases, (Y - d)^2."""
    return bp.ScalarNetwork(
        weights=[[[2.0, -1.0]], [[1.0], [2.0]]], biases=[[0.0, 0.0], [0.0]],
        activations=["relu", "identity"], divergence="squared_error",
    )


def test_two_relu_worked_example_forward():
    net = two_relu_example()
    Y = net.forward([1.0])
    assert net.z[1] == [2.0, -1.0] and net.y[1] == [2.0, 0.0]
    assert Y == [2.0]
    assert net.divergence.value(np.array(Y), np.array([3.0])) == 1.0


def test_two_relu_worked_example_backward():
    net = two_relu_example()
    net.forward([1.0])
    dw, db = net.backward(np.array([3.0]))
    assert [dw[2][0][0], dw[2][1][0]] == [-4.0, 0.0]  # dL/dw(2) = (-4, 0)
    assert dw[1][0] == [-2.0, 0.0]  # dL/dw(1) = (-2, 0): the second neuron is dead
    assert db[2] == [-2.0]  # dL/dY = -2


def test_two_relu_example_in_vector_form():
    net = bp.Network([bp.Affine([[2.0], [-1.0]], [0.0, 0.0]), bp.ActivationLayer("relu"),
                      bp.Affine([[1.0, 2.0]], [0.0]), bp.ActivationLayer("identity")], "squared_error")
    loss, grads = net.loss_and_gradients(np.array([[1.0]]), np.array([[3.0]]))
    assert loss == 1.0
    np.testing.assert_array_equal(grads["W(2)"], [[-4.0, 0.0]])
    np.testing.assert_array_equal(grads["W(1)"], [[-2.0], [0.0]])


def test_residual_connection_revives_the_dead_branch():
    """Output g = z(2) + ReLU(z(2)): with z(2) < 0 the ReLU is dead, yet earlier weights still learn."""
    W1, W2 = np.array([[2.0], [-1.0]]), np.array([[-1.0, 2.0]])  # z(2) = -2 < 0
    layers = [bp.Affine(W1, [0.0, 0.0]), bp.ActivationLayer("relu"), bp.Affine(W2, [0.0])]
    plain = bp.Network(layers + [bp.ActivationLayer("relu")], "squared_error")
    skip = bp.Network(layers + [bp.Residual([bp.ActivationLayer("relu")])], "squared_error")
    x, d = np.array([[1.0]]), np.array([[3.0]])
    _, g_plain = plain.loss_and_gradients(x, d)
    _, g_skip = skip.loss_and_gradients(x, d)
    assert not any(np.any(g) for g in g_plain.values())  # nothing learns
    # dL/dg = 2(-2 - 3) = -10 and dg/dz(2) = 1 + 0, so dL/dW(2) = -10 y(1) = (-20, 0)
    np.testing.assert_array_equal(g_skip["W(2)"], [[-20.0, 0.0]])
    np.testing.assert_array_equal(g_skip["W(1)"], [[10.0], [0.0]])


# -- the scalar and the vector implementation are the same function --------------------------
ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
CASES = {  # output activation -> divergence, target kind
    "half_squared_error": ("identity", "real"),
    "squared_error": ("tanh", "real"),
    "binary_cross_entropy": ("sigmoid", "binary"),
    "sigmoid_binary_cross_entropy": ("identity", "binary"),
    "cross_entropy": ("softmax", "label"),
    "kl_divergence": ("softmax", "onehot"),
    "softmax_cross_entropy": ("identity", "label"),
}


def _random_case(rng, depth, divergence):
    widths = [int(w) for w in rng.integers(1, 5, size=depth + 1)]
    out_act, target = CASES[divergence]
    if target in ("label", "onehot"):
        widths[-1] = max(widths[-1], 2)
    acts = [ACTS[i] for i in rng.integers(0, len(ACTS), size=depth - 1)] + [out_act]
    net = bp.mlp(widths, acts, rng=rng, divergence=divergence)
    T = int(rng.integers(1, 5))
    X = rng.normal(size=(T, widths[0]))
    K = widths[-1]
    d = {"real": lambda: rng.normal(size=(T, K)),
         "binary": lambda: rng.integers(0, 2, size=(T, K)).astype(float),
         "label": lambda: rng.integers(0, K, size=T),
         "onehot": lambda: bp.one_hot(rng.integers(0, K, size=T), K)}[target]()
    return net, X, d


@pytest.mark.nb05
@settings(max_examples=FD_EXAMPLES)
@given(depth=st.integers(1, 4), divergence=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**32 - 1))
def test_scalar_network_equals_vectorised_network(depth, divergence, seed):
    net, X, d = _random_case(np.random.default_rng(seed), depth, divergence)
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


def test_backward_before_forward_is_explained():
    with pytest.raises(RuntimeError, match="forward"):
        two_relu_example().backward(np.array([3.0]))
