"""Tests backprop.grading.parts: running a case returns plain JSON, judging it never trusts what came back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop.grading import get_part
from backprop.grading.parts import AnswerError, Case, Verdict, as_numbers, compare_numbers, fmt, judge_case, run_case

PART = get_part("02_input_step")  # dy_prev = w @ dz, on the two-ReLU example first
CASE = PART.cases()[0]


def _outcome(function) -> dict:
    return json.loads(run_case(PART, {"input_step": function}, CASE.payload))


def test_a_right_answer_comes_back_as_json_and_is_judged_right():
    text = run_case(PART, {"input_step": lambda dz, w: w @ dz}, CASE.payload)
    assert isinstance(text, str) and json.loads(text).keys() == {"answer"}
    assert judge_case(PART, CASE, text).passed


@pytest.mark.parametrize("functions, kind", [
    ({}, "missing"),
    ({"input_step": 3}, "not_callable"),
    ({"input_step": lambda dz, w: (_ for _ in ()).throw(NotImplementedError())}, "not_implemented"),
    ({"input_step": lambda dz, w: 1 / 0}, "error"),
])
def test_what_went_wrong_is_reported_as_data(functions, kind):
    outcome = json.loads(run_case(PART, functions, CASE.payload))
    assert kind in outcome
    verdict = judge_case(PART, CASE, json.dumps(outcome))
    assert not verdict.passed and verdict.details and verdict.diagnosis


def test_an_exception_names_where_in_the_students_code():
    outcome = _outcome(lambda dz, w: {}["no such key"])
    assert outcome["error"]["type"] == "KeyError" and "line" in outcome["error"]["where"]


@pytest.mark.parametrize("text", [None, "not json", "[1, 2]", json.dumps({"nothing": 1}), "1" * 10])
def test_judging_refuses_what_it_cannot_read_without_crashing(text):
    verdict = judge_case(PART, CASE, text)
    assert not verdict.passed and verdict.diagnosis


def test_a_huge_answer_is_not_judged():
    outcome = _outcome(lambda dz, w: np.zeros(400_000))
    assert "bad_answer" in outcome and "far too large" in outcome["bad_answer"]


def test_an_answer_of_the_wrong_kind_is_wrong_not_a_grader_fault():
    verdict = judge_case(PART, CASE, json.dumps({"answer": {"__unsupported__": "an object of type Foo"}}))
    assert not verdict.passed and "Foo" in verdict.diagnosis


def test_as_numbers_says_what_came_and_hints_at_a_transpose():
    assert as_numbers([[1, 2], [3, 4]], "dw", (2, 2)).dtype == np.float64
    with pytest.raises(AnswerError, match=r"should have shape \(2, 3\), got \(3, 2\) \(transposed\?\)"):
        as_numbers(np.zeros((3, 2)).tolist(), "dw", (2, 3))
    with pytest.raises(AnswerError, match="nested differently"):
        as_numbers([1, 2, 3, 4], "dw", (2, 2))
    with pytest.raises(AnswerError, match="should be numbers, got 'abc'"):
        as_numbers("abc", "dw")


def test_compare_numbers_names_each_wrong_entry_with_expected_and_got():
    lines = compare_numbers(np.array([1.0, 2.5, 3.0, 9.0, 9.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                            lambda idx: f"dz[{idx[0]}]", limit=2)
    assert lines == ["dz[1]: expected 2, got 2.5", "dz[3]: expected 4, got 9", "... and 1 more entries disagree"]


def test_fmt_prints_six_significant_digits_and_no_negative_zero():
    assert fmt(1 / 3) == "0.333333" and fmt(-0.0) == "0" and fmt(float("nan")) == "nan"
    assert fmt([1.0, -0.0]) == "[1., 0.]"


def test_cases_and_verdicts():
    hidden = PART.cases(np.random.default_rng(0))
    assert [c.hidden for c in hidden] == [False] * len(PART.public_cases()) + [True] * PART.hidden_count
    assert Verdict.ok().passed and not Verdict.wrong("x", "y").passed
    assert Case("a", {}).hidden is False
