"""Notebook 00's learning-rate explorer, beside its pure callback :func:`explorer_figure`.

The slider of learning rates holds, exactly, every rate the notebook's text asks about:
1/f'' and 2/f'' of each quadratic surface, and the best single rate of the elongated bowl.
"""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure

from ..core.checks import check_choice, check_positive, check_positive_int, check_range
from ..experiments.descent import SURFACES
from .plots import compare_learning_rates
from .widgets import explorer, figure_image, grid, show_figure, value_slider

__all__ = ["explorer_figure", "learning_rate_explorer", "surface_label", "SURFACE_WORDS"]


def explorer_figure(surface="quadratic_1d", eta: float = 0.1, steps: int = 20) -> Figure:
    """What the learning-rate explorer shows for one setting of its controls (a pure function).

    Runs ``steps`` updates with learning rate ``eta`` from the surface's start and
    returns a Figure: the path on the surface, and its loss against the step.
    """
    return compare_learning_rates(surface, [eta], steps)


#: each surface's entry in the explorer's menu: what it is, in words, and its formula
SURFACE_WORDS = {"quadratic_1d": "one weight, a parabola", "two_minima_1d": "one weight, two minima",
                 "elongated_bowl": "two weights, a long narrow bowl", "saddle": "two weights, a saddle",
                 "saddle_between_minima": "two weights, a saddle between two minima"}


def surface_label(name: str) -> str:
    """A surface as a menu shows it: ``one weight, a parabola: 2(w - 1)^2``."""
    surface = SURFACES[check_choice(name, "surface", SURFACES)]()
    return f"{SURFACE_WORDS.get(name, name.replace('_', ' '))}: {surface.formula}"


def _special_rates(surface) -> set[float]:
    """The learning rates the lecture singles out for a surface: 1/c and 2/c for each positive curvature c,
    and 2/(c_min + c_max), the best single rate for a bowl with two curvatures."""
    curvatures = [c for c in (SURFACES[surface]().curvatures or ()) if c > 0]
    marks = {r / c for c in curvatures for r in (1.0, 2.0)}
    if len(curvatures) > 1:
        marks.add(2.0 / (min(curvatures) + max(curvatures)))
    return marks


def learning_rate_explorer(surfaces: Sequence[str] | None = None, eta: float = 0.1, steps: int = 20,
                           eta_range: tuple[float, float] = (1e-3, 3.0), max_steps: int = 150):
    """An ipywidgets ``VBox``: a surface menu, a learning-rate slider, a step slider, the figure.

    The learning-rate slider runs geometrically over ``eta_range`` and holds, exactly,
    every rate the text of notebook 00 asks about: 1/f'' and 2/f'' of each quadratic
    surface and the best single rate of the elongated bowl.  Every change of a control
    redraws :func:`explorer_figure` (the pure callback) into an ``Image`` widget.
    Children: ``(controls HBox, Image)``; the controls are ``(Dropdown surface,
    SelectionSlider eta, IntSlider steps)``.
    """
    import ipywidgets as widgets

    names = list(SURFACES) if surfaces is None else [check_choice(s, "surfaces", SURFACES) for s in surfaces]
    if not names:
        raise ValueError("argument 'surfaces' expected at least one surface name, got an empty list")
    lo, hi = check_range(eta_range, "eta_range")
    lo, hi = (check_positive(v, "eta_range", "a learning rate") for v in (lo, hi))
    eta = check_positive(eta, "eta", "a learning rate (the step size)")
    max_steps = check_positive_int(max_steps, "max_steps")
    steps = check_positive_int(steps, "steps")
    rates = grid(lo, hi, log=True, count=61, marks={eta} | set().union(*(_special_rates(n) for n in names)))
    surface = widgets.Dropdown(options=[(surface_label(n), n) for n in names], value=names[0], description="surface")
    eta_slider = value_slider(widgets, rates, eta, "learning rate η")
    steps_slider = widgets.IntSlider(value=min(steps, max_steps), min=1, max=max_steps, description="steps",
                                     continuous_update=False)
    image = figure_image()

    def draw():
        show_figure(image, explorer_figure(surface.value, eta_slider.value, steps_slider.value))

    return explorer([surface, eta_slider, steps_slider], image, draw=draw, name="Learning-rate explorer",
                    does=f"pick a surface, a learning rate eta from {lo:g} to {hi:g} and 1 to {max_steps} steps; "
                         "the path on the surface and its loss curve redraw")
