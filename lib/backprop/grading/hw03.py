"""Homework 03: vector activations -- softmax, its Jacobian, its backward pass, and a multiplicative layer.

The student writes, for one instance (vectors, numpy allowed, no library rules):

=================================  ==========================================================
``softmax(z)``                     y_j = exp(z_j) / sum_k exp(z_k), finite for logits of 1000
``softmax_jacobian(z)``            J[i][j] = dy_i/dz_j = y_i (delta_ij - y_j), shape (n, n)
``vector_backward(dy, J)``         dDiv/dz_j = sum_i dDiv/dy_i J[i][j], i.e. dy @ J (any vector activation)
``softmax_backward(dy, z)``        the same for softmax, without building J (a width of 10^5)
``softmax_ce_backward(z, d)``      (Div, dDiv/dz) of cross-entropy after softmax: (lse(z) - d.z, y - d)
``multiplicative_backward(do, y,   dDiv/dy_j for o_i = y_j y_l, one (j, l) per output
pairs)``
=================================  ==========================================================

Every Jacobian is laid out the lecture's way: row i for the output y_i, column j for the input z_j
(shape (n_out, n_in)), and the row dDiv/dy is right-multiplied by it.  Entries in feedback carry the
lecture's names, 1-based, beside the code's index: ``dy_1/dz_2 (J[0][1])``, ``dDiv/dz_3 (dz[2])``.

Hidden cases are random per seed, and the grade comes from them alone (the public cases are
the self-check's and weigh 0).  In the softmax parts, the Jacobian's and the cross-entropy's,
each hidden case is a *bundle* of three inputs judged together: one unit, 2 to 9 units with
logits of size about 1000 (``exp(z) / sum(exp(z))`` overflows to nan there), and 2 to 9 units
with moderate logits; in ``vector_backward`` a 1 x 1 Jacobian, a square one that is not
symmetric and one that is not square.  So a hard-coded answer, one right only for width 1, a
naive softmax and a transposed Jacobian pass no hidden case and lose the whole part.  Every
hidden product of ``multiplicative_backward`` squares a unit and shares one between products.
The "large width" part calls ``softmax_backward`` at a width of 100,000 to 150,000: its
Jacobian alone would be 80 to 180 GB, so an answer that builds it gets a MemoryError at once
(the grading kernel's address space is limited to 4 GiB; on an ordinary machine the allocation
is refused as well) and the feedback says why, while the Jacobian-vector product
``y * (dy - dy . y)`` takes milliseconds.
"""

from __future__ import annotations

import numpy as np

from ..core.activations import Softmax
from ..core.divergences import log_sum_exp
from ..core.examples import MULTIPLICATIVE_HAND, SOFTMAX_HAND
from ..core.tolerance import agree
from .parts import AnswerError, Case, Part, Verdict, as_numbers, compare_numbers, fmt

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "LARGE_WIDTH", "PARTS", "reference_softmax", "entry_name"]

#: the modules of backprop this homework may use: the grading kernel has no others
MAY_USE = ("core.checks", "core.examples")
#: the installed packages the homework may import (besides the standard library)
PACKAGES = ("numpy",)
#: the rule, as the homework states it
ALLOWED = ("this homework may use numpy and the data of bp.examples; not the library's activations, divergences "
           "or layers, which compute what it asks for")
#: the widths of the large-width part: an n x n float64 Jacobian needs 8 n^2 bytes (80 GB at 100,000)
LARGE_WIDTH = (100_000, 150_000)
#: the size of the large logits: exp(1000) overflows float64
BIG = 1000.0

_SOFTMAX = Softmax()


def reference_softmax(z) -> np.ndarray:
    """The library's (stable) softmax of a vector."""
    return _SOFTMAX.forward(np.asarray(z, dtype=float))


def entry_name(kind: str, idx: tuple) -> str:
    """An entry in the lecture's names, 1-based, beside the code's 0-based index."""
    if kind == "J":
        i, j = idx
        return f"dy_{i + 1}/dz_{j + 1} (J[{i}][{j}])"
    (i,) = idx
    lecture = {"y": "y_{}", "dz": "dDiv/dz_{}", "dy": "dDiv/dy_{}"}[kind].format(i + 1)
    return f"{lecture} ({kind}[{i}])"


def _namer(kind):
    return lambda idx: entry_name(kind, idx)


_PRELUDE = '''
import numpy as np


def vector(values):
    return np.array(values, dtype=float)
'''


class Hw03Part(Part):
    """What every part of homework 03 shares: the public cases are the self-check's, and the grade comes from
    the hidden cases alone (a public case answered by heart earns nothing)."""

    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED
    shares = {"public": 0.0}
    group_notes = {"public": "the public tests (your self-check's; the grade comes from the random cases)"}

    def public(self) -> list[Case]:
        raise NotImplementedError

    def public_cases(self):
        return [Case(c.label, c.payload, c.hidden, "public") for c in self.public()]


#: what each hidden case of a bundled part holds, one input of each kind
BUNDLE = ("one unit", "logits of size about 1000", "a wider vector")


class Bundled(Hw03Part):
    """A part whose hidden case is a bundle of inputs (:data:`BUNDLE`), judged together: the case passes only when
    every input is answered right, so an answer right only for one unit, or one that overflows at large logits,
    passes no hidden case.  A subclass defines ``one_hidden``, ``one_arguments``, ``one_expected``, ``one_judge``
    for one input, and a ``call`` that defines ``one(q)``."""

    def one_hidden(self, rng, n, kind) -> dict:
        raise NotImplementedError

    def hidden_case(self, rng, n):
        return Case(f"random inputs ({', '.join(BUNDLE)})", {"bundle": [self.one_hidden(rng, n, k) for k in BUNDLE]})

    def arguments(self, p):
        return self.one_arguments(p["bundle"][-1] if "bundle" in p else p)

    def entry_name(self, label, path, p):
        return self.one_entry_name(label, path, p["bundle"][-1] if "bundle" in p else p)

    def one_entry_name(self, label, path, q):
        return Part.entry_name(self, label, path, q)

    def expected(self, p):
        return [self.one_expected(q) for q in p["bundle"]] if "bundle" in p else self.one_expected(p)

    def judge(self, p, answer, expected):
        if "bundle" not in p:
            return self.one_judge(p, answer, expected)
        items = p["bundle"]
        if not isinstance(answer, list) or len(answer) != len(items):
            raise AnswerError("the answers to the case's inputs could not be read")
        for k, (q, got, want) in enumerate(zip(items, answer, expected)):
            verdict = self.one_judge(q, got, want)
            if not verdict.passed:
                return Verdict.wrong([f"input {k + 1} of {len(items)} ({BUNDLE[k]}): {d}" for d in verdict.details],
                                     f"{verdict.diagnosis} (on {BUNDLE[k]})")
        return Verdict.ok()


def _bundled(body: str) -> str:
    """A part's call source for one input ``q`` (``body`` returns the answer), run on a bundle or a single case."""
    return (_PRELUDE + "\n\ndef one(q):\n" + "".join(f"    {line}\n" for line in body.strip().splitlines())
            + 'result = [one(q) for q in p["bundle"]] if "bundle" in p else one(p)\n')


#: how far above the rest one large logit stands: more than 709 n / (n - 1) for every n >= 2, so a softmax shifted by
#: the mean logit instead of the largest overflows (z_i - mean >= 1000), and that logit is above 709 whatever the sign
#: of the others (-1200 + 2000), so exp(z) unshifted overflows too
ABOVE = 2 * BIG


def _logits(rng: np.random.Generator, n: int, big: bool) -> list:
    """n logits; ``big``: of size about 1000 with gaps of a few units (exp overflows, the softmax does not), one of
    them far above the rest (when n >= 2) and another far below (when n > 2, its y is 0 in float64)."""
    z = rng.normal(scale=2.0, size=n)
    if big:
        z = z + rng.choice([-1.0, 1.0]) * BIG * rng.uniform(0.8, 1.2)
        if n >= 2:
            above, below = rng.permutation(n)[:2]
            z[above] += ABOVE
            if n > 2:
                z[below] -= BIG
    return z.tolist()


def _shape(rng: np.random.Generator, kind: str) -> tuple[int, bool]:
    """(width, large logits?) of one input of a bundle: one unit (large logits or not), 2..9 units with large
    logits, 2..9 units with moderate ones."""
    if kind == BUNDLE[0]:
        return 1, bool(rng.integers(2))
    return int(rng.integers(2, 10)), kind == BUNDLE[1]


def _finite_hint(what: str) -> str:
    return (f"{what} is not finite for logits of size {fmt(BIG)}: exp(1000) overflows float64. Subtract the largest "
            f"logit first, exp(z - max z) / sum(exp(z - max z)): the same function, and every exp is at most 1")


# -- 1. the softmax itself ------------------------------------------------------------------------
class SoftmaxForward(Bundled, id="03_softmax", names=("softmax",), title="softmax, numerically stable"):
    call = _bundled('return call("softmax", vector(q["z"]))')
    argument_names = ("z",)

    def public(self):
        return [
            Case("z = (0, ln 2, ln 3), the hand example: y = (1/6, 1/3, 1/2)", {"z": SOFTMAX_HAND["z"]}),
            Case("one unit: y = (1)", {"z": [2.5]}),
            Case(f"logits of size {fmt(BIG)}, one far above the others: z = (1000, -999, -1000)",
                 {"z": [BIG, -BIG + 1, -BIG]}),
            Case(f"logits of size {fmt(BIG)}, all negative: z = (-1000, -1001, -1002, -1003)",
                 {"z": [-BIG, -BIG - 1, -BIG - 2, -BIG - 3]}),
            Case("five units of both signs", {"z": [1.5, -0.5, 0.25, -2.0, 3.0]}),
        ]

    def one_hidden(self, rng, n, kind):
        return {"z": _logits(rng, *_shape(rng, kind))}

    def one_arguments(self, p):
        return [np.array(p["z"], dtype=float).tolist()]

    def one_entry_name(self, label, path, p):
        return f"z_{path[0] + 1} (z[{path[0]}])" if len(path) == 1 else Part.entry_name(self, label, path, p)

    def one_expected(self, p):
        return reference_softmax(p["z"])

    def one_judge(self, p, answer, expected):
        got = as_numbers(answer, "y", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        z = np.array(p["z"])
        details = compare_numbers(got, expected, _namer("y"))
        if not np.isfinite(got).all():
            return Verdict.wrong(details, _finite_hint("y = softmax(z)"))
        with np.errstate(over="ignore"):
            if agree(got, np.exp(z)).all():
                return Verdict.wrong(details, "y_j = exp(z_j) / sum_k exp(z_k): the division by the sum is missing")
        if agree(got, reference_softmax(-z)).all():
            return Verdict.wrong(details, "the sign of z is flipped: y_j = exp(+z_j) / sum_k exp(+z_k)")
        if not agree(got.sum(), 1.0):
            return Verdict.wrong(details, f"the entries of y sum to {fmt(got.sum())}, not 1: y_j = exp(z_j) / "
                                          "sum_k exp(z_k) over every k, the same sum for each j")
        return Verdict.wrong(details, "y_j should be exp(z_j) / sum_k exp(z_k)")


# -- 2. the Jacobian ---------------------------------------------------------------------------------
def _jacobian(z) -> np.ndarray:
    y = reference_softmax(z)
    return y[:, None] * (np.eye(y.size) - y[None, :])  # [i, j] = dy_i/dz_j = y_i (delta_ij - y_j)


class SoftmaxJacobian(Bundled, id="03_softmax_jacobian", names=("softmax_jacobian",),
                      title="the softmax Jacobian, J[i][j] = dy_i/dz_j"):
    call = _bundled('return call("softmax_jacobian", vector(q["z"]))')
    argument_names = ("z",)

    def public(self):
        return [
            Case("z = (0, ln 2, ln 3): J = [[5, -2, -3], [-2, 8, -6], [-3, -6, 9]] / 36", {"z": SOFTMAX_HAND["z"]}),
            Case("one unit: J = [[0]] (y_1 = 1 whatever z_1 is)", {"z": [0.7]}),
            Case(f"logits of size {fmt(BIG)}: z = (1000, 1001, -1000, 999.5)", {"z": [BIG, BIG + 1, -BIG, BIG - 0.5]}),
            Case("two units", {"z": [0.5, -1.0]}),
        ]

    def one_hidden(self, rng, n, kind):
        return {"z": _logits(rng, *_shape(rng, kind))}

    def one_arguments(self, p):
        return [np.array(p["z"], dtype=float).tolist()]

    def one_expected(self, p):
        return _jacobian(p["z"])

    def one_judge(self, p, answer, expected):
        n = expected.shape[0]
        got = as_numbers(answer, "J", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        y = reference_softmax(p["z"])
        details = compare_numbers(got, expected, _namer("J"))
        rule = "J[i][j] = dy_i/dz_j = y_i (delta_ij - y_j)"
        if not np.isfinite(got).all():
            why = _finite_hint("J")
        elif agree(got, np.diag(y * (1 - y))).all():
            why = (f"only the diagonal is there: with a vector activation every z_j influences every y_i, so the "
                   f"entries i != j are -y_i y_j: {rule}")
        elif agree(got, -expected).all():
            why = f"every sign is flipped: the diagonal y_i (1 - y_i) is positive, the rest -y_i y_j negative: {rule}"
        elif agree(got, np.diag(y)).all():
            why = f"the term -y_i y_j is missing: {rule}"
        elif agree(np.diag(got), y * (1 - y)).all():
            why = f"the diagonal is right; off the diagonal dy_i/dz_j = -y_i y_j: {rule}"
        else:
            why = f"{rule}, with y = softmax(z) (n = {n})"
        return Verdict.wrong(details, why)


# -- 3. the general backward step --------------------------------------------------------------------
class VectorBackward(Bundled, id="03_vector_backward", names=("vector_backward",),
                     title="backward through a vector activation: dDiv/dz_j = sum over the outputs i of "
                           "dDiv/dy_i J[i][j]"):
    call = _bundled('return call("vector_backward", vector(q["dy"]), np.array(q["J"], dtype=float))')
    argument_names = ("dy", "J")

    def public(self):
        J = np.array(SOFTMAX_HAND["numbers"]["jacobian_36ths"]) / 36
        return [
            Case("the softmax of the hand example, dDiv/dy = (0, 0, -2): dDiv/dz = (1/6, 1/3, -1/2)",
                 {"dy": SOFTMAX_HAND["numbers"]["dDiv/dy"], "J": J.tolist()}),
            Case("a Jacobian that is not symmetric (3 outputs, 3 inputs)",
                 {"dy": [1.0, -2.0, 0.5], "J": [[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 2.0]]}),
            Case("3 outputs, 2 inputs (J is 3 x 2, as for a multiplicative layer of 3 products of 2 units)",
                 {"dy": [1.0, 0.5, -1.0], "J": [[2.0, -1.0], [0.0, 3.0], [1.0, 0.5]]}),
            Case("a scalar activation: J is diagonal", {"dy": [2.0, -1.0], "J": [[0.25, 0.0], [0.0, 0.5]]}),
        ]

    def one_hidden(self, rng, n, kind):
        # one unit: 1 x 1; then a square Jacobian that is not symmetric; then one that is not square
        n_in = 1 if kind == BUNDLE[0] else int(rng.integers(2, 7))
        n_out = n_in if kind != BUNDLE[2] else int(rng.choice([v for v in range(1, 8) if v != n_in]))
        J = rng.normal(size=(n_out, n_in))  # the lecture's layout: a row per output
        if n_out == n_in and n_in > 1:
            J[0, 1] += 1.0 + abs(J[0, 1]) + abs(J[1, 0])  # surely not symmetric
        return {"dy": rng.normal(size=n_out).tolist(), "J": J.tolist()}

    def one_arguments(self, p):
        return [np.array(p["dy"], dtype=float).tolist(), np.array(p["J"], dtype=float).tolist()]

    def one_entry_name(self, label, path, p):
        if label == "J" and len(path) == 2:
            return entry_name("J", path)
        if label == "dy" and len(path) == 1:
            return entry_name("dy", path)
        return Part.entry_name(self, label, path, p)

    def one_expected(self, p):
        return np.array(p["dy"], dtype=float) @ np.array(p["J"], dtype=float)

    def one_judge(self, p, answer, expected):
        J, dy = np.array(p["J"], dtype=float), np.array(p["dy"], dtype=float)
        rule = ("dDiv/dz_j = sum over the outputs i of dDiv/dy_i dy_i/dz_j: the row dDiv/dy times J, with "
                "J[i][j] = dy_i/dz_j (a row per output, a column per input)")
        try:
            got = as_numbers(answer, "dz", expected.shape)
        except AnswerError as exc:
            if np.shape(answer) == (J.shape[0],):
                return Verdict.wrong(str(exc), f"dz has one entry per output y_i, not one per input z_j: the "
                                               f"sum runs over the rows of J (the outputs), J @ dy sums over its "
                                               f"columns. {rule}")
            raise
        if agree(got, expected).all():
            return Verdict.ok()
        details = compare_numbers(got, expected, _namer("dz"))
        if J.shape[0] == J.shape[1] and agree(got, J @ dy).all():
            why = (f"you multiplied the other way round, J @ dy, which treats J as if its rows were the inputs "
                   f"(the transposed Jacobian); it gives the same numbers only when J is symmetric, as the "
                   f"softmax's is: {rule}")
        elif J.shape[0] == J.shape[1] and agree(got, np.diag(J) * dy).all():
            why = f"only the diagonal terms are there (the rule of a scalar activation): {rule}"
        else:
            why = rule
        return Verdict.wrong(details, why)


# -- 4. backward through softmax, as a Jacobian-vector product ------------------------------------------
def _softmax_backward(dy, z) -> np.ndarray:
    y = reference_softmax(z)
    dy = np.asarray(dy, dtype=float)
    return y * (dy - dy @ y)


def _softmax_backward_diagnosis(got, dy, z) -> str:
    # the hints name the wrong term or factor and point at the derivation; the simplified product itself is what
    # part 4 asks the student to find, so no hint states it
    y = reference_softmax(z)
    rule = ("put part 2's J[i][j] = y_i (delta_ij - y_j) into part 3's sum dDiv/dz_j = sum_i dDiv/dy_i J[i][j] and "
            "split it in two: the delta_ij part keeps only the term i = j, and the -y_j part holds a factor the same "
            "for every j, computed once (notebook 03, section 4.1)")
    if not np.isfinite(got).all():
        return _finite_hint("dDiv/dz")
    if agree(got, y * dy).all():
        return ("only the delta_ij part of the sum is there: the -y_j part of J[i][j] is not zero off the diagonal, "
                "so every output i contributes a second term to each dDiv/dz_j. " + rule[0].upper() + rule[1:])
    if agree(got, y * (1 - y) * dy).all():
        return (f"only the diagonal of the Jacobian is used (a scalar activation's rule): the entries i != j of J "
                f"contribute too; {rule}")
    if agree(got, dy).all():
        return f"dDiv/dy was passed through unchanged: no factor of the softmax's Jacobian is applied; {rule}"
    if agree(got, y * (dy - dy.sum())).all():
        return (f"in the part of the sum that runs over every i, each dDiv/dy_i is missing the factor of its own row "
                f"of J (row i of J[i][j] = y_i (delta_ij - y_j) carries y_i); {rule}")
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.all(y > 0) and agree(got * y, _softmax_backward(dy, z)).all():
            return (f"each entry dDiv/dz_j lacks one factor that both of its terms share: yours times y_j is the "
                    f"expected value. Factor it out of the two terms rather than dropping it; {rule}")
    if agree(got, -_softmax_backward(dy, z)).all():
        return (f"every entry has the opposite sign (exactly the negative of the expected): check the sign of each "
                f"of the two terms against J[i][j] = y_i (delta_ij - y_j); {rule}")
    return rule[0].upper() + rule[1:]


class SoftmaxBackward(Bundled, id="03_softmax_backward", names=("softmax_backward",),
                      title="backward through softmax, without building its Jacobian"):
    call = _bundled('return call("softmax_backward", vector(q["dy"]), vector(q["z"]))')
    argument_names = ("dy", "z")

    def public(self):
        hand = SOFTMAX_HAND
        return [
            Case("the hand example, dDiv/dy = (0, 0, -2) (cross-entropy, d = (0, 0, 1)): "
                 "dDiv/dz = (1/6, 1/3, -1/2)", {"dy": hand["numbers"]["dDiv/dy"], "z": hand["z"]}),
            Case("one unit: dDiv/dz = 0 (y_1 = 1 whatever z_1 is)", {"dy": [3.0], "z": [-0.4]}),
            Case(f"logits of size {fmt(BIG)}", {"dy": [1.0, -2.0, 0.5], "z": [BIG, BIG - 0.5, -BIG]}),
            Case("four units, dDiv/dy of both signs", {"dy": [0.5, -1.0, 2.0, 0.25], "z": [0.3, -1.2, 2.0, 0.0]}),
        ]

    def one_hidden(self, rng, n, kind):
        width, big = _shape(rng, kind)
        return {"dy": rng.normal(size=width).tolist(), "z": _logits(rng, width, big)}

    def one_arguments(self, p):
        return [np.array(p["dy"], dtype=float).tolist(), np.array(p["z"], dtype=float).tolist()]

    def one_entry_name(self, label, path, p):
        if label == "dy" and len(path) == 1:
            return entry_name("dy", path)
        return f"z_{path[0] + 1} (z[{path[0]}])" if len(path) == 1 else Part.entry_name(self, label, path, p)

    def one_expected(self, p):
        return _softmax_backward(p["dy"], p["z"])

    def one_judge(self, p, answer, expected):
        got = as_numbers(answer, "dz", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        return Verdict.wrong(compare_numbers(got, expected, _namer("dz")),
                             _softmax_backward_diagnosis(got, np.array(p["dy"], dtype=float), np.array(p["z"])))


def _large_inputs(p) -> tuple[np.ndarray, np.ndarray]:
    """The large case's dy and z, drawn from its seed (the same lines run in the kernel)."""
    rng = np.random.default_rng(p["seed"])
    z = rng.normal(scale=3.0, size=p["width"])
    dy = rng.normal(size=p["width"])
    return dy, z


class SoftmaxBackwardLarge(Hw03Part, id="03_softmax_backward_large", names=("softmax_backward",), hidden_count=2,
                           title="backward through softmax at a width of 100,000 or more, without building J"):
    # the inputs are drawn in the kernel from the case's seed (the grader draws the same), and given to the
    # student's function by identity ("give"), so 10^5 numbers need not travel as JSON; only the entries the
    # grader asks for come back
    call = _PRELUDE + '''
rng = np.random.default_rng(p["seed"])
z = rng.normal(scale=3.0, size=p["width"])
dy = rng.normal(size=p["width"])
give(z, "z")
give(dy, "dy")
try:
    out = call("softmax_backward", dy, z)
except MemoryError:
    raise Wrong(f"softmax_backward ran out of memory at width n = {p['width']:,}: an n x n Jacobian would need "
                f"8 n^2 bytes = {8 * p['width'] ** 2 / 1e9:,.0f} GB. Simplify the sum of part 4 on paper so that "
                f"it needs only vectors (one number shared by every j, then entry-by-entry products): about 3n "
                f"operations, no matrix")
try:
    out = np.asarray(out, dtype=float)
except (TypeError, ValueError):
    raise Wrong("softmax_backward should return a vector of numbers")
if out.shape != (p["width"],):
    raise Wrong(f"softmax_backward should return a vector of shape ({p['width']},), got shape {out.shape}")
result = out[np.array(p["indices"], dtype=int)]
'''
    argument_names = ("dy", "z")

    def _case(self, rng, width, label):
        seed = int(rng.integers(2**31))
        dy, z = _large_inputs({"seed": seed, "width": width})
        picks = set(rng.choice(width, size=60, replace=False).tolist()) | {int(np.argmax(z)), int(np.argmin(z)), 0}
        return Case(label, {"seed": seed, "width": width, "indices": sorted(picks)})

    def public(self):
        return [self._case(np.random.default_rng(3), LARGE_WIDTH[0], f"width {LARGE_WIDTH[0]:,}")]

    def hidden_case(self, rng, n):
        return self._case(rng, int(rng.integers(*LARGE_WIDTH)), "a random width of 100,000 or more")

    def expected(self, p):
        dy, z = _large_inputs(p)
        return _softmax_backward(dy, z)[np.array(p["indices"])]

    def judge(self, p, answer, expected):
        got = as_numbers(answer, "dz (the entries checked)", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        idx = np.array(p["indices"])
        dy, z = _large_inputs(p)
        details = [f"{entry_name('dz', (int(idx[k]),))}: expected {fmt(expected[k])}, got {fmt(got[k])}"
                   for k in np.flatnonzero(~agree(got, expected))[:3]]
        y = reference_softmax(z)[idx]
        if agree(got, y * dy[idx]).all():
            why = "only the term i = j of the sum is there: every output y_i depends on z_j"
        elif not np.isfinite(got).all():
            why = "dDiv/dz is not finite: compute y with the largest logit subtracted"
        else:
            why = ("your softmax_backward disagrees at this width: is y the softmax of the whole vector z, and the "
                   "number shared by every j a sum over all n entries? (part 4's check finds the wrong term on small "
                   "vectors)")
        return Verdict.wrong(details, why)


# -- 5. softmax and cross-entropy, fused ----------------------------------------------------------------
class SoftmaxCrossEntropy(Bundled, id="03_softmax_ce_backward", names=("softmax_ce_backward",),
                          title="softmax then cross-entropy, from the logits: Div and dDiv/dz, finite for any logits"):
    call = _bundled('''
result = call("softmax_ce_backward", vector(q["z"]), vector(q["d"]))
if not isinstance(result, (tuple, list)) or len(result) != 2:
    raise Wrong("softmax_ce_backward should return the pair (Div, dz)")
return result
''')
    argument_names = ("z", "d")

    def public(self):
        hand = SOFTMAX_HAND
        return [
            Case("the hand example, d = (0, 0, 1): Div = ln 2, dDiv/dz = (1/6, 1/3, -1/2)",
                 {"z": hand["z"], "d": hand["d"]}),
            Case(f"logits of size {fmt(BIG)}: z = (1000, 0, -1000), d = (0, 1, 0): Div = 1000, dDiv/dz = (1, -1, 0)",
                 {"z": [BIG, 0.0, -BIG], "d": [0.0, 1.0, 0.0]}),
            Case("a soft target d = (0.2, 0.3, 0.5)", {"z": [0.5, -1.0, 2.0], "d": [0.2, 0.3, 0.5]}),
            Case("one unit: Div = 0, dDiv/dz = 0", {"z": [1.5], "d": [1.0]}),
        ]

    def one_hidden(self, rng, n, kind):
        width, big = _shape(rng, kind)
        if kind != BUNDLE[2]:  # a one-hot target (the large logits' case too), then a soft one
            d = np.zeros(width)
            d[int(rng.integers(width))] = 1.0
        else:
            d = rng.dirichlet(np.ones(width))
        return {"z": _logits(rng, width, big), "d": d.tolist()}

    def one_arguments(self, p):
        return [np.array(p["z"], dtype=float).tolist(), np.array(p["d"], dtype=float).tolist()]

    def one_entry_name(self, label, path, p):
        name = {"z": "z", "d": "d"}.get(label, label)
        return f"{name}_{path[0] + 1} ({name}[{path[0]}])" if len(path) == 1 else Part.entry_name(self, label, path, p)

    def one_expected(self, p):
        z, d = np.array(p["z"], dtype=float), np.array(p["d"], dtype=float)
        return float(log_sum_exp(z) * d.sum() - d @ z), reference_softmax(z) * d.sum() - d

    def one_judge(self, p, answer, expected):
        div_ref, dz_ref = expected
        z, d = np.array(p["z"], dtype=float), np.array(p["d"], dtype=float)
        div = as_numbers(answer[0], "Div", ())
        dz = as_numbers(answer[1], "dz", dz_ref.shape)
        y = reference_softmax(z)
        # the hints name the wrong quantity, sign or term and point at notebook 03; the form of Div in the logits and
        # the fused gradient are what this part asks the student to work out, so no hint states them
        div_rule = ("Div = -sum_i d_i log y_i, with y = softmax(z): write log y_i in terms of the logits (the log of "
                    "a quotient) and use that d sums to 1")
        dz_rule = ("dDiv/dz is the row dDiv/dy of cross-entropy times the softmax's Jacobian (part 3's sum with part "
                   "2's J); notebook 03, section 5 works out what that product becomes")
        if not np.isfinite(div) or not np.isfinite(dz).all():
            what = "Div" if not np.isfinite(div) else "dDiv/dz"
            if what == "Div":
                how = ("never take log(y): a y_i that underflowed to 0 gives log 0 = -inf. Write log y_i in terms of "
                       "the logits, and keep the log of a sum of exponentials finite as part 1 kept the softmax "
                       "finite (subtract the largest logit inside, and account for it outside)")
            else:
                how = ("never divide by y: a y_i that underflowed to 0 gives a division by 0. Going through the "
                       "softmax's Jacobian removes every division (notebook 03, section 5.1)")
            return Verdict.wrong(f"{what} is not finite (Div: {fmt(div)}; dz: {fmt(dz)})",
                                 f"{what} is not finite for logits of size {fmt(BIG)}: {how}")
        if not agree(div, div_ref):
            m = float(np.max(z))
            if agree(div, -div_ref):
                why = (f"Div has the opposite sign (exactly the negative of the expected): cross-entropy is never "
                       f"negative, since every log y_i <= 0. {div_rule}")
            elif m != 0 and agree(div + m * d.sum(), div_ref):
                why = (f"Div is too small by exactly the largest logit, max z = {fmt(m)}: the logit subtracted "
                       f"inside the log-sum-exp must be added back outside it")
            elif m != 0 and agree(div - m * d.sum(), div_ref):
                why = (f"Div is too large by exactly the largest logit, max z = {fmt(m)}: the logit subtracted "
                       f"inside the log-sum-exp is counted twice outside it")
            elif (np.count_nonzero(d) > 1
                  and agree(div, log_sum_exp(z) - z[int(np.argmax(d))])):
                why = (f"your Div uses only the target's largest entry, as for a one-hot d: with a soft target every "
                       f"d_i weighs its own log y_i. {div_rule}")
            else:
                why = div_rule
            return Verdict.wrong(f"Div: expected {fmt(div_ref)}, got {fmt(div)}", why)
        if agree(dz, dz_ref).all():
            return Verdict.ok()
        details = compare_numbers(dz, dz_ref, _namer("dz"))
        with np.errstate(divide="ignore", invalid="ignore"):
            dY = np.where(d > 0, -d / np.where(y > 0, y, 1.0), 0.0)
        if agree(dz, -dz_ref).all():
            why = f"every entry of dDiv/dz has the opposite sign (exactly the negative of the expected): {dz_rule}"
        elif np.isfinite(dY).all() and agree(dz, dY).all():
            why = f"that is dDiv/dy, the gradient before the softmax, which still has to go back through it: {dz_rule}"
        elif agree(dz, y).all() or agree(dz, y - 1).all():
            why = f"your dDiv/dz does not depend on the target d as it should: {dz_rule}"
        else:
            why = dz_rule[0].upper() + dz_rule[1:]
        return Verdict.wrong(details, why)


# -- 6. a multiplicative layer ----------------------------------------------------------------------
def _multiplicative(do, y, pairs, *, swap=True, accumulate=True, square_once=False, upstream=True) -> np.ndarray:
    """dDiv/dy of o_i = y_j y_l.  The keywords make four typical bugs, for the diagnosis: ``swap=False``
    (a factor's own value instead of the other's), ``accumulate=False`` (= instead of +=), ``square_once``
    (a square y_j y_j given one term), ``upstream=False`` (the factor dDiv/do_i left out)."""
    out = np.zeros(len(y))
    for g, (j, l) in zip(do if upstream else np.ones(len(do)), pairs):
        for a, b in ((j, l),) if (square_once and j == l) else ((j, l), (l, j)):
            term = g * (y[b] if swap else y[a])
            out[a] = out[a] + term if accumulate else term
    return out


class MultiplicativeBackward(Hw03Part, id="03_multiplicative_backward", names=("multiplicative_backward",),
                             title="a multiplicative layer o_i = y_j y_l: dDiv/dy_j = sum over products of "
                                   "dDiv/do_i times the other factor"):
    call = _PRELUDE + '''
pairs = [tuple(pair) for pair in p["pairs"]]
result = call("multiplicative_backward", vector(p["do"]), vector(p["y"]), pairs)
'''
    argument_names = ("do", "y", "pairs")

    def public(self):
        hand = MULTIPLICATIVE_HAND
        return [
            Case("the hand example: y = (2, -1, 3), products y_1 y_2, y_2 y_3, y_3 y_3, dDiv/do = (1, 2, -1): "
                 "dDiv/dy = (-1, 8, -8)", {"do": hand["dDiv/do"], "y": hand["y"], "pairs": hand["pairs"]}),
            Case("one product o_1 = y_1 y_2 (a gate)", {"do": [2.0], "y": [0.5, -3.0], "pairs": [[0, 1]]}),
            Case("y_1 in three products, one unit unused",
                 {"do": [1.0, -2.0, 0.5], "y": [1.5, 2.0, -1.0, 4.0], "pairs": [[0, 1], [2, 0], [0, 1]]}),
            Case("a square o_1 = y_2 y_2", {"do": [3.0], "y": [1.0, -2.0], "pairs": [[1, 1]]}),
        ]

    def hidden_case(self, rng, n):
        width = int(rng.integers(2, 7))
        count = int(rng.integers(3, 7))
        pairs = rng.integers(0, width, size=(count, 2))
        pairs[0] = [0, 1]
        pairs[1] = [int(rng.integers(width))] * 2  # a square
        pairs[-1] = [pairs[0][1], pairs[0][0]]  # unit 1 and 2 again, the other way round
        y = rng.normal(size=width)
        y[0] = (1 - 2 * (n % 2)) * max(abs(y[0]), 0.2)
        return Case("random products", {"do": rng.normal(size=count).tolist(), "y": y.tolist(),
                                        "pairs": pairs.tolist()})

    def arguments(self, p):
        return [np.array(p["do"], dtype=float).tolist(), np.array(p["y"], dtype=float).tolist(),
                [list(pair) for pair in p["pairs"]]]

    def entry_name(self, label, path, p):
        if label == "do" and len(path) == 1:
            return f"dDiv/do_{path[0] + 1} (do[{path[0]}])"
        if label == "y" and len(path) == 1:
            return entry_name("y", path)
        return super().entry_name(label, path, p)

    def expected(self, p):
        return _multiplicative(p["do"], p["y"], p["pairs"])

    def judge(self, p, answer, expected):
        got = as_numbers(answer, "dy", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        do, y, pairs = p["do"], p["y"], p["pairs"]
        details = compare_numbers(got, expected, _namer("dy"))
        rule = "dDiv/dy_j = sum over the products o_i that use y_j of dDiv/do_i times the other factor"
        if agree(got, _multiplicative(do, y, pairs, swap=False)).all():
            why = (f"multiply swaps: in o_i = y_j y_l, y_j's local derivative is the other factor y_l, not y_j "
                   f"itself: {rule}")
        elif agree(got, _multiplicative(do, y, pairs, accumulate=False)).all():
            why = (f"a unit used by several products (or twice, in a square) collects one term from each; "
                   f"yours keeps only the last (= instead of +=): {rule}")
        elif agree(got, _multiplicative(do, y, pairs, upstream=False)).all():
            why = (f"the factor dDiv/do_i (do[i], the gradient arriving from above) is missing: each term is the "
                   f"local derivative do_i/dy_j times dDiv/do_i, and yours has the local derivative alone: {rule}")
        elif any(j == l for j, l in pairs) and agree(got, _multiplicative(do, y, pairs, square_once=True)).all():
            why = f"a square o_i = y_j y_j gives y_j both terms, 2 y_j dDiv/do_i: {rule}"
        else:
            why = rule
        return Verdict.wrong(details, why)


#: the graded parts of homework 03, in the notebook's order
PARTS = (SoftmaxForward(), SoftmaxJacobian(), VectorBackward(), SoftmaxBackward(), SoftmaxBackwardLarge(),
         SoftmaxCrossEntropy(), MultiplicativeBackward())
