"""Grade one submission: rebuild it on the instructor's notebook, run it, judge it outside.

How a submission is run
    The instructor's notebook (``solutions/``) is the skeleton. Its locked cells
    (set-up, given code) run as the instructor wrote them, whatever the student did to
    their copy; at each solution cell the student's cell with the same nbgrader
    ``grade_id`` runs instead; cells the student added run after the cell they
    follow. Check cells are not run: grading happens outside the notebook.

How it is judged
    For each graded part, each public and hidden case is sent into the kernel, the
    student's functions are called there, and only their results come back, as JSON.
    The reference answers and the comparison live in this process, which the
    student's code cannot reach: patching numpy, the library or the check functions
    inside the notebook changes nothing here.

Faults (invalid JSON, syntax errors, exceptions, endless loops, huge output, a dying
kernel, deleted or renamed cells and functions) become per-part feedback; they never
stop the batch. The submission file is only read.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import DEFAULT_SEED, hidden_rng
from .parts import judge_case
from .registry import get_part
from .runner import RESULT_MIME, Execution, KernelSession

__all__ = ["Assignment", "PartResult", "SubmissionResult", "load_assignment", "grade_submission", "read_notebook", "grade_job"]


# -- notebooks as plain data -------------------------------------------------------------
@dataclass
class Cell:
    kind: str
    source: str
    grade_id: str | None = None
    grade: bool = False
    solution: bool = False
    points: float = 0.0


class NotebookError(ValueError):
    """The file is not a notebook we can read."""


def _cells(data) -> list[Cell]:
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: the JSON has no list of cells")
    cells = []
    for raw in data["cells"]:
        if not isinstance(raw, dict):
            continue
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        grade_id = nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None
        try:
            points = float(nbg.get("points", 0) or 0)
        except (TypeError, ValueError):
            points = 0.0
        cells.append(Cell(str(raw.get("cell_type", "")), source, grade_id, bool(nbg.get("grade")), bool(nbg.get("solution")), points))
    return cells


def read_notebook(path: Path) -> tuple[dict, list[Cell]]:
    """The notebook's metadata and cells, read leniently; ``NotebookError`` if it is not a notebook."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not a notebook: the file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotebookError(f"not valid notebook JSON ({exc})") from None
    cells = _cells(data)
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return meta, cells


# -- the instructor's side --------------------------------------------------------------
@dataclass
class Assignment:
    name: str
    path: Path
    cells: list[Cell]
    #: (part id, points) in notebook order
    parts: list[tuple[str, float]]

    @property
    def max_points(self) -> float:
        return sum(p for _, p in self.parts)

    def defining_cells(self, function: str) -> list[str]:
        """grade_ids of the solution cells that define ``function``."""
        pattern = re.compile(rf"^\s*def\s+{re.escape(function)}\s*\(", re.M)
        return [c.grade_id for c in self.cells if c.solution and c.grade_id and pattern.search(c.source)]


def load_assignment(path: Path) -> Assignment:
    """An assignment from its complete notebook in ``solutions/``."""
    meta, cells = read_notebook(path)
    name = (meta.get("backprop") or {}).get("assignment") or Path(path).stem
    parts = []
    for c in cells:
        if c.grade and not c.solution:
            get_part(c.grade_id)  # every graded cell must be a known part
            parts.append((c.grade_id, c.points))
    return Assignment(name, Path(path), cells, parts)


# -- results --------------------------------------------------------------------------------
@dataclass
class PartResult:
    id: str
    points: float
    max: float
    feedback: str


@dataclass
class SubmissionResult:
    submission: str
    assignment: str | None
    total: float
    max: float
    parts: list[PartResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "submission": self.submission,
            "total": self.total,
            "max": self.max,
            "parts": [asdict(p) for p in self.parts],
        }


def zero_result(submission: str, assignment: Assignment | None, reason: str) -> SubmissionResult:
    """Every part 0, with the same reason (the notebook could not be read or run)."""
    parts = [PartResult(pid, 0.0, pts, reason) for pid, pts in (assignment.parts if assignment else [])]
    return SubmissionResult(submission, assignment.name if assignment else None, 0.0, assignment.max_points if assignment else 0.0, parts, [reason])


# -- building what runs -------------------------------------------------------------------
@dataclass
class Unit:
    label: str
    source: str
    grade_id: str | None  # the solution cell it stands for, if any


def execution_plan(assignment: Assignment, student: list[Cell]) -> tuple[list[Unit], list[str]]:
    """The code to run, in order, and notes on cells that could not be placed."""
    known = {c.grade_id: c for c in assignment.cells if c.grade_id}
    answers = {}
    extras: dict[str | None, list[Cell]] = {}
    anchor = None
    for c in student:
        if c.kind != "code":
            continue
        if c.grade_id in known:
            if known[c.grade_id].solution and c.grade_id not in answers:
                answers[c.grade_id] = c
            anchor = c.grade_id
        else:
            extras.setdefault(anchor, []).append(c)
    notes, units = [], []
    first = True
    for c in assignment.cells:
        if c.kind != "code":
            continue
        if c.grade and not c.solution:
            pass  # check cells: graded outside the notebook
        elif c.solution:
            if c.grade_id in answers:
                units.append(Unit(f"your cell '{c.grade_id}'", answers[c.grade_id].source, c.grade_id))
            else:
                notes.append(f"the answer cell '{c.grade_id}' is missing from the submission (deleted, or its metadata lost)")
        else:
            units.append(Unit(f"the given cell '{c.grade_id}'", c.source, None))
        for extra in extras.pop(c.grade_id, []) + (extras.pop(None, []) if first else []):
            units.append(Unit(f"a cell you added after '{c.grade_id}'", extra.source, None))
        first = False
    return units, notes


_HARNESS = f"""
def __backprop_harness(part_id, payload_json):
    import json
    from IPython import get_ipython
    from IPython.display import display
    from backprop.grading.parts import run_case
    from backprop.grading.registry import get_part
    part = get_part(part_id)
    namespace = get_ipython().user_ns
    functions = {{name: namespace.get(name) for name in part.names}}
    display({{{RESULT_MIME!r}: run_case(part, functions, json.loads(payload_json))}}, raw=True)
"""


def _problem(unit: Unit, run: Execution, timeout: float) -> str | None:
    if run.status == "timeout":
        return f"{unit.label} ran longer than {timeout:g} s and was stopped (an endless loop?)"
    if run.status == "died":
        return f"the kernel died while running {unit.label} (exit(), a crash, or out of memory); it was restarted"
    if run.status == "error" and run.error:
        name, message = run.error
        if name == "NotImplementedError":
            return f"{unit.label} is not answered yet (raises NotImplementedError)"
        message = message if len(message) <= 200 else message[:200] + "..."
        return f"{unit.label} raised {name}: {message}"
    return None


def grade_submission(
    path: Path,
    assignment: Assignment,
    *,
    seed: int = DEFAULT_SEED,
    timeout: float = 30.0,
    output_report: int = 100_000,
    label: str | None = None,
) -> SubmissionResult:
    """Grade one submission against one assignment. Never raises for the submission's faults.

    ``timeout``: seconds per cell and per test case; a cell printing more than
    ``output_report`` characters gets a note (output is never stored or graded).
    """
    start = time.monotonic()
    label = label or str(path)
    try:
        _, student = read_notebook(path)
    except NotebookError as exc:
        return zero_result(label, assignment, f"could not read the submission: {exc}")
    except OSError as exc:
        return zero_result(label, assignment, f"could not read the submission: {exc.strerror}")
    units, notes = execution_plan(assignment, student)
    problems: dict[str, str] = {}
    with KernelSession(timeout=timeout) as session:
        survived: list[Unit] = []  # what to replay in a fresh kernel if a later cell kills this one
        for unit in units:
            run = session.execute(unit.source)
            if run.status == "died":
                _replay(session, survived)
            else:
                survived.append(unit)
            problem = _problem(unit, run, timeout)
            if problem:
                notes.append(problem)
                if unit.grade_id:
                    problems[unit.grade_id] = problem
            if run.output_chars > output_report:
                notes.append(f"{unit.label} printed {run.output_chars:,} characters of output; grading ignores output")
        survived.append(Unit("the grader's harness", _HARNESS, None))
        setup = session.execute(_HARNESS)
        parts = []
        for part_id, points in assignment.parts:
            parts.append(_grade_part(session, assignment, part_id, points, seed, setup, problems, timeout, survived))
    total = round(sum(p.points for p in parts), 2)
    return SubmissionResult(label, assignment.name, total, assignment.max_points, parts, notes, round(time.monotonic() - start, 2))


def _replay(session: KernelSession, units: list[Unit]) -> None:
    """Bring a restarted kernel back to where it was: rerun the cells that ran before."""
    for unit in units:
        session.execute(unit.source)


def _grade_part(session, assignment, part_id, points, seed, setup, problems, timeout, survived) -> PartResult:
    part = get_part(part_id)
    cases = part.cases(hidden_rng(part_id, seed))
    verdicts = []
    stuck = None  # after one endless case, the rest of the part is not run (each would cost the full time limit)
    for case in cases:
        outcome = stuck
        if setup.status == "ok" and stuck is None:
            run = session.execute(f"__backprop_harness({part_id!r}, {json.dumps(case.payload)!r})")
            if run.status == "timeout":
                outcome = stuck = json.dumps({"bad_answer": f"stopped after {timeout:g} s (an endless loop?)"})
            elif run.status == "died":
                outcome = json.dumps({"bad_answer": "the kernel died while running your code"})
                _replay(session, survived)
            elif run.results:
                outcome = run.results[-1]
            elif run.error:
                outcome = json.dumps({"bad_answer": f"the test could not run: {run.error[0]}: {run.error[1][:200]}"})
        verdicts.append((case, judge_case(part, case, outcome)))
    passed = sum(v.passed for _, v in verdicts)
    score = round(points * passed / len(verdicts), 2) if verdicts else 0.0
    cell_notes = sorted({problems[g] for name in part.names for g in assignment.defining_cells(name) if g in problems})
    return PartResult(part_id, score, points, _part_feedback(part, verdicts, cell_notes))


def _part_feedback(part, verdicts, cell_notes) -> str:
    public = [(c, v) for c, v in verdicts if not c.hidden]
    hidden = [(c, v) for c, v in verdicts if c.hidden]
    counts = f"{sum(v.passed for _, v in public)} of {len(public)} public tests"
    if hidden:
        counts += f" and {sum(v.passed for _, v in hidden)} of {len(hidden)} hidden tests"
    if all(v.passed for _, v in verdicts):
        return f"{part.title}: all tests pass ({counts})."
    lines = [f"{part.title}: {counts} pass."]
    lines += cell_notes
    failing_public = [(c, v) for c, v in public if not v.passed]
    if failing_public:
        case, v = failing_public[0]
        lines.append(f"Public test '{case.label}': " + "; ".join(v.details))
        if v.diagnosis and all(v.diagnosis not in d for d in v.details):
            lines.append(f"Hint: {v.diagnosis}")
    failing_hidden = [v for _, v in hidden if not v.passed]
    if failing_hidden and not failing_public:
        lines.append(f"A hidden test fails: {failing_hidden[0].diagnosis}")
    return "\n".join(lines)


def grade_job(job) -> SubmissionResult:
    """One job of a batch: ``(path, assignment or None, label, options)`` -> its result, never an exception."""
    path, assignment, label, opts = job
    if assignment is None:
        return zero_result(label, None, "could not tell which homework this is (no backprop metadata, no known cells); "
                                        "grade it with --assignment NAME")
    try:
        return grade_submission(path, assignment, label=label, **opts)
    except Exception as exc:  # a grader fault on one submission must not cost the class its grades
        return zero_result(label, assignment, f"the grader failed on this submission ({type(exc).__name__}: {exc}); "
                                              f"please report it")
