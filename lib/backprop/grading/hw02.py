"""Homework 02: backpropagation with scalars, written with explicit loops.

Every list in this homework is indexed by the layer k, as in the lecture and as
``bp.ScalarNetwork``'s attributes ``w``, ``b``, ``f``, ``z``, ``y``: entry 0 is the
input layer, and holds ``None`` where layer 0 has no such quantity.

=========================  ==========================================================
``weights[k][i][j]``       w(k)_ij, from unit i of layer k-1 to unit j of layer k
``biases[k][j]``           b(k)_j
``activations[k]``         f_k, an activation of the library (``.forward``, ``.derivative``)
``z[k][j]``, ``y[k][j]``   z(k)_j and y(k)_j; ``y[0]`` is the input x, ``z[0]`` is None
=========================  ==========================================================

The student writes ``forward_pass``, the three local steps of the backward pass
(``activation_step``, ``weight_step``, ``input_step``), ``backward_pass`` that chains
them over the layers, and ``average_gradients``, the lecture's loop over a training
set. Each is a graded part; the diagnosis of a wrong answer names the factor of the
chain rule that disagrees, and every entry it prints is named as the lecture names
it, 1-based (``dDiv/dw(2)_21``), beside the code's 0-based index (``dw[2][1][0]``).

The worked example is the two-ReLU network of :data:`backprop.core.examples.TWO_RELU`,
which comes from the slides of the other course (002 in the lecture folder), not from
this lecture.

Every seed's hidden cases hold, for each part, every activation and output pairing it
can meet, inputs of both signs, units exactly at a kink of ReLU and leaky ReLU (a
group of cases with its own share of the points) and sigmoid units far in their tails
(|z| = 760, where exp(-z) overflows), so a numerically unstable form of a rule fails.
The public cases, which the student's self-check runs, hold each of these too.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.activations import get_activation
from ..core.divergences import get_divergence
from ..core.gradcheck import subscript
from ..core.examples import TWO_RELU
from ..core.scalar_net import ScalarNetwork
from ..core.tolerance import agree
from .parts import AnswerError, Case, Part, Verdict, as_numbers, compare_numbers, fmt

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "WORKED", "network_case", "reference_forward",
           "PARTS"]

#: the modules of backprop this homework may use: the grading kernel has no others
MAY_USE = ("core.activations", "core.divergences", "core.checks", "core.examples")
#: the installed packages the homework may import (besides the standard library)
PACKAGES = ("numpy",)
#: the rule, as the homework states it
ALLOWED = ("this homework may use numpy, the activation and divergence objects your functions receive "
           "(f.forward, f.derivative, divergence.value, divergence.derivative) and the data of bp.examples; "
           "not the library's networks, layers, graph or gradient checks")

SCALAR_ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "identity")
#: (output activation, divergence, how targets are drawn): every pairing the parts meet
OUTPUTS = (
    ("identity", "squared_error", "real"),
    ("identity", "half_squared_error", "real"),
    ("sigmoid", "binary_cross_entropy", "probability"),
    ("tanh", "half_squared_error", "real"),
)
#: z of a sigmoid unit far in its tails: exp(760) overflows float64, so an unstable form gives NaN or inf
TAIL = 760.0

#: the two-hidden-ReLU worked example (x=1, d=3, w(1)=(2, -1), w(2)=(1, 2), (Y-d)^2, no biases), as a case's
#: inputs: the numbers it must give stay in the grader (core/examples.py)
WORKED = {key: value for key, value in TWO_RELU.items() if key != "numbers"}
_NUMBERS = TWO_RELU["numbers"]


# -- names as the lecture writes them ----------------------------------------------------------------
def entry_name(q: str, k, idx: tuple, code: str | None = None) -> str:
    """``dDiv/dz(1)_2 (dz[1][1])``: the lecture's name of an entry, then the code's index.

    ``q``: z, y, dz, dy, dw, db, w, b or x; ``k``: the layer (a number, or "k" when the
    step does not know it); ``code``: the code's name of the array (default ``q[k]``).
    """
    lecture = {"z": "z({k})", "y": "y({k})", "dz": "dDiv/dz({k})", "dy": "dDiv/dy({k})", "dw": "dDiv/dw({k})",
               "db": "dDiv/db({k})", "w": "w({k})", "b": "b({k})", "x": "x"}[q].format(k=k)
    code = code if code is not None else f"{q}[{k}]"
    return f"{lecture}_{subscript(*idx)} ({code}{''.join(f'[{i}]' for i in idx)})"


def _namer(q: str, k, code: str | None = None):
    return lambda idx: entry_name(q, k, idx, code)


# -- the kernel side: how each part calls the student's code (source text, run where it lives) ----------------
_PRELUDE = '''
import numpy as np
from backprop.core.activations import get_activation
from backprop.core.divergences import get_divergence


def activation(name):
    """The library's activation, without its backward pass: the answer of activation_step."""
    f = get_activation(name)

    def not_here(self, *args, **kwargs):
        raise ModuleNotFoundError("the library's backward pass of an activation is not in the grading kernel: "
                                  "multiply f.derivative(z) by dDiv/dy yourself",
                                  name="backprop.core.activations.backward")

    kind = type(type(f).__name__, (type(f),), {"backward": not_here, "jacobian": not_here})
    given = object.__new__(kind)
    given.__dict__.update(vars(f))
    return give(given, name)


def divergence(name):
    return give(get_divergence(name), name)


def vector(values):
    return np.array(values, dtype=float)


def by_layer(values):
    """Lists indexed by the layer k: entry 0 None."""
    return [None] + [np.array(v, dtype=float) for v in values]
'''


def _given_layers(payload_list: Sequence) -> list:
    return [None] + [np.array(v, dtype=float).tolist() for v in payload_list]


def _activations_given(names: Sequence[str]) -> list:
    return [None] + [{"given": a} for a in names]


class Hw02Part(Part):
    """What every part of homework 02 shares: the modules it may use, the kernel side's helpers."""

    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED


# -- networks with every case the hidden tests must hold ------------------------------------------
def _dyadic(values: np.ndarray) -> np.ndarray:
    """Multiples of 1/4, never 0: products and sums of them are exact in float64."""
    out = np.round(np.asarray(values) * 4) / 4
    return np.where(out == 0, 0.25 * np.where(np.asarray(values) < 0, -1, 1), out)


def network_case(rng: np.random.Generator, hidden: Sequence[str], output: int, *, sign: int = 1,
                 kink: bool = False, tails: bool = False, widths: Sequence[int] | None = None,
                 instances: int = 0) -> dict:
    """A small network and its inputs (JSON data), built so the case holds what it must.

    ``hidden``: the hidden layers' activations; ``output``: an index of ``OUTPUTS`` (the
    output activation and the divergence); ``sign``: the sign of the first input;
    ``kink``: unit 1 of layer 1 (a ReLU or leaky ReLU) sits exactly at z = 0 (inputs,
    weights and biases of layer 1 are multiples of 1/4, so every order of summation
    gives exactly 0); ``tails``: the first sigmoid hidden layer has units at z = +760
    and -760; ``instances``: with T > 0, a training set ``X``, ``D`` of T rows (no kink,
    no tails) instead of one instance ``x``, ``d``. Units not meant to sit at a kink stay
    at least 0.05 away from one.
    """
    out_act, div, target = OUTPUTS[output]
    acts = list(hidden) + [out_act]
    N = len(acts)
    if widths is None:
        widths = [int(rng.integers(1, 4))] + [int(rng.integers(2, 5)) for _ in range(N - 1)] + [int(rng.integers(1, 4))]
    widths = list(widths)
    tail_layer = next((k for k, a in enumerate(hidden, start=1) if a == "sigmoid"), None) if tails else None
    if tail_layer is not None:
        widths[tail_layer] = max(widths[tail_layer], 3)
    if kink:  # the unit at the kink, and one on each side of it
        widths[1] = max(widths[1], 3)
    if kink and acts[0] not in ("relu", "leaky_relu"):
        raise ValueError(f"argument 'kink' needs a ReLU or leaky ReLU first layer, got {acts[0]!r}")
    T = max(instances, 1)
    X = rng.normal(size=(T, widths[0]))
    X[0, 0] = sign * max(abs(X[0, 0]), 0.1)
    if T > 1:
        X[1, 0] = -sign * max(abs(X[1, 0]), 0.1)
    weights = [rng.normal(size=(widths[k - 1], widths[k])) for k in range(1, N + 1)]
    biases = [rng.normal(scale=0.5, size=widths[k]) for k in range(1, N + 1)]
    if kink:
        X, weights[0], biases[0] = _dyadic(X), _dyadic(weights[0]), _dyadic(biases[0])
    y = X
    for k in range(1, N + 1):
        w, b = weights[k - 1], biases[k - 1]
        z = y @ w + b
        if kink and k == 1:
            b[0] = -float(X[0] @ w[:, 0]) + 0.0  # exact: z(1)_1 = 0 for the instance
            z = y @ w + b
        for j in range(widths[k]):
            if (kink and k == 1 and j == 0) or acts[k - 1] not in ("relu", "leaky_relu"):
                continue
            while np.min(np.abs(z[:, j])) < 0.05:  # away from the kink, for every instance
                b[j] += 0.1 if not kink or k > 1 else 0.25  # (layer 1 of a kink case stays in quarters)
                z = y @ w + b
        if acts[k - 1] in ("relu", "leaky_relu") and widths[k] >= 2 and not instances:
            # both sides of the kink in every such layer: a slope wrong on one side cannot hide
            j = widths[k] - 1
            if not (z[0] < 0).any():
                b[j] -= z[0, j] + 0.5
            elif not (z[0][1 if kink and k == 1 else 0:] > 0).any():
                b[j] += 0.5 - z[0, j]
            z = y @ w + b
        if k == tail_layer:
            b[0] += TAIL - float((y @ w + b)[0, 0])
            b[1] += -TAIL - float((y @ w + b)[0, 1])
        z = y @ w + b
        y = get_activation(acts[k - 1]).forward(z)
    case = {
        "weights": [w.tolist() for w in weights],
        "biases": [b.tolist() for b in biases],
        "activations": acts,
        "divergence": div,
    }
    if target == "real":
        D = rng.normal(size=(T, widths[N]))
    else:
        D = rng.uniform(0.05, 0.95, size=(T, widths[N]))
    if instances:
        case["X"], case["D"] = X.tolist(), D.tolist()
    else:
        case["x"], case["d"] = X[0].tolist(), D[0].tolist()
    return case


def reference_forward(net: dict, x=None):
    """z[k], y[k] (k = 0..N) from the library's scalar network (lists indexed by k)."""
    sn = ScalarNetwork([None, *net["weights"]], [None, *net["biases"]], [None, *net["activations"]], net["divergence"])
    sn.forward(net["x"] if x is None else x)
    return [None] + [np.array(v) for v in sn.z[1:]], [np.array(v) for v in sn.y]


def _with_pass(net: dict) -> dict:
    """The case of the backward pass: the network and its forward pass (z, y), computed here."""
    z, y = reference_forward(net)
    return dict(net, z=[None] + [v.tolist() for v in z[1:]], y=[v.tolist() for v in y])


def _kink_interval(f, z):
    """Lowest and highest valid derivative at each z: one-sided slopes at a kink, f'(z) elsewhere."""
    d = np.asarray(f.derivative(np.asarray(z, dtype=float)), dtype=float)
    lo, hi = d.copy(), d.copy()
    for kink in getattr(f, "kinks", ()):
        at = np.abs(np.asarray(z) - kink) < 1e-12
        if at.any():
            left = float(f.derivative(np.array(kink - 1e-6)))
            right = float(f.derivative(np.array(kink + 1e-6)))
            lo[at], hi[at] = min(left, right), max(left, right)
    return lo, hi


def _inside(got, low, high):
    return np.isfinite(got) & (got >= low - 1e-9 - 1e-7 * np.abs(low)) & (got <= high + 1e-9 + 1e-7 * np.abs(high))


def _slope_diagnosis(got, f, z, dy, where: str) -> str:
    """Which factor of dDiv/dz = f'(z) dDiv/dy is wrong, with the activation named."""
    name = f.name.replace("_", " ")
    rule = "dDiv/dz_i = f'(z_i) dDiv/dy_i"
    if not np.isfinite(got).all():
        return (f"{where}: the {name} slope is not finite at some z (at |z| = {fmt(TAIL)}, exp overflows): use a "
                f"numerically stable form, such as f.derivative(z)")
    if agree(got, dy).all():
        return f"{where}: the factor f'(z) of the {name} units is missing: {rule}"
    if agree(got, f.forward(z) * dy).all():
        return f"{where}: you multiplied by f(z), the {name} itself, instead of its slope f'(z): {rule}"
    if agree(got, f.derivative(f.forward(z)) * dy).all():
        return f"{where}: the {name} slope is evaluated at y = f(z) instead of at z: {rule}"
    if agree(got, f.derivative(z)).all():
        return f"{where}: the factor dDiv/dy (the gradient arriving from above) is missing: {rule}"
    if f.name == "leaky_relu" and agree(got, (z > 0) * dy).all():
        return f"{where}: a leaky ReLU's slope for z < 0 is alpha = {fmt(f.alpha)}, not 0 (f.derivative knows it)"
    lo, hi = _kink_interval(f, z)
    ok = _inside(got, np.minimum(lo * dy, hi * dy), np.maximum(lo * dy, hi * dy))
    at_kink = np.array([any(abs(v - c) < 1e-12 for c in getattr(f, "kinks", ())) for v in np.atleast_1d(z)])
    if at_kink.any() and (ok | at_kink).all():
        low = "alpha" if f.name == "leaky_relu" else "0"
        return (f"{where}: at a kink (z = 0) the slope of a {name} must be a subgradient, a value in [{low}, 1] "
                f"(f.derivative(0) is one); yours is outside")
    return f"{where}: the slope of the {name} units (f'(z)) or the product f'(z_i) dDiv/dy_i disagrees: {rule}"


# -- forward -----------------------------------------------------------------------------------
class Forward(Hw02Part, id="02_forward", names=("forward_pass",), title="forward pass"):
    call = _PRELUDE + '''
weights, biases = by_layer(p["weights"]), by_layer(p["biases"])
activations = [None] + [activation(a) for a in p["activations"]]
result = call("forward_pass", vector(p["x"]), weights, biases, activations)
if not isinstance(result, (tuple, list)) or len(result) != 2:
    raise Wrong("forward_pass should return the pair (z, y)")
'''
    argument_names = ("x", "weights", "biases", "activations")

    def public_cases(self):
        return [
            Case("the two-ReLU example (from the other course's slides)", dict(WORKED)),
            Case("sigmoid units far in their tails (z = 760 and -760), then a tanh output (seed 1)",
                 network_case(np.random.default_rng(1), ["sigmoid"], 3, tails=True, sign=-1)),
            Case("a leaky ReLU layer, then a sigmoid output (seed 2)",
                 network_case(np.random.default_rng(2), ["leaky_relu"], 2, widths=[2, 4, 1])),
            Case("tanh and identity layers, a linear output (seed 3)",
                 network_case(np.random.default_rng(3), ["tanh", "identity"], 0)),
        ]

    def hidden_case(self, rng, n):
        hidden = [SCALAR_ACTIVATIONS[n % 5]] + ([SCALAR_ACTIVATIONS[(n + 2) % 5]] if n % 3 == 2 else [])
        tails = hidden[0] == "sigmoid"
        return Case(f"random network {n + 1}", network_case(rng, hidden, n % len(OUTPUTS), sign=1 - 2 * (n % 2),
                                                             tails=tails))

    def arguments(self, p):
        return [np.array(p["x"], dtype=float).tolist(), _given_layers(p["weights"]), _given_layers(p["biases"]),
                _activations_given(p["activations"])]

    def entry_name(self, label, path, p):
        if label == "weights" and len(path) == 3:
            return entry_name("w", path[0], path[1:], "weights[%d]" % path[0])
        if label == "biases" and len(path) == 2:
            return entry_name("b", path[0], path[1:], "biases[%d]" % path[0])
        if label == "x" and len(path) == 1:
            return entry_name("x", "", path, "x")
        return super().entry_name(label, path, p)

    def expected(self, net):
        return reference_forward(net)

    def judge(self, net, answer, expected):
        z_ref, y_ref = expected
        N = len(net["weights"])
        z_got, y_got = answer
        for q, got in (("z", z_got), ("y", y_got)):
            if not isinstance(got, list) or len(got) != N + 1:
                n = len(got) if isinstance(got, list) else type(got).__name__
                raise AnswerError(f"{q} should be a list of N + 1 = {N + 1} entries (layers 0..{N}), got {n}")
        y0 = as_numbers(y_got[0], "y[0]", (len(net["x"]),))
        if not agree(y0, net["x"]).all():
            return Verdict.wrong("y[0] should be the input x itself", "y[0] should be the input x")
        weights = [None] + [np.array(w, dtype=float) for w in net["weights"]]
        biases = [None] + [np.array(b, dtype=float) for b in net["biases"]]
        activations = [None] + [get_activation(a) for a in net["activations"]]
        for k in range(1, N + 1):
            z_k = as_numbers(z_got[k], f"z[{k}]", z_ref[k].shape)
            y_k = as_numbers(y_got[k], f"y[{k}]", y_ref[k].shape)
            if not agree(z_k, z_ref[k]).all():
                return Verdict.wrong(compare_numbers(z_k, z_ref[k], _namer("z", k)),
                                     self._why_z(k, z_k, y_got, weights, biases))
            if not agree(y_k, y_ref[k]).all():
                return Verdict.wrong(compare_numbers(y_k, y_ref[k], _namer("y", k)),
                                     self._why_y(k, z_ref[k], y_k, activations[k]))
        return Verdict.ok()

    @staticmethod
    def _why_z(k, z_k, y_got, weights, biases):
        try:
            y_prev = np.array(y_got[k - 1], dtype=float)
            w, b = weights[k], biases[k]
            if agree(z_k, y_prev @ w).all():
                return f"layer {k}: z(k)_j = sum_i w(k)_ij y(k-1)_i + b(k)_j; the bias b(k)_j is missing"
            if w.shape[0] == w.shape[1] and agree(z_k, w @ y_prev + b).all():
                return f"layer {k}: you used w(k)_ji; the weight from unit i to unit j is weights[k][i][j]"
        except (ValueError, TypeError, IndexError):
            pass
        return f"layer {k}: z(k)_j should be sum_i w(k)_ij y(k-1)_i + b(k)_j"

    @staticmethod
    def _why_y(k, z_k, y_k, f):
        name = f.name.replace("_", " ")
        if not np.isfinite(y_k).all():
            return (f"layer {k}: y(k) = f_k(z(k)) is not finite for some {name} unit (at |z| = {fmt(TAIL)} exp "
                    f"overflows): use a numerically stable form, such as f.forward(z)")
        if agree(y_k, z_k).all():
            return f"layer {k}: y(k) = f_k(z(k)); the {name} activation is not applied"
        if agree(y_k, f.derivative(z_k)).all():
            return f"layer {k}: y(k) = f_k(z(k)), the {name} itself, not its derivative"
        if f.name == "leaky_relu" and agree(y_k, np.maximum(z_k, 0)).all():
            return f"layer {k}: a leaky ReLU gives alpha z for z < 0 (alpha = {fmt(f.alpha)}), not 0"
        return f"layer {k}: y(k)_j should be f_k(z(k)_j) with f_k the {name}"


# -- the three local steps -----------------------------------------------------------------------
def _layer_label(p) -> object:
    return p.get("layer", "k")


class ActivationStep(Hw02Part, id="02_activation_step", names=("activation_step",),
                     title="backward through an activation: dDiv/dz(k)_i = f_k'(z(k)_i) dDiv/dy(k)_i"):
    call = _PRELUDE + '''
result = call("activation_step", vector(p["dy"]), vector(p["z"]), activation(p["activation"]))
'''
    argument_names = ("dy_k", "z_k", "f")
    shares = {"kink": 0.25}
    group_notes = {"kink": "the cases with a ReLU or leaky ReLU unit exactly at its kink z = 0, where any slope "
                           "between the two sides is a valid subgradient"}
    #: the hidden cases, by n: (activation, what the case holds)
    KINDS = (("relu", "kink"), ("leaky_relu", "kink"), ("sigmoid", "tails"), ("tanh", "both signs"),
             ("identity", "both signs"), ("relu", "both signs"), ("leaky_relu", "both signs"), ("sigmoid", "both signs"),
             ("tanh", "both signs"), ("relu", "kink"), ("leaky_relu", "kink"), ("sigmoid", "tails"))

    def public_cases(self):
        w2 = np.array(TWO_RELU["weights"][1])[:, 0]
        dy1 = (w2 * _NUMBERS["dDiv/dY"][0]).tolist()  # dDiv/dy(1)_i = w(2)_i1 dDiv/dY
        return [
            Case("layer 1 of the two-ReLU example", {"dy": dy1, "z": _NUMBERS["z(1)"], "activation": "relu", "layer": 1}),
            Case(f"sigmoid units, two far in their tails (z = {fmt(TAIL)} and {fmt(-TAIL)})",
                 {"dy": [0.5, -1.5, 2.0, -0.75], "z": [0.3, TAIL, -TAIL, -1.2], "activation": "sigmoid"}),
            Case("tanh units", {"dy": [1.0, -0.25], "z": [-0.7, 1.1], "activation": "tanh"}),
            Case("leaky ReLU units on both sides of 0", {"dy": [1.5, -2.0, 0.5], "z": [-1.5, 0.8, -0.3],
                                                          "activation": "leaky_relu"}),
            Case("identity units (a linear output)", {"dy": [-2.0, 0.5], "z": [1.25, -3.0], "activation": "identity"}),
            Case("a ReLU unit exactly at its kink z = 0 (any slope in [0, 1] is accepted)",
                 {"dy": [3.0, -1.0], "z": [0.0, 1.5], "activation": "relu"}, group="kink"),
            Case("a leaky ReLU unit exactly at its kink z = 0 (any slope in [alpha, 1] is accepted)",
                 {"dy": [-2.0, 1.0], "z": [0.0, -0.5], "activation": "leaky_relu"}, group="kink"),
        ]

    def hidden_case(self, rng, n):
        act, kind = self.KINDS[n % len(self.KINDS)]
        width = int(rng.integers(2, 6))
        z = rng.normal(scale=2.0, size=width)
        z[0], z[1] = abs(z[0]) + 0.05, -abs(z[1]) - 0.05  # both sides of 0
        if kind == "kink":
            z[int(rng.integers(width))] = 0.0
        if kind == "tails":
            z = np.concatenate([[TAIL + rng.uniform(0, 40), -TAIL - rng.uniform(0, 40)], z])
        dy = rng.normal(size=len(z))
        dy[0] = (1 - 2 * (n % 2)) * max(abs(dy[0]), 0.1)
        return Case(f"random {act.replace('_', ' ')} layer", {"dy": dy.tolist(), "z": z.tolist(), "activation": act},
                    group="kink" if kind == "kink" else "")

    def arguments(self, p):
        return [np.array(p["dy"], dtype=float).tolist(), np.array(p["z"], dtype=float).tolist(), {"given": p["activation"]}]

    def entry_name(self, label, path, p):
        k = _layer_label(p)
        if label == "dy_k" and len(path) == 1:
            return entry_name("dy", k, path, "dy_k")
        if label == "z_k" and len(path) == 1:
            return entry_name("z", k, path, "z_k")
        return super().entry_name(label, path, p)

    def expected(self, p):
        f, z, dy = get_activation(p["activation"]), np.array(p["z"]), np.array(p["dy"])
        lo, hi = _kink_interval(f, z)
        return np.minimum(lo * dy, hi * dy), np.maximum(lo * dy, hi * dy)

    def judge(self, p, answer, expected):
        low, high = expected
        got = as_numbers(answer, "dz_k", low.shape)
        inside = _inside(got, low, high)
        if inside.all():
            return Verdict.ok()
        f, z, dy = get_activation(p["activation"]), np.array(p["z"]), np.array(p["dy"])
        k = _layer_label(p)
        want = np.where(low == high, low, (low + high) / 2)
        details = []
        for i in np.flatnonzero(~inside)[:3]:
            name = entry_name("dz", k, (int(i),), "dz_k")
            if low[i] == high[i]:
                details.append(f"{name} (z = {fmt(z[i])}, dDiv/dy = {fmt(dy[i])}): expected {fmt(want[i])}, "
                               f"got {fmt(got[i])}")
            else:
                details.append(f"{name} (z = {fmt(z[i])} is a kink): any value in [{fmt(low[i])}, {fmt(high[i])}] "
                               f"is a valid subgradient times dDiv/dy, got {fmt(got[i])}")
        return Verdict.wrong(details, _slope_diagnosis(got, f, z, dy, f"{f.name.replace('_', ' ')} units"))


class WeightStep(Hw02Part, id="02_weight_step", names=("weight_step",),
                 title="weights and biases: dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j, dDiv/db(k)_j = dDiv/dz(k)_j"):
    call = _PRELUDE + '''
result = call("weight_step", vector(p["dz"]), vector(p["y_prev"]))
if not isinstance(result, (tuple, list)) or len(result) != 2:
    raise Wrong("weight_step should return the pair (dw_k, db_k)")
'''
    argument_names = ("dz_k", "y_prev")

    def public_cases(self):
        return [
            Case("layer 2 of the two-ReLU example", {"dz": _NUMBERS["dDiv/dY"], "y_prev": _NUMBERS["y(1)"], "layer": 2}),
            Case("layer 1 of the two-ReLU example", {"dz": _NUMBERS["dDiv/dz(1)"], "y_prev": TWO_RELU["x"], "layer": 1}),
            Case("3 units feeding 2", {"dz": [0.5, -1.0], "y_prev": [1.0, 2.0, -3.0]}),
            Case("2 units feeding 2", {"dz": [0.25, -4.0], "y_prev": [3.0, -0.5]}),
        ]

    def hidden_case(self, rng, n):
        dz = rng.normal(size=int(rng.integers(1, 5)))
        y_prev = rng.normal(size=int(rng.integers(1, 5)))
        s = 1 - 2 * (n % 2)
        dz[0], y_prev[0] = s * max(abs(dz[0]), 0.1), -s * max(abs(y_prev[0]), 0.1)
        return Case("random layer", {"dz": dz.tolist(), "y_prev": y_prev.tolist()})

    def arguments(self, p):
        return [np.array(p["dz"], dtype=float).tolist(), np.array(p["y_prev"], dtype=float).tolist()]

    def entry_name(self, label, path, p):
        k = _layer_label(p)
        if label == "dz_k" and len(path) == 1:
            return entry_name("dz", k, path, "dz_k")
        if label == "y_prev" and len(path) == 1:
            return entry_name("y", k - 1 if isinstance(k, int) else "k-1", path, "y_prev")
        return super().entry_name(label, path, p)

    def expected(self, p):
        dz, y_prev = np.array(p["dz"]), np.array(p["y_prev"])
        return np.outer(y_prev, dz), dz

    def judge(self, p, answer, expected):
        dw_ref, db_ref = expected
        k = _layer_label(p)
        dw = as_numbers(answer[0], "dw_k", dw_ref.shape)
        db = as_numbers(answer[1], "db_k", db_ref.shape)
        if not agree(dw, dw_ref).all():
            why = "dDiv/dw(k)_ij = y(k-1)_i * dDiv/dz(k)_j (row i: the unit of layer k-1; column j: the unit of layer k)"
            if dw.shape[0] == dw.shape[1] and agree(dw, dw_ref.T).all():
                why = "dw is transposed: dw_k[i][j] = y(k-1)_i * dDiv/dz(k)_j, row i for the unit of layer k-1"
            elif agree(dw, 0 * dw_ref).all():
                why = "dw is all zeros: the factor y(k-1)_i times dDiv/dz(k)_j"
            elif agree(dw, np.outer(np.ones_like(p["y_prev"]), p["dz"])).all():
                why = "the factor y(k-1)_i, the input the weight multiplies, is missing: dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j"
            return Verdict.wrong(compare_numbers(dw, dw_ref, _namer("dw", k, "dw_k")), why)
        if not agree(db, db_ref).all():
            return Verdict.wrong(
                compare_numbers(db, db_ref, _namer("db", k, "db_k")),
                "dDiv/db(k)_j = dDiv/dz(k)_j: the bias enters z(k)_j with factor 1",
            )
        return Verdict.ok()


class InputStep(Hw02Part, id="02_input_step", names=("input_step",),
                title="back to the previous layer: dDiv/dy(k-1)_i = sum_j w(k)_ij dDiv/dz(k)_j"):
    call = _PRELUDE + '''
result = call("input_step", vector(p["dz"]), np.array(p["w"], dtype=float))
'''
    argument_names = ("dz_k", "w_k")

    def public_cases(self):
        return [
            Case("layer 2 of the two-ReLU example", {"dz": _NUMBERS["dDiv/dY"], "w": TWO_RELU["weights"][1], "layer": 2}),
            Case("3 units feeding 2", {"dz": [0.5, -1.0], "w": [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]}),
            Case("2 units feeding 2", {"dz": [2.0, -1.0], "w": [[1.0, 4.0], [-2.0, 0.5]]}),
        ]

    def hidden_case(self, rng, n):
        a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        dz, w = rng.normal(size=b), rng.normal(size=(a, b))
        s = 1 - 2 * (n % 2)
        dz[0], w[0, 0] = s * max(abs(dz[0]), 0.1), -s * max(abs(w[0, 0]), 0.1)
        return Case("random layer", {"dz": dz.tolist(), "w": w.tolist()})

    def arguments(self, p):
        return [np.array(p["dz"], dtype=float).tolist(), np.array(p["w"], dtype=float).tolist()]

    def entry_name(self, label, path, p):
        k = _layer_label(p)
        if label == "dz_k" and len(path) == 1:
            return entry_name("dz", k, path, "dz_k")
        if label == "w_k" and len(path) == 2:
            return entry_name("w", k, path, "w_k")
        return super().entry_name(label, path, p)

    def expected(self, p):
        return np.array(p["w"]) @ np.array(p["dz"])

    def judge(self, p, answer, expected):
        w, dz = np.array(p["w"]), np.array(p["dz"])
        k = _layer_label(p)
        below = k - 1 if isinstance(k, int) else "k-1"
        got = as_numbers(answer, "dy_prev", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        rule = "dDiv/dy(k-1)_i = sum over j of w(k)_ij * dDiv/dz(k)_j"
        why = f"the weighted sum disagrees: {rule}"
        if np.any(expected != 0) and agree(got, -expected).all():
            why = (f"the sign is flipped: every entry is exactly minus the weighted sum, so a minus sign has crept "
                   f"in (the chain rule only multiplies and adds here: {rule})")
        elif w.shape[0] == w.shape[1] and agree(got, w.T @ dz).all():
            why = f"you used w(k)_ji (the transposed weights): {rule}"
        elif any(agree(got, w[:, j] * dz[j]).all() for j in range(w.shape[1])) and w.shape[1] > 1:
            why = f"only one term j of the sum is there: {rule}"
        return Verdict.wrong(compare_numbers(got, expected, _namer("dy", below, "dy_prev")), why)


# -- the whole backward pass ----------------------------------------------------------------------
class BackwardPass(Hw02Part, id="02_backward_pass", names=("backward_pass",),
                   title="the backward pass over all layers"):
    call = _PRELUDE + '''
z = [None] + [vector(v) for v in p["z"][1:]]
y = [vector(v) for v in p["y"]]
weights = by_layer(p["weights"])
activations = [None] + [activation(a) for a in p["activations"]]
result = call("backward_pass", vector(p["d"]), z, y, weights, activations, divergence(p["divergence"]))
if not isinstance(result, dict):
    raise Wrong(f"backward_pass should return a dict with keys 'dy', 'dz', 'dw', 'db', got a {type(result).__name__}")
'''
    argument_names = ("d", "z", "y", "weights", "activations", "divergence")
    shares = {"kink": 0.25}
    group_notes = {"kink": "the networks with a hidden ReLU or leaky ReLU unit exactly at its kink z = 0, where "
                           "any slope between the two sides is a valid subgradient"}

    def public_cases(self):
        return [
            Case("the two-ReLU example (from the other course's slides)", _with_pass(dict(WORKED))),
            Case("tanh and leaky ReLU layers, a sigmoid output, binary cross-entropy (seed 3)",
                 _with_pass(network_case(np.random.default_rng(3), ["tanh", "leaky_relu"], 2, widths=[2, 3, 3, 2]))),
            Case("sigmoid units far in their tails, a tanh output, half squared error (seed 4)",
                 _with_pass(network_case(np.random.default_rng(4), ["sigmoid", "identity"], 3, tails=True, sign=-1))),
            Case("a ReLU unit exactly at its kink z = 0, a linear output, half squared error (seed 5)",
                 _with_pass(network_case(np.random.default_rng(5), ["relu"], 1, kink=True, widths=[2, 3, 1])),
                 group="kink"),
        ]

    def hidden_case(self, rng, n):
        hidden = [SCALAR_ACTIVATIONS[n % 5]]
        if n % 3 == 1:
            hidden.append(SCALAR_ACTIVATIONS[(n + 3) % 5])
        if n == 11:
            hidden = []  # one layer: the output layer alone
        kink = n in (5, 8)  # relu (5 % 5 = 0) and leaky relu (8 % 5 = 3)
        tails = n in (1, 6)  # sigmoid hidden layers
        net = network_case(rng, hidden, n % len(OUTPUTS), sign=1 - 2 * (n % 2), kink=kink, tails=tails)
        return Case(f"random network {n + 1}", _with_pass(net), group="kink" if kink else "")

    def arguments(self, p):
        return [np.array(p["d"], dtype=float).tolist(), p["z"], p["y"], _given_layers(p["weights"]),
                _activations_given(p["activations"]), {"given": p["divergence"]}]

    def entry_name(self, label, path, p):
        if label in ("z", "y") and len(path) == 2:
            return entry_name(label, path[0], path[1:])
        if label == "weights" and len(path) == 3:
            return entry_name("w", path[0], path[1:], "weights[%d]" % path[0])
        return super().entry_name(label, path, p)

    def expected(self, net):
        return None  # judged step by step below, following the subgradients the answer chose at kinks

    def judge(self, net, answer, _):
        N = len(net["weights"])
        for key in ("dy", "dz", "dw", "db"):
            got = answer.get(key) if isinstance(answer, dict) else None
            if not isinstance(got, list) or len(got) != N + 1:
                n = "missing" if got is None else (len(got) if isinstance(got, list) else type(got).__name__)
                raise AnswerError(f"the result's '{key}' should be a list of N + 1 = {N + 1} entries (layers 0..{N}), got {n}")
        z = [None] + [np.array(v, dtype=float) for v in net["z"][1:]]
        y = [np.array(v, dtype=float) for v in net["y"]]
        weights = [None] + [np.array(w, dtype=float) for w in net["weights"]]
        acts = [None] + [get_activation(a) for a in net["activations"]]
        div = get_divergence(net["divergence"])
        d = np.array(net["d"], dtype=float)

        def read(key, k, shape):
            return as_numbers(answer[key][k], f"{key}[{k}]", shape)

        want = div.derivative(y[N], d)
        got = read("dy", N, want.shape)
        if not agree(got, want).all():
            why = f"dy[{N}] = dDiv/dY comes from the {div.name.replace('_', ' ')}: divergence.derivative(y[{N}], d)"
            try:
                swapped = div.derivative(d, y[N])
            except ValueError:  # the target cannot stand where the output should
                swapped = np.full_like(want, np.nan)
            if agree(got, -want).all():
                # for the squared error the swapped arguments give exactly -dDiv/dY too: name both, sign first
                why = (f"dy[{N}] has the opposite sign in every entry (exactly -dDiv/dY): is a minus sign flipping "
                       f"divergence.derivative(y[{N}], d)"
                       + (", or are its arguments swapped (the network's output comes first)?"
                          if agree(swapped, -want).all() else "?"))
            elif agree(got, swapped).all():
                why = f"the divergence's arguments are swapped: divergence.derivative(y[{N}], d), the network's output first"
            elif agree(got, acts[N].backward(want, z[N])).all() and not agree(want, acts[N].backward(want, z[N])).all():
                why = (f"dy[{N}] holds dDiv/dz({N}), not dDiv/dy({N}): does activation_step write into its argument "
                       f"dy_k in place? Compute dz_k in a new array")
            return Verdict.wrong(compare_numbers(got, want, _namer("dy", N)), why)
        for k in range(N, 0, -1):
            f = acts[k]
            lo, hi = _kink_interval(f, z[k])
            low, high = np.minimum(lo * want, hi * want), np.maximum(lo * want, hi * want)
            dz = read("dz", k, low.shape)
            if not _inside(dz, low, high).all():
                mid = np.where(low == high, low, (low + high) / 2)
                return Verdict.wrong(compare_numbers(dz, mid, _namer("dz", k)),
                                     _slope_diagnosis(dz, f, z[k], want, f"layer {k} ({f.name.replace('_', ' ')})")
                                     + f" (activation_step with z[{k}] and activations[{k}])")
            # from here on, the subgradient the answer chose at a kink is the one the chain follows
            dz = np.clip(dz, low, high)
            for key, ref, factor in (("dw", np.outer(y[k - 1], dz), f"y({k - 1})_i, the output of layer {k - 1}"),
                                     ("db", dz, "1")):
                got = read(key, k, ref.shape)
                if not agree(got, ref).all():
                    return Verdict.wrong(
                        compare_numbers(got, ref, _namer(key, k)),
                        f"layer {k}: dDiv/dz({k}) is right but {key}[{k}] is not: the factor {factor} is missing "
                        f"or wrong (weight_step with dz[{k}] and y[{k - 1}])",
                    )
            below = weights[k] @ dz
            got = read("dy", k - 1, below.shape)
            if not agree(got, below).all():
                why = (f"layer {k}: dDiv/dz({k}) is right but dDiv/dy({k - 1}) is not: the weighted sum over j of "
                       f"w({k})_ij dDiv/dz({k})_j (input_step with dz[{k}] and weights[{k}])")
                if k > 1 and agree(got, acts[k - 1].backward(below, z[k - 1])).all() and not agree(
                        below, acts[k - 1].backward(below, z[k - 1])).all():
                    why = (f"dy[{k - 1}] holds dDiv/dz({k - 1}), not dDiv/dy({k - 1}): does activation_step write into "
                           f"its argument dy_k in place? Compute dz_k in a new array")
                return Verdict.wrong(compare_numbers(got, below, _namer("dy", k - 1)), why)
            want = below
        return Verdict.ok()


# -- the lecture's training-set loop -------------------------------------------------------------
def _training_set(rng: np.random.Generator, hidden: Sequence[str], output: int, T: int, sign: int = 1) -> dict:
    return network_case(rng, hidden, output, sign=sign, instances=T)


class AverageGradients(Hw02Part, id="02_average_gradients", names=("average_gradients",), hidden_count=6,
                       title="the loss and its gradients averaged over a training set"):
    call = _PRELUDE + '''
weights, biases = by_layer(p["weights"]), by_layer(p["biases"])
activations = [None] + [activation(a) for a in p["activations"]]
X, D = np.array(p["X"], dtype=float), np.array(p["D"], dtype=float)
result = call("average_gradients", X, D, weights, biases, activations, divergence(p["divergence"]))
if not isinstance(result, (tuple, list)) or len(result) != 3:
    raise Wrong("average_gradients should return the triple (loss, dw, db)")
'''
    argument_names = ("X", "D", "weights", "biases", "activations", "divergence")

    def public_cases(self):
        worked = dict(WORKED, X=[WORKED["x"]], D=[WORKED["d"]])
        del worked["x"], worked["d"]
        return [
            Case("the two-ReLU example as a training set of one", worked),
            Case("a tanh layer, a sigmoid output, binary cross-entropy, 4 instances (seed 4)",
                 _training_set(np.random.default_rng(4), ["tanh"], 2, 4)),
            Case("leaky ReLU and identity layers, a tanh output, 3 instances (seed 5)",
                 _training_set(np.random.default_rng(5), ["leaky_relu", "identity"], 3, 3, sign=-1)),
        ]

    def hidden_case(self, rng, n):
        hidden = [SCALAR_ACTIVATIONS[n % 5]] + ([SCALAR_ACTIVATIONS[(n + 1) % 5]] if n == 5 else [])
        return Case("random training set",
                    _training_set(rng, hidden, n % len(OUTPUTS), int(rng.integers(2, 7)), sign=1 - 2 * (n % 2)))

    def arguments(self, p):
        return [np.array(p["X"], dtype=float).tolist(), np.array(p["D"], dtype=float).tolist(),
                _given_layers(p["weights"]), _given_layers(p["biases"]), _activations_given(p["activations"]),
                {"given": p["divergence"]}]

    def entry_name(self, label, path, p):
        if label in ("X", "D") and len(path) == 2:
            t, i = path
            what = "x" if label == "X" else "d"
            return f"{what}_{i + 1} of instance {t + 1} ({label}[{t}][{i}])"
        if label == "weights" and len(path) == 3:
            return entry_name("w", path[0], path[1:], "weights[%d]" % path[0])
        if label == "biases" and len(path) == 2:
            return entry_name("b", path[0], path[1:], "biases[%d]" % path[0])
        return super().entry_name(label, path, p)

    def expected(self, net):
        N = len(net["weights"])
        sn = ScalarNetwork([None, *net["weights"]], [None, *net["biases"]], [None, *net["activations"]],
                           net["divergence"])
        loss, grads = sn.loss_and_gradients(np.array(net["X"]), np.array(net["D"]))
        dw = [None] + [grads[f"W({k})"].T for k in range(1, N + 1)]
        db = [None] + [grads[f"b({k})"] for k in range(1, N + 1)]
        div = get_divergence(net["divergence"])
        swapped = None
        if div.name == "binary_cross_entropy":
            swapped = float(np.mean([div.value(np.array(d), np.array(sn.forward(x))) for x, d in zip(net["X"], net["D"])]))
        return loss, dw, db, swapped

    def judge(self, net, answer, expected):
        loss_ref, dw_ref, db_ref, swapped = expected
        N, T = len(net["weights"]), len(net["X"])
        loss = as_numbers(answer[0], "loss", ())
        for q, got in (("dw", answer[1]), ("db", answer[2])):
            if not isinstance(got, list) or len(got) != N + 1:
                raise AnswerError(f"{q} should be a list of N + 1 = {N + 1} entries (layers 0..{N})")
        dw = [None] + [as_numbers(answer[1][k], f"dw[{k}]", dw_ref[k].shape) for k in range(1, N + 1)]
        db = [None] + [as_numbers(answer[2][k], f"db[{k}]", db_ref[k].shape) for k in range(1, N + 1)]
        summed = "it looks like a sum over the instances: the training loss and its gradients are averages (divide by T)"
        if not agree(loss, loss_ref):
            why = "the loss is the average of Div(Y, d) over the instances"
            if T > 1 and agree(loss, T * loss_ref):
                why = summed
            elif swapped is not None and agree(loss, swapped):
                why = "the divergence's arguments are swapped: divergence.value(Y, d), the network's output first"
            return Verdict.wrong(f"loss: expected {fmt(loss_ref)}, got {fmt(loss)}", why)
        for k in range(N, 0, -1):
            for q, got, want in (("dw", dw[k], dw_ref[k]), ("db", db[k], db_ref[k])):
                if not agree(got, want).all():
                    why = "for every instance: forward, backward, accumulate; then divide by T"
                    if T > 1 and agree(got, T * want).all():
                        why = summed
                    return Verdict.wrong(compare_numbers(got, want, _namer(q, k)), why)
        return Verdict.ok()


#: the graded parts of homework 02, in the notebook's order
PARTS = (Forward(), ActivationStep(), WeightStep(), InputStep(), BackwardPass(), AverageGradients())
