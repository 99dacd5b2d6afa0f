"""Tests backprop.core.layers: the forward/backward contract, three witnesses per backward rule."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.layers import ActivationLayer, Affine, Multiplicative
import backprop.symbolic as sym
from strategies import FD_EXAMPLES, RTOL, assert_explained, assert_gradients


@pytest.mark.parametrize("rule", ["affine_backward", "multiplicative_backward", "residual_backward"])
def test_rule_equals_sympy(rule):
    check = sym.verify(rule)
    assert check.ok, str(check)


def _through(layer, Y, G):
    """Check every gradient of ``sum(G * layer(Y))`` (the upstream gradient is G) numerically."""
    x = Y.copy()
    out, cache = layer.forward(Y)
    dY, grads = layer.backward(G, cache)
    params = {"Y": x, **layer.params}
    analytic = {"Y": dY, **grads}
    return bp.check_gradients(lambda: float((G * layer.forward(x)[0]).sum()), params, analytic, rtol=RTOL)


shapes = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))  # B, width_(k-1), width_k


LAYERS = {  # name -> builder(rng, width_(k-1), width_k) -> (layer, width_k actually produced)
    "affine": lambda rng, n_in, n_out: (Affine(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)), n_out),
    # repeated pairs and squares included: their terms accumulate
    "multiplicative": lambda rng, n_in, n_out: (Multiplicative(rng.integers(0, n_in, size=(n_out, 2))), n_out),
    "tanh": lambda rng, n_in, n_out: (ActivationLayer("tanh"), n_in),
    "sigmoid": lambda rng, n_in, n_out: (ActivationLayer("sigmoid"), n_in),
    "softmax": lambda rng, n_in, n_out: (ActivationLayer("softmax"), n_in),
    "identity": lambda rng, n_in, n_out: (ActivationLayer("identity"), n_in),
    "residual": lambda rng, n_in, n_out: (bp.Residual([
        Affine(rng.normal(size=(n_in, n_in)), rng.normal(size=n_in)), ActivationLayer("tanh")]), n_in),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@settings(max_examples=FD_EXAMPLES)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_layer_backward_matches_finite_differences(kind, shape, seed):
    B, n_in, n_out = shape
    rng = np.random.default_rng(seed)
    layer, width_out = LAYERS[kind](rng, n_in, n_out)
    assert_gradients(_through(layer, rng.normal(size=(B, n_in)), rng.normal(size=(B, width_out))))


def test_shapes_follow_the_lecture():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)  # W(k): (width_k, width_(k-1))
    Y = np.linspace(-0.1, 0.5, 8).reshape(2, 4)
    Z, cache = bp.affine_forward(Y, W, b)
    assert Z.shape == (2, 3)
    np.testing.assert_allclose(Z[1], W @ Y[1] + b)  # z(k) = W(k) y(k-1) + b(k), per row
    dY, dW, db = bp.affine_backward(np.ones((2, 3)), cache)
    assert (dY.shape, dW.shape, db.shape) == (Y.shape, W.shape, b.shape)
    # dW is the batch sum of the lecture's y(k-1) dDiv/dz(k), transposed to W's shape
    np.testing.assert_allclose(dW, sum(np.outer(Y[t], np.ones(3)) for t in range(2)).T)


def test_multiplicative_layer_values():
    O, cache = bp.multiplicative_forward(np.array([[2.0, 3.0, 5.0]]), [(0, 1), (2, 2)])
    np.testing.assert_array_equal(O, [[6.0, 25.0]])
    dY = bp.multiplicative_backward(np.array([[1.0, 1.0]]), cache)
    np.testing.assert_array_equal(dY, [[3.0, 2.0, 10.0]])  # do/dy_j = y_l, and 2 y for a square


def test_residual_passes_gradient_through_a_dead_relu():
    """out = z + ReLU(z): even for z < 0 the gradient is 1, not 0 (the lecture's skip connection)."""
    block = bp.Residual([ActivationLayer("relu")])
    out, caches = block.forward(np.array([[-1.0, 2.0]]))
    np.testing.assert_array_equal(out, [[-1.0, 4.0]])
    dY, _ = block.backward(np.array([[1.0, 1.0]]), caches)
    np.testing.assert_array_equal(dY, [[1.0, 2.0]])


def test_params_are_the_arrays_themselves():
    layer = Affine(np.zeros((2, 3)), np.zeros(2))
    layer.params["W"][0, 0] = 1.0
    assert layer.W[0, 0] == 1.0
    block = bp.Residual([Affine(np.zeros((2, 2)), np.zeros(2))])
    assert sorted(block.params) == ["0.W", "0.b"]


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_input_grad_false_skips_only_the_input_gradient(kind):
    """The first layer's dDiv/dx is not needed: backward(..., input_grad=False) leaves it out, nothing else."""
    rng = np.random.default_rng(4)
    layer, width_out = LAYERS[kind](rng, 3, 2)
    Y, G = rng.normal(size=(2, 3)), rng.normal(size=(2, width_out))
    _, cache = layer.forward(Y)
    d_in, grads = layer.backward(G, cache)
    d_skip, grads_skip = layer.backward(G, cache, input_grad=False)
    assert d_in.shape == Y.shape
    assert grads.keys() == grads_skip.keys() == layer.params.keys()
    for name in grads:
        np.testing.assert_array_equal(grads_skip[name], grads[name])
    if kind == "affine":
        assert d_skip is None
        dY, dW, db = bp.affine_backward(G, cache, input_grad=False)
        assert dY is None
        np.testing.assert_array_equal(dW, grads["W"])
        np.testing.assert_array_equal(db, grads["b"])


def test_affine_worked_numbers():
    """z = W y + b and its backward pass for one instance, by hand."""
    Z, cache = bp.affine_forward(np.array([[1.0, -2.0]]), np.array([[3.0, 1.0], [0.5, -1.0]]), np.array([0.5, 0.0]))
    np.testing.assert_array_equal(Z, [[1.5, 2.5]])  # 3 - 2 + 0.5, 0.5 + 2 + 0
    dY, dW, db = bp.affine_backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_array_equal(dY, [[4.0, -1.0]])  # dZ W = (3 + 1, 1 - 2)
    np.testing.assert_array_equal(dW, [[1.0, -2.0], [2.0, -4.0]])  # dZ_j y_i
    np.testing.assert_array_equal(db, [1.0, 2.0])


# -- the bias as a weight on a constant input 1 ------------------------------------------------
def test_the_bias_is_the_weight_on_a_constant_input():
    rng = np.random.default_rng(0)
    Y, W, b = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    Yx, Wx = bp.extended_input(Y), bp.extended_weights(W, b)
    assert Yx.shape == (5, 4) and np.all(Yx[:, -1] == 1) and Wx.shape == (2, 4) and np.all(Wx[:, -1] == b)
    Z, cache = bp.affine_forward(Y, W, b)
    Zx, cache_x = bp.affine_forward(Yx, Wx, np.zeros(2))
    assert Zx == pytest.approx(Z, abs=1e-14)
    dZ = rng.normal(size=(5, 2))
    _, dW, db = bp.affine_backward(dZ, cache)
    _, dWx, _ = bp.affine_backward(dZ, cache_x)
    assert dWx[:, -1] == pytest.approx(db, abs=1e-14) and dWx[:, :-1] == pytest.approx(dW, abs=1e-14)
    assert bp.extended_input([2.0, -1.0]).tolist() == [2.0, -1.0, 1.0]
    assert bp.extended_weights([[1.0, 2.0]], [3.0]).tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.extended_weights(np.ones((2, 3)), np.ones(3)), ValueError, ["'b'", "expected shape (2,)", "got (3,)"]),
    (lambda: bp.extended_input(np.ones((2, 2, 2))), ValueError, ["'Y'", "expected a 1-D or 2-D array", "got 3-D"]),
    (lambda: bp.extended_weights(np.ones(3), np.ones(1)), ValueError, ["'W'", "expected a 2-D array", "got 1-D"]),
], ids=["bias of the wrong length", "input with three axes", "weights of one axis"])
def test_extended_notation_refuses_bad_input(call, exc, fragments):
    assert_explained(call, exc, fragments)
