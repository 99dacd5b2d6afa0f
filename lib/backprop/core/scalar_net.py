"""The network in scalar notation, with explicit loops over neurons.

Deliberately unvectorised: it follows the lecture's algorithm line by line and
is the reference the vectorised :class:`~backprop.network.Network` is proven
against.  Indices are the lecture's:

* ``w[k][i][j]``: the weight from unit i of layer k-1 to unit j of layer k
  (k = 1..N; ``w[0]`` is unused so that k reads as in the lecture);
* ``b[k][j]``: the bias of unit j of layer k;
* forward: ``z[k][j] = sum_i w[k][i][j] y[k-1][i] + b[k][j]``,
  ``y[k][j] = f_k(z[k][j])``, with ``y[0] = x`` and ``Y = y[N]``.

The vector form stores the same numbers as ``W(k)[j, i] = w[k][i][j]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .activations import get_activation
from .checks import as_array, describe
from .divergences import get_divergence
from .gradcheck import GradientReport, check_gradients
from .layers import ActivationLayer, Affine

__all__ = ["ScalarNetwork"]


class ScalarNetwork:
    """A fully connected network evaluated one neuron at a time (Python floats, loops).

    The lists are indexed by the layer k as in the lecture, exactly as the
    attributes ``w``, ``b``, ``f`` and homework 02 index them: ``weights[k][i][j]``
    is w(k)_ij (shape (width_(k-1), width_k)), ``biases[k][j]`` is b(k)_j,
    ``activations[k]`` is f_k, for k = 1..N, and entry 0 of each list is None.
    Lists of one entry per layer (``weights[k-1]``, no None) are accepted too.
    """

    def __init__(self, weights: Sequence, biases: Sequence, activations: Sequence, divergence="half_squared_error"):
        lists = {"weights": weights, "biases": biases, "activations": activations}
        for name, value in lists.items():
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise TypeError(f"argument '{name}' expected a list with one entry per layer, got {describe(value)}")
        by_layer = len(weights) > 0 and weights[0] is None  # entry 0 None: indexed by k
        if by_layer:
            for name, value in lists.items():
                if len(value) == 0 or value[0] is not None:
                    raise ValueError(f"argument '{name}' expected entry 0 None like 'weights' (lists indexed by the "
                                     f"layer k = 1..N), got {describe(value[0]) if len(value) else 'an empty list'}")
            weights, biases, activations = weights[1:], biases[1:], activations[1:]
        first = 1 if by_layer else 0  # the index the caller wrote for layer 1
        if len(weights) == 0 or len(weights) != len(biases) or len(weights) != len(activations):
            raise ValueError(
                "arguments 'weights', 'biases' and 'activations' expected one entry per layer k = 1..N, got "
                f"{len(weights)}, {len(biases)} and {len(activations)}"
            )
        self.w, self.b, self.f = [None], [None], [None]
        for k, (wk, bk, fk) in enumerate(zip(weights, biases, activations), start=1):
            at = k - 1 + first
            wk = as_array(wk, f"weights[{at}]", ndim=2, meaning=f"(width_{k - 1}, width_{k}): w({k})_ij")
            bk = as_array(bk, f"biases[{at}]", ndim=1, meaning=f"(width_{k},)")
            if k > 1 and wk.shape[0] != len(self.b[k - 1]):
                raise ValueError(
                    f"argument 'weights[{at}]' expected {len(self.b[k - 1])} rows (width_{k - 1}), got shape {wk.shape}"
                )
            if bk.shape != (wk.shape[1],):
                raise ValueError(f"argument 'biases[{at}]' expected shape ({wk.shape[1]},) (width_{k}), got {bk.shape}")
            self.w.append(wk.tolist())
            self.b.append(bk.tolist())
            self.f.append(get_activation(fk))
        self.N = len(weights)
        self.widths = [len(self.w[1])] + [len(self.b[k]) for k in range(1, self.N + 1)]
        self.divergence = get_divergence(divergence)
        self.z: list = []
        self.y: list = []
        # filled by backward(): dDiv/dy(k), dDiv/dz(k), dDiv/dw(k), dDiv/db(k), indexed like y, z, w, b
        self.dy: list = []
        self.dz: list = []
        self.dw: list = []
        self.db: list = []

    @classmethod
    def from_network(cls, net) -> "ScalarNetwork":
        """The same numbers as a vectorised Network of alternating Affine and ActivationLayer."""
        layers = net.layers
        ok = len(layers) % 2 == 0 and all(
            isinstance(a, Affine) and isinstance(f, ActivationLayer) for a, f in zip(layers[::2], layers[1::2])
        )
        if not ok:
            raise ValueError(
                f"argument 'net' expected alternating Affine and ActivationLayer layers, got {[type(l).__name__ for l in layers]}"
            )
        return cls(
            [a.W.T for a in layers[::2]], [a.b for a in layers[::2]], [f.activation for f in layers[1::2]], net.divergence
        )

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters in vector form: ``{"W(k)": (width_k, width_(k-1)), "b(k)": (width_k,)}`` (copies)."""
        out = {}
        for k in range(1, self.N + 1):
            out[f"W({k})"] = np.array(self.w[k]).T
            out[f"b({k})"] = np.array(self.b[k])
        return out

    # -- the forward pass ----------------------------------------------------------
    def forward(self, x) -> list[float]:
        """Compute and keep every z(k) and y(k) for one instance x (width_0,); return Y = y(N)."""
        x = as_array(x, "x", ndim=1, meaning=f"({self.widths[0]},): one instance")
        if x.shape[0] != self.widths[0]:
            raise ValueError(f"argument 'x' expected shape ({self.widths[0]},) (width_0,), got {x.shape}")
        self.y = [x.tolist()]
        self.z = [None]
        self.dy, self.dz, self.dw, self.db = [], [], [], []  # derivatives of an earlier instance are stale
        for k in range(1, self.N + 1):
            z_k = []
            for j in range(self.widths[k]):
                s = self.b[k][j]
                for i in range(self.widths[k - 1]):
                    s += self.w[k][i][j] * self.y[k - 1][i]
                z_k.append(s)
            if self.f[k].is_vector:  # every z_i of the layer influences every y_j
                y_k = [float(v) for v in self.f[k].forward(np.array(z_k))]
            else:
                y_k = [float(self.f[k].forward(z)) for z in z_k]
            self.z.append(z_k)
            self.y.append(y_k)
        return list(self.y[self.N])

    # -- the backward pass ---------------------------------------------------------
    def backward(self, d):
        """dDiv/dw and dDiv/db for the instance of the last ``forward``, by loops.

        Returns ``(dw, db)`` indexed like ``w`` and ``b`` (``dw[k][i][j]``).  Keeps
        every derivative it computes, as the forward pass keeps z and y:
        ``self.dy[k][i]`` = dDiv/dy(k)_i (k = 1..N), ``self.dz[k][i]`` = dDiv/dz(k)_i,
        and ``self.dw``, ``self.db`` (the returned lists).
        """
        if not self.y:
            raise RuntimeError("backward() needs the z(k) and y(k) of a forward pass: call forward(x) first")
        N = self.N
        dy = [None] * (N + 1)
        dy[N] = [float(v) for v in self.divergence.derivative(np.array(self.y[N]), d)]
        dw, db = [None] * (N + 1), [None] * (N + 1)
        dz_kept = [None] * (N + 1)
        for k in range(N, 0, -1):
            # through the activation: dDiv/dz(k)_i
            if self.f[k].is_vector:
                J = self.f[k].jacobian(np.array(self.z[k]))  # J[j][i] = dy_j / dz_i
                dz = [sum(dy[k][j] * float(J[j][i]) for j in range(self.widths[k])) for i in range(self.widths[k])]
            else:
                dz = [
                    float(self.f[k].derivative(self.z[k][i], self.y[k][i])) * dy[k][i]
                    for i in range(self.widths[k])
                ]
            dz_kept[k] = dz
            # the weights and biases of layer k: dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j
            dw[k] = [[self.y[k - 1][i] * dz[j] for j in range(self.widths[k])] for i in range(self.widths[k - 1])]
            db[k] = list(dz)
            # back to the previous layer's outputs: dDiv/dy(k-1)_i = sum_j w(k)_ij dDiv/dz(k)_j
            if k > 1:
                dy[k - 1] = [
                    sum(self.w[k][i][j] * dz[j] for j in range(self.widths[k])) for i in range(self.widths[k - 1])
                ]
        # kept, like z and y, so the pass can be inspected neuron by neuron (dy[0] is not computed)
        self.dy, self.dz, self.dw, self.db = dy, dz_kept, dw, db
        return dw, db

    def loss_and_gradients(self, X, D):
        """The lecture's loop: for every instance forward, backward, accumulate; then average.

        X: (T, width_0); D: the T targets.  Returns ``(loss, grads)`` with grads in
        vector form (``"W(k)"`` shaped (width_k, width_(k-1))), to compare with Network.
        """
        X = as_array(X, "X", ndim=2, meaning="(T, width_0): one instance per row")
        D = np.asarray(D)
        if len(D) != len(X):
            raise ValueError(f"argument 'D' expected {len(X)} targets (one per row of X), got {describe(D)}")
        T = len(X)
        total = 0.0
        sum_w = [None] + [[[0.0] * self.widths[k] for _ in range(self.widths[k - 1])] for k in range(1, self.N + 1)]
        sum_b = [None] + [[0.0] * self.widths[k] for k in range(1, self.N + 1)]
        for t in range(T):
            Y = self.forward(X[t])
            total += self.divergence.value(np.array(Y), D[t])
            dw, db = self.backward(D[t])
            for k in range(1, self.N + 1):
                for j in range(self.widths[k]):
                    sum_b[k][j] += db[k][j]
                    for i in range(self.widths[k - 1]):
                        sum_w[k][i][j] += dw[k][i][j]
        grads = {}
        for k in range(1, self.N + 1):
            grads[f"W({k})"] = np.array(sum_w[k]).T / T
            grads[f"b({k})"] = np.array(sum_b[k]) / T
        return total / T, grads

    # -- checking (the loops' gradients against finite differences) -----------------
    def loss(self, X, D) -> float:
        """The average divergence over the instances: X (T, width_0), D the T targets."""
        X = as_array(X, "X", ndim=2, meaning="(T, width_0): one instance per row")
        D = np.asarray(D)
        if len(D) != len(X):
            raise ValueError(f"argument 'D' expected {len(X)} targets (one per row of X), got {describe(D)}")
        return sum(self.divergence.value(np.array(self.forward(X[t])), D[t]) for t in range(len(X))) / len(X)

    def kink_signature(self, X) -> tuple:
        """Which side of each kink (ReLU at 0...) every z(k)_j is on, for every row of X."""
        X = as_array(X, "X", ndim=2, meaning="(T, width_0): one instance per row")
        sides = []
        for x in X:
            self.forward(x)
            sides += [z > c for k in range(1, self.N + 1) for c in self.f[k].kinks for z in self.z[k]]
        return tuple(sides)

    def gradient_check(self, X, D, *, h: float | None = None, rtol: float | None = None,
                       atol: float | None = None, order: int = 4) -> GradientReport:
        """The loops' gradients against central differences of the loss, entry by entry.

        Parameters are compared in vector form (``"W(k)"`` of shape (width_k, width_(k-1)),
        so entry ``[j, i]`` is w(k)_ij).  The network itself is left unchanged.
        """
        _, grads = self.loss_and_gradients(X, D)
        params = self.parameters()  # copies, perturbed one entry at a time

        def rebuilt():
            return ScalarNetwork([params[f"W({k})"].T for k in range(1, self.N + 1)],
                                 [params[f"b({k})"] for k in range(1, self.N + 1)], self.f[1:], self.divergence)

        return check_gradients(lambda: rebuilt().loss(X, D), params, grads, h=h, rtol=rtol, atol=atol,
                               order=order, kink_signature=lambda: rebuilt().kink_signature(X))
