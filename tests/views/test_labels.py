"""Where an edge's label goes (views/labels.py): on its own edge, clear of every other edge, node and label."""

import numpy as np
import pytest

from backprop.views.labels import _segments_box_distance, along, place_labels, text_size


def test_text_size_grows_with_the_text_and_the_font():
    w1, h1 = text_size("-1.00", 9)
    w2, h2 = text_size("-1.000", 9)
    w3, h3 = text_size("-1.00", 18)
    assert 0 < w1 < w2 and abs(w3 - 2 * w1) < 1e-6 * w3 and h3 > h1
    assert text_size("a\nb", 9)[1] > text_size("a", 9)[1]  # two lines are taller than one
    assert text_size("$w^{(1)}_{12}$", 9)[0] > 0  # mathtext measured as typeset


def test_along_a_polyline():
    track = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]])  # length 4
    assert np.allclose(along(track, 0.0), [0, 0]) and np.allclose(along(track, 0.5), [2, 0])
    assert np.allclose(along(track, 0.875), [3, 0.5]) and np.allclose(along(track, 1.0), [3, 1])


@pytest.mark.parametrize("a, b, centre, expected", [
    ((-2, 0), (2, 0), (0, 0), 0.0),  # through the box
    ((-2, 3), (2, 3), (0, 0), 2.0),  # above it, level: 3 - half height 1
    ((3, -5), (3, 5), (0, 0), 1.0),  # to its right: 3 - half width 2
    ((4, 3), (5, 4), (0, 0), float(np.hypot(2, 2))),  # off a corner: nearest the segment's end
    ((-3, 0.5), (3, 6.5), (0, 0), 0.5 / 2 ** 0.5),  # the line y = x + 3.5 passes the corner (-2, 1)
], ids=["through", "above", "beside", "corner", "slanting past a corner"])
def test_distance_from_a_segment_to_a_box(a, b, centre, expected):
    got = _segments_box_distance(np.array([a], float), np.array([b], float), np.array([centre], float),
                                 np.array([2.0, 1.0]))
    assert got.shape == (1, 1) and got[0, 0] == pytest.approx(expected)


def test_a_label_moves_away_from_a_crossing():
    # two edges crossing at their middles: each label leaves the crossing and stays on its own edge
    tracks = [np.array([[0.0, 0.0], [10.0, 10.0]]), np.array([[0.0, 10.0], [10.0, 0.0]])]
    places = place_labels(tracks, [(1.0, 0.5), (1.0, 0.5)])
    for (a, b), p in zip(tracks, places):
        (ux, uy), (vx, vy) = b - a, p - a
        assert abs(ux * vy - uy * vx) < 1e-9  # on its own edge
        assert np.hypot(*(p - [5.0, 5.0])) > 2.0  # away from the crossing
    boxes = [(p, np.array([0.5, 0.25])) for p in places]
    assert _box_gap_free(boxes)


def _box_gap_free(boxes):
    return all(np.any(np.abs(c1 - c2) > h1 + h2) for i, (c1, h1) in enumerate(boxes) for c2, h2 in boxes[i + 1:])


def test_a_lone_edge_is_labelled_in_its_middle_and_unlabelled_edges_get_none():
    tracks = [np.array([[0.0, 0.0], [4.0, 0.0]]), np.array([[0.0, 3.0], [4.0, 3.0]])]
    places = place_labels(tracks, [(1.0, 0.5), None], boxes=[((0.0, 0.0), (1.0, 1.0)), ((4.0, 0.0), (1.0, 1.0))])
    assert np.allclose(places[0], [2.0, 0.0]) and places[1] is None


def test_labels_of_parallel_neighbours_do_not_overlap():
    tracks = [np.array([[0.0, y], [6.0, y + 0.2]]) for y in (0.0, 0.6, 1.2)]
    places = place_labels(tracks, [(1.0, 0.4)] * 3)
    assert _box_gap_free([(p, np.array([0.5, 0.2])) for p in places])
