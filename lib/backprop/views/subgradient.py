"""Notebook 04's views: functions with corners, the subgradient's line, the secant at a kink.

* :func:`draw_kinks` -- ReLU, leaky ReLU and the randomised leaky ReLU side by side,
  each corner marked;
* :func:`subgradient_view` (pure callback) and :func:`subgradient_explorer` (its
  widget): a slope slider draws the line through the kink and says whether it stays
  under the function (:func:`backprop.experiments.subgradients.subgradient_verdict`);
* :func:`central_difference_figure` -- the secant a central difference draws across
  ReLU's corner: slope 1/2, neither side's slope.
"""

from __future__ import annotations

import html

import numpy as np
from matplotlib.figure import Figure

from ..core.checks import check_in_interval, check_positive, check_real
from ..core.activations import RandomizedLeakyReLU
from ..experiments.subgradients import subgradient_verdict
from .style import MIN_FONT, new_figure
from .widgets import explorer, figure_image, grid, show_figure, value_slider

__all__ = ["draw_kinks", "subgradient_view", "subgradient_slopes", "subgradient_explorer",
           "central_difference_figure"]

_FUNCTION = "#1f77b4"
_LINE_OK = "#2ca02c"
_LINE_BAD = "#d62728"


def _leaky(z, alpha):
    return np.where(z > 0, z, alpha * z)


def _axes_at_origin(ax):
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.axvline(0, color="0.6", lw=0.8, zorder=0)
    ax.grid(alpha=0.3)


def draw_kinks(alpha: float = 0.1, lower: float = 1 / 8, upper: float = 1 / 3) -> Figure:
    """Three panels: ReLU, leaky ReLU (slope ``alpha`` for z < 0), randomised leaky ReLU
    (the band of slopes [lower, upper] used in training, the mean slope used in evaluation).
    The corner at z = 0 is marked on each."""
    alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
    rrelu = RandomizedLeakyReLU(lower, upper)
    z = np.linspace(-2, 2, 201)
    fig = new_figure(9.6, 3.0, layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    panels = (("ReLU: max(0, z)", [(_leaky(z, 0.0), "ReLU")]),
              (f"leaky ReLU, alpha = {alpha:g}", [(_leaky(z, alpha), "leaky ReLU")]),
              ("randomised leaky ReLU (RReLU)",
               [(rrelu.forward(z), f"evaluation: a = {rrelu.mean_slope:.3g}")]))
    for ax, (title, curves) in zip(axes, panels):
        _axes_at_origin(ax)
        if ax is axes[2]:
            ax.fill_between(z, _leaky(z, rrelu.lower), _leaky(z, rrelu.upper), color=_FUNCTION, alpha=0.2,
                            label=f"training: a ~ U({rrelu.lower:.3g}, {rrelu.upper:.3g})")
        for y, label in curves:
            ax.plot(z, y, color=_FUNCTION, lw=2, label=label)
        ax.plot([0], [0], "o", color=_LINE_BAD, ms=7, zorder=5, label="corner (no derivative)")
        ax.set_title(title, fontsize=MIN_FONT + 1)
        ax.set_xlabel("z")
        ax.legend(fontsize=MIN_FONT, loc="upper left")
    axes[0].set_ylabel("f(z)")
    return fig


def subgradient_view(slope, alpha: float = 0.0) -> tuple[Figure, str]:
    """The explorer's pure callback: (figure, verdict sentence) for the line s z through the kink.

    The figure draws the (leaky) ReLU, the line through (0, 0) with slope ``slope`` (green
    when it stays under the function, red otherwise) and shades where it rises above.
    """
    verdict = subgradient_verdict(slope, alpha)
    s, alpha = verdict.slope, verdict.alpha
    z = np.linspace(-2, 2, 401)
    f, line = _leaky(z, alpha), s * z
    fig = new_figure(6.0, 3.4, layout="constrained")
    ax = fig.add_subplot()
    _axes_at_origin(ax)
    ax.plot(z, f, color=_FUNCTION, lw=2.5, label="ReLU" if alpha == 0 else f"leaky ReLU (alpha = {alpha:g})")
    colour = _LINE_OK if verdict.valid else _LINE_BAD
    ax.plot(z, line, color=colour, lw=1.8, ls="--", label=f"line through the corner, slope {s:.4g}")
    above = line > f + 1e-12
    if above.any():
        ax.fill_between(z, f, line, where=above, color=_LINE_BAD, alpha=0.25, label="line above the function")
    ax.plot([0], [0], "o", color="black", ms=6, zorder=5)
    ax.set_ylim(-1.6, 2.2)
    ax.set_xlabel("z")
    ax.set_ylabel("f(z)")
    state = "a subgradient" if verdict.valid else "not a subgradient"
    ax.set_title(f"slope {s:.4g}: {state} (valid: {verdict.low:g} to {verdict.high:g})", fontsize=MIN_FONT + 1)
    ax.legend(fontsize=MIN_FONT, loc="upper left")
    return fig, verdict.message


def subgradient_slopes(alpha: float = 0.0) -> list[float]:
    """The explorer's slopes: -0.5 to 1.5 in steps of 0.05, plus the edges of [alpha, 1] and the values
    just outside them (alpha - 0.01, 1.01), exactly."""
    alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
    return grid(-0.5, 1.5, count=41, marks={alpha, round(alpha - 0.01, 6), 0.0, 1.0, 1.01})


def subgradient_explorer(alpha: float = 0.0, slope: float = 0.5):
    """A widget: a slope slider (:func:`subgradient_slopes`), the verdict, and the figure of
    :func:`subgradient_view`, redrawn at every move.  Children: ``(SelectionSlider, HTML, Image)``."""
    import ipywidgets as widgets

    alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
    slope = check_real(slope, "slope")
    slider = value_slider(widgets, subgradient_slopes(alpha), slope, "slope s")
    slider.layout = widgets.Layout(width="520px")
    verdict = widgets.HTML()
    verdict.add_class("bp-verdict")  # a handle for the browser test
    image = figure_image()

    def draw():
        fig, message = subgradient_view(slider.value, alpha)
        verdict.value = f"<p>{html.escape(message)}</p>"
        show_figure(image, fig)

    name = "ReLU" if alpha == 0 else f"leaky ReLU (alpha = {alpha:g})"
    box = explorer([slider], image, draw=draw, name="Subgradient explorer",
                   does=f"move a slope s from -0.5 to 1.5; the line s z through the corner of the {name} is "
                        "redrawn, with the verdict whether it stays under the function")
    box.children = (box.children[0], verdict, box.children[1])  # the verdict right under the slider
    return box


def central_difference_figure(h: float = 0.5) -> Figure:
    """ReLU around its corner and the secant between z = -h and z = +h: the central difference at 0,
    (ReLU(h) - ReLU(-h)) / 2h = 1/2, drawn as a line (h large enough to see)."""
    h = check_positive(h, "h")
    z = np.linspace(-2 * h, 2 * h, 201)
    fig = new_figure(5.6, 3.2, layout="constrained")
    ax = fig.add_subplot()
    _axes_at_origin(ax)
    ax.plot(z, np.maximum(z, 0), color=_FUNCTION, lw=2.5, label="ReLU")
    ax.plot([-h, h], [0, h], "o", color=_LINE_BAD, ms=6)
    ax.plot(z, 0.5 * (z + h), color=_LINE_BAD, ls="--", lw=1.6,
            label="secant from -h to +h: slope 1/2")
    ax.annotate("-h", (-h, 0), textcoords="offset points", xytext=(-6, 8), fontsize=MIN_FONT)
    ax.annotate("+h", (h, h), textcoords="offset points", xytext=(4, -14), fontsize=MIN_FONT)
    ax.set_xlabel("z")
    ax.set_ylabel("ReLU(z)")
    ax.set_title("a central difference straddling the corner", fontsize=MIN_FONT + 1)
    ax.legend(fontsize=MIN_FONT, loc="upper left")
    return fig
