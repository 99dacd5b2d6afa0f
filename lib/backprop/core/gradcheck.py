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

An entry passes when the two agree within the course's one tolerance
(:mod:`backprop.core.tolerance`): a relative error
``|analytic - numeric| / max(|analytic|, |numeric|)`` of at most ``rtol`` (1e-7),
or, for entries so small that rounding dominates, an absolute error of at most
``atol`` (1e-10).
Near a kink (ReLU at 0, a tie in a max) the two sides of the difference see
different slopes, so the estimate is meaningless there: such entries are
reported as ``"kink"``, not failed.  An entry is at a kink when moving it by
the stencil's steps changes the *kink signature* (e.g. which units are active).

How good is a derivative as a multiplier?  f(x + t d) - f(x) ~ t (df/dx) d, and
what is left over, the *first-order error*, shrinks like t^2 when f has a second
derivative: :func:`first_order_errors` measures it and :func:`loglog_slope` fits
its order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Hashable, Mapping

import numpy as np

from .checks import as_array, check_real, describe
from .tolerance import ATOL, RTOL, agree, relative_error

__all__ = [
    "numerical_gradient",
    "numerical_jacobian",
    "EntryCheck",
    "subscript",
    "lecture_name",
    "GradientReport",
    "check_gradients",
    "check_derivative",
    "first_order_errors",
    "loglog_slope",
    "straddles_kink",
]


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


def numerical_jacobian(f: Callable[[], np.ndarray], x: np.ndarray, h: float | None = None,
                       order: int = 2) -> np.ndarray:
    """Central-difference Jacobian of the vector ``f()`` (m,) with respect to the float64 vector ``x`` (n,).

    The lecture's layout: ``J`` is (m, n), row i for the output f_i, column j for the
    input x_j, ``J[i, j] = d f_i / d x_j``, so that a small change gives
    ``Delta f ~ J Delta x`` and a row derivative is carried backward as ``dDiv/dx = dDiv/df J``.
    ``f`` takes no argument and reads ``x``, perturbed in place one entry at a time and
    restored exactly, as in :func:`numerical_gradient` (the same ``h`` and ``order``); column j
    is the difference for entry j.
    """
    _require_float64(x, "x")
    if x.ndim != 1:
        raise ValueError(f"argument 'x' expected a vector (n,) (the input of f), got shape {x.shape}")
    stencil = _check_order(order)
    h = _check_h(h, order)
    columns = [_difference_at(f, x, (j,), h, stencil, value=_output_vector)[0] for j in range(x.size)]
    return np.stack(columns, axis=1) if columns else np.zeros((_output_vector(f()).size, 0))


def _output_vector(value) -> np.ndarray:
    out = np.asarray(value, dtype=float)
    if out.ndim != 1:
        raise ValueError(f"argument 'f' expected a function returning a vector (m,), got shape {out.shape}")
    return out


def _difference_at(f, x, idx, h, stencil, signature=None, value=float):
    """The stencil's estimate for entry ``idx`` of ``x`` (of ``value(f())``), and whether ``signature()`` changed."""
    old = x[idx]
    base = signature() if signature else None
    total, crossed = 0.0, False
    try:
        for m, weight in stencil:
            x[idx] = old + m * h
            total = total + weight * value(f())
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


def subscript(*idx: int) -> str:
    """The lecture's subscript of 0-based indices: counted from 1 and run together, ``(0, 1)`` -> ``"12"``,
    with commas once an index has two digits, ``(0, 11)`` -> ``"1,12"``.  Every printed or drawn name uses it."""
    parts = [str(int(i) + 1) for i in idx]
    return ("," if any(len(p) > 1 for p in parts) else "").join(parts)


def lecture_name(parameter: str, index: tuple) -> str:
    """``"W(2)", (0, 1)`` -> ``"w(2)_21"``: the array entry ``W(k)[j, i]`` is the lecture's w(k)_ij, from
    unit i of layer k-1 to unit j of layer k, counted from 1; ``"b(2)", (1,)`` -> ``"b(2)_2"``."""
    matched = re.fullmatch(r"([Wb])\((\d+)\)", parameter)
    if matched and len(index) == (2 if matched.group(1) == "W" else 1):
        units = index[::-1] if matched.group(1) == "W" else index
        return f"{matched.group(1).lower()}({matched.group(2)})_{subscript(*units)}"
    return f"{parameter}[{', '.join(map(str, index))}]" if index else parameter


@dataclass(frozen=True)
class EntryCheck:
    """One checked entry: which parameter and index, both values, their error, a verdict."""

    parameter: str
    index: tuple
    analytic: float
    numeric: float
    relative_error: float
    status: str  # "ok", "FAIL" or "kink"

    @property
    def name(self) -> str:
        """The entry in the lecture's names: ``w(k)_ij`` (1-based) for ``W(k)[j, i]``, ``b(k)_j`` for
        ``b(k)[j]``; any other parameter as ``name[index]``."""
        return lecture_name(self.parameter, self.index)

    def __str__(self) -> str:
        where = self.name
        return (
            f"{where}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, "
            f"relative error {self.relative_error:.2e} -> {self.status}"
        )


@dataclass
class GradientReport:
    """The result of a gradient check; ``str(report)`` explains it, ``assert_ok()`` enforces it."""

    entries: list[EntryCheck] = field(default_factory=list)
    rtol: float = RTOL
    atol: float = ATOL

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
    return "ok" if agree(analytic, numeric, rtol, atol) else "FAIL"


def _tolerances(rtol, atol) -> tuple[float, float]:
    return (RTOL if rtol is None else check_real(rtol, "rtol")), (ATOL if atol is None else check_real(atol, "atol"))


def check_gradients(
    loss: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    *,
    h: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    kink_signature: Callable[[], Hashable] | None = None,
    order: int = 4,
) -> GradientReport:
    """Compare analytic ``grads`` with central differences of ``loss()`` over ``params``.

    ``params`` maps names (e.g. ``"W(1)"``) to float64 arrays that ``loss()`` reads
    and that are perturbed in place and restored; ``grads`` maps the same names to
    gradients of the same shapes.  ``kink_signature()``, if given, returns a value
    that changes when the function crosses a kink (e.g. the ReLU activity
    pattern); an entry whose stencil moves change it is reported as a kink.
    ``order`` is the central difference's order (4 by default, see the module doc);
    ``rtol`` and ``atol`` default to the course's tolerance.
    """
    stencil = _check_order(order)
    h = _check_h(h, order)
    rtol, atol = _tolerances(rtol, atol)
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
    rtol: float | None = None,
    atol: float | None = None,
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
    rtol, atol = _tolerances(rtol, atol)
    z = as_array(z, name)
    numeric = sum(w * np.asarray(f(z + m * h), dtype=np.float64) for m, w in stencil) / h
    if numeric.size != z.size:
        raise ValueError(f"argument 'f' expected a function acting entry by entry (one output per entry of "
                         f"'{name}', {z.shape}), got outputs of shape {numeric.shape}")
    numeric = numeric.reshape(z.shape)
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


# -- the derivative as a multiplier -----------------------------------------------------
def first_order_errors(f: Callable, grad: Callable, x, direction, steps) -> np.ndarray:
    """|f(x + t d) - f(x) - t (df/dx) d| for each step t; shape (S,) for S steps.

    ``x`` and ``direction`` (d) are a number (one input) or arrays of shape (M,)
    (M inputs x_1..x_M); ``f`` maps such an x to a number, ``grad`` to df/dx of the
    same shape as x, so that (df/dx) d = sum_i (dz/dx_i) d_i.  ``steps``: shape (S,),
    positive.
    """
    if not callable(f) or not callable(grad):
        raise TypeError(f"arguments 'f' and 'grad' expected functions, got {describe(f)} and {describe(grad)}")
    x = as_array(x, "x", ndim=(0, 1), meaning="(M,)")
    direction = as_array(direction, "direction", ndim=(0, 1), meaning="(M,), like x")
    if direction.shape != x.shape:
        raise ValueError(f"argument 'direction' expected the shape of 'x' {x.shape}, got {direction.shape}")
    steps = as_array(steps, "steps", ndim=1, meaning="(S,)")
    if not (steps > 0).all():
        raise ValueError(f"argument 'steps' expected positive steps, got {steps[steps <= 0][0]:g}")
    slope = as_array(grad(x), "grad(x)")
    if slope.shape != x.shape:
        raise ValueError(f"argument 'grad' expected to return the shape of 'x' {x.shape}, got {slope.shape}")
    f0, rate = float(f(x)), float(np.sum(slope * direction))
    return np.array([abs(float(f(x + t * direction)) - f0 - t * rate) for t in steps])


def loglog_slope(steps, errors) -> float:
    """The least-squares slope of log(error) against log(step): the order p in error ~ C t^p."""
    steps = as_array(steps, "steps", ndim=1, meaning="(S,)")
    errors = as_array(errors, "errors", ndim=1, meaning="(S,), one per step")
    if errors.shape != steps.shape:
        raise ValueError(f"argument 'errors' expected one error per step ({steps.size}), got {errors.size}")
    if steps.size < 2 or not (steps > 0).all() or not (errors > 0).all():
        raise ValueError("arguments 'steps' and 'errors' expected at least 2 positive values each "
                         "(a log-log fit needs them)")
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


# -- central differences at a kink -------------------------------------------------------------------------
def straddles_kink(z, kinks, h: float) -> np.ndarray:
    """True where [z - h, z + h] holds a kink: the central difference (f(z + h) - f(z - h)) / 2h
    mixes the two slopes there and cannot judge a derivative.  z: any shape; kinks: points."""
    z = as_array(z, "z")
    h = check_real(h, "h")
    if not h > 0:
        raise ValueError(f"argument 'h' expected a positive step, got {h:g}")
    kinks = as_array(kinks, "kinks", ndim=1, meaning="(K,): the points where f has a corner")
    near = np.zeros(z.shape, dtype=bool)
    for k in kinks:
        near |= np.abs(z - k) <= h
    return near
