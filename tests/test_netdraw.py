"""The scalar network drawn, tabulated and stepped through (notebook 02)."""

import matplotlib
import pytest
from matplotlib.figure import Figure

import backprop as bp
from backprop import netdraw as nd
from nb02_examples import TINY_D, TINY_X, tiny_network
from strategies import assert_explained
from nb02_examples import two_relu_example as _two_relu_example

pytestmark = pytest.mark.nb02


X, D = TINY_X, TINY_D


def two_relu_example(ran=True):
    return _two_relu_example(ran=ran)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_reexported():
    for name in nd.__all__:
        assert getattr(bp, name) is getattr(nd, name)


def test_symbols_mode_labels_every_variable_and_weight():
    fig = nd.draw_network(tiny_network())
    assert isinstance(fig, Figure)
    shown = texts(fig)
    for k, width_prev, width in [(1, 2, 2), (2, 2, 2), (3, 2, 1)]:
        for j in range(width):
            assert f"$z^{{({k})}}_{{{j + 1}}}$" in shown and f"$y^{{({k})}}_{{{j + 1}}}$" in shown
            assert f"$b^{{({k})}}_{{{j + 1}}}$" in shown
            for i in range(width_prev):
                assert f"$w^{{({k})}}_{{{i + 1}{j + 1}}}$" in shown
    assert "$y^{(0)}_{1}$" in shown and "$Div$" in shown and shown.count("1") == 3  # three bias inputs
    assert "$f_{2}$" in shown


def test_forward_mode_shows_the_worked_numbers():
    shown = texts(nd.draw_network(two_relu_example(), "forward", d=[3.0], biases=False))
    for text in ["$z^{(1)}_{1}$\n2.000", "$z^{(1)}_{2}$\n-1.000", "$y^{(1)}_{2}$\n0.000", "$y^{(2)}_{1}$\n2.000",
                 "$Div$\n1.000", "$w^{(1)}_{12}$=-1.00", "d = 3.00"]:
        assert text in shown
    assert not any(t.startswith("$b") for t in shown)


def test_backward_mode_shows_the_derivatives_with_overdots():
    shown = texts(nd.draw_network(two_relu_example(), "backward", biases=False, edge_labels="gradients"))
    for text in [r"$\dot{y}^{(2)}_{1}$" + "\n-2.000", r"$\dot{y}^{(1)}_{2}$" + "\n-4.000",
                 r"$\dot{z}^{(1)}_{2}$" + "\n0.000", r"$\dot{w}^{(2)}_{11}$=-4.000", r"$\dot{w}^{(1)}_{11}$=-2.000",
                 "$y^{(0)}_{1}$", "$Div$\n1"]:
        assert text in shown


def test_shown_hides_values_and_highlight_colours_nodes():
    net = two_relu_example()
    fig = nd.draw_network(net, "forward", shown={("z", 1, 0)}, highlight={("z", 1, 0)}, reads=[("y", 0, 0)],
                          muted=[("y", 1, 1)])
    shown = texts(fig)
    assert "$z^{(1)}_{1}$\n2.000" in shown and "$z^{(1)}_{2}$" in shown and "$y^{(1)}_{1}$" in shown
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches}
    assert {nd._HOT, nd._WARM, nd._MUTE} <= colours


def test_forward_backward_figure_has_both_views():
    fig = nd.draw_forward_backward(tiny_network_ran(), D)
    assert len(fig.axes) == 2
    shown = texts(fig)
    assert any(t.startswith("forward pass") for t in shown) and any(t.startswith("backward pass") for t in shown)


def tiny_network_ran():
    net = tiny_network()
    net.forward(X)
    net.backward(D)
    return net


def test_draws_on_a_given_axes():
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    assert nd.draw_network(two_relu_example(), "forward", ax=ax, biases=False, title="t") is fig


def test_forward_table_of_the_worked_example():
    table = nd.forward_table(two_relu_example(), d=[3.0])
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "k", "unit", "j", "z(k)_j", "f_k", "y(k)_j"]
    assert lines[3].split() == ["1", "1", "2.0000", "relu", "2.0000"]
    assert lines[4].split() == ["1", "2", "-1.0000", "relu", "0.0000"]
    assert lines[5].split() == ["2", "1", "2.0000", "identity", "2.0000"]
    assert lines[-1].startswith("Div(Y, d) = 1.0000")


def test_backward_table_of_the_worked_example():
    rows = [line.split() for line in nd.backward_table(two_relu_example()).splitlines()[2:]]
    assert rows == [["2", "1", "-2.0000", "1.0000", "-2.0000"],
                    ["1", "1", "-2.0000", "1.0000", "-2.0000"],
                    ["1", "2", "-4.0000", "0.0000", "0.0000"]]


def test_weight_gradient_table_of_the_worked_example():
    rows = {line.split()[0]: line.split()[1:] for line in nd.weight_gradient_table(two_relu_example()).splitlines()[2:]}
    assert rows["w(2)_11"] == ["1.0000", "2.0000", "-2.0000", "-4.0000"]
    assert rows["w(2)_21"] == ["2.0000", "0.0000", "-2.0000", "0.0000"]
    assert rows["w(1)_11"] == ["2.0000", "1.0000", "-2.0000", "-2.0000"]
    assert rows["w(1)_12"] == ["-1.0000", "1.0000", "0.0000", "0.0000"]
    assert rows["b(1)_2"] == ["0.0000", "1", "0.0000", "0.0000"]


def test_pass_steps_follow_the_lecture_order():
    steps = nd.pass_steps(tiny_network(), X, D)
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
    lines = [line for s in nd.pass_steps(two_relu_example(ran=False), [1.0], [3.0]) for line in s.lines]
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


@pytest.mark.parametrize("step", range(26))
def test_pass_step_figure_for_every_slider_value(step):
    fig = nd.pass_step_figure(tiny_network(), X, D, step)
    assert isinstance(fig, Figure)
    assert any(t.startswith(("forward pass, step", "backward pass, step")) and f"step {step + 1} of 26" in t
               for t in texts(fig))
    fig.canvas.draw()  # the mathtext of every formula renders


def test_pass_stepper_runs_its_callback():
    pytest.importorskip("ipywidgets")
    ui = nd.pass_stepper(two_relu_example(ran=False), [1.0], [3.0], biases=False)
    slider = ui.children[0]
    assert slider.max == len(nd.pass_steps(two_relu_example(ran=False), [1.0], [3.0])) - 1
    first = bytes(ui.children[1].value)
    slider.value = slider.max  # fires the callback
    assert bytes(ui.children[1].value).startswith(b"\x89PNG") and bytes(ui.children[1].value) != first


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: nd.draw_network("net"), TypeError, ["'net'", "ScalarNetwork"]),
    (lambda: nd.draw_network(two_relu_example(ran=False), "forward"), ValueError, ["'net'", "forward(x)"]),
    (lambda: nd.draw_network(_forward_only(), "backward"), ValueError, ["'net'", "backward(d)"]),
    (lambda: nd.draw_network(_forward_only(), "forward", edge_labels="gradients"), ValueError, ["backward"]),
    (lambda: nd.draw_network(two_relu_example(), "sideways"), ValueError, ["'mode'", "'forward'"]),
    (lambda: nd.draw_network(two_relu_example(), edge_labels="both"), ValueError, ["'edge_labels'"]),
    (lambda: nd.draw_network(two_relu_example(), highlight="z"), TypeError, ["'highlight'", "collection"]),
    (lambda: nd.draw_network(two_relu_example(), reads=["z"]), TypeError, ["'reads'", "tuples"]),
    (lambda: nd.draw_network(two_relu_example(), biases=1), TypeError, ["'biases'", "True or False"]),
    (lambda: nd.forward_table(two_relu_example(ran=False)), ValueError, ["forward(x)"]),
    (lambda: nd.backward_table(_forward_only()), ValueError, ["backward(d)"]),
    (lambda: nd.weight_gradient_table(None), TypeError, ["'net'", "ScalarNetwork"]),
    (lambda: nd.pass_step_figure(two_relu_example(), [1.0], [3.0], 99), ValueError, ["'step'", "0..15", "99"]),
    (lambda: nd.pass_steps(_softmax_net(), [1.0], [0]), ValueError, ["scalar activations", "softmax"]),
])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def _forward_only():
    net = two_relu_example(ran=False)
    net.forward([1.0])
    return net


def _softmax_net():
    return bp.ScalarNetwork(weights=[[[1.0, 2.0]]], biases=[[0.0, 0.0]], activations=["softmax"],
                            divergence="cross_entropy")
