"""The shared DAG layout and drawing (influence diagrams, notebook 01; computational graphs, notebook 02)."""

import io
import subprocess
import sys

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from backprop.drawing import draw_dag, layered_layout
from backprop.graph import Value, draw_graph, sigmoid_neuron_example

pytestmark = [pytest.mark.nb01, pytest.mark.nb02]

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
    # a -> c skips layer 1: its label sits in its slot there, in b's column but on a row of its own
    fig = draw_dag(nodes, edges, node_text=str, edge_text=["", "", "long", ""])
    at = {t.get_text(): t.get_position() for t in fig.axes[0].texts}
    assert at["long"][0] == pytest.approx(at["b"][0])
    assert at["long"][1] not in (at["b"][1], at["d"][1])
    assert len(arrows(fig.axes[0])) == 4


def test_layer_of_overrides_and_is_checked():
    place = layered_layout(["a", "b", "c"], [("a", "c"), ("b", "c")], layer_of={"a": 0, "b": 1, "c": 2})
    assert (place["a"][0], place["b"][0], place["c"][0]) == (0, 1, 2)
    with pytest.raises(ValueError, match="'layer_of'.*later layer"):
        layered_layout(["a", "b"], [("a", "b")], layer_of={"b": 0})
    with pytest.raises(ValueError, match="'layer_of'.*nodes"):
        layered_layout(["a", "b"], [("a", "b")], layer_of={"q": 0})
    with pytest.raises(ValueError, match="'layer_of'.*integer"):
        layered_layout(["a", "b"], [("a", "b")], layer_of={"a": 0.5})
    with pytest.raises(TypeError, match="'layer_of'"):
        layered_layout(["a", "b"], [("a", "b")], layer_of=[0, 1])


@pytest.mark.parametrize("nodes, edges, error, match", [
    (["a", "b"], [("a", "b"), ("b", "a")], ValueError, "'edges'.*acyclic"),
    (["a", "b"], [("a", "q")], ValueError, "'edges'.*nodes"),
    (["a", "b"], [("a", "b", "c")], TypeError, "'edges'.*pairs"),
    (["a", "b"], "ab", TypeError, "'edges'"),
    ("ab", [], TypeError, "'nodes'"),
    (["a", "a"], [], ValueError, "'nodes'.*distinct"),
    ([["a"]], [], TypeError, "'nodes'.*hashable"),
])
def test_bad_graphs_are_rejected(nodes, edges, error, match):
    with pytest.raises(error, match=match):
        layered_layout(nodes, edges)


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


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(node_text={"x": "x"}), ValueError, "'node_text'.*'y'"),
    (dict(node_text=str, edge_text=["a"]), ValueError, "'edge_text'.*one label per edge"),
    (dict(node_text=str, edge_text={("x", "u"): "a"}), ValueError, "'edge_text'"),
    (dict(node_text=lambda n: 1), TypeError, "'node_text'.*str"),
    (dict(node_text="x"), TypeError, "'node_text'"),
    (dict(node_text=str, node_shape="hexagon"), ValueError, "'node_shape'"),
])
def test_draw_dag_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        draw_dag(NODES, EDGES, **kwargs)


def test_draw_graph_shows_value_and_gradient():
    f, leaves = sigmoid_neuron_example()
    f.backward()
    fig = draw_graph(f)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert "x0\n-1.00\ngrad 0.39" in texts and "f\n0.73\ngrad 1.00" in texts
    assert sorted(t for t in texts if "\n" not in t) == sorted(["*"] * 4 + ["+"] * 4 + ["* -1", "exp", "+ 1", "1/x"])
    assert len(arrows(ax)) == 12


def test_draw_graph_of_a_value_used_twice():
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    ax = draw_graph(y).axes[0]
    assert len(arrows(ax)) == 2 and "x\n3.00\ngrad 6.00" in [t.get_text() for t in ax.texts]


def test_importing_the_library_changes_no_global_state():
    # rcParams["backend"] is skipped: reading it would itself import pyplot.
    code = (
        "import matplotlib, matplotlib.figure, sys, warnings, numpy as np, sympy;"  # third-party import effects are theirs
        "snapshot = lambda: {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != 'backend'};"
        "before, filters, rng = snapshot(), list(warnings.filters), np.random.get_state()[1].copy();"
        "import backprop, backprop.symbolic;"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported';"
        "assert snapshot() == before, 'rcParams changed';"
        "assert list(warnings.filters) == filters, 'warnings filters changed';"
        "assert (np.random.get_state()[1] == rng).all(), 'global numpy RNG touched'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
