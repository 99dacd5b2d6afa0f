"""Every library name a notebook calls is tested by a test that carries that notebook's marker."""

from __future__ import annotations

import re

import pytest

from course_map import (TESTS, library_modules, module_under_test, notebook_calls, notebook_numbers, notebooks,
                        served_modules)


def _test_files() -> dict[str, list]:
    """``{library module: the test files that mirror it}``."""
    out: dict[str, list] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        module = module_under_test(path)
        if module:
            out.setdefault(module, []).append(path)
    return out


@pytest.mark.parametrize("number", notebook_numbers())
def test_every_name_a_notebook_calls_is_covered_by_a_test_with_its_marker(number):
    files = _test_files()
    served = served_modules()[number]
    missing = []
    for path in notebooks(number):
        for name, module in sorted(notebook_calls(path)):
            assert module in served, f"{module} is used by {path.name} but not among the modules nb{number} serves"
            # the tests of the name's module, or of a module it is re-exported from (a package's face)
            candidates = [f for m, fs in files.items() if m == module or m.startswith(module + ".") for f in fs]
            if not any(re.search(rf"\b{re.escape(name)}\b", f.read_text()) for f in candidates):
                missing.append(f"{path.parent.name}/{path.name}: {name} ({module})")
    assert not missing, "called by the notebook but no test of its module names it:\n" + "\n".join(missing)


def test_every_module_of_the_library_has_a_test_file():
    files = _test_files()
    untested = [m for m in library_modules()
                if m not in files and not m.endswith("__main__") and m != "__init__"
                and not any(f.startswith(m + ".") for f in files)]
    assert not untested, f"modules without a mirroring test file: {untested}"


def test_the_markers_are_derived_for_a_module_test_and_a_notebook_cell(request):
    # nb02 stands on the vectorised layers (bp.Affine, bp.Network in its last sections)
    assert "core.layers" in served_modules()["02"]
    assert "views.training" not in served_modules()["02"]  # (core.data is: the grader of homework 06 loads the digits)
    items = request.session.items
    marks = {item.nodeid: {m.name for m in item.iter_markers()} for item in items}
    layer_tests = [n for n in marks if n.startswith("tests/core/test_layers.py")]
    if layer_tests:  # collected in this run
        assert all("nb02" in marks[n] for n in layer_tests)
    cells = [n for n in marks if n.startswith("notebooks/01_")]
    if cells:
        assert all("nb01" in marks[n] and "nb02" not in marks[n] for n in cells)
