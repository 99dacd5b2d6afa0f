"""Initialisation, the lecture's training loop and its variants, clipping, divergence, the history, progress."""

import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop import progress as progress_module

pytestmark = pytest.mark.nb06


def small_problem(seed=0, T=12, divergence="cross_entropy", activations=("tanh", "softmax"), widths=(5, 7, 3)):
    rng = np.random.default_rng(seed)
    net = bp.mlp(list(widths), list(activations), rng=rng, divergence=divergence)
    X = rng.normal(size=(T, widths[0]))
    if divergence == "cross_entropy":
        d = rng.integers(0, widths[-1], size=T)
    elif divergence in ("binary_cross_entropy", "sigmoid_binary_cross_entropy"):
        d = rng.integers(0, 2, size=(T, 1)).astype(float)
    else:
        d = rng.normal(size=(T, widths[-1]))
    return net, X, d, rng


def copy_params(net):
    return {name: p.copy() for name, p in net.parameters().items()}


# -- initialisation ----------------------------------------------------------------------------------
def test_init_std_follows_each_scheme():
    assert bp.init_std("he", 50, 10) == pytest.approx(math.sqrt(2 / 50))
    assert bp.init_std("xavier", 50, 10) == pytest.approx(math.sqrt(2 / 60))
    assert bp.init_std("normal", 50, 10, std=0.3) == 0.3


def test_initialise_draws_each_layer_from_its_scale_and_zeroes_the_biases():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([400, 300, 200], "relu", rng=rng), "xavier", rng=np.random.default_rng(5))
    params = net.parameters()
    assert params["W(1)"].std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)
    assert params["W(2)"].std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert not params["b(1)"].any() and not params["b(2)"].any()
    again = bp.initialise(bp.mlp([400, 300, 200], "relu", rng=rng), "xavier", rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.parameters()["W(2)"], params["W(2)"])


@pytest.mark.parametrize("call, exc, fragment", [
    (lambda net: bp.initialise(net, "normal", rng=np.random.default_rng(0)), TypeError, "'std' expected a positive"),
    (lambda net: bp.initialise(net, "normal", rng=np.random.default_rng(0), std=-1.0), ValueError, "got -1"),
    (lambda net: bp.initialise(net, "he", rng=np.random.default_rng(0), std=0.1), TypeError, "only for scheme 'normal'"),
    (lambda net: bp.initialise(net, "glorot", rng=np.random.default_rng(0)), ValueError, "'scheme' expected one of"),
    (lambda net: bp.initialise(net, "he", rng=0), TypeError, "'rng' expected a numpy.random.Generator"),
    (lambda net: bp.initialise("net", "he", rng=np.random.default_rng(0)), TypeError, "'net' expected a backprop Network"),
])
def test_initialise_refuses_bad_arguments(call, exc, fragment):
    net = bp.mlp([3, 2], "relu", rng=np.random.default_rng(0))
    with pytest.raises(exc, match=fragment):
        call(net)


def deep_relu_mean_squares(scheme, std=None, nets=16, width=256, depth=20, seed=0):
    """E[y(k)^2] / E[x^2] for k = 1..depth, averaged over independently drawn networks."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(128, width))
    ratios = []
    for _ in range(nets):
        layers = []
        for _ in range(depth):
            layers += [bp.Affine(np.zeros((width, width)), np.zeros(width)), bp.ActivationLayer("relu")]
        net = bp.initialise(bp.Network(layers), scheme, rng=rng, std=std)
        ratios.append([np.mean(y**2) / np.mean(X**2) for y in bp.layer_outputs(net, X)])
    return np.mean(ratios, axis=0)


def test_he_keeps_the_activation_variance_of_20_relu_layers_within_a_factor_of_2():
    """He's derivation keeps E[y(k)^2] (the variance of y about 0) equal to E[x^2] in every layer.

    One network drifts by chance (the product of 20 random matrices), so the
    expectation is estimated over 16 independent networks.
    """
    ratios = deep_relu_mean_squares("he")
    assert len(ratios) == 20
    assert np.all((ratios >= 0.5) & (ratios <= 2.0)), ratios


def test_a_too_small_scale_makes_the_activations_collapse():
    """Half He's standard deviation: a quarter of the variance per layer, (1/4)^20 ~ 1e-12 after 20 layers."""
    he = bp.init_std("he", 256, 256)
    ratios = deep_relu_mean_squares("normal", std=he / 2, nets=2)
    assert np.all(np.diff(ratios) < 0)
    assert ratios[-1] < 1e-9
    assert ratios[-1] / ratios[-2] == pytest.approx(0.25, rel=0.3)


def test_layer_outputs_are_the_activation_layers_outputs():
    net, X, _, _ = small_problem()
    outs = bp.layer_outputs(net, X)
    assert [y.shape for y in outs] == [(12, 7), (12, 3)]
    np.testing.assert_allclose(outs[-1], net.predict(X))


# -- the update and clipping -----------------------------------------------------------------------------------
def test_sgd_update_steps_against_the_gradient():
    net, X, d, _ = small_problem()
    before = copy_params(net)
    _, grads = net.loss_and_gradients(X, d)
    bp.sgd_update(net.parameters(), grads, 0.1)
    for name, p in net.parameters().items():
        np.testing.assert_array_equal(p, before[name] - 0.1 * grads[name])


def test_sgd_update_refuses_mismatched_gradients():
    net, X, d, _ = small_problem()
    _, grads = net.loss_and_gradients(X, d)
    with pytest.raises(ValueError, match="'lr' expected a learning rate > 0, got -0.1"):
        bp.sgd_update(net.parameters(), grads, -0.1)
    with pytest.raises(ValueError, match=r"'grads\['W\(1\)'\]' expected the shape of the parameter \(7, 5\)"):
        bp.sgd_update(net.parameters(), grads | {"W(1)": np.zeros((5, 7))}, 0.1)
    with pytest.raises(ValueError, match="'grads' expected the names of 'params'"):
        bp.sgd_update(net.parameters(), {"W(1)": grads["W(1)"]}, 0.1)


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), tau=st.floats(0.01, 10.0))
def test_clipping_keeps_the_direction_and_caps_the_norm(seed, tau):
    rng = np.random.default_rng(seed)
    grads = {"W(1)": rng.normal(size=(4, 3)) * rng.uniform(0.01, 5), "b(1)": rng.normal(size=4)}
    clipped, norm = bp.clip_by_global_norm(grads, tau)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    flat_clipped = np.concatenate([g.ravel() for g in clipped.values()])
    assert norm == pytest.approx(np.linalg.norm(flat))
    assert np.linalg.norm(flat_clipped) == pytest.approx(min(norm, tau), rel=1e-12)
    # the same direction: a positive multiple of the original
    assert flat_clipped @ flat == pytest.approx(np.linalg.norm(flat_clipped) * np.linalg.norm(flat), rel=1e-12)
    if norm <= tau:
        for name in grads:
            np.testing.assert_array_equal(clipped[name], grads[name])


def test_clipping_refuses_a_non_positive_threshold():
    with pytest.raises(ValueError, match="'tau' expected a clipping threshold > 0, got 0"):
        bp.clip_by_global_norm({"W": np.ones(2)}, 0.0)


def test_training_with_clipping_moves_the_parameters_by_at_most_lr_times_tau():
    net, X, d, _ = small_problem(seed=3)
    _, grads = net.loss_and_gradients(X, d)
    norm = bp.global_norm(grads)
    tau = norm / 4
    before = copy_params(net)
    history = bp.train(net, X, d, lr=0.5, epochs=1, batch_size=len(X), clip=tau)
    moved = np.sqrt(sum(np.sum((p - before[name]) ** 2) for name, p in net.parameters().items()))
    assert moved == pytest.approx(0.5 * tau, rel=1e-10)
    assert history.clipped_steps == 1 and history.step_grad_norm == [pytest.approx(norm)]
    clipped, _ = bp.clip_by_global_norm(grads, tau)
    for name, p in net.parameters().items():
        np.testing.assert_allclose(p, before[name] - 0.5 * clipped[name], rtol=1e-12, atol=1e-15)


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
    loss_lecture = bp.lecture_step(net_a, X, d, lr=0.2)
    history = bp.train(net_b, X, d, lr=0.2, epochs=1, batch_size=len(X))
    assert history.variant == "batch"
    assert history.step_loss == [pytest.approx(loss_lecture, rel=1e-12)]
    for name, p in net_a.parameters().items():
        np.testing.assert_allclose(net_b.parameters()[name], p, rtol=1e-12, atol=1e-14)


def test_lecture_gradients_equal_the_vectorised_ones():
    net, X, d, _ = small_problem(seed=4, activations=("relu", "softmax"))
    loss, grads = bp.lecture_gradients(net, X, d)
    loss_v, grads_v = net.loss_and_gradients(X, d)
    assert loss == pytest.approx(loss_v, rel=1e-12)
    for name in grads_v:
        np.testing.assert_allclose(grads[name], grads_v[name], rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("batch_size, variant, steps", [(1, "stochastic", 10), (3, "mini-batch", 4), (10, "batch", 1),
                                                        (99, "batch", 1)])
def test_variants_take_one_step_per_batch(batch_size, variant, steps):
    net, X, d, rng = small_problem(T=10)
    history = bp.train(net, X, d, lr=0.05, epochs=2, batch_size=batch_size, rng=rng)
    assert history.variant == variant == bp.descent_variant(batch_size, 10)
    assert len(history.step_loss) == 2 * steps and history.epochs == [1, 2]


def test_mini_batches_follow_the_generator():
    runs = []
    for _ in range(2):
        net, X, d, _ = small_problem(seed=2, T=20)
        runs.append(bp.train(net, X, d, lr=0.1, epochs=3, batch_size=4, rng=np.random.default_rng(9)).step_loss)
    net, X, d, _ = small_problem(seed=2, T=20)
    other = bp.train(net, X, d, lr=0.1, epochs=3, batch_size=4, rng=np.random.default_rng(10)).step_loss
    assert runs[0] == runs[1] and runs[0] != other
    net, X, d, _ = small_problem(seed=2, T=20)
    fixed = bp.train(net, X, d, lr=0.1, epochs=1, batch_size=4, shuffle=False)  # no rng needed: a fixed order
    assert len(fixed.step_loss) == 5


def test_the_unchecked_path_computes_what_the_checked_one_does():
    rng = np.random.default_rng(5)
    net = bp.Network([
        bp.Affine(rng.normal(size=(4, 3)), [0.0, 0.0, 1.0, -1.0]), bp.ActivationLayer("leaky_relu", alpha=0.1),
        bp.Residual([bp.Affine(rng.normal(size=(4, 4)), rng.normal(size=4)), bp.ActivationLayer("sigmoid")]),
        bp.ActivationLayer("relu", subgradient_at_zero=0.5), bp.Affine(rng.normal(size=(5, 4)), rng.normal(size=5)),
        bp.ActivationLayer("relu"), bp.Affine(rng.normal(size=(3, 5)), rng.normal(size=3)),
        bp.ActivationLayer("tanh"), bp.Affine(rng.normal(size=(2, 3)), rng.normal(size=2)), bp.ActivationLayer("softmax"),
    ], "cross_entropy")
    X = rng.normal(size=(6, 3))
    X[0, :] = 0.0  # z(1) = b(1) for this row: two leaky ReLU units sit exactly at their kink
    Y, caches = net.forward(X)
    Yu, caches_u = net.forward_unchecked(X)
    np.testing.assert_array_equal(Y, Yu)
    dY = rng.normal(size=Y.shape)
    grads, grads_u = net.backward(dY, caches), net.backward_unchecked(dY, caches_u)
    assert list(grads) == list(grads_u)
    for name in grads:
        np.testing.assert_allclose(grads_u[name], grads[name], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(bp.DIVERGENCES))
def test_the_training_loops_loss_and_seed_are_the_divergences_rules(name):
    div = bp.get_divergence(name)
    rng = np.random.default_rng(6)
    Y = rng.uniform(0.05, 0.95, size=(5, 3)) if div.input_range == (0.0, 1.0) else rng.normal(size=(5, 3)) * 3
    if div.needs_distribution:
        Y = Y / Y.sum(axis=1, keepdims=True) if div.input_range == (0.0, 1.0) else Y
        d = bp.one_hot(rng.integers(0, 3, size=5), 3)
    else:
        d = rng.uniform(0, 1, size=(5, 3))
    total, seed = div.sum_and_derivative_unchecked(Y, d)
    assert total == pytest.approx(float(np.sum(div.value(Y, d))), rel=1e-12)
    np.testing.assert_allclose(seed, div.derivative(Y, d), rtol=1e-12, atol=1e-15)


# -- accuracy on the digits ---------------------------------------------------------------------------------------
def test_training_reaches_97_percent_on_the_digits():
    rng = np.random.default_rng(0)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 64, 10], ["relu", "softmax"], rng=rng, divergence="cross_entropy"), "he", rng=rng)
    history = bp.train(net, data.X_train, data.labels_train, lr=0.3, epochs=60, batch_size=32, rng=rng,
                       X_test=data.X_test, d_test=data.labels_test)
    loss, accuracy = bp.evaluate(net, data.X_test, data.labels_test)
    assert accuracy >= 0.97
    assert history.test_accuracy[-1] == accuracy and history.test_loss[-1] == pytest.approx(loss)
    assert np.mean(bp.predict_labels(net, data.X_test) == data.labels_test) == accuracy
    assert history.train_loss[-1] < history.train_loss[0] / 10
    assert history.status == "completed" and "accuracy" in history.summary()


def test_two_or_not_two_with_one_sigmoid_output():
    rng = np.random.default_rng(1)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 16, 1], ["relu", "sigmoid"], rng=rng, divergence="binary_cross_entropy"),
                        "he", rng=rng)
    d_train, d_test = bp.two_or_not_two(data.labels_train), bp.two_or_not_two(data.labels_test)
    bp.train(net, data.X_train, d_train, lr=0.3, epochs=15, batch_size=32, rng=rng)
    _, accuracy = bp.evaluate(net, data.X_test, d_test)
    assert accuracy >= 0.98  # always answering "not 2" would score 0.90
    np.testing.assert_array_equal(bp.predict_labels(net, data.X_test[:5]), net.predict(data.X_test[:5])[:, 0] >= 0.5)


# -- divergence ------------------------------------------------------------------------------------------------------
def exploding_problem():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([8, 32, 32, 4], ["relu", "relu", "identity"], rng=rng), "he", rng=rng)
    X = rng.normal(size=(64, 8)) * 10
    return net, X, rng.normal(size=(64, 4)) * 10, rng


def test_divergence_stops_training_with_advice_and_keeps_the_history():
    net, X, d, rng = exploding_problem()
    with pytest.raises(bp.TrainingDiverged) as info:
        bp.train(net, X, d, lr=5.0, epochs=50, batch_size=8, rng=rng)
    message = str(info.value)
    assert "diverged at epoch" in message and "lower learning rate than lr = 5" in message and "clip" in message
    history = info.value.history
    assert history.diverged and history.message == message
    assert history.step_loss and all(math.isfinite(v) for v in history.step_loss)
    assert len(history.train_loss) == len(history.epochs)


def test_divergence_can_return_the_history_instead():
    net, X, d, rng = exploding_problem()
    history = bp.train(net, X, d, lr=5.0, epochs=50, batch_size=8, rng=rng, on_divergence="stop")
    assert history.status == "diverged" and "lower learning rate" in history.message
    assert "[diverged]" in history.summary()


def test_clipping_tames_the_same_run():
    net, X, d, rng = exploding_problem()
    history = bp.train(net, X, d, lr=5.0, epochs=3, batch_size=8, rng=rng, clip=0.01, on_divergence="stop")
    assert history.status == "completed" and history.clipped_steps == len(history.step_loss)


# -- the history: gradient norms and dead units ---------------------------------------------------------------------
def test_history_records_gradient_norms_per_parameter_and_dead_units():
    rng = np.random.default_rng(0)
    data = bp.digits_dataset(rng=rng)
    net = bp.initialise(bp.mlp([64, 32, 32, 10], ["relu", "relu", "softmax"], rng=rng, divergence="cross_entropy"),
                        "he", rng=rng)
    history = bp.train(net, data.X_train, data.labels_train, lr=0.1, epochs=3, batch_size=64, rng=rng)
    assert list(history.grad_norm) == list(net.parameters())
    assert all(len(v) == 3 and all(x > 0 for x in v) for v in history.grad_norm.values())
    assert list(history.dead_relu) == ["y(1)", "y(2)"]
    assert all(0 <= f <= 1 for v in history.dead_relu.values() for f in v)
    assert history.seconds == sorted(history.seconds) and len(history.seconds) == 3
    assert len(history.step_grad_norm) == 3 * 22 and not history.test_loss


def test_dead_relu_fraction_counts_units_that_never_fire():
    rng = np.random.default_rng(0)
    net = bp.initialise(bp.mlp([5, 10, 2], ["relu", "identity"], rng=rng), "he", rng=rng)
    X = rng.normal(size=(50, 5))
    assert bp.dead_relu_fraction(net, X) == {"y(1)": 0.0}
    net.parameters()["b(1)"][:4] = -100.0  # four units pushed far below their kink
    assert bp.dead_relu_fraction(net, X) == {"y(1)": 0.4}
    history = bp.train(net, X, rng.normal(size=(50, 2)), lr=0.01, epochs=2, batch_size=10, rng=rng)
    assert history.dead_relu["y(1)"] == [0.4, 0.4]  # dead units get no gradient: they stay dead


def test_gradient_norms_are_the_norms_of_the_gradients():
    net, X, d, _ = small_problem()
    _, grads = net.loss_and_gradients(X, d)
    norms = bp.gradient_norms(net, X, d)
    assert norms == {name: pytest.approx(float(np.linalg.norm(g))) for name, g in grads.items()}


# -- bad input ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, exc, fragments", [
    ({"X": np.ones((12, 4))}, ValueError, ["'X'", "expected shape (B, 5)", "got (12, 4)"]),
    ({"d": np.array([0, 1, 5] * 4)}, ValueError, ["'labels'", "expected labels in 0..2", "got 5"]),
    ({"d": np.zeros((12, 2))}, ValueError, ["'d'", "expected targets of shape (12, 3)", "or 12 class labels"]),
    ({"d": np.zeros(11, dtype=int)}, ValueError, ["'d'", "expected 12 class labels", "got 11"]),
    ({"lr": 0}, ValueError, ["'lr'", "expected a learning rate > 0", "got 0"]),
    ({"epochs": 0}, ValueError, ["'epochs'", "expected a positive integer", "got 0"]),
    ({"batch_size": 2.5}, TypeError, ["'batch_size'", "expected a positive integer", "got float 2.5"]),
    ({"rng": None}, TypeError, ["'rng'", "expected a numpy.random.Generator", "random order", "got NoneType"]),
    ({"clip": -1.0}, ValueError, ["'clip'", "expected a clipping threshold tau > 0"]),
    ({"X_test": np.ones((3, 5))}, TypeError, ["'X_test' and 'd_test' go together"]),
    ({"X_test": np.ones((3, 6)), "d_test": [0, 1, 2]}, ValueError, ["'X_test'", "expected shape (B, 5)"]),
    ({"X_test": np.ones((3, 5)), "d_test": [0, 1]}, ValueError, ["'d_test'", "expected 3 class labels"]),
    ({"on_divergence": "ignore"}, ValueError, ["'on_divergence'", "expected 'raise' or 'stop'"]),
    ({"progress": "yes"}, ValueError, ["'progress'", "expected 'auto', True or False"]),
])
def test_train_refuses_bad_input_naming_the_argument(kwargs, exc, fragments):
    net, X, d, rng = small_problem()
    args = {"X": X, "d": d, "lr": 0.1, "epochs": 1, "batch_size": 4, "rng": rng} | kwargs
    with pytest.raises(exc) as info:
        bp.train(net, **args)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# -- progress --------------------------------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_progress(stream, mode, seconds_per_step, steps=20, after=5.0):
    clock = Clock()
    with bp.Progress(steps, mode=mode, stream=stream, clock=clock, after_seconds=after) as bar:
        for step in range(1, steps + 1):
            clock.now += seconds_per_step
            bar.status = f"step {step}"
            bar.update(step)
    return stream.getvalue()


def test_auto_progress_stays_silent_for_a_short_run():
    assert run_progress(Terminal(), "auto", seconds_per_step=0.1) == ""  # 2 s projected


def test_auto_progress_shows_a_line_for_a_long_run_in_a_terminal():
    out = run_progress(Terminal(), "auto", seconds_per_step=1.0)  # 20 s projected
    assert out.startswith("\r") and out.endswith("\n") and "100%" in out and "step 20" in out
    assert out.count("\n") == 1  # one line, rewritten in place


def test_auto_progress_writes_nothing_when_not_a_terminal():
    assert run_progress(io.StringIO(), "auto", seconds_per_step=1.0) == ""


def test_forced_and_disabled_progress():
    assert "100%" in run_progress(io.StringIO(), True, seconds_per_step=0.01)
    assert run_progress(Terminal(), False, seconds_per_step=10.0) == ""


def test_training_prints_nothing_by_default(capsys):
    net, X, d, rng = small_problem()
    bp.train(net, X, d, lr=0.1, epochs=2, batch_size=4, rng=rng)
    assert capsys.readouterr() == ("", "")


def test_in_a_kernel_the_bar_is_a_widget_with_no_text_for_nbval_to_compare(monkeypatch):
    shown = []
    monkeypatch.setattr(progress_module, "in_jupyter_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    clock = Clock()
    bar = bp.Progress(10, mode=True, clock=clock)
    clock.now = 1.0
    bar.update(10)
    bar.close()
    [(bundle, raw)] = shown
    assert raw and list(bundle) == ["application/vnd.jupyter.widget-view+json"]
    assert "text/plain" not in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
