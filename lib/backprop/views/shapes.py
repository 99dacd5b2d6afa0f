"""Notebook 05's views: the shapes of every quantity, the index translation, the two notations, the speed-up.

* :func:`shape_table` -- every quantity of a network with its shape in the lecture
  (one instance) and in the code (a mini-batch), read from the arrays
  (:func:`~backprop.experiments.vector_form.shape_rows`), never typed;
* :func:`index_table` -- the lecture's w(k)_ij beside the array entry ``W(k)[j, i]``;
* :func:`notation_table` -- the lecture's row-vector derivatives beside the delta
  notation's columns, number for number (:func:`~backprop.experiments.vector_form.jacobian_backward`,
  :func:`~backprop.experiments.vector_form.delta_backward`);
* :func:`speedup_figure` -- the measured time per instance of the scalar loops and of the
  matrices, by batch size, from the bench's stored sweep, one size marked;
* :func:`product_figure` (pure callback) and :func:`product_explorer` (its controls) --
  one matrix product of a mini-batch's forward or backward pass, each factor drawn to
  scale, the dimensions that must agree in one colour, for widths and a batch size of
  the student's choosing (the shapes read from a network built with them).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..core.checks import check_choice, check_positive_int, describe
from ..core.network import mlp
from ..core.gradcheck import lecture_name
from ..experiments.vector_form import delta_backward, jacobian_backward, layer_pairs, shape_rows
from .style import new_figure
from .tables import text_table
from .widgets import explorer, figure_image, show_figure

__all__ = ["shape_table", "index_table", "notation_table", "speedup_figure", "PRODUCTS",
           "product_shapes", "product_figure", "product_explorer"]


def _shape(shape) -> str:
    if shape is None:
        return "(not formed)"
    if shape == ():
        return "() a float"
    return " x ".join(str(n) for n in shape) if len(shape) == 2 else f"({', '.join(str(n) for n in shape)},)"


def shape_table(net, X, d) -> str:
    """A text table: each quantity, what it is, its shape in the lecture (one instance) and in the code (B rows).

    Shapes in the lecture's column are written ``rows x columns``; the code's column gives
    numpy's shape for the whole mini-batch ``X`` (B, width_0).  A last line says whether
    every derivative of Div with respect to a matrix is the transpose of that matrix's shape.
    """
    rows = shape_rows(net, X, d)
    table = text_table(("quantity", "what it is", "lecture (one instance)", f"code (B = {len(X)})"),
                   [(name, what, _shape(lec), _shape(code)) for name, what, lec, code in rows])
    by_name = {name: lec for name, _, lec, _ in rows}
    flipped = all(by_name[f"dDiv/dW({k})"] == by_name[f"W({k})"][::-1] for k in range(1, len(layer_pairs(net)) + 1))
    return table + f"\nevery dDiv/dW(k) has the shape of W(k) transposed: {flipped}"


def index_table(W, k: int) -> str:
    """Every entry of the weight matrix ``W`` of layer ``k``: the lecture's w(k)_ij, the array entry, its value.

    ``W`` has shape (width_k, width_(k-1)): row j holds the weights *into* unit j, so
    the array entry ``W(k)[j, i]`` (0-based) is w(k)_ij (1-based, from unit i to unit j).
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"argument 'W' expected a matrix (width_k, width_(k-1)), got {describe(W)}")
    k = check_positive_int(k, "k")
    rows = [(lecture_name(f"W({k})", (j, i)), f"unit {i + 1} of layer {k - 1} -> unit {j + 1} of layer {k}",
             f"W({k})[{j}, {i}]", f"{W[j, i] + 0.0:g}")
            for i in range(W.shape[1]) for j in range(W.shape[0])]
    return text_table(("lecture", "connection", "array entry", "value"), rows, right=(3,))


def _row(v) -> str:
    return "(" + ", ".join(f"{x + 0.0:g}" for x in np.ravel(v)) + ")"


def notation_table(net, x, d) -> str:
    """The lecture's backward pass and the delta notation side by side, for one instance, layer by layer.

    Left: dDiv/dz(k) as a row (1 x width_k) and dDiv/dW(k) = y(k-1) dDiv/dz(k)
    (width_(k-1) x width_k); right: delta(k) as a column and grad W(k) = delta(k) y(k-1)^T,
    shaped like W(k).  The last line says whether each right-hand quantity is the transpose
    of its left-hand partner.
    """
    lec, dl = jacobian_backward(net, x, d), delta_backward(net, x, d)
    rows, same = [], True
    for k in range(len(layer_pairs(net)), 0, -1):
        rows += [(f"dDiv/dz({k}) = {_row(lec['dz'][k])}", _shape(lec["dz"][k].shape),
                  f"delta({k}) = {_row(dl['delta'][k])}^T", _shape(dl["delta"][k].shape)),
                 (f"dDiv/dW({k}) = y({k - 1}) dDiv/dz({k})", _shape(lec["dW"][k].shape),
                  f"grad W({k}) = delta({k}) y({k - 1})^T", _shape(dl["grad_W"][k].shape))]
        same &= bool(np.allclose(lec["dz"][k].T, dl["delta"][k], rtol=1e-12, atol=1e-15)
                     and np.allclose(lec["dW"][k].T, dl["grad_W"][k], rtol=1e-12, atol=1e-15))
    table = text_table(("the lecture (rows)", "shape", "the delta notation (columns)", "shape"), rows)
    return table + f"\neach delta-notation quantity is the transpose of the lecture's: {same}"


# -- the speed-up, from stored measurements -------------------------------------------------------------
def _rows(measurements) -> list[dict]:
    rows = measurements.get("rows") if isinstance(measurements, dict) else None
    keys = {"batch_size", "loop_seconds_per_instance", "matrix_seconds_per_instance"}
    if not rows or not all(isinstance(r, dict) and keys <= set(r) for r in rows):
        raise ValueError(f"argument 'measurements' expected a dict with 'rows' of {sorted(keys)} "
                         f"(bp.stored_speedup()), got {describe(measurements)}")
    return sorted(rows, key=lambda r: r["batch_size"])


def speedup_figure(measurements, batch_size: int) -> Figure:
    """Time per instance against the batch size (log-log), loops and matrices, with ``batch_size`` marked.

    ``measurements``: :func:`~backprop.experiments.vector_form.stored_speedup` (or the same
    shape); ``batch_size`` must be one of its batch sizes.  The title gives both times
    and their ratio at that batch size.  The explorer's pure callback.
    """
    rows = _rows(measurements)
    sizes = [r["batch_size"] for r in rows]
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size not in sizes:
        raise ValueError(f"argument 'batch_size' expected one of the measured sizes {sizes}, got {batch_size}")
    loops = np.array([r["loop_seconds_per_instance"] for r in rows]) * 1e6
    matrices = np.array([r["matrix_seconds_per_instance"] for r in rows]) * 1e6
    fig = new_figure(7.5, 4.2, layout="constrained")
    ax = fig.add_subplot()
    ax.loglog(sizes, loops, "o-", color="#c0504d", label="scalar loops (notebook 02)")
    ax.loglog(sizes, matrices, "s-", color="#1f77b4", label="matrices (bp.Network)")
    i = sizes.index(batch_size)
    ax.axvline(batch_size, color="0.6", linestyle=":", linewidth=1)
    ax.plot([batch_size] * 2, [loops[i], matrices[i]], "k", linewidth=0, marker="o", markersize=9,
            markerfacecolor="none")
    ax.set_xlabel("batch size B (instances per call)", fontsize=10)
    ax.set_ylabel("time per instance (microseconds)", fontsize=10)
    ax.set_xticks(sizes, [str(s) for s in sizes], fontsize=9)
    ax.minorticks_off()
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9, loc="center right")
    ax.set_title(f"B = {batch_size}: loops {loops[i]:,.0f} us, matrices {matrices[i]:,.1f} us per instance, "
                 f"{loops[i] / matrices[i]:,.0f}x faster", fontsize=10)
    return fig


# -- which dimensions must agree: one product of a two-layer network's passes, for a mini-batch -----------------
#: the products of a mini-batch's passes through a network of two layers: name -> (left, right, result), each a
#: quantity of :func:`~backprop.experiments.vector_form.shape_rows` (code shapes), "^T" for its transpose
PRODUCTS = {
    "forward, layer 1: Z(1) = X W(1)^T": ("x = y(0)", "W(1)^T", "z(1)"),
    "forward, layer 2: Z(2) = Y(1) W(2)^T": ("y(1)", "W(2)^T", "z(2)"),
    "backward: dLoss/dY(1) = dLoss/dZ(2) W(2)": ("dDiv/dz(2)", "W(2)", "dDiv/dy(1)"),
    "backward: gradient of W(2) = dLoss/dZ(2)^T Y(1)": ("dDiv/dz(2)^T", "y(1)", "dDiv/dW(2)"),
    "backward: gradient of W(1) = dLoss/dZ(1)^T X": ("dDiv/dz(1)^T", "x = y(0)", "dDiv/dW(1)"),
}


def product_shapes(widths, batch_size: int, product: str) -> list[tuple[str, tuple[int, int]]]:
    """``[(left name, shape), (right name, shape), (result name, shape)]`` of one of :data:`PRODUCTS`.

    ``widths`` = (width_0, width_1, width_2); the shapes are read from a network of those
    widths run forward and backward on a random batch of ``batch_size`` rows (the code's
    shapes of :func:`~backprop.experiments.vector_form.shape_rows`).
    """
    product = check_choice(product, "product", PRODUCTS)
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) != 3:
        raise ValueError(f"argument 'widths' expected (width_0, width_1, width_2), got {describe(widths)}")
    widths = [check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    B = check_positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(0)
    net = mlp(widths, ["tanh", "identity"], rng=rng)
    code = {name: shape for name, _, _, shape in shape_rows(net, rng.normal(size=(B, widths[0])),
                                                              rng.normal(size=(B, widths[2])))}
    out = []
    for name in PRODUCTS[product]:
        base, transposed = (name[:-2], True) if name.endswith("^T") else (name, False)
        shape = tuple(code[base])
        out.append((name, shape[::-1] if transposed else shape))
    return out


def _short(name: str) -> str:
    """A quantity's name for a mini-batch: capitals for the arrays, the gradient for a weight matrix."""
    name = {"x = y(0)": "X"}.get(name, name)
    for old, new in (("dDiv/dW(", "gradient of W("), ("dDiv/dz(", "dLoss/dZ("), ("dDiv/dy(", "dLoss/dY("),
                     ("y(", "Y("), ("z(", "Z(")):
        if name.startswith(old):
            return new + name[len(old):]
    return name


def product_figure(widths, batch_size: int, product: str) -> Figure:
    """The factors and the result of one product drawn as rectangles to scale (rows down, columns across).

    The two inner dimensions, which must be equal for the product to exist, share one
    colour; the outer ones, which become the result's shape, two others.  The title
    says whether the inner dimensions agree (they always do for the network's own
    shapes) and what the result's shape is.  The explorer's pure callback.
    """
    (ln, (lr, lc)), (rn, (rr, rc)), (on, (orr, oc)) = product_shapes(widths, batch_size, product)
    inner, rows_c, cols_c = "#d62728", "#1f77b4", "#2ca02c"
    fig = new_figure(9.0, 3.6)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.8))
    unit = 0.42
    x, top = 0.3, 0.0
    blocks = [(ln, lr, lc, rows_c, inner), (rn, rr, rc, inner, cols_c), (on, orr, oc, rows_c, cols_c)]
    for n, (name, r, c, row_colour, col_colour) in enumerate(blocks):
        w, h = c * unit, r * unit
        ax.add_patch(Rectangle((x, top - h), w, h, facecolor="#f2f2f2", edgecolor="0.3"))
        ax.text(x + w / 2, top + 0.25, f"{_short(name)}", ha="center", va="bottom", fontsize=10)
        ax.text(x - 0.12, top - h / 2, str(r), ha="right", va="center", fontsize=11, color=row_colour, weight="bold")
        ax.text(x + w / 2, top - h - 0.12, str(c), ha="center", va="top", fontsize=11, color=col_colour, weight="bold")
        x += w + 1.3
        if n < 2:  # the operator midway between this block and the next one's row label
            ax.text(x - 0.75, top - 0.6, "@" if n == 0 else "=", ha="center", va="center", fontsize=14)
    ax.set_xlim(0, x)
    ax.set_ylim(-7 * unit - 0.6, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    agree = "agree" if lc == rr else "DO NOT agree"
    fig.suptitle(f"{product}\ninner sizes {lc} and {rr} {agree} (red); the result is {orr} x {oc} "
                 f"(blue rows from the left factor, green columns from the right)", fontsize=10, y=0.99)
    return fig


def product_explorer(widths=(2, 3, 1), batch_size: int = 4):
    """A product menu, sliders for width_0..width_2 (1 to 6) and B (1 to 6), and :func:`product_figure`.

    Children: ``(HBox of (Dropdown, IntSlider width_0, width_1, width_2, B), Image)``.
    """
    import ipywidgets as widgets

    product_shapes(widths, batch_size, next(iter(PRODUCTS)))  # checks the starting values
    pick = widgets.Dropdown(options=list(PRODUCTS), description="product")
    sliders = [widgets.IntSlider(value=int(v), min=1, max=6, description=label, continuous_update=False,
                                 layout=widgets.Layout(width="260px"))
               for v, label in zip([*widths, batch_size], ["width_0", "width_1", "width_2", "batch B"])]
    image = figure_image()

    def draw():
        show_figure(image, product_figure([s.value for s in sliders[:3]], sliders[3].value, pick.value))

    return explorer([pick, *sliders], image, draw=draw, name="Shape explorer",
                    does="pick a product of the forward or backward pass and move the width and batch-size "
                         "sliders; the factors are drawn to scale, with the sizes that must agree in red")
