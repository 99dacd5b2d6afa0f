"""Tests backprop.grading.runner: a kernel per submission, in bubblewrap or not, with a time limit, output counted.

Each test runs twice: in a plain kernel (the grader's ``--no-sandbox``) and in the
sandbox (skipped, saying so, where bubblewrap is not installed, unless
BACKPROP_REQUIRE_SANDBOX=1).
"""

from __future__ import annotations

import os
import shutil

import pytest

from backprop.grading import hw02
from backprop.grading import sandbox as sb
from backprop.grading.runner import MAX_MESSAGE_BYTES, RESULT_MIME, KernelSession

BWRAP = shutil.which("bwrap")
REQUIRED = os.environ.get("BACKPROP_REQUIRE_SANDBOX") == "1"


@pytest.fixture(scope="module", params=["plain", "sandbox"])
def session(request, tmp_path_factory):
    if request.param == "sandbox" and not BWRAP and not REQUIRED:
        pytest.skip("bubblewrap (bwrap) is not installed: .ci/install-bubblewrap, or apt-get install bubblewrap")
    bwrap = sb.check_bwrap() if request.param == "sandbox" else None
    spec = sb.make_spec(tmp_path_factory.mktemp("pkg"), hw02.MAY_USE, hw02.PACKAGES, bwrap)
    with KernelSession(timeout=5.0, spec=spec, interrupt_grace=2.0) as s:  # 2 s, not 5, before a restart
        yield s


def test_code_runs_and_output_is_counted_not_kept(session):
    run = session.execute("print('x' * 1000)")
    assert run.status == "ok" and run.output_chars == 1001 and run.error is None


def test_the_kernel_imports_the_filtered_package(session):
    assert session.execute("import backprop.core.activations").status == "ok"
    run = session.execute("import backprop.core.scalar_net")
    assert run.status == "error" and run.error == ("ModuleNotFoundError", "No module named 'backprop.core.scalar_net'")


def test_an_error_is_reported_by_name_and_message(session):
    run = session.execute("raise ValueError('no')")
    assert run.status == "error" and run.error == ("ValueError", "no")


def test_a_result_comes_back_in_a_message_and_a_program_is_written_read_only(session):
    program = session.case_path("x = 1\n")
    assert os.stat(program).st_mode & 0o222 == 0 and os.path.dirname(program) == session.cases
    run = session.execute(f"from IPython.display import publish_display_data\npublish_display_data({{{RESULT_MIME!r}: 'hello'}})")
    assert run.status == "ok" and run.result == "hello" and run.output_chars == 0
    assert session.execute("1").result is None
    too_long = session.execute(f"publish_display_data({{{RESULT_MIME!r}: 'x' * 5000}})", result_limit=100)
    assert too_long.status == "ok" and too_long.result is None


def test_a_timeout_that_forces_a_restart_says_so(session):
    run = session.execute("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                          "while True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass",
                          timeout=1.0)
    assert run.status == "timeout" and run.restarted
    assert session.execute("x").status == "error"  # a fresh kernel


def test_an_endless_loop_is_stopped_and_the_kernel_is_usable_again(session):
    run = session.execute("x = 41\nwhile True: pass", timeout=1.0)
    assert run.status == "timeout"
    assert session.execute("assert x == 41").status == "ok"  # interrupted, not restarted


def test_a_kernel_that_dies_is_restarted(session):
    run = session.execute("import os; os._exit(1)")
    assert run.status == "died" and run.restarted
    assert session.execute("print(2)").output_chars == 2


def test_a_message_over_the_limit_never_reaches_the_grader(session):
    # the attacks' iopub flood, small: each message over MAX_MESSAGE_BYTES is dropped by ZeroMQ (its socket then
    # reconnects, so the request's end is lost too: a timeout), and the kernel is usable again
    size = MAX_MESSAGE_BYTES + (4 << 20)
    run = session.execute(f"from IPython.display import publish_display_data\nfor _ in range(2):\n"
                          f"    publish_display_data({{'text/plain': 'x' * {size}}})", timeout=1.0)
    assert run.output_chars == 0 and run.status == "timeout"
    assert session.execute("print(2)").output_chars == 2
