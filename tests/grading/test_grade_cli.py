"""The grade command's handling of its arguments, its input folders and its output files, in this process.

No kernel starts here: ``grade_job`` is replaced by one that scores a submission from a
line in the file (what a kernel's grading would give is test_grade.py's), and the sandbox's
package is not built. What is tested is what the command does around the grading: which
files it grades, what it refuses, and that nothing the instructor wrote (hand marks in the
CSV, other students' rows, notes in a feedback file) is lost on a rerun.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from backprop.grading import grade as grade_module
from backprop.grading import runner, sandbox
from backprop.grading.__main__ import main
from backprop.grading.grade import PartResult, SubmissionResult, grade_job, written_results

ROOT = Path(__file__).resolve().parents[2]
SOL01 = ROOT / "solutions" / "01_calculus_refresher.ipynb"
SOL02 = ROOT / "solutions" / "02_scalar_backprop.ipynb"
SOL06 = ROOT / "solutions" / "06_training_loop.ipynb"


@pytest.fixture
def fake(monkeypatch):
    """grade_job without a kernel: every automatic part scores what the submission's metadata
    ``"fake_points"`` says (default: full marks); the jobs it was given are recorded."""
    calls = []

    def job(job):
        path, assignment, label, opts = job
        calls.append(label)
        if assignment is None:
            return grade_job(job)  # the real message for a file no homework was recognised in
        try:
            meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
        except ValueError:
            return grade_job((path, assignment, label, {**opts, "sandbox": None}))  # unreadable: no kernel either
        points = meta.get("fake_points")
        parts = [PartResult(pid, pts if points is None else points, pts, "fake") for pid, pts in assignment.parts]
        parts += written_results(assignment, [])
        return SubmissionResult(label, assignment.name, sum(p.points for p in parts), assignment.max_points, parts)

    monkeypatch.setattr(grade_module, "grade_job", job)
    monkeypatch.setattr(sandbox, "make_spec", lambda *a, **k: None)
    monkeypatch.setattr(runner.KernelSession, "start", lambda self: pytest.fail("a kernel was started"))
    return calls


@pytest.fixture
def run(capsys):
    def run(*args):
        try:
            code = main(["grade", *map(str, args), "--no-sandbox", "--seed", "7"])
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _copy(src: Path, dest: Path, points=None) -> Path:
    nb = json.loads(src.read_text(encoding="utf-8"))
    if points is not None:
        nb["metadata"]["fake_points"] = points
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb), encoding="utf-8")
    return dest


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- the seed ---------------------------------------------------------------------------------------
def test_a_negative_seed_is_a_usage_error_naming_it(tmp_path, fake, capsys):
    sub = _copy(SOL02, tmp_path / "alice" / SOL02.name)
    code = main(["grade", str(sub), "--no-sandbox", "--seed", "-1"])
    err = capsys.readouterr().err
    assert code == 2 and "argument --seed expected a non-negative integer, got -1" in err
    (tmp_path / "seed").write_text("-5\n")
    code = main(["grade", str(sub), "--no-sandbox", "--seed-file", str(tmp_path / "seed")])
    err = capsys.readouterr().err
    assert code == 2 and "argument --seed-file expected" in err and "non-negative" in err and "'-5'" in err
    assert not fake  # nothing was graded
    (tmp_path / "seed").write_text("12\n")
    assert main(["grade", str(sub), "--no-sandbox", "--seed-file", str(tmp_path / "seed")]) == 0
    assert "--seed 12 " in capsys.readouterr().err


# -- a rerun into the same CSV and feedback folder ---------------------------------------------------
def test_a_rerun_merges_into_the_csv_and_keeps_hand_marks_and_other_rows(tmp_path, fake, run):
    alice = _copy(SOL06, tmp_path / "class" / "alice" / SOL06.name, points=0)
    _copy(SOL06, tmp_path / "class" / "bob" / SOL06.name)
    _copy(SOL01, tmp_path / "class" / "ivan" / SOL01.name)
    table = tmp_path / "grades.csv"
    code, _, err = run(tmp_path / "class", "--csv", table)
    assert code == 0, err
    rows = _rows(table)
    assert [Path(r["submission"]).parent.name for r in rows] == ["alice", "bob", "ivan"]
    # the instructor marks the written answers by hand and adds a column of their own
    by_hand = "06_init_why"
    assert by_hand in rows[0] and rows[0][by_hand] == ""
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "comment"])
        w.writeheader()
        for r, mark, comment in zip(rows, ["1", "2", ""], ["late", "", "wrong file?"]):
            w.writerow({**r, by_hand: mark if r["assignment"].startswith("06") else "", "comment": comment})
    # alice resubmits and is graded again, alone
    _copy(SOL06, alice)
    code, _, err = run(alice, "--csv", table)
    assert code == 0, err
    rows = {Path(r["submission"]).parent.name: r for r in _rows(table)}
    assert list(rows) == ["alice", "bob", "ivan"]  # the others' rows are still there, in their place
    assert float(rows["alice"]["total"]) > 0 and rows["alice"]["06_training_loop"] != "0"  # the new grade
    assert rows["alice"][by_hand] == "1" and rows["alice"]["comment"] == "late"  # the hand mark and note kept
    assert rows["bob"][by_hand] == "2" and rows["ivan"]["comment"] == "wrong file?"
    assert "1 row(s) replaced, 0 added, 2 kept" in err and "2 value(s) typed in by hand carried over" in err
    assert not list(tmp_path.glob(".grades.csv.*"))  # no temporary file left behind


def test_a_rerun_keeps_an_edited_feedback_file_as_a_backup(tmp_path, fake, run):
    sub = _copy(SOL02, tmp_path / "alice" / SOL02.name)
    feedback = tmp_path / "feedback"
    assert run(sub, "--feedback", feedback)[0] == 0
    written = feedback / f"{SOL02.stem}.md"
    first = written.read_text()
    assert run(sub, "--feedback", feedback)[0] == 0  # the same feedback again: nothing to keep
    assert sorted(p.name for p in feedback.iterdir()) == [written.name]
    written.write_text(first + "\nInstructor: see me about the backward pass.\n")
    code, _, err = run(sub, "--feedback", feedback)
    assert code == 0
    backups = list(feedback.glob(f"{written.name}.bak-*"))
    assert len(backups) == 1 and "see me about the backward pass" in backups[0].read_text()
    assert written.read_text() == first and str(backups[0]) in err


# -- which files are graded, under which names ---------------------------------------------------------
def test_two_students_of_one_name_in_two_sections_get_two_feedback_files(tmp_path, fake, run):
    first = _copy(SOL02, tmp_path / "dup" / "sec1" / "alice" / SOL02.name, points=0)
    second = _copy(SOL02, tmp_path / "dup" / "sec2" / "alice" / SOL02.name)
    other = _copy(SOL02, tmp_path / "dup" / "sec2" / "bob" / SOL02.name)
    feedback = tmp_path / "feedback"
    code, _, err = run(tmp_path / "dup", "--feedback", feedback, "--csv", tmp_path / "g.csv")
    assert code == 0, err
    names = sorted(p.name for p in feedback.iterdir())
    stem = SOL02.stem
    assert names == [f"bob__{stem}.md", f"sec1__alice__{stem}.md", f"sec2__alice__{stem}.md"]
    assert "Score: 0 /" in (feedback / f"sec1__alice__{stem}.md").read_text()
    assert "Score: 0 /" not in (feedback / f"sec2__alice__{stem}.md").read_text()
    assert sorted(r["submission"] for r in _rows(tmp_path / "g.csv")) == sorted(map(str, [first, second, other]))


def test_a_student_regraded_alone_keeps_the_feedback_name_of_the_class_run(tmp_path, fake, run):
    for name in ("alice", "bob"):
        _copy(SOL02, tmp_path / "class" / name / SOL02.name)
    feedback, stem = tmp_path / "feedback", SOL02.stem
    assert run(tmp_path / "class", "--feedback", feedback)[0] == 0
    mine = feedback / f"alice__{stem}.md"
    mine.write_text(mine.read_text() + "\nsee me about the backward pass\n")  # the instructor's note
    code, _, err = run(tmp_path / "class" / "alice", "--feedback", feedback)  # alone, the name would be plain
    assert code == 0, err
    names = sorted(p.name for p in feedback.iterdir())
    assert f"{stem}.md" not in names and f"alice__{stem}.md" in names, names
    (backup,) = feedback.glob(f"alice__{stem}.md.bak-*")  # the annotated file kept, not left beside a new name
    assert "see me about the backward pass" in backup.read_text()


def test_a_renamed_file_is_named_with_its_folder_like_the_others(tmp_path, fake, run):
    for name in ("alice", "bob"):
        _copy(SOL02, tmp_path / "class" / name / SOL02.name)
    _copy(SOL02, tmp_path / "class" / "frank" / "hw2 final (1).ipynb")
    _copy(SOL02, tmp_path / "alone" / "x.ipynb")
    feedback = tmp_path / "feedback"
    code, _, err = run(tmp_path / "class", "--feedback", feedback)
    assert code == 0, err
    stem = SOL02.stem
    assert sorted(p.name for p in feedback.iterdir()) == [f"alice__{stem}.md", f"bob__{stem}.md", "frank__hw2 final (1).md"]
    # files whose names differ anyway keep their names alone
    code, _, err = run(tmp_path / "alone", tmp_path / "class" / "frank", "--feedback", tmp_path / "fb2")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "fb2").iterdir()) == ["hw2 final (1).md", "x.md"]


def test_one_file_given_twice_is_graded_once_and_said(tmp_path, fake, run):
    sub = _copy(SOL02, tmp_path / "alice" / SOL02.name)
    code, out, err = run(sub, tmp_path / "alice", tmp_path / "alice" / ".." / "alice" / SOL02.name)
    assert code == 0, err
    assert len(fake) == 1 and len(out.splitlines()) == 1
    assert err.count("graded once") == 2 and f"is the same file as {sub}" in err


def test_files_and_folders_with_no_notebook_are_named_on_stderr(tmp_path, fake, run):
    (tmp_path / "s4" / "karl").mkdir(parents=True)
    (tmp_path / "s4" / "karl" / "02_scalar_backprop.py").write_text("print(1)\n")
    upper = _copy(SOL02, tmp_path / "s4" / "karl" / "02_scalar_backprop.IPYNB")
    (tmp_path / "s4" / "lena").mkdir()
    _copy(SOL02, tmp_path / "s4" / "mo" / SOL02.name)
    (tmp_path / "s4" / "mo" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "s4" / "mo" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    code, out, err = run(tmp_path / "s4")
    assert code == 0, err
    assert sorted(fake) == sorted([str(upper), str(tmp_path / "s4" / "mo" / SOL02.name)])  # .IPYNB is graded
    skipped = [line for line in err.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2, err
    assert "karl/02_scalar_backprop.py: not a notebook" in skipped[0] and "lena: an empty folder" in skipped[1]
    # a file named on the command line that is not a notebook: refused, naming it
    (tmp_path / "notes.txt").write_text("my notes\n")
    code, out, err = run(tmp_path / "notes.txt")
    assert code == 2 and "argument SUBMISSION" in err and "notes.txt" in err and not out


# -- what the feedback says about a file --------------------------------------------------------------
def test_a_file_named_as_one_homework_holding_another_is_graded_by_its_contents_with_a_warning(tmp_path, fake, run):
    ivan = _copy(SOL01, tmp_path / "class" / "ivan" / SOL02.name)  # homework 01, named like homework 02
    alice = _copy(SOL02, tmp_path / "class" / "alice" / SOL02.name)
    feedback = tmp_path / "feedback"
    code, out, err = run(ivan, alice, "--feedback", feedback)
    assert code == 0, err
    assert f"{ivan}\t01_calculus_refresher\t" in out  # graded as what it holds, as before
    warnings = [line for line in err.splitlines() if line.startswith("warning:") and "--no-sandbox" not in line]
    assert len(warnings) == 1 and str(ivan) in warnings[0] and "02_scalar_backprop" in warnings[0]
    text = (feedback / f"ivan__{SOL02.stem}.md").read_text()
    assert "the file's name says 02_scalar_backprop, but it holds 01_calculus_refresher" in text
    assert "the file's name says" not in (feedback / f"alice__{SOL02.stem}.md").read_text()


def test_invalid_json_in_a_batch_of_two_homeworks_is_reported_as_such(tmp_path, fake, run):
    _copy(SOL02, tmp_path / "mixed" / "anna_02.ipynb")
    _copy(SOL06, tmp_path / "mixed" / "cleo_06.ipynb")
    (tmp_path / "mixed" / "fay_06.ipynb").write_text('{"cells": [')  # a truncated upload
    (tmp_path / "mixed" / "gus_06.ipynb").write_text("{}")
    feedback = tmp_path / "feedback"
    code, out, err = run(tmp_path / "mixed", "--feedback", feedback)
    assert code == 0, err
    assert "could not read the submission: not valid notebook JSON" in (feedback / "fay_06.md").read_text()
    assert "could not read the submission: not a notebook: the JSON has no list of cells" in (
        feedback / "gus_06.md").read_text()


# -- outputs that cannot be written -----------------------------------------------------------------------
def test_an_output_path_that_is_a_folder_or_under_a_file_is_a_usage_error(tmp_path, fake, run):
    sub = _copy(SOL02, tmp_path / "alice" / SOL02.name)
    (tmp_path / "out").mkdir()
    (tmp_path / "a_file").write_text("mine\n")
    for args, names in ((["--csv", tmp_path / "out"], ["--csv", "(a folder)"]),
                        (["--csv", tmp_path / "a_file" / "g.csv"], ["--csv", "a_file is a file"]),
                        (["--feedback", tmp_path / "a_file" / "fb"], ["--feedback", "a_file is a file"])):
        code, out, err = run(sub, *args)
        assert code == 2 and all(n in err for n in names) and "Traceback" not in err, err
    assert not fake and (tmp_path / "a_file").read_text() == "mine\n"


# -- Ctrl-C --------------------------------------------------------------------------------------------
def test_ctrl_c_writes_what_was_graded_names_what_was_not_and_exits_130(tmp_path, fake, run, monkeypatch):
    subs = [_copy(SOL02, tmp_path / "class" / name / SOL02.name) for name in ("ana", "bo", "cy", "di")]
    graded_by_fake = grade_module.grade_job

    def interrupted_at_the_third(job):
        if len(fake) == 2:
            raise KeyboardInterrupt
        return graded_by_fake(job)

    monkeypatch.setattr(grade_module, "grade_job", interrupted_at_the_third)
    table, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    try:
        code, out, err = run(tmp_path / "class", "--csv", table, "--feedback", feedback)
    except KeyboardInterrupt:  # (not let through: it would stop this test session)
        pytest.fail("the Ctrl-C went through the grade command: nothing was written")
    assert code == 130
    assert [r["submission"] for r in _rows(table)] == [str(subs[0]), str(subs[1])]
    assert sorted(p.name for p in feedback.iterdir()) == [f"ana__{SOL02.stem}.md", f"bo__{SOL02.stem}.md"]
    assert f"interrupted: 2 of 4 submissions graded and written; not graded (2): {subs[2]}, {subs[3]}" in err
