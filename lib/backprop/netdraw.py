"""The scalar network drawn, tabulated and stepped through, neuron by neuron (notebook 02).

Everything here *shows* a :class:`~backprop.scalar_net.ScalarNetwork`; nothing
computes a derivative of its own.  The values come from the network's last
``forward`` (z, y) and ``backward`` (dy, dz, dw, db).

Drawing.  Each neuron is split, as in the lecture, into its affine part z(k)_j
and its activation y(k)_j = f_k(z(k)_j).  Columns run left to right: the inputs
y(0), then z(1), y(1), z(2), ... y(N), then the divergence Div.  A node "1"
under each column stands for the constant input that carries the biases b(k)_j.
In the backward view the arrows turn round and each node shows the derivative
of Div with respect to it, written with the lecture's overdot:
ż = dDiv/dz, ẏ = dDiv/dy, ẇ = dDiv/dw.

Keys name the parts of a drawing: nodes ``("y", k, j)`` (k = 0 is the input),
``("z", k, j)``, ``("1", k)`` (the bias input of layer k) and ``("Div",)``;
edges ``("w", k, i, j)``, ``("b", k, j)``, ``("f", k, j)`` (z -> y) and
``("Y", i)`` (y(N)_i -> Div).  Unit indices count from 0 as in
``ScalarNetwork.w[k][i][j]``; printed names count from 1 as in the lecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ._checks import check_choice, describe

__all__ = [
    "draw_network",
    "draw_forward_backward",
    "forward_table",
    "backward_table",
    "weight_gradient_table",
    "PassStep",
    "pass_steps",
    "pass_step_figure",
    "pass_stepper",
]

# -- names, in mathtext (a subset of LaTeX, so the same strings display in Jupyter) ----------
_ACT = {"identity": r"\mathrm{id}", "sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{ReLU}",
        "leaky_relu": r"\mathrm{LReLU}"}


def _s(*idx: int) -> str:
    """Lecture subscripts from 0-based indices: (0, 1) -> '12' (commas once an index has two digits)."""
    parts = [str(i + 1) for i in idx]
    return ("," if any(len(p) > 1 for p in parts) else "").join(parts)


def _name(kind: str, k: int, *idx: int, dot: bool = False) -> str:
    base = rf"\dot{{{kind}}}" if dot else kind
    return rf"{base}^{{({k})}}_{{{_s(*idx)}}}"


def _num(v: float, digits: int = 3) -> str:
    s = f"{v:.{digits}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # no "-0.000"


def _par(v: float, digits: int = 3) -> str:
    """A number ready to multiply: negative ones in parentheses."""
    s = _num(v, digits)
    return f"({s})" if s.startswith("-") else s


# -- checks ------------------------------------------------------------------------------------
def _check_scalar_net(net):
    """A ScalarNetwork whose activations are all scalar (a neuron is one z and one y)."""
    from .scalar_net import ScalarNetwork

    if not isinstance(net, ScalarNetwork):
        raise TypeError(f"argument 'net' expected a ScalarNetwork, got {describe(net)}")
    for k in range(1, net.N + 1):
        if net.f[k].is_vector:
            raise ValueError(f"argument 'net' expected scalar activations (one neuron, one f_k), got "
                             f"{net.f[k].name} in layer {k}")
    return net


def _check_net(net, need: str = "forward"):
    """As above, and the pass to be shown has been run."""
    _check_scalar_net(net)
    if not net.y:
        raise ValueError("argument 'net' has no forward pass to show: call net.forward(x) first")
    if need == "backward" and not net.dz:
        raise ValueError("argument 'net' has no backward pass to show: call net.backward(d) after net.forward(x)")
    return net


def _keys(value, name: str) -> set:
    if value is None:
        return set()
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise TypeError(f"argument '{name}' expected a collection of keys such as ('z', 1, 0), got {describe(value)}")
    for key in value:
        if not isinstance(key, tuple):
            raise TypeError(f"argument '{name}' expected keys that are tuples such as ('z', 1, 0), got {key!r}")
    return set(value)


# -- layout ----------------------------------------------------------------------------------
_R = 0.46  # node radius, in layout units
_UNIT = 0.62  # inches per layout unit
_GAP_W = 3.7  # between y(k-1) and z(k): the weights' column
_GAP_F = 1.35  # between z(k) and y(k): inside a neuron
_ROW = 1.6  # between units of a layer
_LABEL_AT = 0.36  # where a weight's label sits along its arrow (from the y(k-1) end)


def _positions(widths, biases: bool) -> dict:
    N = len(widths) - 1
    pos, x = {}, 0.0
    rows = lambda n: [((n - 1) / 2 - j) * _ROW for j in range(n)]
    low = min(min(rows(n)) for n in widths)
    for j, yv in enumerate(rows(widths[0])):
        pos[("y", 0, j)] = (x, yv)
    for k in range(1, N + 1):
        if biases:
            pos[("1", k)] = (x, low - 1.15 * _ROW)
        x += _GAP_W
        for j, yv in enumerate(rows(widths[k])):
            pos[("z", k, j)] = (x, yv)
            pos[("y", k, j)] = (x + _GAP_F, yv)
        x += _GAP_F
    pos[("Div",)] = (x + 2.2, 0.0)
    return pos


def _edges(widths, biases: bool) -> list:
    """(key, source node, target node) in the forward direction."""
    out = []
    for k in range(1, len(widths)):
        for j in range(widths[k]):
            out += [(("w", k, i, j), ("y", k - 1, i), ("z", k, j)) for i in range(widths[k - 1])]
            if biases:
                out.append((("b", k, j), ("1", k), ("z", k, j)))
            out.append((("f", k, j), ("z", k, j), ("y", k, j)))
    N = len(widths) - 1
    out += [(("Y", i), ("y", N, i), ("Div",)) for i in range(widths[N])]
    return out


_FILL, _EDGE, _TEXT = "#eef3fb", "#34495e", "#1b2631"
_HOT, _WARM, _MUTE = "#f5b041", "#fcf3cf", "#d5d8dc"


def _node_text(net, key, mode, d, shown) -> str:
    if key[0] == "1":
        return "1"
    if key[0] == "Div":
        text = "$Div$"
        if mode == "forward" and d is not None and shown(key):
            text += "\n" + _num(net.divergence.value(np.array(net.y[net.N]), d))
        if mode == "backward" and shown(key):
            text += "\n1"
        return text
    kind, k, j = key
    back = mode == "backward" and k > 0  # no derivative is computed for the inputs
    text = f"${_name(kind, k, j, dot=back)}$"
    if mode == "forward" and shown(key):
        text += "\n" + _num((net.y if kind == "y" else net.z)[k][j])
    elif back and shown(key):
        text += "\n" + _num((net.dy if kind == "y" else net.dz)[k][j])
    return text


def _edge_text(net, key, labels, shown) -> str:
    kind = key[0]
    if kind == "f":
        return f"$f_{{{key[1]}}}$"
    if kind == "Y" or labels is None:
        return ""
    if kind == "w":
        _, k, i, j = key
        name, value, grad = _name("w", k, i, j), net.w[k][i][j], net.dw[k][i][j] if net.dw else None
    else:
        _, k, j = key
        name, value, grad = _name("b", k, j), net.b[k][j], net.db[k][j] if net.db else None
    if labels == "symbols":
        return f"${name}$"
    if labels == "weights":
        return f"${name}$={_num(value, 2)}"
    dotted = r"\dot{" + name[0] + "}" + name[1:]
    return f"${dotted}$" + (f"={_num(grad)}" if shown(key) else "")


def draw_network(net, mode: str = "symbols", *, d=None, edge_labels: str | None = None, biases: bool = True,
                 shown=None, highlight=(), reads=(), muted=(), ax=None, title: str | None = None):
    """Draw a ScalarNetwork with every z(k)_j, y(k)_j, w(k)_ij and b(k)_j labelled; returns the Figure.

    ``mode``: ``"symbols"`` (names only), ``"forward"`` (each node's value from the
    last forward pass; Div's value when the target ``d`` is given) or
    ``"backward"`` (arrows reversed, each node's dDiv/d(node) from the last
    backward pass).  ``edge_labels``: ``"symbols"``, ``"weights"`` (name = value)
    or ``"gradients"`` (dDiv/dw); default symbols in the symbols mode, weights
    otherwise.  ``biases``: draw the constant-1 inputs and the b(k)_j arrows.
    ``shown``: keys whose values are shown (default all); ``highlight``,
    ``reads``, ``muted``: keys drawn hot (being computed), warm (read by that
    computation) or grey (e.g. a dead neuron).
    """
    check_choice(mode, "mode", ("symbols", "forward", "backward"))
    if mode != "symbols":
        _check_net(net, mode)
    else:
        _check_scalar_net(net)
    if edge_labels is None:
        edge_labels = "symbols" if mode == "symbols" else "weights"
    check_choice(edge_labels, "edge_labels", ("symbols", "weights", "gradients"))
    if edge_labels == "gradients" and not net.dw:
        raise ValueError("edge_labels='gradients' needs a backward pass: call net.backward(d) first")
    if d is not None:
        d = np.asarray(d, dtype=float)
    if not isinstance(biases, bool):
        raise TypeError(f"argument 'biases' expected True or False, got {describe(biases)}")
    visible = None if shown is None else _keys(shown, "shown")
    is_shown = (lambda key: True) if visible is None else (lambda key: key in visible)
    hot, warm, mute = _keys(highlight, "highlight"), _keys(reads, "reads"), _keys(muted, "muted")

    pos = _positions(net.widths, biases)
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    x_lo, x_hi = min(xs) - 1.0, max(xs) + 1.2
    y_lo, y_hi = min(ys) - 0.9, max(ys) + 1.0 + (0.5 if title else 0.0)
    if ax is None:
        fig = Figure(figsize=((x_hi - x_lo) * _UNIT, (y_hi - y_lo) * _UNIT))
        ax = fig.add_axes((0, 0, 1, 1))
        scale = 1.0
    else:
        fig = ax.get_figure(root=True)
        box = ax.get_window_extent()
        scale = min(1.0, box.width / fig.dpi / ((x_hi - x_lo) * _UNIT), box.height / fig.dpi / ((y_hi - y_lo) * _UNIT))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    if title:
        ax.text((x_lo + x_hi) / 2, y_hi - 0.1, title, ha="center", va="top", fontsize=11 * scale)

    # the neurons: a pale box around each z(k)_j, y(k)_j pair
    for k in range(1, net.N + 1):
        for j in range(net.widths[k]):
            (xz, yz), (xy, _) = pos[("z", k, j)], pos[("y", k, j)]
            ax.add_patch(FancyBboxPatch((xz - _R - 0.18, yz - _R - 0.2), xy - xz + 2 * _R + 0.36, 2 * _R + 0.4,
                                        boxstyle="round,pad=0,rounding_size=0.35", fc="#f8f9f9", ec="#aab7b8",
                                        lw=0.8, ls="--", zorder=0))
    patch = {}
    for key, (x, y) in pos.items():
        fc = _HOT if key in hot else _WARM if key in warm else _MUTE if key in mute else _FILL
        if key[0] == "Div":
            w, h = 1.5, 1.2
            patch[key] = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.2",
                                        fc=fc, ec=_EDGE, lw=1.0, zorder=2)
        elif key[0] == "1":
            patch[key] = Circle((x, y), 0.6 * _R, fc="white" if fc == _FILL else fc, ec=_EDGE, lw=0.8, ls=":", zorder=2)
        else:
            patch[key] = Circle((x, y), _R, fc=fc, ec=_EDGE, lw=1.0, zorder=2)
        ax.add_patch(patch[key])
        ax.text(x, y, _node_text(net, key, mode, d, is_shown), ha="center", va="center", multialignment="center",
                fontsize=(8.5 if key[0] != "1" else 8) * scale, color="#7f8c8d" if key in mute else _TEXT, zorder=3)
    if mode == "forward" and d is not None:
        x, y = pos[("Div",)]
        target = ", ".join(_num(v, 2) for v in np.ravel(d))
        ax.text(x, y - 0.95, f"d = ({target})" if np.size(d) > 1 else f"d = {target}", ha="center", va="center",
                fontsize=8 * scale, color=_TEXT)

    back = mode == "backward"
    for key, src, dst in _edges(net.widths, biases):
        a, b = (dst, src) if back else (src, dst)
        if back and key[0] == "b":
            a, b = src, dst  # nothing flows back into the constant 1: keep the arrow, grey it
        color = _HOT if key in hot else "#e59866" if key in warm else "#b3b6b7" if key in mute else _EDGE
        if back and (key[0] == "b" or key[:2] == ("w", 1)) and key not in hot and key not in warm:
            color = "#b3b6b7"  # no derivative flows into the constant 1 or the inputs
        ax.add_patch(FancyArrowPatch(pos[a], pos[b], patchA=patch[a], patchB=patch[b], arrowstyle="-|>",
                                     mutation_scale=11 * scale, shrinkA=1, shrinkB=1, color=color,
                                     lw=2.0 if key in hot else 1.0, zorder=1))
        text = _edge_text(net, key, edge_labels, is_shown)
        if not text:
            continue
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        t = 0.5 if key[0] == "f" else _LABEL_AT
        lx, ly = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if key[0] == "f":
            ly += _R + 0.32
        ax.text(lx, ly, text, ha="center", va="center", fontsize=7.5 * scale, color="#8e2c1f", zorder=4,
                bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none"))
    return fig


def draw_forward_backward(net, d, *, biases: bool = True):
    """The forward pass (values) above the backward pass (derivatives), same weights; returns the Figure.

    Top: z and y values flow right, combined with the weights w(k)_ij.  Bottom:
    dDiv/dy and dDiv/dz values flow left, combined with the *same* weights.
    """
    _check_net(net, "backward")
    probe = draw_network(net, "forward", d=d, biases=biases, title="probe")
    w, h = probe.get_size_inches()
    fig = Figure(figsize=(w, 2 * h))
    top, bottom = fig.add_axes((0, 0.5, 1, 0.5)), fig.add_axes((0, 0, 1, 0.5))
    draw_network(net, "forward", d=d, biases=biases, ax=top, title="forward pass: values flow left to right")
    draw_network(net, "backward", biases=biases, ax=bottom,
                 title="backward pass: derivatives of Div flow right to left, through the same weights")
    return fig


# -- tables --------------------------------------------------------------------------------------
def _table(head, rows, right=()) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def forward_table(net, d=None) -> str:
    """Every kept value of the last forward pass, neuron by neuron: z(k)_j, f_k, y(k)_j (4 decimals).

    With the target ``d`` the last line gives Div(Y, d).
    """
    _check_net(net)
    rows = [("0", str(i + 1), "", "input", _num(v, 4)) for i, v in enumerate(net.y[0])]
    for k in range(1, net.N + 1):
        rows += [(str(k), str(j + 1), _num(net.z[k][j], 4), net.f[k].name, _num(net.y[k][j], 4))
                 for j in range(net.widths[k])]
    out = _table(("layer k", "unit j", "z(k)_j", "f_k", "y(k)_j"), rows, right=(2, 4))
    if d is not None:
        out += f"\nDiv(Y, d) = {net.divergence.value(np.array(net.y[net.N]), d):.4f}   ({net.divergence.name})"
    return out


def backward_table(net) -> str:
    """The last backward pass neuron by neuron, output layer first (4 decimals).

    Columns: dDiv/dy(k)_j, f_k'(z(k)_j), and their product dDiv/dz(k)_j.
    """
    _check_net(net, "backward")
    rows = []
    for k in range(net.N, 0, -1):
        for j in range(net.widths[k]):
            fprime = float(net.f[k].derivative(net.z[k][j], net.y[k][j]))
            rows.append((str(k), str(j + 1), _num(net.dy[k][j], 4), _num(fprime, 4), _num(net.dz[k][j], 4)))
    return _table(("layer k", "unit j", "dDiv/dy(k)_j", "f_k'(z(k)_j)", "dDiv/dz(k)_j"), rows, right=(2, 3, 4))


def weight_gradient_table(net) -> str:
    """dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j for every weight, and dDiv/db(k)_j, output layer first."""
    _check_net(net, "backward")
    rows = []
    for k in range(net.N, 0, -1):
        for j in range(net.widths[k]):
            for i in range(net.widths[k - 1]):
                rows.append((f"w({k})_{_s(i, j)}", _num(net.w[k][i][j], 4), _num(net.y[k - 1][i], 4),
                             _num(net.dz[k][j], 4), _num(net.dw[k][i][j], 4)))
            rows.append((f"b({k})_{_s(j)}", _num(net.b[k][j], 4), "1", _num(net.dz[k][j], 4), _num(net.db[k][j], 4)))
    return _table(("parameter", "value", "y(k-1)_i", "dDiv/dz(k)_j", "dDiv/d(parameter)"), rows, right=(1, 2, 3, 4))


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
    _check_scalar_net(net)
    net.forward(x)
    net.backward(np.asarray(d, dtype=float))
    _check_net(net, "backward")
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


def pass_step_figure(net, x, d, step: int, *, biases: bool = True):
    """The network after ``step`` steps of :func:`pass_steps` (0-based): the widget's pure callback.

    What the step computes is drawn hot, what it reads warm; values not yet
    computed are hidden.  The step's formulas are the title.  Returns the Figure.
    """
    steps = pass_steps(net, x, d)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < len(steps):
        raise ValueError(f"argument 'step' expected an integer in 0..{len(steps) - 1}, got {step!r}")
    now = steps[step]
    given = {("y", 0, i) for i in range(net.widths[0])} if now.phase == "forward" else {("Div",)}
    done = given | {key for s in steps[: step + 1] if s.phase == now.phase for key in s.computes}
    head = f"{now.phase} pass, step {step + 1} of {len(steps)}"
    title = head + "\n" + "\n".join(f"${line}$" for line in now.lines)
    fig = draw_network(net, now.phase, d=d, biases=biases, shown=done, highlight=now.computes, reads=now.reads,
                       edge_labels="weights" if now.phase == "forward" else "gradients")
    # room on top for the formulas
    w, h = fig.get_size_inches()
    extra = 0.32 * (1 + len(now.lines))
    fig.set_size_inches(w, h + extra)
    fig.axes[0].set_position((0, 0, 1, h / (h + extra)))
    fig.text(0.5, 1 - 0.08 / (h + extra), title, ha="center", va="top", fontsize=10.5, linespacing=1.6)
    return fig


def pass_stepper(net, x, d, *, biases: bool = True):
    """A slider that steps through the forward and backward pass of ``net`` on (x, d); returns the widget.

    Children: ``(IntSlider, Image)``; each slider value draws :func:`pass_step_figure` into the
    ``Image`` as PNG.
    """
    import io

    import ipywidgets as widgets

    count = len(pass_steps(net, x, d))
    slider = widgets.IntSlider(value=0, min=0, max=count - 1, description="step", continuous_update=False,
                               layout=widgets.Layout(width="60%"))
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def show(change=None):
        buffer = io.BytesIO()
        pass_step_figure(net, x, d, slider.value, biases=biases).savefig(buffer, format="png", dpi=100)
        image.value = buffer.getvalue()

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, image])
