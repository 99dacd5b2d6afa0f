"""The work units pytest-xdist hands out (tests/scheduling.py): a notebook never split, none named in vain."""

from __future__ import annotations

import re
from pathlib import Path

from scheduling import LONGEST_FIRST, work_unit

ROOT = Path(__file__).resolve().parents[1]
BROWSER = "tests/test_browser.py"


def test_a_notebooks_cells_are_one_unit():
    units = {work_unit(f"notebooks/02_scalar_backprop.ipynb::Cell {i}") for i in range(30)}
    assert units == {"notebooks/02_scalar_backprop.ipynb"}
    assert work_unit("tests/core/test_layers.py::test_x[a-b]") == "tests/core/test_layers.py"


def test_each_browser_test_goes_with_its_notebooks_unrun_page():
    source = (ROOT / BROWSER).read_text()
    numbers = re.findall(r"^def test_notebook_(\d\d)_\w+\(", source, flags=re.M)
    lecture = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(numbers) == [name[:2] for name in lecture]  # one widget test per lecture notebook
    for name in lecture:
        unrun = work_unit(f"{BROWSER}::test_each_notebook_reads_well_before_it_is_run[{name}]")
        used = work_unit(f"{BROWSER}::test_notebook_{name[:2]}_widgets")
        assert unrun == used == f"{BROWSER}:{name[:2]}"


def test_every_unit_started_first_exists():
    for unit in LONGEST_FIRST:
        path, _, number = unit.partition(":")
        assert (ROOT / path).is_file(), unit
        if number:
            assert list((ROOT / "notebooks").glob(f"{number}_*.ipynb")), unit
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
