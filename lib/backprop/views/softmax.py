"""Notebook 03's views: the softmax output and its Jacobian as a heatmap with numbers, and an explorer.

* :func:`activation_diagrams` -- a scalar and a vector activation side by side as influence
  diagrams: z_i -> y_i only, against every z_i -> every y_j;
* :func:`jacobian_heatmap` -- a Jacobian drawn the lecture's way round, entry
  ``[i, j] = dy_i/dz_j`` (row: the output y_i, column: the input z_j), every cell
  with its number;
* :func:`softmax_view` -- the explorer's pure callback: (figure, readout) for one
  setting of the logits and the temperature;
* :func:`softmax_explorer` -- sliders for the logits z_1..z_n and the temperature T.
"""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..core.activations import tempered_softmax
from ..core.examples import SOFTMAX_HAND
from ..core.checks import as_array, check_positive, check_range, describe
from .dag import draw_dag
from .style import new_figure
from .widgets import explorer, figure_image, grid, show_figure, value_slider

__all__ = ["activation_diagrams", "jacobian_heatmap", "softmax_view", "softmax_explorer"]

#: the hand-checkable logits of notebook 03: z = (0, ln 2, ln 3) gives y = (1/6, 1/3, 1/2)
HAND_LOGITS = tuple(SOFTMAX_HAND["z"])


def activation_diagrams(width: int = 3) -> Figure:
    """Two influence diagrams side by side, ``width`` units each: a scalar activation (z_i influences y_i alone,
    the arrow labelled f'(z_i)) and a vector activation (every z_i influences every y_j, arrows dy_j/dz_i).

    Both end in Div, so the derivative of Div with respect to z_i has one path through a scalar activation
    and ``width`` paths through a vector one.
    """
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 4:
        raise ValueError(f"argument 'width' expected an integer in 1..4 (a readable drawing), got {width!r}")
    zs, ys = [f"z{i}" for i in range(1, width + 1)], [f"y{i}" for i in range(1, width + 1)]
    text = {n: f"${n[0]}_{n[1:]}$" for n in zs + ys} | {"Div": "$Div$"}
    layers = {n: 0 for n in zs} | {n: 1 for n in ys} | {"Div": 2}
    fig = new_figure(10.0, 1.1 + 1.0 * width)
    left, right = fig.subplots(1, 2)
    scalar = [(z, y) for z, y in zip(zs, ys)] + [(y, "Div") for y in ys]
    draw_dag(zs + ys + ["Div"], scalar, node_text=text, layer_of=layers, ax=left, node_shape="circle",
             edge_text=[f"$f'(z_{i + 1})$" for i in range(width)] + [""] * width,
             title="scalar activation: $z_i$ influences $y_i$ only")
    vector = [(z, y) for z in zs for y in ys] + [(y, "Div") for y in ys]
    draw_dag(zs + ys + ["Div"], vector, node_text=text, layer_of=layers, ax=right, node_shape="circle",
             title="vector activation: every $z_i$ influences every $y_j$")
    return fig


def jacobian_heatmap(J, *, title: str | None = None, ax=None, inputs: str = "z", outputs: str = "y",
                     decimals: int = 3, scale: float | None = None) -> Figure:
    """A Jacobian as a heatmap with every entry written in its cell; entry ``[i, j]`` is d outputs_i / d inputs_j.

    The lecture's layout: rows are the outputs (``y_1`` at the top), columns the inputs
    (``z_1`` on the left); positive entries are orange, negative ones purple, 0 white.  ``J`` may be non-square (a multiplicative
    layer).  ``scale``: the size of entry drawn at full colour (default: the largest entry);
    a fixed scale lets two heatmaps be compared by colour.  Returns the figure (``ax``'s
    figure when given).
    """
    J = as_array(J, "J", ndim=2, meaning="a Jacobian (width_out, width_in), entry [i, j] = d out_i / d in_j")
    if J.size == 0:
        raise ValueError(f"argument 'J' expected a non-empty matrix, got shape {J.shape}")
    n_out, n_in = J.shape
    if ax is None:
        fig = new_figure(max(3.2, 0.9 * n_in + 1.6), max(2.6, 0.7 * n_out + 1.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    scale = (float(np.max(np.abs(J))) or 1.0) if scale is None else check_positive(scale, "scale")
    ax.imshow(J, cmap="PuOr_r", vmin=-scale, vmax=scale)
    for i in range(n_out):
        for j in range(n_in):
            v = J[i, j] + 0.0
            strong = abs(v) > 0.6 * scale
            shown = f"{v:.{decimals}f}"
            shown = f"{0.0:.{decimals}f}" if float(shown) == 0 else shown  # never "-0.000"
            ax.text(j, i, shown, ha="center", va="center", fontsize=10, color="white" if strong else "black")
    ax.set_xticks(range(n_in), [f"${inputs}_{{{j + 1}}}$" for j in range(n_in)], fontsize=10)
    ax.set_yticks(range(n_out), [f"${outputs}_{{{i + 1}}}$" for i in range(n_out)], fontsize=10)
    ax.xaxis.set_ticks_position("top")
    ax.tick_params(length=0)
    ax.set_title(title or f"$\\partial {outputs}_i / \\partial {inputs}_j$ (row i, column j)", fontsize=11, pad=8)
    return fig


def softmax_view(z, temperature: float = 1.0) -> tuple[Figure, str]:
    """The explorer's pure callback: (figure, readout) for logits ``z`` and temperature T.

    Left: the outputs y_j = softmax(z / T)_j as bars with their values; right: the
    Jacobian dy_i/dz_j as a heatmap with numbers (row i, column j).  The readout (HTML) lists y, its sum
    and the Jacobian's sign pattern.
    """
    y, J = tempered_softmax(z, temperature)
    z = as_array(z, "z", ndim=1)
    n = y.size
    fig = new_figure(min(10.0, 3.4 + 1.9 + 0.9 * n), max(3.0, 0.7 * n + 1.4), layout="constrained")
    bars, heat = fig.subplots(1, 2, width_ratios=(1.0, 0.55 + 0.25 * n))
    bars.bar(range(n), y, color="#e07b39")
    for j, v in enumerate(y):
        bars.text(j, v + 0.02, f"{v:.3f}", ha="center", va="bottom", fontsize=10)
    bars.set_ylim(0, 1.12)
    bars.set_xticks(range(n), [f"$y_{{{j + 1}}}$" for j in range(n)], fontsize=10)
    bars.tick_params(labelsize=9)
    bars.set_title(f"y = softmax(z / T), T = {temperature:.3g}", fontsize=11)
    jacobian_heatmap(J, ax=heat, scale=0.25)  # the largest |entry| at T = 1 is 1/4: colours compare across T
    off = J[~np.eye(n, dtype=bool)]
    readout = (f"z = ({', '.join(f'{v:.3f}' for v in z)}), T = {temperature:.3g}: "
               f"y = ({', '.join(f'{v:.3f}' for v in y)}), sum of y = {y.sum():.3f}; "
               f"largest dy_i/dz_j on the diagonal: {np.max(np.diag(J)):.3f}, "
               f"most negative off the diagonal: {off.min() if off.size else 0.0:.3f}")
    return fig, readout


def softmax_explorer(z: Sequence[float] = HAND_LOGITS, temperature: float = 1.0, *,
                     z_range: tuple[float, float] = (-4.0, 4.0), temperature_range: tuple[float, float] = (0.1, 10.0)):
    """Sliders for the logits z_1..z_n and the temperature T; the bars of y and the Jacobian's heatmap redraw.

    Each logit's slider runs over ``z_range`` in steps of 0.1 and also holds 0, ln 2 and
    ln 3 (the hand example) and its starting value exactly; the temperature's slider runs
    geometrically over ``temperature_range`` and holds 1 exactly.  Every change calls
    :func:`softmax_view`.  Children: ``(HBox of the logit sliders, temperature slider,
    Image, HTML readout)``.
    """
    import ipywidgets as widgets

    tempered_softmax(z, 1.0)  # the logits checked once: an error names z
    start = as_array(z, "z", ndim=1)
    if start.size > 6:
        raise ValueError(f"argument 'z' expected at most 6 logits (one slider each), got {start.size}")
    low, high = check_range(z_range, "z_range")
    t_low, t_high = check_range(temperature_range, "temperature_range")
    t_low = check_positive(t_low, "temperature_range", "a temperature")
    temperature = check_positive(temperature, "temperature", "the softmax temperature T (> 0)")
    if not t_low <= temperature <= t_high:
        raise ValueError(f"argument 'temperature' expected a value in {describe((t_low, t_high))}, got {temperature}")
    marks = list(HAND_LOGITS)
    logit_sliders = [
        value_slider(widgets, grid(low, high, count=int(round((high - low) / 0.1)) + 1, marks=marks + [float(v)]),
                float(v), f"z_{i + 1}")
        for i, v in enumerate(start)
    ]
    t_slider = value_slider(widgets, grid(t_low, t_high, count=41, log=True, marks=[1.0, temperature]), temperature, "T")
    image = figure_image()
    readout = widgets.HTML()

    def draw():
        fig, text = softmax_view([s.value for s in logit_sliders], t_slider.value)
        show_figure(image, fig)
        readout.value = html.escape(text)

    return explorer([*logit_sliders, t_slider], image, readout, draw=draw, name="Softmax explorer",
                    does=f"move the {start.size} logits z_i and the temperature T; the outputs y_i and the "
                         "Jacobian dy_i/dz_j (a heatmap with numbers) redraw")
