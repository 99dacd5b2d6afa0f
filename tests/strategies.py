"""Hypothesis strategies and assertions shared by the test files: the suite's one helper module."""

import re

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import backprop as bp
from backprop.core.tolerance import RTOL  # the finite-difference witness's tolerance: the library's one

#: every finite-difference witness runs at least this many examples per rule
FD_EXAMPLES = 200


def floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=floats(low, high))


def batch_shapes(max_batch=4, max_width=5, min_width=1):
    """(B, width) with B in 1..max_batch and width in min_width..max_width."""
    return st.tuples(st.integers(1, max_batch), st.integers(min_width, max_width))


def batches(low=-3.0, high=3.0, **shape_kw):
    return batch_shapes(**shape_kw).flatmap(lambda s: arrays(s, low, high))


def away_from(values, points, margin):
    """True when no entry is within ``margin`` of any of ``points``."""
    values = np.asarray(values)
    return all(np.all(np.abs(values - p) > margin) for p in points)


def assert_gradients(report):
    """Fail with the checker's own explanation (which entry, both values, the error)."""
    assert report.passed, str(report)
    assert report.entries, "the check compared nothing"


def assert_explained(call, exc, fragments):
    """``call()`` raises ``exc`` from the library's own checks, and its message holds every fragment
    (the argument's name, what was expected, what came)."""
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # raised by the library's own checks, not by numpy deep inside
    assert "backprop" in info.traceback[-1].path.parts, f"raised in {info.traceback[-1].path}"


# -- the homework's parts, judged here --------------------------------------------------------------
def case_verdicts(part_id, answers, seed=None, given=None):
    """``[(case, verdict)]`` for every public case of a homework part (``seed`` None) or every hidden case of
    that seed, the answers run in this process.  ``answers``: the function the part asks for, or a dict
    name -> function; ``given``: names of the homework's given cells.  A buggy answer's numpy warnings
    (overflow...) are its own and are silenced."""
    import warnings

    from backprop.grading import get_part, hidden_rng
    from backprop.grading.harness import run_here
    from backprop.grading.parts import judge_case

    part = get_part(part_id)
    names = dict(given or {}, **(answers if isinstance(answers, dict) else {part.names[0]: answers}))
    cases = part.public_cases() if seed is None else part.hidden_cases(hidden_rng(part_id, seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(c, judge_case(part, c, run_here(part.names, part.call, names, c.payload))) for c in cases]


def check_message(part_id, *answers):
    """The message of the student's self-check ``check(part_id, *answers)``, which must fail (CheckFailed);
    a buggy answer's numpy warnings are silenced, as in :func:`case_verdicts`."""
    import warnings

    import pytest

    from backprop.grading import CheckFailed, check

    with pytest.raises(CheckFailed) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(part_id, *answers)
    return str(info.value)


def notebook_with_answer(solution, folder, name, answers):
    """A copy of the ``solution`` notebook, written to ``folder/name.ipynb``, with each answer cell of
    ``answers`` ({grade_id: source}) replaced: a crafted submission for the grader."""
    import nbformat

    nb = nbformat.read(solution, as_version=4)
    for grade_id, source in answers.items():
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
        assert cells, f"no cell {grade_id!r} in {solution}"
        for cell in cells:
            cell.source = source
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def grade_cli(submissions, *options):
    """The instructor's command, ``python -m backprop.grading grade ... --json --jobs 2`` (and ``options``), run on
    ``submissions`` ({name: notebook path}): ``{name: its JSON report}``.  In the sandbox where bwrap is installed
    or CI requires it, else with ``--no-sandbox``."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    cmd = [sys.executable, "-m", "backprop.grading", "grade", *map(str, submissions.values()), "--json", "--jobs", "2",
           *options]
    if not shutil.which("bwrap") and os.environ.get("BACKPROP_REQUIRE_SANDBOX") != "1":
        cmd.append("--no-sandbox")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_path = {line["submission"]: line for line in map(json.loads, proc.stdout.splitlines())}
    return {name: by_path[str(path)] for name, path in submissions.items()}


# -- random networks with every divergence ------------------------------------------------------
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
#: divergence -> (output activation, kind of target)
OUTPUTS = {
    "half_squared_error": ("identity", "real"),
    "squared_error": ("tanh", "real"),
    "binary_cross_entropy": ("sigmoid", "binary"),
    "sigmoid_binary_cross_entropy": ("identity", "binary"),
    "cross_entropy": ("softmax", "label"),
    "kl_divergence": ("softmax", "onehot"),
    "softmax_cross_entropy": ("identity", "label"),
}


def random_network(rng, depth, divergence):
    """A random mlp of ``depth`` layers ending in the divergence's output, a batch X and its targets."""
    out_act, target = OUTPUTS[divergence]
    widths = [int(w) for w in rng.integers(1, 5, size=depth + 1)]
    if target in ("label", "onehot"):
        widths[-1] = max(widths[-1], 2)
    acts = [HIDDEN[i] for i in rng.integers(0, len(HIDDEN), size=depth - 1)] + [out_act]
    net = bp.mlp(widths, acts, rng=rng, divergence=divergence)
    T, K = int(rng.integers(1, 5)), widths[-1]
    X = rng.normal(size=(T, widths[0]))
    d = {"real": lambda: rng.normal(size=(T, K)),
         "binary": lambda: rng.integers(0, 2, size=(T, K)).astype(float),
         "label": lambda: rng.integers(0, K, size=T),
         "onehot": lambda: bp.one_hot(rng.integers(0, K, size=T), K)}[target]()
    return net, X, d


# -- small influence diagrams, each with its outcome and a point ----------------------------------
def influence_examples():
    """``{name: (definitions, outcome, point)}`` over the symbols x, y, u, v, w, z (SymPy, imported here)."""
    import sympy as sp

    x, y, u, v, w, z = sp.symbols("x y u v w z")
    return {
        "chain": ({u: x**2, z: sp.sin(u)}, z, {x: 0.7}),
        "product": ({u: x**3, v: sp.cos(x), z: u * v}, z, {x: 1.0}),
        "two inputs": ({u: x * y, z: x * u + y}, z, {x: 0.5, y: -1.3}),
        "skip arrow": ({u: sp.tanh(w * x), v: u + w * x, z: (v - y) ** 2}, z, {x: 0.8, w: -0.6, y: 0.3}),
    }


def influence_example(name):
    """``(diagram, outcome, point)`` for one of :func:`influence_examples`."""
    definitions, target, at = influence_examples()[name]
    return bp.influence_diagram(definitions), target, at


def rendered(fig):
    """The renderer of ``fig`` drawn once (Agg), so that texts and patches know their size on the page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def arrows_under_labels(fig):
    """For each edge label of a drawing (a text on a white box), the arrows that pass under it.

    Measured on the rendered figure: each label's box as drawn (display
    coordinates) against each arrow's path as drawn, sampled every few pixels.
    Returns [(text, [indices of the arrows in ax.patches order crossing it])].
    A label that names one arrow unambiguously has exactly one: its own.
    """
    from matplotlib.patches import FancyArrowPatch

    renderer = rendered(fig)
    out = []
    for ax in fig.axes:
        arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        drawn = [ax.transData.transform(a.get_path().interpolated(40).vertices) for a in arrows]
        for text in ax.texts:
            if text.get_bbox_patch() is None or not text.get_text():
                continue
            box = text.get_window_extent(renderer)
            out.append((text, [i for i, points in enumerate(drawn) if box.count_contains(points) > 0]))
    return out


def overlapping_labels(fig):
    """Pairs of texts (of any kind) whose rendered boxes overlap, per axes."""
    renderer = rendered(fig)
    pairs = []
    for ax in fig.axes:
        boxes = [(t, t.get_window_extent(renderer)) for t in ax.texts if t.get_text().strip()]
        for n, (a, box_a) in enumerate(boxes):
            pairs += [(a.get_text(), b.get_text()) for b, box_b in boxes[n + 1:] if box_a.overlaps(box_b)]
    return pairs


def settle(box):
    """Wait until an explorer (``views.widgets.explorer``) has drawn the newest setting: it draws in a thread."""
    assert box.scheduler.wait(60), "the explorer did not finish drawing"
    assert box.scheduler.errors == [], box.scheduler.errors


# -- the browser --------------------------------------------------------------------------------
#: a Python object's repr on a line of its own (``<Figure size 640x480 with 1 Axes>``, ``<SvgFigure 980x330>``):
#: what JupyterLab shows of an output it renders only in a trusted notebook, never what a student should see
OBJECT_REPR = re.compile(r"^<[\w.]+(\s[^<>]*)?>$", re.M)


#: how the browser tests start Chromium: headless, and nothing it would fetch on its own
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium():
    """The Chromium the browser tests drive: ``$BACKPROP_CHROMIUM``, else ``chromium`` on the PATH, else None.

    With ``BACKPROP_REQUIRE_BROWSER`` set (CI), a missing Chromium is an error, never a silent skip."""
    import os
    import shutil

    found = os.environ.get("BACKPROP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("BACKPROP_REQUIRE_BROWSER"):
        raise RuntimeError("BACKPROP_REQUIRE_BROWSER is set but no Chromium was found (.ci/install-chromium installs it)")
    return found
