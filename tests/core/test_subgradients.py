"""core/subgradients.py: the subgradient verdict, the randomised leaky ReLU, max as a router, kinks in checks.

Each rule has its three witnesses: SymPy (tests/symbolic/test_subgradients.py), finite differences over
at least FD_EXAMPLES float64 examples (hypothesis, here), and worked numbers (Poll 3, ReLU's central
difference of 1/2 at 0, the verdicts at 0, 1 and just outside).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core import subgradients as S
from strategies import FD_EXAMPLES, arrays, assert_explained, away_from, batches, floats


def test_reexported():
    for name in S.__all__:
        assert getattr(bp, name) is getattr(S, name)


# -- the verdict ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("slope, valid, side", [(-0.5, False, "left"), (-0.01, False, "left"), (0.0, True, ""),
                                                (0.5, True, ""), (1.0, True, ""), (1.01, False, "right"),
                                                (1.5, False, "right")])
def test_relu_verdict_on_the_grid_around_0_and_1(slope, valid, side):
    verdict = bp.subgradient_verdict(slope)
    assert (verdict.valid, verdict.side, verdict.low, verdict.high) == (valid, side, 0.0, 1.0)
    assert ("is a subgradient" in verdict.message) == valid
    if not valid:
        assert verdict.gap < 0  # at the witness point the line is above the ReLU
        assert float(S.line_gap(slope, verdict.witness_z)) == pytest.approx(verdict.gap)


@pytest.mark.parametrize("slope, valid", [(0.05, False), (0.09, False), (0.1, True), (0.7, True), (1.0, True),
                                          (1.01, False)])
def test_leaky_relu_verdict_uses_alpha_as_the_low_end(slope, valid):
    verdict = bp.subgradient_verdict(slope, alpha=0.1)
    assert verdict.valid == valid and verdict.low == 0.1
    assert "leaky ReLU (alpha = 0.1)" in verdict.message


@settings(max_examples=FD_EXAMPLES)
@given(slope=floats(-2, 3), alpha=floats(0, 0.9))
def test_verdict_agrees_with_the_line_on_a_dense_grid(slope, alpha):
    """A line through the corner is under the function everywhere iff it is on a grid of both sides."""
    assume(abs(slope - alpha) > 1e-9 and abs(slope - 1) > 1e-9)  # at the edges the grid's rounding decides
    z = np.concatenate([np.linspace(-5, -1e-3, 200), np.linspace(1e-3, 5, 200)])
    under = (S.line_gap(slope, z, alpha) >= 0).all()
    assert bp.subgradient_verdict(slope, alpha).valid == under


def test_verdict_messages_never_show_minus_zero():
    assert "-0" not in bp.subgradient_verdict(-0.01).message.replace("-0.01", "")


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.subgradient_verdict("steep"), TypeError, ["'slope'", "real number"]),
    (lambda: bp.subgradient_verdict(0.5, alpha=1.5), ValueError, ["'alpha'", "slope for z < 0"]),
    (lambda: S.line_gap(0.5, "z"), TypeError, ["'z'"]),
])
def test_bad_verdict_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


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
    assert bp.max_routing(z).tolist() == [0, 0, 1]
    assert bp.max_backward(np.array(2.0), z).tolist() == [0.0, 0.0, 2.0]


def test_max_tie_rule_routes_everything_to_the_first_tied_input():
    z = np.array([[3.0, 1.0, 3.0], [0.5, 0.5, 0.5], [-1.0, -4.0, -1.0]])
    assert bp.max_routing(z).tolist() == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]
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
    routing = bp.max_routing(z)
    assert routing.sum() == 1 and routing[min(tied)] == 1  # all on the first tied input
    # a subgradient of max: max(z + v) >= max(z) + routing . v for every direction v
    for v in np.random.default_rng(0).normal(size=(20, 4)):
        assert bp.max_forward(z + v) >= bp.max_forward(z) + routing @ v - 1e-12


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.max_forward(3.0), ValueError, ["'z'", "vector"]),
    (lambda: bp.max_backward(np.ones(3), np.ones((2, 4))), ValueError, ["'dy'", "(2,)"]),
    (lambda: bp.max_routing("z"), TypeError, ["'z'"]),
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


# -- central differences at a kink ------------------------------------------------------------------------
def test_relu_central_difference_at_its_kink_is_one_half():
    relu = bp.ReLU()
    for h in (1e-1, 1e-4, 1e-7):
        assert float((relu.forward(np.array(h)) - relu.forward(np.array(-h))) / (2 * h)) == 0.5


def test_straddles_kink_is_the_closed_interval_of_width_2h():
    z = np.array([0.0, 4e-6, -1e-5, 1.5e-5, 2.0, 1.0 + 5e-6])
    assert bp.straddles_kink(z, [0.0], 1e-5).tolist() == [True, True, True, False, False, False]
    assert bp.straddles_kink(z, [0.0, 1.0], 1e-5).tolist() == [True, True, True, False, False, True]
    assert not bp.straddles_kink(z, [], 1e-5).any()


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: bp.straddles_kink([0.0], [0.0], 0.0), ValueError, ["'h'", "positive"]),
    (lambda: bp.straddles_kink([0.0], [[0.0]], 1e-5), ValueError, ["'kinks'"]),
])
def test_bad_straddle_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- the census ---------------------------------------------------------------------------------------------
def test_kink_census_counts_exact_zeros_and_dead_units():
    rng = np.random.default_rng(0)
    net = bp.mlp([2, 3, 1], ["relu", "identity"], rng=rng)
    params = net.parameters()
    params["W(1)"][:] = [[1.0, 0.0], [-1.0, -1.0], [0.5, -0.5]]
    params["b(1)"][:] = [0.0, -1.0, 0.0]
    X = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 1.0]])  # z(1)_1 = 0 on row 1; unit 2 dead; z(1)_3 = 0 on row 2
    census = bp.kink_census(net, X)
    assert census.exact_zeros == {"y(1)": 2} and census.entries == {"y(1)": 9}
    assert census.dead == {"y(1)": 1} and census.units == {"y(1)": 3}
    assert census.totals() == (2, 9, 1, 3)
    assert bp.dead_relu_fraction(net, X) == {"y(1)": pytest.approx(1 / 3)}  # the same dead units


def test_kink_census_refuses_a_stranger():
    assert_explained(lambda: bp.kink_census("net", np.zeros((1, 2))), TypeError, ["'net'", "Network"])
