"""Tests backprop.core.activations: every rule with three witnesses (SymPy, finite differences, worked numbers)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.activations import ACTIVATIONS, Tanh, max_routing
import backprop.symbolic as sym
from backprop.core.activations import tempered_softmax
from strategies import FD_EXAMPLES, RTOL, arrays, assert_explained, assert_gradients, away_from, batches, floats

SCALAR = {
    "identity": bp.Identity(),
    "sigmoid": bp.Sigmoid(),
    "tanh": Tanh(),
    "relu": bp.ReLU(),
    "leaky_relu": bp.LeakyReLU(alpha=0.1),
}


# -- witness 1: SymPy ----------------------------------------------------------------
@pytest.mark.parametrize(
    "rule", ["identity", "sigmoid", "tanh", "relu", "relu_subgradient", "relu_other_subgradient", "leaky_relu",
             "leaky_relu_subgradient", "softmax", "softmax_jacobian", "softmax_backward"],
)
def test_rule_equals_sympy(rule):
    check = sym.verify(rule)
    assert check.ok, str(check)


# -- witness 2: central differences, float64, hypothesis ------------------------------------
# A scalar activation's backward is dDiv/dy * derivative(z) (Activation.backward, shared by all five), so this
# one central-difference witness checks each derivative and the product with the upstream gradient at once.
@pytest.mark.parametrize("name", sorted(SCALAR))
@settings(max_examples=FD_EXAMPLES)
@given(z=batches(-6.0, 6.0), seed=st.integers(0, 2**32 - 1))
def test_scalar_backward_matches_finite_differences(name, z, seed):
    act = SCALAR[name]
    assume(away_from(z, act.kinks, 1e-3))
    dy = np.random.default_rng(seed).normal(size=z.shape)
    x = z.copy()
    report = bp.check_gradients(lambda: float((dy * act.forward(x)).sum()), {"z": x}, {"z": act.backward(dy, z)},
                                rtol=RTOL)
    assert_gradients(report)


@settings(max_examples=FD_EXAMPLES)
@given(z=arrays(st.integers(1, 6).map(lambda n: (n,)), -5.0, 5.0))
def test_softmax_jacobian_matches_finite_differences(z):
    x = z.copy()
    J = bp.Softmax().jacobian(z)
    for i in range(len(z)):  # row i of J is the gradient of y_i
        report = bp.check_gradients(lambda: bp.Softmax().forward(x)[i], {"z": x}, {"z": J[i]}, rtol=RTOL)
        assert_gradients(report)


# softmax's backward against central differences: the Jacobian above is, and the backward is dy J (below)
@settings(max_examples=FD_EXAMPLES)
@given(z=batches(-5.0, 5.0), seed=st.integers(0, 2**32 - 1))
def test_softmax_backward_is_row_vector_times_jacobian(z, seed):
    dy = np.random.default_rng(seed).normal(size=z.shape)
    J = bp.Softmax().jacobian(z)
    np.testing.assert_allclose(bp.Softmax().backward(dy, z), np.einsum("bi,bij->bj", dy, J), rtol=1e-12, atol=1e-15)


# -- witness 3: worked numbers and stated conventions -----------------------------------------
def test_worked_values():
    z = np.array([-2.0, 0.0, 1.0])
    np.testing.assert_allclose(bp.Sigmoid().forward(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    # sigma(1)(1 - sigma(1)): notebook 02's shortcut through the sigmoid gate
    assert round(float(bp.Sigmoid().derivative(1.0)), 2) == bp.examples.SIGMOID_NEURON["numbers"]["shortcut"]
    assert float(bp.Sigmoid().derivative(1.0)) == pytest.approx(np.exp(-1) / (1 + np.exp(-1)) ** 2, rel=1e-14)
    np.testing.assert_array_equal(bp.ReLU().forward(z), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(bp.LeakyReLU(alpha=0.1).forward(z), [-0.2, 0.0, 1.0])
    np.testing.assert_allclose(Tanh().derivative(0.0), 1.0)
    np.testing.assert_allclose(bp.Softmax().forward(np.log([1.0, 2.0, 5.0])), [0.125, 0.25, 0.625], rtol=1e-15)


def test_relu_subgradient_convention_is_configurable():
    assert float(bp.ReLU().derivative(0.0)) == 0.0
    assert float(bp.ReLU(subgradient_at_zero=0.5).derivative(0.0)) == 0.5
    assert float(bp.ReLU(subgradient_at_zero=1.0).derivative(0.0)) == 1.0
    assert float(bp.LeakyReLU(alpha=0.1).derivative(0.0)) == pytest.approx(0.1)
    np.testing.assert_array_equal(bp.ReLU().derivative(np.array([-1e-300, 1e-300])), [0.0, 1.0])
    assert bp.ReLU(subgradient_at_zero=0.3) != bp.ReLU()


def test_finite_difference_at_the_relu_kink_is_one_half_and_flagged():
    report = bp.check_derivative(bp.ReLU().forward, bp.ReLU().derivative, np.array([0.0, 2.0]), kinks=(0.0,))
    kink, smooth = report.entries
    assert kink.status == "kink" and kink.numeric == pytest.approx(0.5) and kink.analytic == 0.0
    assert smooth.status == "ok"
    assert report.passed  # a kink is reported, not failed


def test_scalar_jacobian_is_diagonal():
    z = np.array([[-1.0, 0.5, 2.0]])
    J = Tanh().jacobian(z)
    assert J.shape == (1, 3, 3)
    np.testing.assert_allclose(J[0], np.diag(1 / np.cosh(z[0]) ** 2), rtol=1e-14)  # tanh' = sech^2


def test_softmax_jacobian_rows_sum_to_zero_and_is_symmetric():
    z = np.linspace(-1.0, 2.0, 4)
    J = bp.Softmax().jacobian(z)
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(J, J.T)


def test_stable_at_extreme_inputs():
    z = np.array([-800.0, 800.0])
    np.testing.assert_array_equal(bp.Sigmoid().forward(z), [0.0, 1.0])  # no overflow warning (warnings are errors)
    np.testing.assert_allclose(bp.Softmax().forward(np.array([1000.0, 1000.0])), [0.5, 0.5])
    np.testing.assert_allclose(bp.Softmax().forward(np.array([1000.0, 0.0])), [1.0, 0.0])


@settings(max_examples=50)
@given(z=batches(-5.0, 5.0), shift=st.floats(-50, 50))
def test_softmax_is_shift_invariant_and_a_distribution(z, shift):
    y = bp.Softmax().forward(z)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(bp.Softmax().forward(z + shift), y, rtol=1e-9, atol=1e-15)


def test_registry_and_options():
    assert sorted(ACTIVATIONS) == ["identity", "leaky_relu", "relu", "sigmoid", "softmax", "tanh"]
    assert bp.get_activation("leaky_relu", alpha=0.2).alpha == 0.2
    act = Tanh()
    assert bp.get_activation(act) is act
    with pytest.raises(TypeError, match="elementwise"):
        bp.Softmax().derivative(np.zeros(3))


def test_relu_derivative_is_a_float_array():
    """The derivative is a number per entry (1, alpha or the stated subgradient), never a boolean mask."""
    for act, expected in ((bp.ReLU(), [0.0, 0.0, 1.0]), (bp.LeakyReLU(alpha=0.1), [0.1, 0.1, 1.0]),
                          (bp.ReLU(subgradient_at_zero=0.5), [0.0, 0.5, 1.0])):
        slope = act.derivative(np.array([-2.0, 0.0, 3.0]))
        assert slope.dtype == np.float64
        np.testing.assert_allclose(slope, expected, rtol=1e-15)
    assert bp.ReLU().derivative(np.array([1, 0, -2])).dtype == np.float64  # integer input, float slopes


def test_values_are_not_scanned_nan_in_gives_nan_out():
    """Types and shapes are checked; values are not (the network checks its data once, where it enters)."""
    z = np.array([np.nan, 1.0])
    for act in (bp.Sigmoid(), Tanh(), bp.ReLU(), bp.LeakyReLU(alpha=0.1), bp.Identity()):
        assert np.isnan(act.forward(z)[0]) and np.isfinite(act.forward(z)[1])
    for act in (bp.Sigmoid(), Tanh()):  # derivatives computed from y carry the NaN on
        assert np.isnan(act.derivative(z)[0]) and np.isnan(act.backward(np.ones(2), z)[0])
    assert np.isnan(bp.Softmax().forward(z)).all()  # one NaN reaches every output of a vector activation


def test_activations_take_the_numpy_namespace_explicitly():
    z = np.array([[-1.0, 2.0]])
    for act in (bp.Sigmoid(), Tanh(), bp.ReLU(), bp.LeakyReLU(alpha=0.2), bp.Identity()):
        np.testing.assert_array_equal(act.forward(z, xp=np), act.forward(z))
        np.testing.assert_array_equal(act.derivative(z, xp=np), act.derivative(z))
        np.testing.assert_array_equal(act.backward(z, z, xp=np), act.backward(z, z))
    y = bp.Sigmoid().forward(z)
    np.testing.assert_array_equal(bp.Sigmoid().derivative(z, y), bp.Sigmoid().derivative(z))  # y given: not recomputed


# -- the randomised leaky ReLU --------------------------------------------------------------------------
def test_rrelu_draws_one_slope_per_unit_from_the_generator_and_evaluates_at_the_mean():
    rrelu = bp.RandomizedLeakyReLU(lower=0.125, upper=0.375)
    a = rrelu.draw(np.random.default_rng(0), 5)
    b = rrelu.draw(np.random.default_rng(0), 5)
    assert a == b and a.training and not rrelu.training
    assert a.slopes.shape == (5,) and ((a.slopes >= 0.125) & (a.slopes <= 0.375)).all()
    assert rrelu.mean_slope == 0.25
    z = np.array([-2.0, -1.0, 0.0, 1.5, 3.0])
    assert np.array_equal(a.forward(z), np.where(z > 0, z, a.slopes * z))
    assert np.array_equal(a.derivative(z), np.where(z > 0, 1.0, a.slopes))  # at 0: the unit's own slope
    assert np.array_equal(a.evaluation().forward(z), np.where(z > 0, z, 0.25 * z))
    batch = np.stack([z, -z])
    assert np.array_equal(a.backward(np.ones_like(batch), batch), a.derivative(batch))


def test_rrelu_worked_numbers():
    rrelu = bp.RandomizedLeakyReLU(0.2, 0.4, slopes=[0.25, 0.3])
    assert rrelu.forward(np.array([-2.0, 4.0])).tolist() == [-0.5, 4.0]
    assert rrelu.derivative(np.array([-2.0, 0.0])).tolist() == [0.25, 0.3]
    assert bp.RandomizedLeakyReLU(0.2, 0.4).forward(np.array([-1.0])).tolist() == [pytest.approx(-0.3)]


@settings(max_examples=FD_EXAMPLES)
@given(z=batches(-3, 3, max_width=4), seed=st.integers(0, 2**32 - 1))
def test_rrelu_derivative_against_central_differences(z, seed):
    assume(away_from(z, [0.0], 1e-3))
    act = bp.RandomizedLeakyReLU().draw(np.random.default_rng(seed), z.shape[1])
    report = bp.check_derivative(act.forward, act.derivative, z, kinks=act.kinks)
    assert report.passed and not report.kinks, str(report)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.RandomizedLeakyReLU(0.5, 0.2), ValueError, ["'upper'", ">= lower"]),
    (lambda: bp.RandomizedLeakyReLU(slopes=[0.9]), ValueError, ["'slopes'", "[lower, upper]"]),
    (lambda: bp.RandomizedLeakyReLU().draw(0, 3), TypeError, ["'rng'", "Generator"]),
    (lambda: bp.RandomizedLeakyReLU().draw(np.random.default_rng(0), 0), ValueError, ["'width'"]),
    (lambda: bp.RandomizedLeakyReLU(slopes=[0.2, 0.2]).forward(np.zeros(3)), ValueError, ["'z'", "width 2"]),
])
def test_bad_rrelu_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- max ------------------------------------------------------------------------------------------------
def test_poll_3_worked_numbers():
    z = np.array([1.0, 2.0, 3.0])
    assert float(bp.max_forward(z)) == 3.0
    assert max_routing(z).tolist() == [0, 0, 1]
    assert bp.max_backward(np.array(2.0), z).tolist() == [0.0, 0.0, 2.0]


def test_max_tie_rule_routes_everything_to_the_first_tied_input():
    z = np.array([[3.0, 1.0, 3.0], [0.5, 0.5, 0.5], [-1.0, -4.0, -1.0]])
    assert max_routing(z).tolist() == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]
    dz = bp.max_backward(np.array([1.5, -2.0, 1.0]), z)
    assert dz.tolist() == [[1.5, 0.0, 0.0], [-2.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    assert not np.signbit(dz).any() or (dz[np.signbit(dz)] != 0).all()  # no -0 entries
    # the same rule as the graph's max gate: on a tie, the first input
    a, b = bp.Value(2.0), bp.Value(2.0)
    bp.maximum(a, b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


@settings(max_examples=FD_EXAMPLES)
@given(z=batches(-3, 3, min_width=1, max_width=5), dy=st.floats(-3, 3, width=64))
def test_max_backward_against_central_differences(z, dy):
    """Away from ties the routing is the derivative: check it with a finite difference of dy * max."""
    ordered = np.sort(z, axis=1)
    assume(z.shape[1] == 1 or (ordered[:, -1] - ordered[:, -2] > 1e-3).all())
    dY = np.full(z.shape[0], dy)
    x = z.copy()
    grads = {"z": bp.max_backward(dY, x)}
    report = bp.check_gradients(lambda: float((dY * bp.max_forward(x)).sum()), {"z": x}, grads)
    assert report.passed, str(report)


@settings(max_examples=FD_EXAMPLES)
@given(z=arrays((4,), -2, 2), tied=st.lists(st.integers(0, 3), min_size=2, max_size=4, unique=True))
def test_max_routing_at_a_tie_is_a_valid_subgradient(z, tied):
    z = z.copy()
    z[tied] = z.max() + 1.0
    routing = max_routing(z)
    assert routing.sum() == 1 and routing[min(tied)] == 1  # all on the first tied input
    # a subgradient of max: max(z + v) >= max(z) + routing . v for every direction v
    for v in np.random.default_rng(0).normal(size=(20, 4)):
        assert bp.max_forward(z + v) >= bp.max_forward(z) + routing @ v - 1e-12


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.max_forward(3.0), ValueError, ["'z'", "vector"]),
    (lambda: bp.max_backward(np.ones(3), np.ones((2, 4))), ValueError, ["'dy'", "(2,)"]),
    (lambda: max_routing("z"), TypeError, ["'z'"]),
])
def test_bad_max_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- max over subsets (pooling) ------------------------------------------------------------------------------
POOL = [[0, 1, 2], [2, 3, 4]]  # two max units over overlapping subsets of 5 inputs: input 3 (index 2) is shared


def test_max_pool_worked_numbers_route_each_unit_to_its_own_winner():
    z = np.array([1.0, 4.0, 2.0, 0.0, 3.0])
    assert bp.max_pool_forward(z, POOL).tolist() == [4.0, 3.0]
    assert bp.max_pool_backward(np.array([1.0, -2.0]), z, POOL).tolist() == [0.0, 1.0, 0.0, 0.0, -2.0]
    shared = np.array([1.0, 2.0, 5.0, 0.0, 3.0])  # the shared input wins both subsets: it adds up both terms
    assert bp.max_pool_backward(np.array([1.0, -2.0]), shared, POOL).tolist() == [0.0, 0.0, -1.0, 0.0, 0.0]


@settings(max_examples=FD_EXAMPLES)
@given(z=batches(-3, 3, min_width=5, max_width=5), dy=arrays((2,), -3, 3))
def test_max_pool_backward_against_central_differences(z, dy):
    for s in POOL:  # away from ties within each subset the routing is the derivative
        ordered = np.sort(z[:, s], axis=1)
        assume((ordered[:, -1] - ordered[:, -2] > 1e-3).all())
    dY = np.tile(dy, (z.shape[0], 1))
    x = z.copy()
    report = bp.check_gradients(lambda: float((dY * bp.max_pool_forward(x, POOL)).sum()), {"z": x},
                                {"z": bp.max_pool_backward(dY, x, POOL)})
    assert report.passed, str(report)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.max_pool_forward(np.ones(3), []), ValueError, ["'subsets'", "non-empty"]),
    (lambda: bp.max_pool_forward(np.ones(3), [[0, 3]]), ValueError, ["'subsets'", "0..2", "[0, 3]"]),
    (lambda: bp.max_pool_forward(np.ones(3), [[1, 1]]), ValueError, ["'subsets'", "distinct"]),
    (lambda: bp.max_pool_forward(np.ones(3), [[0.5]]), ValueError, ["'subsets'", "subset 0"]),
    (lambda: bp.max_pool_backward(np.ones(3), np.ones(3), POOL[:1]), ValueError, ["'dy'", "(1,)"]),
])
def test_bad_max_pool_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- the rule: y = softmax(z / T), J[i, j] = dy_i/dz_j = y_i (delta_ij - y_j) / T -----------------------------------
def test_tempered_softmax_worked_numbers():
    y, J = tempered_softmax(bp.examples.SOFTMAX_HAND["z"], 1.0)
    assert np.allclose(y, [1 / 6, 1 / 3, 1 / 2])
    assert np.allclose(36 * J, bp.examples.SOFTMAX_HAND["numbers"]["jacobian_36ths"])
    y2, J2 = tempered_softmax(bp.examples.SOFTMAX_HAND["z"], 2.0)  # softmax(z / 2) of (0, ln 2, ln 3): e^(z/2) = (1, sqrt 2, sqrt 3)
    e = np.array([1.0, math.sqrt(2.0), math.sqrt(3.0)])
    assert np.allclose(y2, e / e.sum())
    assert np.allclose(J2, (np.diag(y2) - np.outer(y2, y2)) / 2)


@settings(max_examples=FD_EXAMPLES, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: arrays((n,), -5.0, 5.0)), floats(0.2, 5.0))
def test_tempered_jacobian_against_finite_differences(z, temperature):
    z = z.copy()
    _, J = tempered_softmax(z, temperature)
    numeric = bp.numerical_jacobian(lambda: tempered_softmax(z, temperature)[0], z, order=4)  # row i: dy_i/dz
    assert (bp.agree(numeric, J) | np.isclose(numeric, J, rtol=0, atol=1e-9)).all()


def test_tempered_jacobian_symbolically():
    import sympy as sp

    zs, t = sp.symbols("z_1:4", real=True), sp.Symbol("T", positive=True)
    y = [sp.exp(v / t) / sum(sp.exp(u / t) for u in zs) for v in zs]
    at = {zs[0]: 0.3, zs[1]: -1.2, zs[2]: 2.0, t: 0.7}
    _, J = tempered_softmax([0.3, -1.2, 2.0], 0.7)
    exact = np.array([[float(sp.diff(y[i], zs[j]).subs(at)) for j in range(3)] for i in range(3)])  # [i, j] = dy_i/dz_j
    assert bp.agree(J, exact).all()


def test_tempered_softmax_explains_bad_arguments():
    assert_explained(lambda: tempered_softmax([1.0, 2.0], 0.0), ValueError, ["temperature", "> 0"])
    assert_explained(lambda: tempered_softmax([[1.0, 2.0]], 1.0), ValueError, ["'z'", "vector"])
    assert_explained(lambda: tempered_softmax([], 1.0), ValueError, ["'z'", "at least one"])
