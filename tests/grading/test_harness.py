"""Tests backprop.grading.harness: the program of a case, sent fresh, runs the same in a kernel and in-process.

A kernel here is a plain one (no sandbox): what is tested is that nothing the
student's cells did to names or modules reaches the harness.
"""

from __future__ import annotations

import json
import os

import pytest

from backprop.grading import get_part
from backprop.grading.harness import KERNEL_SIDE, case_cell, case_program, check_literal, run_here
from backprop.grading.runner import RESULT_MIME
from backprop.grading.runner import KernelSession

PART = get_part("02_input_step")
CASE = PART.public_cases()[1]  # 3 units feeding 2
ANSWER = "def input_step(dz_k, w_k):\n    return w_k @ dz_k\n"

#: what a student might do before the harness runs, aimed at the harness and nothing else (so the kernel and the
#: student's own code keep working): wrap json, builtins, numpy and the grader's modules and helpers
SABOTAGE = '''
import builtins, json, numpy
import backprop.grading.parts as P
import backprop.grading.harness as H
_dumps, _loads, _exec, _compile, _open = json.dumps, json.loads, builtins.exec, builtins.compile, builtins.open
FORGED = {"answer": [0.0, 0.0, 0.0]}
_b = builtins  # the wrappers below must survive the rebinding of len, str... at the end of this cell
json.dumps = lambda obj, *a, **k: _dumps(FORGED if _b.isinstance(obj, _b.dict) and "answer" in obj else obj, *a, **k)
json.loads = lambda text, *a, **k: FORGED if "answer" in _b.str(text) else _loads(text, *a, **k)
builtins.compile = lambda src, *a, **k: _compile("result = [0.0, 0.0, 0.0]" if _b.str(src).startswith("import numpy")
                                                 and "input_step" in _b.str(src) else src, *a, **k)
numpy.allclose = lambda *a, **k: True
P.judge_case = lambda *a, **k: P.Verdict(True)
H.case_program = lambda *a, **k: "def run(namespace):\\n    return '{}'"
len = isinstance = float = str = dict = list = type = None
np = None
run_case = plain = encode = lambda *a, **k: '{"answer": [0, 0, 0]}'
'''


def _in_kernel(session: KernelSession, part, payload) -> str | None:
    program = session.case_path(case_program(part.names, part.call, payload))
    return session.execute(case_cell(program, RESULT_MIME), silent=True).result


@pytest.fixture(scope="module")
def session():
    with KernelSession(timeout=20.0) as s:
        assert s.execute("import numpy as np\n" + ANSWER).status == "ok"
        yield s


def test_the_kernel_and_this_process_run_the_same_program(session):
    here = run_here(PART.names, PART.call, {"input_step": lambda dz_k, w_k: w_k @ dz_k}, CASE.payload)
    assert json.loads(_in_kernel(session, PART, CASE.payload)) == json.loads(here)
    assert json.loads(here)["answer"] == [-1.5, 1.0, 1.0]


def test_patching_json_numpy_or_the_grader_before_the_harness_changes_nothing_and_a_patched_builtin_only_wrongs():
    # one kernel: sabotaged in everything but compile (the answer stays right), then compile patched too
    from backprop.grading.parts import judge_case

    with KernelSession(timeout=20.0) as session:
        assert session.execute("import numpy as np\n" + ANSWER).status == "ok"
        assert session.execute(SABOTAGE.replace("builtins.compile =", "_skip =")).status == "ok"
        outcome = json.loads(_in_kernel(session, PART, CASE.payload))
        assert outcome["answer"] == [-1.5, 1.0, 1.0] and outcome["arguments"][0] == CASE.payload["dz"]
        # the patches are in place: they still act on the student's own code
        assert session.execute("assert json is None and _dumps({'answer': 1}) != __import__('json').dumps({'answer': 1})").status == "ok"
        # the harness runs on the interpreter's builtins: a student can replace its call of input_step, but not
        # with anything the grader would take for a right answer (the reference never enters the kernel)
        assert session.execute("import builtins\nbuiltins.compile = _skip").status == "ok"  # the compile patch, now on
        outcome = _in_kernel(session, PART, CASE.payload)
        assert json.loads(outcome)["answer"] == [0.0, 0.0, 0.0]
        assert not judge_case(PART, CASE, outcome).passed


def test_the_cell_leaves_no_name_behind_and_says_nothing(session):
    program = session.case_path(case_program(PART.names, PART.call, CASE.payload))
    run = session.execute(case_cell(program, RESULT_MIME), silent=True)
    assert run.status == "ok" and run.output_chars == 0 and run.result is not None
    assert session.execute("assert not [n for n in dir() if n.startswith('__backprop_case')]").status == "ok"


def test_the_program_is_written_where_the_kernel_cannot_change_it(session):
    program = session.case_path(case_program(PART.names, PART.call, CASE.payload))
    assert os.stat(program).st_mode & 0o777 == 0o444
    with open(program, encoding="utf-8") as f:
        assert f.read().startswith(KERNEL_SIDE)


@pytest.mark.parametrize("payload, says", [
    ({"x": float("inf")}, "has no literal"),
    ({"x": float("nan")}, "has no literal"),
    ({"x": (1, 2)}, "holds a tuple"),
    ({1: 2}, "not a string"),
])
def test_a_case_whose_inputs_are_not_a_literal_is_refused(payload, says):
    with pytest.raises(ValueError, match=says):
        check_literal(payload)
    with pytest.raises(ValueError, match=says):
        case_program(("f",), "result = 1", payload)
