"""Self-check quizzes with immediate, specific feedback (the lecture's polls).

    quiz = bp.Quiz("What does backpropagation compute?",
                   ["the derivatives of the loss", "the trained weights"],
                   answer=0,
                   explanations=["Yes: ...", "No: ..."])
    quiz.check(1)      # QuizFeedback(correct=False, message="Not quite. ...")
    quiz               # as the last line of a notebook cell: the widget

``check`` is a pure function of the choice, so it is what the tests exercise;
the widget only wires radio buttons (one answer) or checkboxes (several
answers) and a "Check" button to it.  ipywidgets is imported inside
:meth:`Quiz.widget`, so ``import backprop`` never imports it.

Options are indexed from 0.  An explanation says *why* its option is right or
wrong; it is shown when the student picks that option.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.checks import describe

__all__ = ["Quiz", "QuizFeedback"]


@dataclass(frozen=True)
class QuizFeedback:
    """The verdict on one attempt: ``correct`` and a message saying why."""

    correct: bool
    message: str


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

    ``answer`` is one index (radio buttons, exactly one option is right) or a
    list of indices (checkboxes, the student must select exactly that set).
    ``explanations`` has one string per option, or is None (then feedback only
    names the options).
    """

    #: options longer than this (characters) are listed under the question and labelled A, B, ...
    INLINE_WIDTH = 60

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

    def _why(self, i: int) -> str:
        return f" {self.explanations[i]}" if self.explanations else ""

    def check(self, choice) -> QuizFeedback:
        """The feedback on ``choice``: an index, or a list of indices if ``answer`` is a list.

        A wrong single choice is explained without revealing the right one, so
        the student can try again; for several answers the message names every
        wrongly selected option and every missing one.
        """
        n = len(self.options)
        if not self.multiple:
            i = _check_index(choice, "choice", n)
            if i in self._answer:
                return QuizFeedback(True, f'Correct: "{self.options[i]}".{self._why(i)}')
            return QuizFeedback(False, f'Not quite: "{self.options[i]}" is not right.{self._why(i)} Try again.')
        chosen = _check_indices(choice, "choice", n)
        if chosen == self._answer:
            parts = [f'Correct: exactly these {len(chosen)} are right.']
            parts += [f'"{self.options[i]}":{self._why(i)}' if self.explanations else f'"{self.options[i]}".'
                      for i in sorted(chosen)]
            return QuizFeedback(True, " ".join(parts))
        wrong, missing = sorted(chosen - self._answer), sorted(self._answer - chosen)
        parts = ["Not quite."]
        for i in wrong:
            parts.append(f'"{self.options[i]}" should not be selected.{self._why(i)}')
        if missing:
            parts.append(f"{len(missing)} correct option(s) missing: "
                         + ", ".join(f'"{self.options[i]}"' for i in missing) + ".")
            parts += [f'"{self.options[i]}":{self._why(i)}' for i in missing if self.explanations]
        return QuizFeedback(False, " ".join(parts))

    @staticmethod
    def feedback_html(feedback: QuizFeedback) -> str:
        """The feedback as an HTML snippet (green if correct, red if not)."""
        colour = "#1a7f37" if feedback.correct else "#b3261e"
        mark = "&#10004;" if feedback.correct else "&#10008;"
        return f'<span style="color:{colour}">{mark} {html.escape(feedback.message)}</span>'

    def labels(self) -> list[str]:
        """The labels beside the radio buttons or checkboxes.

        The options themselves when they all fit on one line (at most
        ``INLINE_WIDTH`` characters, no ``$`` math); otherwise the letters A, B, ...,
        and :meth:`widget` lists the full options, wrapped and typeset, under the
        question.  (A widget label is a single line: a long option would be cut.)
        """
        if all(len(o) <= self.INLINE_WIDTH and "$" not in o for o in self.options):
            return list(self.options)
        return [chr(ord("A") + i) for i in range(len(self.options))]

    def widget(self):
        """An ipywidgets ``VBox``: children are (question, choices, "Check" button, feedback).

        The choices are a ``RadioButtons`` (one answer; its value is the option
        index, None until the student picks) or a ``VBox`` of ``Checkbox`` (several
        answers), labelled by :meth:`labels`.  The feedback is an ``HTMLMath`` whose
        ``value`` the button sets; changing the selection clears it, so stale
        feedback never shows.
        """
        import ipywidgets as widgets

        labels = self.labels()
        text = f"<b>{html.escape(self.question)}</b>"
        if labels != list(self.options):
            text += "".join(f"<div style='margin:4px 0 0 12px'><b>{label}.</b> {html.escape(o)}</div>"
                            for label, o in zip(labels, self.options))
        question = widgets.HTMLMath(value=text)
        if self.multiple:
            boxes = [widgets.Checkbox(value=False, description=label, indent=False,
                                      layout=widgets.Layout(width="auto")) for label in labels]
            choices = widgets.VBox(boxes)

            def current():
                return [i for i, b in enumerate(boxes) if b.value]

            watched = boxes
        else:
            choices = widgets.RadioButtons(options=[(label, i) for i, label in enumerate(labels)], value=None,
                                           layout=widgets.Layout(width="auto"))

            def current():
                return choices.value

            watched = [choices]
        button = widgets.Button(description="Check", button_style="primary")
        feedback = widgets.HTMLMath(value="")

        def on_click(_):
            choice = current()
            if choice is None:
                feedback.value = "Pick an option first."
            else:
                feedback.value = self.feedback_html(self.check(choice))

        def on_change(_):
            feedback.value = ""

        button.on_click(on_click)
        for w in watched:
            w.observe(on_change, names="value")
        box = widgets.VBox([question, choices, button, feedback])
        box.add_class("bp-quiz")  # a handle for the browser tests: one per quiz, also inside a poll
        return box

    def text(self) -> str:
        """The question and its options as text, and what to do: what a notebook opened unrun shows."""
        letters = [chr(ord("A") + i) for i in range(len(self.options))]
        kind = "select every option that is true" if self.multiple else "pick one option"
        lines = [f"Quiz: {self.question}"] + [f"  {letter}. {o}" for letter, o in zip(letters, self.options)]
        return "\n".join(lines + [f"(Run this cell to answer: {kind}, then press Check.)"])

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget's view, with the question, its options and what to do as the plain-text fallback
        # (what a viewer without a kernel, e.g. the notebook opened before it is run, shows).
        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        bundle["text/plain"] = self.text()
        return bundle

    def __repr__(self) -> str:
        return self.text()
