"""Homework: the student's self-check and the instructor's grader.

In a homework notebook, a check cell runs the public tests of one graded part::

    from backprop.grading import check
    check("02_forward", forward_pass)

It prints one line when everything passes; otherwise it stops with a message that
names the test, the output and entry that disagree, expected versus got, and which
rule or factor of the chain rule is wrong.

The instructor's commands are in ``python -m backprop.grading`` (``generate``,
``grade``); see ``backprop.grading.__main__``.
"""

from __future__ import annotations

import contextlib
import io
from typing import Callable

import numpy as np

from .harness import run_here
from .parts import Case, Part, Verdict, calls, judge_case, knock_on
from .registry import PARTS, get_part

__all__ = ["check", "CheckFailed", "get_part", "PARTS", "Part", "Case", "Verdict", "DEFAULT_SEED", "hidden_rng"]

#: seed of the hidden cases when none is given (the grader's ``--seed``)
DEFAULT_SEED = 20261121


def hidden_rng(part_id: str, seed: int = DEFAULT_SEED) -> np.random.Generator:
    """The generator of one part's hidden cases: one stream per (seed, part)."""
    return np.random.default_rng([seed, *part_id.encode()])


class CheckFailed(AssertionError):
    """A check cell's tests did not pass; the message says what is wrong.

    In a notebook it is shown as its message alone, without a traceback into the
    grader's code (IPython calls ``_render_traceback_``).
    """

    def _render_traceback_(self):
        return str(self).splitlines()


def check(part_id: str, *functions: Callable, hidden: bool = False, seed: int = DEFAULT_SEED) -> None:
    """Run the tests of one graded part on the given functions, here, in this kernel.

    ``functions`` are the student's functions the part needs, in the order of
    ``get_part(part_id).names``. ``hidden=True`` adds the random cases the grader
    draws (used by the complete solutions; the student versions call the public
    tests only). Prints one line when every test passes; raises ``CheckFailed``
    otherwise.
    """
    part = get_part(part_id)
    if len(functions) != len(part.names):
        raise TypeError(
            f"check({part_id!r}, ...) expected {len(part.names)} function(s) ({', '.join(part.names)}), got {len(functions)}"
        )
    objects = _namespace(dict(zip(part.names, functions)))
    cases = part.cases(hidden_rng(part_id, seed) if hidden else None)
    failures = []
    for case in cases:  # the same kernel-side code as the grader's, run here
        verdict = judge_case(part, case, run_here(part.names, part.call, objects, case.payload))
        if not verdict.passed:
            failures.append((case, verdict))
    public = [c for c in cases if not c.hidden]
    n_hidden = len(cases) - len(public)
    if not failures:
        tests = f"{len(public)} public test" + ("s" if len(public) != 1 else "")
        if n_hidden:
            tests += f" and {n_hidden} random cases"
        verb = "passes" if len(cases) == 1 else "pass"
        print(f"✓ {part_id}: {'all ' if len(cases) > 1 else ''}{tests} {verb} ({part.title}).")
        return
    raise CheckFailed(_failure_message(part, cases, failures, _knock_on_here(part, objects, failures)))


def _code_names(code) -> set[str]:
    """The global names a code object reads, with those of the code nested in it (comprehensions, lambdas)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def _knock_on_here(part: Part, namespace: dict, failures) -> list[str]:
    """The self-check's version of the grader's knock-on lines: a function the checked one calls (found from
    the compiled code, in this kernel's namespace) whose own part's public tests fail here too."""
    graph = {name: _code_names(f.__code__) & namespace.keys() - {name}
             for name, f in namespace.items() if hasattr(f, "__code__")}
    reached = calls(graph, part.names)
    homework = part.id.split("_")[0]
    failing = []
    for other in PARTS.values():
        if (other.id.split("_")[0] != homework or other.id == part.id or set(other.names) & set(part.names)
                or not set(other.names) & reached.keys() or not all(n in namespace for n in other.names)):
            continue
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            fails = any(not judge_case(other, case, run_here(other.names, other.call, namespace, case.payload)).passed
                        for case in other.public_cases())
        if fails:
            failing.append(other)
    return knock_on(part, failing, graph, failures, what="check")


def _namespace(objects: dict) -> dict:
    """The checked functions, with the other functions of the namespace they were defined in (a notebook's).

    The grader looks for the function that raised NotImplementedError among all the
    notebook's names; so does the self-check, which then blames a helper the checked
    function calls (``softmax`` inside ``softmax_jacobian``) as the grader does.
    """
    namespace = {}
    for f in objects.values():
        defined_in = getattr(f, "__globals__", None)
        if isinstance(defined_in, dict):
            namespace.update({k: v for k, v in defined_in.items() if callable(v) and hasattr(v, "__code__")})
    namespace.update(objects)
    return namespace


def _failure_message(part: Part, cases, failures, causes=()) -> str:
    case, verdict = failures[0]
    lines = [f"✗ {part.id} ({part.title}): {len(cases) - len(failures)} of {len(cases)} tests pass."]
    lines += [f"  {cause}" for cause in causes]
    if case.hidden:
        lines.append(f"  A random case fails: {verdict.diagnosis}")
    else:
        lines.append(f"  Test '{case.label}':")
        lines += [f"    {d}" for d in verdict.details]
        if verdict.diagnosis and all(verdict.diagnosis not in d for d in verdict.details):
            lines.append(f"  Hint: {verdict.diagnosis}")
    return "\n".join(lines)
