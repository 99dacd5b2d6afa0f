"""The gradient checker itself: it must catch errors, explain them, and respect kinks."""

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
from strategies import arrays, floats

pytestmark = pytest.mark.nb04


def test_relative_error():
    np.testing.assert_allclose(bp.relative_error([1.0, 0.0, -2.0], [1.1, 0.0, 2.0]), [0.1 / 1.1, 0.0, 2.0])


@settings(max_examples=100)
@given(a=floats(-1e3, 1e3), b=floats(-1e3, 1e3))
def test_relative_error_is_symmetric_and_bounded(a, b):
    e = float(bp.relative_error(a, b))
    assert e == float(bp.relative_error(b, a))
    assert 0.0 <= e <= 2.0


def test_numerical_gradient_orders():
    x = np.array([0.3, -1.2])
    exact = np.cos(x)
    g2 = bp.numerical_gradient(lambda: np.sin(x).sum(), x)
    g4 = bp.numerical_gradient(lambda: np.sin(x).sum(), x, order=4)
    assert np.max(np.abs(g2 - exact)) < 1e-9
    assert np.max(np.abs(g4 - exact)) < 1e-11
    np.testing.assert_array_equal(x, [0.3, -1.2])  # restored exactly


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
    assert "W(1)[1, 0]" in text and "analytic 6.5" in text and "numeric 6" in text and "relative error" in text
    with pytest.raises(AssertionError, match=r"W\(1\)\[1, 0\]"):
        report.assert_ok()
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
