"""The rule witnesses (symbolic/rules.py): every rule of the library equals sympy.diff, and a wrong rule fails."""

import inspect

import numpy as np
import pytest
import sympy as sp

from backprop.core.activations import ACTIVATIONS
from backprop.core.divergences import DIVERGENCES
import backprop.symbolic as sym
from backprop.core import activations, divergences, layers
from backprop.core.graph import GATES, GateRule
from strategies import assert_explained

z = sp.Symbol("z", real=True)  # the name and assumptions the witnesses give a scalar activation's input


def entries(x):
    """The entries of a RuleCheck side or difference: an expression, a list or a Matrix."""
    if isinstance(x, sp.MatrixBase):
        return list(x)
    return list(x) if isinstance(x, (list, tuple)) else [x]


@pytest.fixture
def patch(monkeypatch):
    """``patch(target, attribute, value)`` for the test; a GateRule (frozen) is patched and restored in place."""
    restore = []

    def apply(target, name, value):
        if isinstance(target, GateRule):
            restore.append((target, name, getattr(target, name)))
            object.__setattr__(target, name, value)
        else:
            monkeypatch.setattr(target, name, value)

    yield apply
    for target, name, old in reversed(restore):
        object.__setattr__(target, name, old)


def witnessed_instance(name):
    """The Activation instance a rule's witness closes over (to state a different subgradient)."""
    return inspect.getclosurevars(sym.RULES[name]).nonlocals["act"]


# -- every rule verifies -------------------------------------------------------------------------
def test_every_rule_of_the_library_is_covered():
    expected = set(ACTIVATIONS) | {"softmax_jacobian", "softmax_backward"}
    expected |= {"relu_subgradient", "relu_other_subgradient", "leaky_relu_subgradient"}
    expected |= set(DIVERGENCES) | {"log_sum_exp"}
    expected |= {f"gate_{name}" for name in GATES}
    expected |= {"affine_backward", "multiplicative_backward", "residual_backward"}
    assert expected == set(sym.RULES)


# verify_all runs every rule of RULES and reports each; a few cheap rules stand for all of them here (each
# rule verifies by itself beside its other witnesses: test_rule_equals_sympy in tests/core/test_activations.py,
# test_divergences.py, test_layers.py and test_graph.py).
def test_verify_all_reports_exactly_the_wrong_rule(patch, monkeypatch):
    monkeypatch.setattr(sym.rules, "RULES", {name: sym.RULES[name] for name in ("identity", "tanh", "gate_add")})
    patch(activations.Tanh, "derivative", lambda self, z, y=None, xp=np: 1 - self.forward(z, xp))
    checks = sym.verify_all()
    assert [c.rule for c in checks] == ["identity", "tanh", "gate_add"]
    assert all(isinstance(c, sym.RuleCheck) for c in checks)
    assert [c.rule for c in checks if not c.ok] == ["tanh"]
    for check in checks:
        assert str(check).endswith(": verified") == check.ok, str(check)


def test_derivation_is_sympys_side(patch):
    patch(activations.Tanh, "derivative", _tanh_without_square)  # the library's side wrong: sympy's stays
    assert not sym.verify("tanh").ok
    assert sp.simplify(sym.derivation("tanh") - (1 - sp.tanh(z) ** 2)) == 0
    assert sp.simplify(sym.derivation("sigmoid") - sp.exp(-z) / (1 + sp.exp(-z)) ** 2) == 0
    jacobian = sym.derivation("multiplicative_backward")  # a matrix rule's side is a Matrix
    assert isinstance(jacobian, sp.MatrixBase) and jacobian.shape == (2, 3)


@pytest.mark.parametrize("call", [lambda: sym.verify("sigmoidd"), lambda: sym.derivation("sigmoidd")])
def test_an_unknown_rule_is_named(call):
    assert_explained(call, ValueError, ["argument 'name'", "expected one of", "'sigmoid'", "got 'sigmoidd'"])


# -- every witness can fail: each rule with a plausible bug ------------------------------------------
def _sigmoid_plus(self, z, y=None, xp=np):  # y (1 + y): the sign slip, written to accept y=None like the original
    y = self.forward(z, xp) if y is None else y
    return y * (1 + y)


def _tanh_without_square(self, z, y=None, xp=np):
    y = self.forward(z, xp) if y is None else y
    return 1 - y


def _slope_one_at_zero(self, z, y=None, xp=np):  # z >= 0: slope 1 at the kink, not the stated convention 0
    return (z >= 0) * 1 + self.alpha * (z < 0)


def _ignores_the_stated_subgradient(self, z, y=None, xp=np):  # always the negative side's slope at 0
    return (z > 0) * 1 + self.alpha * (z < 0)


def _forgets_alpha(self, z, y=None, xp=np):
    return (z > 0) * 1 + self.subgradient_at_zero * (z == 0)


def _softmax_half_shifted(self, z, xp=np):  # the numerator shifted by the max, the denominator not
    return xp.exp(z - z.max(axis=-1, keepdims=True)) / xp.exp(z).sum(axis=-1, keepdims=True)


def _diagonal_jacobian(self, z, y=None, xp=np):  # softmax treated as a scalar activation
    y = self.forward(z, xp) if y is None else y
    return y[..., :, None] * np.eye(y.shape[-1], dtype=int)


def _softmax_backward_unweighted(self, dy, z, y=None, xp=np):  # sum_j dy_j instead of sum_j dy_j y_j
    y = self.forward(z, xp) if y is None else y
    return y * (dy - dy.sum(axis=-1, keepdims=True))


def _bce_slope(self, Y, d, xp=np):
    terms = xp.where(d > 0, d * xp.log(Y), 0.0) + xp.where(d < 1, (1 - d) * xp.log(1 - Y), 0.0)
    return -terms.sum(axis=-1), (Y - d) / Y  # the factor 1 / (1 - Y) dropped


def _ce_one_hot_slope(self, Y, d, xp=np):  # -1 / Y_i: right for a one-hot target only
    return -xp.where(d > 0, d * xp.log(Y), 0.0).sum(axis=-1), xp.where(d > 0, -1 / Y, 0.0)


_SOFTMAX_CE = divergences.SoftmaxCrossEntropy.rule


def _softmax_ce_y_minus_d(self, z, d, xp=np):  # y - d: exact only when the target sums to 1
    return _SOFTMAX_CE(self, z, d, xp)[0], activations.Softmax().forward(z, xp) - d


def _softplus_without_abs(self, z, d, xp=np):  # log1p(exp(-z)) where the stable form has exp(-|z|)
    softplus = xp.maximum(z, 0) + xp.log1p(xp.exp(-z))
    return (softplus - d * z).sum(axis=-1), activations.Sigmoid().forward(z, xp) - d


def _lse_without_the_max(z, xp=np):  # the shift taken out and never added back
    m = z.max(axis=-1, keepdims=True)
    return xp.log(xp.exp(z - m).sum(axis=-1, keepdims=True))[..., 0]


def _affine_db_over_units(dZ, cache, input_grad=True):  # db summed over the wrong axis (B = width_k in the witness)
    Y, W = cache
    return dZ @ W, dZ.T @ Y, dZ.sum(axis=1)


def _multiplicative_buffered(dO, cache):  # fancy-index += : a repeated unit keeps only its last term
    Y, p = cache
    dY = np.zeros_like(Y)
    dY[:, p[:, 0]] += dO * Y[:, p[:, 1]]
    dY[:, p[:, 1]] += dO * Y[:, p[:, 0]]
    return dY


_RESIDUAL_BACKWARD = layers.Residual.backward


def _residual_without_skip(self, d_out, caches, input_grad=True):
    dY, grads = _RESIDUAL_BACKWARD(self, d_out, caches, input_grad)
    return dY - d_out, grads


A, D, L = activations, divergences, layers
#: rule name -> (target, attribute, wrong value): one plausible bug per rule
MUTATIONS = {
    "identity": (A.Identity, "derivative", lambda self, z, y=None, xp=np: z * 0),
    "sigmoid": (A.Sigmoid, "derivative", _sigmoid_plus),
    "tanh": (A.Tanh, "derivative", _tanh_without_square),
    "relu": (A.LeakyReLU, "derivative", _slope_one_at_zero),
    "relu_subgradient": ("relu_subgradient", "subgradient_at_zero", 1.5),
    "relu_other_subgradient": (A.LeakyReLU, "derivative", _ignores_the_stated_subgradient),
    "leaky_relu": (A.LeakyReLU, "derivative", _forgets_alpha),
    "leaky_relu_subgradient": ("leaky_relu_subgradient", "subgradient_at_zero", 0.05),  # below alpha = 0.1
    "softmax": (A.Softmax, "forward", _softmax_half_shifted),
    "softmax_jacobian": (A.Softmax, "jacobian", _diagonal_jacobian),
    "softmax_backward": (A.Softmax, "backward", _softmax_backward_unweighted),
    "squared_error": (D.SquaredError, "rule", lambda self, Y, d, xp=np: (((Y - d) * (Y - d)).sum(axis=-1), Y - d)),
    "half_squared_error": (D.HalfSquaredError, "rule",
                           lambda self, Y, d, xp=np: (((Y - d) * (Y - d)).sum(axis=-1) / 2, 2 * (Y - d))),
    "binary_cross_entropy": (D.BinaryCrossEntropy, "rule", _bce_slope),
    "cross_entropy": (D.CrossEntropy, "rule", _ce_one_hot_slope),
    "kl_divergence": (D.KLDivergence, "rule", D.CrossEntropy.rule),  # the entropy of d forgotten
    "softmax_cross_entropy": (D.SoftmaxCrossEntropy, "rule", _softmax_ce_y_minus_d),
    "sigmoid_binary_cross_entropy": (D.SigmoidBinaryCrossEntropy, "rule", _softplus_without_abs),
    "log_sum_exp": (D, "log_sum_exp", _lse_without_the_max),
    "affine_backward": (L, "affine_backward", _affine_db_over_units),
    "multiplicative_backward": (L, "multiplicative_backward", _multiplicative_buffered),
    "residual_backward": (L.Residual, "backward", _residual_without_skip),
    "gate_add": (GATES["add"], "local", lambda a, b, out, xp=np: (1, 0)),
    "gate_mul": (GATES["mul"], "local", lambda a, b, out, xp=np: (a, b)),
    "gate_add_const": (GATES["add_const"], "local", lambda a, out, *, c, xp=np: (c,)),
    "gate_mul_const": (GATES["mul_const"], "local", lambda a, out, *, c, xp=np: (1,)),
    "gate_exp": (GATES["exp"], "local", lambda a, out, xp=np: (a,)),
    "gate_reciprocal": (GATES["reciprocal"], "local", lambda a, out, xp=np: (out * out,)),
    "gate_max": (GATES["max"], "local", lambda a, b, out, xp=np: (xp.where(a >= b, 0, 1), xp.where(a >= b, 1, 0))),
    "gate_relu": (GATES["relu"], "local", lambda a, out, xp=np: (a * 0 + 1,)),
    "gate_sigmoid": (GATES["sigmoid"], "local", lambda a, out, xp=np: (out * (1 + out),)),
}


def install(patch, name):
    target, attribute, value = MUTATIONS[name]
    patch(witnessed_instance(target) if isinstance(target, str) else target, attribute, value)


def test_every_rule_has_a_mutation():
    assert set(MUTATIONS) == set(sym.RULES)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_wrong_rule_fails_its_witness(name, patch):
    install(patch, name)
    check = sym.verify(name)
    assert not check.ok, f"a wrong {name} rule verified: {check}"
    assert "FAILS, library minus sympy = " in str(check)
    assert any(d != 0 for d in entries(check.difference))


def test_a_mul_rule_right_only_where_the_inputs_have_equal_size_fails(patch):
    patch(GATES["mul"], "local", lambda a, b, out, xp=np: (b * b * b / (a * a), a))  # = (b, a) only if |a| = |b|
    assert not sym.verify("gate_mul").ok


def test_the_sigmoid_slip_fails_the_activation_and_the_gate(patch):
    patch(activations.Sigmoid, "derivative", _sigmoid_plus)
    assert not sym.verify("sigmoid").ok
    assert not sym.verify("gate_sigmoid").ok  # the gate reuses the activation's rule: one slip, two witnesses
    assert sym.verify("sigmoid_binary_cross_entropy").ok  # the fused divergence uses the forward only


def test_softmax_without_the_max_shift_still_verifies(patch):
    def unshifted(self, z, xp=np):
        e = xp.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    patch(activations.Softmax, "forward", unshifted)
    assert sym.verify("softmax").ok  # the shift changes the arithmetic, not the function
    assert sym.verify("softmax_jacobian").ok


@pytest.mark.parametrize("slope", [2.0, -0.5, 1.0])
def test_a_relu_slope_at_zero_other_than_the_stated_one_fails(patch, slope):
    patch(activations.LeakyReLU, "derivative", lambda self, z, y=None, xp=np: (z > 0) * 1 + slope * (z == 0))
    check = sym.verify("relu")
    assert not check.ok and "0 at z = 0" in check.statement


@pytest.mark.parametrize("rule, value, ok", [
    ("relu_subgradient", 0.0, True), ("relu_subgradient", 0.5, True), ("relu_subgradient", 1.0, True),
    ("relu_subgradient", -0.5, False), ("relu_subgradient", 1.5, False),
    ("leaky_relu_subgradient", 0.1, True), ("leaky_relu_subgradient", 0.7, True),
    ("leaky_relu_subgradient", 0.05, False), ("leaky_relu_subgradient", 1.2, False),
])
def test_a_stated_subgradient_verifies_exactly_inside_the_two_slopes(patch, rule, value, ok):
    patch(witnessed_instance(rule), "subgradient_at_zero", value)
    assert sym.verify(rule).ok is ok
