"""Homework: the student versions are current and safe, they run up to their stubs, and
the self-check says specifically what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp
from nbclient import NotebookClient

from backprop import ReLU, Sigmoid, get_activation
from backprop.grading import PARTS, CheckFailed, check, get_part
from backprop.grading.generate import LEAK_MARKERS, generate, stale, student_version

pytestmark = [pytest.mark.nb01, pytest.mark.nb02]

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


# -- the student versions -------------------------------------------------------------------
def test_generate_check_passes_on_the_committed_exercises():
    proc = subprocess.run([sys.executable, "-m", "backprop.grading", "generate", "--check"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generate_check_names_a_stale_file(tmp_path):
    (tmp_path / "ex").mkdir()
    for src in SOLUTIONS:
        (tmp_path / "ex" / src.name).write_text((ROOT / "exercises" / src.name).read_text())
    nb = nbformat.read(SOLUTIONS[0], 4)
    nb.cells[0].source += "\n\nA new sentence in the solution."
    (tmp_path / "sol").mkdir()
    for src in SOLUTIONS:
        (tmp_path / "sol" / src.name).write_text(src.read_text())
    nbformat.write(nb, tmp_path / "sol" / SOLUTIONS[0].name)
    proc = subprocess.run(
        [sys.executable, "-m", "backprop.grading", "generate", "--check", "--solutions", str(tmp_path / "sol"),
         "--exercises", str(tmp_path / "ex")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert SOLUTIONS[0].name in proc.stdout and SOLUTIONS[1].name not in proc.stdout


def test_generate_never_overwrites_a_students_work(tmp_path):
    sol, ex = tmp_path / "sol", tmp_path / "ex"
    sol.mkdir()
    for src in SOLUTIONS:
        (sol / src.name).write_text(src.read_text())
    written, kept = generate(sol, ex)
    assert len(written) == len(SOLUTIONS) and not kept
    mine = nbformat.read(ex / SOLUTIONS[-1].name, 4)
    answer = next(c for c in mine.cells if _nbgrader(c).get("solution"))
    answer.source = answer.source.replace("raise NotImplementedError()", "return 42  # my work")
    nbformat.write(mine, ex / SOLUTIONS[-1].name)
    nb = nbformat.read(sol / SOLUTIONS[-1].name, 4)
    nb.cells[0].source += "\n\nAn edit by the instructor."
    nbformat.write(nb, sol / SOLUTIONS[-1].name)
    written, kept = generate(sol, ex)
    assert not written and len(kept) == 1 and _nbgrader(answer)["grade_id"] in kept[0]
    assert "return 42  # my work" in (ex / SOLUTIONS[-1].name).read_text()
    written, kept = generate(sol, ex, force=True)
    assert len(written) == 1


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercises_hold_no_solution_code_and_no_hidden_tests(path):
    sol = nbformat.read(ROOT / "solutions" / path.name, 4)
    solution_lines = set()
    for cell in sol.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END SOLUTION" in line or "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                solution_lines.add(line.strip())
    assert solution_lines, "the solution notebook has no solution regions"
    ex = nbformat.read(path, 4)
    for cell in ex.cells:
        for marker in LEAK_MARKERS:
            assert marker not in cell.source
        for line in cell.source.splitlines():
            assert line.strip() not in solution_lines, line
        assert not cell.get("outputs")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_check_cell_is_a_known_part_with_points(path):
    nb = nbformat.read(path, 4)
    grade_cells = [c for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]
    assert len(grade_cells) >= 3
    for cell in grade_cells:
        meta = _nbgrader(cell)
        part = get_part(meta["grade_id"])
        assert meta["points"] > 0 and meta["locked"]
        assert f'check("{part.id}"' in cell.source and "### BEGIN HIDDEN TESTS" in cell.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert _nbgrader(cell).get("grade_id"), "every code cell needs a grade_id so the grader can place it"
    assert nb.metadata["backprop"]["assignment"] == path.stem


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercises_run_up_to_their_stubs(path):
    nb = nbformat.read(path, 4)
    NotebookClient(nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
    stubs = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        meta = _nbgrader(cell)
        if meta.get("grade_id") == "setup":
            assert not errors
        for e in errors:
            ok = e.ename == "NotImplementedError" or (
                e.ename in ("CheckFailed", "NameError") and ("not answered yet" in e.evalue or "is not defined" in e.evalue))
            assert ok, (meta.get("grade_id"), e.ename, e.evalue)
            if meta.get("grade") and not meta.get("solution"):
                assert "not answered yet" in e.evalue
                stubs += 1
    assert stubs >= 3


# -- the self-check's feedback ---------------------------------------------------------------
def _message(part_id, fn):
    with pytest.raises(CheckFailed) as info:
        check(part_id, fn)
    return str(info.value)


def test_a_passing_check_prints_one_line(capsys):
    check("02_input_step", lambda dz, w: w @ dz)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✓ 02_input_step")


def test_the_check_names_the_entry_and_expected_versus_got():
    msg = _message("02_input_step", lambda dz, w: w @ dz + 1)
    assert "dy_prev[0]: expected -2, got -1" in msg and "layer 2 of the two-ReLU example" in msg


@pytest.mark.parametrize(
    "wrong, says",
    [
        (lambda dy, z, f: dy, "the factor f'(z) is missing"),
        (lambda dy, z, f: f.forward(z) * dy, "instead of its derivative"),
        (lambda dy, z, f: f.derivative(z), "the factor dDiv/dy"),
    ],
)
def test_activation_step_diagnoses_the_factor(wrong, says):
    assert says in _message("02_activation_step", wrong)


def test_a_transposed_weight_gradient_is_named():
    assert "transposed" in _message("02_weight_step", lambda dz, y: (np.outer(dz, y), dz))


def test_backward_pass_names_the_first_wrong_factor():
    from backprop.grading.ex02 import _arrays

    def backward(d, z, y, weights, activations, divergence):
        N = len(weights) - 1
        dy, dz, dw, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)
        dy[N] = divergence.derivative(y[N], d)
        for k in range(N, 0, -1):
            dz[k] = dy[k]  # forgot f'
            dw[k], db[k] = np.outer(y[k - 1], dz[k]), dz[k]
            dy[k - 1] = weights[k] @ dz[k]
        return {"dy": dy, "dz": dz, "dw": dw, "db": db}

    msg = _message("02_backward_pass", backward)
    assert "layer 1: dDiv/dy(1) is right but dDiv/dz(1) is not: the factor f_1'(z(1)_i)" in msg
    assert "dz[1][1]: expected 0, got -4" in msg


def test_summing_instead_of_averaging_is_named():
    from backprop.scalar_net import ScalarNetwork

    def summed(X, D, weights, biases, activations, divergence):
        sn = ScalarNetwork([w for w in weights[1:]], [b for b in biases[1:]], activations[1:], divergence)
        loss, g = sn.loss_and_gradients(X, D)
        N = len(weights) - 1
        T = len(X)
        return T * loss, [None] + [T * g[f"W({k})"].T for k in range(1, N + 1)], [None] + [T * g[f"b({k})"] for k in range(1, N + 1)]

    with pytest.raises(CheckFailed, match="sum over the instances"):
        check("02_average_gradients", summed, hidden=True)


def test_a_missing_path_is_named():
    x, a, b, c, F = sp.symbols("x a b c F")
    msg = _message("01_influence_paths", lambda: [(x, a, c, F), (x, a, F)])
    assert "2 of the 3 paths" in msg and "through b" in msg


def test_a_left_out_path_in_the_total_is_named():
    def partial_total(x0):
        return 2 * x0 * np.sin(x0) + np.cos(x0) * x0**2  # the path x -> a -> F is missing
    assert "left out: x -> a -> F" in _message("01_total_derivative", partial_total)


def test_a_forward_difference_is_named():
    assert "forward difference" in _message("01_central_difference", lambda f, x, h: (f(x + h) - f(x)) / h)


def test_an_arrow_that_is_a_path_is_named():
    x, a, b, c, F = sp.symbols("x a b c F")
    edges = {(x, a): 2 * x, (x, b): sp.cos(x), (a, c): b, (b, c): a, (c, F): 1, (a, F): sp.exp(a), (x, F): 1}
    assert "there is no arrow x -> F" in _message("01_local_derivatives", lambda: edges)


def test_every_part_has_public_cases_and_deterministic_hidden_ones():
    from backprop.grading import hidden_rng

    get_part("01_local_derivatives")
    assert len(PARTS) == 11
    for part in PARTS.values():
        assert part.public_cases()
        first = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 1))]
        again = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 1))]
        other = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 2))]
        assert first == again
        assert part.hidden_count == 0 or first != other


def test_check_rejects_the_wrong_number_of_functions():
    with pytest.raises(TypeError, match="expected 1 function"):
        check("02_forward")
    with pytest.raises(KeyError, match="02_nothing"):
        check("02_nothing", print)


def test_homework_01_shows_the_function_the_grader_grades():
    from backprop.grading.ex01 import homework_diagram

    nb = nbformat.read(ROOT / "solutions" / "01_calculus_refresher.ipynb", 4)
    setup = next(c for c in nb.cells if _nbgrader(c).get("grade_id") == "setup")
    namespace: dict = {}
    exec("\n".join(l for l in setup.source.splitlines() if not l.startswith("%")), namespace)
    assert namespace["definitions"] == homework_diagram().definitions
