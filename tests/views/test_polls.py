"""The lecture's polls and the notebooks' questions (views/polls.py): kept out of the notebooks, in our own words."""

import inspect

import numpy as np
import pytest

import backprop as bp
from backprop.experiments.descent import get_surface
from backprop.views import polls
from backprop.views.polls import POLLS, QUESTIONS, Poll, poll, question
from backprop.views.quiz import TEXT_WIDTH, Quiz, plain
from lecture_runs import copied
from strategies import assert_explained

ALL = {**{f"poll {n}": p for n, p in POLLS.items()}, **{f"question {k}": q for k, q in QUESTIONS.items()}}


def test_the_lectures_polls_by_number():
    assert set(POLLS) == {1, 2, 3, 4}  # the lecture's four polls
    assert poll(1) is POLLS[1] and len(poll(1)) == 2 and poll(2) is POLLS[2] and len(poll(2)) == 1
    assert question("learning rate") is QUESTIONS["learning rate"]
    assert all(isinstance(q, Quiz) for p in ALL.values() for q in p.quizzes)


@pytest.mark.parametrize("name", ALL)
def test_every_option_has_an_explanation_and_the_answers_check(name):
    for quiz in ALL[name].quizzes:
        assert len(quiz.explanations) == len(quiz.options) and all(e.strip() for e in quiz.explanations)
        right = quiz.answer
        assert quiz.check(right).correct
        wrong = [i for i in range(len(quiz.options)) if i != right] if not quiz.multiple else [[0, 1, 2, 3]]
        assert not quiz.check(wrong[0]).correct


@pytest.mark.parametrize("name", ALL)
def test_shown_before_running_without_the_answer(name):
    shown = ALL[name]
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert text == shown.text() and text.startswith(shown.title)
    assert max(len(line) for line in text.splitlines()) <= TEXT_WIDTH  # JupyterLab never breaks a word
    words = " ".join(text.split())
    for quiz in shown.quizzes:
        assert " ".join(plain(quiz.question).split()) in words
        assert all(" ".join(plain(o).split()) in words for o in quiz.options)
        assert not any(" ".join(plain(why).split()) in words for why in quiz.explanations)  # hidden until Check
        assert "$" not in text and "\\" not in text  # maths reads as text before the widget typesets it


@pytest.mark.parametrize("name", ALL)
def test_the_widget_has_a_heading_and_one_quiz_each(name):
    box = ALL[name].widget()
    heading, *quizzes = box.children
    assert ALL[name].title in heading.value and len(quizzes) == len(ALL[name].quizzes)


def test_the_wording_is_our_own():
    assert copied(inspect.getsource(polls)) == []


def test_the_learning_rate_question_agrees_with_gradient_descent():
    """The option marked right is the one rate whose iterates alternate sides and still converge."""
    quiz = question("learning rate")[0]
    surface = get_surface("quadratic_1d")  # 2(w - 1)^2: f'' = 4
    assert list(surface.curvatures) == [4.0]
    alternating_and_converging = []
    for i, option in enumerate(quiz.options):
        eta = float(plain(option).split("=")[1])  # "$\\eta = 0.4$" reads "η = 0.4"
        path = bp.gradient_descent(surface, surface.start, eta, 30)
        errors = path.points[:, 0] - 1.0
        flips = np.all(np.sign(errors[1:-1]) == -np.sign(errors[:-2]))
        if flips and not path.diverged and abs(errors[-1]) < abs(errors[0]):
            alternating_and_converging.append(i)
    assert alternating_and_converging == [quiz.answer]


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: poll(5), ValueError, ["'number'", "[1, 2, 3, 4]", "5"]),
    (lambda: poll("1"), ValueError, ["'number'", "str"]),
    (lambda: poll(True), ValueError, ["'number'"]),
    (lambda: question("momentum"), ValueError, ["'name'", "'learning rate'"]),
], ids=["unknown poll", "a string", "a bool", "unknown question"])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)


def test_a_poll_is_a_sequence_of_quizzes():
    p = Poll("t", (Quiz("q", ["a", "b"], answer=0),))
    assert len(p) == 1 and p[0].question == "q" and "t\n\nQuiz: q" in p.text()


def test_the_softmax_jacobian_question_agrees_with_the_jacobian():
    """Notebook 03's question: the options it marks right are the negative entries of the hand example's Jacobian."""

    import backprop as bp

    signs = question("softmax jacobian")[0]
    J = bp.Softmax().jacobian(bp.examples.SOFTMAX_HAND["z"])  # entry [i, j] = dy_i/dz_j
    groups = [[(0, 0), (1, 1), (2, 2)], [(1, 0), (2, 0)], [(0, 2), (1, 2)], []]  # (i, j) of each option's entries
    negative = [i for i, g in enumerate(groups) if g and all(J[e] < 0 for e in g)]
    assert signs.check(negative).correct and negative == [1, 2]
    assert question("vector activation paths")[0].check(0).correct
