"""Tests backprop.grading.generate: the student versions are current, safe, runnable, and never overwrite a student's work."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from backprop.grading.__main__ import main
from backprop.grading.generate import LEAK_MARKERS, StudentVersionError, generate, stale, student_version

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


# -- the student versions -------------------------------------------------------------------
def test_generate_check_passes_on_the_committed_exercises(capsys):
    # in this process (the command line's exit status is test_grade.py::test_without_bwrap_...'s subprocess)
    assert main(["generate", "--check"]) == 0, capsys.readouterr()
    assert "is up to date with" in capsys.readouterr().out


def test_generate_check_names_a_stale_file(tmp_path, capsys):
    (tmp_path / "ex").mkdir()
    for src in SOLUTIONS:
        (tmp_path / "ex" / src.name).write_text((ROOT / "exercises" / src.name).read_text())
    nb = nbformat.read(SOLUTIONS[0], 4)
    nb.cells[0].source += "\n\nA new sentence in the solution."
    (tmp_path / "sol").mkdir()
    for src in SOLUTIONS:
        (tmp_path / "sol" / src.name).write_text(src.read_text())
    nbformat.write(nb, tmp_path / "sol" / SOLUTIONS[0].name)
    code = main(["generate", "--check", "--solutions", str(tmp_path / "sol"), "--exercises", str(tmp_path / "ex")])
    out, err = capsys.readouterr()
    assert code == 1
    assert SOLUTIONS[0].name in out and SOLUTIONS[1].name not in out
    assert "run: python -m backprop.grading generate\n" in err  # no one's edits in the way: plain generate does it


def test_generate_never_overwrites_a_students_work(tmp_path, capsys):
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
    # --check's advice: plain generate would keep the file and change nothing, so it names --force and the file
    assert main(["generate", "--check", "--solutions", str(sol), "--exercises", str(ex)]) == 1
    advice = capsys.readouterr().err
    assert "generate --force" in advice and SOLUTIONS[-1].name in advice and "holds edits" in advice and "move it away" in advice
    written, kept = generate(sol, ex, force=True)
    assert len(written) == 1


def test_a_hidden_check_outside_a_hidden_tests_region_is_refused_and_the_solution_left_alone():
    nb = nbformat.read(SOLUTIONS[-1], 4)
    before = nbformat.writes(nb)
    student_version(nb)
    assert nbformat.writes(nb) == before  # the complete notebook is never changed
    given = next(c for c in nb.cells if c.cell_type == "code" and not _nbgrader(c).get("grade")
                 and not _nbgrader(c).get("solution") and _nbgrader(c).get("grade_id") != "setup")
    given.source += '\ncheck("02_forward", forward_pass, hidden=True)'  # a given cell, no hidden-tests region
    with pytest.raises(StudentVersionError, match=f"{_nbgrader(given)['grade_id']}.*would give the student 'hidden=True'"):
        student_version(nb)


def test_stale_names_missing_and_orphaned_student_versions(tmp_path):
    ex = tmp_path / "ex"
    ex.mkdir()
    (ex / "99_old_homework.ipynb").write_text((ROOT / "exercises" / SOLUTIONS[0].name).read_text())
    problems = stale(ROOT / "solutions", ex)
    assert any("99_old_homework.ipynb has no source" in line for line in problems)
    for src in SOLUTIONS:
        assert any(f"{src.name} is missing" in line for line in problems), src.name
    # (that the committed exercises are current: test_generate_check_passes_on_the_committed_exercises)


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
