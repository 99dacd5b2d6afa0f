"""Homework 04: backward passes at corners (ReLU, leaky ReLU, max) and a gradient check that knows about kinks.

The student writes

* ``relu_backward(dy, z)`` and ``leaky_relu_backward(dy, z, alpha)``: dDiv/dz(k) from
  dDiv/dy(k) and z(k), with a convention of their own at z = 0.  **Any subgradient
  earns full marks**: at z = 0 any slope in [0, 1] (ReLU) or [alpha, 1] (leaky ReLU)
  times dDiv/dy; a slope outside that range loses the case, and every case holds
  units exactly at the kink;
* ``max_backward(dy, z)``: row b of z holds the inputs of max unit b, y_b = max_i z_bi;
  the upstream gradient dy_b goes to the largest input.  On a tie, any non-negative
  shares of dy_b on the tied inputs that sum to dy_b are accepted (all to the first,
  or split evenly); routing to other entries, or the whole dy_b to every tied entry,
  is wrong;
* ``kink_aware_check(f, df, z, kinks, h)``: per entry of z, ``"kink"`` when the central
  difference's interval [z - h, z + h] holds a kink, else ``"ok"`` or ``"FAIL"`` by
  comparing df(z) with (f(z + h) - f(z - h)) / 2h at the relative tolerance 1e-6 * max(1, |df|, |numeric|).
  The cases hold entries exactly h from a kink (the interval ends on it: "kink") and a
  steep function whose right derivative is off by more than 1e-6 but within that tolerance.

Hidden cases are drawn afresh for every seed: widths, signs, exact zeros, ties, kinks
at 0 and elsewhere, entries within h, between h and 2h, and far from a kink, with a
correct or a deliberately wrong derivative.  Entries are named the lecture's way,
1-based, beside the code's 0-based index: ``dDiv/dz(k)_3 (dz[2])``.

The kernel gets only ``backprop.core.checks`` of the library (and numpy): the
library's activations, max router and gradient checker compute these answers.
"""

from __future__ import annotations

import numpy as np

from ..core.activations import max_routing
from ..core.gradcheck import straddles_kink, subscript
from ..core.tolerance import agree
from .parts import AnswerError, Case, Part, Verdict, as_numbers, fmt

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "CHECK_RTOL", "FUNCTIONS", "DF_SOURCE", "derivative_table",
           "check_statuses", "PARTS"]

#: the modules of backprop this homework may use: the grading kernel has no others
MAY_USE = ("core.checks",)
#: the installed packages the homework may import (besides the standard library)
PACKAGES = ("numpy",)
#: the rule, as the homework states it
ALLOWED = ("this homework may use numpy and the functions it is given (f and df); not the library's activations, "
           "max router or gradient checks")
#: the homework's tolerance for "ok": |df(z) - numeric| <= CHECK_RTOL * max(1, |df(z)|, |numeric|)
CHECK_RTOL = 1e-6
#: tolerance of a share of the upstream gradient (a subgradient's range, a tie's shares)
_TOL = 1e-9


def _dz_name(i: int) -> str:
    return f"dDiv/dz(k)_{subscript(i)} (dz[{i}])"


def _max_name(b: int, i: int) -> str:
    return f"dDiv/dz_{subscript(i)} of max unit {b + 1} (dz[{b}][{i}])"


class Hw04Part(Part):
    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED


# -- ReLU and leaky ReLU ---------------------------------------------------------------------------------
def _slope_range(z: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest valid slope at each z: 1 for z > 0, alpha for z < 0, [alpha, 1] at z = 0."""
    lo = np.where(z > 0, 1.0, alpha)
    hi = np.where(z >= 0, 1.0, alpha)
    return lo, hi


def _inside(got, low, high):
    return np.isfinite(got) & (got >= low - _TOL * (1 + np.abs(low))) & (got <= high + _TOL * (1 + np.abs(high)))


def _activation_case(rng: np.random.Generator, n: int, leaky: bool) -> dict:
    """z(k) of both signs with one to three units exactly at the kink, dDiv/dy(k) of both signs, never 0."""
    width = int(rng.integers(4, 10))
    z = rng.normal(scale=2.0, size=width)
    z = np.where(np.abs(z) < 0.05, np.where(z < 0, -0.05, 0.05), z)
    z[0], z[1] = abs(z[0]), -abs(z[1])  # both sides, then shuffled below
    zeros = rng.choice(np.arange(2, width), size=min(width - 2, int(rng.integers(1, 4))), replace=False)
    z[zeros] = 0.0
    z = z[rng.permutation(width)]
    dy = rng.normal(size=width)
    dy = np.where(np.abs(dy) < 0.1, 0.1 * np.where(dy < 0, -1, 1), dy)
    dy[z == 0.0] *= 1 if n % 2 else -1  # upstream gradients of both signs meet the kink across the cases
    payload = {"dy": dy.tolist(), "z": z.tolist()}
    if leaky:
        payload["alpha"] = float(np.round(rng.uniform(0.01, 0.4), 3))
    return payload


def _activation_judge(p: dict, answer, alpha: float, name: str) -> Verdict:
    z, dy = np.array(p["z"], dtype=float), np.array(p["dy"], dtype=float)
    got = as_numbers(answer, "dz", z.shape)
    lo, hi = _slope_range(z, alpha)
    low, high = np.minimum(lo * dy, hi * dy), np.maximum(lo * dy, hi * dy)
    inside = _inside(got, low, high)
    if inside.all():
        return Verdict.ok()
    low_name = "alpha" if alpha else "0"
    details = []
    for i in np.flatnonzero(~inside)[:3]:
        where = f"{_dz_name(int(i))} (z(k) = {fmt(z[i])}, dDiv/dy(k) = {fmt(dy[i])})"
        if z[i] == 0:
            details.append(f"{where}: z is at the kink, so any slope in [{low_name}, 1] times dDiv/dy is valid: "
                           f"expected a value in [{fmt(low[i])}, {fmt(high[i])}], got {fmt(got[i])}")
        else:
            details.append(f"{where}: expected {fmt(low[i])}, got {fmt(got[i])}")
    if (~inside).sum() > 3:
        details.append(f"... and {int((~inside).sum()) - 3} more entries disagree")
    rule = f"dDiv/dz(k)_i = f'(z(k)_i) dDiv/dy(k)_i with f' = 1 for z > 0, {low_name} for z < 0"
    at_kink = z == 0
    if (inside | at_kink).all():
        why = (f"only the units exactly at the kink z = 0 are wrong: there the slope must be a subgradient of the "
               f"{name}, a number in [{low_name}, 1] (state your convention, e.g. {low_name}), times dDiv/dy")
    elif agree(got, dy).all():
        why = f"dz equals dy: the factor f'(z) of the {name} is missing ({rule})"
    elif agree(got, np.where(z > 0, z, alpha * z) * dy).all():
        why = f"you multiplied by the {name} itself, f(z), instead of its slope f'(z) ({rule})"
    elif agree(got, np.where(z > 0, 1.0, alpha)).all() or agree(got, np.where(z >= 0, 1.0, alpha)).all():
        why = f"dz holds the slope alone: the factor dDiv/dy (the gradient from above) is missing ({rule})"
    elif alpha and agree(got[~at_kink], ((z > 0) * dy)[~at_kink]).all():
        why = f"for z < 0 a leaky ReLU's slope is alpha = {fmt(alpha)}, not 0 ({rule})"
    elif (swapped := agree(got[~at_kink], (np.where(z < 0, 1.0, alpha) * dy)[~at_kink]).all()) | \
            (by_dy := agree(got[~at_kink], (np.where(dy > 0, 1.0, alpha) * dy)[~at_kink]).all()):
        gate = (f"the gate opens where dDiv/dy > 0: the {name}'s slope depends on z(k), the input of the forward "
                f"pass, not on the sign of the derivative arriving from above")
        if swapped and by_dy:  # here dDiv/dy and z have opposite signs wherever z != 0: both readings fit
            why = f"the two sides are swapped (the slope is 1 where z > 0), or {gate} ({rule})"
        else:
            why = f"the two sides are swapped: the slope is 1 where z > 0 ({rule})" if swapped else f"{gate} ({rule})"
    else:
        why = f"the slope of the {name} or the product with dDiv/dy disagrees: {rule}"
    return Verdict.wrong(details, why)


class _UpstreamAndZ(Hw04Part):
    """A part whose function takes (dy, z), the upstream gradient and the forward pass's z, and returns dz;
    it is judged against every valid (sub)gradient, so there is no single expected answer."""

    argument_names = ("dy", "z")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.names:
            cls.call = (f"\nimport numpy as np\nresult = call({cls.names[0]!r}, np.array(p['dy'], dtype=float), "
                        f"np.array(p['z'], dtype=float))\n")

    def arguments(self, p):
        return [np.array(p["dy"], dtype=float).tolist(), np.array(p["z"], dtype=float).tolist()]

    def expected(self, p):
        return None


class ReluBackward(_UpstreamAndZ, id="04_relu_backward", names=("relu_backward",),
                   title="ReLU backward: dDiv/dz = f'(z) dDiv/dy, any subgradient in [0, 1] at z = 0"):

    def public_cases(self):
        return [
            Case("layer 1 of the two-ReLU example, z(1) = (2, -1) and dDiv/dy(1) = (-2, -4), with a third unit "
                 "exactly at the kink z = 0 (dDiv/dy = 1.5; any slope in [0, 1] times it is accepted)",
                 {"dy": [-2.0, -4.0, 1.5], "z": [2.0, -1.0, 0.0]}),
            Case("a unit exactly at the kink z = 0 (any slope in [0, 1] times dDiv/dy is accepted)",
                 {"dy": [3.0, -1.0, 2.0], "z": [0.0, 1.5, -0.5]}),
            Case("four units, two at the kink", {"dy": [-1.5, 0.5, 2.0, -0.25], "z": [-2.0, 0.0, 0.75, 0.0]}),
        ]

    def hidden_case(self, rng, n):
        return Case("random layer with units at the kink", _activation_case(rng, n, leaky=False))

    def entry_name(self, label, path, p):
        if len(path) == 1:
            return f"{'dDiv/dy' if label == 'dy' else 'z'}(k)_{subscript(path[0])} ({label}[{path[0]}])"
        return super().entry_name(label, path, p)

    def judge(self, p, answer, _):
        return _activation_judge(p, answer, 0.0, "ReLU")


class LeakyReluBackward(Hw04Part, id="04_leaky_relu_backward", names=("leaky_relu_backward",),
                        title="leaky ReLU backward: slopes 1 and alpha, any subgradient in [alpha, 1] at z = 0"):
    call = '''
import numpy as np
result = call("leaky_relu_backward", np.array(p["dy"], dtype=float), np.array(p["z"], dtype=float), float(p["alpha"]))
'''
    argument_names = ("dy", "z", "alpha")

    def public_cases(self):
        return [
            Case("alpha = 0.1, both sides of 0 and a unit at the kink (any slope in [alpha, 1] is accepted there)",
                 {"dy": [1.5, -2.0, 0.5, 1.0], "z": [-1.5, 0.8, -0.3, 0.0], "alpha": 0.1}),
            Case("alpha = 0.25, a unit exactly at the kink (any slope in [alpha, 1] times dDiv/dy is accepted)",
                 {"dy": [-2.0, 1.0, 4.0], "z": [0.0, -0.5, 2.0], "alpha": 0.25}),
        ]

    def hidden_case(self, rng, n):
        return Case("random layer with units at the kink", _activation_case(rng, n, leaky=True))

    entry_name = ReluBackward.entry_name

    def arguments(self, p):
        return [np.array(p["dy"], dtype=float).tolist(), np.array(p["z"], dtype=float).tolist(), float(p["alpha"])]

    def expected(self, p):
        return None

    def judge(self, p, answer, _):
        return _activation_judge(p, answer, float(p["alpha"]), "leaky ReLU")


# -- max ------------------------------------------------------------------------------------------------
def _max_case(rng: np.random.Generator, n: int) -> dict:
    """B max units of width 1 to 6 (at least one of width >= 3), values of both signs, ties for the largest in
    most rows (two or three tied inputs), and at least one row without a tie."""
    B = int(rng.integers(3, 6))
    width = int(rng.integers(3, 7))
    z = np.round(rng.normal(scale=2.0, size=(B, width)), 2)
    for b in range(B):
        row = z[b]
        top = row.max()
        row[row == top] = top  # (already)
        kind = (b + n) % 3
        if kind and width >= 2:  # a tie of 2 (kind 1) or 3 (kind 2) inputs for the largest
            k = min(width, kind + 1)
            idx = rng.choice(width, size=k, replace=False)
            row[idx] = top + 0.5
        else:  # a clear winner
            row[int(rng.integers(width))] = top + 0.5
    dy = rng.normal(size=B)
    dy = np.where(np.abs(dy) < 0.1, 0.1 * np.where(dy < 0, -1, 1), dy)
    return {"dy": dy.tolist(), "z": z.tolist()}


def _max_rows_check(z: np.ndarray, dy: np.ndarray, got: np.ndarray) -> list[tuple[int, str]]:
    """(row, what is wrong) for every row whose answer is not a valid routing of dy_b."""
    bad = []
    for b in range(z.shape[0]):
        tied = z[b] == z[b].max()
        scale = 1 + abs(dy[b])
        off = ~tied & (np.abs(got[b]) > _TOL * scale)
        shares = got[b][tied] / dy[b]
        if not np.isfinite(got[b]).all():
            bad.append((b, "not finite"))
        elif off.any():
            i = int(np.flatnonzero(off)[0])
            bad.append((b, f"{_max_name(b, i)} got {fmt(got[b][i])}, but z_{subscript(i)} = {fmt(z[b][i])} is not the "
                           f"largest input of its row ({fmt(z[b].max())}): expected 0"))
        elif (shares < -_TOL).any() or abs(shares.sum() - 1) > _TOL * 10:
            idx = [int(i) for i in np.flatnonzero(tied)]
            names = ", ".join(f"dz[{b}][{i}]" for i in idx)
            if len(idx) == 1:
                bad.append((b, f"{_max_name(b, idx[0])} (z_{subscript(idx[0])} = {fmt(z[b][idx[0]])} is the largest): "
                               f"expected dDiv/dy_{subscript(b)} = {fmt(dy[b])}, got {fmt(got[b][idx[0]])}"))
            else:
                bad.append((b, f"max unit {b + 1}: inputs {', '.join(str(i + 1) for i in idx)} ({names}) tie for the "
                               f"largest, {fmt(z[b].max())}: expected non-negative shares of dDiv/dy_{subscript(b)} = "
                               f"{fmt(dy[b])} summing to it, got {fmt(got[b][tied])} (sum {fmt(got[b][tied].sum())})"))
    return bad


class MaxBackward(_UpstreamAndZ, id="04_max_backward", names=("max_backward",),
                  title="max as a router: dDiv/dy to the largest input, shared on a tie"):

    def public_cases(self):
        return [
            Case("Poll 3's max: z = (1, 2, 3), dDiv/dy = 1", {"dy": [1.0], "z": [[1.0, 2.0, 3.0]]}),
            Case("two max units, the largest first and in the middle, negative values",
                 {"dy": [2.0, -0.5], "z": [[4.0, -1.0, 0.5], [-3.0, -0.25, -2.0]]}),
            Case("a tie for the largest (any non-negative shares summing to dDiv/dy are accepted)",
                 {"dy": [1.5, -2.0], "z": [[3.0, 1.0, 3.0], [0.5, 0.5, 0.5]]}),
            Case("a max unit of one input", {"dy": [-1.25], "z": [[-7.0]]}),
        ]

    def hidden_case(self, rng, n):
        return Case("random max units with ties", _max_case(rng, n))

    def entry_name(self, label, path, p):
        if label == "z" and len(path) == 2:
            return f"z_{subscript(path[1])} of max unit {path[0] + 1} (z[{path[0]}][{path[1]}])"
        if label == "dy" and len(path) == 1:
            return f"dDiv/dy_{subscript(path[0])} (dy[{path[0]}])"
        return super().entry_name(label, path, p)

    def judge(self, p, answer, _):
        z, dy = np.array(p["z"], dtype=float), np.array(p["dy"], dtype=float)
        got = as_numbers(answer, "dz", z.shape)
        bad = _max_rows_check(z, dy, got)
        if not bad:
            return Verdict.ok()
        details = [what for _, what in bad[:3]]
        rule = "max routes: dDiv/dz_i = dDiv/dy for the largest input z_i, 0 for every other input"
        top = z == z.max(axis=1, keepdims=True)
        first = max_routing(z)
        if agree(got, dy[:, None] * top).all() and not agree(top, first).all():
            why = ("on a tie every tied input got the whole dDiv/dy, so the gradient is counted twice: the tied inputs "
                   "must share it (non-negative shares summing to dDiv/dy, e.g. all to the first)")
        elif agree(got, _routed_down_columns(z, dy)).all():
            columns = ("the largest input was looked for down each column (axis 0, across the max units) instead of "
                       "along each row: row b of z holds the inputs of max unit b, so its largest is taken over axis 1")
            if agree(got, np.broadcast_to(dy[:, None], z.shape)).all():  # one row: the two mistakes look the same
                why = f"every input got dDiv/dy: as through an add gate, or because {columns}. {rule}"
            else:
                why = f"{columns[0].upper()}{columns[1:]}. {rule}"
        elif agree(got, np.broadcast_to(dy[:, None], z.shape)).all():
            why = f"every input got dDiv/dy, as through an add gate: {rule}"
        elif agree(got, first).all() or agree(got, top).all():
            why = f"dz holds the routing alone: the factor dDiv/dy is missing ({rule})"
        elif agree(got, dy[:, None] * (z == z.min(axis=1, keepdims=True))).all():
            why = f"the gradient went to the smallest input: {rule}"
        elif agree(got, dy[:, None] * z).all() or agree(got, dy[:, None] * z * top).all():
            why = f"dz holds dDiv/dy times z: the local derivative of max is 1 or 0, not the input's value ({rule})"
        else:
            why = rule
        return Verdict.wrong(details, why)


def _routed_down_columns(z, dy):
    """What a max taken over axis 0 (down the columns) instead of along the rows gives: per column, dy of the row
    holding that column's largest value, at that row."""
    out = np.zeros(z.shape)
    rows = np.argmax(z, axis=0)
    out[rows, np.arange(z.shape[1])] = dy[rows]
    return out


# -- a gradient check that knows about kinks -----------------------------------------------------------------
#: the functions the kink-aware check meets: (kernel source of f, of df, the kinks)
FUNCTIONS = {
    "relu": ("np.maximum(z, 0.0)", "np.where(z > 0, 1.0, 0.0)", (0.0,)),
    "leaky_relu": ("np.where(z > 0, z, 0.1 * z)", "np.where(z > 0, 1.0, 0.1)", (0.0,)),
    "abs": ("np.abs(z)", "np.sign(z)", (0.0,)),
    "hinge": ("np.maximum(0.0, 1.0 - z)", "np.where(z < 1, -1.0, 0.0)", (1.0,)),
    "clip": ("np.clip(z, -1.0, 1.0)", "np.where((z > -1) & (z < 1), 1.0, 0.0)", (-1.0, 1.0)),
    "tanh": ("np.tanh(z)", "1.0 - np.tanh(z) ** 2", ()),
    "steep": ("100.0 * np.tanh(z) + 50.0 * np.abs(z)", "100.0 * (1.0 - np.tanh(z) ** 2) + 50.0 * np.sign(z)", (0.0,)),
}
#: the multiple of tanh's derivative in each function's derivative (the ``tanh`` of a claimed derivative's data)
TANH_PART = {"tanh": 1.0, "steep": 100.0}
#: the step of every "steep" case: there the central difference of the right derivative is off by up to 3.3e-5
#: (tanh's share; |df| up to 150), at most 0.65 of the homework's relative tolerance, and more than an absolute 1e-6
#: wherever |z| < 2.5 but near |z| = 0.66
STEEP_H = 1e-3


#: how the kernel (and the grader) build the claimed derivative df of a case from its data ``p["df"]``: constant
#: values on the intervals between its breaks and at each break (2 k + 1 values for k breaks), plus ``tanh``
#: times tanh's derivative. The data says what df is, not where it is wrong: that takes comparing it with f.
DF_SOURCE = """
def claimed_derivative(spec):
    breaks = [float(b) for b in spec["breaks"]]
    values = np.array(spec["values"], dtype=float)
    scale = float(spec["tanh"])

    def df(z):
        z = np.asarray(z, dtype=float)
        index = np.zeros(z.shape, dtype=int)
        for b in breaks:
            index = index + (z > b) + (z >= b)
        return values[index] + scale * (1.0 - np.tanh(z) ** 2)

    return df
"""


def _functions(p: dict):
    """f and df of a case as numpy functions (the same text the kernel runs)."""
    scope = {"np": np}
    exec(DF_SOURCE, scope)
    f = eval(f"lambda z: {FUNCTIONS[p['function']][0]}", scope)
    return f, scope["claimed_derivative"](p["df"])


def _true_slopes(name: str) -> tuple[list[float], list[float]]:
    """The right derivative of a piecewise-linear function (of a function's piecewise-linear part, its share of tanh
    left out: see ``TANH_PART``): its kinks and its slope on each interval between them."""
    kinks = list(FUNCTIONS[name][2])
    derivative = eval(f"lambda z: {FUNCTIONS[name][1]}", {"np": np})
    right = lambda z: derivative(z) - TANH_PART.get(name, 0.0) * (1.0 - np.tanh(z) ** 2)  # noqa: E731
    inner = [(a + b) / 2 for a, b in zip(kinks, kinks[1:])]
    where = [kinks[0] - 1.0, *inner, kinks[-1] + 1.0]
    return kinks, [float(right(np.array(v))) for v in where]


def derivative_table(name: str, slopes: list[float]) -> dict:
    """The data of a claimed derivative with the given slope per interval; at each kink, the mean of the true slopes on
    either side (a valid subgradient, and exactly the central difference there: a check that judges an entry at a
    kink calls it "ok", so only one that flags the kink is right)."""
    kinks, true = _true_slopes(name)
    values = [slopes[0]]
    for n, _ in enumerate(kinks):
        values += [(true[n] + true[n + 1]) / 2, slopes[n + 1]]
    return {"breaks": kinks, "values": values, "tanh": TANH_PART.get(name, 0.0)}


def _gap(f, df, z: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """|df(z) - (f(z + h) - f(z - h)) / 2h| and the scale of the homework's tolerance, max(1, |df|, |numeric|)."""
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    analytic = np.asarray(df(z), dtype=float)
    return np.abs(analytic - numeric), np.maximum(1.0, np.maximum(np.abs(analytic), np.abs(numeric)))


def check_statuses(f, df, z: np.ndarray, kinks, h: float) -> list[str]:
    """The reference: "kink" where [z - h, z + h] holds a kink, else "ok" / "FAIL" for df(z) against
    (f(z + h) - f(z - h)) / 2h at the homework's tolerance."""
    near = straddles_kink(z, np.array(list(kinks), dtype=float), h)
    gap, scale = _gap(f, df, z, h)
    close = gap <= CHECK_RTOL * scale
    return ["kink" if k else ("ok" if c else "FAIL") for k, c in zip(near, close)]


def _check_case(rng: np.random.Generator, n: int) -> dict:
    """Entries at a kink, within h of one (inside the interval), between h and 2h from one (outside it), and
    far from every kink, on every interval between kinks; a derivative that is wrong on some of those intervals
    and right on the others (tanh: right, or scaled)."""
    names = ("relu", "leaky_relu", "abs", "hinge", "clip", "relu", "hinge", "clip", "tanh", "abs", "relu",
             "steep")
    name = names[n % len(names)]
    kinks = FUNCTIONS[name][2]
    h = {"tanh": 1e-5, "steep": STEEP_H}.get(name) or float(rng.choice([1e-5, 1e-4, 1e-3]))
    far = list(rng.uniform(-2.5, 2.5, size=int(rng.integers(3, 6))))
    edges = [-3.0, *kinks, 3.0]
    far += [float(rng.uniform(a + 0.1, b - 0.1)) for a, b in zip(edges, edges[1:])]  # one on every interval
    if name == "steep":  # on each side, where the right derivative is off by more than 1e-6 (see STEEP_H)
        far += [float(rng.uniform(0.1, 0.4)), float(rng.uniform(-0.4, -0.1))]
    for i, v in enumerate(far):  # far entries: at least 0.1 from every kink
        while kinks and min(abs(v - k) for k in kinks) < 0.1:
            v += 0.25
        far[i] = v
    z = list(far)
    for k in kinks:
        z += [k, k + h * rng.uniform(0.2, 0.9), k - h * rng.uniform(0.2, 0.9),
              k + h * rng.uniform(1.2, 1.8) * rng.choice([-1, 1])]
        if k == 0:  # exactly h away (|z - k| = h holds exactly only for k = 0): the interval ends on the kink
            z.append(h * float(rng.choice([-1.0, 1.0])))
    z = np.array(z)
    z = z[rng.permutation(z.size)]
    if not kinks:
        df = {"breaks": [], "values": [0.0], "tanh": float(rng.choice([1.0, 0.5, 1.5]))}
    else:
        _, slopes = _true_slopes(name)
        wrong = rng.permutation(len(slopes))[:int(rng.integers(1, len(slopes)))]  # some intervals, never all
        slopes = [s + (float(rng.choice([0.5, -0.75, 2.0])) if i in wrong else 0.0) for i, s in enumerate(slopes)]
        df = derivative_table(name, slopes)
    return {"function": name, "z": z.tolist(), "kinks": list(kinks), "h": h, "df": df}


def _absolute_tolerance(p: dict, failed: np.ndarray) -> str | None:
    """Why right derivatives were reported 'FAIL', when every such entry is within the homework's relative tolerance
    but not within an absolute 1e-6 (an absolute tolerance, the scale max(1, |df|, |numeric|) left out); else None."""
    if not failed.any():
        return None
    f, df = _functions(p)
    z = np.array(p["z"], dtype=float)[failed]
    gap, scale = _gap(f, df, z, float(p["h"]))
    if not (gap > CHECK_RTOL).all():
        return None
    i = int(np.argmax(gap))
    return (f"a right derivative failed where it is large: at z = {z[i]:.6g}, |df(z) - numeric| = {gap[i]:.3g} is "
            f"more than {CHECK_RTOL:g}, but within {CHECK_RTOL:g} * max(1, |df(z)|, |numeric|) = "
            f"{CHECK_RTOL * scale[i]:.3g}: the tolerance grows with the size of the derivative (relative, as the "
            f"homework states it), it is not an absolute {CHECK_RTOL:g}")


class KinkAwareCheck(Hw04Part, id="04_kink_aware_check", names=("kink_aware_check",),
                     title="a gradient check that reports kinks instead of failing"):
    call = '''
import numpy as np
FUNCTIONS = ''' + repr({k: v[0] for k, v in FUNCTIONS.items()}) + '''
f = eval("lambda z: " + FUNCTIONS[p["function"]], {"np": np})
''' + DF_SOURCE + '''
df = claimed_derivative(p["df"])
result = call("kink_aware_check", give(f, "f"), give(df, "df"), np.array(p["z"], dtype=float), list(p["kinks"]),
              float(p["h"]))
if hasattr(result, "tolist"):
    result = result.tolist()
if not isinstance(result, (list, tuple)) or not all(isinstance(s, str) for s in result):
    raise Wrong("kink_aware_check should return a list of strings, one per entry of z: 'ok', 'FAIL' or 'kink'")
result = [str(s) for s in result]
'''
    argument_names = ("f", "df", "z", "kinks", "h")

    def public_cases(self):
        return [
            Case("ReLU with its right derivative (1/2 at the kink, where the central difference gives 1/2 too), "
                 "h = 1e-5: z = 0 (at the kink), 4e-6 (within h), 3e-5 (beyond h), -1.5, 2 and -1e-5 (exactly h "
                 "from the kink)",
                 {"function": "relu", "z": [0.0, 4e-6, 3e-5, -1.5, 2.0, -1e-5], "kinks": [0.0], "h": 1e-5,
                  "df": derivative_table("relu", [0.0, 1.0])}),
            Case("ReLU with a derivative that is wrong for z < 0 (0.5 instead of 0), h = 1e-4",
                 {"function": "relu", "z": [-2.0, -0.5, -5e-5, 1.0, 1.5e-4], "kinks": [0.0], "h": 1e-4,
                  "df": derivative_table("relu", [0.5, 1.0])}),
            Case("clip(z, -1, 1), kinks at -1 and 1, h = 1e-3",
                 {"function": "clip", "z": [-1.0, 0.9995, 1.0015, 0.3, -2.0], "kinks": [-1.0, 1.0], "h": 1e-3,
                  "df": {"breaks": [-1.0, 1.0], "values": [0.0, 0.0, 1.0, 0.0, 0.0], "tanh": 0.0}}),
            Case("tanh, smooth (no kink), a wrong derivative for z > 1, h = 1e-5",
                 {"function": "tanh", "z": [-1.0, 0.0, 0.5, 1.5, 2.0], "kinks": [], "h": 1e-5,
                  "df": {"breaks": [1.0], "values": [0.0, 0.0, 0.5], "tanh": 1.0}}),
            Case(f"100 tanh(z) + 50 |z|, steep (|df| up to 150), kink at 0, with its right derivative, h = {STEEP_H:g}",
                 {"function": "steep", "z": [-2.0, -0.3, 0.0, 1.0, 2.5], "kinks": [0.0], "h": STEEP_H,
                  "df": derivative_table("steep", [-50.0, 50.0])}),
        ]

    def hidden_case(self, rng, n):
        return Case("random function, kinks, step and entries", _check_case(rng, n))

    def arguments(self, p):
        return [{"given": "f"}, {"given": "df"}, np.array(p["z"], dtype=float).tolist(), list(p["kinks"]),
                float(p["h"])]

    def entry_name(self, label, path, p):
        if label == "z" and len(path) == 1:
            return f"z_{subscript(path[0])} (z[{path[0]}])"
        return super().entry_name(label, path, p)

    def expected(self, p):
        f, df = _functions(p)
        return check_statuses(f, df, np.array(p["z"], dtype=float), p["kinks"], float(p["h"]))

    def judge(self, p, answer, expected):
        z, h, kinks = np.array(p["z"], dtype=float), float(p["h"]), list(p["kinks"])
        if not isinstance(answer, list) or len(answer) != len(expected):
            n = len(answer) if isinstance(answer, list) else type(answer).__name__
            raise AnswerError(f"kink_aware_check should return one status per entry of z ({len(expected)}), got {n}")
        got = [str(s) for s in answer]
        norm = [{"ok": "ok", "fail": "FAIL", "kink": "kink"}.get(s.strip().lower(), s) for s in got]
        wrong = [i for i, (g, e) in enumerate(zip(norm, expected)) if g != e]
        if not wrong:
            return Verdict.ok()
        kinks_text = ", ".join(fmt(k) for k in kinks) or "none"
        details = []
        for i in wrong[:3]:
            gap = min((abs(z[i] - k) for k in kinks), default=float("inf"))
            where = f"z_{subscript(i)} = {z[i]:.10g} (status[{i}]; kinks at {kinks_text}, h = {h:g}"
            where += f", {gap / h:.3g} h from the nearest kink)" if kinks else ")"
            details.append(f"{where}: expected {expected[i]!r}, got {got[i]!r}")
        if len(wrong) > 3:
            details.append(f"... and {len(wrong) - 3} more entries disagree")
        exp, gaps = np.array(expected), np.array([min((abs(v - k) for k in kinks), default=np.inf) for v in z])
        said = np.array(norm)
        if any(s not in ("ok", "FAIL", "kink") for s in norm):
            why = "each status must be one of the strings 'ok', 'FAIL' or 'kink'"
        elif (said == "ok").all():
            why = "every entry is 'ok': the check must compare df(z) with the central difference and spot kinks"
        elif (missed := (exp == "kink") & (said != "kink")).any() and (gaps[missed] == h).all():
            why = ("an entry exactly h from a kink (|z - kink| = h) was judged: the interval [z - h, z + h] then ends "
                   "on the kink, and the homework counts it as holding the kink: the test is |z - kink| <= h, not < h")
        elif ((exp == "kink") & (said != "kink") & (gaps > 0)).any() and not ((exp == "kink") & (said != "kink")
                                                                               & (gaps == 0)).any():
            why = ("an entry within h of a kink (not exactly at it) was judged: the interval [z - h, z + h] holds the "
                   "kink there too, so f(z + h) and f(z - h) lie on different sides; flag |z - kink| <= h")
        elif ((exp != "kink") & (said == "kink") & (gaps > h)).any():
            why = ("an entry farther than h from every kink was flagged: its interval [z - h, z + h] holds no kink, "
                   "so the central difference is exact there and must be judged")
        elif ((exp == "kink") & (said == "FAIL")).any():
            why = ("an entry whose difference straddles a kink was reported as a failure: report it as 'kink', "
                   "not judged (the central difference there mixes the two slopes)")
        elif ((exp == "FAIL") & (said == "ok")).any():
            why = ("a wrong derivative passed: compare df(z) with (f(z + h) - f(z - h)) / 2h at a relative "
                   f"tolerance of {CHECK_RTOL:g} (relative to max(1, |df|, |numeric|))")
        elif (absolute := _absolute_tolerance(p, (exp == "ok") & (said == "FAIL"))) is not None:
            why = absolute
        elif ((exp == "ok") & (said == "FAIL")).any():
            why = ("a right derivative failed: the central difference is (f(z + h) - f(z - h)) / (2h), compared "
                   f"with df(z) at a relative tolerance of {CHECK_RTOL:g}")
        else:
            why = "the statuses disagree: 'kink' when |z - kink| <= h for some kink, else 'ok' or 'FAIL'"
        return Verdict.wrong(details, why)


#: the graded parts of homework 04, in the notebook's order
PARTS = (ReluBackward(), LeakyReluBackward(), MaxBackward(), KinkAwareCheck())
