"""The self-check quizzes (views/quiz.py): feedback as a pure function of the choice, the widget headless."""

import ipywidgets as widgets
import pytest

import backprop as bp
from backprop.views.quiz import Quiz, QuizFeedback
from strategies import assert_explained

OPTIONS = ["first option", "second option", "third option"]
WHY = ["why the first is wrong", "why the second is right", "why the third is wrong"]


def single():
    return Quiz("Which one?", OPTIONS, answer=1, explanations=WHY)


def multiple():
    return Quiz("Which ones?", OPTIONS, answer=[0, 2], explanations=WHY)


def test_reexported():
    assert bp.Quiz is Quiz and bp.QuizFeedback is QuizFeedback


@pytest.mark.parametrize("i", range(3))
def test_single_every_option(i):
    fb = single().check(i)
    assert isinstance(fb, QuizFeedback)
    assert fb.correct == (i == 1)
    assert OPTIONS[i] in fb.message and WHY[i] in fb.message
    assert fb.message.startswith("Correct" if i == 1 else "Not quite")
    # a wrong answer is explained without giving the right one away
    if i != 1:
        assert OPTIONS[1] not in fb.message and WHY[1] not in fb.message


def test_single_without_explanations_names_the_option():
    q = Quiz("Which one?", OPTIONS, answer=2)
    assert q.check(2) == QuizFeedback(True, 'Correct: "third option".')
    assert not q.check(0).correct and "first option" in q.check(0).message


def test_check_is_pure():
    q = single()
    assert q.check(0) == q.check(0)
    assert q.check(1) == q.check(1)


@pytest.mark.parametrize(
    "choice, correct, wrong, missing",
    [
        ([0, 2], True, [], []),
        ([2, 0], True, [], []),
        ((0, 2), True, [], []),
        ({0, 2}, True, [], []),
        ([0], False, [], [2]),
        ([2], False, [], [0]),
        ([1], False, [1], [0, 2]),
        ([0, 1], False, [1], [2]),
        ([0, 1, 2], False, [1], []),
        ([], False, [], [0, 2]),
    ],
)
def test_multiple_every_selection(choice, correct, wrong, missing):
    fb = multiple().check(choice)
    assert fb.correct is correct
    for i in wrong:
        assert f'"{OPTIONS[i]}" should not be selected. {WHY[i]}' in fb.message
    if missing:
        assert f"{len(missing)} correct option(s) missing" in fb.message
        for i in missing:
            assert OPTIONS[i] in fb.message and WHY[i] in fb.message
    else:
        assert "missing" not in fb.message
    if correct:
        assert WHY[0] in fb.message and WHY[2] in fb.message and WHY[1] not in fb.message


def test_answer_property():
    assert single().answer == 1
    assert multiple().answer == [0, 2]
    assert single().multiple is False and multiple().multiple is True


@pytest.mark.parametrize(
    "quiz, choice, error, words",
    [
        (single, 3, ValueError, ["'choice'", "0..2", "3"]),
        (single, -1, ValueError, ["'choice'", "0..2", "-1"]),
        (single, 1.0, TypeError, ["'choice'", "float"]),
        (single, True, TypeError, ["'choice'", "bool"]),
        (single, "1", TypeError, ["'choice'", "str"]),
        (single, [1], TypeError, ["'choice'", "list"]),
        (multiple, 0, TypeError, ["'choice'", "list of option indices"]),
        (multiple, [0, 5], ValueError, ["'choice'", "0..2", "5"]),
        (multiple, [0, 0], ValueError, ["'choice'", "distinct"]),
        (multiple, ["0"], TypeError, ["'choice'", "str"]),
    ],
)
def test_bad_choice(quiz, choice, error, words):
    assert_explained(lambda: quiz().check(choice), error, words)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(question="", options=OPTIONS, answer=0), TypeError, ["'question'"]),
        (dict(question=3, options=OPTIONS, answer=0), TypeError, ["'question'", "int"]),
        (dict(question="q", options="abc", answer=0), TypeError, ["'options'", "list of str"]),
        (dict(question="q", options=["only"], answer=0), ValueError, ["'options'", "at least 2"]),
        (dict(question="q", options=["a", 2], answer=0), TypeError, ["'options'"]),
        (dict(question="q", options=OPTIONS, answer=3), ValueError, ["'answer'", "0..2"]),
        (dict(question="q", options=OPTIONS, answer=[]), ValueError, ["'answer'", "at least one"]),
        (dict(question="q", options=OPTIONS, answer=[1, 1]), ValueError, ["'answer'", "distinct"]),
        (dict(question="q", options=OPTIONS, answer="1"), TypeError, ["'answer'"]),
        (dict(question="q", options=OPTIONS, answer=0, explanations=["a"]), ValueError,
         ["'explanations'", "(3)", "got 1"]),
        (dict(question="q", options=OPTIONS, answer=0, explanations="abc"), TypeError, ["'explanations'"]),
    ],
)
def test_bad_construction(kwargs, error, words):
    assert_explained(lambda: Quiz(**kwargs), error, words)


def test_feedback_html_escapes_and_colours():
    good = Quiz.feedback_html(QuizFeedback(True, "a < b"))
    bad = Quiz.feedback_html(QuizFeedback(False, "x"))
    assert "a &lt; b" in good and "#1a7f37" in good and "#b3261e" in bad


def test_text_lists_the_options_says_what_to_do_and_keeps_the_answer_hidden():
    quiz = single()
    text = quiz.text()
    assert text.splitlines()[0] == "Quiz: Which one?"
    assert "C. third option" in text and "Run this cell" in text and "pick one option" in text
    assert repr(quiz) == text
    assert not any(why in text for why in quiz.explanations if why)  # no explanation, so no answer, before trying
    many = Quiz("Which ones?", OPTIONS, answer=[0, 2])
    assert "select every option that is true" in many.text()


# ---- the widget, built headless ------------------------------------------------

def test_radio_widget_click_gives_feedback():
    q = single()
    box = q.widget()
    question, radio, button, feedback = box.children
    assert isinstance(radio, widgets.RadioButtons) and isinstance(feedback, widgets.HTMLMath)
    assert "Which one?" in question.value
    assert radio.value is None and feedback.value == ""
    assert "bp-quiz" in box._dom_classes  # what the browser tests find each quiz by
    button.click()
    assert feedback.value == "Pick an option first."
    for i in range(3):
        radio.value = i
        assert feedback.value == ""  # a new selection clears the old verdict
        button.click()
        assert feedback.value == Quiz.feedback_html(q.check(i))
        assert WHY[i] in feedback.value


def test_checkbox_widget_click_gives_feedback():
    q = multiple()
    question, choices, button, feedback = q.widget().children
    boxes = choices.children
    assert [b.description for b in boxes] == OPTIONS
    assert all(isinstance(b, widgets.Checkbox) for b in boxes)
    button.click()
    assert feedback.value == Quiz.feedback_html(q.check([]))
    for selection in ([0], [0, 2], [0, 1, 2], [1]):
        for i, b in enumerate(boxes):
            b.value = i in selection
        button.click()
        assert feedback.value == Quiz.feedback_html(q.check(selection))
    boxes[0].value = not boxes[0].value
    assert feedback.value == ""


def test_long_options_are_lettered_and_listed_under_the_question():
    long = ["a statement long enough that a one-line widget label would cut it off " * 2, "short", "$x^2$"]
    q = Quiz("Which ones?", long, answer=[0, 1], explanations=WHY)
    assert q.labels() == ["A", "B", "C"]
    assert Quiz("q", ["short", "$x$"], answer=0).labels() == ["A", "B"]  # math needs typesetting
    assert single().labels() == OPTIONS
    question, choices, button, feedback = q.widget().children
    assert [b.description for b in choices.children] == ["A", "B", "C"]
    assert "<b>A.</b> " + long[0] in question.value and "<b>C.</b> $x^2$" in question.value
    choices.children[2].value = True
    button.click()
    assert "$x^2$" in feedback.value and "should not be selected" in feedback.value
    radio = Quiz("Which one?", long, answer=2).widget().children[1]
    assert [label for label, _ in radio.options] == ["A", "B", "C"]


def test_display_delegates_to_the_widget():
    bundle = single()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(single())
