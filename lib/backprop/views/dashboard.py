"""The vanishing/exploding-gradients dashboard of notebook 06: controls, a live figure, a readout.

* :func:`dashboard_view` -- the pure callback: settings in, ``(svg, readout html)`` out.
  The numbers come from :func:`backprop.experiments.dashboard.dashboard_state` (the real
  network's backward pass on real digits, then a training run); this module only
  draws them.  The live figure is an SVG written here directly: three panels, each
  on a **fixed scale** whatever the setting, so two settings can be told apart at
  a glance: the gradient reaching each layer k relative to the last hidden layer,
  ||g(k)|| / ||g(depth)||, on a log scale from 1e-12 to 1e12 with the
  "vanished" and "exploded" bands shaded and every layer coloured by its band
  (values beyond the range drawn at the edge as triangles); the spread of y(k);
  the training run (Loss, held-out accuracy, dead ReLU units).  Layers run from 1
  to the deepest setting, 60, on every drawing.  Drawing takes about a
  millisecond, where matplotlib takes 60-200 ms on the course's 2-core machine.
* :func:`dashboard_figure` -- the same SVG as a :class:`~backprop.views.style.SvgFigure`, for stored
  outputs (with its alt text); :func:`dashboard_grid_figure` -- small multiples of the gradient panel,
  depth x case, on the same scale and drawn by the same code.  One renderer: what a notebook stores is
  what the widget draws.
* :func:`vanishing_dashboard` -- the ipywidgets dashboard: sliders and dropdowns for
  depth, eta (log scale), activation, initialisation and its scale, residual
  connections and clipping, and one button per preset.  A change is drawn in two
  stages by one background thread (:class:`LatestOnly`): first the gradient and
  the verdict the gradient alone decides (the first pass, well under 100 ms at
  depth 50), then the training run (under a second).  A change that arrives
  meanwhile replaces any waiting one and abandons the training run under way, so
  only the newest setting is ever drawn.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import replace

import numpy as np

from ..core.checks import describe
from ..experiments.dashboard import (DASHBOARD_ACTIVATIONS, DASHBOARD_INITS, EPOCHS, WORDS, EXPLODED, MAX_DEPTH, PRESETS, VANISHED,
                              DashboardSettings, DashboardState, Superseded, dashboard_state)
from .style import SvgFigure, new_figure
from .widgets import LatestOnly, described, interactive_texts

__all__ = ["dashboard_svg", "dashboard_view", "dashboard_text", "dashboard_figure", "dashboard_grid_figure",
           "activation_histograms", "vanishing_dashboard", "DASHBOARD_ETAS", "DASHBOARD_SCALES",
           "DASHBOARD_CLIPS"]

#: the learning-rate slider's values (log scale) and the scale and clipping menus; they hold every preset's value
DASHBOARD_ETAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
DASHBOARD_SCALES = (0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0, 2.0)
DASHBOARD_CLIPS = (None, 0.1, 1.0, 5.0, 10.0)
BLUE, ORANGE, GREY, RED, GREEN = "#1f77b4", "#d95f02", "#666666", "#c0392b", "#1a7f37"
#: each band's colour (points) and shade (background)
BAND_COLOURS = {"vanished": BLUE, "normal": GREEN, "exploded": RED}
BAND_SHADES = {"vanished": "#dbe9f6", "exploded": "#f8dcd8"}
#: the fixed ranges, in powers of ten: the gradient panel, the spread panel, the Loss
GAIN_DECADES, SPREAD_DECADES, LOSS_DECADES = (-12, 12), (-8, 4), (-3, 4)
WORD_COLOURS = {"healthy": GREEN, "": GREY}


def _power(e: int) -> str:
    return {0: "1", 1: "10"}.get(e, f"1e{e}")


# -- the SVG ------------------------------------------------------------------------------------------
class _Panel:
    """One panel of the SVG: a box at (x0, y0) of size (w, h), fixed data ranges, and the drawing calls.

    A log panel's range is in whole powers of ten; a value beyond it is drawn at the edge as a triangle
    pointing the way it went."""

    def __init__(self, parts, x0, y0, w, h, xrange, yrange, log=True):
        self.parts, self.x0, self.y0, self.w, self.h = parts, x0, y0, w, h
        self.xr, self.yr, self.log = xrange, yrange, log

    def X(self, x):
        a, b = self.xr
        return self.x0 + (x - a) / (b - a) * self.w

    def where(self, y):
        """``(pixel y, -1 below the range / 0 inside / 1 above)`` for a value (inf counts as above)."""
        a, b = self.yr
        v = (math.log10(y) if y > 0 else -math.inf) if self.log else y
        side = -1 if v < a else 1 if v > b else 0
        v = min(max(v, a), b)
        return self.y0 + self.h - (v - a) / (b - a) * self.h, side

    def Y(self, y):
        return self.where(y)[0]

    def frame(self, title, xlabel, xticks, name=""):
        p, x0, y0, w, h = self.parts, self.x0, self.y0, self.w, self.h
        p.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
        p.append(f'<text x="{x0 + w / 2}" y="{y0 - 10}" text-anchor="middle" font-size="13">{html.escape(title)}</text>')
        p.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 30}" text-anchor="middle" font-size="12">{xlabel}</text>')
        a, b = self.yr
        if self.log:
            step = max(1, math.ceil((b - a) / 6))
            ticks = [(10.0 ** e, _power(e)) for e in range(a, b + 1, step)]
        else:
            ticks = [(v, f"{v:g}") for v in np.linspace(a, b, 5)]
        for v, text in ticks:
            y = self.Y(v)
            p.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0}" y2="{y:.1f}" stroke="#999"/>')
            p.append(f'<text class="bp-ytick{f" bp-ytick-{name}" if name else ""}" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{text}</text>')
        for v in xticks:
            p.append(f'<text x="{self.X(v):.1f}" y="{y0 + h + 15}" text-anchor="middle" font-size="11">{v}</text>')

    def shade(self, low, high, fill):
        """A background band between two values (clipped to the panel)."""
        top, bottom = self.Y(high), self.Y(low)
        self.parts.append(f'<rect x="{self.x0}" y="{top:.1f}" width="{self.w}" height="{bottom - top:.1f}" '
                          f'fill="{fill}"/>')

    def line(self, xs, ys, color, dash="", marker=True, css=""):
        """A polyline through the points (those beyond the range at the edge); markers: circles inside the
        range, triangles at the edge (``marker`` may also be a list of colours, one per point)."""
        pts = [(self.X(x), *self.where(y)) for x, y in zip(xs, ys) if not math.isnan(y)]
        if not pts:
            return
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)
        self.parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.5"'
                          f'{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>')
        if marker is False:
            return
        colours = marker if isinstance(marker, (list, tuple)) else [color] * len(pts)
        for (x, y, side), c in zip(pts, colours):
            if side:  # beyond the range: a triangle at the edge, pointing the way the value went
                t = 6 * side
                self.parts.append(f'<polygon class="bp-edge" points="{x - 4:.1f},{y + t / 3:.1f} {x + 4:.1f},'
                                  f'{y + t / 3:.1f} {x:.1f},{y - 2 * t / 3:.1f}" fill="{c}"/>')
            else:
                self.parts.append(f'<circle{f" class={chr(34)}{css}{chr(34)}" if css else ""} cx="{x:.1f}" '
                                  f'cy="{y:.1f}" r="2.5" fill="{c}"/>')

    def hline(self, value, color=GREY):
        y = self.Y(value)
        self.parts.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x0 + self.w}" y2="{y:.1f}" stroke="{color}" '
                          f'stroke-dasharray="5,3"/>')

    def note(self, x, y, text, color="black", css="", anchor="start", size=11):
        """Text at (x, y) in pixels (outside the data area: captions, band names)."""
        self.parts.append(f'<text{f" class={chr(34)}{css}{chr(34)}" if css else ""} x="{x:.1f}" y="{y:.1f}" '
                          f'text-anchor="{anchor}" font-size="{size}" fill="{color}">{html.escape(text)}</text>')


def _layer_ticks():
    return (1, 10, 20, 30, 40, 50, MAX_DEPTH)


def _gain_panel(parts, state, x0, y0, w, h, title, xlabel, layers=MAX_DEPTH):
    """The gradient panel of ``state`` at (x0, y0), size (w, h), on its fixed scale: the vanished and exploded
    bands shaded and named, the gain 1 dashed, every layer coloured by its band (beyond the range: a triangle
    at the edge); layers 1 to ``layers`` on the x-axis."""
    g = _Panel(parts, x0, y0, w, h, (1, layers), GAIN_DECADES)
    g.shade(10.0 ** GAIN_DECADES[0], VANISHED, BAND_SHADES["vanished"])
    g.shade(EXPLODED, 10.0 ** GAIN_DECADES[1], BAND_SHADES["exploded"])
    ticks = _layer_ticks() if layers == MAX_DEPTH else sorted({1, *range(5, layers + 1, 5), layers})
    g.frame(title, xlabel, ticks, "gradient")
    g.note(g.x0 + g.w + 4, g.Y(10.0 ** GAIN_DECADES[0]) - 4, "vanished", BLUE)
    g.note(g.x0 + g.w + 4, g.Y(10.0 ** GAIN_DECADES[1]) + 12, "exploded", RED)
    g.hline(1.0)
    g.line(np.arange(1, state.settings.depth + 1), state.gains, GREY,
           marker=[BAND_COLOURS[b] for b in state.bands], css="bp-layer")
    return g


def dashboard_svg(state: DashboardState) -> str:
    """The three panels for ``state`` as one SVG document (980 x 330 px), every panel on its fixed scale."""
    if not isinstance(state, DashboardState):
        raise TypeError(f"argument 'state' expected a DashboardState, got {describe(state)}")
    depth = state.settings.depth
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="980" height="330" viewBox="0 0 980 330" '
             'font-family="DejaVu Sans, sans-serif"><rect width="980" height="330" fill="white"/>']
    # 1. the gradient reaching each layer, relative to the last hidden layer's, with its bands
    g = _gain_panel(parts, state, 60, 40, 250, 200, f"||g(k)|| / ||g({depth})||: gradient reaching layer k",
                    "layer k (1 = input side)")
    bands = state.bands
    vanished, exploded = int(np.sum(bands == "vanished")), int(np.sum(bands == "exploded"))
    parts.append(f'<text class="bp-bands" data-vanished="{vanished}" data-exploded="{exploded}" data-depth="{depth}" '
                 f'x="{g.x0}" y="{g.y0 + g.h + 48}" font-size="12">layers vanished: {vanished} of {depth}, '
                 f'exploded: {exploded}</text>')
    # 2. the spread of y(k)
    s = _Panel(parts, 400, 40, 220, 200, (1, MAX_DEPTH), SPREAD_DECADES)
    s.frame("spread of y(k): std over the batch", "layer k", _layer_ticks())
    s.hline(1.0)
    s.line(np.arange(1, depth + 1), state.spread, BLUE)
    # 3. the training run: Loss (log, left), held-out accuracy and dead ReLU units (0..100 %, right)
    t = _Panel(parts, 690, 40, 220, 200, (0, EPOCHS), LOSS_DECADES)
    title = "training: Loss per epoch" + (": diverged" if state.diverged else "")
    t.frame(title, "epoch", range(0, EPOCHS + 1, 2))
    share = _Panel(parts, 690, 40, 220, 200, (0, EPOCHS), (0.0, 1.0), log=False)
    for v in (0.0, 0.5, 1.0):
        share.note(t.x0 + t.w + 4, share.Y(v) + 4, f"{100 * v:.0f} %", GREEN)
    if not state.trained:
        t.note(t.x0 + t.w / 2, t.y0 + t.h / 2, "training ...", GREY, anchor="middle", size=13)
    else:
        epochs = np.arange(len(state.losses))
        t.line(epochs, state.losses, RED if state.diverged else BLUE, css="bp-loss")
        share.line(epochs, state.test_accuracy, GREEN, dash="", marker=False)
        if state.settings.activation == "relu":
            share.line(epochs, state.dead, ORANGE, dash="4,3", marker=False)
    t.note(t.x0, t.y0 + t.h + 48, "Loss (left)", BLUE)
    t.note(t.x0 + 80, t.y0 + t.h + 48, "held-out accuracy", GREEN)
    if state.settings.activation == "relu":
        t.note(t.x0 + 80, t.y0 + t.h + 62, "dead ReLU units (dashed)", ORANGE)
    word = state.diagnosis or "waiting for training"
    parts.append(f'<text x="60" y="322" font-size="13" fill="{WORD_COLOURS.get(state.diagnosis, RED)}" '
                 f'font-weight="bold">diagnosis: {html.escape(word)}</text>')
    parts.append(f'<text x="290" y="322" font-size="12">{html.escape(state.evidence())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _readout_html(state: DashboardState) -> str:
    lines = state.readout().split("\n")
    verdict = (f'<div class="bp-verdict" data-gain="{state.gain:.6g}"><b>diagnosis:</b> '
               f'<b class="bp-diagnosis">{html.escape(state.diagnosis)}</b> '
               f'(<span class="bp-evidence">{html.escape(state.evidence())}</span>)</div>')
    training = (f'<div class="bp-training" data-trained="{str(state.trained).lower()}" '
                f'data-loss-ratio="{state.loss_ratio:.6g}" data-diverged="{str(state.diverged).lower()}">'
                f'{html.escape(state.training_line())}</div>')
    rest = "\n".join(html.escape(line) for line in lines[4:])
    return (f'<div class="bp-readout"><div class="bp-settings">{html.escape(lines[0])}</div>{verdict}'
            f'<div>{html.escape(lines[2])}</div>{training}'
            f'<pre style="font-size:12px;margin:4px 0">{rest}</pre></div>')


def dashboard_view(settings: DashboardSettings | None = None, **controls) -> tuple[str, str]:
    """The dashboard's pure callback: ``(svg, readout html)`` for the settings (or the controls as keywords).

    The readout's parts carry the classes ``bp-settings``, ``bp-diagnosis``, ``bp-evidence`` (the verdict's
    number; the gain itself is ``data-gain`` of ``bp-verdict``) and ``bp-training`` (with ``data-trained``,
    ``data-loss-ratio`` and ``data-diverged``); the SVG's band counts are on ``bp-bands``.
    """
    state = dashboard_state(settings, **controls)
    return dashboard_svg(state), _readout_html(state)


def dashboard_text(settings: DashboardSettings | None = None, *, state: DashboardState | None = None) -> str:
    """The dashboard's plain-text fallback: what the widget is, then the readout for ``settings`` (default: the
    'deep sigmoid' preset), or of ``state`` when it is already computed."""
    if state is None:
        state = dashboard_state(settings or PRESETS["deep sigmoid"])
    elif not isinstance(state, DashboardState) or not state.trained:
        raise TypeError(f"argument 'state' expected a trained DashboardState, got {describe(state)}")
    return _texts()[0] + "\nReadout for " + state.readout()


def _texts(state: DashboardState | None = None) -> tuple[str, str]:
    """The dashboard's two sentences (:func:`~backprop.views.widgets.interactive_texts`): before it runs, and for a
    reading edition beside the figure of ``state``."""
    return interactive_texts(
        "Vanishing/exploding-gradients dashboard",
        "set the depth, eta, activation, initialisation, residual connections and clipping with sliders and "
        "menus, or load a preset; it redraws the gradient reaching each layer, the spread of y(k) and a training "
        f"run of {EPOCHS} epochs with its held-out accuracy", state.settings.label() if state else "", kind="dashboard")


# -- the same drawing, for stored outputs ------------------------------------------------------------------
def _alt(state: DashboardState) -> str:
    """The dashboard's figure in words: what each panel shows for ``state``."""
    depth = state.settings.depth
    vanished, exploded = int(np.sum(state.bands == "vanished")), int(np.sum(state.bands == "exploded"))
    words = [f"Figure. The vanishing/exploding-gradients dashboard for {state.settings.label()}: diagnosis "
             f"{state.diagnosis or 'pending'} ({state.evidence()}).",
             f"Left: the gradient reaching each layer k relative to the last hidden layer's, on a log scale from "
             f"1e-12 to 1e12; of {depth} layers, {vanished} are in the vanished band and {exploded} in the "
             f"exploded band.",
             f"Middle: the spread of y(k), from {state.spread[0]:.2g} at layer 1 to {state.spread[-1]:.2g} at "
             f"layer {depth}."]
    if state.trained:
        end = f"{state.losses[-1]:.3g}" if np.isfinite(state.losses[-1]) else "not finite"
        words.append(f"Right: the Loss per epoch, from {state.losses[0]:.3g} to {end}"
                     f"{' (diverged)' if state.diverged else ''}; held-out accuracy "
                     f"{100 * state.test_accuracy[0]:.0f} % before training and {100 * state.test_accuracy[-1]:.0f} %"
                     f" after"
                     + (f"; dead ReLU units {100 * state.dead[-1]:.0f} %" if state.settings.activation == "relu"
                        else "") + ".")
    return " ".join(words)


def dashboard_figure(state: DashboardState) -> SvgFigure:
    """The dashboard's drawing of ``state`` (:func:`dashboard_svg`, every panel on its fixed scale) as an
    :class:`~backprop.views.style.SvgFigure`: a notebook stores the SVG with its alt text."""
    return SvgFigure(dashboard_svg(state), _alt(state))


def dashboard_grid_figure(depths=(5, 15, 30), cases=("deep sigmoid", "ReLU + He", "residual")) -> SvgFigure:
    """Small multiples of the gradient panel (first pass only), drawn as the dashboard draws it: every depth
    (rows) and preset (columns) on the same fixed scale, layers 1 to the deepest depth shown."""
    for case in cases:
        if case not in PRESETS:
            raise ValueError(f"argument 'cases' expected preset names from {sorted(PRESETS)}, got {case!r}")
    depths = [int(d) for d in depths]
    if not depths or not all(1 <= d <= MAX_DEPTH for d in depths):
        raise ValueError(f"argument 'depths' expected depths in 1..{MAX_DEPTH}, got {depths}")
    width, height, w, h = 980, 10 + 215 * len(depths), 230, 140
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif">'
             f'<rect width="{width}" height="{height}" fill="white"/>']
    counts = []
    for r, depth in enumerate(depths):
        for c, case in enumerate(cases):
            state = dashboard_state(replace(PRESETS[case], depth=depth), train=False)
            vanished = int(np.sum(state.bands == "vanished"))
            counts.append(f"{case}, depth {depth}: {vanished} of {depth} layers vanished")
            _gain_panel(parts, state, 55 + 310 * c, 40 + 215 * r, w, h, f"{case}, depth {depth}: {vanished} vanished",
                        "layer k", layers=max(depths))
    parts.append("</svg>")
    alt = ("Figure. The gradient reaching each layer k relative to the last hidden layer's, on one log scale from "
           "1e-12 to 1e12 with the vanished and exploded bands shaded, for depths "
           f"{', '.join(map(str, depths))} (rows) and the presets {', '.join(cases)} (columns): "
           + "; ".join(counts) + ".")
    return SvgFigure("".join(parts), alt)


def activation_histograms(rows, *, layers=None, bins: int = 40):
    """Histograms of y(k) for a few layers: one row per labelled run, ``rows`` = ``{label: outputs}`` with
    ``outputs`` a list of (B, width_k) arrays as ``bp.layer_outputs`` gives; each panel's title gives the
    layer and its standard deviation."""
    if not isinstance(rows, dict) or not rows or not all(isinstance(v, (list, tuple)) and v for v in rows.values()):
        raise TypeError(f"argument 'rows' expected a dict label -> list of y(k) arrays, got {describe(rows)}")
    first = next(iter(rows.values()))
    ks = list(layers) if layers is not None else sorted({1, max(1, len(first) // 2), len(first)})
    fig = new_figure(10, 2.3 * len(rows), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(rows), len(ks)))
    for r, (label, outputs) in enumerate(rows.items()):
        for ax, k in zip(axes[r], ks):
            y = np.ravel(outputs[k - 1])
            ax.hist(y, bins=bins, color=BLUE)
            ax.set_title(f"y({k}): std {np.std(y):.3g}", fontsize=10)
        axes[r, 0].set_ylabel(label, fontsize=10)
    return fig


# -- the widget -----------------------------------------------------------------------------------------
#: the clipping menu's value for "off" (a menu whose value is None shows blank)
_CLIP_OFF = 0.0


def vanishing_dashboard(preset: str = "deep sigmoid", *, threaded: bool = True):
    """The dashboard widget (an ipywidgets ``VBox``): preset buttons, the controls, the live SVG, the readout.

    Controls: depth (1..60), eta (log-scale selection slider), activation, init, scale (for ``"normal"``),
    residual, clip ("off" or tau).  Every change is drawn in two stages: the first pass
    (``dashboard_state(..., train=False)``), then the whole state with its training run, which a newer
    change abandons.  ``threaded=False`` draws both at once, in the caller's thread.  Attributes for tests:
    ``controls`` (name -> widget), ``image``, ``readout``, ``presets`` (name -> button), ``scheduler``, and
    ``drawn``: ``(stage, settings, time.perf_counter())`` of every drawing, stage "gradient" or "training".
    """
    import ipywidgets as widgets

    if preset not in PRESETS:
        raise ValueError(f"argument 'preset' expected one of {sorted(PRESETS)}, got {preset!r}")
    start = PRESETS[preset]
    style = {"description_width": "70px"}
    controls = {
        "depth": widgets.IntSlider(value=start.depth, min=1, max=MAX_DEPTH, description="depth",
                                   continuous_update=False, style=style),
        "eta": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in DASHBOARD_ETAS], value=start.eta,
                                       description="eta", continuous_update=False, style=style),
        "activation": widgets.Dropdown(options=[(WORDS.get(a, a), a) for a in DASHBOARD_ACTIVATIONS],
                                       value=start.activation, description="activation", style=style),
        "init": widgets.Dropdown(options=[(WORDS.get(i, i), i) for i in DASHBOARD_INITS], value=start.init,
                                 description="init", style=style),
        "scale": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in DASHBOARD_SCALES], value=start.scale,
                                         description="scale", continuous_update=False, style=style),
        "residual": widgets.Checkbox(value=start.residual, description="residual connections"),
        "clip": widgets.Dropdown(options=[("off", _CLIP_OFF) if v is None else (f"tau = {v:g}", v)
                                          for v in DASHBOARD_CLIPS],
                                 value=_CLIP_OFF if start.clip is None else start.clip, description="clipping",
                                 style=style),
    }
    image = widgets.HTML(layout=widgets.Layout(width="990px"))
    readout = widgets.HTML()
    status = widgets.HTML()
    state = {"loading": False}
    drawn, latest = [], {}

    def settings():
        values = {name: c.value for name, c in controls.items()}
        values["clip"] = None if values["clip"] == _CLIP_OFF else values["clip"]
        return DashboardSettings(**values)

    def show(stage, s, st):
        image.value = dashboard_svg(st)
        readout.value = _readout_html(st)
        drawn.append((stage, s, time.perf_counter()))
        latest["state"] = st

    def draw(s):
        stale = scheduler.superseded if scheduler is not None else (lambda: False)
        try:
            quick = dashboard_state(s, train=False)
            if stale():
                return
            show("gradient", s, quick)
            status.value = "<i>training ...</i>"
            full = dashboard_state(s, cancelled=stale)
        except Superseded:  # a newer setting is waiting: it is drawn next
            return
        except (TypeError, ValueError) as error:  # a setting the network cannot take: say so, keep the last figure
            status.value = f"<i>{html.escape(str(error))}</i>"
            return
        if not stale():
            show("training", s, full)
            status.value = ""

    scheduler = LatestOnly(draw) if threaded else None

    def changed(_=None):
        if state["loading"]:
            return
        controls["scale"].disabled = controls["init"].value != "normal"
        if scheduler is None:
            draw(settings())
        else:
            status.value = "<i>redrawing ...</i>"
            scheduler.submit(settings())

    def load(name):
        def on_click(_=None):
            state["loading"] = True  # set every control, then draw once
            for key, value in vars(PRESETS[name]).items():
                if key in controls:
                    controls[key].value = _CLIP_OFF if key == "clip" and value is None else value
            state["loading"] = False
            changed()
        return on_click

    buttons = {}
    for name in PRESETS:
        button = widgets.Button(description=name, layout=widgets.Layout(width="auto"))
        button.on_click(load(name))
        buttons[name] = button
    for control in controls.values():
        control.observe(changed, names="value")
    changed()
    if scheduler is not None:
        scheduler.wait()
    c = controls
    box = widgets.VBox([
        widgets.HBox([widgets.Label("presets:")] + list(buttons.values())),
        widgets.HBox([widgets.VBox([c["depth"], c["eta"], c["scale"]]),
                      widgets.VBox([c["activation"], c["init"], c["clip"]]),
                      widgets.VBox([c["residual"], status])]),
        image, readout])
    box.controls, box.image, box.readout, box.presets, box.scheduler = controls, image, readout, buttons, scheduler
    box.drawn = drawn
    first = latest.get("state")  # the start's trained state, drawn above: its readout is the fallback text
    first = first if first is not None and first.trained else None
    if first is None:  # the start could not be trained: no figure for a reading edition
        return described(box, dashboard_text(start))
    return described(box, dashboard_text(start, state=first), reader=_texts(first)[1],
                     figure=dashboard_svg(first), alt=_alt(first))
