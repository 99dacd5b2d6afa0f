"""The course's figures (views/style.py): one dpi, at most 1,000 px wide, no text under 9 pt, light PNGs.

Every function of the course that makes a figure is called here, as the notebooks
call it, and its figure is measured as a notebook stores it.
"""

import io

import numpy as np
import pytest
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

import backprop as bp
from backprop.experiments.descent import get_surface
import backprop.views.dag
import backprop.views.plots
import backprop.views.descent
from backprop.views import style
from backprop.views.style import DPI, MAX_WIDTH, MIN_FONT, CourseFigure, alt_text, new_figure, png
from strategies import assert_explained, influence_example

examples = bp.examples


def _ran(net, x, d):
    net.forward(np.asarray(x, dtype=float))
    net.backward(np.asarray(d, dtype=float))
    return net


def _tiny():
    return _ran(examples.tiny_network(), examples.TINY["x"], examples.TINY["d"])


def _two_relu():
    return examples.two_relu_network(ran=True)


def _path(surface="quadratic_1d", eta=0.1, steps=10):
    surface = get_surface(surface)
    return bp.gradient_descent(surface, surface.start, eta, steps)


def _graph():
    out, _ = bp.sigmoid_neuron_example()
    out.backward()
    return out


def _path_sum_view(name):
    diagram, outcome, at = influence_example(name)
    return bp.path_sum_view(diagram, sp.Symbol("x"), outcome, at)[0]


FIGURES = {
    "draw_network symbols": lambda: bp.draw_network(examples.tiny_network()),
    "draw_network forward": lambda: bp.draw_network(_two_relu(), "forward", d=examples.TWO_RELU["d"]),
    "draw_network backward": lambda: bp.draw_network(_tiny(), "backward", edge_labels="gradients"),
    "draw_forward_backward": lambda: bp.draw_forward_backward(_tiny(), examples.TINY["d"]),
    "draw_graph": lambda: bp.draw_graph(_graph()),
    "draw_influence_diagram": lambda: bp.draw_influence_diagram(influence_example("skip arrow")[0],
                                                                 at=influence_example("skip arrow")[2]),
    "draw_dag": lambda: backprop.views.dag.draw_dag(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")], node_text=str,
                                    edge_text=["1", "2", "3"]),
    "plot_curves": lambda: bp.plot_curves(np.arange(5), {"a": np.arange(5) ** 2, "b": np.arange(5)},
                                          xlabel="step", ylabel="loss", title="t", vlines={"here": 2}),
    "plot_descent_1d": lambda: backprop.views.plots.plot_descent_1d("two_minima_1d", [_path("two_minima_1d", 0.05)]),
    "plot_descent_2d": lambda: bp.plot_descent_2d("elongated_bowl", [_path("elongated_bowl", 0.05)]),
    "plot_loss_curves": lambda: bp.plot_loss_curves("quadratic_1d", [_path(), _path(eta=0.4)]),
    "compare_learning_rates": lambda: bp.compare_learning_rates("quadratic_1d", [0.05, 0.25, 0.45, 0.55], 12),
    "plot_first_order_errors": lambda: bp.plot_first_order_errors(np.geomspace(1e-3, 1, 6),
                                                                  {"e": np.geomspace(1e-6, 1, 6)}),
    "explorer_figure": lambda: backprop.views.descent.explorer_figure("elongated_bowl", 0.1, 20),
    "path_sum_view": lambda: _path_sum_view("product"),
    "pass_step_figure": lambda: bp.pass_step_figure(examples.two_relu_network(), examples.TWO_RELU["x"],
                                                     examples.TWO_RELU["d"], 5),
}


def texts(fig):
    """Every piece of text drawn on the figure, tick labels included (those of ticks inside the view), after a draw."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tick.label1), id(tick.label2)}
                if tick.get_loc() is not None and lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                    drawn += [t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text().strip()]
    others = [t for t in fig.findobj(Text) if id(t) not in ticks and t.get_visible() and t.get_text().strip()]
    return others + drawn


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_a_course_figure_readable_and_said_in_its_alt_text(name):
    """Each figure drawn once and rendered once (the render ``png`` quantises): one dpi, at most 1,000 px wide, a
    palette PNG that keeps every colour, no text under the smallest font or off the figure, and alt text that
    says, in plain words, every title and axis label."""
    fig = FIGURES[name]()
    assert isinstance(fig, CourseFigure), f"{name} made a {type(fig).__name__}"
    assert fig.dpi == DPI
    assert fig.get_size_inches()[0] <= MAX_WIDTH + 1e-9
    full = style._render(fig)
    image = Image.open(io.BytesIO(style._palette_png(full)))
    assert image.width <= 1000, f"{name} is {image.width} px wide"
    assert image.mode == "P", "stored as a palette PNG"
    kept = np.asarray(image.convert("RGB"), dtype=int)
    full = np.asarray(full, dtype=int)
    assert kept.shape == full.shape
    assert np.abs(kept - full).sum(axis=-1).max() <= 60, "the palette lost a colour (a marker, a star)"
    shown = texts(fig)
    small = [(t.get_text(), t.get_fontsize()) for t in shown if t.get_fontsize() < MIN_FONT - 1e-9]
    assert small == [], f"{name}: text under {MIN_FONT} pt"
    page = fig.bbox.padded(1)  # display pixels
    cut = [t.get_text() for t in shown if not page.contains(*t.get_window_extent().min)
           or not page.contains(*t.get_window_extent().max)]
    assert cut == [], f"{name}: text runs off the figure"
    alt = alt_text(fig)
    assert alt.startswith("Figure") and alt.endswith(".") and len(alt) > 30, alt
    assert "$" not in alt and "\\" not in alt, f"{name}: maths left as LaTeX in {alt!r}"
    for ax in fig.axes:  # every title and axis label is in it, as plain text
        for words in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
            words = style._plain_math(words)
            assert words in alt, f"{name}: {words!r} missing from {alt!r}"


def test_an_alt_text_names_the_kind_of_each_panel_and_what_is_written_on_it():
    fig = new_figure(8, 3)
    plot, heat, diagram = fig.subplots(1, 3)
    plot.semilogy([1, 2], [1, 10], label="$\\eta = 0.1$")
    plot.set(xlabel="step", ylabel="loss", title="descent")
    plot.legend()
    heat.imshow(np.eye(2))
    for i, v in enumerate(["1.0", "0.0", "0.0", "1.0"]):
        heat.text(i % 2, i // 2, v)
    diagram.axis("off")
    diagram.text(0, 0, "$\\dot{z}^{(1)}_1$")
    diagram.text(1, 0, "$\\partial y / \\partial z$")
    fig.suptitle("three panels")
    assert alt_text(fig) == ("Figure: three panels. 3 panels: 1: a plot of loss (log scale) against step, 'descent'; "
                             "legend: η = 0.1 | 2: a 2 x 2 heatmap; values 1.0, 0.0, 0.0, 1.0 | 3: a diagram; "
                             "labelled ż^(1)_1, ∂y / ∂z.")  # the overdot and z as one letter
    fig.alt = "The identity, drawn three ways."  # a figure's own words win
    assert alt_text(fig) == "The identity, drawn three ways."
    assert_explained(lambda: alt_text("fig"), TypeError, ["'fig'", "Figure"])


def test_the_notebook_is_given_the_palette_png():
    fig = bp.compare_learning_rates("quadratic_1d", [0.1, 0.4], 10)
    bundle, metadata = fig._repr_mimebundle_()
    assert bundle["image/png"] == png(fig) and bundle["text/plain"].startswith("<CourseFigure size")
    assert metadata == {"image/png": {"alt": style.alt_text(fig)}}  # stored beside the PNG, never compared by nbval
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    assert len(bundle["image/png"]) < 0.6 * len(full.getvalue())  # the point of the palette
    image = Image.open(io.BytesIO(bundle["image/png"]))
    assert len(image.getcolors()) <= style.PALETTE


def test_png_keeps_what_is_drawn():
    fig = new_figure(4, 2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#c0392b", lw=3)
    image = Image.open(io.BytesIO(png(fig))).convert("RGB")
    colours = {c for _, c in image.getcolors(maxcolors=10**6)}
    assert any(r > 150 and g < 100 and b < 100 for r, g, b in colours)  # the red line survived quantising
    assert (255, 255, 255) in colours


def test_new_figure_caps_the_width_and_keeps_the_aspect():
    fig = new_figure(20, 5)
    assert isinstance(fig, CourseFigure) and isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == (MAX_WIDTH, 2.5) and fig.dpi == DPI
    assert tuple(new_figure(6, 3).get_size_inches()) == (6, 3)
    assert new_figure(6, 3, layout="constrained").get_layout_engine() is not None


def test_the_sizes_are_the_courses():
    assert DPI * MAX_WIDTH == 1000 and MIN_FONT == 9


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: new_figure("wide", 3), TypeError, ["'width'"]),
    (lambda: new_figure(0, 3), ValueError, ["'width'", "> 0"]),
    (lambda: new_figure(4, -1), ValueError, ["'height'", "> 0"]),
    (lambda: png("fig"), TypeError, ["'fig'", "Figure"]),
], ids=["width text", "width zero", "height negative", "png of a string"])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_matplotlib_inline_does_not_replace_the_course_png():
    """IPython's inline backend registers a PNG formatter for every Figure; a CourseFigure keeps its own."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    try:
        fig = new_figure(4, 2)  # made before the inline backend's formatter, as in a notebook's later cell
        select_figure_formats(shell, {"png"})  # what `%matplotlib inline` does to the display formatter
        assert shell.display_formatter.formatters["image/png"].lookup_by_type(Figure) is not png
        fig.add_subplot().plot([0, 1], [1, 0])
        bundle, _ = shell.display_formatter.format(fig)
        assert bundle["image/png"] == png(fig) and Image.open(io.BytesIO(bundle["image/png"])).mode == "P"
    finally:
        InteractiveShell.clear_instance()
