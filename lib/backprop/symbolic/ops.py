"""Running the library's rules on SymPy symbols, and comparing them with ``sympy.diff``.

Every rule of the library (an activation's forward and derivative, a
divergence's rule, a layer's backward, a gate's local gradient) is written with
arithmetic, comparisons and an ``xp`` namespace.  Here that namespace is
:data:`SYMPY_OPS`, and the arrays are :class:`SymArray`: object arrays of SymPy
expressions whose comparisons give *indicators* (1 where the comparison holds,
0 where it does not), exactly what ``z > 0`` means in numpy arithmetic.  So the
lines that run on numbers run here, unchanged, on symbols.

:func:`compare` then checks that the library's result minus the reference (built
with ``sympy.diff``) simplifies to 0 entry by entry, on every *region*: a
substitution that fixes which side of each kink or branch the symbols are on
(z positive, z negative, z = 0...), so that piecewise and numerically stable
forms are checked branch by branch.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["SymArray", "SYMPY_OPS", "sym_array", "symbols_array", "RuleCheck", "compare", "regions", "is_zero", "clearly_nonzero"]


def _indicator(op):
    def make(a, b):
        return sp.Piecewise((1, op(a, b)), (0, True))
    ufunc = np.frompyfunc(make, 2, 1)

    def method(self, other):
        return ufunc(self, other).view(SymArray)
    return method


class SymArray(np.ndarray):
    """An object array of SymPy expressions whose comparisons are indicators (Iverson brackets)."""

    __gt__ = _indicator(operator.gt)
    __ge__ = _indicator(operator.ge)
    __lt__ = _indicator(operator.lt)
    __le__ = _indicator(operator.le)
    __eq__ = _indicator(sp.Eq)
    __hash__ = None

    def astype(self, dtype, *args, **kwargs):
        """Unchanged: an indicator is already a number (numpy turns its bools into floats here)."""
        return self

    def max(self, axis=None, keepdims=False, **_):
        """The largest entry along ``axis``, as SymPy's Max (numpy's method name, so rules read alike)."""
        return SYMPY_OPS.max(self, axis=axis, keepdims=keepdims)


def sym_array(values) -> SymArray:
    """``values`` (expressions, nested lists) as a :class:`SymArray`."""
    return np.array(values, dtype=object).view(SymArray)


def symbols_array(prefix: str, shape, **assumptions) -> SymArray:
    """A :class:`SymArray` of SymPy symbols ``prefix_i`` / ``prefix_ij`` of the given shape."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(f"{prefix}_{''.join(str(i + 1) for i in idx)}", **assumptions)
    return out.view(SymArray)


def _elementwise(f):
    ufunc = np.frompyfunc(f, 1, 1)

    def apply(x):
        return ufunc(x).view(SymArray) if isinstance(x, np.ndarray) else f(x)
    return apply


def _choose(cond, a, b):
    """``a`` where ``cond`` holds, else ``b``: a condition (a relational) or an indicator (0 or 1)."""
    cond = sp.sympify(cond)
    if cond is sp.true:
        return a
    if cond is sp.false:
        return b
    if isinstance(cond, sp.Piecewise) and len(cond.args) == 2 and cond.args[0][0] == 1 and cond.args[1][0] == 0:
        cond = cond.args[0][1]  # an indicator: the branch is chosen, never multiplied (the other may be undefined)
    if isinstance(cond, (sp.core.relational.Relational, sp.logic.boolalg.Boolean)):
        return sp.Piecewise((a, cond), (b, True))
    return cond * a + (1 - cond) * b  # an indicator of unknown form


class _SympyOps:
    """The subset of numpy the library's rules use, acting on SymPy expressions and :class:`SymArray`."""

    exp = staticmethod(_elementwise(sp.exp))
    log = staticmethod(_elementwise(sp.log))
    log1p = staticmethod(_elementwise(lambda x: sp.log(1 + x)))
    tanh = staticmethod(_elementwise(sp.tanh))

    @staticmethod
    def where(cond, a, b):
        if any(isinstance(v, np.ndarray) for v in (cond, a, b)):
            return np.frompyfunc(_choose, 3, 1)(cond, a, b).view(SymArray)
        return _choose(cond, a, b)

    @staticmethod
    def stack(arrays, axis=0):
        return np.stack([np.asarray(a, dtype=object) for a in arrays], axis=axis).view(SymArray)

    @staticmethod
    def maximum(a, b):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.frompyfunc(sp.Max, 2, 1)(a, b).view(SymArray)
        return sp.Max(a, b)

    @staticmethod
    def max(a, axis=None, keepdims=False):
        a = np.asarray(a, dtype=object)
        if axis is None:  # numpy reduces one axis at a time only for Max: over all entries, flatten first
            out = np.frompyfunc(sp.Max, 2, 1).reduce(a.ravel())
            return np.full((1,) * a.ndim, out, dtype=object).view(SymArray) if keepdims else out
        out = np.frompyfunc(sp.Max, 2, 1).reduce(a, axis=axis, keepdims=keepdims)
        return out.view(SymArray) if isinstance(out, np.ndarray) else out


#: the namespace that makes the library's rules symbolic (pass it as ``xp``)
SYMPY_OPS = _SympyOps()


# -- the comparison -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleCheck:
    """The library's rule and SymPy's derivative, entry by entry, and whether they agree."""

    rule: str
    statement: str
    library: Any
    sympy: Any
    difference: Any
    ok: bool

    def __str__(self) -> str:
        verdict = "verified" if self.ok else f"FAILS, library minus sympy = {self.difference}"
        return f"{self.rule}: {self.statement}: {verdict}"


def _flat(x):
    if isinstance(x, np.ndarray):
        return [sp.sympify(v) for v in x.ravel()]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [sp.sympify(x)]


#: moderate values for the symbols of a quick numerical probe (their signs follow each symbol's assumptions)
_PROBES = ((0.7, -1.3, 0.45, 1.9, -0.85, 1.15, -0.6, 0.35, 1.6, -1.05),
           (-1.25, 0.55, -0.95, -0.4, 1.7, -1.45, 0.8, -0.3, 0.65, 1.35))


def clearly_nonzero(expr) -> bool:
    """Whether ``expr`` is certainly not 0: at a point that its symbols' assumptions allow, evaluated to 30
    digits, it is far from 0.  Sound (one such point is a counterexample) and fast; ``False`` says nothing.

    A wrong rule is told apart in milliseconds this way, where ``simplify`` would spend seconds
    trying to prove a difference 0 that is not.
    """
    symbols = sorted(expr.free_symbols, key=str)
    if any(s.is_integer or s.is_real is False for s in symbols):
        return False  # a width, an index or a complex symbol: left to simplify
    for probe in _PROBES:
        point = {}
        for i, s in enumerate(symbols):
            v = probe[i % len(probe)] * (1 + i // len(probe))
            if s.is_positive or s.is_nonnegative:
                v = abs(v)
            elif s.is_negative or s.is_nonpositive:
                v = -abs(v)
            point[s] = sp.Float(v, 30)
        try:
            value = sp.N(expr.subs(point), 30)
        except (TypeError, ValueError, ZeroDivisionError):  # pragma: no cover - an expression evalf cannot take
            continue
        if value.is_number and value.is_finite and abs(complex(value)) > 1e-12:
            return True
    return False


def is_zero(expr) -> bool:
    """Whether ``expr`` is exactly 0: it simplifies to 0, or it is real and its exponential simplifies to 1.

    The second test is sound (exp is one-to-one on the reals) and settles differences of
    logarithms, such as a shifted log-sum-exp, that ``simplify`` leaves alone.  An expression
    that a numerical probe shows to be nonzero (:func:`clearly_nonzero`) is not simplified at all.
    """
    expr = sp.nsimplify(sp.sympify(expr), rational=True)
    if expr == 0:
        return True
    if clearly_nonzero(expr):
        return False
    if sp.simplify(expr) == 0:
        return True
    return bool(expr.is_real) and sp.simplify(sp.exp(expr)) == 1


def compare(rule, statement, library, reference, on=({},)) -> RuleCheck:
    """The library's result against the reference, entry by entry, on every region of ``on``.

    ``on`` is a sequence of substitutions (see :func:`regions`); an entry agrees
    when library minus reference simplifies to 0 on each of them.
    """
    lib, ref = _flat(library), _flat(reference)
    if len(lib) != len(ref):
        raise ValueError(f"rule {rule}: the library gave {len(lib)} entries, sympy {len(ref)}")
    diffs = []
    for a, b in zip(lib, ref):
        worst = sp.Integer(0)
        for region in on:
            d = (a - b).subs(region)
            if not is_zero(d):
                worst = sp.simplify(d)
        diffs.append(worst)
    shape = np.shape(library) if isinstance(library, np.ndarray) else None
    as_obj = (lambda v: sp.Matrix(np.array(v, dtype=object).reshape(shape)) if shape and len(shape) == 2
              else (v if len(v) > 1 else v[0]))
    return RuleCheck(rule, statement, as_obj(lib), as_obj(ref), as_obj(diffs), all(d == 0 for d in diffs))


def regions(choices: dict) -> list[dict]:
    """Every combination of ``{symbol: (value, value, ...)}``: a list of substitutions.

    ``regions({z: (p, -p, 0)})`` -> ``[{z: p}, {z: -p}, {z: 0}]``, p a positive symbol.
    """
    symbols = list(choices)
    return [dict(zip(symbols, values)) for values in itertools.product(*(choices[s] for s in symbols))]
