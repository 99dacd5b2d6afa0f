"""The backward pass in vector form, written two ways for one instance, and the shapes of every quantity.

Notebook 05 sets the lecture's form and the common "delta" form side by side:

* :func:`jacobian_backward` -- the lecture's: every derivative of Div with respect to a
  vector is a *row* vector (1 x width), and going backward we *right-multiply* by each
  local Jacobian: dDiv/dz(k) = dDiv/dy(k) J_y(k)(z(k)), dDiv/dy(k-1) = dDiv/dz(k) W(k);
  the parameters get dDiv/dW(k) = y(k-1) dDiv/dz(k), of shape (width_(k-1), width_k)
  (the transpose of W(k)'s shape), and dDiv/db(k) = dDiv/dz(k);
* :func:`delta_backward` -- the other notation: delta(k) = (dDiv/dz(k))^T, a *column*,
  delta(k-1) = (W(k)^T delta(k)) * f'(z(k-1)) for a scalar activation, and the
  gradients grad W(k) = delta(k) y(k-1)^T, grad b(k) = delta(k), shaped like W(k), b(k).

Both take a :class:`~backprop.core.network.Network` of alternating ``Affine`` and
``ActivationLayer`` layers and run on one instance x (width_0,) with target d.
:func:`shape_rows` lists every quantity of such a network with the shape the lecture
gives it (one instance) and the shape of the array the code holds (a mini-batch of B
rows), both read from the arrays themselves.  :func:`time_loops_and_matrices` is the
measurement behind notebook 05's speed-up, shared with ``python -m backprop.bench``;
:func:`stored_speedup` reads what the bench stored.
"""

from __future__ import annotations

import json
import time
from importlib import resources

import numpy as np

from ..core.checks import as_array, check_positive_int, describe
from ..core.layers import ActivationLayer, Affine
from ..core.scalar_net import ScalarNetwork

__all__ = ["layer_pairs", "jacobian_backward", "delta_backward", "shape_rows", "time_loops_and_matrices",
           "SPEEDUP_FILE", "stored_speedup"]

#: the bench's stored batch-size sweep, in ``backprop/_data``
SPEEDUP_FILE = "vector_speedup.json"


def layer_pairs(net) -> list[tuple[Affine, ActivationLayer]]:
    """The (affine, activation) pair of each layer k = 1..N of a network, or a clear error."""
    layers = getattr(net, "layers", None)
    ok = isinstance(layers, list) and len(layers) % 2 == 0 and len(layers) > 0 and all(
        isinstance(a, Affine) and isinstance(f, ActivationLayer) for a, f in zip(layers[::2], layers[1::2]))
    if not ok:
        raise ValueError(f"argument 'net' expected a Network of alternating Affine and ActivationLayer layers, "
                         f"got {describe(net)}")
    return list(zip(layers[::2], layers[1::2]))


def _instance(net, x, d):
    pairs = layer_pairs(net)
    x = as_array(x, "x", ndim=1, meaning="(width_0,): one instance")
    if x.shape[0] != pairs[0][0].W.shape[1]:
        raise ValueError(f"argument 'x' expected shape ({pairs[0][0].W.shape[1]},) (width_0,), got {x.shape}")
    Y, caches = net.forward(x[None, :])
    d = np.asarray(d)
    d = net.divergence.targets(d[None] if d.ndim <= 1 else d, Y.shape)[0]  # one target (a row or a label)
    z = [None] + [caches[2 * k + 1][0][0] for k in range(len(pairs))]  # the activations' caches keep z(k)
    y = [x] + [caches[2 * k + 1][1][0] for k in range(len(pairs))]
    return pairs, z, y, d


def jacobian_backward(net, x, d) -> dict:
    """The lecture's backward pass for one instance: row-vector derivatives, right-multiplied by Jacobians.

    Returns a dict of lists indexed by the layer k (entry 0 None where layer 0 has no such
    quantity): ``"dy"`` dDiv/dy(k) of shape (1, width_k) (``dy[0]`` is dDiv/dx), ``"dz"``
    dDiv/dz(k) (1, width_k), ``"J"`` the activation's Jacobian dy(k)/dz(k) (width_k, width_k),
    ``"dW"`` dDiv/dW(k) = y(k-1) dDiv/dz(k) (width_(k-1), width_k), ``"db"`` dDiv/db(k) (1, width_k).
    """
    pairs, z, y, d = _instance(net, x, d)
    N = len(pairs)
    dy, dz, J, dW, db = ([None] * (N + 1) for _ in range(5))
    dy[N] = net.divergence.derivative(y[N][None, :], d[None, :])  # (1, width_N): a row
    for k in range(N, 0, -1):
        affine, act = pairs[k - 1]
        J[k] = act.activation.jacobian(z[k][None, :])[0]  # diagonal for a scalar activation, full for softmax
        dz[k] = dy[k] @ J[k]  # the outer derivative first, the local Jacobian on its right
        dW[k] = y[k - 1][:, None] @ dz[k]  # (width_(k-1), 1) (1, width_k)
        db[k] = dz[k].copy()
        dy[k - 1] = dz[k] @ affine.W  # the affine map's Jacobian dz(k)/dy(k-1) is W(k)
    return {"dy": dy, "dz": dz, "J": J, "dW": dW, "db": db}


def delta_backward(net, x, d) -> dict:
    """The same pass in the delta notation: columns, transposed weights, elementwise slopes.

    Returns lists indexed by k: ``"delta"`` delta(k) = (dDiv/dz(k))^T of shape (width_k, 1);
    ``"grad_W"`` = delta(k) y(k-1)^T (width_k, width_(k-1)), shaped like W(k); ``"grad_b"`` =
    delta(k) (width_k, 1).  For a scalar activation delta(k-1) = (W(k)^T delta(k)) * f'(z(k-1));
    for a vector one (softmax) the slope is its transposed Jacobian, J^T (W(k)^T delta(k)).
    """
    pairs, z, y, d = _instance(net, x, d)
    N = len(pairs)
    delta, grad_W, grad_b = ([None] * (N + 1) for _ in range(3))

    def through(act, k, column):  # from dDiv/dy(k) (a column) to delta(k)
        f = act.activation
        if f.is_vector:
            return f.jacobian(z[k][None, :])[0].T @ column
        return column * f.derivative(z[k])[:, None]

    grad_Y = net.divergence.derivative(y[N][None, :], d[None, :]).T  # the gradient: a column
    delta[N] = through(pairs[N - 1][1], N, grad_Y)
    for k in range(N, 0, -1):
        grad_W[k] = delta[k] @ y[k - 1][None, :]
        grad_b[k] = delta[k].copy()
        if k > 1:
            delta[k - 1] = through(pairs[k - 2][1], k - 1, pairs[k - 1][0].W.T @ delta[k])
    return {"delta": delta, "grad_W": grad_W, "grad_b": grad_b}


def shape_rows(net, X, d) -> list[tuple[str, str, tuple, tuple]]:
    """Every quantity of the network, in the order of the passes: (name, what it is, lecture shape, code shape).

    The lecture's shape is for one instance (the first row of ``X``): vectors are
    columns (width, 1) and derivatives of Div are rows (1, width) (from
    :func:`jacobian_backward`); the code's shape is that of the array the vectorised
    network holds for the whole mini-batch ``X`` (B, width_0) (its forward pass, then its
    layers' backward steps; None where the code forms no such array: a scalar activation's
    Jacobian is never built, its diagonal multiplies elementwise).  Nothing is typed: every
    shape is read from an array.
    """
    pairs = layer_pairs(net)
    X = net.check_input(X)
    Y, caches = net.forward(X)
    _, dY = net.divergence.loss_and_derivative(Y, d)
    into = [None] * len(net.layers)  # the derivative arriving at each layer's output, for the whole batch
    grads, g = {}, dY
    for i in reversed(range(len(net.layers))):
        into[i] = g
        g, layer_grads = net.layers[i].backward(g, caches[i])
        if layer_grads:
            k = i // 2 + 1
            grads[f"W({k})"], grads[f"b({k})"] = layer_grads["W"], layer_grads["b"]
    lecture = jacobian_backward(net, X[0], net.divergence.targets(d, Y.shape)[0])
    rows = [("x = y(0)", "the input", X[0][:, None].shape, X.shape)]
    for k, (affine, act) in enumerate(pairs, start=1):
        Z, Yk = caches[2 * k - 1][0], caches[2 * k - 1][1]
        rows += [(f"W({k})", "weights", affine.W.shape, affine.W.shape),
                 (f"b({k})", "biases", affine.b[:, None].shape, affine.b.shape),
                 (f"z({k})", "affine values", Z[0][:, None].shape, Z.shape),
                 (f"y({k})", f"outputs of {act.activation.name}", Yk[0][:, None].shape, Yk.shape)]
    rows.append(("Div", "divergence (the loss: a number)", (1, 1), np.shape(net.divergence.loss(Y, d))))
    for k in range(len(pairs), 0, -1):
        rows += [(f"dDiv/dy({k})", "derivative (a row)", lecture["dy"][k].shape, into[2 * k - 1].shape),
                 (f"dy({k})/dz({k})", "Jacobian of the activation", lecture["J"][k].shape, None),
                 (f"dDiv/dz({k})", "derivative (a row)", lecture["dz"][k].shape, into[2 * k - 2].shape),
                 (f"dDiv/dW({k})", "derivative; its gradient is shaped like W", lecture["dW"][k].shape,
                  grads[f"W({k})"].shape),
                 (f"dDiv/db({k})", "derivative; its gradient is shaped like b", lecture["db"][k].shape,
                  grads[f"b({k})"].shape)]
    return rows


def time_loops_and_matrices(net, X, d, *, repeats: int = 3, loop_instances: int | None = None) -> dict:
    """Seconds per instance for the loss and gradients on the batch (X, d): the scalar loops and the matrices.

    The scalar network (notebook 02's loops) runs on the first ``loop_instances`` rows
    (default all; its time grows in proportion, so a few rows give its time per instance);
    the vectorised :class:`Network` on the whole batch at once.  Best of ``repeats`` runs, each
    repeating the call until it lasts at least 10 ms.
    Returns ``{"batch_size", "loop_seconds_per_instance", "matrix_seconds_per_instance", "speedup"}``.
    """
    repeats = check_positive_int(repeats, "repeats")
    X = net.check_input(X)
    B = X.shape[0]
    n = B if loop_instances is None else min(B, check_positive_int(loop_instances, "loop_instances"))
    scalar = ScalarNetwork.from_network(net)
    d_rows = np.asarray(d)

    def best(f):  # the best of ``repeats`` runs, each long enough (>= 10 ms) for the clock to resolve it
        start = time.perf_counter()
        f()
        inner = max(1, int(0.01 / max(time.perf_counter() - start, 1e-7)))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(inner):
                f()
            times.append((time.perf_counter() - start) / inner)
        return min(times)

    loops = best(lambda: scalar.loss_and_gradients(X[:n], d_rows[:n])) / n
    matrices = best(lambda: net.loss_and_gradients(X, d)) / B
    return {"batch_size": B, "loop_seconds_per_instance": loops, "matrix_seconds_per_instance": matrices,
            "speedup": loops / matrices}


def stored_speedup() -> dict:
    """The batch-size sweep stored by ``python -m backprop.bench --batch-sweep`` (``backprop/_data``).

    A dict: ``"source"`` (the command and machine that produced it), ``"network"``,
    and ``"rows"``, one per batch size, as :func:`time_loops_and_matrices` returns them.
    """
    text = resources.files("backprop").joinpath("_data", SPEEDUP_FILE).read_text(encoding="utf-8")
    return json.loads(text)
