"""core/lab.py: the accompanying courses' lab on the digits, one run and the sweeps, and the stored sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from backprop.experiments import lab as L


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


# -- notebook 06's task: reach the target in a few epochs ------------------------------------------------------
def _challenge(accuracies, losses=(0.3, 0.3), status="completed", updates=129):
    runs = tuple({"test_accuracy": a, "train_loss": l, "status": status, "updates": updates, "seconds": 0.1}
                 for a, l in zip(accuracies, losses))
    return L.LabChallenge(0.1, 32, runs)


def test_the_challenge_passes_only_when_every_split_reaches_the_target():
    target = L.LAB_CHALLENGE["target"]
    assert _challenge((target, target + 0.01)).passed
    assert not _challenge((target + 0.02, target - 0.001)).passed  # one lucky split is not enough
    assert "Reached" in _challenge((0.97, 0.98)).message()


@pytest.mark.parametrize("accuracies, losses, words", [
    ((0.93, 0.94), (0.23, 0.25), "has not gone far enough"),        # too few or too short steps
    ((0.72, 0.96), (0.08, 0.12), "jumps from one split to the other"),  # steps too long to settle
    ((0.14, 0.28), (3e86, 5e92), "blew up"),                        # far too long
])
def test_each_kind_of_miss_gets_its_hint_and_no_values_to_copy(accuracies, losses, words):
    message = _challenge(accuracies, losses).message()
    assert words in message and message.startswith("eta = 0.1, batch size 32: test accuracy")
    assert "Not yet" in message


def test_the_default_settings_miss_and_a_better_one_reaches_the_target():
    """The notebook's starting values (the lab's own) miss in 3 epochs; more updates per epoch reach it."""
    assert not L.lab_challenge(L.LAB["eta"], L.LAB["batch_size"]).passed
    assert L.lab_challenge(L.LAB["eta"], L.LAB["batch_size"] // 2).passed


def test_the_challenge_checks_its_arguments():
    from strategies import assert_explained

    assert_explained(lambda: L.lab_challenge(-0.1, 32), ValueError, ["'eta'"])
    assert_explained(lambda: L.lab_challenge(0.1, 0), ValueError, ["'batch_size'"])
