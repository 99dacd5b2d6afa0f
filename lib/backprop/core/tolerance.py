"""When two numbers agree: one tolerance for the whole course.

The gradient checker (backprop against central differences), the grader (a
student's answer against the reference) and the tests all ask the same question,
so they share one answer:

    |a - b| <= max(atol, rtol * max(|a|, |b|))

a relative error of at most ``rtol`` (1e-7: what float64 central differences
resolve on the course's functions), or, for entries so close to 0 that a relative
error is rounding noise, an absolute error of at most ``atol`` (1e-10).  NaN and
infinities never agree with anything.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RTOL", "ATOL", "relative_error", "agree"]

#: the relative tolerance: float64 central differences resolve about 1e-9..1e-8 on the course's functions
RTOL = 1e-7
#: the absolute tolerance, for entries too close to 0 for a relative error to mean anything
ATOL = 1e-10


def relative_error(a, b) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a|, |b|)``: 0 where both are 0, inf where either is NaN or infinite."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        diff = np.abs(a - b)
        error = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    return np.where(np.isfinite(a) & np.isfinite(b), error, np.inf)


def agree(a, b, rtol: float = RTOL, atol: float = ATOL) -> np.ndarray:
    """Elementwise: ``|a - b| <= max(atol, rtol * max(|a|, |b|))``, False wherever either is not finite."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        return np.isfinite(a) & np.isfinite(b) & (diff <= np.maximum(atol, rtol * np.maximum(np.abs(a), np.abs(b))))
