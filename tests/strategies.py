"""Hypothesis strategies and helpers shared by the test files."""

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: every finite-difference witness runs at least this many examples per rule
FD_EXAMPLES = 200
#: the finite-difference witness: float64 relative error at most this
RTOL = 1e-7


def floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=floats(low, high))


def batch_shapes(max_batch=4, max_width=5, min_width=1):
    """(B, width) with B in 1..max_batch and width in min_width..max_width."""
    return st.tuples(st.integers(1, max_batch), st.integers(min_width, max_width))


def batches(low=-3.0, high=3.0, **shape_kw):
    return batch_shapes(**shape_kw).flatmap(lambda s: arrays(s, low, high))


def away_from(values, points, margin):
    """True when no entry is within ``margin`` of any of ``points``."""
    values = np.asarray(values)
    return all(np.all(np.abs(values - p) > margin) for p in points)


def assert_gradients(report):
    """Fail with the checker's own explanation (which entry, both values, the error)."""
    assert report.passed, str(report)
    assert report.entries, "the check compared nothing"


def assert_explained(call, exc, fragments):
    """``call()`` raises ``exc`` from the library's own checks, and its message holds every fragment
    (the argument's name, what was expected, what came)."""
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # raised by the library's own checks, not by numpy deep inside
    assert info.traceback[-1].path.parts[-2] == "backprop", f"raised in {info.traceback[-1].path}"
