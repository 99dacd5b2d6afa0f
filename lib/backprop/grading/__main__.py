"""The instructor's commands.

    python -m backprop.grading generate [--check] [--force]
    python -m backprop.grading grade SUBMISSION.ipynb [...] [--jobs N] [--csv FILE]
                                     [--feedback DIR] [--json] [--timeout S] [--seed N]
                                     [--no-sandbox]

    python -m backprop.grading bench [--jobs N] [--copies N] [--repeat N] [--only PREFIX ...] [--baseline DIR]

``generate`` rebuilds ``exercises/`` from ``solutions/`` (``--check``: only say what is
stale, exit 1 if anything is). ``grade`` runs each submission in its own kernel, in a
bubblewrap sandbox (see ``backprop.grading.sandbox``), and prints one line per
submission (with ``--json``: one JSON object per line). Without ``bwrap`` it refuses
to run and says how to install it, unless ``--no-sandbox`` is given, which it warns
about on every run. Exit status: 0 whenever grading ran, whatever the scores; 2 for a
usage error or a missing sandbox; 130 after Ctrl-C, once what was graded is written.
``bench`` times ``grade`` on copies of ``solutions/`` and ``exercises/``, with and without
the sandbox (and, given ``--baseline``, another checkout's grader on its own notebooks),
runs interleaved, and prints seconds per submission.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import multiprocessing
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .grade import DEFAULT_DEADLINE

REPO = Path(__file__).resolve().parents[3]
FEEDBACK_PREFIX = "<!-- written by python -m backprop.grading grade"
FEEDBACK_MARK = (FEEDBACK_PREFIX + "; a rerun replaces this file, and keeps it as NAME.md.bak-TIME if it "
                 "differs from the new one (edited, or graded differently) -->")
CSV_FIELDS = ["submission", "assignment", "total", "max", "seed"]


class UsageError(Exception):
    pass


def _default_dir(name: str) -> Path:
    here = Path.cwd() / name
    return here if here.is_dir() else REPO / name


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backprop.grading", description="Generate student versions and grade homework.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="rebuild exercises/ from solutions/")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 and name the files if exercises/ is stale")
    g.add_argument("--force", action="store_true", help="overwrite student versions even if someone has edited them")
    g.add_argument("--solutions", type=Path, default=None, help="folder of complete notebooks (default: solutions/)")
    g.add_argument("--exercises", type=Path, default=None, help="folder of student versions (default: exercises/)")
    r = sub.add_parser("grade", help="grade submissions")
    r.add_argument("submissions", nargs="+", type=Path, help="notebooks, or folders searched for *.ipynb")
    r.add_argument("--jobs", type=int, default=1, help="submissions graded at once (each in its own kernel)")
    r.add_argument("--csv", type=Path, default=None, help="write one row per submission to this file")
    r.add_argument("--feedback", type=Path, default=None, help="write one feedback file per submission into this folder")
    r.add_argument("--json", action="store_true", help="print one JSON object per submission, one per line")
    r.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per cell and per test (default 30)")
    r.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE,
                   help=f"seconds allowed for a whole submission, restarts included (default {DEFAULT_DEADLINE:g})")
    seed = r.add_mutually_exclusive_group()
    seed.add_argument("--seed", type=int, default=None,
                      help="seed of the hidden tests' random cases (default: a fresh one, printed and written in the "
                           "output, so that a grade can be reproduced)")
    seed.add_argument("--seed-file", type=Path, default=None,
                      help="a file holding the seed (an instructor's secret, kept out of command lines)")
    r.add_argument("--assignment", default=None, help="grade every submission as this assignment (default: recognise each)")
    r.add_argument("--solutions", type=Path, default=None, help="folder of complete notebooks (default: solutions/)")
    r.add_argument("--no-sandbox", action="store_true",
                   help="run kernels without bubblewrap: a submission can then read files, use the network and find "
                        "the answers; only for trusted notebooks")
    b = sub.add_parser("bench", help="time grade per submission, with and without the sandbox")
    b.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    b.add_argument("--copies", type=int, default=2, help="copies of each notebook of solutions/ and exercises/ (default 2)")
    b.add_argument("--repeat", type=int, default=3, help="timed runs of each configuration (default 3)")
    b.add_argument("--only", nargs="+", default=None, metavar="PREFIX",
                   help="time only the homework whose notebooks' names start with these, e.g. --only 01 02")
    b.add_argument("--baseline", type=Path, default=None,
                   help="another checkout of the repository: its grader is timed too, on its own notebooks")
    return p


# -- generate --------------------------------------------------------------------------------
def cmd_generate(args) -> int:
    from .generate import generate, kept_by_generate, stale

    solutions = args.solutions or _default_dir("solutions")
    exercises = args.exercises or _default_dir("exercises")
    if not solutions.is_dir():
        raise UsageError(f"argument --solutions expected a folder of notebooks, got {solutions} (not a folder)")
    if args.check:
        problems = stale(solutions, exercises)
        for line in problems:
            print(f"stale: {line}")
        if problems:
            kept = kept_by_generate(solutions, exercises)
            if kept:  # plain generate would keep these and change nothing
                them, verb = ("it", "holds") if len(kept) == 1 else ("them", "hold")
                print(f"run: python -m backprop.grading generate --force ({', '.join(map(str, kept))} {verb} edits "
                      f"that generate keeps without --force, which overwrites {them}: move {them} away first to keep "
                      f"the edits)", file=sys.stderr)
            else:
                print("run: python -m backprop.grading generate", file=sys.stderr)
            return 1
        print(f"{exercises} is up to date with {solutions}")
        return 0
    written, kept = generate(solutions, exercises, force=args.force)
    for path in written:
        print(f"wrote {path}")
    for line in kept:
        print(f"kept {line}", file=sys.stderr)
    if not written and not kept:
        print(f"{exercises} is up to date with {solutions}")
    return 0


# -- grade ------------------------------------------------------------------------------------
def _is_notebook(path: Path) -> bool:
    return path.suffix.lower() == ".ipynb"  # 02_scalar_backprop.IPYNB too


def _expand(paths: list[Path]) -> list[Path]:
    """The notebooks to grade: the files named, and the notebooks found in the folders named, each once.

    In a folder, what is not a notebook (``.py``, ``.pdf``...) and a folder holding nothing are named on
    stderr, one line each, so that no student goes missing unsaid; names starting with a dot
    (``.ipynb_checkpoints``, ``.DS_Store``) are passed over silently. A file given twice (by two names, or
    in a folder also given) is graded once, saying so."""
    out = []
    for p in paths:
        if p.is_dir():
            for q in [p, *sorted(p.rglob("*"))]:
                if any(part.startswith(".") for part in q.relative_to(p).parts):
                    continue
                if q.is_dir():
                    if not any(not c.name.startswith(".") for c in q.iterdir()):
                        print(f"skipped {q}: an empty folder, no notebook to grade", file=sys.stderr)
                elif _is_notebook(q):
                    out.append(q)
                else:
                    print(f"skipped {q}: not a notebook (only .ipynb files are graded)", file=sys.stderr)
        elif p.is_file():
            if not _is_notebook(p):
                raise UsageError(f"argument SUBMISSION expected a notebook (.ipynb) or a folder, got {p} "
                                 f"(not a .ipynb file)")
            out.append(p)
        else:
            raise UsageError(f"argument SUBMISSION expected a notebook file or a folder, got {p} (no such file)")
    if not out:
        raise UsageError("argument SUBMISSION expected at least one notebook, got folders without any .ipynb file")
    seen: dict[Path, Path] = {}
    unique = []
    for q in out:
        first = seen.setdefault(q.resolve(), q)
        if first is q:
            unique.append(q)
        else:
            print(f"{q} is the same file as {first}: graded once", file=sys.stderr)
    return unique


def _identify(path: Path, assignments: dict, forced: str | None):
    from .grade import NotebookError, read_notebook

    if forced:
        return assignments[forced]
    try:
        meta, cells = read_notebook(path)
    except (NotebookError, OSError, RecursionError, MemoryError):
        meta, cells = {}, []
    name = (meta.get("backprop") or {}).get("assignment") if isinstance(meta.get("backprop"), dict) else None
    if name in assignments:
        return assignments[name]
    ids = {c.grade_id for c in cells if c.grade_id}
    overlap = {name: len(ids & {c.grade_id for c in a.cells if c.grade_id}) for name, a in assignments.items()}
    best = max(overlap.items(), key=lambda kv: kv[1], default=(None, 0))
    if best[1] > 0:
        return assignments[best[0]]
    return _named(path, assignments)


def _named(path: Path, assignments: dict):
    """The homework a file's name says it is (``02_scalar_backprop``, ``alice_02_scalar_backprop``,
    ``02_mine``), or None."""
    stem = path.stem
    for a in assignments.values():
        if a.name in stem or stem.startswith(a.name.split("_")[0] + "_"):
            return a
    return None


def _feedback_names(paths: list[Path], earlier: set[str] = frozenset()) -> list[str]:
    """One feedback file name per submission, all different: its name alone where that is unique, else with
    as many of its folders as tell it apart (``alice__02_scalar_backprop``, ``sec1__alice__02_scalar_backprop``).
    Names are compared ignoring case (the folder may be on a file system that does).  ``earlier``: the names
    (casefolded, without ``.md``) of feedback an earlier run wrote; a submission regraded alone keeps the name
    it had in its class's run (``alice__02_scalar_backprop``, not ``02_scalar_backprop``)."""
    folders = [p.resolve().parent.parts for p in paths]
    depth = [0] * len(paths)

    def name(i: int) -> str:
        return "__".join([*folders[i][len(folders[i]) - depth[i]:], paths[i].stem])

    while True:
        names = [name(i) for i in range(len(paths))]
        keys = [n.casefold() for n in names]
        deeper = [i for i in range(len(paths)) if keys.count(keys[i]) > 1 and depth[i] < len(folders[i])]
        if not deeper:
            break
        for i in deeper:
            depth[i] += 1
    # alike in form: once some files need their folders to be told apart, every file gets at least as many
    # (submissions/frank/hw2 final (1).ipynb is frank__hw2 final (1) beside alice__02_scalar_backprop)
    least = min((d for d in depth if d), default=0)
    depth = [max(d, min(least, len(folders[i]))) for i, d in enumerate(depth)]
    names = [name(i) for i in range(len(paths))]
    keys = [n.casefold() for n in names]
    for i, key in enumerate(keys):  # still alike: the same name but for its suffix's case (x.ipynb, x.IPYNB)
        if keys.count(key) > 1:
            names[i] = f"{names[i]}__{paths[i].suffix.lstrip('.')}"
            if [k.casefold() for k in names].count(names[i].casefold()) > 1:
                names[i] += f"__{i + 1}"
    for i in range(len(paths)):  # the name of an earlier run's feedback for this file, when one is there
        if names[i].casefold() in earlier:
            continue
        for deeper in range(depth[i] + 1, len(folders[i]) + 1):
            depth[i], candidate = deeper, name(i)
            if candidate.casefold() in earlier and candidate.casefold() not in {n.casefold() for n in names}:
                names[i] = candidate
                break
    return names


def _check_folder(folder: Path, what: str, given: Path) -> None:
    """Refused before grading, not after: an output whose folder cannot be made (a file is in the way)."""
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"argument {what} expected a path in a folder, got {given} ({parent} is a file)")
            return


def _refuse_overwrite(path: Path, first_line: str, what: str) -> None:
    if path.exists():
        try:
            head = path.read_text(encoding="utf-8-sig", errors="replace").split("\n", 1)[0]
        except OSError as exc:
            raise UsageError(f"argument {what} expected a file it can read and replace, got {path} ({exc.strerror})") from None
        if not head.startswith(first_line):
            raise UsageError(f"argument {what} would overwrite {path}, which this command did not write; choose another name")


def _write_atomically(path: Path, text: str) -> None:
    """``text`` in ``path``, all or nothing: written to a temporary file beside it, then renamed over it (an
    existing file keeps its permissions; a new one gets this user's usual ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _csv_key(row: dict) -> tuple[str, str]:
    """Which submission a row is: the file (wherever the path was given from) and its homework."""
    return str(Path(row.get("submission") or "").resolve()), row.get("assignment") or ""


def _write_csv(path: Path, collected: list, assignments: dict, seed: int) -> None:
    """One row per submission graded now, merged into the grader's CSV if there is one already.

    A row of a submission graded now (same file, same homework) replaces its earlier row, except in the
    columns the new row leaves blank: a written answer's mark, or a column the instructor added, keeps
    what was typed there. Every other row, and every column, stays as it was. The file is replaced at once
    (a temporary file renamed over it), so an interrupted write leaves the old one whole."""
    graded = {r.assignment for r in collected}
    fields = list(CSV_FIELDS)
    auto = {}  # the columns the grader fills for each homework: any earlier value there is superseded
    for a in assignments.values():
        if a.name in graded:
            fields += [pid for pid, _ in a.parts + a.written]
        auto[a.name] = set(CSV_FIELDS) | {pid for pid, _ in a.parts}
    new_rows = []
    for r in collected:
        scores = {p.id: p.points for p in r.parts if not p.by_hand}  # a written answer's cell: the instructor's
        row = {"submission": r.submission, "assignment": r.assignment or "", "total": r.total, "max": r.max, "seed": seed}
        new_rows.append({f: str(v) for f, v in {**row, **scores}.items()})
    old_fields, old_rows = [], []
    if path.exists():
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:  # (a spreadsheet may add a BOM)
            table = list(csv.reader(f))
        old_fields = table[0] if table else []
        width = max(map(len, table), default=0)  # values typed past the header's last column are kept too
        old_fields += [f"column {i + 1}" for i in range(len(old_fields), width)]
        old_rows = [dict(zip(old_fields, row)) for row in table[1:]]
    fields = old_fields + [f for f in fields if f not in old_fields]
    by_key = {_csv_key(row): row for row in new_rows}
    merged, placed, carried = [], set(), 0
    for old in old_rows:
        key = _csv_key(old)
        new = by_key.get(key)
        if new is None:
            merged.append(old)
            continue
        mine = {f: v for f, v in old.items() if v and f not in auto.get(key[1], set(CSV_FIELDS))}
        clash = any(new.get(f) and new[f] != v for f, v in mine.items())
        if clash:  # a second earlier row of this submission whose marks differ from the first's: kept whole
            merged.append(old)
            continue
        for f, v in mine.items():
            if not new.get(f):
                new[f] = v
                carried += 1
        if key not in placed:
            merged.append(new)
            placed.add(key)
    added = [row for key, row in by_key.items() if key not in placed]
    merged += added
    lines = io.StringIO()
    w = csv.DictWriter(lines, fieldnames=fields, restval="")
    w.writeheader()
    w.writerows(merged)
    _write_atomically(path, lines.getvalue())
    if old_rows:
        print(f"{path}: {len(placed)} row(s) replaced, {len(added)} added, {len(merged) - len(placed) - len(added)} "
              f"kept from earlier runs; {carried} value(s) typed in by hand carried over", file=sys.stderr)


def _write_feedback(path: Path, text: str, stamp: str) -> None:
    """One feedback file; an earlier one that differs (an instructor's notes in it, or other grades) is kept
    beside it as NAME.md.bak-TIME, and stderr says so."""
    if path.exists():
        if path.read_text(encoding="utf-8", errors="replace") == text:
            return
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        n = 1
        while backup.exists():
            n += 1
            backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        os.replace(path, backup)
        print(f"{path} differed from this run's feedback (edited by hand, or graded differently): the earlier file "
              f"is kept as {backup}", file=sys.stderr)
    _write_atomically(path, text)


def as_text(lines: list[str]) -> list[str]:
    """Lines shown as they are in Markdown: a fenced block longer than any run of backticks in them (what a
    student's code wrote, quoted in the feedback, can never become a heading, a link or a fake score)."""
    text = "\n".join(lines)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return [fence + "text", *lines, fence]


def _feedback_text(result) -> str:
    lines = [FEEDBACK_MARK, f"# Feedback: {_plain_name(result.submission)}", ""]
    lines.append(f"Assignment: {result.assignment or 'not recognised'}  ")
    lines.append(f"**Score: {result.total:g} / {result.max:g}**")
    lines.append("")
    for part in result.parts:
        score = "graded by hand" if part.by_hand else f"{part.points:g}"
        lines.append(f"## {part.id}: {score} / {part.max:g}")
        lines.append("")
        lines += as_text(part.feedback.splitlines())
        lines.append("")
    if result.notes:
        lines.append("## Notes on running your notebook")
        lines.append("")
        lines += as_text([f"- {n}" for n in result.notes])
        lines.append("")
    return "\n".join(lines)


def _plain_name(name: str) -> str:
    """A file name in a Markdown heading, its Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~&])", r"\\\1", name)


NO_CGROUPS_WARNING = (
    "warning: this host does not let the grader make a cgroup per submission (cgroup v1 memory, cpu and pids "
    "controllers, or cgroup v2 with them delegated, writable by this user): the limits on memory, processes "
    "and CPU hold per process, not over all of a submission's processes, and a submission's busy processes "
    "can slow the others down. Run grade as root on a host with cgroups for limits per submission.")


def _seed(args) -> int:
    """The seed of this run: --seed, the number in --seed-file, or a fresh one (numpy's seeds are non-negative:
    a negative one would fail every submission's hidden cases, so it is refused here)."""
    if args.seed_file is not None:
        try:
            text = args.seed_file.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            raise UsageError(f"argument --seed-file expected a readable file, got {args.seed_file} ({exc.strerror})") from None
        if not re.fullmatch(r"\+?[0-9]+", text):
            raise UsageError(f"argument --seed-file expected a file holding one non-negative whole number, got "
                             f"{args.seed_file} holding {text[:40]!r}")
        return int(text)
    if args.seed is not None:
        if args.seed < 0:
            raise UsageError(f"argument --seed expected a non-negative integer, got {args.seed}")
        return args.seed
    return secrets.randbits(63)


NO_SANDBOX_WARNING = (
    "warning: --no-sandbox: each submission's kernel runs as a plain process of this user; its code can read "
    "files (solutions/ included), reach the network and other processes, and so forge its marks. Grade only "
    "notebooks you trust this way.")


def cmd_grade(args) -> int:
    from . import sandbox
    from .grade import grade_job, load_assignment

    if args.jobs < 1:
        raise UsageError(f"argument --jobs expected a positive integer, got {args.jobs}")
    if not args.timeout > 0:
        raise UsageError(f"argument --timeout expected a positive number of seconds, got {args.timeout}")
    solutions = args.solutions or _default_dir("solutions")
    if not solutions.is_dir():
        raise UsageError(f"argument --solutions expected a folder of notebooks, got {solutions} (not a folder)")
    assignments = {}
    for src in sorted(solutions.glob("*.ipynb")):
        a = load_assignment(src)
        assignments[a.name] = a
    if args.assignment and args.assignment not in assignments:
        raise UsageError(f"argument --assignment expected one of {sorted(assignments)}, got {args.assignment!r}")
    paths = _expand(args.submissions)
    earlier = set()
    if args.feedback and args.feedback.is_dir():  # feedback this grader wrote, by an earlier run
        for old in args.feedback.glob("*.md"):
            with old.open(encoding="utf-8", errors="replace") as f:
                if f.readline().startswith(FEEDBACK_PREFIX):
                    earlier.add(old.stem.casefold())
    names = _feedback_names(paths, earlier)
    if args.csv:
        if args.csv.is_dir():
            raise UsageError(f"argument --csv expected a file to write, got {args.csv} (a folder)")
        _check_folder(args.csv.parent, "--csv", args.csv)
        _refuse_overwrite(args.csv, ",".join(CSV_FIELDS), "--csv")
    if args.feedback:
        if args.feedback.exists() and not args.feedback.is_dir():
            raise UsageError(f"argument --feedback expected a folder, got {args.feedback} (a file)")
        _check_folder(args.feedback, "--feedback", args.feedback)
        for n in names:
            _refuse_overwrite(args.feedback / f"{n}.md", FEEDBACK_PREFIX, "--feedback")
    if not args.deadline > 0:
        raise UsageError(f"argument --deadline expected a positive number of seconds, got {args.deadline}")
    seed = _seed(args)
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
        bwrap = None
    else:
        try:
            bwrap = sandbox.check_bwrap()
        except sandbox.SandboxUnavailable as exc:
            raise UsageError(str(exc)) from None
        if not sandbox.cgroups_available():
            print(NO_CGROUPS_WARNING, file=sys.stderr)
    print(f"seed of the hidden cases: {seed} (grade again with --seed {seed} to reproduce these grades)",
          file=sys.stderr)
    found = [_identify(p, assignments, args.assignment) for p in paths]
    disagree = {}  # submission -> a warning for its feedback: its name says one homework, its contents another
    for p, a in zip(paths, found):
        named = None if args.assignment else _named(p, assignments)
        if a is not None and named is not None and named.name != a.name:
            disagree[str(p)] = (f"the file's name says {named.name}, but it holds {a.name} (its metadata and cells), "
                                f"so it was graded as {a.name}: if this is not the homework you meant to hand in, "
                                f"tell your instructor")
            print(f"warning: {p}: its name says {named.name}, its contents {a.name}: graded as {a.name}", file=sys.stderr)
    known = {a.name for a in found if a is not None}
    if len(known) == 1:  # a batch of one homework: an unreadable file is that homework too
        found = [a or assignments[next(iter(known))] for a in found]
    workspace = tempfile.TemporaryDirectory(prefix="backprop-sandbox-")
    specs = {}  # each homework's filtered package and sandbox, made once for the batch
    for a in {a.name: a for a in found if a is not None}.values():
        specs[a.name] = sandbox.make_spec(Path(workspace.name) / a.name, a.may_use(), a.packages(), bwrap)
    jobs = [(p, a, str(p), {"seed": seed, "timeout": args.timeout, "deadline": args.deadline,
                            "sandbox": specs.get(a.name) if a else None})
            for p, a in zip(paths, found)]
    workers = min(args.jobs, len(jobs))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
    collected = []
    interrupted = False
    with workspace, pool or contextlib.nullcontext():
        try:
            for n, result in enumerate(pool.map(grade_job, jobs) if pool else map(grade_job, jobs), 1):
                if result.submission in disagree:
                    result.notes.insert(0, disagree[result.submission])
                collected.append(result)
                if args.json:
                    print(json.dumps({**result.as_json(), "seed": seed}), flush=True)
                else:
                    print(f"{result.submission}\t{result.assignment or '?'}\t{result.total:g} / {result.max:g}", flush=True)
                print(f"[{n}/{len(jobs)}] {result.submission}: {result.total:g} / {result.max:g} ({result.seconds:.1f} s)",
                      file=sys.stderr)
        except KeyboardInterrupt:  # Ctrl-C: what was graded is written, what was not is named
            interrupted = True
            if pool:
                pool.shutdown(wait=False, cancel_futures=True)
        # written before the workers are waited for: a second Ctrl-C while they stop loses nothing graded
        if args.csv and collected:
            _write_csv(args.csv, collected, assignments, seed)
        if args.feedback and collected:
            args.feedback.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for n, r in zip(names, collected):
                _write_feedback(args.feedback / f"{n}.md", _feedback_text(r), stamp)
        if interrupted:
            missed = [str(p) for p in paths[len(collected):]]
            print(f"interrupted: {len(collected)} of {len(paths)} submissions graded"
                  + (" and written" if args.csv or args.feedback else "")
                  + f"; not graded ({len(missed)}): {', '.join(missed)}", file=sys.stderr)
    if interrupted:
        return 130
    return 0


# -- bench ------------------------------------------------------------------------------------------
def _batch(root: Path, dest: Path, copies: int, only=None) -> int:
    dest.mkdir(parents=True)
    n = 0
    for folder in ("solutions", "exercises"):
        for nb in sorted((root / folder).glob("*.ipynb")):
            if only and not nb.name.startswith(tuple(only)):
                continue
            for c in range(copies):
                shutil.copyfile(nb, dest / f"{folder}_{c}_{nb.name}")
                n += 1
    return n


def cmd_bench(args) -> int:
    import statistics
    import subprocess
    import time

    for name in ("jobs", "copies", "repeat"):
        if getattr(args, name) < 1:
            raise UsageError(f"argument --{name} expected a positive integer, got {getattr(args, name)}")
    if args.baseline is not None and not (args.baseline / "lib" / "backprop").is_dir():
        raise UsageError(f"argument --baseline expected a checkout of this repository (with lib/backprop), got {args.baseline}")
    from . import sandbox

    configs = {"sandbox": (REPO, [])} if sandbox.find_bwrap() else {}
    configs["no sandbox"] = (REPO, ["--no-sandbox"])
    if args.baseline is not None:
        configs["baseline"] = (args.baseline.resolve(), None)
    if "sandbox" not in configs:
        print("bwrap is not installed: only --no-sandbox is timed", file=sys.stderr)
    times: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="backprop-bench-") as tmp:
        batches = {}
        for name, (root, _) in configs.items():
            folder = Path(tmp) / name.replace(" ", "-")
            batches[name] = (folder, _batch(root, folder, args.copies, args.only))
            if not batches[name][1]:
                raise UsageError(f"argument --only expected prefixes of notebooks in {root / 'solutions'}, got "
                                 f"{' '.join(args.only)} (no notebook starts with them)")
        for run in range(args.repeat):
            for name, (root, extra) in configs.items():  # interleaved: a busy moment costs every configuration
                folder, n = batches[name]
                env = dict(os.environ)
                if extra is None:  # the other checkout's grader, as it was (no flags of today)
                    env["PYTHONPATH"] = os.pathsep.join([str(root / "lib"), env.get("PYTHONPATH", "")])
                    extra = []
                cmd = [sys.executable, "-m", "backprop.grading", "grade", str(folder), "--jobs", str(args.jobs),
                       "--solutions", str(root / "solutions"), *extra]
                start = time.monotonic()
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp)
                seconds = (time.monotonic() - start) / n
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    raise UsageError(f"grading with {name} failed (exit {proc.returncode})")
                times[name].append(seconds)
                print(f"run {run + 1}, {name}: {seconds:.2f} s per submission ({n} submissions, --jobs {args.jobs})",
                      flush=True)
    print()
    for name, values in times.items():
        print(f"{name:>10}: median {statistics.median(values):.2f} s per submission "
              f"(min {min(values):.2f}, max {max(values):.2f})")
    if "baseline" in times:
        for name in [n for n in times if n != "baseline"]:
            ratios = [a / b for a, b in zip(times[name], times["baseline"])]
            print(f"{name} / baseline, run by run: {', '.join(f'{r:.2f}' for r in ratios)} "
                  f"(median {statistics.median(ratios):.2f})")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    commands = {"generate": cmd_generate, "grade": cmd_grade, "bench": cmd_bench}
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(f"python -m backprop.grading: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
