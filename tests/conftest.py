"""Shared test settings.

Hypothesis: no deadline (CI machines are shared and noisy; speed is measured by
the benchmark, never by tests), and derandomized on CI so a run is reproducible.
Example counts are set per test (200 for every finite-difference rule).
"""

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
