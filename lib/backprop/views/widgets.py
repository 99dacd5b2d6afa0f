"""Widgets: the explorers and the stepper, each beside the pure function it redraws.

Every widget is a thin ipywidgets shell around a *pure callback*: a function of
the controls' values that returns the figure (and table) the widget shows.  The
callbacks are what the tests call over a grid of values; the widgets only wire
controls to them and show the result as a PNG.  ipywidgets is imported inside
the functions that build a widget.

Two promises to a student:

* the sliders land on the points the notebook's text talks about (eta = 1/f'',
  the x where a sum of paths vanishes...): a slider's grid holds them exactly;
* a notebook opened without running it shows, in place of each widget, a
  sentence saying what it is and what running the cell gives (the widget's
  plain-text form), never a widget's Python repr.

* :func:`learning_rate_explorer` (notebook 00), callback :func:`explorer_figure`;
* :func:`path_sum_explorer` (notebook 01), callback :func:`path_sum_view`;
* :func:`pass_stepper` (notebook 02), callback :func:`pass_step_figure`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..core.checks import check_choice, check_positive, check_positive_int, check_real, describe
from ..experiments.descent import SURFACES
from .dag import draw_influence_diagram
from .network import draw_network
from .plots import compare_learning_rates
from .quiz import wrapped
from .style import alt_text, png
from .tables import path_sum_table_html, pass_steps

__all__ = [
    "described",
    "grid",
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


#: the mime type of what a reading edition (a static page, where nothing runs) shows in a widget's place:
#: ``{"text": a sentence for a reader, "image/png": the figure at the first setting (base64), "alt": its alt
#: text}``.  JupyterLab has no renderer for it, so a notebook opened unrun still shows the plain text.
READER_MIME = "application/vnd.backprop.reader+json"


def described(widget, text: str, *, reader: str | None = None, figure: bytes | None = None, alt: str | None = None):
    """``widget``, shown with ``text`` as its plain-text form: what a notebook opened without a kernel shows.

    JupyterLab shows a widget output's ``text/plain`` when the notebook was saved
    without widget state (as the course's are), so this sentence, not the widget's
    repr, is what a student reading the notebook before running it sees.

    ``reader``, with ``figure`` (PNG bytes) and its ``alt`` text, is what a reading edition
    shows instead (see :data:`READER_MIME`): a sentence that does not ask to run anything,
    and the figure the widget draws first.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"argument 'text' expected a sentence saying what running the cell shows, "
                        f"got {describe(text)}")
    if reader is not None and (not isinstance(reader, str) or not reader.strip()):
        raise TypeError(f"argument 'reader' expected a sentence for a reader of a static page, got {describe(reader)}")
    if figure is not None:
        png_width(figure)  # a PNG, or a clear error
        if not isinstance(alt, str) or not alt.strip():
            raise TypeError(f"argument 'alt' expected the figure's alt text (a sentence), got {describe(alt)}")
    text = wrapped(text)  # lines a reader's screen never has to break mid-word
    shown = widget._repr_mimebundle_
    edition = None
    if reader is not None:
        edition = {"text": reader}
        if figure is not None:
            edition.update({"image/png": base64.b64encode(figure).decode("ascii"), "alt": alt})

    def _repr_mimebundle_(**kwargs):
        bundle = dict(shown(**kwargs) or {})
        bundle["text/plain"] = text
        if edition is not None:
            bundle[READER_MIME] = edition
        return bundle

    widget._repr_mimebundle_ = _repr_mimebundle_
    return widget


def interactive_texts(name: str, does: str, setting: str = "", kind: str = "explorer") -> tuple[str, str]:
    """The two sentences of an interactive view called ``name`` that lets the student ``does``.

    The first is what a notebook opened unrun shows ("... run this cell to ..."); the second is
    for a reading edition, where nothing runs ("In JupyterLab, this explorer lets you ...",
    then the ``setting`` its figure shows).
    """
    lab = f"{name} (interactive): run this cell to {does}."
    edition = f"{name}. In JupyterLab, this {kind} lets you {does}."
    if setting:
        edition += f" The figure shows its first setting: {setting}."
    return lab, edition


def _setting(controls) -> str:
    """The controls' values in words (``surface: a bowl, learning rate η: 0.1, steps: 20``), containers included."""
    words = []
    for control in controls:
        if hasattr(control, "children"):
            words += [w for w in [_setting(control.children)] if w]
            continue
        label = getattr(control, "description", "")
        if not label or not control.has_trait("value"):
            continue
        if control.has_trait("label"):
            shown = control.label
        elif isinstance(control.value, bool):
            shown = "on" if control.value else "off"
        elif isinstance(control.value, (int, float)):
            shown = f"{control.value:g}"
        else:
            shown = str(control.value)
        words.append(f"{label}: {shown}")
    return ", ".join(words)


def png_width(data: bytes) -> int:
    """The width in pixels of a PNG image, from its header."""
    if not isinstance(data, (bytes, bytearray)) or data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        raise ValueError(f"argument 'data' expected the bytes of a PNG image, got {describe(data)}")
    return int.from_bytes(data[16:20], "big")


def figure_image():
    """The ``Image`` an explorer draws into: at the figure's natural width, never stretched, shrunk to fit."""
    import ipywidgets as widgets

    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))


def show_figure(image, fig) -> None:
    """Draw ``fig`` into ``image`` (from :func:`figure_image`) at its natural width; ``image.alt``: its alt text."""
    data = png(fig)
    image.value = data
    image.layout.width = f"{png_width(data)}px"
    image.alt = alt_text(fig)


#: a slider wide enough for its label and its readout beside the track, whatever the page width
SLIDER_WIDTH = "360px"


def explorer(controls, image, *below, name: str, does: str, draw):
    """The one layout of every explorer, and its wiring.

    ``controls`` sit in a row that wraps onto more lines when the page is narrow (so a
    figure never covers them), the figure ``image`` below them, then ``below`` (a
    readout, a table).  ``draw()`` reads the controls and redraws; it runs once now and
    after every change of a control, in one background thread that always takes the
    newest setting (:class:`LatestOnly`): dragging a slider across many steps draws the
    last, not every one in turn.  ``name`` and ``does`` (what the student does with it
    and what redraws) make the sentences shown in its place (:func:`interactive_texts`):
    before the cell is run, and in a reading edition beside the first figure
    (:func:`described`).  The box's ``scheduler`` is the ``LatestOnly`` (tests call its ``wait()``).
    """
    import ipywidgets as widgets

    controls = list(controls)
    for control in controls:
        if isinstance(control, (widgets.IntSlider, widgets.FloatSlider, widgets.SelectionSlider)):
            control.style.description_width = "initial"
            if not control.layout.width:
                control.layout.width = SLIDER_WIDTH
        elif isinstance(control, widgets.Dropdown):
            control.style.description_width = "initial"
            if not control.layout.width:
                control.layout.width = "max-content"
    row = widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap", align_items="center",
                                                          grid_gap="4px 18px"))
    scheduler = LatestOnly(lambda _: draw())
    for control in controls:
        if control.has_trait("value"):
            control.observe(lambda _: scheduler.submit(None), names="value")
    draw()
    box = widgets.VBox([row, image, *below])
    box.scheduler = scheduler
    text, reader = interactive_texts(name, does, _setting(controls))
    return described(box, text, reader=reader, figure=bytes(image.value), alt=image.alt)


class LatestOnly:
    """Runs ``work(item)`` in one background thread, always on the newest item submitted.

    ``submit(item)`` never waits: if a run is going on, the item waits as the only
    pending one (replacing an older pending item, which is dropped).  A long
    ``work`` asks :meth:`superseded` whether a newer item is waiting, to give up
    early.  ``wait()`` blocks until everything submitted is done (tests, benches).
    ``runs`` counts the items worked on.
    """

    def __init__(self, work):
        import threading

        self.work = work
        self.runs = 0
        self.errors: list[BaseException] = []
        self._pending = None
        self._has_pending = False
        self._busy = False
        self._lock = threading.Condition()

    def submit(self, item) -> None:
        import threading

        with self._lock:
            self._pending, self._has_pending = item, True
            if not self._busy:
                self._busy = True
                threading.Thread(target=self._loop, daemon=True).start()

    def superseded(self) -> bool:
        """True when a newer item waits: the item being worked on is stale."""
        return self._has_pending

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
            except Exception as error:  # kept for tests; a widget shows its own
                self.errors.append(error)
            self.runs += 1

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no item is pending or running; False if ``timeout`` seconds passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy and not self._has_pending, timeout)


def grid(low: float, high: float, *, marks=(), count: int = 41, log: bool = False) -> list[float]:
    """A slider's values: ``count`` evenly (or, with ``log``, geometrically) spaced from ``low`` to ``high``,
    plus every value of ``marks`` in that range, exactly.  Rounded to 6 significant digits, sorted."""
    low, high = _range((low, high), "grid")
    steps = np.geomspace(low, high, count) if log else np.linspace(low, high, count)
    values = {float(f"{v:.6g}") for v in steps} | {float(m) for m in marks if low <= m <= high}
    return sorted(values)


def _label(value: float) -> str:
    return f"{value:.4g}"


def _slider(widgets, values, value, description):
    """A slider over exactly ``values`` (nearest to ``value`` selected), labelled with 4 significant digits."""
    start = min(values, key=lambda v: abs(v - value))
    return widgets.SelectionSlider(options=[(_label(v), v) for v in values], value=start, description=description,
                                   continuous_update=False)


# -- notebook 00: the learning rate ----------------------------------------------------------------
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
    lo, hi = _range(eta_range, "eta_range")
    lo, hi = (check_positive(v, "eta_range", "a learning rate") for v in (lo, hi))
    eta = check_positive(eta, "eta", "a learning rate (the step size)")
    max_steps = check_positive_int(max_steps, "max_steps")
    steps = check_positive_int(steps, "steps")
    rates = grid(lo, hi, log=True, count=61, marks={eta} | set().union(*(_special_rates(n) for n in names)))
    surface = widgets.Dropdown(options=[(surface_label(n), n) for n in names], value=names[0], description="surface")
    eta_slider = _slider(widgets, rates, eta, "learning rate η")
    steps_slider = widgets.IntSlider(value=min(steps, max_steps), min=1, max=max_steps, description="steps",
                                     continuous_update=False)
    image = figure_image()

    def draw():
        show_figure(image, explorer_figure(surface.value, eta_slider.value, steps_slider.value))

    return explorer([surface, eta_slider, steps_slider], image, draw=draw, name="Learning-rate explorer",
                    does=f"pick a surface, a learning rate eta from {lo:g} to {hi:g} and 1 to {max_steps} steps; "
                         "the path on the surface and its loss curve redraw")


# -- notebook 01: path sums -----------------------------------------------------------------------
def path_sum_view(diagram, source, target, at: Mapping) -> tuple[Figure, str]:
    """The explorer's pure callback: (the diagram drawn at ``at``, :func:`path_sum_table_html`).

    The figure shows every variable's value and every arrow's local derivative
    (formula and value) at the point, which its title states as the sliders do
    (4 significant digits).
    """
    table = path_sum_table_html(diagram, source, target, at)  # validates the arguments first
    point = ", ".join(f"{x} = {_label(diagram.evaluate(x, at))}" for x in diagram.inputs)
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
    low, high = _range(value_range, "value_range")
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
            slider = _slider(widgets, points, float(at[x]), str(x))
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


# -- notebook 02: the passes, step by step -----------------------------------------------------------
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
