"""Homework 05: the vector formulation, for a mini-batch (instances as rows).

Every list is indexed by the layer k, entry 0 for the input layer (``None`` where layer
0 has no such quantity). Shapes, for a batch of B instances:

=========================  ===================================================================
``weights[k]``             W(k), (width_k, width_(k-1)): the entry ``[j, i]`` is w(k)_ij
``biases[k]``              b(k), (width_k,)
``activations[k]``         the name of f_k: "identity", "relu", "tanh", "sigmoid" or "softmax"
``Z[k]``, ``Y[k]``         z(k) and y(k) of every instance, (B, width_k); ``Y[0]`` is X
``dZ[k]``                  dLoss/dz(k) of every instance, (B, width_k): the rows of the lecture
``dW[k]``, ``db[k]``       the gradients, shaped like W(k) and b(k)
=========================  ===================================================================

The loss is the average divergence over the batch. The student gets plain numpy helpers in
a given cell of the notebook (``activate``, ``slope``, ``divergence_derivative``) and writes
``forward_batch``, ``weight_gradient``, ``backward_batch`` (with a softmax output among the
cases: a vector activation, whose Jacobian is full) and ``two_layer_backward``, the fixed
version of a given backward pass with one planted bug (the tanh slope taken at y instead of z).

Every seed's hidden cases have random shapes: a batch of one (B = 1), a layer of width 1,
and weight matrices that are not square, so an answer right only for square matrices, only
for B = 1, or that averages twice (or never) loses the part. Feedback names each entry the
lecture's way, 1-based, beside the array index: ``dLoss/dw(2)_31 (dW[2][0, 2])``.

What this homework may use: numpy and the given helpers. Not ``backprop.core.layers``,
``network``, ``scalar_net``, ``activations`` (an activation's ``backward`` and the softmax
Jacobian are answers here) or ``gradcheck``: the grading kernel has only the worked examples'
data (``core.examples``, as data).
"""

from __future__ import annotations

import numpy as np

from ..core.activations import Tanh, get_activation
from ..core.examples import VECTOR_231
from ..core.gradcheck import subscript
from ..core.layers import ActivationLayer, Affine
from ..core.network import Network
from ..core.tolerance import agree
from .parts import AnswerError, Case, Part, Verdict, as_numbers, compare_numbers

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "WORKED", "batch_case", "reference_forward", "reference_backward",
           "buggy_two_layer", "PARTS"]

#: the modules of backprop this homework may use: the worked examples, as data (the kernel has no others)
MAY_USE = ("core.examples",)
#: the installed packages the homework may import (besides the standard library)
PACKAGES = ("numpy",)
#: the rule, as the homework states it
ALLOWED = ("this homework may use numpy, the helpers of its given cells (activate, slope, divergence_derivative) "
           "and the data of bp.examples; not the library's layers, networks, activations or gradient checks")

HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
#: (output activation, divergence): the pairings the parts meet
OUTPUTS = (("identity", "half_squared_error"), ("softmax", "cross_entropy"), ("tanh", "half_squared_error"))

#: notebook 05's 2-3-1 network with a batch of 4 (its first row the notebook's instance), as a case's inputs
WORKED = {
    "X": [VECTOR_231["x"], [0.0, -2.0], [2.0, 1.0], [-1.0, 0.0]],
    "D": [VECTOR_231["d"], [0.0], [1.0], [2.0]],
    "weights": VECTOR_231["W"],
    "biases": VECTOR_231["b"],
    "activations": VECTOR_231["activations"],
    "divergence": VECTOR_231["divergence"],
}


# -- names as the lecture writes them, beside the array index ----------------------------------------
def entry_name(q: str, k, idx: tuple) -> str:
    """The lecture's name of an array entry, then the array index.

    ``q``: Z, Y, dZ (rows: instance t, unit j), dW (``[j, i]`` is w(k)_ij), db (``[j]``).
    """
    if q in ("Z", "Y", "dZ") and len(idx) == 2:
        t, j = idx
        lecture = {"Z": "z", "Y": "y", "dZ": "dLoss/dz"}[q]
        return f"{lecture}({k})_{j + 1} of instance {t + 1} ({q}[{k}][{t}, {j}])"
    if q == "dW" and len(idx) == 2:
        j, i = idx
        return f"dLoss/dw({k})_{subscript(i, j)} ({q}[{k}][{j}, {i}])"
    if q == "db" and len(idx) == 1:
        return f"dLoss/db({k})_{idx[0] + 1} ({q}[{k}][{idx[0]}])"
    return f"{q}[{k}]" + "".join(f"[{i}]" for i in idx)


def _namer(q, k):
    return lambda idx: entry_name(q, k, idx)


def _shape_words(q: str, k, shape: tuple) -> str:
    what = {"Z": f"z({k}) of every instance: (B, width_{k})", "Y": f"y({k}) of every instance: (B, width_{k})",
            "dZ": f"dLoss/dz({k}) of every instance: (B, width_{k})",
            "dW": f"the gradient of W({k}), shaped like W({k}): (width_{k}, width_{k - 1 if isinstance(k, int) else 'k-1'})",
            "db": f"the gradient of b({k}): (width_{k},)"}[q]
    return f"{what} = {tuple(shape)}"


def _read(value, q: str, k, shape: tuple) -> np.ndarray:
    """An answer array of the expected shape, or an AnswerError naming the quantity and both shapes."""
    try:
        return as_numbers(value, f"{q}[{k}]", shape)
    except AnswerError as exc:
        arr = np.asarray(value, dtype=object) if not isinstance(value, dict) else None
        got = getattr(arr, "shape", None)
        if q == "dW" and got is not None and tuple(got) == tuple(shape)[::-1]:
            raise AnswerError(
                f"dW[{k}] should be {_shape_words(q, k, shape)}, got {tuple(got)}: yours is the transpose of the "
                f"expected layout, the lecture's derivative dLoss/dW({k}) (a row per input of the layer). The "
                f"gradient has W({k})'s layout: a row per unit of layer {k} (the columns of dZ), a column per "
                f"input (the columns of Y_prev)") from None
        raise AnswerError(f"{exc}; it should be {_shape_words(q, k, shape)}") from None


# -- the kernel side: how each part calls the student's code (source text) -----------------------------
_PRELUDE = '''
import numpy as np


def by_layer(values):
    """Lists indexed by the layer k: entry 0 None."""
    return [None] + [np.array(v, dtype=float) for v in values]


def names(values):
    return [None] + [str(v) for v in values]
'''


def _given(values) -> list:
    return [None] + [np.array(v, dtype=float).tolist() for v in values]


class Hw05Part(Part):
    """What every part of homework 05 shares."""

    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED

    def entry_name(self, label, path, p):
        if label in ("weights", "biases") and len(path) >= 2:
            k, rest = path[0], path[1:]
            if label == "weights" and len(rest) == 2:
                return f"w({k})_{subscript(rest[1], rest[0])} (weights[{k}][{rest[0]}, {rest[1]}])"
            if label == "biases" and len(rest) == 1:
                return f"b({k})_{rest[0] + 1} (biases[{k}][{rest[0]}])"
        if label in ("Z", "Y") and len(path) == 3:
            return entry_name(label, path[0], path[1:])
        if label in ("X", "D", "dZ", "Y_prev") and len(path) == 2:
            return f"{label}[{path[0]}, {path[1]}] (instance {path[0] + 1}, unit {path[1] + 1})"
        return super().entry_name(label, path, p)


# -- random cases: shapes that expose square-only, B = 1-only and double-average answers -----------------
def _shapes(rng: np.random.Generator, n: int, depth: int, output: str) -> tuple[int, list[int]]:
    """(B, widths) of the n-th hidden case: n = 0 has B = 1, n = 1 a hidden layer of width 1, n = 2 an input
    of width 1; every other case B >= 2; consecutive widths differ (no square W) except where width 1 repeats."""
    B = 1 if n == 0 else int(rng.integers(2, 7))
    widths = [int(rng.integers(1, 6))]
    for k in range(depth):
        w = int(rng.integers(1, 6))
        while w == widths[-1]:
            w = int(rng.integers(1, 6))
        widths.append(w)
    if n == 1 and depth >= 2:
        widths[1] = 1
        widths[2] = max(widths[2], 2)
    if n == 2:
        widths[0] = 1
        widths[1] = max(widths[1], 2)
    if output == "softmax":
        widths[-1] = max(widths[-1], 2)
    if widths[-2] == widths[-1]:
        widths[-1] += 1
    return B, widths


def batch_case(rng: np.random.Generator, hidden, output: int, *, B: int | None = None, widths=None, n: int = 3) -> dict:
    """A network and a batch (JSON data): ``hidden`` activations, output pairing ``OUTPUTS[output]``.

    ReLU units are kept at least 0.05 away from their kink for every instance.
    """
    out_act, div = OUTPUTS[output]
    acts = list(hidden) + [out_act]
    if widths is None:
        B0, widths = _shapes(rng, n, len(acts), out_act)
        B = B0 if B is None else B
    widths = list(widths)
    B = 3 if B is None else B
    X = rng.normal(size=(B, widths[0]))
    weights = [rng.normal(size=(widths[k], widths[k - 1])) for k in range(1, len(widths))]
    biases = [rng.normal(scale=0.5, size=widths[k]) for k in range(1, len(widths))]
    y = X
    for k, f in enumerate(acts, start=1):
        z = y @ weights[k - 1].T + biases[k - 1]
        if f == "relu":
            for j in range(widths[k]):
                while np.min(np.abs(z[:, j])) < 0.05:
                    biases[k - 1][j] += 0.1
                    z = y @ weights[k - 1].T + biases[k - 1]
        y = get_activation(f).forward(z)
    if div == "cross_entropy":
        D = np.eye(widths[-1])[rng.integers(0, widths[-1], size=B)]
    else:
        D = rng.normal(size=(B, widths[-1]))
    return {"X": X.tolist(), "D": D.tolist(), "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases], "activations": acts, "divergence": div}


def _network(case: dict) -> Network:
    """The case's network, built from the library's layers (fresh float arrays: the case is not touched).  A
    forward case has no divergence, and the forward pass uses none."""
    layers = []
    for W, b, f in zip(case["weights"], case["biases"], case["activations"]):
        layers += [Affine(np.array(W, dtype=float), np.array(b, dtype=float)), ActivationLayer(f)]
    return Network(layers, case.get("divergence", "half_squared_error"))


def reference_forward(case: dict):
    """Z[k], Y[k] (lists indexed by k) by the library's forward pass."""
    X = np.array(case["X"], dtype=float)
    _, caches = _network(case).forward(X)
    acts = caches[1::2]  # an activation layer caches (z(k), y(k), f)
    return [None] + [c[0] for c in acts], [X] + [c[1] for c in acts]


def _with_pass(case: dict) -> dict:
    Z, Y = reference_forward(case)
    return dict(case, Z=[None] + [z.tolist() for z in Z[1:]], Y=[y.tolist() for y in Y])


def reference_backward(case: dict) -> dict:
    """dY, dZ, dW, db per layer for the average loss over the batch, by the library's backward pass (dY[k]:
    dLoss/dy(k), what the pass carries into layer k from above)."""
    net = _network(case)
    Y, caches = net.forward(np.array(case["X"], dtype=float))
    _, dY = net.divergence.loss_and_derivative(Y, np.array(case["D"], dtype=float))  # the 1/B, once
    carried: list = []
    grads = net.backward(dY, caches, output_grads=carried)  # carried[i]: dLoss/d(the output of layer i)
    N = len(case["weights"])
    return {"dY": [None] + carried[1::2], "dZ": [None] + carried[0::2],
            "dW": [None] + [grads[f"W({k})"] for k in range(1, N + 1)],
            "db": [None] + [grads[f"b({k})"] for k in range(1, N + 1)]}


def _layer_lists(lists: dict, N: int) -> None:
    """Each answer list has N + 1 entries, one per layer 0..N, or an AnswerError saying what came."""
    for what, got in lists.items():
        if not isinstance(got, list) or len(got) != N + 1:
            n = "nothing" if got is None else (len(got) if isinstance(got, list) else f"a {type(got).__name__}")
            raise AnswerError(f"{what} should be a list of N + 1 = {N + 1} entries (layers 0..{N}), got {n}")


def _average_diagnosis(got, want, B, what: str) -> str | None:
    if B > 1 and agree(got, want * B).all():
        return f"{what} is B = {B} times too large: the loss is the average over the batch, so 1/B belongs in it once"
    if B > 1 and agree(got, want / B).all():
        return (f"{what} is B = {B} times too small: the 1/B of the average is already in dLoss/dz (it enters once, "
                f"in dLoss/dY); summing over the instances is right, dividing by B again averages twice")
    return None


# -- 1. the forward pass ------------------------------------------------------------------------------
class Forward(Hw05Part, id="05_forward", names=("forward_batch",), title="the forward pass for a mini-batch"):
    call = _PRELUDE + '''
result = call("forward_batch", np.array(p["X"], dtype=float), by_layer(p["weights"]), by_layer(p["biases"]),
              names(p["activations"]))
if not isinstance(result, (tuple, list)) or len(result) != 2:
    raise Wrong("forward_batch should return the pair (Z, Y)")
'''
    argument_names = ("X", "weights", "biases", "activations")

    def public_cases(self):
        return [
            Case("notebook 05's 2-3-1 network, a batch of 4", dict(WORKED)),
            Case("a tanh layer then a softmax output, B = 3 (seed 1)",
                 batch_case(np.random.default_rng(1), ["tanh"], 1, B=3, widths=[3, 2, 4])),
            Case("sigmoid and ReLU layers, a linear output of width 1, B = 1 (seed 2)",
                 batch_case(np.random.default_rng(2), ["sigmoid", "relu"], 0, B=1, widths=[2, 4, 3, 1])),
        ]

    def hidden_case(self, rng, n):
        hidden = [HIDDEN_ACTIVATIONS[n % 4]] + ([HIDDEN_ACTIVATIONS[(n + 1) % 4]] if n % 3 != 2 else [])
        case = batch_case(rng, hidden, n % len(OUTPUTS), n=n)
        return Case(f"random network and batch {n + 1}", case)

    def arguments(self, p):
        return [np.array(p["X"], dtype=float).tolist(), _given(p["weights"]), _given(p["biases"]),
                [None] + list(p["activations"])]

    def expected(self, case):
        return reference_forward(case)

    def judge(self, case, answer, expected):
        Z_ref, Y_ref = expected
        N = len(case["weights"])
        Z_got, Y_got = answer
        _layer_lists({"Z": Z_got, "Y": Y_got}, N)
        y0 = _read(Y_got[0], "Y", 0, Y_ref[0].shape)
        if not agree(y0, Y_ref[0]).all():
            return Verdict.wrong("Y[0] should be the batch X itself", "Y[0] should be the input batch X")
        for k in range(1, N + 1):
            f = case["activations"][k - 1]
            W, b = np.array(case["weights"][k - 1]), np.array(case["biases"][k - 1])
            z = _read(Z_got[k], "Z", k, Z_ref[k].shape)
            if not agree(z, Z_ref[k]).all():
                prev = np.array(Y_got[k - 1], dtype=float) if Y_got[k - 1] is not None else None
                why = f"layer {k}: z(k) = W(k) y(k-1) + b(k) for every instance: Z[k] = Y[k-1] W(k)^T + b(k)"
                if prev is not None and prev.shape == Y_ref[k - 1].shape:
                    if agree(z, prev @ W.T).all():
                        why = f"layer {k}: the bias b({k}) is missing (added to every row: Z[k] = Y[k-1] W^T + b)"
                    elif W.shape[0] == W.shape[1] and agree(z, prev @ W + b).all():
                        why = (f"layer {k}: you multiplied by W({k}) where W({k})^T belongs: row j of W(k) holds the "
                               f"weights into unit j, so Z[k] = Y[k-1] W(k)^T + b(k)")
                return Verdict.wrong(compare_numbers(z, Z_ref[k], _namer("Z", k)), why)
            y = _read(Y_got[k], "Y", k, Y_ref[k].shape)
            if not agree(y, Y_ref[k]).all():
                why = f"layer {k}: y(k) = f_{k}(z(k)) with f_{k} = {f}: activate('{f}', Z[k])"
                if agree(y, Z_ref[k]).all():
                    why = f"layer {k}: the activation {f} is not applied"
                elif f == "softmax":
                    why = (f"layer {k}: softmax normalises each instance, that is each row of Z[{k}], over its units "
                           f"(axis 1): activate('softmax', Z[{k}])")
                return Verdict.wrong(compare_numbers(y, Y_ref[k], _namer("Y", k)), why)
        return Verdict.ok()


# -- 2. one layer's weight gradient -----------------------------------------------------------------------
class WeightGradient(Hw05Part, id="05_weight_gradient", names=("weight_gradient",),
                     title="one layer's gradients from dLoss/dz(k) and the cached y(k-1)"):
    call = _PRELUDE + '''
result = call("weight_gradient", np.array(p["dZ"], dtype=float), np.array(p["Y_prev"], dtype=float))
if not isinstance(result, (tuple, list)) or len(result) != 2:
    raise Wrong("weight_gradient should return the pair (dW, db)")
'''
    argument_names = ("dZ", "Y_prev")

    def public_cases(self):
        rng = np.random.default_rng(3)
        worked = reference_backward(WORKED)
        Z, Y = reference_forward(WORKED)
        return [
            Case("layer 1 of notebook 05's network, the batch of 4",
                 {"dZ": worked["dZ"][1].tolist(), "Y_prev": Y[0].tolist(), "layer": 1}),
            Case("a layer of 2 units above 3, B = 1",
                 {"dZ": [[0.5, -2.0]], "Y_prev": [[1.0, 2.0, -1.0]]}),
            Case("a layer of 4 units above 1, B = 3 (seed 3)",
                 {"dZ": rng.normal(size=(3, 4)).tolist(), "Y_prev": rng.normal(size=(3, 1)).tolist()}),
        ]

    def hidden_case(self, rng, n):
        B, widths = _shapes(rng, n, 1, "identity")
        if n == 1:
            widths = [int(rng.integers(2, 6)), 1]
        return Case(f"random layer {n + 1}",
                    {"dZ": rng.normal(size=(B, widths[1])).tolist(), "Y_prev": rng.normal(size=(B, widths[0])).tolist()})

    def arguments(self, p):
        return [np.array(p["dZ"], dtype=float).tolist(), np.array(p["Y_prev"], dtype=float).tolist()]

    def expected(self, p):
        dZ, Y = np.array(p["dZ"], dtype=float), np.array(p["Y_prev"], dtype=float)
        return dZ.T @ Y, dZ.sum(axis=0)

    def judge(self, p, answer, expected):
        dW_ref, db_ref = expected
        k = p.get("layer", "k")
        dZ, Y = np.array(p["dZ"], dtype=float), np.array(p["Y_prev"], dtype=float)
        B = len(dZ)
        dW = _read(answer[0], "dW", k, dW_ref.shape)
        if not agree(dW, dW_ref).all():
            why = (_average_diagnosis(dW, dW_ref, B, f"the gradient of W({k})")
                   or f"the gradient of W({k}) adds up one contribution per instance (row): the transpose of that "
                      f"instance's y(k-1) dLoss/dz(k), with W({k})'s layout (notebook 05, section 6)")
            if B > 1 and agree(dW, np.outer(dZ[0], Y[0])).all():
                why = (f"only instance 1 is counted: the gradient of W({k}) adds up the contributions of all B = {B} "
                       f"rows; one matrix product over the batch sums over the instances for you (notebook 05, "
                       f"section 6)")
            elif dW_ref.shape[0] == dW_ref.shape[1] and agree(dW, dW_ref.T).all():
                why = (f"yours is the transpose of the expected layout (the lecture's derivative dLoss/dW({k})): the "
                       f"gradient has W({k})'s layout, a row per unit of layer {k}, a column per input")
            return Verdict.wrong(compare_numbers(dW, dW_ref, _namer("dW", k)), why)
        db = _read(answer[1], "db", k, db_ref.shape)
        if not agree(db, db_ref).all():
            why = (_average_diagnosis(db, db_ref, B, f"the gradient of b({k})")
                   or f"the gradient of b({k}) sums dLoss/dz(k) over the instances (the rows of dZ)")
            if B > 1 and agree(db, dZ[0]).all():
                why = f"only instance 1 is counted: the gradient of b({k}) sums the B = {B} rows of dZ"
            return Verdict.wrong(compare_numbers(db, db_ref, _namer("db", k)), why)
        return Verdict.ok()


# -- 3. the whole backward pass ------------------------------------------------------------------------
class BackwardBatch(Hw05Part, id="05_backward", names=("backward_batch",),
                    title="the backward pass for a mini-batch"):
    call = _PRELUDE + '''
Z = [None] + [np.array(v, dtype=float) for v in p["Z"][1:]]
Y = [np.array(v, dtype=float) for v in p["Y"]]
result = call("backward_batch", np.array(p["D"], dtype=float), Z, Y, by_layer(p["weights"]),
              names(p["activations"]), str(p["divergence"]))
if not isinstance(result, dict):
    raise Wrong(f"backward_batch should return a dict with keys 'dZ', 'dW', 'db', got a {type(result).__name__}")
'''
    argument_names = ("D", "Z", "Y", "weights", "activations", "divergence")

    def public_cases(self):
        return [
            Case("notebook 05's 2-3-1 network, a batch of 4", _with_pass(dict(WORKED))),
            Case("a tanh layer, a softmax output and cross-entropy, B = 3 (seed 4)",
                 _with_pass(batch_case(np.random.default_rng(4), ["tanh"], 1, B=3, widths=[2, 3, 4]))),
            Case("a sigmoid layer of width 1, then a tanh output, B = 1 (seed 5)",
                 _with_pass(batch_case(np.random.default_rng(5), ["sigmoid"], 2, B=1, widths=[3, 1, 2]))),
        ]

    def hidden_case(self, rng, n):
        hidden = [HIDDEN_ACTIVATIONS[n % 4]] + ([HIDDEN_ACTIVATIONS[(n + 2) % 4]] if n % 2 == 1 else [])
        if n == 1:
            hidden = ["tanh", "relu"]
        return Case(f"random network and batch {n + 1}", _with_pass(batch_case(rng, hidden, n % len(OUTPUTS), n=n)))

    def arguments(self, p):
        return [np.array(p["D"], dtype=float).tolist(), p["Z"], p["Y"], _given(p["weights"]),
                [None] + list(p["activations"]), p["divergence"]]

    def expected(self, case):
        return reference_backward(case)

    def judge(self, case, answer, ref):
        N, B = len(case["weights"]), len(case["X"])
        _layer_lists({f"the result's '{key}'": answer.get(key) for key in ("dZ", "dW", "db")}, N)
        Z, Y = reference_forward(case)
        for k in range(N, 0, -1):
            dZ = _read(answer["dZ"][k], "dZ", k, ref["dZ"][k].shape)
            if not agree(dZ, ref["dZ"][k]).all():
                return Verdict.wrong(compare_numbers(dZ, ref["dZ"][k], _namer("dZ", k)),
                                     self._why_dz(case, answer, k, dZ, ref, Z, Y, B, N))
            for q, factor in (("dW", f"what your weight_gradient(dZ[{k}], Y[{k - 1}]) of part 2 gives, shaped like "
                                     f"W({k})"), ("db", f"the sum of dZ[{k}]'s rows")):
                got = _read(answer[q][k], q, k, ref[q][k].shape)
                if not agree(got, ref[q][k]).all():
                    why = (_average_diagnosis(got, ref[q][k], B, f"{q}[{k}]")
                           or f"layer {k}: dLoss/dz({k}) is right but {q}[{k}] is not: it is {factor}")
                    return Verdict.wrong(compare_numbers(got, ref[q][k], _namer(q, k)), why)
        return Verdict.ok()

    @staticmethod
    def _why_dz(case, answer, k, dZ, ref, Z, Y, B, N):
        f = case["activations"][k - 1]
        act = get_activation(f)
        want = ref["dZ"][k]
        dY = ref["dY"][k]
        average = _average_diagnosis(dZ, want, B, f"dLoss/dz({k})")
        if average:
            return average
        if k < N:
            try:
                above = np.array(answer["dZ"][k + 1], dtype=float)
                W = np.array(case["weights"][k])
                if W.shape[0] == W.shape[1] and agree(dZ, act.backward(above @ W.T, Z[k], Y[k])).all():
                    return (f"layer {k}: back from layer {k + 1} the row dLoss/dz({k + 1}) is right-multiplied by "
                            f"W({k + 1}) itself (dZ[{k + 1}] @ W[{k + 1}]), not by its transpose")
            except (TypeError, ValueError):
                pass
        if f == "softmax":
            if agree(dZ, dY * Y[k] * (1 - Y[k])).all():
                return (f"layer {k}: softmax is a vector activation: its Jacobian diag(y) - y y^T is full, so "
                        f"dLoss/dz_i sums over every output j; y_i (1 - y_i) is only its diagonal")
            return (f"layer {k}: through the softmax, each instance's row dLoss/dy is right-multiplied by its Jacobian "
                    f"diag(y) - y y^T")
        if f != "identity" and agree(dZ, dY * act.derivative(Y[k])).all() and not agree(dZ, want).all():
            return f"layer {k}: the slope of {f} is taken at y(k) = f(z(k)) instead of at z(k): slope('{f}', Z[k])"
        if agree(dZ, dY).all():
            return f"layer {k}: the factor f_{k}'(z({k})) of the {f} units is missing"
        where = "dLoss/dY from divergence_derivative(...) / B" if k == N else f"dZ[{k + 1}] @ W({k + 1})"
        return f"layer {k}: dLoss/dz({k}) = ({where}) times the slope of {f} at z({k}), instance by instance"


# -- 4. the debugging part ---------------------------------------------------------------------------------
class _TanhSlopeAtY(Tanh):
    """The planted bug, as a wrapper around the library's tanh: the slope taken at y = tanh(z) instead of at z."""

    def derivative(self, z, y=None, xp=np):
        return super().derivative(self.forward(z, xp), None, xp)


def two_layer_gradients(p: dict, hidden=Tanh()) -> list:
    """``[dW1, db1, dW2, db2]`` of the debugging part's network (tanh, then a linear output, half squared
    error), by the library's backward pass; ``hidden=_TanhSlopeAtY()`` gives what the planted bug gives."""
    case = {"X": p["X"], "D": p["D"], "weights": [p["W1"], p["W2"]], "biases": [p["b1"], p["b2"]],
            "activations": [hidden, "identity"], "divergence": "half_squared_error"}
    ref = reference_backward(case)
    return [ref["dW"][1], ref["db"][1], ref["dW"][2], ref["db"][2]]


def buggy_two_layer(X, D, W1, b1, W2, b2):
    """The given function with its planted bug (the tanh slope at y(1) instead of z(1)): what the bug gives."""
    return two_layer_gradients({"X": X, "D": D, "W1": W1, "b1": b1, "W2": W2, "b2": b2}, _TanhSlopeAtY())


class _TanhSlopeOneMinusZSquared(Tanh):
    """A wrong fix of the planted bug: the slope 1 - z^2 (z in place of tanh(z) in tanh's derivative)."""

    def derivative(self, z, y=None, xp=np):
        return 1.0 - z ** 2


def _slope_one_minus_z_squared(X, D, W1, b1, W2, b2):
    """What the wrong fix ``1 - Z1 ** 2`` gives."""
    return two_layer_gradients({"X": X, "D": D, "W1": W1, "b1": b1, "W2": W2, "b2": b2}, _TanhSlopeOneMinusZSquared())


def _two_layer_case(rng, n: int, B=None, widths=None) -> dict:
    case = batch_case(rng, ["tanh"], 0, B=B, widths=widths, n=n)
    return {"X": case["X"], "D": case["D"], "W1": case["weights"][0], "b1": case["biases"][0],
            "W2": case["weights"][1], "b2": case["biases"][1]}


def _several_layers(got: list, want: list, given: list, B: int, names: list[str]) -> str | None:
    """Which gradients of both layers disagree, and how, when layer 2's do too (the planted bug alone leaves layer 2
    right): the ones exactly B times too large or too small (the batch average's 1/B), and whether the others are
    the given function's, so scaled (the planted bug still there too); None when layer 2 is right."""
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if not agree(g, w).all()]
    if not any(i >= 2 for i in wrong) or len(wrong) < 2:
        return None

    def listed(idx):
        return " and ".join([", ".join(names[i] for i in idx[:-1]), names[idx[-1]]] if len(idx) > 1 else [names[idx[0]]])

    why = f"{listed(wrong)} disagree, in both layers"
    for factor, how in ((B, "large"), (1 / B, "small")):
        scaled = [i for i in wrong if B > 1 and agree(got[i], want[i] * factor).all()]
        if not scaled:
            continue
        who = "all of them are" if scaled == wrong else f"{listed(scaled)} {'is' if len(scaled) == 1 else 'are'}"
        why += (f": {who} exactly B = {B} times too {how}, so the "
                f"batch average is involved: the loss averages over the B instances, and its 1/B belongs in the "
                f"gradients once, in dLoss/dY")
        rest = [i for i in wrong if i not in scaled]
        if rest and all(agree(got[i], given[i] * factor).all() for i in rest):
            why += (f"; {listed(rest)} {'is' if len(rest) == 1 else 'are'} B times too {how} as well, but B times "
                    f"what the given function returns: the planted bug is still there too, in the step from layer 2 "
                    f"back to layer 1")
        elif rest:
            why += (f"; {listed(rest)} {'is' if len(rest) == 1 else 'are'} wrong beyond that factor: once the 1/B "
                    f"is right, gradient-check the function against finite differences to find the other step")
        return why
    return why + ": gradient-check the function against finite differences, one layer at a time, to see which steps are wrong"


class DebugTwoLayer(Hw05Part, id="05_debug", names=("two_layer_backward",),
                    title="find and fix the planted bug"):
    call = _PRELUDE + '''
args = [np.array(p[key], dtype=float) for key in ("X", "D", "W1", "b1", "W2", "b2")]
result = call("two_layer_backward", *args)
if not isinstance(result, (tuple, list)) or len(result) != 4:
    raise Wrong("two_layer_backward should return the four gradients (dW1, db1, dW2, db2)")
'''
    argument_names = ("X", "D", "W1", "b1", "W2", "b2")
    NAMES = (("dW", 1), ("db", 1), ("dW", 2), ("db", 2))

    def public_cases(self):
        return [
            Case("a tanh layer of 3 units on 2 inputs, a linear output of width 2, B = 4 (seed 6)",
                 _two_layer_case(np.random.default_rng(6), 3, B=4, widths=[2, 3, 2])),
            Case("4 tanh units on 3 inputs, one output, B = 1 (seed 7)",
                 _two_layer_case(np.random.default_rng(7), 3, B=1, widths=[3, 4, 1])),
        ]

    def hidden_case(self, rng, n):
        return Case(f"random two-layer network and batch {n + 1}", _two_layer_case(rng, n))

    def arguments(self, p):
        return [np.array(p[key], dtype=float).tolist() for key in ("X", "D", "W1", "b1", "W2", "b2")]

    def expected(self, p):
        return two_layer_gradients(p)

    def judge(self, p, answer, expected):
        args = [np.array(p[key], dtype=float) for key in ("X", "D", "W1", "b1", "W2", "b2")]
        buggy = buggy_two_layer(*args)
        B = len(args[0])
        got = [_read(a, q, k, e.shape) for a, (q, k), e in zip(answer, self.NAMES, expected)]
        if all(agree(g, b).all() for g, b in zip(got, buggy)) and not all(
                agree(b, e).all() for b, e in zip(buggy, expected)):
            return Verdict.wrong(compare_numbers(got[0], expected[0], _namer("dW", 1)),
                                 "these are the given function's results: the planted bug is still there. Its layer 2 "
                                 "gradients are right, so look at the step from layer 2 back to layer 1")
        several = _several_layers(got, expected, buggy, B, [f"{q}{k}" for q, k in self.NAMES])
        if several is not None:
            i = next(i for i, (g, e) in enumerate(zip(got, expected)) if not agree(g, e).all())
            return Verdict.wrong(compare_numbers(got[i], expected[i], _namer(*self.NAMES[i])), several)
        for (q, k), g, e in zip(self.NAMES, got, expected):
            if not agree(g, e).all():
                why = _average_diagnosis(g, e, B, f"{q}{k}") or (
                    f"{q}{k} disagrees: gradient-check the fixed function against finite differences to see which "
                    f"step is still wrong")
                if k == 1 and all(agree(a, b).all() for a, b in zip(got[2:], expected[2:])):
                    why = (f"layer 2 is right but {q}1 is not, so the line to look at is the step back through the "
                           f"tanh: dLoss/dz(1) is dLoss/dy(1) times tanh's slope at z(1), entry by entry. Check "
                           f"your slope against finite differences of np.tanh at one z, and check which of the "
                           f"function's arrays (Z1, or Y1 = tanh(Z1)) it is built from")
                    if all(agree(a, b).all() for a, b in zip(got, _slope_one_minus_z_squared(*args))):
                        why = (f"layer 2 is right but {q}1 is not: your slope, 1 - z^2 at z(1), is not tanh's "
                               f"slope at z(1) (at z = 0.5 it gives 0.75, tanh's slope there is 0.786). Look up "
                               f"tanh's derivative (notebook 02, section 3.1) and check which of the function's "
                               f"arrays, Z1 or Y1 = tanh(Z1), belongs in it")
                return Verdict.wrong(compare_numbers(g, e, _namer(q, k)), why)
        return Verdict.ok()


#: the graded parts of homework 05, in the notebook's order
PARTS = (Forward(), WeightGradient(), BackwardBatch(), DebugTwoLayer())
