"""Tests backprop.grading.hw03: homework 03's checks pass right answers, catch every bug they should, and say why.

- right answers (two ways of writing each) pass the public cases and the hidden cases of every seed;
- a bank of wrong answers, one realistic bug each (a hard-coded answer, one right only for width 1, a
  transposed Jacobian, a naive softmax that overflows, a Jacobian built at width 10^5...): each fails
  the public cases (the student's self-check) and the hidden cases of every seed tried;
- each diagnosis names the entry (the lecture's name beside the code's index), the factor, expected
  versus got;
- the hidden cases hold what they must (large logits, width 1 and wider, non-symmetric Jacobians,
  squares and shared units in the products).
"""

from __future__ import annotations


import numpy as np
import pytest

import backprop as bp
from backprop.grading import get_part, hidden_rng
from backprop.grading.hw03 import BIG, LARGE_WIDTH, PARTS, entry_name
from backprop.grading.parts import part_score
from strategies import case_verdicts, check_message

SEEDS = range(5)




# -- right answers ---------------------------------------------------------------------------------
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softmax_loops(z):
    m = max(z)
    e = [np.exp(v - m) for v in z]
    return np.array([v / sum(e) for v in e])


def softmax_jacobian(z):
    y = softmax(z)
    return np.diag(y) - np.outer(y, y)


def softmax_jacobian_loops(z):
    y = softmax(z)
    n = len(y)
    return [[y[i] * ((i == j) - y[j]) for j in range(n)] for i in range(n)]  # [i][j] = dy_i/dz_j


def vector_backward(dy, J):
    return dy @ J


def vector_backward_loops(dy, J):
    return [sum(dy[i] * J[i][j] for i in range(len(dy))) for j in range(len(J[0]))]


def softmax_backward(dy, z):
    y = softmax(z)
    return y * (dy - dy @ y)


def softmax_ce_backward(z, d):
    m = np.max(z)
    return m + np.log(np.exp(z - m).sum()) - d @ z, softmax(z) - d


def multiplicative_backward(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] += do[i] * y[l]
        dy[l] += do[i] * y[j]
    return dy


RIGHT = {
    "03_softmax": [softmax, softmax_loops],
    "03_softmax_jacobian": [softmax_jacobian, softmax_jacobian_loops],
    "03_vector_backward": [vector_backward, vector_backward_loops],
    "03_softmax_backward": [softmax_backward],
    "03_softmax_backward_large": [softmax_backward],
    "03_softmax_ce_backward": [softmax_ce_backward],
    "03_multiplicative_backward": [multiplicative_backward],
}


def test_every_part_has_right_answers_here():
    assert set(RIGHT) == {p.id for p in PARTS}


@pytest.mark.parametrize("part_id, fn", [(p, f) for p, fs in RIGHT.items() for f in fs],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_right_answers_pass_public_and_hidden_cases(part_id, fn):
    for seed in (None, *SEEDS[:2]):
        failed = [(c.label, v.details) for c, v in case_verdicts(part_id, fn, seed) if not v.passed]
        assert not failed, failed


# -- wrong answers, one realistic bug each -----------------------------------------------------------
def naive_softmax(z):
    return np.exp(z) / np.exp(z).sum()


def mean_shift_softmax(z):
    e = np.exp(z - np.mean(z))  # shifted by the mean logit: overflows when one logit is far above the rest
    return e / e.sum()


def hard_coded_softmax(z):
    return np.array([1 / 6, 1 / 3, 1 / 2])  # the hand example's answer, whatever z is


def width_one_softmax(z):
    return np.ones_like(z)  # right when there is one unit


def unnormalised_softmax(z):
    return np.exp(z - np.max(z))


def diagonal_jacobian(z):
    y = softmax(z)
    return np.diag(y * (1 - y))


def width_one_jacobian(z):
    return np.zeros((1, 1))


def zero_jacobian(z):
    return np.zeros((len(z), len(z)))  # right for one unit only, of every width


def naive_jacobian(z):
    y = naive_softmax(z)
    return np.diag(y) - np.outer(y, y)


def hard_coded_jacobian(z):
    return np.array([[5, -2, -3], [-2, 8, -6], [-3, -6, 9]]) / 36


def transposed_product(dy, J):
    return np.asarray(J) @ dy  # J read with the inputs on its rows: right for a symmetric J (softmax's) only


def diagonal_backward(dy, J):
    return np.diag(J) * dy


def softmax_backward_diagonal(dy, z):
    y = softmax(z)
    return y * (1 - y) * dy


def softmax_backward_unweighted(dy, z):
    y = softmax(z)
    return y * (dy - dy.sum())


def softmax_backward_naive(dy, z):
    y = naive_softmax(z)
    return y * (dy - dy @ y)


def softmax_backward_jacobian(dy, z):
    y = softmax(z)
    J = np.diag(y) - np.outer(y, y)  # n x n: fine at width 5, 80 GB at width 100,000
    return dy @ J


def softmax_backward_width_one(dy, z):
    return np.zeros_like(z)


def ce_naive(z, d):
    y = naive_softmax(z)
    return -np.sum(d * np.log(y)), y - d


def ce_log_of_softmax(z, d):
    y = softmax(z)  # stable, but log(0) = -inf where a logit is far below the rest
    return -np.sum(d * np.log(y)), y - d


def ce_before_softmax(z, d):
    y = softmax(z)
    m = np.max(z)
    return m + np.log(np.exp(z - m).sum()) - d @ z, -d / y


def ce_flipped(z, d):
    div, dz = softmax_ce_backward(z, d)
    return div, -dz


def softmax_backward_only_own_term(dy, z):
    return softmax(z) * dy


def softmax_backward_no_outer_factor(dy, z):
    return dy - dy @ softmax(z)


def softmax_backward_unchanged(dy, z):
    return np.array(dy, dtype=float)


def softmax_backward_flipped(dy, z):
    return -softmax_backward(dy, z)


def _lse(z):
    m = np.max(z)
    return m + np.log(np.exp(z - m).sum())


def ce_div_flipped(z, d):
    return d @ z - _lse(z), softmax(z) - d


def ce_lse_without_max(z, d):
    return np.log(np.exp(z - np.max(z)).sum()) - d @ z, softmax(z) - d


def ce_one_hot_div(z, d):
    return _lse(z) - z[np.argmax(d)], softmax(z) - d


def multiplicative_no_swap(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] += do[i] * y[j]
        dy[l] += do[i] * y[l]
    return dy


def multiplicative_overwrites(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] = do[i] * y[l]
        dy[l] = do[i] * y[j]
    return dy


def multiplicative_square_once(do, y, pairs):
    dy = np.zeros(len(y))
    for i, (j, l) in enumerate(pairs):
        dy[j] += do[i] * y[l]
        if l != j:
            dy[l] += do[i] * y[j]
    return dy


def multiplicative_no_upstream(do, y, pairs):
    dy = np.zeros(len(y))
    for j, l in pairs:  # the local derivatives alone: do[i] never multiplies them
        dy[j] += y[l]
        dy[l] += y[j]
    return dy


def multiplicative_in_place(do, y, pairs):
    out = multiplicative_backward(do, y, pairs)
    y *= 0  # writes into the caller's y
    return out


def multiplicative_hard_coded(do, y, pairs):
    return np.array([-1.0, 8.0, -8.0])


WRONG = {
    "03_softmax": [naive_softmax, mean_shift_softmax, hard_coded_softmax, width_one_softmax, unnormalised_softmax],
    "03_softmax_jacobian": [diagonal_jacobian, width_one_jacobian, zero_jacobian, naive_jacobian, hard_coded_jacobian],
    "03_vector_backward": [transposed_product, diagonal_backward],
    "03_softmax_backward": [softmax_backward_diagonal, softmax_backward_unweighted, softmax_backward_naive,
                            softmax_backward_width_one],
    "03_softmax_backward_large": [softmax_backward_jacobian, softmax_backward_unweighted, softmax_backward_width_one],
    "03_softmax_ce_backward": [ce_naive, ce_log_of_softmax, ce_before_softmax, ce_flipped],
    "03_multiplicative_backward": [multiplicative_no_swap, multiplicative_overwrites, multiplicative_square_once,
                                   multiplicative_no_upstream, multiplicative_in_place, multiplicative_hard_coded],
}


@pytest.mark.parametrize("part_id, fn", [(p, f) for p, fs in WRONG.items() for f in fs],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_each_bug_fails_the_self_check_and_the_hidden_cases_of_every_seed(part_id, fn):
    public = case_verdicts(part_id, fn)
    assert not all(v.passed for _, v in public), "the self-check lets it pass"
    part = get_part(part_id)
    for seed in SEEDS:
        verdicts = case_verdicts(part_id, fn, seed)
        assert not all(v.passed for _, v in verdicts), f"seed {seed}: the hidden cases let it pass"
        assert part_score(part, 1.0, verdicts) < 1.0


def test_a_softmax_shifted_by_the_mean_logit_loses_the_part_on_twelve_seeds():
    part = get_part("03_softmax")
    assert not all(v.passed for _, v in case_verdicts("03_softmax", mean_shift_softmax))
    kept = {seed: part_score(part, 1.0, case_verdicts("03_softmax", mean_shift_softmax, seed)) for seed in range(12)}
    assert {s: k for s, k in kept.items() if k > 0} == {}


#: the mistakes the issue names: each must lose its whole part, whatever the seed
LOSE_ALL = [("03_softmax", naive_softmax), ("03_softmax", hard_coded_softmax), ("03_softmax", width_one_softmax),
            ("03_softmax_jacobian", width_one_jacobian), ("03_softmax_jacobian", zero_jacobian),
            ("03_softmax_jacobian", hard_coded_jacobian),
            ("03_softmax_jacobian", naive_jacobian), ("03_vector_backward", transposed_product),
            ("03_softmax_backward", softmax_backward_naive), ("03_softmax_backward", softmax_backward_width_one),
            ("03_softmax_backward_large", softmax_backward_jacobian),
            ("03_softmax_backward_large", softmax_backward_diagonal), ("03_softmax_ce_backward", ce_naive),
            ("03_multiplicative_backward", multiplicative_hard_coded)]


@pytest.mark.parametrize("part_id, fn", LOSE_ALL, ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_the_named_mistakes_lose_the_whole_part(part_id, fn):
    part = get_part(part_id)
    public = case_verdicts(part_id, fn)
    for seed in SEEDS[:3]:
        assert part_score(part, 2.0, public + case_verdicts(part_id, fn, seed)) == 0.0


def test_a_jacobian_built_at_a_large_width_is_told_why_it_fails():
    message = check_message("03_softmax_backward_large", softmax_backward_jacobian)
    assert f"ran out of memory at width n = {LARGE_WIDTH[0]:,}" in message
    assert "80 GB" in message and "only vectors" in message
    assert all(not v.passed for _, v in case_verdicts("03_softmax_backward_large", softmax_backward_jacobian, 0))


def test_the_large_part_passes_for_the_jacobian_vector_product():
    verdicts = case_verdicts("03_softmax_backward_large", softmax_backward, 0)
    assert all(v.passed for _, v in verdicts) and len(verdicts) == 2


# -- diagnoses: which entry, which factor, expected versus got ----------------------------------------
def test_entry_names_are_the_lectures_beside_the_codes():
    assert entry_name("J", (0, 1)) == "dy_1/dz_2 (J[0][1])"  # row i: the output y_i; column j: the input z_j
    assert entry_name("dz", (2,)) == "dDiv/dz_3 (dz[2])"
    assert entry_name("y", (0,)) == "y_1 (y[0])"


#: (part, wrong answer, what its self-check must say: the factor, and an entry with expected versus got)
DIAGNOSES = [
    ("03_softmax", naive_softmax, ["exp(1000) overflows", "Subtract the largest logit",
                                   "y_1 (y[0]): expected 1, got nan"]),
    ("03_softmax", hard_coded_softmax, ["one unit", "y should have shape (1,), got (3,)"]),
    ("03_softmax", unnormalised_softmax, ["the entries of y sum to 2, not 1", "y_3 (y[2]): expected 0.5, got 1"]),
    ("03_softmax_jacobian", diagonal_jacobian, ["only the diagonal is there", "-y_i y_j",
                                                "dy_1/dz_2 (J[0][1]): expected -0.0555556, got 0"]),
    ("03_vector_backward", transposed_product, ["the other way round, J @ dy", "the transposed Jacobian",
                                                "dDiv/dz_1 (dz[0]): expected 2.5, got -3"]),
    ("03_softmax_backward", softmax_backward_diagonal, ["only the diagonal of the Jacobian",
                                                        "dDiv/dz_1 (dz[0]): expected 0.166667, got 0"]),
    ("03_softmax_backward", softmax_backward_unweighted, ["each dDiv/dy_i is missing the factor of its own row"]),
    ("03_softmax_backward", softmax_backward_only_own_term, ["only the delta_ij part of the sum",
                                                             "notebook 03, section 4.1"]),
    ("03_softmax_backward", softmax_backward_no_outer_factor, ["lacks one factor that both of its terms share"]),
    ("03_softmax_backward", softmax_backward_flipped, ["opposite sign (exactly the negative"]),
    ("03_softmax_ce_backward", ce_before_softmax, ["that is dDiv/dy, the gradient before the softmax",
                                                   "notebook 03, section 5"]),
    ("03_softmax_ce_backward", ce_flipped, ["opposite sign (exactly the negative"]),
    ("03_softmax_ce_backward", ce_div_flipped, ["Div has the opposite sign"]),
    ("03_softmax_ce_backward", ce_lse_without_max, ["too small by exactly the largest logit"]),
    ("03_softmax_ce_backward", ce_one_hot_div, ["only the target's largest entry"]),
    ("03_softmax_ce_backward", ce_naive, ["not finite", "never take log(y)"]),
    ("03_multiplicative_backward", multiplicative_no_swap, ["multiply swaps", "dDiv/dy_1 (dy[0]): expected -1, got 2"]),
    ("03_multiplicative_backward", multiplicative_overwrites, ["= instead of +="]),
    ("03_multiplicative_backward", multiplicative_square_once, ["2 y_j dDiv/do_i", "dDiv/dy_3 (dy[2]): expected -8, got -5"]),
    ("03_multiplicative_backward", multiplicative_no_upstream, ["the factor dDiv/do_i (do[i], the gradient arriving "
                                                                 "from above) is missing",
                                                                 "dDiv/dy_2 (dy[1]): expected 8, got 5"]),
    ("03_multiplicative_backward", multiplicative_in_place, ["changed its argument `y` in place (y_1 (y[0]))"]),
]


@pytest.mark.parametrize("part_id, fn, fragments", DIAGNOSES, ids=lambda v: v.__name__ if callable(v) else None)
def test_each_diagnosis_names_the_factor_and_the_entry(part_id, fn, fragments):
    message = check_message(part_id, fn)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


#: the results parts 4 to 6 ask the student to derive (the simplified softmax backward, the cross-entropy in the
#: logits, the fused gradient), spaces removed: no hint may state them, whatever the wrong answer
CLOSED_FORMS = ["y_j(dDiv/dy_j-", "y_i(dDiv/dy_i-", "sum_iy_idDiv/dy_i)", "sum_jy_jdDiv/dy_j)", "y*(dy-",
                "=y-d", "collapses", "logsum_kexp(z_k)-sum_id_iz_i", "lse(z)-d"]
GIVE_AWAY_CASES = [
    ("03_softmax_backward", softmax_backward_only_own_term), ("03_softmax_backward", softmax_backward_no_outer_factor),
    ("03_softmax_backward", softmax_backward_flipped), ("03_softmax_backward", softmax_backward_unweighted),
    ("03_softmax_backward", softmax_backward_diagonal), ("03_softmax_backward", softmax_backward_naive),
    ("03_softmax_backward", softmax_backward_unchanged),
    ("03_softmax_backward_large", softmax_backward_jacobian), ("03_softmax_backward_large", softmax_backward_unweighted),
    ("03_softmax_backward_large", softmax_backward_flipped),
    ("03_softmax_ce_backward", ce_naive), ("03_softmax_ce_backward", ce_log_of_softmax),
    ("03_softmax_ce_backward", ce_before_softmax), ("03_softmax_ce_backward", ce_flipped),
    ("03_softmax_ce_backward", ce_div_flipped), ("03_softmax_ce_backward", ce_lse_without_max),
    ("03_softmax_ce_backward", ce_one_hot_div),
]


@pytest.mark.parametrize("part_id, fn", GIVE_AWAY_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_no_hint_states_the_result_the_part_asks_for(part_id, fn):
    message = check_message(part_id, fn)
    assert "Hint" in message or "memory" in message or "disagree" in message, message
    flat = message.replace(" ", "")
    for form in CLOSED_FORMS:
        assert form not in flat, f"{form!r} handed over in:\n{message}"


# -- what the hidden cases hold ---------------------------------------------------------------------
def _inputs(part_id, seed):
    """Every input of the hidden cases of a seed (a bundled part's case holds several)."""
    cases = get_part(part_id).hidden_cases(hidden_rng(part_id, seed))
    return [q for c in cases for q in c.payload.get("bundle", [c.payload])]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_hidden_case_holds_one_unit_large_logits_and_a_wider_vector(seed):
    for part_id in ("03_softmax", "03_softmax_jacobian", "03_softmax_backward", "03_softmax_ce_backward"):
        for case in get_part(part_id).hidden_cases(hidden_rng(part_id, seed)):
            widths = [len(q["z"]) for q in case.payload["bundle"]]
            assert widths[0] == 1 and min(widths[1:]) >= 2, (part_id, widths)
            assert np.max(np.abs(case.payload["bundle"][1]["z"])) > 0.7 * BIG, part_id
    targets = [q["d"] for q in _inputs("03_softmax_ce_backward", seed)]
    assert any(max(d) == 1.0 for d in targets) and any(0 < max(d) < 1 for d in targets)


@pytest.mark.parametrize("seed", SEEDS)
def test_hidden_jacobians_are_not_symmetric_and_some_not_square(seed):
    for case in get_part("03_vector_backward").hidden_cases(hidden_rng("03_vector_backward", seed)):
        shapes = [np.shape(q["J"]) for q in case.payload["bundle"]]
        assert shapes[0] == (1, 1) and shapes[1][0] == shapes[1][1] >= 2 and shapes[2][0] != shapes[2][1]
        J = np.array(case.payload["bundle"][1]["J"])
        assert not np.allclose(J, J.T)


@pytest.mark.parametrize("seed", SEEDS)
def test_hidden_products_share_units_and_square_one(seed):
    for c in get_part("03_multiplicative_backward").hidden_cases(hidden_rng("03_multiplicative_backward", seed)):
        pairs = c.payload["pairs"]
        assert any(j == l for j, l in pairs)
        used = [u for pair in pairs for u in pair]
        assert any(used.count(u) > 1 for u in used)


def test_the_large_part_draws_large_widths_and_checks_scattered_entries():
    part = get_part("03_softmax_backward_large")
    for seed in SEEDS:
        for case in part.hidden_cases(hidden_rng(part.id, seed)):
            assert LARGE_WIDTH[0] <= case.payload["width"] < LARGE_WIDTH[1]
            assert len(case.payload["indices"]) >= 60


def test_the_worked_numbers_of_the_examples():
    hand = bp.examples.SOFTMAX_HAND
    assert np.allclose(softmax(np.array(hand["z"])), hand["numbers"]["y"])
    assert np.allclose(softmax_jacobian(np.array(hand["z"])) * 36, hand["numbers"]["jacobian_36ths"])
    div, dz = softmax_ce_backward(np.array(hand["z"]), np.array(hand["d"]))
    assert np.isclose(div, hand["numbers"]["Div"]) and np.allclose(dz, hand["numbers"]["dDiv/dz"])
    mult = bp.examples.MULTIPLICATIVE_HAND
    out = multiplicative_backward(np.array(mult["dDiv/do"]), np.array(mult["y"]), mult["pairs"])
    assert np.allclose(out, mult["numbers"]["dDiv/dy"])
