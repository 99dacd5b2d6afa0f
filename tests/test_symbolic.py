"""The symbolic witness: every derivative rule in the library equals sympy.diff."""

import pytest
import sympy as sp

import backprop as bp
import backprop.graph as graph
import backprop.symbolic as sym


@pytest.mark.parametrize("name", sorted(sym.RULES))
def test_every_rule_equals_sympy(name):
    check = sym.verify(name)
    assert check.ok, str(check)
    assert "verified" in str(check)


def test_every_rule_of_the_library_is_covered():
    expected = set(bp.ACTIVATIONS) - {"softmax"} | {"softmax_jacobian", "softmax_backward"}
    expected |= set(bp.DIVERGENCES)
    expected |= {f"gate_{name}" for name in graph.GATES}
    expected |= {"affine_backward", "multiplicative_backward", "residual_backward"}
    assert expected <= set(sym.RULES)


def test_derivation_is_sympy_expression():
    assert sp.simplify(sym.derivation("tanh") - (1 - sp.tanh(sym.z) ** 2)) == 0


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="'name'.*'sigmoidd'"):
        sym.verify("sigmoidd")
