"""Notebook 01's explorations: the derivative as a multiplier, and path sums with three witnesses.

* The first-order approximation.  For a small step t along a direction d,
  f(x + t d) - f(x) ~ t (df/dx) d; what is left over, the *first-order error*,
  shrinks like t^2 when f has a second derivative.  :func:`first_order_errors`
  measures it, :func:`loglog_slope` fits its order, :func:`plot_first_order_errors`
  draws it on log-log axes beside a slope-2 reference line.
* Path sums.  :func:`check_path_sum` confronts an influence diagram's sum over
  paths with ``sympy.diff`` of the written-out expression (exactly) and with a
  central difference (numerically): three witnesses of one derivative.
* The interactive explorer.  :func:`path_sum_view` is the pure function behind
  :func:`path_sum_explorer`: input values in, the diagram with each arrow's
  local derivative and the table of path products out.

A *source* may be an input or an intermediate variable.  The derivative of the
outcome with respect to an intermediate variable u means: nudge u, keep the
inputs fixed, let the change flow forward.  It is the sum over the paths that
start at u, and the derivative of the outcome written in u and the inputs.
ipywidgets is imported inside :func:`path_sum_explorer` only.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from ._checks import as_array, check_real, describe
from .gradcheck import numerical_gradient, relative_error
from .influence import InfluenceDiagram, PathContribution

__all__ = [
    "first_order_errors",
    "loglog_slope",
    "plot_first_order_errors",
    "numerical_total_derivative",
    "PathSumCheck",
    "check_path_sum",
    "path_sum_table_html",
    "path_sum_view",
    "path_sum_explorer",
]


# -- the derivative as a multiplier ---------------------------------------------------

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


def plot_first_order_errors(steps, errors: Mapping[str, np.ndarray], reference_slope: float = 2.0) -> Figure:
    """Log-log plot of first-order errors against the step, with a reference line of slope 2.

    ``steps``: shape (S,); ``errors``: ``{label: errors of shape (S,)}``, each curve
    labelled with its fitted slope.  The reference line (slope ``reference_slope``)
    runs just below all curves.  Returns a new Figure.
    """
    steps = as_array(steps, "steps", ndim=1, meaning="(S,)")
    if not isinstance(errors, Mapping) or not errors:
        raise TypeError(f"argument 'errors' expected a non-empty dict label -> errors (S,), got {describe(errors)}")
    reference_slope = check_real(reference_slope, "reference_slope")
    fig = Figure(figsize=(5.6, 3.8))
    ax = fig.add_subplot()
    for label, err in errors.items():
        err = as_array(err, f"errors[{label!r}]", ndim=1, meaning="(S,)")
        ax.loglog(steps, err, "o-", ms=4, label=f"{label}: slope {loglog_slope(steps, err):.2f}")
    # the reference line runs just below every curve, so it never hides one
    lowest = min(float(np.min(as_array(err, "errors") / steps**reference_slope)) for err in errors.values())
    ax.loglog(steps, 0.3 * lowest * steps**reference_slope, "k--", lw=1,
              label=f"reference: slope {reference_slope:g}")
    ax.set_xlabel("size of the step")
    ax.set_ylabel("first-order error (what the derivative misses)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# -- path sums: three witnesses ------------------------------------------------------

def _check_diagram(diagram) -> InfluenceDiagram:
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


def _check_pair(diagram, source, target):
    diagram.paths(source, target)  # validates both as variables of the diagram
    if target in diagram.inputs:
        raise ValueError(f"argument 'target' expected a defined variable (an outcome), got the input {target}")


def numerical_total_derivative(diagram: InfluenceDiagram, source, target, at: Mapping, *,
                               order: int = 4, h: float | None = None) -> float:
    """Central-difference estimate of d target / d source at ``at = {input: number}``.

    Nudges ``source`` (an input, or an intermediate variable with the inputs held
    fixed), re-evaluates ``target`` and differences; no derivative is used.
    """
    _check_diagram(diagram)
    _check_pair(diagram, source, target)
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
    rtol: float = 1e-7

    @property
    def ok(self) -> bool:
        """All three agree: exact symbolic equality, and the numbers within ``rtol``."""
        return self.exact and (self.relative_error <= self.rtol or abs(self.value - self.numeric) <= 1e-10)

    def summary(self) -> str:
        return (f"d{self.target}/d{self.source}: {len(self.contributions)} path(s), "
                f"path sum {'==' if self.exact else '!='} sympy.diff exactly; "
                f"at the point {self.value:.6f} (paths) vs {self.numeric:.6f} (central difference), "
                f"relative error {self.relative_error:.1e} -> {'ok' if self.ok else 'FAIL'}")


def check_path_sum(diagram: InfluenceDiagram, source, target, at: Mapping, *, rtol: float = 1e-7) -> PathSumCheck:
    """Check the distributed chain rule on ``diagram`` for d target / d source, three ways.

    1. symbolic: the path sum (edge derivatives multiplied along each path, added
       over paths) minus ``sympy.diff`` of ``target`` written in the inputs (and
       ``source``) simplifies to exactly 0;
    2. numeric: the path sum evaluated at ``at`` against a central difference;
    3. the per-path values (``contributions``), which add up to the path sum.
    """
    _check_diagram(diagram)
    _check_pair(diagram, source, target)
    rtol = check_real(rtol, "rtol")
    path_sum = diagram.total_derivative(source, target, in_inputs=True)
    reference = diagram.in_inputs(sp.diff(_written_in_source(diagram, target, source), source))
    exact = sp.simplify(path_sum - reference) == 0
    contributions = tuple(diagram.path_contributions(source, target, at))
    value = diagram.evaluate(path_sum, at)
    numeric = numerical_total_derivative(diagram, source, target, at)
    return PathSumCheck(source, target, dict(at), contributions, path_sum, reference, bool(exact), value, numeric,
                        float(relative_error(value, numeric)), rtol)


# -- the interactive explorer ------------------------------------------------------------

def path_sum_table_html(diagram: InfluenceDiagram, source, target, at: Mapping) -> str:
    """An HTML table of the paths from ``source`` to ``target`` at ``at = {input: number}``.

    One row per path (the path, its product of local derivatives in LaTeX, its
    value to 4 decimals), then their sum, then a central-difference estimate of
    the same derivative for comparison.
    """
    _check_diagram(diagram)
    _check_pair(diagram, source, target)
    rows = diagram.path_contributions(source, target, at)
    total = math.fsum(r.value for r in rows)
    numeric = numerical_total_derivative(diagram, source, target, at)
    cell = '<td style="padding:2px 8px;text-align:{}">{}</td>'.format
    lines = ['<table style="border-collapse:collapse">',
             "<tr>" + "".join(cell("left", f"<b>{h}</b>") for h in ("path", "product of local derivatives", "value"))
             + "</tr>"]
    for r in rows:
        lines.append("<tr>" + cell("left", html.escape(" → ".join(map(str, r.path))))
                     + cell("left", f"${sp.latex(r.product)}$") + cell("right", f"{r.value:.4f}") + "</tr>")
    if not rows:
        lines.append("<tr>" + cell("left", f"no path: {source} does not influence {target}") + "</tr>")
    lines.append("<tr style='border-top:1px solid #888'>" + cell("left", f"<b>sum over paths = d{target}/d{source}</b>")
                 + cell("left", "") + cell("right", f"<b>{total:.4f}</b>") + "</tr>")
    lines.append("<tr>" + cell("left", "central difference (no derivatives used)") + cell("left", "")
                 + cell("right", f"{numeric:.4f}") + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def path_sum_view(diagram: InfluenceDiagram, source, target, at: Mapping) -> tuple[Figure, str]:
    """The explorer's pure callback: (the diagram drawn at ``at``, :func:`path_sum_table_html`).

    The figure shows every variable's value and every arrow's local derivative
    (formula and value) at the point, which its title states.
    """
    table = path_sum_table_html(diagram, source, target, at)  # validates the arguments first
    point = ", ".join(f"{x} = {diagram.evaluate(x, at):.2f}" for x in diagram.inputs)
    return diagram.draw(at=at, title=f"at {point}"), table


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def path_sum_explorer(examples: Mapping, *, value_range: tuple[float, float] = (-2.0, 2.0), step: float = 0.05):
    """A widget: pick an example and a source variable, move the input sliders, watch the path sums.

    ``examples``: ``{name: (diagram, target, at)}`` with ``at`` the starting input
    values.  Returns an ipywidgets ``HBox`` (controls, results); the controls are a
    ``VBox`` of (example dropdown, source dropdown, ``VBox`` of one ``FloatSlider``
    per input); the results a ``VBox`` of (``Image`` of the diagram, ``HTMLMath``
    table).  Every change calls :func:`path_sum_view`; a point where the function
    is undefined shows the reason instead of the table.
    """
    if not isinstance(examples, Mapping) or not examples:
        raise TypeError(f"argument 'examples' expected a non-empty dict name -> (diagram, target, at), "
                        f"got {describe(examples)}")
    for name, example in examples.items():
        if not (isinstance(example, tuple) and len(example) == 3):
            raise TypeError(f"argument 'examples[{name!r}]' expected a tuple (diagram, target, at), "
                            f"got {describe(example)}")
        diagram, target, at = example
        _check_diagram(diagram)
        _check_pair(diagram, target, target)
        if not any(diagram.paths(n, target) for n in diagram.inputs):
            raise ValueError(f"argument 'examples[{name!r}]' expected an outcome that depends on an input, "
                             f"got {target} = {diagram.definitions.get(target)}")
        diagram.evaluate(target, at)  # every input has a starting value
    low, high = (check_real(v, "value_range") for v in value_range)
    if not low < high:
        raise ValueError(f"argument 'value_range' expected (low, high) with low < high, got {value_range}")
    step = check_real(step, "step")

    import ipywidgets as widgets

    pick = widgets.Dropdown(options=list(examples), description="function")
    source_pick = widgets.Dropdown(description="source")
    sliders = widgets.VBox()
    image = widgets.Image(format="png")
    table = widgets.HTMLMath()
    state = {"busy": False}

    def refresh(_=None):
        if state["busy"]:
            return
        diagram, target, _ = examples[pick.value]
        at = {s.symbol: s.value for s in sliders.children}
        try:
            fig, text = path_sum_view(diagram, source_pick.value, target, at)
        except ValueError as error:  # e.g. a log of a negative number at this point
            table.value = f"<i>{html.escape(str(error))}</i>"
            return
        image.value = _png(fig)
        table.value = text

    def choose(_=None):
        diagram, target, at = examples[pick.value]
        state["busy"] = True  # rebuild the controls first, then draw once
        sources = [n for n in diagram.nodes if n != target and diagram.paths(n, target)]
        source_pick.options = [(str(n), n) for n in sources]
        source_pick.value = sources[0]
        new = []
        for x in diagram.inputs:
            slider = widgets.FloatSlider(value=float(at[x]), min=low, max=high, step=step, description=str(x),
                                         continuous_update=False, readout_format=".2f")
            slider.symbol = x
            slider.observe(refresh, names="value")
            new.append(slider)
        sliders.children = new
        state["busy"] = False
        refresh()

    pick.observe(choose, names="value")
    source_pick.observe(refresh, names="value")
    choose()
    return widgets.HBox([widgets.VBox([pick, source_pick, sliders]), widgets.VBox([image, table])])
