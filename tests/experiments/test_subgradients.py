"""experiments/subgradients.py: the subgradient verdict, the randomised leaky ReLU, max as a router, kinks in checks.

Each rule has its three witnesses: SymPy (tests/symbolic/test_subgradients.py), finite differences over
at least FD_EXAMPLES float64 examples (hypothesis, here), and worked numbers (Poll 3, ReLU's central
difference of 1/2 at 0, the verdicts at 0, 1 and just outside).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

import backprop as bp
from backprop.experiments import subgradients as S
from strategies import FD_EXAMPLES, assert_explained, floats


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


def test_kink_census_refuses_a_stranger():
    assert_explained(lambda: bp.kink_census("net", np.zeros((1, 2))), TypeError, ["'net'", "Network"])
