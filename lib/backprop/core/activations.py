"""Activations f_k: y(k) = f_k(z(k)), each rule written once, beside its derivative.

Two kinds, as in the lecture:

* **scalar** activations act on each unit alone, y_j = f(z_j); their Jacobian
  dy/dz is diagonal, so the backward step is an elementwise product
  ``dDiv/dz = dDiv/dy * f'(z)``;
* **vector** activations (softmax) let every z_j influence every y_i; the
  backward step is the row vector times the Jacobian, ``dDiv/dz = dDiv/dy @ J``.

Every Jacobian is laid out the lecture's way: row i for the output y_i, column j
for the input z_j, ``J[i, j] = dy_i/dz_j``, so that ``Delta y ~ J Delta z`` and,
going backward, the row vector dDiv/dy is right-multiplied by J.

The contract, the same for every activation (arrays ``(..., width)``: one
instance is a vector, a mini-batch stacks instances as rows ``(B, width)``;
derivatives of the divergence are row vectors, so they share that layout):

* ``forward(z) -> y``;
* ``derivative(z, y=None) -> f'(z)`` elementwise (scalar activations only);
* ``jacobian(z, y=None) -> J``, shape ``(..., width, width)``, ``J[..., i, j] = dy_i/dz_j``;
* ``backward(dy, z, y=None) -> dz``, the chain rule for row vectors.

Each method checks the types and shapes it is given (free for arrays) and then
applies its rule; values are not scanned for NaN or infinities: the network and
the training loop check their data once, where it enters.  Every rule is
written with arithmetic, comparisons and ``xp`` functions only (``xp`` is numpy
by default), so :mod:`backprop.symbolic` runs the *same lines* on SymPy symbols
and proves them equal to ``sympy.diff``; a comparison such as ``z > 0`` is the
indicator 1 or 0 in both worlds.

Kinks.  ReLU and leaky ReLU are not differentiable at 0.  The slope the library
uses there is a stated convention, ``subgradient_at_zero``: any value in
[negative slope, 1] is a valid subgradient; the default is the negative-side
slope (0 for ReLU, alpha for leaky ReLU), as in most frameworks.
"""

from __future__ import annotations

import numpy as np

from .checks import as_array, check_choice, check_in_interval, check_positive, check_positive_int, check_rng, check_same_shape, describe

__all__ = [
    "Activation",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "tempered_softmax",
    "RandomizedLeakyReLU",
    "max_forward",
    "max_routing",
    "max_backward",
    "max_pool_forward",
    "max_pool_backward",
    "ACTIVATIONS",
    "get_activation",
]


def _input(value, name: str, xp):
    """A float64 array (types and shape checked, values not scanned); symbolic input passes untouched."""
    if xp is not np:
        return value
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value  # the common case, at no cost
    return as_array(value, name, meaning="(..., width)", finite=False)


class Activation:
    """The contract every activation follows; see the module's docstring."""

    name: str = ""
    is_vector: bool = False
    #: points where the scalar function has a kink (gradient checks flag them)
    kinks: tuple[float, ...] = ()

    def forward(self, z, xp=np):  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative(self, z, y=None, xp=np):  # pragma: no cover - abstract
        raise NotImplementedError

    def jacobian(self, z, y=None):
        """Diagonal Jacobian ``(..., width, width)`` of a scalar activation: f'(z_i) on the diagonal."""
        z = _input(z, "z", np)
        fprime = self.derivative(z, y)
        return fprime[..., :, None] * np.eye(z.shape[-1]) if z.ndim else fprime

    def backward(self, dy, z, y=None, xp=np):
        """``dDiv/dz = dDiv/dy * f'(z)`` (the Jacobian is diagonal): shapes ``(..., width)`` in and out.

        ``y = f(z)`` from the forward pass, when given, saves recomputing it.
        """
        z, dy = _input(z, "z", xp), _input(dy, "dy", xp)
        if xp is np:
            check_same_shape(z, "z", dy, "dy")
        slope = self.derivative(z, y, xp)  # f'(z), a new array of z's shape
        slope *= dy  # dDiv/dy * f'(z), written over the slope: one array less per step
        return slope

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
        return _input(z, "z", xp) * 0 + 1  # ones shaped like z, for arrays and symbols alike


class Sigmoid(Activation):
    """y = sigma(z) = 1 / (1 + exp(-z)); f'(z) = y (1 - y).

    Computed from exp(-|z|), which never overflows: 1 / (1 + e) for z >= 0 and
    e / (1 + e) for z < 0, the same function on each side (a witness checks both).
    """

    name = "sigmoid"

    def forward(self, z, xp=np):
        z = _input(z, "z", xp)
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
        """1 where z > 0, alpha where z < 0, ``subgradient_at_zero`` where z = 0 (a float array)."""
        z = _input(z, "z", xp)
        slope = (z > 0).astype(z.dtype)  # the indicator of z > 0, as numbers
        if np.any(self.alpha != 0):  # a number, or one slope per unit (the randomised leaky ReLU)
            slope = slope + self.alpha * (z < 0)
        if np.any(self.subgradient_at_zero != 0):
            slope = slope + self.subgradient_at_zero * (z == 0)
        return slope

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha:g}, subgradient_at_zero={self.subgradient_at_zero:g})"


class ReLU(LeakyReLU):
    """y = max(0, z); f'(z) = 1 for z > 0, 0 for z < 0.

    At z = 0 any slope in [0, 1] is a subgradient; the library uses
    ``subgradient_at_zero`` (default 0).  The derivative is leaky ReLU's with alpha = 0.
    """

    name = "relu"

    def __init__(self, subgradient_at_zero: float = 0.0):
        super().__init__(alpha=0.0, subgradient_at_zero=subgradient_at_zero)

    def forward(self, z, xp=np):
        return xp.maximum(_input(z, "z", xp), 0)

    def __repr__(self) -> str:
        return f"ReLU(subgradient_at_zero={self.subgradient_at_zero:g})"


class Softmax(Activation):
    """Vector activation y_i = exp(z_i) / sum_j exp(z_j), over the last axis.

    Computed as exp(z_i - max_j z_j) / sum_j exp(z_j - max_j z_j): the same
    function (the shift cancels), and exp never overflows.  Jacobian
    ``J[i, j] = dy_i/dz_j = y_i (delta_ij - y_j)`` (delta: Kronecker), outputs on the rows.
    It happens to be symmetric; most vector functions' Jacobians are not.
    """

    name = "softmax"
    is_vector = True

    def forward(self, z, xp=np):
        z = _input(z, "z", xp)
        if xp is np and z.ndim == 0:
            raise ValueError("argument 'z' expected a vector (..., width) for softmax, got a scalar")
        e = xp.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def jacobian(self, z, y=None, xp=np):
        """``J[..., i, j] = dy_i/dz_j = y_i (delta_ij - y_j)``, shape ``(..., width, width)``."""
        y = self.forward(z, xp) if y is None else y
        return y[..., :, None] * (np.eye(y.shape[-1], dtype=int) - y[..., None, :])

    def backward(self, dy, z, y=None, xp=np):
        """``dDiv/dz = dDiv/dy @ J``, i.e. ``y_i (dy_i - sum_j dy_j y_j)``, without forming J."""
        z, dy = _input(z, "z", xp), _input(dy, "dy", xp)
        if xp is np:
            check_same_shape(z, "z", dy, "dy")
        y = self.forward(z, xp) if y is None else y
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))

    def derivative(self, z, y=None, xp=np):
        raise TypeError(
            "softmax is a vector activation: every z_i influences every y_j, so it has no "
            "elementwise derivative; use jacobian(z) or backward(dy, z)"
        )


def tempered_softmax(z, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(y, J)`` with y = softmax(z / T) (width n,) and ``J[i, j] = dy_i/dz_j = y_i (delta_ij - y_j) / T`` (n, n).

    T = 1 is the plain softmax; a large T flattens y towards uniform, a small T sharpens
    it towards the largest logit.  z: the logits (z_1, ..., z_n), one vector.
    """
    z = as_array(z, "z", ndim=1, meaning="the logits (z_1, ..., z_n), a vector")
    if z.size == 0:
        raise ValueError("argument 'z' expected at least one logit, got an empty vector")
    t = check_positive(temperature, "temperature", "the softmax temperature T (> 0)")
    u = z / t
    f = Softmax()
    y = f.forward(u)
    return y, f.jacobian(u, y) / t  # the chain rule through u = z / T: dy/dz = (dy/du) (1/T)


# -- the randomised leaky ReLU ----------------------------------------------------------------------------
class RandomizedLeakyReLU(LeakyReLU):
    """Leaky ReLU whose slope for z < 0 is random in training, fixed in evaluation (RReLU).

    y_j = z_j for z_j > 0, a_j z_j otherwise.  In training each unit j gets its own
    slope a_j ~ U(lower, upper), drawn by :meth:`draw` from an explicit Generator; for
    evaluation every unit uses the mean slope (lower + upper) / 2.  f'(z_j) = 1 for
    z_j > 0, a_j for z_j < 0; at z_j = 0 the library uses a_j, the negative side's
    slope (any value of [a_j, 1] is a subgradient).  ``slopes``: None (evaluation) or
    the drawn slopes, shape (width,), broadcast over the last axis of z (..., width).
    """

    name = "randomized_leaky_relu"
    kinks = (0.0,)

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, slopes=None):
        self.lower = check_in_interval(lower, "lower", 0.0, 1.0, "the smallest slope for z < 0")
        self.upper = check_in_interval(upper, "upper", self.lower, 1.0, "the largest slope for z < 0, >= lower")
        if slopes is not None:
            slopes = as_array(slopes, "slopes", ndim=1, meaning="(width,): one slope per unit")
            if ((slopes < self.lower) | (slopes > self.upper)).any():
                raise ValueError(f"argument 'slopes' expected slopes in [lower, upper] = [{self.lower:g}, "
                                 f"{self.upper:g}], got {slopes.min():g} to {slopes.max():g}")
        self.slopes = slopes

    @property
    def alpha(self):
        """Leaky ReLU's slope for z < 0: each unit's own (training), or the mean slope (evaluation)."""
        return self.mean_slope if self.slopes is None else self.slopes

    @property
    def subgradient_at_zero(self):
        """The stated slope at z = 0: the unit's negative-side slope a_j."""
        return self.alpha

    @property
    def mean_slope(self) -> float:
        """(lower + upper) / 2: the slope every unit uses in evaluation."""
        return (self.lower + self.upper) / 2

    @property
    def training(self) -> bool:
        return self.slopes is not None

    def draw(self, rng: np.random.Generator, width: int) -> "RandomizedLeakyReLU":
        """A training copy with slopes a_j ~ U(lower, upper) for the ``width`` units, drawn from ``rng``."""
        check_rng(rng, "the slopes are random")
        width = check_positive_int(width, "width")
        return RandomizedLeakyReLU(self.lower, self.upper, rng.uniform(self.lower, self.upper, size=width))

    def evaluation(self) -> "RandomizedLeakyReLU":
        """The evaluation copy: every unit at the mean slope."""
        return RandomizedLeakyReLU(self.lower, self.upper)

    def _width(self, z):
        if (self.slopes is not None and isinstance(z, np.ndarray) and z.dtype != object
                and (z.ndim == 0 or z.shape[-1] != self.slopes.shape[0])):
            raise ValueError(f"argument 'z' expected a last axis of width {self.slopes.shape[0]} (one per drawn "
                             f"slope), got shape {z.shape}")
        return z

    def forward(self, z, xp=np):
        return super().forward(self._width(_input(z, "z", xp)), xp)

    def derivative(self, z, y=None, xp=np):
        """1 where z > 0, the unit's slope a_j where z <= 0 (at 0: the stated subgradient a_j)."""
        return super().derivative(self._width(_input(z, "z", xp)), y, xp)

    def __eq__(self, other) -> bool:
        return (type(self) is type(other) and (self.lower, self.upper) == (other.lower, other.upper)
                and ((self.slopes is None and other.slopes is None)
                     or (self.slopes is not None and other.slopes is not None
                         and np.array_equal(self.slopes, other.slopes))))

    def __hash__(self) -> int:
        return hash((type(self), self.lower, self.upper, None if self.slopes is None else self.slopes.tobytes()))

    def __repr__(self) -> str:
        mode = "evaluation" if self.slopes is None else f"training, {self.slopes.shape[0]} drawn slopes"
        return f"RandomizedLeakyReLU(lower={self.lower:g}, upper={self.upper:g}; {mode})"


# -- max as a router -------------------------------------------------------------------------------------
def _vector(z, name, xp):
    z = _input(z, name, xp)
    if xp is np and z.ndim == 0:
        raise ValueError(f"argument '{name}' expected a vector (..., width) for max, got a scalar")
    return z


def max_forward(z, xp=np):
    """y = max_i z_i over the last axis: z (..., width) -> y (...)."""
    return _vector(z, "z", xp).max(axis=-1)


def max_routing(z, xp=np):
    """dy/dz for y = max_i z_i: 1 at the largest entry, 0 elsewhere; shape of z (..., width).

    Tie rule: among entries equal to the maximum, the first one gets the 1.
    """
    z = _vector(z, "z", xp)
    top = (z == z.max(axis=-1, keepdims=True)) * 1  # 1 at every entry that equals the maximum
    first = np.cumsum(top, axis=-1) == 1  # ... up to and including the first of them
    return top * first


def max_backward(dy, z, xp=np):
    """dDiv/dz = dDiv/dy * dy/dz: the upstream gradient routed to the largest z (first on a tie).

    dy: (...), one upstream value per max; z: (..., width); returns (..., width).
    """
    z = _vector(z, "z", xp)
    dy = _input(dy, "dy", xp)
    if xp is np and dy.shape != z.shape[:-1]:
        raise ValueError(f"argument 'dy' expected shape {z.shape[:-1]} (one value per row of z {z.shape}), "
                         f"got {dy.shape}")
    return dy[..., None] * max_routing(z, xp) + 0.0  # + 0.0: the entries that get nothing are 0, never -0


def _subsets(subsets, width: int) -> list[np.ndarray]:
    """Each subset as an array of input indices, checked: non-empty, within 0..width-1, no repeats."""
    if isinstance(subsets, (str, bytes)) or not hasattr(subsets, "__len__") or len(subsets) == 0:
        raise ValueError(f"argument 'subsets' expected a non-empty list of index lists (one per max unit), "
                         f"got {describe(subsets)}")
    out = []
    for m, subset in enumerate(subsets):
        arr = np.asarray(subset)
        if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
            raise ValueError(f"argument 'subsets' expected subset {m} to be a non-empty list of input indices, "
                             f"got {describe(subset)}")
        if arr.min() < 0 or arr.max() >= width or np.unique(arr).size != arr.size:
            raise ValueError(f"argument 'subsets' expected subset {m} to hold distinct indices in 0..{width - 1} "
                             f"(z has {width} inputs), got {arr.tolist()}")
        out.append(arr)
    return out


def max_pool_forward(z, subsets) -> np.ndarray:
    """y_m = max of z over subset m, for every max unit m: z (..., width_in) -> y (..., len(subsets)).

    ``subsets[m]`` lists the (0-based) inputs unit m looks at; subsets may overlap.
    """
    z = _vector(z, "z", np)
    return np.stack([max_forward(z[..., s]) for s in _subsets(subsets, z.shape[-1])], axis=-1)


def max_pool_backward(dy, z, subsets) -> np.ndarray:
    """dDiv/dz from dDiv/dy (..., len(subsets)): unit m routes dDiv/dy_m to the largest z of its subset
    (the first on a tie, as :func:`max_routing`); an input in several subsets adds up what each sends it.
    Returns (..., width_in).
    """
    z = _vector(z, "z", np)
    subsets = _subsets(subsets, z.shape[-1])
    dy = _input(dy, "dy", np)
    if dy.shape != z.shape[:-1] + (len(subsets),):
        raise ValueError(f"argument 'dy' expected shape {z.shape[:-1] + (len(subsets),)} (one value per max unit), "
                         f"got {dy.shape}")
    dz = np.zeros_like(z)
    for m, s in enumerate(subsets):
        dz[..., s] += max_backward(dy[..., m], z[..., s])
    return dz + 0.0


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
