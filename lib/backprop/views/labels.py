"""Where an edge's label goes in a drawing: on its own edge, clear of the others.

One rule serves every diagram of the course (the DAGs of notebooks 01-02 and the
neuron-by-neuron networks of notebook 02): a label sits on the edge it names,
at the point along that edge where its box has the most room, that is, the
farthest from every other edge, every node and every label already placed.
Where two edges cross, their labels therefore sit away from the crossing, so a
reader never has to guess which arrow a number belongs to.

Geometry only (numpy); the caller measures its labels (:func:`text_size`) and
says which units it draws in.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

__all__ = ["text_size", "along", "place_labels"]

# preferred first: the middle of the edge, then outwards
_FRACTIONS = tuple(sorted(np.round(np.linspace(0.12, 0.88, 39), 3), key=lambda t: (abs(t - 0.5), t)))


@lru_cache(maxsize=4096)  # an explorer redraws the same labels at every step
def text_size(text: str, fontsize: float) -> tuple[float, float]:
    """(width, height) in points of (multi-line, possibly mathtext) ``text`` at ``fontsize``."""
    width, height = 0.0, 0.0
    prop = FontProperties(size=fontsize)
    for line in text.split("\n"):
        if line.strip():
            ext = TextPath((0, 0), line, size=fontsize, prop=prop).get_extents()
            width = max(width, ext.width)
            height += max(1.25 * fontsize, ext.height + 0.35 * fontsize)
        else:
            height += 1.25 * fontsize
    return float(width), float(height)


def along(track: np.ndarray, t: float) -> np.ndarray:
    """The point at fraction ``t`` of a polyline's length; ``track`` has shape (points, 2)."""
    track = np.asarray(track, dtype=float)
    lengths = np.hypot(*np.diff(track, axis=0).T)
    goal, start = t * lengths.sum(), 0.0
    for p, q, length in zip(track, track[1:], lengths):
        if start + length >= goal and length > 0:
            return p + (goal - start) / length * (q - p)
        start += length
    return track[-1]


def _segments_box_distance(a, b, centres, half) -> np.ndarray:
    """Distance from each of m segments a->b (each (m, 2)) to each of n boxes; shape (n, m), 0 where they meet.

    The boxes have centres ``centres`` (n, 2) and half-size ``half`` (2,).  Two
    convex shapes that do not meet are nearest at a corner of one of them, so the
    distance is the least over the segment's ends (to the box) and the box's
    corners (to the segment).
    """
    c = centres[:, None, :]  # (n, 1, 2)
    lo, hi, d = c - half, c + half, (b - a)[None]  # (n, 1, 2), (n, 1, 2), (1, m, 2)
    flat = np.abs(d) < 1e-12
    step = np.where(flat, 1.0, d)
    ta, tb = (lo - a) / step, (hi - a) / step  # Liang-Barsky: where each segment enters and leaves each slab
    inside = (a >= lo) & (a <= hi)  # a segment parallel to an axis is inside that slab throughout, or never
    t_in = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(ta, tb))
    t_out = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(ta, tb))
    meets = np.maximum(0.0, t_in.max(axis=-1)) <= np.minimum(1.0, t_out.min(axis=-1))

    def point_box(p):
        gap = np.maximum(np.abs(p - c) - half, 0.0)
        return np.hypot(gap[..., 0], gap[..., 1])

    best = np.minimum(point_box(a[None]), point_box(b[None]))
    dd = (d * d).sum(-1)  # (1, m)
    for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        corner = c + half * np.array(signs)  # (n, 1, 2)
        u = np.clip(((corner - a) * d).sum(-1) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
        gap = corner - (a + u[..., None] * d)
        best = np.minimum(best, np.hypot(gap[..., 0], gap[..., 1]))
    return np.where(meets, 0.0, best)


def _box_gap(c1, h1, c2, h2) -> np.ndarray:
    """Gaps between n boxes (centres c1 (n, 2), half-size h1 (2,)) and m boxes (c2, h2 (m, 2)); (n, m).

    Negative where two boxes overlap.
    """
    gap = np.abs(c1[:, None, :] - c2[None]) - h1 - h2[None]
    dx, dy = gap[..., 0], gap[..., 1]
    return np.where(np.minimum(dx, dy) < 0, np.maximum(dx, dy), np.hypot(dx, dy))


def place_labels(tracks: Sequence, sizes: Sequence, boxes: Sequence = (), *, prefer: float = 0.0) -> list:
    """The centre of each edge's label: on its own edge, where its box has the most room.

    ``tracks``: one polyline per edge, each of shape (points, 2), in drawing units.
    ``sizes``: the (width, height) of each edge's label box in the same units, or
    ``None`` for an edge without a label.  ``boxes``: the nodes, as
    ``((x, y), (width, height))``.  Labels are placed one by one, the one
    with the least room first, each an obstacle for the next; then each is
    placed again knowing where all the others are (three rounds).  The middle of an edge is preferred
    unless a point farther out has more than ``prefer`` units more room.
    Returns one point (an array of shape (2,)) per edge, ``None`` for an edge
    without a label.
    """
    tracks = [np.asarray(t, dtype=float).reshape(-1, 2) for t in tracks]
    owner = np.concatenate([np.full(len(t) - 1, i) for i, t in enumerate(tracks)] + [np.zeros(0, int)])
    starts = np.concatenate([t[:-1] for t in tracks] + [np.zeros((0, 2))])
    ends = np.concatenate([t[1:] for t in tracks] + [np.zeros((0, 2))])
    node_c = np.array([c for c, _ in boxes], dtype=float).reshape(-1, 2)
    node_h = np.array([size for _, size in boxes], dtype=float).reshape(-1, 2) / 2
    halves = [None if size is None else np.asarray(size, dtype=float) / 2 for size in sizes]
    candidates, fixed = {}, {}
    for i, half in enumerate(halves):
        if half is None:
            continue
        points = np.array([along(tracks[i], t) for t in _FRACTIONS])
        others = owner != i  # the room each candidate has from the other edges and the nodes, which stay put
        room = _segments_box_distance(starts[others], ends[others], points, half).min(axis=1, initial=np.inf)
        if len(node_c):
            room = np.minimum(room, _box_gap(points, half, node_c, node_h).min(axis=1))
        candidates[i], fixed[i] = points, room
    out = [None] * len(sizes)

    def place(i):
        room = fixed[i]
        others = [j for j, p in enumerate(out) if p is not None and j != i]
        if others:
            room = np.minimum(room, _box_gap(candidates[i], halves[i], np.array([out[j] for j in others]),
                                             np.array([halves[j] for j in others])).min(axis=1))
        best, best_room = 0, -np.inf
        for n, r in enumerate(room):  # the middle first; farther out only where clearly roomier
            if r > best_room + prefer:
                best, best_room = n, r
        out[i] = candidates[i][best]

    order = sorted(candidates, key=lambda i: fixed[i].max())  # the most hemmed-in first: it has the least choice
    for i in order:  # each label placed is an obstacle for the next ...
        place(i)
    for _ in range(3):  # ... then each is moved again, knowing where all the others went
        for i in order:
            place(i)
    return out
