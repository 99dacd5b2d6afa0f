"""Vectorised layers for a mini-batch, all behind one contract.

Layout: a mini-batch stacks instances as rows, so the outputs of layer k-1 are
``Y`` of shape ``(B, width_(k-1))``.  Derivatives of the loss are row vectors
per instance, so ``dY`` has the same shape as ``Y``.  Parameters follow the
lecture: ``W(k)`` has shape ``(width_k, width_(k-1))`` (row j holds the weights
w(k)_ij into unit j) and ``b(k)`` has shape ``(width_k,)``.

Contract (as in CS231n's layers):

* ``*_forward(inputs, params...) -> (out, cache)``
* ``*_backward(d_out, cache) -> (d_in, *param_grads)``

Parameter gradients come back shaped like the parameters: they are the
*gradients*, the transposes of the lecture's derivatives (dDiv/dW(k) is
``(width_(k-1), width_k)``, its gradient ``(width_k, width_(k-1))``).

The layer classes wrap the functions with ``forward(Y) -> (out, cache)`` and
``backward(d_out, cache) -> (d_in, grads)``, where ``grads`` maps parameter
names to gradients.  ``forward_unchecked`` and ``backward_unchecked`` compute the
same numbers without validating their input: the Network validates once at its
boundary, then runs every layer through them (the training loop's path).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._checks import as_array, describe
from .activations import Activation, get_activation

__all__ = [
    "affine_forward",
    "affine_backward",
    "activation_forward",
    "activation_backward",
    "multiplicative_forward",
    "multiplicative_backward",
    "Layer",
    "Affine",
    "ActivationLayer",
    "Multiplicative",
    "Residual",
]

BATCH = "(B, width)"


def _batch(Y, name="Y", width=None, meaning=BATCH):
    if isinstance(Y, np.ndarray) and Y.dtype == object:  # symbolic evaluation
        return Y
    Y = as_array(Y, name, ndim=2, meaning=meaning)
    if width is not None and Y.shape[1] != width:
        raise ValueError(f"argument '{name}' expected shape (B, {width}) {meaning}, got {Y.shape}")
    return Y


# -- affine: z(k) = W(k) y(k-1) + b(k) ------------------------------------------
def affine_forward(Y, W, b):
    """``Z = Y W^T + b``, i.e. z(k) = W(k) y(k-1) + b(k) for every row.

    Y: (B, width_(k-1)); W: (width_k, width_(k-1)); b: (width_k,) -> Z: (B, width_k).
    """
    W = _matrix(W)
    b = _bias(b, W.shape[0])
    Y = _batch(Y, "Y", W.shape[1], "(B, width_(k-1)) matching W's columns")
    return Y @ W.T + b, (Y, W)


def affine_backward(dZ, cache):
    """Backward through the affine map.

    dZ: (B, width_k) -> dY = dZ W: (B, width_(k-1)); dW = dZ^T Y: (width_k, width_(k-1))
    (the sum over the batch of y(k-1) dDiv/dz(k), transposed); db = sum of dZ rows: (width_k,).
    """
    Y, W = cache
    dZ = _batch(dZ, "dZ", W.shape[0], "(B, width_k)")
    if dZ.shape[0] != Y.shape[0]:
        raise ValueError(f"argument 'dZ' expected {Y.shape[0]} rows (the batch of the forward pass), got {dZ.shape[0]}")
    return dZ @ W, dZ.T @ Y, dZ.sum(axis=0)


def _matrix(W):
    if isinstance(W, np.ndarray) and W.dtype == object:
        return W
    return as_array(W, "W", ndim=2, meaning="(width_k, width_(k-1))")


def _bias(b, width):
    if isinstance(b, np.ndarray) and b.dtype == object:
        return b
    b = as_array(b, "b", ndim=1, meaning="(width_k,)")
    if b.shape != (width,):
        raise ValueError(f"argument 'b' expected shape ({width},) (width_k, the rows of W), got {b.shape}")
    return b


# -- activation: y(k) = f_k(z(k)) ---------------------------------------------------
def activation_forward(Z, activation: Activation):
    """``Y = f(Z)``; Z, Y: (B, width_k)."""
    act = get_activation(activation)
    Z = _batch(Z, "Z")
    Y = act.forward(Z)
    return Y, (Z, Y, act)


def activation_backward(dY, cache):
    """``dZ = dY * f'(Z)`` for a scalar activation, ``dY @ J`` per row for a vector one."""
    Z, Y, act = cache
    dY = _batch(dY, "dY", Z.shape[1], "(B, width_k)")
    return act.backward(dY, Z, Y)


# -- multiplicative: o_i = y_j y_l ----------------------------------------------------
def _pairs(pairs, width_in):
    arr = np.asarray(pairs)
    if arr.dtype.kind not in "iu" or arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(
            f"argument 'pairs' expected a non-empty list of (j, l) index pairs, shape (width_out, 2), got {describe(pairs)}"
        )
    if width_in is not None and (arr.min() < 0 or arr.max() >= width_in):
        bad = arr[(arr < 0) | (arr >= width_in)][0]
        raise ValueError(f"argument 'pairs' expected unit indices in 0..{width_in - 1}, got {bad}")
    return arr


def multiplicative_forward(Y, pairs):
    """``O[:, i] = Y[:, j_i] * Y[:, l_i]`` for each pair (j_i, l_i) (LSTM/GRU/attention gates).

    Y: (B, width_(k-1)); pairs: (width_k, 2) -> O: (B, width_k).
    """
    Y = _batch(Y, "Y")
    p = _pairs(pairs, Y.shape[1])
    return Y[:, p[:, 0]] * Y[:, p[:, 1]], (Y, p)


def multiplicative_backward(dO, cache):
    """dDiv/dy_j += dDiv/do_i * y_l and dDiv/dy_l += dDiv/do_i * y_j for every pair.

    A unit used by several products (or twice in one) accumulates all its terms.
    """
    Y, p = cache
    dO = _batch(dO, "dO", p.shape[0], "(B, width_k)")
    dY = np.zeros_like(Y)
    np.add.at(dY.T, p[:, 0], (dO * Y[:, p[:, 1]]).T)
    np.add.at(dY.T, p[:, 1], (dO * Y[:, p[:, 0]]).T)
    return dY


# -- classes -----------------------------------------------------------------------------
class Layer:
    """``forward(Y) -> (out, cache)``; ``backward(d_out, cache) -> (d_in, grads)``.

    ``params`` maps parameter names to the arrays themselves (updated in place by
    training and perturbed in place by gradient checks); ``grads`` uses the same names.
    """

    params: dict[str, np.ndarray]

    def forward(self, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, d_out, cache):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_unchecked(self, Y):
        """``forward`` for an input the caller has validated (the Network checks X once)."""
        return self.forward(Y)

    def backward_unchecked(self, d_out, cache, need_input_grad: bool = True):
        """``backward`` for a validated ``d_out``; with ``need_input_grad=False`` a layer may skip d_in (None)."""
        return self.backward(d_out, cache)

    def output_width(self, width_in: int) -> int:
        return width_in

    def kink_signature(self, cache) -> bytes:
        """Which side of every kink the forward pass was on ( b"" when there are none)."""
        return b""


class Affine(Layer):
    """z(k) = W(k) y(k-1) + b(k): W (width_k, width_(k-1)), b (width_k,)."""

    def __init__(self, W, b):
        W = as_array(W, "W", ndim=2, meaning="(width_k, width_(k-1))")
        if W.shape[0] == 0 or W.shape[1] == 0:
            raise ValueError(f"argument 'W' expected positive widths (width_k, width_(k-1)), got shape {W.shape}")
        self.params = {"W": W.copy(), "b": _bias(b, W.shape[0]).copy()}

    @property
    def W(self):
        return self.params["W"]

    @property
    def b(self):
        return self.params["b"]

    def forward(self, Y):
        return affine_forward(Y, self.W, self.b)

    def backward(self, d_out, cache):
        dY, dW, db = affine_backward(d_out, cache)
        return dY, {"W": dW, "b": db}

    def forward_unchecked(self, Y):
        W = self.params["W"]
        Z = Y @ W.T
        Z += self.params["b"]
        return Z, (Y, W)

    def backward_unchecked(self, dZ, cache, need_input_grad=True):
        Y, W = cache
        # the first layer's dY = dZ W is a matrix product nobody needs: skipped when not asked for
        return (dZ @ W if need_input_grad else None), {"W": dZ.T @ Y, "b": dZ.sum(axis=0)}

    def output_width(self, width_in):
        if width_in != self.W.shape[1]:
            raise ValueError(
                f"an affine layer with W of shape {self.W.shape} expects inputs of width {self.W.shape[1]}, "
                f"got width {width_in} from the layer before"
            )
        return self.W.shape[0]

    def __repr__(self):
        return f"Affine({self.W.shape[1]} -> {self.W.shape[0]})"


class ActivationLayer(Layer):
    """y(k) = f_k(z(k)), scalar or vector activation, no parameters."""

    def __init__(self, activation="relu", **options):
        self.activation = get_activation(activation, **options)
        self.params = {}

    def forward(self, Y):
        return activation_forward(Y, self.activation)

    def backward(self, d_out, cache):
        return activation_backward(d_out, cache), {}

    def forward_unchecked(self, Z):
        Y = self.activation.forward_unchecked(Z)
        return Y, (Z, Y, self.activation)

    def backward_unchecked(self, dY, cache, need_input_grad=True):
        Z, Y, act = cache
        return act.backward_unchecked(dY, Z, Y), {}

    def kink_signature(self, cache):
        Z = cache[0]
        if self.activation.kinks:
            return b"".join(np.sign(Z - k).astype(np.int8).tobytes() for k in self.activation.kinks)
        return b""

    def __repr__(self):
        return f"ActivationLayer({self.activation!r})"


class Multiplicative(Layer):
    """o(k)_i = y(k-1)_j * y(k-1)_l for each (j, l) in ``pairs``; no parameters."""

    def __init__(self, pairs):
        self.pairs = _pairs(pairs, None)
        if self.pairs.min() < 0:
            raise ValueError(f"argument 'pairs' expected non-negative unit indices, got {self.pairs.min()}")
        self.params = {}

    def forward(self, Y):
        return multiplicative_forward(Y, self.pairs)

    def backward(self, d_out, cache):
        return multiplicative_backward(d_out, cache), {}

    def output_width(self, width_in):
        _pairs(self.pairs, width_in)
        return len(self.pairs)

    def __repr__(self):
        return f"Multiplicative({self.pairs.tolist()})"


class Residual(Layer):
    """A skip connection around a block: out = Y + F(Y), F a sequence of layers.

    F must keep the width.  Backward: dY = d_out + (the block's backward of d_out),
    so the gradient reaches earlier layers even when F's units are dead.
    """

    def __init__(self, layers: Sequence[Layer]):
        if isinstance(layers, Layer):
            layers = [layers]
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(f"argument 'layers' expected a non-empty sequence of Layer objects, got {describe(layers)}")
        self.layers = layers

    @property
    def params(self):
        """The block's parameters, keyed ``"<position in block>.<name>"`` (e.g. ``"0.W"``)."""
        return {f"{i}.{key}": p for i, layer in enumerate(self.layers) for key, p in layer.params.items()}

    def forward(self, Y):
        return self._forward(_batch(Y, "Y"), checked=True)

    def backward(self, d_out, caches):
        return self._backward(d_out, caches, checked=True)

    def forward_unchecked(self, Y):
        return self._forward(Y, checked=False)

    def backward_unchecked(self, d_out, caches, need_input_grad=True):
        return self._backward(d_out, caches, checked=False)

    def _forward(self, Y, checked):
        out, caches = Y, []
        for layer in self.layers:
            out, cache = layer.forward(out) if checked else layer.forward_unchecked(out)
            caches.append(cache)
        if out.shape != Y.shape:
            raise ValueError(
                f"a residual block must keep the width: input {Y.shape}, block output {out.shape}"
            )
        return Y + out, caches

    def _backward(self, d_out, caches, checked):
        d, grads = d_out, {}
        for i in reversed(range(len(self.layers))):
            d, g = self.layers[i].backward(d, caches[i]) if checked else self.layers[i].backward_unchecked(d, caches[i])
            grads.update({f"{i}.{key}": v for key, v in g.items()})
        return d_out + d, grads

    def output_width(self, width_in):
        w = width_in
        for layer in self.layers:
            w = layer.output_width(w)
        if w != width_in:
            raise ValueError(f"a residual block must keep the width: input width {width_in}, block output width {w}")
        return width_in

    def kink_signature(self, caches):
        return b"".join(layer.kink_signature(c) for layer, c in zip(self.layers, caches))

    def __repr__(self):
        return f"Residual({self.layers!r})"
