"""One case sent to the student's code: the program that runs there, fresh each time, and the same here.

For each case the grader writes a *program* (:func:`case_program`): the text of
:mod:`backprop.grading.kernel_side` (docstrings and comments stripped), followed by a
``run(namespace)`` that calls it with the graded functions' names, the part's
``call`` source and the case's inputs as a Python literal. It writes it into a folder
the kernel sees read-only, and sends a small cell (:func:`case_cell`) that reads the
program, compiles it into a fresh namespace whose builtins are the interpreter's own,
runs it on the namespace the cell runs in, sends the outcome (JSON text) back in a
display message of the request (the kernel writes no file the grader reads), and
removes its own name again. Its
own names are local to one function, and it reaches the builtins through an
``import`` statement: no name of the student's is trusted but the graded functions,
and nothing of the grader's is imported.

(The program travels as a file rather than inside the cell because IPython parses a
cell several times, token by token: a 9 KB cell costs about 10 ms a case.)

:func:`run_here` runs the same program in this process, on functions given
directly: the student's self-check.
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
import secrets
from pathlib import Path
from typing import Any, Callable, Mapping

from . import kernel_side

__all__ = ["SOURCE", "KERNEL_SIDE", "MAX_RESULT_CHARS", "case_program", "case_cell", "run_here", "check_literal",
           "stripped"]

#: the text of kernel_side.py
SOURCE = Path(kernel_side.__file__).read_text(encoding="utf-8")

#: an answer's JSON longer than this is not judged (a student returning megabytes)
MAX_RESULT_CHARS = 2_000_000


@functools.lru_cache(maxsize=64)
def stripped(source: str) -> str:
    """The same code without docstrings and comments (``ast.unparse``): what is sent to the kernel."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


#: what runs where the student's code lives: kernel_side.py, stripped
KERNEL_SIDE = stripped(SOURCE)

def check_literal(value, where: str = "payload", depth: int = 0) -> None:
    """Raise ValueError unless ``value`` is JSON-like data whose ``repr`` is a Python literal (finite floats)."""
    if depth > 40:
        raise ValueError(f"{where} is nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} holds {value}, which has no literal: keep inputs finite")
        return
    if isinstance(value, list):
        for n, v in enumerate(value):
            check_literal(v, f"{where}[{n}]", depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where} has a key {k!r} that is not a string")
            check_literal(v, f"{where}[{k!r}]", depth + 1)
        return
    raise ValueError(f"{where} holds a {type(value).__name__}; a case's inputs are lists, numbers and strings")


def case_program(names, call: str, payload: dict, limit: int = MAX_RESULT_CHARS) -> str:
    """The program of one case: the kernel side, and ``run(namespace)`` that runs the case on ``namespace``."""
    check_literal(payload)
    return (f"{KERNEL_SIDE}\n\n\ndef run(namespace):\n"
            f"    return run_case(namespace, {tuple(names)!r}, {stripped(call)!r}, {payload!r}, {limit!r})\n")


def case_cell(program_path: str, mime: str) -> str:
    """The cell the kernel runs for one case: compile the program at ``program_path``, run it, and send the outcome
    back as a display message whose data has the one key ``mime`` (the kernel writes no file for the grader)."""
    fn = f"__backprop_case_{secrets.token_hex(8)}"
    return (
        f"def {fn}():\n"
        f"    import builtins as B, sys\n"
        f"    frame = sys._getframe(0)\n"
        f"    try:\n"
        f"        with B.open({program_path!r}, encoding='utf-8') as f:\n"
        f"            program = f.read()\n"
        f"        scope = {{'__builtins__': B, '__name__': 'backprop_grader'}}\n"
        f"        B.exec(B.compile(program, {kernel_side.GRADER_FILE!r}, 'exec'), scope)\n"
        f"        text = scope['run'](frame.f_globals)\n"
        f"        from IPython.display import publish_display_data\n"
        f"        publish_display_data({{{mime!r}: text}})\n"
        f"    finally:\n"
        f"        frame.f_globals.pop({fn!r}, None)\n"
        f"{fn}()\n"
    )


def run_here(names, call: str, functions: Mapping[str, Callable], payload: dict, limit: int = MAX_RESULT_CHARS) -> str:
    """The outcome (JSON text) of one case run in this process, by the same program the kernel runs."""
    scope: dict[str, Any] = {"__builtins__": builtins, "__name__": "backprop_grader"}
    exec(compile(case_program(names, call, payload, limit), kernel_side.GRADER_FILE, "exec"), scope)
    return scope["run"](dict(functions))
