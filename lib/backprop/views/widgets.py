"""Widgets: the explorers and the stepper, each beside the pure function it redraws.

Every widget is a thin ipywidgets shell around a *pure callback*: a function of
the controls' values that returns the figure (and table) the widget shows.  The
callbacks are what the tests call over a grid of values; the widgets only wire
controls to them and show the result as a PNG.  ipywidgets is imported inside
the functions that build a widget.

* :func:`learning_rate_explorer` (notebook 00), callback :func:`explorer_figure`;
* :func:`path_sum_explorer` (notebook 01), callback :func:`path_sum_view`;
* :func:`pass_stepper` (notebook 02), callback :func:`pass_step_figure`.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..core.checks import check_choice, check_positive, check_positive_int, check_real, describe
from ..core.descent import SURFACES
from .dag import draw_influence_diagram
from .network import draw_network
from .plots import compare_learning_rates
from .tables import path_sum_table_html, pass_steps

__all__ = [
    "explorer_figure",
    "learning_rate_explorer",
    "path_sum_view",
    "path_sum_explorer",
    "pass_step_figure",
    "pass_stepper",
]


def _range(value, name: str) -> tuple[float, float]:
    """A slider's range: a pair of real numbers (low, high) with low < high."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"argument '{name}' expected a pair (low, high), got {describe(value)}")
    low, high = (check_real(v, name) for v in value)
    if not low < high:
        raise ValueError(f"argument '{name}' expected (low, high) with low < high, got {tuple(value)}")
    return low, high


def _png(fig: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# -- notebook 00: the learning rate ----------------------------------------------------------------
def explorer_figure(surface="quadratic_1d", eta: float = 0.1, steps: int = 20) -> Figure:
    """What the learning-rate explorer shows for one setting of its controls (a pure function).

    Runs ``steps`` updates with learning rate ``eta`` from the surface's start and
    returns a Figure: the path on the surface, and its loss against the step.
    """
    return compare_learning_rates(surface, [eta], steps)


def learning_rate_explorer(surfaces: Sequence[str] | None = None, eta: float = 0.1, steps: int = 20,
                           eta_range: tuple[float, float] = (1e-3, 3.0), max_steps: int = 150):
    """An ipywidgets ``VBox``: a surface menu, a learning-rate slider (log scale), a step slider, the figure.

    Every change of a control redraws :func:`explorer_figure` (the pure callback)
    into an ``Image`` widget as PNG.  Children: ``(controls HBox, Image)``; the
    controls are ``(Dropdown surface, FloatLogSlider eta, IntSlider steps)``.
    """
    import ipywidgets as widgets

    names = list(SURFACES) if surfaces is None else [check_choice(s, "surfaces", SURFACES) for s in surfaces]
    if not names:
        raise ValueError("argument 'surfaces' expected at least one surface name, got an empty list")
    lo, hi = _range(eta_range, "eta_range")
    lo, hi = (check_positive(v, "eta_range", "a learning rate") for v in (lo, hi))
    eta = check_positive(eta, "eta", "a learning rate (the step size)")
    max_steps = check_positive_int(max_steps, "max_steps")
    steps = check_positive_int(steps, "steps")
    surface = widgets.Dropdown(options=names, value=names[0], description="surface")
    eta_slider = widgets.FloatLogSlider(value=min(max(eta, lo), hi), base=10, min=np.log10(lo), max=np.log10(hi),
                                        step=0.01, description="eta", readout_format=".3g", continuous_update=False)
    steps_slider = widgets.IntSlider(value=min(steps, max_steps), min=1, max=max_steps, description="steps",
                                     continuous_update=False)
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_=None):
        image.value = _png(explorer_figure(surface.value, eta_slider.value, steps_slider.value), dpi=80)

    for control in (surface, eta_slider, steps_slider):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([surface, eta_slider, steps_slider]), image])


# -- notebook 01: path sums -----------------------------------------------------------------------
def path_sum_view(diagram, source, target, at: Mapping) -> tuple[Figure, str]:
    """The explorer's pure callback: (the diagram drawn at ``at``, :func:`path_sum_table_html`).

    The figure shows every variable's value and every arrow's local derivative
    (formula and value) at the point, which its title states.
    """
    table = path_sum_table_html(diagram, source, target, at)  # validates the arguments first
    point = ", ".join(f"{x} = {diagram.evaluate(x, at):.2f}" for x in diagram.inputs)
    return draw_influence_diagram(diagram, at=at, title=f"at {point}"), table


def path_sum_explorer(examples: Mapping, *, value_range: tuple[float, float] = (-2.0, 2.0), step: float = 0.05):
    """A widget: pick an example and a source variable, move the input sliders, watch the path sums.

    ``examples``: ``{name: (diagram, target, at)}`` with ``at`` the starting input
    values.  Returns an ipywidgets ``HBox`` (controls, results); the controls are a
    ``VBox`` of (example dropdown, source dropdown, ``VBox`` of one ``FloatSlider``
    per input); the results a ``VBox`` of (``Image`` of the diagram, ``HTMLMath``
    table).  Every change calls :func:`path_sum_view`; a point where the function
    is undefined shows the reason instead of the table.
    """
    from ..symbolic.paths import check_diagram, check_pair

    if not isinstance(examples, Mapping) or not examples:
        raise TypeError(f"argument 'examples' expected a non-empty dict name -> (diagram, target, at), "
                        f"got {describe(examples)}")
    for name, example in examples.items():
        if not (isinstance(example, tuple) and len(example) == 3):
            raise TypeError(f"argument 'examples[{name!r}]' expected a tuple (diagram, target, at), "
                            f"got {describe(example)}")
        diagram, target, at = example
        check_diagram(diagram)
        check_pair(diagram, target, target)
        if not any(diagram.paths(n, target) for n in diagram.inputs):
            raise ValueError(f"argument 'examples[{name!r}]' expected an outcome that depends on an input, "
                             f"got {target} = {diagram.definitions.get(target)}")
        diagram.evaluate(target, at)  # every input has a starting value
    low, high = _range(value_range, "value_range")
    step = check_real(step, "step")

    import ipywidgets as widgets

    pick = widgets.Dropdown(options=list(examples), description="function")
    source_pick = widgets.Dropdown(description="source")
    sliders = widgets.VBox()
    image = widgets.Image(format="png")
    table = widgets.HTMLMath()
    state = {"busy": False}

    def refresh(_=None):
        if state["busy"]:
            return
        diagram, target, _ = examples[pick.value]
        at = {s.symbol: s.value for s in sliders.children}
        try:
            fig, text = path_sum_view(diagram, source_pick.value, target, at)
        except ValueError as error:  # e.g. a log of a negative number at this point
            table.value = f"<i>{html.escape(str(error))}</i>"
            return
        image.value = _png(fig)
        table.value = text

    def choose(_=None):
        diagram, target, at = examples[pick.value]
        state["busy"] = True  # rebuild the controls first, then draw once
        sources = [n for n in diagram.nodes if n != target and diagram.paths(n, target)]
        source_pick.options = [(str(n), n) for n in sources]
        source_pick.value = sources[0]
        new = []
        for x in diagram.inputs:
            slider = widgets.FloatSlider(value=float(at[x]), min=low, max=high, step=step, description=str(x),
                                         continuous_update=False, readout_format=".2f")
            slider.symbol = x
            slider.observe(refresh, names="value")
            new.append(slider)
        sliders.children = new
        state["busy"] = False
        refresh()

    pick.observe(choose, names="value")
    source_pick.observe(refresh, names="value")
    choose()
    return widgets.HBox([widgets.VBox([pick, source_pick, sliders]), widgets.VBox([image, table])])


# -- notebook 02: the passes, step by step -----------------------------------------------------------
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
    import ipywidgets as widgets

    count = len(pass_steps(net, x, d))
    slider = widgets.IntSlider(value=0, min=0, max=count - 1, description="step", continuous_update=False,
                               layout=widgets.Layout(width="60%"))
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def show(change=None):
        image.value = _png(pass_step_figure(net, x, d, slider.value, biases=biases))

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, image])
