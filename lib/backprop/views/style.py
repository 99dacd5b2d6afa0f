"""The course's figures: one resolution, readable text, light PNGs.

Every figure of the course is a :class:`CourseFigure` (a matplotlib ``Figure``):

* drawn at :data:`DPI` (100) and at most :data:`MAX_WIDTH` inches wide, so its PNG is
  at most 1,000 pixels wide and JupyterLab shows it at its natural size;
* with no text smaller than :data:`MIN_FONT` (9 pt): at 100 dpi, 12.5 pixels;
* shown in a notebook as a palette PNG (at most 64 colours, which line drawings and
  plots do not need more of), a quarter of the size of matplotlib's full-colour one,
  so a notebook with twenty figures stays small enough to review as a diff.

``png(fig)`` gives the same bytes the notebook shows; widgets use it too.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from ..core.checks import check_positive, describe

__all__ = ["DPI", "MAX_WIDTH", "MIN_FONT", "CourseFigure", "new_figure", "png"]

#: dots per inch of every figure the course shows
DPI = 100
#: the widest figure, in inches: 10 inches at 100 dpi is 1,000 pixels
MAX_WIDTH = 10.0
#: the smallest text on a figure, in points
MIN_FONT = 9.0
#: colours kept in a notebook's PNG
PALETTE = 64


def _render(fig: Figure, dpi: float = DPI):
    """The figure in full colour (a PIL RGB image), cropped to what is drawn plus a margin, never beyond the figure."""
    from PIL import Image  # matplotlib's own dependency

    if not isinstance(fig, Figure):
        raise TypeError(f"argument 'fig' expected a matplotlib Figure, got {describe(fig)}")
    fig.draw_without_rendering()  # lays the figure out (constrained layout, ticks) before it is measured
    drawn = fig.get_tightbbox()
    crop = Bbox.intersection(drawn.padded(0.1), fig.bbox_inches) if drawn is not None else None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=crop or fig.bbox_inches, pad_inches=0,
                facecolor="white")
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def png(fig: Figure, *, dpi: float = DPI) -> bytes:
    """The figure as a palette PNG (``PALETTE`` colours), cropped to what is drawn, as the notebook shows it.

    The palette is chosen by maximum coverage, which keeps small areas of colour
    (a marker, a star) that a median cut would merge into their neighbours.
    """
    from PIL import Image

    quantised = _render(fig, dpi).quantize(colors=PALETTE, method=Image.Quantize.MAXCOVERAGE,
                                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantised.save(out, format="PNG", optimize=True)
    return out.getvalue()


class CourseFigure(Figure):
    """A ``matplotlib.figure.Figure`` that a notebook shows as a light palette PNG (see :func:`png`).

    Its plain-text form is matplotlib's own, ``<CourseFigure size 1000x400 with 1 Axes>``.
    Made inside IPython, it also registers :func:`png` as the PNG formatter of its
    class, so ``%matplotlib inline`` (whose formatter for every ``Figure`` would
    otherwise win over ``_repr_mimebundle_``) still stores the course's PNG.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _register_with_ipython()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/png": png(self), "text/plain": repr(self)}


def _register_with_ipython() -> None:
    """Make :func:`png` the running IPython shell's PNG formatter for CourseFigure (once per shell)."""
    import sys

    if "IPython" not in sys.modules:  # not in IPython: nothing to do, and IPython is not imported for it
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    if formatter.type_printers.get(CourseFigure) is not png:
        formatter.for_type(CourseFigure, png)


def new_figure(width: float, height: float, **options) -> CourseFigure:
    """A :class:`CourseFigure` of ``width`` x ``height`` inches at the course's dpi, never wider than ``MAX_WIDTH``.

    A wider request is scaled down as a whole (the aspect is kept); ``options`` go
    to ``Figure`` (e.g. ``layout="constrained"``).
    """
    width, height = check_positive(width, "width"), check_positive(height, "height")
    if width > MAX_WIDTH:
        width, height = MAX_WIDTH, height * MAX_WIDTH / width
    return CourseFigure(figsize=(width, height), dpi=DPI, **options)
