"""The lab on the digits: one hidden layer of ReLU units, softmax, cross-entropy, mini-batches.

The lab comes from one of the course's source documents only (a student's notes of
a similar lecture: one hidden layer of 64 ReLU units, softmax, cross-entropy,
mini-batch descent, then sweeps of the learning rate, the batch size and the
architecture); the lecture itself has no lab.

:func:`lab_run` trains the lab's network once (He initialisation, the fused
softmax cross-entropy on the logits, mini-batch SGD with a new order every
epoch) and returns its test accuracy; :func:`lab_sweeps` varies one setting at
a time -- the learning rate eta, the batch size, the width of the hidden
layer -- around :data:`LAB`, each point over several seeds (a seed fixes the
split, the initial weights and the order of the mini-batches).  The sweeps take
about a minute, so notebook 06 plots the stored result of
``python -m backprop.bench --lab-sweep FILE`` (:func:`stored_lab_sweeps`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..core.checks import check_choice, check_positive, check_positive_int
from ..core.data import digits_dataset
from ..core.initialisation import initialise
from ..core.network import mlp
from ..core.training import evaluate, train

__all__ = ["LAB", "LAB_SWEEPS", "LAB_FILE", "LAB_CHALLENGE", "LabChallenge", "lab_network", "lab_run", "lab_challenge",
           "lab_sweeps", "stored_lab_sweeps"]

#: the lab's settings: 64 hidden ReLU units, eta, batch size, epochs, the seeds of every point
LAB = {"width": 64, "eta": 0.1, "batch_size": 32, "epochs": 15, "seeds": (0, 1, 2)}
#: the values each sweep runs through (the others stay at LAB's)
LAB_SWEEPS = {"eta": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "batch_size": (1, 4, 16, 64, 256, 1347),
              "width": (4, 8, 16, 32, 64, 128, 256)}
#: the stored sweeps, in ``backprop/_data``
LAB_FILE = "lab_sweeps.json"
#: notebook 06's task: choose eta and the batch size so that the lab's network reaches ``target`` test accuracy
#: within ``epochs`` epochs on every one of ``seeds`` (two splits, so that one lucky split is not enough)
LAB_CHALLENGE = {"epochs": 3, "target": 0.96, "seeds": (0, 1)}


def lab_network(width: int, rng: np.random.Generator):
    """64 -> width (ReLU) -> 10 logits, He-initialised from ``rng``, with the fused softmax cross-entropy."""
    width = check_positive_int(width, "width")
    net = mlp([64, width, 10], ["relu", "identity"], rng=rng, divergence="softmax_cross_entropy")
    return initialise(net, "he", rng=rng)


def lab_run(*, eta: float = LAB["eta"], batch_size: int = LAB["batch_size"], width: int = LAB["width"],
            seed: int = 0, epochs: int = LAB["epochs"]) -> dict:
    """Train the lab's network once on the digits; ``{"test_accuracy", "train_loss", "seconds", "status", "updates"}``.

    A run that diverges (too large an eta) stops and reports the accuracy it reached.
    """
    rng = np.random.default_rng(seed)
    data = digits_dataset(rng=rng)
    net = lab_network(width, rng)
    history = train(net, data.X_train, data.labels_train, eta=eta, epochs=epochs, batch_size=batch_size, rng=rng,
                    on_divergence="stop")
    _, accuracy = evaluate(net, data.X_test, data.labels_test)
    return {"test_accuracy": 0.0 if np.isnan(accuracy) else accuracy,
            "train_loss": history.train_loss[-1] if history.train_loss else float("nan"),
            "seconds": history.seconds[-1] if history.seconds else 0.0, "status": history.status,
            "updates": len(history.step_loss)}


@dataclass(frozen=True)
class LabChallenge:
    """The result of one attempt at the lab's task: the settings, each seed's run, and whether it reached the target."""

    eta: float
    batch_size: int
    runs: tuple  # one lab_run result per seed of LAB_CHALLENGE

    @property
    def accuracies(self) -> list[float]:
        return [r["test_accuracy"] for r in self.runs]

    @property
    def passed(self) -> bool:
        return all(a >= LAB_CHALLENGE["target"] for a in self.accuracies)

    def message(self) -> str:
        """What a student reads: the result, and a hint that points in a direction without naming values."""
        c = LAB_CHALLENGE
        shown = " and ".join(f"{100 * a:.1f} %" for a in self.accuracies)
        head = (f"eta = {self.eta:g}, batch size {self.batch_size}: test accuracy {shown} after {c['epochs']} "
                f"epochs on the {len(self.runs)} splits (target: {100 * c['target']:.0f} % on each)")
        if self.passed:
            return f"{head}. Reached: this setting learns the digits in {c['epochs']} epochs."
        updates = self.runs[0]["updates"]
        losses = [r["train_loss"] for r in self.runs]
        if any(r["status"] == "diverged" or not np.isfinite(r["train_loss"]) or r["train_loss"] > 10 for r in self.runs):
            return (f"{head}. Not yet: the training loss blew up on at least one split. The steps are too long for "
                    f"this batch size: a smaller eta, or a larger batch that averages the noise, steadies them.")
        if max(self.accuracies) - min(self.accuracies) > 0.05:
            return (f"{head}. Not yet: the result jumps from one split to the other, a sign of steps too long to "
                    f"settle: a smaller eta, or a larger batch, makes the last steps calmer.")
        return (f"{head}. Not yet: training works but has not gone far enough ({updates} updates in all, the "
                f"training loss still {max(losses):.2f}). Either more updates per epoch (a smaller batch) or longer "
                f"steps (a larger eta) helps, up to the point where the steps become too long.")


def lab_challenge(eta: float, batch_size: int) -> LabChallenge:
    """Train the lab's network with ``eta`` and ``batch_size`` for :data:`LAB_CHALLENGE`'s epochs on each of its seeds."""
    eta = check_positive(eta, "eta", "a learning rate")
    batch_size = check_positive_int(batch_size, "batch_size")
    runs = tuple(lab_run(eta=eta, batch_size=batch_size, seed=s, epochs=LAB_CHALLENGE["epochs"])
                 for s in LAB_CHALLENGE["seeds"])
    return LabChallenge(float(eta), batch_size, runs)


def lab_sweeps(*, seeds=LAB["seeds"], epochs: int = LAB["epochs"], sweeps=LAB_SWEEPS) -> dict:
    """Every sweep of ``sweeps`` (name -> values), each point the test accuracy over ``seeds``: mean, std, all."""
    out = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in LAB.items()} | {"epochs": epochs,
                                                                                               "seeds": list(seeds)},
           "sweeps": {}}
    for name, values in sweeps.items():
        check_choice(name, "sweeps", LAB_SWEEPS)
        rows = []
        for value in values:
            runs = [lab_run(**{**{k: LAB[k] for k in ("eta", "batch_size", "width")}, name: value},
                            seed=s, epochs=epochs) for s in seeds]
            accuracies = [r["test_accuracy"] for r in runs]
            rows.append({"value": value, "accuracies": accuracies, "mean": statistics.mean(accuracies),
                         "std": statistics.pstdev(accuracies), "seconds": statistics.mean(r["seconds"] for r in runs),
                         "diverged": sum(r["status"] == "diverged" for r in runs)})
        out["sweeps"][name] = rows
    return out


def stored_lab_sweeps() -> dict:
    """The sweeps stored by ``python -m backprop.bench --lab-sweep`` (``backprop/_data/lab_sweeps.json``)."""
    return json.loads(resources.files("backprop").joinpath("_data", LAB_FILE).read_text(encoding="utf-8"))
