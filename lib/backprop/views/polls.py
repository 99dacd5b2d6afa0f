"""The lecture's polls and the notebooks' other self-check questions, kept out of the notebooks' sight.

A notebook cell shows only the call, ``bp.poll(2)`` or ``bp.question("learning rate")``,
so a student meets the question before its answer: the options' verdicts and
explanations live here, not in the notebook.  Every text is the course's own
wording of the lecture's polls (the lecture's slides are not quoted).

* :func:`poll` -- the lecture's polls by number (1: the chain rule and influence
  diagrams, notebook 01; 2: what backpropagation computes, notebook 02; 3: the derivative of a max,
  notebook 04; 4: the order of the factors in the vector chain rule, notebook 05);
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
    4: Poll("Poll 4: the order of the factors in the vector chain rule", (
        Quiz(
            "Let D = f(g(h(x))), where x is a vector and h and g return vectors, so D is a number. "
            "Write d_a b for the derivative of b with respect to a (a row vector when b is a number, a "
            "Jacobian when b is a vector). Which product is dD/dx? (Pick one.)",
            [
                "d_x h · d_h g · d_g f: the innermost function's derivative first",
                "d_g f · d_h g · d_x h: the outermost function's derivative first",
                "Both: matrix products can be taken in either order",
            ],
            answer=1,
            explanations=[
                "Check the shapes with x of width n, h of width m, g of width p: d_x h is m x n and d_h g is "
                "p x m, so d_x h · d_h g needs n = p, which is false in general. Even when the widths happen to "
                "agree, the product is a different matrix.",
                "d_g f is 1 x p, d_h g is p x m, d_x h is m x n: each inner size matches, and the result is "
                "1 x n, a row like x's derivative must be. Going backward through a network is exactly this: "
                "start from dDiv/dY and right-multiply by one local Jacobian per step (section 3).",
                "Matrix products do not commute: A B and B A differ in general, and here the reversed order "
                "does not even have matching shapes. Only for numbers (1 x 1) is the order free.",
            ],
        ),
    )),
    3: Poll("Poll 3: the derivative of a max", (
        Quiz(
            "Take y = max(z1, z2, z3) at the point z1 = 1, z2 = 2, z3 = 3. Which of these derivatives are "
            "right? (Tick every one that is.)",
            ["dy/dz1 = 1", "dy/dz1 = 0", "dy/dz2 = 1", "dy/dz2 = 0", "dy/dz3 = 1", "dy/dz3 = 0"],
            answer=[1, 3, 4],
            explanations=[
                "z1 = 1 is not the largest input: nudging it a little leaves the max at 3, so y does not move.",
                "z1 is below the largest input by 2: a small change of z1 leaves y = 3 unchanged, so the "
                "derivative is 0.",
                "z2 = 2 loses to z3 = 3; a small nudge of z2 cannot change which input wins, so y stays 3.",
                "Right: z2 is not the winner, and a small change of a loser does not reach the output.",
                "Right: near this point y is simply z3, so a change of z3 passes to y one for one. Max routes "
                "the whole gradient to its winner.",
                "z3 is the winner: y equals z3 near this point, so its slope is 1, not 0.",
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
    "slope at a kink": Poll("Check yourself: the slope at a kink", (
        Quiz(
            "A ReLU unit sits exactly at z = 0 during a backward pass. Which slopes may the backward pass "
            "use for it? (Pick one.)",
            ["Only 0", "Only 1", "Any value from 0 to 1, as long as it is stated",
             "None: the backward pass must stop with an error"],
            answer=2,
            explanations=[
                "0 is one valid choice (the library's default), but not the only one: every line through the "
                "corner with a slope between 0 and 1 stays under the ReLU.",
                "1 is valid too, but so is every slope between 0 and 1: each gives a line that stays under "
                "the ReLU.",
                "Every slope in [0, 1] is a subgradient at the corner, and gradient descent works with any of "
                "them; what matters is to state the choice so results can be reproduced.",
                "Nothing stops: a subgradient stands in for the missing derivative, and exact zeros are rare "
                "in float64 anyway (section 6).",
            ],
        ),
    )),
    "softmax jacobian": Poll("Check yourself: the softmax Jacobian", (
        Quiz(
            "At z = (0, ln 2, ln 3) the softmax gives y = (1/6, 1/3, 1/2). Which entries dy_i/dz_j of its "
            "Jacobian are negative? (Tick every group that is.)",
            [
                "dy_1/dz_1, dy_2/dz_2 and dy_3/dz_3 (the diagonal)",
                "dy_2/dz_1 and dy_3/dz_1",
                "dy_1/dz_3 and dy_2/dz_3",
                "none: raising a logit raises every output",
            ],
            answer=[1, 2],
            explanations=[
                "On the diagonal the entry is y_i (1 - y_i) = 5/36, 8/36, 9/36: positive. Raising z_i raises "
                "its own output.",
                "Off the diagonal the entry is -y_i y_j. Raising z_1 takes probability from y_2 and y_3, "
                "which must give way because the outputs always sum to 1.",
                "The same rule, -y_i y_j, in the column of z_3: -3/36 and -6/36. Every entry off the diagonal "
                "is negative, whatever z is.",
                "The outputs sum to 1 for every z, so they cannot all grow: what one output gains, the others "
                "lose. Each row of the Jacobian sums to 0.",
            ],
        ),
        Quiz(
            "Why does dDiv/dz_1 through a softmax add up one term per output y_j, while through a layer of "
            "sigmoids it has a single term? (Pick one.)",
            [
                "z_1 sits in the denominator of every y_j, so it influences every output, and the chain rule "
                "adds one term per path to Div.",
                "Because Div depends on every output y_j.",
                "Because the softmax has no derivative of its own, so the divergence's has to be used.",
            ],
            answer=0,
            explanations=[
                "Exactly: the influence diagram has an arrow from z_1 to every y_j, each path through one of "
                "them carries dy_j/dz_1, and the paths add (section 1 and section 4).",
                "Div depends on every output for the sigmoid layer too, yet there z_1 reaches Div through y_1 "
                "alone. What matters is which outputs z_1 influences.",
                "The softmax has a derivative: a full Jacobian, y_j (delta_ij - y_i). It is the reason for the "
                "sum, not a gap in it.",
            ],
        ),
    )),
    "vanishing gradients": Poll("Check yourself: vanishing and exploding gradients", (
        Quiz(
            "A network of 30 sigmoid layers, weights drawn with a small scale, trains, but its first layers "
            "barely change. Which change helps its layer-1 gradient the most? (Pick one.)",
            ["A larger learning rate eta", "ReLU units with He initialisation",
             "Clipping the gradient to global norm tau = 1", "More training epochs"],
            answer=1,
            explanations=[
                "A larger eta multiplies every layer's step by the same number: the first layers' gradient stays "
                "many orders of magnitude below the last layers', and the last layers now overshoot.",
                "Each backward step multiplies by W(k) and f'(z(k)). A sigmoid's slope is at most 1/4, and a "
                "small W(k) shrinks the product further; ReLU passes a slope of 1 where it is active and He's "
                "scale sqrt(2 / width_(k-1)) keeps each layer's factor near 1.",
                "Clipping only ever shrinks a gradient (to norm tau, same direction): it tames an exploding one and "
                "does nothing for one that is already tiny.",
                "More epochs give more of the same tiny steps: the first layers still move by almost nothing.",
            ],
        ),
        Quiz(
            "Clipping by global norm rescales a gradient of norm 50 to tau = 5. What happens to the gradient of "
            "W(1), whose own norm was 2? (Pick one.)",
            ["It stays 2: it was already below tau", "It becomes 0.2, in the same direction",
             "It becomes 5", "Each tensor is clipped to 5 on its own"],
            answer=1,
            explanations=[
                "Global clipping looks at the norm of all gradients together (50), not at each tensor's own.",
                "Every gradient is multiplied by the same factor tau / norm = 5 / 50 = 0.1, so 2 becomes 0.2 and "
                "the direction of the whole step is kept.",
                "Only the norm of all gradients together becomes 5; W(1)'s share shrinks with the rest.",
                "That is clipping per tensor, a different rule: it changes the step's direction, because tensors "
                "above tau shrink while the others do not.",
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
