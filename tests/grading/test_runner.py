"""Tests backprop.grading.runner: a kernel per submission, with a time limit, output counted and never kept."""

from __future__ import annotations

import pytest

from backprop.grading.runner import RESULT_MIME, KernelSession


@pytest.fixture(scope="module")
def session():
    with KernelSession(timeout=5.0) as s:
        yield s


def test_code_runs_and_output_is_counted_not_kept(session):
    run = session.execute("print('x' * 1000)")
    assert run.status == "ok" and run.output_chars == 1001 and run.results == []


def test_an_error_is_reported_by_name_and_message(session):
    run = session.execute("raise ValueError('no')")
    assert run.status == "error" and run.error == ("ValueError", "no")


def test_results_come_back_only_through_the_result_type(session):
    run = session.execute(f"from IPython.display import display; display({{{RESULT_MIME!r}: 'hello'}}, raw=True)")
    assert run.results == ["hello"]


def test_an_endless_loop_is_stopped_and_the_kernel_is_usable_again(session):
    run = session.execute("while True: pass", timeout=1.0)
    assert run.status == "timeout"
    assert session.execute("1 + 1").status == "ok"


def test_a_kernel_that_dies_is_restarted(session):
    run = session.execute("import os; os._exit(1)")
    assert run.status == "died"
    assert session.execute("print(2)").output_chars == 2
