"""Notebook 01: influence diagrams and the distributed chain rule."""

import io
import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from backprop.gradcheck import relative_error
from backprop.influence import InfluenceDiagram, PathContribution, influence_diagram

pytestmark = pytest.mark.nb01

x, y, u, v, w, a, b, c, z, u1, u2, v1, v2, t = sp.symbols("x y u v w a b c z u1 u2 v1 v2 t")

# Each case: definitions, the input and outcome, the composed expression written
# out by hand (an independent witness), the number of paths, and a safe domain.
CASES = {
    "product of two branches": (
        {u: x**2, v: sp.sin(x), z: u * v}, x, z, x**2 * sp.sin(x), 2, (-3.0, 3.0)),
    "diamond with two inputs": (
        {a: x * y, b: x + y, c: a * b}, y, c, (x * y) * (x + y), 2, (-3.0, 3.0)),
    "three levels, four paths": (
        {u1: x**2, u2: sp.cos(x), v1: u1 * u2, v2: u1 + u2**2, z: v1 * v2}, x, z,
        (x**2 * sp.cos(x)) * (x**2 + sp.cos(x) ** 2), 4, (-2.0, 2.0)),
    "exp, log, tanh and a skip arrow": (
        {u: sp.exp(x), v: sp.log(u + x**2), w: sp.tanh(v * x), z: w + u}, x, z,
        sp.tanh(sp.log(sp.exp(x) + x**2) * x) + sp.exp(x), 4, (-2.0, 2.0)),
    "a chain, one path": (
        {u: sp.exp(x), v: 1 + u, z: sp.log(v)}, x, z, sp.log(1 + sp.exp(x)), 1, (-5.0, 5.0)),
    "direct and indirect influence": (
        {u: x * y, z: x * u + y}, x, z, x * (x * y) + y, 2, (-3.0, 3.0)),
    "sigmoid neuron with a squared divergence": (
        {a: w * x + b, y: 1 / (1 + sp.exp(-a)), z: (y - t) ** 2}, w, z,
        (1 / (1 + sp.exp(-(w * x + b))) - t) ** 2, 1, (-2.0, 2.0)),
}
POINT = {x: 0.7, y: -1.3, w: 0.4, b: -0.2, t: 0.9}


@pytest.mark.parametrize("case", CASES)
def test_path_sum_equals_sympy_diff_exactly(case):
    definitions, source, target, composed, n_paths, _ = CASES[case]
    diagram = influence_diagram(definitions)
    assert len(diagram.paths(source, target)) == n_paths
    path_sum = diagram.total_derivative(source, target, in_inputs=True)
    assert path_sum.free_symbols <= set(diagram.inputs)
    assert sp.simplify(path_sum - sp.diff(composed, source)) == 0
    assert sp.simplify(diagram.expression(target) - composed) == 0


@pytest.mark.parametrize("case", CASES)
def test_total_derivative_with_respect_to_every_input(case):
    definitions, _, target, composed, _, _ = CASES[case]
    diagram = influence_diagram(definitions)
    for source in diagram.inputs:
        assert sp.simplify(diagram.total_derivative(source, target, in_inputs=True) - sp.diff(composed, source)) == 0


@pytest.mark.parametrize("case", CASES)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_path_sum_matches_central_difference(case, data):
    definitions, source, target, composed, _, (low, high) = CASES[case]
    diagram = influence_diagram(definitions)
    at = {s: POINT[s] for s in diagram.inputs}
    at[source] = data.draw(st.floats(low, high), label=str(source))
    f = sp.lambdify([source], composed.xreplace({s: val for s, val in at.items() if s != source}), "math")
    h = 1e-5 * max(1.0, abs(at[source]))
    numeric = (f(at[source] + h) - f(at[source] - h)) / (2 * h)
    analytic = diagram.evaluate(diagram.total_derivative(source, target), at)
    assert relative_error(analytic, numeric) <= 1e-7 or abs(analytic - numeric) <= 1e-9, (at, analytic, numeric)


def test_worked_example_edges_and_paths():
    diagram = influence_diagram({u: x**2, v: sp.sin(x), z: u * v})
    assert diagram.nodes == (x, u, v, z)
    assert diagram.edges == ((x, u), (x, v), (u, z), (v, z))
    assert diagram.weight(x, u) == 2 * x and diagram.weight(u, z) == v and diagram.weight(v, z) == u
    assert diagram.paths(x, z) == [(x, u, z), (x, v, z)]
    assert diagram.path_product((x, u, z)) == 2 * x * v
    assert diagram.total_derivative(x, z) == 2 * x * v + u * sp.cos(x)


def test_path_contributions_add_up_to_the_total():
    diagram = influence_diagram(CASES["three levels, four paths"][0])
    rows = diagram.path_contributions(x, z, {x: 0.8})
    assert all(isinstance(r, PathContribution) for r in rows) and len(rows) == 4
    total = diagram.evaluate(diagram.total_derivative(x, z), {x: 0.8})
    assert math.fsum(r.value for r in rows) == pytest.approx(total, rel=1e-14)
    table = diagram.path_table(x, z, {x: 0.8})
    lines = table.splitlines()
    assert len(lines) == 2 + 4 + 1 and lines[2].startswith("x -> u1 -> v1 -> z")
    assert lines[-1].split()[-1] == f"{total:.4f}"


def test_evaluate_a_variable_and_an_expression():
    diagram = influence_diagram({u: x**2, v: sp.sin(x), z: u * v})
    assert diagram.evaluate(z, {x: 2.0}) == pytest.approx(4 * math.sin(2.0), rel=1e-15)
    assert diagram.evaluate(u + 1, {x: 3}) == 10.0


def test_self_and_no_path_conventions():
    diagram = influence_diagram({u: x**2, z: u + y})
    assert diagram.paths(x, x) == [(x,)] and diagram.total_derivative(x, x) == 1
    assert diagram.paths(y, u) == [] and diagram.total_derivative(y, u) == 0  # y does not influence u
    assert diagram.paths(z, x) == [] and diagram.total_derivative(z, x) == 0  # arrows only go forwards


def test_hand_built_diagram():
    diagram = InfluenceDiagram().add_edge(x, u, 2 * x).add_edge(x, v, sp.cos(x)).add_edge(u, z, v).add_edge(v, z, u)
    assert diagram.inputs == (x,)
    assert diagram.total_derivative(x, z) == 2 * x * v + u * sp.cos(x)
    assert diagram.evaluate(diagram.total_derivative(x, z), {x: 1.0, u: 1.0, v: math.sin(1.0)}) == pytest.approx(
        2 * math.sin(1.0) + math.cos(1.0), rel=1e-15)


def test_an_input_without_influence_has_no_arrow():
    diagram = influence_diagram({z: x + y - y})  # SymPy cancels y: it does not influence z
    assert diagram.edges == ((x, z),)


# --- bad input ----------------------------------------------------------------------

def test_cycle_is_rejected():
    with pytest.raises(ValueError, match="'definitions'.*cycle"):
        influence_diagram({u: v + x, v: u * 2})
    with pytest.raises(ValueError, match="'target'.*cycle"):
        InfluenceDiagram().add_edge(x, u, 1).add_edge(u, z, 1).add_edge(z, x, 1)


def test_unknown_symbol_is_rejected():
    with pytest.raises(ValueError, match="'definitions'.*unknown.*y"):
        influence_diagram({z: x * y}, inputs=[x])


@pytest.mark.parametrize("definitions, inputs, error, name", [
    ({"z": x**2}, None, TypeError, "definitions"),
    ({z: "x**2"}, None, TypeError, r"definitions\[z\]"),
    ({}, None, ValueError, "definitions"),
    ([(z, x)], None, TypeError, "definitions"),
    ({z: x}, ["x"], TypeError, "inputs"),
    ({z: x}, x, TypeError, "inputs"),
    ({z: x, x: y}, [x, y], ValueError, "inputs"),
])
def test_bad_definitions_and_inputs(definitions, inputs, error, name):
    with pytest.raises(error, match=f"'{name}'"):
        influence_diagram(definitions, inputs)


def test_variables_not_in_the_diagram_are_rejected():
    diagram = influence_diagram({u: x**2, z: u + 1})
    with pytest.raises(ValueError, match="'source'.*diagram"):
        diagram.paths(y, z)
    with pytest.raises(ValueError, match="'target'.*diagram"):
        diagram.total_derivative(x, y)
    with pytest.raises(TypeError, match="'source'.*Symbol"):
        diagram.paths("x", z)
    with pytest.raises(ValueError, match="no arrow"):
        diagram.path_product((x, z))
    with pytest.raises(TypeError, match="'path'"):
        diagram.path_product([x, u])


def test_bad_add_edge():
    diagram = InfluenceDiagram().add_edge(x, u, 2 * x)
    with pytest.raises(ValueError, match="already exists"):
        diagram.add_edge(x, u, 2)
    with pytest.raises(ValueError, match="different"):
        diagram.add_edge(u, u, 1)
    with pytest.raises(TypeError, match="'derivative'"):
        diagram.add_edge(u, z, "v")
    with pytest.raises(TypeError, match="'target'"):
        diagram.add_edge(u, 3, 1)


def test_bad_evaluation_points():
    diagram = influence_diagram({u: sp.log(x), z: u * y})
    with pytest.raises(ValueError, match="'at'.*missing.*y"):
        diagram.evaluate(z, {x: 2.0})
    with pytest.raises(ValueError, match=r"'at\[x\]'.*finite"):
        diagram.evaluate(z, {x: float("nan"), y: 1.0})
    with pytest.raises(ValueError, match="'at'.*u.*defined"):
        diagram.evaluate(z, {u: 1.0, y: 1.0})
    with pytest.raises(ValueError, match="'at'.*not a finite real"):
        diagram.evaluate(z, {x: -1.0, y: 1.0})  # log of a negative number
    with pytest.raises(TypeError, match="'at'"):
        diagram.evaluate(z, [1.0, 2.0])
    with pytest.raises(ValueError, match="'var'.*diagram"):
        diagram.expression(w)


# --- drawing ------------------------------------------------------------------------

@pytest.mark.parametrize("at", [None, {x: 0.5}])
def test_draw_has_one_arrow_and_one_label_per_edge(at):
    diagram = influence_diagram(CASES["exp, log, tanh and a skip arrow"][0])
    fig = diagram.draw(at=at)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(diagram.edges) == 7
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == len(diagram.nodes) + len(diagram.edges)
    assert "$\\tanh{\\left(u v \\right)}$" not in texts  # weights are local derivatives, not definitions
    assert any("\\tanh" in t for t in texts)
    if at is not None:
        assert f"$e^{{x}}$ = {math.exp(0.5):.2f}" in texts  # the arrow x -> u, valued at x = 0.5
        fig.savefig(io.BytesIO(), format="png")  # every mathtext label renders


def test_draw_on_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert influence_diagram({z: sp.sin(x) * y}).draw(ax=ax, title="dz") is fig
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == 2
