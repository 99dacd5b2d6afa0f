"""The SymPy witnesses of the subgradients' rules (:mod:`backprop.core.activations`, :mod:`backprop.experiments.subgradients`): the same lines, run on symbols.

* ``randomized_leaky_relu``: forward equals the textbook function with a symbolic slope
  a_j per unit, derivative equals ``sympy.diff`` on each side of 0, and at 0 the
  stated subgradient a_j lies in [a_j, 1];
* ``max_backward``: on every region where one input is the largest, the routed
  gradient equals ``sympy.diff`` of g * Max(z_1, z_2, z_3);
* ``max_tie``: where inputs tie for the largest, the routing is a valid subgradient
  (non-negative weights on the tied inputs, summing to 1, 0 elsewhere) and follows
  the stated rule (the first tied input);
* ``subgradient_interval``: the slopes s for which f(z) - s z >= 0 for every z,
  solved by SymPy, are [alpha, 1], the interval :func:`subgradient_verdict` uses.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

from ..core import activations as A
from ..experiments import subgradients as S
from .ops import SYMPY_OPS as X
from .ops import RuleCheck, compare, regions, sym_array, symbols_array

__all__ = ["SUBGRADIENT_RULES", "verify_subgradient", "verify_subgradients"]

_p = sp.Symbol("p", positive=True)


def _randomized_leaky_relu() -> RuleCheck:
    zs = symbols_array("z", 2, real=True)
    a = symbols_array("a", 2, positive=True)
    act = A.RandomizedLeakyReLU(0.0, 1.0)
    act.slopes = a  # symbolic slopes a_1, a_2 in place of the numbers draw() gives
    on = regions({zs[0]: (_p, -_p), zs[1]: (_p, -_p)})
    reference = [sp.Piecewise((v, v > 0), (aj * v, True)) for v, aj in zip(zs, a)]
    forward = compare("randomized_leaky_relu", "forward: z_j for z_j > 0, a_j z_j otherwise",
                      act.forward(zs, xp=X), reference, on)
    if not forward.ok:
        return forward
    slope = compare("randomized_leaky_relu", "f'(z_j) = 1 for z_j > 0, a_j for z_j < 0",
                    act.derivative(zs, xp=X), [sp.diff(r, v) for r, v in zip(reference, zs)], on)
    if not slope.ok:
        return slope
    return compare("randomized_leaky_relu", "f'(z_j) = 1 for z_j > 0, a_j for z_j < 0; a_j at z_j = 0",
                   act.derivative(zs, xp=X), list(a), [{zs[0]: 0, zs[1]: 0}])


def _ordered(zs):
    """Regions where each entry in turn is strictly the largest, the others below it by p, 2p, ...
    (gaps SymPy can order, so that the Max inside sympy.diff's Heaviside resolves)."""
    out = []
    for top in range(len(zs)):
        gaps = iter(n * _p for n in range(1, len(zs)))
        out.append({zs[i]: zs[top] - next(gaps) for i in range(len(zs)) if i != top})
    return out


def _max_backward() -> RuleCheck:
    zs = symbols_array("z", 3, real=True)
    g = sp.Symbol("g", real=True)
    y = sp.Max(*zs)
    reference = [sp.diff(g * y, v) for v in zs]
    library = A.max_backward(sym_array(g), zs, xp=X)
    forward = compare("max_forward", "y = max_i z_i", sym_array([A.max_forward(zs, xp=X)]), [y], _ordered(zs))
    if not forward.ok:
        return forward
    return compare("max_backward", "dDiv/dz_i = dDiv/dy for the largest z_i, 0 for the others", library, reference,
                   _ordered(zs))


#: tie patterns of three inputs: which are tied for the largest
_TIES = ((0, 1), (0, 2), (1, 2), (0, 1, 2))


def _max_tie() -> RuleCheck:
    zs = symbols_array("z", 3, real=True)
    top = sp.Symbol("t", real=True)
    results, expected = [], []
    for tied in _TIES:
        region = {zs[i]: (top if i in tied else top - _p) for i in range(3)}
        routing = [sp.simplify(sp.sympify(v).subs(region)) for v in A.max_routing(zs, xp=X)]
        valid = (all(r.is_nonnegative for r in routing) and sp.simplify(sum(routing) - 1) == 0
                 and all(routing[i] == 0 for i in range(3) if i not in tied))
        results.append(sp.Integer(int(valid)) * sp.Matrix([routing]))
        expected.append(sp.Matrix([[1 if i == tied[0] else 0 for i in range(3)]]))
    ok = all(sp.simplify(r - e) == sp.zeros(1, 3) for r, e in zip(results, expected))
    return RuleCheck("max_tie", "on a tie: weights >= 0 on the tied inputs, summing to 1 (all on the first)",
                     results, expected, [r - e for r, e in zip(results, expected)], ok)


def _subgradient_interval(name: str, alpha) -> Callable[[], RuleCheck]:
    def check():
        s, z = sp.Symbol("s", real=True), sp.Symbol("z", real=True)
        a = sp.nsimplify(alpha)
        f = sp.Piecewise((z, z > 0), (a * z, True))
        # f(z) - s z >= 0 on each ray: divide by |z| = p > 0, which keeps the inequality
        right = sp.solveset(sp.simplify((f - s * z).subs(z, _p) / _p) >= 0, s, sp.S.Reals)
        left = sp.solveset(sp.simplify((f - s * z).subs(z, -_p) / _p) >= 0, s, sp.S.Reals)
        interval = sp.Intersection(right, left)
        verdict = S.subgradient_verdict(0.5 * (float(a) + 1), float(a))  # any slope: low and high are the same
        library = sp.Interval(sp.nsimplify(verdict.low), sp.nsimplify(verdict.high))
        grid = [a - sp.Rational(1, 100), a, (a + 1) / 2, 1, sp.Rational(101, 100)]
        agree = all(S.subgradient_verdict(float(v), float(a)).valid == bool(interval.contains(v)) for v in grid)
        return RuleCheck(name, f"s z <= f(z) for all z iff s in [{alpha:g}, 1]",
                         library, interval, sp.Integer(0) if library == interval and agree else library,
                         library == interval and agree)
    return check


SUBGRADIENT_RULES: dict[str, Callable[[], RuleCheck]] = {
    "randomized_leaky_relu": _randomized_leaky_relu,
    "max_backward": _max_backward,
    "max_tie": _max_tie,
    "subgradient_interval_relu": _subgradient_interval("subgradient_interval_relu", 0.0),
    "subgradient_interval_leaky_relu": _subgradient_interval("subgradient_interval_leaky_relu", 0.1),
}


def verify_subgradient(name: str) -> RuleCheck:
    """One witness of :data:`SUBGRADIENT_RULES` by name."""
    if name not in SUBGRADIENT_RULES:
        raise ValueError(f"argument 'name' expected one of {sorted(SUBGRADIENT_RULES)}, got {name!r}")
    return SUBGRADIENT_RULES[name]()


def verify_subgradients() -> list[RuleCheck]:
    """Every witness of this module."""
    return [rule() for rule in SUBGRADIENT_RULES.values()]
