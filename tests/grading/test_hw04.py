"""Tests backprop.grading.hw04: homework 04's checks accept every valid subgradient, catch every bug they should,
and name the entry, the factor and the valid range.

- right answers written with different conventions at the corner (slope 0, 1/2, 1; ties to the first, the
  last, split evenly) pass the public and the hidden cases of every seed tried;
- a bank of wrong answers, one realistic bug each: each fails the public cases (the student's self-check)
  and the hidden cases of every seed, and scores at most a stated share of its part;
- the diagnosis of a typical mistake, one test each;
- the hidden cases of every seed hold corners (exact zeros, ties, kinks within h);
- the grader end to end on the solution, the untouched exercise and crafted submissions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop.grading import get_part, hidden_rng, hw04
from backprop.grading.parts import part_score
from strategies import case_verdicts, check_message, grade_cli, notebook_with_answer

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "04_subgradients.ipynb"
EXERCISE = ROOT / "exercises" / "04_subgradients.ipynb"
SEEDS = range(6)
POINTS = {"04_relu_backward": 1, "04_leaky_relu_backward": 1, "04_max_backward": 2, "04_kink_aware_check": 2}




def _score(part_id, fn, seed=20261121):
    part = get_part(part_id)
    verdicts = case_verdicts(part_id, fn) + case_verdicts(part_id, fn, seed)
    return part_score(part, POINTS[part_id], verdicts)


# -- right answers, several conventions ---------------------------------------------------------------------
def relu_slope_0(dy, z):
    return dy * (z > 0)


def relu_slope_half(dy, z):
    return dy * np.where(z > 0, 1.0, np.where(z < 0, 0.0, 0.5))


def relu_slope_1(dy, z):
    return dy * (z >= 0)


def relu_loops(dy, z):
    dz = np.zeros(len(z))
    for i in range(len(z)):
        dz[i] = dy[i] if z[i] > 0 else 0.0
    return dz


def leaky_alpha(dy, z, alpha):
    return dy * np.where(z > 0, 1.0, alpha)


def leaky_one(dy, z, alpha):
    return dy * np.where(z >= 0, 1.0, alpha)


def _routed(z, columns, values):
    """dz of z's shape with ``values`` in column ``columns[b]`` of each row b, 0 elsewhere."""
    dz = np.zeros(z.shape)
    dz[np.arange(z.shape[0]), columns] = values
    return dz


def max_first(dy, z):
    return _routed(z, np.argmax(z, axis=1), dy)


def max_last(dy, z):
    return _routed(z, z.shape[1] - 1 - np.argmax(z[:, ::-1], axis=1), dy)


def max_split(dy, z):
    top = z == z.max(axis=1, keepdims=True)
    return dy[:, None] * top / top.sum(axis=1, keepdims=True)


def check_right(f, df, z, kinks, h, relative=True):
    out = []
    for v in z:
        if any(abs(v - k) <= h for k in kinks):
            out.append("kink")
            continue
        numeric, analytic = (f(v + h) - f(v - h)) / (2 * h), float(df(v))
        scale = max(1.0, abs(analytic), abs(numeric)) if relative else 1.0
        out.append("ok" if abs(analytic - numeric) <= 1e-6 * scale else "FAIL")
    return out


def check_vectorised(f, df, z, kinks, h):
    near = np.zeros(z.shape, dtype=bool)
    for k in kinks:
        near |= (z - h <= k) & (k <= z + h)
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    analytic = df(z)
    ok = np.abs(analytic - numeric) <= 1e-6 * np.maximum(1, np.maximum(np.abs(analytic), np.abs(numeric)))
    return np.where(near, "kink", np.where(ok, "ok", "FAIL"))  # an array of strings is accepted too


RIGHT = [("04_relu_backward", f) for f in (relu_slope_0, relu_slope_half, relu_slope_1, relu_loops)] + \
        [("04_leaky_relu_backward", f) for f in (leaky_alpha, leaky_one)] + \
        [("04_max_backward", f) for f in (max_first, max_last, max_split)] + \
        [("04_kink_aware_check", f) for f in (check_right, check_vectorised)]


@pytest.mark.parametrize("part_id, fn", RIGHT, ids=lambda v: getattr(v, "__name__", v))
def test_every_valid_convention_passes_every_case_of_every_seed(part_id, fn):
    for seed in [None, *SEEDS]:
        failed = [(c.label, v.diagnosis) for c, v in case_verdicts(part_id, fn, seed) if not v.passed]
        assert not failed, (seed, failed[:2])
    assert _score(part_id, fn) == POINTS[part_id]


# -- wrong answers -------------------------------------------------------------------------------------------
def relu_slope_outside(dy, z):  # 1.5 at the corner: not a subgradient
    return dy * np.where(z > 0, 1.0, np.where(z < 0, 0.0, 1.5))


def relu_negative_at_zero(dy, z):  # -0.5 at the corner
    return dy * np.where(z > 0, 1.0, np.where(z < 0, 0.0, -0.5))


def relu_hard_coded(dy, z):  # the two-ReLU example's answer, whatever the input
    return np.array([-2.0, 0.0])


def relu_times_output(dy, z):
    return dy * np.maximum(z, 0)


def relu_no_upstream(dy, z):
    return (z > 0) * 1.0


def leaky_like_relu(dy, z, alpha):
    return dy * (z > 0)


def leaky_below_alpha(dy, z, alpha):  # slope 0 at the corner, below alpha
    return dy * np.where(z > 0, 1.0, np.where(z < 0, alpha, 0.0))


def max_every_tie(dy, z):
    return dy[:, None] * (z == z.max(axis=1, keepdims=True))


def max_to_all(dy, z):
    return np.repeat(dy[:, None], z.shape[1], axis=1)


def max_to_smallest(dy, z):
    return _routed(z, np.argmin(z, axis=1), dy)


def max_no_upstream(dy, z):
    return _routed(z, np.argmax(z, axis=1), 1.0)


def max_hard_coded(dy, z):  # Poll 3's answer
    return np.array([[0.0, 0.0, 1.0]])


def check_all_ok(f, df, z, kinks, h):
    return ["ok"] * len(z)


def check_no_kinks(f, df, z, kinks, h):
    return check_right(f, df, z, [], h)


def check_exact_kinks_only(f, df, z, kinks, h):
    return ["kink" if any(v == k for k in kinks) else s for v, s in zip(z, check_right(f, df, z, [], h))]


def check_reach_2h(f, df, z, kinks, h):
    return check_right(f, df, z, kinks, 2 * h)


def check_never_fails(f, df, z, kinks, h):
    return ["ok" if s == "FAIL" else s for s in check_right(f, df, z, kinks, h)]


def check_absolute_tolerance(f, df, z, kinks, h):
    """|df - numeric| <= 1e-6, the scale max(1, |df|, |numeric|) of the homework's relative tolerance left out."""
    return check_right(f, df, z, kinks, h, relative=False)


def check_strictly_within_h(f, df, z, kinks, h):
    """|z - kink| < h: an entry exactly h from a kink is judged, not flagged."""
    return ["kink" if any(abs(v - k) < h for k in kinks) else s for v, s in zip(z, check_right(f, df, z, [], h))]


def check_kink_only_when_failing(f, df, z, kinks, h):
    """The bank's escape: judge every entry, and call a failure near a kink a kink (a pass there stays 'ok')."""
    judged = check_right(f, df, z, [], h)
    return ["kink" if s == "FAIL" and any(abs(v - k) <= h for k in kinks) else s for v, s in zip(z, judged)]


def check_reads_the_case(f, df, z, kinks, h):
    """An attack: the statuses read off what the function receives (df's closure, the caller's frames) instead of
    a gradient check: 'kink' within h, and 'FAIL' wherever the data holds a marker of a planted bug."""
    import sys

    seen = [c.cell_contents for c in (df.__closure__ or ()) if not callable(c.cell_contents)]
    frame = sys._getframe(1)
    while frame is not None:
        seen += [v for v in frame.f_locals.values() if isinstance(v, (dict, list, tuple))]
        frame = frame.f_back
    bug = next((x.get("bug") for x in seen if isinstance(x, dict) and x.get("bug")), None)
    out = []
    for v in z:
        if any(abs(v - k) <= h for k in kinks):
            out.append("kink")
        elif bug is not None:
            out.append("FAIL" if bug[0] < v < bug[1] else "ok")
        else:
            out.append("ok")
    return out


#: (part, wrong answer, the most it may score as a share of the part): the table of the closing note
WRONG = [
    ("04_relu_backward", relu_slope_outside, 0.0),
    ("04_relu_backward", relu_negative_at_zero, 0.0),
    ("04_relu_backward", relu_hard_coded, 0.0),
    ("04_relu_backward", relu_times_output, 0.0),
    ("04_relu_backward", relu_no_upstream, 0.0),
    ("04_leaky_relu_backward", leaky_like_relu, 0.0),
    ("04_leaky_relu_backward", leaky_below_alpha, 0.0),
    ("04_max_backward", max_every_tie, 0.2),  # right on the public cases without a tie; every hidden one has ties
    ("04_max_backward", max_to_all, 0.1),  # right on the public max unit of one input
    ("04_max_backward", max_to_smallest, 0.1),
    ("04_max_backward", max_no_upstream, 0.1),
    ("04_max_backward", max_hard_coded, 0.1),  # right on Poll 3's case it copies
    ("04_kink_aware_check", check_all_ok, 0.1),
    ("04_kink_aware_check", check_no_kinks, 0.2),
    ("04_kink_aware_check", check_exact_kinks_only, 0.2),
    ("04_kink_aware_check", check_reach_2h, 0.2),
    ("04_kink_aware_check", check_never_fails, 0.2),
    ("04_kink_aware_check", check_kink_only_when_failing, 0.2),
    ("04_kink_aware_check", check_reads_the_case, 0.2),
    ("04_kink_aware_check", check_absolute_tolerance, 0.95),  # wrong on the steep case alone, 1 of the 12
    ("04_kink_aware_check", check_strictly_within_h, 0.45),  # wrong on the 7 of the 12 cases with a kink at 0
]


@pytest.mark.parametrize("fn", [check_kink_only_when_failing, check_exact_kinks_only, check_never_fails,
                                check_reads_the_case, check_absolute_tolerance, check_strictly_within_h],
                         ids=lambda f: f.__name__)
def test_a_wrong_kink_check_escapes_no_seed_of_twelve(fn):
    # 12 seeds, not 40: a hidden set that lets a wrong check through on a third of the seeds fails here
    # (mutation run in /work/notes/suite-grading-mutations.md, round 2)
    escaped = [seed for seed in range(12) if all(v.passed for _, v in case_verdicts("04_kink_aware_check", fn, seed))]
    assert escaped == []


def test_what_the_check_receives_names_no_planted_bug():
    # the claimed derivative comes as values per interval: which of them are wrong takes comparing them with f
    for case in get_part("04_kink_aware_check").hidden_cases(hidden_rng("04_kink_aware_check", 0)):
        assert set(case.payload) == {"function", "z", "kinks", "h", "df"}
        assert set(case.payload["df"]) == {"breaks", "values", "tanh"}
        assert case.payload["df"]["breaks"] == case.payload["kinks"]


@pytest.mark.parametrize("part_id, fn, most", WRONG, ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_wrong_answer_fails_the_self_check_and_the_hidden_cases_of_every_seed(part_id, fn, most):
    assert not all(v.passed for _, v in case_verdicts(part_id, fn))  # the self-check catches it
    for seed in SEEDS:
        assert not all(v.passed for _, v in case_verdicts(part_id, fn, seed)), seed
    assert _score(part_id, fn) <= most * POINTS[part_id]


def score_table() -> list[tuple[str, str, float, float]]:
    """(part, wrong answer, points, out of): what each crafted wrong answer scores at the default seed."""
    return [(p, fn.__name__, _score(p, fn), POINTS[p]) for p, fn, _ in WRONG]


# -- diagnostics, one each --------------------------------------------------------------------------------------
def test_a_slope_outside_the_range_at_the_corner_is_named_with_the_range():
    message = check_message("04_relu_backward", relu_slope_outside)
    assert "dDiv/dz(k)_3 (dz[2])" in message and "z is at the kink" in message
    assert "expected a value in [0, 1.5], got 2.25" in message
    assert "only the units exactly at the kink" in message and "[0, 1]" in message


def test_a_missing_upstream_factor_is_named():
    message = check_message("04_relu_backward", relu_no_upstream)
    assert "dDiv/dz(k)_1 (dz[0])" in message and "expected -2, got 1" in message
    assert "the factor dDiv/dy" in message


def test_the_relu_itself_instead_of_its_slope_is_named():
    assert "instead of its slope" in check_message("04_relu_backward", relu_times_output)


def test_a_leaky_relu_treated_as_a_relu_is_told_alpha():
    message = check_message("04_leaky_relu_backward", leaky_like_relu)
    assert "slope is alpha = 0.1, not 0" in message and "expected 0.15, got 0" in message


def test_a_leaky_slope_below_alpha_at_the_corner_gets_the_range():
    message = check_message("04_leaky_relu_backward", leaky_below_alpha)
    assert "[alpha, 1]" in message and "expected a value in [0.1, 1], got 0" in message


def test_a_tie_counted_twice_is_explained():
    message = check_message("04_max_backward", max_every_tie)
    assert "max unit 1: inputs 1, 3 (dz[0][0], dz[0][2]) tie for the largest" in message
    assert "summing to it, got [1.5, 1.5] (sum 3)" in message and "counted twice" in message


def test_routing_to_every_input_is_compared_with_an_add_gate():
    message = check_message("04_max_backward", max_to_all)
    assert "dDiv/dz_1 of max unit 1 (dz[0][0]) got 1" in message and "as through an add gate" in message


def test_a_max_taken_down_the_columns_is_named():
    def max_down_columns(dy, z):
        dz = np.zeros(np.shape(z))
        for col, row in enumerate(np.argmax(z, axis=0)):
            dz[row, col] = dy[row]
        return dz

    message = check_message("04_max_backward", max_down_columns)
    # on Poll 3's single row it cannot be told from an add gate, so both are named
    assert "as through an add gate, or because the largest input was looked for down each column" in message
    payload = {"dy": [1.5, -2.0], "z": [[3.0, 1.0, 0.0], [0.5, 2.0, 0.25]]}
    part = get_part("04_max_backward")
    verdict = part.judge(payload, max_down_columns(np.array(payload["dy"]), np.array(payload["z"])).tolist(), None)
    assert "The largest input was looked for down each column" in verdict.diagnosis
    assert "add gate" not in verdict.diagnosis


def test_routing_to_the_smallest_is_named():
    assert "went to the smallest input" in check_message("04_max_backward", max_to_smallest)


def test_a_missing_upstream_factor_in_max_is_named():
    assert "the factor dDiv/dy is missing" in check_message("04_max_backward", max_no_upstream)


def test_a_hard_coded_max_answer_has_the_wrong_shape():
    assert "dz should have shape (2, 3), got (1, 3)" in check_message("04_max_backward", max_hard_coded)


def test_a_check_that_never_spots_a_kink_is_told_so():
    assert "every entry is 'ok'" in check_message("04_kink_aware_check", check_all_ok)


def test_a_check_that_flags_only_exact_kinks_is_told_about_h():
    message = check_message("04_kink_aware_check", check_exact_kinks_only)
    assert "z_2 = 4e-06 (status[1]; kinks at 0, h = 1e-05, 0.4 h from the nearest kink): expected 'kink'" in message
    assert "within h of a kink" in message


def test_a_check_reaching_2h_is_told_the_interval():
    message = check_message("04_kink_aware_check", check_reach_2h)
    assert "1.5 h from the nearest kink): expected 'ok', got 'kink'" in message
    assert "farther than h from every kink" in message


def test_a_check_without_kinks_reports_them_as_failures():
    assert "reported as a failure" in check_message("04_kink_aware_check", check_no_kinks)


def test_a_check_with_an_absolute_tolerance_is_told_the_tolerance_is_relative():
    message = check_message("04_kink_aware_check", check_absolute_tolerance)
    assert "100 tanh(z) + 50 |z|" in message and "a right derivative failed where it is large" in message
    assert "is more than 1e-06, but within 1e-06 * max(1, |df(z)|, |numeric|)" in message
    assert "it is not an absolute 1e-06" in message


def test_a_check_that_flags_only_strictly_within_h_is_told_about_the_edge():
    message = check_message("04_kink_aware_check", check_strictly_within_h)
    assert "z_6 = -1e-05 (status[5]; kinks at 0, h = 1e-05, 1 h from the nearest kink): expected 'kink', got 'ok'" in message
    assert "an entry exactly h from a kink (|z - kink| = h) was judged" in message and "not < h" in message


def test_a_relu_gated_by_the_sign_of_the_upstream_derivative_is_named():
    message = check_message("04_relu_backward", lambda dy, z: np.where(dy > 0, dy, 0.0))
    assert "the gate opens where dDiv/dy > 0: the ReLU's slope depends on z(k), the input of the forward pass" in message
    assert "or the product with dDiv/dy disagrees" not in message
    message = check_message("04_leaky_relu_backward", lambda dy, z, alpha: np.where(dy > 0, dy, alpha * dy))
    assert "the gate opens where dDiv/dy > 0" in message


def test_a_check_that_never_fails_is_told_a_wrong_derivative_passed():
    assert "a wrong derivative passed" in check_message("04_kink_aware_check", check_never_fails)


def test_an_argument_changed_in_place_is_named():
    def relu_in_place(dy, z):
        dy *= z > 0
        return dy

    message = check_message("04_relu_backward", relu_in_place)
    assert "changed its argument `dy` in place" in message and "dDiv/dy(k)_2 (dy[1])" in message


def test_a_status_that_is_not_a_string_is_refused():
    message = check_message("04_kink_aware_check", lambda f, df, z, kinks, h: [1] * len(z))
    assert "a list of strings" in message


# -- the hidden cases hold corners -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_every_hidden_case_holds_corners(seed):
    for part_id in ("04_relu_backward", "04_leaky_relu_backward"):
        cases = get_part(part_id).hidden_cases(hidden_rng(part_id, seed))
        assert len(cases) == 12
        for case in cases:
            z, dy = np.array(case.payload["z"]), np.array(case.payload["dy"])
            assert (z == 0).any() and (z > 0).any() and (z < 0).any() and (np.abs(dy) >= 0.1).all()
    for case in get_part("04_max_backward").hidden_cases(hidden_rng("04_max_backward", seed)):
        z = np.array(case.payload["z"])
        ties = (z == z.max(axis=1, keepdims=True)).sum(axis=1)
        assert (ties >= 2).any() and (ties == 1).any()
    statuses, functions = set(), set()
    for case in get_part("04_kink_aware_check").hidden_cases(hidden_rng("04_kink_aware_check", seed)):
        p = case.payload
        expected = get_part("04_kink_aware_check").expected(p)
        statuses |= set(expected)
        functions.add(p["function"])
        z, h = np.array(p["z"]), p["h"]
        for k in p["kinks"]:  # at the kink, within h, and between h and 2h
            gaps = np.abs(z - k) / h
            assert (gaps == 0).any() and ((gaps > 0) & (gaps < 1)).any() and ((gaps > 1) & (gaps < 2)).any()
            # never near the edge of the interval; exactly on it (|z - k| = h, exact only for k = 0) once per kink 0
            assert not ((gaps > 0.95) & (gaps < 1.05) & (gaps != 1)).any()
            assert (gaps == 1).sum() == (k == 0)
    assert statuses == {"ok", "FAIL", "kink"} and len(functions) >= 5


def test_the_homework_may_not_use_the_modules_that_hold_its_answers():
    assert set(hw04.MAY_USE) == {"core.checks"} and hw04.PACKAGES == ("numpy",)
    for part in hw04.PARTS:
        assert part.may_use == hw04.MAY_USE


# -- the grader end to end ----------------------------------------------------------------------------------------


#: only what takes the grading kernel: the library's answers are not in it (each realistic mistake and each valid
#: convention is judged in-process above, through the same kernel-side program)
CRAFTED = {
    "relu_library": ("relu_backward_code", "import backprop as bp\n\ndef relu_backward(dy, z):\n"
                     "    return bp.ReLU().backward(dy, z)\n"),
    "check_library": ("kink_aware_check_code",
                      "from backprop.core.gradcheck import check_derivative\n\n"
                      "def kink_aware_check(f, df, z, kinks, h):\n"
                      "    report = check_derivative(f, df, z, kinks=tuple(kinks), h=h, order=2)\n"
                      "    return [e.status for e in report.entries]\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hw04")
    subs = {"solution": SOLUTION, "exercise": EXERCISE}
    subs |= {name: notebook_with_answer(SOLUTION, tmp, name, {gid: src}) for name, (gid, src) in CRAFTED.items()}
    return {name: {p["id"]: p for p in report["parts"]} for name, report in grade_cli(subs).items()}


def _points(graded, name):
    return {pid: part["points"] for pid, part in graded[name].items()}


def test_the_solution_scores_full_marks_and_the_exercise_zero(graded):
    assert _points(graded, "solution") == POINTS
    assert set(_points(graded, "exercise").values()) == {0.0}
    assert all("not answered yet" in p["feedback"] for p in graded["exercise"].values())


def test_the_librarys_answers_are_out_of_reach(graded):
    for name, part_id, module in (("relu_library", "04_relu_backward", "backprop"),
                                  ("check_library", "04_kink_aware_check", "backprop.core.gradcheck")):
        part = graded[name][part_id]
        assert part["points"] == 0, part
        others = {pid: p["points"] for pid, p in graded[name].items() if pid != part_id}
        assert others == {pid: points for pid, points in POINTS.items() if pid != part_id}, others
        assert "must not use" in part["feedback"] or "not available" in part["feedback"] or \
               "has no attribute" in part["feedback"], part["feedback"]
