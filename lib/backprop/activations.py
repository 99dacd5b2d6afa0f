"""Activations f_k: y(k) = f_k(z(k)), with their derivatives beside them.

Two kinds, as in the lecture:

* **scalar** activations act on each unit alone, y_j = f(z_j); their Jacobian
  dy/dz is diagonal, so the backward step is an elementwise product
  ``dDiv/dz = dDiv/dy * f'(z)``;
* **vector** activations (softmax) let every z_i influence every y_j; the
  backward step is the row vector times the Jacobian, ``dDiv/dz = dDiv/dy @ J``
  with ``J[i, j] = dy_i/dz_j``.

Arrays are ``(..., width)``: one instance is a vector, a mini-batch stacks
instances as rows ``(B, width)``.  Derivatives of the divergence are row vectors,
so they have the same layout.

Every rule (``forward``, ``derivative``, ``jacobian``) takes an ``xp`` namespace,
numpy by default.  The rules are written with arithmetic and ``xp`` functions
only, so :mod:`backprop.symbolic` can run the *same code* on SymPy symbols and
prove it equals ``sympy.diff``.

Kinks.  ReLU and leaky ReLU are not differentiable at 0.  The slope the library
uses there is a stated convention, ``subgradient_at_zero``: any value in
[negative slope, 1] is a valid subgradient; the default is the negative-side
slope (0 for ReLU, alpha for leaky ReLU), as in most frameworks.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_choice, check_in_interval, check_same_shape, describe

__all__ = [
    "Activation",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "ACTIVATIONS",
    "get_activation",
]


def _input(value, name: str, xp):
    """Validate numeric input; pass symbolic (object) input through untouched."""
    if xp is np:
        return as_array(value, name, meaning="(..., width)")
    return value


class Activation:
    """The contract every activation follows.

    ``forward(z) -> y``; ``jacobian(z) -> J`` of shape ``(..., width, width)``
    with ``J[..., i, j] = dy_i/dz_j``; ``backward(dy, z, y) -> dz``, the chain
    rule for row vectors (``dz = dy @ J``).  Scalar activations also have
    ``derivative(z, y) -> f'(z)`` elementwise.
    """

    name: str = ""
    is_vector: bool = False
    #: points where the scalar function has a kink (gradient checks flag them)
    kinks: tuple[float, ...] = ()

    def forward(self, z, xp=np):  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative(self, z, y=None, xp=np):  # pragma: no cover - abstract
        raise NotImplementedError

    def jacobian(self, z, y=None):
        """Diagonal Jacobian ``(..., width, width)`` of a scalar activation."""
        z = _input(z, "z", np)
        fprime = self.derivative(z, y)
        return fprime[..., :, None] * np.eye(z.shape[-1]) if z.ndim else fprime

    def backward(self, dy, z, y=None):
        """``dDiv/dz = dDiv/dy * f'(z)``: shapes ``(..., width)`` in and out."""
        z = _input(z, "z", np)
        dy = _input(dy, "dy", np)
        check_same_shape(z, "z", dy, "dy")
        return dy * self.derivative(z, y)

    # -- the training loop's path: input already validated at the Network's boundary -----
    def forward_unchecked(self, z):
        """``forward`` for a float64 array the caller has validated (finite, ``(..., width)``)."""
        return self.forward(z)

    def backward_unchecked(self, dy, z, y):
        """``backward`` for validated arrays of the same shape (z and y = f(z) from the forward pass)."""
        if self.is_vector:
            return self.backward(dy, z, y)
        return dy * self.derivative(z, y)

    def __call__(self, z):
        return self.forward(z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class Identity(Activation):
    """y = z (a linear output, as in regression); f'(z) = 1."""

    name = "identity"

    def forward(self, z, xp=np):
        return _input(z, "z", xp)

    def derivative(self, z, y=None, xp=np):
        z = _input(z, "z", xp)
        return z * 0 + 1  # ones shaped like z, for arrays and symbols alike

    def forward_unchecked(self, z):
        return z

    def backward_unchecked(self, dy, z, y):
        return dy


class Sigmoid(Activation):
    """y = 1 / (1 + exp(-z)); f'(z) = y (1 - y).

    Computed from exp(-|z|), which never overflows, in both branches.
    """

    name = "sigmoid"

    def forward(self, z, xp=np):
        return self._rule(_input(z, "z", xp), xp)

    def forward_unchecked(self, z):
        return self._rule(z, np)

    @staticmethod
    def _rule(z, xp):
        e = xp.exp(-abs(z))
        return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))

    def derivative(self, z, y=None, xp=np):
        y = self.forward(z, xp) if y is None else y
        return y * (1 - y)


class Tanh(Activation):
    """y = tanh(z); f'(z) = 1 - y^2."""

    name = "tanh"

    def forward(self, z, xp=np):
        return xp.tanh(_input(z, "z", xp))

    def forward_unchecked(self, z):
        return np.tanh(z)

    def derivative(self, z, y=None, xp=np):
        y = self.forward(z, xp) if y is None else y
        return 1 - y**2


class LeakyReLU(Activation):
    """y = z for z > 0, alpha z otherwise; f'(z) = 1 for z > 0, alpha for z < 0.

    At the kink z = 0 the derivative does not exist; the library returns
    ``subgradient_at_zero``, which must lie in [alpha, 1] (every such slope is a
    subgradient).  Default: alpha.
    """

    name = "leaky_relu"
    kinks = (0.0,)

    def __init__(self, alpha: float = 0.01, subgradient_at_zero: float | None = None):
        self.alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
        if subgradient_at_zero is None:
            subgradient_at_zero = self.alpha
        self.subgradient_at_zero = check_in_interval(
            subgradient_at_zero, "subgradient_at_zero", self.alpha, 1.0,
            "a subgradient at the kink lies between the two slopes",
        )

    def forward(self, z, xp=np):
        z = _input(z, "z", xp)
        return xp.where(z > 0, z, self.alpha * z)

    def derivative(self, z, y=None, xp=np):
        return self._slope(_input(z, "z", xp), xp)

    def _slope(self, z, xp=np):
        return xp.where(z > 0, 1.0, xp.where(z < 0, self.alpha, self.subgradient_at_zero))

    def forward_unchecked(self, z):
        return np.where(z > 0, z, self.alpha * z)

    def backward_unchecked(self, dy, z, y):
        if self.alpha == 0 and self.subgradient_at_zero == 0:  # ReLU's default: the slope is the mask z > 0
            return dy * (z > 0)
        return dy * self._slope(z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha:g}, subgradient_at_zero={self.subgradient_at_zero:g})"


class ReLU(LeakyReLU):
    """y = max(0, z); f'(z) = 1 for z > 0, 0 for z < 0.

    At z = 0 any slope in [0, 1] is a subgradient; the library uses
    ``subgradient_at_zero`` (default 0).
    """

    name = "relu"

    def __init__(self, subgradient_at_zero: float = 0.0):
        super().__init__(alpha=0.0, subgradient_at_zero=subgradient_at_zero)

    def forward(self, z, xp=np):
        return xp.maximum(_input(z, "z", xp), 0)

    def forward_unchecked(self, z):
        return np.maximum(z, 0)

    def __repr__(self) -> str:
        return f"ReLU(subgradient_at_zero={self.subgradient_at_zero:g})"


class Softmax(Activation):
    """Vector activation y_i = exp(z_i) / sum_j exp(z_j), over the last axis.

    Jacobian: ``dy_i/dz_j = y_i (delta_ij - y_j)`` (delta: Kronecker).  It is
    symmetric, so it is also the lecture's ``dy_j/dz_i = y_j (delta_ij - y_i)``.
    """

    name = "softmax"
    is_vector = True

    def forward(self, z, xp=np):
        z = _input(z, "z", xp)
        if xp is np:
            if z.ndim == 0:
                raise ValueError("argument 'z' expected a vector (..., width) for softmax, got a scalar")
            return self.forward_unchecked(z)
        e = xp.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def forward_unchecked(self, z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))  # exp never overflows; softmax is shift-invariant
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def jacobian(self, z, y=None):
        """``J[..., i, j] = dy_i/dz_j = y_i (delta_ij - y_j)``, shape ``(..., width, width)``."""
        y = self.forward(z) if y is None else y
        return y[..., :, None] * (np.eye(y.shape[-1], dtype=int) - y[..., None, :])

    def backward(self, dy, z, y=None):
        """``dDiv/dz = dDiv/dy @ J``, i.e. ``y_j (dy_j - sum_i dy_i y_i)``, without forming J."""
        z = _input(z, "z", np)
        dy = _input(dy, "dy", np)
        check_same_shape(z, "z", dy, "dy")
        return self.backward_unchecked(dy, z, self.forward(z) if y is None else y)

    def backward_unchecked(self, dy, z, y):
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))

    def derivative(self, z, y=None, xp=np):
        raise TypeError(
            "softmax is a vector activation: every z_i influences every y_j, so it has no "
            "elementwise derivative; use jacobian(z) or backward(dy, z)"
        )


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax)
}


def get_activation(spec="relu", **options) -> Activation:
    """An activation from its name (``"relu"``, ``"softmax"``...) or an instance.

    ``options`` go to the constructor, e.g. ``get_activation("leaky_relu", alpha=0.1)``.
    """
    if isinstance(spec, Activation):
        if options:
            raise TypeError(f"options {sorted(options)} given together with an Activation instance {spec!r}")
        return spec
    if isinstance(spec, type) and issubclass(spec, Activation):
        return spec(**options)
    if not isinstance(spec, str):
        raise TypeError(
            f"argument 'activation' expected a name in {sorted(ACTIVATIONS)} or an Activation, got {describe(spec)}"
        )
    check_choice(spec, "activation", ACTIVATIONS)
    return ACTIVATIONS[spec](**options)
