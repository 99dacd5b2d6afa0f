"""Divergences Div(Y, d) between the network's output Y and the desired output d.

The training loss is the average divergence over instances.  Layout: one
instance is a vector ``(width,)``; a mini-batch stacks instances as rows
``(B, width)``.  For every divergence:

* ``value(Y, d)`` -> Div per instance, shape ``(B,)`` (a float for one instance);
* ``derivative(Y, d)`` -> dDiv/dY per instance, a row vector per instance, shaped
  like ``Y`` (this is where the backward pass starts);
* ``loss(Y, d)`` -> the average over the batch; ``loss_derivative(Y, d)`` ->
  d loss / dY, i.e. ``derivative / B``.

Fused forms take the *affine* output z of the last layer instead of Y and fold
the output activation in: ``softmax_cross_entropy`` (dDiv/dz = y - d) and
``sigmoid_binary_cross_entropy`` (dDiv/dz = sigma(z) - d).  They are computed
with log-sum-exp and softplus, so large logits never overflow.

No log(0): probabilities are floored at the smallest positive float64 before a
logarithm, and terms with d = 0 contribute exactly 0 (0 log 0 = 0).

The ``*_rule`` functions are the formulas themselves, written with arithmetic
and an ``xp`` namespace, so :mod:`backprop.symbolic` checks the same code
against ``sympy.diff``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_choice, check_labels, check_positive_int, check_same_shape, describe
from .activations import Sigmoid, Softmax

__all__ = [
    "Divergence",
    "SquaredError",
    "HalfSquaredError",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "KLDivergence",
    "SoftmaxCrossEntropy",
    "SigmoidBinaryCrossEntropy",
    "DIVERGENCES",
    "get_divergence",
    "one_hot",
    "log_sum_exp",
]

_TINY = np.finfo(np.float64).tiny  # floor for probabilities inside a log


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot targets ``(B, num_classes)`` from integer labels ``(B,)``."""
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = check_labels(labels, "labels", num_classes)
    out = np.zeros((labels.shape[0], num_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def log_sum_exp(z) -> np.ndarray:
    """``log(sum_i exp(z_i))`` over the last axis, shifted by the max so it never overflows."""
    return _log_sum_exp(as_array(z, "z", meaning="(..., width)"))


def _log_sum_exp(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


class Divergence:
    """Base class: validation, batching and averaging around two rules.

    Subclasses define ``value_rule(Y, d, xp)`` (elementwise terms, summed over the
    last axis here) and ``derivative_rule(Y, d, xp)`` (dDiv/dY elementwise).
    """

    name = ""
    #: what the first argument is, for error messages
    input_name = "Y"
    #: True when the target must be a probability distribution per instance
    needs_distribution = False
    #: allowed range of the target entries
    target_range = (-np.inf, np.inf)
    #: allowed range of the first argument's entries
    input_range = (-np.inf, np.inf)

    # -- validation -------------------------------------------------------
    def _prepare(self, Y, d):
        Y = as_array(Y, self.input_name, ndim=(1, 2), meaning="(width,) or (B, width)")
        d = self._target(d, Y)
        low, high = self.input_range
        if Y.size and (Y.min() < low or Y.max() > high):
            bad = Y[(Y < low) | (Y > high)][0]
            raise ValueError(
                f"argument '{self.input_name}' expected values in [{low:g}, {high:g}] for {self.name}, "
                f"got {bad:g}{self._range_hint()}"
            )
        return Y, d

    def _range_hint(self) -> str:
        return ""

    def _target(self, d, Y):
        darr = np.asarray(d) if not isinstance(d, np.ndarray) else d
        if self.needs_distribution and darr.dtype.kind in "iu" and darr.ndim == Y.ndim - 1:
            # integer class labels, one per instance
            labels = np.atleast_1d(darr)
            d = one_hot(labels, Y.shape[-1])
            return d if Y.ndim == 2 else d[0]
        d = as_array(d, "d", meaning=f"shaped like {self.input_name} {Y.shape}")
        check_same_shape(Y, self.input_name, d, "d")
        low, high = self.target_range
        if d.size and (d.min() < low or d.max() > high):
            bad = d[(d < low) | (d > high)][0]
            raise ValueError(f"argument 'd' expected values in [{low:g}, {high:g}] for {self.name}, got {bad:g}")
        if self.needs_distribution and d.size:
            sums = d.sum(axis=-1)
            if not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
                bad = np.atleast_1d(sums)[~np.isclose(np.atleast_1d(sums), 1.0, rtol=0, atol=1e-9)][0]
                raise ValueError(
                    f"argument 'd' expected a probability distribution per instance (one-hot, or entries "
                    f"summing to 1) for {self.name}, got a row summing to {bad:g}"
                )
        return d

    # -- the public numeric API --------------------------------------------
    def value(self, Y, d):
        """Div per instance: ``(B,)`` for a batch, a float for one instance."""
        Y, d = self._prepare(Y, d)
        v = self.value_rule(Y, d, np).sum(axis=-1)
        return float(v) if v.ndim == 0 else v

    def derivative(self, Y, d) -> np.ndarray:
        """dDiv/dY per instance, shaped like ``Y`` (rows are the lecture's row vectors)."""
        Y, d = self._prepare(Y, d)
        return self.derivative_rule(Y, d, np)

    def loss(self, Y, d) -> float:
        """The average divergence over the instances (one instance: its divergence)."""
        return float(np.mean(self.value(Y, d)))

    def loss_derivative(self, Y, d) -> np.ndarray:
        """d loss / dY where loss is the batch average: ``derivative / B``."""
        g = self.derivative(Y, d)
        return g / g.shape[0] if g.ndim == 2 else g

    def sum_and_derivative_unchecked(self, Y, d):
        """``(sum of Div over the batch, dDiv/dY)`` for validated (B, width) arrays: the training loop's path.

        The two rules evaluated once each; the derivative is a new array the
        caller may overwrite.  A divergence whose value and derivative share
        work computes them together.
        """
        return float(self.value_rule(Y, d, np).sum()), self.derivative_rule(Y, d, np)

    def __call__(self, Y, d):
        return self.value(Y, d)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


def _log(p, xp):
    """log with probabilities floored at the smallest float64 (numeric path only)."""
    return xp.log(np.maximum(p, _TINY)) if xp is np else xp.log(p)


class SquaredError(Divergence):
    """Div = sum_i (Y_i - d_i)^2; dDiv/dY = 2 (Y - d).  (The lecture's (Y - d)^2.)"""

    name = "squared_error"

    def value_rule(self, Y, d, xp=np):
        return (Y - d) ** 2

    def derivative_rule(self, Y, d, xp=np):
        return 2 * (Y - d)


class HalfSquaredError(Divergence):
    """Div = 1/2 ||Y - d||^2; dDiv/dY = Y - d.  (The L2 divergence for regression.)"""

    name = "half_squared_error"

    def value_rule(self, Y, d, xp=np):
        return (Y - d) ** 2 / 2

    def derivative_rule(self, Y, d, xp=np):
        return Y - d


class BinaryCrossEntropy(Divergence):
    """Div = -d log Y - (1 - d) log(1 - Y) for Y in [0, 1] (a sigmoid output).

    dDiv/dY = (Y - d) / (Y (1 - Y)).  Summed over outputs if Y has several.
    """

    name = "binary_cross_entropy"
    target_range = (0.0, 1.0)
    input_range = (0.0, 1.0)

    def _range_hint(self) -> str:
        return " (Y must be a probability; for logits use 'sigmoid_binary_cross_entropy')"

    def value_rule(self, Y, d, xp=np):
        if xp is np:  # 0 log 0 = 0: only the terms whose weight is non-zero
            return -(np.where(d > 0, d * _log(Y, xp), 0.0) + np.where(d < 1, (1 - d) * _log(1 - Y, xp), 0.0))
        return -d * xp.log(Y) - (1 - d) * xp.log(1 - Y)

    def derivative_rule(self, Y, d, xp=np):
        if xp is np:
            return (Y - d) / np.maximum(Y * (1 - Y), _TINY)
        return (Y - d) / (Y * (1 - Y))


class CrossEntropy(Divergence):
    """Div = -sum_i d_i log Y_i for a distribution Y (a softmax output).

    ``d`` is one-hot (or integer labels, one per instance, or any distribution).
    dDiv/dY_i = -d_i / Y_i.  With a one-hot d this equals the KL divergence.
    """

    name = "cross_entropy"
    needs_distribution = True
    target_range = (0.0, 1.0)
    input_range = (0.0, 1.0)

    def _range_hint(self) -> str:
        return " (Y must hold probabilities; for logits use 'softmax_cross_entropy')"

    def value_rule(self, Y, d, xp=np):
        if xp is np:
            return -np.where(d > 0, d * _log(Y, xp), 0.0)
        return -d * xp.log(Y)

    def derivative_rule(self, Y, d, xp=np):
        if xp is np:
            return np.where(d > 0, -d / np.maximum(Y, _TINY), 0.0)
        return -d / Y


class KLDivergence(CrossEntropy):
    """KL(d || Y) = sum_i d_i log(d_i / Y_i); dDiv/dY_i = -d_i / Y_i.

    It differs from the cross-entropy by the entropy of d, a constant, which is
    0 for one-hot targets: then the two are equal, value and derivative.
    """

    name = "kl_divergence"

    def value_rule(self, Y, d, xp=np):
        if xp is np:
            return np.where(d > 0, d * (_log(d, xp) - _log(Y, xp)), 0.0)
        return d * (xp.log(d) - xp.log(Y))


class SoftmaxCrossEntropy(Divergence):
    """Softmax output and cross-entropy fused, from the logits z = z(N).

    Div = log sum_j exp(z_j) - sum_i d_i z_i (for a distribution d), and the
    backward pass through softmax and cross-entropy collapses to
    dDiv/dz = y - d with y = softmax(z).
    """

    name = "softmax_cross_entropy"
    input_name = "z"
    needs_distribution = True
    target_range = (0.0, 1.0)

    def value_rule(self, z, d, xp=np):
        if xp is np:  # the rules see validated input (or the training loop's, validated once)
            lse = _log_sum_exp(z)[..., None]
        else:
            lse = xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
        return d * (lse - z)  # sums to lse - d.z because sum_i d_i = 1

    def derivative_rule(self, z, d, xp=np):
        return (Softmax().forward_unchecked(z) if xp is np else Softmax().forward(z, xp)) - d

    def sum_and_derivative_unchecked(self, z, d):
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=-1, keepdims=True)
        total = float(np.log(s).sum() - np.vdot(d, shifted))  # sum of lse - d.z, as sum_i d_i = 1
        e /= s
        e -= d  # y - d
        return total, e


class SigmoidBinaryCrossEntropy(Divergence):
    """Sigmoid output and binary cross-entropy fused, from the logit z.

    Div = log(1 + exp(z)) - d z (softplus, computed without overflow) and
    dDiv/dz = sigma(z) - d.
    """

    name = "sigmoid_binary_cross_entropy"
    input_name = "z"
    target_range = (0.0, 1.0)

    def value_rule(self, z, d, xp=np):
        if xp is np:  # softplus(z) = max(z, 0) + log(1 + exp(-|z|))
            return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - d * z
        return xp.log(1 + xp.exp(z)) - d * z

    def derivative_rule(self, z, d, xp=np):
        return (Sigmoid().forward_unchecked(z) if xp is np else Sigmoid().forward(z, xp)) - d


DIVERGENCES: dict[str, type[Divergence]] = {
    cls.name: cls
    for cls in (
        SquaredError,
        HalfSquaredError,
        BinaryCrossEntropy,
        CrossEntropy,
        KLDivergence,
        SoftmaxCrossEntropy,
        SigmoidBinaryCrossEntropy,
    )
}


def get_divergence(spec="half_squared_error") -> Divergence:
    """A divergence from its name (see ``DIVERGENCES``) or an instance."""
    if isinstance(spec, Divergence):
        return spec
    if not isinstance(spec, str):
        raise TypeError(
            f"argument 'divergence' expected a name in {sorted(DIVERGENCES)} or a Divergence, got {describe(spec)}"
        )
    check_choice(spec, "divergence", DIVERGENCES)
    return DIVERGENCES[spec]()
