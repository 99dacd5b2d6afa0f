"""SymPy derivations of notebook 03: the softmax Jacobian, and softmax followed by a divergence.

Three witnesses for the rules of :class:`backprop.core.activations.Softmax` and the
divergences that follow it, on symbols:

* :func:`general_softmax_jacobian` -- ``dy_i/dz_j = y_i (delta_ij - y_j)`` for a softmax of
  *any* width n, from ``sympy.diff`` of ``exp(z_i) / sum_k exp(z_k)`` with an indexed
  sum (SymPy keeps n a symbol);
* :func:`softmax_jacobian_derivation` -- the same for a given width, entry by entry, and
  the library's own ``Softmax.jacobian`` run on the symbols;
* :func:`softmax_divergence_collapse` -- the library's chain (the divergence's rule for
  dDiv/dy, then ``Softmax.backward``) equals ``sum(d) y - d``, which is ``y - d`` when
  the target d is a distribution, for cross-entropy and for KL.

Every Jacobian is laid out the lecture's way, as ``Softmax.jacobian`` stores it: entry
``[i, j]`` is ``dy_i/dz_j``, row i for the output y_i, column j for the input z_j.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import activations as A
from ..core import divergences as D
from .ops import SYMPY_OPS as S
from .ops import RuleCheck, compare, is_zero, sym_array, symbols_array

__all__ = ["general_softmax_jacobian", "softmax_jacobian_derivation", "softmax_divergence_collapse"]

#: the divergences whose gradient through a softmax collapses to y - d
COLLAPSING_DIVERGENCES = ("cross_entropy", "kl_divergence")


@dataclass(frozen=True)
class GeneralJacobian:
    """``dy_i/dz_j`` of a softmax of width n (n a symbol): SymPy's raw result and the rule."""

    y_i: sp.Expr  # exp(z_i) / sum_k exp(z_k)
    raw: sp.Expr  # sympy.diff(y_i, z_j), as SymPy writes it
    rule: sp.Expr  # y_i (delta_ij - y_j), written with the sums
    ok: bool  # raw - rule simplifies to 0


def general_softmax_jacobian() -> GeneralJacobian:
    """``sympy.diff(exp(z_i) / sum_{k=1}^n exp(z_k), z_j)`` for symbolic n, i, j, against y_i (delta_ij - y_j).

    SymPy differentiates the indexed sum term by term (a Kronecker delta per term);
    evaluating it keeps the term k = j, on the branch j <= n (j is a unit, 1 <= j <= n).
    """
    n = sp.Symbol("n", integer=True, positive=True)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    z = sp.IndexedBase("z", real=True)
    total = sp.Sum(sp.exp(z[k]), (k, 1, n))
    y_i, y_j = sp.exp(z[i]) / total, sp.exp(z[j]) / total
    raw = sp.diff(y_i, z[j])
    evaluated = raw.doit().replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])  # i <= n
    rule = y_i * (sp.KroneckerDelta(i, j) - y_j)
    return GeneralJacobian(y_i, raw, rule, bool(sp.simplify(evaluated - rule) == 0))


@dataclass(frozen=True)
class JacobianDerivation:
    """The softmax Jacobian of one width, three ways, as SymPy matrices (entry ``[i, j]`` = dy_i/dz_j)."""

    width: int
    jacobian: sp.Matrix  # sympy.diff(y_i, z_j), in the logits z
    in_y: sp.Matrix  # y_i (delta_ij - y_j), in the symbols y_1..y_n
    y: tuple  # the symbols y_1..y_n
    ok: bool  # sympy.diff equals y_i (delta_ij - y_j) in every entry
    library: RuleCheck  # the library's Softmax.jacobian, on the symbols, against sympy.diff


def softmax_jacobian_derivation(width: int = 3) -> JacobianDerivation:
    """``J[i, j] = dy_i/dz_j`` for a softmax of ``width`` units from ``sympy.diff``, checked entry by entry."""
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 6:
        raise ValueError(f"argument 'width' expected an integer in 1..6 (SymPy slows down beyond), got {width!r}")
    z = symbols_array("z", width, real=True)
    e = [sp.exp(v) for v in z]
    y = [v / sum(e) for v in e]
    jac = sp.Matrix(width, width, lambda i, j: sp.diff(y[i], z[j]))
    ys = sp.symbols(f"y_1:{width + 1}", positive=True)
    in_y = sp.Matrix(width, width, lambda i, j: ys[i] * (sp.KroneckerDelta(i, j) - ys[j]))
    back = dict(zip(ys, y))
    ok = all(is_zero(jac[i, j] - in_y[i, j].subs(back)) for i in range(width) for j in range(width))
    # the library's lines, given the textbook y (its max-shifted forward is checked in symbolic.rules)
    lib = A.Softmax().jacobian(z, y=sym_array(y), xp=S)
    library = compare("softmax_jacobian", "library J[i, j] = dy_i/dz_j equals sympy.diff(y_i, z_j)", lib, jac.tolist())
    return JacobianDerivation(width, jac, in_y, tuple(ys), ok, library)


def softmax_divergence_collapse(divergence: str = "cross_entropy", width: int = 3) -> RuleCheck:
    """The library's chain through a softmax output equals ``sum(d) y - d`` (``y - d`` for a distribution d).

    dDiv/dy comes from the divergence's own rule, then ``Softmax.backward`` (the
    Jacobian-vector product) carries it to z: the lines that run on numbers, here on
    symbols, against ``sum(d) y_i - d_i`` and against ``sympy.diff`` of the composed
    divergence.
    """
    if divergence not in COLLAPSING_DIVERGENCES:
        raise ValueError(f"argument 'divergence' expected one of {COLLAPSING_DIVERGENCES}, got {divergence!r}")
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 5:
        raise ValueError(f"argument 'width' expected an integer in 1..5, got {width!r}")
    z = symbols_array("z", width, real=True)
    d = symbols_array("d", width, positive=True)
    e = [sp.exp(v) for v in z]
    y = sym_array([v / sum(e) for v in e])
    value, dY = D.get_divergence(divergence).rule(y, d, xp=S)
    dz = A.Softmax().backward(dY, z, y=y, xp=S)
    collapsed = [sum(d) * y[i] - d[i] for i in range(width)]
    value = value.item() if hasattr(value, "item") else value  # one instance: a 0-d array
    direct = [sp.diff(value, v) for v in z]
    chain = compare(f"softmax_{divergence}", "dDiv/dz = (dDiv/dy) J = sum(d) y - d", dz, collapsed)
    if not chain.ok:
        return chain
    return compare(f"softmax_{divergence}", "dDiv/dz = sympy.diff(Div(softmax(z), d), z) = sum(d) y - d",
                   direct, collapsed)
