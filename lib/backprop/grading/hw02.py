"""Homework 02: backpropagation with scalars, written with explicit loops.

Every list in this homework is indexed by the layer k, as in the lecture: entry 0
is the input layer, and holds ``None`` where layer 0 has no such quantity.

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
chain rule that disagrees.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.activations import get_activation
from ..core.divergences import get_divergence
from ..core.examples import TWO_RELU
from ..core.scalar_net import ScalarNetwork
from ..core.tolerance import agree
from .parts import AnswerError, Case, Part, Verdict, as_numbers, compare_numbers, fmt

__all__ = ["WORKED", "random_network"]

SCALAR_ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "identity")
#: (output activation, divergence, how targets are drawn)
OUTPUTS = (
    ("identity", "squared_error", "real"),
    ("identity", "half_squared_error", "real"),
    ("sigmoid", "binary_cross_entropy", "probability"),
    ("tanh", "half_squared_error", "real"),
)

#: the two-hidden-ReLU worked example (x=1, d=3, w(1)=(2, -1), w(2)=(1, 2), (Y-d)^2, no biases), as a case's
#: inputs: the numbers it must give stay in the grader (core/examples.py)
WORKED = {key: value for key, value in TWO_RELU.items() if key != "numbers"}


def random_network(rng: np.random.Generator, depth: int | None = None, hidden: Sequence[str] | None = None) -> dict:
    """A random small network and one instance (JSON data), away from ReLU kinks.

    ``hidden``: the hidden layers' activations (default: drawn at random; gives the depth).
    """
    N = (len(hidden) + 1 if hidden is not None else int(rng.integers(1, 4))) if depth is None else depth
    widths = [int(rng.integers(1, 4))] + [int(rng.integers(2, 5)) for _ in range(N - 1)] + [int(rng.integers(1, 4))]
    out_act, div, target = OUTPUTS[int(rng.integers(len(OUTPUTS)))]
    if hidden is None:
        hidden = [SCALAR_ACTIVATIONS[int(rng.integers(len(SCALAR_ACTIVATIONS)))] for _ in range(N - 1)]
    acts = list(hidden) + [out_act]
    while True:
        net = {
            "x": rng.normal(size=widths[0]).tolist(),
            "weights": [rng.normal(size=(widths[k - 1], widths[k])).tolist() for k in range(1, N + 1)],
            "biases": [rng.normal(scale=0.5, size=widths[k]).tolist() for k in range(1, N + 1)],
            "activations": acts,
            "divergence": div,
        }
        if target == "real":
            net["d"] = rng.normal(size=widths[N]).tolist()
        else:
            net["d"] = rng.uniform(0.05, 0.95, size=widths[N]).tolist()
        z, _ = reference_forward(net)
        if all(np.min(np.abs(z[k])) > 1e-3 for k in range(1, N + 1)):  # no unit sits on a kink
            return net


def _arrays(net: dict):
    """Payload -> the objects the student's functions receive (lists indexed by k, entry 0 None)."""
    weights = [None] + [np.array(w, dtype=float) for w in net["weights"]]
    biases = [None] + [np.array(b, dtype=float) for b in net["biases"]]
    activations = [None] + [get_activation(a) for a in net["activations"]]
    return weights, biases, activations


def reference_forward(net: dict):
    """z[k], y[k] (k = 0..N) from the library's scalar network."""
    sn = ScalarNetwork(net["weights"], net["biases"], net["activations"], net["divergence"])
    sn.forward(net["x"])
    return [None] + [np.array(v) for v in sn.z[1:]], [np.array(v) for v in sn.y]


def reference_backward(net: dict, z, y) -> dict:
    """dy, dz, dw, db per layer, each step by the library's rules."""
    weights, _, activations = _arrays(net)
    N = len(net["weights"])
    div = get_divergence(net["divergence"])
    dy, dz, dw, db = [None] * (N + 1), [None] * (N + 1), [None] * (N + 1), [None] * (N + 1)
    dy[N] = div.derivative(y[N], np.array(net["d"]))
    for k in range(N, 0, -1):
        dz[k], dw[k], db[k], dy[k - 1] = _steps(dy[k], z[k], y[k - 1], weights[k], activations[k])
    return {"dy": dy, "dz": dz, "dw": dw, "db": db}


def _steps(dy_k, z_k, y_prev, w_k, f):
    """One layer backward: the three local steps of the lecture."""
    dz = f.backward(dy_k, z_k)  # dDiv/dz(k)_i = f'(z(k)_i) dDiv/dy(k)_i
    return dz, np.outer(y_prev, dz), dz.copy(), w_k @ dz


def _name(q: str, k: int):
    return lambda idx: f"{q}[{k}]" + "".join(f"[{i}]" for i in idx)


# -- forward -----------------------------------------------------------------------------
class Forward(Part, id="02_forward", names=("forward_pass",),
              title="forward pass"):
    def public_cases(self):
        return [
            Case("the lecture's two-ReLU example", dict(WORKED)),
            Case("a random tanh network, 2 layers (seed 1)", random_network(np.random.default_rng(1), hidden=["tanh"])),
            Case("a random sigmoid-ReLU network, 3 layers (seed 2)", random_network(np.random.default_rng(2), hidden=["sigmoid", "relu"])),
        ]

    def hidden_case(self, rng, n):
        return Case(f"random network {n + 1}", random_network(rng))

    def run(self, functions, net):
        weights, biases, activations = _arrays(net)
        result = functions["forward_pass"](np.array(net["x"]), weights, biases, activations)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AnswerError("forward_pass should return the pair (z, y)")
        return result

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
        weights, biases, activations = _arrays(net)
        for k in range(1, N + 1):
            z_k = as_numbers(z_got[k], f"z[{k}]", z_ref[k].shape)
            y_k = as_numbers(y_got[k], f"y[{k}]", y_ref[k].shape)
            if not agree(z_k, z_ref[k]).all():
                return Verdict.wrong(
                    compare_numbers(z_k, z_ref[k], _name("z", k)), self._why_z(k, z_k, y_got, weights, biases)
                )
            if not agree(y_k, y_ref[k]).all():
                return Verdict.wrong(compare_numbers(y_k, y_ref[k], _name("y", k)), self._why_y(k, z_k, y_k, activations[k]))
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
        if agree(y_k, z_k).all():
            return f"layer {k}: y(k) = f_k(z(k)); the activation is not applied"
        if agree(y_k, f.derivative(z_k)).all():
            return f"layer {k}: y(k) = f_k(z(k)), the activation itself, not its derivative"
        return f"layer {k}: y(k)_j should be f_k(z(k)_j)"


# -- the three local steps -----------------------------------------------------------
def _kink_interval(f, z):
    """Lowest and highest valid derivative at each z: one-sided slopes at a kink, f'(z) elsewhere."""
    d = np.asarray(f.derivative(z), dtype=float)
    lo, hi = d.copy(), d.copy()
    for kink in getattr(f, "kinks", ()):
        at = np.abs(z - kink) < 1e-12
        if at.any():
            left = float(f.derivative(np.array(kink - 1e-6)))
            right = float(f.derivative(np.array(kink + 1e-6)))
            lo[at], hi[at] = min(left, right), max(left, right)
    return lo, hi


class ActivationStep(Part, id="02_activation_step", names=("activation_step",),
                     title="backward through an activation: dDiv/dz(k)_i = f_k'(z(k)_i) dDiv/dy(k)_i"):
    def public_cases(self):
        return [
            Case("layer 1 of the two-ReLU example", {"dy": [-2.0, -4.0], "z": [2.0, -1.0], "activation": "relu"}),
            Case("sigmoid units", {"dy": [0.5, -1.5, 2.0], "z": [0.3, -1.2, 2.5], "activation": "sigmoid"}),
            Case("tanh units", {"dy": [1.0, -0.25], "z": [-0.7, 1.1], "activation": "tanh"}),
            Case(
                "a ReLU unit exactly at its kink z = 0 (any subgradient in [0, 1] is accepted)",
                {"dy": [3.0, -1.0], "z": [0.0, 1.5], "activation": "relu"},
            ),
        ]

    def hidden_case(self, rng, n):
        width = int(rng.integers(1, 6))
        act = SCALAR_ACTIVATIONS[n % len(SCALAR_ACTIVATIONS)]
        z = rng.normal(scale=2.0, size=width)
        if act in ("relu", "leaky_relu") and n % 3 == 0:
            z[0] = 0.0  # a kink: any valid subgradient earns the marks
        return Case(f"random {act} layer", {"dy": rng.normal(size=width).tolist(), "z": z.tolist(), "activation": act})

    def run(self, functions, p):
        return functions["activation_step"](np.array(p["dy"]), np.array(p["z"]), get_activation(p["activation"]))

    def expected(self, p):
        f, z, dy = get_activation(p["activation"]), np.array(p["z"]), np.array(p["dy"])
        lo, hi = _kink_interval(f, z)
        return np.minimum(lo * dy, hi * dy), np.maximum(lo * dy, hi * dy)

    def judge(self, p, answer, expected):
        low, high = expected
        got = as_numbers(answer, "dz", low.shape)
        inside = (got >= low - 1e-9 - 1e-7 * np.abs(low)) & (got <= high + 1e-9 + 1e-7 * np.abs(high))
        inside &= np.isfinite(got)
        if inside.all():
            return Verdict.ok()
        f, z, dy = get_activation(p["activation"]), np.array(p["z"]), np.array(p["dy"])
        want = np.where(low == high, low, (low + high) / 2)
        details = []
        for i in np.flatnonzero(~inside)[:3]:
            if low[i] == high[i]:
                details.append(f"dz[{i}] (z = {fmt(z[i])}, dDiv/dy = {fmt(dy[i])}): expected {fmt(want[i])}, got {fmt(got[i])}")
            else:
                details.append(
                    f"dz[{i}] (z = {fmt(z[i])} is a kink): any value in [{fmt(low[i])}, {fmt(high[i])}] "
                    f"is a valid subgradient times dDiv/dy, got {fmt(got[i])}"
                )
        return Verdict.wrong(details, self.diagnose(got, f, z, dy))

    @staticmethod
    def diagnose(got, f, z, dy) -> str:
        rule = "dDiv/dz_i = f'(z_i) dDiv/dy_i"
        if agree(got, dy).all():
            return f"the factor f'(z) is missing: {rule}"
        if agree(got, f.forward(z) * dy).all():
            return f"you multiplied by f(z), the activation, instead of its derivative f'(z): {rule}"
        if agree(got, f.derivative(f.forward(z)) * dy).all():
            return f"f' is evaluated at y = f(z) instead of at z: {rule}"
        if agree(got, f.derivative(z)).all():
            return f"the factor dDiv/dy (the gradient arriving from above) is missing: {rule}"
        return f"the product f'(z_i) * dDiv/dy_i disagrees: {rule}"


class WeightStep(Part, id="02_weight_step", names=("weight_step",),
                 title="weights and biases: dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j, dDiv/db(k)_j = dDiv/dz(k)_j"):
    def public_cases(self):
        return [
            Case("layer 2 of the two-ReLU example", {"dz": [-2.0], "y_prev": [2.0, 0.0]}),
            Case("layer 1 of the two-ReLU example", {"dz": [-2.0, 0.0], "y_prev": [1.0]}),
            Case("3 units feeding 2", {"dz": [0.5, -1.0], "y_prev": [1.0, 2.0, -3.0]}),
            Case("2 units feeding 2", {"dz": [0.25, -4.0], "y_prev": [3.0, -0.5]}),
        ]

    def hidden_case(self, rng, n):
        dz = rng.normal(size=int(rng.integers(1, 5))).tolist()
        return Case("random layer", {"dz": dz, "y_prev": rng.normal(size=int(rng.integers(1, 5))).tolist()})

    def run(self, functions, p):
        result = functions["weight_step"](np.array(p["dz"]), np.array(p["y_prev"]))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AnswerError("weight_step should return the pair (dw, db)")
        return result

    def expected(self, p):
        dz, y_prev = np.array(p["dz"]), np.array(p["y_prev"])
        return np.outer(y_prev, dz), dz

    def judge(self, p, answer, expected):
        dw_ref, db_ref = expected
        dw = as_numbers(answer[0], "dw", dw_ref.shape)
        db = as_numbers(answer[1], "db", db_ref.shape)
        if not agree(dw, dw_ref).all():
            why = "dDiv/dw(k)_ij = y(k-1)_i * dDiv/dz(k)_j (row i: the unit of layer k-1; column j: the unit of layer k)"
            if dw.shape[0] == dw.shape[1] and agree(dw, dw_ref.T).all():
                why = "dw is transposed: dw[i][j] = y(k-1)_i * dDiv/dz(k)_j, row i for the unit of layer k-1"
            elif agree(dw, 0 * dw_ref).all():
                why = "dw is all zeros: the factor y(k-1)_i times dDiv/dz(k)_j"
            return Verdict.wrong(compare_numbers(dw, dw_ref, lambda idx: f"dw[{idx[0]}][{idx[1]}]"), why)
        if not agree(db, db_ref).all():
            return Verdict.wrong(
                compare_numbers(db, db_ref, lambda idx: f"db[{idx[0]}]"),
                "dDiv/db(k)_j = dDiv/dz(k)_j: the bias enters z(k)_j with factor 1",
            )
        return Verdict.ok()


class InputStep(Part, id="02_input_step", names=("input_step",),
                title="back to the previous layer: dDiv/dy(k-1)_i = sum_j w(k)_ij dDiv/dz(k)_j"):
    def public_cases(self):
        return [
            Case("layer 2 of the two-ReLU example", {"dz": [-2.0], "w": [[1.0], [2.0]]}),
            Case("3 units feeding 2", {"dz": [0.5, -1.0], "w": [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]}),
            Case("2 units feeding 2", {"dz": [2.0, -1.0], "w": [[1.0, 4.0], [-2.0, 0.5]]}),
        ]

    def hidden_case(self, rng, n):
        a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        return Case("random layer", {"dz": rng.normal(size=b).tolist(), "w": rng.normal(size=(a, b)).tolist()})

    def run(self, functions, p):
        return functions["input_step"](np.array(p["dz"]), np.array(p["w"]))

    def expected(self, p):
        return np.array(p["w"]) @ np.array(p["dz"])

    def judge(self, p, answer, expected):
        w, dz = np.array(p["w"]), np.array(p["dz"])
        got = as_numbers(answer, "dy_prev", expected.shape)
        if agree(got, expected).all():
            return Verdict.ok()
        rule = "dDiv/dy(k-1)_i = sum over j of w(k)_ij * dDiv/dz(k)_j"
        why = f"the weighted sum disagrees: {rule}"
        if w.shape[0] == w.shape[1] and agree(got, w.T @ dz).all():
            why = f"you used w(k)_ji (the transposed weights): {rule}"
        elif any(agree(got, w[:, j] * dz[j]).all() for j in range(w.shape[1])) and w.shape[1] > 1:
            why = f"only one term j of the sum is there: {rule}"
        return Verdict.wrong(compare_numbers(got, expected, lambda idx: f"dy_prev[{idx[0]}]"), why)


# -- the whole backward pass ----------------------------------------------------------
class BackwardPass(Part, id="02_backward_pass", names=("backward_pass",),
                   title="the backward pass over all layers"):
    def public_cases(self):
        return [
            Case("the lecture's two-ReLU example", dict(WORKED)),
            Case("a random tanh-sigmoid network, 3 layers (seed 3)", random_network(np.random.default_rng(3), hidden=["tanh", "sigmoid"])),
        ]

    def hidden_case(self, rng, n):
        return Case(f"random network {n + 1}", random_network(rng))

    def run(self, functions, net):
        z, y = reference_forward(net)
        weights, _, activations = _arrays(net)
        result = functions["backward_pass"](np.array(net["d"]), z, y, weights, activations, get_divergence(net["divergence"]))
        if not isinstance(result, dict):
            raise AnswerError(f"backward_pass should return a dict with keys 'dy', 'dz', 'dw', 'db', got a {type(result).__name__}")
        return result

    def expected(self, net):
        z, y = reference_forward(net)
        return reference_backward(net, z, y)

    def judge(self, net, answer, ref):
        N = len(net["weights"])
        for key in ("dy", "dz", "dw", "db"):
            got = answer.get(key) if isinstance(answer, dict) else None
            if not isinstance(got, list) or len(got) != N + 1:
                n = "missing" if got is None else (len(got) if isinstance(got, list) else type(got).__name__)
                raise AnswerError(f"the result's '{key}' should be a list of N + 1 = {N + 1} entries (layers 0..{N}), got {n}")
        got = {key: [None] + [None] * N for key in ref}

        def read(key, k):
            got[key][k] = as_numbers(answer[key][k], f"{key}[{k}]", ref[key][k].shape)
            return got[key][k]

        if not agree(read("dy", N), ref["dy"][N]).all():
            return Verdict.wrong(
                compare_numbers(got["dy"][N], ref["dy"][N], _name("dy", N)),
                f"dy[{N}] = dDiv/dY comes from the divergence: divergence.derivative(y[{N}], d)",
            )
        for k in range(N, 0, -1):
            if not agree(read("dz", k), ref["dz"][k]).all():
                return Verdict.wrong(
                    compare_numbers(got["dz"][k], ref["dz"][k], _name("dz", k)),
                    f"layer {k}: dDiv/dy({k}) is right but dDiv/dz({k}) is not: the factor f_{k}'(z({k})_i) "
                    f"(activation_step with z[{k}] and activations[{k}])",
                )
            for key, factor in (("dw", f"y({k - 1})_i, the output of layer {k - 1}"), ("db", "1")):
                if not agree(read(key, k), ref[key][k]).all():
                    return Verdict.wrong(
                        compare_numbers(got[key][k], ref[key][k], _name(key, k)),
                        f"layer {k}: dDiv/dz({k}) is right but {key}[{k}] is not: the factor {factor} "
                        f"(weight_step with dz[{k}] and y[{k - 1}])",
                    )
            if not agree(read("dy", k - 1), ref["dy"][k - 1]).all():
                return Verdict.wrong(
                    compare_numbers(got["dy"][k - 1], ref["dy"][k - 1], _name("dy", k - 1)),
                    f"layer {k}: dDiv/dz({k}) is right but dDiv/dy({k - 1}) is not: the weighted sum over j of "
                    f"w({k})_ij dDiv/dz({k})_j (input_step with dz[{k}] and weights[{k}])",
                )
        return Verdict.ok()


# -- the lecture's training-set loop ----------------------------------------------------
def _training_set(rng: np.random.Generator, T: int) -> dict:
    net = random_network(rng)
    width0, widthN = len(net["x"]), len(net["d"])
    net["X"] = rng.normal(size=(T, width0)).tolist()
    if net["divergence"] == "binary_cross_entropy":
        net["D"] = rng.uniform(0.05, 0.95, size=(T, widthN)).tolist()
    else:
        net["D"] = rng.normal(size=(T, widthN)).tolist()
    return net


class AverageGradients(Part, id="02_average_gradients", names=("average_gradients",), hidden_count=6,
                       title="the loss and its gradients averaged over a training set"):
    def public_cases(self):
        worked = dict(WORKED, X=[WORKED["x"]], D=[WORKED["d"]])
        return [
            Case("the two-ReLU example as a training set of one", worked),
            Case("a random network and 4 instances (seed 4)", _training_set(np.random.default_rng(4), 4)),
        ]

    def hidden_case(self, rng, n):
        return Case("random training set", _training_set(rng, int(rng.integers(2, 7))))

    def run(self, functions, net):
        weights, biases, activations = _arrays(net)
        result = functions["average_gradients"](
            np.array(net["X"]), np.array(net["D"]), weights, biases, activations, get_divergence(net["divergence"])
        )
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise AnswerError("average_gradients should return the triple (loss, dw, db)")
        return result

    def expected(self, net):
        sn = ScalarNetwork(net["weights"], net["biases"], net["activations"], net["divergence"])
        loss, grads = sn.loss_and_gradients(np.array(net["X"]), np.array(net["D"]))
        N = len(net["weights"])
        return loss, [None] + [grads[f"W({k})"].T for k in range(1, N + 1)], [None] + [grads[f"b({k})"] for k in range(1, N + 1)]

    def judge(self, net, answer, expected):
        loss_ref, dw_ref, db_ref = expected
        N, T = len(net["weights"]), len(net["X"])
        loss = as_numbers(answer[0], "loss", ())
        for q, got in (("dw", answer[1]), ("db", answer[2])):
            if not isinstance(got, list) or len(got) != N + 1:
                raise AnswerError(f"{q} should be a list of N + 1 = {N + 1} entries (layers 0..{N})")
        dw = [None] + [as_numbers(answer[1][k], f"dw[{k}]", dw_ref[k].shape) for k in range(1, N + 1)]
        db = [None] + [as_numbers(answer[2][k], f"db[{k}]", db_ref[k].shape) for k in range(1, N + 1)]
        summed = "it looks like a sum over the instances: the training loss and its gradients are averages (divide by T)"
        if not agree(loss, loss_ref):
            why = summed if T > 1 and agree(loss, T * loss_ref) else "the loss is the average of Div(Y, d) over the instances"
            return Verdict.wrong(f"loss: expected {fmt(loss_ref)}, got {fmt(loss)}", why)
        for k in range(N, 0, -1):
            for q, got, want in (("dw", dw[k], dw_ref[k]), ("db", db[k], db_ref[k])):
                if not agree(got, want).all():
                    why = "for every instance: forward, backward, accumulate; then divide by T"
                    if T > 1 and agree(got, T * want).all():
                        why = summed
                    return Verdict.wrong(compare_numbers(got, want, _name(q, k)), why)
        return Verdict.ok()


#: the graded parts of homework 02, in the notebook's order
PARTS = (Forward(), ActivationStep(), WeightStep(), InputStep(), BackwardPass(), AverageGradients())
