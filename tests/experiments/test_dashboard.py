"""core/dashboard.py: the dashboard's numbers over a grid of settings, the table of settings a student would try
(each with the verdict a teacher expects and whether training visibly pays off), the verdict's one number, the
bands, the factor chain."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from backprop.experiments import dashboard as D
from strategies import assert_explained

P = D.PRESETS

#: paid off: the Loss ends at most at this share of its start; did not: at least at BROKEN (or training diverged)
REPAIRED, BROKEN = 0.85, 0.95

#: settings a student would try, the verdict a teacher expects, and whether training must visibly pay off
STUDENT_TABLE = [
    ("deep sigmoid preset (depth 30)", P["deep sigmoid"], "vanishing", "broken"),
    ("deep sigmoid at depth 50", replace(P["deep sigmoid"], depth=50), "vanishing", "broken"),
    # the too-large scale preset (clipping off: exploding, broken) and the clipping preset (the same network,
    # clipped: exploding, repaired) are trained once, in the clipping test below
    ("ReLU + He preset (depth 30)", P["ReLU + He"], "healthy", "repair"),
    ("ReLU + He at depth 50", replace(P["ReLU + He"], depth=50), "healthy", "repair"),
    ("ReLU + He, eta 1: too large", replace(P["ReLU + He"], eta=1.0), "diverged", "broken"),
    ("ReLU + He, eta 2: too large", replace(P["ReLU + He"], eta=2.0), "diverged", "broken"),
    ("residual preset (tanh, normal(0.1))", P["residual"], "healthy", "repair"),
    ("the same without residual connections", replace(P["residual"], residual=False), "vanishing", "broken"),
    ("residual preset at depth 50", replace(P["residual"], depth=50), "healthy", "repair"),
    ("ReLU + Xavier (depth 30)", replace(P["ReLU + He"], init="xavier"), "vanishing", "broken"),
    ("tanh + Xavier (depth 30)", D.DashboardSettings(depth=30, activation="tanh", init="xavier", eta=0.05), "healthy",
     "repair"),
    ("ReLU + He, eta 0.5: units die", replace(P["ReLU + He"], eta=0.5), "dead units", "broken"),
    ("ReLU + He, eta 2 clipped to 5: units die", replace(P["ReLU + He"], eta=2.0, clip=5.0), "dead units", "broken"),
]


#: the first pass's grid: every activation with every initialisation at depth 8, residual connections on for
#: half of them and clipping for another half (so each activation meets both); depth 1 (no factor between
#: layers) and depth 50 with and without both
FIRST_PASS_GRID = [
    (8, a, i, n % 2 == 1, 1.0 if (n // 2) % 2 else None)
    for n, (a, i) in enumerate(itertools.product(D.DASHBOARD_ACTIVATIONS, D.DASHBOARD_INITS))] + [
    (1, "sigmoid", "normal", False, None), (1, "relu", "he", True, 1.0),
    (50, "sigmoid", "normal", False, None), (50, "relu", "he", True, 1.0)]


@pytest.mark.parametrize("depth, activation, init, residual, clip", FIRST_PASS_GRID)
def test_every_setting_gives_a_complete_consistent_first_pass(depth, activation, init, residual, clip):
    s = D.DashboardSettings(depth=depth, activation=activation, init=init, residual=residual, clip=clip, eta=0.05)
    st = D.dashboard_state(s, train=False)
    assert st.grad_norms.shape == st.applied_norms.shape == st.w_norm.shape == st.w_stretch.shape == (depth + 1,)
    assert st.spread.shape == st.f_prime.shape == st.g_norms.shape == st.slope_rms.shape == (depth,)
    assert st.factors.shape == (depth - 1,) and st.bands.shape == (depth,)
    assert not st.trained and st.diagnosis in ("", "vanishing", "exploding")
    assert st.diagnosis == D.diagnose(st.gain, trained=False)
    assert len(st.losses) == 0
    if np.isfinite(st.g_norms).all() and (st.g_norms > 0).all():
        # the chain telescopes: the product of the measured factors is the gain ||g(1)|| / ||g(depth)||
        assert np.prod(st.factors) == pytest.approx(st.gain, rel=1e-9)
        assert st.gains[-1] == 1.0
    if clip is not None and np.isfinite(st.applied_norms).all():
        assert math.sqrt(np.sum(st.applied_norms ** 2)) <= clip * (1 + 1e-9) + 1e-12
    text = st.readout()
    assert "training: running" in text and f"= {st.gain:.3g}" in text


@pytest.mark.parametrize("depth, activation, residual, clip", [
    (1, "sigmoid", False, None), (8, "relu", False, 1.0), (8, "tanh", True, None), (8, "leaky_relu", False, None)])
def test_a_trained_state_is_complete(depth, activation, residual, clip):
    st = D.dashboard_state(depth=depth, activation=activation, residual=residual, clip=clip, eta=0.05)
    assert st.trained and st.diagnosis in D.DIAGNOSES
    assert len(st.losses) == len(st.test_accuracy) == len(st.dead) == D.EPOCHS + 1
    assert st.steps == D.EPOCHS * (1347 // D.BATCH) and 0 <= st.clipped_steps <= st.steps
    assert ((st.dead >= 0) & (st.dead <= 1)).all() and ((st.test_accuracy >= 0) & (st.test_accuracy <= 1)).all()
    if activation != "relu":
        assert (st.dead == 0).all()
    assert st.diagnosis == D.diagnose(st.gain, diverged=st.diverged, dead_share=st.dead_share)


@pytest.mark.parametrize("name, settings, verdict, training", STUDENT_TABLE, ids=[row[0] for row in STUDENT_TABLE])
def test_the_settings_a_student_would_try(name, settings, verdict, training):
    assert_student_sees(name, D.dashboard_state(settings), verdict, training)


def assert_student_sees(name, st, verdict, training):
    """The verdict a teacher expects, training paying off or not, and the readout showing the verdict's number."""
    settings = st.settings
    assert st.diagnosis == verdict, (name, st.readout())
    first, last = st.losses[0], st.losses[-1]
    if training == "repair":  # the remedy visibly pays off: the loss falls to 85 % of its start or less
        assert not st.diverged and last <= REPAIRED * first, (name, st.losses)
        assert st.test_accuracy[-1] > st.test_accuracy[0]
    else:  # a broken network: the loss stays at 95 % of its start or above, or blows up
        assert st.diverged or last >= BROKEN * first, (name, st.losses)
    # the printed number is the one the verdict was decided on
    assert st.diagnosis == D.diagnose(st.gain, diverged=st.diverged, dead_share=st.dead_share)
    assert f"diagnosis: {verdict} (" in st.readout()
    if verdict in ("vanishing", "exploding", "healthy"):
        assert st.evidence().startswith(f"||g(1)|| / ||g({settings.depth})|| = {st.gain:.3g}")


def test_depth_50_sigmoid_has_more_layers_in_the_vanished_band_than_depth_30():
    a = D.dashboard_state(P["deep sigmoid"], train=False)
    b = D.dashboard_state(replace(P["deep sigmoid"], depth=50), train=False)
    va, vb = int(np.sum(a.bands == "vanished")), int(np.sum(b.bands == "vanished"))
    assert vb >= va + 15, (va, vb)
    he = D.dashboard_state(P["ReLU + He"], train=False)
    assert (he.bands == "normal").all()  # healthy looks different from vanishing: no layer in a band


def test_clipping_changes_the_step_and_the_readout_says_so_while_the_verdict_describes_the_gradient():
    clipped, plain = D.dashboard_state(P["clipping"]), D.dashboard_state(P["too-large scale"])
    assert_student_sees("too-large scale preset (clipping off)", plain, "exploding", "broken")
    assert_student_sees("clipping preset (the same network, clipped)", clipped, "exploding", "repair")
    assert np.array_equal(clipped.g_norms, plain.g_norms) and clipped.diagnosis == plain.diagnosis == "exploding"
    line = clipped.clipping_line()
    assert "changes the step, not the gradient" in line and f"{clipped.clipped_steps} of {clipped.steps}" in line
    assert line in clipped.readout() and plain.clipping_line() is None
    # the first step's weight gradients (biases aside) together have norm at most tau = 5
    assert clipped.clipped_steps > 0 and 4.9 < math.sqrt(np.sum(clipped.applied_norms ** 2)) <= 5.0


def test_the_norms_are_the_real_backward_pass_on_the_first_batch():
    s = D.DashboardSettings(depth=6, activation="tanh", init="xavier", residual=True)
    net = D.dashboard_network(s)
    data = D._digits(s.seed)
    idx = np.random.default_rng(s.seed + 1).permutation(len(data.X_train))[:D.PROBE_BATCH]
    _, grads = net.loss_and_gradients(data.X_train[idx], data.labels_train[idx])
    expected = {name: np.linalg.norm(g) for name, g in grads.items()}
    st = D.dashboard_state(s, train=False)
    assert st.grad_norms == pytest.approx([expected[f"W({k})"] for k in range(1, 8)], rel=1e-10)


def test_the_readout_counts_in_words_at_the_slider_ends():
    # depth 1: no layer between g(1) and the top, so no "product of the 0 factors"
    one = D.dashboard_state(D.DashboardSettings(depth=1, activation="sigmoid"), train=False).readout()
    assert "no factor" in one and "0 factors" not in one
    two = D.dashboard_state(D.DashboardSettings(depth=2, activation="sigmoid"), train=False).readout()
    assert "product of the 1 factor:" in two
    nine = D.dashboard_state(D.DashboardSettings(depth=10, activation="sigmoid"), train=False).chain()
    assert "  ... 1 more layer ..." in nine
    # a network that explodes at its start diverges at its first step: "1 step (1 epoch ...)"
    blown = D.dashboard_state(D.DashboardSettings(depth=60, activation="relu", init="normal", scale=2.0))
    assert blown.diverged and blown.steps == 1
    assert f"training: 1 step (1 epoch of batch {D.BATCH}): " in blown.training_line()


def test_the_chain_multiplies_out_without_residual_connections():
    # each measured factor ||g(k-1)|| / ||g(k)|| is close to W(k)'s stretch times the rms slope f'(z(k))
    for name in ("deep sigmoid", "ReLU + He", "too-large scale"):
        st = D.dashboard_state(P[name], train=False)
        predicted = (st.slope_rms * st.w_stretch[:-1])[1:]
        assert 0.8 < np.median(st.factors / predicted) < 1.25, name
    sigmoid = D.dashboard_state(P["deep sigmoid"], train=False)
    assert (sigmoid.f_prime <= 0.25 + 1e-12).all() and (sigmoid.factors < 0.2).all()
    assert np.median(sigmoid.w_stretch[1:-1]) == pytest.approx(math.sqrt(32) * 0.1, rel=0.05)


def test_a_gradient_that_vanishes_with_the_signal_is_still_vanishing():
    # tanh with a small scale: the signal dies forward, so every weight gradient is tiny and their ratio ~1;
    # the gain ||g(1)|| / ||g(depth)|| still shows the collapse
    st = D.dashboard_state(depth=30, activation="tanh", init="normal", scale=0.1, eta=0.05, train=False)
    assert 0.1 < st.ratio < 10 and st.gain < 1e-6 and st.diagnosis == "vanishing"


@pytest.mark.parametrize("gain, kwargs, word", [
    (1e-5, {}, "vanishing"), (1e5, {}, "exploding"), (math.inf, {}, "exploding"),
    (1e5, {"diverged": True}, "exploding"),            # the gradient's factors come first
    (1e-5, {"diverged": True}, "vanishing"),
    (0.3, {"diverged": True}, "diverged"),              # a learning rate too large
    (0.3, {"dead_share": 0.4}, "dead units"), (0.3, {"dead_share": 0.2}, "healthy"),
    (0.3, {"diverged": True, "dead_share": 0.9}, "diverged"),
    (0.3, {"trained": False}, ""), (1e-5, {"trained": False}, "vanishing"),
    (D.VANISHED, {}, "healthy"), (D.EXPLODED, {}, "healthy"),
])
def test_diagnose_worked_cases(gain, kwargs, word):
    assert D.diagnose(gain, **kwargs) == word


def test_bands_of_gains():
    assert list(D.band_of([1e-3, 0.5, 1e3, math.inf])) == ["vanished", "normal", "exploded", "exploded"]


def test_a_loss_that_ends_higher_than_it_began_has_diverged(monkeypatch):
    monkeypatch.setattr(D, "EPOCHS", 1)
    st = D.dashboard_state(depth=3, activation="relu", init="he", eta=2.0)
    assert st.diverged == (not np.isfinite(st.losses[-1]) or st.losses[-1] > D.GROWTH * st.losses[0]
                           or st.losses[-1] > 100 * st.losses[0])


def test_deterministic():
    a, b = D.dashboard_state(depth=7, activation="leaky_relu"), D.dashboard_state(depth=7, activation="leaky_relu")
    assert np.array_equal(a.grad_norms, b.grad_norms) and np.array_equal(a.losses, b.losses)


def test_a_newer_setting_abandons_the_training_run():
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(D.Superseded):
        D.dashboard_state(depth=3, cancelled=cancelled)
    assert len(calls) == 3


@pytest.mark.parametrize("changes, fragments", [
    ({"depth": 0}, ["'depth'", "positive"]),
    ({"depth": 99}, ["'depth'", "1..60", "99"]),
    ({"activation": "softplus"}, ["'activation'", "softplus"]),
    ({"init": "lecun"}, ["'init'", "lecun"]),
    ({"eta": -1.0}, ["'eta'", "learning rate"]),
    ({"clip": 0.0}, ["'clip'", "tau"]),
])
def test_bad_settings_are_explained(changes, fragments):
    assert_explained(lambda: D.dashboard_state(replace(D.DashboardSettings(), **changes)), (TypeError, ValueError),
                     fragments)


def test_settings_or_keywords_not_both():
    assert_explained(lambda: D.dashboard_state(D.DashboardSettings(), depth=3), TypeError, ["not both"])
    assert_explained(lambda: D.dashboard_state("deep"), TypeError, ["DashboardSettings"])
