"""Symbolic verification: every derivative rule of the library against SymPy.

Each rule runs here as it runs on numbers (:mod:`backprop.symbolic.ops`), and
its result is compared with ``sympy.diff`` of the function it differentiates,
written the textbook way: the difference must simplify to 0.  A numerically
stable form (sigmoid from exp(-|z|), softmax shifted by its max, log-sum-exp,
softplus) is therefore checked against the textbook form on each of its
branches, so every line of code that runs is a line a witness checked.

    >>> import backprop.symbolic as sym
    >>> sym.verify("sigmoid").ok
    True
    >>> [c.rule for c in sym.verify_all() if not c.ok]
    []
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import sympy as sp

from ..core import activations as A
from ..core import divergences as D
from ..core import layers as L
from ..core.graph import GATES
from .ops import SYMPY_OPS as S
from .ops import RuleCheck, compare, regions, sym_array, symbols_array

__all__ = ["RULES", "verify", "verify_all", "derivation"]

z = sp.Symbol("z", real=True)
_p, _q = sp.Symbol("p", positive=True), sp.Symbol("q", positive=True)
_SIDES = (_p, -_p)  # each side of a kink at 0
_OPEN_UNIT = (_q / (1 + _q),)  # a number strictly between 0 and 1


def _one(x):
    """A symbol as a one-entry SymArray: the shape the library's elementwise rules see."""
    return sym_array([x])


# -- activations -----------------------------------------------------------------------------
def _scalar_activation(act: A.Activation, reference, statement, name: str | None = None):
    """forward equals the textbook function, derivative equals its sympy.diff, on each side of 0;
    at a kink, the derivative is the stated subgradient."""
    name = name or act.name

    def check():
        zs = _one(z)
        on = regions({z: _SIDES})
        forward = compare(name, "forward", act.forward(zs, xp=S), [reference], on)
        if not forward.ok:
            return forward
        result = compare(name, statement, act.derivative(zs, xp=S), [sp.diff(reference, z)], on)
        if not result.ok or not act.kinks:
            return result
        return compare(name, f"{statement}; {act.subgradient_at_zero:g} at z = 0",
                       act.derivative(zs, xp=S), [sp.nsimplify(act.subgradient_at_zero)], [{z: 0}])
    return check


def _subgradient(act: A.LeakyReLU, reference):
    """The slope used at the kink gives a line through the origin that stays under f."""
    def check():
        c = sp.nsimplify(act.subgradient_at_zero)
        gaps = [sp.simplify((reference - c * z).subs(z, v)) for v in _SIDES]  # f(z) - c z: >= 0 for every z
        ok = all(g.is_nonnegative for g in gaps)
        below = [0 if g.is_nonnegative else g for g in gaps]  # where the line rises above f: the failure
        return RuleCheck(f"{act.name}_subgradient", f"f(z) - {c} z >= 0 for all z (a subgradient at 0)",
                         c, reference, below, bool(ok))
    return check


def _ordered(zs):
    """Regions where each entry in turn is the largest (the max-shift of softmax and log-sum-exp)."""
    out = []
    for top in range(len(zs)):
        gaps = iter(sp.Symbol(f"g_{i}", positive=True) for i in range(len(zs)))
        out.append({zs[i]: zs[top] - next(gaps) for i in range(len(zs)) if i != top})
    return out


def _softmax_textbook(zs):
    e = [sp.exp(v) for v in zs]
    return [v / sum(e) for v in e]


def _softmax_forward():
    zs = symbols_array("z", 3, real=True)
    return compare("softmax", "y_i = exp(z_i - max z) / sum_j exp(z_j - max z) = exp(z_i) / sum_j exp(z_j)",
                   A.Softmax().forward(zs, xp=S), _softmax_textbook(zs), _ordered(zs))


def _softmax_jacobian():
    zs = symbols_array("z", 3, real=True)
    y = _softmax_textbook(zs)
    ref = [[sp.diff(y[i], zs[j]) for j in range(3)] for i in range(3)]
    return compare("softmax_jacobian", "dy_i/dz_j = y_i (delta_ij - y_j)", A.Softmax().jacobian(zs, xp=S), ref,
                   _ordered(zs))


def _softmax_backward():
    zs = symbols_array("z", 3, real=True)
    g = symbols_array("g", 3, real=True)
    y = _softmax_textbook(zs)
    ref = [sum(g[j] * sp.diff(y[j], zs[i]) for j in range(3)) for i in range(3)]
    return compare("softmax_backward", "dDiv/dz = dDiv/dy J (a row vector times the Jacobian)",
                   A.Softmax().backward(g, zs, xp=S), ref, _ordered(zs))


# -- divergences -----------------------------------------------------------------------------
def _divergence(div: D.Divergence, reference, statement, Y, d, on):
    """The rule's value equals the textbook divergence, its derivative equals sympy.diff of it."""
    def check():
        value, slope = div.rule(Y, d, xp=S)
        ref = reference(Y, d)
        result = compare(div.name, "value", value, [ref], on)
        if not result.ok:
            return result
        return compare(div.name, statement, slope, [sp.diff(ref, v) for v in Y], on)
    return check


def _elementwise(div, reference, statement, Y=None):
    Y = _one(sp.Symbol("Y", real=True)) if Y is None else Y
    d = _one(sp.Symbol("d", real=True))
    return _divergence(div, lambda Y, d: reference(Y[0], d[0]), statement, Y, d, [{}])


def _binary_cross_entropy():
    Y, d = _one(sp.Symbol("Y", positive=True)), _one(sp.Symbol("d", real=True))
    # a soft target strictly inside (0, 1), and the hard targets 0 and 1 (0 log 0 = 0)
    on = regions({d[0]: _OPEN_UNIT + (0, 1)})
    return _divergence(D.BinaryCrossEntropy(), lambda Y, d: -d[0] * sp.log(Y[0]) - (1 - d[0]) * sp.log(1 - Y[0]),
                       "dDiv/dY = (Y - d) / (Y (1 - Y))", Y, d, on)()


def _distribution(div, reference, statement):
    def check():
        Y = symbols_array("Y", 3, positive=True)
        d = symbols_array("d", 3, nonnegative=True)
        on = regions({v: (sp.Symbol(f"{v}_pos", positive=True), 0) for v in d})  # every term kept, or dropped
        return _divergence(div, reference, statement, Y, d, on)()
    return check


def _softmax_cross_entropy():
    zs = symbols_array("z", 3, real=True)
    d = symbols_array("d", 3, nonnegative=True)  # any weights: the rule is exact without sum(d) = 1
    y = _softmax_textbook(zs)
    return _divergence(D.SoftmaxCrossEntropy(), lambda z, d: -sum(di * sp.log(yi) for di, yi in zip(d, y)),
                       "dDiv/dz = sum(d) softmax(z) - d (y - d for a distribution)", zs, d, _ordered(zs))()


def _sigmoid_binary_cross_entropy():
    zs, d = _one(z), _one(sp.Symbol("d", real=True))
    s = 1 / (1 + sp.exp(-z))
    return _divergence(D.SigmoidBinaryCrossEntropy(), lambda z_, d_: -d_[0] * sp.log(s) - (1 - d_[0]) * sp.log(1 - s),
                       "Div = softplus(z) - d z; dDiv/dz = sigma(z) - d", zs, d, regions({z: _SIDES}))()


def _log_sum_exp():
    zs = symbols_array("z", 3, real=True)
    return compare("log_sum_exp", "max z + log sum_j exp(z_j - max z) = log sum_j exp(z_j)",
                   D.log_sum_exp(zs, xp=S), [sp.log(sum(sp.exp(v) for v in zs))], _ordered(zs))


# -- layers ----------------------------------------------------------------------------------
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
    ref_Z = np.array([[sum(W[j, i] * Y[n, i] for i in range(3)) + b[j] for j in range(2)] for n in range(2)],
                     dtype=object)
    forward = compare("affine_forward", "Z = Y W^T + b: z(k)_j = sum_i w(k)_ij y(k-1)_i + b(k)_j", Z, ref_Z)
    if not forward.ok:
        return forward
    Lsym = _loss_through(G, Z)
    lib = np.concatenate([dY.ravel(), dW.ravel(), db.ravel()])
    ref = np.concatenate([_grad(Lsym, Y).ravel(), _grad(Lsym, W).ravel(), _grad(Lsym, b).ravel()])
    return compare("affine_backward", "dY = dZ W, dW = dZ^T Y, db = sum of dZ rows", lib, ref)


def _multiplicative():
    Y = symbols_array("y", (2, 3), real=True)
    pairs = [(0, 1), (1, 2), (2, 2), (0, 1)]  # a repeated pair and a square: accumulation
    G = symbols_array("g", (2, 4), real=True)
    O, cache = L.multiplicative_forward(Y, pairs)
    dY = L.multiplicative_backward(G, cache)
    return compare("multiplicative_backward", "dDiv/dy_j = sum over products o_i = y_j y_l of dDiv/do_i y_l",
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
    return compare("residual_backward", "dDiv/dy = dDiv/dout + (the block's backward)", lib, ref)


# -- the scalar computational graph's gates -----------------------------------------------------------
def _gate(gate):
    def check():
        names = ("a", "b")[: gate.arity]
        symbols = [sp.Symbol(n, real=True) for n in names]
        args = [_one(s) for s in symbols]
        consts = {c: sp.Symbol(c, real=True) for c in gate.consts}
        out = gate.forward(*args, xp=S, **consts)
        lib = gate.local(*args, out=out, xp=S, **consts)
        out_expr = out[0] if isinstance(out, np.ndarray) else out
        ref = [sp.diff(out_expr, s) for s in symbols]
        sizes = [sp.Symbol(f"{n}_size", positive=True) for n in names]  # each input its own magnitude
        on = regions({s: (m, -m) for s, m in zip(symbols, sizes)})  # each sign: stable forms and kinks are piecewise
        if gate.name == "max":  # each side of the tie
            on = [{symbols[0]: symbols[1] + _p}, {symbols[0]: symbols[1] - _p}]
        lib = [v if isinstance(v, np.ndarray) else sym_array([v]) for v in lib]
        return compare(f"gate_{gate.name}", f"local gradients of the {gate.name} gate", lib, ref, on)
    return check


def _xlogx(x):
    """x log x with its limit 0 at x = 0 (the convention 0 log 0 = 0 of every entropy)."""
    return sp.Piecewise((x * sp.log(x), sp.Ne(x, 0)), (0, True))


_LEAKY = sp.Piecewise((z, z > 0), (z / 10, True))
RULES: dict[str, Callable[[], RuleCheck]] = {
    "identity": _scalar_activation(A.Identity(), z, "f'(z) = 1"),
    "sigmoid": _scalar_activation(A.Sigmoid(), 1 / (1 + sp.exp(-z)), "f'(z) = y (1 - y)"),
    "tanh": _scalar_activation(A.Tanh(), sp.tanh(z), "f'(z) = 1 - y^2"),
    "relu": _scalar_activation(A.ReLU(), sp.Max(0, z), "f'(z) = 1 for z > 0, 0 for z < 0"),
    "relu_subgradient": _subgradient(A.ReLU(), sp.Max(0, z)),
    "relu_other_subgradient": _scalar_activation(
        A.ReLU(subgradient_at_zero=0.5), sp.Max(0, z), "f'(z) = 1 for z > 0, 0 for z < 0", "relu_other_subgradient"),
    "leaky_relu": _scalar_activation(A.LeakyReLU(alpha=0.1), _LEAKY, "f'(z) = 1 for z > 0, alpha for z < 0"),
    "leaky_relu_subgradient": _subgradient(A.LeakyReLU(alpha=0.1), _LEAKY),
    "softmax": _softmax_forward,
    "softmax_jacobian": _softmax_jacobian,
    "softmax_backward": _softmax_backward,
    "squared_error": _elementwise(D.SquaredError(), lambda Y, d: (Y - d) ** 2, "dDiv/dY = 2 (Y - d)"),
    "half_squared_error": _elementwise(D.HalfSquaredError(), lambda Y, d: (Y - d) ** 2 / 2, "dDiv/dY = Y - d"),
    "binary_cross_entropy": _binary_cross_entropy,
    "cross_entropy": _distribution(
        D.CrossEntropy(), lambda Y, d: -sum(di * sp.log(yi) for di, yi in zip(d, Y)), "dDiv/dY_i = -d_i / Y_i"),
    "kl_divergence": _distribution(
        D.KLDivergence(), lambda Y, d: sum(_xlogx(di) - di * sp.log(yi) for di, yi in zip(d, Y)),
        "dDiv/dY_i = -d_i / Y_i"),
    "softmax_cross_entropy": _softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": _sigmoid_binary_cross_entropy,
    "log_sum_exp": _log_sum_exp,
    "affine_backward": _affine,
    "multiplicative_backward": _multiplicative,
    "residual_backward": _residual,
    **{f"gate_{gate.name}": _gate(gate) for gate in GATES.values()},
}


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
