"""Notebook 02's pass stepper (views/stepper.py): its pure callback at every step, the widget headless."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import backprop as bp
from backprop.views.stepper import pass_step_figure, pass_stepper
from strategies import assert_explained, settle

examples = bp.examples
TINY_X, TINY_D = np.array(examples.TINY["x"]), np.array(examples.TINY["d"])
RELU = examples.TWO_RELU
PNG = b"\x89PNG\r\n\x1a\n"


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def _phase_edges():
    """The first and last step of each pass of the tiny network (where the stepper turns from forward to backward)."""
    phases = [s.phase for s in bp.pass_steps(examples.tiny_network(), TINY_X, TINY_D)]
    turn = phases.index("backward") + 1
    return [1, turn - 1, turn, len(phases)]


@pytest.mark.parametrize("step", _phase_edges())
def test_pass_step_figure_titles_the_step_with_its_formulas(step):
    steps = bp.pass_steps(examples.tiny_network(), TINY_X, TINY_D)
    fig = pass_step_figure(examples.tiny_network(), TINY_X, TINY_D, step)
    assert isinstance(fig, Figure)
    shown = texts(fig)
    (title,) = [t for t in shown if t.startswith(("forward pass, step", "backward pass, step"))]
    assert title.startswith(f"{steps[step - 1].phase} pass, step {step} of 26")
    assert all(f"${line}$" in title for line in steps[step - 1].lines)  # the step's formulas, as the title


def test_every_steps_formulas_are_mathtext_matplotlib_can_typeset():
    """The title of every step is mathtext: each formula of all 26 steps parses (a figure's draw would raise)."""
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    steps = bp.pass_steps(examples.tiny_network(), TINY_X, TINY_D)
    assert len(steps) == 26
    for step in steps:
        for line in step.lines:
            parser.parse(f"${line}$")


def test_pass_step_figure_hides_what_is_not_computed_yet():
    first = texts(pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 1))
    assert "$z^{(1)}_{1}$\n2" in first and "$z^{(1)}_{2}$" in first  # only z(1)_1 is known after step 1
    assert "$y^{(2)}_{1}$" in first and not any(t.startswith("$y^{(2)}_{1}$\n") for t in first)
    last = texts(pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 16))
    assert "-2" in last  # the last backward step: every gradient shown, dDiv/dw(1)_11 = -2 on its arrow


def test_pass_stepper_runs_its_callback():
    net = examples.two_relu_network()
    ui = pass_stepper(net, RELU["x"], RELU["d"], biases=False)
    (slider,), image = ui.children[0].children, ui.children[1]
    assert slider.min == 1 and slider.max == len(bp.pass_steps(examples.two_relu_network(), RELU["x"], RELU["d"]))
    seen = {bytes(image.value)}
    assert bytes(image.value).startswith(PNG)
    for value in (2, 7, slider.max):
        slider.value = value  # fires the callback
        settle(ui)
        assert bytes(image.value).startswith(PNG) and bytes(image.value) not in seen
        seen.add(bytes(image.value))


CASES = [
    ("stepper past the last step", lambda: pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 99),
     ValueError, ["'step'", "1..16", "99"]),
    ("stepper at a fractional step", lambda: pass_step_figure(examples.two_relu_network(), RELU["x"], RELU["d"], 1.5),
     ValueError, ["'step'", "an integer in 1..16", "1.5"]),
    ("stepper of no network", lambda: pass_stepper("net", RELU["x"], RELU["d"]),
     TypeError, ["'net'", "ScalarNetwork"]),
]

@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_explained(call, exc, fragments):
    assert_explained(call, exc, fragments)
