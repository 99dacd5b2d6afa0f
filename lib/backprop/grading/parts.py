"""Graded parts: the test cases of one exercise and how an answer is judged.

A *part* is one graded cell of a homework notebook (its nbgrader ``grade_id`` is the
part's ``id``). It knows

- which of the student's functions it needs (``names``);
- its public cases (fixed, shown to the student with their numbers) and its hidden
  cases (drawn from a ``numpy.random.Generator`` at grading time);
- how to call the student's code on one case (``run``: this runs where the student's
  code lives, and returns plain JSON data);
- the reference answer (``expected``) and how to judge an answer (``judge``), which
  run where the student's code cannot reach them: in the grader's process.

The same objects serve the student's self-check (``backprop.grading.check``) and the
instructor's grader (``python -m backprop.grading grade``), so a check cell and the
grade can never disagree about what is right.
"""

from __future__ import annotations

import json
import math
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..core.tolerance import agree

__all__ = [
    "Case",
    "Verdict",
    "Part",
    "run_case",
    "judge_case",
    "AnswerError",
    "as_numbers",
    "compare_numbers",
    "fmt",
]

#: answers whose JSON is longer than this are not judged (a student printing or returning megabytes)
MAX_RESULT_CHARS = 2_000_000


@dataclass(frozen=True)
class Case:
    """One test case: a label the student can read and the inputs (JSON data)."""

    label: str
    payload: dict
    hidden: bool = False


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
    grading time (default 12).
    """

    id: str = ""
    title: str = ""
    names: tuple[str, ...] = ()
    hidden_count: int = 12

    def __init_subclass__(cls, *, id: str, names: tuple[str, ...], title: str, hidden_count: int = 12, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.id, cls.names, cls.title, cls.hidden_count = id, tuple(names), title, hidden_count

    def public_cases(self) -> list[Case]:
        raise NotImplementedError

    def hidden_case(self, rng: np.random.Generator, n: int) -> Case:
        """The n-th hidden case (n = 0 .. hidden_count - 1), drawn from ``rng``."""
        raise NotImplementedError

    def hidden_cases(self, rng: np.random.Generator) -> list[Case]:
        """``hidden_count`` hidden cases, drawn in order from ``rng``."""
        return [self.hidden_case(rng, n) for n in range(self.hidden_count)]

    def run(self, functions: dict[str, Callable], payload: dict) -> Any:
        """Call the student's functions on one case; return JSON-compatible data."""
        raise NotImplementedError

    def expected(self, payload: dict) -> Any:
        """The reference answer for one case (computed by the library)."""
        raise NotImplementedError

    def judge(self, payload: dict, answer: Any, expected: Any) -> Verdict:
        """Compare an answer (JSON data from ``run``) with the reference."""
        raise NotImplementedError

    def cases(self, rng: np.random.Generator | None = None) -> list[Case]:
        """Public cases, then (given ``rng``) hidden ones."""
        out = list(self.public_cases())
        if rng is not None:
            out += [Case(c.label, c.payload, True) for c in self.hidden_cases(rng)]
        return out


# -- running and judging one case -------------------------------------------------------
def _jsonable(value, depth=0):
    """numpy arrays, scalars, tuples -> lists and floats; anything else -> a description."""
    if depth > 20:
        return {"__unsupported__": "nesting deeper than 20 levels"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item() if value.dtype.kind in "biuf" else {"__unsupported__": f"numpy {value.dtype} scalar"}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return {"__unsupported__": f"numpy array of dtype {value.dtype}"}
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    try:  # SymPy numbers and other number-likes
        return float(value)
    except Exception:
        return {"__unsupported__": f"an object of type {type(value).__name__}"}


def _student_frame(tb) -> str:
    """The last traceback line that is not the grader's own code: where the student's code failed."""
    frames = [f for f in traceback.extract_tb(tb) if "backprop/grading" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    where = "your code" if f.filename.startswith("<") or "ipykernel" in f.filename else f.filename.rsplit("/", 1)[-1]
    line = f" `{f.line.strip()}`" if f.line else ""
    return f"{where}, line {f.lineno}{line}"


def run_case(part: Part, functions: dict[str, Any], payload: dict) -> str:
    """Run one case where the student's functions live; return the outcome as a JSON string.

    The outcome is ``{"answer": ...}``, ``{"missing": name}``, ``{"not_callable": name}``,
    ``{"not_implemented": name}`` or ``{"error": {"type", "message", "where"}}``.
    """
    for name in part.names:
        if name not in functions or functions[name] is None:
            return json.dumps({"missing": name})
        if not callable(functions[name]):
            return json.dumps({"not_callable": name, "type": type(functions[name]).__name__})
    try:
        answer = part.run(functions, payload)
    except NotImplementedError:
        return json.dumps({"not_implemented": ", ".join(part.names)})
    except AnswerError as exc:
        return json.dumps({"bad_answer": str(exc)})
    except Exception as exc:  # the student's code raised: report it, do not crash the grader
        message = str(exc)
        if len(message) > 300:
            message = message[:300] + "..."
        return json.dumps(
            {"error": {"type": type(exc).__name__, "message": message, "where": _student_frame(exc.__traceback__)}}
        )
    text = json.dumps({"answer": _jsonable(answer)})
    if len(text) > MAX_RESULT_CHARS:
        return json.dumps({"bad_answer": f"the answer is {len(text):,} characters of JSON; far too large"})
    return text


def judge_case(part: Part, case: Case, outcome_json: str | None) -> Verdict:
    """Judge the outcome of ``run_case`` (a JSON string) against the reference, safely.

    Only ``json.loads`` touches the outcome: nothing the student's code produced is
    executed or unpickled here.
    """
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
        msg = (
            f"`{outcome['missing']}` is not defined. Was its cell deleted, not run, or the function renamed? "
            f"This part needs {names}."
        )
        return Verdict.wrong(msg, msg)
    if "not_callable" in outcome:
        msg = f"`{outcome['not_callable']}` should be a function, but it is a {outcome.get('type', '?')}"
        return Verdict.wrong(msg, msg)
    if "not_implemented" in outcome:
        msg = f"not answered yet: {names} still raises NotImplementedError"
        return Verdict.wrong(msg, msg)
    if "bad_answer" in outcome:
        return Verdict.wrong(str(outcome["bad_answer"]), str(outcome["bad_answer"]))
    if "error" in outcome:
        err = outcome["error"] if isinstance(outcome["error"], dict) else {}
        where = f" (at {err.get('where')})" if err.get("where") else ""
        msg = f"{names} raised {err.get('type', 'an error')}: {err.get('message', '')}{where}"
        return Verdict.wrong(msg, f"{names} raised {err.get('type', 'an error')}")
    if "answer" not in outcome:
        return Verdict.wrong("the result could not be read", "the result could not be read")
    expected = part.expected(case.payload)  # outside the try: a fault of the reference must surface
    try:
        return part.judge(case.payload, outcome["answer"], expected)
    except AnswerError as exc:
        return Verdict.wrong(str(exc), str(exc))
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        # an answer shaped in a way no judge anticipated: wrong, not a reason to stop grading
        msg = f"the result of {names} is not shaped as the exercise asks (see the function's docstring)"
        return Verdict.wrong(msg, msg)


# -- comparison helpers used by the parts ---------------------------------------------
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
