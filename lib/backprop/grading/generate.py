"""Student versions from the complete notebooks, with nbgrader's own preprocessors.

``solutions/NN_name.ipynb`` -> ``exercises/NN_name.ipynb``:

1. ``CheckCellMetadata``: the nbgrader metadata is consistent (fails loudly if not);
2. ``ClearSolutions``: each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes
   ``# YOUR CODE HERE`` / ``raise NotImplementedError()``;
3. ``ClearHiddenTests``: ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` is removed;
4. ``ClearOutput``: no outputs (they could show solution results);
5. ``LockCells``: given cells and check cells become read-only in JupyterLab;
6. ``ComputeChecksums``: nbgrader's checksums, so nbgrader can tell if a locked cell changed.

Using nbgrader's preprocessors (rather than a stripper of our own) means an instructor
who runs nbgrader gets exactly what nbgrader would make, and the markers mean what
nbgrader documents. A final scan refuses to write a student version that still holds
a solution or hidden-test marker.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

__all__ = ["student_version", "generate", "stale", "LEAK_MARKERS", "StudentVersionError"]

LEAK_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS", "hidden=True")


class StudentVersionError(ValueError):
    """A solution notebook that cannot become a safe student version."""


def student_version(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a complete notebook (a new object; the input is not changed)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = copy.deepcopy(solution)
    resources: dict = {}
    for step in (CheckCellMetadata(), ClearSolutions(), ClearHiddenTests(), ClearOutput(), LockCells(), ComputeChecksums()):
        nb, resources = step.preprocess(nb, resources)
    for n, cell in enumerate(nb.cells):
        for marker in LEAK_MARKERS:
            if marker in cell.source:
                raise StudentVersionError(
                    f"cell {n} ({cell.metadata.get('nbgrader', {}).get('grade_id', 'no grade_id')}) would give the student "
                    f"{marker!r}: put solution code in a cell with nbgrader solution metadata, hidden tests in a grade cell"
                )
    return nb


def _render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def _pairs(solutions: Path, exercises: Path):
    for src in sorted(Path(solutions).glob("*.ipynb")):
        yield src, Path(exercises) / src.name


def _outdated(solutions: Path, exercises: Path):
    """``(source, student version, the text it should hold)`` for each student version that is missing or
    differs from what its source generates."""
    for src, dst in _pairs(solutions, exercises):
        text = _render(student_version(nbformat.read(src, as_version=4)))
        if not dst.exists() or dst.read_text(encoding="utf-8", errors="replace") != text:
            yield src, dst, text


def edited_cells(path: Path) -> list[str]:
    """grade_ids of the cells of a student version that someone has changed since it was generated.

    nbgrader's checksums (written by ``ComputeChecksums``) say what each graded or
    locked cell held; a cell whose content no longer matches was edited.
    """
    from nbgrader.utils import compute_checksum

    nb = nbformat.read(path, as_version=4)
    changed = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "checksum" in meta and compute_checksum(cell) != meta["checksum"]:
            changed.append(meta.get("grade_id", "?"))
    return changed


def _edits(path: Path) -> list[str]:
    """What someone changed in a student version on disk (the cells, or that it is no notebook at all)."""
    try:
        return edited_cells(path)
    except Exception:  # not a readable notebook: someone's file, keep it
        return ["(the file is not a readable notebook)"]


def kept_by_generate(solutions: Path, exercises: Path) -> list[Path]:
    """The stale student versions that ``generate`` would keep (someone's edits are in them) unless forced."""
    return [dst for _, dst, _ in _outdated(solutions, exercises) if dst.exists() and _edits(dst)]


def generate(solutions: Path, exercises: Path, force: bool = False) -> tuple[list[Path], list[str]]:
    """Write every student version that differs from what is on disk.

    Returns the files written and the files left alone because someone's work is in
    them (cells edited since generation): those are overwritten only with ``force``.
    """
    Path(exercises).mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for _, dst, text in _outdated(solutions, exercises):
        if dst.exists() and not force:
            changed = _edits(dst)
            if changed:
                kept.append(f"{dst}: not overwritten, it holds edits in {', '.join(changed)} (move it away, or pass --force)")
                continue
        dst.write_text(text, encoding="utf-8")
        written.append(dst)
    return written, kept


def stale(solutions: Path, exercises: Path) -> list[str]:
    """What is out of date in ``exercises/``: missing, different or orphaned files (descriptions)."""
    problems = [f"{dst} is missing" if not dst.exists() else f"{dst} differs from what {src} generates"
                for src, dst, _ in _outdated(solutions, exercises)]
    expected = {dst.name for _, dst in _pairs(solutions, exercises)}
    for extra in sorted(Path(exercises).glob("*.ipynb")):
        if extra.name not in expected:
            problems.append(f"{extra} has no source in {solutions}")
    return problems
