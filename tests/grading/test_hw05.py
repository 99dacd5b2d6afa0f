"""Tests backprop.grading.hw05: homework 05's checks name the wrong shape or entry, and its hidden cases catch
answers right only for square matrices, only for B = 1, or that average twice.

- each diagnosis of a typical mistake, one test each (which quantity, which entry, in the lecture's names
  and the array index);
- a bank of crafted wrong answers, each failing the public cases and losing most of its part on the hidden
  cases of every seed tried;
- the hidden cases of every seed hold a batch of one, a layer of width 1 and non-square weight matrices;
- the grader end to end, in its sandbox: the solution scores full marks, the untouched exercise 0, and
  crafted submissions lose exactly the parts they get wrong.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop.grading import get_part, hidden_rng
from backprop.grading.harness import run_here
from backprop.grading.hw05 import (OUTPUTS, PARTS, WORKED, _with_pass, batch_case, buggy_two_layer, entry_name,
                                   reference_backward)
from backprop.grading.parts import Case, judge_case, part_score
from strategies import case_verdicts, grade_cli, notebook_with_answer

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "05_vector_formulation.ipynb"
EXERCISE = ROOT / "exercises" / "05_vector_formulation.ipynb"
SEEDS = range(4)


def _given_namespace() -> dict:
    """The homework's given helpers (its 'helpers' cell), as the student's kernel has them."""
    nb = nbformat.read(SOLUTION, 4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "helpers"]
    ns = {"np": np}
    exec(cell.source, ns)
    return ns


GIVEN = _given_namespace()
activate, slope, divergence_derivative = GIVEN["activate"], GIVEN["slope"], GIVEN["divergence_derivative"]


# -- right answers, and wrong ones built from them ---------------------------------------------------------
def forward_with(product=lambda Y, W: Y @ W.T, bias=True, softmax_axis=1):
    def forward_batch(X, weights, biases, activations):
        Z, Y = [None], [X]
        for k in range(1, len(weights)):
            Z.append(product(Y[k - 1], weights[k]) + (biases[k] if bias else 0))
            if activations[k] == "softmax" and softmax_axis != 1:  # 0: over the batch; None: over every entry
                E = np.exp(Z[k])
                Y.append(E / E.sum(axis=softmax_axis, keepdims=True))
            else:
                Y.append(activate(activations[k], Z[k]))
        return Z, Y

    return forward_batch


def weight_gradient_with(dW=lambda dZ, Y: dZ.T @ Y, db=lambda dZ: dZ.sum(axis=0)):
    def weight_gradient(dZ, Y_prev):
        return dW(dZ, Y_prev), db(dZ)

    return weight_gradient


def backward_with(scale=lambda B: 1 / B, slope_at="z", softmax="jacobian", back=lambda d, W: d @ W,
                  weight_gradient=weight_gradient_with()):
    def backward_batch(D, Z, Y, weights, activations, divergence):
        N, B = len(weights) - 1, len(D)
        dZ, dW, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)
        d = divergence_derivative(divergence, Y[N], D) * scale(B)
        for k in range(N, 0, -1):
            if activations[k] == "softmax":
                dZ[k] = (Y[k] * (d - np.sum(d * Y[k], axis=1, keepdims=True)) if softmax == "jacobian"
                         else d * Y[k] * (1 - Y[k]))
            else:
                dZ[k] = d * slope(activations[k], Z[k] if slope_at == "z" else Y[k])
            dW[k], db[k] = weight_gradient(dZ[k], Y[k - 1])
            d = back(dZ[k], weights[k])
        return {"dZ": dZ, "dW": dW, "db": db}

    return backward_batch


def debug_with(line):
    def two_layer_backward(X, D, W1, b1, W2, b2):
        B = X.shape[0]
        Z1 = X @ W1.T + b1
        Y1 = np.tanh(Z1)
        Y2 = Y1 @ W2.T + b2
        dZ2 = (Y2 - D) / B if line not in ("no 1/B", "no 1/B, bug kept") else (Y2 - D)
        slope = {"1 - z^2": 1 - Z1 ** 2, "no 1/B, bug kept": 1 - np.tanh(Y1) ** 2}.get(line, 1 - Y1 ** 2)
        dZ1 = (dZ2 @ W2) * slope
        return dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ Y1, dZ2.sum(axis=0)

    return buggy_two_layer if line == "given" else two_layer_backward


RIGHT = {"05_forward": forward_with(), "05_weight_gradient": weight_gradient_with(), "05_backward": backward_with(),
         "05_debug": debug_with("fixed")}

#: (part, what the answer does wrong, the answer, a fragment its self-check must show[, the largest share of the
#: part's points it may keep: a softmax mistake only shows in the cases with a softmax, a third of them])
WRONG = [
    ("05_forward", "W instead of W^T (right only for square W)", forward_with(lambda Y, W: Y @ W), "ValueError"),
    ("05_forward", "no bias", forward_with(bias=False), "the bias b(1) is missing"),
    ("05_forward", "softmax over the batch (axis 0)", forward_with(softmax_axis=0), "softmax normalises each instance",
     0.75),
    ("05_forward", "softmax over every entry of the batch (right only for B = 1)", forward_with(softmax_axis=None),
     "softmax normalises each instance", 0.75),
    ("05_weight_gradient", "the lecture's derivative, not the gradient (transposed)",
     weight_gradient_with(dW=lambda dZ, Y: Y.T @ dZ), "the transpose of the expected layout"),
    ("05_weight_gradient", "averaged twice", weight_gradient_with(dW=lambda dZ, Y: dZ.T @ Y / len(Y),
                                                                  db=lambda dZ: dZ.mean(axis=0)), "times too small"),
    ("05_weight_gradient", "the first instance only (right only for B = 1)",
     weight_gradient_with(dW=lambda dZ, Y: np.outer(dZ[0], Y[0]), db=lambda dZ: dZ[0]), "only instance 1"),
    ("05_weight_gradient", "db averaged, dW right", weight_gradient_with(db=lambda dZ: dZ.mean(axis=0)),
     "times too small"),
    ("05_backward", "no 1/B (right only for B = 1)", backward_with(scale=lambda B: 1.0), "times too large"),
    ("05_backward", "averaged twice", backward_with(weight_gradient=weight_gradient_with(
        dW=lambda dZ, Y: dZ.T @ Y / len(Y), db=lambda dZ: dZ.mean(axis=0))), "times too small"),
    ("05_backward", "the slope at y instead of z", backward_with(slope_at="y"), "taken at y(k)"),
    ("05_backward", "softmax treated elementwise", backward_with(softmax="diagonal"), "softmax is a vector activation",
     0.75),
    ("05_backward", "back through W^T (right only for square W)", backward_with(back=lambda d, W: d @ W.T),
     "ValueError"),
    ("05_debug", "the given function unchanged", debug_with("given"), "the planted bug is still there"),
    ("05_debug", "the slope fixed, the 1/B dropped", debug_with("no 1/B"), "times too large"),
    ("05_debug", "the slope 'fixed' as 1 - z^2", debug_with("1 - z^2"), "your slope, 1 - z^2 at z(1)"),
    ("05_debug", "the / B deleted, the planted bug kept", debug_with("no 1/B, bug kept"),
     "the planted bug is still there too"),
]




# -- right answers pass everything ----------------------------------------------------------------------
@pytest.mark.parametrize("part_id", list(RIGHT))
@pytest.mark.parametrize("seed", [None, *SEEDS])
def test_the_right_answers_pass_every_case(part_id, seed):
    failed = [(c.label, v.details, v.diagnosis) for c, v in case_verdicts(part_id, RIGHT[part_id], seed, given=GIVEN) if not v.passed]
    assert failed == []


# -- each crafted wrong answer: its diagnosis, and it loses the part ------------------------------------------
WRONG = [w if len(w) == 5 else (*w, 0.25) for w in WRONG]


@pytest.mark.parametrize("part_id, what, fn, fragment, share", WRONG, ids=[w[1] for w in WRONG])
def test_each_wrong_answer_is_diagnosed_on_the_public_cases(part_id, what, fn, fragment, share):
    public = case_verdicts(part_id, fn, given=GIVEN)
    assert not all(v.passed for _, v in public), what
    shown = " ".join(" ".join(v.details) + " " + v.diagnosis for _, v in public if not v.passed)
    assert fragment in shown, shown


@pytest.mark.parametrize("part_id, what, fn, fragment, share", WRONG, ids=[w[1] for w in WRONG])
@pytest.mark.parametrize("seed", SEEDS)
def test_each_wrong_answer_loses_most_of_its_part_on_the_hidden_cases(part_id, what, fn, fragment, share, seed):
    hidden = case_verdicts(part_id, fn, seed, given=GIVEN)
    assert part_score(get_part(part_id), 10, hidden) <= 10 * share, (what, [v.passed for _, v in hidden])


# -- the hidden cases hold the shapes that expose those answers ---------------------------------------------------
def _shapes_of(payload):
    if "weights" in payload:
        return len(payload["X"]), [np.shape(W) for W in payload["weights"]]
    if "W1" in payload:
        return len(payload["X"]), [np.shape(payload["W1"]), np.shape(payload["W2"])]
    return len(payload["dZ"]), [(len(payload["dZ"][0]), len(payload["Y_prev"][0]))]


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.id)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_has_a_batch_of_one_a_width_of_one_and_non_square_matrices(part, seed):
    shapes = [_shapes_of(c.payload) for c in part.hidden_cases(hidden_rng(part.id, seed))]
    assert any(B == 1 for B, _ in shapes)
    assert any(B > 1 for B, _ in shapes)
    assert any(1 in W for _, Ws in shapes for W in Ws)
    non_square = sum(all(W[0] != W[1] for W in Ws) for _, Ws in shapes)
    assert non_square >= len(shapes) - 2, shapes


def test_the_hidden_outputs_include_the_softmax():
    cases = get_part("05_backward").hidden_cases(hidden_rng("05_backward", 0))
    assert {c.payload["activations"][-1] for c in cases} == {out for out, _ in OUTPUTS}


# -- names and worked numbers ----------------------------------------------------------------------------------
def test_entries_are_named_the_lectures_way_beside_the_array_index():
    assert entry_name("dW", 2, (0, 2)) == "dLoss/dw(2)_31 (dW[2][0, 2])"
    assert entry_name("Z", 1, (3, 1)) == "z(1)_2 of instance 4 (Z[1][3, 1])"
    assert entry_name("dZ", 2, (0, 0)) == "dLoss/dz(2)_1 of instance 1 (dZ[2][0, 0])"
    assert entry_name("db", 1, (2,)) == "dLoss/db(1)_3 (db[1][2])"


def test_the_worked_batch_starts_with_the_notebooks_instance():
    ref = reference_backward(WORKED)
    single = reference_backward(dict(WORKED, X=WORKED["X"][:1], D=WORKED["D"][:1]))
    from backprop.core.examples import VECTOR_231

    assert np.allclose(single["dW"][1].T, VECTOR_231["numbers"]["dDiv/dW(1)"])
    assert np.allclose(single["dW"][2].T, VECTOR_231["numbers"]["dDiv/dW(2)"])
    assert ref["dW"][1].shape == (3, 2)


def test_the_public_feedback_names_an_entry_with_both_numbers_and_the_diagnosis_none():
    """Details (shown for public cases only) name the entry and give expected versus got; the diagnosis
    (shown for hidden cases too) names the mistake without the hidden case's numbers."""
    twice = next(w[2] for w in WRONG if w[:2] == ("05_weight_gradient", "averaged twice"))
    failed = [v for _, v in case_verdicts("05_weight_gradient", twice, given=GIVEN) if not v.passed]
    assert any("dLoss/dw(" in line and "(dW[" in line and "expected" in line for line in failed[0].details)
    assert "expected" not in failed[0].diagnosis and "got" not in failed[0].diagnosis


# -- the grader end to end ----------------------------------------------------------------------------------------
def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


#: crafted submissions: {name: ({answer cell: source}, the parts it must lose)}; only what takes the grading kernel:
#: the library's activations are not in it (each realistic mistake is judged in-process above)
SUBMISSIONS = {
    "library_backward": ({"backward_code": "def backward_batch(D, Z, Y, weights, activations, divergence):\n"
                                           "    from backprop.core.activations import get_activation\n"
                                           "    N, B = len(weights) - 1, len(D)\n"
                                           "    dZ, dW, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)\n"
                                           "    dY = divergence_derivative(divergence, Y[N], D) / B\n"
                                           "    for k in range(N, 0, -1):\n"
                                           "        dZ[k] = get_activation(activations[k]).backward(dY, Z[k], Y[k])\n"
                                           "        dW[k], db[k] = weight_gradient(dZ[k], Y[k - 1])\n"
                                           "        dY = dZ[k] @ weights[k]\n"
                                           "    return {'dZ': dZ, 'dW': dW, 'db': db}"}, ("05_backward",)),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hw05")
    subs = {"solution": shutil.copy(SOLUTION, tmp / "solution.ipynb"),
            "untouched": shutil.copy(EXERCISE, tmp / "untouched.ipynb")}
    subs.update({name: notebook_with_answer(SOLUTION, tmp, name, replace) for name, (replace, _) in SUBMISSIONS.items()})
    return grade_cli(subs, "--timeout", "10")


def test_the_solution_scores_full_marks(graded):
    r = graded["solution"]
    assert r["max"] == 10 and r["total"] == 10, r


def test_the_untouched_exercise_scores_zero(graded):
    r = graded["untouched"]
    assert r["total"] == 0 and r["max"] == 10
    assert all("not answered yet" in p["feedback"] for p in r["parts"])


@pytest.mark.parametrize("name", list(SUBMISSIONS))
def test_a_crafted_submission_loses_its_part_and_keeps_the_others(graded, name):
    lost = SUBMISSIONS[name][1]
    parts = {p["id"]: p for p in graded[name]["parts"]}
    for pid in lost:
        assert parts[pid]["points"] <= 0.25 * parts[pid]["max"], parts[pid]
    if name == "library_backward":  # the library's activations are not in the grading kernel, and it says so
        assert parts["05_backward"]["points"] == 0
        assert "must not use backprop.core.activations" in parts["05_backward"]["feedback"]
    assert all(p["points"] == p["max"] for pid, p in parts.items() if pid not in lost), parts


# -- the diagnoses that need a special case to show: square matrices, a missing factor, a wrong return -------------
def _judge(part_id, fn, payload):
    part = get_part(part_id)
    ns = dict(GIVEN, **{part.names[0]: fn})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = judge_case(part, Case("crafted", payload), run_here(part.names, part.call, ns, payload))
    assert not v.passed
    return " ".join(v.details) + " | " + v.diagnosis


SQUARE = batch_case(np.random.default_rng(11), ["tanh"], 0, B=3, widths=[3, 3, 3])  # every W is 3 x 3


def test_forward_on_square_weights_names_the_missing_transpose():
    text = _judge("05_forward", forward_with(lambda Y, W: Y @ W), SQUARE)
    assert "where W(1)^T belongs" in text and "z(1)_" in text and "(Z[1][" in text


def test_forward_without_the_activation_says_so():
    def no_activation(X, weights, biases, activations):
        Z, Y = forward_with()(X, weights, biases, activations)
        return Z, [Y[0]] + Z[1:]

    assert "the activation tanh is not applied" in _judge("05_forward", no_activation, SQUARE)


def test_forward_returning_one_list_is_told_what_to_return():
    assert "should return the pair (Z, Y)" in _judge("05_forward", lambda X, w, b, a: [X], SQUARE)


def test_a_weight_gradient_transposed_on_a_square_layer_is_named_the_lectures_derivative():
    payload = {"dZ": [[1.0, 2.0], [0.5, -1.0]], "Y_prev": [[3.0, -1.0], [2.0, 0.25]]}
    text = _judge("05_weight_gradient", weight_gradient_with(dW=lambda dZ, Y: Y.T @ dZ), payload)
    assert "the transpose of the expected layout" in text and "dLoss/dw(k)_" in text


def test_backward_on_square_weights_names_the_transpose_going_back():
    case = _with_pass(batch_case(np.random.default_rng(12), ["tanh"], 0, B=2, widths=[3, 3, 3]))  # square W
    text = _judge("05_backward", backward_with(back=lambda d, W: d @ W.T), case)
    assert "right-multiplied by W(2) itself" in text and "dLoss/dz(1)_" in text


def test_backward_without_the_slope_names_the_missing_factor():
    def no_slope(D, Z, Y, weights, activations, divergence):
        return backward_with()(D, Z, Y, weights, ["identity" if a else a for a in activations], divergence)

    text = _judge("05_backward", no_slope, _with_pass(SQUARE))
    assert "the factor f_1'(z(1)) of the tanh units is missing" in text


def test_backward_with_a_missing_key_is_told_the_keys():
    text = _judge("05_backward", lambda D, Z, Y, w, a, div: {"dW": [], "db": []}, _with_pass(SQUARE))
    assert "'dZ' should be a list of N + 1 = 3 entries" in text


def test_a_debug_fix_that_breaks_layer_1_otherwise_points_at_the_tanh_step():
    def slope_dropped(X, D, W1, b1, W2, b2):
        B = len(X)
        Y1 = np.tanh(X @ W1.T + b1)
        dZ2 = (Y1 @ W2.T + b2 - D) / B
        dZ1 = dZ2 @ W2
        return dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ Y1, dZ2.sum(axis=0)

    payload = get_part("05_debug").public_cases()[0].payload
    assert "layer 2 is right but dW1 is not" in _judge("05_debug", slope_dropped, payload)


#: what parts 2 and 4 ask the student to find (the weight gradient's product, the fixed tanh slope), spaces removed:
#: no hint may state them, whatever the wrong answer
CLOSED_FORMS = ["dZ^TY_prev", "dZ.T@Y", "dZ[1]^TY[0]", "dZ[2]^TY[1]", "Transposeit", "1-tanh(z)^2", "1-y^2",
                "1-Y1**2", "1-np.tanh(Z1)**2"]


@pytest.mark.parametrize("part_id, what, fn, fragment, share", WRONG, ids=[w[1] for w in WRONG])
def test_no_hint_states_the_result_the_part_asks_for(part_id, what, fn, fragment, share):
    shown = " ".join(" ".join(v.details) + " " + v.diagnosis
                     for _, v in case_verdicts(part_id, fn, given=GIVEN) if not v.passed).replace(" ", "")
    for form in CLOSED_FORMS:
        assert form not in shown, f"{form!r} handed over ({what}):\n{shown}"


def test_a_transposed_weight_gradient_is_told_the_layout_not_the_product():
    payload = {"dZ": [[1.0, 2.0, 0.5], [0.5, -1.0, 2.0]], "Y_prev": [[3.0, -1.0], [2.0, 0.25]], "layer": 1}
    text = _judge("05_weight_gradient", weight_gradient_with(dW=lambda dZ, Y: Y.T @ dZ), payload)
    assert "the transpose of the expected layout" in text and "a row per unit of layer 1" in text
    assert "dZ^T" not in text and "Transpose it" not in text


def test_a_debug_answer_wrong_in_both_layers_names_them_and_the_batch_average():
    payload = get_part("05_debug").public_cases()[0].payload  # B = 4
    message = _judge("05_debug", debug_with("no 1/B, bug kept"), payload)
    assert "dW1, db1, dW2 and db2 disagree, in both layers: dW2 and db2 are exactly B = 4 times too large" in message
    assert "the batch average is involved" in message
    assert "dW1 and db1 are B times too large as well, but B times what the given function returns" in message
    assert "gradient-check the fixed function" not in message
    message = _judge("05_debug", debug_with("no 1/B"), payload)
    assert "in both layers: all of them are exactly B = 4 times too large" in message
