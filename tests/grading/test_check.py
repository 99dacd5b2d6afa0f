"""Tests backprop.grading's self-check (check, CheckFailed): one line when right, the entry and the rule when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop.grading import PARTS, check, get_part
from strategies import check_message

ROOT = Path(__file__).resolve().parents[2]


def test_a_passing_check_prints_one_line(capsys):
    check("02_input_step", lambda dz, w: w @ dz)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✓ 02_input_step")


def test_the_check_names_the_entry_as_the_lecture_does_and_expected_versus_got():
    msg = check_message("02_input_step", lambda dz, w: w @ dz + 1)
    assert "dDiv/dy(1)_1 (dy_prev[0]): expected -2, got -1" in msg and "layer 2 of the two-ReLU example" in msg


def test_the_check_runs_the_graders_own_kernel_side_code():
    # what the check cell runs is what the grader sends: an argument changed in place is caught here too
    def in_place(dz, w):
        dz *= 1.0
        dz[0] += 0.0
        w[0][0] = 5.0
        return w @ dz

    msg = check_message("02_input_step", in_place)
    assert "`input_step` changed its argument `w_k` in place (w(2)_11 (w_k[0][0]))" in msg


def test_every_part_has_public_cases_and_deterministic_hidden_ones():
    from backprop.grading import hidden_rng

    get_part("01_local_derivatives")
    assert len(PARTS) == 30
    for part in PARTS.values():
        assert part.public_cases()
        first = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 1))]
        again = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 1))]
        other = [c.payload for c in part.hidden_cases(hidden_rng(part.id, 2))]
        assert first == again
        assert part.hidden_count == 0 or first != other


def test_check_rejects_the_wrong_number_of_functions():
    with pytest.raises(TypeError, match="expected 1 function"):
        check("02_forward")
    with pytest.raises(KeyError, match="02_nothing"):
        check("02_nothing", print)


def test_a_helper_that_is_not_answered_is_blamed_as_the_grader_blames_it():
    # a notebook's namespace: softmax_jacobian calls the student's softmax, which still raises
    notebook = {}
    exec("import numpy as np\n"
         "def softmax(z):\n    raise NotImplementedError()\n"
         "def softmax_jacobian(z):\n    y = softmax(z)\n    return np.diag(y) - np.outer(y, y)\n", notebook)
    msg = check_message("03_softmax_jacobian", notebook["softmax_jacobian"])
    assert "`softmax`, which `softmax_jacobian` calls, still raises NotImplementedError" in msg
    notebook["softmax"] = lambda z: __import__("numpy").exp(z) / __import__("numpy").exp(z).sum()
    exec("def softmax_jacobian(z):\n    raise NotImplementedError()\n", notebook)
    assert "`softmax_jacobian` still raises NotImplementedError" in check_message("03_softmax_jacobian",
                                                                               notebook["softmax_jacobian"])


def _homework02(*edits: tuple[str, str]) -> dict:
    """The namespace of a run of the solutions' homework 02 answer cells, each (old, new) edit made to them first."""
    import numpy as np
    from backprop.grading.grade import load_assignment

    code = "\n".join(c.source for c in load_assignment(ROOT / "solutions" / "02_scalar_backprop.ipynb").cells if c.solution)
    for old, new in edits:
        assert old in code
        code = code.replace(old, new)
    notebook = {"np": np}
    exec(code, notebook)
    return notebook


def test_a_check_failing_through_a_function_it_calls_names_that_functions_check(capsys):
    # a sign flip in backward_pass (the divergence's arguments swapped): average_gradients fails through it
    notebook = _homework02(("divergence.derivative(y[N], d)", "divergence.derivative(d, y[N])"))
    msg = check_message("02_average_gradients", notebook["average_gradients"])
    assert ("`average_gradients` calls `backward_pass`, which fails its own check (02_backward_pass): fix that first; "
            "this check may then pass.") in msg
    assert "forward_pass`, which" not in msg  # forward_pass passes its own check: not blamed
    # a backward pass that is right: average_gradients's failure is its own, and nothing else is named
    notebook = _homework02(("return total / T,", "return total,"))
    msg = check_message("02_average_gradients", notebook["average_gradients"])
    assert "fails its own check" not in msg and "loss: expected" in msg
    assert capsys.readouterr().out == ""  # the other part's tests ran quietly
