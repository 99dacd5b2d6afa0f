"""Homework 01: an influence diagram, the chain rule as a sum over paths, and checks.

The function of the homework, in the diagram's variables::

    a = x**2        b = sin(x)        c = a*b        F = c + exp(a)

The student writes ``local_derivatives`` (the arrows and their weights),
``influence_paths`` (every path from x to F), ``total_derivative`` (dF/dx at a
number as a sum over paths: it returns each path's product of weights and their
sum, and both are graded), ``symbolic_total`` (dF/dx as a SymPy expression in x) and
``central_difference`` (the numerical witness).

Every point x a case uses, public or hidden, keeps 2x away from 1 (at x = 0.5 a
missing or extra factor 2x would be invisible), and each part's cases hold points of
both signs (2 sqrt(a) equals 2x only for x > 0). Symbols are matched by name, so
``sp.Symbol("x", real=True)`` is the homework's x.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..core.examples import HOMEWORK_01
from ..core.tolerance import agree
from ..symbolic.influence import InfluenceDiagram
from .parts import AnswerError, Case, Part, Verdict, as_numbers, fmt

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "DEFINITIONS", "homework_diagram", "variable_values", "TEST_FUNCTIONS",
           "PARTS"]

#: the modules of backprop this homework may use: the grading kernel has no others
MAY_USE = ("core.examples",)
#: the installed packages the homework may import (besides the standard library)
PACKAGES = ("numpy", "sympy", "matplotlib")
#: the rule, as the homework states it
ALLOWED = ("this homework may use numpy, SymPy and the data of bp.examples; not the library's influence diagrams, "
           "path sums, computational graph or gradient checks")

#: the homework's function, in the order the variables are computed
DEFINITIONS = HOMEWORK_01
SOURCE, TARGET = "x", "F"

#: the points of the public cases: 2x is neither 1 nor -1, and the signs differ
PUBLIC_POINTS = (0.75, -1.25)


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


def path_products(values: dict[str, float]) -> dict[tuple[str, ...], tuple[float, dict]]:
    """{path: (its product, {arrow: weight})} for every path from x to F, the weights evaluated at ``values``
    (the variables' values by name; consistent ones from :func:`variable_values`, or deliberately wrong ones)."""
    diagram = homework_diagram()
    at = _sym_values(values)
    out = {}
    for path in diagram.paths(sp.Symbol(SOURCE), sp.Symbol(TARGET)):
        weights = {(str(s), str(t)): float(diagram.weight(s, t).xreplace(at).evalf(30)) for s, t in zip(path, path[1:])}
        out[tuple(map(str, path))] = (float(np.prod(list(weights.values()))), weights)
    return out


def _wrong_point(path: tuple[str, ...], got: float, x: float) -> str | None:
    """Why the product along ``path`` is ``got``, when it is the right product with a weight evaluated at the
    wrong point: an intermediate variable given x's value (a = x, forgetting a = x**2, say), or None."""
    values = variable_values(x)
    diagram = homework_diagram()
    for var in [v for v in DEFINITIONS if v != TARGET]:
        wrong = dict(values, **{var: values["x"]})
        want, _ = path_products(wrong)[path]
        if agree(got, want) and not agree(want, path_products(values)[path][0]):
            arrows = [f"{s} -> {t}" for s, t in zip(path, path[1:])
                      if sp.Symbol(var) in diagram.weight(sp.Symbol(s), sp.Symbol(t)).free_symbols]
            return (f"the product along {' -> '.join(path)} multiplies the right weights, but evaluates "
                    f"{' and '.join(arrows)} at the wrong point: it takes {var} = {fmt(values['x'])}, the value of x, "
                    f"while at x = {fmt(values['x'])} the variable {var} = {DEFINITIONS[var]} is {fmt(values[var])}")
    return None


def hidden_point(rng: np.random.Generator, n: int) -> float:
    """The n-th hidden point: |x| in [0.6, 2], the sign alternating with n (x > 0 for even n)."""
    return float((1 - 2 * (n % 2)) * rng.uniform(0.6, 2.0))


def _sym_values(values: dict) -> dict:
    return {sp.Symbol(k): sp.Float(v, 30) for k, v in values.items()}


#: the kernel side's helpers (source text): SymPy answers become numbers where the student's code lives,
#: with symbols matched by name, whatever their assumptions
_PRELUDE = '''
import numpy as np
import sympy as sp


def number(expr, at, what):
    """A student's SymPy expression at the given values of the variables (by name), as a float."""
    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError, ValueError, SyntaxError):
        raise Wrong(f"{what}: {expr!r} is not a SymPy expression") from None
    if not isinstance(expr, sp.Basic):
        raise Wrong(f"{what}: {expr!r} is not a SymPy expression")
    unknown = sorted({str(s) for s in expr.free_symbols} - set(at))
    if unknown:
        raise Wrong(f"{what}: the expression {expr} uses unknown symbol(s) {unknown}")
    value = expr.xreplace({s: sp.Float(at[str(s)], 30) for s in expr.free_symbols}).evalf(30)
    if not value.is_number or not value.is_real:
        raise Wrong(f"{what}: the expression {expr} is not a real number at x = {at['x']}")
    return float(value)


def node(v):
    if isinstance(v, sp.Symbol):
        return v.name
    if isinstance(v, str):
        return v.strip()
    raise Wrong(f"a variable should be a SymPy Symbol or its name, got {type(v).__name__} {v!r}")
'''


class Hw01Part(Part):
    """What every part of homework 01 shares: the modules it may use."""

    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED


def _arrow(s: str, t: str) -> str:
    return f"{s} -> {t}"


# -- the arrows and their weights ----------------------------------------------------------------
class LocalDerivatives(Hw01Part, id="01_local_derivatives", names=("local_derivatives",), hidden_count=6,
                       title="the arrows of the influence diagram and their local derivatives"):
    call = _PRELUDE + '''
edges = call("local_derivatives")
if not isinstance(edges, dict):
    raise Wrong(f"local_derivatives() should return a dict {{(parent, child): derivative}}, got {type(edges).__name__}")
result = []
for key, expr in edges.items():
    if not isinstance(key, tuple) or len(key) != 2:
        raise Wrong(f"each key should be a pair (parent, child), got {key!r}")
    parent, child = node(key[0]), node(key[1])
    result.append([parent, child, number(expr, p["at"], f"the weight of {parent} -> {child}")])
'''

    def public_cases(self):
        return [Case(f"the arrows' weights at x = {fmt(x)}", {"at": variable_values(x)}) for x in PUBLIC_POINTS]

    def hidden_case(self, rng, n):
        return Case("the arrows' weights at a random x", {"at": variable_values(hidden_point(rng, n))})

    def expected(self, payload):
        diagram = homework_diagram()
        values = _sym_values(payload["at"])
        return {(str(s), str(t)): float(diagram.weight(s, t).xreplace(values).evalf(30)) for s, t in diagram.edges}

    def judge(self, payload, answer, expected):
        got = {}
        for row in answer:
            if not isinstance(row, list) or len(row) != 3 or not all(isinstance(n, str) for n in row[:2]):
                raise AnswerError("local_derivatives() returned an entry that is not (parent, child): derivative")
            got[(row[0], row[1])] = as_numbers(row[2], f"the weight of {_arrow(row[0], row[1])}", ())
        missing = [e for e in expected if e not in got]
        extra = [e for e in got if e not in expected]
        if missing:
            s, t = missing[0]
            msg = f"the arrow {_arrow(s, t)} is missing: {t} = {DEFINITIONS[t]} uses {s} directly"
            return Verdict.wrong([msg] + [f"also missing: {_arrow(a, b)}" for a, b in missing[1:3]], msg)
        if extra:
            s, t = extra[0]
            why = (
                f"there is no arrow {_arrow(s, t)}: an arrow means that {t}'s own definition uses {s}"
                + (f" ({t} = {DEFINITIONS[t]})" if t in DEFINITIONS else "")
                + "; an influence through other variables is a path, not an arrow"
            )
            return Verdict.wrong(why, why)
        x = payload["at"]["x"]
        for (s, t), want in expected.items():
            if not agree(got[(s, t)], want):
                why = (
                    f"the weight of the arrow {_arrow(s, t)} should be the local derivative d{t}/d{s} of {t} = "
                    f"{DEFINITIONS[t]}, with every other variable of that definition held fixed"
                )
                if want != 0 and agree(got[(s, t)], -want):
                    why += f" (yours has the opposite sign at x = {fmt(x)}"
                    # |x| or sqrt(a) in place of x flips a sign only where x < 0; elsewhere it is the rule's own sign
                    why += (": is |x| or sqrt(a) standing in for x?)" if x < 0 else
                            f": check the sign of the derivative rule you used for {DEFINITIONS[t]})")
                return Verdict.wrong(f"d{t}/d{s} at x = {fmt(x)}: expected {fmt(want)}, got {fmt(got[(s, t)])}", why)
        return Verdict.ok()


class InfluencePaths(Hw01Part, id="01_influence_paths", names=("influence_paths",), hidden_count=0,
                     title="every path from x to F"):
    call = _PRELUDE + '''
paths = call("influence_paths")
if not isinstance(paths, (list, tuple, set, frozenset)) and hasattr(paths, "__next__"):
    paths = list(paths)  # a generator of paths (a search that yields them), taken whole, as a set of them is
if not isinstance(paths, (list, tuple, set, frozenset)):
    raise Wrong(f"influence_paths() should return a list of paths, got {type(paths).__name__}")
result = []
for path in paths:
    if not isinstance(path, (list, tuple)):
        raise Wrong(f"each path should be a tuple of variables, got {path!r}")
    result.append([node(v) for v in path])
'''

    def public_cases(self):
        return [Case("the paths from x to F", {})]

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
            missing = sorted(want - set(got))
            # say where a missing path branches off, not which path it is: listing the paths is the exercise
            used = {(q[i], q[i + 1]) for q in got for i in range(len(q) - 1)}
            unused = [(u, v) for path in missing for u, v in zip(path, path[1:]) if (u, v) not in used]
            why = f"{len(got)} of the {len(want)} paths from {SOURCE} to {TARGET}: {len(missing)} missing. "
            if unused:
                why += (f"An arrow out of {unused[0][0]} is on none of your paths: from every variable you reach, "
                        f"follow each of its arrows, not just one")
            else:
                why += ("Each arrow is on one of your paths, but not every combination: at every variable with "
                        "several arrows out, a path goes on along each of them")
            return Verdict.wrong(why, why)
        return Verdict.ok()


# -- the total derivative ------------------------------------------------------------------------
class TotalDerivative(Hw01Part, id="01_total_derivative", names=("total_derivative",), hidden_count=8,
                      title="dF/dx as the sum over paths of the products of the weights"):
    call = _PRELUDE + '''
answer = call("total_derivative", p["x"])
if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not isinstance(answer[1], dict):
    raise Wrong("total_derivative(x) should return the pair (total, products), with products a dict "
                "{path: the product of the weights along it}")
rows = []
for path, product in answer[1].items():
    if not isinstance(path, (tuple, list)):
        raise Wrong(f"each key of products should be a path, a tuple of variables, got {path!r}")
    rows.append([[node(v) for v in path], product])
result = [answer[0], rows]
'''

    def public_cases(self):
        return [Case(f"dF/dx at x = {fmt(x)}", {"x": x}) for x in PUBLIC_POINTS]

    def hidden_case(self, rng, n):
        return Case("dF/dx at a random x", {"x": hidden_point(rng, n)})

    def expected(self, payload):
        """{path: (its product at x, {arrow: weight at x})} for every path of the diagram."""
        return path_products(variable_values(payload["x"]))

    def judge(self, payload, answer, expected):
        x = fmt(payload["x"])
        total = as_numbers(answer[0], "the total", ())
        products = {}
        for row in answer[1]:
            path = tuple(row[0])
            if path in products:
                return Verdict.wrong(f"the path {' -> '.join(path)} is listed twice", "a path is listed twice")
            products[path] = as_numbers(row[1], f"the product along {' -> '.join(path)}", ())
        for path in products:
            if path not in expected:
                why = f"{' -> '.join(path)} is not a path from x to F of the diagram: each step must follow an arrow"
                return Verdict.wrong(why, why)
        missing = [p for p in expected if p not in products]
        if missing:
            why = (f"the path {' -> '.join(missing[0])} is missing from products: dF/dx sums over every path from "
                   f"x to F")
            return Verdict.wrong(why, why)
        for path, (want, weights) in expected.items():
            got = products[path]
            if agree(got, want):
                continue
            why = (f"the product along {' -> '.join(path)} should multiply the weight of each of its arrows, "
                   f"at x = {x}")
            for (s, t), w in weights.items():
                if w != 0 and agree(got, want / w):
                    why = f"the product along {' -> '.join(path)} is missing the factor d{t}/d{s} (the arrow {_arrow(s, t)})"
                    break
                if agree(got, want * w) and not agree(w, 1.0):
                    why = f"the product along {' -> '.join(path)} has the factor d{t}/d{s} twice"
                    break
            else:
                why = _wrong_point(path, got, payload["x"]) or why
            return Verdict.wrong(f"the product along {' -> '.join(path)} at x = {x}: expected {fmt(want)}, "
                                 f"got {fmt(got)}", why)
        want_total = sum(v for v, _ in expected.values())
        if not agree(total, want_total):
            return Verdict.wrong(f"dF/dx at x = {x}: expected {fmt(want_total)}, got {fmt(total)}",
                                 "the total should be the sum of the products over the paths")
        return Verdict.ok()


class SymbolicTotal(Hw01Part, id="01_symbolic_total", names=("symbolic_total",), hidden_count=6,
                    title="dF/dx as a SymPy expression in x"):
    call = _PRELUDE + '''
expr = sp.sympify(call("symbolic_total"))
others = sorted({str(s) for s in expr.free_symbols} - {"x"})
if others:
    raise Wrong(f"symbolic_total() should be written in x alone, but it uses {others}")
result = number(expr, {"x": p["x"]}, "symbolic_total()")
'''

    def public_cases(self):
        return [Case(f"the expression at x = {fmt(x)}", {"x": x}) for x in PUBLIC_POINTS]

    def hidden_case(self, rng, n):
        return Case("the expression at a random x", {"x": hidden_point(rng, n)})

    def expected(self, payload):
        diagram = homework_diagram()
        x = sp.Symbol("x")
        return float(diagram.evaluate(diagram.expression(sp.Symbol(TARGET)).diff(x), {x: payload["x"]}))

    def judge(self, payload, answer, want):
        got = as_numbers(answer, "symbolic_total()", ())
        if agree(got, want):
            return Verdict.ok()
        return Verdict.wrong(f"at x = {fmt(payload['x'])}: expected {fmt(want)}, got {fmt(got)}",
                             _symbolic_diagnosis(payload["x"], got, want))


def _symbolic_diagnosis(x: float, got: float, want: float) -> str:
    """What a wrong dF/dx most likely lacks, from its value at x: F itself, a path's term missing or of the
    wrong sign, or a term without one of its factors (the chain rule's inner derivative, typically); never the
    expression itself."""
    if agree(got, variable_values(x)["F"]):
        return (f"at x = {fmt(x)} your expression equals F itself, not its derivative: symbolic_total() should "
                f"return dF/dx")
    terms = path_products(variable_values(x))
    for path, (term, weights) in terms.items():
        name = " -> ".join(path)
        if agree(got, want - term):
            return (f"the term of the path {name} is missing: dF/dx has one term for each path from x to F "
                    f"(the same terms as your path sum)")
        if agree(got, want - 2 * term):
            why = f"the term of the path {name} has the wrong sign at x = {fmt(x)}"
            return why + (": is |x| or sqrt(x**2) standing in for x?" if x < 0 else "")
        for (s, t), w in weights.items():
            if w != 0 and not agree(w, 1.0) and agree(got, want - term + term / w):
                why = f"the term of the path {name} lacks the factor d{t}/d{s} (the arrow {s} -> {t})"
                if s == SOURCE:
                    why += (f": differentiating a function of {t} = {DEFINITIONS[t]} with respect to x, the chain "
                            f"rule multiplies by the inner derivative d{t}/dx")
                return why
    return "the expression should be dF/dx with a, b and c replaced by their definitions in x"


# -- the numerical witness ---------------------------------------------------------------------
#: functions the central-difference cases use, by name, as expressions in t (the same text builds them in the
#: student's kernel and here)
TEST_FUNCTIONS = {
    "sin": "np.sin(t)",
    "exp": "np.exp(t)",
    "cube": "t**3 - 2 * t",
    "F": "t**2 * np.sin(t) + np.exp(t**2)",
}


def sample_function(name: str):
    """The test function ``name`` of :data:`TEST_FUNCTIONS`, as a Python function of one float."""
    return eval("lambda t: " + TEST_FUNCTIONS[name], {"np": np})  # our own constant text, never a student's


class CentralDifference(Hw01Part, id="01_central_difference", names=("central_difference",), hidden_count=8,
                        title="the central difference (f(x + h) - f(x - h)) / (2h)"):
    call = _PRELUDE + f'''
FUNCTIONS = {TEST_FUNCTIONS!r}
f = eval("lambda t: " + FUNCTIONS[p["f"]], {{"np": np}})
result = call("central_difference", f, p["x"], p["h"])
'''

    def public_cases(self):
        return [
            Case("sin at x = 1 with h = 0.1", {"f": "sin", "x": 1.0, "h": 0.1}),
            Case("t**3 - 2t at x = -2 with h = 0.01", {"f": "cube", "x": -2.0, "h": 0.01}),
        ]

    def hidden_case(self, rng, n):
        names = sorted(TEST_FUNCTIONS)
        x = (1 - 2 * (n % 2)) * rng.uniform(0.1, 1.5)
        return Case("a random function, point and step",
                    {"f": names[n % len(names)], "x": float(x), "h": float(10 ** rng.uniform(-3, -1))})

    def expected(self, p):
        f, x, h = sample_function(p["f"]), p["x"], p["h"]
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
        elif agree(got, -ref["central"], rtol=1e-9):
            why = "the sign is reversed: f(x + h) comes first, (f(x + h) - f(x - h)) / (2h)"
        return Verdict.wrong(f"{p['f']} at x = {fmt(p['x'])}, h = {fmt(p['h'])}: expected {fmt(ref['central'])}, "
                             f"got {fmt(got)}", why)


#: the graded parts of homework 01, in the notebook's order
PARTS = (LocalDerivatives(), InfluencePaths(), TotalDerivative(), SymbolicTotal(), CentralDifference())
