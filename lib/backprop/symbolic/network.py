"""A small fully connected network in SymPy symbols: the backward rules derived (notebook 02).

Every quantity of the lecture's scalar network is an exact SymPy expression of the
inputs x = y(0), the targets d and the parameters w(k)_ij, b(k)_j:

    z(k)_j = sum_i w(k)_ij y(k-1)_i + b(k)_j,    y(k)_j = f_k(z(k)_j),    Div = Div(y(N), d).

The activations are either *generic* (undefined functions f_1, ..., f_N, so what
is derived holds for every scalar activation) or the library's own rules run on
SymPy symbols (``"sigmoid"``, ``"tanh"``...).

:meth:`SymbolicNetwork.derivative` is the ground truth: ``sympy.diff`` of the whole
Div.  For a parameter that is the plain partial derivative; for an intermediate
variable v (a z(k)_j or y(k)_j) Div is rebuilt with v replaced by v + eps and
differentiated in eps at 0 (how much Div moves when only v is nudged).  The
backward pass's four rules are then identities between these derivatives, and
:meth:`SymbolicNetwork.backward_rules` checks every instance of them exactly.

Indices follow :class:`~backprop.scalar_net.ScalarNetwork`: layers k = 1..N as in
the lecture, units i, j from 0 in Python (``w[k][i][j]``); the symbols' printed
names count units from 1, as the lecture does (``w[2][0][1]`` prints as w^{(2)}_{12}).
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import sympy as sp

from ..core.activations import get_activation
from ..core.checks import check_positive_int, describe
from ..core.divergences import get_divergence
from ..core.gradcheck import subscript
from ..core.scalar_net import ScalarNetwork
from .ops import SYMPY_OPS, RuleCheck, sym_array

__all__ = ["SymbolicNetwork"]

_KINDS = ("w", "b", "z", "y")


class SymbolicNetwork:
    """The scalar network of the lecture written in SymPy symbols.

    ``widths`` = (width_0, ..., width_N); ``activations`` is None (generic f_k) or
    one name / Activation per layer (scalar activations only); ``divergence`` a
    name such as ``"half_squared_error"``.

    Attributes: ``x[i]``, ``d[i]``, ``w[k][i][j]``, ``b[k][j]`` (Symbols);
    ``z[k][j]``, ``y[k][j]`` and ``Div`` (expressions in those symbols);
    ``names`` maps ``("z", k, j)`` / ``("y", k, j)`` to the Symbol that stands for
    the variable in readable formulas.
    """

    def __init__(self, widths: Sequence[int], activations=None, divergence="half_squared_error"):
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) < 2:
            raise ValueError(f"argument 'widths' expected (width_0, ..., width_N) with N >= 1, got {describe(widths)}")
        self.widths = [check_positive_int(v, f"widths[{i}]") for i, v in enumerate(widths)]
        self.N = N = len(self.widths) - 1
        self.divergence = get_divergence(divergence)
        self.generic = activations is None
        if self.generic:
            self.f = [None] + [sp.Function(f"f_{{{k}}}") for k in range(1, N + 1)]
            self._fprime = [None] + [sp.Function(rf"f^{{\prime}}_{{{k}}}") for k in range(1, N + 1)]
        else:
            if isinstance(activations, (str, bytes)) or not hasattr(activations, "__len__"):
                activations = [activations] * N
            if len(activations) != N:
                raise ValueError(f"argument 'activations' expected {N} activations (one per layer k = 1..{N}), "
                                 f"got {len(activations)}")
            acts = [get_activation(a) for a in activations]
            for k, a in enumerate(acts, start=1):
                if a.is_vector:
                    raise ValueError(f"argument 'activations' expected scalar activations, got {a.name} for layer {k}")
            self.f = [None] + [(lambda t, a=a: a.forward(t, xp=SYMPY_OPS)) for a in acts]
        self.activations = None if self.generic else acts
        real = dict(real=True)
        self.x = [sp.Symbol(f"x_{{{subscript(i)}}}", **real) for i in range(self.widths[0])]
        self.d = [sp.Symbol(f"d_{{{subscript(i)}}}", **real) for i in range(self.widths[N])]
        self.w = [None] + [[[sp.Symbol(f"w^{{({k})}}_{{{subscript(i, j)}}}", **real) for j in range(self.widths[k])]
                            for i in range(self.widths[k - 1])] for k in range(1, N + 1)]
        self.b = [None] + [[sp.Symbol(f"b^{{({k})}}_{{{subscript(j)}}}", **real) for j in range(self.widths[k])]
                           for k in range(1, N + 1)]
        self.names = {(v, k, j): sp.Symbol(f"{v}^{{({k})}}_{{{subscript(j)}}}", **real)
                      for k in range(1, N + 1) for j in range(self.widths[k]) for v in ("z", "y")}
        self._eps = sp.Symbol("epsilon", real=True)
        self.z, self.y, self.Div = self._forward()

    # -- the forward pass in symbols -------------------------------------------------------
    def _forward(self, shift=None):
        """z, y and Div; ``shift`` = ("z" | "y", k, j) adds eps to that one variable."""
        y, z = [list(self.x)], [None]
        for k in range(1, self.N + 1):
            zk = [sum((self.w[k][i][j] * y[k - 1][i] for i in range(self.widths[k - 1])), sp.Integer(0))
                  + self.b[k][j] for j in range(self.widths[k])]
            if shift is not None and shift[:2] == ("z", k):
                zk[shift[2]] += self._eps
            yk = [self.f[k](v) for v in zk]
            if shift is not None and shift[:2] == ("y", k):
                yk[shift[2]] += self._eps
            z.append(zk)
            y.append(yk)
        Div = self.divergence.rule(sym_array(y[self.N]), sym_array(self.d), xp=SYMPY_OPS)[0]
        return z, y, sp.sympify(np.asarray(Div).item())  # the value for one instance: a 0-d array

    def _check_key(self, kind, k, *idx):
        if kind not in _KINDS:
            raise ValueError(f"argument 'kind' expected one of {list(_KINDS)}, got {kind!r}")
        need = 2 if kind == "w" else 1
        if len(idx) != need:
            raise ValueError(f"'{kind}' expected {need} unit index(es) after k, got {len(idx)}")
        low = 0 if kind == "y" else 1
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not low <= k <= self.N:
            raise ValueError(f"argument 'k' expected a layer in {low}..{self.N} for '{kind}', got {k!r}")
        sizes = (self.widths[k - 1], self.widths[k]) if kind == "w" else (self.widths[k],)
        for n, (i, size) in enumerate(zip(idx, sizes)):
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < size:
                raise ValueError(f"unit index {n + 1} of '{kind}({k})' expected 0..{size - 1}, got {i!r}")

    def symbol(self, kind: str, k: int, *idx: int) -> sp.Symbol:
        """The Symbol of a parameter (``"w", k, i, j`` / ``"b", k, j``) or variable (``"z"``/``"y", k, j``)."""
        self._check_key(kind, k, *idx)
        if kind == "w":
            return self.w[k][idx[0]][idx[1]]
        if kind == "b":
            return self.b[k][idx[0]]
        if kind == "y" and k == 0:
            return self.x[idx[0]]
        return self.names[(kind, k, idx[0])]

    # -- the ground truth ---------------------------------------------------------------
    def derivative(self, kind: str, k: int, *idx: int) -> sp.Expr:
        """dDiv/d(one quantity) by ``sympy.diff``, in the inputs, weights and biases.

        ``derivative("w", k, i, j)`` = dDiv/dw(k)_ij, ``("b", k, j)``, ``("z", k, j)``,
        ``("y", k, j)`` (k = 0 is the input x_j).  For z and y the variable alone is
        nudged by eps and Div is differentiated in eps at 0.
        """
        self._check_key(kind, k, *idx)
        if kind in ("w", "b") or (kind == "y" and k == 0):
            return sp.diff(self.Div, self.symbol(kind, k, *idx))
        _, _, Div = self._forward((kind, k, idx[0]))
        return sp.diff(Div, self._eps).subs(self._eps, 0).doit()

    def derivative_latex(self, kind: str, k: int, *idx: int) -> str:
        """LaTeX of ``dDiv/d(quantity) = `` its :meth:`readable` :meth:`derivative`, for display."""
        expr = self.readable(self.derivative(kind, k, *idx))
        return rf"\frac{{\partial Div}}{{\partial {sp.latex(self.symbol(kind, k, *idx))}}} = {sp.latex(expr)}"

    def activation_derivative(self, k: int, j: int) -> sp.Expr:
        """f_k'(z(k)_j), in the inputs, weights and biases."""
        self._check_key("z", k, j)
        t = sp.Dummy("t", real=True)
        return sp.diff(self.f[k](t), t).subs(t, self.z[k][j]).doit()

    def readable(self, expr) -> sp.Expr:
        """``expr`` rewritten in the network's variables z(k)_j, y(k)_j and f_k'(z(k)_j).

        With generic activations every derivative of f_k becomes f_k'(.), and every
        affine sum and activation is replaced by its name, innermost first.
        """
        expr = sp.sympify(expr)
        if self.generic:
            for k in range(1, self.N + 1):
                f, fp = self.f[k], self._fprime[k]
                expr = expr.replace(
                    lambda e: isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative) and e.expr.expr.func == f,
                    lambda e: fp(e.point[0]))
                expr = expr.replace(
                    lambda e: isinstance(e, sp.Derivative) and e.expr.func == f and len(e.variables) == 1,
                    lambda e: fp(e.variables[0]))
        prev = list(self.x)
        for k in range(1, self.N + 1):
            ys = []
            for j in range(self.widths[k]):
                zsym, ysym = self.names[("z", k, j)], self.names[("y", k, j)]
                affine = sum((self.w[k][i][j] * prev[i] for i in range(self.widths[k - 1])), sp.Integer(0)) + self.b[k][j]
                # subs, not xreplace: the sum may sit inside a larger one (y - d with a linear output)
                expr = expr.subs(affine, zsym)
                expr = expr.xreplace({self.f[k](zsym): ysym})
                ys.append(ysym)
            prev = ys
        return expr

    # -- the backward rules, every instance ----------------------------------------------
    def backward_rules(self) -> list[RuleCheck]:
        """Each line of the backward pass, for every layer and unit, against ``sympy.diff``.

        Lines (k from N down to 1):
        ``dDiv/dy(N)_i`` = the divergence's derivative at y(N);
        ``dDiv/dz(k)_i = f_k'(z(k)_i) dDiv/dy(k)_i``;
        ``dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j`` and ``dDiv/db(k)_j = dDiv/dz(k)_j``;
        ``dDiv/dy(k-1)_i = sum_j w(k)_ij dDiv/dz(k)_j`` (k > 1).
        Each check's ``library`` is the rule's right-hand side, ``sympy`` the
        ground truth (both :meth:`readable`); ``ok`` when their difference expands
        to 0.  Needs generic activations: the rules are identities for every f_k.
        """
        if not self.generic:
            raise ValueError("backward_rules() needs a network with generic activations "
                             "(SymbolicNetwork(widths) or SymbolicNetwork.like(net, generic=True)): "
                             "the rules hold for every f_k, and concrete ones only slow the algebra down")
        N, checks = self.N, []
        out = self.divergence.rule(sym_array(self.y[N]), sym_array(self.d), xp=SYMPY_OPS)[1]
        dz = {}
        for i in range(self.widths[N]):
            checks.append(self._check(f"dDiv/dy({N})_{i + 1}", "dDiv/dy(N)_i = the divergence's derivative",
                                      out[i], self.derivative("y", N, i)))
        for k in range(N, 0, -1):
            for i in range(self.widths[k]):
                dz[i] = self.derivative("z", k, i)
                checks.append(self._check(f"dDiv/dz({k})_{i + 1}", "dDiv/dz(k)_i = f_k'(z(k)_i) dDiv/dy(k)_i",
                                          self.activation_derivative(k, i) * self.derivative("y", k, i), dz[i]))
            for j in range(self.widths[k]):
                for i in range(self.widths[k - 1]):
                    checks.append(self._check(
                        f"dDiv/dw({k})_{subscript(i, j)}", "dDiv/dw(k)_ij = y(k-1)_i dDiv/dz(k)_j",
                        self.y[k - 1][i] * dz[j], self.derivative("w", k, i, j)))
                checks.append(self._check(f"dDiv/db({k})_{j + 1}", "dDiv/db(k)_j = dDiv/dz(k)_j",
                                          dz[j], self.derivative("b", k, j)))
            if k > 1:
                for i in range(self.widths[k - 1]):
                    checks.append(self._check(
                        f"dDiv/dy({k - 1})_{i + 1}", "dDiv/dy(k-1)_i = sum_j w(k)_ij dDiv/dz(k)_j",
                        sum(self.w[k][i][j] * dz[j] for j in range(self.widths[k])), self.derivative("y", k - 1, i)))
        return checks

    def _check(self, rule, statement, library, reference) -> RuleCheck:
        difference = sp.expand(library - reference)
        return RuleCheck(rule, statement, self.readable(library), self.readable(reference), difference,
                         difference == 0)

    # -- numbers --------------------------------------------------------------------------
    def values(self, net, x, d) -> dict:
        """``{symbol: number}`` for every input, target and parameter, from a ScalarNetwork.

        ``net`` must have this network's widths; x (width_0,), d (width_N,).
        """
        if not isinstance(net, ScalarNetwork):
            raise TypeError(f"argument 'net' expected a ScalarNetwork, got {describe(net)}")
        if net.widths != self.widths:
            raise ValueError(f"argument 'net' expected widths {self.widths}, got {net.widths}")
        x, d = np.asarray(x, dtype=float).ravel(), np.asarray(d, dtype=float).ravel()
        if x.shape != (self.widths[0],) or d.shape != (self.widths[-1],):
            raise ValueError(f"arguments 'x', 'd' expected shapes ({self.widths[0]},) and ({self.widths[-1]},), "
                             f"got {x.shape} and {d.shape}")
        out = {s: float(v) for s, v in zip(self.x, x)}
        out.update({s: float(v) for s, v in zip(self.d, d)})
        for k in range(1, self.N + 1):
            out.update({self.b[k][j]: float(net.b[k][j]) for j in range(self.widths[k])})
            out.update({self.w[k][i][j]: float(net.w[k][i][j])
                        for i in range(self.widths[k - 1]) for j in range(self.widths[k])})
        return out

    def evaluate(self, expr, values) -> float:
        """The number ``expr`` takes at ``values`` (from :meth:`values`), to 30 digits then float."""
        at = {k: sp.Float(v, 30) for k, v in values.items()}
        expr = sp.sympify(expr).xreplace(at)
        if expr.free_symbols:
            raise ValueError(f"argument 'values' expected a number for every symbol, missing "
                             f"{sorted(map(str, expr.free_symbols))}")
        return float(sp.N(expr, 30))

    def gradients_at(self, values) -> dict[str, np.ndarray]:
        """dDiv/dW(k) and dDiv/db(k) by ``sympy.diff``, at ``values``, in vector form.

        Shapes as :meth:`ScalarNetwork.parameters`: ``"W(k)"`` (width_k, width_(k-1)),
        entry [j, i] = dDiv/dw(k)_ij; ``"b(k)"`` (width_k,).
        """
        out = {}
        for k in range(1, self.N + 1):
            out[f"W({k})"] = np.array([[self.evaluate(self.derivative("w", k, i, j), values)
                                        for i in range(self.widths[k - 1])] for j in range(self.widths[k])])
            out[f"b({k})"] = np.array([self.evaluate(self.derivative("b", k, j), values)
                                       for j in range(self.widths[k])])
        return out

    @classmethod
    def like(cls, net, generic: bool = False) -> "SymbolicNetwork":
        """The symbolic twin of a ScalarNetwork: same widths, activations and divergence."""
        if not isinstance(net, ScalarNetwork):
            raise TypeError(f"argument 'net' expected a ScalarNetwork, got {describe(net)}")
        return cls(net.widths, None if generic else net.f[1:], net.divergence)

    def __repr__(self) -> str:
        acts = "generic f_k" if self.generic else [a.name for a in self.activations]
        return f"SymbolicNetwork(widths={self.widths}, activations={acts}, divergence={self.divergence.name!r})"
