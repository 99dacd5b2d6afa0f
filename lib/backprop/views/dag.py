"""Diagrams of directed acyclic graphs: influence diagrams and computational graphs alike.

One layout and one drawing routine serve every diagram of the course, so an
influence diagram (notebook 01) and a computational graph (notebook 02) look
the same.  The layout is layered (Sugiyama style): a node's layer is the length
of the longest path reaching it from a source, layers run left to right, an edge
that skips layers passes through reserved slots in the layers between, and the
order inside each layer is improved by barycentre sweeps to reduce crossings.
Everything is deterministic and uses matplotlib only (no graphviz): a new figure
is a ``matplotlib.figure.Figure``, so no pyplot backend is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
from matplotlib.mathtext import MathTextParser
from matplotlib.patches import Circle, ConnectionStyle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from ..core.checks import check_choice, describe
from ..core.graph import Value, gate_symbol, topological_order, value_names
from .labels import place_labels, text_size
from .style import MAX_WIDTH, MIN_FONT, new_figure

__all__ = ["layered_layout", "draw_dag", "draw_graph", "draw_influence_diagram"]

_FONT_SIZE = 10.0  # points; the layout is computed in points at this size, then scaled
_PAD = 5.0  # points between node text and node border
_ROW_GAP = 24.0  # points between nodes of one layer
_MIN_LAYER_GAP = 46.0  # points between layers when edges carry no label


class _Slot:
    """A place reserved for a long edge in a layer it passes through."""

    __slots__ = ("edge", "layer")

    def __init__(self, edge: int, layer: int):
        self.edge, self.layer = edge, layer


def _check_graph(nodes, edges) -> tuple[list, list[tuple]]:
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise TypeError(f"argument 'nodes' expected a sequence of hashable nodes, got {describe(nodes)}")
    nodes = list(nodes)
    for n in nodes:
        if not isinstance(n, Hashable):
            raise TypeError(f"argument 'nodes' expected hashable nodes, got {describe(n)}")
    if len(set(nodes)) != len(nodes):
        raise ValueError("argument 'nodes' expected distinct nodes, got a repeated node")
    if isinstance(edges, (str, bytes)) or not isinstance(edges, Sequence):
        raise TypeError(f"argument 'edges' expected a sequence of (source, target) pairs, got {describe(edges)}")
    known = set(nodes)
    for i, e in enumerate(edges):
        if not (isinstance(e, tuple) and len(e) == 2):
            raise TypeError(f"argument 'edges' expected (source, target) pairs, got {describe(e)} at index {i}")
        if e[0] not in known or e[1] not in known:
            raise ValueError(f"argument 'edges' expected pairs of nodes from 'nodes', got {e!r} at index {i}")
    return nodes, list(edges)


def _longest_path_layers(nodes, edges) -> dict:
    """Layer of each node = longest path from a source (Kahn's order, no recursion)."""
    indeg = {n: 0 for n in nodes}
    children = {n: [] for n in nodes}
    for s, t in edges:
        indeg[t] += 1
        children[s].append(t)
    layer = {n: 0 for n in nodes}
    ready = [n for n in nodes if indeg[n] == 0]
    for n in ready:  # ready grows while we walk it
        for c in children[n]:
            layer[c] = max(layer[c], layer[n] + 1)
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(ready) < len(nodes):
        stuck = [n for n in nodes if indeg[n] > 0]
        raise ValueError(f"argument 'edges' expected an acyclic graph, got a cycle through {stuck!r}")
    return layer


def _crossings(order: list[list], links: list[tuple], rank: dict) -> int:
    """Number of crossing pairs among links (all between adjacent layers)."""
    count = 0
    for k in range(len(order) - 1):
        layer_nodes = set(order[k])
        segs = [(rank[a], rank[b]) for a, b in links if a in layer_nodes]
        count += sum((a0 - b0) * (a1 - b1) < 0 for i, (a0, a1) in enumerate(segs) for b0, b1 in segs[i + 1:])
    return count


def _layout(nodes, edges, layer_of):
    """Layers, the ordered layers (nodes and slots), and each edge's chain of slots."""
    layer = _longest_path_layers(nodes, edges)
    if layer_of is not None:
        if not isinstance(layer_of, Mapping):
            raise TypeError(f"argument 'layer_of' expected a mapping node -> layer, got {describe(layer_of)}")
        for n, k in layer_of.items():
            if n not in layer:
                raise ValueError(f"argument 'layer_of' expected nodes from 'nodes', got {n!r}")
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
                raise ValueError(f"argument 'layer_of' expected non-negative integer layers, got {k!r} for {n!r}")
            layer[n] = int(k)
        for s, t in edges:
            if layer[s] >= layer[t]:
                raise ValueError(f"argument 'layer_of' expected every edge to go to a later layer, "
                                 f"got {s!r} (layer {layer[s]}) -> {t!r} (layer {layer[t]})")
    depth = max(layer.values(), default=-1) + 1
    order = [[n for n in nodes if layer[n] == k] for k in range(depth)]
    chains, links = [], []
    for i, (s, t) in enumerate(edges):
        chain = [_Slot(i, k) for k in range(layer[s] + 1, layer[t])]
        for slot in chain:
            order[slot.layer].append(slot)
        hops = [s, *chain, t]
        links += zip(hops, hops[1:])
        chains.append(chain)
    parents = {n: [] for layer_nodes in order for n in layer_nodes}
    kids = {n: [] for n in parents}
    for a, b in links:
        parents[b].append(a)
        kids[a].append(b)

    rank = {n: i for layer_nodes in order for i, n in enumerate(layer_nodes)}

    def centred(n):  # comparable across layers of different widths
        k = n.layer if isinstance(n, _Slot) else layer[n]
        return rank[n] - (len(order[k]) - 1) / 2

    best = ([list(o) for o in order], _crossings(order, links, rank))
    for neighbours, layers in [(parents, range(1, depth)), (kids, range(depth - 2, -1, -1))] * 2:
        for k in layers:
            keys = {n: np.mean([centred(m) for m in neighbours[n]]) if neighbours[n] else centred(n)
                    for n in order[k]}
            order[k].sort(key=lambda n: keys[n])  # stable: ties keep the current order
            rank.update({n: i for i, n in enumerate(order[k])})
        crossings = _crossings(order, links, rank)
        if crossings < best[1]:
            best = ([list(o) for o in order], crossings)
    return layer, best[0], chains


def layered_layout(nodes, edges, layer_of: Mapping | None = None) -> dict:
    """Place a DAG in layers: returns ``{node: (layer, rank)}``, rank 0 at the top.

    ``edges`` is a sequence of ``(source, target)`` pairs (repeats allowed).
    Layers default to the longest path from a source; ``layer_of`` overrides
    some of them (every edge must still go to a later layer).  An edge that
    skips layers reserves a slot in each layer between, so ranks count those
    slots too.  Within a layer, nodes start in the order of ``nodes``;
    barycentre sweeps (down, up, down, up) reorder them and the ordering with
    the fewest crossings is kept.
    """
    nodes, edges = _check_graph(nodes, edges)
    _, order, _ = _layout(nodes, edges, layer_of)
    return {n: (k, i) for k, layer_nodes in enumerate(order) for i, n in enumerate(layer_nodes)
            if not isinstance(n, _Slot)}


def _lookup(text, key, name: str) -> str:
    """``text[key]`` or ``text(key)``, checked to be a str."""
    if isinstance(text, Mapping):
        if key not in text:
            raise ValueError(f"argument '{name}' has no text for {key!r}")
        value = text[key]
    elif callable(text):
        value = text(key)
    else:
        raise TypeError(f"argument '{name}' expected a mapping or a function giving str, got {describe(text)}")
    if not isinstance(value, str):
        raise TypeError(f"argument '{name}' expected str for {key!r}, got {describe(value)}")
    return value


def _bezier(points, n: int = 17) -> np.ndarray:
    """n points along the Bezier curve with control points ``points``; shape (n, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    level = [np.asarray(q, dtype=float) for q in points]
    while len(level) > 1:  # de Casteljau
        level = [(1 - t) * a + t * b for a, b in zip(level, level[1:])]
    return np.broadcast_to(level[0], (n, 2))


class _Through(ConnectionStyle.Arc3):
    """A smooth connection through waypoints (data coordinates) between two nodes.

    Cubic pieces with horizontal tangents at the waypoints; the base class clips
    the ends at the node patches, as for any matplotlib connection.
    """

    def __init__(self, waypoints, transform):
        super().__init__()
        self.waypoints, self.transform = waypoints, transform

    def connect(self, posA, posB):
        points = [np.asarray(posA), *self.transform.transform(self.waypoints), np.asarray(posB)]
        vertices = [points[0]]
        for p, q in zip(points, points[1:]):
            half = (q[0] - p[0]) / 2
            vertices += [(p[0] + half, p[1]), (q[0] - half, q[1]), q]
        return Path(vertices, [Path.MOVETO] + [Path.CURVE4] * (len(vertices) - 1))


def draw_dag(
    nodes,
    edges,
    *,
    node_text: Mapping | Callable,
    edge_text: Sequence[str] | Mapping | Callable | None = None,
    ax=None,
    layer_of: Mapping | None = None,
    title: str | None = None,
    node_shape: str = "box",
):
    """Draw a directed acyclic graph left to right; returns the matplotlib Figure.

    ``nodes``: sequence of hashable nodes; ``edges``: sequence of ``(source,
    target)`` pairs, repeats allowed (drawn as separate curved arrows).
    ``node_text``: mapping or function node -> str (``"\\n"`` for several lines,
    ``$...$`` for mathtext).  ``edge_text``: labels placed mid-edge, as a
    sequence aligned with ``edges``, a mapping ``(source, target) -> str`` or a
    function of ``(source, target)``.  ``layer_of``: see :func:`layered_layout`.
    ``node_shape``: ``"box"`` or ``"circle"``.  Draws on ``ax`` if given (text is
    scaled to fit it), else on a new Figure sized to the diagram.
    """
    nodes, edges = _check_graph(nodes, edges)
    check_choice(node_shape, "node_shape", ("box", "circle"))
    if isinstance(edge_text, Sequence) and not isinstance(edge_text, str):
        if len(edge_text) != len(edges):
            raise ValueError(f"argument 'edge_text' expected one label per edge ({len(edges)}), got {len(edge_text)}")
        labels = [_lookup(dict(enumerate(edge_text)), i, "edge_text") for i in range(len(edges))]
    else:
        labels = [_lookup(edge_text, e, "edge_text") if edge_text is not None else "" for e in edges]
    texts = {n: _lookup(node_text, n, "node_text") for n in nodes}
    layer, order, chains = _layout(nodes, edges, layer_of)

    # Sizes in points at the base font size.  A long edge's label sits in its
    # middle slot, so that slot is as wide as the label.
    label_size = [text_size(label, 0.9 * _FONT_SIZE) if label else (0.0, 0.0) for label in labels]
    size = {}
    for n in nodes:
        w, h = text_size(texts[n], _FONT_SIZE)
        w, h = w + 2 * _PAD, h + 2 * _PAD
        size[n] = (np.hypot(w, h),) * 2 if node_shape == "circle" else (w, h)
    for i, chain in enumerate(chains):
        for j, slot in enumerate(chain):
            size[slot] = (label_size[i][0] + 8 if j == len(chain) // 2 else 0.0, 0.0)
    depth = len(order)
    col_w = [max((size[n][0] for n in layer_nodes), default=0.0) for layer_nodes in order]
    gaps = [_MIN_LAYER_GAP] * max(depth - 1, 0)
    for (s, t), (w, _) in zip(edges, label_size):
        if w and layer[t] == layer[s] + 1:  # the label must fit between the two columns
            gaps[layer[s]] = max(gaps[layer[s]], w + 30.0)
    room = MAX_WIDTH * 72 - 2 * 12.0 - col_w[0] / 2 - col_w[-1] / 2 if depth else 0.0  # points for the rest
    needed = sum(gaps) + sum(col_w[1:-1]) if depth > 1 else 0.0
    if needed > room:  # too wide for the page: narrow the gaps, down to what their labels need
        least = [max(24.0, w + 12.0) for w in (max((lw for (es, et), (lw, _) in zip(edges, label_size)
                                                    if layer[es] == k and layer[et] == k + 1), default=0.0)
                                               for k in range(depth - 1))]
        spare = sum(g - m for g, m in zip(gaps, least))
        if spare > 0:
            cut = min(1.0, (needed - room) / spare)
            gaps = [g - cut * (g - m) for g, m in zip(gaps, least)]
    xs = np.cumsum([0.0] + [col_w[k] / 2 + gaps[k] + col_w[k + 1] / 2 for k in range(depth - 1)])
    row_h = max((size[n][1] for n in nodes), default=0.0) + _ROW_GAP
    pos = {n: (xs[k], ((len(layer_nodes) - 1) / 2 - r) * row_h)
           for k, layer_nodes in enumerate(order) for r, n in enumerate(layer_nodes)}

    # Edge geometry: repeated short edges (x * x) bow alternately to either side;
    # a long edge runs through its slots and carries its label in the middle one.
    geometry, seen, tracks = [], {}, []
    for i, (s, t) in enumerate(edges):
        (x0, y0), (x1, y1) = pos[s], pos[t]
        # each track follows the curve as drawn, so a label placed along it sits on its arrow
        if chains[i]:
            rad, waypoints = 0.0, [pos[slot] for slot in chains[i]]
            stops = [pos[s], *waypoints, pos[t]]  # _Through: S-curves with level tangents at each stop
            track = np.concatenate([_bezier([p, (p[0] + (q[0] - p[0]) / 2, p[1]), (q[0] - (q[0] - p[0]) / 2, q[1]), q])
                                    for p, q in zip(stops, stops[1:])])
        else:
            k = seen[(s, t)] = seen.get((s, t), -1) + 1
            rad, waypoints = 0.3 * ((k + 1) // 2) * (1 if k % 2 else -1), []
            # arc3: a quadratic Bezier whose control point is rad * (dy, -dx) from the middle
            control = ((x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0))
            track = _bezier([pos[s], control, pos[t]]) if rad else [pos[s], pos[t]]
        tracks.append(np.array(track, dtype=float))
        geometry.append([s, t, rad, waypoints])
    # Each label sits on its own edge, over a white patch, at the point of the edge farthest
    # from every other edge and node: a label is never where two edges cross.
    places = place_labels(tracks, [(w + 4, h) if label else None for label, (w, h) in zip(labels, label_size)],
                          [(pos[n], size[n]) for n in nodes], prefer=1.0)
    for i, (label, (w, h)) in enumerate(zip(labels, label_size)):
        geometry[i] += [label, places[i] if label else tracks[i][0], w, h]

    margin = 12.0
    boxes = [(*pos[n], *size[n]) for n in nodes]
    boxes += [(*at, w + 6, h + 6) for *_, label, at, w, h in geometry if label]
    boxes += [((pos[s][0] + pos[t][0]) / 2, (pos[s][1] + pos[t][1]) / 2 - rad / 2 * (pos[t][0] - pos[s][0]), 0, 0)
              for s, t, rad, *_ in geometry]
    boxes += [(*pos[slot], 0, 0) for chain in chains for slot in chain]
    x_lo = min((x - w / 2 for x, y, w, h in boxes), default=0.0) - margin
    x_hi = max((x + w / 2 for x, y, w, h in boxes), default=0.0) + margin
    y_lo = min((y - h / 2 for x, y, w, h in boxes), default=0.0) - margin
    y_hi = max((y + h / 2 for x, y, w, h in boxes), default=0.0) + margin + (20.0 if title else 0.0)

    if ax is None:
        fig = new_figure((x_hi - x_lo) / 72, (y_hi - y_lo) / 72)
        ax = fig.add_axes((0, 0, 1, 1))
        scale = 1.0
    else:
        fig = ax.get_figure(root=True)
        box = ax.get_window_extent()
        scale = min(box.width / fig.dpi * 72 / (x_hi - x_lo), box.height / fig.dpi * 72 / (y_hi - y_lo))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    if title:
        ax.text((x_lo + x_hi) / 2, y_hi - 4.0, title, ha="center", va="top", fontsize=1.1 * _FONT_SIZE * scale)

    patch = {}
    for n in nodes:
        (x, y), (w, h) = pos[n], size[n]
        if node_shape == "circle":
            patch[n] = Circle((x, y), w / 2, fc="#eef3fb", ec="#34495e", lw=1.0, zorder=2)
        else:
            patch[n] = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=4",
                                      fc="#eef3fb", ec="#34495e", lw=1.0, zorder=2)
        ax.add_patch(patch[n])
        ax.text(x, y, texts[n], ha="center", va="center", multialignment="center",
                fontsize=_FONT_SIZE * scale, zorder=3)
    for s, t, rad, waypoints, label, at, w, h in geometry:
        style = _Through(waypoints, ax.transData) if waypoints else f"arc3,rad={rad:.6g}"
        ax.add_patch(FancyArrowPatch(pos[s], pos[t], patchA=patch[s], patchB=patch[t], connectionstyle=style,
                                     arrowstyle="-|>", mutation_scale=12 * scale, shrinkA=1, shrinkB=2,
                                     color="#34495e", lw=1.0, zorder=1))
        if label:
            ax.text(at[0], at[1], label, ha="center", va="center", fontsize=max(MIN_FONT, 0.9 * _FONT_SIZE * scale),
                    zorder=4, color="#8e2c1f", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
    return fig


# -- the course's two kinds of diagram -------------------------------------------------------
def _fmt(x: float) -> str:
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def draw_graph(output: Value, ax=None, title: str | None = None):
    """Draw ``output``'s computational graph; returns the matplotlib Figure.

    Each node shows its label (or v1, v2, ...), forward value and gradient to 2
    decimals; each arrow is labelled with the gate it feeds.
    """
    order, names = topological_order(output), value_names(output)
    edges, labels, layer = [], [], {}
    for v in order:
        layer[v] = 1 + max((layer[u] for u in v.inputs), default=-1)
        for u in v.inputs:
            edges.append((u, v))
            labels.append(gate_symbol(v.gate, v.consts))
    # A leaf (a weight, an input, a constant) is drawn just before its first use,
    # as in the lecture's figures, rather than all leaves in the first column.
    first_use = {}
    for u, v in edges:
        if not u.inputs:
            first_use[u] = min(first_use.get(u, layer[v]), layer[v])
    layer.update({u: k - 1 for u, k in first_use.items()})
    return draw_dag(order, edges, node_text=lambda v: f"{names[v]}\n{_fmt(v.data)}\ngrad {_fmt(v.grad)}",
                    edge_text=labels, ax=ax, title=title, layer_of=layer)


def _latex(expr) -> str:
    """``$latex$`` if matplotlib's mathtext can render it, else the plain string.

    Fractions are written inline (``1 / y``) where short and as full-size
    ``\\dfrac`` otherwise: mathtext's ``\\frac`` shrinks its parts below the
    course's smallest font.
    """
    import sympy as sp

    text = "$" + sp.latex(expr, fold_short_frac=True).replace(r"\frac", r"\dfrac") + "$"
    try:
        MathTextParser("path").parse(text)
    except ValueError:
        return str(expr)
    return text


def draw_influence_diagram(diagram, ax=None, at: Mapping | None = None, title: str | None = None):
    """Draw an :class:`~backprop.symbolic.influence.InfluenceDiagram`; arrows carry their local derivatives.

    With ``at = {input: number}`` every variable shows its value and every arrow
    the value of its derivative there.  Returns the matplotlib Figure (``ax``'s
    figure when ``ax`` is given).
    """
    from ..symbolic.influence import InfluenceDiagram

    if not isinstance(diagram, InfluenceDiagram):
        raise TypeError(f"argument 'diagram' expected an InfluenceDiagram, got {describe(diagram)}")

    def node_text(n):
        return _latex(n) + (f"\n{diagram.evaluate(n, at):.2f}" if at is not None else "")

    edge_text = [_latex(diagram.weight(s, t)) + (f" = {diagram.evaluate(diagram.weight(s, t), at):.2f}"
                                                   if at is not None else "")
                 for s, t in diagram.edges]
    return draw_dag(list(diagram.nodes), list(diagram.edges), node_text=node_text, edge_text=edge_text,
                    ax=ax, title=title, node_shape="circle")
