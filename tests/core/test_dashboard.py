"""core/dashboard.py: the dashboard's numbers over a grid of settings, the three classic cases, the factor chain."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

import backprop as bp
from backprop.core import dashboard as D
from strategies import assert_explained


def test_reexported():
    for name in D.__all__:
        assert getattr(bp, name) is getattr(D, name)


@pytest.mark.parametrize("depth, activation, init, residual, clip", [
    (depth, a, i, r, c) for depth in (1, 8) for a, i, r, c in itertools.product(
        D.DASHBOARD_ACTIVATIONS, D.DASHBOARD_INITS, (False, True), (None, 1.0))] + [
    (50, a, i, r, None) for a, i, r in itertools.product(D.DASHBOARD_ACTIVATIONS, ("normal", "he"), (False, True))])
def test_every_setting_gives_a_complete_consistent_state(depth, activation, init, residual, clip):
    s = D.DashboardSettings(depth=depth, activation=activation, init=init, residual=residual, clip=clip, eta=0.05)
    st = D.dashboard_state(s)
    assert st.grad_norms.shape == st.applied_norms.shape == st.w_norm.shape == (depth + 1,)
    assert st.spread.shape == st.f_prime.shape == st.g_norms.shape == (depth,)
    assert st.factors.shape == (depth - 1,)
    assert st.diagnosis in D.DIAGNOSES
    assert 1 <= len(st.losses) <= D.STEPS and len(st.dead) >= 1
    assert ((st.dead >= 0) & (st.dead <= 1)).all()
    if activation != "relu":
        assert (st.dead == 0).all()
    if not st.diverged:
        # the chain telescopes: the product of the measured factors is ||g(1)|| / ||g(depth)||
        assert np.prod(st.factors) == pytest.approx(st.g_norms[0] / st.g_norms[-1], rel=1e-9)
    if clip is not None and np.isfinite(st.applied_norms).all():
        assert math.sqrt(np.sum(st.applied_norms ** 2)) <= clip * (1 + 1e-9) + 1e-12
    text = st.readout()
    assert f"||dLoss/dW(1)|| = {st.first:.3g}" in text and st.diagnosis in text


def test_the_norms_are_the_real_backward_pass_on_the_first_batch():
    s = D.DashboardSettings(depth=6, activation="tanh", init="xavier", residual=True)
    net = D.dashboard_network(s)
    X, labels = D._digits(s.seed)
    idx = np.random.default_rng(s.seed + 1).permutation(len(X))[:D.BATCH]
    expected = bp.gradient_norms(net, X[idx], labels[idx])
    st = D.dashboard_state(s)
    assert st.grad_norms == pytest.approx([expected[f"W({k})"] for k in range(1, 8)], rel=1e-10)


def test_deep_sigmoid_with_a_small_scale_vanishes_toward_layer_1():
    st = D.dashboard_state(D.PRESETS["deep sigmoid"])
    assert st.diagnosis == "vanishing"
    assert st.ratio < 1e-15
    assert (np.diff(np.log10(st.grad_norms)) > 0).mean() > 0.9  # growing from layer 1 to the output
    assert (st.factors < 0.3).all() and (st.f_prime <= 0.25 + 1e-12).all()


def test_a_large_scale_explodes_toward_layer_1():
    st = D.dashboard_state(D.PRESETS["too-large scale"])
    assert st.diagnosis == "exploding"
    assert st.g_norms[0] / st.g_norms[-1] > 10 and (st.grad_norms > 10).all()


@pytest.mark.parametrize("case", ["ReLU + He", "residual", "clipping"])
def test_each_remedy_repairs_its_case(case):
    st = D.dashboard_state(D.PRESETS[case])
    assert st.diagnosis == "healthy"
    assert not st.diverged and np.isfinite(st.losses).all() and len(st.losses) == D.STEPS
    if case == "ReLU + He":
        assert 0.1 <= st.ratio <= 10
    if case == "residual":  # the same network as 'deep sigmoid': the gradient now reaches layer 1
        assert st.ratio > 1e-3 and 0.5 < np.prod(st.factors) < 2
    if case == "clipping":  # the exploding network, trained: the loss falls instead of overflowing
        assert st.losses[-1] < st.losses[0] / 10


def test_depth_5_to_40_with_sigmoid_falls_by_orders_of_magnitude_and_he_brings_it_back():
    small = dict(activation="sigmoid", init="normal", scale=0.1)
    a, b = D.dashboard_state(depth=5, **small), D.dashboard_state(depth=40, **small)
    assert b.first < a.first * 1e-10
    c = D.dashboard_state(depth=40, activation="relu", init="he")
    assert 0.1 <= c.first / c.last <= 10


def test_dead_units_are_diagnosed():
    st = D.dashboard_state(depth=30, activation="relu", init="he", eta=2.0, clip=5.0)
    assert st.diagnosis == "dead units" and st.dead[-1] > 0.5


@pytest.mark.parametrize("args, word", [
    (([1e-5, 1.0], [1e-5, 1.0], 0.0, False), "vanishing"),
    (([1e5, 1.0], [1e5, 1.0], 0.0, False), "exploding"),
    (([1e5, 1.0], [0.5, 1e-5], 0.0, False), "healthy"),   # clipped: the step stays bounded
    (([1.0, 1.0], [1.0, 1.0], 0.0, True), "exploding"),
    (([1.0, 1.0], [1.0, 1.0], 0.8, False), "dead units"),
    (([1.0, 2.0], [1.0, 2.0], 0.2, False), "healthy"),
])
def test_diagnose_worked_cases(args, word):
    assert D.diagnose(*args) == word


def test_deterministic():
    a, b = D.dashboard_state(depth=7, activation="leaky_relu"), D.dashboard_state(depth=7, activation="leaky_relu")
    assert np.array_equal(a.grad_norms, b.grad_norms) and np.array_equal(a.losses, b.losses)


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


def test_a_gradient_that_vanishes_with_the_signal_is_still_vanishing():
    # tanh with a small scale: the signal dies forward, so every weight gradient is tiny and their ratio ~1;
    # the chain of factors ||g(1)|| / ||g(depth)|| still shows the collapse
    st = D.dashboard_state(depth=30, activation="tanh", init="normal", scale=0.1, eta=0.05)
    assert 0.1 < st.ratio < 10 and np.prod(st.factors) < 1e-6
    assert st.diagnosis == "vanishing"
    assert D.diagnose([1.0, 1.0], [1.0, 1.0], 0.0, False, chain_ratio=1e-5) == "vanishing"
    assert D.diagnose([1.0, 1.0], [1.0, 1.0], 0.0, False, chain_ratio=1e5) == "exploding"
