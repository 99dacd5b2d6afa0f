"""Tests backprop.core.checks: bad input is refused at the boundary, naming the argument, expected and got."""

import numpy as np
import pytest

import backprop as bp
from backprop.core.activations import Tanh
from backprop.core.divergences import BinaryCrossEntropy, SquaredError
from backprop.core.layers import ActivationLayer, Affine, Multiplicative
from backprop.core import checks
from strategies import assert_explained

rng = np.random.default_rng(0)
NET = bp.mlp([3, 4, 2], ["relu", "softmax"], rng=np.random.default_rng(0), divergence="cross_entropy")
W = np.ones((3, 4))
f32 = np.ones(3, dtype=np.float32)

# (case id, call, exception type, fragments the message must contain)
CASES = [
    ("affine: Y width does not match W", lambda: bp.affine_forward(np.ones((2, 3)), np.ones((4, 2)), np.ones(4)),
     ValueError, ["'Y'", "expected shape (B, 2)", "got (2, 3)"]),
    ("affine: Y is 1-D", lambda: bp.affine_forward(np.ones(4), W, np.ones(3)),
     ValueError, ["'Y'", "expected a 2-D array", "got 1-D"]),
    ("affine: b has the wrong length", lambda: Affine(W, np.ones(4)),
     ValueError, ["'b'", "expected shape (3,)", "got (4,)"]),
    ("affine: W is 3-D", lambda: Affine(np.ones((2, 2, 2)), np.ones(2)),
     ValueError, ["'W'", "expected a 2-D array", "(width_k, width_(k-1))", "got 3-D"]),
    ("affine: zero width", lambda: Affine(np.ones((0, 3)), np.ones(0)),
     ValueError, ["'W'", "positive widths", "got shape (0, 3)"]),
    ("network: X has NaN", lambda: NET.forward(np.array([[1.0, np.nan, 0.0]])),
     ValueError, ["'X'", "expected finite values", "nan", "(0, 1)"]),
    ("network: X has the wrong width", lambda: NET.forward(np.ones((2, 5))),
     ValueError, ["'X'", "expected shape (B, 3)", "got (2, 5)"]),
    ("network: X is text", lambda: NET.forward("1 2 3"),
     TypeError, ["'X'", "expected a numeric array", "got str"]),
    ("network: no layers", lambda: bp.Network([]),
     TypeError, ["'layers'", "expected a non-empty sequence", "got list"]),
    ("network: widths do not chain", lambda: bp.Network([Affine(np.ones((2, 3)), np.ones(2)), Affine(W, np.ones(3))]),
     ValueError, ["expects inputs of width 4", "got width 2"]),
    ("divergence: target is infinite", lambda: SquaredError().value(np.ones(2), np.array([1.0, np.inf])),
     ValueError, ["'d'", "expected finite values", "inf"]),
    ("divergence: target shape differs", lambda: SquaredError().value(np.ones((2, 3)), np.ones((2, 2))),
     ValueError, ["'d'", "expected the shape of 'Y' (2, 3)", "got (2, 2)"]),
    ("divergence: label out of range", lambda: bp.CrossEntropy().value(np.full((2, 3), 1 / 3), np.array([0, 3])),
     ValueError, ["'labels'", "expected labels in 0..2", "got 3 at index 1"]),
    ("one_hot: negative label", lambda: bp.one_hot([1, -1], 3),
     ValueError, ["'labels'", "expected labels in 0..2", "got -1"]),
    ("one_hot: fractional labels", lambda: bp.one_hot([0.5, 1.0], 3),
     TypeError, ["'labels'", "expected integer class labels", "got the non-integer value 0.5"]),
    ("one_hot: a NaN label", lambda: bp.one_hot([1.0, np.nan], 3),
     TypeError, ["'labels'", "expected integer class labels", "non-integer value nan"]),
    ("one_hot: labels as text", lambda: bp.one_hot(["a"], 3),
     TypeError, ["'labels'", "expected integer class labels of shape (B,)", "got list"]),
    ("one_hot: labels of two axes", lambda: bp.one_hot([[0, 1]], 3),
     ValueError, ["'labels'", "expected integer class labels of shape (B,)", "got shape (1, 2)"]),
    ("divergence: fractional class labels", lambda: bp.CrossEntropy().loss(np.full((2, 3), 1 / 3), [0.5, 1.0]),
     TypeError, ["'labels'", "expected integer class labels", "non-integer value 0.5"]),
    ("divergence: an empty batch", lambda: SquaredError().loss(np.zeros((0, 2)), np.zeros((0, 2))),
     ValueError, ["'Y'", "expected at least one instance", "got shape (0, 2)"]),
    ("divergence: Y with three axes", lambda: SquaredError().value(np.ones((1, 1, 1)), np.ones((1, 1, 1))),
     ValueError, ["'Y'", "expected a 1-D or 2-D array", "got 3-D"]),
    ("network: an empty batch", lambda: NET.forward(np.zeros((0, 3))),
     ValueError, ["'X'", "expected at least one instance", "got shape (0, 3)"]),
    ("network: a non-positive input width", lambda: bp.Network([ActivationLayer("relu")], input_width=0),
     ValueError, ["'input_width'", "expected a positive integer", "got 0"]),
    ("one_hot: non-positive class count", lambda: bp.one_hot([0], 0),
     ValueError, ["'num_classes'", "expected a positive integer", "got 0"]),
    ("divergence: probabilities outside [0, 1]", lambda: BinaryCrossEntropy().value(np.array([1.5]), np.array([1.0])),
     ValueError, ["'Y'", "expected values in [0, 1]", "got 1.5", "sigmoid_binary_cross_entropy"]),
    ("divergence: target not a distribution", lambda: bp.CrossEntropy().value(np.full((1, 2), 0.5), np.array([[1.0, 1.0]])),
     ValueError, ["'d'", "expected a probability distribution", "got a row summing to 2"]),
    ("divergence: unknown name", lambda: bp.get_divergence("mse"),
     ValueError, ["'divergence'", "expected one of", "'half_squared_error'", "got 'mse'"]),
    ("divergence: not a name", lambda: bp.get_divergence(3),
     TypeError, ["'divergence'", "expected a name", "got int"]),
    ("activation: unknown name", lambda: bp.get_activation("relu6"),
     ValueError, ["'activation'", "expected one of", "'leaky_relu'", "got 'relu6'"]),
    ("activation: not a name", lambda: ActivationLayer(42),
     TypeError, ["'activation'", "expected a name", "got int"]),
    ("activation: text input", lambda: bp.ReLU().forward("abc"),
     TypeError, ["'z'", "expected a numeric array", "got str"]),
    ("activation: softmax of a scalar", lambda: bp.Softmax().forward(1.0),
     ValueError, ["'z'", "expected a vector", "got a scalar"]),
    ("activation: dy shape differs", lambda: Tanh().backward(np.ones(3), np.ones(2)),
     ValueError, ["'dy'", "expected the shape of 'z' (2,)", "got (3,)"]),
    ("relu: subgradient outside [0, 1]", lambda: bp.ReLU(subgradient_at_zero=2.0),
     ValueError, ["'subgradient_at_zero'", "expected a number in [0, 1]", "got 2"]),
    ("leaky relu: negative alpha", lambda: bp.LeakyReLU(alpha=-0.1),
     ValueError, ["'alpha'", "expected a number in [0, 1]", "got -0.1"]),
    ("leaky relu: subgradient below alpha", lambda: bp.LeakyReLU(alpha=0.2, subgradient_at_zero=0.1),
     ValueError, ["'subgradient_at_zero'", "[0.2, 1]", "got 0.1"]),
    ("mlp: a zero width", lambda: bp.mlp([3, 0, 2], "relu", rng=rng),
     ValueError, ["'widths[1]'", "expected a positive integer", "got 0"]),
    ("mlp: a fractional width", lambda: bp.mlp([3, 2.5, 2], "relu", rng=rng),
     TypeError, ["'widths[1]'", "expected a positive integer", "got float 2.5"]),
    ("mlp: too few widths", lambda: bp.mlp([3], "relu", rng=rng),
     ValueError, ["'widths'", "expected (width_0, ..., width_N)", "got list of shape (1,)"]),
    ("mlp: activation count", lambda: bp.mlp([3, 4, 2], ["relu"], rng=rng),
     ValueError, ["'activations'", "expected 2 activations", "got 1"]),
    ("mlp: a seed instead of a Generator", lambda: bp.mlp([3, 2], "relu", rng=42),
     TypeError, ["'rng'", "expected a numpy.random.Generator", "got int"]),
    ("multiplicative: unit index out of range", lambda: bp.multiplicative_forward(np.ones((2, 3)), [(0, 3)]),
     ValueError, ["'pairs'", "expected unit indices in 0..2", "got 3"]),
    ("multiplicative: pairs not pairs", lambda: Multiplicative([0, 1, 2]),
     ValueError, ["'pairs'", "expected a non-empty list of (j, l) index pairs", "got list of shape (3,)"]),
    ("residual: block changes the width", lambda: bp.Residual([Affine(np.ones((2, 3)), np.ones(2))]).forward(np.ones((1, 3))),
     ValueError, ["must keep the width", "input (1, 3)", "block output (1, 2)"]),
    ("gradcheck: float32 parameter", lambda: bp.check_gradients(lambda: 0.0, {"W": f32}, {"W": np.ones(3)}),
     TypeError, ["'params['W']'", "expected dtype float64", "got float32"]),
    ("gradcheck: gradient shape differs", lambda: bp.check_gradients(lambda: 0.0, {"W": np.ones(3)}, {"W": np.ones(2)}),
     ValueError, ["'grads['W']'", "expected the shape of the parameter (3,)", "got (2,)"]),
    ("gradcheck: names differ", lambda: bp.check_gradients(lambda: 0.0, {"W": np.ones(3)}, {"V": np.ones(3)}),
     ValueError, ["'grads'", "expected the same names as 'params' ['W']", "got ['V']"]),
    ("gradcheck: negative step", lambda: bp.numerical_gradient(lambda: 0.0, np.ones(2), h=-1e-5),
     ValueError, ["'h'", "expected a step in (0, 1)", "got -1e-05"]),
    ("gradcheck: unknown order", lambda: bp.numerical_gradient(lambda: 0.0, np.ones(2), order=3),
     ValueError, ["'order'", "expected 2 or 4", "got 3"]),
    ("scalar network: layers do not chain", lambda: bp.ScalarNetwork([np.ones((1, 2)), np.ones((3, 1))], [np.ones(2), np.ones(1)], ["relu", "identity"]),
     ValueError, ["'weights[1]'", "expected 2 rows (width_1)", "got shape (3, 1)"]),
    ("scalar network: instance of the wrong width", lambda: bp.ScalarNetwork([np.ones((2, 1))], [np.ones(1)], ["identity"]).forward([1.0, 2.0, 3.0]),
     ValueError, ["'x'", "expected shape (2,)", "got (3,)"]),
    ("scalar network: counts differ", lambda: bp.ScalarNetwork([np.ones((2, 1))], [], ["identity"]),
     ValueError, ["'weights', 'biases' and 'activations'", "expected one entry per layer", "got 1, 0 and 1"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_there_are_at_least_twenty_distinct_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 20


def test_bad_input_never_modifies_what_the_user_passed():
    X = np.array([[1.0, np.nan, 0.0]])
    with pytest.raises(ValueError):
        NET.forward(X)
    assert np.isnan(X[0, 1]) and X[0, 0] == 1.0


# -- the checks themselves ---------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (np.zeros((2, 3)), "array of shape (2, 3) and dtype float64"), ([1, 2], "list of shape (2,)"),
    ([[1], [2, 3]], "ragged list of length 2"), ("x", "str 'x'"), (2.5, "float 2.5"), (None, "NoneType"),
])
def test_describe_says_what_came(value, text):
    assert checks.describe(value) == text


def test_describe_names_a_numpy_scalar_type():
    text = checks.describe(np.float32(1.5))
    assert text.startswith("float32 ") and "1.5" in text


DIRECT = [
    ("positive: negative", lambda: checks.check_positive(-1, "eta", "a learning rate"),
     ValueError, ["argument 'eta' expected a learning rate > 0, got -1"]),
    ("positive: zero, default wording", lambda: checks.check_positive(0.0, "x"),
     ValueError, ["argument 'x' expected a number > 0, got 0"]),
    ("positive: infinite", lambda: checks.check_positive(np.inf, "x"),
     ValueError, ["'x'", "expected a finite real number", "got inf"]),
    ("real: a bool", lambda: checks.check_real(True, "x"), TypeError, ["'x'", "expected a real number", "got bool"]),
    ("positive int: a bool", lambda: checks.check_positive_int(True, "n"),
     TypeError, ["'n'", "expected a positive integer", "got bool"]),
    ("positive int: negative", lambda: checks.check_positive_int(-3, "n"),
     ValueError, ["'n'", "expected a positive integer", "got -3"]),
    ("rng: a seed, with the reason", lambda: checks.check_rng(42, "to shuffle"),
     TypeError, ["argument 'rng' expected a numpy.random.Generator (to shuffle), got int 42"]),
    ("rng: the legacy RandomState", lambda: checks.check_rng(np.random.RandomState(0)),
     TypeError, ["'rng'", "numpy.random.Generator", "got RandomState"]),
    ("interval: outside", lambda: checks.check_in_interval(1.5, "p", 0.0, 1.0, "a probability"),
     ValueError, ["argument 'p' expected a number in [0, 1] (a probability), got 1.5"]),
    ("choice: unknown", lambda: checks.check_choice("c", "kind", ["b", "a"]),
     ValueError, ["argument 'kind' expected one of ['a', 'b'], got 'c'"]),
    ("choice: not a str", lambda: checks.check_choice(1, "kind", ["a"]),
     TypeError, ["'kind'", "expected one of ['a']", "got int"]),
    ("labels: out of range", lambda: checks.check_labels([0, 4, 1], "d", 3),
     ValueError, ["argument 'd' expected labels in 0..2, got 4 at index 1"]),
    ("as_array: wrong dimensions", lambda: checks.as_array(np.ones(3), "Y", ndim=(0, 2), meaning="(B, width)"),
     ValueError, ["argument 'Y' expected a 0-D or 2-D array (B, width), got 1-D of shape (3,)"]),
    ("as_array: not numbers", lambda: checks.as_array(["a", "b"], "z"),
     TypeError, ["'z'", "expected a numeric array", "got list of shape (2,)"]),
    ("as_array: an infinity", lambda: checks.as_array([[0.0, 1.0], [-np.inf, 2.0]], "X"),
     ValueError, ["'X'", "expected finite values, got 1 non-finite value(s), the first -inf at index (1, 0)"]),
    ("same shape", lambda: checks.check_same_shape(np.ones(2), "a", np.ones(3), "b"),
     ValueError, ["argument 'b' expected the shape of 'a' (2,), got (3,)"]),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in DIRECT], ids=[c[0] for c in DIRECT])
def test_each_check_explains_itself(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_checks_return_the_checked_value():
    assert checks.check_positive(3, "x") == 3.0 and isinstance(checks.check_positive(3, "x"), float)
    assert checks.check_positive_int(np.int64(4), "n") == 4 and type(checks.check_positive_int(np.int64(4), "n")) is int
    rng = np.random.default_rng(0)
    assert checks.check_rng(rng) is rng
    assert checks.check_in_interval(1, "p", 0.0, 1.0) == 1.0
    labels = checks.check_labels([2.0, 0.0], "d", 3)  # whole floats are class numbers
    assert labels.dtype == np.int64 and labels.tolist() == [2, 0]
    arr = checks.as_array([1, 2], "x")
    assert arr.dtype == np.float64 and arr.tolist() == [1.0, 2.0]
    assert checks.as_array([np.nan], "x", finite=False).shape == (1,)
    symbolic = np.array([object()], dtype=object)
    assert checks.as_array(symbolic, "x") is symbolic  # symbolic arrays pass untouched
