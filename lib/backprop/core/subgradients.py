"""Where the derivative does not exist: subgradients, the randomised leaky ReLU, max as a router.

ReLU, leaky ReLU and max have corners.  At a corner there is no derivative, but
there are *subgradients*: slopes s of lines through the corner that stay on or
under the function everywhere.  For a function that is z on the right of 0 and
alpha z on the left (ReLU: alpha = 0), the line s z stays under it exactly when
alpha <= s <= 1, so every slope of [alpha, 1] is a valid choice at z = 0 and
backpropagation may use any of them (the library states its choice).

* :func:`subgradient_verdict` -- is the line through the kink with slope s under
  the (leaky) ReLU everywhere?  Exact, not sampled: a line that rises above a
  piecewise-linear function does so on a whole side.
* :class:`RandomizedLeakyReLU` -- leaky ReLU whose negative-side slope is drawn per
  unit from U(lower, upper) in training (:meth:`~RandomizedLeakyReLU.draw`, with an
  explicit ``numpy.random.Generator``) and fixed at the mean slope for evaluation.
* :func:`max_forward`, :func:`max_routing`, :func:`max_backward` -- y = max_i z_i
  over the last axis; its derivative routes: 1 for the largest input, 0 for the
  others.  **Tie rule:** when several inputs share the largest value, the whole
  gradient goes to the first of them (as the graph's ``maximum`` gate does); any
  non-negative weights on the tied inputs summing to 1 would be a valid subgradient.
* :func:`max_pool_forward`, :func:`max_pool_backward` -- a layer of max units, each over its own
  subset of the inputs (max pooling): every unit routes its upstream gradient to the
  largest input of its subset, and an input shared by several subsets adds up what it gets.
* :func:`straddles_kink` -- which entries a central difference of step h cannot
  judge: those whose interval [z - h, z + h] holds a kink.
* :func:`kink_census` -- how often a ReLU network meets its kink exactly (z == 0)
  versus how many of its units are dead (z <= 0 for every instance).

Rules are written with arithmetic, comparisons and ``xp`` (numpy by default), so
:mod:`backprop.symbolic.subgradients` runs the same lines on SymPy symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Activation, ReLU, _input
from .checks import as_array, check_in_interval, check_positive_int, check_real, check_rng, describe

__all__ = [
    "SubgradientVerdict",
    "subgradient_verdict",
    "line_gap",
    "RandomizedLeakyReLU",
    "max_forward",
    "max_routing",
    "max_backward",
    "max_pool_forward",
    "max_pool_backward",
    "straddles_kink",
    "KinkCensus",
    "kink_census",
]


# -- the subgradient of a (leaky) ReLU at its kink ----------------------------------------------------------
def _function_name(alpha: float) -> str:
    return "ReLU" if alpha == 0 else f"leaky ReLU (alpha = {alpha:g})"


def line_gap(slope, z, alpha: float = 0.0) -> np.ndarray:
    """f(z) - s z for f the leaky ReLU with negative slope ``alpha`` (ReLU: 0); shape of ``z``.

    Negative where the line through the kink (0, 0) with slope s rises above f.
    """
    s = check_real(slope, "slope")
    alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
    z = as_array(z, "z")
    return np.where(z > 0, z, alpha * z) - s * z


@dataclass(frozen=True)
class SubgradientVerdict:
    """Whether the line s z through the kink stays under f; if not, a point where it rises above.

    ``valid``: alpha <= s <= 1; ``low``, ``high``: that interval; ``side``: ``"right"``
    (z > 0, s > 1), ``"left"`` (z < 0, s < alpha) or ``""`` when valid; ``witness_z``:
    a point where the line is above f (z = 1 or z = -1), ``gap`` = f(z) - s z there (< 0).
    """

    slope: float
    alpha: float
    valid: bool
    low: float
    high: float
    side: str
    witness_z: float | None
    gap: float | None

    @property
    def message(self) -> str:
        """One sentence: the verdict and why."""
        f = _function_name(self.alpha)
        s = f"{self.slope:.4g}"
        if self.valid:
            return (f"slope {s} is a subgradient of the {f} at 0: the line {s} z stays on or under it "
                    f"everywhere (any slope from {self.low:g} to {self.high:g} does).")
        z = self.witness_z
        above = self.slope * z
        value = (z if z > 0 else self.alpha * z) + 0.0  # + 0.0: no "-0"
        where = "z > 0" if self.side == "right" else "z < 0"
        return (f"slope {s} is not a subgradient of the {f} at 0: for {where} the line rises above it "
                f"(at z = {z:g} the line is {above:.4g}, the {f.split(' (')[0]} {value:.4g}); valid slopes run "
                f"from {self.low:g} to {self.high:g}.")

    def __str__(self) -> str:
        return self.message


def subgradient_verdict(slope, alpha: float = 0.0) -> SubgradientVerdict:
    """Is s a subgradient at 0 of f(z) = z (z > 0), alpha z (z <= 0)?  ReLU: alpha = 0.

    The gap f(z) - s z is (1 - s) z on the right and (alpha - s) z on the left, so the
    line stays under f on the right iff s <= 1 and on the left iff s >= alpha: the
    verdict is exact, for every z at once.
    """
    s = check_real(slope, "slope")
    alpha = check_in_interval(alpha, "alpha", 0.0, 1.0, "the slope for z < 0")
    if s > 1:
        side, z = "right", 1.0
    elif s < alpha:
        side, z = "left", -1.0
    else:
        return SubgradientVerdict(s, alpha, True, alpha, 1.0, "", None, None)
    return SubgradientVerdict(s, alpha, False, alpha, 1.0, side, z, float(line_gap(s, z, alpha)))


# -- the randomised leaky ReLU ----------------------------------------------------------------------------
class RandomizedLeakyReLU(Activation):
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

    def _negative_slope(self, z):
        if self.slopes is None:
            return self.mean_slope
        if isinstance(z, np.ndarray) and z.dtype != object and (z.ndim == 0 or z.shape[-1] != self.slopes.shape[0]):
            raise ValueError(f"argument 'z' expected a last axis of width {self.slopes.shape[0]} (one per drawn "
                             f"slope), got shape {z.shape}")
        return self.slopes

    def forward(self, z, xp=np):
        z = _input(z, "z", xp)
        return xp.where(z > 0, z, self._negative_slope(z) * z)

    def derivative(self, z, y=None, xp=np):
        """1 where z > 0, the unit's slope a_j where z <= 0 (at 0: the stated subgradient a_j)."""
        z = _input(z, "z", xp)
        a = self._negative_slope(z)
        return (z > 0).astype(z.dtype) + a * (z <= 0)

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


# -- central differences at a kink -------------------------------------------------------------------------
def straddles_kink(z, kinks, h: float) -> np.ndarray:
    """True where [z - h, z + h] holds a kink: the central difference (f(z + h) - f(z - h)) / 2h
    mixes the two slopes there and cannot judge a derivative.  z: any shape; kinks: points."""
    z = as_array(z, "z")
    h = check_real(h, "h")
    if not h > 0:
        raise ValueError(f"argument 'h' expected a positive step, got {h:g}")
    kinks = as_array(kinks, "kinks", ndim=1, meaning="(K,): the points where f has a corner")
    near = np.zeros(z.shape, dtype=bool)
    for k in kinks:
        near |= np.abs(z - k) <= h
    return near


# -- how often is the kink hit? ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KinkCensus:
    """Per ReLU layer y(k): how many z(k) entries are exactly 0, how many units are dead.

    ``exact_zeros[name]``: the number of pre-activations z == 0.0 over all rows and units;
    ``entries[name]``: rows x units; ``dead[name]``: units with z <= 0 for every row;
    ``units[name]``: the layer's width.
    """

    exact_zeros: dict
    entries: dict
    dead: dict
    units: dict

    def totals(self) -> tuple[int, int, int, int]:
        """(exact zeros, entries, dead units, units) over every ReLU layer."""
        return (sum(self.exact_zeros.values()), sum(self.entries.values()), sum(self.dead.values()),
                sum(self.units.values()))


def kink_census(net, X) -> KinkCensus:
    """Count exact kink hits (z == 0) and dead units (z <= 0 on every row of X) in ``net``'s ReLU layers.

    X: (B, width_0).  Only layers whose activation is exactly a ReLU are counted.
    """
    from .layers import ActivationLayer, Affine

    if not hasattr(net, "layers") or not hasattr(net, "check_input"):
        raise TypeError(f"argument 'net' expected a Network, got {describe(net)}")
    X = net.check_input(X)
    zeros, entries, dead, units = {}, {}, {}, {}
    k, out = 0, X
    for layer in net.layers:
        if isinstance(layer, Affine):
            k += 1
        if isinstance(layer, ActivationLayer) and type(layer.activation) is ReLU:
            name = f"y({k})"
            zeros[name] = int(np.count_nonzero(out == 0.0))
            entries[name] = int(out.size)
            dead[name] = int(np.count_nonzero(~(out > 0).any(axis=0)))
            units[name] = int(out.shape[1])
        out, _ = layer.forward(out)
    return KinkCensus(zeros, entries, dead, units)
