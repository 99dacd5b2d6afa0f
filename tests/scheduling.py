"""How pytest-xdist shares the suite between the cores: the work units and their order (used by conftest.py)."""

from __future__ import annotations

import re

#: the work units (see ``work_unit``) that take longest, measured with ``--durations``, started first
#: (``--no-loadscope-reorder`` keeps this order): a long one started last would run alone at the end while
#: the other core idles.  The browser's units (one notebook each, 16 s to 49 s on a quiet 2-core machine) are
#: interleaved with the other long ones, so that both workers draw from them from the start; the attacks'
#: batch (84 s, most of it waiting on its deadlines) starts first.
LONGEST_FIRST = ("tests/grading/test_attacks.py", "tests/test_browser.py:06", "tests/grading/test_grade.py",
                 "tests/test_book.py", "tests/test_browser.py:02", "tests/grading/test_runner.py",
                 "tests/test_browser.py:03", "tests/grading/test_hw06.py", "tests/test_browser.py:01",
                 "tests/grading/test_generate.py", "tests/test_browser.py:04", "tests/views/test_network.py",
                 "tests/test_browser.py:00", "tests/views/test_style.py", "tests/test_browser.py:05",
                 "tests/symbolic/test_rules.py")


def work_unit(nodeid: str) -> str:
    """What one worker runs together: a test file (its module fixtures are built once, a notebook's cells
    share one kernel), except the browser tests: a unit per notebook, since the unrun notebook's page is
    the page its widgets are then used in."""
    path = nodeid.split("::", 1)[0]
    if path == "tests/test_browser.py":
        found = re.search(r"(?:test_notebook_|\[)(\d\d)_", nodeid)
        return f"{path}:{found.group(1)}" if found else path
    return path
