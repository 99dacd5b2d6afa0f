"""Tests backprop.grading.hw06: homework 06's checks pass the right loop, catch the classic wrong loops and say
which, name the problem and the layer of a run, and grade end to end.

- the solution's functions pass the public and the hidden cases of every seed tried;
- crafted wrong training loops (no shuffle, averaging twice, never averaging, clipping per tensor, updating before
  the batch is accumulated, epoch losses averaged per batch) fail part 1 on every seed, each told its mistake;
- the diagnostics of parts 3 and 4, one test each;
- the grader end to end on the solution, the untouched exercise and crafted submissions.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop.grading import get_part, hidden_rng, hw06
from backprop.grading.parts import part_score
from strategies import case_verdicts, check_message, grade_cli, notebook_with_answer

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "06_training_loop.ipynb"
EXERCISE = ROOT / "exercises" / "06_training_loop.ipynb"
SEEDS = range(4)
POINTS = {"06_training_loop": 4, "06_digits_accuracy": 2, "06_init_scale": 1, "06_diagnose_run": 2}
#: the written answer ("say why"): nbgrader's manually graded answer, 1 point the instructor gives
WRITTEN = "06_init_why"


def _solution_source(grade_id):
    nb = nbformat.read(SOLUTION, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell.source.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION", "")


LOOP = _solution_source("train_loop_code")
#: the crafted wrong loops: (what the solution's text becomes, the words the feedback must use)
WRONG_LOOPS = {
    "no shuffle": ((("order = rng.permutation(T)", "order = np.arange(T)"),), "rng.permutation(T) once"),
    "averages twice": ((("s / b for name", "s / b / b for name"),), "divided by the batch size twice"),
    "never averages": ((("s / b for name", "s for name"),), "never averaged"),
    "clips per tensor": ((("norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))  # all gradients "
                           "together\n                if norm > clip:\n                    grads = {name: g * (clip / "
                           "norm) for name, g in grads.items()}",
                           "grads = {name: g * min(1.0, clip / np.linalg.norm(g)) for name, g in grads.items()}"),),
                         "clipped on its own"),
    "rescales every step": ((("if norm > clip:", "if norm > 0:"),), "also when the gradients' global norm was already"),
    "clips by value": ((("norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))  # all gradients "
                         "together\n                if norm > clip:\n                    grads = {name: g * (clip / "
                         "norm) for name, g in grads.items()}",
                         "grads = {name: np.clip(g, -clip, clip) for name, g in grads.items()}"),), "clipping by value"),
    "shuffles once": ((("for _ in range(epochs):\n        order = rng.permutation(T)",
                        "order = rng.permutation(T)\n    for _ in range(epochs):"),), "not once before the epochs"),
    "divides by batch_size": ((("s / b for name", "s / batch_size for name"),), "averaged with batch_size"),
    "ascent": ((("params[name] -= eta * g", "params[name] += eta * g"),), "moved up the gradient"),
    "updates per instance": ((("                for name, g in grads.items():\n                    sums[name] += g",
                               "                for name, g in grads.items():\n                    params[name] -= eta "
                               "* g / b"),), "inside the loop over the batch"),
    "epoch loss per batch": ((("epoch_loss += batch_loss\n", "epoch_loss += batch_loss / b * batch_size\n"),),
                             "epoch losses are not"),
}


def _loop(name):
    source = LOOP
    for old, new in WRONG_LOOPS[name][0]:
        assert old in source, (name, old)
        source = source.replace(old, new)
    scope = {"np": np, "math": math}
    exec(source, scope)
    return scope["train_loop"]


def _functions():
    scope = {"np": np, "math": math}
    for gid in ("train_loop_code", "init_code", "diagnose_code"):
        exec(_solution_source(gid), scope)
    return scope




@pytest.mark.parametrize("part_id", ["06_training_loop", "06_init_scale", "06_diagnose_run"])
def test_the_solution_passes_every_case_of_every_seed(part_id):
    fns = _functions()
    for seed in [None, *SEEDS]:
        verdicts = case_verdicts(part_id, {n: fns[n] for n in get_part(part_id).names}, seed)
        assert all(v.passed for _, v in verdicts), [v.details for _, v in verdicts if not v.passed]


def test_the_solution_reaches_the_accuracy_on_the_graders_splits():
    fns = _functions()
    verdicts = case_verdicts("06_digits_accuracy", {"train_loop": fns["train_loop"]}, 7)
    assert len(verdicts) == 2 and all(v.passed for _, v in verdicts)


@pytest.mark.parametrize("name", list(WRONG_LOOPS))
def test_every_wrong_loop_fails_the_self_check_and_every_seed_and_is_told_its_mistake(name):
    fn = _loop(name)
    message = check_message("06_training_loop", fn)
    assert WRONG_LOOPS[name][1] in message, message
    part = get_part("06_training_loop")
    for seed in SEEDS:
        verdicts = case_verdicts("06_training_loop", {"train_loop": fn}, seed)
        score = part_score(part, 4, case_verdicts("06_training_loop", {"train_loop": fn}) + verdicts)
        limit = 0.8 if name in ("clips per tensor", "rescales every step", "clips by value") else 0.0  # unclipped: right
        assert score <= limit + 1e-9, (name, seed, score)


def test_the_wrong_loops_are_named_the_lecture_way():
    message = check_message("06_training_loop", _loop("averages twice"))
    assert "after training, w(" in message and "expected" in message


@pytest.mark.parametrize("fns, fragment", [
    ((lambda n: math.sqrt(1.0 / n), lambda n, s: n * s * s / 2), "off by exactly a factor 2 per layer"),
    ((lambda n: 2.0 / n, lambda n, s: n * s * s / 2), "returned the variance std^2"),
    ((lambda n: math.sqrt(2.0 / n), lambda n, s: n * s * s), "off by exactly a factor 2 (yours is twice"),
    ((lambda n: math.sqrt(2.0 / n), lambda n, s: n * s / 2), "where the variance std^2 belongs"),
    ((lambda n: math.sqrt(1.0 / n), lambda n, s: n * s * s), "which half of a ReLU's inputs gives y = 0"),
    ((lambda n: 1.0 / math.sqrt(n), lambda n, s: n * s * s / 4), "0.5 times the expected"),
    ((lambda n: 0.1, lambda n, s: n * s * s / 2), "would multiply the variance of z by"),
])
def test_init_diagnostics(fns, fragment):
    message = check_message("06_init_scale", *fns)
    assert fragment in message, message


#: what part 3 asks the student to derive (the scale, the factor, the ReLU's halving), spaces removed
INIT_CLOSED_FORMS = ["sqrt(2/fan_in)", "2/fan_in", "(He)", "Var(z)/2", "fan_instd^2/2", "std^2/2", "sqrt(2/n)"]


@pytest.mark.parametrize("fns", [
    (lambda n: math.sqrt(1.0 / n), lambda n, s: n * s * s),
    (lambda n: math.sqrt(1.0 / n), lambda n, s: n * s * s / 2),
    (lambda n: 2.0 / n, lambda n, s: n * s * s / 2),
    (lambda n: math.sqrt(2.0 / n), lambda n, s: n * s * s),
    (lambda n: math.sqrt(2.0 / n), lambda n, s: n * s / 2),
    (lambda n: 0.1, lambda n, s: 1.0),
    (lambda n: -1.0, lambda n, s: float("nan")),
])
def test_no_init_hint_states_the_scale_or_the_factor(fns):
    message = check_message("06_init_scale", *fns)
    assert "Hint" in message, message
    flat = message.replace(" ", "")
    for form in INIT_CLOSED_FORMS:
        assert form not in flat, f"{form!r} handed over in:\n{message}"


def _diagnose(rule):
    def diagnose_run(history):
        return rule(history)
    return diagnose_run


@pytest.mark.parametrize("fn, fragment", [
    (_diagnose(lambda h: ("healthy", None)), "wrong problem"),
    (_diagnose(lambda h: (lambda p, k: (p, None if k is None else 1))(*_functions()["diagnose_run"](h))),
     "right problem, wrong layer"),
    (_diagnose(lambda h: ("exploding", 0) if not all(math.isfinite(x) for x in h["train_loss"]) or
               max(v[-1] for k, v in h["grad_norm"].items() if k[0] == "W") > 1e3 else _functions()["diagnose_run"](h)),
     "numbered from 1"),
    (_diagnose(lambda h: ("Vanishing!", 1)), "must be one of"),
    (_diagnose(lambda h: (lambda p, k: (p, 1 if p == "healthy" else k))(*_functions()["diagnose_run"](h))),
     "a healthy run names no layer"),
    (_diagnose(lambda h: "vanishing"), "should return a pair"),
    (_diagnose(lambda h: (lambda p, k: (p, None if k is None else f"W({k})"))(*_functions()["diagnose_run"](h))),
     "k should be the layer's number, an int (1 for W(1) and y(1)), or None for a healthy run; got 'W("),
])
def test_diagnose_diagnostics(fn, fragment):
    message = check_message("06_diagnose_run", fn)
    assert fragment in message, message


def test_dead_units_tested_before_vanishing_fails_the_self_check_and_every_seed():
    def dead_first(history):  # the rules in the wrong order
        dead = {int(n[2:-1]): v[-1] for n, v in history["dead_relu"].items()}
        problem, k = _functions()["diagnose_run"](history)
        if problem != "exploding" and dead and max(dead.values()) > 0.5:
            return "dead units", max(dead, key=dead.get)
        return problem, k
    assert "tested after exploding" in check_message("06_diagnose_run", dead_first)
    for seed in SEEDS:
        assert not all(v.passed for _, v in case_verdicts("06_diagnose_run", {"diagnose_run": dead_first}, seed))


def test_the_first_epoch_judged_instead_of_the_last_is_caught_on_hidden_cases():
    def first_epoch(history):
        h = {"grad_norm": {k: v[:1] for k, v in history["grad_norm"].items()},
             "dead_relu": {k: v[:1] for k, v in history["dead_relu"].items()}, "train_loss": history["train_loss"][:1]}
        return _functions()["diagnose_run"](h)
    verdicts = case_verdicts("06_diagnose_run", {"diagnose_run": first_epoch}, 0)
    assert sum(not v.passed for _, v in verdicts) >= 6


def _reading_biases(how):
    """The homework's rules, with the bias norms read as well as (or over) the weights': the confusions of the bank."""
    def diagnose_run(history):
        norms = {}
        for name, values in history["grad_norm"].items():
            if how == "overwrite":  # b(k) after W(k) in the dict: its norm replaces W(k)'s
                norms[int(name[2:-1])] = values[-1]
            elif how == "both":  # every norm counts, named by its layer
                norms[(name, int(name[2:-1]))] = values[-1]
            elif name.startswith({"biases": "b(", "weights": "W("}[how]):  # one kind alone
                norms[int(name[2:-1])] = values[-1]
        layer = (lambda key: key[1]) if how == "both" else (lambda key: key)
        dead = {int(n[2:-1]): v[-1] for n, v in history["dead_relu"].items()}
        if not all(math.isfinite(x) for x in history["train_loss"]) or max(norms.values()) > 1e3:
            return "exploding", layer(max(norms, key=norms.get))
        if min(norms.values()) < 1e-3 * max(norms.values()):
            return "vanishing", layer(min(norms, key=norms.get))
        if dead and max(dead.values()) > 0.5:
            return "dead units", max(dead, key=dead.get)
        return "healthy", None
    diagnose_run.__name__ = f"diagnose_run_{how}"
    return diagnose_run


@pytest.mark.parametrize("how", ["overwrite", "both", "biases"])
def test_a_diagnosis_that_reads_the_bias_norms_fails_the_self_check_and_every_seed(how):
    fn = _reading_biases(how)
    assert not all(v.passed for _, v in case_verdicts("06_diagnose_run", {"diagnose_run": fn}))
    passed = {seed: [v.passed for _, v in case_verdicts("06_diagnose_run", {"diagnose_run": fn}, seed)]
              for seed in range(12)}
    assert [seed for seed, ok in passed.items() if all(ok)] == []
    # each way of differing catches it somewhere: larger, smaller, shifted (n // 4 of the 12 hidden cases)
    assert max(sum(ok) for ok in passed.values()) <= 9


def test_the_right_diagnosis_ignores_the_bias_norms_of_every_mode():
    right = _reading_biases("weights")
    assert all(v.passed for seed in range(10) for _, v in case_verdicts("06_diagnose_run", {"diagnose_run": right}, seed))


def test_hidden_histories_hit_every_problem_and_many_layers():
    kinds, layers = set(), set()
    for seed in SEEDS:
        for case in get_part("06_diagnose_run").hidden_cases(hidden_rng("06_diagnose_run", seed)):
            problem, k = hw06.diagnose_reference(hw06._plain_history(case.payload))
            kinds.add(problem)
            layers.add(k)
    assert kinds == {"exploding", "vanishing", "dead units", "healthy"} and len(layers - {None}) >= 4


def test_hidden_loop_problems_clip_and_end_on_a_smaller_batch():
    for case in get_part("06_training_loop").hidden_cases(hidden_rng("06_training_loop", 0)):
        p = case.payload
        assert len(p["X"]) % p["batch_size"] != 0
    clips = [c.payload["clip"] for c in get_part("06_training_loop").hidden_cases(hidden_rng("06_training_loop", 0))]
    assert clips.count(None) == 2 and len(clips) == 12


def test_the_given_cell_is_the_function_the_grader_passes():
    nb = nbformat.read(SOLUTION, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "given_network"]
    assert cell.source == hw06.INSTANCE_GRADIENTS


def test_the_homework_may_not_use_the_modules_that_hold_its_answers():
    assert set(hw06.MAY_USE) == {"core.checks"} and hw06.PACKAGES == ("numpy",)
    for part in hw06.PARTS:
        assert part.may_use == hw06.MAY_USE


# -- the grader end to end ----------------------------------------------------------------------------------------


def _crafted_loop(name):
    source = LOOP
    for old, new in WRONG_LOOPS[name][0]:
        source = source.replace(old, new)
    return source


#: only what takes the grading kernel: the library's loop is not in it (each wrong loop is judged in-process above,
#: with the feedback it gets)
CRAFTED = {
    "library_train": ("train_loop_code", lambda: "from backprop.core.training import clip_by_global_norm\n\n"
                      + _crafted_loop("no shuffle")),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hw06")
    subs = {"solution": SOLUTION, "exercise": EXERCISE}
    subs |= {name: notebook_with_answer(SOLUTION, tmp, name, {gid: src()}) for name, (gid, src) in CRAFTED.items()}
    return {name: {p["id"]: p for p in report["parts"]} for name, report in grade_cli(subs).items()}


def _points(graded, name):
    return {pid: part["points"] for pid, part in graded[name].items()}


def test_the_solution_scores_full_marks_and_the_exercise_zero(graded):
    assert _points(graded, "solution") == POINTS | {WRITTEN: 0.0}
    assert set(_points(graded, "exercise").values()) == {0.0}
    assert all("not answered yet" in p["feedback"] for pid, p in graded["exercise"].items() if pid != WRITTEN)


def test_the_written_answer_is_left_to_the_instructor_and_counts_in_the_maximum(graded):
    """Out of 10 as nbgrader counts it: 9 points from the checks, 1 for the written answer, graded by hand."""
    solution, exercise = graded["solution"][WRITTEN], graded["exercise"][WRITTEN]
    assert solution["by_hand"] and solution["max"] == 1 and solution["points"] == 0
    assert "graded by hand" in solution["feedback"] and "is there" in solution["feedback"]
    assert "still empty" in exercise["feedback"]
    assert sum(POINTS.values()) + solution["max"] == 10


def test_the_librarys_loop_is_out_of_reach(graded):
    part = graded["library_train"]["06_training_loop"]
    assert part["points"] == 0 and "must not use" in part["feedback"], part["feedback"]
