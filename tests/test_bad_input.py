"""Bad input is refused at the library's boundary, with a message that names the
argument, says what was expected and shows what came (never a numpy error from deep inside)."""

import numpy as np
import pytest

import backprop as bp
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
    ("affine: b has the wrong length", lambda: bp.Affine(W, np.ones(4)),
     ValueError, ["'b'", "expected shape (3,)", "got (4,)"]),
    ("affine: W is 3-D", lambda: bp.Affine(np.ones((2, 2, 2)), np.ones(2)),
     ValueError, ["'W'", "expected a 2-D array", "(width_k, width_(k-1))", "got 3-D"]),
    ("affine: zero width", lambda: bp.Affine(np.ones((0, 3)), np.ones(0)),
     ValueError, ["'W'", "positive widths", "got shape (0, 3)"]),
    ("network: X has NaN", lambda: NET.forward(np.array([[1.0, np.nan, 0.0]])),
     ValueError, ["'X'", "expected finite values", "nan", "(0, 1)"]),
    ("network: X has the wrong width", lambda: NET.forward(np.ones((2, 5))),
     ValueError, ["'X'", "expected shape (B, 3)", "got (2, 5)"]),
    ("network: X is text", lambda: NET.forward("1 2 3"),
     TypeError, ["'X'", "expected a numeric array", "got str"]),
    ("network: no layers", lambda: bp.Network([]),
     TypeError, ["'layers'", "expected a non-empty sequence", "got list"]),
    ("network: widths do not chain", lambda: bp.Network([bp.Affine(np.ones((2, 3)), np.ones(2)), bp.Affine(W, np.ones(3))]),
     ValueError, ["expects inputs of width 4", "got width 2"]),
    ("divergence: target is infinite", lambda: bp.SquaredError().value(np.ones(2), np.array([1.0, np.inf])),
     ValueError, ["'d'", "expected finite values", "inf"]),
    ("divergence: target shape differs", lambda: bp.SquaredError().value(np.ones((2, 3)), np.ones((2, 2))),
     ValueError, ["'d'", "expected the shape of 'Y' (2, 3)", "got (2, 2)"]),
    ("divergence: label out of range", lambda: bp.CrossEntropy().value(np.full((2, 3), 1 / 3), np.array([0, 3])),
     ValueError, ["'labels'", "expected labels in 0..2", "got 3 at index 1"]),
    ("one_hot: negative label", lambda: bp.one_hot([1, -1], 3),
     ValueError, ["'labels'", "expected labels in 0..2", "got -1"]),
    ("one_hot: fractional labels", lambda: bp.one_hot([0.5, 1.0], 3),
     TypeError, ["'labels'", "expected integer class labels", "got"]),
    ("one_hot: non-positive class count", lambda: bp.one_hot([0], 0),
     ValueError, ["'num_classes'", "expected a positive integer", "got 0"]),
    ("divergence: probabilities outside [0, 1]", lambda: bp.BinaryCrossEntropy().value(np.array([1.5]), np.array([1.0])),
     ValueError, ["'Y'", "expected values in [0, 1]", "got 1.5", "sigmoid_binary_cross_entropy"]),
    ("divergence: target not a distribution", lambda: bp.CrossEntropy().value(np.full((1, 2), 0.5), np.array([[1.0, 1.0]])),
     ValueError, ["'d'", "expected a probability distribution", "got a row summing to 2"]),
    ("divergence: unknown name", lambda: bp.get_divergence("mse"),
     ValueError, ["'divergence'", "expected one of", "'half_squared_error'", "got 'mse'"]),
    ("divergence: not a name", lambda: bp.get_divergence(3),
     TypeError, ["'divergence'", "expected a name", "got int"]),
    ("activation: unknown name", lambda: bp.get_activation("relu6"),
     ValueError, ["'activation'", "expected one of", "'leaky_relu'", "got 'relu6'"]),
    ("activation: not a name", lambda: bp.ActivationLayer(42),
     TypeError, ["'activation'", "expected a name", "got int"]),
    ("activation: text input", lambda: bp.ReLU().forward("abc"),
     TypeError, ["'z'", "expected a numeric array", "got str"]),
    ("activation: softmax of a scalar", lambda: bp.Softmax().forward(1.0),
     ValueError, ["'z'", "expected a vector", "got a scalar"]),
    ("activation: dy shape differs", lambda: bp.Tanh().backward(np.ones(3), np.ones(2)),
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
    ("multiplicative: pairs not pairs", lambda: bp.Multiplicative([0, 1, 2]),
     ValueError, ["'pairs'", "expected a non-empty list of (j, l) index pairs", "got list of shape (3,)"]),
    ("residual: block changes the width", lambda: bp.Residual([bp.Affine(np.ones((2, 3)), np.ones(2))]).forward(np.ones((1, 3))),
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
