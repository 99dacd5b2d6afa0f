"""core/lab.py: the accompanying courses' lab on the digits, one run and the sweeps, and the stored sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.core import lab as L


def test_reexported():
    for name in L.__all__:
        assert getattr(bp, name) is getattr(L, name)


def test_the_lab_network_is_64_hidden_relu_and_10_logits_he_initialised():
    net = L.lab_network(64, np.random.default_rng(0))
    params = net.parameters()
    assert params["W(1)"].shape == (64, 64) and params["W(2)"].shape == (10, 64)
    assert params["W(1)"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.1)
    assert not params["b(1)"].any() and net.divergence.name == "softmax_cross_entropy"


def test_one_run_reaches_the_labs_accuracy_and_is_reproducible():
    a, b = L.lab_run(seed=0, epochs=5), L.lab_run(seed=0, epochs=5)
    assert a["test_accuracy"] == b["test_accuracy"] >= 0.9 and a["status"] == "completed"


def test_a_diverging_run_reports_what_it_reached():
    run = L.lab_run(eta=50.0, seed=0, epochs=2)
    assert 0.0 <= run["test_accuracy"] <= 0.5


def test_a_small_sweep_has_mean_std_and_every_seed():
    out = L.lab_sweeps(seeds=(0, 1), epochs=2, sweeps={"width": (4, 16)})
    rows = out["sweeps"]["width"]
    assert [r["value"] for r in rows] == [4, 16] and all(len(r["accuracies"]) == 2 for r in rows)
    assert rows[0]["mean"] == pytest.approx(np.mean(rows[0]["accuracies"]))
    assert out["settings"]["epochs"] == 2 and out["settings"]["seeds"] == [0, 1]
    with pytest.raises(ValueError, match="'sweeps'"):
        L.lab_sweeps(seeds=(0,), epochs=1, sweeps={"depth": (1,)})


def test_the_stored_sweeps_are_the_labs_settings_and_values():
    stored = L.stored_lab_sweeps()
    assert "python -m backprop.bench --lab-sweep" in stored["source"]
    for name, values in L.LAB_SWEEPS.items():
        assert [r["value"] for r in stored["sweeps"][name]] == list(values)
        assert all(len(r["accuracies"]) == len(L.LAB["seeds"]) for r in stored["sweeps"][name])
    best = max(r["mean"] for r in stored["sweeps"]["eta"])
    assert best > 0.95
