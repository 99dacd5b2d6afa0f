"""Path sums with three witnesses: the chain rule on an influence diagram, checked exactly and numerically.

:func:`check_path_sum` confronts an influence diagram's sum over paths with
``sympy.diff`` of the written-out expression (exactly) and with a central
difference (numerically); :func:`numerical_total_derivative` is that central
difference, which uses no derivative at all.

A *source* may be an input or an intermediate variable.  The derivative of the
outcome with respect to an intermediate variable u means: nudge u, keep the
inputs fixed, let the change flow forward.  It is the sum over the paths that
start at u, and the derivative of the outcome written in u and the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core.checks import check_real, describe
from ..core.gradcheck import numerical_gradient
from ..core.tolerance import RTOL, agree, relative_error
from .influence import InfluenceDiagram, PathContribution

__all__ = ["numerical_total_derivative", "PathSumCheck", "check_path_sum"]


def check_diagram(diagram) -> InfluenceDiagram:
    """``diagram`` if it is an InfluenceDiagram built from definitions (so its expressions are known)."""
    if not isinstance(diagram, InfluenceDiagram):
        raise TypeError(f"argument 'diagram' expected an InfluenceDiagram, got {describe(diagram)}")
    if not diagram.definitions:
        raise ValueError("argument 'diagram' expected a diagram built from definitions "
                         "(InfluenceDiagram.from_definitions), got a hand-built one")
    return diagram


def _written_in_source(diagram: InfluenceDiagram, target, source) -> sp.Expr:
    """``target`` written in the inputs and ``source`` (every definition but source's substituted)."""
    expr = target
    for var, definition in reversed(list(diagram.definitions.items())):
        if var != source:  # definitions are in dependency order: last-to-first leaves no defined variable
            expr = expr.xreplace({var: definition})
    return expr


def check_pair(diagram, source, target) -> None:
    """Raise unless ``source`` and ``target`` are variables of ``diagram`` and ``target`` is an outcome."""
    diagram.paths(source, target)  # validates both as variables of the diagram
    if target in diagram.inputs:
        raise ValueError(f"argument 'target' expected a defined variable (an outcome), got the input {target}")


def numerical_total_derivative(diagram: InfluenceDiagram, source, target, at: Mapping, *,
                               order: int = 4, h: float | None = None) -> float:
    """Central-difference estimate of d target / d source at ``at = {input: number}``.

    Nudges ``source`` (an input, or an intermediate variable with the inputs held
    fixed), re-evaluates ``target`` and differences; no derivative is used.
    """
    check_diagram(diagram)
    check_pair(diagram, source, target)
    values = {x: diagram.evaluate(x, at) for x in diagram.inputs}  # validates `at`
    expr = _written_in_source(diagram, target, source)
    symbols = sorted(expr.free_symbols | {source}, key=sp.default_sort_key)
    fn = sp.lambdify(symbols, expr, modules="math")
    point = np.array([diagram.evaluate(source, at)])
    args = [values[s] if s != source else None for s in symbols]
    where = symbols.index(source)

    def outcome() -> float:
        args[where] = float(point[0])
        return float(fn(*args))

    return float(numerical_gradient(outcome, point, h=h, order=order)[0])


@dataclass(frozen=True)
class PathSumCheck:
    """Three witnesses of one total derivative d target / d source.

    ``path_sum``: the sum over paths of the products of local derivatives, in the
    inputs; ``sympy_diff``: ``sympy.diff`` of ``target`` written out, in the inputs;
    ``exact``: their difference simplifies to 0.  ``value``: the path sum at
    ``at``; ``numeric``: a central difference there; ``relative_error`` between them.
    """

    source: sp.Symbol
    target: sp.Symbol
    at: dict
    contributions: tuple[PathContribution, ...]
    path_sum: sp.Expr
    sympy_diff: sp.Expr
    exact: bool
    value: float
    numeric: float
    relative_error: float
    rtol: float = RTOL

    @property
    def ok(self) -> bool:
        """All three agree: exact symbolic equality, and the numbers within ``rtol``."""
        return self.exact and bool(agree(self.value, self.numeric, self.rtol))

    def summary(self) -> str:
        return (f"d{self.target}/d{self.source}: {len(self.contributions)} path(s), "
                f"path sum {'==' if self.exact else '!='} sympy.diff exactly; "
                f"at the point {self.value:.6f} (paths) vs {self.numeric:.6f} (central difference), "
                f"relative error {self.relative_error:.1e} -> {'ok' if self.ok else 'FAIL'}")


def check_path_sum(diagram: InfluenceDiagram, source, target, at: Mapping, *, rtol: float = RTOL) -> PathSumCheck:
    """Check the distributed chain rule on ``diagram`` for d target / d source, three ways.

    1. symbolic: the path sum (edge derivatives multiplied along each path, added
       over paths) minus ``sympy.diff`` of ``target`` written in the inputs (and
       ``source``) simplifies to exactly 0;
    2. numeric: the path sum evaluated at ``at`` against a central difference;
    3. the per-path values (``contributions``), which add up to the path sum.
    """
    check_diagram(diagram)
    check_pair(diagram, source, target)
    rtol = check_real(rtol, "rtol")
    path_sum = diagram.total_derivative(source, target, in_inputs=True)
    reference = diagram.in_inputs(sp.diff(_written_in_source(diagram, target, source), source))
    exact = sp.simplify(path_sum - reference) == 0
    contributions = tuple(diagram.path_contributions(source, target, at))
    value = diagram.evaluate(path_sum, at)
    numeric = numerical_total_derivative(diagram, source, target, at)
    return PathSumCheck(source, target, dict(at), contributions, path_sum, reference, bool(exact), value, numeric,
                        float(relative_error(value, numeric)), rtol)
