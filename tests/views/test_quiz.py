"""The self-check quizzes (views/quiz.py): feedback as a pure function of the choice, the widget headless."""

import ipywidgets as widgets
import pytest

from backprop.views.quiz import OptionVerdict, Quiz, QuizFeedback, plain
from strategies import assert_explained

OPTIONS = ["first option", "second option", "third option"]
WHY = ["why the first is wrong", "why the second is right", "why the third is wrong"]


def single():
    return Quiz("Which one?", OPTIONS, answer=1, explanations=WHY)


def multiple():
    return Quiz("Which ones?", OPTIONS, answer=[0, 2], explanations=WHY)


@pytest.mark.parametrize("i", range(3))
def test_single_every_option_is_judged_and_explained(i):
    fb = single().check(i)
    assert isinstance(fb, QuizFeedback)
    assert fb.correct == (i == 1)
    assert fb.options == (OptionVerdict(i, i == 1, WHY[i]),)
    assert fb.message.startswith("Correct" if i == 1 else "Not quite")
    if i != 1:  # a wrong answer is explained without giving the right one away
        assert OPTIONS[1] not in fb.message and WHY[1] not in fb.message


def test_single_without_explanations():
    q = Quiz("Which one?", OPTIONS, answer=2)
    assert q.check(2) == QuizFeedback(True, "Correct.", (OptionVerdict(2, True, ""),))
    assert not q.check(0).correct


def test_check_is_pure():
    q = single()
    assert q.check(0) == q.check(0)
    assert q.check(1) == q.check(1)


@pytest.mark.parametrize(
    "choice, correct, wrong, missing",
    [
        ([0, 2], True, 0, 0),
        ([2, 0], True, 0, 0),
        ((0, 2), True, 0, 0),
        ({0, 2}, True, 0, 0),
        ([0], False, 0, 1),
        ([2], False, 0, 1),
        ([1], False, 1, 2),
        ([0, 1], False, 1, 1),
        ([0, 1, 2], False, 1, 0),
        ([], False, 0, 2),
    ],
)
def test_multiple_every_selection_judges_each_tick_and_never_names_a_missing_option(choice, correct, wrong, missing):
    fb = multiple().check(choice)
    assert fb.correct is correct
    assert fb.options == tuple(OptionVerdict(i, i in (0, 2), WHY[i]) for i in sorted(choice))
    for i in {0, 2} - set(choice):  # a true option left unticked is counted, never named or explained
        assert OPTIONS[i] not in fb.message and WHY[i] not in fb.message
        assert all(v.index != i for v in fb.options)
    if not choice:
        assert fb.message.startswith("Nothing is ticked")
    elif correct:
        assert fb.message == "Correct: exactly these 2 are true."
    else:
        assert (f"{wrong} of your ticks" in fb.message) == bool(wrong)
        assert (f"{missing} more option" in fb.message) == bool(missing)


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
    right, wrong = Quiz.option_html(OptionVerdict(0, True, "x < y")), Quiz.option_html(OptionVerdict(1, False))
    assert "right" in right and "x &lt; y" in right and "wrong" in wrong and "#b3261e" in wrong


def test_text_lists_the_options_says_what_to_do_and_keeps_the_answer_hidden():
    quiz = single()
    text = quiz.text()
    assert text.splitlines()[0] == "Quiz: Which one?"
    assert "C. third option" in text and "Run this cell" in text and "pick one option" in text
    assert repr(quiz) == text
    assert not any(why in text for why in quiz.explanations if why)  # no explanation, so no answer, before trying
    many = Quiz("Which ones?", OPTIONS, answer=[0, 2])
    assert "tick every option that is true" in many.text()


def test_maths_is_typeset_in_the_widget_and_readable_as_plain_text():
    q = Quiz(r"Which $\eta$ makes $Loss(w) = 2(w - 1)^2$ converge?", [r"$\eta = 0.4$", r"$\frac{\partial y}{\partial z_{1}}$"],
             answer=0)
    assert q.text().splitlines()[:3] == ["Quiz: Which η makes Loss(w) = 2(w - 1)^2 converge?", "  A. η = 0.4",
                                         "  B. ∂y/∂z_1"]
    assert plain(r"$\Delta y \approx f'(x)\, \Delta x$, $\tau = 5$, $\sqrt{2 / n_{k-1}}$, $W^{(k)}$") == \
        "Δy ≈ f'(x) Δx, τ = 5, sqrt(2 / n_(k-1)), W^(k)"
    rows = [c for c in q.widget().children if "bp-quiz-option" in c._dom_classes]
    assert r"$\eta = 0.4$" in rows[0].children[1].value  # HTMLMath: MathJax typesets it in the page


# ---- the widget, built headless ------------------------------------------------
def _parts(quiz):
    box = quiz.widget()
    children = box.children
    rows = [c for c in children if "bp-quiz-option" in c._dom_classes]
    verdicts = [c for c in children if "bp-quiz-verdict" in c._dom_classes]
    button = next(c for c in children if isinstance(c, widgets.Button))
    summary = next(c for c in children if "bp-quiz-summary" in c._dom_classes)
    return box, children[0], [r.children[0] for r in rows], [r.children[1] for r in rows], verdicts, button, summary


def test_one_answer_each_label_beside_its_box_one_tick_at_a_time():
    q = single()
    box, question, boxes, labels, verdicts, button, summary = _parts(q)
    assert "bp-quiz" in box._dom_classes and "Which one?" in question.value
    assert all(isinstance(b, widgets.Checkbox) and b.description == "" for b in boxes)
    assert [lab.value for lab in labels] == [f"<b>{L}.</b> {o}" for L, o in zip("ABC", OPTIONS)]
    button.click()
    assert summary.value == "Pick an option first."
    for i in range(3):
        boxes[i].value = True
        assert [b.value for b in boxes] == [j == i for j in range(3)]  # ticking one unticks the others
        assert summary.value == "" and all(v.value == "" for v in verdicts)  # a new tick clears the old verdict
        button.click()
        assert summary.value == Quiz.feedback_html(q.check(i))
        assert verdicts[i].value == Quiz.option_html(q.check(i).options[0]) and WHY[i] in verdicts[i].value
        assert all(v.value == "" for j, v in enumerate(verdicts) if j != i)


def test_several_answers_each_tick_judged_under_its_option():
    q = multiple()
    box, question, boxes, labels, verdicts, button, summary = _parts(q)
    button.click()
    assert summary.value == Quiz.feedback_html(q.check([]))
    for selection in ([0], [0, 2], [0, 1, 2], [1]):
        for i, b in enumerate(boxes):
            b.value = i in selection
        button.click()
        feedback = q.check(selection)
        assert summary.value == Quiz.feedback_html(feedback)
        shown = {i for i, v in enumerate(verdicts) if v.value}
        assert shown == set(selection)  # only ticked options get a verdict: an unticked true one stays silent
    boxes[0].value = not boxes[0].value
    assert summary.value == "" and all(v.value == "" for v in verdicts)


def test_display_delegates_to_the_widget():
    bundle = single()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(single())
