"""The instructor's grader end to end: `python -m backprop.grading grade` on crafted submissions.

One batch grades every crafted submission (two jobs at once, a short time limit), as an
instructor would; each test then reads its submission's line of the JSON output. Three
families of submissions:

- faults: the kinds of broken notebook the grader must survive (errors, endless loops,
  dying kernels, deleted, renamed or moved cells, files that are not notebooks...);
- forgeries: a student after marks without the work (patching the harness, importing
  the grader's references, reading solutions/ or another submission, the network, the
  library's own answers, ctypes and gc, a process that outlives its cell). Each forges
  one part and leaves the others honest: it must get 0 for that part, the others full;
- misgrades that only a kernel shows: an argument changed in place, seen by the parts that
  call the function, and a duplicated answer cell. (Realistic bugs and right answers written
  differently are judged in-process by each homework's tests, test_hw01.py to test_hw06.py,
  through the same kernel-side program: a kernel would add nothing to them.)

The batch runs in the bubblewrap sandbox; where bwrap is missing it runs with
--no-sandbox and the tests that need the sandbox are skipped, saying so (unless
BACKPROP_REQUIRE_SANDBOX=1, as in CI, where a missing bwrap fails).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOL01 = ROOT / "solutions" / "01_calculus_refresher.ipynb"
SOL02 = ROOT / "solutions" / "02_scalar_backprop.ipynb"
EX01 = ROOT / "exercises" / "01_calculus_refresher.ipynb"
EX02 = ROOT / "exercises" / "02_scalar_backprop.ipynb"
TIMEOUT = 4
BWRAP = shutil.which("bwrap")
REQUIRED = os.environ.get("BACKPROP_REQUIRE_SANDBOX") == "1"
SANDBOXED = bool(BWRAP) or REQUIRED
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="bubblewrap (bwrap) is not installed, so the batch ran with "
                                                         "--no-sandbox: .ci/install-bubblewrap, or apt-get install bubblewrap")
#: a word the forking submission puts on its helper's command line, to find it afterwards
MARKER = f"backprop-forgery-{uuid.uuid4().hex[:12]}"


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


MONKEYPATCH = '''
# everything a student might patch in the kernel to pass: numpy's comparisons, the course
# tolerance (and the names the grading modules imported it under), the self-check, the judge
# (whichever of them this kernel has: the grader's own modules are not in it)
import importlib, numpy, numpy.testing
import backprop.grading
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
backprop.grading.check = lambda *a, **k: print("all good")
always = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
for name in ("backprop.core.tolerance", "backprop.grading.parts", "backprop.grading.hw02"):
    try:
        module = importlib.import_module(name)
    except ImportError:
        continue
    module.agree = always
    if hasattr(module, "Verdict"):
        module.judge_case = lambda *a, **k: module.Verdict(True)
        module.Verdict.ok = classmethod(lambda cls: cls(True))
        module.Verdict.wrong = classmethod(lambda cls, *a, **k: cls(True))

def forward_pass(x, weights, biases, activations):
    N = len(weights) - 1
    return [None] + [numpy.zeros(weights[k].shape[1]) for k in range(1, N + 1)], [x] + [numpy.zeros(weights[k].shape[1]) for k in range(1, N + 1)]
'''


# -- forgeries: each forges average_gradients (nothing else calls it) and leaves the other parts honest -------------
#: the issue's forgery, as it was filed: homework 02 untouched, three lines in one answer cell
FORGE_RUN_CASE = '''import json
import backprop.grading.parts as P
P.run_case = lambda part, f, payload: json.dumps({"answer": P._jsonable(part.expected(payload))})
'''

STUB_AVERAGE = '''
def average_gradients(X, D, weights, biases, activations, divergence):
    raise NotImplementedError()
'''

#: patch json, builtins, numpy and the check before the harness runs, aimed at this part's call alone
PATCH_EVERYTHING = '''import builtins, json, numpy
import backprop.grading
_dumps, _compile = json.dumps, builtins.compile
FORGED = {"answer": [0.25, [None, [[0.0]]], [None, [0.0]]]}
json.dumps = lambda obj, *a, **k: _dumps(FORGED if isinstance(obj, dict) and "answer" in obj else obj, *a, **k)
builtins.compile = lambda src, *a, **k: _compile(
    "result = (0.25, [None], [None])" if str(src).startswith("import numpy") and "average_gradients" in str(src) else src,
    *a, **k)
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
backprop.grading.check = lambda *a, **k: None
''' + STUB_AVERAGE

#: the grader's reference modules, imported for the answer
IMPORT_REFERENCE = '''from backprop.grading.hw02 import AverageGradients

def average_gradients(X, D, weights, biases, activations, divergence):
    net = {"X": X.tolist(), "D": D.tolist(), "weights": [w.tolist() for w in weights[1:]],
           "biases": [b.tolist() for b in biases[1:]], "activations": [f.name for f in activations[1:]],
           "divergence": divergence.name}
    return AverageGradients().expected(net)[:3]
'''

#: how every stealing submission turns a notebook's text into the answer
STEAL = '''import json

def _steal(text):
    for cell in json.loads(text)["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "average_code":
            return "".join(cell["source"])
'''

#: every way to a solution on disk, tried in turn in one answer cell (any that worked would define the answer): relative
#: to the working folder, via the package's and sys.path's folders, another submission's path, walking the filesystem
READ_FILES = STEAL + '''
import os, sys, time
from pathlib import Path
import backprop

def relative():
    for up in range(8):
        try:
            return _steal(open("../" * up + "solutions/02_scalar_backprop.ipynb").read())
        except OSError:
            pass

def via_package():
    for place in [Path(backprop.__file__).resolve()] + [Path(p).resolve() for p in sys.path if p]:
        for f in (place, *place.parents):
            try:
                return _steal((f / "solutions" / "02_scalar_backprop.ipynb").read_text())
            except OSError:
                pass

def other():
    return _steal(open(OTHER).read())

def walking():
    started = time.monotonic()
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "opt") and not d.startswith(".")]
        if top.endswith("solutions") and "02_scalar_backprop.ipynb" in files:
            return _steal(open(os.path.join(top, "02_scalar_backprop.ipynb")).read())
        if time.monotonic() - started > 2:
            return None

for way in (relative, via_package, other, walking):
    try:
        stolen = way()
    except Exception:  # one way failing must not stop the next
        stolen = None
    if stolen:
        exec(stolen)
        break
'''

FROM_THE_NETWORK = '''import socket

def average_gradients(X, D, weights, biases, activations, divergence):
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as s:  # an accomplice's server
        source = s.makefile().read()
    scope = dict(globals())
    exec(source, scope)
    return scope["average_gradients"](X, D, weights, biases, activations, divergence)
'''

LIBRARY_NETWORK = '''
def average_gradients(X, D, weights, biases, activations, divergence):
    net = bp.ScalarNetwork(weights, biases, activations, divergence)
    loss, g = net.loss_and_gradients(X, D)
    N = len(weights) - 1
    return loss, [None] + [g[f"W({k})"].T for k in range(1, N + 1)], [None] + [g[f"b({k})"] for k in range(1, N + 1)]
'''

LIBRARY_BACKWARD = '''
def activation_step(dy_k, z_k, f):
    return f.backward(dy_k, z_k)
'''

CTYPES_GC = STEAL + '''import ctypes, gc, os

def average_gradients(X, D, weights, biases, activations, divergence):
    args = (X, D, weights, biases, activations, divergence)
    for obj in gc.get_objects():  # a grader's part, if one is within reach
        if type(obj).__name__ == "AverageGradients" and hasattr(obj, "expected"):
            net = {"X": X.tolist(), "D": D.tolist(), "weights": [w.tolist() for w in weights[1:]],
                   "biases": [b.tolist() for b in biases[1:]], "activations": [f.name for f in activations[1:]],
                   "divergence": divergence.name}
            return obj.expected(net)[:3]
    pids = {ctypes.CDLL(None).getppid(), *(int(p) for p in os.listdir("/proc") if p.isdigit())}
    for pid in pids:  # the grader's process: its working folder holds solutions/
        try:
            if b"backprop.grading" not in open(f"/proc/{pid}/cmdline", "rb").read():
                continue
            notebook = os.path.join(os.readlink(f"/proc/{pid}/cwd"), "solutions", "02_scalar_backprop.ipynb")
            scope = dict(globals())
            exec(_steal(open(notebook).read()), scope)
            return scope["average_gradients"](*args)
        except OSError:
            continue
    raise LookupError("nothing of the grader's in reach")
'''

#: a helper process that outlives its cell: it looks for the answer and leaves it where the function reads it
FORK_HELPER = '''import subprocess, sys
HELPER = """
import json, sys, time
from pathlib import Path
for place in [Path(p).resolve() for p in sys.path if p]:
    for folder in (place, *place.parents):
        notebook = folder / 'solutions' / '02_scalar_backprop.ipynb'
        if notebook.is_file():
            for cell in json.loads(notebook.read_text())['cells']:
                if cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') == 'average_code':
                    open('/tmp/answer-MARKER.py', 'w').write(''.join(cell['source']))
time.sleep(120)
"""
helper = subprocess.Popen([sys.executable, "-c", HELPER, "MARKER"], start_new_session=True)

def average_gradients(X, D, weights, biases, activations, divergence):
    scope = dict(globals())
    exec(open("/tmp/answer-MARKER.py").read(), scope)
    return scope["average_gradients"](X, D, weights, biases, activations, divergence)
'''


# -- misgrades: realistic bugs, and right answers written differently ------------------------------------------------


MUTATES_BIASES = '''def forward_pass(x, weights, biases, activations):
    N = len(weights) - 1
    z, y = [None], [np.asarray(x, dtype=float)]
    for k in range(1, N + 1):
        z_k = biases[k]  # not a copy: the loop below adds into the caller's biases
        for j in range(len(z_k)):
            for i in range(len(y[k - 1])):
                z_k[j] += weights[k][i][j] * y[k - 1][i]
        z.append(z_k)
        y.append(np.array([activations[k].forward(v) for v in z_k]))
    return z, y
'''

MUTATES_DY = '''def activation_step(dy_k, z_k, f):
    for i in range(len(z_k)):
        dy_k[i] *= f.derivative(z_k[i])  # into the caller's dy
    return dy_k
'''


def _duplicate_edited(nb):
    """JupyterLab copy-and-paste: the stub stays, the copy below it (same metadata) holds the answer."""
    stub = _cell(nbformat.read(EX02, 4), "activation_step_code").source
    cell = _cell(nb, "activation_step_code")
    copy = nbformat.from_dict(json.loads(json.dumps(cell)))
    copy["id"] = uuid.uuid4().hex[:8]  # a new cell id, the same nbgrader metadata
    cell.source = stub
    nb.cells.insert(nb.cells.index(cell) + 1, copy)


def _submissions(tmp: Path, port: int) -> dict[str, Path]:
    forged = {
        "forge_run_case_untouched": _edit(EX02, {"forward_code": FORGE_RUN_CASE + "\n" + _cell(nbformat.read(EX02, 4), "forward_code").source}),
        "forge_run_case": _edit(SOL02, {"average_code": FORGE_RUN_CASE + STUB_AVERAGE}),
        "forge_patch_everything": _edit(SOL02, {"average_code": PATCH_EVERYTHING}),
        "forge_import_reference": _edit(SOL02, {"average_code": IMPORT_REFERENCE}),
        "forge_read_files": _edit(SOL02, {"average_code": READ_FILES.replace("OTHER", repr(str(tmp / "solution02.ipynb")))}),
        "forge_network": _edit(SOL02, {"average_code": FROM_THE_NETWORK.replace("PORT", str(port))}),
        "forge_library_network": _edit(SOL02, {"average_code": LIBRARY_NETWORK}),
        "forge_library_backward": _edit(SOL02, {"activation_step_code": LIBRARY_BACKWARD}),
        "forge_ctypes_gc": _edit(SOL02, {"average_code": CTYPES_GC}),
        "forge_fork": _edit(SOL02, {"average_code": FORK_HELPER.replace("MARKER", MARKER)}),
    }
    misgraded = {
        "misgrade_mutates_biases": _edit(SOL02, {"forward_code": MUTATES_BIASES}),
        "misgrade_mutates_dy": _edit(SOL02, {"activation_step_code": MUTATES_DY}),
        "misgrade_duplicated_cell": _edit(SOL02, mutate=_duplicate_edited),
    }
    made = {
        "solution02": SOL02.read_text(),
        "solution01": SOL01.read_text(),
        "untouched02": EX02.read_text(),
        "untouched01": (ROOT / "exercises" / "01_calculus_refresher.ipynb").read_text(),
        "raises": _edit(SOL02, {"input_step_code": "def input_step(dz_k, w_k):\n    return 1 / 0"}),
        "syntax_error": _edit(SOL02, {"forward_code": "def forward_pass(x, weights, biases, activations)\n    return x"}),
        "endless_cell": _edit(SOL02, {"weight_step_code": "while True:\n    pass"}),
        "endless_function": _edit(SOL02, {"average_code": "def average_gradients(X, D, weights, biases, activations, "
                                                      "divergence):\n    while True:\n        pass"}),
        "prints_megabytes": _edit(SOL02, {"input_step_code": _cell(nbformat.read(SOL02, 4), "input_step_code").source
                                          + "\nprint('x' * 5_000_000)\nfor _ in range(2000):\n    print('y' * 1000)"}),
        "deleted_cell": _edit(SOL02, delete=("backward_code", "setup")),
        "renamed_function": _edit(SOL02, {"average_code": _cell(nbformat.read(SOL02, 4), "average_code").source
                                          .replace("def average_gradients(", "def average_gradient(")}),
        "monkeypatch": _edit(SOL02, {"forward_code": MONKEYPATCH}),
        "kernel_dies": _edit(SOL02, {"average_code": "import os\nos._exit(3)"}),
        "moved_answer": _edit(SOL02, mutate=lambda nb: _move_answer(nb, "input_step_code")),
        **forged,
        **misgraded,
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


def _accomplice() -> socket.socket:
    """A server on 127.0.0.1 that hands out the solution's average_gradients to whoever connects."""
    answer = _cell(nbformat.read(SOL02, 4), "average_code").source.encode()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return server


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("submissions")
    server = _accomplice()
    subs = _submissions(tmp, server.getsockname()[1])
    digests = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in subs.items()}
    feedback, table = tmp / "feedback", tmp / "grades.csv"
    cmd = [sys.executable, "-m", "backprop.grading", "grade", *map(str, subs.values()), "--json", "--jobs", "2",
           "--timeout", str(TIMEOUT), "--feedback", str(feedback), "--csv", str(table)]
    if not SANDBOXED:
        cmd.append("--no-sandbox")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    by_path = {line["submission"]: line for line in lines}
    results = {name: by_path[str(p)] for name, p in subs.items()}
    return {"proc": proc, "results": results, "subs": subs, "digests": digests, "feedback": feedback, "csv": table,
            "survivors": _processes_with(MARKER)}


def _parts(result) -> dict:
    return {p["id"]: p for p in result["parts"]}


def test_the_batch_ran_and_exited_0(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stderr
    assert len(graded["results"]) == len(graded["subs"])


def test_every_line_has_the_documented_keys(graded):
    for result in graded["results"].values():
        assert set(result) == {"submission", "assignment", "total", "max", "parts", "seed"}
        assert result["assignment"] in ("01_calculus_refresher", "02_scalar_backprop", None)
        for part in result["parts"]:
            assert set(part) == {"id", "points", "max", "feedback", "by_hand"}
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
    # ... and the parts that fail through input_step say where to look first (the points stay as they are)
    assert ("`backward_pass` calls `input_step`, which fails its own part (02_input_step): fix that first; this part "
            "may then pass.") in p["02_backward_pass"]["feedback"]
    assert ("`average_gradients` calls `input_step` (through `backward_pass`), which fails its own part "
            "(02_input_step)") in p["02_average_gradients"]["feedback"]
    assert "fails its own part" not in p["02_input_step"]["feedback"]
    assert "kink" not in p["02_backward_pass"]["feedback"]  # every case fails: the kink cases are not the reason
    assert p["02_forward"]["points"] == 2 and p["02_weight_step"]["points"] == 1 and p["02_activation_step"]["points"] == 1


def test_a_syntax_error_is_reported_on_its_part(graded):
    p = _parts(graded["results"]["syntax_error"])
    assert p["02_forward"]["points"] == 0
    fb = p["02_forward"]["feedback"]
    # the cell, the function it defines, the line within the cell and that line; not the kernel's temporary file
    assert ("your cell 'forward_code' (it defines `forward_pass`) raised SyntaxError at line 1 of the cell: expected "
            "':': `def forward_pass(x, weights, biases, activations)`; nothing in the cell ran") in fb
    assert ".py" not in fb
    # the function is missing because its cell failed, which is said, not asked
    assert ("`forward_pass` is not defined because its cell 'forward_code' raised SyntaxError (line 1 of the cell): "
            "fix that and it will be.") in fb
    assert "deleted" not in fb
    assert p["02_input_step"]["points"] == 1


def test_an_endless_cell_is_stopped_and_the_rest_graded(graded):
    p = _parts(graded["results"]["endless_cell"])
    assert p["02_weight_step"]["points"] == 0
    assert f"ran longer than {TIMEOUT} s" in p["02_weight_step"]["feedback"]
    assert p["02_forward"]["points"] == 2 and p["02_input_step"]["points"] == 1


def test_an_endless_function_is_stopped_per_test(graded):
    # average_gradients, which no other part calls: one time limit spent, not three (weight_step's parts)
    p = _parts(graded["results"]["endless_function"])
    assert p["02_average_gradients"]["points"] == 0
    assert "endless loop" in p["02_average_gradients"]["feedback"]
    assert graded["results"]["endless_function"]["total"] == 8


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
    row = next(r for r in rows if r["submission"].endswith("raises.ipynb"))
    assert float(row["total"]) == graded["results"]["raises"]["total"]
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


# -- forgeries ---------------------------------------------------------------------------------------------
def _only_average_lost(result) -> None:
    parts = _parts(result)
    assert parts["02_average_gradients"]["points"] == 0, parts["02_average_gradients"]
    others = {pid: p["points"] for pid, p in parts.items() if pid != "02_average_gradients"}
    assert others == {"02_forward": 2, "02_activation_step": 1, "02_weight_step": 1, "02_input_step": 1,
                      "02_backward_pass": 3}, others


def test_the_issues_run_case_forgery_scores_nothing(graded):
    assert graded["results"]["forge_run_case_untouched"]["total"] == 0  # it scored 9 of 10 before
    _only_average_lost(graded["results"]["forge_run_case"])
    assert "this part must not use backprop.grading.parts" in _parts(graded["results"]["forge_run_case"])["02_average_gradients"]["feedback"]


def test_patching_json_builtins_numpy_and_the_check_before_the_harness_scores_nothing(graded):
    _only_average_lost(graded["results"]["forge_patch_everything"])


def test_importing_the_graders_reference_scores_nothing_and_says_why(graded):
    result = graded["results"]["forge_import_reference"]
    _only_average_lost(result)
    assert "this part must not use backprop.grading.hw02" in _parts(result)["02_average_gradients"]["feedback"]


@needs_sandbox
@pytest.mark.parametrize("name", ["forge_read_files", "forge_network", "forge_ctypes_gc", "forge_fork"])
def test_answers_from_files_the_network_or_the_graders_process_are_out_of_reach(graded, name):
    _only_average_lost(graded["results"][name])


def test_the_librarys_own_answers_score_nothing_and_say_which_module(graded):
    result = graded["results"]["forge_library_network"]
    _only_average_lost(result)
    assert "this part must not use backprop.core.scalar_net" in _parts(result)["02_average_gradients"]["feedback"]
    parts = _parts(graded["results"]["forge_library_backward"])
    assert parts["02_activation_step"]["points"] == 0
    assert "this part must not use backprop.core.activations.backward" in parts["02_activation_step"]["feedback"]
    # backward_pass and average_gradients call the student's activation_step; the rest keep their marks
    assert {pid: p["points"] for pid, p in parts.items()} == {
        "02_forward": 2, "02_activation_step": 0, "02_weight_step": 1, "02_input_step": 1, "02_backward_pass": 0,
        "02_average_gradients": 0}


@needs_sandbox
def test_a_process_that_outlives_its_cell_is_stopped_and_none_outlives_the_batch(graded):
    assert graded["survivors"] == []
    text = (graded["feedback"] / "forge_fork.md").read_text()
    assert "your cell 'average_code' left 1 process(es) running after it ended; they were stopped" in text


# -- misgrades ----------------------------------------------------------------------------------------------


def test_an_argument_changed_in_place_costs_its_own_part_and_is_named(graded):
    parts = _parts(graded["results"]["misgrade_mutates_biases"])
    assert parts["02_forward"]["points"] == 0
    assert "`forward_pass` changed its argument `biases` in place" in parts["02_forward"]["feedback"]
    assert "changed its argument `biases` in place" in parts["02_average_gradients"]["feedback"]
    assert parts["02_backward_pass"]["points"] == 3
    parts = _parts(graded["results"]["misgrade_mutates_dy"])
    assert parts["02_activation_step"]["points"] <= 0.12  # only identity units (slope 1) leave dy as it was
    assert "`activation_step` changed its argument `dy_k` in place" in parts["02_activation_step"]["feedback"]
    assert "does activation_step write into its argument dy_k in place?" in parts["02_backward_pass"]["feedback"]
    assert parts["02_average_gradients"]["points"] == 2  # its gradients do not depend on the overwritten dy


def test_a_duplicated_answer_cell_is_graded_from_its_last_copy_and_says_so(graded):
    result = graded["results"]["misgrade_duplicated_cell"]
    assert result["total"] == 10
    text = (graded["feedback"] / "misgrade_duplicated_cell.md").read_text()
    assert "2 cells with the id 'activation_step_code'" in text and "the last of them was graded" in text


@pytest.mark.parametrize("part_id, right, wrong", [
    ("02_input_step", lambda dz, w: w @ dz, lambda dz, w: 1.5 * (w @ dz)),
    ("02_activation_step", lambda dy, z, f: f.derivative(z) * dy, lambda dy, z, f: dy),
])
def test_feedback_on_hidden_cases_never_shows_their_numbers(part_id, right, wrong):
    from backprop.grading import get_part, hidden_rng
    from backprop.grading.grade import _part_feedback
    from backprop.grading.harness import run_here
    from backprop.grading.parts import fmt, judge_case

    part = get_part(part_id)
    name = part.names[0]
    verdicts = []
    for case in part.cases(hidden_rng(part_id)):  # public cases right, hidden ones wrong
        answer = run_here(part.names, part.call, {name: wrong if case.hidden else right}, case.payload)
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
                if isinstance(value, float) and value != 0.0:  # z = 0 at a kink is no secret: the feedback names kinks
                    assert fmt(value) not in feedback


def _top_level_names(source: str, kind) -> set[str]:
    """Names a cell binds (kind Store) or reads (kind Load) outside its functions."""
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))
    out: set[str] = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if kind is ast.Store:
                out.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)) and kind is ast.Store:
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
        if isinstance(node, ast.Name) and isinstance(node.ctx, kind):
            out.add(node.id)
        todo += list(ast.iter_child_nodes(node))
    return out


@pytest.mark.parametrize("path", [SOL01, SOL02], ids=lambda p: p.name)
def test_the_given_cells_the_grader_skips_define_nothing_a_cell_it_runs_needs(path):
    from backprop.grading.grade import execution_plan, load_assignment, read_notebook

    assignment = load_assignment(path)
    skipped = [c for c in assignment.cells if c.skip]
    assert skipped and all(not c.grade and not c.solution for c in skipped)
    units, notes, _ = execution_plan(assignment, read_notebook(path)[1])
    assert not notes and {u.source for u in units}.isdisjoint({c.source for c in skipped})
    run_cells = [c for c in assignment.cells if c.kind == "code" and not c.skip and not (c.grade and not c.solution)]
    for cell in skipped:
        after = [c for c in run_cells if assignment.cells.index(c) > assignment.cells.index(cell)]
        needed = set().union(*[_top_level_names(c.source, ast.Load) for c in after]) if after else set()
        assert not _top_level_names(cell.source, ast.Store) & needed, cell.grade_id


def test_usage_errors_exit_2_before_any_kernel_starts(tmp_path, capsys, monkeypatch):
    # in this process: each is refused before a kernel or a grader's process would start (a KernelSession here
    # would fail the test); the command line's own exit status is test_without_bwrap_...'s subprocess
    from backprop.grading import runner
    from backprop.grading.__main__ import main

    monkeypatch.setattr(runner.KernelSession, "start", lambda self: pytest.fail("a kernel was started"))

    def run(*args):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
        return code, capsys.readouterr().err

    code, err = run("grade", str(tmp_path / "nope.ipynb"))
    assert code == 2 and "nope.ipynb" in err
    (tmp_path / "mine.csv").write_text("my own notes\n")
    code, err = run("grade", str(SOL02), "--csv", str(tmp_path / "mine.csv"))
    assert code == 2 and "did not write" in err
    assert (tmp_path / "mine.csv").read_text() == "my own notes\n"
    assert run("grade", str(SOL02), "--jobs", "0")[0] == 2
    assert run("grade", str(SOL02), "--assignment", "99_nothing")[0] == 2
    assert run("frobnicate")[0] == 2
    for bad in (["--repeat", "0"], ["--baseline", str(tmp_path)]):
        code, err = run("bench", *bad)
        assert code == 2 and bad[0] in err


def test_without_bwrap_grade_refuses_and_says_how_to_install_it_unless_told_not_to(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no bwrap on this PATH
    cmd = [sys.executable, "-m", "backprop.grading", "grade"]
    refused = subprocess.run(cmd + [str(SOL02)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "apt-get install bubblewrap" in refused.stderr and "--no-sandbox" in refused.stderr
    # the warning comes on every run: a solution graded unconfined, then a file no kernel is needed for
    (tmp_path / "02_scalar_backprop_truncated.ipynb").write_text(SOL02.read_text()[:500])
    for target, says in ((SOL02, "\t10 / 10"), (tmp_path / "02_scalar_backprop_truncated.ipynb", "\t0 / 10")):
        unconfined = subprocess.run(cmd + [str(target), "--no-sandbox"], capture_output=True, text=True, cwd=ROOT, env=env)
        assert unconfined.returncode == 0 and says in unconfined.stdout, unconfined.stderr
        assert unconfined.stderr.startswith("warning: --no-sandbox:") and "forge its marks" in unconfined.stderr


def test_a_file_that_is_no_notebook_is_refused_before_it_is_read(tmp_path):
    from backprop.grading.grade import NotebookError, read_notebook

    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(NotebookError, match="not a regular file"):
        read_notebook(fifo)
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": [], "metadata": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}")
    with pytest.raises(NotebookError, match="nested too deeply"):
        read_notebook(deep)


def test_the_call_graph_is_read_from_the_code_without_running_it():
    from backprop.grading.grade import call_graph

    graph = call_graph(["def a(x):\n    return b(x) + helper(x)\n", "def helper(b):\n    return b + c\n",
                        "def b(x):\n    return [a(v) for v in x]\n", "def b(x)\n", "%timeit a(1)\n", "os._exit(3)\n"],
                       known=("c",))
    # helper's parameter b is not the function b; b's cell that does not parse (nor the magic) replaces nothing;
    # c is a part's function whose cell did not parse: known, with no calls of its own
    assert graph == {"a": {"b", "helper"}, "helper": {"c"}, "b": {"a"}, "c": set()}


def test_a_syntax_error_names_the_cell_its_line_and_quotes_it():
    from backprop.grading.grade import Clock, Unit, _problem, _why_undefined, load_assignment
    from backprop.grading.runner import Execution

    assignment = load_assignment(SOL02)
    source = "def weight_step(dz_k, y_prev):\n    db = dz_k\n    for j in range(3)\n        pass\n"
    unit = Unit("your cell 'weight_step_code'", source, "weight_step_code")
    run = Execution(status="error", error=("SyntaxError", "expected ':' (3548727490.py, line 3)"))
    assert _problem(unit, run, Clock(10, 10), assignment) == (
        "your cell 'weight_step_code' (it defines `weight_step`) raised SyntaxError at line 3 of the cell: expected "
        "':': `for j in range(3)`; nothing in the cell ran")
    assert _why_undefined(unit, run, assignment) == {
        "weight_step": "its cell 'weight_step_code' raised SyntaxError (line 3 of the cell)"}
    raised = Execution(status="error", error=("ValueError", "bad"))
    assert _why_undefined(unit, raised, assignment) == {
        "weight_step": "its cell 'weight_step_code' raised ValueError before defining it"}
    assert _why_undefined(unit, Execution(), assignment) == {}
