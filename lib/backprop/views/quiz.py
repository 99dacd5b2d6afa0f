"""Self-check quizzes with immediate, specific feedback (the lecture's polls).

    quiz = bp.Quiz("What does backpropagation compute?",
                   ["the derivatives of the loss", "the trained weights"],
                   answer=0,
                   explanations=["Yes: ...", "No: ..."])
    quiz.check(1)      # QuizFeedback(correct=False, message="Not quite: ...", options=(OptionVerdict(1, False, ...),))
    quiz               # as the last line of a notebook cell: the widget

``check`` is a pure function of the choice, so it is what the tests exercise;
the widget only wires one checkbox per option (beside the option's typeset text)
and a "Check" button to it.  ipywidgets is imported inside :meth:`Quiz.widget`,
so ``import backprop`` never imports it.

Options are indexed from 0.  An explanation says *why* its option is right or
wrong; it is shown under that option when the student has ticked it and pressed
"Check".  Feedback judges what was ticked and counts what is missing, but never
names a true option the student left unticked.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.checks import describe

__all__ = ["Quiz", "QuizFeedback"]


@dataclass(frozen=True)
class OptionVerdict:
    """The verdict on one option the student ticked: was ticking it right, and why (its explanation)."""

    index: int
    right: bool
    why: str = ""


@dataclass(frozen=True)
class QuizFeedback:
    """The verdict on one attempt: ``correct``, a one-line ``message``, and a verdict per ticked option.

    The message never names an option the student did not tick, so it gives no answer away.
    """

    correct: bool
    message: str
    options: tuple[OptionVerdict, ...] = ()


#: LaTeX the quizzes may use, and how a plain-text reader (a notebook opened before it is run) sees it:
#: a symbol takes the space before a letter after it, as LaTeX does (``\Delta x`` is Δx); operators keep
#: their spaces
_SYMBOLS = {r"\eta": "η", r"\partial": "∂", r"\delta": "δ", r"\Delta": "Δ", r"\alpha": "α", r"\tau": "τ",
            r"\ln": "ln", r"\max": "max", r"\,": ""}
_OPERATORS = {r"\cdot": "·", r"\approx": "≈", r"\le": "≤", r"\ge": "≥", r"\to": "→", r"\leftarrow": "←",
              r"\times": "×", r"\ne": "≠"}


#: the widest line of a plain-text fallback: JupyterLab breaks a longer line wherever it must, even mid-word
TEXT_WIDTH = 80


def wrapped(text: str, width: int = TEXT_WIDTH) -> str:
    """``text`` with every line longer than ``width`` broken between words (indentation kept on each piece)."""
    import textwrap

    lines = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        lines += textwrap.wrap(line, width, subsequent_indent=indent + "  ") if len(line) > width else [line]
    return "\n".join(lines)


def _grouped(script: str) -> str:
    """A sub- or superscript as plain text: a single token as it is (``12``, ``(k)``), more in parentheses."""
    return script if script.isalnum() or (script.startswith("(") and script.endswith(")")) else f"({script})"


def plain(text: str) -> str:
    """``text`` with its ``$...$`` maths as readable plain text: what a reader without MathJax sees."""
    import re

    def one(match):
        math = match.group(1)
        for command, shown in _SYMBOLS.items():
            math = re.sub(re.escape(command) + r"(?![A-Za-z])(?: (?=[A-Za-z(]))?", shown, math)
        for command, shown in _OPERATORS.items():
            math = re.sub(re.escape(command) + r"(?![A-Za-z])", shown, math)
        math = re.sub(r"([_^])\{([^{}]*)\}", lambda m: m.group(1) + _grouped(m.group(2)), math)  # n_{k-1} -> n_(k-1)
        math = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", math)
        math = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", math)
        return math.replace("{", "").replace("}", "")

    return re.sub(r"\$([^$]+)\$", one, text)


def _check_index(value, name: str, n: int) -> int:
    """An option index in ``range(n)``; bools and non-integers are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"argument '{name}' expected an option index (an int in 0..{n - 1}), got {describe(value)}")
    if not 0 <= value < n:
        raise ValueError(f"argument '{name}' expected an option index in 0..{n - 1}, got {value}")
    return int(value)


def _check_indices(value, name: str, n: int) -> frozenset[int]:
    """A set of distinct option indices, given as a list, tuple or set."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, set, frozenset)):
        raise TypeError(
            f"argument '{name}' expected a list of option indices (ints in 0..{n - 1}), got {describe(value)}"
        )
    indices = [_check_index(v, name, n) for v in value]
    if len(set(indices)) != len(indices):
        raise ValueError(f"argument '{name}' expected distinct option indices, got {sorted(indices)}")
    return frozenset(indices)


def _check_text(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"argument '{name}' expected a non-empty str, got {describe(value)}")
    return value


class Quiz:
    """A multiple-choice question with an explanation per option.

    ``answer`` is one index (exactly one option is right: the student picks one)
    or a list of indices (the student must tick exactly that set).
    ``explanations`` has one string per option, or is None.  Question, options and
    explanations may hold maths between ``$`` signs: the widget typesets it, the
    plain-text form (a notebook read before it is run) shows it as text.
    """

    def __init__(
        self,
        question: str,
        options: list[str],
        answer: int | list[int],
        explanations: list[str] | None = None,
    ):
        self.question = _check_text(question, "question")
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise TypeError(f"argument 'options' expected a list of str, got {describe(options)}")
        if len(options) < 2:
            raise ValueError(f"argument 'options' expected at least 2 options, got {len(options)}")
        self.options = tuple(_check_text(o, "options") for o in options)
        n = len(self.options)
        self.multiple = not isinstance(answer, numbers.Integral) or isinstance(answer, bool)
        if self.multiple:
            self._answer = _check_indices(answer, "answer", n)
            if not self._answer:
                raise ValueError("argument 'answer' expected at least one correct option, got an empty list")
        else:
            self._answer = frozenset({_check_index(answer, "answer", n)})
        if explanations is None:
            self.explanations = None
        else:
            if isinstance(explanations, (str, bytes)) or not isinstance(explanations, Sequence):
                raise TypeError(f"argument 'explanations' expected a list of str, got {describe(explanations)}")
            if len(explanations) != n:
                raise ValueError(
                    f"argument 'explanations' expected one explanation per option ({n}), got {len(explanations)}"
                )
            self.explanations = tuple(_check_text(e, "explanations") for e in explanations)

    @property
    def answer(self) -> int | list[int]:
        """The correct index, or the sorted list of correct indices."""
        return sorted(self._answer) if self.multiple else next(iter(self._answer))

    def _verdict(self, i: int) -> OptionVerdict:
        return OptionVerdict(i, i in self._answer, self.explanations[i] if self.explanations else "")

    def check(self, choice) -> QuizFeedback:
        """The feedback on ``choice``: an index, or a list of indices if ``answer`` is a list.

        Each chosen option gets its own verdict and explanation; the message says how
        many ticks are wrong and how many true options are still unticked, never which,
        so the student can look again.
        """
        n = len(self.options)
        if not self.multiple:
            i = _check_index(choice, "choice", n)
            verdict = self._verdict(i)
            message = "Correct." if verdict.right else "Not quite: read why below, then try another option."
            return QuizFeedback(verdict.right, message, (verdict,))
        chosen = _check_indices(choice, "choice", n)
        verdicts = tuple(self._verdict(i) for i in sorted(chosen))
        wrong, missing = len(chosen - self._answer), len(self._answer - chosen)
        if not chosen:
            return QuizFeedback(False, "Nothing is ticked: tick every option that is true (at least one is).")
        if not wrong and not missing:
            return QuizFeedback(True, f"Correct: exactly these {len(chosen)} are true.", verdicts)
        parts = ["Not quite:"]
        if wrong:
            parts.append(f"{wrong} of your ticks {'is' if wrong == 1 else 'are'} wrong (marked below)")
        if missing:
            more = f"{missing} more option{'s are' if missing > 1 else ' is'} true: look again at the unticked ones"
            parts.append(("and " if wrong else "") + more)
        return QuizFeedback(False, " ".join(parts) + ".", verdicts)

    @staticmethod
    def feedback_html(feedback: QuizFeedback) -> str:
        """The summary line as HTML (green if correct, red if not); maths between ``$`` is left for MathJax."""
        colour = "#1a7f37" if feedback.correct else "#b3261e"
        mark = "&#10004;" if feedback.correct else "&#10008;"
        return f'<span style="color:{colour}">{mark} {html.escape(feedback.message)}</span>'

    @staticmethod
    def option_html(verdict: OptionVerdict) -> str:
        """One ticked option's verdict as HTML: right or wrong to tick, and why."""
        colour = "#1a7f37" if verdict.right else "#b3261e"
        mark = "&#10004; right" if verdict.right else "&#10008; wrong"
        why = f" {html.escape(verdict.why)}" if verdict.why else ""
        return f'<span style="color:{colour}">{mark}.</span>{why}'

    @staticmethod
    def letter(i: int) -> str:
        return chr(ord("A") + i)

    def widget(self):
        """An ipywidgets ``VBox`` (class ``bp-quiz``): the question, one row per option, "Check", a summary line.

        Each row is a ``Checkbox`` beside its option (``HTMLMath``: wrapped and typeset,
        with its letter), and under it an ``HTMLMath`` for that option's verdict.  With
        one right answer, ticking an option unticks the others.  Changing a tick clears
        every verdict, so stale feedback never shows.
        """
        import ipywidgets as widgets

        question = widgets.HTMLMath(value=f"<b>{html.escape(self.question)}</b>")
        boxes, verdicts, rows = [], [], []
        for i, option in enumerate(self.options):
            box = widgets.Checkbox(value=False, description="", indent=False,
                                   layout=widgets.Layout(width="28px", flex="0 0 28px", margin="2px 0 0 0"))
            label = widgets.HTMLMath(value=f"<b>{self.letter(i)}.</b> {html.escape(option)}",
                                     layout=widgets.Layout(flex="1 1 auto", min_width="0"))
            verdict = widgets.HTMLMath(value="", layout=widgets.Layout(margin="0 0 0 36px"))
            verdict.add_class("bp-quiz-verdict")
            row = widgets.HBox([box, label], layout=widgets.Layout(align_items="flex-start", width="100%"))
            row.add_class("bp-quiz-option")
            boxes.append(box)
            verdicts.append(verdict)
            rows += [row, verdict]
        button = widgets.Button(description="Check", button_style="primary", layout=widgets.Layout(margin="6px 0"))
        summary = widgets.HTMLMath(value="")
        summary.add_class("bp-quiz-summary")
        busy = []  # while a tick unticks the others (one answer), their changes are not the student's

        def clear():
            summary.value = ""
            for v in verdicts:
                v.value = ""

        def on_change(change):
            if busy:
                return
            clear()
            if not self.multiple and change["new"]:
                busy.append(True)
                for other in boxes:
                    if other is not change["owner"]:
                        other.value = False
                busy.pop()

        def on_click(_):
            ticked = [i for i, b in enumerate(boxes) if b.value]
            clear()
            if not self.multiple and not ticked:
                summary.value = "Pick an option first."
                return
            feedback = self.check(ticked if self.multiple else ticked[0])
            summary.value = self.feedback_html(feedback)
            for v in feedback.options:
                verdicts[v.index].value = self.option_html(v)

        button.on_click(on_click)
        for b in boxes:
            b.observe(on_change, names="value")
        box = widgets.VBox([question, *rows, button, summary], layout=widgets.Layout(margin="0 0 18px 0"))
        box.add_class("bp-quiz")  # a handle for the browser tests: one per quiz, also inside a poll
        return box

    def text(self) -> str:
        """The question and its options as text, and what to do: what a notebook opened unrun shows."""
        kind = "tick every option that is true" if self.multiple else "pick one option"
        lines = [f"Quiz: {plain(self.question)}"]
        lines += [f"  {self.letter(i)}. {plain(o)}" for i, o in enumerate(self.options)]
        return wrapped("\n".join(lines + [f"(Run this cell to answer: {kind}, then press Check.)"]))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget's view, with the question, its options and what to do as the plain-text fallback
        # (what a viewer without a kernel, e.g. the notebook opened before it is run, shows).
        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        bundle["text/plain"] = self.text()
        return bundle

    def __repr__(self) -> str:
        return self.text()
