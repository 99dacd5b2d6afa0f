"""Tests backprop.grading.parts: judging an outcome never trusts what came back, and says what is wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop.grading import get_part
from backprop.grading.harness import run_here
from backprop.grading.parts import (AnswerError, Case, Part, Verdict, as_numbers, compare_numbers, first_difference,
                                    fmt, group_feedback, judge_case, part_score, calls, knock_on)

PART = get_part("02_input_step")  # dy_prev = w @ dz, on the two-ReLU example first
CASE = PART.cases()[0]


def _outcome(function, part=PART, case=CASE) -> str:
    return run_here(part.names, part.call, {part.names[0]: function}, case.payload)


def test_a_right_answer_comes_back_as_json_and_is_judged_right():
    text = _outcome(lambda dz, w: w @ dz)
    assert json.loads(text).keys() == {"answer", "arguments"}
    assert judge_case(PART, CASE, text).passed


@pytest.mark.parametrize("functions, says", [
    ({}, "`input_step` is not defined"),
    ({"input_step": 3}, "should be a function, but it is a int"),
    ({"input_step": lambda dz, w: (_ for _ in ()).throw(NotImplementedError())}, "not answered yet"),
    ({"input_step": lambda dz, w: 1 / 0}, "raised ZeroDivisionError: division by zero"),
])
def test_what_went_wrong_is_reported_as_data_and_explained(functions, says):
    verdict = judge_case(PART, CASE, run_here(PART.names, PART.call, functions, CASE.payload))
    assert not verdict.passed and verdict.diagnosis
    assert any(says in d for d in verdict.details), verdict.details


def test_not_implemented_is_blamed_on_the_function_that_raised_it():
    part = get_part("02_backward_pass")
    outcome = json.dumps({"not_implemented": "activation_step"})
    verdict = judge_case(part, part.cases()[0], outcome)
    assert "`activation_step`, which `backward_pass` calls, still raises NotImplementedError" in verdict.diagnosis
    own = judge_case(part, part.cases()[0], json.dumps({"not_implemented": "backward_pass"}))
    assert own.diagnosis == "not answered yet: `backward_pass` still raises NotImplementedError"


@pytest.mark.parametrize("module, says", [
    ("backprop.core.scalar_net", "this part must not use backprop.core.scalar_net"),
    ("backprop.grading.hw02", "this part must not use backprop.grading.hw02"),
    ("backprop.core.activations.backward", "this part must not use backprop.core.activations.backward"),
    ("scipy.linalg", "`scipy` is not available when grading"),
])
def test_a_module_the_homework_may_not_use_is_named(module, says):
    outcome = json.dumps({"error": {"type": "ModuleNotFoundError", "message": f"No module named '{module}'",
                                    "where": "your code, line 3", "module": module}})
    verdict = judge_case(PART, CASE, outcome)
    assert not verdict.passed and verdict.diagnosis.startswith(says)
    assert PART.allowed in verdict.diagnosis


def test_a_module_the_homework_may_use_is_an_ordinary_error():
    outcome = json.dumps({"error": {"type": "ImportError", "message": "cannot import name 'nope'",
                                    "module": "backprop.core.activations"}})
    assert judge_case(PART, CASE, outcome).diagnosis == "`input_step` raised ImportError"


def test_an_argument_changed_in_place_is_wrong_and_named_as_the_lecture_names_it():
    def in_place(dz, w):
        w[1][0] = 7.0
        return w @ dz

    verdict = judge_case(PART, CASE, _outcome(in_place))
    assert not verdict.passed
    assert verdict.details == ["w(2)_21 (w_k[1][0]) was changed by the call"]
    assert "`input_step` changed its argument `w_k` in place" in verdict.diagnosis


@pytest.mark.parametrize("text", [None, "not json", "[1, 2]", json.dumps({"nothing": 1}), "1" * 10])
def test_judging_refuses_what_it_cannot_read_without_crashing(text):
    verdict = judge_case(PART, CASE, text)
    assert not verdict.passed and verdict.diagnosis


def test_an_answer_of_the_wrong_kind_is_wrong_not_a_grader_fault():
    verdict = judge_case(PART, CASE, json.dumps({"answer": {"__unsupported__": "an object of type Foo"},
                                                 "arguments": PART.arguments(CASE.payload)}))
    assert not verdict.passed and "Foo" in verdict.diagnosis


def test_as_numbers_says_what_came_and_hints_at_a_transpose():
    assert as_numbers([[1, 2], [3, 4]], "dw", (2, 2)).dtype == np.float64
    with pytest.raises(AnswerError, match=r"should have shape \(2, 3\), got \(3, 2\) \(transposed\?\)"):
        as_numbers(np.zeros((3, 2)).tolist(), "dw", (2, 3))
    with pytest.raises(AnswerError, match="nested differently"):
        as_numbers([1, 2, 3, 4], "dw", (2, 2))
    with pytest.raises(AnswerError, match="should be numbers, got 'abc'"):
        as_numbers("abc", "dw")
    with pytest.raises(AnswerError, match=r"dW\[2\] is None: it was never given a value"):  # not "got shape ()"
        as_numbers(None, "dW[2]", (1, 3))


def _softmax32(z):
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(z - z.max())
    return e / e.sum()


def _forward32(x, weights, biases, activations):
    z, y = [None], [np.asarray(x, dtype=np.float32)]
    for k in range(1, len(weights)):
        z.append(weights[k].T.astype(np.float32) @ y[-1] + biases[k].astype(np.float32))
        y.append(activations[k].forward(z[-1]).astype(np.float32))
    return z, y


@pytest.mark.parametrize("part_id, function", [("03_softmax", _softmax32), ("02_forward", _forward32)])
def test_an_answer_computed_in_float32_is_told_so_not_given_the_formula(part_id, function):
    from strategies import check_message

    message = check_message(part_id, function)
    assert "computed in float32" in message and "Hint:" not in message, message


def test_a_wrong_float64_answer_close_to_the_reference_is_not_called_float32():
    from strategies import case_verdicts

    def softmax(z):  # float64, off by 1e-6 relative: a wrong rule, not single precision
        e = np.exp(np.asarray(z, dtype=float) - np.max(z))
        return e / e.sum() * (1 + 1e-6)

    verdicts = [v for _, v in case_verdicts("03_softmax", softmax)]
    assert any(not v.passed for v in verdicts)
    assert all("float32" not in v.diagnosis for v in verdicts)


def test_compare_numbers_names_each_wrong_entry_with_expected_and_got():
    lines = compare_numbers(np.array([1.0, 2.5, 3.0, 9.0, 9.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                            lambda idx: f"dz[{idx[0]}]", limit=2)
    assert lines == ["dz[1]: expected 2, got 2.5", "dz[3]: expected 4, got 9", "... and 1 more entries disagree"]


def test_fmt_prints_six_significant_digits_and_no_negative_zero():
    assert fmt(1 / 3) == "0.333333" and fmt(-0.0) == "0" and fmt(float("nan")) == "nan"
    assert fmt([1.0, -0.0]) == "[1., 0.]"


def test_first_difference_finds_the_path_to_the_first_changed_entry():
    assert first_difference([None, [[1.0, 2.0]]], [None, [[1.0, 2.0]]]) is None
    assert first_difference([None, [[1.0, 2.0]]], [None, [[1.0, 2.5]]]) == (1, 0, 1)
    assert first_difference([1.0, 2.0], [1.0, 2.0, 3.0]) == (2,)
    assert first_difference({"given": "relu"}, {"given": "tanh"}) == ()
    assert first_difference([True], [1.0]) == (0,)


class _Kinked(Part, id="99_kinked", names=("f",), title="a part with a kink group"):
    shares = {"kink": 0.25}
    group_notes = {"kink": "the cases at a kink"}


def _verdicts(plain_ok: int, plain_bad: int, kink_ok: int, kink_bad: int):
    cases = [(Case("p", {}), Verdict(True)) for _ in range(plain_ok)] + [(Case("p", {}), Verdict(False)) for _ in range(plain_bad)]
    cases += [(Case("k", {}, group="kink"), Verdict(True)) for _ in range(kink_ok)]
    cases += [(Case("k", {}, group="kink"), Verdict(False)) for _ in range(kink_bad)]
    return cases


def test_a_group_of_cases_weighs_its_stated_share_of_the_points():
    part = _Kinked()
    assert part_score(part, 1.0, _verdicts(12, 0, 0, 4)) == 0.75  # wrong at every kink: the kinks' share lost
    assert part_score(part, 1.0, _verdicts(12, 0, 2, 2)) == 0.88
    assert part_score(part, 3.0, _verdicts(6, 6, 4, 0)) == 1.88  # 3 * (0.75 * 0.5 + 0.25)
    assert part_score(part, 1.0, _verdicts(10, 0, 0, 0)) == 1.0  # no kink case: the others weigh everything
    assert part_score(part, 1.0, _verdicts(0, 0, 3, 1)) == 0.75
    assert part_score(get_part("02_weight_step"), 1.0, _verdicts(3, 1, 0, 0)) == 0.75  # no groups: a share per case


def test_the_feedback_states_what_a_group_weighs_and_what_was_lost():
    lines = group_feedback(_Kinked(), 1.0, _verdicts(12, 0, 0, 4))
    assert lines == ["The cases at a kink: 0 of 4 pass. They weigh 0.25 of this part's points, so 0.25 of 1 are lost."]
    assert group_feedback(_Kinked(), 1.0, _verdicts(12, 0, 4, 0)) == []


def test_a_group_is_not_blamed_when_the_other_cases_fail_too():
    # a sign flip fails every case, kinks included: a line about the kinks would point at the wrong cause
    assert group_feedback(_Kinked(), 3.0, _verdicts(0, 12, 0, 4)) == []
    assert group_feedback(_Kinked(), 3.0, _verdicts(11, 1, 0, 4)) == []
    assert group_feedback(_Kinked(), 1.0, _verdicts(0, 0, 0, 4))  # nothing but the group: it is the reason


class _Uses(Part, id="99_uses", names=("outer",), title="a part whose function calls another part's"):
    pass


class _Used(Part, id="99_used", names=("inner",), title="the part of the function it calls"):
    pass


class _Deepest(Part, id="99_deepest", names=("deepest",), title="the part of the function that one calls"):
    pass


def test_a_failing_part_names_a_function_it_calls_that_fails_its_own_part():
    graph = {"outer": {"helper"}, "helper": {"inner"}, "inner": set(), "deepest": set()}
    assert calls(graph, ["outer"]) == {"helper": ["outer", "helper"], "inner": ["outer", "helper", "inner"]}
    lines = knock_on(_Uses(), [_Uses(), _Used()], graph)
    assert lines == ["`outer` calls `inner` (through `helper`), which fails its own part (99_used): fix that first; "
                     "this part may then pass."]
    assert knock_on(_Uses(), [_Uses()], graph) == []  # the function it calls passes its part: the fault is its own
    assert knock_on(_Used(), [_Uses(), _Used()], graph) == []  # the caller failing says nothing about the callee


def test_only_the_deepest_failing_function_is_named_and_never_twice():
    graph = {"outer": {"inner"}, "inner": {"deepest"}, "deepest": set()}
    both = [_Uses(), _Used(), _Deepest()]
    assert knock_on(_Uses(), both, graph) == [
        "`outer` calls `deepest` (through `inner`), which fails its own part (99_deepest): fix that first; "
        "this part may then pass."]
    assert knock_on(_Uses(), both, graph, what="check")[0].endswith("fails its own check (99_deepest): fix that "
                                                                      "first; this check may then pass.")
    # the part's own feedback already names the function (it raised NotImplementedError): not said again
    told = [(Case("p", {}), Verdict.wrong("x", "not answered yet: `deepest`, which `outer` calls, still raises"))]
    assert knock_on(_Uses(), both, graph, told) == []


def test_a_function_undefined_because_its_cell_failed_says_so_instead_of_asking_if_it_was_deleted():
    part = get_part("02_backward_pass")
    case = part.public_cases()[0]
    why = {"weight_step": "its cell 'weight_step_code' raised SyntaxError (line 5 of the cell)"}
    missing = judge_case(part, case, json.dumps({"missing": "backward_pass"}), {"backward_pass": why["weight_step"]})
    assert missing.details == ["`backward_pass` is not defined because its cell 'weight_step_code' raised SyntaxError "
                               "(line 5 of the cell): fix that and it will be. This part needs `backward_pass`."]
    assert "deleted" not in missing.diagnosis
    assert "Was its cell deleted" in judge_case(part, case, json.dumps({"missing": "backward_pass"})).diagnosis
    error = json.dumps({"error": {"type": "NameError", "message": "name 'weight_step' is not defined",
                                  "where": "your code, line 8"}})
    named = judge_case(part, case, error, why)
    assert named.diagnosis == ("`backward_pass` raised NameError: `weight_step` is not defined because its cell "
                               "'weight_step_code' raised SyntaxError (line 5 of the cell)")
    assert named.details == [named.diagnosis + " (at your code, line 8)"]
    assert judge_case(part, case, error).diagnosis == "`backward_pass` raised NameError"


def test_cases_and_verdicts():
    hidden = PART.cases(np.random.default_rng(0))
    assert [c.hidden for c in hidden] == [False] * len(PART.public_cases()) + [True] * PART.hidden_count
    assert Verdict.ok().passed and not Verdict.wrong("x", "y").passed
    assert Case("a", {}).hidden is False and Case("a", {}).group == ""
