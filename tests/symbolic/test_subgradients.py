"""symbolic/subgradients.py: the SymPy witnesses of the subgradients' rules verify, and a wrong rule fails its witness."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.symbolic.subgradients import verify_subgradient
import backprop.symbolic.subgradients as witnesses
from backprop.core import activations as A
from backprop.experiments import subgradients as S


@pytest.mark.parametrize("name", sorted(witnesses.SUBGRADIENT_RULES))
def test_every_witness_verifies(name):
    check = verify_subgradient(name)
    assert check.ok, str(check)
    assert str(check).endswith(": verified")


def test_verify_subgradients_runs_them_all():
    checks = bp.verify_subgradients()
    assert [c.rule for c in checks] == list(witnesses.SUBGRADIENT_RULES) and all(c.ok for c in checks)


def test_an_unknown_witness_is_named():
    with pytest.raises(ValueError, match="'name' expected one of"):
        verify_subgradient("relu")


# -- a wrong rule fails its witness -----------------------------------------------------------------------
def _route_to_every_tie(z, xp=np):
    return (z == z.max(axis=-1, keepdims=True)) * 1  # the whole gradient to every tied input


def _route_to_the_last(z, xp=np):
    top = (z == z.max(axis=-1, keepdims=True)) * 1
    return top * (np.cumsum(top[..., ::-1], axis=-1)[..., ::-1] == 1)  # a valid subgradient, not the stated rule


def _mean_slope_in_training(self, z, y=None, xp=np):
    return (z > 0).astype(z.dtype) + self.mean_slope * (z <= 0)


def _slope_one_at_zero(self, z, y=None, xp=np):
    return (z >= 0).astype(z.dtype) + self.alpha * (z < 0)


def _interval_too_wide(slope, alpha=0.0):
    verdict = S.SubgradientVerdict(float(slope), float(alpha), -0.5 <= slope <= 1.5, -0.5, 1.5, "", None, None)
    return verdict


@pytest.mark.parametrize("target, attribute, wrong, failing", [
    (A, "max_routing", _route_to_every_tie, "max_tie"),
    (A, "max_routing", _route_to_the_last, "max_tie"),
    (A.RandomizedLeakyReLU, "derivative", _mean_slope_in_training, "randomized_leaky_relu"),
    (A.RandomizedLeakyReLU, "derivative", _slope_one_at_zero, "randomized_leaky_relu"),
    (S, "subgradient_verdict", _interval_too_wide, "subgradient_interval_relu"),
])
def test_a_wrong_rule_fails_its_witness(monkeypatch, target, attribute, wrong, failing):
    monkeypatch.setattr(target, attribute, wrong)
    assert not verify_subgradient(failing).ok
