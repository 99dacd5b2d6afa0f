"""Symbolic verification: every derivative rule in the library against SymPy.

Each rule in the library (an activation's derivative, a divergence's derivative,
a layer's backward, a gate's local gradient) is written with arithmetic and an
``xp`` namespace.  Here the *same code* runs on SymPy symbols through
:data:`SYMPY_OPS`, and the result is compared with ``sympy.diff`` of the
function it differentiates: the difference must simplify to 0.  Piecewise rules
(ReLU, max) are compared on each side of their kink.

    >>> import backprop.symbolic as sym
    >>> sym.verify("sigmoid").ok
    True
    >>> [c.rule for c in sym.verify_all() if not c.ok]
    []
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import sympy as sp

from . import activations as A
from . import divergences as D
from . import layers as L

__all__ = ["SYMPY_OPS", "RuleCheck", "RULES", "verify", "verify_all", "derivation", "symbols_array"]


# -- a namespace that makes the library's rules symbolic ---------------------------------
def _elementwise(f):
    ufunc = np.frompyfunc(f, 1, 1)

    def apply(x):
        return ufunc(x) if isinstance(x, np.ndarray) else f(x)

    return apply


def _piecewise(cond, a, b):
    cond = sp.sympify(cond)
    if cond is sp.true:
        return a
    if cond is sp.false:
        return b
    return sp.Piecewise((a, cond), (b, True))


class _SympyOps:
    """The subset of numpy the library's rules use, acting on SymPy objects."""

    exp = staticmethod(_elementwise(sp.exp))
    log = staticmethod(_elementwise(sp.log))
    tanh = staticmethod(_elementwise(sp.tanh))

    @staticmethod
    def where(cond, a, b):
        if any(isinstance(v, np.ndarray) for v in (cond, a, b)):
            return np.frompyfunc(_piecewise, 3, 1)(cond, a, b)
        return _piecewise(cond, a, b)

    @staticmethod
    def maximum(a, b):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.frompyfunc(sp.Max, 2, 1)(a, b)
        return sp.Max(a, b)


SYMPY_OPS = _SympyOps()


def symbols_array(prefix: str, shape, **assumptions) -> np.ndarray:
    """An object array of SymPy symbols ``prefix_i`` / ``prefix_ij`` of the given shape."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(f"{prefix}_{''.join(str(i + 1) for i in idx)}", **assumptions)
    return out


# -- the comparison -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleCheck:
    """The library's rule and SymPy's derivative, entry by entry, and whether they agree."""

    rule: str
    statement: str
    library: Any
    sympy: Any
    difference: Any
    ok: bool

    def __str__(self) -> str:
        verdict = "verified" if self.ok else f"FAILS, library minus sympy = {self.difference}"
        return f"{self.rule}: {self.statement}: {verdict}"


def _flat(x):
    if isinstance(x, np.ndarray):
        return [sp.sympify(v) for v in x.ravel()]
    if isinstance(x, (list, tuple)):
        return [sp.sympify(v) for v in x]
    return [sp.sympify(x)]


def _compare(rule, statement, library, reference, regions=({},)) -> RuleCheck:
    """Simplify ``library - reference`` entry by entry on every region (a substitution)."""
    lib, ref = _flat(library), _flat(reference)
    if len(lib) != len(ref):
        raise ValueError(f"rule {rule}: the library gave {len(lib)} entries, sympy {len(ref)}")
    diffs = []
    for a, b in zip(lib, ref):
        worst = sp.Integer(0)
        for region in regions:
            d = sp.simplify(sp.nsimplify((a - b).subs(region), rational=True))
            if d != 0:
                worst = d
        diffs.append(worst)
    shape = np.shape(library) if isinstance(library, np.ndarray) else None
    as_obj = (lambda v: sp.Matrix(np.array(v, dtype=object).reshape(shape)) if shape and len(shape) == 2
              else (v if len(v) > 1 else v[0]))
    return RuleCheck(rule, statement, as_obj(lib), as_obj(ref), as_obj(diffs), all(d == 0 for d in diffs))


def _regions(*syms):
    regions = [{}]
    for s in syms:
        p = sp.Symbol(f"{s.name}_pos", positive=True)
        regions = [{**r, s: v} for r in regions for v in (p, -p)]
    return regions


# -- the rules ---------------------------------------------------------------------------------
z = sp.Symbol("z", real=True)
S = SYMPY_OPS


def _scalar_activation(act: A.Activation, reference, statement):
    def check():
        lib = act.derivative(z, act.forward(z, xp=S), xp=S)
        forward_ok = _compare(act.name, "forward", act.forward(z, xp=S), reference, _regions(z))
        if not forward_ok.ok:
            return forward_ok
        # compared on each sign of z: the numerically stable forms are piecewise
        return _compare(act.name, statement, lib, sp.diff(reference, z), _regions(z))
    return check


def _subgradient(act: A.LeakyReLU, reference):
    """The slope used at the kink gives a line through the origin that stays under f."""
    def check():
        c = sp.nsimplify(act.subgradient_at_zero)
        gap = reference - c * z  # must be >= 0 for every z
        signs = [sp.simplify(gap.subs(z, v)) for v in (sp.Symbol("p", positive=True), -sp.Symbol("p", positive=True))]
        ok = all(s.is_nonnegative for s in signs)
        return RuleCheck(f"{act.name}_subgradient", f"f(z) - {c} z >= 0 for all z (a subgradient at 0)",
                         c, reference, signs, bool(ok))
    return check


def _softmax_jacobian():
    zs = symbols_array("z", 3, real=True)
    e = [sp.exp(v) for v in zs]
    y = np.array([v / sum(e) for v in e], dtype=object)
    lib = A.Softmax().jacobian(zs, y=y)
    ref = np.array([[sp.diff(y[i], zs[j]) for j in range(3)] for i in range(3)], dtype=object)
    return _compare("softmax_jacobian", "dy_i/dz_j = y_i (delta_ij - y_j)", lib, ref)


def _softmax_backward():
    zs = symbols_array("z", 3, real=True)
    g = symbols_array("g", 3, real=True)
    e = [sp.exp(v) for v in zs]
    y = np.array([v / sum(e) for v in e], dtype=object)
    lib = A.Softmax().backward(g, zs, y=y)
    ref = np.array([sum(g[j] * sp.diff(y[j], zs[i]) for j in range(3)) for i in range(3)], dtype=object)
    return _compare("softmax_backward", "dDiv/dz = dDiv/dy J (a row vector times the Jacobian)", lib, ref)


def _elementwise_divergence(div: D.Divergence, reference, statement, Y=None, d=None):
    Y = Y if Y is not None else sp.Symbol("Y", real=True)
    d = d if d is not None else sp.Symbol("d", real=True)

    def check():
        value = _compare(div.name, "value", div.value_rule(Y, d, xp=S), reference(Y, d))
        if not value.ok:
            return value
        return _compare(div.name, statement, div.derivative_rule(Y, d, xp=S), sp.diff(reference(Y, d), Y))
    return check


def _distribution_divergence(div: D.Divergence, reference, statement):
    def check():
        Y = symbols_array("Y", 3, positive=True)
        d = symbols_array("d", 3, nonnegative=True)
        ref = reference(Y, d)
        value = _compare(div.name, "value", div.value_rule(Y, d, xp=S).sum(), ref)
        if not value.ok:
            return value
        return _compare(div.name, statement, div.derivative_rule(Y, d, xp=S), [sp.diff(ref, v) for v in Y])
    return check


def _softmax_cross_entropy():
    zs = symbols_array("z", 3, real=True)
    d = symbols_array("d", 3, nonnegative=True)
    d[2] = 1 - d[0] - d[1]  # a distribution: the fused rule y - d needs sum(d) = 1
    e = [sp.exp(v) for v in zs]
    y = [v / sum(e) for v in e]
    ref = -sum(di * sp.log(yi) for di, yi in zip(d, y))
    div = D.SoftmaxCrossEntropy()
    value = _compare(div.name, "value", div.value_rule(zs, d, xp=S).sum(), ref)
    if not value.ok:
        return value
    return _compare(div.name, "dDiv/dz = softmax(z) - d", div.derivative_rule(zs, d, xp=S),
                    [sp.diff(ref, v) for v in zs])


def _sigmoid_bce():
    d = sp.Symbol("d", real=True)
    s = 1 / (1 + sp.exp(-z))
    ref = -d * sp.log(s) - (1 - d) * sp.log(1 - s)
    div = D.SigmoidBinaryCrossEntropy()
    value = _compare(div.name, "value", div.value_rule(z, d, xp=S), ref)
    if not value.ok:
        return value
    return _compare(div.name, "dDiv/dz = sigma(z) - d", div.derivative_rule(z, d, xp=S), sp.diff(ref, z), _regions(z))


def _loss_through(G, out):
    """A scalar whose derivative w.r.t. ``out`` is the upstream gradient G."""
    return sum(g * o for g, o in zip(G.ravel(), out.ravel()))


def _grad(Lsym, X):
    return np.array([sp.diff(Lsym, v) for v in X.ravel()], dtype=object).reshape(X.shape)


def _affine():
    Y = symbols_array("y", (2, 3), real=True)  # a batch of two instances, width_(k-1) = 3
    W = symbols_array("w", (2, 3), real=True)  # width_k = 2
    b = symbols_array("b", 2, real=True)
    G = symbols_array("g", (2, 2), real=True)
    Z, cache = L.affine_forward(Y, W, b)
    dY, dW, db = L.affine_backward(G, cache)
    Lsym = _loss_through(G, Z)
    lib = np.concatenate([dY.ravel(), dW.ravel(), db.ravel()])
    ref = np.concatenate([_grad(Lsym, Y).ravel(), _grad(Lsym, W).ravel(), _grad(Lsym, b).ravel()])
    return _compare("affine_backward", "dY = dZ W, dW = dZ^T Y, db = sum of dZ rows", lib, ref)


def _multiplicative():
    Y = symbols_array("y", (2, 3), real=True)
    pairs = [(0, 1), (1, 2), (2, 2), (0, 1)]  # a repeated pair and a square: accumulation
    G = symbols_array("g", (2, 4), real=True)
    O, cache = L.multiplicative_forward(Y, pairs)
    dY = L.multiplicative_backward(G, cache)
    return _compare("multiplicative_backward", "dDiv/dy_j = sum over products o_i = y_j y_l of dDiv/do_i y_l",
                    dY, _grad(_loss_through(G, O), Y))


def _residual():
    Y = symbols_array("y", (2, 2), real=True)
    W = symbols_array("w", (2, 2), real=True)
    b = symbols_array("b", 2, real=True)
    G = symbols_array("g", (2, 2), real=True)
    block = L.Residual([L.Affine(W, b)])
    out, caches = block.forward(Y)
    dY, grads = block.backward(G, caches)
    Lsym = _loss_through(G, out)
    lib = np.concatenate([dY.ravel(), grads["0.W"].ravel(), grads["0.b"].ravel()])
    ref = np.concatenate([_grad(Lsym, Y).ravel(), _grad(Lsym, W).ravel(), _grad(Lsym, b).ravel()])
    return _compare("residual_backward", "dDiv/dy = dDiv/dout + (the block's backward)", lib, ref)


def _gate_rules() -> dict[str, Callable[[], RuleCheck]]:
    from . import graph

    rules = {}
    for gate in graph.GATES.values():
        def check(gate=gate):
            args = [sp.Symbol(n, real=True) for n in ("a", "b")[: gate.arity]]
            consts = {c: sp.Symbol(c, real=True) for c in gate.consts}
            out = gate.forward(*args, xp=S, **consts)
            lib = gate.local(*args, out=out, xp=S, **consts)
            ref = [sp.diff(out, a) for a in args]
            regions = _regions(*args)  # the stable forms (sigmoid) and kinks (ReLU) are piecewise
            if gate.name == "max":  # each side of the tie
                p = sp.Symbol("p", positive=True)
                regions = ({args[0]: args[1] + p}, {args[0]: args[1] - p})
            return _compare(f"gate_{gate.name}", f"local gradients of the {gate.name} gate", list(lib), ref, regions)
        rules[f"gate_{gate.name}"] = check
    return rules


_Y01 = sp.Symbol("Y", positive=True)  # a probability; (0, 1) is not needed for the algebra
RULES: dict[str, Callable[[], RuleCheck]] = {
    "identity": _scalar_activation(A.Identity(), z, "f'(z) = 1"),
    "sigmoid": _scalar_activation(A.Sigmoid(), 1 / (1 + sp.exp(-z)), "f'(z) = y (1 - y)"),
    "tanh": _scalar_activation(A.Tanh(), sp.tanh(z), "f'(z) = 1 - y^2"),
    "relu": _scalar_activation(A.ReLU(), sp.Max(0, z), "f'(z) = 1 for z > 0, 0 for z < 0"),
    "relu_subgradient": _subgradient(A.ReLU(), sp.Max(0, z)),
    "leaky_relu": _scalar_activation(
        A.LeakyReLU(alpha=0.1), sp.Piecewise((z, z > 0), (z / 10, True)), "f'(z) = 1 for z > 0, alpha for z < 0"),
    "leaky_relu_subgradient": _subgradient(A.LeakyReLU(alpha=0.1), sp.Piecewise((z, z > 0), (z / 10, True))),
    "softmax_jacobian": _softmax_jacobian,
    "softmax_backward": _softmax_backward,
    "squared_error": _elementwise_divergence(D.SquaredError(), lambda Y, d: (Y - d) ** 2, "dDiv/dY = 2 (Y - d)"),
    "half_squared_error": _elementwise_divergence(
        D.HalfSquaredError(), lambda Y, d: (Y - d) ** 2 / 2, "dDiv/dY = Y - d"),
    "binary_cross_entropy": _elementwise_divergence(
        D.BinaryCrossEntropy(), lambda Y, d: -d * sp.log(Y) - (1 - d) * sp.log(1 - Y),
        "dDiv/dY = (Y - d) / (Y (1 - Y))", Y=_Y01),
    "cross_entropy": _distribution_divergence(
        D.CrossEntropy(), lambda Y, d: -sum(di * sp.log(yi) for di, yi in zip(d, Y)), "dDiv/dY_i = -d_i / Y_i"),
    "kl_divergence": _distribution_divergence(
        D.KLDivergence(), lambda Y, d: sum(di * sp.log(di / yi) for di, yi in zip(d, Y)), "dDiv/dY_i = -d_i / Y_i"),
    "softmax_cross_entropy": _softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": _sigmoid_bce,
    "affine_backward": _affine,
    "multiplicative_backward": _multiplicative,
    "residual_backward": _residual,
}
try:  # the scalar computational graph's gates, when that module is present
    RULES.update(_gate_rules())
except ImportError:  # pragma: no cover
    pass


def verify(name: str) -> RuleCheck:
    """Check one rule of the library against SymPy; see ``RULES`` for the names."""
    if name not in RULES:
        raise ValueError(f"argument 'name' expected one of {sorted(RULES)}, got {name!r}")
    return RULES[name]()


def verify_all() -> list[RuleCheck]:
    """Check every rule; each result says whether the library equals sympy.diff."""
    return [RULES[name]() for name in RULES]


def derivation(name: str):
    """SymPy's side of a rule (the derivative computed by ``sympy.diff``), for display."""
    return verify(name).sympy
