"""Grade one submission: rebuild it on the instructor's notebook, run it, judge it outside.

How a submission is run
    The instructor's notebook (``solutions/``) is the skeleton. Its locked cells
    (set-up, given code) run as the instructor wrote them, whatever the student did to
    their copy; at each solution cell the student's cell with the same nbgrader
    ``grade_id`` runs instead; cells the student added run after the cell they
    follow. Check cells are not run: grading happens outside the notebook.

    Given cells whose metadata says ``"backprop": {"grader": "skip"}`` only show the
    student something (a drawing, a demonstration with their functions): they are not
    run. When a student's notebook holds two cells with one ``grade_id`` (JupyterLab
    copies a cell's metadata with the cell), the last one is graded, and the feedback
    says so.

How it is judged
    For each graded part, each public and hidden case is sent into the kernel as code
    that carries its own harness (:mod:`.harness`): the student's functions are called
    there on the case's inputs, and only their results (and their arguments after the
    call) come back, as JSON in a file. The reference answers and the comparison live
    in this process, which the student's code cannot reach: patching numpy, the
    library, the harness's helpers or the check functions inside the notebook changes
    nothing here. The kernel runs in a sandbox (:mod:`.sandbox`) holding only the
    modules of ``backprop`` the homework may use.

Faults (invalid JSON, syntax errors, exceptions, endless loops, huge output, a dying
kernel, deleted or renamed cells and functions) become per-part feedback; they never
stop the batch. The submission file is only read.
"""

from __future__ import annotations

import ast
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import DEFAULT_SEED, hidden_rng
from .harness import MAX_RESULT_CHARS, case_cell, case_program
from .parts import group_feedback, judge_case, knock_on, part_score
from .registry import get_part
from .runner import RESULT_MIME, Execution, KernelSession
from .sandbox import SandboxSpec

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
    skip: bool = False  # a given cell the grader does not run ("backprop": {"grader": "skip"})


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
        ours = meta.get("backprop") if isinstance(meta.get("backprop"), dict) else {}
        cells.append(Cell(str(raw.get("cell_type", "")), source, grade_id, bool(nbg.get("grade")),
                          bool(nbg.get("solution")), points, ours.get("grader") == "skip"))
    return cells


#: a submission larger than this is not read (a notebook with its outputs is a few megabytes)
MAX_NOTEBOOK_BYTES = 256 << 20


def read_notebook(path: Path) -> tuple[dict, list[Cell]]:
    """The notebook's metadata and cells, read leniently; ``NotebookError`` if it is not a notebook."""
    import stat

    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotebookError("not a notebook: not a regular file")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"not read: {info.st_size:,} bytes, more than a notebook's {MAX_NOTEBOOK_BYTES:,}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not a notebook: the file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotebookError(f"not valid notebook JSON ({exc})") from None
    except RecursionError:
        raise NotebookError("not a notebook: its JSON is nested too deeply to read") from None
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
    #: (grade id, points) of the answers an instructor grades by hand (a written explanation), in notebook order
    written: list[tuple[str, float]] = field(default_factory=list)

    @property
    def max_points(self) -> float:
        return sum(p for _, p in self.parts) + sum(p for _, p in self.written)

    def may_use(self) -> tuple[str, ...]:
        """The modules of backprop this homework may use (its parts say)."""
        return get_part(self.parts[0][0]).may_use if self.parts else ()

    def packages(self) -> tuple[str, ...]:
        """The installed packages this homework may import."""
        return get_part(self.parts[0][0]).packages if self.parts else ()

    def rule(self) -> str:
        """What the homework may use, in words."""
        return get_part(self.parts[0][0]).allowed if self.parts else ""

    def defining_cells(self, function: str) -> list[str]:
        """grade_ids of the solution cells that define ``function``."""
        pattern = re.compile(rf"^\s*def\s+{re.escape(function)}\s*\(", re.M)
        return [c.grade_id for c in self.cells if c.solution and c.grade_id and pattern.search(c.source)]

    def defined_in(self, grade_id: str) -> list[str]:
        """The functions the solution cell ``grade_id`` defines (what a student's version of it should define)."""
        return [name for c in self.cells if c.solution and c.grade_id == grade_id
                for name in re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", c.source, re.M)]


def load_assignment(path: Path) -> Assignment:
    """An assignment from its complete notebook in ``solutions/``."""
    meta, cells = read_notebook(path)
    name = (meta.get("backprop") or {}).get("assignment") or Path(path).stem
    parts, written = [], []
    for c in cells:
        if c.grade and not c.solution:
            get_part(c.grade_id)  # every graded cell must be a known part
            parts.append((c.grade_id, c.points))
        elif c.grade and c.solution:  # nbgrader's "manually graded answer": the instructor reads it
            written.append((c.grade_id, c.points))
    return Assignment(name, Path(path), cells, parts, written)


# -- results --------------------------------------------------------------------------------
@dataclass
class PartResult:
    id: str
    points: float
    max: float
    feedback: str
    #: a written answer: its points are the instructor's to give (``points`` stays 0 here)
    by_hand: bool = False


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
            "assignment": self.assignment,
            "total": self.total,
            "max": self.max,
            "parts": [asdict(p) for p in self.parts],
        }


def zero_result(submission: str, assignment: Assignment | None, reason: str) -> SubmissionResult:
    """Every part 0, with the same reason (the notebook could not be read or run)."""
    parts = [PartResult(pid, 0.0, pts, reason) for pid, pts in (assignment.parts if assignment else [])]
    parts += written_results(assignment, None) if assignment else []
    return SubmissionResult(submission, assignment.name if assignment else None, 0.0, assignment.max_points if assignment else 0.0, parts, [reason])


# -- building what runs -------------------------------------------------------------------
@dataclass
class Unit:
    label: str
    source: str
    grade_id: str | None  # the solution cell it stands for, if any


def execution_plan(assignment: Assignment, student: list[Cell]) -> tuple[list[Unit], list[str], dict[str, str]]:
    """The code to run, in order; notes on cells that could not be placed; notes per answer cell (by grade_id).

    An answer cell that appears more than once (a copied cell keeps its grade_id) is
    graded from its last copy; the others are not run.
    """
    known = {c.grade_id: c for c in assignment.cells if c.grade_id}
    answers: dict[str, Cell] = {}
    copies: dict[str, int] = {}
    extras: dict[str | None, list[Cell]] = {}
    anchor = None
    for c in student:
        if c.kind != "code":
            continue
        if c.grade_id in known:
            if known[c.grade_id].solution:
                answers[c.grade_id] = c  # the last copy wins
                copies[c.grade_id] = copies.get(c.grade_id, 0) + 1
            anchor = c.grade_id
        else:
            extras.setdefault(anchor, []).append(c)
    notes, units = [], []
    per_cell = {}
    for grade_id, n in copies.items():
        if n > 1:
            per_cell[grade_id] = (f"your notebook has {n} cells with the id '{grade_id}' (a copied cell keeps the "
                                  f"original's id); the last of them was graded and the others were not run")
            notes.append(per_cell[grade_id])
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
        elif not c.skip:
            units.append(Unit(f"the given cell '{c.grade_id}'", c.source, None))
        for extra in extras.pop(c.grade_id, []) + (extras.pop(None, []) if first else []):
            units.append(Unit(f"a cell you added after '{c.grade_id}'", extra.source, None))
        first = False
    return units, notes, per_cell


def call_graph(sources: list[str], known: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """{function: the names its body reads} for the top-level functions the code defines (a later definition
    of a name replaces an earlier one), restricted to those functions and the ``known`` ones (the parts'
    functions, whose own cell may not have parsed). The code is only parsed, never run; a source that does
    not parse (a syntax error, IPython's magics) adds nothing."""
    reads: dict[str, set[str]] = {name: set() for name in known}
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
                reads[node.name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                                    and isinstance(n.ctx, ast.Load) and n.id not in arguments}
    return {name: used & reads.keys() - {name} for name, used in reads.items()}


_MISSING_MODULE = re.compile(r"No module named '([A-Za-z0-9_.]+)'")


#: seconds a whole submission may take by default (``grade --deadline``): its cells, its tests, restarts included
DEFAULT_DEADLINE = 120.0


class Clock:
    """A submission's deadline: how long the next request may take, and whether time is up."""

    def __init__(self, seconds: float, per_request: float):
        self.seconds, self.per_request = seconds, per_request
        self.end = time.monotonic() + seconds

    def limit(self) -> float:
        return max(0.0, min(self.per_request, self.end - time.monotonic()))

    def over(self) -> bool:
        return time.monotonic() >= self.end

    def stopped(self, what: str) -> str:
        """Why something was stopped: the request's time limit, or the submission's deadline."""
        if self.over():
            return f"{what} was stopped at the submission's deadline ({self.seconds:g} s for the whole notebook)"
        return f"{what} ran longer than {self.per_request:g} s and was stopped (an endless loop?)"


def _problem(unit: Unit, run: Execution, clock: Clock, assignment: "Assignment") -> str | None:
    if run.status == "timeout":
        return clock.stopped(unit.label)
    if run.status == "died":
        return f"the kernel died while running {unit.label} (exit(), a crash, or out of memory); it was restarted"
    if run.status == "error" and run.error:
        name, message = run.error
        if name == "NotImplementedError":
            return f"{unit.label} is not answered yet (raises NotImplementedError)"
        found = _MISSING_MODULE.search(message) if name in ("ModuleNotFoundError", "ImportError") else None
        if found and unit.grade_id:
            module = found.group(1)
            rule = assignment.rule()
            if module.startswith("backprop.") and module[len("backprop."):] not in assignment.may_use():
                return f"{unit.label} imports {module}: this part must not use {module}" + (f" ({rule})" if rule else "")
            if not module.startswith("backprop"):
                return f"{unit.label} imports {module}, which is not available when grading" + (f" ({rule})" if rule else "")
        if name in SYNTAX_ERRORS:
            return _syntax_problem(unit, name, message, assignment)
        message = message if len(message) <= 200 else message[:200] + "..."
        return f"{unit.label} raised {name}: {message}"
    return None


#: the errors Python raises before a cell runs at all (nothing in it is defined)
SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
#: IPython's SyntaxError message: what is wrong, then the cell's temporary file name and the line in the cell
_SYNTAX_WHERE = re.compile(r"^(.*) \([^()]*, line (\d+)\)$", re.S)


def _syntax_problem(unit: Unit, name: str, message: str, assignment: "Assignment") -> str:
    """A syntax error, said as a student finds it: which cell (and the functions it defines), the line within
    the cell, and that line quoted (not the kernel's temporary file name)."""
    found = _SYNTAX_WHERE.match(message)
    what, line = (found.group(1), int(found.group(2))) if found else (message, None)
    defines = assignment.defined_in(unit.grade_id) if unit.grade_id else []
    cell = unit.label + (f" (it defines {', '.join(f'`{d}`' for d in defines)})" if defines else "")
    if line is None:
        return f"{cell} raised {name}: {what[:200]}; nothing in the cell ran"
    lines = unit.source.splitlines()
    quoted = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    quoted = quoted if len(quoted) <= 120 else quoted[:117] + "..."
    return (f"{cell} raised {name} at line {line} of the cell: {what[:200]}" + (f": `{quoted}`" if quoted else "")
            + "; nothing in the cell ran")


def _why_undefined(unit: Unit, run: Execution, assignment: "Assignment") -> dict[str, str]:
    """{function: why it is not defined} for the functions an answer cell that failed should have defined."""
    if not unit.grade_id or run.status == "ok":
        return {}
    if run.status == "error" and run.error:
        name, message = run.error
        if name in SYNTAX_ERRORS:
            found = _SYNTAX_WHERE.match(message)
            why = f"its cell '{unit.grade_id}' raised {name}" + (f" (line {found.group(2)} of the cell)" if found else "")
        else:
            why = f"its cell '{unit.grade_id}' raised {name} before defining it"
    elif run.status == "timeout":
        why = f"its cell '{unit.grade_id}' was stopped before it finished"
    else:
        why = f"the kernel died while running its cell '{unit.grade_id}'"
    return {function: why for function in assignment.defined_in(unit.grade_id)}


def grade_submission(
    path: Path,
    assignment: Assignment,
    *,
    seed: int = DEFAULT_SEED,
    timeout: float = 30.0,
    deadline: float = DEFAULT_DEADLINE,
    output_report: int = 100_000,
    label: str | None = None,
    sandbox: SandboxSpec | None = None,
) -> SubmissionResult:
    """Grade one submission against one assignment. Never raises for the submission's faults.

    ``timeout``: seconds per cell and per test case; ``deadline``: seconds for the whole
    submission (what has not run by then scores 0, saying so); a cell printing more than
    ``output_report`` characters gets a note (output is never stored or graded);
    ``sandbox``: the homework's sandbox and filtered package (None: an unconfined
    kernel with this interpreter's whole ``backprop``; tests of the harness only).
    """
    start = time.monotonic()
    label = label or str(path)
    try:
        _, student = read_notebook(path)
    except NotebookError as exc:
        return zero_result(label, assignment, f"could not read the submission: {exc}")
    except OSError as exc:
        return zero_result(label, assignment, f"could not read the submission: {exc.strerror}")
    units, notes, per_cell = execution_plan(assignment, student)
    problems = {grade_id: [note] for grade_id, note in per_cell.items()}  # notes on answer cells, by grade_id
    undefined: dict[str, str] = {}  # function -> why it may not be defined (its cell failed to run)
    clock = Clock(deadline, timeout)
    with KernelSession(timeout=timeout, spec=sandbox) as session:
        survived: list[Unit] = []  # what to replay in a fresh kernel if a later cell kills this one
        for unit in units:
            if clock.over():
                notes.append(clock.stopped(f"running your notebook (before {unit.label})"))
                break
            run = session.execute(unit.source, timeout=clock.limit())
            if run.restarted:  # it died, or would not stop: the cells before it run again in the new kernel
                _replay(session, survived, clock)
            if not run.restarted:  # a cell that killed its kernel, or would not stop, is not run again
                survived.append(unit)
            problem = _problem(unit, run, clock, assignment)
            undefined.update(_why_undefined(unit, run, assignment))
            if problem:
                notes.append(problem)
                if unit.grade_id:
                    problems.setdefault(unit.grade_id, []).append(problem)
            if run.strays:
                notes.append(f"{unit.label} left {run.strays} process(es) running after it ended; they were stopped")
            if run.output_chars > output_report:
                notes.append(f"{unit.label} printed {run.output_chars:,} characters of output; grading ignores output")
        graded = [_grade_part(session, assignment, part_id, points, seed, problems, clock, survived, undefined)
                  for part_id, points in assignment.parts]
    graph = call_graph([unit.source for unit in units], tuple(n for g in graded for n in g.part.names))
    failing = [g.part for g in graded if not all(v.passed for _, v in g.verdicts)]
    parts = [PartResult(g.part.id, g.score, g.points, _part_feedback(
        g.part, g.verdicts, g.cell_notes, g.points, knock_on(g.part, failing, graph, g.verdicts)))
        for g in graded]
    parts += written_results(assignment, student)
    total = round(sum(p.points for p in parts), 2)
    return SubmissionResult(label, assignment.name, total, assignment.max_points, parts, notes, round(time.monotonic() - start, 2))


#: what nbgrader leaves in a written answer's cell of the student version
WRITTEN_STUB = "YOUR ANSWER HERE"


def written_results(assignment: Assignment, student: list[Cell] | None) -> list[PartResult]:
    """One result per written answer: no points here (the instructor grades it by hand), and whether it is there."""
    results = []
    for grade_id, points in assignment.written:
        answers = [c for c in student or [] if c.grade_id == grade_id]
        text = answers[-1].source.strip() if answers else ""
        if student is None:
            state = "could not be read"
        elif not answers:
            state = "is missing from the submission (the cell was deleted, or its metadata lost)"
        elif not text or text == WRITTEN_STUB:
            state = "is still empty"
        else:
            state = f"is there ({len(text.split())} words)"
        results.append(PartResult(grade_id, 0.0, points, f"a written answer, graded by hand by your instructor (up to "
                                                         f"{points:g} point{'s' if points != 1 else ''}, not in this "
                                                         f"total); your answer {state}.", by_hand=True))
    return results


def _replay(session: KernelSession, units: list[Unit], clock: Clock) -> None:
    """Bring a restarted kernel back to where it was: rerun the cells that ran before (within the deadline)."""
    for unit in units:
        if clock.over():
            return
        if session.execute(unit.source, timeout=clock.limit()).restarted:
            return  # a cell that ran before no longer does: what follows is graded on what there is


@dataclass
class GradedPart:
    """A part's verdicts, before its feedback is written (which may name another part's failure)."""
    part: object
    points: float
    score: float
    verdicts: list
    cell_notes: list[str]


def _grade_part(session, assignment, part_id, points, seed, problems, clock, survived, undefined) -> GradedPart:
    part = get_part(part_id)
    cases = part.cases(hidden_rng(part_id, seed))
    verdicts = []
    stuck = None  # after one endless case, the rest of the part is not run (each would cost the full time limit)
    for case in cases:
        if stuck is None and clock.over():
            stuck = json.dumps({"bad_answer": clock.stopped("grading") + "; this test did not run"})
        outcome = stuck
        if stuck is None:
            program = session.case_path(case_program(part.names, part.call, case.payload))
            run = session.execute(case_cell(program, RESULT_MIME), timeout=clock.limit(), silent=True,
                                  result_limit=MAX_RESULT_CHARS)
            outcome = run.result
            if run.status == "timeout":
                outcome = stuck = json.dumps({"bad_answer": clock.stopped("the test")})
            elif run.status == "died":
                outcome = json.dumps({"bad_answer": "the kernel died while running your code"})
            elif outcome is None and run.error:
                outcome = json.dumps({"bad_answer": f"the test could not run: {run.error[0]}: {run.error[1][:200]}"})
            if run.restarted:
                _replay(session, survived, clock)
        verdicts.append((case, judge_case(part, case, outcome, undefined)))
    score = part_score(part, points, verdicts)
    cell_notes = sorted({note for name in part.names for g in assignment.defining_cells(name) for note in problems.get(g, [])})
    return GradedPart(part, points, score, verdicts, cell_notes)


def _part_feedback(part, verdicts, cell_notes, points: float = 1.0, causes=()) -> str:
    public = [(c, v) for c, v in verdicts if not c.hidden]
    hidden = [(c, v) for c, v in verdicts if c.hidden]
    counts = f"{sum(v.passed for _, v in public)} of {len(public)} public tests"
    if hidden:
        counts += f" and {sum(v.passed for _, v in hidden)} of {len(hidden)} hidden tests"
    if all(v.passed for _, v in verdicts):
        return "\n".join([f"{part.title}: all tests pass ({counts})."] + cell_notes)
    lines = [f"{part.title}: {counts} pass."]
    lines += causes
    lines += cell_notes
    lines += group_feedback(part, points, verdicts)
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
        try:
            read_notebook(path)
        except NotebookError as exc:  # the real cause, as a batch of one homework would say it
            return zero_result(label, None, f"could not read the submission: {exc} (so which homework it is could not "
                                            f"be told either)")
        except OSError as exc:
            return zero_result(label, None, f"could not read the submission: {exc.strerror}")
        return zero_result(label, None, "could not tell which homework this is (no backprop metadata, no known cells); "
                                        "grade it with --assignment NAME")
    try:
        return grade_submission(path, assignment, label=label, **opts)
    except Exception as exc:  # a grader fault on one submission must not cost the class its grades
        return zero_result(label, assignment, f"the grader failed on this submission ({type(exc).__name__}: {exc}); "
                                              f"please report it")
