"""Plots: loss surfaces with descent paths, loss curves, and error curves (matplotlib, no pyplot).

Every function returns a ``matplotlib.figure.Figure`` (or draws on the ``ax``
it is given), so nothing here touches pyplot's global state: a notebook shows
the returned figure, a test inspects it.

* gradient descent on a surface: :func:`plot_descent_1d`, :func:`plot_descent_2d`,
  :func:`plot_loss_curves`, and :func:`compare_learning_rates` (a panel per
  learning rate, then the loss curves);
* any curves over one x: :func:`plot_curves`;
* the first-order error of dy ~ f'(x) dx on log-log axes: :func:`plot_first_order_errors`.

Legends sit beside the axes, never over the data (a descent path starts near a
corner, where a legend inside would hide it).  A loss curve keeps the scale set
by the surface, so two learning rates can be compared: an iterate whose loss lies
beyond that scale is drawn as a triangle on the edge it crossed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..core.checks import as_array, check_positive_int, check_real, describe
from ..experiments.descent import (DescentPath, Surface, get_surface, gradient_descent, learning_rate_regime,
                            quadratic_step_factor)
from ..core.gradcheck import loglog_slope
from .style import MIN_FONT, new_figure

__all__ = [
    "plot_curves",
    "plot_descent_1d",
    "plot_descent_2d",
    "plot_loss_curves",
    "compare_learning_rates",
    "plot_first_order_errors",
]

_FLOOR = 1e-16  # log-scale loss curves: a gap of exactly 0 (reached in one step) is drawn here
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_MARKERS = {"global minimum": ("*", 15), "local minimum": ("*", 11), "local maximum": ("^", 8), "saddle point": ("X", 9)}


def _colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


def _colours(colours, n) -> list[str]:
    if colours is None:
        return [_colour(i) for i in range(n)]
    if isinstance(colours, (str, bytes)) or not isinstance(colours, Sequence) or len(colours) != n:
        raise ValueError(f"argument 'colours' expected one matplotlib colour per path ({n}), got {describe(colours)}")
    return list(colours)


def _marker_size(i: int, n: int) -> float:
    """Earlier paths get bigger markers, so a path that retraces another stays visible beneath it."""
    return 3.5 + 2.5 * (n - 1 - i)


def _laid_out_once(fig):
    """``fig`` with constrained layout for its first draw only, then fixed.

    Constrained layout moves the axes by a fraction of a pixel at every draw (it
    converges slowly with equal-aspect panels and legends beside them), so two
    PNGs of one figure could differ by a pixel; fixed after the first draw, every
    PNG of it is the same.  (No extra draw: the freeze rides on the first one.)
    """
    fig.set_layout_engine("constrained")

    def freeze(_event):
        fig.canvas.mpl_disconnect(cid)
        fig.set_layout_engine("none")

    cid = fig.canvas.mpl_connect("draw_event", freeze)
    return fig


def _new_axes(ax, figsize):
    if ax is None:
        fig = _laid_out_once(new_figure(*figsize))
        return fig, fig.add_subplot()
    return ax.get_figure(root=True), ax


def _check_paths(paths, dim=None) -> list[DescentPath]:
    if isinstance(paths, DescentPath):
        paths = [paths]
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence) or not paths:
        raise TypeError(f"argument 'paths' expected a DescentPath or a non-empty list of them, got {describe(paths)}")
    for i, p in enumerate(paths):
        if not isinstance(p, DescentPath):
            raise TypeError(f"argument 'paths' expected DescentPath entries, got {describe(p)} at index {i}")
        if dim is not None and p.points.shape[1] != dim:
            raise ValueError(f"argument 'paths' expected paths in {dim}-D (the surface's dimension), "
                             f"got one in {p.points.shape[1]}-D at index {i}")
    return list(paths)


def _eta_label(eta: float) -> str:
    """A learning rate as every figure (and the explorer's slider) writes it: 4 significant digits."""
    return f"eta = {eta:.4g}"


def _labels(labels, paths) -> list[str]:
    if labels is None:
        return [_eta_label(p.eta) for p in paths]
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or len(labels) != len(paths):
        raise ValueError(f"argument 'labels' expected one label per path ({len(paths)}), got {describe(labels)}")
    return [str(s) for s in labels]


def _legend_beside(ax, handles=None, labels=None):
    """The axes' legend outside it, to the right: it never covers a path, a curve or a contour."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, fontsize=MIN_FONT, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def _check_dim(surface, dim, what):
    if surface.dim != dim:
        raise ValueError(f"argument 'surface' expected a {dim}-D surface for {what}, got '{surface.name}' in "
                         f"{surface.dim}-D")


def plot_curves(x, curves: Mapping, *, xlabel: str = "", ylabel: str = "", title: str | None = None,
                logy: bool = False, vlines: Mapping | None = None, ax=None) -> Figure:
    """Line plot of several curves over one x: ``curves`` maps a label to y values shaped like ``x``.

    ``vlines`` maps a label to an x position drawn as a dotted vertical line
    (e.g. eta = 1/c).  ``logy`` uses a logarithmic y axis.  Returns the Figure.
    """
    x = as_array(x, "x", ndim=1, meaning="(n,)")
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"argument 'curves' expected a non-empty mapping label -> y values, got {describe(curves)}")
    fig, ax = _new_axes(ax, (6.4, 3.6))
    for i, (label, y) in enumerate(curves.items()):
        y = as_array(y, f"curves[{label!r}]", ndim=1, meaning=f"shaped like x ({x.size},)", finite=False)
        if y.shape != x.shape:
            raise ValueError(f"argument 'curves[{label!r}]' expected shape {x.shape} (like x), got {y.shape}")
        ax.plot(x, y, color=_colour(i), lw=1.8, label=str(label))
    for j, (label, at) in enumerate((vlines or {}).items()):
        ax.axvline(check_real(at, f"vlines[{label!r}]"), color="0.35", ls=(0, (1 + j, 2)), lw=1.2, label=str(label))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    _legend_beside(ax)
    return fig


def _critical_style(kind: str) -> dict:
    """How a critical point of this kind is marked: a filled star for the global minimum, and so on."""
    marker, size = _MARKERS.get(kind, ("o", 7))
    filled = {"global minimum": "gold", "local minimum": "#fdebd0"}.get(kind, "white")
    return dict(ls="none", marker=marker, ms=size, color="black", mfc=filled, label=kind)


#: how the start of a path is marked (in its path's colour)
_START = dict(marker="o", ms=8, mfc="white", mew=2, label="start")


def _mark_critical_points(ax, surface):
    for point, kind in surface.critical_points:
        xy = (point[0], surface.f(point)) if surface.dim == 1 else point
        ax.plot(*xy, zorder=5, **_critical_style(kind))


def _descent_legend(ax, n_paths: int):
    """Beside the axes: each path, then the start (one grey entry for every path's open circle), then each kind
    of critical point once."""
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, lab in zip(handles, labels):
        seen.setdefault(lab, h)
    handles = list(seen.values())
    handles.insert(n_paths, Line2D([], [], ls="none", color="0.2", **_START))
    _legend_beside(ax, handles, [h.get_label() for h in handles])


def plot_descent_1d(surface, paths, labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                    colours: Sequence[str] | None = None) -> Figure:
    """A 1-D loss curve with descent paths drawn on it: each iterate (w(t), f(w(t))) joined in order.

    The start is an open circle.  The axes show the surface's window; iterates
    that ran off it are clipped.  ``labels`` and ``colours``: one per path.
    """
    surface = get_surface(surface)
    _check_dim(surface, 1, "plot_descent_1d")
    paths = _check_paths(paths, 1)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    fig, ax = _new_axes(ax, (6.0, 3.8))
    (w,), f = surface.grid(401)
    ax.plot(w, f, color="0.25", lw=2, zorder=1)
    for i, (p, lab, c) in enumerate(zip(paths, labels, colours)):
        ys = surface.values(p.points)
        ax.plot(p.points[:, 0], ys, "-o", color=c, ms=_marker_size(i, len(paths)), lw=1, alpha=0.85, label=lab,
                zorder=3)
        ax.plot(p.points[0, 0], ys[0], color=c, zorder=4, **(_START | {"label": None}))
    _mark_critical_points(ax, surface)
    span = f.max() - f.min()
    ax.set_xlim(*surface.window[0])
    ax.set_ylim(f.min() - 0.08 * span, f.max() + 0.08 * span)
    ax.set_xlabel("$w$")
    ax.set_ylabel("Loss$(w)$")
    ax.set_title(title if title is not None else f"${surface.formula}$")
    ax.grid(alpha=0.3)
    _descent_legend(ax, len(paths))
    return fig


def plot_descent_2d(surface, paths, labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                    colours: Sequence[str] | None = None, levels: int = 18) -> Figure:
    """Contours of a 2-D loss with descent paths on top (start: open circle) and its critical points.

    Contour levels are spaced more densely near the lowest value, where the
    paths end.  The axes show the surface's window, with equal scales.
    ``labels`` and ``colours``: one per path.
    """
    surface = get_surface(surface)
    _check_dim(surface, 2, "plot_descent_2d")
    paths = _check_paths(paths, 2)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    levels = check_positive_int(levels, "levels")
    fig, ax = _new_axes(ax, (6.0, 4.2))
    (W1, W2), F = surface.grid(201)
    lo, hi = F.min(), F.max()
    ticks = lo + (hi - lo) * np.linspace(0, 1, levels + 2)[1:-1] ** 2
    # filled bands only, from mid blue (low) to near white (high): contour lines would triple the PNG's size
    shades = colormaps["Blues"](np.linspace(0.6, 0.03, levels + 1))
    ax.contourf(W1, W2, F, levels=np.concatenate([[lo], ticks, [hi]]), colors=shades)
    for i, (p, lab, c) in enumerate(zip(paths, labels, colours)):
        ax.plot(p.points[:, 0], p.points[:, 1], "-o", color=c, ms=_marker_size(i, len(paths)), lw=1.2, label=lab,
                zorder=3)
        ax.plot(*p.points[0], color=c, zorder=4, **(_START | {"label": None}))
    _mark_critical_points(ax, surface)
    ax.set_xlim(*surface.window[0])
    ax.set_ylim(*surface.window[1])
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title if title is not None else f"${surface.formula}$")
    _descent_legend(ax, len(paths))
    return fig


def plot_loss_curves(surface, paths, labels: Sequence[str] | None = None, *, ax=None,
                     title: str | None = None, colours: Sequence[str] | None = None) -> Figure:
    """Loss against the step t for each path.

    If the surface has a known minimum value f*, the gap f(w(t)) - f* is drawn on
    a log scale from 1e-16 up (a gap of exactly 0, reached in one step, is drawn
    at 1e-16); otherwise f(w(t)) itself.  The y axis is set by the surface alone
    (the values the loss takes over its window), never by the paths, so runs with
    different learning rates share one scale.  An iterate whose loss lies beyond
    it is drawn as a triangle on the edge it crossed (pointing up at the top, down
    at the bottom), so a diverging run stays visible to its last step.
    """
    surface = get_surface(surface)
    paths = _check_paths(paths, surface.dim)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    fig, ax = _new_axes(ax, (6.0, 3.6))
    low, high = _loss_scale(surface)
    fstar = surface.minimum_value
    for p, lab, c in zip(paths, labels, colours):
        v = surface.values(p.points)
        v = np.maximum(v - fstar, _FLOOR) if fstar is not None else v
        t = np.arange(v.size)
        ax.plot(t, v, "-o", color=c, ms=2.5, lw=1.3, label=lab)
        for beyond, edge, side in ((~(v <= high), high, "above"), (v < low, low, "below")):  # nan, inf: above
            if beyond.any():
                ax.scatter(t[beyond], np.full(beyond.sum(), edge), marker=_BEYOND[side].get_marker(), s=22,
                           color=c, clip_on=False, zorder=4, gid=side)
    if fstar is not None:
        ax.set_yscale("log")
        ax.set_ylabel("Loss$(w(t))$ (its minimum is 0)" if fstar == 0 else f"Loss$(w(t))$ - min Loss (min = {fstar:.4g})")
    else:
        ax.set_ylabel("Loss$(w(t))$")
    ax.set_ylim(low, high)
    ax.set_xlabel("step $t$")
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    extra = _beyond_scale(ax)
    _legend_beside(ax, handles + extra, names + [h.get_label() for h in extra])
    return fig


def _loss_scale(surface) -> tuple[float, float]:
    """The y range of a surface's loss curves: from the surface alone, so every run shares it.

    With a known minimum f*: the gap to it on a log scale, from just under 1e-16
    (a gap of exactly 0) to 3 times the largest gap over the surface's window.
    Without one: the loss over the window, with a 5 % margin.
    """
    surface = get_surface(surface)
    _, F = surface.grid(101)
    if surface.minimum_value is not None:
        return _FLOOR / 3, 3 * (F.max() - surface.minimum_value)
    span = F.max() - F.min()
    return F.min() - 0.05 * span, F.max() + 0.05 * span


#: the legend's entries for iterates drawn on the edge of a loss curve's scale
_BEYOND = {side: Line2D([], [], ls="none", marker=marker, ms=6, color="0.3", label=f"loss {side} the scale")
           for side, marker in (("above", "^"), ("below", "v"))}


def _beyond_scale(ax) -> list[Line2D]:
    """The legend entries for the edges of ``ax`` that some iterate was drawn on."""
    sides = {c.get_gid() for c in ax.collections}
    return [h for side, h in _BEYOND.items() if side in sides]


def _steps(n: int) -> str:
    return "1 step" if n == 1 else f"{n} steps"


def _describe_run(surface: Surface, path: DescentPath) -> str:
    """Short lines for a panel's title: the learning rate and its regime (per direction for
    quadratics), the step factor 1 - eta f'' of a 1-D quadratic, and how the run ended."""
    lines = [f"eta = {path.eta:.4g}"]
    if surface.curvatures is not None:
        regimes = [learning_rate_regime(path.eta, c) for c in surface.curvatures]
        if surface.dim == 1:
            lines[0] += f": {regimes[0]}"
            lines.append(f"1 - eta f'' = {quadratic_step_factor(path.eta, surface.curvatures[0]):.4g}")
        else:
            lines.append(", ".join(f"$w_{i + 1}$ {r}" for i, r in enumerate(regimes)))
    if path.diverged:
        lines.append(f"diverged: |w| > 1e6 after {_steps(path.steps_taken)}")
    else:
        end = ", ".join(f"{v:.3g}" for v in path.final)
        lines.append(f"after {_steps(path.steps_taken)}: w = {end if surface.dim == 1 else f'({end})'}")
    return "\n".join(lines)


def compare_learning_rates(surface, etas: Sequence[float], steps: int, w0=None) -> Figure:
    """One panel per learning rate (the path on the surface) and a last panel of loss curves.

    Every run starts at ``w0`` (default: the surface's start) and takes ``steps``
    updates; each panel's title says the regime and how the run ended.
    """
    surface = get_surface(surface)
    if isinstance(etas, (str, bytes)) or not isinstance(etas, Sequence) or not etas:
        raise TypeError(f"argument 'etas' expected a non-empty list of learning rates, got {describe(etas)}")
    w0 = surface.start if w0 is None else w0
    paths = [gradient_descent(surface, w0, eta, steps) for eta in etas]
    n = len(paths) + 1
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = _laid_out_once(new_figure(3.33 * cols, 3.3 * rows))  # 10 inches: 1,000 pixels wide
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    plot = plot_descent_1d if surface.dim == 1 else plot_descent_2d
    for i, (ax, p) in enumerate(zip(axes, paths)):
        plot(surface, [p], ax=ax, title=_describe_run(surface, p), colours=[_colour(i)])
        ax.title.set_fontsize(10)
        ax.get_legend().remove()
    loss_ax = axes[len(paths)]
    plot_loss_curves(surface, paths, ax=loss_ax, title="loss against the step")
    loss_ax.get_legend().remove()
    for ax in axes[n:]:
        ax.set_axis_off()
    # one legend for every panel: each rate's colour, the start, the surface's critical points
    handles = [Line2D([], [], color=_colour(i), marker="o", ms=4, lw=1.2, label=_eta_label(p.eta))
               for i, p in enumerate(paths)]
    handles.append(Line2D([], [], ls="none", color="0.2", **_START))
    for kind in dict.fromkeys(kind for _, kind in surface.critical_points):
        handles.append(Line2D([], [], **_critical_style(kind)))
    handles += _beyond_scale(loss_ax)
    if n < len(axes):  # a spare panel: the legend fills it
        axes[n].legend(handles=handles, loc="center", fontsize=MIN_FONT, frameon=False)
    else:  # under the panels, across the figure
        columns = len(handles) if len(handles) <= 4 else -(-len(handles) // 2)  # at most two rows
        fig.legend(handles=handles, loc="outside lower center", ncols=columns, fontsize=MIN_FONT, frameon=False)
    fig.suptitle(f"Gradient descent on ${surface.formula}$ from w(0) = "
                 f"({', '.join(f'{v:g}' for v in surface.point(w0, 'w0'))}), {steps} steps")
    return fig


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
    fig = new_figure(5.6, 3.8)
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
    ax.legend(fontsize=MIN_FONT)
    fig.tight_layout()
    return fig
