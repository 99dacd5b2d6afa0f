"""The shared DAG layout and drawing (views/dag.py): influence diagrams and computational graphs alike."""

import io
import math

import pytest
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import backprop as bp
from backprop.views.dag import draw_dag, draw_graph, draw_influence_diagram, layered_layout
from strategies import arrows_under_labels, assert_explained, influence_example, influence_examples, overlapping_labels

NODES = ["x", "y", "u", "v", "z"]
EDGES = [("x", "u"), ("y", "u"), ("x", "v"), ("u", "z"), ("v", "z"), ("x", "z")]


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def crossings(place, edges):
    segs = [(place[s][1], place[t][1]) for s, t in edges if place[t][0] == place[s][0] + 1]
    return sum((a0 - b0) * (a1 - b1) < 0 for i, (a0, a1) in enumerate(segs) for b0, b1 in segs[i + 1:])


def test_layers_are_longest_paths_from_the_sources():
    place = layered_layout(NODES, EDGES)
    assert {n: k for n, (k, _) in place.items()} == {"x": 0, "y": 0, "u": 1, "v": 1, "z": 2}
    assert all(place[s][0] < place[t][0] for s, t in EDGES)


def test_layout_is_deterministic():
    assert layered_layout(NODES, EDGES) == layered_layout(list(NODES), list(EDGES))


def test_barycentre_ordering_removes_an_avoidable_crossing():
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "d"), ("b", "c")]  # in the given order, c above d: the two edges cross
    place = layered_layout(nodes, edges)
    assert crossings(place, edges) == 0
    assert place["d"][1] < place["c"][1]


def test_a_long_edge_passes_through_its_own_slot():
    nodes, edges = ["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("a", "d")]
    place = layered_layout(nodes, edges)
    assert (place["b"][0], place["c"][0], place["d"][0]) == (1, 2, 1)
    # a -> c skips layer 1: it runs through a slot of its own there, on a row of its own, and so does its label
    fig = draw_dag(nodes, edges, node_text=str, edge_text=["", "", "long", ""])
    at = {t.get_text(): t.get_position() for t in fig.axes[0].texts}
    assert at["long"][1] not in (at["b"][1], at["d"][1])
    assert len(arrows(fig.axes[0])) == 4
    assert labels_on_their_own_edges(fig) == [("long", 2)]


def labels_on_their_own_edges(fig):
    """[(label, index of the one arrow under it)], measured on the rendered figure; fails if a label
    has no arrow under it, or more than one (then a reader could not tell which arrow it names)."""
    out = []
    for text, crossing in arrows_under_labels(fig):
        assert len(crossing) == 1, f"label {text.get_text()!r} lies over arrows {crossing}"
        out.append((text.get_text(), crossing[0]))
    assert overlapping_labels(fig) == []
    return out


def test_every_label_sits_on_its_own_edge_and_off_the_others():
    x, y1, y2, y3, z = sp.symbols("x y_1 y_2 y_3 z")
    diagram = bp.influence_diagram({y1: sp.exp(x), y2: x**2, y3: sp.cos(x), z: y1 * y2 + y3**2})
    fig = draw_influence_diagram(diagram, at={x: 0.5})
    nearest = labels_on_their_own_edges(fig)
    edges = list(diagram.edges)
    for label, index in nearest:
        source, target = edges[index]
        assert label.endswith(f"{diagram.evaluate(diagram.weight(source, target), {x: 0.5}):.2f}"), (label, edges[index])
    assert len(nearest) == len(edges)


def _four_paths():
    x, a, b, c, d, s, z = sp.symbols("x a b c d s z")
    return bp.influence_diagram({a: sp.cos(x), b: x**3, c: a - b, d: sp.exp(c), s: c**2, z: d * s}), {x: 0.7}


@pytest.mark.parametrize("name", [*influence_examples(), "four paths"])
@pytest.mark.parametrize("valued", [False, True], ids=["symbols", "valued"])
def test_no_label_lies_over_another_arrow(name, valued):
    diagram, at = _four_paths() if name == "four paths" else influence_example(name)[::2]
    labels = labels_on_their_own_edges(draw_influence_diagram(diagram, at=at if valued else None))
    assert len(labels) == len(diagram.edges)


def test_layer_of_overrides_the_longest_path():
    place = layered_layout(["a", "b", "c"], [("a", "c"), ("b", "c")], layer_of={"a": 0, "b": 1, "c": 2})
    assert (place["a"][0], place["b"][0], place["c"][0]) == (0, 1, 2)


@pytest.mark.parametrize("layer_of, error, fragments", [
    ({"b": 0}, ValueError, ["'layer_of'", "every edge to go to a later layer", "'a' (layer 0) -> 'b' (layer 0)"]),
    ({"q": 0}, ValueError, ["'layer_of'", "nodes from 'nodes'", "got 'q'"]),
    ({"a": 0.5}, ValueError, ["'layer_of'", "non-negative integer layers", "got 0.5 for 'a'"]),
    ({"a": -1}, ValueError, ["'layer_of'", "non-negative integer layers", "got -1 for 'a'"]),
    ([0, 1], TypeError, ["'layer_of'", "a mapping node -> layer", "got list"]),
])
def test_bad_layer_of_is_explained(layer_of, error, fragments):
    assert_explained(lambda: layered_layout(["a", "b"], [("a", "b")], layer_of=layer_of), error, fragments)


@pytest.mark.parametrize("nodes, edges, error, fragments", [
    (["a", "b"], [("a", "b"), ("b", "a")], ValueError, ["'edges'", "an acyclic graph", "got a cycle through"]),
    (["a", "b"], [("a", "q")], ValueError, ["'edges'", "pairs of nodes from 'nodes'", "('a', 'q') at index 0"]),
    (["a", "b"], [("a", "b", "c")], TypeError, ["'edges'", "(source, target) pairs", "at index 0"]),
    (["a", "b"], "ab", TypeError, ["'edges'", "a sequence of (source, target) pairs", "got str 'ab'"]),
    ("ab", [], TypeError, ["'nodes'", "a sequence of hashable nodes", "got str 'ab'"]),
    (["a", "a"], [], ValueError, ["'nodes'", "distinct nodes", "a repeated node"]),
    ([["a"]], [], TypeError, ["'nodes'", "hashable nodes", "got list"]),
])
def test_bad_graphs_are_rejected(nodes, edges, error, fragments):
    assert_explained(lambda: layered_layout(nodes, edges), error, fragments)
    assert_explained(lambda: draw_dag(nodes, edges, node_text=str), error, fragments)


def test_draw_dag_draws_every_node_edge_and_label():
    edges = EDGES + [("u", "z")]  # a repeated edge is drawn as a second arrow
    fig = draw_dag(NODES, edges, node_text={n: f"${n}$\n1.00\ngrad 0.39" for n in NODES},
                   edge_text=[f"e{i}" for i in range(len(edges))], title="a diagram")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(arrows(ax)) == len(edges)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == sorted([f"${n}$\n1.00\ngrad 0.39" for n in NODES] + [f"e{i}" for i in range(7)]
                                   + ["a diagram"])
    fig.savefig(io.BytesIO(), format="png")  # renders, multi-line mathtext included


def test_draw_dag_is_deterministic():
    def draw():
        fig = draw_dag(NODES, EDGES, node_text=str, edge_text=lambda e: "+", node_shape="circle")
        return [(t.get_text(), t.get_position()) for t in fig.axes[0].texts], fig.get_size_inches().tolist()

    assert draw() == draw()


def test_unlabelled_edges_have_no_text():
    fig = draw_dag(NODES, EDGES, node_text=str)
    assert len(fig.axes[0].texts) == len(NODES) and len(arrows(fig.axes[0])) == len(EDGES)


def test_draw_dag_on_a_given_axes():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    assert draw_dag(NODES, EDGES, node_text=str, ax=ax) is fig
    assert len(arrows(ax)) == len(EDGES)
    fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize("kwargs, error, fragments", [
    (dict(node_text={"x": "x"}), ValueError, ["'node_text'", "no text for 'y'"]),
    (dict(node_text=str, edge_text=["a"]), ValueError, ["'edge_text'", "one label per edge (6)", "got 1"]),
    (dict(node_text=str, edge_text={("x", "u"): "a"}), ValueError, ["'edge_text'", "no text for ('y', 'u')"]),
    (dict(node_text=lambda n: 1), TypeError, ["'node_text'", "expected str for 'x'", "got int 1"]),
    (dict(node_text="x"), TypeError, ["'node_text'", "a mapping or a function giving str", "got str 'x'"]),
    (dict(node_text=str, node_shape="hexagon"), ValueError, ["'node_shape'", "'box'", "got 'hexagon'"]),
])
def test_draw_dag_bad_arguments(kwargs, error, fragments):
    assert_explained(lambda: draw_dag(NODES, EDGES, **kwargs), error, fragments)


# -- computational graphs ---------------------------------------------------------------------------
def test_draw_graph_shows_value_and_gradient():
    f, leaves = bp.sigmoid_neuron_example()
    f.backward()
    numbers = bp.examples.SIGMOID_NEURON["numbers"]
    fig = draw_graph(f)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    for name, value in bp.examples.SIGMOID_NEURON["inputs"].items():  # every leaf: its value and gradient
        assert f"{name}\n{value:.2f}\ngrad {numbers['gradients'][name]:.2f}" in texts
    assert f"f\n{numbers['forward'][-1]:.2f}\ngrad 1.00" in texts
    assert sorted(t for t in texts if "\n" not in t) == sorted(["*"] * 4 + ["+"] * 4 + ["* -1", "exp", "+ 1", "1/x"])
    assert len(arrows(ax)) == 12
    fig.savefig(io.BytesIO(), format="png")


def test_draw_graph_with_the_sigmoid_gate_and_a_title():
    f, _ = bp.sigmoid_neuron_example(use_sigmoid_gate=True)
    f.backward()
    texts = [t.get_text() for t in draw_graph(f, title="one gate").axes[0].texts]
    assert "one gate" in texts and "σ" in texts
    assert f"f\n{bp.examples.SIGMOID_NEURON['numbers']['forward'][-1]:.2f}\ngrad 1.00" in texts


def test_draw_graph_of_a_value_used_twice():
    x = bp.Value(3.0, "x")
    y = x * x
    y.backward()
    ax = draw_graph(y).axes[0]
    assert len(arrows(ax)) == 2 and "x\n3.00\ngrad 6.00" in [t.get_text() for t in ax.texts]


def test_draw_graph_names_unlabelled_values_and_never_shows_minus_zero():
    a = bp.Value(-0.001, "a")
    out = (a * 2.0).relu()  # a dead ReLU: a's gradient is 0, its value rounds to -0.00
    out.backward()
    texts = [t.get_text() for t in draw_graph(out).axes[0].texts]
    assert "a\n0.00\ngrad 0.00" in texts and "v1\n0.00\ngrad 0.00" in texts
    assert not any("-0.00" in t for t in texts)


def test_draw_graph_on_a_given_axes():
    f, _ = bp.sigmoid_neuron_example()
    f.backward()
    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    assert draw_graph(f, ax=ax) is fig and len(arrows(ax)) == 12


# -- influence diagrams ---------------------------------------------------------------------------
x, u, v, w, y, z = sp.symbols("x u v w y z")
SKIP = {u: sp.exp(x), v: sp.log(u + x**2), w: sp.tanh(v * x), z: w + u}  # exp, log, tanh and a skip arrow


@pytest.mark.parametrize("at", [None, {x: 0.5}])
def test_influence_diagram_has_one_arrow_and_one_label_per_edge(at):
    diagram = bp.influence_diagram(SKIP)
    fig = draw_influence_diagram(diagram, at=at)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(arrows(ax)) == len(diagram.edges) == 7
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == len(diagram.nodes) + len(diagram.edges)
    assert "$\\tanh{\\left(u v \\right)}$" not in texts  # weights are local derivatives, not definitions
    assert any("\\tanh" in t for t in texts)
    if at is None:
        assert "$e^{x}$" in texts and "$x$" in texts
    else:
        assert f"$e^{{x}}$ = {math.exp(0.5):.2f}" in texts  # the arrow x -> u, valued at x = 0.5
        assert f"$u$\n{math.exp(0.5):.2f}" in texts  # the variable u, valued there
        fig.savefig(io.BytesIO(), format="png")  # every mathtext label renders


def test_influence_diagram_on_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_influence_diagram(bp.influence_diagram({z: sp.sin(x) * y}), ax=ax, title="dz") is fig
    assert len(arrows(ax)) == 2 and "dz" in [t.get_text() for t in ax.texts]


def test_a_label_mathtext_cannot_render_is_shown_as_plain_text():
    relu_slope = sp.Piecewise((1, x > 0), (0, True))  # LaTeX \begin{cases}: beyond matplotlib's mathtext
    fig = draw_influence_diagram(bp.InfluenceDiagram().add_edge(x, z, relu_slope))
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(["$x$", "$z$", str(relu_slope)])
    fig.savefig(io.BytesIO(), format="png")


def test_draw_influence_diagram_refuses_other_objects():
    assert_explained(lambda: draw_influence_diagram({u: x}), TypeError,
                     ["'diagram'", "expected an InfluenceDiagram", "got dict"])


@pytest.mark.parametrize("example", ["sigmoid neuron", "two ReLU", "skip"])
def test_graph_labels_lie_on_their_own_arrows(example):
    if example == "sigmoid neuron":
        out, _ = bp.sigmoid_neuron_example()
    else:
        x, w1, w2 = bp.Value(1.0, "x"), bp.Value(2.0, "w1"), bp.Value(-1.0, "w2")
        z = x * w1 + x * w2
        out = z + z.relu() if example == "skip" else (z * w1).relu() + (z * w2).relu()
    out.backward()
    order = bp.topological_order(out)
    labels = labels_on_their_own_edges(draw_graph(out))
    assert len(labels) == sum(len(v.inputs) for v in order)


def test_fractions_on_arrows_are_full_size():
    y, w = sp.symbols("y w")
    diagram = bp.influence_diagram({y: 1 + sp.exp(x), z: sp.log(y), w: 1 / (1 + sp.exp(-z))})
    labels = [t.get_text() for t in draw_influence_diagram(diagram).axes[0].texts if t.get_bbox_patch()]
    assert "$1 / y$" in labels  # short: inline
    assert not any(r"\frac" in label for label in labels)  # long: \dfrac, not the shrunken \frac
    assert any(r"\dfrac" in label for label in labels)
