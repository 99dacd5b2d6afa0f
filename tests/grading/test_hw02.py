"""Tests backprop.grading.hw02: homework 02's checks name the factor that is wrong, and catch every bug they should.

Three kinds of test:

- the diagnosis of a typical mistake (which factor, which activation, which entry, named
  as the lecture names it);
- a bank of buggy answers, one realistic bug each: every one fails the public cases
  (the student's self-check) *and* the hidden cases of every seed tried;
- the hidden cases of every seed hold every activation, output and divergence, inputs of
  both signs, units at a kink and sigmoid units in their tails.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backprop as bp
from backprop.grading import get_part, hidden_rng
from backprop.grading.hw02 import OUTPUTS, SCALAR_ACTIVATIONS, TAIL
from backprop.grading.parts import part_score
from strategies import case_verdicts, check_message

SEEDS = range(6)




# -- right answers -------------------------------------------------------------------------------------
def forward_right(x, weights, biases, activations):
    z, y = [None], [np.asarray(x, dtype=float)]
    for k in range(1, len(weights)):
        z.append(y[k - 1] @ weights[k] + biases[k])
        y.append(activations[k].forward(z[k]))
    return z, y


def activation_right(dy, z, f):
    return f.derivative(z) * dy


def backward_with(step=activation_right, divergence_args=lambda y, d: (y, d), skip_output_slope=False):
    def backward(d, z, y, weights, activations, divergence):
        N = len(weights) - 1
        dy, dz, dw, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)
        dy[N] = divergence.derivative(*divergence_args(y[N], d))
        for k in range(N, 0, -1):
            dz[k] = dy[k] if (skip_output_slope and k == N) else step(dy[k], z[k], activations[k])
            dw[k], db[k] = np.outer(y[k - 1], dz[k]), dz[k]
            dy[k - 1] = weights[k] @ dz[k]
        return {"dy": dy, "dz": dz, "dw": dw, "db": db}

    return backward


def average_with(value_args=lambda y, d: (y, d), scale=lambda T: 1 / T, first_only=False):
    def average(X, D, weights, biases, activations, divergence):
        N, T = len(weights) - 1, (1 if first_only else len(X))
        total, dw, db = 0.0, [None] + [0 * weights[k] for k in range(1, N + 1)], [None] + [0 * biases[k] for k in range(1, N + 1)]
        backward = backward_with()
        for t in range(T):
            z, y = forward_right(X[t], weights, biases, activations)
            total += divergence.value(*value_args(y[N], D[t]))
            g = backward(D[t], z, y, weights, activations, divergence)
            for k in range(1, N + 1):
                dw[k], db[k] = dw[k] + g["dw"][k], db[k] + g["db"][k]
        s = scale(len(X))
        return total * s, [None] + [dw[k] * s for k in range(1, N + 1)], [None] + [db[k] * s for k in range(1, N + 1)]

    return average


# -- buggy answers, one realistic bug each ------------------------------------------------------------------
def _forward_bug(kind):
    def forward(x, weights, biases, activations):
        z, y = [None], [np.asarray(x, dtype=float)]
        for k in range(1, len(weights)):
            f = activations[k]
            if kind == "in_place_bias":
                z_k = biases[k]
                z_k += y[k - 1] @ weights[k]  # writes into the caller's biases
            elif kind == "no_bias":
                z_k = y[k - 1] @ weights[k]
            else:
                z_k = y[k - 1] @ weights[k] + biases[k]
            if kind == "no_activation":
                y_k = z_k
            elif kind == "unstable_sigmoid" and f.name == "sigmoid":
                y_k = np.exp(z_k) / (1 + np.exp(z_k))
            elif kind == "leaky_forgotten" and "relu" in f.name:
                y_k = np.maximum(z_k, 0)
            else:
                y_k = f.forward(z_k)
            z.append(z_k)
            y.append(y_k)
        return z, y
    return forward


def _activation_bug(kind):
    def step(dy, z, f):
        if kind == "in_place":
            dy *= f.derivative(z)
            return dy
        if kind == "no_slope":
            return dy
        if kind == "f_not_slope":
            return f.forward(z) * dy
        if kind == "slope_at_y":
            return f.derivative(f.forward(z)) * dy
        if kind == "no_dy":
            return f.derivative(z)
        if kind == "unstable_sigmoid" and f.name == "sigmoid":
            return np.exp(-z) / (1 + np.exp(-z)) ** 2 * dy
        if kind == "leaky_forgotten" and "relu" in f.name:
            return (z > 0) * dy
        if kind == "bad_subgradient":
            return np.where(z == 0, 2.0, f.derivative(z)) * dy
        return f.derivative(z) * dy
    return step


def _input_in_place(dz_k, w_k):
    w_k *= dz_k  # w(k)_ij dDiv/dz(k)_j, written over the caller's weights
    return w_k.sum(axis=1)


FORWARD_BUGS = ["in_place_bias", "no_bias", "no_activation", "unstable_sigmoid", "leaky_forgotten"]
ACTIVATION_BUGS = ["in_place", "no_slope", "f_not_slope", "slope_at_y", "no_dy", "unstable_sigmoid", "leaky_forgotten",
                   "bad_subgradient"]
BUGS = (
    [("02_forward", f"forward: {k}", _forward_bug(k)) for k in FORWARD_BUGS]
    + [("02_activation_step", f"activation_step: {k}", _activation_bug(k)) for k in ACTIVATION_BUGS]
    + [
        ("02_weight_step", "weight_step: transposed", lambda dz, y: (np.outer(dz, y), dz)),
        ("02_weight_step", "weight_step: no y factor", lambda dz, y: (np.outer(np.ones_like(y), dz), dz)),
        ("02_weight_step", "weight_step: bias gradient 0", lambda dz, y: (np.outer(y, dz), 0 * dz)),
        ("02_input_step", "input_step: transposed", lambda dz, w: w.T @ dz if w.shape[0] == w.shape[1] else w[:, 0] * dz[0]),
        ("02_input_step", "input_step: one term", lambda dz, w: w[:, 0] * dz[0]),
        ("02_input_step", "input_step: in place", _input_in_place),
        ("02_input_step", "input_step: sign flipped", lambda dz, w: -(w @ dz)),
        ("02_backward_pass", "backward: no slope", backward_with(_activation_bug("no_slope"))),
        ("02_backward_pass", "backward: linear output assumed", backward_with(skip_output_slope=True)),
        ("02_backward_pass", "backward: divergence arguments swapped", backward_with(divergence_args=lambda y, d: (d, y))),
        ("02_backward_pass", "backward: activation step writes in place", backward_with(_activation_bug("in_place"))),
        ("02_backward_pass", "backward: unstable sigmoid", backward_with(_activation_bug("unstable_sigmoid"))),
        ("02_backward_pass", "backward: leaky forgotten", backward_with(_activation_bug("leaky_forgotten"))),
        ("02_backward_pass", "backward: invalid subgradient", backward_with(_activation_bug("bad_subgradient"))),
        ("02_average_gradients", "average: summed", average_with(scale=lambda T: 1.0)),
        ("02_average_gradients", "average: divergence arguments swapped", average_with(value_args=lambda y, d: (d, y))),
        ("02_average_gradients", "average: first instance only", average_with(first_only=True)),
    ]
)


@pytest.mark.parametrize("part_id, label, fn", BUGS, ids=[b[1] for b in BUGS])
def test_every_bug_fails_the_public_cases_and_the_hidden_cases_of_every_seed(part_id, label, fn):
    assert not all(v.passed for _, v in case_verdicts(part_id, fn)), f"{label} passes the self-check"
    for seed in SEEDS:
        assert not all(v.passed for _, v in case_verdicts(part_id, fn, seed)), f"{label} passes the hidden cases of seed {seed}"


@pytest.mark.parametrize("part_id, fn", [
    ("02_forward", forward_right), ("02_activation_step", activation_right),
    ("02_activation_step", lambda dy, z, f: np.where((z == 0) & (f.name == "relu"), 1.0, f.derivative(z)) * dy),  # slope 1 at the kink
    ("02_weight_step", lambda dz, y: (np.outer(y, dz), dz.copy())), ("02_input_step", lambda dz, w: w @ dz),
    ("02_backward_pass", backward_with()), ("02_average_gradients", average_with()),
])
def test_right_answers_pass_every_case_of_every_seed(part_id, fn):
    for seed in (None, *SEEDS):
        failed = [(c.label, v.details) for c, v in case_verdicts(part_id, fn, seed) if not v.passed]
        assert not failed, (seed, failed[:2])


# -- what the hidden cases hold, in every seed -------------------------------------------------------------
def _hidden(part_id, seed):
    return get_part(part_id).hidden_cases(hidden_rng(part_id, seed))


@pytest.mark.parametrize("seed", range(40))
def test_every_seeds_hidden_cases_hold_every_kind_of_case(seed):
    nets = [c.payload for c in _hidden("02_forward", seed)]
    assert {a for n in nets for a in n["activations"][:-1]} == set(SCALAR_ACTIVATIONS)
    assert {n["activations"][-1] for n in nets} == {o[0] for o in OUTPUTS}
    assert {np.sign(n["x"][0]) for n in nets} == {-1, 1}
    z_by_act = [(a, z) for n in nets for a, z in zip(n["activations"], _zs(n))]
    assert any(a == "sigmoid" and max(z) >= TAIL and min(z) <= -TAIL for a, z in z_by_act)
    assert any(a == "leaky_relu" and min(z) < 0 for a, z in z_by_act)

    steps = _hidden("02_activation_step", seed)
    assert {c.payload["activation"] for c in steps} == set(SCALAR_ACTIVATIONS)
    assert sum(c.group == "kink" for c in steps) >= 4 and all(0.0 in c.payload["z"] for c in steps if c.group == "kink")
    assert {c.payload["activation"] for c in steps if c.group == "kink"} == {"relu", "leaky_relu"}
    assert any(c.payload["activation"] == "sigmoid" and max(c.payload["z"]) > TAIL and min(c.payload["z"]) < -TAIL
               for c in steps)
    assert {np.sign(c.payload["dy"][0]) for c in steps} == {-1, 1}

    back = _hidden("02_backward_pass", seed)
    assert {n.payload["divergence"] for n in back} == {o[1] for o in OUTPUTS}
    assert {a for n in back for a in n.payload["activations"][:-1]} == set(SCALAR_ACTIVATIONS)
    kinks = [c for c in back if c.group == "kink"]
    assert {c.payload["activations"][0] for c in kinks} == {"relu", "leaky_relu"}
    assert all(c.payload["z"][1][0] == 0.0 for c in kinks)  # exactly, whatever the order of summation
    assert any(max(abs(v) for v in n.payload["z"][1]) >= TAIL for n in back)

    sets = [c.payload for c in _hidden("02_average_gradients", seed)]
    assert {n["divergence"] for n in sets} == {o[1] for o in OUTPUTS}
    assert {a for n in sets for a in n["activations"][:-1]} == set(SCALAR_ACTIVATIONS)
    assert {np.sign(n["X"][0][0]) for n in sets} == {-1, 1}


def _zs(net):
    sn = bp.ScalarNetwork([None, *net["weights"]], [None, *net["biases"]], [None, *net["activations"]], net["divergence"])
    sn.forward(net["x"])
    return sn.z[1:]


def test_a_kink_case_stays_at_the_kink_in_the_students_own_summation_order():
    case = next(c for c in get_part("02_backward_pass").public_cases() if c.group == "kink")
    x, w, b = np.array(case.payload["x"]), np.array(case.payload["weights"][0]), np.array(case.payload["biases"][0])
    assert x @ w[:, 0] + b[0] == 0.0 and b[0] + sum(w[i, 0] * x[i] for i in reversed(range(len(x)))) == 0.0


# -- diagnoses ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, says", [
    ("no_slope", "the factor f'(z) of the relu units is missing"),
    ("f_not_slope", "instead of its slope f'(z)"),
    ("no_dy", "the factor dDiv/dy"),
    ("leaky_forgotten", "a leaky ReLU's slope for z < 0 is alpha = 0.01, not 0"),
    ("unstable_sigmoid", "the sigmoid slope is not finite at some z (at |z| = 760, exp overflows)"),
    ("bad_subgradient", "at a kink (z = 0) the slope of a relu must be a subgradient"),
])
def test_activation_step_names_the_factor_and_the_activation(kind, says):
    failing = [v for _, v in case_verdicts("02_activation_step", _activation_bug(kind)) if not v.passed]
    assert any(says in v.diagnosis for v in failing), [v.diagnosis for v in failing]


def test_an_answer_wrong_at_every_kink_loses_the_kink_cases_share_and_is_told():
    from backprop.grading.grade import _part_feedback

    part = get_part("02_activation_step")
    verdicts = case_verdicts("02_activation_step", _activation_bug("bad_subgradient"))
    verdicts += case_verdicts("02_activation_step", _activation_bug("bad_subgradient"), seed=0)
    assert all(v.passed for c, v in verdicts if c.group != "kink")
    assert not any(v.passed for c, v in verdicts if c.group == "kink")
    assert part_score(part, 1.0, verdicts) == 0.75
    assert "They weigh 0.25 of this part's points, so 0.25 of 1 are lost." in _part_feedback(part, verdicts, [], 1.0)


def test_a_flipped_sign_in_the_step_back_is_named():
    msg = check_message("02_input_step", lambda dz, w: -(w @ dz))
    assert "the sign is flipped: every entry is exactly minus the weighted sum" in msg
    assert "the weighted sum disagrees" not in msg


def test_a_transposed_weight_gradient_is_named():
    assert "transposed" in check_message("02_weight_step", lambda dz, y: (np.outer(dz, y), dz))


def test_backward_pass_names_the_first_wrong_factor_as_the_lecture_names_it():
    msg = check_message("02_backward_pass", backward_with(_activation_bug("no_slope")))
    assert "layer 1 (relu): the factor f'(z) of the relu units is missing" in msg
    assert "dDiv/dz(1)_2 (dz[1][1]): expected 0, got -4" in msg


def test_backward_pass_names_an_output_slope_a_swapped_divergence_and_a_step_that_writes_in_place():
    msg = check_message("02_backward_pass", backward_with(skip_output_slope=True))
    assert "(sigmoid): the factor f'(z) of the sigmoid units is missing" in msg
    # for the squared error, swapped arguments give exactly -dDiv/dY: the sign is named first, the swap beside it
    assert "opposite sign in every entry (exactly -dDiv/dY)" in (swapped := check_message(
        "02_backward_pass", backward_with(divergence_args=lambda y, d: (d, y))))
    assert "or are its arguments swapped (the network's output comes first)?" in swapped
    assert "does activation_step write into its argument dy_k in place?" in check_message(
        "02_backward_pass", backward_with(_activation_bug("in_place")))


def test_a_function_that_changes_its_arguments_is_told_which_entry():
    msg = check_message("02_forward", _forward_bug("in_place_bias"))
    assert "`forward_pass` changed its argument `biases` in place (b(1)_1 (biases[1][0]))" in msg
    msg = check_message("02_activation_step", _activation_bug("in_place"))
    # f'(z(1)_1) = 1 leaves dDiv/dy(1)_1 as it was; the dead unit's entry is the one overwritten
    assert "`activation_step` changed its argument `dy_k` in place (dDiv/dy(1)_2 (dy_k[1]))" in msg


def test_the_forward_pass_names_an_activation_not_applied():
    assert "the relu activation is not applied" in check_message("02_forward", _forward_bug("no_activation"))


def test_the_forward_pass_names_an_unstable_sigmoid_and_a_forgotten_leaky_relu():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the buggy answer's own overflow warnings
        assert "not finite for some sigmoid unit" in check_message("02_forward", _forward_bug("unstable_sigmoid"))
    assert "a leaky ReLU gives alpha z for z < 0" in check_message("02_forward", _forward_bug("leaky_forgotten"))


def test_summing_instead_of_averaging_and_swapping_the_divergence_are_named():
    assert "sum over the instances" in check_message("02_average_gradients", average_with(scale=lambda T: 1.0))
    assert "arguments are swapped: divergence.value(Y, d)" in check_message(
        "02_average_gradients", average_with(value_args=lambda y, d: (d, y)))


def test_an_activations_own_backward_is_not_there_for_the_answer():
    failing = [v for _, v in case_verdicts("02_activation_step", lambda dy, z, f: f.backward(dy, z)) if not v.passed]
    assert failing and all("must not use backprop.core.activations.backward" in v.diagnosis for v in failing)


def test_the_worked_numbers_come_from_the_examples_module():
    ex = bp.examples.TWO_RELU
    case = get_part("02_activation_step").public_cases()[0]
    assert case.payload["z"] == ex["numbers"]["z(1)"]
    assert case.payload["dy"] == [w[0] * ex["numbers"]["dDiv/dY"][0] for w in ex["weights"][1]]
    assert "other course's slides" in get_part("02_forward").public_cases()[0].label
