"""The instructor's grader end to end: `python -m backprop.grading grade` on crafted submissions."""

# One batch grades every crafted submission (two jobs at once, a short time limit), as an
# instructor would; each test then reads its submission's line of the JSON output.

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOL01 = ROOT / "solutions" / "01_calculus_refresher.ipynb"
SOL02 = ROOT / "solutions" / "02_scalar_backprop.ipynb"
EX02 = ROOT / "exercises" / "02_scalar_backprop.ipynb"
TIMEOUT = 4


def _cell(nb, grade_id):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def _edit(base: Path, replace: dict | None = None, delete=(), mutate=None) -> str:
    """A submission made from a complete notebook: some answer cells replaced or deleted."""
    nb = nbformat.read(base, as_version=4)
    for grade_id, source in (replace or {}).items():
        _cell(nb, grade_id).source = source
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in delete]
    if mutate:
        mutate(nb)
    return nbformat.writes(nb)


FORWARD_WRONG_ACTIVATION = '''
def forward_pass(x, weights, biases, activations):
    N = len(weights) - 1
    z, y = [None], [np.asarray(x, dtype=float)]
    for k in range(1, N + 1):
        z_k = y[k - 1] @ weights[k] + biases[k]
        z.append(z_k)
        y.append(z_k)          # forgot the activation
    return z, y
'''

ACTIVATION_STEP_OTHER_SUBGRADIENT = '''
def activation_step(dy_k, z_k, f):
    # a different but valid convention at ReLU's kink: slope 1 at z = 0
    out = np.zeros(len(z_k))
    for i in range(len(z_k)):
        slope = 1.0 if (f.name == "relu" and z_k[i] == 0) else f.derivative(z_k[i])
        out[i] = slope * dy_k[i]
    return out
'''

MONKEYPATCH = '''
# everything a student might patch in the kernel to pass: numpy's comparisons, the course
# tolerance (and the names the grading modules imported it under), the self-check, the judge
import numpy, numpy.testing
import backprop.core.tolerance, backprop.grading, backprop.grading.parts, backprop.grading.hw02
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
backprop.core.tolerance.agree = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
backprop.grading.parts.agree = backprop.core.tolerance.agree
backprop.grading.hw02.agree = backprop.core.tolerance.agree
backprop.grading.check = lambda *a, **k: print("all good")
backprop.grading.parts.judge_case = lambda *a, **k: backprop.grading.parts.Verdict(True)
backprop.grading.parts.Verdict.ok = classmethod(lambda cls: cls(True))
backprop.grading.parts.Verdict.wrong = classmethod(lambda cls, *a, **k: cls(True))

def forward_pass(x, weights, biases, activations):
    N = len(weights) - 1
    return [None] + [numpy.zeros(weights[k].shape[1]) for k in range(1, N + 1)], [x] + [numpy.zeros(weights[k].shape[1]) for k in range(1, N + 1)]
'''


def _submissions(tmp: Path) -> dict[str, Path]:
    made = {
        "solution02": SOL02.read_text(),
        "solution01": SOL01.read_text(),
        "untouched02": EX02.read_text(),
        "untouched01": (ROOT / "exercises" / "01_calculus_refresher.ipynb").read_text(),
        "raises": _edit(SOL02, {"input_step_code": "def input_step(dz_k, w_k):\n    return 1 / 0"}),
        "syntax_error": _edit(SOL02, {"forward_code": "def forward_pass(x, weights, biases, activations)\n    return x"}),
        "endless_cell": _edit(SOL02, {"weight_step_code": "while True:\n    pass"}),
        "endless_function": _edit(SOL02, {"weight_step_code": "def weight_step(dz_k, y_prev):\n    while True:\n        pass"}),
        "prints_megabytes": _edit(SOL02, {"input_step_code": _cell(nbformat.read(SOL02, 4), "input_step_code").source
                                          + "\nprint('x' * 5_000_000)\nfor _ in range(2000):\n    print('y' * 1000)"}),
        "deleted_cell": _edit(SOL02, delete=("backward_code", "setup")),
        "renamed_function": _edit(SOL02, {"average_code": _cell(nbformat.read(SOL02, 4), "average_code").source
                                          .replace("def average_gradients(", "def average_gradient(")}),
        "monkeypatch": _edit(SOL02, {"forward_code": MONKEYPATCH}),
        "kernel_dies": _edit(SOL02, {"average_code": "import os\nos._exit(3)"}),
        "partial": _edit(SOL02, {"forward_code": FORWARD_WRONG_ACTIVATION}),
        "other_subgradient": _edit(SOL02, {"activation_step_code": ACTIVATION_STEP_OTHER_SUBGRADIENT}),
        "equivalent_algebra": _edit(SOL01, {"local_derivatives_code": (
            "def local_derivatives():\n"
            "    return {(x, a): x + x, (x, b): sp.sin(x + sp.pi / 2), (a, c): sp.sin(x), (b, c): x**2,\n"
            "            (c, F): 1, (a, F): sp.exp(x**2)}")}),
        "moved_answer": _edit(SOL02, mutate=lambda nb: _move_answer(nb, "input_step_code")),
    }
    out = {}
    for name, text in made.items():
        path = tmp / f"{name}.ipynb"
        path.write_text(text)
        out[name] = path
    out["not_json"] = tmp / "02_scalar_backprop_truncated.ipynb"
    out["not_json"].write_text(SOL02.read_text()[:500])  # a truncated download
    out["not_a_notebook"] = tmp / "02_scalar_backprop_binary.ipynb"
    out["not_a_notebook"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    return out


def _move_answer(nb, grade_id):
    """The student copied their answer into a new cell (no metadata) and deleted the original."""
    cell = _cell(nb, grade_id)
    at = nb.cells.index(cell)
    nb.cells[at] = nbformat.v4.new_code_cell(cell.source)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("submissions")
    subs = _submissions(tmp)
    digests = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in subs.items()}
    feedback, table = tmp / "feedback", tmp / "grades.csv"
    cmd = [sys.executable, "-m", "backprop.grading", "grade", *map(str, subs.values()), "--json", "--jobs", "2",
           "--timeout", str(TIMEOUT), "--feedback", str(feedback), "--csv", str(table)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    by_path = {line["submission"]: line for line in lines}
    results = {name: by_path[str(p)] for name, p in subs.items()}
    return {"proc": proc, "results": results, "subs": subs, "digests": digests, "feedback": feedback, "csv": table}


def _parts(result) -> dict:
    return {p["id"]: p for p in result["parts"]}


def test_the_batch_ran_and_exited_0(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stderr
    assert len(graded["results"]) == len(graded["subs"])


def test_every_line_has_the_documented_keys(graded):
    for result in graded["results"].values():
        assert set(result) == {"submission", "total", "max", "parts"}
        for part in result["parts"]:
            assert set(part) == {"id", "points", "max", "feedback"}
        assert result["total"] == pytest.approx(sum(p["points"] for p in result["parts"]))


@pytest.mark.parametrize("name", ["solution01", "solution02"])
def test_solutions_score_full_marks(graded, name):
    r = graded["results"][name]
    assert r["max"] == 10 and r["total"] == r["max"], r


@pytest.mark.parametrize("name", ["untouched01", "untouched02"])
def test_untouched_exercises_score_zero_with_a_clear_reason(graded, name):
    r = graded["results"][name]
    assert r["total"] == 0 and r["max"] == 10
    for part in r["parts"]:
        assert "not answered yet" in part["feedback"]


def test_a_function_that_raises_costs_only_its_parts(graded):
    p = _parts(graded["results"]["raises"])
    assert p["02_input_step"]["points"] == 0
    assert "raised ZeroDivisionError: division by zero" in p["02_input_step"]["feedback"]
    # backward_pass calls input_step, so it fails too; the parts that do not depend on it keep their marks
    assert p["02_backward_pass"]["points"] == 0
    assert p["02_forward"]["points"] == 2 and p["02_weight_step"]["points"] == 1 and p["02_activation_step"]["points"] == 1


def test_a_syntax_error_is_reported_on_its_part(graded):
    p = _parts(graded["results"]["syntax_error"])
    assert p["02_forward"]["points"] == 0
    fb = p["02_forward"]["feedback"]
    assert "SyntaxError" in fb and "forward_code" in fb and "`forward_pass` is not defined" in fb
    assert p["02_input_step"]["points"] == 1


def test_an_endless_cell_is_stopped_and_the_rest_graded(graded):
    p = _parts(graded["results"]["endless_cell"])
    assert p["02_weight_step"]["points"] == 0
    assert f"ran longer than {TIMEOUT} s" in p["02_weight_step"]["feedback"]
    assert p["02_forward"]["points"] == 2 and p["02_input_step"]["points"] == 1


def test_an_endless_function_is_stopped_per_test(graded):
    p = _parts(graded["results"]["endless_function"])
    assert p["02_weight_step"]["points"] == 0
    assert "endless loop" in p["02_weight_step"]["feedback"]
    assert p["02_forward"]["points"] == 2 and p["02_activation_step"]["points"] == 1


def test_megabytes_of_output_do_not_matter(graded):
    r = graded["results"]["prints_megabytes"]
    assert r["total"] == 10
    text = (graded["feedback"] / "prints_megabytes.md").read_text()
    assert "characters of output; grading ignores output" in text
    assert len(text) < 20_000


def test_deleted_cells(graded):
    r = graded["results"]["deleted_cell"]
    p = _parts(r)
    # the deleted set-up cell is the instructor's: it runs anyway; the deleted answer is reported
    assert p["02_forward"]["points"] == 2
    assert p["02_backward_pass"]["points"] == 0
    assert "`backward_pass` is not defined" in p["02_backward_pass"]["feedback"]
    # average_gradients calls backward_pass
    assert p["02_average_gradients"]["points"] == 0
    text = (graded["feedback"] / "deleted_cell.md").read_text()
    assert "answer cell 'backward_code' is missing" in text


def test_a_renamed_function_is_named_in_the_feedback(graded):
    p = _parts(graded["results"]["renamed_function"])
    assert p["02_average_gradients"]["points"] == 0
    assert "`average_gradients` is not defined" in p["02_average_gradients"]["feedback"]
    assert graded["results"]["renamed_function"]["total"] == 8


def test_monkeypatching_numpy_the_tolerance_and_the_checks_changes_nothing(graded):
    p = _parts(graded["results"]["monkeypatch"])
    fb = p["02_forward"]["feedback"]
    # the patching cell ran to its end (forward_pass is defined) and the answer was still judged wrong
    assert "is not defined" not in fb and "raised" not in fb
    assert p["02_forward"]["points"] == 0 and "expected" in fb
    # average_gradients calls the zero forward pass: wrong too; the parts that do not use it keep their marks
    assert p["02_average_gradients"]["points"] == 0
    assert p["02_activation_step"]["points"] == 1 and p["02_backward_pass"]["points"] == 3
    assert graded["results"]["monkeypatch"]["total"] == 6


def test_a_dying_kernel_is_restarted_and_reported(graded):
    r = graded["results"]["kernel_dies"]
    p = _parts(r)
    assert p["02_average_gradients"]["points"] == 0
    assert r["total"] == 8  # the cells before it were replayed in the fresh kernel
    text = (graded["feedback"] / "kernel_dies.md").read_text()
    assert "kernel died" in text


def test_partial_credit_per_part(graded):
    p = _parts(graded["results"]["partial"])
    assert p["02_forward"]["points"] < 2
    assert "the activation is not applied" in p["02_forward"]["feedback"]
    # average_gradients uses the student's own forward pass: it loses marks too; the local steps do not
    assert p["02_activation_step"]["points"] == 1 and p["02_backward_pass"]["points"] == 3


def test_any_valid_subgradient_at_a_kink_gets_full_marks(graded):
    assert _parts(graded["results"]["other_subgradient"])["02_activation_step"]["points"] == 1


def test_an_algebraically_equivalent_answer_gets_full_marks(graded):
    assert graded["results"]["equivalent_algebra"]["total"] == 10


def test_an_answer_moved_to_a_new_cell_still_counts(graded):
    assert graded["results"]["moved_answer"]["total"] == 10


@pytest.mark.parametrize("name", ["not_json", "not_a_notebook"])
def test_files_that_are_not_notebooks_get_zero_and_a_reason(graded, name):
    r = graded["results"][name]
    assert r["total"] == 0 and r["max"] == 10  # recognised by name or by its cells: still graded out of 10
    for part in r["parts"]:
        assert "could not read the submission" in part["feedback"]


def test_submissions_are_never_modified(graded):
    for name, path in graded["subs"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == graded["digests"][name], name


def test_csv_has_one_row_per_submission(graded):
    with graded["csv"].open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(graded["subs"])
    row = next(r for r in rows if r["submission"].endswith("partial.ipynb"))
    assert float(row["total"]) == graded["results"]["partial"]["total"]
    assert "02_forward" in row and "01_total_derivative" in row


def test_feedback_never_shows_solutions_or_hidden_tests(graded):
    solution_lines = {
        line.strip() for path in (SOL01, SOL02) for cell in nbformat.read(path, 4).cells
        if cell.metadata.get("nbgrader", {}).get("solution") for line in cell.source.splitlines()
        if len(line.strip()) > 25 and not line.strip().startswith(("def ", '"""', "#"))
    }
    for md in graded["feedback"].glob("*.md"):
        text = md.read_text()
        if md.stem.startswith("solution"):
            continue
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
        own = {p.stem: p for p in graded["subs"].values()}[md.stem].read_text(errors="replace")  # a student's own code may be quoted back to them
        leaked = [line for line in solution_lines if line in text and json.dumps(line)[1:-1] not in own]
        assert not leaked, (md.name, leaked)


@pytest.mark.parametrize("part_id, right, wrong", [
    ("02_input_step", lambda dz, w: w @ dz, lambda dz, w: 1.5 * (w @ dz)),
    ("02_activation_step", lambda dy, z, f: f.backward(dy, z), lambda dy, z, f: dy),
])
def test_feedback_on_hidden_cases_never_shows_their_numbers(part_id, right, wrong):
    from backprop.grading import get_part, hidden_rng
    from backprop.grading.grade import _part_feedback
    from backprop.grading.parts import fmt, judge_case, run_case

    part = get_part(part_id)
    name = part.names[0]
    verdicts = []
    for case in part.cases(hidden_rng(part_id)):  # public cases right, hidden ones wrong
        answer = run_case(part, {name: wrong if case.hidden else right}, case.payload)
        verdicts.append((case, judge_case(part, case, answer)))
    feedback = _part_feedback(part, verdicts, [])
    hidden = [(c, v) for c, v in verdicts if c.hidden and not v.passed]  # (dz = dy is right for identity units)
    assert len(hidden) >= 6
    assert f"A hidden test fails: {hidden[0][1].diagnosis}" in feedback
    for case, verdict in hidden:
        assert verdict.details  # the details exist (with numbers) ...
        for detail in verdict.details:
            assert detail not in feedback  # ... and stay out of the feedback
        for values in case.payload.values():
            for value in (values if isinstance(values, list) else []):
                if isinstance(value, float):
                    assert fmt(value) not in feedback


def test_usage_errors_exit_2(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "backprop.grading", *args], capture_output=True, text=True, cwd=ROOT)

    missing = run("grade", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "nope.ipynb" in missing.stderr
    (tmp_path / "mine.csv").write_text("my own notes\n")
    clobber = run("grade", str(SOL02), "--csv", str(tmp_path / "mine.csv"))
    assert clobber.returncode == 2 and "did not write" in clobber.stderr
    assert (tmp_path / "mine.csv").read_text() == "my own notes\n"
    assert run("grade", str(SOL02), "--jobs", "0").returncode == 2
    assert run("grade", str(SOL02), "--assignment", "99_nothing").returncode == 2
    assert run("frobnicate").returncode == 2
