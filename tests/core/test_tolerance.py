"""Tests backprop.core.tolerance: when two numbers agree (relative_error, agree, RTOL, ATOL)."""

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
import backprop.core.tolerance
from backprop.core import tolerance
from strategies import floats

FINITE = floats(-1e6, 1e6)


def test_the_course_tolerance():
    assert (tolerance.RTOL, tolerance.ATOL) == (1e-7, 1e-10)
    assert (backprop.core.tolerance.RTOL, backprop.core.tolerance.ATOL, backprop.core.tolerance.relative_error, bp.agree) == (
        tolerance.RTOL, tolerance.ATOL, tolerance.relative_error, tolerance.agree)


# -- relative_error ----------------------------------------------------------------------------
def test_relative_error_worked_values():
    np.testing.assert_allclose(backprop.core.tolerance.relative_error([1.0, 0.0, -2.0], [1.1, 0.0, 2.0]), [0.1 / 1.1, 0.0, 2.0])
    assert float(backprop.core.tolerance.relative_error(3.0, 4.0)) == 0.25  # |3 - 4| / 4
    assert float(backprop.core.tolerance.relative_error(0.0, 5.0)) == 1.0  # against 0: always 1
    assert float(backprop.core.tolerance.relative_error(1e-300, 0.0)) == 1.0  # relative error means nothing near 0: atol does


@settings(max_examples=100)
@given(a=floats(-1e3, 1e3), b=floats(-1e3, 1e3))
def test_relative_error_is_symmetric_and_bounded(a, b):
    e = float(backprop.core.tolerance.relative_error(a, b))
    assert e == float(backprop.core.tolerance.relative_error(b, a))
    assert 0.0 <= e <= 2.0
    if a * b > 0:  # the same sign: at most 1 (less, up to rounding)
        assert e <= 1.0


def test_relative_error_is_elementwise():
    e = backprop.core.tolerance.relative_error(np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert e.shape == (2, 2)
    np.testing.assert_array_equal(e, [[0.0, 0.5], [0.0, 2.0]])


# -- agree -----------------------------------------------------------------------------------------
def test_agree_within_the_relative_tolerance():
    assert bp.agree(1.0, 1.0 + 5e-8) and bp.agree(-3e5, -3e5 * (1 + 9e-8))
    assert not bp.agree(1.0, 1.0 + 2e-7) and not bp.agree(1.0, -1.0)
    assert bp.agree(1.0, 1.001, rtol=1e-2) and not bp.agree(1.0, 1.001, rtol=1e-4)


def test_agree_near_zero_uses_the_absolute_tolerance():
    """Where a relative error is rounding noise (both ~0), |a - b| <= ATOL = 1e-10 decides."""
    assert bp.agree(0.0, 0.0)
    assert bp.agree(0.0, 5e-11) and bp.agree(1e-11, -5e-11)  # relative error 1 and 6, yet they agree
    assert not bp.agree(0.0, 2e-10)
    assert bp.agree(0.0, 2e-10, atol=1e-9) and not bp.agree(0.0, 5e-11, atol=0.0)


@pytest.mark.parametrize("a, b", [
    (np.nan, 1.0), (1.0, np.nan), (np.nan, np.nan), (np.inf, np.inf), (-np.inf, -np.inf), (np.inf, 1e308),
    (np.inf, -np.inf), (0.0, np.nan),
])
def test_nan_and_infinities_never_agree(a, b):
    """Not even with themselves, and without a numpy warning (warnings are errors here)."""
    assert not bp.agree(a, b)
    assert not bp.agree(a, b, rtol=1.0, atol=np.inf)


def test_agree_is_elementwise():
    out = bp.agree(np.array([1.0, 0.0, np.nan, 2.0]), np.array([1.0 + 1e-9, 1e-11, np.nan, 3.0]))
    assert out.dtype == bool and out.tolist() == [True, True, False, False]
    assert bp.agree([[1.0], [2.0]], [1.0, 2.0]).shape == (2, 2)  # broadcast like numpy


@settings(max_examples=200)
@given(a=FINITE, b=FINITE)
def test_agree_is_symmetric(a, b):
    assert bool(bp.agree(a, b)) == bool(bp.agree(b, a))
    assert bool(bp.agree(a, b, rtol=1e-3, atol=1e-6)) == bool(bp.agree(b, a, rtol=1e-3, atol=1e-6))


@settings(max_examples=200)
@given(a=FINITE, b=FINITE)
def test_a_looser_tolerance_never_disagrees_where_a_tighter_one_agrees(a, b):
    if bp.agree(a, b):
        assert bp.agree(a, b, rtol=1e-5) and bp.agree(a, b, atol=1e-8)
    if not bp.agree(a, b, rtol=1e-5, atol=1e-8):
        assert not bp.agree(a, b)


@settings(max_examples=200)
@given(a=floats(1e-3, 1e3), b=floats(1e-3, 1e3))
def test_away_from_zero_agreement_is_relative(a, b):
    """Scaling both by a power of two (exact in binary) does not change whether they agree."""
    assert bool(bp.agree(a, b)) == bool(bp.agree(a * 2.0**20, b * 2.0**20)) == bool(bp.agree(-a / 8, -b / 8))


@settings(max_examples=100)
@given(a=FINITE)
def test_a_number_agrees_with_itself_and_with_a_nearby_rounding(a):
    assert bp.agree(a, a)
    assert bp.agree(a, np.nextafter(a, np.inf))
