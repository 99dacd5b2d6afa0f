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
    fig.legend(loc="outside right upper", fontsize=9, frameon=False)
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


def misclassified_figure(images, labels, predicted, count: int | None = None, per_row: int = 12):
    """The misclassified images (all of them, or the first ``count``), each titled "true t, said p", in rows of
    at most ``per_row`` (as even as possible), drawn as one mosaic."""
    images, labels, predicted = np.asarray(images), np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(labels != predicted)[:count]
    rows = max(1, -(-len(wrong) // per_row))
    cols = max(1, -(-len(wrong) // rows), 8)
    h, w = images.shape[1:3] if images.ndim == 3 else (8, 8)
    gap = max(1, w // 4)
    mosaic = np.full((rows * (h + 3 * gap), cols * (w + gap)), np.nan)  # room above each image for its title
    fig = new_figure(10, round(rows * (10 / cols + 0.45), 2), layout="constrained")
    ax = fig.subplots()
    for n, i in enumerate(wrong):
        r, c = divmod(n, cols)
        top, left = r * (h + 3 * gap) + 3 * gap, c * (w + gap)
        mosaic[top:top + h, left:left + w] = images[i]
        ax.text(left + w / 2 - 0.5, top - 0.8, f"true {labels[i]}\nsaid {predicted[i]}", ha="center", va="bottom",
                fontsize=9)
    ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
    ax.axis("off")
    return fig


_SWEEP_LABELS = {"eta": "learning rate eta (log)", "batch_size": "batch size (log)", "width": "hidden units (log)"}


def sweep_figure(sweeps: Mapping):
    """One panel per sweep of :func:`backprop.experiments.lab.lab_sweeps`: mean test accuracy over the seeds, with
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


def dead_units_figure(histories: Mapping, layers=("y(1)",)):
    """The fraction of dead ReLU units after every epoch, one panel per layer of ``layers`` (a name such as
    ``"y(2)"`` or several), one line per labelled ``History``; the legend below the panels."""
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(f"argument 'histories' expected a mapping label -> History, got {describe(histories)}")
    layers = [layers] if isinstance(layers, str) else list(layers)
    fig = new_figure(min(10, 4 * len(layers) + 1), 3.2, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(layers), sharey=True))
    for ax, layer in zip(axes, layers):
        for label, h in histories.items():
            if layer not in h.dead_relu:
                raise ValueError(f"argument 'layers' expected ReLU layers of the runs ({sorted(h.dead_relu)}), "
                                 f"got {layer!r}")
            ax.plot(h.epochs, np.array(h.dead_relu[layer]) * 100, "o-", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_title(f"dead units of {layer}", fontsize=10)
        ax.set_ylim(-2, 102)
    axes[0].set_ylabel("dead units (%)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(histories), fontsize=9,
               frameon=False)
    return fig
