"""The scalar network in SymPy symbols (symbolic/network.py): each backward rule against sympy.diff, and the numbers."""

import numpy as np
import pytest
import sympy as sp

import backprop as bp
from backprop.symbolic.network import SymbolicNetwork
from strategies import assert_explained

examples = bp.examples
TINY_X, TINY_D = np.array(examples.TINY["x"]), np.array(examples.TINY["d"])
RELU_X, RELU_D = examples.TWO_RELU["x"], examples.TWO_RELU["d"]


def expected_rule_count(widths):
    N = len(widths) - 1
    count = widths[N]  # dDiv/dy(N)_i
    for k in range(1, N + 1):
        count += widths[k] + widths[k] * (widths[k - 1] + 1)  # dz, then dw and db
        count += widths[k - 1] if k > 1 else 0  # dy(k-1)
    return count


@pytest.mark.parametrize("widths", [(2, 2, 2, 1), (1, 2, 1), (3, 1, 2), (2, 3)])
@pytest.mark.parametrize("divergence", ["half_squared_error", "squared_error"])
def test_every_backward_rule_equals_sympy_diff(widths, divergence):
    checks = SymbolicNetwork(widths, divergence=divergence).backward_rules()
    assert len(checks) == expected_rule_count(widths)
    bad = [str(c) for c in checks if not c.ok]
    assert not bad, bad
    assert all(c.difference == 0 for c in checks)


def test_readable_forms_are_in_the_lecture_variables():
    s = SymbolicNetwork((2, 2, 1))
    z21, y21, d1 = s.names[("z", 2, 0)], s.names[("y", 2, 0)], s.d[0]
    fp2 = sp.Function(r"f^{\prime}_{2}")
    assert s.readable(s.derivative("z", 2, 0)) == (y21 - d1) * fp2(z21)
    y11 = s.names[("y", 1, 0)]
    assert s.readable(s.derivative("w", 2, 0, 0)) == y11 * (y21 - d1) * fp2(z21)
    # dDiv/dy(1)_1 = w(2)_11 dDiv/dz(2)_1: the backward weighted combination (one unit in layer 2)
    assert s.readable(s.derivative("y", 1, 0)) == s.w[2][0][0] * (y21 - d1) * fp2(z21)
    assert str(s.w[1][0][1]) == "w^{(1)}_{12}" and str(s.names[("z", 1, 1)]) == "z^{(1)}_{2}"


def test_rule_check_sides_are_readable():
    check = next(c for c in SymbolicNetwork((2, 2, 1)).backward_rules() if c.rule == "dDiv/dw(1)_21")
    assert check.ok and check.library == check.sympy
    names = {str(v) for v in check.sympy.free_symbols}
    assert "x_{2}" in names and "z^{(1)}_{1}" in names and not any(n.startswith("b") for n in names)


@pytest.mark.parametrize("form", ["scalar", "vector"])
def test_library_gradients_equal_sympy_diff_on_the_tiny_network(form):
    scalar = examples.tiny_network()
    net = scalar if form == "scalar" else examples.vector_network(examples.TINY)
    _, grads = net.loss_and_gradients(TINY_X[None], TINY_D[None])
    s = SymbolicNetwork.like(scalar)
    exact = s.gradients_at(s.values(scalar, TINY_X, TINY_D))
    assert exact.keys() == grads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], exact[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_kept_derivatives_equal_sympy_diff():
    net, x, d = examples.tiny_network(), TINY_X, TINY_D
    net.forward(x)
    net.backward(d)
    s = SymbolicNetwork.like(net)
    at = s.values(net, x, d)
    for k in range(1, net.N + 1):
        for j in range(net.widths[k]):
            assert net.dz[k][j] == pytest.approx(s.evaluate(s.derivative("z", k, j), at), rel=1e-12)
            assert net.dy[k][j] == pytest.approx(s.evaluate(s.derivative("y", k, j), at), rel=1e-12)
            assert net.z[k][j] == pytest.approx(s.evaluate(s.z[k][j], at), rel=1e-12)
            assert s.evaluate(s.activation_derivative(k, j), at) == pytest.approx(
                float(net.f[k].derivative(net.z[k][j], net.y[k][j])), rel=1e-12)


def test_worked_relu_example_exactly():
    net, numbers = examples.two_relu_network(), examples.TWO_RELU["numbers"]
    s = SymbolicNetwork.like(net)
    at = s.values(net, RELU_X, RELU_D)
    g = s.gradients_at(at)
    # the examples list dDiv/dw(k)_ij as [i][j]; gradients_at gives W(k)[j, i]
    assert g["W(2)"].T.tolist() == numbers["dDiv/dw(2)"] and g["W(1)"].T.tolist() == numbers["dDiv/dw(1)"]
    assert s.evaluate(s.Div, at) == numbers["Div"]
    assert [s.evaluate(s.z[1][j], at) for j in range(2)] == numbers["z(1)"]
    assert [s.evaluate(s.derivative("z", 1, j), at) for j in range(2)] == numbers["dDiv/dz(1)"]


def test_derivative_of_the_input():
    s = SymbolicNetwork((1, 1))
    assert s.derivative("y", 0, 0) == sp.diff(s.Div, s.x[0])


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: SymbolicNetwork([2]), ValueError, ["'widths'", "N >= 1"]),
    (lambda: SymbolicNetwork([2, 0]), ValueError, ["'widths[1]'", "positive integer"]),
    (lambda: SymbolicNetwork([2, 2], ["relu", "tanh"]), ValueError, ["'activations'", "expected 1", "got 2"]),
    (lambda: SymbolicNetwork([2, 2], ["softmax"]), ValueError, ["scalar activations", "softmax"]),
    (lambda: SymbolicNetwork([2, 2]).derivative("q", 1, 0), ValueError, ["'kind'", "'w'"]),
    (lambda: SymbolicNetwork([2, 2]).derivative("w", 1, 0), ValueError, ["'w'", "2 unit index"]),
    (lambda: SymbolicNetwork([2, 2]).derivative("z", 2, 0), ValueError, ["'k'", "1..1", "got 2"]),
    (lambda: SymbolicNetwork([2, 2]).derivative("z", 1, 5), ValueError, ["z(1)", "0..1", "got 5"]),
    (lambda: SymbolicNetwork([2, 2], "tanh").backward_rules(), ValueError, ["generic activations"]),
    (lambda: SymbolicNetwork([1, 2, 1]).values(examples.tiny_network(), [1.0], [3.0]), ValueError,
     ["'net'", "widths"]),
    (lambda: SymbolicNetwork([1, 2, 1]).values("net", [1.0], [3.0]), TypeError, ["'net'", "ScalarNetwork"]),
    (lambda: SymbolicNetwork([1, 2, 1]).values(examples.two_relu_network(), [1.0, 2.0], [3.0]), ValueError,
     ["'x'"]),
    (lambda: SymbolicNetwork([1, 1]).evaluate(SymbolicNetwork([1, 1]).Div, {}), ValueError, ["'values'", "missing"]),
    (lambda: SymbolicNetwork.like([1, 2]), TypeError, ["'net'", "ScalarNetwork"]),
])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_repr():
    assert "generic" in repr(SymbolicNetwork([2, 1]))
    assert "tanh" in repr(SymbolicNetwork([2, 1], "tanh"))


def test_derivative_latex():
    s = SymbolicNetwork((1, 1))
    assert s.derivative_latex("z", 1, 0) == (r"\frac{\partial Div}{\partial z^{(1)}_{1}} = "
                                             r"\left(- d_{1} + y^{(1)}_{1}\right) f^{\prime}_{1}{\left(z^{(1)}_{1} \right)}")
    assert s.derivative_latex("w", 1, 0, 0).startswith(r"\frac{\partial Div}{\partial w^{(1)}_{11}} = x_{1}")
