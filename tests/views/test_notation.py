"""The lecture's names and numbers (views/notation.py): mathtext names, no "-0.000"."""

import pytest
from matplotlib.mathtext import MathTextParser

from backprop.views.notation import ACTIVATION_SYMBOL, math_name, num, par


@pytest.mark.parametrize("args, dot, text", [
    (("w", 2, 0, 1), False, "w^{(2)}_{12}"),
    (("z", 1, 0), False, "z^{(1)}_{1}"),
    (("y", 3, 1), True, r"\dot{y}^{(3)}_{2}"),
    (("w", 1, 9, 0), True, r"\dot{w}^{(1)}_{10,1}"),
])
def test_math_name(args, dot, text):
    assert math_name(*args, dot=dot) == text


def test_names_and_activation_symbols_are_mathtext():
    parser = MathTextParser("path")
    for text in [math_name("w", 2, 0, 1), math_name("z", 3, 1, dot=True), *ACTIVATION_SYMBOL.values()]:
        parser.parse(f"${text}$")  # raises ValueError if matplotlib cannot typeset it


@pytest.mark.parametrize("value, digits, text", [
    (1.23456, 3, "1.235"), (-1.5, 3, "-1.500"), (2.0, 2, "2.00"), (0.0, 3, "0.000"),
    (-0.0, 3, "0.000"), (-0.0004, 3, "0.000"), (-0.004, 2, "0.00"), (-0.0006, 3, "-0.001"), (1e-9, 4, "0.0000"),
])
def test_num_has_fixed_decimals_and_never_minus_zero(value, digits, text):
    assert num(value, digits) == text


@pytest.mark.parametrize("value, text", [(-1.5, "(-1.500)"), (1.5, "1.500"), (-0.0001, "0.000"), (0.0, "0.000")])
def test_par_brackets_negative_numbers_only(value, text):
    assert par(value) == text
    assert par(-2.25, 2) == "(-2.25)"
