"""The loss surfaces of notebook 00 in SymPy: their rules verified, their critical points solved and classified.

A :class:`backprop.experiments.descent.Surface` writes its value, gradient and Hessian
rules with plain arithmetic, so they run on SymPy symbols unchanged:
:func:`verify_surface` proves the gradient and Hessian rules equal ``sympy.diff``
of the value rule; :func:`critical_points` solves grad = 0 exactly and
:func:`classify_critical_point` reads the Hessian's eigenvalues to tell a
minimum from a saddle point.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..experiments.descent import Surface, get_surface
from .ops import RuleCheck

__all__ = ["surface_symbols", "surface_expression", "verify_surface", "critical_points", "CriticalPoint",
           "classify_critical_point"]


def surface_symbols(surface) -> tuple[sp.Symbol, ...]:
    """The SymPy symbols of a surface's parameters: ``(w,)`` in 1-D, ``(w_1, w_2)`` in 2-D."""
    surface = get_surface(surface)
    if surface.dim == 1:
        return (sp.Symbol("w", real=True),)
    return tuple(sp.Symbol(f"w_{i + 1}", real=True) for i in range(surface.dim))


def surface_expression(surface) -> sp.Expr:
    """Loss as a SymPy expression in :func:`surface_symbols` (the value rule run on symbols)."""
    surface = get_surface(surface)
    return sp.expand(sp.sympify(surface.value_rule(*surface_symbols(surface))))


def verify_surface(surface) -> list[RuleCheck]:
    """The gradient and Hessian rules against ``sympy.diff`` of the value rule.

    Returns two :class:`RuleCheck` (gradient, Hessian); each ``.ok`` is True when
    library minus SymPy simplifies to 0 in every entry.
    """
    surface = get_surface(surface)
    ws = surface_symbols(surface)
    expr = surface_expression(surface)
    checks = []
    for what, library, reference in [
        ("gradient", list(surface.gradient_rule(*ws)), [sp.diff(expr, v) for v in ws]),
        ("hessian", sp.Matrix(surface.hessian_rule(*ws)), sp.hessian(expr, ws)),
    ]:
        library = sp.Matrix(library)
        reference = sp.Matrix(reference)
        difference = (library - reference).applyfunc(sp.simplify)
        statement = "dLoss/dw_i" if what == "gradient" else "d^2 Loss / dw_i dw_j"
        checks.append(RuleCheck(f"{surface.name}_{what}", f"{statement} of {surface.formula}",
                                library, reference, difference, difference.is_zero_matrix))
    return checks


def critical_points(surface) -> list[tuple]:
    """Every real point where the gradient vanishes, solved exactly by SymPy, sorted."""
    surface = get_surface(surface)
    ws = surface_symbols(surface)
    sols = sp.solve([sp.diff(surface_expression(surface), v) for v in ws], ws, dict=True)
    points = {tuple(sp.nsimplify(s.get(v, v)) for v in ws) for s in sols}
    return sorted((p for p in points if all(c.is_real for c in p)), key=lambda p: tuple(float(c) for c in p))


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, its exact Hessian and eigenvalues, and its kind."""

    point: tuple
    hessian: object  # sympy.Matrix
    eigenvalues: tuple
    kind: str

    def __str__(self) -> str:
        where = ", ".join(str(c) for c in self.point)
        eigs = ", ".join(str(e) for e in self.eigenvalues)
        return f"w = ({where}): Hessian eigenvalues {eigs} -> {self.kind}"


def classify_critical_point(surface: Surface | str, point) -> CriticalPoint:
    """Classify a critical point by the signs of the Hessian's eigenvalues (exact, with SymPy).

    All positive: ``"local minimum"``; all negative: ``"local maximum"``; both
    signs: ``"saddle point"``; any zero: ``"degenerate"`` (the second
    derivatives cannot decide, e.g. the monkey saddle).  ``point`` must have
    gradient exactly 0; numbers are converted to exact rationals.
    """
    surface = get_surface(surface)
    values = surface.point(point, "point")
    exact = tuple(sp.nsimplify(float(v), rational=True) for v in values)
    ws = surface_symbols(surface)
    expr = surface_expression(surface)
    at = dict(zip(ws, exact))
    gradient = [sp.simplify(sp.diff(expr, v).subs(at)) for v in ws]
    if any(g != 0 for g in gradient):
        raise ValueError(f"argument 'point' expected a critical point of '{surface.name}' (gradient 0), "
                         f"got {list(exact)} where the gradient is {gradient}")
    hessian = sp.hessian(expr, ws).subs(at)
    eigenvalues = tuple(sorted((e for e, k in hessian.eigenvals().items() for _ in range(k)), key=float))
    if any(e == 0 for e in eigenvalues):
        kind = "degenerate"
    elif all(e > 0 for e in eigenvalues):
        kind = "local minimum"
    elif all(e < 0 for e in eigenvalues):
        kind = "local maximum"
    else:
        kind = "saddle point"
    return CriticalPoint(exact, hessian, eigenvalues, kind)
