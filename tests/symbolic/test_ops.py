"""The symbolic namespace (symbolic/ops.py): indicator comparisons, branch choice, max, regions, is_zero, compare."""

import operator

import numpy as np
import pytest
import sympy as sp

from backprop.symbolic.ops import (SYMPY_OPS, RuleCheck, SymArray, compare, is_zero, regions, sym_array,
                                   symbols_array)
from strategies import assert_explained

z = sp.Symbol("z", real=True)
p = sp.Symbol("p", positive=True)
NUMBERS = np.array([[-2.0, 0.5, 0.0], [3.0, -0.25, 1.0]])


def at(expr_array, symbols, numbers):
    """Each entry of a SymArray evaluated with ``symbols`` (an array of Symbols) set to ``numbers``."""
    values = dict(zip(np.ravel(symbols), np.ravel(numbers)))
    return np.array([float(sp.sympify(e).subs(values)) for e in np.ravel(expr_array)]).reshape(np.shape(expr_array))


# -- comparisons are indicators -----------------------------------------------------------------
@pytest.mark.parametrize("op", [operator.gt, operator.ge, operator.lt, operator.le, operator.eq])
@pytest.mark.parametrize("threshold", [0, 0.5])
def test_a_comparison_is_the_indicator_numpy_arithmetic_sees(op, threshold):
    Z = symbols_array("z", NUMBERS.shape, real=True)
    ind = op(Z, threshold)
    assert isinstance(ind, SymArray) and ind.shape == NUMBERS.shape
    assert np.array_equal(at(ind, Z, NUMBERS), op(NUMBERS, threshold).astype(float))


def test_indicators_combine_like_numpy_booleans():
    Z = symbols_array("z", NUMBERS.shape, real=True)
    leaky = (Z > 0) * Z + 0.1 * (Z < 0) * Z + 0.5 * (Z == 0)  # a leaky ReLU's slope-style arithmetic
    expected = (NUMBERS > 0) * NUMBERS + 0.1 * (NUMBERS < 0) * NUMBERS + 0.5 * (NUMBERS == 0)
    assert at(leaky, Z, NUMBERS) == pytest.approx(expected, abs=1e-15)


def test_an_indicator_is_already_a_number():
    ind = sym_array([z]) > 0
    assert ind.astype(float) is ind  # numpy's bool -> float conversion has nothing to do here
    with pytest.raises(TypeError, match="unhashable"):  # == builds an indicator, so a SymArray has no hash
        hash(ind)


# -- where chooses a branch -----------------------------------------------------------------------
def test_where_chooses_a_branch_without_multiplying_the_other():
    d = sp.Symbol("d", nonnegative=True)
    ds = sym_array([d])
    chosen = SYMPY_OPS.where(ds > 0, ds * SYMPY_OPS.log(ds), 0)
    assert isinstance(chosen, SymArray)
    assert chosen[0].subs(d, 0) == 0  # 0 log 0 = 0: the undefined branch is never evaluated
    assert chosen[0].subs(d, 2) == 2 * sp.log(2)
    naive = (ds > 0)[0] * d * sp.log(d)  # an indicator times the branch: 0 * (0 * log 0) is nan
    assert naive.subs(d, 0) is sp.nan


def test_where_on_scalars():
    a, b = sp.symbols("a b")
    step = sp.Heaviside(z)  # an indicator of a form where() does not recognise
    assert SYMPY_OPS.where(sp.true, a, b) == a and SYMPY_OPS.where(sp.false, a, b) == b
    assert SYMPY_OPS.where(z > 0, z, -z).subs(z, -3) == 3
    assert SYMPY_OPS.where(z > 0, z, -z).subs(z, 2) == 2
    assert SYMPY_OPS.where(step, a, b) == step * a + (1 - step) * b  # multiplied out
    assert SYMPY_OPS.where(step, a, b).subs(z, 1) == a and SYMPY_OPS.where(step, a, b).subs(z, -1) == b


def test_where_broadcasts_like_numpy():
    Z = symbols_array("z", NUMBERS.shape, real=True)
    assert np.array_equal(at(SYMPY_OPS.where(Z >= 0, Z, 0), Z, NUMBERS), np.where(NUMBERS >= 0, NUMBERS, 0))


# -- maximum and max -----------------------------------------------------------------------------
def test_maximum_is_elementwise():
    Z = symbols_array("z", NUMBERS.shape, real=True)
    out = SYMPY_OPS.maximum(Z, 0)
    assert isinstance(out, SymArray)
    assert np.array_equal(at(out, Z, NUMBERS), np.maximum(NUMBERS, 0))
    assert SYMPY_OPS.maximum(z, 0) == sp.Max(z, 0)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_along_an_axis(axis, keepdims):
    Z = symbols_array("z", NUMBERS.shape, real=True)
    expected = NUMBERS.max(axis=axis, keepdims=keepdims)
    for out in (SYMPY_OPS.max(Z, axis=axis, keepdims=keepdims), Z.max(axis=axis, keepdims=keepdims)):
        assert isinstance(out, SymArray) and out.shape == expected.shape
        assert np.array_equal(at(out, Z, NUMBERS), expected)


def test_max_of_a_vector_is_one_expression():
    zs = symbols_array("z", 3, real=True)
    assert SYMPY_OPS.max(zs) == sp.Max(*zs)
    assert float(zs.max().subs(dict(zip(zs, (1.0, -4.0, 2.5))))) == 2.5


def test_max_of_a_matrix_over_every_entry():
    Z = symbols_array("z", NUMBERS.shape, real=True)
    assert at(sym_array([SYMPY_OPS.max(Z)]), Z, NUMBERS)[0] == NUMBERS.max()


def test_max_shift_is_exact_on_each_ordering():
    zs = symbols_array("z", 2, real=True)
    shifted = zs - zs.max(axis=-1, keepdims=True)
    assert list(shifted.ravel()) == [zs[0] - sp.Max(*zs), zs[1] - sp.Max(*zs)]
    on_top = {zs[1]: zs[0] - p}  # z_1 the larger
    assert [sp.simplify(v.subs(on_top)) for v in shifted] == [0, -p]


# -- elementwise functions, arrays of symbols ---------------------------------------------------------
@pytest.mark.parametrize("name, reference", [
    ("exp", sp.exp), ("log", sp.log), ("tanh", sp.tanh), ("log1p", lambda x: sp.log(1 + x)),
])
def test_elementwise_functions(name, reference):
    f = getattr(SYMPY_OPS, name)
    Z = symbols_array("z", (2, 2), real=True)
    out = f(Z)
    assert isinstance(out, SymArray) and out.shape == (2, 2)
    assert all(o == reference(v) for o, v in zip(out.ravel(), Z.ravel()))
    assert f(z) == reference(z)  # a plain expression stays an expression


def test_symbol_arrays_are_named_from_one_like_the_lecture():
    W = symbols_array("w", (2, 3), real=True)
    assert isinstance(W, SymArray) and W.shape == (2, 3)
    assert str(W[0, 1]) == "w_12" and str(W[1, 2]) == "w_23"
    assert all(v.is_real for v in W.ravel())
    assert [str(v) for v in symbols_array("d", 3, nonnegative=True)] == ["d_1", "d_2", "d_3"]
    assert symbols_array("d", 3, nonnegative=True)[0].is_nonnegative
    mixed = sym_array([[z, 1], [p, z + p]])
    assert isinstance(mixed, SymArray) and mixed.shape == (2, 2) and mixed[1, 1] == z + p


# -- regions --------------------------------------------------------------------------------------
def test_regions_are_every_combination():
    a, b = sp.symbols("a b", real=True)
    assert regions({z: (p, -p, 0)}) == [{z: p}, {z: -p}, {z: 0}]
    combos = regions({a: (p, -p), b: (0, 1, 2)})
    assert len(combos) == 6 and {a: -p, b: 2} in combos
    assert all(set(r) == {a, b} for r in combos)
    assert regions({}) == [{}]


# -- is_zero ----------------------------------------------------------------------------------------
def test_is_zero_recognises_a_shifted_log_sum_exp_that_simplify_misses():
    a, b = sp.symbols("a b", real=True)
    shifted = a + sp.log(1 + sp.exp(b - a))  # log-sum-exp of (a, b) shifted by a
    difference = shifted - sp.log(sp.exp(a) + sp.exp(b))
    assert sp.simplify(difference) != 0  # simplify alone leaves a logarithm
    assert is_zero(difference)
    assert is_zero(difference.subs(b, a - p))  # on a region too


def test_is_zero_recognises_the_stable_softplus():
    stable = sp.Max(z, 0) + sp.log(1 + sp.exp(-sp.Abs(z)))
    for side in (p, -p):
        assert is_zero((stable - sp.log(1 + sp.exp(z))).subs(z, side))


@pytest.mark.parametrize("expr", [
    sp.log(1 + sp.exp(p)) - p,  # softplus(p) > p
    sp.log(sp.exp(z) + 1) - z,
    z**2 - sp.Abs(z) ** 2 + 1,
    sp.Max(z, 0) - z,  # not 0 for z < 0
])
def test_is_zero_refuses_what_is_not_zero(expr):
    assert not is_zero(expr)


def test_is_zero_reads_floats_as_exact_rationals():
    assert is_zero(sp.Float(0.5) * z - z / 2)
    assert is_zero(0.1 * z - z / 10)
    assert not is_zero(0.1 * z - z / 9)


# -- compare ----------------------------------------------------------------------------------------
def test_compare_checks_every_region():
    on_one_side = compare("abs", "|z| = z", [sp.Abs(z)], [z], on=[{z: p}])
    assert isinstance(on_one_side, RuleCheck) and on_one_side.ok
    assert str(on_one_side) == "abs: |z| = z: verified"
    both = compare("abs", "|z| = z", [sp.Abs(z)], [z], on=[{z: p}, {z: -p}])
    assert not both.ok and both.difference == 2 * p  # on z = -p: |-p| - (-p)
    assert str(both) == "abs: |z| = z: FAILS, library minus sympy = 2*p"
    assert both.library == sp.Abs(z) and both.sympy == z  # one entry: the expressions themselves


def test_compare_entry_by_entry_and_as_a_matrix():
    Z = symbols_array("z", (2, 2), real=True)
    ok = compare("double", "2 Z", 2 * Z, [[2 * v for v in row] for row in Z])
    assert ok.ok and isinstance(ok.library, sp.Matrix) and ok.library.shape == (2, 2)
    wrong = [[2 * v for v in row] for row in Z]
    wrong[1][0] = 3 * Z[1, 0]
    check = compare("double", "2 Z", 2 * Z, wrong)
    assert not check.ok and check.difference == sp.Matrix([[0, 0], [-Z[1, 0], 0]])


def test_compare_refuses_different_entry_counts():
    assert_explained(lambda: compare("r", "s", [z, z], [z]), ValueError,
                     ["rule r", "the library gave 2 entries", "sympy 1"])


# -- the quick numerical probe ----------------------------------------------------------------------------------
def test_clearly_nonzero_finds_a_wrong_difference_and_never_calls_an_identity_nonzero():
    from backprop.symbolic.ops import clearly_nonzero

    x = sp.Symbol("x", real=True)
    p = sp.Symbol("p", positive=True)
    assert not clearly_nonzero(sp.exp(x) / (1 + sp.exp(x)) - 1 / (1 + sp.exp(-x)))  # the sigmoid, two ways: 0
    assert not clearly_nonzero(sp.log(sp.exp(x) + 1) - x - sp.log(1 + sp.exp(-x)))   # softplus, shifted: 0
    assert clearly_nonzero(sp.exp(x) / (1 + sp.exp(x)) - 1 / (1 + sp.exp(x)))        # a wrong sign: not 0
    assert not clearly_nonzero(sp.sqrt(p ** 2) - p)  # 0 for every value p's assumption allows ...
    assert clearly_nonzero(sp.sqrt(x ** 2) - x)      # ... but not for a negative x


def test_clearly_nonzero_leaves_widths_and_indices_to_simplify():
    from backprop.symbolic.ops import clearly_nonzero, is_zero

    n = sp.Symbol("n", integer=True, positive=True)
    assert not clearly_nonzero(n + 1)  # says nothing: the probe takes no integer symbol
    assert not is_zero(n + 1)          # simplify decides


def test_a_wrong_rule_is_told_apart_without_simplifying_its_difference(monkeypatch):
    from backprop.symbolic import ops

    x = sp.Symbol("x", real=True)
    monkeypatch.setattr(ops.sp, "simplify", lambda *a, **k: pytest.fail("simplify was called"))
    assert not ops.is_zero(sp.tanh(x) - 2 * sp.exp(x))
