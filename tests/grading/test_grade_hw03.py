"""The instructor's grader on homework 03: crafted wrong submissions, graded end to end in the sandbox.

One batch (`python -m backprop.grading grade ... --json`) grades the complete solution, the
untouched student version and one submission per realistic mistake: each edits one answer cell
of the solution and must lose that part (or the share of it the mistake deserves) and keep the
others. The table these tests check is the one the closing note reports.
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

#: submission -> (the answer cell it replaces, its source)
CRAFTED = {
    "naive_softmax": ("softmax_code", '''
def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))      # overflows for logits of size 1000
'''),
    "hard_coded_softmax": ("softmax_code", '''
def softmax(z):
    return np.array([1 / 6, 1 / 3, 1 / 2])    # the worked example's answer
'''),
    "width_one_jacobian": ("jacobian_code", '''
def softmax_jacobian(z):
    return np.zeros((len(z), len(z)))         # right for one unit only
'''),
    "diagonal_jacobian": ("jacobian_code", '''
def softmax_jacobian(z):
    y = softmax(z)
    return np.diag(y * (1 - y))               # the off-diagonal terms forgotten
'''),
    "transposed_jacobian": ("vector_backward_code", '''
def vector_backward(dy, J):
    return J @ dy                              # as if J's rows were the inputs: the transposed Jacobian
'''),
    "builds_the_jacobian": ("softmax_backward_code", '''
def softmax_backward(dy, z):
    y = softmax(z)
    J = np.diag(y) - np.outer(y, y)            # n x n: 80 GB at width 100,000
    return dy @ J
'''),
    "scalar_rule_in_softmax": ("softmax_backward_code", '''
def softmax_backward(dy, z):
    y = softmax(z)
    return y * (1 - y) * dy                    # the diagonal only
'''),
    "naive_cross_entropy": ("softmax_ce_code", '''
def softmax_ce_backward(z, d):
    y = np.exp(z) / np.sum(np.exp(z))
    return -np.sum(d * np.log(y)), y - d       # nan and inf for logits of size 1000
'''),
    "gradient_before_softmax": ("softmax_ce_code", '''
def softmax_ce_backward(z, d):
    m = np.max(z)
    y = softmax(z)
    return m + np.log(np.sum(np.exp(z - m))) - np.dot(d, z), -d / y
'''),
    "library_softmax": ("softmax_code", '''
from backprop.core.activations import Softmax
def softmax(z):
    return Softmax().forward(z)                # the library's answer: not in the grading kernel
'''),
    "multiply_does_not_swap": ("multiplicative_code", '''
def multiplicative_backward(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] += do[i] * y[j]
        dy[l] += do[i] * y[l]
    return dy
'''),
    "multiplicative_overwrites": ("multiplicative_code", '''
def multiplicative_backward(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] = do[i] * y[l]
        dy[l] = do[i] * y[j]
    return dy
'''),
}

#: submission -> {part: points it must get, or "partial": fewer than full}; parts not named keep full marks
#: the solution's later answers call its softmax, so a wrong softmax costs them too ("any": not checked)
USE_SOFTMAX = {p: "any" for p in ("03_softmax_jacobian", "03_softmax_backward", "03_softmax_backward_large",
                                  "03_softmax_ce_backward")}
EXPECTED = {
    "naive_softmax": {"03_softmax": 0, **USE_SOFTMAX},
    "hard_coded_softmax": {"03_softmax": 0, **USE_SOFTMAX},
    "width_one_jacobian": {"03_softmax_jacobian": 0},
    "diagonal_jacobian": {"03_softmax_jacobian": 0},
    "transposed_jacobian": {"03_vector_backward": 0},
    "builds_the_jacobian": {"03_softmax_backward_large": 0},
    "scalar_rule_in_softmax": {"03_softmax_backward": "partial", "03_softmax_backward_large": 0},
    "naive_cross_entropy": {"03_softmax_ce_backward": 0},
    "gradient_before_softmax": {"03_softmax_ce_backward": "partial"},
    "library_softmax": {"03_softmax": 0, **USE_SOFTMAX},
    "multiply_does_not_swap": {"03_multiplicative_backward": "partial"},
    "multiplicative_overwrites": {"03_multiplicative_backward": "partial"},
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
    def feedback(name, part_id):
        return _parts(graded[name])[part_id]["feedback"]

    assert "overflows" in feedback("naive_softmax", "03_softmax")
    assert "ran out of memory at width" in feedback("builds_the_jacobian", "03_softmax_backward_large")
    assert "transposed" in feedback("transposed_jacobian", "03_vector_backward")
    assert "must not use backprop.core.activations" in feedback("library_softmax", "03_softmax")
    assert "multiply swaps" in feedback("multiply_does_not_swap", "03_multiplicative_backward")
    assert "-d / y" in feedback("gradient_before_softmax", "03_softmax_ce_backward")


def test_marks_table(graded, capsys):
    """The table of the closing note: every crafted submission's marks per part (printed with -s)."""
    rows = [(name, graded[name]["total"], " ".join(f"{p['points']:g}" for p in graded[name]["parts"]))
            for name in ["solution", "untouched", *sorted(CRAFTED)]]
    with capsys.disabled():
        print()
        for name, total, per_part in rows:
            print(f"{name:28s} {total:5g} / 10   [{per_part}]")
    assert len(rows) == len(CRAFTED) + 2
