"""Tests backprop.core.examples: every worked example reproduces its numbers through the library."""

import numpy as np
import pytest

import backprop as bp
import backprop.core.examples
from backprop.core import examples as ex
from strategies import assert_gradients

TWO_RELU, RESIDUAL, NEURON, TINY = ex.TWO_RELU, ex.TWO_RELU_RESIDUAL, ex.SIGMOID_NEURON, ex.TINY


# -- TWO_RELU, through the scalar network and through the vector network -----------------------------
def test_two_relu_forward_through_the_scalar_network():
    numbers = TWO_RELU["numbers"]
    net = ex.scalar_network(TWO_RELU)
    Y = net.forward(TWO_RELU["x"])
    assert net.z[1] == numbers["z(1)"] and net.y[1] == numbers["y(1)"]
    assert Y == numbers["Y"]
    assert net.divergence.value(np.array(Y), np.array(TWO_RELU["d"])) == numbers["Div"]


def test_two_relu_backward_through_the_scalar_network():
    numbers = TWO_RELU["numbers"]
    net = ex.two_relu_network(ran=True)
    assert net.dy[2] == numbers["dDiv/dY"]
    assert net.dz[1] == numbers["dDiv/dz(1)"]
    assert net.dw[2] == numbers["dDiv/dw(2)"]  # dDiv/dw(2)_i1 = y(1)_i dDiv/dY
    assert net.dw[1] == numbers["dDiv/dw(1)"]  # the dead unit's weight gets 0
    assert net.db[2] == numbers["dDiv/dY"] and net.db[1] == numbers["dDiv/dz(1)"]


def test_two_relu_through_the_vector_network():
    """The same numbers from the batch form: the gradient of W(k) is the transpose of dDiv/dw(k)."""
    numbers = TWO_RELU["numbers"]
    net = ex.vector_network(TWO_RELU)
    X, d = np.array([TWO_RELU["x"]]), np.array([TWO_RELU["d"]])
    Y, caches = net.forward(X)
    assert Y.tolist() == [numbers["Y"]]
    z1, y1, _ = caches[1]  # the first activation layer keeps (z(1), y(1), f)
    assert z1.tolist() == [numbers["z(1)"]] and y1.tolist() == [numbers["y(1)"]]
    loss, grads = net.loss_and_gradients(X, d)
    assert loss == numbers["Div"]
    np.testing.assert_array_equal(grads["W(2)"], np.array(numbers["dDiv/dw(2)"]).T)
    np.testing.assert_array_equal(grads["W(1)"], np.array(numbers["dDiv/dw(1)"]).T)
    np.testing.assert_array_equal(grads["b(1)"], numbers["dDiv/dz(1)"])
    np.testing.assert_array_equal(grads["b(2)"], numbers["dDiv/dY"])


def test_two_relu_scalar_and_vector_forms_hold_the_same_parameters():
    scalar, vector = ex.scalar_network(TWO_RELU), ex.vector_network(TWO_RELU)
    assert scalar.parameters().keys() == vector.parameters().keys()
    for name, p in vector.parameters().items():
        np.testing.assert_array_equal(scalar.parameters()[name], p)


# -- TWO_RELU_RESIDUAL: the dead output, with and without a skip connection ------------------------------
@pytest.mark.parametrize("kind", ["plain", "skip"])
def test_two_relu_residual_numbers(kind):
    numbers = RESIDUAL["numbers"]
    net = ex.two_relu_residual_networks()[kind]
    X, d = np.array([RESIDUAL["x"]]), np.array([RESIDUAL["d"]])
    assert bp.Network(net.layers[:3]).predict(X).tolist() == [[numbers["z(2)"]]]  # up to the last affine layer
    assert net.predict(X).tolist() == [[numbers[kind]["g"]]]
    loss, grads = net.loss_and_gradients(X, d)
    assert loss == numbers[kind]["Div"]
    np.testing.assert_array_equal(grads["W(2)"], np.array(numbers[kind]["dDiv/dw(2)"]).T)
    np.testing.assert_array_equal(grads["W(1)"], np.array(numbers[kind]["dDiv/dw(1)"]).T)
    assert_gradients(net.gradient_check(X, d))


def test_without_the_skip_connection_nothing_learns():
    _, grads = ex.two_relu_residual_networks()["plain"].loss_and_gradients(np.array([RESIDUAL["x"]]),
                                                                          np.array([RESIDUAL["d"]]))
    assert not any(np.any(g) for g in grads.values())


# -- SIGMOID_NEURON: gate by gate ------------------------------------------------------------------------
def test_sigmoid_neuron_gate_values_backward_values_and_gradients():
    numbers = NEURON["numbers"]
    f, leaves = ex.sigmoid_neuron_example()
    assert list(leaves) == list(NEURON["inputs"]) and [v.data for v in leaves.values()] == list(
        NEURON["inputs"].values())
    f.backward()
    records = bp.trace(f)
    assert [r.gate for r in records] == numbers["gates"]
    assert [round(r.output.data, 2) for r in records] == numbers["forward"]
    # the gradient of f at the last five gate outputs, from f back to the sum
    assert [round(r.output.grad, 2) for r in records[::-1][:5]] == numbers["backward"]
    assert {k: round(v.grad, 2) for k, v in leaves.items()} == numbers["gradients"]
    assert f.label == "f" and records[-1].output is f


def test_sigmoid_neuron_with_the_sigmoid_gate():
    """One sigmoid gate after the sum: the same value and gradients; its local gradient is the shortcut."""
    numbers = NEURON["numbers"]
    f, leaves = ex.sigmoid_neuron_example(use_sigmoid_gate=True)
    f.backward()
    records = bp.trace(f)
    assert [r.gate for r in records] == numbers["gates"][:4] + ["sigmoid"]
    assert [round(r.output.data, 2) for r in records] == numbers["forward"][:4] + numbers["forward"][-1:]
    last = records[-1]
    assert round(last.local[0], 2) == numbers["shortcut"]
    assert round(last.downstream[0], 2) == numbers["backward"][-1]  # the gradient at the sum, in one step
    assert {k: round(v.grad, 2) for k, v in leaves.items()} == numbers["gradients"]


def test_both_forms_of_the_neuron_agree_to_rounding():
    long, long_leaves = ex.sigmoid_neuron_example()
    short, short_leaves = ex.sigmoid_neuron_example(use_sigmoid_gate=True)
    long.backward()
    short.backward()
    assert short.data == pytest.approx(long.data, rel=1e-15)
    for name in long_leaves:
        assert short_leaves[name].grad == pytest.approx(long_leaves[name].grad, rel=1e-14)


def test_sigmoid_neuron_is_built_fresh_each_time():
    f, leaves = ex.sigmoid_neuron_example()
    f.backward()
    _, again = ex.sigmoid_neuron_example()
    assert all(v.grad == 0.0 for v in again.values())


# -- TINY: notebook 02's network --------------------------------------------------------------------------
def test_tiny_runs_and_its_gradients_pass_a_gradient_check():
    net = ex.tiny_network()
    assert net.widths == [2, 2, 2, 1]
    Y = net.forward(TINY["x"])
    assert len(Y) == 1 and np.isfinite(Y[0])
    dw, db = net.backward(np.array(TINY["d"]))
    assert [len(dw[k]) for k in (1, 2, 3)] == [2, 2, 2] and [len(db[k]) for k in (1, 2, 3)] == [2, 2, 1]
    X, D = np.array([TINY["x"]]), np.array([TINY["d"]])
    assert_gradients(net.gradient_check(X, D))
    assert_gradients(ex.vector_network(TINY).gradient_check(X, D))


def test_tiny_scalar_and_vector_forms_agree():
    X, D = np.array([TINY["x"]]), np.array([TINY["d"]])
    loss_s, grads_s = ex.tiny_network().loss_and_gradients(X, D)
    loss_v, grads_v = ex.vector_network(TINY).loss_and_gradients(X, D)
    assert loss_s == pytest.approx(loss_v, rel=1e-14)
    for name in grads_v:
        np.testing.assert_allclose(grads_s[name], grads_v[name], rtol=1e-13, atol=1e-15, err_msg=name)


def test_tiny_forward_by_hand():
    """z(1) = w(1)^T x + b(1) = (0.5 - 0.75 + 0.1, -1 - 0.125 - 0.2) = (-0.15, -1.325), then sigmoid."""
    net = ex.tiny_network()
    net.forward(TINY["x"])
    assert net.z[1] == pytest.approx([-0.15, -1.325], rel=1e-15)
    assert net.y[1] == pytest.approx([1 / (1 + np.exp(0.15)), 1 / (1 + np.exp(1.325))], rel=1e-15)


def test_homework_01_function_has_three_paths_from_x_to_f():
    # a = x^2, b = sin x, c = a b, F = c + exp(a): x -> a -> c -> F, x -> b -> c -> F and x -> a -> F
    definitions = bp.examples.HOMEWORK_01
    assert list(definitions) == ["a", "b", "c", "F"]
    uses = {v: {s for s in ("x", "a", "b", "c") if s in e.replace("exp", "")} for v, e in definitions.items()}
    assert uses == {"a": {"x"}, "b": {"x"}, "c": {"a", "b"}, "F": {"a", "c"}}


def test_vector_231_network_gives_its_numbers_by_hand():
    """z(1) = W(1) x + b(1) = (1 - 2 + 0, 2 + 0 - 1, 0 + 2 + 1) = (-1, 1, 3); Y = 0 - 2 + 3 = 1; Div = 2."""
    example = bp.examples.VECTOR_231
    net = ex.vector_231_network()
    X, D = np.array([example["x"]]), np.array([example["d"]])
    Y, caches = net.forward(X)
    assert caches[1][0][0].tolist() == example["numbers"]["z(1)"] and Y.tolist() == [example["numbers"]["Y"]]
    loss, grads = net.loss_and_gradients(X, D)
    assert loss == example["numbers"]["Div"]
    assert grads["W(1)"].T.tolist() == example["numbers"]["dDiv/dW(1)"]  # the lecture's derivative is the transpose
    assert grads["W(2)"].T.tolist() == example["numbers"]["dDiv/dW(2)"]
