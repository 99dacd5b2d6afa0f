"""Divergences Div(Y, d) between the network's output Y and the desired output d.

The training loss is the average divergence over instances.  Layout: one
instance is a vector ``(width,)``; a mini-batch stacks instances as rows
``(B, width)``.

The contract, the same for every divergence: one rule,

* ``rule(Y, d) -> (Div, dDiv/dY)``: Div per instance (shape ``(B,)``, or ``()``
  for one instance) and its derivative, a row vector per instance shaped like
  ``Y`` -- the formula and its derivative written once, side by side;

and the public methods around it, which check their arguments (shapes, ranges,
that a target is a distribution, class labels) and then apply the rule:
``value(Y, d)``, ``derivative(Y, d)``, ``loss(Y, d)`` (the batch average),
``loss_derivative(Y, d)`` (d loss / dY = derivative / B) and
``loss_and_derivative(Y, d)`` (both, from one application of the rule).  The
training loop checks its targets once (:meth:`Divergence.targets`) and then calls
``rule`` on every mini-batch.

Fused forms take the *affine* output z of the last layer instead of Y and fold
the output activation in: ``softmax_cross_entropy`` (dDiv/dz = sum(d) y - d, which
is y - d for a distribution) and ``sigmoid_binary_cross_entropy``
(dDiv/dz = sigma(z) - d).  They are computed with log-sum-exp and softplus, so
any logit gives a finite value.

The unfused forms take probabilities and compute exactly what the formula says:
a term with d_i = 0 contributes exactly 0 (0 log 0 = 0), and a probability of
exactly 0 where the target wants it gives an infinite divergence (and an infinite
derivative), as -log 0 is.  This happens once a softmax or sigmoid saturates
(a logit gap of about 745 makes a softmax output exactly 0): work from the
logits with a fused form, which never meets a probability of 0.

Every rule is written with arithmetic, comparisons and ``xp`` functions only, so
:mod:`backprop.symbolic` checks the same lines against ``sympy.diff``.
"""

from __future__ import annotations

import numpy as np

from .activations import Sigmoid
from .checks import as_array, check_choice, check_labels, check_positive_int, describe

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

#: how far a distribution's entries may sum from 1 and still count as a distribution
DISTRIBUTION_ATOL = 1e-9


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot targets ``(B, num_classes)`` from integer labels ``(B,)``."""
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = check_labels(labels, "labels", num_classes)
    out = np.zeros((labels.shape[0], num_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def log_sum_exp(z, xp=np):
    """``log(sum_i exp(z_i))`` over the last axis, shifted by the max so it never overflows."""
    if xp is np:
        z = as_array(z, "z", meaning="(..., width)")
    m = z.max(axis=-1, keepdims=True)
    return (m + xp.log(xp.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def _live(w, p, xp):
    """Where the weight w is positive, and p there (1 elsewhere, so nothing is evaluated where w = 0)."""
    live = w > 0
    return live, xp.where(live, p, 1.0)


def _weighted_log(w, p, xp=np):
    """``w log p`` entry by entry, exactly 0 where w = 0 (0 log 0 = 0); -inf where w > 0 and p = 0, as it is.

    log is never taken where w = 0, so valid input (a target with zeros) raises no warning.
    """
    live, p = _live(w, p, xp)
    with np.errstate(divide="ignore"):  # log 0 = -inf where w > 0: the answer (an infinite divergence)
        return xp.where(live, w * xp.log(p), 0.0)


def _weighted_ratio(w, p, xp=np):
    """``w / p`` entry by entry, exactly 0 where w = 0; inf where w > 0 and p = 0, as it is (no warning)."""
    live, p = _live(w, p, xp)
    with np.errstate(divide="ignore"):
        return xp.where(live, w / p, 0.0)


class Divergence:
    """Base class: the checks and the batch average around one ``rule``; see the module's docstring."""

    name = ""
    #: what the first argument is, for error messages
    input_name = "Y"
    #: True when the target is a probability distribution per instance (integer class labels are accepted too)
    needs_distribution = False
    #: allowed range of the target entries
    target_range = (-np.inf, np.inf)
    #: allowed range of the first argument's entries
    input_range = (-np.inf, np.inf)

    def rule(self, Y, d, xp=np):  # pragma: no cover - abstract
        """``(Div per instance, dDiv/dY)`` for checked arrays: the formula and its derivative."""
        raise NotImplementedError

    # -- the checks, once, where data enters ---------------------------------------------
    def targets(self, d, Y_shape: tuple, name: str = "d", input_name: str | None = None) -> np.ndarray:
        """The targets ``d`` checked against outputs of shape ``Y_shape``, as float64 rows.

        Integer class labels (one per instance) become one-hot rows for a divergence
        that needs a distribution.  Raises naming ``name`` (and ``input_name``, the
        outputs' name) when the targets do not fit.
        """
        input_name = input_name or self.input_name
        darr = d if isinstance(d, np.ndarray) else np.asarray(d) if not isinstance(d, (str, bytes)) else None
        if (self.needs_distribution and darr is not None and darr.dtype.kind in "iuf"
                and darr.ndim == len(Y_shape) - 1):
            # one label per instance: class labels, which must be integers
            labels = check_labels(np.atleast_1d(darr), "labels", Y_shape[-1])
            if labels.shape[0] != (Y_shape[0] if len(Y_shape) == 2 else 1):
                raise ValueError(f"argument '{name}' expected {Y_shape[0]} class labels (one per row of "
                                 f"'{input_name}'), got {labels.shape[0]}")
            out = one_hot(labels, Y_shape[-1])
            return out if len(Y_shape) == 2 else out[0]
        d = as_array(d, name, meaning=f"shaped like {input_name} {tuple(Y_shape)}")
        if d.shape != tuple(Y_shape):
            raise ValueError(f"argument '{name}' expected the shape of '{input_name}' {tuple(Y_shape)}, got {d.shape}")
        low, high = self.target_range
        if d.size and (d.min() < low or d.max() > high):
            bad = d[(d < low) | (d > high)][0]
            raise ValueError(f"argument '{name}' expected values in [{low:g}, {high:g}] for {self.name}, got {bad:g}")
        if self.needs_distribution and d.size:
            sums = np.atleast_1d(d.sum(axis=-1))
            off = np.abs(sums - 1.0) > DISTRIBUTION_ATOL
            if off.any():
                raise ValueError(
                    f"argument '{name}' expected a probability distribution per instance (one-hot, or entries "
                    f"summing to 1) for {self.name}, got a row summing to {sums[off][0]:g}"
                )
        return d

    def _prepare(self, Y, d):
        Y = as_array(Y, self.input_name, ndim=(1, 2), meaning="(width,) or (B, width)")
        if Y.ndim == 2 and Y.shape[0] == 0:
            raise ValueError(f"argument '{self.input_name}' expected at least one instance (row), got shape {Y.shape}")
        low, high = self.input_range
        if Y.size and (Y.min() < low or Y.max() > high):
            bad = Y[(Y < low) | (Y > high)][0]
            raise ValueError(
                f"argument '{self.input_name}' expected values in [{low:g}, {high:g}] for {self.name}, "
                f"got {bad:g}{self._range_hint()}"
            )
        return Y, self.targets(d, Y.shape)

    def _range_hint(self) -> str:
        return ""

    def _apply(self, Y, d):
        Y, d = self._prepare(Y, d)
        with np.errstate(divide="ignore", invalid="ignore"):  # -log 0 = inf is the answer, not a warning
            return self.rule(Y, d)

    # -- the public numeric API --------------------------------------------
    def value(self, Y, d):
        """Div per instance: ``(B,)`` for a batch, a float for one instance."""
        v = self._apply(Y, d)[0]
        return float(v) if np.ndim(v) == 0 else v

    def derivative(self, Y, d) -> np.ndarray:
        """dDiv/dY per instance, shaped like ``Y`` (rows are the lecture's row vectors)."""
        return self._apply(Y, d)[1]

    def loss(self, Y, d) -> float:
        """The average divergence over the instances (one instance: its divergence)."""
        return float(np.mean(self._apply(Y, d)[0]))

    def loss_derivative(self, Y, d) -> np.ndarray:
        """d loss / dY where loss is the batch average: ``derivative / B``."""
        return self.loss_and_derivative(Y, d)[1]

    def loss_and_derivative(self, Y, d) -> tuple[float, np.ndarray]:
        """``(loss, d loss / dY)``: the batch average and its derivative, the 1/B applied here only."""
        values, dY = self._apply(Y, d)
        if dY.ndim == 2:
            dY = dY / dY.shape[0]
        return float(np.mean(values)), dY

    def __call__(self, Y, d):
        return self.value(Y, d)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class SquaredError(Divergence):
    """Div = sum_i (Y_i - d_i)^2; dDiv/dY = 2 (Y - d).  (The lecture's (Y - d)^2.)"""

    name = "squared_error"

    def rule(self, Y, d, xp=np):
        r = Y - d
        return (r * r).sum(axis=-1), 2 * r


class HalfSquaredError(Divergence):
    """Div = 1/2 ||Y - d||^2; dDiv/dY = Y - d.  (The L2 divergence for regression.)"""

    name = "half_squared_error"

    def rule(self, Y, d, xp=np):
        r = Y - d
        return (r * r).sum(axis=-1) / 2, r


class BinaryCrossEntropy(Divergence):
    """Div = -d log Y - (1 - d) log(1 - Y) for Y in [0, 1] (a sigmoid output), summed over outputs.

    dDiv/dY = -d / Y + (1 - d) / (1 - Y) (= (Y - d) / (Y (1 - Y))).  A term whose
    weight d or 1 - d is 0 contributes exactly 0.  Y = 0 with d > 0 (or Y = 1 with
    d < 1) gives an infinite divergence: see the module's docstring.
    """

    name = "binary_cross_entropy"
    target_range = (0.0, 1.0)
    input_range = (0.0, 1.0)

    def _range_hint(self) -> str:
        return " (Y must be a probability; for logits use 'sigmoid_binary_cross_entropy')"

    def rule(self, Y, d, xp=np):
        terms = _weighted_log(d, Y, xp) + _weighted_log(1 - d, 1 - Y, xp)
        slope = _weighted_ratio(1 - d, 1 - Y, xp) - _weighted_ratio(d, Y, xp)
        return -terms.sum(axis=-1), slope


class CrossEntropy(Divergence):
    """Div = -sum_i d_i log Y_i for a distribution Y (a softmax output).

    ``d`` is one-hot (or integer labels, one per instance, or any distribution).
    dDiv/dY_i = -d_i / Y_i.  With a one-hot d this equals the KL divergence.
    A term with d_i = 0 contributes exactly 0; Y_i = 0 with d_i > 0 gives an
    infinite divergence: see the module's docstring.
    """

    name = "cross_entropy"
    needs_distribution = True
    target_range = (0.0, 1.0)
    input_range = (0.0, 1.0)

    def _range_hint(self) -> str:
        return " (Y must hold probabilities; for logits use 'softmax_cross_entropy')"

    def rule(self, Y, d, xp=np):
        return -_weighted_log(d, Y, xp).sum(axis=-1), 0.0 - _weighted_ratio(d, Y, xp)  # 0.0 - : no -0 where d = 0


class KLDivergence(CrossEntropy):
    """KL(d || Y) = sum_i d_i log(d_i / Y_i); dDiv/dY_i = -d_i / Y_i.

    It differs from the cross-entropy by the entropy of d, a constant, which is
    0 for one-hot targets: then the two are equal, value and derivative.
    """

    name = "kl_divergence"

    def rule(self, Y, d, xp=np):
        return (_weighted_log(d, d, xp) - _weighted_log(d, Y, xp)).sum(axis=-1), 0.0 - _weighted_ratio(d, Y, xp)


class SoftmaxCrossEntropy(Divergence):
    """Softmax output and cross-entropy fused, from the logits z = z(N).

    Div = -sum_i d_i log softmax(z)_i = sum_i d_i (lse(z) - z_i), with
    lse(z) = log sum_j exp(z_j) computed shifted by max_j z_j; and the backward
    pass through softmax and cross-entropy collapses to
    dDiv/dz = (sum_i d_i) softmax(z) - d, which is y - d for a distribution d.
    Both are exact for any d, so value and derivative always agree.
    """

    name = "softmax_cross_entropy"
    input_name = "z"
    needs_distribution = True
    target_range = (0.0, 1.0)

    def rule(self, z, d, xp=np):
        shifted = z - z.max(axis=-1, keepdims=True)  # z_i - max_j z_j: exp never overflows
        e = xp.exp(shifted)
        s = e.sum(axis=-1, keepdims=True)  # lse(z) = max_j z_j + log s, so lse(z) - z_i = log s - shifted_i
        return (d * (xp.log(s) - shifted)).sum(axis=-1), (d.sum(axis=-1, keepdims=True) / s) * e - d


class SigmoidBinaryCrossEntropy(Divergence):
    """Sigmoid output and binary cross-entropy fused, from the logit z.

    Div = softplus(z) - d z, with softplus(z) = log(1 + exp(z)) computed as
    max(z, 0) + log(1 + exp(-|z|)), which never overflows; dDiv/dz = sigma(z) - d.
    """

    name = "sigmoid_binary_cross_entropy"
    input_name = "z"
    target_range = (0.0, 1.0)

    def rule(self, z, d, xp=np):
        softplus = xp.maximum(z, 0) + xp.log1p(xp.exp(-abs(z)))
        return (softplus - d * z).sum(axis=-1), Sigmoid().forward(z, xp) - d


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
