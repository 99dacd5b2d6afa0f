"""Notebook 01's path-sum explorer (views/paths.py): its pure callback at many points, the widget headless, its
sliders on the points the text asks about."""

import math

import pytest
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import backprop as bp
from backprop.views.paths import path_sum_explorer, path_sum_view
from backprop.views.tables import path_sum_table_html
from strategies import assert_explained, influence_example, influence_examples, settle

PNG = b"\x89PNG\r\n\x1a\n"
x, y, u, v, w, z = sp.symbols("x y u v w z")


@pytest.mark.parametrize("name", influence_examples())
def test_path_sum_view_draws_the_point(name):
    diagram, target, at = influence_example(name)
    for value in (-1.5, 0.25, 2.0):
        point = {s: value for s in diagram.inputs}
        fig, table = path_sum_view(diagram, diagram.inputs[0], target, point)
        assert table == path_sum_table_html(diagram, diagram.inputs[0], target, point)
        (ax,) = fig.axes
        assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == len(diagram.edges)
        shown = [t.get_text() for t in ax.texts]
        assert shown[0] == "at " + ", ".join(f"{s} = {value:.4g}" for s in diagram.inputs)  # as the sliders
        for s_, t_ in diagram.edges:  # every arrow is labelled with its local derivative's value here
            assert any(t.endswith(f" = {diagram.evaluate(diagram.weight(s_, t_), point):.2f}") for t in shown)
        for n in diagram.nodes:  # every variable with its value
            assert any(t.endswith(f"\n{diagram.evaluate(n, point):.2f}") for t in shown)


def test_path_sum_view_when_there_is_no_path():
    diagram = bp.influence_diagram({u: x**2, v: y + 1, z: u * v})
    fig, table = path_sum_view(diagram, x, v, {x: 1.0, y: 2.0})  # x does not influence v
    assert "no path" in table and isinstance(fig, Figure)


def test_path_sum_view_values_are_the_path_products():
    diagram, target, at = influence_example("product")
    _, table = path_sum_view(diagram, x, target, at)
    assert f"{3 * math.cos(1.0):.4f}" in table and f"{-math.sin(1.0):.4f}" in table  # 3 x^2 cos x, -x^3 sin x


def explorer():
    named = {name: influence_example(name) for name in ("product", "two inputs")}
    named["log"] = (bp.influence_diagram({u: sp.log(x), z: u * x}), z, {x: 1.0})
    return path_sum_explorer(named), named


def parts(box):
    controls, image, table = box.children  # the controls above the figure, the table below it
    pick, source, sliders = controls.children
    return pick, source, sliders, image, table


def test_explorer_follows_the_sliders():
    box, named = explorer()
    pick, source, sliders, image, table = parts(box)
    assert list(pick.options) == list(named) and pick.value == "product"
    assert [s.description for s in sliders.children] == ["x"]
    assert image.value[:8] == PNG
    diagram, target, _ = named["product"]
    assert table.value == path_sum_view(diagram, x, target, {x: 1.0})[1]
    seen = {bytes(image.value)}
    for value in (-2.0, -0.35, 0.0, 1.6):
        sliders.children[0].value = value
        settle(box)
        assert table.value == path_sum_view(diagram, x, target, {x: value})[1]
        assert bytes(image.value) not in seen  # the drawing follows the slider too
        seen.add(bytes(image.value))
    source.value = u
    settle(box)
    assert table.value == path_sum_view(diagram, u, target, {x: 1.6})[1]


def test_explorer_switches_example_and_source():
    box, named = explorer()
    pick, source, sliders, image, table = parts(box)
    before = bytes(image.value)
    pick.value = "two inputs"
    settle(box)
    assert bytes(image.value) != before
    diagram, target, at = named["two inputs"]
    assert [s.description for s in sliders.children] == ["x", "y"]
    assert [label for label, _ in source.options] == ["x", "y", "u"]
    sliders.children[1].value = 0.75
    settle(box)
    assert table.value == path_sum_view(diagram, x, target, {x: at[x], y: 0.75})[1]
    source.value = y
    settle(box)
    assert table.value == path_sum_view(diagram, y, target, {x: at[x], y: 0.75})[1]


def test_explorer_explains_an_undefined_point():
    box, _ = explorer()
    pick, source, sliders, image, table = parts(box)
    pick.value = "log"
    settle(box)
    before = image.value
    sliders.children[0].value = -1.0  # log of a negative number
    settle(box)
    assert "not a finite real number" in table.value
    assert image.value == before  # the last good drawing stays


@pytest.mark.parametrize("named, error, words", [
    ({}, TypeError, ["'examples'", "a non-empty dict name -> (diagram, target, at)"]),
    ({"a": (bp.influence_diagram({z: x}), z)}, TypeError, ["'examples['a']'", "(diagram, target, at)"]),
    ({"a": (bp.influence_diagram({z: x * y}), z, {x: 1.0})}, ValueError, ["'at'", "missing"]),
    ({"a": (bp.influence_diagram({u: x, z: sp.Integer(3)}), z, {x: 1.0})}, ValueError,
     ["'examples['a']'", "depends on an input"]),
    ({"a": (bp.influence_diagram({u: x}), x, {x: 1.0})}, ValueError, ["'target'", "input"]),
    ({"a": (bp.InfluenceDiagram().add_edge(x, z, 2 * x), z, {x: 1.0})}, ValueError, ["'diagram'", "hand-built"]),
])
def test_bad_explorer_examples(named, error, words):
    assert_explained(lambda: path_sum_explorer(named), error, words)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(value_range=(1.0, -1.0)), ValueError, ["'value_range'", "low < high", "got (1.0, -1.0)"]),
    (dict(value_range=(0.0, "1")), TypeError, ["'value_range'", "expected a real number"]),
    (dict(step="fine"), TypeError, ["'step'", "expected a real number"]),
])
def test_bad_explorer_settings(kwargs, error, words):
    assert_explained(lambda: path_sum_explorer({"a": influence_example("chain")}, **kwargs), error, words)


def test_path_sum_view_refuses_a_stranger():
    diagram, target, at = influence_example("product")
    assert_explained(lambda: path_sum_view(diagram, y, z, at), ValueError, ["'source'", "diagram", "got y"])


def test_path_sum_sliders_hold_the_marked_points():
    diagram, target, at = influence_example("product")
    box = path_sum_explorer({"product": (diagram, target, at)}, marks={"product": {x: [1.1925]}})
    _, _, sliders, _, table = parts(box)
    slider = sliders.children[0]
    assert 1.1925 in [v for _, v in slider.options]
    slider.value = 1.1925
    settle(box)
    assert table.value == path_sum_view(diagram, x, target, {x: 1.1925})[1]


@pytest.mark.parametrize("marks, error, words", [
    ({"nope": {x: [1.0]}}, ValueError, ["'marks'", "example name"]),
    ({"product": {y: [1.0]}}, ValueError, ["'marks['product']'", "input", "['x']"]),
    ({"product": {x: 1.0}}, TypeError, ["'marks['product']'", "list of values"]),
    ({"product": {x: ["one"]}}, TypeError, ["'marks['product']'", "real number"]),
], ids=["unknown example", "not an input", "a bare number", "a word"])
def test_bad_marks_are_explained(marks, error, words):
    assert_explained(lambda: path_sum_explorer({"product": influence_example("product")}, marks=marks), error, words)
