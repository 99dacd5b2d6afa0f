"""Homework 01: an influence diagram, the chain rule as a sum over paths, and checks.

The function of the homework, in the diagram's variables::

    a = x**2        b = sin(x)        c = a*b        F = c + exp(a)

The student writes ``local_derivatives`` (the arrows and their weights),
``influence_paths`` (every path from x to F), ``total_derivative`` (dF/dx at a
number, as a sum over paths), ``symbolic_total`` (dF/dx as a SymPy expression in x)
and ``central_difference`` (the numerical witness).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..core.examples import HOMEWORK_01
from ..core.tolerance import agree
from ..symbolic.influence import InfluenceDiagram
from .parts import AnswerError, Case, Part, Verdict, as_numbers, fmt

__all__ = ["DEFINITIONS", "homework_diagram", "variable_values", "TEST_FUNCTIONS"]

#: the homework's function, in the order the variables are computed
DEFINITIONS = HOMEWORK_01
SOURCE, TARGET = "x", "F"


def homework_diagram() -> InfluenceDiagram:
    """The influence diagram of ``DEFINITIONS`` (weights by ``sympy.diff``)."""
    symbols = {name: sp.Symbol(name) for name in ("x", *DEFINITIONS)}
    defs = {symbols[v]: sp.sympify(e, locals=symbols) for v, e in DEFINITIONS.items()}
    return InfluenceDiagram.from_definitions(defs, inputs=[symbols["x"]])


def variable_values(x: float) -> dict[str, float]:
    """Every variable of the diagram at the input x (consistent values: a = x**2, ...)."""
    values = {"x": float(x)}
    values["a"] = values["x"] ** 2
    values["b"] = math.sin(values["x"])
    values["c"] = values["a"] * values["b"]
    values["F"] = values["c"] + math.exp(values["a"])
    return values


def _sym_values(values: dict) -> dict:
    return {sp.Symbol(k): sp.Float(v, 20) for k, v in values.items()}


def _evaluate(expr, values: dict) -> float:
    """A student's expression at the given variable values, as a float (raises AnswerError)."""
    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError):
        raise AnswerError(f"{expr!r} is not a SymPy expression") from None
    if not isinstance(expr, sp.Basic):
        raise AnswerError(f"{expr!r} is not a SymPy expression")
    free = {str(s) for s in expr.free_symbols} - set(values)
    if free:
        raise AnswerError(f"the expression {expr} uses unknown symbol(s) {sorted(free)}")
    value = expr.xreplace(_sym_values(values)).evalf(20)
    if not value.is_number or not value.is_real:
        raise AnswerError(f"the expression {expr} is not a real number at x = {values['x']}")
    return float(value)


def _node_name(v) -> str:
    if isinstance(v, sp.Symbol):
        return v.name
    if isinstance(v, str):
        return v.strip()
    raise AnswerError(f"a variable should be a SymPy Symbol or its name, got {type(v).__name__} {v!r}")


# -- the arrows and their weights ----------------------------------------------------
class LocalDerivatives(Part, id="01_local_derivatives", names=("local_derivatives",), hidden_count=6,
                       title="the arrows of the influence diagram and their local derivatives"):
    def public_cases(self):
        return [Case("the arrows' weights at x = 0.5", {"at": variable_values(0.5)})]

    def hidden_case(self, rng, n):
        return Case("the arrows' weights at a random x", {"at": variable_values(rng.uniform(-2, 2))})

    def run(self, functions, payload):
        edges = functions["local_derivatives"]()
        if not isinstance(edges, dict):
            raise AnswerError(f"local_derivatives() should return a dict {{(parent, child): derivative}}, got {type(edges).__name__}")
        out = []
        for key, expr in edges.items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise AnswerError(f"each key should be a pair (parent, child), got {key!r}")
            out.append([_node_name(key[0]), _node_name(key[1]), _evaluate(expr, payload["at"])])
        return out

    def expected(self, payload):
        diagram = homework_diagram()
        values = _sym_values(payload["at"])
        return {(str(s), str(t)): float(diagram.weight(s, t).xreplace(values).evalf(20)) for s, t in diagram.edges}

    def judge(self, payload, answer, expected):
        got = {}
        for row in answer:
            if not isinstance(row, list) or len(row) != 3 or not all(isinstance(n, str) for n in row[:2]):
                raise AnswerError("local_derivatives() returned an entry that is not (parent, child): derivative")
            got[(row[0], row[1])] = as_numbers(row[2], f"the weight of {row[0]} -> {row[1]}", ())
        missing = [e for e in expected if e not in got]
        extra = [e for e in got if e not in expected]
        if missing:
            s, t = missing[0]
            msg = f"the arrow {s} -> {t} is missing: {t} = {DEFINITIONS[t]} uses {s} directly"
            return Verdict.wrong([msg] + [f"also missing: {a} -> {b}" for a, b in missing[1:3]], msg)
        if extra:
            s, t = extra[0]
            why = (
                f"there is no arrow {s} -> {t}: an arrow means that {t}'s own definition uses {s}"
                + (f" ({t} = {DEFINITIONS[t]})" if t in DEFINITIONS else "")
                + "; an influence through other variables is a path, not an arrow"
            )
            return Verdict.wrong(why, why)
        x = payload["at"]["x"]
        for (s, t), want in expected.items():
            if not agree(got[(s, t)], want):
                why = (
                    f"the weight of the arrow {s} -> {t} should be the local derivative d{t}/d{s} of {t} = "
                    f"{DEFINITIONS[t]}, with every other variable of that definition held fixed"
                )
                return Verdict.wrong(f"d{t}/d{s} at x = {fmt(x)}: expected {fmt(want)}, got {fmt(got[(s, t)])}", why)
        return Verdict.ok()


class InfluencePaths(Part, id="01_influence_paths", names=("influence_paths",), hidden_count=0,
                     title="every path from x to F"):
    def public_cases(self):
        return [Case("the paths from x to F", {})]

    def run(self, functions, payload):
        paths = functions["influence_paths"]()
        if not isinstance(paths, (list, tuple, set)):
            raise AnswerError(f"influence_paths() should return a list of paths, got {type(paths).__name__}")
        out = []
        for p in paths:
            if not isinstance(p, (list, tuple)):
                raise AnswerError(f"each path should be a tuple of variables, got {p!r}")
            out.append([_node_name(v) for v in p])
        return out

    def expected(self, payload):
        diagram = homework_diagram()
        return sorted(tuple(map(str, p)) for p in diagram.paths(sp.Symbol(SOURCE), sp.Symbol(TARGET)))

    def judge(self, payload, answer, expected):
        got = [tuple(p) for p in answer]
        want = set(expected)
        if len(set(got)) != len(got):
            return Verdict.wrong("a path is listed twice: each path counts once in the sum", "a path is listed twice")
        for p in got:
            if p not in want:
                if not p or p[0] != SOURCE or p[-1] != TARGET:
                    why = f"the path {' -> '.join(p)} should start at {SOURCE} and end at {TARGET}"
                else:
                    why = f"{' -> '.join(p)} is not a path of the diagram: each step must follow an arrow"
                return Verdict.wrong(why, why)
        if len(got) < len(want):
            through = sorted({v for p in want - set(got) for v in p[1:-1]} - {v for p in got for v in p[1:-1]})
            why = f"{len(got)} of the {len(want)} paths from {SOURCE} to {TARGET}"
            why += f"; no path of yours passes through {', '.join(through)}" if through else "; one is missing"
            return Verdict.wrong(why, why)
        return Verdict.ok()


# -- the total derivative ---------------------------------------------------------------
class TotalDerivative(Part, id="01_total_derivative", names=("total_derivative",), hidden_count=8,
                      title="dF/dx as the sum over paths of the products of the weights"):
    def public_cases(self):
        return [Case("dF/dx at x = 0.5", {"x": 0.5}), Case("dF/dx at x = -1.25", {"x": -1.25})]

    def hidden_case(self, rng, n):
        return Case("dF/dx at a random x", {"x": float(rng.uniform(-2, 2))})

    def run(self, functions, payload):
        return functions["total_derivative"](payload["x"])

    def expected(self, payload):
        diagram = homework_diagram()
        values = _sym_values(variable_values(payload["x"]))
        return [(" -> ".join(map(str, p)), float(diagram.path_product(p).xreplace(values).evalf(20)))
                for p in diagram.paths(sp.Symbol(SOURCE), sp.Symbol(TARGET))]

    def judge(self, payload, answer, contributions):
        got = as_numbers(answer, "total_derivative(x)", ())
        want = sum(v for _, v in contributions)
        if agree(got, want):
            return Verdict.ok()
        why = "dF/dx is the sum, over every path from x to F, of the product of the weights along the path"
        n = len(contributions)
        for size in range(1, n):  # a subset of the paths: which ones are missing?
            for mask in range(1 << n):
                if bin(mask).count("1") == size and agree(got, sum(v for i, (_, v) in enumerate(contributions) if mask >> i & 1)):
                    left_out = [p for i, (p, _) in enumerate(contributions) if not mask >> i & 1]
                    why = f"your value is the sum over some paths only; left out: {'; '.join(left_out)}"
                    return Verdict.wrong(f"dF/dx at x = {fmt(payload['x'])}: expected {fmt(want)}, got {fmt(got)}", why)
        return Verdict.wrong(f"dF/dx at x = {fmt(payload['x'])}: expected {fmt(want)}, got {fmt(got)}", why)


class SymbolicTotal(Part, id="01_symbolic_total", names=("symbolic_total",), hidden_count=6,
                    title="dF/dx as a SymPy expression in x"):
    def public_cases(self):
        return [Case("the expression at x = 0.5", {"x": 0.5})]

    def hidden_case(self, rng, n):
        return Case("the expression at a random x", {"x": float(rng.uniform(-2, 2))})

    def run(self, functions, payload):
        expr = sp.sympify(functions["symbolic_total"]())
        names = {str(s) for s in expr.free_symbols}
        if names - {"x"}:
            raise AnswerError(f"symbolic_total() should be written in x alone, but it uses {sorted(names - {'x'})}")
        return _evaluate(expr, {"x": payload["x"]})

    def expected(self, payload):
        diagram = homework_diagram()
        return float(diagram.evaluate(diagram.expression(sp.Symbol(TARGET)).diff(sp.Symbol("x")), {sp.Symbol("x"): payload["x"]}))

    def judge(self, payload, answer, want):
        got = as_numbers(answer, "symbolic_total()", ())
        if agree(got, want):
            return Verdict.ok()
        return Verdict.wrong(
            f"at x = {fmt(payload['x'])}: expected {fmt(want)}, got {fmt(got)}",
            "the expression should be dF/dx with a, b and c replaced by their definitions in x",
        )


# -- the numerical witness --------------------------------------------------------------
#: functions the central-difference cases use, by name (the same code runs in the notebook and the grader)
TEST_FUNCTIONS = {
    "sin": np.sin,
    "exp": np.exp,
    "cube": lambda t: t**3 - 2 * t,
    "F": lambda t: t**2 * np.sin(t) + np.exp(t**2),
}


class CentralDifference(Part, id="01_central_difference", names=("central_difference",), hidden_count=8,
                        title="the central difference (f(x + h) - f(x - h)) / (2h)"):
    def public_cases(self):
        return [
            Case("sin at x = 1 with h = 0.1", {"f": "sin", "x": 1.0, "h": 0.1}),
            Case("t**3 - 2t at x = 2 with h = 0.01", {"f": "cube", "x": 2.0, "h": 0.01}),
        ]

    def hidden_case(self, rng, n):
        names = sorted(TEST_FUNCTIONS)
        return Case("a random function, point and step",
                    {"f": names[n % len(names)], "x": float(rng.uniform(-1.5, 1.5)), "h": float(10 ** rng.uniform(-3, -1))})

    def run(self, functions, p):
        return functions["central_difference"](TEST_FUNCTIONS[p["f"]], p["x"], p["h"])

    def expected(self, p):
        f, x, h = TEST_FUNCTIONS[p["f"]], p["x"], p["h"]
        return {
            "central": (f(x + h) - f(x - h)) / (2 * h),
            "forward": (f(x + h) - f(x)) / h,
            "backward": (f(x) - f(x - h)) / h,
            "no_half": (f(x + h) - f(x - h)) / h,
        }

    def judge(self, p, answer, ref):
        got = as_numbers(answer, "central_difference(f, x, h)", ())
        if agree(got, ref["central"], rtol=1e-9):
            return Verdict.ok()
        why = "the central difference is (f(x + h) - f(x - h)) / (2h)"
        if agree(got, ref["forward"], rtol=1e-9):
            why = "that is the forward difference (f(x + h) - f(x)) / h; use both sides: (f(x + h) - f(x - h)) / (2h)"
        elif agree(got, ref["backward"], rtol=1e-9):
            why = "that is the backward difference (f(x) - f(x - h)) / h; use both sides: (f(x + h) - f(x - h)) / (2h)"
        elif agree(got, ref["no_half"], rtol=1e-9):
            why = "the two points are 2h apart: divide by 2h, not h"
        return Verdict.wrong(f"{p['f']} at x = {fmt(p['x'])}, h = {fmt(p['h'])}: expected {fmt(ref['central'])}, got {fmt(got)}", why)


#: the graded parts of homework 01, in the notebook's order
PARTS = (LocalDerivatives(), InfluencePaths(), TotalDerivative(), SymbolicTotal(), CentralDifference())
