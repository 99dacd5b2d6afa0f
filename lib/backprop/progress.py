"""Progress for long runs: a widget in JupyterLab, one line of text in a terminal, nothing otherwise.

``mode`` decides when anything is shown:

* ``"auto"`` (the default): nothing for a short run.  Once a second has passed,
  the run's total time is projected from the steps done so far; only if it
  exceeds ``after_seconds`` (5 s) does the display appear: an ipywidgets bar
  inside a Jupyter kernel, a single line rewritten in place on stderr when
  stderr is a terminal, and nothing at all anywhere else (pipes, logs, pytest).
* ``True``: shown from the first step (a widget in a kernel, else text on stderr).
* ``False``: never shown.

Notebooks tested with nbval stay clean: the widget is displayed with its widget
MIME type alone (``application/vnd.jupyter.widget-view+json``, which nbval never
compares), with no ``text/plain`` fallback, and nothing is printed to stdout.
"""

from __future__ import annotations

import sys
import time

from ._checks import check_real, describe

__all__ = ["Progress", "in_jupyter_kernel"]

#: seconds between two redraws (widget messages and terminal writes are not free)
REDRAW_EVERY = 0.2


def in_jupyter_kernel() -> bool:
    """True when running inside a Jupyter (IPython) kernel, where widgets can be shown."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    ipython = sys.modules["IPython"].get_ipython()
    return ipython is not None and getattr(ipython, "kernel", None) is not None


class Progress:
    """Reports ``done`` out of ``total`` steps, with a status line (e.g. the last epoch's loss).

    ``update(done)`` is cheap (a clock read) and may be called every step;
    ``status`` is a string shown next to the bar; ``close()`` finishes the display.
    ``stream`` (default: stderr at construction) and ``clock`` are for the text
    display and for tests.
    """

    def __init__(self, total: int, *, mode="auto", description: str = "", after_seconds: float = 5.0,
                 stream=None, clock=time.perf_counter):
        if mode not in ("auto", True, False):
            raise ValueError(f"argument 'progress' expected 'auto', True or False, got {describe(mode)}")
        self.total = max(int(total), 1)
        self.mode = mode
        self.description = description
        self.after_seconds = check_real(after_seconds, "after_seconds")
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.status = ""
        self.done = 0
        self.start = clock()
        self._display = None  # the widget or text display, once shown
        self._decided = mode is False
        self._last_draw = -float("inf")
        if mode is True:
            self._show()

    # -- deciding whether to show ------------------------------------------------------------
    def _kind(self):
        if in_jupyter_kernel():
            return "widget"
        if self.mode is True or _is_terminal(self.stream):
            return "text"
        return None

    def _show(self):
        self._decided = True
        kind = self._kind()
        if kind == "widget":
            self._display = _WidgetDisplay(self.total, self.description)
        elif kind == "text":
            self._display = _TextDisplay(self.total, self.description, self.stream)

    def update(self, done: int) -> None:
        """``done`` steps of ``total`` are finished."""
        self.done = done
        now = self.clock()
        if not self._decided:
            elapsed = now - self.start
            if elapsed >= min(1.0, self.after_seconds):
                projected = elapsed / max(done, 1) * self.total
                if projected > self.after_seconds:
                    self._show()
                elif done >= self.total:
                    self._decided = True
        if self._display is not None and now - self._last_draw >= REDRAW_EVERY:
            self._last_draw = now
            self._display.draw(done, now - self.start, self.status)

    def close(self) -> None:
        """Draw the final state and finish the line (text) or the bar (widget)."""
        if self._display is not None:
            self._display.draw(self.done, self.clock() - self.start, self.status)
            self._display.close()
            self._display = None
        self._decided = True

    @property
    def shown(self) -> bool:
        """Whether a display is showing now."""
        return self._display is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _remaining(done, total, elapsed) -> str:
    if done <= 0:
        return ""
    return f", {elapsed / done * (total - done):.0f} s left" if done < total else f", {elapsed:.1f} s"


class _TextDisplay:
    """One line on a stream, rewritten in place with a carriage return."""

    WIDTH = 30

    def __init__(self, total, description, stream):
        self.total, self.description, self.stream = total, description, stream
        self._length = 0

    def draw(self, done, elapsed, status):
        filled = int(self.WIDTH * done / self.total)
        line = (f"{self.description + ' ' if self.description else ''}[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                f"{100 * done / self.total:3.0f}%{_remaining(done, self.total, elapsed)}{'  ' + status if status else ''}")
        self.stream.write("\r" + line + " " * max(self._length - len(line), 0))
        self.stream.flush()
        self._length = len(line)

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _WidgetDisplay:
    """An ipywidgets progress bar and a label, displayed with the widget MIME type only."""

    def __init__(self, total, description):
        import ipywidgets
        from IPython.display import display

        self.bar = ipywidgets.IntProgress(value=0, min=0, max=total, description=description)
        self.label = ipywidgets.Label("")
        self.box = ipywidgets.HBox([self.bar, self.label])
        # no text/plain: nbval compares text/plain but never the widget view
        display({"application/vnd.jupyter.widget-view+json":
                 {"model_id": self.box.model_id, "version_major": 2, "version_minor": 0}}, raw=True)

    def draw(self, done, elapsed, status):
        self.bar.value = done
        self.label.value = f"{100 * done / self.bar.max:.0f}%{_remaining(done, self.bar.max, elapsed)}" + (
            f"  {status}" if status else "")

    def close(self):
        self.bar.bar_style = "success" if self.bar.value >= self.bar.max else ""
