"""Notebook 01's path-sum explorer, beside its pure callback :func:`path_sum_view`: move the inputs of an
influence diagram and watch each path's product and their sum."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Sequence

from matplotlib.figure import Figure

from ..core.checks import check_positive, check_range, check_real, describe
from .dag import draw_influence_diagram
from .tables import path_sum_table_html
from .widgets import explorer, figure_image, grid, label, show_figure, SLIDER_WIDTH, value_slider

__all__ = ["path_sum_view", "path_sum_explorer"]


def path_sum_view(diagram, source, target, at: Mapping) -> tuple[Figure, str]:
    """The explorer's pure callback: (the diagram drawn at ``at``, :func:`path_sum_table_html`).

    The figure shows every variable's value and every arrow's local derivative
    (formula and value) at the point, which its title states as the sliders do
    (4 significant digits).
    """
    table = path_sum_table_html(diagram, source, target, at)  # validates the arguments first
    point = ", ".join(f"{x} = {label(diagram.evaluate(x, at))}" for x in diagram.inputs)
    return draw_influence_diagram(diagram, at=at, title=f"at {point}"), table


def path_sum_explorer(examples: Mapping, *, value_range: tuple[float, float] = (-2.0, 2.0), step: float = 0.05,
                      marks: Mapping | None = None):
    """A widget: pick an example and a source variable, move the input sliders, watch the path sums.

    ``examples``: ``{name: (diagram, target, at)}`` with ``at`` the starting input
    values.  Each input's slider runs over ``value_range`` in steps of ``step``,
    plus the points of ``marks`` (``{name: {input: [values]}}``, the points the text
    asks about, such as where a path sum vanishes) exactly.  Returns an ipywidgets
    ``HBox`` (controls, results); the controls are a ``VBox`` of (example dropdown,
    source dropdown, ``VBox`` of one ``SelectionSlider`` per input); the results a
    ``VBox`` of (``Image`` of the diagram, ``HTMLMath`` table).  Every change calls
    :func:`path_sum_view`; a point where the function is undefined shows the reason
    instead of the table.
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
    low, high = check_range(value_range, "value_range")
    step = check_positive(step, "step", "a slider step")
    marks = {} if marks is None else marks
    if not isinstance(marks, Mapping) or not set(marks) <= set(examples):
        raise ValueError(f"argument 'marks' expected a dict example name -> {{input: [values]}} for names of "
                         f"'examples' {sorted(examples)}, got {describe(marks)}")
    for name, points in marks.items():
        inputs = examples[name][0].inputs
        if not isinstance(points, Mapping) or not set(points) <= set(inputs):
            raise ValueError(f"argument 'marks[{name!r}]' expected a dict input -> [values] for inputs "
                             f"{[str(v) for v in inputs]}, got {describe(points)}")
        for values in points.values():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise TypeError(f"argument 'marks[{name!r}]' expected a list of values per input, "
                                f"got {describe(values)}")
            for v in values:
                check_real(v, f"marks[{name!r}]")

    import ipywidgets as widgets

    pick = widgets.Dropdown(options=list(examples), description="function")
    source_pick = widgets.Dropdown(description="source")
    sliders = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap", grid_gap="4px 18px"))
    image = figure_image()
    table = widgets.HTMLMath()
    state = {"busy": False}
    box = None  # the explorer, built below: its scheduler redraws

    def draw():
        if state["busy"]:
            return
        diagram, target, _ = examples[pick.value]
        at = {s.symbol: s.value for s in sliders.children}
        try:
            fig, text = path_sum_view(diagram, source_pick.value, target, at)
        except ValueError as error:  # e.g. a log of a negative number at this point
            table.value = f"<i>{html.escape(str(error))}</i>"
            return
        show_figure(image, fig)
        table.value = text

    def choose(_=None):
        diagram, target, at = examples[pick.value]
        state["busy"] = True  # rebuild the controls first, then draw once
        sources = [n for n in diagram.nodes if n != target and diagram.paths(n, target)]
        source_pick.options = [(str(n), n) for n in sources]
        source_pick.value = sources[0]
        new = []
        for x in diagram.inputs:
            points = grid(low, high, count=int(round((high - low) / step)) + 1,
                          marks=[float(v) for v in marks.get(pick.value, {}).get(x, ())] + [float(at[x])])
            slider = value_slider(widgets, points, float(at[x]), str(x))
            slider.style.description_width = "initial"
            slider.layout.width = SLIDER_WIDTH
            slider.symbol = x
            slider.observe(lambda _: box.scheduler.submit(None) if box else None, names="value")
            new.append(slider)
        sliders.children = new
        state["busy"] = False
        if box is not None:
            box.scheduler.submit(None)

    pick.observe(choose, names="value")
    choose()
    box = explorer([pick, source_pick, sliders], image, table, draw=draw, name="Path-sum explorer",
                   does="pick a function and a variable, then move the input sliders; the influence diagram, "
                        "each path's product and their sum redraw")
    return box
