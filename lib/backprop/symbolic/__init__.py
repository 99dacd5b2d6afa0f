"""The SymPy witnesses: every rule of the math checked against ``sympy.diff``.

* :mod:`.ops` -- the namespace and arrays that run the library's own rules on symbols;
* :mod:`.rules` -- every derivative rule, verified (``verify("sigmoid")``, ``verify_all()``);
* :mod:`.network` -- the scalar network in symbols, each line of its backward pass derived;
* :mod:`.influence` -- influence diagrams: local derivatives on arrows, the chain rule as a sum over paths;
* :mod:`.paths` -- a path sum checked three ways (paths, ``sympy.diff``, central differences);
* :mod:`.surfaces` -- the loss surfaces of notebook 00: rules verified, critical points classified.

    >>> import backprop.symbolic as sym
    >>> sym.verify("sigmoid").ok
    True
"""

from .ops import SYMPY_OPS, RuleCheck, SymArray, compare, regions, sym_array, symbols_array
from .rules import RULES, derivation, verify, verify_all

__all__ = ["SYMPY_OPS", "RuleCheck", "SymArray", "compare", "regions", "sym_array", "symbols_array", "RULES",
           "derivation", "verify", "verify_all"]
