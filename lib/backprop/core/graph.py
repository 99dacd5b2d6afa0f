"""The scalar computational graph: values, gates, and backpropagation (notebook 02).

Every operation on a :class:`Value` applies a *gate* and records it.  The backward
pass visits the gates from the output back to the inputs; at each gate

    downstream gradient = upstream gradient * local gradient,

where the upstream gradient is d out / d (gate output), the local gradient is
d (gate output) / d (gate input), and the downstream gradient d out / d (gate
input) is added to that input's gradient (a value used twice gets the sum).

The derivative rules live in the table :data:`GATES`, beside the forward rules.
Each rule is written with arithmetic and ``xp`` functions only (``xp`` is numpy
by default), so :mod:`backprop.symbolic` can run the same rules on SymPy symbols.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .activations import get_activation, max_routing
from .checks import check_real, describe

__all__ = [
    "GateRule",
    "GATES",
    "Value",
    "maximum",
    "GateRecord",
    "topological_order",
    "trace",
    "value_names",
    "gate_symbol",
]


@dataclass(frozen=True)
class GateRule:
    """A gate's forward rule and its local derivatives, side by side.

    ``forward(*inputs, xp=np, **consts) -> out``;
    ``local(*inputs, out, xp=np, **consts) -> (d out / d input_i for each input)``.
    ``consts`` names the gate's constant parameters (``("c",)`` for ``add_const``).
    """

    name: str
    arity: int
    forward: Callable
    local: Callable
    consts: tuple[str, ...] = ()


def _activation_rule(name: str) -> GateRule:
    # ReLU and sigmoid gates reuse the activation rules, so there is one
    # definition of each (including ReLU's slope convention at 0).
    return GateRule(
        name, 1,
        lambda a, xp=np: get_activation(name).forward(a, xp=xp),
        lambda a, out, xp=np: (get_activation(name).derivative(a, out, xp=xp),),
    )


def _max_local(a, b, xp):
    """max(a, b)'s local gradients: :func:`~backprop.core.activations.max_routing` over (a, b), the vector max's
    rule (1 to the larger input, to the first on a tie)."""
    routing = max_routing(xp.stack([a, b], axis=-1), xp=xp)
    return routing[..., 0], routing[..., 1]


#: The gate table: name -> GateRule.  ``max`` routes its gradient as the vector
#: max does: to the larger input, and on a tie to the first one.
GATES: dict[str, GateRule] = {rule.name: rule for rule in (
    GateRule("add", 2, lambda a, b, xp=np: a + b, lambda a, b, out, xp=np: (1, 1)),
    GateRule("mul", 2, lambda a, b, xp=np: a * b, lambda a, b, out, xp=np: (b, a)),
    GateRule("add_const", 1, lambda a, *, c, xp=np: a + c, lambda a, out, *, c, xp=np: (1,), ("c",)),
    GateRule("mul_const", 1, lambda a, *, c, xp=np: a * c, lambda a, out, *, c, xp=np: (c,), ("c",)),
    GateRule("exp", 1, lambda a, xp=np: xp.exp(a), lambda a, out, xp=np: (out,)),
    GateRule("reciprocal", 1, lambda a, xp=np: 1 / a, lambda a, out, xp=np: (-out * out,)),
    GateRule("max", 2, lambda a, b, xp=np: xp.maximum(a, b), lambda a, b, out, xp=np: _max_local(a, b, xp)),
    _activation_rule("relu"),
    _activation_rule("sigmoid"),
)}

_SYMBOL = {"add": "+", "mul": "*", "exp": "exp", "reciprocal": "1/x", "max": "max", "relu": "ReLU",
           "sigmoid": "σ"}


def gate_symbol(gate: str, consts: dict) -> str:
    """How a gate is written on a drawing or in a table: ``+``, ``*``, ``exp``, ``+ 1`` (a constant)..."""
    if gate == "add_const":
        return f"+ {consts['c']:g}"
    if gate == "mul_const":
        return f"* {consts['c']:g}"
    return _SYMBOL[gate]


class Value:
    """A scalar in the computational graph: its forward value ``data`` and ``grad`` = d out / d self.

    ``grad`` is filled by ``out.backward()``.  Gate outputs remember their gate
    (``gate``, ``consts``) and their ``inputs``.  Operators: ``+ - * /`` with
    Values or real constants, unary ``-``, ``.exp()``, ``.reciprocal()``,
    ``.relu()``, ``.sigmoid()``, ``.max(other)``.
    """

    __slots__ = ("data", "grad", "label", "inputs", "gate", "consts", "_trace")
    __array_ufunc__ = None  # numpy scalars defer to Value's reflected operators

    def __init__(self, data, label: str = ""):
        self.data = check_real(data, "data")
        if not isinstance(label, str):
            raise TypeError(f"argument 'label' expected a str, got {describe(label)}")
        self.grad = 0.0
        self.label = label
        self.inputs: tuple[Value, ...] = ()
        self.gate: str | None = None
        self.consts: dict = {}
        self._trace: list[GateRecord] | None = None

    @classmethod
    def _apply(cls, gate: str, *inputs: "Value", **consts) -> "Value":
        rule = GATES[gate]
        with np.errstate(all="ignore"):  # overflow is reported below, by name, not as a warning
            data = float(rule.forward(*(v.data for v in inputs), xp=np, **consts))
        if not np.isfinite(data):
            shown = ", ".join(v._name() for v in inputs)
            raise ValueError(f"the {gate} gate applied to {shown} gives {data}, not a finite number "
                             f"(overflow); keep its input smaller")
        out = cls(data)
        out.inputs, out.gate, out.consts = inputs, gate, consts
        return out

    def _name(self) -> str:
        return f"{self.label} = {self.data:g}" if self.label else f"{self.data:g}"

    @staticmethod
    def _constant(other, op: str, name: str = "other") -> float:
        if isinstance(other, bool) or not isinstance(other, (numbers.Real, np.number)):
            raise TypeError(f"argument '{name}' of {op} expected a Value or a real number, got {describe(other)}")
        return check_real(other, name)

    def __add__(self, other):
        if isinstance(other, Value):
            return Value._apply("add", self, other)
        return Value._apply("add_const", self, c=self._constant(other, "Value + other"))

    __radd__ = __add__

    def __mul__(self, other):
        if isinstance(other, Value):
            return Value._apply("mul", self, other)
        return Value._apply("mul_const", self, c=self._constant(other, "Value * other"))

    __rmul__ = __mul__

    def __neg__(self):
        return Value._apply("mul_const", self, c=-1.0)

    def __sub__(self, other):
        if isinstance(other, Value):
            return self + (-other)
        return self + (-self._constant(other, "Value - other"))

    def __rsub__(self, other):
        return (-self) + self._constant(other, "other - Value")

    def __truediv__(self, other):
        if isinstance(other, Value):
            return self * other.reciprocal()
        c = self._constant(other, "Value / other")
        if c == 0:
            raise ValueError("argument 'other' of Value / other expected a non-zero number, got 0")
        return self * (1.0 / c)

    def __rtruediv__(self, other):
        c = self._constant(other, "other / Value")
        return self.reciprocal() if c == 1 else self.reciprocal() * c

    def exp(self) -> "Value":
        """exp(self); local gradient exp(self) = out."""
        return Value._apply("exp", self)

    def reciprocal(self) -> "Value":
        """1 / self; local gradient -1 / self^2 = -out^2.  Refuses exactly 0."""
        if self.data == 0:
            raise ValueError(f"the reciprocal gate's input {self._name()!r} is exactly 0: 1/x is undefined there")
        return Value._apply("reciprocal", self)

    def relu(self) -> "Value":
        """max(0, self); local gradient 1 if self > 0, else 0 (the activation's convention at 0)."""
        return Value._apply("relu", self)

    def sigmoid(self) -> "Value":
        """sigma(self) = 1 / (1 + exp(-self)); local gradient sigma (1 - sigma)."""
        return Value._apply("sigmoid", self)

    def max(self, other) -> "Value":
        """max(self, other): the gradient goes to the larger input, on a tie to ``self``."""
        return maximum(self, other)

    def backward(self) -> None:
        """Backpropagate from this output: fill ``grad`` = d self / d v for every v in its graph.

        Every gradient in the graph is reset first, so calling it twice gives the
        same result.  The gate applications are recorded; see :func:`trace`.
        """
        order = topological_order(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        records = []
        for v in reversed(order):
            if v.gate is None:
                continue
            local = GATES[v.gate].local(*(u.data for u in v.inputs), v.data, xp=np, **v.consts)
            local = tuple(float(g) for g in local)
            downstream = tuple(v.grad * g for g in local)
            for u, g in zip(v.inputs, downstream):
                u.grad += g
            records.append(GateRecord(v.gate, v.inputs, v, dict(v.consts), local, v.grad, downstream))
        self._trace = records[::-1]

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g}{label})"


def maximum(a, b) -> Value:
    """max(a, b) as a gate; the gradient goes to the larger input, on a tie to ``a``.

    A real constant is wrapped as a Value (a leaf).
    """
    a, b = (v if isinstance(v, Value) else Value(Value._constant(v, "maximum(a, b)", name), label=f"{v:g}")
            for v, name in ((a, "a"), (b, "b")))
    return Value._apply("max", a, b)


@dataclass(frozen=True)
class GateRecord:
    """One gate application in a backward pass.

    ``upstream`` = d out / d output; ``local[i]`` = d output / d inputs[i];
    ``downstream[i]`` = upstream * local[i], the share that reached inputs[i].
    """

    gate: str
    inputs: tuple[Value, ...]
    output: Value
    consts: dict = field(default_factory=dict)
    local: tuple[float, ...] = ()
    upstream: float = 0.0
    downstream: tuple[float, ...] = ()


def topological_order(output: Value) -> list[Value]:
    """Every Value ``output`` depends on, inputs before the gates that use them.

    Depth-first with an explicit stack, so a chain of any length works.
    """
    if not isinstance(output, Value):
        raise TypeError(f"argument 'output' expected a Value, got {describe(output)}")
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        v, inputs_done = stack.pop()
        if inputs_done:
            order.append(v)
        elif v not in seen:
            seen.add(v)
            stack.append((v, True))
            stack.extend((u, False) for u in reversed(v.inputs) if u not in seen)
    return order


def trace(output: Value) -> list[GateRecord]:
    """The gate records of ``output.backward()``, in forward order (inputs first)."""
    if not isinstance(output, Value):
        raise TypeError(f"argument 'output' expected a Value, got {describe(output)}")
    if output._trace is None:
        raise ValueError("argument 'output' has no backward pass recorded: call output.backward() first")
    return list(output._trace)


def value_names(output: Value) -> dict[Value, str]:
    """Every Value of ``output``'s graph and its name: its label, or v1, v2, ... in forward order."""
    names, k = {}, 0
    for v in topological_order(output):
        if not v.label:
            k += 1
        names[v] = v.label or f"v{k}"
    return names
