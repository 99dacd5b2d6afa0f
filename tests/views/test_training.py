"""views/training.py: notebook 06's figures of training (descent variants, confusion matrix, mistakes, sweeps,
dead units) are course figures and count what they show."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.views.style import CourseFigure
from backprop.views import training as V
from backprop.views.style import MAX_WIDTH


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(0)
    data = bp.digits_dataset(rng=rng)
    net = bp.lab_network(16, rng)
    h = bp.train(net, data.X_train[:200], data.labels_train[:200], eta=0.1, epochs=2, batch_size=20, rng=rng)
    return data, net, h


def test_the_confusion_matrix_counts_rows_true_columns_predicted():
    counts = V.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), num_classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="'predicted'"):
        V.confusion_matrix(np.array([0, 1]), np.array([0]))


def test_every_figure_is_a_course_figure(run):
    data, net, h = run
    predicted = bp.predict_labels(net, data.X_test)
    figures = [V.descent_figure({"mini-batch": h}), V.confusion_figure(data.labels_test, predicted),
               V.misclassified_figure(data.images_test, data.labels_test, predicted),
               V.sweep_figure(bp.stored_lab_sweeps()), V.dead_units_figure({"eta 0.1": h})]
    for fig in figures:
        assert isinstance(fig, CourseFigure) and fig.get_size_inches()[0] <= MAX_WIDTH
    assert "accuracy" in figures[1].axes[0].get_title()
    shown = [t.get_text() for t in figures[2].axes[0].texts]
    wrong = np.flatnonzero(predicted != data.labels_test)
    assert shown == [f"true {data.labels_test[i]}\nsaid {predicted[i]}" for i in wrong]  # every mistake, in order
    few = V.misclassified_figure(data.images_test, data.labels_test, predicted, count=3)
    assert len(few.axes[0].texts) == min(3, len(wrong))


def test_the_dead_units_figure_shows_one_panel_per_layer_and_says_which_layers_exist(run):
    data, net, h = run
    fig = V.dead_units_figure({"a": h, "b": h}, layers=("y(1)",))
    assert [ax.get_title() for ax in fig.axes] == ["dead units of y(1)"]
    with pytest.raises(ValueError, match="'layers'.*y\\(1\\).*'y\\(7\\)'"):
        V.dead_units_figure({"a": h}, layers="y(7)")


def test_bad_inputs_are_explained():
    with pytest.raises(TypeError, match="'histories'"):
        V.descent_figure([])
    with pytest.raises(TypeError, match="'sweeps'"):
        V.sweep_figure({})
