"""The machinery every explorer shares: its layout and wiring, its sliders, its sentences.

Every explorer is a thin ipywidgets shell around a *pure callback*: a function of
the controls' values that returns the figure (and table) the widget shows.  The
callbacks are what the tests call over a grid of values; the widgets only wire
controls to them (:func:`explorer`) and show the result as a PNG.  The explorers
live beside their callbacks, in the module of what they show: ``descent`` (00),
``paths`` (01), ``stepper`` (02), ``softmax`` (03), ``subgradient`` (04), ``shapes``
(05), ``dashboard`` (06).  ipywidgets is imported inside the functions that build a widget.

Two promises to a student:

* the sliders land on the points the notebook's text talks about (eta = 1/f'',
  the x where a sum of paths vanishes...): a slider's grid holds them exactly
  (:func:`grid`, :func:`value_slider`);
* a notebook opened without running it shows, in place of each widget, a
  sentence saying what it is and what running the cell gives (the widget's
  plain-text form, :func:`described`), never a widget's Python repr.
"""

from __future__ import annotations

import base64

import numpy as np

from ..core.checks import check_range, describe
from .quiz import wrapped
from .style import alt_text, png

__all__ = ["READER_MIME", "described", "interactive_texts", "explorer", "figure_image", "show_figure", "png_width",
           "LatestOnly", "grid", "value_slider", "label", "SLIDER_WIDTH"]


#: the mime type of what a reading edition (a static page, where nothing runs) shows in a widget's place:
#: ``{"text": a sentence for a reader, "image/png": the figure at the first setting (base64) or "image/svg+xml":
#: the figure as SVG text (the dashboard's), "alt": its alt text}``.  JupyterLab has no renderer for it, so a
#: notebook opened unrun still shows the plain text.
READER_MIME = "application/vnd.backprop.reader+json"


def described(widget, text: str, *, reader: str | None = None, figure: bytes | str | None = None,
              alt: str | None = None):
    """``widget``, shown with ``text`` as its plain-text form: what a notebook opened without a kernel shows.

    JupyterLab shows a widget output's ``text/plain`` when the notebook was saved
    without widget state (as the course's are), so this sentence, not the widget's
    repr, is what a student reading the notebook before running it sees.

    ``reader``, with ``figure`` (PNG bytes, or an SVG document as text) and its ``alt`` text, is what a reading edition
    shows instead (see :data:`READER_MIME`): a sentence that does not ask to run anything,
    and the figure the widget draws first.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"argument 'text' expected a sentence saying what running the cell shows, "
                        f"got {describe(text)}")
    if reader is not None and (not isinstance(reader, str) or not reader.strip()):
        raise TypeError(f"argument 'reader' expected a sentence for a reader of a static page, got {describe(reader)}")
    if figure is not None:
        if not (isinstance(figure, str) and figure.startswith("<svg")):
            png_width(figure)  # a PNG (or an SVG document), or a clear error
        if not isinstance(alt, str) or not alt.strip():
            raise TypeError(f"argument 'alt' expected the figure's alt text (a sentence), got {describe(alt)}")
    text = wrapped(text)  # lines a reader's screen never has to break mid-word
    shown = widget._repr_mimebundle_
    edition = None
    if reader is not None:
        edition = {"text": reader}
        if isinstance(figure, str):
            edition.update({"image/svg+xml": figure, "alt": alt})
        elif figure is not None:
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
    low, high = check_range((low, high), "grid")
    steps = np.geomspace(low, high, count) if log else np.linspace(low, high, count)
    values = {float(f"{v:.6g}") for v in steps} | {float(m) for m in marks if low <= m <= high}
    return sorted(values)


def label(value: float) -> str:
    """A value as a slider shows it: 4 significant digits."""
    return f"{value:.4g}"


def value_slider(widgets, values, value, description):
    """A slider over exactly ``values`` (nearest to ``value`` selected), labelled with 4 significant digits."""
    start = min(values, key=lambda v: abs(v - value))
    return widgets.SelectionSlider(options=[(label(v), v) for v in values], value=start, description=description,
                                   continuous_update=False)
