"""The lecture's polls and the notebooks' other self-check questions, kept out of the notebooks' sight.

A notebook cell shows only the call, ``bp.poll(2)`` or ``bp.question("learning rate")``,
so a student meets the question before its answer: the options' verdicts and
explanations live here, not in the notebook.  Every text is the course's own
wording of the lecture's polls (the lecture's slides are not quoted).

* :func:`poll` -- the lecture's polls by number (1: the chain rule and influence
  diagrams, notebook 01; 2: what backpropagation computes, notebook 02);
* :func:`question` -- the notebooks' own questions by name.

Each returns a :class:`Poll`: one or more :class:`~backprop.views.quiz.Quiz`
shown one under the other, each with its "Check" button and its feedback.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.checks import check_choice, describe
from .quiz import Quiz

__all__ = ["Poll", "POLLS", "QUESTIONS", "poll", "question"]


@dataclass(frozen=True)
class Poll:
    """A titled set of quizzes, shown one under the other."""

    title: str
    quizzes: tuple[Quiz, ...]

    def widget(self):
        """An ipywidgets ``VBox``: a heading, then each quiz's widget."""
        import ipywidgets as widgets

        return widgets.VBox([widgets.HTML(f"<b>{self.title}</b>")] + [q.widget() for q in self.quizzes])

    def text(self) -> str:
        """The questions and their options as text: what a notebook opened without running it shows."""
        return "\n\n".join([self.title] + [q.text() for q in self.quizzes])

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        bundle["text/plain"] = self.text()
        return bundle

    def __getitem__(self, i: int) -> Quiz:
        return self.quizzes[i]

    def __len__(self) -> int:
        return len(self.quizzes)


POLLS: dict[int, Poll] = {
    1: Poll("Poll 1: the chain rule and influence diagrams", (
        Quiz(
            "Can the chain rule be obtained from nothing more than the first-order approximation "
            "dy ≈ (derivative) · dx?",
            ["Yes", "No: it has to be assumed separately"],
            answer=0,
            explanations=[
                "Write dz ≈ f'(y) dy, then replace dy by its own approximation g'(x) dx: the multipliers "
                "multiply, dz ≈ f'(y) g'(x) dx. With several intermediate variables the small changes add "
                "up, which gives the sum over paths (sections 3.1 and 3.2).",
                "Two lines suffice: dz ≈ f'(y) dy, and dy ≈ g'(x) dx; put the second into the first. "
                "Section 3.1 does exactly this.",
            ],
        ),
        Quiz(
            "Which statements about an influence diagram hold? (Select all that do.)",
            [
                "Every route by which one variable affects another appears in it as a path of arrows.",
                "To differentiate an outcome with respect to a variable, add up one term for each path "
                "from that variable to the outcome.",
                "Along one path, the local derivatives are added together.",
                "Only the shortest path from a variable to the outcome counts.",
            ],
            answer=[0, 1],
            explanations=[
                "Each variable is a node and each direct dependence an arrow, so every chain of "
                "dependences is a path.",
                "That is the chain rule in its distributed form: one product per path, summed over paths.",
                "Along a path the local derivatives multiply: each arrow converts a small change once. "
                "It is the products of different paths that are added.",
                "Every path contributes, whatever its length; dropping any one of them gives a wrong "
                "derivative (compare the tables of section 3.2).",
            ],
        ),
    )),
    2: Poll("Poll 2: what backpropagation does", (
        Quiz(
            "What part does backpropagation play when a network is trained? (Pick one.)",
            [
                "It is the training itself: running it is what trains the network.",
                "It changes the weights and biases.",
                "It delivers the derivative of the divergence with respect to every parameter, which "
                "gradient descent then uses.",
            ],
            answer=2,
            explanations=[
                "Training is the whole loop, repeated over the data: forward pass, backward pass, update. "
                "Backpropagation is one step of that loop.",
                "The change w <- w - eta * dLoss/dw is gradient descent's step (notebook 00). "
                "Backpropagation leaves every weight as it was; it only computes the derivatives.",
                "Backpropagation is a way to compute derivatives, and only that: one backward sweep gives "
                "every weight, bias and variable its derivative of the divergence. The update is a "
                "separate step.",
            ],
        ),
    )),
}

QUESTIONS: dict[str, Poll] = {
    "learning rate": Poll("Check yourself: the learning rate", (
        Quiz(
            "On Loss(w) = 2(w - 1)^2 (so f'' = 4), which learning rate makes the iterates land on alternate "
            "sides of the minimum while still converging?",
            ["eta = 0.1", "eta = 0.25", "eta = 0.4", "eta = 0.6"],
            answer=2,
            explanations=[
                "With eta = 0.1 the factor 1 - eta f'' = 0.6 is positive: the iterates approach from one "
                "side only.",
                "eta = 0.25 = 1/f'' gives the factor 0: the first step lands exactly on the minimum.",
                "The factor is 1 - 0.4 * 4 = -0.6: negative (the side flips) and smaller than 1 in size "
                "(the error shrinks).",
                "The factor is 1 - 0.6 * 4 = -1.4: the side flips, but the error grows by 1.4 each step, so "
                "the run diverges.",
            ],
        ),
    )),
}


def poll(number: int) -> Poll:
    """The lecture's poll ``number`` (see :data:`POLLS`), to show in a notebook cell."""
    if isinstance(number, bool) or not isinstance(number, int) or number not in POLLS:
        raise ValueError(f"argument 'number' expected one of the polls {sorted(POLLS)}, got {describe(number)}")
    return POLLS[number]


def question(name: str) -> Poll:
    """A notebook's own self-check question by name (see :data:`QUESTIONS`)."""
    return QUESTIONS[check_choice(name, "name", QUESTIONS)]
