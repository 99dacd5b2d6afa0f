"""Tests backprop.core.graph: the scalar computational graph, its gates and backpropagation (notebook 02)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop.symbolic as sym
from backprop.core.examples import SIGMOID_NEURON, sigmoid_neuron_example
from backprop.core.graph import (
    GATES,
    GateRecord,
    Value,
    gate_symbol,
    maximum,
    topological_order,
    trace,
    value_names,
)
from backprop.core.tolerance import relative_error
from strategies import FD_EXAMPLES, RTOL


def central_difference(f, x: float) -> float:
    """(f(x + h) - f(x - h)) / 2h with a step relative to |x| (float64)."""
    h = 1e-5 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


# --- the sigmoid neuron against its closed form ----------------------------------------

@pytest.mark.parametrize("use_sigmoid_gate", [False, True])
def test_sigmoid_neuron_closed_form(use_sigmoid_gate):
    f, leaves = sigmoid_neuron_example(use_sigmoid_gate=use_sigmoid_gate)
    f.backward()
    w0, x0, w1, x1, w2 = SIGMOID_NEURON["inputs"].values()
    s = 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    expected = {"w0": x0, "x0": w0, "w1": x1, "x1": w1, "w2": 1.0}
    assert f.data == pytest.approx(s, rel=1e-15)
    for name, factor in expected.items():
        assert leaves[name].grad == pytest.approx(s * (1 - s) * factor, rel=1e-14)


def test_sigmoid_gate_local_gradient_is_sigma_times_one_minus_sigma():
    f, _ = sigmoid_neuron_example(use_sigmoid_gate=True)
    f.backward()
    last = trace(f)[-1]
    assert last.gate == "sigmoid" and last.inputs[0].data == 1.0
    assert last.local[0] == pytest.approx(math.exp(-1) / (1 + math.exp(-1)) ** 2, rel=1e-14)


# --- names and symbols of the values and gates ------------------------------------------

def test_value_names_use_labels_and_number_the_rest_in_forward_order():
    f, leaves = sigmoid_neuron_example()
    names = value_names(f)
    assert [names[v] for v in leaves.values()] == list(leaves)
    assert names[f] == "f"
    inner = [names[v] for v in topological_order(f) if v.gate is not None and v is not f]
    assert inner == [f"v{k}" for k in range(1, 8)]
    assert len(names) == 5 + 8


@pytest.mark.parametrize("gate, consts, symbol", [
    ("add", {}, "+"), ("mul", {}, "*"), ("exp", {}, "exp"), ("reciprocal", {}, "1/x"), ("max", {}, "max"),
    ("relu", {}, "ReLU"), ("sigmoid", {}, "σ"), ("add_const", {"c": 1.0}, "+ 1"), ("mul_const", {"c": -1.0}, "* -1"),
    ("add_const", {"c": 0.25}, "+ 0.25"),
])
def test_gate_symbol(gate, consts, symbol):
    assert gate_symbol(gate, consts) == symbol


def test_every_gate_has_a_symbol():
    for name in GATES:
        assert gate_symbol(name, {"c": 2.0})


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_rule_equals_sympy(name):
    check = sym.verify(f"gate_{name}")
    assert check.ok, str(check)


# --- each gate's local rule against central differences ----------------------------

# Domains keep the difference away from kinks (max ties, ReLU at 0), from 1/x at 0,
# and from exp overflow; magnitudes stay where float64 differences are accurate.
moderate = st.one_of(st.just(0.0), st.floats(1e-3, 10.0), st.floats(-10.0, -1e-3))
away_from_zero = st.one_of(st.floats(0.1, 10.0), st.floats(-10.0, -0.1))
GATE_INPUTS = {
    "add": st.tuples(moderate, moderate),
    "mul": st.tuples(moderate, moderate),
    "add_const": st.tuples(moderate),
    "mul_const": st.tuples(moderate),
    "exp": st.tuples(st.floats(-10.0, 10.0)),
    "reciprocal": st.tuples(away_from_zero),
    "max": st.tuples(moderate, st.floats(1e-3, 10.0), st.booleans()).map(  # b = a +- gap: never a tie
        lambda t: (t[0], t[0] + t[1] if t[2] else t[0] - t[1])),
    "relu": st.tuples(away_from_zero),
    "sigmoid": st.tuples(st.floats(-6.0, 6.0)),
}


def test_every_gate_has_a_test_domain():
    assert set(GATE_INPUTS) == set(GATES)


@pytest.mark.parametrize("name", sorted(GATES))
@settings(max_examples=FD_EXAMPLES)
@given(data=st.data(), c=moderate)
def test_gate_local_rule_matches_central_difference(name, data, c):
    rule = GATES[name]
    inputs = data.draw(GATE_INPUTS[name])
    consts = {"c": c} if rule.consts else {}
    out = rule.forward(*inputs, **consts)
    local = rule.local(*inputs, out, **consts)
    assert len(local) == rule.arity == len(inputs)
    for i, analytic in enumerate(local):
        def f(t, i=i):
            moved = list(inputs)
            moved[i] = t
            return float(rule.forward(*moved, **consts))

        numeric = central_difference(f, inputs[i])
        assert relative_error(float(analytic), numeric) <= RTOL, (name, inputs, i, float(analytic), numeric)


# --- gate behaviours ----------------------------------------------------------------

def test_add_distributes_the_upstream_gradient_unchanged():
    a, b = Value(1.5), Value(-2.0)
    out = (a + b) * 3.0
    out.backward()
    record = trace(out)[0]
    assert record.gate == "add" and record.upstream == 3.0
    assert record.downstream == (3.0, 3.0) and a.grad == b.grad == 3.0


def test_multiply_swaps_its_inputs():
    a, b = Value(1.5), Value(-2.0)
    out = a * b
    out.backward()
    assert trace(out)[0].local == (-2.0, 1.5)
    assert (a.grad, b.grad) == (-2.0, 1.5)


@pytest.mark.parametrize("a, b, expected", [(3.0, 1.0, (1.0, 0.0)), (1.0, 3.0, (0.0, 1.0)), (2.0, 2.0, (1.0, 0.0))])
def test_max_routes_to_the_larger_input_and_on_a_tie_to_the_first(a, b, expected):
    va, vb = Value(a), Value(b)
    out = maximum(va, vb) * 5.0
    out.backward()
    assert trace(out)[0].local == expected
    assert (va.grad, vb.grad) == (5.0 * expected[0], 5.0 * expected[1])


def test_max_accepts_a_constant_and_the_method_form():
    a = Value(-1.0)
    out = a.max(0.5)
    out.backward()
    assert out.data == 0.5 and a.grad == 0.0
    out = maximum(2.0, a)
    out.backward()
    assert out.data == 2.0 and a.grad == 0.0


def test_relu_gate_passes_or_blocks():
    for z, grad in [(2.0, 1.0), (-2.0, 0.0), (0.0, 0.0)]:  # at 0: the activation's convention, 0
        v = Value(z)
        out = v.relu()
        out.backward()
        assert (out.data, v.grad) == (max(z, 0.0), grad)


@pytest.mark.parametrize("build, x, expected", [
    (lambda x: x * x, 3.0, 6.0),
    (lambda x: x + x, 3.0, 2.0),
    (lambda x: (x * 2.0) * (x + 1.0), 3.0, 4 * 3.0 + 2),  # a diamond: d/dx (2x^2 + 2x)
    (lambda x: (x * x) * x + x.exp() * x, 0.5, 3 * 0.25 + math.exp(0.5) * 1.5),
])
def test_a_copy_adds_the_gradients_of_its_branches(build, x, expected):
    v = Value(x)
    out = build(v)
    out.backward()
    assert v.grad == pytest.approx(expected, rel=1e-14)


def test_operator_sugar_builds_the_expected_gates():
    a, b = Value(3.0, "a"), Value(-2.0, "b")
    out = (a - b) / b + 1 / a - 2.0 * a + (-a) - 1.0 + (4.0 - b) / 2.0
    out.backward()
    x, y = 3.0, -2.0
    assert out.data == pytest.approx((x - y) / y + 1 / x - 2 * x - x - 1 + (4 - y) / 2, rel=1e-15)
    assert a.grad == pytest.approx(1 / y - 1 / x**2 - 3, rel=1e-14)
    assert b.grad == pytest.approx(-1 / y - (x - y) / y**2 - 0.5, rel=1e-14)
    gates = {r.gate for r in trace(out)}
    assert gates == {"add", "mul", "add_const", "mul_const", "reciprocal"}


def test_one_over_value_is_a_single_reciprocal_gate():
    a = Value(4.0)
    out = 1 / a
    out.backward()
    assert [r.gate for r in trace(out)] == ["reciprocal"] and a.grad == -1 / 16


def test_numpy_scalars_act_as_constants():
    a = Value(2.0)
    out = np.float64(3.0) * a + np.int64(1)
    out.backward()
    assert isinstance(out, Value) and out.data == 7.0 and a.grad == 3.0


# --- whole random expressions --------------------------------------------------------

def random_graph(rng: np.random.Generator, n_leaves: int = 4, n_gates: int = 30):
    """A random expression of every gate kind, kept away from kinks and overflow."""
    leaves = [Value(float(v), label=f"p{i}") for i, v in enumerate(rng.uniform(-2, 2, size=n_leaves))]
    values = list(leaves)
    while len(values) < n_leaves + n_gates:
        name = str(rng.choice(sorted(GATES)))
        a, b = (values[int(i)] for i in rng.integers(len(values), size=2))
        c = float(rng.uniform(-2, 2))
        if name == "add":
            out = a + b
        elif name == "mul":
            out = a * b
        elif name == "add_const":
            out = a + c
        elif name == "mul_const":
            out = a * c
        elif name == "exp" and abs(a.data) < 3:
            out = a.exp()
        elif name == "reciprocal" and 0.5 < abs(a.data) < 5:
            out = a.reciprocal()
        elif name == "max" and abs(a.data - b.data) > 1e-2:
            out = maximum(a, b)
        elif name == "relu" and abs(a.data) > 1e-2:
            out = a.relu()
        elif name == "sigmoid":
            out = a.sigmoid()
        else:
            continue
        if abs(out.data) < 50:
            values.append(out)
    output = values[-1]
    for v in values[n_leaves:-1]:  # every value reaches the output
        output = output + v * 0.1
    return output, leaves


def reevaluate(records: list[GateRecord], leaves: list[Value], data: list[float]) -> float:
    """The output recomputed from the recorded gates with new leaf values."""
    value = {id(v): d for v, d in zip(leaves, data)}
    for r in records:
        inputs = [value.get(id(v), v.data) for v in r.inputs]
        value[id(r.output)] = float(GATES[r.gate].forward(*inputs, **r.consts))
    return value[id(records[-1].output)]


@pytest.mark.parametrize("seed", range(20))
def test_random_expression_gradients_match_central_differences(seed):
    output, leaves = random_graph(np.random.default_rng(seed))
    output.backward()
    records = trace(output)
    base = [v.data for v in leaves]
    assert reevaluate(records, leaves, base) == output.data
    for i, leaf in enumerate(leaves):
        def f(t, i=i):
            return reevaluate(records, leaves, base[:i] + [t] + base[i + 1:])

        numeric = central_difference(f, base[i])
        assert relative_error(leaf.grad, numeric) <= 1e-6 or abs(leaf.grad - numeric) <= 1e-9, (seed, i)


# --- the backward pass itself ---------------------------------------------------------

def test_backward_twice_gives_identical_gradients():
    output, leaves = random_graph(np.random.default_rng(7))
    output.backward()
    first = [v.grad for v in topological_order(output)]
    output.backward()
    assert [v.grad for v in topological_order(output)] == first
    assert first[-1] == 1.0


def test_backward_from_an_inner_value_resets_only_its_own_graph():
    x = Value(2.0)
    y = x * x
    z = y + 1.0
    z.backward()
    y.backward()
    assert (x.grad, y.grad) == (4.0, 1.0)


def test_a_chain_of_10000_gates_needs_no_recursion():  # 10x Python's default recursion limit
    x = Value(0.5)
    v = x
    for _ in range(5_000):
        v = (v + 1.0) * 1.0
    v.backward()
    assert x.grad == 1.0 and v.data == 5_000.5
    assert len(trace(v)) == 10_000


def test_trace_downstream_is_upstream_times_local():
    output, _ = random_graph(np.random.default_rng(3))
    output.backward()
    records = trace(output)
    assert records[-1].output is output and records[-1].upstream == 1.0
    seen = set()
    for r in records:
        assert all(id(v) in seen or v.gate is None for v in r.inputs)  # forward order
        seen.add(id(r.output))
        assert len(r.local) == len(r.downstream) == len(r.inputs) == GATES[r.gate].arity
        assert r.downstream == tuple(r.upstream * g for g in r.local)
        assert r.upstream == r.output.grad


def test_trace_before_backward_is_an_error():
    with pytest.raises(ValueError, match="'output'.*backward"):
        trace(Value(1.0) * 2.0)
    with pytest.raises(TypeError, match="'output'"):
        trace(1.0)


# --- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("data, error", [
    ("3", TypeError), (True, TypeError), (np.ones(2), TypeError), (None, TypeError), (1 + 2j, TypeError),
    (float("nan"), ValueError), (float("inf"), ValueError),
])
def test_value_rejects_bad_data(data, error):
    with pytest.raises(error, match="'data'"):
        Value(data)


def test_value_rejects_a_non_string_label():
    with pytest.raises(TypeError, match="'label'"):
        Value(1.0, label=3)


@pytest.mark.parametrize("op", [
    lambda a: a + float("inf"), lambda a: a * float("nan"), lambda a: a - float("inf"), lambda a: float("inf") / a,
])
def test_non_finite_constants_are_rejected(op):
    with pytest.raises(ValueError, match="'other'.*finite"):
        op(Value(1.0))


@pytest.mark.parametrize("op", [
    lambda a: a * "x", lambda a: "x" * a, lambda a: a + None, lambda a: a + True, lambda a: a * np.ones(2),
    lambda a: np.ones(2) * a, lambda a: a - [1.0], lambda a: a / "2",
])
def test_non_numeric_operands_are_type_errors(op):
    with pytest.raises(TypeError, match="'other'.*Value or a real number"):
        op(Value(1.0))


@pytest.mark.parametrize("a, b, name", [(Value(1.0), "2", "b"), ([1.0], Value(1.0), "a"), (Value(1.0), None, "b")])
def test_maximum_rejects_non_values(a, b, name):
    with pytest.raises(TypeError, match=f"'{name}'"):
        maximum(a, b)


def test_reciprocal_of_zero_names_the_value():
    with pytest.raises(ValueError, match="'z = 0'.*exactly 0"):
        Value(0.0, label="z").reciprocal()
    with pytest.raises(ValueError, match="exactly 0"):
        1 / Value(0.0)
    with pytest.raises(ValueError, match="'other'.*non-zero"):
        Value(1.0) / 0


def test_exp_overflow_is_a_clear_error():
    with pytest.raises(ValueError, match="exp gate.*s = 1000.*not a finite number"):
        Value(1000.0, label="s").exp()
    with pytest.raises(ValueError, match="mul gate.*not a finite number"):
        Value(1e200) * Value(1e200)


def test_poll_3_max_routes_the_gradient_to_the_largest_input():
    """The lecture's poll 3: y = max(z1, z2, z3) at (1, 2, 3) gives dy/dz = (0, 0, 1)."""
    z = [Value(v, label=f"z{i}") for i, v in enumerate((1.0, 2.0, 3.0), start=1)]
    y = maximum(maximum(z[0], z[1]), z[2])
    y.backward()
    assert [v.grad for v in z] == [0.0, 0.0, 1.0]
    # the stated tie convention: the first of equal inputs gets the gradient
    a, b = Value(2.0), Value(2.0)
    out = maximum(a, b)
    out.backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
