"""The vectorised network: a stack of layers and a divergence, for a mini-batch.

``X`` is ``(B, width_0)`` (y(0) = x for each row), the output ``Y = y(N)`` is
``(B, width_N)`` and the loss is the average divergence over the B instances.
Parameters are named as in the lecture: ``"W(k)"`` and ``"b(k)"`` for the k-th
affine layer, counting through residual blocks in order.

A layer object may appear more than once (shared weights, e.g. Y = w (w x)):
its parameters then have one name, taken from their first use, and their
gradient is the sum of every use's share.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .activations import get_activation
from .checks import as_array, check_positive_int, check_real, check_rng, describe
from .divergences import get_divergence
from .gradcheck import GradientReport, check_gradients
from .layers import ActivationLayer, Affine, Layer

__all__ = ["Network", "mlp"]


class Network:
    """Layers applied in order, then a divergence.

    ``forward(X) -> (Y, caches)``; ``backward(dY, caches) -> grads`` (a dict
    ``name -> gradient`` shaped like each parameter); ``loss_and_gradients(X, d)``
    does both and starts the backward pass from d loss / dY.
    """

    def __init__(self, layers: Sequence[Layer], divergence="half_squared_error", input_width: int | None = None):
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(f"argument 'layers' expected a non-empty sequence of Layer objects, got {describe(layers)}")
        self.layers = layers
        self.divergence = get_divergence(divergence)
        if input_width is None and isinstance(layers[0], Affine):
            input_width = layers[0].W.shape[1]
        self.input_width = None if input_width is None else check_positive_int(input_width, "input_width")
        if self.input_width is not None:
            w = self.input_width
            for layer in layers:
                w = layer.output_width(w)
            self.output_width = w
        self._slots, self._params = self._name_parameters()

    def _name_parameters(self):
        """Every (name, layer index, key) in the layers' order, and the parameters by name (shared once)."""
        slots, params, named, k = [], {}, {}, 0
        for i, layer in enumerate(self.layers):
            for key, p in layer.params.items():
                base = key.rsplit(".", 1)[-1]
                if base == "W":
                    k += 1
                if id(p) not in named:  # a parameter met again (a shared layer) keeps its first name
                    named[id(p)] = f"{base}({k})"
                    params[named[id(p)]] = p
                slots.append((named[id(p)], i, key))
        return slots, params

    # -- parameters ------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        """``{"W(1)": W(1), "b(1)": b(1), ...}``: the arrays themselves (views, not copies)."""
        return dict(self._params)

    # -- forward / backward ----------------------------------------------------
    def check_input(self, X, name: str = "X") -> np.ndarray:
        """``X`` as a finite float64 ``(B, width_0)`` array with B >= 1, or an error naming ``name``."""
        X = as_array(X, name, ndim=2, meaning="(B, width_0): one instance per row")
        if self.input_width is not None and X.shape[1] != self.input_width:
            raise ValueError(f"argument '{name}' expected shape (B, {self.input_width}) (B, width_0), got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"argument '{name}' expected at least one instance (row), got shape {X.shape}")
        return X

    def forward(self, X, *, check: bool = True):
        """Return ``(Y, caches)``: Y = y(N) of shape (B, width_N); one cache per layer.

        ``check=False`` skips :meth:`check_input`, for an X the caller has already
        checked (a training loop checks its data once, then runs every step).
        """
        out, caches = self.check_input(X) if check else X, []
        for layer in self.layers:
            out, cache = layer.forward(out)
            caches.append(cache)
        return out, caches

    def predict(self, X) -> np.ndarray:
        """The output y(N) for each row of X: (B, width_N)."""
        return self.forward(X)[0]

    def backward(self, dY, caches, *, output_grads: list | None = None) -> dict[str, np.ndarray]:
        """From d loss / dY (B, width_N) back through every layer; the gradients by name.

        The first layer's input gradient d loss / dX, which no parameter needs, is
        not computed.  ``output_grads``: an empty list to receive, for every layer
        i, d loss / d(its output), the gradient the backward pass carried into it.
        """
        if not isinstance(caches, (list, tuple)) or len(caches) != len(self.layers):
            raise ValueError(f"argument 'caches' expected {len(self.layers)} caches (one per layer, from forward), "
                             f"got {describe(caches)}")
        if output_grads is not None:
            if not isinstance(output_grads, list) or output_grads:
                raise TypeError(f"argument 'output_grads' expected an empty list to fill, got {describe(output_grads)}")
            output_grads.extend([None] * len(self.layers))
        per_layer = [None] * len(self.layers)
        d = dY
        for i in reversed(range(len(self.layers))):
            if output_grads is not None:
                output_grads[i] = d
            d, per_layer[i] = self.layers[i].backward(d, caches[i], input_grad=i > 0)
        grads = {}
        for name, i, key in self._slots:
            g = per_layer[i][key]
            grads[name] = g if name not in grads else grads[name] + g  # a shared parameter: every use's share
        return grads

    def loss(self, X, d) -> float:
        """The average divergence of the outputs for X from the targets d."""
        return self.divergence.loss(self.predict(X), d)

    def loss_and_gradients(self, X, d):
        """``(loss, grads)``: the average divergence and its gradient for every parameter."""
        Y, caches = self.forward(X)
        loss, dY = self.divergence.loss_and_derivative(Y, d)
        return loss, self.backward(dY, caches)

    # -- checking ----------------------------------------------------------------
    def kink_signature(self, X) -> bytes:
        """Which side of each kink (ReLU at 0...) every unit is on for the batch X."""
        _, caches = self.forward(X)
        return b"|".join(layer.kink_signature(c) for layer, c in zip(self.layers, caches))

    def gradient_check(self, X, d, *, h: float | None = None, rtol: float | None = None, atol: float | None = None,
                       order: int = 4) -> GradientReport:
        """Backprop's gradients against central differences of the loss, entry by entry."""
        params = self.parameters()
        for name, p in params.items():
            if p.dtype != np.float64:
                raise TypeError(f"parameter {name} has dtype {p.dtype}; gradient checks run in float64")
        _, grads = self.loss_and_gradients(X, d)
        return check_gradients(lambda: self.loss(X, d), params, grads, h=h, rtol=rtol, atol=atol, order=order,
                               kink_signature=lambda: self.kink_signature(X))

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Network([\n  {inner}\n], divergence={self.divergence!r})"


def mlp(widths: Sequence[int], activations, *, rng: np.random.Generator, divergence="half_squared_error",
        weight_scale: float = 1.0) -> Network:
    """A fully connected network: for k = 1..N an affine layer then activation f_k.

    ``widths`` = (width_0, ..., width_N); ``activations`` is one name for every
    layer or a sequence of N names/objects; weights are drawn from
    ``weight_scale * N(0, 1/width_(k-1))`` with the given ``rng``, biases likewise
    (so tests exercise non-zero biases).
    """
    check_rng(rng)
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) < 2:
        raise ValueError(f"argument 'widths' expected (width_0, ..., width_N) with N >= 1, got {describe(widths)}")
    widths = [check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    n_layers = len(widths) - 1
    if isinstance(activations, (str, bytes)) or not hasattr(activations, "__len__"):
        activations = [activations] * n_layers
    if len(activations) != n_layers:
        raise ValueError(
            f"argument 'activations' expected {n_layers} activations (one per layer k = 1..{n_layers}), got {len(activations)}"
        )
    scale = check_real(weight_scale, "weight_scale")
    layers: list[Layer] = []
    for k in range(1, n_layers + 1):
        fan_in = widths[k - 1]
        W = rng.normal(0.0, scale / np.sqrt(fan_in), size=(widths[k], fan_in))
        b = rng.normal(0.0, scale / np.sqrt(fan_in), size=widths[k])
        layers += [Affine(W, b), ActivationLayer(get_activation(activations[k - 1]))]
    return Network(layers, divergence, input_width=widths[0])
