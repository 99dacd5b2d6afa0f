"""Vectorised layers for a mini-batch, all behind one contract.

Layout: a mini-batch stacks instances as rows, so the outputs of layer k-1 are
``Y`` of shape ``(B, width_(k-1))``.  Derivatives of the loss are row vectors
per instance, so ``dY`` has the same shape as ``Y``.  Parameters follow the
lecture: ``W(k)`` has shape ``(width_k, width_(k-1))`` (row j holds the weights
w(k)_ij into unit j, so the array entry ``W(k)[j, i]`` is w(k)_ij) and ``b(k)``
has shape ``(width_k,)``.

The contract (CS231n's), one for every kind of layer:

* ``*_forward(inputs, params...) -> (out, cache)``: the cache keeps what the
  backward pass needs (the lecture's "compute and keep");
* ``*_backward(d_out, cache) -> (d_in, *param_grads)``.

The classes hold their parameters and follow the same contract:
``layer.forward(Y) -> (out, cache)`` and
``layer.backward(d_out, cache, input_grad=True) -> (d_in, grads)``, where
``grads`` maps parameter names to gradients and ``input_grad=False`` lets a layer
skip d_in (the first layer's dDiv/dx, which no parameter needs; it is None then).
Each class method is its function: the rule is written once.

Parameter gradients come back shaped like the parameters: they are the
*gradients*, the transposes of the lecture's derivatives (dDiv/dW(k) is
``(width_(k-1), width_k)``, its gradient ``(width_k, width_(k-1))``).

The functions check types and shapes (free); they do not scan values: the
network checks its input once, the constructors check their parameters.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .activations import Activation, get_activation
from .checks import as_array, describe

__all__ = [
    "affine_forward",
    "affine_backward",
    "activation_forward",
    "activation_backward",
    "multiplicative_forward",
    "multiplicative_backward",
    "extended_input",
    "extended_weights",
    "Layer",
    "Affine",
    "ActivationLayer",
    "Multiplicative",
    "Residual",
]


def _array(value, name, ndim, meaning):
    """A float64 array of ``ndim`` dimensions (no value scan); symbolic (object) arrays pass untouched."""
    if isinstance(value, np.ndarray) and (value.dtype == np.float64 or value.dtype == object) and value.ndim == ndim:
        return value  # the common case, at no cost
    return as_array(value, name, ndim=ndim, meaning=meaning, finite=False)


def _batch(Y, name, width=None, meaning="(B, width)", rows=None):
    Y = _array(Y, name, 2, meaning)
    if width is not None and Y.shape[1] != width:
        raise ValueError(f"argument '{name}' expected shape (B, {width}) {meaning}, got {Y.shape}")
    if rows is not None and Y.shape[0] != rows:
        raise ValueError(f"argument '{name}' expected {rows} rows (the batch of the forward pass), got {Y.shape[0]}")
    return Y


# -- affine: z(k) = W(k) y(k-1) + b(k) ------------------------------------------
def affine_forward(Y, W, b):
    """``Z = Y W^T + b``, i.e. z(k) = W(k) y(k-1) + b(k) for every row.

    Y: (B, width_(k-1)); W: (width_k, width_(k-1)); b: (width_k,) -> Z: (B, width_k).
    The cache is ``(Y, W)``.
    """
    W = _array(W, "W", 2, "(width_k, width_(k-1))")
    b = _bias(b, W.shape[0])
    Y = _batch(Y, "Y", W.shape[1], "(B, width_(k-1)) matching W's columns")
    Z = Y @ W.T
    Z += b
    return Z, (Y, W)


def affine_backward(dZ, cache, input_grad: bool = True):
    """Backward through the affine map; dZ: (B, width_k).

    Returns ``(dY, dW, db)``: dY = dZ W: (B, width_(k-1)) (None when ``input_grad``
    is False); dW = dZ^T Y: (width_k, width_(k-1)), the sum over the batch of
    y(k-1) dDiv/dz(k), transposed; db = the sum of dZ's rows: (width_k,).
    """
    Y, W = cache
    dZ = _batch(dZ, "dZ", W.shape[0], "(B, width_k)", rows=Y.shape[0])
    return (dZ @ W if input_grad else None), dZ.T @ Y, dZ.sum(axis=0)


def _bias(b, width):
    b = _array(b, "b", 1, "(width_k,)")
    if b.shape != (width,):
        raise ValueError(f"argument 'b' expected shape ({width},) (width_k, the rows of W), got {b.shape}")
    return b


# -- the bias as a weight on a constant input 1 --------------------------------------
def extended_input(Y) -> np.ndarray:
    """Append a constant 1 to each instance: ``(width,) -> (width + 1,)``, ``(B, width) -> (B, width + 1)``.

    With :func:`extended_weights`, z = W y + b becomes z = W~ y~ (the lecture's
    extended notation, where the bias is one more weight).
    """
    Y = as_array(Y, "Y", ndim=(1, 2), meaning="(width,) or (B, width)")
    return np.concatenate([Y, np.ones(Y.shape[:-1] + (1,))], axis=-1)


def extended_weights(W, b) -> np.ndarray:
    """``[W | b]``: W of shape ``(width_k, width_(k-1))`` and b ``(width_k,)`` -> ``(width_k, width_(k-1) + 1)``.

    The last column holds the bias: the weight on the constant input 1.
    """
    W = as_array(W, "W", ndim=2, meaning="(width_k, width_(k-1))")
    b = as_array(b, "b", ndim=1, meaning="(width_k,)")
    if b.shape[0] != W.shape[0]:
        raise ValueError(f"argument 'b' expected shape ({W.shape[0]},), one bias per row of W, got {b.shape}")
    return np.concatenate([W, b[:, None]], axis=1)


# -- activation: y(k) = f_k(z(k)) ---------------------------------------------------
def activation_forward(Z, activation: Activation):
    """``Y = f(Z)``; Z, Y: (B, width_k).  The cache is ``(Z, Y, activation)``."""
    act = get_activation(activation)
    Z = _batch(Z, "Z")
    Y = act.forward(Z)
    return Y, (Z, Y, act)


def activation_backward(dY, cache):
    """``dZ = dY * f'(Z)`` for a scalar activation, ``dY @ J`` per row for a vector one."""
    Z, Y, act = cache
    dY = _batch(dY, "dY", Z.shape[1], "(B, width_k)", rows=Z.shape[0])
    return act.backward(dY, Z, Y)


# -- multiplicative: o_i = y_j y_l ----------------------------------------------------
def _pairs(pairs, width_in):
    arr = np.asarray(pairs)
    if arr.dtype.kind not in "iu" or arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(
            f"argument 'pairs' expected a non-empty list of (j, l) index pairs, shape (width_out, 2), got {describe(pairs)}"
        )
    if width_in is None and arr.min() < 0:
        raise ValueError(f"argument 'pairs' expected non-negative unit indices, got {arr.min()}")
    if width_in is not None and (arr.min() < 0 or arr.max() >= width_in):
        bad = arr[(arr < 0) | (arr >= width_in)][0]
        raise ValueError(f"argument 'pairs' expected unit indices in 0..{width_in - 1}, got {bad}")
    return arr


def multiplicative_forward(Y, pairs):
    """``O[:, i] = Y[:, j_i] * Y[:, l_i]`` for each pair (j_i, l_i) (LSTM/GRU/attention gates).

    Y: (B, width_(k-1)); pairs: (width_k, 2) -> O: (B, width_k).  The cache is ``(Y, pairs)``.
    """
    Y = _batch(Y, "Y")
    p = _pairs(pairs, Y.shape[1])
    return Y[:, p[:, 0]] * Y[:, p[:, 1]], (Y, p)


def multiplicative_backward(dO, cache):
    """dDiv/dy_j += dDiv/do_i * y_l and dDiv/dy_l += dDiv/do_i * y_j for every pair.

    A unit used by several products (or twice in one) accumulates all its terms.
    """
    Y, p = cache
    dO = _batch(dO, "dO", p.shape[0], "(B, width_k)", rows=Y.shape[0])
    dY = np.zeros_like(Y)
    np.add.at(dY.T, p[:, 0], (dO * Y[:, p[:, 1]]).T)
    np.add.at(dY.T, p[:, 1], (dO * Y[:, p[:, 0]]).T)
    return dY


# -- classes -----------------------------------------------------------------------------
class Layer:
    """``forward(Y) -> (out, cache)``; ``backward(d_out, cache, input_grad=True) -> (d_in, grads)``.

    ``params`` maps parameter names to the arrays themselves (updated in place by
    training and perturbed in place by gradient checks); ``grads`` uses the same names.
    A layer without parameters keeps the empty ``params`` of this class.
    """

    params: dict[str, np.ndarray] = {}

    def forward(self, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, d_out, cache, input_grad: bool = True):  # pragma: no cover - abstract
        raise NotImplementedError

    def output_width(self, width_in: int) -> int:
        return width_in

    def kink_signature(self, cache) -> bytes:
        """Which side of every kink the forward pass was on (b"" when there are none)."""
        return b""


class Affine(Layer):
    """z(k) = W(k) y(k-1) + b(k): W (width_k, width_(k-1)), b (width_k,); see :func:`affine_forward`."""

    def __init__(self, W, b):
        W = as_array(W, "W", ndim=2, meaning="(width_k, width_(k-1))")
        if W.shape[0] == 0 or W.shape[1] == 0:
            raise ValueError(f"argument 'W' expected positive widths (width_k, width_(k-1)), got shape {W.shape}")
        b = as_array(b, "b", ndim=1, meaning="(width_k,)")
        self.params = {"W": W.copy(), "b": _bias(b, W.shape[0]).copy()}

    @property
    def W(self):
        return self.params["W"]

    @property
    def b(self):
        return self.params["b"]

    def forward(self, Y):
        return affine_forward(Y, self.params["W"], self.params["b"])

    def backward(self, d_out, cache, input_grad=True):
        dY, dW, db = affine_backward(d_out, cache, input_grad)
        return dY, {"W": dW, "b": db}

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
    """y(k) = f_k(z(k)), scalar or vector activation, no parameters; see :func:`activation_forward`."""

    def __init__(self, activation="relu", **options):
        self.activation = get_activation(activation, **options)

    def forward(self, Y):
        return activation_forward(Y, self.activation)

    def backward(self, d_out, cache, input_grad=True):
        return activation_backward(d_out, cache), {}

    def kink_signature(self, cache):
        Z = cache[0]
        return b"".join(np.sign(Z - k).astype(np.int8).tobytes() for k in self.activation.kinks)

    def __repr__(self):
        return f"ActivationLayer({self.activation!r})"


class Multiplicative(Layer):
    """o(k)_i = y(k-1)_j * y(k-1)_l for each (j, l) in ``pairs``; no parameters; see :func:`multiplicative_forward`."""

    def __init__(self, pairs):
        self.pairs = _pairs(pairs, None)

    def forward(self, Y):
        return multiplicative_forward(Y, self.pairs)

    def backward(self, d_out, cache, input_grad=True):
        return multiplicative_backward(d_out, cache), {}

    def output_width(self, width_in):
        _pairs(self.pairs, width_in)
        return len(self.pairs)

    def __repr__(self):
        return f"Multiplicative({self.pairs.tolist()})"


class Residual(Layer):
    """A skip connection around a block: out = Y + F(Y), F a sequence of layers.

    F must keep the width.  Backward: dY = d_out + (the block's backward of d_out),
    so the gradient reaches earlier layers even when F's units are dead.  The
    block's parameters are named ``"<position in block>.<name>"`` (e.g. ``"0.W"``).
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
        return {f"{i}.{key}": p for i, layer in enumerate(self.layers) for key, p in layer.params.items()}

    def forward(self, Y):
        Y = _batch(Y, "Y")
        out, caches = Y, []
        for layer in self.layers:
            out, cache = layer.forward(out)
            caches.append(cache)
        if out.shape != Y.shape:
            raise ValueError(f"a residual block must keep the width: input {Y.shape}, block output {out.shape}")
        return Y + out, caches

    def backward(self, d_out, caches, input_grad=True):
        d, grads = d_out, {}
        for i in reversed(range(len(self.layers))):
            d, g = self.layers[i].backward(d, caches[i])
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
