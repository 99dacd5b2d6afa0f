"""The vectorised network: a stack of layers and a divergence, for a mini-batch.

``X`` is ``(B, width_0)`` (y(0) = x for each row), the output ``Y = y(N)`` is
``(B, width_N)`` and the loss is the average divergence over the B instances.
Parameters are named as in the lecture: ``"W(k)"`` and ``"b(k)"`` for the k-th
affine layer, counting through residual blocks in order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._checks import as_array, check_positive_int, check_real, describe
from .activations import get_activation
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
        first_affine = next((l for l in layers if isinstance(l, Affine)), None)
        if input_width is None and first_affine is not None and layers[0] is first_affine:
            input_width = first_affine.W.shape[1]
        self.input_width = None if input_width is None else check_positive_int(input_width, "input_width")
        if self.input_width is not None:
            w = self.input_width
            for layer in layers:
                w = layer.output_width(w)
            self.output_width = w
        self._names = self._name_parameters()

    def _name_parameters(self):
        names, k = [], 0
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                base = key.rsplit(".", 1)[-1]
                if base == "W":
                    k += 1
                names.append((f"{base}({k})", i, key))
        return names

    # -- parameters ------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        """``{"W(1)": W(1), "b(1)": b(1), ...}``: the arrays themselves (views, not copies)."""
        return {name: self.layers[i].params[key] for name, i, key in self._names}

    # -- forward / backward ----------------------------------------------------
    def _check_input(self, X):
        X = as_array(X, "X", ndim=2, meaning="(B, width_0): one instance per row")
        if self.input_width is not None and X.shape[1] != self.input_width:
            raise ValueError(f"argument 'X' expected shape (B, {self.input_width}) (B, width_0), got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("argument 'X' expected at least one instance (row), got shape " + str(X.shape))
        return X

    def forward(self, X):
        """Return ``(Y, caches)``: Y = y(N) of shape (B, width_N); one cache per layer."""
        out = self._check_input(X)
        caches = []
        for layer in self.layers:
            out, cache = layer.forward(out)
            caches.append(cache)
        return out, caches

    def predict(self, X) -> np.ndarray:
        """The output y(N) for each row of X: (B, width_N)."""
        return self.forward(X)[0]

    def backward(self, dY, caches) -> dict[str, np.ndarray]:
        """From d loss / dY (B, width_N) back through every layer; gradients by name."""
        if len(caches) != len(self.layers):
            raise ValueError(f"argument 'caches' expected {len(self.layers)} caches (one per layer), got {len(caches)}")
        per_layer = [None] * len(self.layers)
        d = dY
        for i in reversed(range(len(self.layers))):
            d, per_layer[i] = self.layers[i].backward(d, caches[i])
        return {name: per_layer[i][key] for name, i, key in self._names}

    # -- the training loop's path: validated once at the boundary, then no checks ----------
    def forward_unchecked(self, X):
        """``forward`` for an X the caller has validated ((B, width_0), finite, float64).

        Every layer runs its ``forward_unchecked``: the same numbers as ``forward``,
        without re-validating each layer's input on every call.
        """
        out, caches = X, []
        for layer in self.layers:
            out, cache = layer.forward_unchecked(out)
            caches.append(cache)
        return out, caches

    def backward_unchecked(self, dY, caches) -> dict[str, np.ndarray]:
        """``backward`` for a validated dY (B, width_N) and the caches of ``forward_unchecked``.

        The first layer's input gradient d loss / dX, which no parameter needs, is not computed.
        """
        per_layer = [None] * len(self.layers)
        d = dY
        for i in reversed(range(len(self.layers))):
            d, per_layer[i] = self.layers[i].backward_unchecked(d, caches[i], need_input_grad=i > 0)
        return {name: per_layer[i][key] for name, i, key in self._names}

    def loss(self, X, d) -> float:
        """The average divergence of the outputs for X from the targets d."""
        return self.divergence.loss(self.predict(X), d)

    def loss_and_gradients(self, X, d):
        """``(loss, grads)``: the average divergence and its gradient for every parameter."""
        Y, caches = self.forward(X)
        loss = self.divergence.loss(Y, d)
        grads = self.backward(self.divergence.loss_derivative(Y, d), caches)
        return loss, grads

    # -- checking ----------------------------------------------------------------
    def kink_signature(self, X) -> bytes:
        """Which side of each kink (ReLU at 0...) every unit is on for the batch X."""
        _, caches = self.forward(X)
        return b"|".join(layer.kink_signature(c) for layer, c in zip(self.layers, caches))

    def gradient_check(self, X, d, *, h: float | None = None, rtol: float = 1e-7, atol: float = 1e-10,
                       order: int = 4) -> GradientReport:
        """Backprop's gradients against central differences of the loss, entry by entry."""
        params = self.parameters()
        for name, p in params.items():
            if p.dtype != np.float64:
                raise TypeError(f"parameter {name} has dtype {p.dtype}; gradient checks run in float64")
        _, grads = self.loss_and_gradients(X, d)
        return check_gradients(
            lambda: self.loss(X, d), params, grads, h=h, rtol=rtol, atol=atol, order=order,
            kink_signature=lambda: self.kink_signature(X),
        )

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
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"argument 'rng' expected a numpy.random.Generator, got {describe(rng)}")
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
