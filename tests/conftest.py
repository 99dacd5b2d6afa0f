"""Shared test settings, and the markers that say which notebook each test serves.

Hypothesis: no deadline (CI machines are shared and noisy; speed is measured by
the benchmark, never by tests), and derandomized on CI so a run is reproducible.
Example counts are set per test (200 for every finite-difference witness).

Markers are derived, never typed: the tests mirror the library
(``tests/core/test_layers.py`` tests ``backprop/core/layers.py``), and a test
carries ``nbNN`` when notebook NN (the lecture notebook or its homework) uses the
module it tests, directly or through the modules that module imports.  A test
whose id names a notebook's file (nbval's cells, the notebook checks) serves that
notebook too.  So ``make test PYTEST_ARGS="-m nb02"`` runs everything notebook 02
stands on; ``tests/test_markers.py`` checks that every library name a notebook
calls appears in a test that carries its marker.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from course_map import module_under_test, notebook_of_id, served_modules
from scheduling import LONGEST_FIRST, work_unit

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


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))  # stable
    served = served_modules()  # {"02": {"core.scalar_net", ...}, ...}
    for item in items:
        module = module_under_test(item.path)
        numbers = {nb for nb, modules in served.items() if module in modules}
        named = notebook_of_id(item.nodeid)
        if named:
            numbers.add(named)
        for nb in sorted(numbers):
            item.add_marker(getattr(pytest.mark, f"nb{nb}"))

