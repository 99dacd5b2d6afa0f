"""Tests backprop.grading.hw01: homework 01's self-check names the path, the arrow or the difference that is wrong."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp

from backprop.grading import CheckFailed, check

ROOT = Path(__file__).resolve().parents[2]


def _message(part_id, fn):
    with pytest.raises(CheckFailed) as info:
        check(part_id, fn)
    return str(info.value)


def test_a_missing_path_is_named():
    x, a, b, c, F = sp.symbols("x a b c F")
    msg = _message("01_influence_paths", lambda: [(x, a, c, F), (x, a, F)])
    assert "2 of the 3 paths" in msg and "through b" in msg


def test_a_left_out_path_in_the_total_is_named():
    def partial_total(x0):
        return 2 * x0 * np.sin(x0) + np.cos(x0) * x0**2  # the path x -> a -> F is missing
    assert "left out: x -> a -> F" in _message("01_total_derivative", partial_total)


def test_a_forward_difference_is_named():
    assert "forward difference" in _message("01_central_difference", lambda f, x, h: (f(x + h) - f(x)) / h)


def test_an_arrow_that_is_a_path_is_named():
    x, a, b, c, F = sp.symbols("x a b c F")
    edges = {(x, a): 2 * x, (x, b): sp.cos(x), (a, c): b, (b, c): a, (c, F): 1, (a, F): sp.exp(a), (x, F): 1}
    assert "there is no arrow x -> F" in _message("01_local_derivatives", lambda: edges)


def test_homework_01_shows_the_function_the_grader_grades():
    from backprop.grading.hw01 import homework_diagram

    nb = nbformat.read(ROOT / "solutions" / "01_calculus_refresher.ipynb", 4)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    namespace: dict = {}
    exec("\n".join(l for l in setup.source.splitlines() if not l.startswith("%")), namespace)
    assert namespace["definitions"] == homework_diagram().definitions
