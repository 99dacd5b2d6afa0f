"""Passes, traces and path sums written out number by number (views/tables.py)."""

import itertools
import math
import re

import numpy as np
import pytest
import sympy as sp

import backprop as bp
from backprop.views.tables import (PassStep, backward_table, forward_table, pass_steps, path_sum_table_html,
                                   path_table, trace_table, weight_gradient_table)
from strategies import assert_explained, influence_example, influence_examples

examples = bp.examples
TINY_X, TINY_D = np.array(examples.TINY["x"]), np.array(examples.TINY["d"])
RELU = examples.TWO_RELU


def forward_only():
    net = examples.two_relu_network()
    net.forward(RELU["x"])
    return net


# -- the scalar network's passes ------------------------------------------------------------------
def test_forward_table_of_the_worked_example():
    table = forward_table(examples.two_relu_network(ran=True), d=RELU["d"])
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "k", "unit", "j", "z(k)_j", "f_k", "y(k)_j"]
    assert lines[2].split() == ["0", "1", "input", "1.0000"]
    assert lines[3].split() == ["1", "1", "2.0000", "relu", "2.0000"]
    assert lines[4].split() == ["1", "2", "-1.0000", "relu", "0.0000"]
    assert lines[5].split() == ["2", "1", "2.0000", "identity", "2.0000"]
    assert lines[-1] == f"Div(Y, d) = {RELU['numbers']['Div']:.4f}   (squared_error)"
    numbers = RELU["numbers"]
    assert [float(line.split()[2]) for line in lines[3:5]] == numbers["z(1)"]
    assert [float(line.split()[4]) for line in lines[3:5]] == numbers["y(1)"]


def test_forward_table_without_a_target_has_no_divergence():
    lines = forward_table(examples.two_relu_network(ran=True)).splitlines()
    assert len(lines) == 2 + 1 + 2 + 1 and not any("Div" in line for line in lines)


def test_backward_table_of_the_worked_example():
    rows = [line.split() for line in backward_table(examples.two_relu_network(ran=True)).splitlines()[2:]]
    assert rows == [["2", "1", "-2.0000", "1.0000", "-2.0000"],
                    ["1", "1", "-2.0000", "1.0000", "-2.0000"],
                    ["1", "2", "-4.0000", "0.0000", "0.0000"]]
    assert [float(r[4]) for r in rows[1:]] == RELU["numbers"]["dDiv/dz(1)"]


def test_weight_gradient_table_of_the_worked_example():
    table = weight_gradient_table(examples.two_relu_network(ran=True))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert rows["w(2)_11"] == ["1.0000", "2.0000", "-2.0000", "-4.0000"]
    assert rows["w(2)_21"] == ["2.0000", "0.0000", "-2.0000", "0.0000"]
    assert rows["w(1)_11"] == ["2.0000", "1.0000", "-2.0000", "-2.0000"]
    assert rows["w(1)_12"] == ["-1.0000", "1.0000", "0.0000", "0.0000"]
    assert rows["b(1)_2"] == ["0.0000", "1", "0.0000", "0.0000"]
    numbers = RELU["numbers"]
    for k in (1, 2):
        for i, row in enumerate(numbers[f"dDiv/dw({k})"]):
            for j, g in enumerate(row):
                assert float(rows[f"w({k})_{i + 1}{j + 1}"][-1]) == g


def test_tables_of_the_tiny_network_match_its_gradients():
    net = examples.tiny_network()
    _, grads = net.loss_and_gradients(TINY_X[None], TINY_D[None])
    net.forward(TINY_X)
    net.backward(TINY_D)
    rows = {line.split()[0]: float(line.split()[-1]) for line in weight_gradient_table(net).splitlines()[2:]}
    for k in (1, 2, 3):
        W, b = grads[f"W({k})"], grads[f"b({k})"]
        for j in range(W.shape[0]):
            assert rows[f"b({k})_{j + 1}"] == pytest.approx(b[j], abs=5e-5)
            for i in range(W.shape[1]):
                assert rows[f"w({k})_{i + 1}{j + 1}"] == pytest.approx(W[j, i], abs=5e-5)


# -- the passes, step by step ---------------------------------------------------------------------
def test_pass_steps_follow_the_lecture_order():
    steps = pass_steps(examples.tiny_network(), TINY_X, TINY_D)
    assert all(isinstance(s, PassStep) for s in steps)
    phases = [s.phase for s in steps]
    assert phases == ["forward"] * 11 + ["backward"] * 15
    assert steps[0].computes == (("z", 1, 0),) and steps[1].computes == (("y", 1, 0), ("f", 1, 0))
    assert steps[10].computes == (("Div",),)
    assert steps[11].computes == (("y", 3, 0),)
    backward = [s.computes[0] for s in steps[12:]]
    assert backward == [("z", 3, 0), ("w", 3, 0, 0), ("y", 2, 0), ("y", 2, 1), ("z", 2, 0), ("z", 2, 1),
                        ("w", 2, 0, 0), ("w", 2, 0, 1), ("y", 1, 0), ("y", 1, 1), ("z", 1, 0), ("z", 1, 1),
                        ("w", 1, 0, 0), ("w", 1, 0, 1)]
    # every step reads only what earlier steps (or the inputs and weights) provide
    known = {("y", 0, 0), ("y", 0, 1), ("Div",)} | {("1", k) for k in (1, 2, 3)}
    for s in steps:
        for key in s.reads:
            assert key in known or key[0] in ("w", "b"), (s, key)
        known |= set(s.computes)


def test_pass_steps_write_out_the_worked_numbers():
    lines = [line for s in pass_steps(examples.two_relu_network(), RELU["x"], RELU["d"]) for line in s.lines]
    joined = "\n".join(lines)
    assert r"z^{(1)}_{2} = w^{(1)}_{12}\,y^{(0)}_{1} + b^{(1)}_{2}" in joined
    assert r"= (-1.00)\cdot1.000 + 0.00 = -1.000" in joined
    assert r"\mathrm{ReLU}(-1.000) = 0.000" in joined
    assert r"Div(y^{(2)}, d) = 1.000" in joined
    assert r"\dot{y}^{(2)}_{1} = \partial Div / \partial y^{(2)}_{1} = -2.000" in joined
    assert r"\dot{w}^{(2)}_{21} = y^{(1)}_{2}\,\dot{z}^{(2)}_{1} = 0.000\cdot(-2.000) = 0.000" in joined
    assert r"\dot{y}^{(1)}_{2} = w^{(2)}_{21}\,\dot{z}^{(2)}_{1}" in joined
    assert r"= 0.000\cdot(-4.000) = 0.000" in joined  # f'(z(1)_2) = 0: the dead unit
    assert r"\dot{w}^{(1)}_{11} = y^{(0)}_{1}\,\dot{z}^{(1)}_{1} = 1.000\cdot(-2.000) = -2.000" in joined


def test_pass_steps_run_both_passes_on_the_network():
    net = examples.two_relu_network()
    pass_steps(net, RELU["x"], RELU["d"])
    assert net.z[1] == RELU["numbers"]["z(1)"] and net.dz[1] == RELU["numbers"]["dDiv/dz(1)"]


# -- the computational graph, gate by gate --------------------------------------------------------
def test_trace_table_is_plain_text_rounded():
    f, _ = bp.sigmoid_neuron_example()
    f.backward()
    numbers = examples.SIGMOID_NEURON["numbers"]
    table = trace_table(f)
    lines = table.splitlines()
    assert lines[0].split() == ["gate", "inputs", "output", "upstream", "local", "downstream"]
    assert len(lines) == 2 + 8
    assert [line.split()[0] for line in lines[2:]] == [
        {"mul_const": "*", "add_const": "+"}.get(g, g) for g in numbers["gates"]]  # "* -1", "+ 1" for constants
    assert "w0=2.00, x0=-1.00" in lines[2] and "-0.20, 0.39" in lines[2]
    assert lines[-1].split()[:3] == ["reciprocal", "v7=1.37", "f=0.73"]
    columns = [re.split(r"\s{2,}", line) for line in lines[2:]]  # gate, inputs, output, upstream, local, downstream
    assert [float(c[2].split("=")[1]) for c in columns] == numbers["forward"]
    assert [float(c[3]) for c in columns][::-1][:5] == numbers["backward"]  # upstream = the gradient at the output
    assert table == trace_table(f)  # deterministic


# -- an influence diagram's paths -----------------------------------------------------------------
x, y, u, v, w, z, u1, u2, v1, v2 = sp.symbols("x y u v w z u1 u2 v1 v2")


def sources(diagram, target):
    return [n for n in diagram.nodes if n != target and diagram.paths(n, target)]


def test_path_table_lists_every_path_and_the_total():
    diagram = bp.influence_diagram({u1: x**2, u2: sp.cos(x), v1: u1 * u2, v2: u1 + u2**2, z: v1 * v2})
    at = {x: 0.8}
    lines = path_table(diagram, x, z, at).splitlines()
    assert lines[0].split()[:2] == ["path", "product"]
    assert len(lines) == 2 + 4 + 1 and lines[2].startswith("x -> u1 -> v1 -> z")
    expression = (x**2 * sp.cos(x)) * (x**2 + sp.cos(x) ** 2)  # z written out by hand
    exact = float(sp.diff(expression, x).subs(x, 0.8))
    assert lines[-1].startswith("total dz/dx") and float(lines[-1].split()[-1]) == pytest.approx(exact, abs=5e-5)
    values = [float(line.split()[-1]) for line in lines[2:-1]]
    assert math.fsum(values) == pytest.approx(exact, abs=5e-4)  # the rows add up to the total


def test_path_table_when_there_is_no_path():
    diagram = bp.influence_diagram({u: x**2, v: y + 1, z: u * v})
    lines = path_table(diagram, x, v, {x: 1.0, y: 2.0}).splitlines()
    assert len(lines) == 3 and lines[-1].split()[-1] == "0.0000"


def numbers_in(table):
    return [float(s) for s in re.findall(r">(-?\d+\.\d{4})<", table)]


@pytest.mark.parametrize("name", influence_examples())
def test_path_sum_table_over_a_grid_of_slider_values(name):
    diagram, target, at = influence_example(name)
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
            assert table.startswith("<table") and table.endswith("</table>")


def test_path_sum_table_when_there_is_no_path():
    diagram = bp.influence_diagram({u: x**2, v: y + 1, z: u * v})
    table = path_sum_table_html(diagram, x, v, {x: 1.0, y: 2.0})  # x does not influence v
    assert "no path: x does not influence v" in table and numbers_in(table) == [0.0, 0.0]


def test_path_sum_table_typesets_the_products():
    diagram, target, at = influence_example("product")  # z = u v, u = x^3: the path x -> u -> z carries 3 x^2 v
    table = path_sum_table_html(diagram, x, target, at)
    assert "x → u → z" in table and r"$\displaystyle 3 v x^{2}$" in table
    assert r"$\displaystyle - u \sin{\left(x \right)}$" in table  # display style: a fraction at full size
    assert "central difference (no derivatives used)" in table


# -- bad input ------------------------------------------------------------------------------------
def _softmax_net():
    return bp.ScalarNetwork(weights=[[[1.0, 2.0]]], biases=[[0.0, 0.0]], activations=["softmax"],
                            divergence="cross_entropy")


PRODUCT, _, PRODUCT_AT = influence_example("product")
BAD = [
    ("forward table before forward", lambda: forward_table(examples.two_relu_network()), ValueError, ["forward(x)"]),
    ("backward table before backward", lambda: backward_table(forward_only()), ValueError, ["backward(d)"]),
    ("weight gradients of no network", lambda: weight_gradient_table(None), TypeError, ["'net'", "ScalarNetwork"]),
    ("steps of a vector activation", lambda: pass_steps(_softmax_net(), [1.0], [0]),
     ValueError, ["scalar activations", "softmax"]),
    ("steps of no network", lambda: pass_steps("net", [1.0], [3.0]), TypeError, ["'net'", "ScalarNetwork"]),
    ("trace table before backward", lambda: trace_table(bp.Value(1.0) * 2.0), ValueError, ["'output'", "backward"]),
    ("path table to an input", lambda: path_table(PRODUCT, u, x, PRODUCT_AT),
     ValueError, ["'target'", "a defined variable (an outcome)", "got the input x"]),
    ("path table from a stranger", lambda: path_table(PRODUCT, y, z, PRODUCT_AT),
     ValueError, ["'source'", "a variable of the diagram", "got y"]),
    ("path table without a point", lambda: path_table(PRODUCT, x, z, {}), ValueError, ["'at'", "missing [x]"]),
    ("html table of a hand-built diagram",
     lambda: path_sum_table_html(bp.InfluenceDiagram().add_edge(x, z, 2 * x), x, z, {x: 1.0}),
     ValueError, ["'diagram'", "hand-built"]),
    ("html table of no diagram", lambda: path_sum_table_html({z: x}, x, z, {x: 1.0}),
     TypeError, ["'diagram'", "expected an InfluenceDiagram"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- three witnesses ---------------------------------------------------------------------------------
def test_witness_table_agrees_when_all_three_do():
    net = examples.two_relu_network(ran=True)
    names = [bp.lecture_name("W(1)", (0, 0)), bp.lecture_name("W(1)", (0, 1))]
    exact = [-2.0, 0.0]
    numeric = [-2.0 + 1e-11, 1e-12]
    code = [net.dw[1][0][0], net.dw[1][0][1]]
    text = bp.witness_table([f"dDiv/d{n}" for n in names], exact, numeric, code)
    lines = text.splitlines()
    assert lines[0].split() == ["quantity", "SymPy", "(exact)", "finite", "differences", "the", "library", "agree"]
    assert "dDiv/dw(1)_11" in lines[2] and lines[2].split()[1:] == ["-2.000000"] * 3 + ["yes"]
    assert lines[-1].startswith("all 2 agree") and "1e-07" in lines[-1]
    assert "-0.000000" not in text


def test_witness_table_names_the_row_that_disagrees():
    text = bp.witness_table(["a", "b", "c"], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], np.array([1.0, 2.5, 3.0]))
    assert [line.split()[-1] for line in text.splitlines()[2:5]] == ["yes", "NO", "yes"]
    assert text.splitlines()[-1].startswith("2 of 3 agree")
    text = bp.witness_table(["a"], [1.0], [1.0], [1.0], code_label="the vector form")  # the column says what it is
    assert "the vector form" in text.splitlines()[0] and "the library" not in text
    assert text.splitlines()[-1].startswith("all 1 agree (the vector form and finite differences")
    text = bp.witness_table(["a"], [1.0], [1.1], [1.0])  # a bad finite difference is a disagreement too
    assert text.splitlines()[2].split()[-1] == "NO"


@pytest.mark.parametrize("args, exc, fragments", [
    ((["a", "b"], [1.0], [1.0, 2.0], [1.0, 2.0]), ValueError, ["'exact'", "2 values", "got 1"]),
    ((["a"], [1.0], ["x"], [1.0]), TypeError, ["'numeric'", "numbers"]),
    (([], [], [], []), TypeError, ["'names'"]),
    (("ab", [1.0], [1.0], [1.0]), TypeError, ["'names'"]),
    ((["a"], [1.0], [1.0], [1.0], {"code_label": ""}), TypeError, ["'code_label'", "heading"]),
], ids=["short exact", "words", "no names", "a string", "an empty heading"])
def test_witness_table_bad_input_is_explained(args, exc, fragments):
    options = args[-1] if isinstance(args[-1], dict) else {}
    positional = args[:-1] if options else args
    assert_explained(lambda: bp.witness_table(*positional, **options), exc, fragments)


def test_path_tables_never_show_minus_zero():
    # z = x^3 cos x at x = 0: both path products are -0.0 or 0.0 in floating point; the tables say 0.0000
    diagram, target, _ = influence_example("product")
    x = sp.Symbol("x")
    for at in ({x: 0.0}, {x: -1e-9}):
        assert "-0.0000" not in path_table(diagram, x, target, at)
        assert "-0.0000" not in path_sum_table_html(diagram, x, target, at)
