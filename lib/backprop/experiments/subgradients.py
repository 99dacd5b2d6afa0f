"""Notebook 04's experiments at the corners: the subgradient verdict, and how often training meets a kink.

The rules themselves live in :mod:`backprop.core`: leaky ReLU and its randomised
variant, max as a router with its tie rule and max over subsets (pooling) in
:mod:`~backprop.core.activations`, and which entries a central difference cannot
judge in :mod:`~backprop.core.gradcheck`.  This module asks questions of them:

* :func:`subgradient_verdict` -- is the line through the kink with slope s under the
  (leaky) ReLU everywhere?  A line s z stays under a function that is z on the right
  of 0 and alpha z on the left exactly when alpha <= s <= 1: the verdict is exact,
  for every z at once, not sampled;
* :func:`line_gap` -- how far the function lies above the line, point by point;
* :func:`kink_census` -- how often a ReLU network meets its kink exactly (z == 0)
  versus how many of its units are dead (z <= 0 for every instance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.activations import LeakyReLU
from ..core.checks import as_array, check_in_interval, check_real, describe
from ..core.network import Network
from ..core.training import dead_relu_units, relu_inputs

__all__ = ["SubgradientVerdict", "subgradient_verdict", "line_gap", "KinkCensus", "kink_census"]


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
    return LeakyReLU(alpha).forward(z) - s * z


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
        value = float(LeakyReLU(self.alpha).forward(z)) + 0.0  # + 0.0: no "-0"
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

    X: (B, width_0).  Only ReLU layers are counted (a leaky ReLU's unit is never dead).
    """
    if not isinstance(net, Network):
        raise TypeError(f"argument 'net' expected a Network, got {describe(net)}")
    caches = net.forward(X)[1]
    inputs, dead_units = relu_inputs(net, caches), dead_relu_units(net, caches)
    zeros = {name: int(np.count_nonzero(z == 0.0)) for name, z in inputs.items()}
    entries = {name: int(z.size) for name, z in inputs.items()}
    dead = {name: int(np.count_nonzero(units)) for name, units in dead_units.items()}
    units = {name: int(z.shape[1]) for name, z in inputs.items()}
    return KinkCensus(zeros, entries, dead, units)
