"""Graded parts: the test cases of one exercise and how an answer is judged.

A *part* is one graded cell of a homework notebook (its nbgrader ``grade_id`` is the
part's ``id``). It knows

- which of the student's functions it needs (``names``);
- its public cases (fixed, shown to the student with their numbers) and its hidden
  cases (drawn from a ``numpy.random.Generator`` at grading time), each possibly in a
  ``group`` (say, the cases at a kink) whose share of the points the part states;
- how to call the student's code on one case: ``call``, Python *source* that runs
  where the student's code lives (see :mod:`backprop.grading.kernel_side`), builds
  the inputs from the case's JSON data ``p`` and calls ``call(name, *args)``;
- what the inputs must still be after the call (``arguments``): an argument changed in
  place is a wrong answer, named;
- the reference answer (``expected``) and how to judge an answer (``judge``), which
  run where the student's code cannot reach them: in the grader's process;
- which modules of ``backprop`` the homework may use (``may_use``): the grading kernel
  has no others, and an answer that reaches for one is told which.

The same objects serve the student's self-check (``backprop.grading.check``) and the
instructor's grader (``python -m backprop.grading grade``), so a check cell and the
grade can never disagree about what is right.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from ..core.tolerance import agree

__all__ = [
    "Case",
    "Verdict",
    "Part",
    "judge_case",
    "part_score",
    "AnswerError",
    "as_numbers",
    "compare_numbers",
    "fmt",
    "first_difference",
    "group_feedback",
    "calls",
    "knock_on",
]


@dataclass(frozen=True)
class Case:
    """One test case: a label the student can read, the inputs (JSON data), and its group ("" or e.g. "kink")."""

    label: str
    payload: dict
    hidden: bool = False
    group: str = ""


@dataclass
class Verdict:
    """The judgement of one case.

    ``details``: what is wrong, with numbers (shown for public cases only);
    ``diagnosis``: which rule or factor is wrong, without numbers (shown for hidden
    cases too, so hidden inputs and reference values never reach a student).
    """

    passed: bool
    details: list[str] = field(default_factory=list)
    diagnosis: str = ""

    @classmethod
    def ok(cls) -> "Verdict":
        return cls(True)

    @classmethod
    def wrong(cls, details, diagnosis: str) -> "Verdict":
        return cls(False, [details] if isinstance(details, str) else list(details), diagnosis)


class AnswerError(Exception):
    """An answer of the wrong kind (not numbers, wrong shape, wrong length): a wrong answer, not a grader fault."""


class Part:
    """Base class of a graded part; a subclass says what it is in its header and defines the methods below.

        class InputStep(Part, id="02_input_step", names=("input_step",), title="back to the previous layer"):

    ``id``: the nbgrader grade_id of the part's check cell; ``names``: the student's
    functions this part calls, in the order ``check`` receives them; ``title``: what
    the feedback calls it; ``hidden_count``: the number of hidden cases drawn at
    grading time (default 12). A class without ``id`` is a base for a homework's parts.

    Class attributes a part sets: ``call`` (kernel-side source), ``argument_names``
    (the labels of ``call``'s arguments, for the feedback), ``shares`` ({group: share
    of the points}), ``group_notes`` ({group: what its cases are}), ``may_use``
    (modules of ``backprop`` the homework may use), ``packages`` (the installed
    packages it may import) and ``allowed`` (the homework's rule, in words).
    """

    id: str = ""
    title: str = ""
    names: tuple[str, ...] = ()
    hidden_count: int = 12
    call: str = ""
    argument_names: tuple[str, ...] = ()
    shares: dict[str, float] = {}
    group_notes: dict[str, str] = {}
    may_use: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    allowed: str = ""

    def __init_subclass__(cls, *, id: str | None = None, names: tuple[str, ...] = (), title: str = "",
                          hidden_count: int = 12, **kwargs):
        super().__init_subclass__(**kwargs)
        if id is not None:
            cls.id, cls.names, cls.title, cls.hidden_count = id, tuple(names), title, hidden_count

    def public_cases(self) -> list[Case]:
        raise NotImplementedError

    def hidden_case(self, rng: np.random.Generator, n: int) -> Case:
        """The n-th hidden case (n = 0 .. hidden_count - 1), drawn from ``rng``."""
        raise NotImplementedError

    def hidden_cases(self, rng: np.random.Generator) -> list[Case]:
        """``hidden_count`` hidden cases, drawn in order from ``rng`` (each marked hidden)."""
        return [replace(self.hidden_case(rng, n), hidden=True) for n in range(self.hidden_count)]

    def arguments(self, payload: dict) -> list | None:
        """The call's arguments as plain data, as they must still be after the call (None: not checked)."""
        return None

    def entry_name(self, label: str, path: tuple, payload: dict) -> str:
        """An entry of an argument of the case ``payload``, for the feedback: ``label[i][j]`` (a part adds the lecture's name)."""
        return label + "".join(f"[{i}]" for i in path)

    def expected(self, payload: dict) -> Any:
        """The reference answer for one case (computed by the library)."""
        raise NotImplementedError

    def judge(self, payload: dict, answer: Any, expected: Any) -> Verdict:
        """Compare an answer (JSON data from the kernel) with the reference."""
        raise NotImplementedError

    def cases(self, rng: np.random.Generator | None = None) -> list[Case]:
        """Public cases, then (given ``rng``) hidden ones."""
        out = list(self.public_cases())
        if rng is not None:
            out += self.hidden_cases(rng)
        return out


# -- judging one outcome ---------------------------------------------------------------------------
def first_difference(want, got, path: tuple = ()) -> tuple | None:
    """The path to the first entry where two pieces of plain data differ, or None when they are equal."""
    if isinstance(want, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(want, got)):
            where = first_difference(a, b, path + (i,))
            if where is not None:
                return where
        return None if len(want) == len(got) else path + (min(len(want), len(got)),)
    if isinstance(want, dict) and isinstance(got, dict):
        for key in want:
            if key not in got:
                return path
            where = first_difference(want[key], got[key], path)
            if where is not None:
                return where
        return None if set(want) == set(got) else path
    if isinstance(want, bool) or isinstance(got, bool):
        return None if want is got else path
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return None if want == got else path
    return None if want == got else path


def _changed_argument(part: Part, case: Case, got) -> Verdict | None:
    want = part.arguments(case.payload)
    if want is None:
        return None
    if not isinstance(got, list) or len(got) != len(want):
        return None  # the call never completed with these arguments (reported otherwise)
    for n, (a, b) in enumerate(zip(want, got)):
        where = first_difference(a, b)
        if where is None:
            continue
        label = part.argument_names[n] if n < len(part.argument_names) else f"argument {n + 1}"
        entry = part.entry_name(label, where, case.payload)
        fn = part.names[0]
        why = (f"`{fn}` changed its argument `{label}` in place ({entry}): the caller still needs it as it was. "
               f"Write results into new arrays (np.zeros(...), or a .copy()) instead of `+=`, `*=` or `x[i] = ...` "
               f"on an array you were given (or on a function of yours that `{fn}` calls)")
        return Verdict.wrong(f"{entry} was changed by the call", why)
    return None


def _forbidden(part: Part, module: str) -> str:
    rule = f" ({part.allowed})" if part.allowed else ""
    if module == "backprop" or module.startswith("backprop."):
        inner = module[len("backprop."):]
        if inner not in part.may_use:
            return f"this part must not use {module}{rule}"
        return ""
    top = module.split(".")[0]
    return f"`{top}` is not available when grading{rule}"


def judge_case(part: Part, case: Case, outcome_json: str | None, undefined: dict[str, str] | None = None) -> Verdict:
    """Judge the outcome of a case (JSON text from the kernel side) against the reference, safely.

    Only ``json.loads`` touches the outcome: nothing the student's code produced is
    executed or unpickled here. ``undefined``: {function: why it is not defined} (the
    grader knows when a function's cell failed to run), said instead of guessing.
    """
    undefined = undefined or {}
    names = ", ".join(f"`{n}`" for n in part.names)
    if outcome_json is None:
        return Verdict.wrong("no result came back from the notebook", "the notebook did not return a result")
    try:
        outcome = json.loads(outcome_json)
    except (ValueError, RecursionError):
        return Verdict.wrong("the result could not be read", "the result could not be read")
    if not isinstance(outcome, dict):
        return Verdict.wrong("the result could not be read", "the result could not be read")
    if "missing" in outcome:
        missing = str(outcome["missing"])
        if missing in undefined:
            msg = f"`{missing}` is not defined because {undefined[missing]}: fix that and it will be. This part needs {names}."
        else:
            msg = (f"`{missing}` is not defined. Was its cell deleted, not run, or the function renamed? "
                   f"This part needs {names}.")
        return Verdict.wrong(msg, msg)
    if "not_callable" in outcome:
        msg = f"`{outcome['not_callable']}` should be a function, but it is a {outcome.get('type', '?')}"
        return Verdict.wrong(msg, msg)
    if "not_implemented" in outcome:
        raiser = str(outcome["not_implemented"])
        if raiser in part.names:
            msg = f"not answered yet: `{raiser}` still raises NotImplementedError"
        else:
            msg = f"not answered yet: `{raiser}`, which {names} calls, still raises NotImplementedError"
        return Verdict.wrong(msg, msg)
    if "bad_answer" in outcome:
        return Verdict.wrong(str(outcome["bad_answer"]), str(outcome["bad_answer"]))
    if "error" in outcome:
        err = outcome["error"] if isinstance(outcome["error"], dict) else {}
        where = f" (at {err.get('where')})" if err.get("where") else ""
        module = err.get("module")
        if isinstance(module, str) and err.get("type") in ("ModuleNotFoundError", "ImportError"):
            msg = _forbidden(part, module)
            if msg:
                return Verdict.wrong(f"{msg}{where}", msg)
        found = re.fullmatch(r"name '(\w+)' is not defined", str(err.get("message", "")))
        if err.get("type") == "NameError" and found and found.group(1) in undefined:
            why = f"{names} raised NameError: `{found.group(1)}` is not defined because {undefined[found.group(1)]}"
            return Verdict.wrong(why + where, why)
        msg = f"{names} raised {err.get('type', 'an error')}: {err.get('message', '')}{where}"
        return Verdict.wrong(msg, f"{names} raised {err.get('type', 'an error')}")
    if "answer" not in outcome:
        return Verdict.wrong("the result could not be read", "the result could not be read")
    changed = _changed_argument(part, case, outcome.get("arguments"))
    if changed is not None:
        return changed
    expected = part.expected(case.payload)  # outside the try: a fault of the reference must surface
    try:
        verdict = part.judge(case.payload, outcome["answer"], expected)
        if not verdict.passed and _single_precision(outcome["answer"], expected):
            return Verdict.wrong(FLOAT32, FLOAT32)
        return verdict
    except AnswerError as exc:
        return Verdict.wrong(str(exc), str(exc))
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        # an answer shaped in a way no judge anticipated: wrong, not a reason to stop grading
        msg = f"the result of {names} is not shaped as the exercise asks (see the function's docstring)"
        return Verdict.wrong(msg, msg)


#: what an answer computed in float32 is told, instead of a formula's hint that does not apply
FLOAT32 = ("every number agrees with the reference to about 7 significant digits, and no further: the answer was "
           "computed in float32 (single precision). The rule is right; compute in float64, numpy's default "
           "(drop dtype=np.float32 or .astype(np.float32))")


def _leaves(value, like) -> list | None:
    """The numbers and other leaves of an answer (JSON data), paired with the reference's, or None when the
    two are not shaped alike."""
    if isinstance(like, np.ndarray) and like.dtype.kind in "fiu":
        try:
            got = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
        return list(zip(got.ravel().tolist(), like.ravel().tolist())) if got.shape == like.shape else None
    if isinstance(like, dict):
        if not isinstance(value, dict) or set(map(str, like)) != set(value):
            return None
        pairs = []
        for key, item in like.items():
            inner = _leaves(value[str(key)], item)
            if inner is None:
                return None
            pairs += inner
        return pairs
    if isinstance(like, (list, tuple, np.ndarray)):
        if not isinstance(value, list) or len(value) != len(like):
            return None
        pairs = []
        for a, b in zip(value, like):
            inner = _leaves(a, b)
            if inner is None:
                return None
            pairs += inner
        return pairs
    return [(value, like.item() if isinstance(like, np.generic) else like)]


def _single_precision(answer, expected) -> bool:
    """Whether a wrong answer is the right one computed in float32: every number it holds is a float32 value,
    all of them agree with the reference to float32's precision, some carry fewer digits than the reference,
    and everything else in it is right."""
    pairs = _leaves(answer, expected)
    if not pairs:
        return False
    real = [isinstance(b, float) and isinstance(a, (int, float)) and not isinstance(a, bool) for a, b in pairs]
    if not any(real) or any(a != b for (a, b), r in zip(pairs, real) if not r):
        return False
    got = np.array([a for (a, _), r in zip(pairs, real) if r], dtype=float)
    want = np.array([b for (_, b), r in zip(pairs, real) if r], dtype=float)
    if not np.all(np.isfinite(got)) or not np.array_equal(got, got.astype(np.float32).astype(float)):
        return False
    return bool(np.all(agree(got, want, rtol=1e-5, atol=1e-7)) and not np.all(agree(got, want)))


def scored(verdicts: Sequence[tuple[Case, Verdict]]) -> list[tuple[Case, Verdict]]:
    """The cases that earn points: the hidden ones when there are any, else all."""
    hidden = [(case, verdict) for case, verdict in verdicts if case.hidden]
    return hidden or list(verdicts)


def part_score(part: Part, points: float, verdicts: Sequence[tuple[Case, Verdict]]) -> float:
    """The points a part earns: each group of cases weighs its share (``part.shares``), the other cases the rest.

    Within a group every case counts the same. When a group has no cases, the others
    share the whole. When there are hidden cases, they alone earn the points: the
    public ones (whose answers a student can know in advance) are feedback, and weigh
    nothing.
    """
    groups: dict[str, list[bool]] = {}
    for case, verdict in scored(verdicts):
        groups.setdefault(case.group, []).append(verdict.passed)
    if not groups:
        return 0.0
    weights = {g: part.shares[g] for g in groups if g in part.shares}
    others = [g for g in groups if g not in part.shares]
    for g in others:
        weights[g] = max(0.0, 1.0 - sum(part.shares[h] for h in groups if h in part.shares)) / len(others)
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    earned = sum(weights[g] * sum(passed) / len(passed) for g, passed in groups.items())
    return round(points * earned / total, 2)


def group_feedback(part: Part, points: float, verdicts: Sequence[tuple[Case, Verdict]]) -> list[str]:
    """A line per group of cases (other than the main one) where some case failed: what it weighs, what was lost.

    Only when the part's other cases (those in no group with a share) all pass: then the group fails for
    a reason of its own (a kink's subgradient, say). When the other cases fail too, the same mistake
    most likely fails them all (a sign, a shape), and a line about the group would point at the wrong cause.
    """
    if not all(v.passed for c, v in scored(verdicts) if c.group not in part.shares):
        return []
    lines = []
    for group, share in part.shares.items():
        mine = [v for c, v in scored(verdicts) if c.group == group]
        if not mine or all(v.passed for v in mine):
            continue
        passed = sum(v.passed for v in mine)
        lost = share * points * (len(mine) - passed) / len(mine)
        note = part.group_notes.get(group, f"the {group} cases")
        lines.append(f"{note[:1].upper()}{note[1:]}: {passed} of {len(mine)} pass. They weigh {fmt(share)} of this "
                     f"part's points, so {fmt(round(lost, 2))} of {fmt(points)} are lost.")
    return lines


# -- one part failing because another does ------------------------------------------------------------
def calls(graph: dict[str, set[str]], start: Sequence[str]) -> dict[str, list[str]]:
    """The functions ``start`` calls, directly or through others: each with the path of calls that reaches it.

    ``graph``: {function: the names of functions its body uses} (the student's functions only).
    A function of ``start`` is not in the answer unless it is reached from another.
    """
    paths: dict[str, list[str]] = {}
    queue = [[name] for name in start]
    while queue:
        path = queue.pop(0)
        for callee in sorted(graph.get(path[-1], ())):
            if callee not in paths and callee not in start and callee in graph:
                paths[callee] = path + [callee]
                queue.append(path + [callee])
    return paths


def knock_on(part: Part, failing: Sequence[Part], graph: dict[str, set[str]],
             verdicts: Sequence[tuple[Case, Verdict]] = (), what: str = "part") -> list[str]:
    """Lines for a failing part that calls a function failing its own part: the cause is most likely there.

    ``failing``: the other parts that fail (in the same submission, or the same kernel); ``graph``: which
    function uses which (:func:`calls`); ``verdicts``: this part's, so that a function its feedback already
    names as the cause (NotImplementedError, not defined) is not named twice; ``what``: "part" (the grader)
    or "check" (the self-check). Only the deepest such functions are named: when ``backward_pass`` and the
    ``weight_step`` it calls both fail, ``weight_step`` is the one to fix first.
    """
    owners: dict[str, Part] = {}
    for other in failing:
        if other.id != part.id and not set(other.names) & set(part.names):
            for name in other.names:
                owners.setdefault(name, other)
    reached = calls(graph, part.names)
    culprits = [name for name in reached if name in owners]
    deepest = [name for name in culprits if not any(m != name and m in calls(graph, [name]) for m in culprits)]
    said = [" ".join(v.details) + " " + v.diagnosis for _, v in verdicts if not v.passed]
    lines = []
    for name in deepest or culprits:
        if said and all(f"`{name}`" in text for text in said):
            continue
        path = reached[name]
        through = f" (through {', '.join(f'`{n}`' for n in path[1:-1])})" if len(path) > 2 else ""
        lines.append(f"`{path[0]}` calls `{name}`{through}, which fails its own {what} ({owners[name].id}): "
                     f"fix that first; this {what} may then pass.")
    return lines


# -- comparison helpers used by the parts -----------------------------------------------------------
def fmt(value) -> str:
    """A number as a student reads it: 6 significant digits."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=float) + 0.0
        return np.array2string(arr, precision=6, separator=", ", suppress_small=True, floatmode="maxprec")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return repr(value)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v + 0.0:.6g}"  # + 0.0: no "-0"


def as_numbers(value, what: str, shape: Sequence[int] | None = None) -> np.ndarray:
    """An answer as a float64 array of the expected shape, or ``AnswerError`` saying what came."""
    if isinstance(value, dict) and "__unsupported__" in value:
        raise AnswerError(f"{what} should be numbers, got {value['__unsupported__']}")
    if value is None:
        raise AnswerError(f"{what} is None: it was never given a value (was it stored at another index, "
                          f"or its line skipped for some k?)")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise AnswerError(f"{what} should be numbers, got {_short(value)}") from None
    if shape is not None and arr.shape != tuple(shape):
        if arr.size == int(np.prod(shape)) and arr.ndim != len(shape):
            hint = " (the right number of entries, but nested differently)"
        elif len(shape) == 2 and arr.shape == tuple(shape)[::-1]:
            hint = " (transposed?)"
        else:
            hint = ""
        raise AnswerError(f"{what} should have shape {tuple(shape)}, got {arr.shape}{hint}")
    return arr


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_numbers(got: np.ndarray, want: np.ndarray, name: Callable[[tuple], str], limit: int = 3) -> list[str]:
    """Messages for the entries that disagree: which entry, expected versus got (at most ``limit``)."""
    bad = np.argwhere(~agree(got, want))
    out = []
    for idx in bad[:limit]:
        idx = tuple(int(i) for i in idx)
        out.append(f"{name(idx)}: expected {fmt(want[idx])}, got {fmt(got[idx])}")
    if len(bad) > limit:
        out.append(f"... and {len(bad) - limit} more entries disagree")
    return out
