"""Tests backprop.grading.kernel_side: the code that runs where the student's code lives returns plain data only.

The module is exercised as the kernel gets it: its text, stripped and compiled into a
fresh namespace (``harness.KERNEL_SIDE``), and also imported directly for its helpers.
"""

from __future__ import annotations

import builtins
import json
import math

import numpy as np
import pytest
import sympy as sp

from backprop.grading import harness, kernel_side
from backprop.grading.kernel_side import encode, plain

CALL = 'result = call("f", p["x"])\n'


def _kernel():
    """run_case as the kernel builds it: the stripped text in a namespace of its own."""
    scope = {"__builtins__": builtins, "__name__": "backprop_grader"}
    exec(compile(harness.KERNEL_SIDE, kernel_side.GRADER_FILE, "exec"), scope)
    return scope["run_case"]


def _run(namespace, call=CALL, payload=None, names=("f",)):
    return json.loads(_kernel()(namespace, names, call, payload if payload is not None else {"x": [1.0, 2.0]}))


def test_the_answer_and_the_arguments_after_the_call_come_back_as_json():
    def f(x):
        return np.array(x) * 2

    out = _run({"f": f})
    assert out == {"answer": [2.0, 4.0], "arguments": [[1.0, 2.0]]}


def test_an_argument_changed_in_place_comes_back_changed():
    def f(x):
        x[0] = 99.0
        return 0

    assert _run({"f": f})["arguments"] == [[99.0, 2.0]]


@pytest.mark.parametrize("namespace, key", [
    ({}, "missing"),
    ({"f": 3}, "not_callable"),
])
def test_a_missing_or_uncallable_function_is_reported(namespace, key):
    assert key in _run(namespace)


def test_not_implemented_names_the_function_that_raised_it():
    def inner(x):
        raise NotImplementedError()

    def f(x):
        return inner(x)

    assert _run({"f": f, "inner": inner}) == {"not_implemented": "inner"}
    assert _run({"f": inner}) == {"not_implemented": "f"}  # known by the name it is graded under


def test_an_error_says_where_in_the_students_code_and_which_module_was_missing():
    def f(x):
        return {}["no such key"]

    err = _run({"f": f})["error"]
    assert err["type"] == "KeyError" and "line" in err["where"] and "no such key" in err["where"]

    def g(x):
        import backprop.core.scalar_net_that_is_not_there  # noqa: F401

    err = _run({"f": g})["error"]
    assert err["type"] == "ModuleNotFoundError" and err["module"] == "backprop.core.scalar_net_that_is_not_there"


def test_system_exit_is_data_and_keyboard_interrupt_is_not_caught():
    def leaves(x):
        raise SystemExit(3)

    assert _run({"f": leaves})["error"]["type"] == "SystemExit"

    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run({"f": interrupted})


def test_a_wrong_kind_of_answer_from_the_parts_call_is_a_bad_answer():
    out = _run({"f": lambda x: 1}, call='result = call("f", 1)\nraise Wrong("f should return a pair")\n')
    assert out == {"bad_answer": "f should return a pair"}


def test_names_the_student_rebound_do_not_reach_the_kernel_side():
    # the student's namespace is only read for the graded functions: shadowing builtins or modules there changes nothing
    namespace = {name: None for name in ("len", "isinstance", "type", "str", "repr", "float", "dict", "list", "json",
                                         "np", "numpy", "callable", "print", "exec", "compile", "run_case", "plain")}
    namespace["f"] = lambda x: [v + 1 for v in x]
    assert _run(namespace) == {"answer": [2.0, 3.0], "arguments": [[1.0, 2.0]]}


def test_given_objects_come_back_as_their_label_and_a_replaced_one_does_not():
    call = 'obj = give(object(), "relu")\nresult = call("f", [obj])\n'
    assert _run({"f": lambda xs: 0}, call=call)["arguments"] == [[{"given": "relu"}]]
    assert _run({"f": lambda xs: xs.__setitem__(0, 1.5)}, call=call)["arguments"] == [[1.5]]


@pytest.mark.parametrize("value, expected", [
    (np.float64(2.5), 2.5),
    (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
    ((1.0, (2.0, None)), [1.0, [2.0, None]]),
    (sp.Rational(1, 4), 0.25),
    ({1: np.int64(3)}, {"1": 3}),
    (np.array(["a"]), {"__unsupported__": "numpy values of dtype <U1"}),
    (object(), {"__unsupported__": "an object of type object"}),
])
def test_plain_turns_numbers_and_arrays_into_json_data(value, expected):
    assert plain(value) == expected


def test_encode_writes_json_that_json_reads_back_including_nan_infinities_and_escapes():
    value = {"a": [1, 2.5, -0.0, float("inf"), float("-inf"), True, None], "é\"\\\n": "x\u2603\U0001F600"}
    text = encode(value)
    back = json.loads(text)
    assert back["a"][:3] == [1, 2.5, 0.0] and back["a"][3:5] == [math.inf, -math.inf] and back["a"][5:] == [True, None]
    assert back["é\"\\\n"] == "x\u2603\U0001F600"
    assert math.isnan(json.loads(encode(float("nan"))))
    assert text.isascii()


def test_a_huge_answer_is_refused_without_building_it():
    out = _run({"f": lambda x: np.zeros(2_000_000)})
    assert out["answer"] == {"__unsupported__": "an array of 2,000,000 numbers; far too large"}
    small = json.loads(_kernel()({"f": lambda x: list(range(100_000))}, ("f",), CALL, {"x": [1.0]}, 1000))
    assert "far too large" in small["bad_answer"]


def test_the_text_the_kernel_gets_has_no_docstrings_but_the_same_code():
    assert '"""' not in harness.KERNEL_SIDE and "GRADER_FILE" in harness.KERNEL_SIDE
    assert len(harness.KERNEL_SIDE) < len(harness.SOURCE)
    assert _kernel().__code__.co_varnames[:5] == kernel_side.run_case.__code__.co_varnames[:5]
