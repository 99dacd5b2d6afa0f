"""Tests backprop.experiments.vector_form: the lecture's Jacobian form and the delta form of the backward pass,
each with three witnesses (SymPy, finite differences over random networks, the worked numbers of
notebook 05's 2-3-1 network), the shape rows, the timing and the stored sweep."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.experiments.vector_form import delta_backward, shape_rows
import backprop.core.layers
from backprop.experiments.vector_form import SPEEDUP_FILE
from strategies import FD_EXAMPLES, OUTPUTS, assert_explained, random_network

EX = bp.examples.VECTOR_231


def _as_gradients(net, x, d):
    """Both forms, shaped like the parameters: {"W(k)": ..., "b(k)": ...} each."""
    lec, dl = bp.jacobian_backward(net, x, d), delta_backward(net, x, d)
    N = len(bp.layer_pairs(net))
    lecture = {f"W({k})": lec["dW"][k].T for k in range(1, N + 1)} | {f"b({k})": lec["db"][k][0] for k in range(1, N + 1)}
    delta = {f"W({k})": dl["grad_W"][k] for k in range(1, N + 1)} | {f"b({k})": dl["grad_b"][k][:, 0] for k in range(1, N + 1)}
    return lecture, delta


# -- witness 1: the worked numbers -------------------------------------------------------------------------
def test_the_worked_numbers_of_the_2_3_1_network():
    net, numbers = bp.vector_231_network(), EX["numbers"]
    lec = bp.jacobian_backward(net, EX["x"], EX["d"])
    assert lec["dy"][2].tolist() == [numbers["dDiv/dY"]]
    assert lec["dy"][1].tolist() == [numbers["dDiv/dy(1)"]]
    assert lec["dz"][1].tolist() == [numbers["dDiv/dz(1)"]]
    assert lec["dW"][2].tolist() == numbers["dDiv/dW(2)"] and lec["dW"][2].shape == (3, 1)
    assert lec["dW"][1].tolist() == numbers["dDiv/dW(1)"] and lec["dW"][1].shape == (2, 3)
    assert lec["dy"][0].tolist() == [numbers["dDiv/dx"]]
    dl = delta_backward(net, EX["x"], EX["d"])
    assert dl["grad_W"][1].tolist() == np.array(numbers["dDiv/dW(1)"]).T.tolist()
    assert dl["delta"][1][:, 0].tolist() == numbers["dDiv/dz(1)"]
    Y, caches = net.forward(np.array([EX["x"]]))
    assert caches[1][0][0].tolist() == numbers["z(1)"] and caches[1][1][0].tolist() == numbers["y(1)"]
    assert Y.tolist() == [numbers["Y"]] and net.loss(np.array([EX["x"]]), np.array([EX["d"]])) == numbers["Div"]


def test_the_jacobians_are_diagonal_for_a_scalar_activation_and_full_for_softmax():
    net = bp.vector_231_network()
    J = bp.jacobian_backward(net, EX["x"], EX["d"])["J"][1]
    assert J.tolist() == np.diag([0.0, 1.0, 1.0]).tolist()
    rng = np.random.default_rng(0)
    soft = bp.mlp([2, 3], ["softmax"], rng=rng, divergence="cross_entropy")
    J = bp.jacobian_backward(soft, [0.5, -1.0], 1)["J"][1]
    assert J.shape == (3, 3) and np.all(np.abs(J) > 0)


# -- witness 2: SymPy, differentiating the network written out as one formula ---------------------------------
@pytest.mark.parametrize("seed, activations", [(0, ["tanh", "identity"]), (1, ["sigmoid", "tanh", "identity"]),
                                               (2, ["relu", "identity"])])
def test_both_forms_equal_sympy(seed, activations):
    rng = np.random.default_rng(seed)
    widths = [3, 4, 2, 1][: len(activations) + 1]
    net = bp.mlp(widths, activations, rng=rng)
    x, d = rng.normal(size=widths[0]), rng.normal(size=widths[-1])
    scalar = bp.ScalarNetwork.from_network(net)
    symbolic = bp.SymbolicNetwork.like(scalar)
    exact = symbolic.gradients_at(symbolic.values(scalar, x, d))
    for form in _as_gradients(net, x, d):
        for name, g in form.items():
            assert np.allclose(g, np.asarray(exact[name], dtype=float), rtol=1e-12, atol=1e-13), name


def test_sympy_on_the_worked_example():
    net = bp.vector_231_network()
    scalar = bp.ScalarNetwork.from_network(net)
    symbolic = bp.SymbolicNetwork.like(scalar)
    exact = symbolic.gradients_at(symbolic.values(scalar, np.array(EX["x"]), np.array(EX["d"])))
    lecture, delta = _as_gradients(net, EX["x"], EX["d"])
    for name in lecture:
        assert lecture[name].tolist() == delta[name].tolist() == np.asarray(exact[name], dtype=float).tolist()


# -- witness 3: random networks, every divergence, against finite differences and the network ---------------------
@settings(max_examples=FD_EXAMPLES, deadline=None)
@given(depth=st.integers(1, 3), divergence=st.sampled_from(sorted(OUTPUTS)), seed=st.integers(0, 2**32 - 1))
def test_both_forms_match_finite_differences_on_random_networks(depth, divergence, seed):
    net, X, d = random_network(np.random.default_rng(seed), depth, divergence)
    x, d1 = X[0], np.asarray(d)[0]
    report = net.gradient_check(x[None, :], np.asarray(d)[:1])
    lecture, delta = _as_gradients(net, x, d1)
    for entry in report.entries:
        if entry.status == "kink":
            continue
        for form in (lecture, delta):
            value = form[entry.parameter][entry.index]
            assert abs(value - entry.numeric) <= 1e-6 * max(1.0, abs(entry.numeric)), (entry.name, value, entry.numeric)


@settings(max_examples=FD_EXAMPLES, deadline=None)
@given(depth=st.integers(1, 3), divergence=st.sampled_from(sorted(OUTPUTS)), seed=st.integers(0, 2**32 - 1))
def test_the_delta_form_is_the_lectures_transposed_and_the_batch_is_their_average(depth, divergence, seed):
    net, X, d = random_network(np.random.default_rng(seed), depth, divergence)
    d = np.asarray(d)
    N = len(bp.layer_pairs(net))
    total = None
    for t in range(len(X)):
        lec, dl = bp.jacobian_backward(net, X[t], d[t]), delta_backward(net, X[t], d[t])
        for k in range(1, N + 1):
            assert np.allclose(lec["dz"][k].T, dl["delta"][k], rtol=1e-12, atol=1e-14)
            assert np.allclose(lec["dW"][k].T, dl["grad_W"][k], rtol=1e-12, atol=1e-14)
        lecture, _ = _as_gradients(net, X[t], d[t])
        total = lecture if total is None else {n: total[n] + g for n, g in lecture.items()}
    _, grads = net.loss_and_gradients(X, d)
    for name, g in grads.items():  # the mini-batch's 1/B: the average of the per-instance gradients
        assert np.allclose(g, total[name] / len(X), rtol=1e-10, atol=1e-12), name


# -- shapes, errors, timing, stored data -----------------------------------------------------------------------
def test_shape_rows_read_every_shape_from_the_arrays():
    rng = np.random.default_rng(3)
    net = bp.mlp([5, 3, 2], ["tanh", "softmax"], rng=rng, divergence="cross_entropy")
    rows = {name: (lec, code) for name, _, lec, code in shape_rows(net, rng.normal(size=(7, 5)), rng.integers(0, 2, 7))}
    assert rows["W(1)"] == ((3, 5), (3, 5)) and rows["dDiv/dW(1)"] == ((5, 3), (3, 5))
    assert rows["z(2)"] == ((2, 1), (7, 2)) and rows["dDiv/dz(2)"] == ((1, 2), (7, 2))
    assert rows["dy(2)/dz(2)"] == ((2, 2), None) and rows["Div"] == ((1, 1), ())
    assert rows["b(2)"] == ((2, 1), (2,)) and rows["dDiv/db(2)"] == ((1, 2), (2,))


def test_a_network_that_is_not_affine_activation_pairs_is_refused():
    net = bp.Network([backprop.core.layers.Affine(np.eye(2), np.zeros(2))])
    assert_explained(lambda: bp.jacobian_backward(net, [1.0, 2.0], [0.0, 0.0]), ValueError,
                     ["'net'", "alternating Affine and ActivationLayer"])
    assert_explained(lambda: delta_backward(bp.vector_231_network(), [1.0, 2.0, 3.0], [3.0]), ValueError,
                     ["'x'", "(2,)", "(3,)"])


def test_timing_gives_seconds_per_instance_and_the_matrices_win():
    rng = np.random.default_rng(4)
    net = bp.mlp([64, 64, 10], ["relu", "softmax"], rng=rng, divergence="cross_entropy")
    out = bp.time_loops_and_matrices(net, rng.normal(size=(32, 64)), rng.integers(0, 10, 32), repeats=1,
                                     loop_instances=2)
    assert set(out) == {"batch_size", "loop_seconds_per_instance", "matrix_seconds_per_instance", "speedup"}
    assert out["batch_size"] == 32 and out["speedup"] > 5
    assert_explained(lambda: bp.time_loops_and_matrices(net, np.zeros((2, 64)), [0, 1], repeats=0), ValueError,
                     ["'repeats'"])


def test_the_stored_sweep_says_where_it_came_from_and_covers_the_bench_sizes():
    from backprop.bench import SWEEP_BATCHES

    sweep = bp.stored_speedup()
    assert sweep["source"].startswith(f"python -m backprop.bench --batch-sweep {SPEEDUP_FILE}")
    assert [r["batch_size"] for r in sweep["rows"]] == list(SWEEP_BATCHES)
    for r in sweep["rows"]:
        assert r["loop_seconds_per_instance"] > r["matrix_seconds_per_instance"] > 0
