"""The course's worked examples, typed once: the networks, their inputs and the numbers they must give.

Tests, the grader, the notebooks and the homework solutions all take their worked
examples from here, so a number is never typed twice.  Each example is plain data
(lists and floats, the lecture's indexing: ``weights[k-1][i][j]`` is w(k)_ij) with
a builder for the library's object and the exact numbers a correct forward and
backward pass must reproduce.

* :data:`TWO_RELU`: two hidden ReLU units, x = 1, d = 3, w(1) = (2, -1),
  w(2) = (1, 2), no biases, Div = (Y - d)^2 (from the accompanying course's
  slides, 002 in the lecture folder).  The second unit is dead: none of its
  weights move.
* :data:`TWO_RELU_RESIDUAL`: the same with w(2) = (-1, 2), so z(2) = -2 < 0, and
  the output g = ReLU(z(2)) (everything behind it gets 0) or g = z(2) + ReLU(z(2))
  (a skip connection carries the gradient back).
* :data:`SIGMOID_NEURON`: one sigmoid neuron as a computational graph,
  f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3
  (from the other introduction's notes, 003 in the lecture folder).
* :data:`TINY`: the two-input network of notebook 02, widths (2, 2, 2, 1),
  sigmoid, tanh and identity, half squared error, one instance.
* :data:`HOMEWORK_01`: homework 01's function F(x), variable by variable, as text
  for SymPy: a = x^2, b = sin x, c = a b, F = c + exp(a) (three paths from x to F).
* :data:`VECTOR_231`: notebook 05's 2-3-1 network in vector form (W(k) of shape
  (width_k, width_(k-1))), integer weights, ReLU then identity, Div = 1/2 (Y - d)^2.
"""

from __future__ import annotations

import numpy as np

from .graph import Value
from .layers import ActivationLayer, Affine, Residual
from .network import Network
from .scalar_net import ScalarNetwork

__all__ = [
    "TWO_RELU",
    "TWO_RELU_RESIDUAL",
    "SIGMOID_NEURON",
    "TINY",
    "HOMEWORK_01",
    "VECTOR_231",
    "scalar_network",
    "vector_network",
    "two_relu_network",
    "two_relu_residual_networks",
    "tiny_network",
    "sigmoid_neuron_example",
    "vector_231_network",
    "SOFTMAX_HAND",
    "MULTIPLICATIVE_HAND",
]

#: the two-hidden-ReLU example and the numbers it gives (the lecture's names, 1-based)
TWO_RELU = {
    "x": [1.0],
    "d": [3.0],
    "weights": [[[2.0, -1.0]], [[1.0], [2.0]]],
    "biases": [[0.0, 0.0], [0.0]],
    "activations": ["relu", "identity"],
    "divergence": "squared_error",
    "numbers": {
        "z(1)": [2.0, -1.0], "y(1)": [2.0, 0.0], "Y": [2.0], "Div": 1.0,
        "dDiv/dY": [-2.0], "dDiv/dz(1)": [-2.0, 0.0],
        "dDiv/dw(2)": [[-4.0], [0.0]],  # dDiv/dw(2)_i1 for i = 1, 2
        "dDiv/dw(1)": [[-2.0, 0.0]],  # dDiv/dw(1)_1j for j = 1, 2: the dead unit's weight gets 0
    },
}

#: the two-ReLU network with w(2) = (-1, 2): z(2) = -2, and the output g with or without a skip connection
TWO_RELU_RESIDUAL = {
    "x": [1.0],
    "d": [3.0],
    "weights": [[[2.0, -1.0]], [[-1.0], [2.0]]],
    "biases": [[0.0, 0.0], [0.0]],
    "divergence": "squared_error",
    "numbers": {
        "z(2)": -2.0,
        # g = ReLU(z(2)) = 0: Div = 9, and no weight gets a gradient
        "plain": {"g": 0.0, "Div": 9.0, "dDiv/dw(2)": [[0.0], [0.0]], "dDiv/dw(1)": [[0.0, 0.0]]},
        # g = z(2) + ReLU(z(2)) = -2: dDiv/dg = 2 (g - d) = -10 reaches w(2) and w(1)
        "skip": {"g": -2.0, "Div": 25.0, "dDiv/dw(2)": [[-20.0], [0.0]], "dDiv/dw(1)": [[10.0, 0.0]]},
    },
}

#: one sigmoid neuron, gate by gate, and the numbers of its forward and backward pass (2 decimals)
SIGMOID_NEURON = {
    "inputs": {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    "numbers": {
        "gates": ["mul", "mul", "add", "add", "mul_const", "exp", "add_const", "reciprocal"],
        "forward": [-2.0, 6.0, 4.0, 1.0, -1.0, 0.37, 1.37, 0.73],
        # the gradient of f at the last five gate outputs, from f back to the sum
        "backward": [1.00, -0.53, -0.53, -0.20, 0.20],
        "gradients": {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20},
        # sigma(1) (1 - sigma(1)): the sigmoid gate's local gradient, the shortcut
        "shortcut": 0.20,
    },
}

#: notebook 02's two-input network and its instance
TINY = {
    "x": [1.0, -0.5],
    "d": [1.0],
    "weights": [[[0.5, -1.0], [1.5, 0.25]], [[1.0, -0.5], [-2.0, 0.75]], [[1.5], [-1.0]]],
    "biases": [[0.1, -0.2], [0.0, 0.3], [0.2]],
    "activations": ["sigmoid", "tanh", "identity"],
    "divergence": "half_squared_error",
}


#: notebook 05's 2-3-1 network in vector form, integers a pencil can multiply: W(k) is (width_k, width_(k-1)),
#: so W(k)[j, i] is w(k)_ij; ReLU hidden units, a linear output, Div = 1/2 (Y - d)^2
VECTOR_231 = {
    "x": [1.0, 2.0],
    "d": [3.0],
    "W": [[[1.0, -1.0], [2.0, 0.0], [0.0, 1.0]], [[1.0, -2.0, 1.0]]],
    "b": [[0.0, -1.0, 1.0], [0.0]],
    "activations": ["relu", "identity"],
    "divergence": "half_squared_error",
    "numbers": {
        "z(1)": [-1.0, 1.0, 3.0], "y(1)": [0.0, 1.0, 3.0], "Y": [1.0], "Div": 2.0,
        "dDiv/dY": [-2.0], "dDiv/dy(1)": [-2.0, 4.0, -2.0], "dDiv/dz(1)": [0.0, 4.0, -2.0],
        "dDiv/dW(2)": [[0.0], [-2.0], [-6.0]],  # y(1) dDiv/dz(2): (width_1, width_2) = 3 x 1
        "dDiv/dW(1)": [[0.0, 4.0, -2.0], [0.0, 8.0, -4.0]],  # x dDiv/dz(1): (width_0, width_1) = 2 x 3
        "dDiv/dx": [8.0, -2.0],
    },
}

#: homework 01's function, in the order its variables are computed (each definition as SymPy reads it)
HOMEWORK_01 = {"a": "x**2", "b": "sin(x)", "c": "a*b", "F": "c + exp(a)"}

#: notebook 03's softmax by hand: z = (0, ln 2, ln 3) gives y = (1/6, 1/3, 1/2); the Jacobian J[i, j] = dy_i/dz_j =
#: y_i (delta_ij - y_j) in 36ths (row i, column j); with the target d = (0, 0, 1), cross-entropy gives
#: Div = ln 2 and dDiv/dz = y - d = (1/6, 1/3, -1/2)
SOFTMAX_HAND = {
    "z": [0.0, 0.6931471805599453, 1.0986122886681098],  # 0, ln 2, ln 3
    "d": [0.0, 0.0, 1.0],
    "numbers": {
        "y": [1 / 6, 1 / 3, 1 / 2],
        "jacobian_36ths": [[5, -2, -3], [-2, 8, -6], [-3, -6, 9]],
        "Div": 0.6931471805599453,  # -ln(1/2) = ln 2
        "dDiv/dy": [0.0, 0.0, -2.0],  # -d_j / y_j
        "dDiv/dz": [1 / 6, 1 / 3, -1 / 2],  # y - d
    },
}

#: notebook 03's multiplicative layer by hand: o_i = y_j y_l for the pairs (j, l) = (1, 2), (2, 3), (3, 3)
#: (0-based in "pairs"), y = (2, -1, 3), upstream dDiv/do = (1, 2, -1)
MULTIPLICATIVE_HAND = {
    "y": [2.0, -1.0, 3.0],
    "pairs": [[0, 1], [1, 2], [2, 2]],
    "dDiv/do": [1.0, 2.0, -1.0],
    "numbers": {
        "o": [-2.0, -3.0, 9.0],
        # y_1: 1 x (-1); y_2: 1 x 2 + 2 x 3; y_3: 2 x (-1) + (-1) x 2 x 3 (the square's two terms)
        "dDiv/dy": [-1.0, 8.0, -8.0],
    },
}


def scalar_network(example: dict) -> ScalarNetwork:
    """The :class:`ScalarNetwork` of an example (weights w(k)_ij as ``weights[k-1][i][j]``)."""
    return ScalarNetwork(example["weights"], example["biases"], example["activations"], example["divergence"])


def vector_network(example: dict) -> Network:
    """The same network in vector form: for each layer an Affine with ``W(k)[j, i] = w(k)_ij``, then f_k."""
    layers = []
    for w, b, f in zip(example["weights"], example["biases"], example["activations"]):
        layers += [Affine(np.array(w, dtype=float).T, b), ActivationLayer(f)]
    return Network(layers, example["divergence"])


def vector_231_network() -> Network:
    """:data:`VECTOR_231` as a vectorised Network (its W(k) as given: (width_k, width_(k-1)))."""
    ex = VECTOR_231
    layers = []
    for W, b, f in zip(ex["W"], ex["b"], ex["activations"]):
        layers += [Affine(np.array(W), b), ActivationLayer(f)]
    return Network(layers, ex["divergence"])


def two_relu_network(*, ran: bool = False) -> ScalarNetwork:
    """:data:`TWO_RELU` as a ScalarNetwork; ``ran=True``: its forward and backward pass already done."""
    net = scalar_network(TWO_RELU)
    if ran:
        net.forward(TWO_RELU["x"])
        net.backward(np.array(TWO_RELU["d"]))
    return net


def two_relu_residual_networks() -> dict[str, Network]:
    """:data:`TWO_RELU_RESIDUAL` in vector form: ``{"plain": g = ReLU(z(2)), "skip": g = z(2) + ReLU(z(2))}``."""
    ex = TWO_RELU_RESIDUAL
    hidden = [Affine(np.array(ex["weights"][0]).T, ex["biases"][0]), ActivationLayer("relu"),
              Affine(np.array(ex["weights"][1]).T, ex["biases"][1])]
    return {"plain": Network(hidden + [ActivationLayer("relu")], ex["divergence"]),
            "skip": Network(hidden + [Residual([ActivationLayer("relu")])], ex["divergence"])}


def tiny_network() -> ScalarNetwork:
    """:data:`TINY` as a ScalarNetwork (before any pass)."""
    return scalar_network(TINY)


def sigmoid_neuron_example(use_sigmoid_gate: bool = False) -> tuple[Value, dict[str, Value]]:
    """:data:`SIGMOID_NEURON` gate by gate: ``(f, {"w0": w0, "x0": x0, ...})``, before any backward pass.

    Built as ``w0*x0 + w1*x1 + w2``, then ``* -1``, ``.exp()``, ``+ 1``,
    ``.reciprocal()``; or, with ``use_sigmoid_gate=True``, one sigmoid gate after the sum.
    """
    leaves = {name: Value(v, label=name) for name, v in SIGMOID_NEURON["inputs"].items()}
    w0, x0, w1, x1, w2 = leaves.values()
    z = w0 * x0 + w1 * x1 + w2
    f = z.sigmoid() if use_sigmoid_gate else ((z * -1).exp() + 1).reciprocal()
    f.label = "f"
    return f, leaves
