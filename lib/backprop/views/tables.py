"""Tables: a pass, a graph or a path sum written out as text (or HTML), number by number.

Everything here shows what the library computed; nothing computes a derivative
of its own.  Plain-text tables print the same in a terminal, a notebook and a
test; numbers have a fixed number of decimals, so stored notebook outputs are
stable.

* the scalar network's passes, neuron by neuron: :func:`forward_table`,
  :func:`backward_table`, :func:`weight_gradient_table`, and every step of both
  passes as formulas with their numbers (:func:`pass_steps`);
* the computational graph, gate by gate: :func:`trace_table`;
* an influence diagram's paths: :func:`path_table` (text) and
  :func:`path_sum_table_html` (the path-sum explorer's table);
* the same derivatives found three ways, side by side: :func:`witness_table`
  (each notebook's one "three witnesses agree" cell).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core.checks import describe
from ..core.graph import Value, gate_symbol, trace, value_names
from ..core.scalar_net import ScalarNetwork
from ..core.tolerance import RTOL, agree
from .notation import ACTIVATION_SYMBOL as _ACT
from .notation import math_name as _name
from .notation import num as _num
from .notation import par as _par
from ..core.gradcheck import subscript as _s

__all__ = [
    "forward_table",
    "backward_table",
    "weight_gradient_table",
    "PassStep",
    "pass_steps",
    "trace_table",
    "path_table",
    "path_sum_table_html",
    "witness_table",
]


# -- checks ------------------------------------------------------------------------------------
def check_scalar_net(net):
    """A ScalarNetwork whose activations are all scalar (a neuron is one z and one y)."""
    if not isinstance(net, ScalarNetwork):
        raise TypeError(f"argument 'net' expected a ScalarNetwork, got {describe(net)}")
    for k in range(1, net.N + 1):
        if net.f[k].is_vector:
            raise ValueError(f"argument 'net' expected scalar activations (one neuron, one f_k), got "
                             f"{net.f[k].name} in layer {k}")
    return net


def check_net(net, need: str = "forward"):
    """As :func:`check_scalar_net`, and the pass to be shown has been run."""
    check_scalar_net(net)
    if not net.y:
        raise ValueError("argument 'net' has no forward pass to show: call net.forward(x) first")
    if need == "backward" and not net.dz:
        raise ValueError("argument 'net' has no backward pass to show: call net.backward(d) after net.forward(x)")
    return net


# -- the scalar network's passes ----------------------------------------------------------------
def text_table(head, rows, right=()) -> str:
    """A plain-text table: the ``head`` row, a rule of dashes, then ``rows``; every column as wide as its widest
    cell, left-aligned, or right-aligned for the column indices in ``right``."""
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def forward_table(net, d=None) -> str:
    """Every kept value of the last forward pass, neuron by neuron: z(k)_j, f_k, y(k)_j (4 decimals).

    With the target ``d`` the last line gives Div(Y, d).
    """
    check_net(net)
    rows = [("0", str(i + 1), "", "input", _num(v, 4)) for i, v in enumerate(net.y[0])]
    for k in range(1, net.N + 1):
        rows += [(str(k), str(j + 1), _num(net.z[k][j], 4), net.f[k].name, _num(net.y[k][j], 4))
                 for j in range(net.widths[k])]
    out = text_table(("layer k", "unit j", "z(k)_j", "f_k", "y(k)_j"), rows, right=(2, 4))
    if d is not None:
        out += f"\nDiv(Y, d) = {net.divergence.value(np.array(net.y[net.N]), d):.4f}   ({net.divergence.name})"
    return out


def backward_table(net) -> str:
    """The last backward pass neuron by neuron, output layer first (4 decimals).

    Columns: dDiv/dy(k)_j, f_k'(z(k)_j), and their product dDiv/dz(k)_j.
    """
    check_net(net, "backward")
    rows = []
    for k in range(net.N, 0, -1):
        for j in range(net.widths[k]):
            fprime = float(net.f[k].derivative(net.z[k][j], net.y[k][j]))
            rows.append((str(k), str(j + 1), _num(net.dy[k][j], 4), _num(fprime, 4), _num(net.dz[k][j], 4)))
    return text_table(("layer k", "unit j", "dDiv/dy(k)_j", "f_k'(z(k)_j)", "dDiv/dz(k)_j"), rows, right=(2, 3, 4))


def weight_gradient_table(net) -> str:
    """dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j for every weight, and dDiv/db(k)_j, output layer first."""
    check_net(net, "backward")
    rows = []
    for k in range(net.N, 0, -1):
        for j in range(net.widths[k]):
            for i in range(net.widths[k - 1]):
                rows.append((f"w({k})_{_s(i, j)}", _num(net.w[k][i][j], 4), _num(net.y[k - 1][i], 4),
                             _num(net.dz[k][j], 4), _num(net.dw[k][i][j], 4)))
            rows.append((f"b({k})_{_s(j)}", _num(net.b[k][j], 4), "1", _num(net.dz[k][j], 4), _num(net.db[k][j], 4)))
    return text_table(("parameter", "value", "y(k-1)_i", "dDiv/dz(k)_j", "dDiv/d(parameter)"), rows, right=(1, 2, 3, 4))


# -- the passes, step by step ----------------------------------------------------------------
@dataclass(frozen=True)
class PassStep:
    """One step of the forward or backward pass, in the lecture's order.

    ``lines``: the step as formulas (LaTeX that matplotlib's mathtext also reads),
    the rule first, then the numbers.  ``computes``: keys of what the step
    produces; ``reads``: keys of what it uses.
    """

    phase: str
    lines: tuple[str, ...]
    computes: tuple[tuple, ...]
    reads: tuple[tuple, ...]


def pass_steps(net, x, d) -> list[PassStep]:
    """Run ``net.forward(x)`` and ``net.backward(d)``; return every step of both passes, explained.

    Forward: for k = 1..N and each unit j, z(k)_j then y(k)_j; then Div.
    Backward: dDiv/dy(N); then for k = N..1: every dDiv/dz(k)_i, then the
    gradients of each unit's weights and bias, then every dDiv/dy(k-1)_i.
    The numbers are the network's own; the steps only write them out.
    """
    check_scalar_net(net)
    net.forward(x)
    net.backward(np.asarray(d, dtype=float))
    check_net(net, "backward")
    N, W = net.N, net.widths
    steps = []
    for k in range(1, N + 1):
        act = _ACT.get(net.f[k].name, net.f[k].name)
        for j in range(W[k]):
            terms = [rf"{_name('w', k, i, j)}\,{_name('y', k - 1, i)}" for i in range(W[k - 1])]
            nums = [rf"{_par(net.w[k][i][j], 2)}\cdot{_par(net.y[k - 1][i])}" for i in range(W[k - 1])]
            steps.append(PassStep("forward", (
                rf"{_name('z', k, j)} = " + " + ".join(terms) + rf" + {_name('b', k, j)}",
                r"= " + " + ".join(nums) + rf" + {_par(net.b[k][j], 2)} = {_num(net.z[k][j])}"),
                (("z", k, j),), tuple(("y", k - 1, i) for i in range(W[k - 1])) + (("1", k),)
                + tuple(("w", k, i, j) for i in range(W[k - 1])) + (("b", k, j),)))
            steps.append(PassStep("forward", (
                rf"{_name('y', k, j)} = f_{{{k}}}({_name('z', k, j)}) = {act}({_num(net.z[k][j])}) = {_num(net.y[k][j])}",),
                (("y", k, j), ("f", k, j)), (("z", k, j),)))
    Y = [_name("y", N, i) for i in range(W[N])]
    div = net.divergence.value(np.array(net.y[N]), np.asarray(d, dtype=float))
    div_name = net.divergence.name.replace("_", r"\ ")
    steps.append(PassStep("forward", (
        rf"Div(y^{{({N})}}, d) = {_num(div)}" + rf"\quad\mathrm{{({div_name})}}",),
        (("Div",),), tuple(("y", N, i) for i in range(W[N]))))
    steps.append(PassStep("backward", tuple(
        rf"{_name('y', N, i, dot=True)} = \partial Div / \partial {Y[i]} = {_num(net.dy[N][i])}" for i in range(W[N])),
        tuple(("y", N, i) for i in range(W[N])), (("Div",),) + tuple(("y", N, i) for i in range(W[N]))))
    for k in range(N, 0, -1):
        for i in range(W[k]):
            fprime = float(net.f[k].derivative(net.z[k][i], net.y[k][i]))
            steps.append(PassStep("backward", (
                rf"{_name('z', k, i, dot=True)} = f_{{{k}}}^{{\prime}}({_name('z', k, i)})\,{_name('y', k, i, dot=True)}",
                rf"= {_par(fprime)}\cdot{_par(net.dy[k][i])} = {_num(net.dz[k][i])}"),
                (("z", k, i), ("f", k, i)), (("y", k, i),)))
        for j in range(W[k]):
            lines = tuple(
                rf"{_name('w', k, i, j, dot=True)} = {_name('y', k - 1, i)}\,{_name('z', k, j, dot=True)}"
                rf" = {_par(net.y[k - 1][i])}\cdot{_par(net.dz[k][j])} = {_num(net.dw[k][i][j])}"
                for i in range(W[k - 1]))
            lines += (rf"{_name('b', k, j, dot=True)} = {_name('z', k, j, dot=True)} = {_num(net.db[k][j])}",)
            steps.append(PassStep("backward", lines, tuple(("w", k, i, j) for i in range(W[k - 1])) + (("b", k, j),),
                                  (("z", k, j),) + tuple(("y", k - 1, i) for i in range(W[k - 1]))))
        if k > 1:
            for i in range(W[k - 1]):
                terms = [rf"{_name('w', k, i, j)}\,{_name('z', k, j, dot=True)}" for j in range(W[k])]
                nums = [rf"{_par(net.w[k][i][j], 2)}\cdot{_par(net.dz[k][j])}" for j in range(W[k])]
                steps.append(PassStep("backward", (
                    rf"{_name('y', k - 1, i, dot=True)} = " + " + ".join(terms),
                    r"= " + " + ".join(nums) + rf" = {_num(net.dy[k - 1][i])}"),
                    (("y", k - 1, i),), tuple(("z", k, j) for j in range(W[k])) + tuple(("w", k, i, j) for j in range(W[k]))))
    return steps


# -- the computational graph, gate by gate -------------------------------------------------------
def _two(x: float) -> str:
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def trace_table(output: Value) -> str:
    """A plain-text gate-by-gate table of ``output``'s backward pass, numbers to 2 decimals.

    Columns: gate, inputs (name = value), output (name = value), upstream, local
    gradients, downstream gradients (= upstream * local).  Unlabelled values are
    named v1, v2, ... in forward order.
    """
    records, names = trace(output), value_names(output)
    head = ("gate", "inputs", "output", "upstream", "local", "downstream")
    rows = [(
        gate_symbol(r.gate, r.consts) if r.gate in ("add_const", "mul_const") else r.gate,
        ", ".join(f"{names[v]}={_two(v.data)}" for v in r.inputs),
        f"{names[r.output]}={_two(r.output.data)}",
        _two(r.upstream),
        ", ".join(map(_two, r.local)),
        ", ".join(map(_two, r.downstream)),
    ) for r in records]
    widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
    return "\n".join([line(head), line(tuple("-" * w for w in widths))] + [line(r) for r in rows])


# -- an influence diagram's paths -------------------------------------------------------------
def path_table(diagram, source, target, at: Mapping) -> str:
    """A plain-text table of an influence diagram's paths from ``source`` to ``target`` at ``at = {input: number}``.

    Columns: the path, its product of local derivatives, its value (4 decimals); then the total.
    """
    from ..symbolic.paths import check_pair

    check_pair(diagram, source, target)
    rows = [(" -> ".join(map(str, c.path)), str(c.product), _num(c.value, 4))
            for c in diagram.path_contributions(source, target, at)]
    total = diagram.evaluate(diagram.total_derivative(source, target), at)
    rows += [("total d" + str(target) + "/d" + str(source), "", _num(total, 4))]
    head = ("path", "product of local derivatives", "value")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def path_sum_table_html(diagram, source, target, at: Mapping) -> str:
    """An HTML table of the paths from ``source`` to ``target`` at ``at = {input: number}``.

    One row per path (the path, its product of local derivatives in LaTeX, its
    value to 4 decimals), then their sum, then a central-difference estimate of
    the same derivative for comparison.  The products are typeset in display
    style, so a fraction such as e^x / y is as large as the text around it.
    """
    import sympy as sp

    from ..symbolic.paths import check_diagram, check_pair, numerical_total_derivative

    check_diagram(diagram)
    check_pair(diagram, source, target)
    rows = diagram.path_contributions(source, target, at)
    total = math.fsum(r.value for r in rows)
    numeric = numerical_total_derivative(diagram, source, target, at)
    cell = '<td style="padding:2px 8px;text-align:{}">{}</td>'.format
    lines = ['<table style="border-collapse:collapse">',
             "<tr>" + "".join(cell("left", f"<b>{h}</b>") for h in ("path", "product of local derivatives", "value"))
             + "</tr>"]
    for r in rows:
        lines.append("<tr>" + cell("left", html.escape(" → ".join(map(str, r.path))))
                     + cell("left", rf"$\displaystyle {sp.latex(r.product)}$") + cell("right", _num(r.value, 4))
                     + "</tr>")
    if not rows:
        lines.append("<tr>" + cell("left", f"no path: {source} does not influence {target}") + "</tr>")
    lines.append("<tr style='border-top:1px solid #888'>" + cell("left", f"<b>sum over paths = d{target}/d{source}</b>")
                 + cell("left", "") + cell("right", f"<b>{_num(total, 4)}</b>") + "</tr>")
    lines.append("<tr>" + cell("left", "central difference (no derivatives used)") + cell("left", "")
                 + cell("right", _num(numeric, 4)) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


# -- three witnesses -----------------------------------------------------------------------------
def witness_table(names, exact, numeric, code, *, decimals: int = 6, code_label: str = "the library") -> str:
    """The same derivatives three ways, one row each, and whether all three agree.

    ``names``: what each row is, in the lecture's notation (e.g. ``"dDiv/dw(1)_11"``);
    ``exact``: the values SymPy derives; ``numeric``: central finite differences;
    ``code``: what the library's implementation computes.  The three are
    sequences of the same length as ``names`` (any shape; flattened in order).
    A row agrees when the implementation and the finite differences each match
    SymPy within the library's tolerance (:data:`~backprop.core.tolerance.RTOL`).
    The last line says how many rows agree; values are shown to ``decimals``
    decimals, so a stored notebook output is stable.  ``code_label`` heads the
    implementation's column (and names it in the last line), e.g. ``"the vector form"``.
    """
    if not isinstance(code_label, str) or not code_label.strip():
        raise TypeError(f"argument 'code_label' expected a non-empty column heading, got {describe(code_label)}")
    names = [str(n) for n in names] if not isinstance(names, (str, bytes)) else None
    if not names:
        raise TypeError("argument 'names' expected a non-empty list of names such as 'dDiv/dw(1)_11'")
    columns = {}
    for label, values in (("exact", exact), ("numeric", numeric), ("code", code)):
        try:
            array = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise TypeError(f"argument '{label}' expected numbers, got {describe(values)}") from None
        if array.size != len(names):
            raise ValueError(f"argument '{label}' expected {len(names)} values, one per name, got {array.size}")
        columns[label] = array
    ok = agree(columns["code"], columns["exact"]) & agree(columns["numeric"], columns["exact"])
    rows = [(n, _num(e, decimals), _num(f, decimals), _num(c, decimals), "yes" if good else "NO")
            for n, e, f, c, good in zip(names, columns["exact"], columns["numeric"], columns["code"], ok)]
    table = text_table(("quantity", "SymPy (exact)", "finite differences", code_label, "agree"), rows,
                   right=(1, 2, 3))
    verdict = (f"all {len(rows)} agree" if ok.all() else f"{int(ok.sum())} of {len(rows)} agree") + \
        f" ({code_label} and finite differences each within relative {RTOL:g} of SymPy)"
    return f"{table}\n{verdict}"
