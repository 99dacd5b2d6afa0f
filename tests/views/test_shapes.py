"""Tests backprop.views.shapes: notebook 05's tables (generated from the objects), the speed-up figure (the
explorer's pure callback, over every slider value) and the explorer itself, headless."""

import numpy as np
import pytest

import backprop as bp
from backprop.views.shapes import PRODUCTS, product_shapes
from backprop.views.style import CourseFigure, DPI, MAX_WIDTH
from strategies import settle, assert_explained

EX = bp.examples.VECTOR_231
MEASURED = {"source": "test", "rows": [
    {"batch_size": 1, "loop_seconds_per_instance": 2e-3, "matrix_seconds_per_instance": 1e-4},
    {"batch_size": 8, "loop_seconds_per_instance": 2e-3, "matrix_seconds_per_instance": 1e-5},
    {"batch_size": 64, "loop_seconds_per_instance": 2e-3, "matrix_seconds_per_instance": 2e-6},
]}


def test_the_shape_table_lists_every_quantity_with_both_shapes():
    net = bp.vector_231_network()
    table = bp.shape_table(net, np.zeros((4, 2)), np.zeros((4, 1)))
    lines = {line.split()[0]: line for line in table.splitlines()[2:-1]}
    assert "3 x 2" in lines["W(1)"] and "2 x 3" in lines["dDiv/dW(1)"] and "3 x 2" in lines["dDiv/dW(1)"].split("2 x 3")[1]
    assert "4 x 3" in lines["z(1)"] and "(not formed)" in lines["dy(1)/dz(1)"]
    assert table.splitlines()[-1].endswith("transposed: True")
    assert "code (B = 4)" in table.splitlines()[0]


def test_the_index_table_puts_w_ij_at_W_j_i():
    W = np.array(EX["W"][0])
    rows = bp.index_table(W, 1).splitlines()[2:]
    assert len(rows) == W.size
    for line in rows:
        name, value = line.split()[0], float(line.split()[-1])
        i, j = int(name[-2]), int(name[-1])  # w(1)_ij
        assert f"W(1)[{j - 1}, {i - 1}]" in line and value == W[j - 1, i - 1]
    assert_explained(lambda: bp.index_table(np.zeros(3), 1), ValueError, ["'W'", "matrix"])


def test_the_notation_table_shows_both_forms_and_that_they_are_transposes():
    text = bp.notation_table(bp.vector_231_network(), EX["x"], EX["d"])
    assert "dDiv/dz(1) = (0, 4, -2)" in text and "delta(1) = (0, 4, -2)^T" in text
    assert "2 x 3" in text and "3 x 2" in text
    assert text.splitlines()[-1].endswith("lecture's: True")


@pytest.mark.parametrize("batch_size", [1, 8, 64])
def test_the_speedup_figure_marks_each_batch_size_and_names_its_ratio(batch_size):
    fig = bp.speedup_figure(MEASURED, batch_size)
    assert isinstance(fig, CourseFigure)
    title = fig.axes[0].get_title()
    row = next(r for r in MEASURED["rows"] if r["batch_size"] == batch_size)
    ratio = row["loop_seconds_per_instance"] / row["matrix_seconds_per_instance"]
    assert title.startswith(f"B = {batch_size}:") and f"{ratio:,.0f}x faster" in title
    assert fig.get_size_inches()[0] * fig.dpi <= MAX_WIDTH * DPI


def test_the_speedup_figure_reads_the_stored_sweep():
    sweep = bp.stored_speedup()
    for row in sweep["rows"]:
        assert bp.speedup_figure(sweep, row["batch_size"]).axes[0].get_title().startswith(f"B = {row['batch_size']}:")


def test_bad_measurements_and_batch_sizes_are_named():
    assert_explained(lambda: bp.speedup_figure(MEASURED, 3), ValueError, ["'batch_size'", "[1, 8, 64]", "3"])
    assert_explained(lambda: bp.speedup_figure({"rows": [{"batch_size": 1}]}, 1), ValueError, ["'measurements'"])


@pytest.mark.parametrize("product", list(PRODUCTS))
@pytest.mark.parametrize("widths, batch_size", [((2, 3, 1), 4), ((1, 1, 1), 1), ((5, 2, 6), 3), ((4, 4, 4), 6)])
def test_every_product_has_matching_inner_sizes_and_the_result_of_the_outer_ones(product, widths, batch_size):
    (_, left), (_, right), (_, result) = product_shapes(widths, batch_size, product)
    assert left[1] == right[0] and result == (left[0], right[1])
    fig = bp.product_figure(widths, batch_size, product)
    assert fig.texts[0].get_text().startswith(product) and f"the result is {result[0]} x {result[1]}" in fig.texts[0].get_text()
    assert fig.get_size_inches()[0] <= MAX_WIDTH


def test_the_products_read_their_shapes_from_the_network():
    shapes = dict(product_shapes((2, 3, 1), 4, "backward: gradient of W(1) = dLoss/dZ(1)^T X"))
    assert shapes == {"dDiv/dz(1)^T": (3, 4), "x = y(0)": (4, 2), "dDiv/dW(1)": (3, 2)}
    assert_explained(lambda: product_shapes((2, 3), 4, next(iter(PRODUCTS))), ValueError, ["'widths'"])
    assert_explained(lambda: product_shapes((2, 3, 1), 0, next(iter(PRODUCTS))), ValueError, ["'batch_size'"])
    assert_explained(lambda: product_shapes((2, 3, 1), 2, "Z = W X"), ValueError, ["'product'"])


def test_the_product_explorer_redraws_for_every_control_and_reads_well_unrun():
    ui = bp.product_explorer(widths=(2, 3, 1), batch_size=4)
    controls, image = ui.children
    pick, *sliders = controls.children
    assert [s.description for s in sliders] == ["width_0", "width_1", "width_2", "batch B"]
    before = bytes(image.value)
    pick.value = "backward: gradient of W(1) = dLoss/dZ(1)^T X"  # its factors hold width_0, width_1 and B
    settle(ui)
    assert bytes(image.value) != before
    for slider, used in zip(sliders, (True, True, False, True)):
        before = bytes(image.value)
        slider.value = 6
        settle(ui)
        assert (bytes(image.value) != before) == used, slider.description
    assert "run this cell" in ui._repr_mimebundle_()["text/plain"].lower()
