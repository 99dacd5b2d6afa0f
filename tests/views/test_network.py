"""The scalar network drawn neuron by neuron (views/network.py): symbols, values, derivatives, both passes."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import backprop as bp
from backprop.views import network as views_network
from backprop.views.network import draw_forward_backward, draw_network
from strategies import arrows_under_labels, assert_explained, overlapping_labels, rendered

examples = bp.examples
TINY_X, TINY_D = np.array(examples.TINY["x"]), np.array(examples.TINY["d"])


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def edge_labels(fig):
    """Each edge label's text by the key of the arrow it belongs to (its gid)."""
    return {eval(t.get_gid()): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def tiny_network_ran():
    net = examples.tiny_network()
    net.forward(TINY_X)
    net.backward(TINY_D)
    return net


def forward_only():
    net = examples.two_relu_network()
    net.forward(examples.TWO_RELU["x"])
    return net


def test_symbols_mode_labels_every_variable_and_weight():
    fig = draw_network(examples.tiny_network())
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


def test_arrows_one_per_weight_bias_activation_and_output():
    net = examples.tiny_network()  # widths (2, 2, 2, 1)
    weights, biases, units = 2 * 2 + 2 * 2 + 2 * 1, 2 + 2 + 1, 2 + 2 + 1
    assert len(arrows(draw_network(net).axes[0])) == weights + biases + units + 1
    assert len(arrows(draw_network(net, biases=False).axes[0])) == weights + units + 1


def test_forward_mode_shows_the_worked_numbers():
    numbers = examples.TWO_RELU["numbers"]
    shown = texts(draw_network(examples.two_relu_network(ran=True), "forward", d=examples.TWO_RELU["d"],
                               biases=False))
    # the integer example is written in whole numbers, as it is worked by hand
    for text in ["$z^{(1)}_{1}$\n2", "$z^{(1)}_{2}$\n-1", "$y^{(1)}_{2}$\n0", "$y^{(2)}_{1}$\n2",
                 "$Div$\n1", "d = 3"]:
        assert text in shown
    on_arrow = edge_labels(draw_network(examples.two_relu_network(ran=True), "forward", biases=False))
    assert on_arrow[("w", 1, 0, 1)] == "-1" and on_arrow[("w", 2, 1, 0)] == "2"
    for j, (zj, yj) in enumerate(zip(numbers["z(1)"], numbers["y(1)"])):  # against the example's own numbers
        assert f"$z^{{(1)}}_{{{j + 1}}}$\n{zj:.0f}" in shown and f"$y^{{(1)}}_{{{j + 1}}}$\n{yj:.0f}" in shown
    assert not any(t.startswith("$b") for t in shown)


def test_backward_mode_shows_the_derivatives_with_overdots():
    shown = texts(draw_network(examples.two_relu_network(ran=True), "backward", biases=False,
                               edge_labels="gradients"))
    for text in [r"$\dot{y}^{(2)}_{1}$" + "\n-2", r"$\dot{y}^{(1)}_{2}$" + "\n-4",
                 r"$\dot{z}^{(1)}_{2}$" + "\n0", "$y^{(0)}_{1}$", "$Div$\n1"]:
        assert text in shown
    on_arrow = edge_labels(draw_network(examples.two_relu_network(ran=True), "backward", biases=False,
                                        edge_labels="gradients"))
    assert on_arrow[("w", 2, 0, 0)] == "-4" and on_arrow[("w", 1, 0, 0)] == "-2"
    numbers = examples.TWO_RELU["numbers"]
    assert f"$\\dot{{y}}^{{(2)}}_{{1}}$\n{numbers['dDiv/dY'][0]:.0f}" in shown
    assert on_arrow[("w", 1, 0, 0)] == f"{numbers['dDiv/dw(1)'][0][0]:.0f}"


def test_edge_labels_as_symbols_weights_or_gradients():
    net = examples.two_relu_network(ran=True)
    assert edge_labels(draw_network(net, "forward", edge_labels="symbols"))[("w", 2, 1, 0)] == "$w^{(2)}_{21}$"
    assert edge_labels(draw_network(net, "backward"))[("w", 2, 1, 0)] == "2"  # weights: the default after a pass
    assert edge_labels(draw_network(net, "forward", edge_labels="gradients"))[("w", 2, 1, 0)] == "0"
    hidden = draw_network(net, "forward", edge_labels="gradients", shown=set())
    assert edge_labels(hidden)[("w", 2, 1, 0)] == r"$\dot{w}^{(2)}_{21}$"  # a gradient not yet revealed: its name


@pytest.mark.parametrize("widths", [(1, 2, 1), (2, 2, 2, 1), (2, 3, 2), (3, 3, 1), (1, 3, 3, 1)], ids=str)
@pytest.mark.parametrize("mode, labels", [("symbols", "symbols"), ("forward", "weights"),
                                          ("backward", "gradients")])
def test_each_label_sits_on_its_own_arrow_and_no_other(widths, mode, labels):
    """Measured on the rendered figure: the only arrow under a label's box is the one it names."""
    rng = np.random.default_rng(0)
    weights = [None] + [rng.normal(size=(widths[k - 1], widths[k])).tolist() for k in range(1, len(widths))]
    biases = [None] + [rng.normal(size=widths[k]).tolist() for k in range(1, len(widths))]
    net = bp.ScalarNetwork(weights=weights, biases=biases, activations=[None] + ["tanh"] * (len(widths) - 1))
    net.forward(rng.normal(size=widths[0]))
    net.backward(rng.normal(size=widths[-1]))
    fig = draw_network(net, mode, edge_labels=labels)
    keys = [key for key, _, _ in views_network._edges(net.widths, True)]  # the arrows, in the order drawn
    under = arrows_under_labels(fig)
    assert len(under) == sum(key[0] in "wb" for key in keys)
    for text, crossing in under:
        assert [keys[i] for i in crossing] == [eval(text.get_gid())], text.get_text()
    assert overlapping_labels(fig) == []


def test_numbers_are_whole_for_the_integer_example_and_three_decimals_otherwise():
    shown = texts(draw_network(tiny_network_ran(), "backward", edge_labels="gradients"))
    assert r"$\dot{y}^{(1)}_{1}$" + "\n-1.891" in shown and r"$\dot{z}^{(2)}_{1}$" + "\n-1.435" in shown
    assert "-0.470" in shown  # dDiv/dw(1)_11 on its arrow: three decimals, trailing zero kept
    weights = edge_labels(draw_network(tiny_network_ran(), "forward"))
    assert weights[("w", 2, 1, 0)] == "-2.00" and weights[("b", 1, 0)] == "0.10"


def _spilled(fig):
    """The node texts of a drawing that reach outside their circle, measured on the rendered figure."""
    from matplotlib.patches import Circle

    renderer = rendered(fig)
    out = []
    for ax in fig.axes:
        circles = [p for p in ax.patches if isinstance(p, Circle)]
        for text in ax.texts:
            inside = [c for c in circles if c.contains_point(ax.transData.transform(text.get_position()))]
            if not inside or not text.get_text().strip():
                continue  # an edge label, a title, the name of an activation
            (circle,) = inside
            centre = ax.transData.transform(circle.center)
            radius = ax.transData.transform((circle.center[0] + circle.radius, circle.center[1]))[0] - centre[0]
            box = text.get_window_extent(renderer)
            corners = np.array([[box.x0, box.y0], [box.x0, box.y1], [box.x1, box.y0], [box.x1, box.y1]])
            if np.max(np.hypot(*(corners - centre).T)) > radius:
                out.append(text.get_text())
    return out


@pytest.mark.parametrize("draw", [
    lambda: draw_network(tiny_network_ran(), "forward", d=TINY_D),
    lambda: draw_network(tiny_network_ran(), "backward", edge_labels="gradients"),
    lambda: draw_forward_backward(tiny_network_ran(), TINY_D),  # two drawings on one figure: each scaled down
    lambda: bp.pass_step_figure(examples.tiny_network(), TINY_X, TINY_D, 21),
    lambda: draw_network(examples.two_relu_network(ran=True), "backward", biases=False, edge_labels="gradients"),
    lambda: draw_network(examples.tiny_network()),
], ids=["forward", "backward", "both passes", "a step of the stepper", "integers", "symbols"])
def test_every_name_and_number_stays_inside_its_circle(draw):
    """Each node's text box lies inside its circle, at the course's font sizes (never under MIN_FONT)."""
    fig = draw()
    assert _spilled(fig) == []
    nodes = [t for ax in fig.axes for t in ax.texts if t.get_text().startswith("$") and "\n" in t.get_text()]
    assert all(t.get_fontsize() >= bp.views.style.MIN_FONT for t in nodes)


def test_the_layout_is_the_same_whatever_is_shown():
    """The stepper reveals numbers one at a time: its circles keep their places and sizes from step to step."""
    from matplotlib.patches import Circle

    def circles(fig):
        return [(p.center, p.radius) for p in fig.axes[0].patches if isinstance(p, Circle)]

    net = tiny_network_ran()
    drawn = [circles(draw_network(net, mode, shown=shown)) for mode in ("forward", "backward")
             for shown in (set(), {("z", 1, 1)}, None)]
    assert all(c == drawn[0] for c in drawn[1:])


def test_long_numbers_widen_the_nodes_not_spill():
    """A network whose numbers are long (-82.450) gets larger circles; the drawing stays within MAX_WIDTH."""
    net = bp.ScalarNetwork(weights=[None, [[-7.0, 3.5]], [[2.0], [-1.5]]], biases=[None, [0.1, -0.2], [0.0]],
                           activations=[None, "identity", "identity"])
    net.forward(np.array([1.7]))
    net.backward(np.array([9.0]))
    fig = draw_network(net, "backward", edge_labels="gradients")
    assert any(t.endswith("\n-82.450") for t in texts(fig)) and _spilled(fig) == []
    assert fig.get_size_inches()[0] <= bp.views.style.MAX_WIDTH + 1e-9


def test_shown_hides_values_and_highlight_colours_nodes():
    net = examples.two_relu_network(ran=True)
    fig = draw_network(net, "forward", shown={("z", 1, 0)}, highlight={("z", 1, 0)}, reads=[("y", 0, 0)],
                       muted=[("y", 1, 1)])
    shown = texts(fig)
    assert "$z^{(1)}_{1}$\n2" in shown and "$z^{(1)}_{2}$" in shown and "$y^{(1)}_{1}$" in shown
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches}
    assert {views_network._HOT, views_network._WARM, views_network._MUTE} <= colours


def test_backward_arrows_point_back():
    net = examples.two_relu_network(ran=True)
    def runs(mode):  # +1 for an arrow from a node to a node on its right, -1 for one pointing left
        return [np.sign(np.mean(a.patchB.get_extents().intervalx) - np.mean(a.patchA.get_extents().intervalx))
                for a in arrows(draw_network(net, mode, biases=False).axes[0])]

    assert runs("forward") == [1] * 8 and runs("backward") == [-1] * 8  # 2 + 2 weights, 3 units, 1 output


def test_forward_backward_figure_has_both_views():
    fig = draw_forward_backward(tiny_network_ran(), TINY_D)
    assert len(fig.axes) == 2
    shown = texts(fig)
    assert any(t.startswith("forward pass") for t in shown) and any(t.startswith("backward pass") for t in shown)
    assert len(arrows(fig.axes[0])) == len(arrows(fig.axes[1]))  # the same weights, both ways
    fig.savefig(io.BytesIO(), format="png")


def test_draws_on_a_given_axes():
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    assert draw_network(examples.two_relu_network(ran=True), "forward", ax=ax, biases=False, title="t") is fig
    assert "t" in texts(fig)


def _softmax_net():
    return bp.ScalarNetwork(weights=[[[1.0, 2.0]]], biases=[[0.0, 0.0]], activations=["softmax"],
                            divergence="cross_entropy")


BAD = [
    ("not a network", lambda: draw_network("net"), TypeError, ["'net'", "ScalarNetwork"]),
    ("no forward pass", lambda: draw_network(examples.two_relu_network(), "forward"),
     ValueError, ["'net'", "forward(x)"]),
    ("no backward pass", lambda: draw_network(forward_only(), "backward"), ValueError, ["'net'", "backward(d)"]),
    ("gradients before backward", lambda: draw_network(forward_only(), "forward", edge_labels="gradients"),
     ValueError, ["'gradients'", "backward"]),
    ("unknown mode", lambda: draw_network(examples.two_relu_network(ran=True), "sideways"),
     ValueError, ["'mode'", "'forward'"]),
    ("unknown edge labels", lambda: draw_network(examples.two_relu_network(ran=True), edge_labels="both"),
     ValueError, ["'edge_labels'"]),
    ("highlight as text", lambda: draw_network(examples.two_relu_network(ran=True), highlight="z"),
     TypeError, ["'highlight'", "collection"]),
    ("reads not tuples", lambda: draw_network(examples.two_relu_network(ran=True), reads=["z"]),
     TypeError, ["'reads'", "tuples"]),
    ("biases as a number", lambda: draw_network(examples.two_relu_network(ran=True), biases=1),
     TypeError, ["'biases'", "True or False"]),
    ("a vector activation", lambda: draw_network(_softmax_net()), ValueError, ["scalar activations", "softmax"]),
    ("both passes before backward", lambda: draw_forward_backward(forward_only(), [3.0]),
     ValueError, ["'net'", "backward(d)"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
