"""The lecture's names and numbers as every view writes them.

Names are mathtext (the subset of LaTeX that matplotlib renders, so the same
string works on a figure and in a notebook's Math display): ``w^{(2)}_{12}`` for
w(2)_12, units counted from 1 as in the lecture (from 0-based indices), and
``\\dot{z}^{(k)}_{j}`` for dDiv/dz(k)_j (the lecture's overdot).  Numbers have a
fixed number of decimals and never print as "-0.000".
"""

from __future__ import annotations

from ..core.gradcheck import subscript

__all__ = ["ACTIVATION_SYMBOL", "math_name", "num", "par"]

#: how each activation is written in a formula
ACTIVATION_SYMBOL = {"identity": r"\mathrm{id}", "sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{ReLU}",
                     "leaky_relu": r"\mathrm{LReLU}"}


def math_name(kind: str, k: int, *idx: int, dot: bool = False) -> str:
    """``kind^{(k)}_{idx}`` in mathtext, with the overdot (dDiv/d of it) when ``dot``."""
    base = rf"\dot{{{kind}}}" if dot else kind
    return rf"{base}^{{({k})}}_{{{subscript(*idx)}}}"


def num(v: float, digits: int = 3) -> str:
    """``v`` with ``digits`` decimals, never "-0.000"."""
    s = f"{v:.{digits}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def par(v: float, digits: int = 3) -> str:
    """A number ready to multiply: negative ones in parentheses."""
    s = num(v, digits)
    return f"({s})" if s.startswith("-") else s
