"""Shared test settings, and the markers that say which notebook a test serves.

Hypothesis: no deadline (CI machines are shared and noisy; speed is measured by
the benchmark, never by tests), and derandomized on CI so a run is reproducible.
Example counts are set per test (200 for every finite-difference witness).

Markers are kept by hand, per notebook, as minitorch keeps one per task:
:data:`NOTEBOOK_TESTS` lists the test files of what notebook NN adds to the
library (its experiments, views, witnesses and homework), and every test whose id
names a notebook's file (nbval's cells, the browser's and the notebook checks)
serves that notebook.  ``make test PYTEST_ARGS="-m nb04"`` runs notebook 04's
slice; the concepts every notebook stands on (tests/core) carry no marker and run
in the whole suite.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

# One BLAS thread in each test process and each kernel it starts (they inherit the environment): pytest-xdist
# already keeps both cores busy, and idle BLAS threads spinning beside it only burn CPU-seconds.  Every stored
# output still compares equal under it (nbval and the browser's comparison pass).
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from scheduling import LONGEST_FIRST, work_unit  # noqa: E402
from strategies import CHROMIUM_ARGS, chromium  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: notebook -> the test files of what it adds to the library (hand-kept)
NOTEBOOK_TESTS = {
    "00": ("experiments/test_descent.py", "symbolic/test_surfaces.py", "views/test_plots.py", "views/test_descent.py",
           "views/test_widgets.py"),
    "01": ("symbolic/test_influence.py", "symbolic/test_paths.py", "views/test_dag.py", "views/test_paths.py",
           "grading/test_hw01.py"),
    "02": ("core/test_scalar_net.py", "core/test_graph.py", "symbolic/test_network.py", "views/test_network.py",
           "views/test_tables.py", "views/test_labels.py", "views/test_stepper.py", "grading/test_hw02.py"),
    "03": ("symbolic/test_softmax.py", "views/test_softmax.py", "test_notation.py", "grading/test_hw03.py"),
    "04": ("experiments/test_subgradients.py", "symbolic/test_subgradients.py", "views/test_subgradient.py",
           "grading/test_hw04.py"),
    "05": ("experiments/test_vector_form.py", "views/test_shapes.py", "test_notation.py", "grading/test_hw05.py"),
    "06": ("experiments/test_dashboard.py", "experiments/test_lab.py", "views/test_dashboard.py",
           "views/test_training.py", "core/test_training.py", "grading/test_hw06.py"),
}

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist hands out ``work_unit``s, in the order of the collection (``--no-loadscope-reorder``)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return work_unit(nodeid)

    return WorkUnits(config, log)


def pytest_configure(config):
    missing = [f"{nb}: {path}" for nb, paths in NOTEBOOK_TESTS.items() for path in paths
               if not (ROOT / "tests" / path).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py NOTEBOOK_TESTS names files that do not exist: {missing}")


def _notebooks_served(item) -> set[str]:
    """The notebooks a test serves: its file's, by the table, and the one its id names (``02_scalar_backprop``)."""
    path = item.nodeid.split("::", 1)[0]
    numbers = {nb for nb, paths in NOTEBOOK_TESTS.items() if path.removeprefix("tests/") in paths}
    named = re.search(r"(?<![0-9])(\d\d)_[a-z][a-z0-9_]*", item.nodeid)
    if named and named.group(1) in NOTEBOOK_TESTS:
        numbers.add(named.group(1))
    return numbers


@pytest.hookimpl(tryfirst=True)  # the markers before -m selects by them
def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))  # stable
    for item in items:
        for nb in sorted(_notebooks_served(item)):
            item.add_marker(getattr(pytest.mark, f"nb{nb}"))


BROWSER_TEST = re.compile(r"^tests/test_browser\.py::test_notebook_(\d\d)_")


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")  # after -m and -k have chosen
def pytest_collection_modifyitems_browser_compares(config, items):  # (pytest reads pytest_* names only)
    """A lecture notebook whose browser test runs here is run and compared there (every cell, as nbval compares):
    its nbval cells leave the run, so it is executed once.  Without Chromium, or run alone, nbval runs them."""
    if chromium() is None or importlib.util.find_spec("playwright") is None:
        return
    compared = {m.group(1) for item in items if (m := BROWSER_TEST.match(item.nodeid))}
    cells = [item for item in items if re.match(r"notebooks/(\d\d)_", item.nodeid)
             and item.nodeid[len("notebooks/"):][:2] in compared]
    if cells:
        config.hook.pytest_deselected(items=cells)
        dropped = set(map(id, cells))
        items[:] = [item for item in items if id(item) not in dropped]
        config._browser_compares = sorted(compared)


def pytest_terminal_summary(terminalreporter, config):
    if getattr(config, "_browser_compares", None):
        terminalreporter.write_line(f"notebooks {', '.join(config._browser_compares)}: outputs compared in the browser "
                                    f"(tests/test_browser.py), nbval's run of their cells left out")


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium per test process, driven by playwright, shared by the browser tests and the reading
    edition's (playwright's sync API runs one at a time in a thread)."""
    path = chromium()
    if path is None:
        pytest.skip("needs Chromium: apt-get install chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
