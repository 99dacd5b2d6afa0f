"""The kernel side of grading: the only code the grader runs where a student's code lives.

The grader never imports this module in the student's kernel: it sends its *text*
with every case (``backprop.grading.harness``), and there it becomes functions whose
globals are a fresh dictionary holding the interpreter's ``builtins`` module. So
rebinding a global name of the notebook (``json``, ``np``, ``len``, ``check``) or
defining a ``run_case`` of one's own changes nothing here; the only names it reads
from the student's namespace are the functions being graded.

What it does *not* resist, and need not: the student's code runs in the same
process, so it can patch what this code uses (``builtins.exec``, ``compile``,
``open``, ``__import__``, IPython's display machinery) and so take over this code
or the outcome it sends back. That buys nothing: the outcome is only what the
student's own functions could have returned, and it is judged in the grader's
process, against references that never enter this kernel.

It knows no answer. :func:`run_case` builds a case's inputs and calls the student's
function with the part's ``call`` source (text too, from the grader), then returns
plain data as JSON text, written here without the ``json`` module:

- ``{"answer": ..., "arguments": [...]}``: the result, and the arguments as they were
  after the call (the grader compares them with what it sent: an argument changed in
  place is a wrong answer);
- ``{"missing": name}`` or ``{"not_callable": name, "type": ...}``;
- ``{"not_implemented": name}``: ``name`` is the function that raised NotImplementedError;
- ``{"bad_answer": message}``: an answer of the wrong kind (the part's ``call`` said so);
- ``{"error": {"type", "message", "where", "module"}}``: the student's code raised
  (``module``: the module an ImportError could not find).

The student's self-check (``backprop.grading.check``) runs the very same text, in the
student's own kernel, so a check cell and the grade cannot disagree.

The text must not use a name it does not define or get from the builtins: it runs as
the body of a function nested in the code the grader sends (a test checks it has no
free variables).
"""

GRADER_FILE = "<backprop grader>"


class Wrong(Exception):
    """An answer of the wrong kind: raised by a part's ``call`` source, reported as ``bad_answer``."""


def run_case(namespace, names, call, payload, limit=2_000_000):
    """Run one case: the student's functions ``names`` (read from ``namespace``) through the part's ``call``.

    ``call`` is Python source that reads the inputs from ``p`` (``payload``), calls the
    student's code with ``call(name, *args)``, may register objects it made with
    ``give(obj, label)`` and stores the answer in ``result``. Returns JSON text of at
    most about ``limit`` characters.
    """
    functions = {}
    for name in names:
        f = namespace.get(name) if isinstance(namespace, dict) else None
        if f is None:
            return encode({"missing": name}, limit)
        if not callable(f):
            return encode({"not_callable": name, "type": type(f).__name__}, limit)
        functions[name] = f
    given = {}
    seen = {}

    def give(obj, label):
        given[id(obj)] = (obj, label)
        return obj

    def call_student(name, *args):
        result = functions[name](*args)
        seen["arguments"] = [plain(a, given) for a in args]
        return result

    scope = {"p": payload, "call": call_student, "give": give, "Wrong": Wrong, "__name__": "backprop_grader_call"}
    ours = (globals(), scope)  # frames of this code, or of the part's call: not the student's
    try:
        exec(compile(call, GRADER_FILE, "exec"), scope)
    except NotImplementedError as exc:
        return encode({"not_implemented": raiser(exc.__traceback__, namespace) or names[0]}, limit)
    except Wrong as exc:
        return encode({"bad_answer": short(str(exc))}, limit)
    except KeyboardInterrupt:
        raise  # the grader's time limit: let the kernel stop
    except BaseException as exc:  # the student's code raised (SystemExit included): report it as data
        error = {"type": type(exc).__name__, "message": short(message(exc)), "where": where(exc.__traceback__, ours)}
        if isinstance(exc, ImportError) and isinstance(exc.name, str):
            error["module"] = exc.name
        return encode({"error": error}, limit)
    try:
        return encode({"answer": plain(scope.get("result"), given), "arguments": seen.get("arguments")}, limit)
    except OverflowError as exc:  # the answer's JSON would be far too long
        return encode({"bad_answer": str(exc)}, limit)


# -- plain data ------------------------------------------------------------------------------------
def plain(value, given=None, depth=0):
    """numpy arrays and scalars, tuples, SymPy numbers -> lists and floats; what the harness gave -> its label.

    Anything else becomes ``{"__unsupported__": "a description"}``.
    """
    if depth > 20:
        return {"__unsupported__": "nesting deeper than 20 levels"}
    if given and id(value) in given and given[id(value)][0] is value:
        return {"given": given[id(value)][1]}
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v, given, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, given, depth + 1) for k, v in value.items()}
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "tolist"):  # a numpy array or scalar
        if getattr(dtype, "kind", "") not in ("b", "i", "u", "f"):
            return {"__unsupported__": f"numpy values of dtype {dtype}"}
        if getattr(value, "size", 1) > 1_000_000:
            return {"__unsupported__": f"an array of {value.size:,} numbers; far too large"}
        return plain(value.tolist(), given, depth + 1)
    if isinstance(value, (bool, int, float)):  # subclasses: their plain value
        return float(value) if isinstance(value, float) else int(value)
    try:  # SymPy numbers and other number-likes
        return float(value)
    except Exception:
        return {"__unsupported__": f"an object of type {kind.__name__}"}


def encode(value, limit=2_000_000):
    """JSON text of plain data (NaN and infinities as JSON's NaN / Infinity); OverflowError past ``limit``."""
    out = []
    size = [0]
    floats = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}

    def put(text):
        size[0] += len(text)
        if size[0] > limit:
            raise OverflowError(f"the answer is more than {limit:,} characters of JSON; far too large")
        out.append(text)

    def walk(v, depth):
        kind = type(v)
        if v is None or kind is bool:
            put("null" if v is None else "true" if v else "false")
        elif kind is int:
            put(repr(v))
        elif kind is float:
            put(floats.get(repr(v), repr(v)))
        elif kind is str:
            put(string(v))
        elif kind is list and depth < 40:
            put("[")
            for n, item in enumerate(v):
                put(", " if n else "")
                walk(item, depth + 1)
            put("]")
        elif kind is dict and depth < 40:
            put("{")
            for n, (key, item) in enumerate(v.items()):
                put((", " if n else "") + string(str(key)) + ": ")
                walk(item, depth + 1)
            put("}")
        else:
            put(string(f"<{kind.__name__}>"))

    walk(value, 0)
    return "".join(out)


def string(s):
    """A JSON string: quotes and backslashes escaped, everything outside printable ASCII as \\uXXXX."""
    parts = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            parts.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            parts.append(ch)
        elif code < 0x10000:
            parts.append("\\u%04x" % code)
        else:  # a surrogate pair
            code -= 0x10000
            parts.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
    parts.append('"')
    return "".join(parts)


# -- where the student's code failed ---------------------------------------------------------------
def short(text, n=300):
    return text if len(text) <= n else text[:n] + "..."


def message(exc):
    try:
        return str(exc)
    except Exception:
        return f"<the {type(exc).__name__} could not be printed>"


def frames(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def raiser(tb, namespace):
    """The name of the innermost function of the student's namespace on the traceback."""
    found = None
    for frame, _ in frames(tb):
        name = frame.f_code.co_name
        f = namespace.get(name) if isinstance(namespace, dict) else None
        if getattr(f, "__code__", None) is frame.f_code:
            found = name
    return found


def where(tb, ours):
    """Where the student's code failed: its innermost line (a cell's, if any), as text."""
    theirs = [(f, n) for f, n in frames(tb) if not any(f.f_globals is g for g in ours)]
    if not theirs:
        return ""
    cells = [(f, n) for f, n in theirs if f.f_code.co_filename.startswith("<") or "ipykernel_" in f.f_code.co_filename]
    frame, lineno = (cells or theirs)[-1]
    filename = frame.f_code.co_filename
    place = "your code" if cells else filename.replace("\\", "/").rsplit("/", 1)[-1]
    import linecache

    text = linecache.getline(filename, lineno, frame.f_globals).strip()
    return f"{place}, line {lineno}" + (f" `{short(text, 120)}`" if text else "")
