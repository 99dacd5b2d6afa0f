"""The course's figures: one resolution, readable text, light PNGs.

Every figure of the course is a :class:`CourseFigure` (a matplotlib ``Figure``):

* drawn at :data:`DPI` (100) and at most :data:`MAX_WIDTH` inches wide, so its PNG is
  at most 1,000 pixels wide and JupyterLab shows it at its natural size;
* with no text smaller than :data:`MIN_FONT` (9 pt): at 100 dpi, 12.5 pixels;
* shown in a notebook as a palette PNG (at most 64 colours, which line drawings and
  plots do not need more of), a quarter of the size of matplotlib's full-colour one,
  so a notebook with twenty figures stays small enough to review as a diff.

``png(fig)`` gives the same bytes the notebook shows; widgets use it too.  ``alt_text(fig)`` says
in words what the figure shows: the notebook stores it beside the PNG (the output's
``metadata["image/png"]["alt"]``), where a reading edition and nbconvert find it.
"""

from __future__ import annotations

import io
import re

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from ..core.checks import check_positive, describe

__all__ = ["DPI", "MAX_WIDTH", "MIN_FONT", "CourseFigure", "SvgFigure", "new_figure", "png", "alt_text"]

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
    return _palette_png(_render(fig, dpi))


def _palette_png(image) -> bytes:
    """A full-colour PIL image as a palette PNG of ``PALETTE`` colours, chosen by maximum coverage."""
    from PIL import Image

    quantised = image.quantize(colors=PALETTE, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantised.save(out, format="PNG", optimize=True)
    return out.getvalue()


#: the most labels of a diagram an alt text lists (the rest are counted)
ALT_LABELS = 12


def _plain_math(text: str) -> str:
    """Figure text with its mathtext (``$...$``) as plain words and symbols, for a screen reader."""
    import re
    import unicodedata

    from .quiz import plain

    text = re.sub(r"\\(?:displaystyle|left|right)(?![A-Za-z])|\\[,;:!]", "", text)  # sizes and spacing: nothing to say
    text = re.sub(r"\\dot\{(\w)\}|\\dot (\w)", lambda m: (m.group(1) or m.group(2)) + "\u0307", text)  # the overdot
    text = plain(text)
    text = re.sub(r"\\(?:mathrm|mathbf|mathit|operatorname|text)\b", "", text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)  # any other command: its name (\sigma -> sigma)
    return unicodedata.normalize("NFC", " ".join(text.replace("$", "").split()))  # z + overdot as one letter, ż


def _panel_words(ax) -> str:
    """One panel in words: what kind it is, its title, its axes or the labels written on it, its legend.

    Empty when the panel says nothing of its own (the right-hand scale of a twin panel)."""

    def scale(axis) -> str:
        return " (log scale)" if axis.get_scale() == "log" else ""

    title = "; ".join(t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t.strip())
    y, x = ax.get_ylabel().strip(), ax.get_xlabel().strip()
    legend = ax.get_legend()
    entries = [t.get_text() for t in legend.get_texts() if t.get_text().strip()] if legend is not None else []
    heatmap = ax.images or any(type(c).__name__ == "QuadMesh" for c in ax.collections)
    if heatmap:
        shape = ax.images[0].get_array().shape[:2] if ax.images else None
        kind = f"a {shape[0]} x {shape[1]} heatmap" if shape else "a heatmap"
    elif ax.axison:
        if not (title or x or y or entries):
            return ""
        kind = f"a plot of {y or 'values'}{scale(ax.yaxis)}" + (f" against {x}{scale(ax.xaxis)}" if x else "")
    elif ax.texts or ax.lines or ax.patches or ax.collections:
        kind = "a diagram"
    else:
        kind = ""  # a panel that only holds a legend: the key of the others
    words = [kind + (f", '{title}'" if title else "")] if kind or title else []
    if entries:
        words.append(("legend: " if kind else "key: ") + ", ".join(entries))
    if not ax.axison or heatmap:
        labels = []
        for t in ax.texts:
            label = " ".join(t.get_text().split())
            if t.get_visible() and label and (heatmap or label not in labels):  # a heatmap's repeats are data
                labels.append(label)
        if labels:
            more = f" and {len(labels) - ALT_LABELS} more" if len(labels) > ALT_LABELS else ""
            words.append(("values " if heatmap else "labelled ") + ", ".join(labels[:ALT_LABELS]) + more)
    return _plain_math("; ".join(words))


def alt_text(fig: Figure) -> str:
    """What ``fig`` shows, in words: its image's alt text (what a screen reader reads, and a page without the image).

    A figure that says it itself is taken at its word (``fig.alt``, set by the function that drew
    it); otherwise the words come from the figure: its title, then each panel (a plot of what
    against what, a heatmap or a diagram) with its title, legend and, for a diagram or a heatmap,
    the labels or values written on it, then the figure's own legend.  Maths is given as plain
    text (``$\\partial y_i$`` as ``∂y_i``).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"argument 'fig' expected a matplotlib Figure, got {describe(fig)}")
    own = getattr(fig, "alt", None)
    if own:
        return _plain_math(own)
    title = _plain_math(" ".join(t.get_text() for t in fig.texts if t.get_visible()))  # the suptitle is one
    panels = [w for w in (_panel_words(ax) for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>")
              if w]
    legend = [t.get_text() for lg in fig.legends for t in lg.get_texts() if t.get_text().strip()]
    out = f"Figure: {title}." if title else "Figure."
    if len(panels) == 1:
        out += " " + panels[0][:1].upper() + panels[0][1:] + "."
    elif panels:
        out += f" {len(panels)} panels: " + " | ".join(f"{i}: {w}" for i, w in enumerate(panels, 1)) + "."
    if legend:
        out += " Legend: " + _plain_math(", ".join(legend)) + "."
    return out


class CourseFigure(Figure):
    """A ``matplotlib.figure.Figure`` that a notebook shows as a light palette PNG (see :func:`png`).

    Its plain-text form is matplotlib's own, ``<CourseFigure size 1000x400 with 1 Axes>``; its
    alt text (:func:`alt_text`) goes with the PNG in the output's metadata.  ``alt``: what it
    shows, in words, when the function that drew it can say it better than its titles and labels.
    Made inside IPython, it also registers :func:`png` as the PNG formatter of its
    class, so ``%matplotlib inline`` (whose formatter for every ``Figure`` would
    otherwise win over ``_repr_mimebundle_``) still stores the course's PNG.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _register_with_ipython()

    alt: str | None = None

    def _repr_mimebundle_(self, include=None, exclude=None):
        return ({"image/png": png(self), "text/plain": repr(self)}, {"image/png": {"alt": alt_text(self)}})


class SvgFigure:
    """A figure drawn as SVG text, shown as an image with its alt text.  The dashboard draws this way: a
    millisecond a drawing, where matplotlib takes 60-200 ms, so the live widget and a stored output are the
    same drawing.

    A notebook shows it as an ``<img>`` in ``text/html``, the SVG as a data URL, the alt text on the tag.  Not
    as ``image/svg+xml``: JupyterLab renders that only in a notebook the student has trusted (an SVG can hold
    a script), and a course notebook opened unrun is not trusted; an image cannot run a script, and
    JupyterLab's sanitizer keeps the tag."""

    def __init__(self, svg: str, alt: str):
        if not isinstance(svg, str) or not svg.startswith("<svg"):
            raise TypeError(f"argument 'svg' expected an SVG document ('<svg ...'), got {describe(svg)}")
        if not isinstance(alt, str) or not alt.strip():
            raise TypeError(f"argument 'alt' expected the figure's alt text (a sentence), got {describe(alt)}")
        self.svg, self.alt = svg, alt

    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, from the SVG's attributes."""
        head = self.svg[: self.svg.index(">")]
        return tuple(int(float(re.search(f' {k}="([0-9.]+)', head).group(1))) for k in ("width", "height"))

    def __repr__(self) -> str:
        return "<SvgFigure {}x{}>".format(*self.size())

    def html(self) -> str:
        """The figure as an ``<img>`` tag: the SVG as a data URL, at its own width, with its alt text."""
        import base64
        import html

        data = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        width, height = self.size()
        return (f'<img src="data:image/svg+xml;base64,{data}" width="{width}" height="{height}" '
                f'style="max-width: 100%; height: auto" alt="{html.escape(self.alt)}"/>')

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": repr(self)}


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
