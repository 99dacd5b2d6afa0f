"""Initialising the weights, and the activations that judge an initialisation.

Every scheme draws each W(k) (width_k, width_(k-1)) from a normal distribution
with mean 0 and a standard deviation chosen per layer, and sets every b(k) to 0:

* ``"normal"``: the standard deviation you give, the same for every layer;
* ``"xavier"`` (Glorot and Bengio, 2010): sqrt(2 / (width_(k-1) + width_k)),
  which keeps the variance of z(k) roughly steady for tanh and sigmoid layers;
* ``"he"`` (He et al., 2015): sqrt(2 / width_(k-1)).  A ReLU zeroes half of a
  symmetric z, so E[y^2] = Var(z) / 2; drawing w with variance 2 / width_(k-1)
  gives Var(z(k)) = width_(k-1) * (2 / width_(k-1)) * E[y(k-1)^2] = Var(z(k-1)),
  the same variance in every layer however deep the network.

A too-small scale shrinks the activations by a constant factor per layer (they
collapse to 0, and so do the gradients: vanishing); a too-large one blows them up
(exploding).  :func:`layer_outputs` gives y(k) of every layer for a batch, to
see it in numbers or histograms.  Randomness always comes from an explicit
``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from .checks import check_choice, check_positive, check_positive_int, check_rng, describe
from .layers import ActivationLayer
from .network import Network

__all__ = ["INITIALISATIONS", "init_std", "initialise", "layer_outputs"]

INITIALISATIONS = ("normal", "xavier", "he")


def init_std(scheme: str, fan_in: int, fan_out: int, std: float | None = None) -> float:
    """The standard deviation of the weights of a layer W(k) with fan_in = width_(k-1), fan_out = width_k.

    ``"normal"``: ``std`` itself (required); ``"xavier"``: sqrt(2 / (fan_in + fan_out));
    ``"he"``: sqrt(2 / fan_in).
    """
    check_choice(scheme, "scheme", INITIALISATIONS)
    fan_in, fan_out = check_positive_int(fan_in, "fan_in"), check_positive_int(fan_out, "fan_out")
    if scheme == "normal":
        if std is None:
            raise TypeError("argument 'std' expected a positive standard deviation for scheme 'normal', got None")
        return check_positive(std, "std", "a standard deviation")
    if std is not None:
        raise TypeError(f"argument 'std' is only for scheme 'normal'; scheme {scheme!r} sets its own, got {std!r}")
    return float(np.sqrt(2.0 / (fan_in + fan_out))) if scheme == "xavier" else float(np.sqrt(2.0 / fan_in))


def initialise(net: Network, scheme: str = "he", *, rng: np.random.Generator, std: float | None = None) -> Network:
    """Redraw every W(k) of ``net`` in place with ``scheme`` (see :func:`init_std`) and set every b(k) to 0.

    Draws come from ``rng``, layer by layer in order.  Returns ``net``, so
    ``initialise(mlp(...), "he", rng=rng)`` reads as one step.
    """
    if not isinstance(net, Network):
        raise TypeError(f"argument 'net' expected a backprop Network, got {describe(net)}")
    check_rng(rng)
    check_choice(scheme, "scheme", INITIALISATIONS)
    for name, p in net.parameters().items():
        if name.startswith("W("):
            p[...] = rng.normal(0.0, init_std(scheme, p.shape[1], p.shape[0], std), size=p.shape)
        else:
            p[...] = 0.0
    return net


def layer_outputs(net: Network, X) -> list[np.ndarray]:
    """y(k) for every activation layer of ``net``, in order: a list of (B, width_k) arrays for the batch X.

    What an initialisation is judged by: the spread of y(k) layer after layer
    (``[y.var() for y in layer_outputs(net, X)]``, or their histograms).
    """
    _, caches = net.forward(X)
    return [cache[1] for layer, cache in zip(net.layers, caches) if isinstance(layer, ActivationLayer)]
