"""Notebook 01's explorations: first-order errors, path sums with three witnesses, the explorer widget."""

import itertools
import math
import re

import numpy as np
import pytest
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from backprop.explore import (
    PathSumCheck, check_path_sum, first_order_errors, loglog_slope, numerical_total_derivative,
    path_sum_explorer, path_sum_table_html, path_sum_view, plot_first_order_errors,
)
from backprop.influence import InfluenceDiagram, influence_diagram

pytestmark = pytest.mark.nb01

x, y, u, v, w, z = sp.symbols("x y u v w z")
STEPS = np.logspace(-4, -1, 7)

# name: (definitions, outcome, a point); every source with a path to the outcome is checked
DIAGRAMS = {
    "chain": ({u: x**2, z: sp.sin(u)}, z, {x: 0.7}),
    "product": ({u: x**3, v: sp.cos(x), z: u * v}, z, {x: 1.0}),
    "two inputs": ({u: x * y, z: x * u + y}, z, {x: 0.5, y: -1.3}),
    "skip arrow": ({u: sp.tanh(w * x), v: u + w * x, z: (v - y) ** 2}, z, {x: 0.8, w: -0.6, y: 0.3}),
}


def diagram_of(name):
    definitions, target, at = DIAGRAMS[name]
    return influence_diagram(definitions), target, at


def sources(diagram, target):
    return [n for n in diagram.nodes if n != target and diagram.paths(n, target)]


# -- first-order errors ------------------------------------------------------------

def test_first_order_error_of_a_cubic_is_exactly_3dx2_plus_dx3():
    err = first_order_errors(lambda t: t**3, lambda t: 3 * t**2, 1.0, 1.0, STEPS)
    assert err.shape == STEPS.shape
    np.testing.assert_allclose(err, 3 * STEPS**2 + STEPS**3, rtol=1e-6)


def test_first_order_error_with_several_inputs_is_the_quadratic_term():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    d = np.array([0.3, -0.2])
    err = first_order_errors(lambda p: p @ A @ p / 2, lambda p: A @ p, [1.0, 0.5], d, STEPS)
    np.testing.assert_allclose(err, STEPS**2 * (d @ A @ d) / 2, rtol=1e-6)


@pytest.mark.parametrize("f, df, at, order", [
    (np.sin, np.cos, 1.0, 2), (np.exp, np.exp, 0.0, 2), (np.tanh, lambda t: 1 - np.tanh(t) ** 2, 0.5, 2),
    (np.sin, np.cos, 0.0, 3),  # an inflection point: f'' = 0, so the error is third order
])
def test_the_error_shrinks_like_dx_squared(f, df, at, order):
    assert loglog_slope(STEPS, first_order_errors(f, df, at, 1.0, STEPS)) == pytest.approx(order, abs=0.02)


def test_loglog_slope_of_a_power_law():
    assert loglog_slope(STEPS, 5 * STEPS**2.5) == pytest.approx(2.5, rel=1e-12)


def test_plot_first_order_errors():
    curves = {"sin at 1": first_order_errors(np.sin, np.cos, 1.0, 1.0, STEPS), "x^2": STEPS**2}
    fig = plot_first_order_errors(STEPS, curves)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 3 and ax.get_xscale() == ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["sin at 1: slope 2.00", "x^2: slope 2.00", "reference: slope 2"]
    ref = ax.lines[-1].get_ydata()
    assert loglog_slope(STEPS, ref) == pytest.approx(2.0, rel=1e-12)
    assert all((ref < c).all() for c in curves.values())  # below every curve, hiding none


@pytest.mark.parametrize("args, error, words", [
    ((1.0, np.cos, 1.0, 1.0, STEPS), TypeError, ["'f'", "function"]),
    ((np.sin, np.cos, [1.0, 2.0], 1.0, STEPS), ValueError, ["'direction'", "(2,)"]),
    ((np.sin, np.cos, 1.0, 1.0, [0.1, 0.0]), ValueError, ["'steps'", "positive"]),
    ((np.sin, np.cos, [[1.0]], [[1.0]], STEPS), ValueError, ["'x'", "(M,)"]),
    ((np.sin, lambda p: np.ones(3), [1.0, 2.0], [1.0, 1.0], STEPS), ValueError, ["'grad'", "(3,)"]),
])
def test_bad_first_order_arguments(args, error, words):
    with pytest.raises(error) as info:
        first_order_errors(*args)
    assert all(word in str(info.value) for word in words)


def test_bad_slope_and_plot_arguments():
    with pytest.raises(ValueError, match="'errors'.*one error per step"):
        loglog_slope(STEPS, STEPS[:3])
    with pytest.raises(ValueError, match="positive"):
        loglog_slope(STEPS, np.zeros_like(STEPS))
    with pytest.raises(TypeError, match="'errors'"):
        plot_first_order_errors(STEPS, STEPS)


# -- path sums: three witnesses ------------------------------------------------------

@pytest.mark.parametrize("name", DIAGRAMS)
def test_check_path_sum_for_every_source(name):
    diagram, target, at = diagram_of(name)
    for source in sources(diagram, target):
        check = check_path_sum(diagram, source, target, at)
        assert isinstance(check, PathSumCheck)
        assert check.exact and check.ok, check.summary()
        assert sp.simplify(check.path_sum - check.sympy_diff) == 0
        assert math.fsum(c.value for c in check.contributions) == pytest.approx(check.value, rel=1e-14)
        assert check.relative_error <= 1e-9
        assert "-> ok" in check.summary()


def test_check_path_sum_against_a_derivative_worked_by_hand():
    diagram, target, at = diagram_of("product")  # z = x^3 cos x
    check = check_path_sum(diagram, x, z, at)
    assert sp.simplify(check.sympy_diff - (3 * x**2 * sp.cos(x) - x**3 * sp.sin(x))) == 0
    assert check.value == pytest.approx(3 * math.cos(1.0) - math.sin(1.0), rel=1e-15)
    assert [c.path for c in check.contributions] == [(x, u, z), (x, v, z)]
    # from the intermediate u, holding x fixed: z = u cos(x), so dz/du = cos(x)
    assert check_path_sum(diagram, u, z, at).value == pytest.approx(math.cos(1.0), rel=1e-15)


def test_a_wrong_diagram_fails_every_witness():
    diagram, target, at = diagram_of("product")
    diagram.add_edge(x, z, 1)  # an arrow that the definitions do not justify
    check = check_path_sum(diagram, x, z, at)
    assert not check.exact and not check.ok
    assert check.value - check.numeric == pytest.approx(1.0, abs=1e-9)
    assert "FAIL" in check.summary() and "!=" in check.summary()


@pytest.mark.parametrize("name", DIAGRAMS)
def test_numerical_total_derivative_matches_sympy(name):
    diagram, target, at = diagram_of(name)
    for source in diagram.inputs:
        exact = diagram.evaluate(sp.diff(diagram.expression(target), source), at)
        assert numerical_total_derivative(diagram, source, target, at) == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_bad_path_sum_arguments():
    diagram, target, at = diagram_of("product")
    hand_built = InfluenceDiagram().add_edge(x, z, 2 * x)
    with pytest.raises(ValueError, match="'diagram'.*hand-built"):
        check_path_sum(hand_built, x, z, {x: 1.0})
    with pytest.raises(TypeError, match="'diagram'.*InfluenceDiagram"):
        check_path_sum({u: x}, x, u, {x: 1.0})
    with pytest.raises(ValueError, match="'target'.*input"):
        check_path_sum(diagram, u, x, at)
    with pytest.raises(ValueError, match="'source'.*diagram"):
        path_sum_view(diagram, y, z, at)
    with pytest.raises(ValueError, match="'at'.*missing"):
        numerical_total_derivative(diagram, x, z, {})


# -- the explorer: its pure callback over a grid of slider values, then the widget headless ----

def numbers_in(table):
    return [float(s) for s in re.findall(r">(-?\d+\.\d{4})<", table)]


@pytest.mark.parametrize("name", DIAGRAMS)
def test_path_sum_table_over_a_grid_of_slider_values(name):
    diagram, target, at = diagram_of(name)
    grid = [-1.5, -0.4, 0.25, 2.0]
    for values in itertools.product(grid, repeat=len(diagram.inputs)):
        point = dict(zip(diagram.inputs, values))
        for source in sources(diagram, target):
            table = path_sum_table_html(diagram, source, target, point)
            contributions = diagram.path_contributions(source, target, point)
            *paths, total, numeric = numbers_in(table)
            assert paths == [float(f"{c.value:.4f}") for c in contributions]
            exact = diagram.evaluate(sp.diff(diagram.expression(target), source), point) \
                if source in diagram.inputs else math.fsum(c.value for c in contributions)
            assert total == pytest.approx(exact, abs=6e-5) and numeric == pytest.approx(exact, abs=6e-5)
            assert table.count("→") == sum(len(c.path) - 1 for c in contributions)


@pytest.mark.parametrize("name", DIAGRAMS)
def test_path_sum_view_draws_the_point(name):
    diagram, target, at = diagram_of(name)
    for value in (-1.5, 2.0):
        point = {s: value for s in diagram.inputs}
        fig, table = path_sum_view(diagram, diagram.inputs[0], target, point)
        assert table == path_sum_table_html(diagram, diagram.inputs[0], target, point)
        (ax,) = fig.axes
        assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == len(diagram.edges)
        texts = [t.get_text() for t in ax.texts]
        assert texts[0] == "at " + ", ".join(f"{s} = {value:.2f}" for s in diagram.inputs)
        for s_, t_ in diagram.edges:  # every arrow is labelled with its local derivative's value here
            assert any(t.endswith(f" = {diagram.evaluate(diagram.weight(s_, t_), point):.2f}") for t in texts)


def test_path_sum_view_when_there_is_no_path():
    diagram = influence_diagram({u: x**2, v: y + 1, z: u * v})
    _, table = path_sum_view(diagram, x, v, {x: 1.0, y: 2.0})  # x does not influence v
    assert "no path" in table and numbers_in(table) == [0.0, 0.0]


def explorer():
    examples = {name: diagram_of(name) for name in ("product", "two inputs")}
    examples["log"] = (influence_diagram({u: sp.log(x), z: u * x}), z, {x: 1.0})
    return path_sum_explorer(examples), examples


def parts(box):
    (controls, results) = box.children
    pick, source, sliders = controls.children
    image, table = results.children
    return pick, source, sliders, image, table


def test_explorer_follows_the_sliders():
    box, examples = explorer()
    pick, source, sliders, image, table = parts(box)
    assert list(pick.options) == list(examples) and pick.value == "product"
    assert [s.description for s in sliders.children] == ["x"]
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    diagram, target, _ = examples["product"]
    assert table.value == path_sum_view(diagram, x, target, {x: 1.0})[1]
    for value in (-2.0, -0.35, 0.0, 1.6):
        sliders.children[0].value = value
        assert table.value == path_sum_view(diagram, x, target, {x: value})[1]
    source.value = u
    assert table.value == path_sum_view(diagram, u, target, {x: 1.6})[1]


def test_explorer_switches_example_and_source():
    box, examples = explorer()
    pick, source, sliders, image, table = parts(box)
    pick.value = "two inputs"
    diagram, target, at = examples["two inputs"]
    assert [s.description for s in sliders.children] == ["x", "y"]
    assert [label for label, _ in source.options] == ["x", "y", "u"]
    sliders.children[1].value = 0.75
    assert table.value == path_sum_view(diagram, x, target, {x: at[x], y: 0.75})[1]
    source.value = y
    assert table.value == path_sum_view(diagram, y, target, {x: at[x], y: 0.75})[1]


def test_explorer_explains_an_undefined_point():
    box, _ = explorer()
    pick, source, sliders, image, table = parts(box)
    pick.value = "log"
    before = image.value
    sliders.children[0].value = -1.0  # log of a negative number
    assert "not a finite real number" in table.value
    assert image.value == before  # the last good drawing stays


@pytest.mark.parametrize("examples, error, words", [
    ({}, TypeError, ["'examples'"]),
    ({"a": (influence_diagram({z: x}), z)}, TypeError, ["'examples['a']'", "(diagram, target, at)"]),
    ({"a": (influence_diagram({z: x * y}), z, {x: 1.0})}, ValueError, ["'at'", "missing"]),
    ({"a": (influence_diagram({u: x, z: sp.Integer(3)}), z, {x: 1.0})}, ValueError,
     ["'examples['a']'", "depends on an input"]),
    ({"a": (influence_diagram({u: x}), x, {x: 1.0})}, ValueError, ["'target'", "input"]),
])
def test_bad_explorer_examples(examples, error, words):
    with pytest.raises(error) as info:
        path_sum_explorer(examples)
    assert all(word in str(info.value) for word in words)


def test_bad_explorer_range():
    with pytest.raises(ValueError, match="'value_range'"):
        path_sum_explorer({"a": diagram_of("chain")}, value_range=(1.0, -1.0))
