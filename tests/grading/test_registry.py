"""The registry of graded parts: every part once, each a graded cell of its solution notebook, in notebook order."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import backprop.grading
from backprop.grading import hw01, hw02, hw03, hw04, hw05, hw06
from backprop.grading.registry import HOMEWORK, PARTS, get_part
from strategies import assert_explained

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _check_cells(path: Path) -> list:
    """The graded (check) cells of a solution notebook, in order."""
    nb = nbformat.read(path, 4)
    return [c for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]


def test_every_part_id_is_unique():
    ids = [part.id for module in HOMEWORK.values() for part in module.PARTS]
    assert ids and all(ids)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(PARTS) == len(ids)  # a duplicate would silently shadow a part in the dict
    assert {name[:2]: len(module.PARTS) for name, module in HOMEWORK.items()} == {
        "01": 5, "02": 6, "03": 7, "04": 4, "05": 4, "06": 4}


def test_every_solution_notebook_is_a_homework_of_the_registry():
    assert sorted(HOMEWORK) == [p.stem for p in SOLUTIONS]
    assert HOMEWORK["01_calculus_refresher"] is hw01 and HOMEWORK["02_scalar_backprop"] is hw02


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_check_cell_is_a_known_part_with_points(path):
    nb = nbformat.read(path, 4)
    grade_cells = _check_cells(path)
    assert len(grade_cells) >= 3
    for cell in grade_cells:
        meta = _nbgrader(cell)
        part = get_part(meta["grade_id"])
        assert meta["points"] > 0 and meta["locked"]
        assert f'check("{part.id}"' in cell.source and "### BEGIN HIDDEN TESTS" in cell.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert _nbgrader(cell).get("grade_id"), "every code cell needs a grade_id so the grader can place it"
    assert nb.metadata["backprop"]["assignment"] == path.stem


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_each_homework_lists_its_parts_in_the_notebooks_order(path):
    in_notebook = [_nbgrader(c)["grade_id"] for c in _check_cells(path)]
    assert [part.id for part in HOMEWORK[path.stem].PARTS] == in_notebook
    assert all(pid.startswith(path.stem[:3]) for pid in in_notebook)  # "01_...": the notebook's number


def test_the_registry_lists_the_homework_in_notebook_order():
    in_notebooks = [_nbgrader(c)["grade_id"] for path in SOLUTIONS for c in _check_cells(path)]
    assert list(PARTS) == in_notebooks
    assert [PARTS[pid] for pid in in_notebooks] == [*hw01.PARTS, *hw02.PARTS, *hw03.PARTS, *hw04.PARTS, *hw05.PARTS,
                                                     *hw06.PARTS]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_each_check_cell_passes_the_functions_its_part_names_and_the_notebook_defines_them(path):
    nb = nbformat.read(path, 4)
    answers = "\n".join(c.source for c in nb.cells if _nbgrader(c).get("solution"))
    for cell in _check_cells(path):
        part = get_part(_nbgrader(cell)["grade_id"])
        assert part.title and part.names
        assert f'check("{part.id}", {", ".join(part.names)})' in cell.source
        for name in part.names:
            assert re.search(rf"^def {name}\(", answers, re.M), f"{part.id}: no answer cell defines {name}"


def test_the_package_exports_the_registry():
    assert backprop.grading.PARTS is PARTS and backprop.grading.get_part is get_part
    assert {"PARTS", "get_part"} <= set(backprop.grading.__all__)
    assert get_part("02_forward") is PARTS["02_forward"]


@pytest.mark.parametrize("bad", ["02_nothing", "forward", 2, None])
def test_an_unknown_part_is_explained(bad):
    # the message names the argument, what came, and the known ids
    assert_explained(lambda: get_part(bad), KeyError,
                     ["argument 'part_id'", repr(bad), "01_local_derivatives", "02_average_gradients"])
