"""Notebook 02's pass stepper, beside its pure callback :func:`pass_step_figure`: a slider through every step
of the forward and the backward pass of the lecture's scalar network."""

from __future__ import annotations

import numpy as np

from ..core.checks import check_positive_int
from .network import draw_network
from .tables import pass_steps
from .widgets import explorer, figure_image, show_figure

__all__ = ["pass_step_figure", "pass_stepper"]


def pass_step_figure(net, x, d, step: int, *, biases: bool = True):
    """The network at step ``step`` (1 .. number of steps) of :func:`pass_steps`: the stepper's pure callback.

    What the step computes is drawn hot, what it reads warm; values not yet
    computed are hidden.  The title says "step k of n" and gives the step's
    formulas.  Returns the Figure.
    """
    steps = pass_steps(net, x, d)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 1 <= step <= len(steps):
        raise ValueError(f"argument 'step' expected an integer in 1..{len(steps)}, got {step!r}")
    now = steps[step - 1]
    given = {("y", 0, i) for i in range(net.widths[0])} if now.phase == "forward" else {("Div",)}
    done = given | {key for s in steps[:step] if s.phase == now.phase for key in s.computes}
    head = f"{now.phase} pass, step {step} of {len(steps)}"
    title = head + "\n" + "\n".join(f"${line}$" for line in now.lines)
    fig = draw_network(net, now.phase, d=d, biases=biases, shown=done, highlight=now.computes, reads=now.reads,
                       edge_labels="weights" if now.phase == "forward" else "gradients")
    # room on top for the formulas
    w, h = fig.get_size_inches()
    extra = 0.36 * (1 + len(now.lines))
    fig.set_size_inches(w, h + extra)
    fig.axes[0].set_position((0, 0, 1, h / (h + extra)))
    fig.text(0.5, 1 - 0.08 / (h + extra), title, ha="center", va="top", fontsize=10.5, linespacing=1.6)
    return fig


def pass_stepper(net, x, d, *, biases: bool = True, start: int = 1):
    """A slider through every step of the forward and backward pass of ``net`` on (x, d); returns the widget.

    The slider runs from 1 to the number of steps, and each value draws
    :func:`pass_step_figure` of that step into an ``Image``: the numbers on the
    slider and in the picture's title are the same.  Children: ``(IntSlider, Image)``.
    """
    import ipywidgets as widgets

    count = len(pass_steps(net, x, d))
    start = check_positive_int(start, "start")
    if start > count:
        raise ValueError(f"argument 'start' expected a step in 1..{count}, got {start}")
    slider = widgets.IntSlider(value=start, min=1, max=count, description="step", continuous_update=False,
                               layout=widgets.Layout(width="60%"))
    image = figure_image()

    def draw():
        show_figure(image, pass_step_figure(net, x, d, slider.value, biases=biases))

    return explorer([slider], image, draw=draw, name="Pass stepper",
                    does=f"move a slider through the {count} steps of the forward and the backward pass; each "
                         "step's formula and the values it uses are highlighted")
