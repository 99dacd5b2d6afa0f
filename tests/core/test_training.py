"""Tests backprop.core.training: update, clipping, the lecture's loop and variants, divergence, history, progress."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.core.divergences import DIVERGENCES
from backprop.core.examples import vector_network
from backprop.core.layers import ActivationLayer, Affine, Multiplicative
from backprop.core.training import TrainingDiverged, descent_variant, sgd_update
from backprop.core import training as T
from strategies import assert_explained

TWO_RELU = bp.examples.TWO_RELU


def small_problem(seed=0, T=12, divergence="cross_entropy", activations=("tanh", "softmax"), widths=(5, 7, 3)):
    rng = np.random.default_rng(seed)
    net = bp.mlp(list(widths), list(activations), rng=rng, divergence=divergence)
    X = rng.normal(size=(T, widths[0]))
    if divergence in ("cross_entropy", "softmax_cross_entropy"):
        d = rng.integers(0, widths[-1], size=T)
    elif divergence in ("binary_cross_entropy", "sigmoid_binary_cross_entropy"):
        d = rng.integers(0, 2, size=(T, widths[-1])).astype(float)
    elif divergence == "kl_divergence":
        d = rng.dirichlet(np.ones(widths[-1]), size=T)
    else:
        d = rng.normal(size=(T, widths[-1]))
    return net, X, d, rng


def copy_params(net):
    return {name: p.copy() for name, p in net.parameters().items()}


def shared_network():
    """One affine layer used twice, Y = w (w x + b) + b at w = 2, b = 0 (see test_network): at x = 1, d = 0
    the gradients are 16 (w) and 12 (b), global norm 20."""
    aff = Affine([[2.0]], [0.0])
    return bp.Network([aff, aff], "half_squared_error")


# -- the update ------------------------------------------------------------------------------------------------
def test_sgd_update_by_hand_leaves_the_gradients_unchanged():
    params = {"W": np.array([[1.0, 2.0]]), "b": np.array([0.5])}
    grads = {"W": np.array([[0.5, -1.0]]), "b": np.array([2.0])}
    W = params["W"]
    sgd_update(params, grads, 0.1)
    np.testing.assert_allclose(params["W"], [[0.95, 2.1]], rtol=1e-15)  # W - eta grad W
    np.testing.assert_allclose(params["b"], [0.3], rtol=1e-15)
    assert params["W"] is W  # in place
    assert grads["W"].tolist() == [[0.5, -1.0]] and grads["b"].tolist() == [2.0]


def test_sgd_update_with_reuse_grads_leaves_eta_times_grad_in_them():
    params = {"W": np.array([[1.0, 2.0]]), "b": np.array([0.5])}
    grads = {"W": np.array([[0.5, -1.0]]), "b": np.array([2.0])}
    g = grads["W"]
    sgd_update(params, grads, 0.1, reuse_grads=True)
    np.testing.assert_allclose(params["W"], [[0.95, 2.1]], rtol=1e-15)
    np.testing.assert_allclose(grads["W"], [[0.05, -0.1]], rtol=1e-15)  # eta * grad, in the same array
    np.testing.assert_allclose(grads["b"], [0.2], rtol=1e-15)
    assert grads["W"] is g


def test_sgd_update_steps_against_the_gradient_of_a_network():
    net, X, d, _ = small_problem()
    before = copy_params(net)
    loss, grads = net.loss_and_gradients(X, d)
    sgd_update(net.parameters(), grads, 1e-3)
    assert net.loss(X, d) < loss  # a small step downhill lowers the loss
    # first order: the loss falls by about eta |grad|^2
    drop = 1e-3 * sum(float(np.sum(g * g)) for g in grads.values())
    assert loss - net.loss(X, d) == pytest.approx(drop, rel=1e-2)
    assert all(not np.array_equal(p, before[name]) for name, p in net.parameters().items())


def test_sgd_update_refuses_mismatched_gradients():
    net, X, d, _ = small_problem()
    _, grads = net.loss_and_gradients(X, d)
    assert_explained(lambda: sgd_update(net.parameters(), grads, -0.1), ValueError,
                     ["argument 'eta' expected a learning rate > 0, got -0.1"])
    assert_explained(lambda: sgd_update(net.parameters(), grads | {"W(1)": np.zeros((5, 7))}, 0.1), ValueError,
                     ["'grads['W(1)']' expected the shape of the parameter (7, 5)"])
    assert_explained(lambda: sgd_update(net.parameters(), {"W(1)": grads["W(1)"]}, 0.1), ValueError,
                     ["'grads' expected the names of 'params'"])
    assert_explained(lambda: sgd_update([1.0], grads, 0.1), TypeError, ["'params' and 'grads'", "mappings"])


# -- clipping --------------------------------------------------------------------------------------------------
def test_global_norm_by_hand():
    assert bp.global_norm({"W": np.array([[3.0]]), "b": np.array([4.0])}) == 5.0
    assert bp.global_norm({"W": np.array([[1.0, 2.0], [2.0, 4.0]]), "b": np.array([0.0, 0.0])}) == 5.0
    assert bp.global_norm({}) == 0.0


#: integer vectors with an integer norm: (entries, norm)
PYTHAGOREAN = [((3.0, 4.0, 0.0), 5.0), ((1.0, 2.0, 2.0), 3.0), ((2.0, 3.0, 6.0), 7.0), ((1.0, 4.0, 8.0), 9.0),
               ((2.0, 6.0, 9.0), 11.0)]


@settings(max_examples=100)
@given(case=st.sampled_from(PYTHAGOREAN), signs=st.tuples(*[st.sampled_from([-1.0, 1.0])] * 3),
       scale=st.sampled_from([2.0**k for k in range(-8, 9)]), tau=st.floats(0.01, 100.0))
def test_clipping_keeps_the_direction_and_caps_the_norm(case, signs, scale, tau):
    entries, n = case
    v = np.array(entries) * np.array(signs) * scale  # norm n * scale, exactly
    grads = {"W(1)": v[:2].reshape(1, 2), "b(1)": v[2:]}
    clipped, norm = bp.clip_by_global_norm(grads, tau)
    assert norm == pytest.approx(n * scale, rel=1e-15)
    factor = min(1.0, tau / (n * scale))  # the same direction, norm min(norm, tau)
    for name in grads:
        np.testing.assert_allclose(clipped[name], grads[name] * factor, rtol=1e-13, atol=1e-300)
    if n * scale <= tau:  # nothing to do: the same arrays come back
        assert all(clipped[name] is grads[name] for name in grads)
    else:
        assert all(clipped[name] is not grads[name] for name in grads)
        np.testing.assert_array_equal(grads["b(1)"], v[2:])  # the originals are untouched


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), tau=st.floats(0.01, 10.0))
def test_clipping_any_gradients_gives_a_positive_multiple_within_tau(seed, tau):
    rng = np.random.default_rng(seed)
    grads = {"W(1)": rng.normal(size=(4, 3)) * rng.uniform(0.01, 5), "b(1)": rng.normal(size=4)}
    clipped, norm = bp.clip_by_global_norm(grads, tau)
    assert bp.global_norm(clipped) == pytest.approx(min(norm, tau), rel=1e-12)
    ratios = np.concatenate([(clipped[k] / grads[k]).ravel() for k in grads])
    assert np.all(ratios > 0) and np.ptp(ratios) <= 1e-12 * ratios.max()  # one common positive factor


def test_clipping_refuses_a_non_positive_threshold():
    assert_explained(lambda: bp.clip_by_global_norm({"W": np.ones(2)}, 0.0), ValueError,
                     ["'tau' expected a clipping threshold > 0, got 0"])


def test_training_with_clipping_moves_the_parameters_by_exactly_eta_times_tau():
    net, X, d, _ = small_problem(seed=3)
    _, grads = net.loss_and_gradients(X, d)
    norm = bp.global_norm(grads)
    before = copy_params(net)
    history = bp.train(net, X, d, eta=0.5, epochs=1, batch_size=len(X), clip=norm / 4)
    moved = np.sqrt(sum(np.sum((p - before[name]) ** 2) for name, p in net.parameters().items()))
    assert moved == pytest.approx(0.5 * norm / 4, rel=1e-10)
    assert history.clipped_steps == 1 and history.step_grad_norm == [pytest.approx(norm, rel=1e-12)]
    for name, p in net.parameters().items():  # a quarter of the gradient step
        np.testing.assert_allclose(p, before[name] - 0.5 * grads[name] / 4, rtol=1e-12, atol=1e-15)


def test_clipping_a_shared_layer_uses_the_norm_of_the_summed_gradient():
    """Gradients (16, 12): global norm 20 (the shared parameter counted once, with both uses' shares).
    Clipped to tau = 10 and eta = 0.1: w = 2 - 0.1 * 16 / 2 = 1.2, b = 0 - 0.1 * 12 / 2 = -0.6."""
    net = shared_network()
    X, d = np.array([[1.0]]), np.array([[0.0]])
    assert bp.global_norm(net.loss_and_gradients(X, d)[1]) == 20.0
    history = bp.train(net, X, d, eta=0.1, epochs=1, batch_size=1, clip=10.0)
    assert history.step_grad_norm == [20.0] and history.clipped_steps == 1
    assert history.step_loss == [8.0]
    params = net.parameters()
    assert params["W(1)"][0, 0] == pytest.approx(1.2, rel=1e-15) and params["b(1)"][0] == pytest.approx(-0.6, rel=1e-15)


def test_a_shared_layer_trains_like_its_lecture_step():
    net_a, net_b = shared_network(), shared_network()
    X, d = np.array([[1.0], [0.5]]), np.array([[0.0], [1.0]])
    bp.lecture_step(net_a, X, d, eta=0.01)
    bp.train(net_b, X, d, eta=0.01, epochs=1, batch_size=2)
    for name, p in net_a.parameters().items():
        np.testing.assert_allclose(net_b.parameters()[name], p, rtol=1e-14)


# -- the lecture's algorithm and its variants ---------------------------------------------------------------------
@pytest.mark.parametrize("divergence, activations", [
    ("cross_entropy", ("relu", "softmax")),
    ("half_squared_error", ("sigmoid", "identity")),
    ("binary_cross_entropy", ("tanh", "sigmoid")),
])
def test_the_lecture_loop_and_the_whole_set_as_one_batch_give_the_same_update(divergence, activations):
    widths = (4, 6, 1) if divergence == "binary_cross_entropy" else (4, 6, 3)
    net_a, X, d, _ = small_problem(seed=11, divergence=divergence, activations=activations, widths=widths)
    net_b, *_ = small_problem(seed=11, divergence=divergence, activations=activations, widths=widths)
    loss_lecture = bp.lecture_step(net_a, X, d, eta=0.2)
    history = bp.train(net_b, X, d, eta=0.2, epochs=1, batch_size=len(X))
    assert history.variant == "batch"
    assert history.step_loss == [pytest.approx(loss_lecture, rel=1e-12)]
    for name, p in net_a.parameters().items():
        np.testing.assert_allclose(net_b.parameters()[name], p, rtol=1e-12, atol=1e-14)


OUTPUT = {"squared_error": "tanh", "half_squared_error": "identity", "binary_cross_entropy": "sigmoid",
          "sigmoid_binary_cross_entropy": "identity", "cross_entropy": "softmax", "kl_divergence": "softmax",
          "softmax_cross_entropy": "identity"}


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_trains_step_is_the_public_loss_and_the_lecture_update_for_every_divergence(name):
    """train computes its step from div.rule on unchecked batches; the checked public API gives the same."""
    net, X, d, _ = small_problem(seed=6, divergence=name, activations=("tanh", OUTPUT[name]), widths=(4, 5, 3))
    twin, *_ = small_problem(seed=6, divergence=name, activations=("tanh", OUTPUT[name]), widths=(4, 5, 3))
    expected_loss = net.loss(X, d)
    history = bp.train(net, X, d, eta=0.1, epochs=1, batch_size=len(X))
    assert history.step_loss == [pytest.approx(expected_loss, rel=1e-12)]
    assert bp.lecture_step(twin, X, d, eta=0.1) == pytest.approx(expected_loss, rel=1e-12)
    for name_, p in twin.parameters().items():
        np.testing.assert_allclose(net.parameters()[name_], p, rtol=1e-11, atol=1e-14)


def test_train_equals_lecture_step_through_residual_blocks_and_kinks():
    """A network with every kind of layer, two leaky ReLU units exactly at their kink: the batch step of
    train (its private forward pass and the divergence's rule) equals the lecture's instance-by-instance step."""
    def build():
        rng = np.random.default_rng(5)
        return bp.Network([
            Affine(rng.normal(size=(4, 3)), [0.0, 0.0, 1.0, -1.0]), ActivationLayer("leaky_relu", alpha=0.1),
            bp.Residual([Affine(rng.normal(size=(4, 4)), rng.normal(size=4)), ActivationLayer("sigmoid")]),
            ActivationLayer("relu", subgradient_at_zero=0.5), Affine(rng.normal(size=(5, 4)), rng.normal(size=5)),
            ActivationLayer("relu"), Affine(rng.normal(size=(3, 5)), rng.normal(size=3)),
            ActivationLayer("tanh"), Multiplicative([(0, 1), (1, 2), (2, 2)]),
            Affine(rng.normal(size=(2, 3)), rng.normal(size=2)), ActivationLayer("softmax"),
        ], "cross_entropy")

    rng = np.random.default_rng(8)
    X = rng.normal(size=(6, 3))
    X[0, :] = 0.0  # z(1) = b(1) for this row: two leaky ReLU units sit exactly at their kink
    labels = rng.integers(0, 2, size=6)
    lecture, trained = build(), build()
    loss = bp.lecture_step(lecture, X, labels, eta=0.3)
    history = bp.train(trained, X, labels, eta=0.3, epochs=1, batch_size=6)
    assert history.step_loss == [pytest.approx(loss, rel=1e-12)]
    for name, p in lecture.parameters().items():
        np.testing.assert_allclose(trained.parameters()[name], p, rtol=1e-12, atol=1e-14)


def test_lecture_gradients_equal_the_batch_and_the_scalar_loops():
    net, X, d, _ = small_problem(seed=4, activations=("relu", "softmax"))
    loss, grads = bp.lecture_gradients(net, X, d)
    loss_v, grads_v = net.loss_and_gradients(X, d)
    loss_s, grads_s = bp.ScalarNetwork.from_network(net).loss_and_gradients(X, d)
    assert loss == pytest.approx(loss_v, rel=1e-12) and loss == pytest.approx(loss_s, rel=1e-12)
    for name in grads_v:
        np.testing.assert_allclose(grads[name], grads_v[name], rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(grads[name], grads_s[name], rtol=1e-11, atol=1e-14)


def test_lecture_step_on_the_worked_example():
    """dDiv/dw(2) = (-4, 0), dDiv/dw(1) = (-2, 0): with eta = 0.1, w(2) = (1.4, 2), w(1) = (2.2, -1)."""
    net = vector_network(TWO_RELU)
    loss = bp.lecture_step(net, np.array([TWO_RELU["x"]]), np.array([TWO_RELU["d"]]), eta=0.1)
    assert loss == TWO_RELU["numbers"]["Div"]
    np.testing.assert_allclose(net.parameters()["W(2)"], [[1.4, 2.0]], rtol=1e-15)
    np.testing.assert_allclose(net.parameters()["W(1)"], [[2.2], [-1.0]], rtol=1e-15)
    assert_explained(lambda: bp.lecture_step(net, [[1.0]], [[3.0]], eta=0), ValueError,
                     ["'eta'", "expected a learning rate > 0", "got 0"])


@pytest.mark.parametrize("batch_size, variant, steps", [(1, "stochastic", 10), (3, "mini-batch", 4), (10, "batch", 1),
                                                        (99, "batch", 1)])
def test_variants_take_one_step_per_batch(batch_size, variant, steps):
    net, X, d, rng = small_problem(T=10)
    history = bp.train(net, X, d, eta=0.05, epochs=2, batch_size=batch_size, rng=rng)
    assert history.variant == variant == descent_variant(batch_size, 10)
    assert len(history.step_loss) == 2 * steps and history.epochs == [1, 2]
    assert history.batch_size == min(batch_size, 10) and history.eta == 0.05 and history.clip is None


def test_mini_batches_follow_the_generator():
    runs = []
    for _ in range(2):
        net, X, d, _ = small_problem(seed=2, T=20)
        runs.append(bp.train(net, X, d, eta=0.1, epochs=3, batch_size=4, rng=np.random.default_rng(9)).step_loss)
    net, X, d, _ = small_problem(seed=2, T=20)
    other = bp.train(net, X, d, eta=0.1, epochs=3, batch_size=4, rng=np.random.default_rng(10)).step_loss
    assert runs[0] == runs[1] and runs[0] != other
    net, X, d, _ = small_problem(seed=2, T=20)
    fixed = bp.train(net, X, d, eta=0.1, epochs=1, batch_size=4, shuffle=False)  # no rng needed: a fixed order
    assert len(fixed.step_loss) == 5


def test_stochastic_steps_in_a_fixed_order_are_lecture_steps_on_one_instance():
    net, X, d, _ = small_problem(seed=12, T=4)
    twin, *_ = small_problem(seed=12, T=4)
    history = bp.train(net, X, d, eta=0.2, epochs=1, batch_size=1, shuffle=False)
    losses = [bp.lecture_step(twin, X[t:t + 1], d[t:t + 1], eta=0.2) for t in range(4)]
    assert history.step_loss == pytest.approx(losses, rel=1e-12)
    for name, p in twin.parameters().items():
        np.testing.assert_allclose(net.parameters()[name], p, rtol=1e-12, atol=1e-14)


# -- accuracy on the digits ---------------------------------------------------------------------------------------
def test_training_reaches_97_percent_on_the_digits():
    rng = np.random.default_rng(0)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 64, 10], ["relu", "softmax"], rng=rng, divergence="cross_entropy"), "he", rng=rng)
    history = bp.train(net, data.X_train, data.labels_train, eta=0.3, epochs=60, batch_size=32, rng=rng,
                       X_test=data.X_test, d_test=data.labels_test)
    loss, accuracy = bp.evaluate(net, data.X_test, data.labels_test)
    assert accuracy >= 0.97
    assert history.test_accuracy[-1] == accuracy and history.test_loss[-1] == pytest.approx(loss)
    assert np.mean(bp.predict_labels(net, data.X_test) == data.labels_test) == accuracy
    assert history.train_loss[-1] < history.train_loss[0] / 10
    assert history.status == "completed" and "accuracy" in history.summary()
    assert history.summary().startswith("mini-batch descent (batch 32, eta 0.3): 60 epochs in ")


def test_two_or_not_two_with_one_sigmoid_output():
    rng = np.random.default_rng(1)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 16, 1], ["relu", "sigmoid"], rng=rng, divergence="binary_cross_entropy"),
                        "he", rng=rng)
    d_train, d_test = bp.two_or_not_two(data.labels_train), bp.two_or_not_two(data.labels_test)
    bp.train(net, data.X_train, d_train, eta=0.3, epochs=15, batch_size=32, rng=rng)
    _, accuracy = bp.evaluate(net, data.X_test, d_test)
    assert accuracy >= 0.98  # always answering "not 2" would score 0.90
    np.testing.assert_array_equal(bp.predict_labels(net, data.X_test[:5]), net.predict(data.X_test[:5])[:, 0] >= 0.5)


def test_evaluate_and_predict_labels_by_hand():
    """One logit unit with a fused sigmoid divergence switches class at 0; a probability unit at 0.5."""
    logit = bp.Network([Affine([[1.0]], [0.0])], "sigmoid_binary_cross_entropy")
    assert bp.predict_labels(logit, [[-0.1], [0.0], [2.0]]).tolist() == [0, 1, 1]
    prob = bp.Network([Affine([[1.0]], [0.0]), ActivationLayer("sigmoid")], "binary_cross_entropy")
    assert bp.predict_labels(prob, [[-0.1], [0.0], [2.0]]).tolist() == [0, 1, 1]
    loss, accuracy = bp.evaluate(prob, [[0.0], [0.0]], [[1.0], [1.0]])
    assert loss == pytest.approx(math.log(2), rel=1e-15) and accuracy == 1.0
    loss, accuracy = bp.evaluate(vector_network(TWO_RELU), [TWO_RELU["x"]], [TWO_RELU["d"]])
    assert loss == TWO_RELU["numbers"]["Div"] and math.isnan(accuracy)  # not classes


# -- divergence ------------------------------------------------------------------------------------------------------
def exploding_problem():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([8, 32, 32, 4], ["relu", "relu", "identity"], rng=rng), "he", rng=rng)
    X = rng.normal(size=(64, 8)) * 10
    return net, X, rng.normal(size=(64, 4)) * 10, rng


def test_divergence_stops_training_with_advice_and_keeps_the_history():
    net, X, d, rng = exploding_problem()
    with pytest.raises(TrainingDiverged) as info:
        bp.train(net, X, d, eta=5.0, epochs=50, batch_size=8, rng=rng)
    message = str(info.value)
    assert "diverged at epoch" in message and "lower learning rate than eta = 5" in message and "clip" in message
    assert "fused" not in message  # the hint about probabilities is for probability divergences only
    history = info.value.history
    assert history.diverged and history.message == message
    assert history.step_loss and all(math.isfinite(v) for v in history.step_loss)
    assert len(history.train_loss) == len(history.epochs)


def test_divergence_can_return_the_history_instead():
    net, X, d, rng = exploding_problem()
    history = bp.train(net, X, d, eta=5.0, epochs=50, batch_size=8, rng=rng, on_divergence="stop")
    assert history.status == "diverged" and "lower learning rate" in history.message
    assert "[diverged]" in history.summary()


def test_clipping_tames_the_same_run():
    net, X, d, rng = exploding_problem()
    history = bp.train(net, X, d, eta=5.0, epochs=3, batch_size=8, rng=rng, clip=0.01, on_divergence="stop")
    assert history.status == "completed" and history.clipped_steps == len(history.step_loss)
    assert history.summary().startswith("mini-batch descent (batch 8, eta 5, clip 0.01): 3 epochs")


def test_a_saturated_probability_divergence_points_to_the_fused_one():
    """A logit gap of 1000: the softmax gives the target class exactly 0, cross-entropy is inf at the first step."""
    net = bp.Network([Affine([[1000.0], [0.0]], [0.0, 0.0]), ActivationLayer("softmax")], "cross_entropy")
    with pytest.raises(TrainingDiverged) as info:
        bp.train(net, [[1.0]], [1], eta=0.1, epochs=1, batch_size=1)
    message = str(info.value)
    assert "epoch 1, step 1 of 1" in message and "the loss is inf" in message
    assert "cross_entropy is infinite" in message and "fused divergence" in message
    assert "softmax_cross_entropy" in message and info.value.history.step_loss == []
    # the same logits with the fused divergence train normally
    fused = bp.Network([Affine([[1000.0], [0.0]], [0.0, 0.0])], "softmax_cross_entropy")
    history = bp.train(fused, [[1.0]], [1], eta=0.1, epochs=1, batch_size=1)
    assert history.step_loss == [1000.0]


def test_a_saturated_sigmoid_with_binary_cross_entropy_points_to_the_fused_one():
    net = bp.Network([Affine([[-1000.0]], [0.0]), ActivationLayer("sigmoid")], "binary_cross_entropy")
    history = bp.train(net, [[1.0]], [[1.0]], eta=0.1, epochs=1, batch_size=1, on_divergence="stop")
    assert history.diverged and "sigmoid_binary_cross_entropy" in history.message


# -- the history: gradient norms and dead units ---------------------------------------------------------------------
def test_history_records_gradient_norms_per_parameter_and_dead_units():
    rng = np.random.default_rng(0)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 32, 32, 10], ["relu", "relu", "softmax"], rng=rng, divergence="cross_entropy"),
                        "he", rng=rng)
    history = bp.train(net, data.X_train, data.labels_train, eta=0.1, epochs=3, batch_size=64, rng=rng)
    assert list(history.grad_norm) == list(net.parameters())
    assert all(len(v) == 3 and all(x > 0 for x in v) for v in history.grad_norm.values())
    assert list(history.dead_relu) == ["y(1)", "y(2)"]
    assert all(0 <= f <= 1 for v in history.dead_relu.values() for f in v)
    assert history.seconds == sorted(history.seconds) and len(history.seconds) == 3
    assert len(history.step_grad_norm) == 3 * 22 and not history.test_loss


def test_history_of_the_worked_example_by_hand():
    """One batch step on TWO_RELU: loss 1; gradient norms |W(1)| = 2, |b(1)| = 2, |W(2)| = 4, |b(2)| = 2."""
    history = bp.train(vector_network(TWO_RELU), [TWO_RELU["x"]], [TWO_RELU["d"]], eta=0.1, epochs=1,
                       batch_size=1)
    assert history.step_loss == [1.0] and history.train_loss == [1.0]
    assert history.grad_norm == {"W(1)": [2.0], "b(1)": [2.0], "W(2)": [4.0], "b(2)": [2.0]}
    assert history.step_grad_norm == [pytest.approx(math.sqrt(28.0), rel=1e-15)]
    assert history.dead_relu == {"y(1)": [0.5]}  # the second hidden unit is dead
    assert history.variant == "batch" and history.eta == 0.1 and history.status == "completed"


def test_dead_relu_units_are_those_that_never_fire_and_they_stay_dead():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([5, 10, 2], ["relu", "identity"], rng=rng), "he", rng=rng)
    X = rng.normal(size=(50, 5))
    assert not T.dead_relu_units(net, net.forward(X)[1])["y(1)"].any()
    net.parameters()["b(1)"][:4] = -100.0  # four units pushed far below their kink
    assert T.dead_relu_units(net, net.forward(X)[1])["y(1)"].tolist() == [True] * 4 + [False] * 6
    history = bp.train(net, X, rng.normal(size=(50, 2)), eta=0.01, epochs=2, batch_size=10, rng=rng)
    assert history.dead_relu["y(1)"] == [0.4, 0.4]  # dead units get no gradient: they stay dead


def test_a_step_above_max_loss_or_not_finite_changes_nothing():
    net = vector_network(TWO_RELU)
    X, D = np.array([TWO_RELU["x"]], dtype=float), np.array([TWO_RELU["d"]], dtype=float)
    before = copy_params(net)
    step = T.sgd_step(net, net.parameters(), X, D, 0.1, max_loss=0.5)  # the loss is 1
    assert step.stopped == "loss" and step.loss == 1.0 and math.isnan(step.norm)
    assert all(np.array_equal(p, before[n]) for n, p in net.parameters().items())
    step = T.sgd_step(net, net.parameters(), X, D, 0.1, clip=1.0)
    assert not step.stopped and step.clipped and step.norm == pytest.approx(math.sqrt(28.0), rel=1e-15)
    net.parameters()["W(2)"][0, 0] = np.inf
    assert T.sgd_step(net, net.parameters(), X, D, 0.1).stopped == "loss"


def test_relu_inputs_count_the_layers_through_residual_blocks():
    rng = np.random.default_rng(1)
    net = bp.Network([Affine(rng.normal(size=(3, 2)), np.zeros(3)), ActivationLayer("relu"),
                      bp.Residual([Affine(rng.normal(size=(3, 3)), np.zeros(3)), ActivationLayer("relu")]),
                      Affine(rng.normal(size=(1, 3)), np.zeros(1)), ActivationLayer("sigmoid")])
    X = rng.normal(size=(4, 2))
    inputs = T.relu_inputs(net, net.forward(X)[1])
    y1 = np.maximum(X @ net.parameters()["W(1)"].T, 0)
    assert list(inputs) == ["y(1)", "y(2)"]
    np.testing.assert_array_equal(inputs["y(1)"], X @ net.parameters()["W(1)"].T)
    np.testing.assert_array_equal(inputs["y(2)"], y1 @ net.parameters()["W(2)"].T)


def test_gradient_norms_of_a_shared_parameter_by_hand():
    history = bp.train(shared_network(), [[1.0]], [[0.0]], eta=1e-3, epochs=1, batch_size=1)
    assert history.grad_norm == {"W(1)": [16.0], "b(1)": [12.0]}


# -- progress --------------------------------------------------------------------------------------------------------
class FakeBar:
    """A progress-bar factory that records what train calls (tqdm's protocol)."""

    made: list = []

    def __init__(self, total, desc):
        self.total, self.desc, self.calls = total, desc, []
        FakeBar.made.append(self)

    def update(self, n):
        self.calls.append(("update", n))

    def set_postfix_str(self, text, refresh=True):
        self.calls.append(("postfix", text))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def fake_bar():
    FakeBar.made = []
    return FakeBar


def test_training_prints_nothing_by_default(capsys):
    net, X, d, rng = small_problem()
    bp.train(net, X, d, eta=0.1, epochs=2, batch_size=4, rng=rng)
    bp.train(net, X, d, eta=0.1, epochs=2, batch_size=4, rng=rng, progress=None)
    bp.train(net, X, d, eta=0.1, epochs=2, batch_size=4, rng=rng, progress=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("progress", [True, "auto", 1])
def test_progress_must_be_a_factory(progress):
    net, X, d, rng = small_problem()
    assert_explained(lambda: bp.train(net, X, d, eta=0.1, epochs=1, batch_size=4, rng=rng, progress=progress),
                     TypeError, ["'progress'", "expected None, False or a progress-bar factory"])


def test_a_progress_factory_sees_every_step_and_is_closed(fake_bar):
    net, X, d, rng = small_problem(T=10)
    bp.train(net, X, d, eta=0.1, epochs=3, batch_size=4, rng=rng, progress=fake_bar)
    [bar] = fake_bar.made
    assert (bar.total, bar.desc) == (3 * 3, "training")  # epochs * steps per epoch (4 + 4 + 2)
    assert [c for c in bar.calls if c[0] == "update"] == [("update", 1)] * 9
    postfixes = [c[1] for c in bar.calls if c[0] == "postfix"]
    assert len(postfixes) == 3 and postfixes[0].startswith("epoch 1/3: loss ")
    assert bar.calls[-1] == ("close",) and bar.calls.count(("close",)) == 1
    assert bar.calls[3] == ("postfix", postfixes[0])  # after the first epoch's three steps


def test_a_progress_bar_is_closed_when_training_diverges(fake_bar):
    net, X, d, rng = exploding_problem()
    with pytest.raises(TrainingDiverged) as info:
        bp.train(net, X, d, eta=5.0, epochs=50, batch_size=8, rng=rng, progress=fake_bar)
    [bar] = fake_bar.made
    assert bar.total == 50 * 8
    assert bar.calls[-1] == ("close",) and bar.calls.count(("close",)) == 1
    assert len([c for c in bar.calls if c[0] == "update"]) == len(info.value.history.step_loss)
    history = bp.train(*exploding_problem()[:3], eta=5.0, epochs=50, batch_size=8, rng=np.random.default_rng(0),
                       progress=fake_bar, on_divergence="stop")
    assert history.diverged and fake_bar.made[-1].calls[-1] == ("close",)


def test_test_accuracy_is_shown_on_the_bar(fake_bar):
    net, X, d, rng = small_problem(T=10)
    bp.train(net, X, d, eta=0.1, epochs=1, batch_size=10, X_test=X, d_test=d, progress=fake_bar)
    [bar] = fake_bar.made
    assert bar.calls[1][0] == "postfix" and "test accuracy" in bar.calls[1][1]


# -- bad input ---------------------------------------------------------------------------------------------------------
TRAIN_CASES = [
    ({"X": np.ones((12, 4))}, ValueError, ["'X'", "expected shape (B, 5)", "got (12, 4)"]),
    ({"d": np.array([0, 1, 5] * 4)}, ValueError, ["'labels'", "expected labels in 0..2", "got 5"]),
    ({"d": np.array([0.0, 1.5, 2.0] * 4)}, TypeError,
     ["'labels'", "expected integer class labels", "non-integer value 1.5"]),
    ({"d": np.zeros((12, 2))}, ValueError, ["'d'", "expected targets of shape (12, 3)", "or 12 class labels"]),
    ({"d": np.zeros(11, dtype=int)}, ValueError, ["'d'", "expected 12 class labels", "got 11"]),
    ({"eta": 0}, ValueError, ["'eta'", "expected a learning rate > 0", "got 0"]),
    ({"eta": "0.1"}, TypeError, ["'eta'", "expected a real number", "got str"]),
    ({"epochs": 0}, ValueError, ["'epochs'", "expected a positive integer", "got 0"]),
    ({"batch_size": 2.5}, TypeError, ["'batch_size'", "expected a positive integer", "got float 2.5"]),
    ({"rng": None}, TypeError, ["'rng'", "expected a numpy.random.Generator", "random order", "got NoneType"]),
    ({"clip": -1.0}, ValueError, ["'clip'", "expected a clipping threshold tau > 0"]),
    ({"X_test": np.ones((3, 5))}, TypeError, ["'X_test' and 'd_test' go together"]),
    ({"X_test": np.ones((3, 6)), "d_test": [0, 1, 2]}, ValueError, ["'X_test'", "expected shape (B, 5)"]),
    ({"X_test": np.ones((3, 5)), "d_test": [0, 1]}, ValueError, ["'d_test'", "expected 3 class labels"]),
    ({"on_divergence": "ignore"}, ValueError, ["'on_divergence'", "expected 'raise' or 'stop'"]),
    ({"progress": "yes"}, TypeError, ["'progress'", "expected None, False or a progress-bar factory", "got str"]),
    ({"lr": 0.1}, TypeError, ["unexpected keyword argument 'lr'", "the learning rate is called eta"]),
]


@pytest.mark.parametrize("kwargs, exc, fragments", TRAIN_CASES, ids=[", ".join(c[0]) for c in TRAIN_CASES])
def test_train_refuses_bad_input_naming_the_argument(kwargs, exc, fragments):
    net, X, d, rng = small_problem()
    args = {"X": X, "d": d, "eta": 0.1, "epochs": 1, "batch_size": 4, "rng": rng} | kwargs
    assert_explained(lambda: bp.train(net, **args), exc, fragments)


def test_lr_alone_is_refused_with_the_name_eta():
    net, X, d, rng = small_problem()
    with pytest.raises(TypeError, match="eta"):
        bp.train(net, X, d, lr=0.1, epochs=1, batch_size=4, rng=rng)
    with pytest.raises(TypeError, match="'lr'"):
        bp.lecture_step(net, X, d, lr=0.1)


def test_train_and_evaluate_refuse_what_is_not_a_network():
    assert_explained(lambda: bp.train("net", [[1.0]], [[1.0]], eta=0.1, epochs=1), TypeError,
                     ["'net' expected a backprop Network", "got str"])
    assert_explained(lambda: bp.evaluate(None, [[1.0]], [[1.0]]), TypeError, ["'net' expected a backprop Network"])
    assert_explained(lambda: descent_variant(0, 10), ValueError, ["'batch_size'", "expected a positive integer"])
