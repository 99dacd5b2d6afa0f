"""The instructor's grader on homework 03, graded end to end in the sandbox.

One batch (`python -m backprop.grading grade ... --json`) grades the complete solution, the
untouched student version and a submission that imports the library's answer: it must lose that
part and keep the others. Each realistic mistake's marks are judged in-process (test_hw03.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from strategies import grade_cli, notebook_with_answer

ROOT = Path(__file__).resolve().parents[2]
SOL03 = ROOT / "solutions" / "03_vector_activations.ipynb"
EX03 = ROOT / "exercises" / "03_vector_activations.ipynb"
TIMEOUT = 10

#: submission -> (the answer cell it replaces, its source). The realistic mistakes (a naive softmax, a transposed
#: or diagonal Jacobian, a Jacobian built at width 10^5, a naive cross-entropy, a product that does not swap...)
#: are judged in-process by test_hw03.py, through the same kernel-side program; here only what takes the
#: grading kernel: the library's answer is not in it.
CRAFTED = {
    "library_softmax": ("softmax_code", '''
from backprop.core.activations import Softmax
def softmax(z):
    return Softmax().forward(z)                # the library's answer: not in the grading kernel
'''),
}

#: submission -> {part: points it must get, or "partial": fewer than full}; parts not named keep full marks
#: the solution's later answers call its softmax, so a wrong softmax costs them too ("any": not checked)
USE_SOFTMAX = {p: "any" for p in ("03_softmax_jacobian", "03_softmax_backward", "03_softmax_backward_large",
                                  "03_softmax_ce_backward")}
EXPECTED = {
    "library_softmax": {"03_softmax": 0, **USE_SOFTMAX},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hw03")
    paths = {"solution": shutil.copy(SOL03, tmp / "solution.ipynb"), "untouched": shutil.copy(EX03, tmp / "untouched.ipynb")}
    paths |= {name: notebook_with_answer(SOL03, tmp, name, {grade_id: source.strip("\n")})
              for name, (grade_id, source) in CRAFTED.items()}
    return grade_cli(paths, "--timeout", str(TIMEOUT))


def _parts(result) -> dict:
    return {p["id"]: p for p in result["parts"]}


def test_the_solution_scores_full_marks_and_the_untouched_exercise_zero(graded):
    assert graded["solution"]["total"] == graded["solution"]["max"] == 10
    assert graded["untouched"]["total"] == 0
    assert all("not answered yet" in p["feedback"] for p in graded["untouched"]["parts"])


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_each_crafted_mistake_loses_its_part_and_only_its_part(graded, name):
    full = _parts(graded["solution"])
    parts = _parts(graded[name])
    for part_id, part in parts.items():
        want = EXPECTED[name].get(part_id)
        if want == "any":
            continue
        if want is None:
            assert part["points"] == full[part_id]["points"], (part_id, part["feedback"])
        elif want == "partial":
            assert part["points"] < full[part_id]["points"], (part_id, part["feedback"])
        else:
            assert part["points"] == want, (part_id, part["points"], part["feedback"])


def test_the_feedback_says_why(graded):
    assert "must not use backprop.core.activations" in _parts(graded["library_softmax"])["03_softmax"]["feedback"]


def test_marks_table(graded, capsys):
    """The table of the closing note: every crafted submission's marks per part (printed with -s)."""
    rows = [(name, graded[name]["total"], " ".join(f"{p['points']:g}" for p in graded[name]["parts"]))
            for name in ["solution", "untouched", *sorted(CRAFTED)]]
    with capsys.disabled():
        print()
        for name, total, per_part in rows:
            print(f"{name:28s} {total:5g} / 10   [{per_part}]")
    assert len(rows) == len(CRAFTED) + 2
