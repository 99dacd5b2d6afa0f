"""Tests backprop.core.gradcheck: the checker catches errors, explains them, respects kinks; first-order errors."""

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
from backprop.core.gradcheck import straddles_kink, subscript
from backprop.core.tolerance import ATOL, RTOL
from strategies import arrays, assert_explained

STEPS = np.logspace(-4, -1, 7)


def test_numerical_gradient_orders():
    x = np.array([0.3, -1.2])
    exact = np.cos(x)
    g2 = bp.numerical_gradient(lambda: np.sin(x).sum(), x)
    g4 = bp.numerical_gradient(lambda: np.sin(x).sum(), x, order=4)
    assert np.max(np.abs(g2 - exact)) < 1e-9
    assert np.max(np.abs(g4 - exact)) < 1e-11
    np.testing.assert_array_equal(x, [0.3, -1.2])  # restored exactly


def test_numerical_jacobian_puts_outputs_on_rows_and_inputs_on_columns():
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])  # f(x) = A x + x_1 x_3 e_1: (2,) from (3,), not symmetric
    x = np.array([0.5, -2.0, 1.5])

    def f():
        return A @ x + np.array([x[0] * x[2], 0.0])

    J = bp.numerical_jacobian(f, x, order=4)
    exact = A + np.array([[x[2], 0.0, x[0]], [0.0, 0.0, 0.0]])  # [i, j] = df_i/dx_j
    assert J.shape == (2, 3) and np.allclose(J, exact, rtol=0, atol=1e-10)
    assert np.array_equal(x, [0.5, -2.0, 1.5])  # restored exactly
    assert np.allclose(bp.numerical_jacobian(f, x), exact, rtol=0, atol=1e-8)  # order 2, the default


def test_numerical_jacobian_explains_bad_arguments():
    assert_explained(lambda: bp.numerical_jacobian(lambda: np.ones(2), np.ones((2, 2))), ValueError,
                     ["'x'", "vector", "(2, 2)"])
    assert_explained(lambda: bp.numerical_jacobian(lambda: 1.0, np.ones(2)), ValueError, ["'f'", "vector"])
    assert_explained(lambda: bp.numerical_jacobian(lambda: np.ones(2), np.ones(2, dtype=np.float32)), TypeError,
                     ["float64"])


def test_the_error_of_the_central_difference_shrinks_like_h_squared():
    x = np.array([1.0])
    errs = [abs(bp.numerical_gradient(lambda: float(np.exp(x[0])), x, h=h)[0] - np.e) for h in (1e-2, 1e-3)]
    assert 80 < errs[0] / errs[1] < 120  # 10x smaller h -> ~100x smaller error


def test_report_names_parameter_entry_values_and_error():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    wrong = 2 * W.copy()
    wrong[1, 0] += 0.5
    report = bp.check_gradients(lambda: float((W**2).sum()), {"W(1)": W}, {"W(1)": wrong})
    assert not report.passed and len(report.failures) == 1
    text = str(report)
    assert "w(1)_12" in text and "W(1)[" not in text and "analytic 6.5" in text and "numeric 6" in text and "relative error" in text
    with pytest.raises(AssertionError, match=r"w\(1\)_12"):  # W(1)[1, 0] is w(1)_12: from unit 2... to unit 1
        report.assert_ok()
    assert bp.lecture_name("W(1)", (1, 0)) == "w(1)_12" and bp.lecture_name("b(3)", (0,)) == "b(3)_1"
    assert bp.lecture_name("W(2)", (11, 9)) == "w(2)_10,12" and bp.lecture_name("X", (1, 2)) == "X[1, 2]"
    assert report.worst.index == (1, 0)


def test_a_correct_gradient_passes_with_margin():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 4))
    report = bp.check_gradients(lambda: float(np.tanh(W).sum()), {"W": W}, {"W": 1 - np.tanh(W) ** 2})
    assert report.passed and report.max_relative_error < 1e-9
    assert "12 entries, 12 ok, 0 failed, 0 at a kink" in report.summary()


def test_float32_is_refused():
    W = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        bp.check_gradients(lambda: float(W.sum()), {"W": W}, {"W": np.ones(3)})


def test_parameters_are_restored_even_when_the_loss_raises():
    W = np.array([1.0, 2.0])

    def loss():
        if W[0] != 1.0:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError):
        bp.check_gradients(loss, {"W": W}, {"W": np.zeros(2)})
    np.testing.assert_array_equal(W, [1.0, 2.0])


@settings(max_examples=100)
@given(z=arrays((6,), -3.0, 3.0))
def test_kinks_within_the_stencil_are_flagged(z):
    z = z.copy()
    z[0] = 0.0
    report = bp.check_derivative(bp.ReLU().forward, bp.ReLU().derivative, z, kinks=(0.0,))
    assert report.entries[0].status == "kink"
    assert all(e.status != "kink" for e, v in zip(report.entries, z) if abs(v) > 2e-4)
    assert report.passed


def test_summary_prints_noise_as_a_bound_and_ignores_entries_that_are_both_zero():
    # f(w) = w0**2 (w1 has zero gradient: its relative error is noise over noise)
    w = np.array([0.3, 0.7])
    report = bp.check_gradients(lambda: float(w[0] ** 2), {"w": w}, {"w": np.array([0.6, 0.0])})
    assert report.passed
    assert report.summary().endswith("worst relative error < 1e-10")
    off = bp.check_gradients(lambda: float(w[0] ** 2), {"w": w}, {"w": np.array([0.6 * (1 + 1e-8), 0.0])})
    assert off.summary().endswith("worst relative error 1.0e-08")
    flat = bp.check_gradients(lambda: 1.0, {"w": w}, {"w": np.zeros(2)})
    assert flat.summary().endswith("every entry agrees to within 1e-10")


def test_the_course_tolerance_is_the_default():
    w = np.array([1.0])
    report = bp.check_gradients(lambda: float(w[0] ** 2), {"w": w}, {"w": np.array([2.0])})
    assert (report.rtol, report.atol) == (RTOL, ATOL) == (1e-7, 1e-10)
    loose = bp.check_gradients(lambda: float(w[0] ** 2), {"w": w}, {"w": np.array([2.001])}, rtol=1e-3)
    assert loose.passed and loose.rtol == 1e-3
    assert not bp.check_gradients(lambda: float(w[0] ** 2), {"w": w}, {"w": np.array([2.001])}).passed
    z = np.array([0.5, -1.0])
    assert bp.check_derivative(np.sin, np.cos, z).rtol == RTOL


def test_an_entry_passes_within_atol_near_zero():
    """A gradient of 0 against a numeric 5e-11 agrees (rounding), against 1e-9 it does not."""
    w = np.array([0.0])
    assert bp.check_gradients(lambda: 5e-11 * w[0], {"w": w}, {"w": np.zeros(1)}).passed
    assert not bp.check_gradients(lambda: 1e-9 * w[0], {"w": w}, {"w": np.zeros(1)}).passed


def test_a_non_finite_gradient_is_refused_and_a_non_finite_loss_fails():
    w = np.array([1.0])
    assert_explained(lambda: bp.check_gradients(lambda: float(w[0]), {"w": w}, {"w": np.array([np.nan])}),
                     ValueError, ["'grads['w']'", "expected finite values", "nan"])
    report = bp.check_gradients(lambda: np.nan, {"w": w}, {"w": np.array([1.0])})
    assert not report.passed and [e.status for e in report.entries] == ["FAIL"]


def test_check_derivative_needs_one_output_per_entry():
    assert_explained(lambda: bp.check_derivative(lambda z: z.sum(), lambda z: np.ones_like(z), np.ones(3)),
                     ValueError, ["'f'", "acting entry by entry", "(3,)", "got outputs of shape ()"])


# -- the derivative as a multiplier: first-order errors ------------------------------------

def test_first_order_error_of_a_cubic_is_exactly_3dx2_plus_dx3():
    err = bp.first_order_errors(lambda t: t**3, lambda t: 3 * t**2, 1.0, 1.0, STEPS)
    assert err.shape == STEPS.shape
    np.testing.assert_allclose(err, 3 * STEPS**2 + STEPS**3, rtol=1e-6)


def test_first_order_error_with_several_inputs_is_the_quadratic_term():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    d = np.array([0.3, -0.2])
    err = bp.first_order_errors(lambda p: p @ A @ p / 2, lambda p: A @ p, [1.0, 0.5], d, STEPS)
    np.testing.assert_allclose(err, STEPS**2 * (d @ A @ d) / 2, rtol=1e-6)


@pytest.mark.parametrize("f, df, at, order", [
    (np.sin, np.cos, 1.0, 2), (np.exp, np.exp, 0.0, 2), (np.tanh, lambda t: 1 - np.tanh(t) ** 2, 0.5, 2),
    (np.sin, np.cos, 0.0, 3),  # an inflection point: f'' = 0, so the error is third order
])
def test_the_error_shrinks_like_dx_squared(f, df, at, order):
    assert bp.loglog_slope(STEPS, bp.first_order_errors(f, df, at, 1.0, STEPS)) == pytest.approx(order, abs=0.02)


def test_a_wrong_derivative_leaves_a_first_order_error():
    """With 2 cos instead of cos the leftover is ~ t cos(1): slope 1, not 2."""
    err = bp.first_order_errors(np.sin, lambda t: 2 * np.cos(t), 1.0, 1.0, STEPS)
    assert bp.loglog_slope(STEPS, err) == pytest.approx(1.0, abs=0.02)


def test_loglog_slope_of_a_power_law():
    assert bp.loglog_slope(STEPS, 5 * STEPS**2.5) == pytest.approx(2.5, rel=1e-12)
    assert bp.loglog_slope([1.0, 10.0], [3.0, 0.3]) == pytest.approx(-1.0, rel=1e-12)


@pytest.mark.parametrize("args, error, words", [
    ((1.0, np.cos, 1.0, 1.0, STEPS), TypeError, ["'f'", "function"]),
    ((np.sin, np.cos, [1.0, 2.0], 1.0, STEPS), ValueError, ["'direction'", "(2,)"]),
    ((np.sin, np.cos, 1.0, 1.0, [0.1, 0.0]), ValueError, ["'steps'", "positive"]),
    ((np.sin, np.cos, [[1.0]], [[1.0]], STEPS), ValueError, ["'x'", "(M,)"]),
    ((np.sin, lambda p: np.ones(3), [1.0, 2.0], [1.0, 1.0], STEPS), ValueError, ["'grad'", "(3,)"]),
], ids=["f not a function", "direction shape", "zero step", "x of two axes", "grad shape"])
def test_bad_first_order_arguments(args, error, words):
    assert_explained(lambda: bp.first_order_errors(*args), error, words)


def test_bad_slope_arguments():
    assert_explained(lambda: bp.loglog_slope(STEPS, STEPS[:3]), ValueError, ["'errors'", "one error per step"])
    assert_explained(lambda: bp.loglog_slope(STEPS, np.zeros_like(STEPS)), ValueError, ["positive"])
    assert_explained(lambda: bp.loglog_slope([1.0], [1.0]), ValueError, ["at least 2"])


# -- central differences at a kink ------------------------------------------------------------------------
def test_relu_central_difference_at_its_kink_is_one_half():
    relu = bp.ReLU()
    for h in (1e-1, 1e-4, 1e-7):
        assert float((relu.forward(np.array(h)) - relu.forward(np.array(-h))) / (2 * h)) == 0.5


def test_straddles_kink_is_the_closed_interval_of_width_2h():
    z = np.array([0.0, 4e-6, -1e-5, 1.5e-5, 2.0, 1.0 + 5e-6])
    assert straddles_kink(z, [0.0], 1e-5).tolist() == [True, True, True, False, False, False]
    assert straddles_kink(z, [0.0, 1.0], 1e-5).tolist() == [True, True, True, False, False, True]
    assert not straddles_kink(z, [], 1e-5).any()


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: straddles_kink([0.0], [0.0], 0.0), ValueError, ["'h'", "positive"]),
    (lambda: straddles_kink([0.0], [[0.0]], 1e-5), ValueError, ["'kinks'"]),
])
def test_bad_straddle_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


# -- the lecture's subscripts, the one function every printed or drawn name uses ---------------------------
@pytest.mark.parametrize("indices, text", [
    ((0,), "1"), ((0, 1), "12"), ((2, 0), "31"), ((8, 8), "99"),
    ((9, 0), "10,1"), ((0, 11), "1,12"),  # once an index has two digits, commas keep it readable
    ((), ""),
])
def test_subscript_counts_from_one(indices, text):
    assert subscript(*indices) == text
