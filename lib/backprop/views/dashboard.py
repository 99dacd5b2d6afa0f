"""The vanishing/exploding-gradients dashboard of notebook 06: controls, a live figure, a readout.

* :func:`dashboard_view` -- the pure callback: settings in, ``(svg, readout html)`` out.
  The numbers come from :func:`backprop.core.dashboard.dashboard_state` (the real
  network's backward pass on real digits).  The live figure is an SVG written
  here directly: three panels (per-layer gradient norms on a log scale with a
  line at 1, layer 1 at the left; the spread of y(k); the short training curve
  with the fraction of dead ReLU units).  Drawing it takes about a millisecond,
  where matplotlib takes 60-200 ms on the course's 2-core machine: the slider
  feels live.
* :func:`dashboard_figure` -- the same three panels as a :class:`CourseFigure`, for stored outputs;
  :func:`dashboard_grid_figure` -- small multiples, depth x case, readable unrun.
* :func:`vanishing_dashboard` -- the ipywidgets dashboard: sliders and dropdowns for
  depth, eta (log scale), activation, initialisation and its scale, residual
  connections and clipping, and one button per preset.  Redraws run in one
  background thread that always takes the *newest* settings (:class:`LatestOnly`):
  a change that arrives during a redraw replaces any waiting one, so the figure
  never lags behind stale settings.
"""

from __future__ import annotations

import html
import math
import threading
from dataclasses import replace

import numpy as np

from ..core.checks import describe
from ..core.dashboard import (DASHBOARD_ACTIVATIONS, DASHBOARD_INITS, MAX_DEPTH, PRESETS, DashboardSettings,
                              DashboardState, dashboard_state)
from .style import new_figure
from .widgets import described

__all__ = ["dashboard_svg", "dashboard_view", "dashboard_text", "dashboard_figure", "dashboard_grid_figure",
           "activation_histograms", "LatestOnly", "vanishing_dashboard", "DASHBOARD_ETAS", "DASHBOARD_SCALES",
           "DASHBOARD_CLIPS"]

#: the learning-rate slider's values (log scale) and the scale and clipping menus; they hold every preset's value
DASHBOARD_ETAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
DASHBOARD_SCALES = (0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0, 2.0)
DASHBOARD_CLIPS = (None, 0.1, 1.0, 5.0, 10.0)
BLUE, ORANGE, GREY, RED, GREEN = "#1f77b4", "#d95f02", "#666666", "#c0392b", "#1a7f37"


# -- the SVG ------------------------------------------------------------------------------------------
def _decades(values, include=(0.0,)):
    """The log10 range (whole decades) that holds every finite positive value and ``include``."""
    logs = [math.log10(v) for v in np.ravel(values) if np.isfinite(v) and v > 0] + list(include)
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    return (lo - 1, hi + 1) if lo == hi else (lo, hi)


class _Panel:
    """One panel of the SVG: a box at (x0, y0) of size (w, h), data ranges, and the drawing calls."""

    def __init__(self, parts, x0, y0, w, h, xrange, yrange, log=True):
        self.parts, self.x0, self.y0, self.w, self.h = parts, x0, y0, w, h
        self.xr, self.yr, self.log = xrange, yrange, log

    def X(self, x):
        a, b = self.xr
        return self.x0 + (x - a) / (b - a if b > a else 1) * self.w

    def Y(self, y):
        a, b = self.yr
        v = math.log10(y) if self.log else y
        v = min(max(v, a), b)
        return self.y0 + self.h - (v - a) / (b - a) * self.h

    def frame(self, title, xlabel):
        p, x0, y0, w, h = self.parts, self.x0, self.y0, self.w, self.h
        p.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
        p.append(f'<text x="{x0 + w / 2}" y="{y0 - 8}" text-anchor="middle" font-size="13">{html.escape(title)}</text>')
        p.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 30}" text-anchor="middle" font-size="12">{xlabel}</text>')
        a, b = self.yr
        if self.log:
            step = max(1, math.ceil((b - a) / 6))
            ticks = [(10.0 ** e, f"1e{e}" if e not in (0, 1) else ("1" if e == 0 else "10")) for e in range(a, b + 1, step)]
        else:
            ticks = [(v, f"{v:g}") for v in np.linspace(a, b, 5)]
        for v, text in ticks:
            y = self.Y(v)
            p.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0}" y2="{y:.1f}" stroke="#999"/>')
            p.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{text}</text>')
        lo, hi = self.xr
        for v in sorted({int(lo), int(hi), int(round((lo + hi) / 2))}):
            x = self.X(v)
            p.append(f'<text x="{x:.1f}" y="{y0 + h + 15}" text-anchor="middle" font-size="11">{v}</text>')

    def line(self, xs, ys, color, dash="", marker=True, label=None, label_row=0):
        pts = [(self.X(x), self.Y(y)) for x, y in zip(xs, ys) if np.isfinite(y) and (y > 0 or not self.log)]
        if not pts:
            return
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"'
                          f'{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>')
        if marker:
            self.parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in pts]
        if label:  # on a light box, so a line passing behind does not cross the words
            y = self.y0 + 14 + 14 * label_row
            self.parts.append(f'<rect x="{self.x0 + 3}" y="{y - 11}" width="{7 * len(label) + 6}" height="14" '
                              f'fill="white" fill-opacity="0.85"/>')
            self.parts.append(f'<text x="{self.x0 + 6}" y="{y}" font-size="11" fill="{color}">{html.escape(label)}</text>')

    def right_ticks(self, values, color):
        """Tick labels on the right edge, for a second quantity drawn on this panel's own linear scale."""
        for v in values:
            y = self.Y(v)
            self.parts.append(f'<text x="{self.x0 + self.w + 4}" y="{y + 4:.1f}" font-size="11" fill="{color}">'
                              f'{v:g}</text>')

    def hline(self, value, color=GREY):
        y = self.Y(value)
        self.parts.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x0 + self.w}" y2="{y:.1f}" stroke="{color}" '
                          f'stroke-dasharray="5,3"/>')


def dashboard_svg(state: DashboardState) -> str:
    """The three panels for ``state`` as one SVG document (980 x 300 px): gradient norms, spread, training."""
    if not isinstance(state, DashboardState):
        raise TypeError(f"argument 'state' expected a DashboardState, got {describe(state)}")
    depth = state.settings.depth
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="980" height="300" viewBox="0 0 980 300" '
             'font-family="DejaVu Sans, sans-serif"><rect width="980" height="300" fill="white"/>']
    layers = np.arange(1, depth + 2)
    g = _Panel(parts, 60, 30, 270, 210, (1, depth + 1),
               _decades(np.r_[state.grad_norms, state.g_norms, state.applied_norms]))
    g.frame("gradient norm per layer (log)", "layer k (1 = input side)")
    g.hline(1.0)
    g.line(layers, state.grad_norms, BLUE, label="||dLoss/dW(k)||")
    g.line(layers[:-1], state.g_norms, ORANGE, dash="4,3", marker=False, label="||dLoss/dy(k)||", label_row=1)
    if state.settings.clip is not None:
        g.line(layers, state.applied_norms, GREEN, marker=False, label="after clipping", label_row=2)
    s = _Panel(parts, 390, 30, 250, 210, (1, max(depth, 2)), _decades(state.spread))
    s.frame("spread of y(k): std over the batch", "layer k")
    s.hline(1.0)
    s.line(np.arange(1, depth + 1), state.spread, BLUE)
    losses = state.losses
    finite = losses[np.isfinite(losses)]
    t = _Panel(parts, 690, 30, 250, 210, (1, max(len(losses), 2)), _decades(finite if finite.size else [1.0]))
    t.frame("training loss per step (log)" + (": diverged" if state.diverged else ""), "step")
    t.line(np.arange(1, len(losses) + 1), losses, RED if state.diverged else BLUE, label="loss")
    if state.settings.activation == "relu":  # the dead fraction on the panel's own 0..1 scale
        dead = _Panel(parts, 690, 30, 250, 210, (1, max(len(state.dead), 2)), (0.0, 1.0), log=False)
        dead.line(np.arange(1, len(state.dead) + 1), state.dead, ORANGE, dash="4,3", marker=False,
                  label=f"dead ReLU units (right scale): {100 * state.dead[-1]:.0f} %", label_row=1)
        dead.right_ticks((0.0, 0.5, 1.0), ORANGE)
    word = state.diagnosis
    color = {"healthy": "#1a7f37"}.get(word, RED)
    parts.append(f'<text x="60" y="292" font-size="13" fill="{color}" font-weight="bold">diagnosis: {word}</text>')
    parts.append(f'<text x="260" y="292" font-size="12">{html.escape(state.settings.label())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _readout_html(state: DashboardState) -> str:
    lines = state.readout().split("\n")
    first = (f'<b>layer-1 gradient</b> <span class="bp-first">{state.first:.3g}</span>, '
             f'<b>last layer</b> <span class="bp-last">{state.last:.3g}</span>, ratio '
             f'<span class="bp-ratio">{state.ratio:.3g}</span>: <b class="bp-diagnosis">{state.diagnosis}</b>')
    rest = "\n".join(html.escape(line) for line in lines[2:])
    return (f'<div class="bp-readout"><div class="bp-settings">{html.escape(lines[0])}</div>{first}'
            f'<pre style="font-size:12px;margin:4px 0">{rest}</pre></div>')


def dashboard_view(settings: DashboardSettings | None = None, **controls) -> tuple[str, str]:
    """The dashboard's pure callback: ``(svg, readout html)`` for the settings (or the controls as keywords).

    The readout's numbers carry the classes ``bp-first``, ``bp-last``, ``bp-ratio`` and ``bp-diagnosis``.
    """
    state = dashboard_state(settings, **controls)
    return dashboard_svg(state), _readout_html(state)


def dashboard_text(settings: DashboardSettings | None = None) -> str:
    """The dashboard's plain-text fallback: what the widget is, then the readout for ``settings`` (default: the
    'deep sigmoid' preset)."""
    state = dashboard_state(settings or PRESETS["deep sigmoid"])
    return ("Vanishing/exploding-gradients dashboard (interactive): run this cell for sliders for the depth, eta, "
            "activation, initialisation, residual connections and clipping, and preset buttons; it redraws the "
            "per-layer gradient norms, the spread of y(k) and a short training curve.\nReadout for "
            + state.readout())


# -- matplotlib versions, for stored outputs -------------------------------------------------------------
def _draw_norms(ax, state, title=None):
    depth = state.settings.depth
    ax.semilogy(np.arange(1, depth + 2), state.grad_norms, "o-", ms=3, color=BLUE, label="||dLoss/dW(k)||")
    ax.semilogy(np.arange(1, depth + 1), state.g_norms, "--", color=ORANGE, label="||dLoss/dy(k)||")
    if state.settings.clip is not None:
        ax.semilogy(np.arange(1, depth + 2), state.applied_norms, "-", color=GREEN, label="after clipping")
    ax.axhline(1.0, color=GREY, lw=0.8, ls=":")
    ax.set_title(title or f"{state.settings.label().split(', eta')[0]}: {state.diagnosis}", fontsize=10)


def dashboard_figure(state: DashboardState):
    """The dashboard's three panels for ``state`` as a :class:`CourseFigure` (10 x 3.2 inches)."""
    if not isinstance(state, DashboardState):
        raise TypeError(f"argument 'state' expected a DashboardState, got {describe(state)}")
    fig = new_figure(10, 3.4, layout="constrained")
    a, b, c = fig.subplots(1, 3)
    _draw_norms(a, state, "gradient norm per layer")
    a.set_xlabel("layer k")
    a.legend(fontsize=9)
    b.semilogy(np.arange(1, state.settings.depth + 1), state.spread, "o-", ms=3, color=BLUE)
    b.set_title("spread of y(k)", fontsize=10)
    b.set_xlabel("layer k")
    c.semilogy(np.arange(1, len(state.losses) + 1), state.losses, "o-", ms=3, color=RED if state.diverged else BLUE)
    c.set_title("training loss" + (" (diverged)" if state.diverged else ""), fontsize=10)
    c.set_xlabel("step")
    fig.suptitle(f"{state.settings.label()}: {state.diagnosis}", fontsize=10)
    return fig


def dashboard_grid_figure(depths=(5, 15, 30), cases=("deep sigmoid", "ReLU + He", "residual")):
    """Small multiples: the per-layer gradient norms for every depth (rows) and preset (columns)."""
    for case in cases:
        if case not in PRESETS:
            raise ValueError(f"argument 'cases' expected preset names from {sorted(PRESETS)}, got {case!r}")
    fig = new_figure(10, 2.3 * len(depths), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(depths), len(cases), sharey=True))
    for r, depth in enumerate(depths):
        for c, case in enumerate(cases):
            state = dashboard_state(replace(PRESETS[case], depth=int(depth)))
            ax = axes[r, c]
            _draw_norms(ax, state, f"{case}, depth {depth}: {state.diagnosis}")
            if r == len(depths) - 1:
                ax.set_xlabel("layer k")
    axes[0, 0].legend(fontsize=9, loc="lower right")
    return fig


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
class LatestOnly:
    """Runs ``work(item)`` in one background thread, always on the newest item submitted.

    ``submit(item)`` never waits: if a run is going on, the item waits as the only
    pending one (replacing an older pending item, which is dropped).  ``wait()``
    blocks until everything submitted is done (tests, benches).  ``runs`` counts the
    items actually worked on.
    """

    def __init__(self, work):
        self.work = work
        self.runs = 0
        self.errors: list[BaseException] = []
        self._pending = None
        self._has_pending = False
        self._busy = False
        self._lock = threading.Condition()

    def submit(self, item) -> None:
        with self._lock:
            self._pending, self._has_pending = item, True
            if not self._busy:
                self._busy = True
                threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            with self._lock:
                if not self._has_pending:
                    self._busy = False
                    self._lock.notify_all()
                    return
                item, self._has_pending = self._pending, False
            try:
                self.work(item)
            except Exception as error:  # shown by the widget; kept for tests
                self.errors.append(error)
            self.runs += 1

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until no item is pending or running; False if ``timeout`` seconds passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy and not self._has_pending, timeout)


def vanishing_dashboard(preset: str = "deep sigmoid", *, threaded: bool = True):
    """The dashboard widget (an ipywidgets ``VBox``): preset buttons, the controls, the live SVG, the readout.

    Controls: depth (1..60), eta (log-scale selection slider), activation, init, scale (for ``"normal"``),
    residual, clip.  Every change calls :func:`dashboard_view` (through :class:`LatestOnly` when
    ``threaded``, else directly).  Attributes for tests: ``controls`` (name -> widget), ``image``,
    ``readout``, ``presets`` (name -> button), ``scheduler``.
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
        "activation": widgets.Dropdown(options=list(DASHBOARD_ACTIVATIONS), value=start.activation,
                                       description="activation", style=style),
        "init": widgets.Dropdown(options=list(DASHBOARD_INITS), value=start.init, description="init", style=style),
        "scale": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in DASHBOARD_SCALES], value=start.scale,
                                         description="scale", continuous_update=False, style=style),
        "residual": widgets.Checkbox(value=start.residual, description="residual connections"),
        "clip": widgets.Dropdown(options=[("off" if v is None else f"tau = {v:g}", v) for v in DASHBOARD_CLIPS],
                                 value=start.clip, description="clipping", style=style),
    }
    image = widgets.HTML(layout=widgets.Layout(width="990px"))
    readout = widgets.HTML()
    status = widgets.HTML()
    state = {"loading": False}

    def settings():
        return DashboardSettings(**{name: c.value for name, c in controls.items()})

    def draw(s):
        try:
            svg, text = dashboard_view(s)
        except (TypeError, ValueError) as error:  # a setting the network cannot take: say so, keep the last figure
            status.value = f"<i>{html.escape(str(error))}</i>"
            return
        image.value = svg
        readout.value = text
        status.value = ""

    scheduler = LatestOnly(draw) if threaded else None

    def changed(_=None):
        if state["loading"]:
            return
        controls["scale"].disabled = controls["init"].value != "normal"
        if scheduler is None:
            draw(settings())
        else:
            status.value = "<i>redrawing...</i>"
            scheduler.submit(settings())

    def load(name):
        def on_click(_=None):
            state["loading"] = True  # set every control, then draw once
            for key, value in vars(PRESETS[name]).items():
                if key in controls:
                    controls[key].value = value
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
    return described(box, dashboard_text(start))
