"""The scalar network drawn neuron by neuron, and each step of its passes (notebook 02).

Everything here *shows* a :class:`~backprop.core.scalar_net.ScalarNetwork`; nothing
computes a derivative of its own.  The values come from the network's last
``forward`` (z, y) and ``backward`` (dy, dz, dw, db).

Drawing.  Each neuron is split, as in the lecture, into its affine part z(k)_j
and its activation y(k)_j = f_k(z(k)_j).  Each node's circle is large enough
for its name and its number (the drawing narrows instead, to stay within the
course's width); whole numbers are written whole, others with 3 decimals
(weights and biases 2).  Columns run left to right: the inputs
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

from typing import Collection

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ..core.checks import check_choice, describe
from .labels import place_labels, text_size
from .style import MAX_WIDTH, MIN_FONT, new_figure
from .notation import math_name as _name
from .notation import num as _num
from .tables import check_net as _check_net
from .tables import check_scalar_net as _check_scalar_net

__all__ = [
    "draw_network",
    "draw_forward_backward",
]

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
_R = 0.5  # node radius, in layout units, at least (more when a node's name and number need it)
_R_MAX = 1.0  # at most: a network deeper than the course's (N > 5) with long numbers would not fit 10 inches
_UNIT = 0.62  # inches per layout unit, at most (less when the network would be wider than MAX_WIDTH)
_GAP_W = 3.5  # between y(k-1) and z(k): the weights' column
_GAP_F = 1.35  # between z(k) and y(k): inside a neuron, at least (the two circles stay 0.35 apart)
_ROW = 2.2  # between units of a layer; 2.7 when a layer has 3 or more units, so the crossing arrows leave room
# for their labels (tested up to 3 units per layer; wider layers are drawn the same way and crowd)
_NODE_FONT, _LABEL_FONT = 10.0, MIN_FONT  # points
_NODE_PAD = 2.5  # points between a node's text and its circle
_BIAS_AT = 0.55  # where the constant input 1 sits along the weights' column
# when the circles grow past _R, the rows spread by _SPREAD and the weights' column widens by _WIDEN times the
# growth, so the arrows keep the room their labels need (measured: tests/views/test_network.py, up to 3 units a layer)
_SPREAD, _WIDEN = 2.0, 3.0


def _positions(widths, biases: bool, stretch: float = 1.0, radius: float = _R) -> dict:
    """Each node's (x, y) in layout units; ``stretch`` spreads the rows (for a drawing narrowed to fit),
    ``radius`` (of the nodes) widens each neuron so that its two circles keep their distance."""
    N = len(widths) - 1
    gap_f = max(_GAP_F, 2 * radius + _GAP_F - 2 * _R)
    gap_w = _GAP_W + _WIDEN * (radius - _R)  # the weights' column keeps its room between the circles
    pos, x = {}, 0.0
    row = stretch * ((_ROW if max(widths) <= 2 else _ROW + 0.5) + _SPREAD * (radius - _R))
    rows = lambda n: [((n - 1) / 2 - j) * row for j in range(n)]
    low = min(min(rows(n)) for n in widths)
    for j, yv in enumerate(rows(widths[0])):
        pos[("y", 0, j)] = (x, yv)
    for k in range(1, N + 1):
        if biases:
            pos[("1", k)] = (x + _BIAS_AT * gap_w, low - 0.8 * row)  # under the weights, near the units it feeds
        x += gap_w
        for j, yv in enumerate(rows(widths[k])):
            pos[("z", k, j)] = (x, yv)
            pos[("y", k, j)] = (x + gap_f, yv)
        x += gap_f
    pos[("Div",)] = (x + 2.0, 0.0)
    return pos


def _visible(pos, src, dst, radius: float) -> np.ndarray:
    """The part of the edge ``src`` -> ``dst`` that is drawn: from one node's rim to the other's; shape (2, 2)."""
    a, b = np.array(pos[src], dtype=float), np.array(pos[dst], dtype=float)
    along = (b - a) / np.hypot(*(b - a))
    rim = lambda key: 0.6 * _R if key[0] == "1" else 0.75 if key[0] == "Div" else radius  # noqa: E731
    return np.array([a + rim(src) * along, b - rim(dst) * along])


def _half_diagonal(texts) -> float:
    """Half the diagonal, in points at the size _NODE_FONT, of the largest box of ``texts`` (it scales with the size)."""
    return max((float(np.hypot(*text_size(text, _NODE_FONT))) / 2 for text in set(texts)), default=0.0)


def _digits(values, decimals: int) -> int:
    """0 when every one of ``values`` is a whole number (the pencil-and-paper example), else ``decimals``."""
    flat = np.array([float(v) for v in values], dtype=float)
    return 0 if flat.size and np.all(np.abs(flat - np.round(flat)) < 1e-9) else decimals


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


def _node_text(net, key, mode, d, shown, digits: int = 3) -> str:
    if key[0] == "1":
        return "1"
    if key[0] == "Div":
        text = "$Div$"
        if mode == "forward" and d is not None and shown(key):
            text += "\n" + _num(net.divergence.value(np.array(net.y[net.N]), d), digits)
        if mode == "backward" and shown(key):
            text += "\n1"
        return text
    kind, k, j = key
    back = mode == "backward" and k > 0  # no derivative is computed for the inputs
    text = f"${_name(kind, k, j, dot=back)}$"
    if mode == "forward" and shown(key):
        text += "\n" + _num((net.y if kind == "y" else net.z)[k][j], digits)
    elif back and shown(key):
        text += "\n" + _num((net.dy if kind == "y" else net.dz)[k][j], digits)
    return text


def _shown_digits(net, d) -> tuple[int, int]:
    """Decimals of the numbers a drawing of ``net`` shows: (values and derivatives, weights and biases).

    Whole numbers are written whole ("-2", not "-2.000"), so that the integer example
    reads as it is worked by hand; otherwise 3 decimals, and 2 for the weights.
    """
    values = [v for layer in (*net.z[1:], *net.y, *net.dz[1:], *net.dy[1:], *net.dw[1:], *net.db[1:])
              for v in np.ravel(np.asarray(layer, dtype=float))]
    if d is not None and net.z:
        values.append(net.divergence.value(np.array(net.y[net.N]), d))
    parameters = [v for layer in (*net.w[1:], *net.b[1:]) for v in np.ravel(np.asarray(layer, dtype=float))]
    return _digits(values, 3), _digits(parameters, 2)


def _edge_text(net, key, labels, shown, digits: tuple[int, int] = (3, 2)) -> str:
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
    if labels == "weights":  # the value alone, on its own arrow (the symbols drawing names every arrow)
        return _num(value, digits[1])
    dotted = r"\dot{" + name[0] + "}" + name[1:]
    return _num(grad, digits[0]) if shown(key) else f"${dotted}$"


def draw_network(net, mode: str = "symbols", *, d=None, edge_labels: str | None = None, biases: bool = True,
                 shown=None, highlight=(), reads=(), muted=(), ax=None, title: str | None = None):
    """Draw a ScalarNetwork with every z(k)_j, y(k)_j, w(k)_ij and b(k)_j labelled; returns the Figure.

    ``mode``: ``"symbols"`` (names only), ``"forward"`` (each node's value from the
    last forward pass; Div's value when the target ``d`` is given) or
    ``"backward"`` (arrows reversed, each node's dDiv/d(node) from the last
    backward pass).  ``edge_labels``: ``"symbols"``, ``"weights"`` (each value on
    its own arrow) or ``"gradients"`` (dDiv/dw); default symbols in the symbols mode, weights
    otherwise.  ``biases``: draw the constant-1 inputs and the b(k)_j arrows.
    ``shown``: keys whose values are shown (default all); ``highlight``,
    ``reads``, ``muted``: keys drawn hot (being computed), warm (read by that
    computation) or grey (e.g. a dead neuron).  Each edge label's ``gid`` is its
    key, ``repr(("w", k, i, j))``, so a reader (or a test) can tell which arrow a
    number belongs to.
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

    digits = _shown_digits(net, d)
    keys = list(_positions(net.widths, biases))
    node_texts = {key: _node_text(net, key, mode, d, is_shown, digits[0]) for key in keys}
    # every node's circle holds its name and its number: the radius grows with the longest text the network can
    # show in either pass (so every step of the stepper has the same layout), the drawing narrows to stay within
    # MAX_WIDTH, and the radius is worked out again at the new scale (a few rounds settle it)
    passes = [m for m, ran in (("forward", net.z), ("backward", net.dz)) if ran] if mode != "symbols" else [mode]
    longest = _half_diagonal([_node_text(net, key, m, d, lambda _: True, digits[0])
                              for m in passes for key in keys if key[0] in "yz"])
    radius = _R
    for _ in range(50):
        pos = _positions(net.widths, biases, radius=radius)
        xs = [p[0] for p in pos.values()]
        x_lo, x_hi = min(xs) - 1.0 - (radius - _R), max(xs) + 1.2 + (radius - _R)
        unit = min(_UNIT, MAX_WIDTH / (x_hi - x_lo))  # inches per layout unit: never wider than MAX_WIDTH
        pos = _positions(net.widths, biases, stretch=_UNIT / unit, radius=radius)  # narrowed: rows spread
        ys = [p[1] for p in pos.values()]
        y_lo, y_hi = min(ys) - 0.9 - (radius - _R), max(ys) + 1.1 + (radius - _R) + (0.6 if title else 0.0)
        if ax is None:
            scale = 1.0
        else:
            box = ax.get_window_extent()
            dpi = ax.get_figure(root=True).dpi
            scale = min(1.0, box.width / dpi / ((x_hi - x_lo) * unit), box.height / dpi / ((y_hi - y_lo) * unit))
        font = lambda size: max(MIN_FONT, size * scale)  # noqa: E731 - never smaller than the course's smallest text
        needed = (longest * font(_NODE_FONT) / _NODE_FONT + _NODE_PAD) / (72 * unit * scale)  # in layout units
        if needed <= radius + 1e-6 or radius >= _R_MAX:
            break
        radius = min(needed, _R_MAX)
    if ax is None:
        fig = new_figure((x_hi - x_lo) * unit, (y_hi - y_lo) * unit)
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.get_figure(root=True)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    if title:
        ax.text((x_lo + x_hi) / 2, y_hi - 0.1, title, ha="center", va="top", fontsize=font(11))

    # the neurons: a pale box around each z(k)_j, y(k)_j pair
    for k in range(1, net.N + 1):
        for j in range(net.widths[k]):
            (xz, yz), (xy, _) = pos[("z", k, j)], pos[("y", k, j)]
            ax.add_patch(FancyBboxPatch((xz - radius - 0.18, yz - radius - 0.2), xy - xz + 2 * radius + 0.36,
                                        2 * radius + 0.4,
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
            patch[key] = Circle((x, y), radius, fc=fc, ec=_EDGE, lw=1.0, zorder=2)
        ax.add_patch(patch[key])
        ax.text(x, y, node_texts[key], ha="center", va="center", multialignment="center",
                fontsize=font(_NODE_FONT if key[0] != "1" else _LABEL_FONT), color="#7f8c8d" if key in mute else _TEXT,
                zorder=3)
    if mode == "forward" and d is not None:
        x, y = pos[("Div",)]
        target = ", ".join(_num(v, digits[1]) for v in np.ravel(d))
        ax.text(x, y - 0.95, f"d = ({target})" if np.size(d) > 1 else f"d = {target}", ha="center", va="center",
                fontsize=font(_LABEL_FONT), color=_TEXT)

    back = mode == "backward"
    edges = _edges(net.widths, biases)
    texts = [_edge_text(net, key, edge_labels, is_shown, digits) for key, _, _ in edges]
    # each parameter's label on its own arrow, where its box has the most room (views/labels.py)
    inches = 72 * unit * scale  # points per layout unit
    obstacles = [(pos[key], (2 * radius, 2 * radius)) for key in pos if key[0] in "yz"]
    obstacles += [(pos[key], (1.2 * _R, 1.2 * _R)) for key in pos if key[0] == "1"] + [(pos[("Div",)], (1.5, 1.2))]
    obstacles += [(((pos[src][0] + pos[dst][0]) / 2, pos[src][1] + radius + 0.35), (1.0, 0.4))
                  for key, src, dst in edges if key[0] == "f"]
    sizes = []
    for (key, _, _), text in zip(edges, texts):
        if key[0] in "wb" and text:
            w, h = text_size(text, font(_LABEL_FONT))
            pad = 0.2 * font(_LABEL_FONT)
            sizes.append(((w + 2 * pad) / inches, (h + 2 * pad) / inches))
        else:
            sizes.append(None)
    places = place_labels([_visible(pos, src, dst, radius) for _, src, dst in edges], sizes, obstacles, prefer=0.05)
    for (key, src, dst), text, at in zip(edges, texts, places):
        a, b = (dst, src) if back else (src, dst)
        if back and key[0] == "b":
            a, b = src, dst  # nothing flows back into the constant 1: keep the arrow, grey it
        color = _HOT if key in hot else "#e59866" if key in warm else "#b3b6b7" if key in mute else _EDGE
        if back and (key[0] == "b" or key[:2] == ("w", 1)) and key not in hot and key not in warm:
            color = "#b3b6b7"  # no derivative flows into the constant 1 or the inputs
        ax.add_patch(FancyArrowPatch(pos[a], pos[b], patchA=patch[a], patchB=patch[b], arrowstyle="-|>",
                                     mutation_scale=12 * scale, shrinkA=1, shrinkB=1, color=color,
                                     lw=2.0 if key in hot else 1.0, zorder=1))
        if not text:
            continue
        if key[0] == "f":  # the activation's name, above its neuron
            (x0, y0), (x1, _) = pos[src], pos[dst]
            ax.text((x0 + x1) / 2, y0 + radius + 0.35, text, ha="center", va="center", fontsize=font(_LABEL_FONT),
                    color="#8e2c1f", zorder=4)
            continue
        ax.text(at[0], at[1], text, ha="center", va="center", fontsize=font(_LABEL_FONT), color="#8e2c1f",
                zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"), gid=repr(key))
    return fig


def draw_forward_backward(net, d, *, biases: bool = True):
    """The forward pass (values) above the backward pass (derivatives), same weights; returns the Figure.

    Top: z and y values flow right, combined with the weights w(k)_ij.  Bottom:
    dDiv/dy and dDiv/dz values flow left, combined with the *same* weights.
    """
    _check_net(net, "backward")
    probe = draw_network(net, "forward", d=d, biases=biases, title="probe")
    w, h = probe.get_size_inches()
    fig = new_figure(w, 2 * h)
    top, bottom = fig.add_axes((0, 0.5, 1, 0.5)), fig.add_axes((0, 0, 1, 0.5))
    draw_network(net, "forward", d=d, biases=biases, ax=top, title="forward pass: values flow left to right")
    draw_network(net, "backward", biases=biases, ax=bottom,
                 title="backward pass: derivatives of Div flow right to left, through the same weights")
    return fig
