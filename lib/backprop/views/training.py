"""Notebook 06's figures of training: descent variants, a confusion matrix, misclassified digits, sweeps, dead units.

Each function takes plain results (histories, labels, images, the stored sweeps) and
returns a :class:`~backprop.views.style.CourseFigure`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..core.checks import check_labels, describe
from .style import new_figure

__all__ = ["descent_figure", "confusion_matrix", "confusion_figure", "misclassified_figure", "sweep_figure",
           "dead_units_figure"]


def descent_figure(histories: Mapping):
    """Loss of every step against the epoch (log scale) for each labelled ``History``: batch, stochastic and
    mini-batch descent side by side, noise included."""
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(f"argument 'histories' expected a mapping label -> History, got {describe(histories)}")
    fig = new_figure(10, 3.4, layout="constrained")
    ax = fig.subplots()
    for label, h in histories.items():
        steps = len(h.step_loss)
        epochs = len(h.epochs) or 1
        x = np.arange(1, steps + 1) * epochs / steps
        ax.semilogy(x, h.step_loss, lw=0.8 if steps > 200 else 1.6, alpha=0.6 if steps > 200 else 1.0,
                    label=f"{label} ({steps} updates)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss of the step's batch")
    ax.legend(fontsize=9)
    return fig


def confusion_matrix(labels, predicted, num_classes: int = 10) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    labels = check_labels(labels, "labels", num_classes)
    predicted = check_labels(predicted, "predicted", num_classes)
    if labels.shape != predicted.shape:
        raise ValueError(f"argument 'predicted' expected one label per true label {labels.shape}, got {predicted.shape}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def confusion_figure(labels, predicted, title: str = ""):
    """The confusion matrix as a heat map with every count written in its cell."""
    counts = confusion_matrix(labels, predicted)
    fig = new_figure(5.2, 4.6, layout="constrained")
    ax = fig.subplots()
    ax.imshow(np.log1p(counts), cmap="Blues")
    for (i, j), c in np.ndenumerate(counts):
        if c:
            ax.text(j, i, str(c), ha="center", va="center", fontsize=9, color="white" if i == j else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title or f"accuracy {100 * np.trace(counts) / counts.sum():.1f} %", fontsize=10)
    return fig


def misclassified_figure(images, labels, predicted, count: int = 12):
    """The first ``count`` misclassified images, each titled "true t, said p"."""
    images, labels, predicted = np.asarray(images), np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(labels != predicted)[:count]
    cols = max(1, min(len(wrong), 12))
    fig = new_figure(10, 1.35, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, cols))
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"true {labels[i]}\nsaid {predicted[i]}", fontsize=9)
    return fig


_SWEEP_LABELS = {"eta": "learning rate eta (log)", "batch_size": "batch size (log)", "width": "hidden units (log)"}


def sweep_figure(sweeps: Mapping):
    """One panel per sweep of :func:`backprop.core.lab.lab_sweeps`: mean test accuracy over the seeds, with
    error bars of one standard deviation and every seed's own point."""
    rows = sweeps.get("sweeps") if isinstance(sweeps, Mapping) else None
    if not rows:
        raise TypeError(f"argument 'sweeps' expected the dict of lab_sweeps / stored_lab_sweeps, got {describe(sweeps)}")
    fig = new_figure(10, 3.2, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(rows), sharey=True))
    for ax, (name, points) in zip(axes, rows.items()):
        x = np.array([p["value"] for p in points], dtype=float)
        mean = np.array([p["mean"] for p in points]) * 100
        std = np.array([p["std"] for p in points]) * 100
        for p in points:
            ax.plot([p["value"]] * len(p["accuracies"]), np.array(p["accuracies"]) * 100, ".", color="#999999")
        ax.errorbar(x, mean, yerr=std, fmt="o-", capsize=3, color="#1f77b4")
        ax.set_xscale("log")
        ax.set_xlabel(_SWEEP_LABELS.get(name, name))
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("test accuracy (%)")
    return fig


def dead_units_figure(histories: Mapping, layer: str = "y(1)"):
    """The fraction of dead ReLU units of ``layer`` after every epoch, one line per labelled ``History``."""
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(f"argument 'histories' expected a mapping label -> History, got {describe(histories)}")
    fig = new_figure(7, 3.0, layout="constrained")
    ax = fig.subplots()
    for label, h in histories.items():
        ax.plot(h.epochs, np.array(h.dead_relu[layer]) * 100, "o-", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"dead units of {layer} (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=9)
    return fig
