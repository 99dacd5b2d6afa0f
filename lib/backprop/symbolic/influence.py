"""Influence diagrams and the distributed chain rule (notebook 01).

An influence diagram has a node per variable and an arrow x -> y when x directly
influences y, weighted by the local derivative dy/dx (the partial derivative of
y's defining expression, written in the diagram's variables).  Along a path the
weights multiply; over all paths from x to the outcome they add:

    dz/dx = sum over paths x -> ... -> z of the product of the arrows' weights.

Conventions.  A variable that does not influence the outcome (no path) has total
derivative 0; a variable's derivative with respect to itself is 1 (the empty
path).  Variables are SymPy ``Symbol``s; expressions are SymPy expressions.
Drawing a diagram is a view: :func:`backprop.views.dag.draw_influence_diagram`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Mapping

import sympy as sp

from ..core.checks import check_real, describe

__all__ = ["InfluenceDiagram", "PathContribution", "influence_diagram"]


@dataclass(frozen=True)
class PathContribution:
    """One path's share of a total derivative: the path, its product of weights, its value."""

    path: tuple[sp.Symbol, ...]
    product: sp.Expr
    value: float


def _check_symbol(value, name: str) -> sp.Symbol:
    if not isinstance(value, sp.Symbol):
        raise TypeError(f"argument '{name}' expected a sympy Symbol, got {describe(value)}")
    return value


def _check_expr(value, name: str) -> sp.Expr:
    # Strings are refused rather than sympified: sympify would evaluate them as code.
    if isinstance(value, bool) or not isinstance(value, (sp.Expr, numbers.Real)):
        raise TypeError(f"argument '{name}' expected a sympy expression, got {describe(value)}")
    return sp.sympify(value)


class InfluenceDiagram:
    """Variables (nodes), influences (arrows) and local derivatives (arrow weights).

    Build one from definitions with :meth:`from_definitions` (weights are computed
    with ``sympy.diff``), or by hand with :meth:`add_edge`.
    """

    def __init__(self):
        self._nodes: list[sp.Symbol] = []
        self._weights: dict[tuple[sp.Symbol, sp.Symbol], sp.Expr] = {}
        self._definitions: dict[sp.Symbol, sp.Expr] = {}

    @classmethod
    def from_definitions(cls, definitions: Mapping, inputs=None) -> "InfluenceDiagram":
        """A diagram from ``{variable: expression}``, e.g. ``{u: x**2, v: sin(x), z: u*v}``.

        An arrow p -> y is drawn for every variable p in y's expression whose
        partial derivative is not identically 0; its weight is ``sympy.diff(expr, p)``.
        ``inputs`` (Symbols) default to the free symbols that are not defined;
        if given, any other undefined symbol is an error.  Cycles are rejected.
        """
        if not isinstance(definitions, Mapping):
            raise TypeError(f"argument 'definitions' expected a dict Symbol -> expression, got {describe(definitions)}")
        if not definitions:
            raise ValueError("argument 'definitions' expected at least one definition, got an empty dict")
        defs = {}
        for var, expr in definitions.items():
            _check_symbol(var, "definitions")
            defs[var] = _check_expr(expr, f"definitions[{var}]")
        free = set().union(*(e.free_symbols for e in defs.values())) - set(defs)
        if inputs is None:
            inputs = sorted(free, key=sp.default_sort_key)
        else:
            if isinstance(inputs, sp.Basic) or not hasattr(inputs, "__iter__"):
                raise TypeError(f"argument 'inputs' expected a sequence of Symbols, got {describe(inputs)}")
            inputs = [_check_symbol(x, "inputs") for x in inputs]
            both = [x for x in inputs if x in defs]
            if both:
                raise ValueError(f"argument 'inputs' expected variables without a definition, got {both} "
                                 f"which are also defined")
            unknown = sorted(free - set(inputs), key=sp.default_sort_key)
            if unknown:
                raise ValueError(f"argument 'definitions' uses unknown symbol(s) {unknown}: "
                                 f"neither defined nor among the inputs {inputs}")
        diagram = cls()
        diagram._nodes = list(dict.fromkeys(inputs))
        pending = dict(defs)
        # Definitions are added once all their parents are known: a topological order
        # that keeps the user's order where it is free, and finds cycles.
        while pending:
            ready = [v for v, e in pending.items() if e.free_symbols <= set(diagram._nodes)]
            if not ready:
                raise ValueError(f"argument 'definitions' expected no cycles, got a cycle among "
                                 f"{sorted(pending, key=sp.default_sort_key)}")
            for var in ready:
                expr = pending.pop(var)
                diagram._definitions[var] = expr
                diagram._nodes.append(var)
                for parent in (n for n in diagram._nodes if n in expr.free_symbols):
                    weight = sp.diff(expr, parent)
                    if weight != 0:
                        diagram._weights[(parent, var)] = weight
        return diagram

    def add_edge(self, source, target, derivative) -> "InfluenceDiagram":
        """Add the arrow ``source -> target`` weighted by ``derivative`` = d target / d source."""
        source, target = _check_symbol(source, "source"), _check_symbol(target, "target")
        derivative = _check_expr(derivative, "derivative")
        if source == target:
            raise ValueError(f"arguments 'source' and 'target' expected different variables, got {source} twice")
        if (source, target) in self._weights:
            raise ValueError(f"argument 'target': the arrow {source} -> {target} already exists")
        if self._has_path(target, source):
            raise ValueError(f"argument 'target': the arrow {source} -> {target} would close a cycle")
        for v in (source, target):
            if v not in self._nodes:
                self._nodes.append(v)
        self._weights[(source, target)] = derivative
        return self

    @property
    def nodes(self) -> tuple[sp.Symbol, ...]:
        """The variables: inputs first, then each after everything it depends on."""
        return tuple(self._nodes)

    @property
    def edges(self) -> tuple[tuple[sp.Symbol, sp.Symbol], ...]:
        """The arrows ``(source, target)``, in the order they were added."""
        return tuple(self._weights)

    @property
    def inputs(self) -> tuple[sp.Symbol, ...]:
        """Variables with no incoming arrow."""
        targets = {t for _, t in self._weights}
        return tuple(n for n in self._nodes if n not in targets and n not in self._definitions)

    @property
    def definitions(self) -> dict[sp.Symbol, sp.Expr]:
        """``{variable: defining expression}`` (empty for a hand-built diagram)."""
        return dict(self._definitions)

    def weight(self, source, target) -> sp.Expr:
        """The local derivative on the arrow ``source -> target``."""
        key = (self._node(source, "source"), self._node(target, "target"))
        if key not in self._weights:
            raise ValueError(f"arguments 'source', 'target': there is no arrow {source} -> {target}")
        return self._weights[key]

    def _node(self, value, name: str) -> sp.Symbol:
        _check_symbol(value, name)
        if value not in self._nodes:
            raise ValueError(f"argument '{name}' expected a variable of the diagram {list(self._nodes)}, got {value}")
        return value

    def _children(self, node) -> list[sp.Symbol]:
        return [t for s, t in self._weights if s == node]

    def _has_path(self, source, target) -> bool:
        stack, seen = [source], set()
        while stack:
            n = stack.pop()
            if n == target:
                return True
            if n not in seen:
                seen.add(n)
                stack.extend(self._children(n))
        return False

    def paths(self, source, target) -> list[tuple[sp.Symbol, ...]]:
        """Every path ``(source, ..., target)``; ``[(x,)]`` when source is target, ``[]`` if none.

        Order: depth first, following arrows in the order they were added.
        """
        source, target = self._node(source, "source"), self._node(target, "target")
        found, stack = [], [(source,)]
        while stack:  # explicit stack: deep diagrams must not hit the recursion limit
            path = stack.pop()
            if path[-1] == target:
                found.append(path)
                continue
            stack.extend(path + (c,) for c in reversed(self._children(path[-1])))
        return found

    def path_product(self, path) -> sp.Expr:
        """The product of the weights along ``path`` (1 for a one-node path)."""
        if not isinstance(path, tuple) or not path:
            raise TypeError(f"argument 'path' expected a non-empty tuple of Symbols, got {describe(path)}")
        for n in path:
            self._node(n, "path")
        return sp.Mul(*(self.weight(a, b) for a, b in zip(path, path[1:])))

    def total_derivative(self, source, target, *, in_inputs: bool = False) -> sp.Expr:
        """d target / d source = sum over paths of the path products (the distributed chain rule).

        The result is in the diagram's variables, unexpanded; with ``in_inputs=True``
        every defined variable is replaced by its expression in the inputs.
        No path gives 0: ``source`` does not influence ``target``.
        """
        total = sp.Add(*(self.path_product(p) for p in self.paths(source, target)))
        return self.in_inputs(total) if in_inputs else total

    def expression(self, var) -> sp.Expr:
        """``var`` written in the inputs only (definitions substituted all the way down)."""
        var = self._node(var, "var")
        if var not in self._definitions and self._has_incoming(var):
            raise ValueError(f"argument 'var': {var} has arrows into it but no definition (a hand-built diagram)")
        return self.in_inputs(var)

    def _has_incoming(self, var) -> bool:
        return any(t == var for _, t in self._weights)

    def in_inputs(self, expr) -> sp.Expr:
        """``expr`` with every defined variable replaced by its expression in the inputs."""
        expr = _check_expr(expr, "expr")
        # Definitions come in dependency order, so substituting them last-to-first
        # leaves only inputs.
        for var in reversed(list(self._definitions)):
            expr = expr.xreplace({var: self._definitions[var]})
        return expr

    def evaluate(self, expr, at: Mapping) -> float:
        """The value of ``expr`` (a variable or an expression) at ``at = {input: number}``."""
        if not isinstance(at, Mapping):
            raise TypeError(f"argument 'at' expected a dict Symbol -> number, got {describe(at)}")
        values = {}
        for k, v in at.items():
            _check_symbol(k, "at")
            if k in self._definitions:
                raise ValueError(f"argument 'at' expected values for the inputs, got {k}, which is defined as "
                                 f"{k} = {self._definitions[k]}")
            values[k] = sp.Float(check_real(v, f"at[{k}]"), 20)
        expr = self.in_inputs(expr).xreplace(values)
        missing = sorted(expr.free_symbols, key=sp.default_sort_key)
        if missing:
            raise ValueError(f"argument 'at' expected a value for every input, missing {missing}")
        value = sp.N(expr, 20)
        if not (value.is_real and value.is_finite):
            raise ValueError(f"argument 'at': the expression {expr} is not a finite real number there (got {value})")
        return float(value)

    def path_contributions(self, source, target, at: Mapping) -> list[PathContribution]:
        """Each path's product of weights and its value at ``at``; the values add up to the total."""
        return [PathContribution(p, self.path_product(p), self.evaluate(self.path_product(p), at))
                for p in self.paths(source, target)]

    def __repr__(self) -> str:
        arrows = ", ".join(f"{s}->{t}: {w}" for (s, t), w in self._weights.items())
        return f"InfluenceDiagram({arrows})"


def influence_diagram(definitions: Mapping, inputs=None) -> InfluenceDiagram:
    """Shorthand for :meth:`InfluenceDiagram.from_definitions`."""
    return InfluenceDiagram.from_definitions(definitions, inputs)
