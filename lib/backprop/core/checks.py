"""Argument checks at the library's public boundary, each written once.

Every public function validates what the user passed *before* numpy sees it, so a
mistake surfaces as a ``ValueError`` or ``TypeError`` that names the argument, says
what was expected and shows what came -- never as a broadcasting error three calls
deep.  Checks that cost a pass over the data (finiteness, ranges, label values)
run once, where data enters (a network's input, a divergence's target, a training
set); the rules inside then trust what they are given.  Checks that cost nothing
(types, shapes) run in every public method.
"""

from __future__ import annotations

import numbers
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "check_range",
    "describe",
    "as_array",
    "check_same_shape",
    "check_positive_int",
    "check_real",
    "check_positive",
    "check_rng",
    "check_in_interval",
    "check_choice",
    "check_labels",
]


def describe(value) -> str:
    """A short description of what came: its type, and its shape for arrays."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        try:
            shape = np.shape(value)
        except ValueError:  # ragged
            return f"ragged {type(value).__name__} of length {len(value)}"
        return f"{type(value).__name__} of shape {shape}"
    if isinstance(value, str):
        return f"str {value!r}"
    if isinstance(value, (numbers.Number, np.generic)):
        return f"{type(value).__name__} {value!r}"
    return f"{type(value).__name__}"


def as_array(
    value,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    meaning: str | None = None,
    finite: bool = True,
    dtype=np.float64,
) -> np.ndarray:
    """Convert ``value`` to a float64 array, checking its dimensions and finiteness.

    ``ndim`` is an int or a tuple of allowed ints; ``meaning`` describes the
    expected layout in the lecture's notation (e.g. ``"(B, width_k)"``) and is
    quoted in the error.  Object arrays (e.g. of SymPy expressions) are passed
    through untouched so the library's rules can be evaluated symbolically.
    """
    if isinstance(value, np.ndarray) and value.dtype == object:
        arr = value
    else:
        if isinstance(value, (str, bytes)) or value is None:
            raise TypeError(
                f"argument '{name}' expected a numeric array"
                f"{' ' + meaning if meaning else ''}, got {describe(value)}"
            )
        try:
            arr = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"argument '{name}' expected a numeric array"
                f"{' ' + meaning if meaning else ''}, got {describe(value)}"
            ) from exc
        if arr.dtype == object:  # pragma: no cover - asarray(dtype=float) never gives object
            raise TypeError(f"argument '{name}' expected a numeric array, got {describe(value)}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            dims = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"argument '{name}' expected a {dims} array"
                f"{' ' + meaning if meaning else ''}, got {arr.ndim}-D of shape {arr.shape}"
            )
    if finite and arr.dtype != object:
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" at index {first}" if arr.ndim else ""
            raise ValueError(
                f"argument '{name}' expected finite values, got {int(bad.sum())} "
                f"non-finite value(s), the first {arr[first] if arr.ndim else arr}{where}"
            )
    return arr


def check_same_shape(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Raise ``ValueError`` unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"argument '{b_name}' expected the shape of '{a_name}' {a.shape}, got {b.shape}"
        )


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"argument '{name}' expected a positive integer, got {describe(value)}")
    if value < 1:
        raise ValueError(f"argument '{name}' expected a positive integer, got {value}")
    return int(value)


def check_real(value, name: str) -> float:
    """Return ``value`` as a finite float, or raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"argument '{name}' expected a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"argument '{name}' expected a finite real number, got {value}")
    return value


def check_positive(value, name: str, what: str = "a number") -> float:
    """Return ``value`` as a finite float > 0, or raise naming the argument and what it is (``what``)."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"argument '{name}' expected {what} > 0, got {value:g}")
    return value


def check_rng(rng, why: str = "") -> "np.random.Generator":
    """Return ``rng`` if it is a ``numpy.random.Generator`` (randomness is always passed explicitly)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"argument 'rng' expected a numpy.random.Generator{' (' + why + ')' if why else ''}, "
                        f"got {describe(rng)}")
    return rng


def check_in_interval(value, name: str, low: float, high: float, why: str = "") -> float:
    """Return ``value`` as a float in the closed interval [low, high], or raise."""
    value = check_real(value, name)
    if not low <= value <= high:
        raise ValueError(
            f"argument '{name}' expected a number in [{low:g}, {high:g}]{' (' + why + ')' if why else ''}, got {value:g}"
        )
    return value


def check_range(value, name: str) -> tuple[float, float]:
    """A slider's range: a pair of real numbers (low, high) with low < high."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"argument '{name}' expected a pair (low, high), got {describe(value)}")
    low, high = (check_real(v, name) for v in value)
    if not low < high:
        raise ValueError(f"argument '{name}' expected (low, high) with low < high, got {tuple(value)}")
    return low, high


def check_choice(value, name: str, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise listing them."""
    options = sorted(options)
    if not isinstance(value, str):
        raise TypeError(f"argument '{name}' expected one of {options}, got {describe(value)}")
    if value not in options:
        raise ValueError(f"argument '{name}' expected one of {options}, got {value!r}")
    return value


def check_labels(labels, name: str, num_classes: int) -> np.ndarray:
    """Integer class labels in ``range(num_classes)``, as an int64 array of shape (B,)."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "f" and arr.size:
            bad = arr.ravel()[~(np.isfinite(arr.ravel()) & (arr.ravel() == np.round(arr.ravel())))][0]
            raise TypeError(
                f"argument '{name}' expected integer class labels of shape (B,) (a label is a class number), "
                f"got the non-integer value {bad:g} in {describe(labels)}"
            )
        else:
            raise TypeError(
                f"argument '{name}' expected integer class labels of shape (B,), got {describe(labels)}"
            )
    if arr.ndim != 1:
        raise ValueError(f"argument '{name}' expected integer class labels of shape (B,), got shape {arr.shape}")
    bad = (arr < 0) | (arr >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"argument '{name}' expected labels in 0..{num_classes - 1}, got {arr[i]} at index {i}"
        )
    return arr.astype(np.int64)
