"""The grader under attack: one crafted notebook per class of attack that once got through, graded in one batch.

Each attack is a complete solution of homework 02 (or 04) with cells added, or one answer replaced, by attack code,
graded by the real ``grade`` command in the sandbox beside an honest copy, with a short time limit per cell and a
short deadline per submission (so the batch stays cheap). An attack that still worked would either cost the
honest copy its marks, stop or stall the batch, earn a part without the work, or raise an error whose message
starts with ATTACK SUCCEEDED (the attack code checks, inside the kernel, whether it got what it wanted); so every
test below also checks that no such message reached any feedback.

The classes: results read through links and pipes; a notebook that stops the batch (metadata nested 100,000
deep); the shared disk filled; memory, processes and CPU over many processes; a flood of huge iopub messages;
many cells just under the time limit, and a kernel that dies on every call; the base interpreter's packages;
nested user namespaces; a hidden case read from what a student's function receives; answers tabulated at home
for the seed every student has (DEFAULT_SEED); student text that turns into Markdown in the feedback; and a cell
that swallows the interrupt (the cells before it must run again after the forced restart).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOL02 = ROOT / "solutions" / "02_scalar_backprop.ipynb"
SOL04 = ROOT / "solutions" / "04_subgradients.ipynb"
TIMEOUT, DEADLINE = 10, 40
REQUIRED = os.environ.get("BACKPROP_REQUIRE_SANDBOX") == "1"
pytestmark = pytest.mark.skipif(not shutil.which("bwrap") and not REQUIRED,
                                reason="bubblewrap (bwrap) is not installed: .ci/install-bubblewrap, or apt-get "
                                       "install bubblewrap")
#: a host file an attack would like the grader to read for it
PLANTED = "planted-host-answer-7f3a"

#: the shared folder is where the kernel's connection file is (its command line says): try every trick there
LINKS_AND_PIPES = '''import os, sys
folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
made = []
for where in (folder, os.path.join(folder, "ipc"), os.path.join(folder, "cases")):
    for n in range(1, 200):
        for make in (lambda p: os.mkfifo(p), lambda p: os.symlink(HOST, p)):
            try:
                make(os.path.join(where, f"case-{n}.json"))
                made.append(where)
            except OSError:
                pass
    try:
        os.rename(os.path.join(where, "kernel-1"), os.path.join(where, "moved"))
        made.append("rename " + where)
    except OSError:
        pass
if made:
    raise RuntimeError(f"ATTACK SUCCEEDED: made {len(made)} links or pipes in {sorted(set(made))}")
'''

FILL_THE_DISK = '''import os, sys
folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
made = []
for where in {folder, os.path.join(folder, "ipc"), "/tmp", "/var/tmp", "/dev/shm", "/", os.getcwd()}:
    for n in range(40):
        path = os.path.join(where, f"fill-{n}")
        try:
            with open(path, "wb") as f:
                made.append(path)
                for _ in range(16):
                    f.write(b"x" * (4 << 20))
        except OSError:
            break
held = sum(os.path.getsize(p) for p in made if os.path.exists(p))
if held > 300 << 20:
    raise RuntimeError(f"ATTACK SUCCEEDED: {held >> 20} MB on disk")
for path in made:
    os.remove(path)
'''

MEMORY_OVER_PROCESSES = '''import subprocess, sys
hogs = [subprocess.Popen([sys.executable, "-c", "import time; x = b'1' * (1000 << 20); time.sleep(0.5)"])
        for _ in range(3)]
codes = [h.wait() for h in hogs]
if all(c == 0 for c in codes):
    raise RuntimeError("ATTACK SUCCEEDED: 3 processes of 1 GB each")
'''

#: 40 busy processes in their own sessions, in each of two cells (each stopped when its cell ends: two cells show
#: that the second's are stopped too, and a honest submission graded beside them keeps its marks)
BUSY = '''import subprocess, sys, time
for _ in range(40):
    subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
time.sleep(1.5)
'''

#: 8 messages each over the grader's 16 MB limit (was 8 x 200 MB: 8 CPU-s of making strings; that such a message
#: never reaches the grader is test_runner.py::test_a_message_over_the_limit_never_reaches_the_grader)
IOPUB_FLOOD = '''from IPython.display import publish_display_data
for _ in range(8):
    publish_display_data({"text/plain": "x" * (20 << 20)})
'''

BASE_PACKAGES = '''import glob, sys
sys.path += glob.glob("/opt/python/lib/python3*/site-packages") + glob.glob("/usr/lib/python3/dist-packages") \\
    + glob.glob("/usr/local/lib/python3*/dist-packages") + glob.glob("/usr/lib/python3*/site-packages")
got = []
for name in ("scipy", "sympy", "networkx", "yaml", "matplotlib", "pip"):
    try:
        __import__(name)
        got.append(name)
    except ImportError:
        pass
if got:
    raise RuntimeError(f"ATTACK SUCCEEDED: imported {got}")
'''

NESTED_NAMESPACE = '''import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) == 0:
    raise RuntimeError("ATTACK SUCCEEDED: a nested user namespace")
if subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True).returncode == 0:
    raise RuntimeError("ATTACK SUCCEEDED: unshare --user")
'''

SWALLOWS_INTERRUPT = '''import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
'''

MARKDOWN = '''def input_step(dz_k, w_k):
    raise ValueError("no\\n# Score 10/10\\n**Score: 10 / 10**\\n[see here](http://example.com) <b>bold</b>")
'''

DIES_ON_EVERY_CALL = '''import os

def weight_step(dz_k, y_prev):
    os._exit(1)
'''

KINK_FROM_WHAT_IT_RECEIVES = '''import sys

def kink_aware_check(f, df, z, kinks, h):
    # one line: the planted bug, wherever it can be reached (df's closure, the caller's frames)
    seen = [c.cell_contents for c in (df.__closure__ or ())]
    frame = sys._getframe(1)
    while frame is not None:
        seen += list(frame.f_locals.values())
        frame = frame.f_back
    bug = next((x["bug"] for x in seen if isinstance(x, dict) and x.get("bug")), None)
    return ["kink" if any(abs(v - k) <= h for k in kinks) else
            ("FAIL" if bug is not None and bug[0] < v < bug[1] else "ok") for v in z]
'''


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _crafted(base: Path, replace: dict | None = None, added=(), after: str | None = None) -> str:
    """The solution with answer cells replaced and cells added (after the cell ``after``, or after the first)."""
    nb = nbformat.read(base, as_version=4)
    for grade_id, source in (replace or {}).items():
        _cell(nb, grade_id).source = source
    at = nb.cells.index(_cell(nb, after)) + 1 if after else 1
    for n, source in enumerate(added):
        nb.cells.insert(at + n, nbformat.v4.new_code_cell(source))
    return nbformat.writes(nb)


def _lookup_table() -> str:
    """input_step as a table of the answers at DEFAULT_SEED, made at home with the library every student installs."""
    from backprop.grading import DEFAULT_SEED, get_part, hidden_rng

    part = get_part("02_input_step")
    table = {}
    for case in part.cases(hidden_rng(part.id, DEFAULT_SEED)):
        key = repr(np.round(np.array(case.payload["dz"], dtype=float), 9).tolist())
        table[key] = np.asarray(part.expected(case.payload), dtype=float).tolist()
    return (f"TABLE = {table!r}\n\n"
            "def input_step(dz_k, w_k):\n"
            "    return np.array(TABLE.get(repr(np.round(np.asarray(dz_k, dtype=float), 9).tolist()), [0.0] * len(w_k)))\n")


def _deeply_nested() -> str:
    text = SOL02.read_text()
    return text.replace('"metadata": {', '"metadata": {"deep": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + ", ", 1)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    host = tmp / "host.json"
    host.write_text(json.dumps({"bad_answer": PLANTED, "error": {"type": PLANTED}}))
    made = {
        "honest": SOL02.read_text(),
        "cpu_hog": _crafted(SOL02, added=[BUSY] * 2),
        "honest_beside_the_hog": SOL02.read_text(),
        "links_and_pipes": _crafted(SOL02, added=[LINKS_AND_PIPES.replace("HOST", repr(str(host)))]),
        "deeply_nested": _deeply_nested(),
        "fill_the_disk": _crafted(SOL02, added=[FILL_THE_DISK]),
        "memory_over_processes": _crafted(SOL02, added=[MEMORY_OVER_PROCESSES]),
        "iopub_flood": _crafted(SOL02, added=[IOPUB_FLOOD]),
        "cells_under_the_limit": _crafted(SOL02, added=[f"import time\ntime.sleep({TIMEOUT - 0.2})"] * 40),
        "dies_on_every_call": _crafted(SOL02, replace={"weight_step_code": DIES_ON_EVERY_CALL}),
        "base_packages": _crafted(SOL02, added=[BASE_PACKAGES]),
        "nested_namespace": _crafted(SOL02, added=[NESTED_NAMESPACE]),
        "lookup_table": _crafted(SOL02, replace={"input_step_code": _lookup_table()}),
        "markdown": _crafted(SOL02, replace={"input_step_code": MARKDOWN}),
        "swallows_interrupt": _crafted(SOL02, added=[SWALLOWS_INTERRUPT], after="forward_code"),
        "kink_from_what_it_receives": _crafted(SOL04, replace={"kink_aware_check_code": KINK_FROM_WHAT_IT_RECEIVES}),
    }
    subs = {}
    for name, text in made.items():  # a file that cannot be read is recognised by the start of its name
        subs[name] = tmp / f"{'02_' if name == 'deeply_nested' else ''}{name}.ipynb"
        subs[name].write_text(text)
    feedback, table = tmp / "feedback", tmp / "grades.csv"
    cmd = [sys.executable, "-m", "backprop.grading", "grade", *map(str, subs.values()), "--json", "--jobs", "2",
           "--timeout", str(TIMEOUT), "--deadline", str(DEADLINE), "--feedback", str(feedback), "--csv", str(table)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_path = {line["submission"]: line for line in map(json.loads, proc.stdout.splitlines())}
    results = {name: by_path[str(path)] for name, path in subs.items()}
    texts = {name: (feedback / f"{path.stem}.md").read_text() for name, path in subs.items()}
    return {"results": results, "feedback": texts, "proc": proc, "csv": table}


def _parts(result) -> dict:
    return {p["id"]: p["points"] for p in result["parts"]}


def test_the_batch_finishes_and_no_attack_reports_success(attacked):
    assert len(attacked["results"]) == 16
    for name, text in attacked["feedback"].items():
        assert "ATTACK SUCCEEDED" not in text, (name, text[-1500:])
        assert PLANTED not in text, name


@pytest.mark.parametrize("name", ["honest", "honest_beside_the_hog", "links_and_pipes", "fill_the_disk",
                                  "memory_over_processes", "iopub_flood", "base_packages", "nested_namespace",
                                  "swallows_interrupt"])
def test_an_attack_in_added_cells_costs_nobody_anything_and_buys_nothing(attacked, name):
    # the honest copies, and each attack whose added cells leave the answers alone: full marks, no more
    assert attacked["results"][name]["total"] == 10, attacked["feedback"][name]


@pytest.mark.parametrize("name", ["links_and_pipes", "fill_the_disk", "memory_over_processes", "base_packages",
                                  "nested_namespace"])
def test_each_attack_ran_to_its_own_verdict(attacked, name):
    # within the time limit: so its check inside the kernel ran, and found that it failed
    assert "ran longer than" not in attacked["feedback"][name] and "kernel died" not in attacked["feedback"][name]


def test_a_notebook_nested_too_deeply_is_its_own_fault(attacked):
    result = attacked["results"]["deeply_nested"]
    assert result["total"] == 0 and result["max"] == 10
    assert "nested too deeply" in attacked["feedback"]["deeply_nested"]


def test_busy_processes_are_stopped_after_their_cell(attacked):
    assert attacked["feedback"]["cpu_hog"].count("left 40 process(es) running") == 2  # each cell's, stopped


def test_many_slow_cells_and_a_dying_kernel_stop_at_the_deadline(attacked):
    slow = attacked["feedback"]["cells_under_the_limit"]
    assert f"deadline ({DEADLINE} s for the whole notebook)" in slow
    dies = attacked["results"]["dies_on_every_call"]
    assert _parts(dies)["02_weight_step"] == 0 and _parts(dies)["02_forward"] == 2
    for name in ("cells_under_the_limit", "dies_on_every_call"):
        seconds = re.search(rf"{name}\.ipynb: [\d.]+ / 10 \(([\d.]+) s\)", attacked["proc"].stderr).group(1)
        assert float(seconds) < DEADLINE + 15, (name, seconds)  # the deadline, plus stopping a kernel


def test_a_cell_that_swallows_the_interrupt_is_restarted_and_the_cells_before_it_run_again(attacked):
    text = attacked["feedback"]["swallows_interrupt"]
    assert f"ran longer than {TIMEOUT} s and was stopped" in text and "not defined" not in text


def test_a_hidden_case_cannot_be_read_from_what_the_function_receives(attacked):
    parts = _parts(attacked["results"]["kink_from_what_it_receives"])
    # it earned the whole part before; now only what "ok" everywhere earns (a right tanh derivative)
    assert parts["04_kink_aware_check"] <= 0.2 * 2 and parts["04_relu_backward"] == 1


def test_answers_tabulated_at_home_earn_nothing(attacked):
    from backprop.grading import DEFAULT_SEED

    result = attacked["results"]["lookup_table"]
    assert result["seed"] != DEFAULT_SEED  # a fresh seed, written in the output
    assert _parts(result)["02_input_step"] == 0  # the public cases it gets right weigh nothing
    said = next(p["feedback"] for p in result["parts"] if p["id"] == "02_input_step")
    assert re.search(r"(\d+) of \1 public tests and 0 of \d+ hidden tests", said), said
    seeds = {r["seed"] for r in attacked["results"].values()}
    assert len(seeds) == 1 and str(seeds.pop()) in attacked["csv"].read_text()


def test_student_text_in_the_feedback_stays_text(attacked):
    text = attacked["feedback"]["markdown"]
    outside, fence = [], None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line.rstrip("text")
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            outside.append(line)
    total = attacked["results"]["markdown"]["total"]
    assert [line for line in outside if "Score" in line] == [f"**Score: {total:g} / 10**"] and total < 10
    assert not [line for line in outside if "example.com" in line or "<b>" in line]
    assert "# Score 10/10" in text  # quoted, inside a text block
