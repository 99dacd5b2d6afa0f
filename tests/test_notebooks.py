"""The shape every course notebook keeps (nbval, run from pyproject's addopts, checks their outputs).

These rules are the pattern notebooks 03-06 follow: an opening that says what the
notebook teaches and assumes, numbered headings, a summary at the end, outputs
stored as a clean run makes them, and nbval exemptions only where output cannot be
compared (widgets).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL = LECTURES + sorted((ROOT / "solutions").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def _ids(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def test_the_first_three_lecture_notebooks_exist():
    names = [p.stem for p in LECTURES]
    for stem in ("00_problem_setup", "01_calculus_refresher", "02_scalar_backprop"):
        assert stem in names


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_lecture_notebook_structure(path):
    nb = nbformat.read(path, 4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    opening = first.source.lower()
    assert "teach" in opening or "you will" in opening or "learn" in opening, "the opening says what it teaches"
    assert "assume" in opening or "prerequisite" in opening or "you need" in opening, "the opening says what it assumes"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("## ")]
    numbered = [h for h in headings if re.match(r"## \d+\.", h)]
    assert len(numbered) >= 3 and len(numbered) >= len(headings) - 1, headings
    numbers = [int(re.match(r"## (\d+)\.", h).group(1)) for h in numbered]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers
    assert "summary" in headings[-1].lower(), headings[-1]


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_stored_outputs_are_a_clean_run(path):
    nb = nbformat.read(path, 4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata, "re-execute with --ExecutePreprocessor.store_widget_state=False"
    counts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert "execution" not in cell.metadata, "re-execute with --ExecutePreprocessor.record_timing=False"
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:80]
            assert out.get("name") != "stderr", f"a warning or error text is stored: {out.get('text', '')[:200]}"
        counts.append(cell.execution_count)
    assert counts == list(range(1, len(counts) + 1)), "outputs must come from one run, top to bottom"


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_only_widget_cells_are_exempt_from_nbval(path):
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        exempt = {"nbval-ignore-output", "nbval-skip"} & set(tags) or re.search(r"#\s*NBVAL_(IGNORE_OUTPUT|SKIP)", cell.source)
        if exempt:
            assert "nbval-skip" not in tags and "NBVAL_SKIP" not in cell.source, "every cell runs"
            assert any(WIDGET in o.get("data", {}) for o in cell.outputs), f"exempt cell shows no widget: {cell.source[:80]}"
