"""Gradient checking: an analytic gradient against central differences, in float64.

The textbook estimate of dL/dp for one entry p is the central difference
``(L(p + h) - L(p - h)) / 2h`` (``order=2``).  Its error is about h^2 |d^3L/dp^3| / 6
from truncation plus eps |L| / h from rounding: near 1e-10 for gentle functions,
but up to 1e-7 where the curvature is high (a log near 0).  The checks therefore
default to the fourth-order central difference (``order=4``),
``(L(p - 2h) - 8 L(p - h) + 8 L(p + h) - L(p + 2h)) / 12h``, whose truncation error
is O(h^4), so a larger step (1e-4) keeps rounding small too: it resolves about
1e-11 |L| absolutely.  In float32 either is useless, so
every parameter must be float64 or the check refuses to run.

An entry passes when its relative error ``|analytic - numeric| / max(|analytic|, |numeric|)``
is at most ``rtol`` (1e-7), or, for entries so small that rounding dominates, its
absolute error is at most ``atol`` (1e-10).
Near a kink (ReLU at 0, a tie in a max) the two sides of the difference see
different slopes, so the estimate is meaningless there: such entries are
reported as ``"kink"``, not failed.  An entry is at a kink when moving it by
the stencil's steps changes the *kink signature* (e.g. which units are active).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable, Mapping

import numpy as np

from ._checks import as_array, check_real, describe

__all__ = [
    "relative_error",
    "numerical_gradient",
    "EntryCheck",
    "GradientReport",
    "check_gradients",
    "check_derivative",
]


def relative_error(a, b) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a|, |b|)``, and 0 where both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    return np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)


#: default steps: balance truncation (h^order) against rounding (eps |L| / h)
DEFAULT_STEP = {2: 1e-5, 4: 1e-4}


def _check_h(h, order) -> float:
    if h is None:
        return DEFAULT_STEP[order]
    h = check_real(h, "h")
    if not 0 < h < 1:
        raise ValueError(f"argument 'h' expected a step in (0, 1), typically 1e-5 (order 2) or 1e-4 (order 4), got {h:g}")
    return h


#: central-difference stencils: (multiple of h, weight); estimate = sum(weight * f(p + m h)) / h
STENCILS = {
    2: ((-1, -1 / 2), (1, 1 / 2)),
    4: ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12)),
}


def _check_order(order) -> tuple:
    if isinstance(order, bool) or order not in STENCILS:
        raise ValueError(f"argument 'order' expected 2 or 4 (the central-difference order), got {order!r}")
    return STENCILS[order]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float | None = None, order: int = 2) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to the float64 array ``x``.

    ``f`` takes no argument and reads ``x``, which is perturbed in place one entry
    at a time and restored exactly.  ``order=2``: ``(f(x+h) - f(x-h)) / 2h``;
    ``order=4``: the fourth-order stencil.  Returns an array shaped like ``x``.
    """
    _require_float64(x, "x")
    stencil = _check_order(order)
    h = _check_h(h, order)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        grad[idx] = _difference_at(f, x, idx, h, stencil)[0]
    return grad


def _difference_at(f, x, idx, h, stencil, signature=None):
    """The stencil's estimate for entry ``idx`` of ``x``, and whether ``signature()`` changed."""
    old = x[idx]
    base = signature() if signature else None
    total, crossed = 0.0, False
    try:
        for m, weight in stencil:
            x[idx] = old + m * h
            total += weight * float(f())
            if signature:
                crossed |= signature() != base
    finally:
        x[idx] = old  # restored exactly, even if f raises
    return total / h, crossed


def _require_float64(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"argument '{name}' expected a float64 numpy array (perturbed in place), got {describe(x)}")
    if x.dtype != np.float64:
        raise TypeError(
            f"argument '{name}' expected dtype float64 (gradient checks in lower precision are meaningless), "
            f"got {x.dtype}"
        )


@dataclass(frozen=True)
class EntryCheck:
    """One checked entry: which parameter and index, both values, their error, a verdict."""

    parameter: str
    index: tuple
    analytic: float
    numeric: float
    relative_error: float
    status: str  # "ok", "FAIL" or "kink"

    def __str__(self) -> str:
        where = f"{self.parameter}[{', '.join(map(str, self.index))}]" if self.index else self.parameter
        return (
            f"{where}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, "
            f"relative error {self.relative_error:.2e} -> {self.status}"
        )


@dataclass
class GradientReport:
    """The result of a gradient check; ``str(report)`` explains it, ``assert_ok()`` enforces it."""

    entries: list[EntryCheck] = field(default_factory=list)
    rtol: float = 1e-7
    atol: float = 1e-10

    @property
    def failures(self) -> list[EntryCheck]:
        return [e for e in self.entries if e.status == "FAIL"]

    @property
    def kinks(self) -> list[EntryCheck]:
        return [e for e in self.entries if e.status == "kink"]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def worst(self) -> EntryCheck | None:
        """The checked (non-kink) entry with the largest relative error."""
        checked = [e for e in self.entries if e.status != "kink"]
        return max(checked, key=lambda e: e.relative_error) if checked else None

    @property
    def max_relative_error(self) -> float:
        return self.worst.relative_error if self.worst else 0.0

    def summary(self) -> str:
        """One line. The worst relative error is taken over entries that are not both within
        ``atol`` of 0 (a relative error of two numbers that are both ~0 is noise), and shown as
        ``< 1e-10`` below that level: the digits there are rounding noise that changes
        from machine to machine, and notebooks print this line."""
        n, f, k = len(self.entries), len(self.failures), len(self.kinks)
        line = f"gradient check: {n} entries, {n - f - k} ok, {f} failed, {k} at a kink"
        judged = [e for e in self.entries if e.status != "kink" and max(abs(e.analytic), abs(e.numeric)) > self.atol]
        if judged:
            worst = max(e.relative_error for e in judged)
            line += "; worst relative error " + ("< 1e-10" if worst < 1e-10 else f"{worst:.1e}")
        elif any(e.status != "kink" for e in self.entries):
            line += f"; every entry agrees to within {self.atol:g}"
        return line

    def __str__(self) -> str:
        lines = [self.summary()]
        lines += [f"  {e}" for e in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more failures")
        lines += [f"  {e} (the difference straddles a kink; not judged)" for e in self.kinks[:5]]
        return "\n".join(lines)

    def assert_ok(self) -> "GradientReport":
        if not self.passed:
            raise AssertionError(str(self))
        return self


def _verdict(analytic, numeric, rtol, atol, at_kink):
    if at_kink:
        return "kink"
    diff = abs(analytic - numeric)
    ok = diff <= atol or diff <= rtol * max(abs(analytic), abs(numeric))
    return "ok" if ok else "FAIL"


def check_gradients(
    loss: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    *,
    h: float | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    kink_signature: Callable[[], Hashable] | None = None,
    order: int = 4,
) -> GradientReport:
    """Compare analytic ``grads`` with central differences of ``loss()`` over ``params``.

    ``params`` maps names (e.g. ``"W(1)"``) to float64 arrays that ``loss()`` reads
    and that are perturbed in place and restored; ``grads`` maps the same names to
    gradients of the same shapes.  ``kink_signature()``, if given, returns a value
    that changes when the function crosses a kink (e.g. the ReLU activity
    pattern); an entry whose stencil moves change it is reported as a kink.
    ``order`` is the central difference's order (4 by default, see the module doc).
    """
    stencil = _check_order(order)
    h = _check_h(h, order)
    rtol = check_real(rtol, "rtol")
    atol = check_real(atol, "atol")
    if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
        raise TypeError(
            f"arguments 'params' and 'grads' expected mappings name -> array, got {describe(params)} and {describe(grads)}"
        )
    missing = sorted(set(params) ^ set(grads))
    if missing:
        raise ValueError(f"argument 'grads' expected the same names as 'params' {sorted(params)}, got {sorted(grads)}")
    report = GradientReport(rtol=rtol, atol=atol)
    for name, p in params.items():
        _require_float64(p, f"params[{name!r}]")
        g = as_array(grads[name], f"grads[{name!r}]")
        if g.shape != p.shape:
            raise ValueError(f"argument 'grads[{name!r}]' expected the shape of the parameter {p.shape}, got {g.shape}")
        for idx in np.ndindex(p.shape):
            numeric, crossed = _difference_at(loss, p, idx, h, stencil, kink_signature)
            analytic = float(g[idx])
            err = float(relative_error(analytic, numeric))
            report.entries.append(
                EntryCheck(name, tuple(int(i) for i in idx), analytic, numeric, err,
                           _verdict(analytic, numeric, rtol, atol, crossed))
            )
    return report


def check_derivative(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    z,
    *,
    name: str = "z",
    h: float | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    kinks: tuple[float, ...] = (),
    order: int = 4,
) -> GradientReport:
    """Check an elementwise derivative ``df(z)`` against central differences of ``f``.

    ``f`` and ``df`` act entry by entry (an activation and its derivative);
    entries within the stencil's reach (2h for order 4) of a point in ``kinks``
    are reported as kinks.
    """
    stencil = _check_order(order)
    h = _check_h(h, order)
    z = as_array(z, name)
    numeric = sum(w * np.asarray(f(z + m * h), dtype=np.float64) for m, w in stencil) / h
    reach = max(abs(m) for m, _ in stencil) * h
    analytic = np.broadcast_to(np.asarray(df(z), dtype=np.float64), z.shape)
    near = np.zeros(z.shape, dtype=bool)
    for k in kinks:
        near |= np.abs(z - k) <= reach
    report = GradientReport(rtol=rtol, atol=atol)
    err = relative_error(analytic, numeric)
    for idx in np.ndindex(z.shape):
        a, n = float(analytic[idx]), float(numeric[idx])
        report.entries.append(
            EntryCheck(name, tuple(int(i) for i in idx), a, n, float(err[idx]),
                       _verdict(a, n, rtol, atol, bool(near[idx])))
        )
    return report
