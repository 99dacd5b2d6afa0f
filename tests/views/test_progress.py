"""The progress bar (views/progress.py): tqdm with the course's delay, and as the training loop's factory."""

import io

import numpy as np
import pytest
from tqdm.std import tqdm as std_tqdm

import backprop as bp
from backprop.views.progress import progress_bar
from strategies import assert_explained


def run(total=10, **options):
    """Drive a bar over ``total`` steps writing to a StringIO; what it wrote."""
    buffer = io.StringIO()
    bar = progress_bar(total, "demo", file=buffer, **options)
    for _ in range(total):
        bar.update(1)
    bar.close()
    return buffer.getvalue(), bar


def test_a_short_run_is_silent_by_default():
    text, bar = run()
    assert text == ""  # finished long before the 5 s delay
    assert isinstance(bar, std_tqdm) and bar.n == 10 and bar.total == 10


def test_with_no_delay_the_bar_is_written_and_reaches_its_total():
    text, bar = run(delay=0)
    last = text.strip().split("\r")[-1]
    assert last.startswith("demo: 100%") and "10/10" in last
    assert "0/10" in text.split("\r")[1]  # it started from 0


def test_tqdm_options_pass_through():
    text, _ = run(total=4, delay=0, ascii=True, unit="epoch")
    last = text.strip().split("\r")[-1]
    assert "|##########|" in last and "epoch/s" in last and "4/4" in last  # ascii bar, the unit named
    assert run(delay=0, disable=True)[0] == ""  # disable wins over delay=0


@pytest.mark.parametrize("delay, error, fragments", [
    ("soon", TypeError, ["argument 'delay'", "expected a real number", "got str 'soon'"]),
    (float("nan"), ValueError, ["argument 'delay'", "expected a finite real number", "nan"]),
    (True, TypeError, ["argument 'delay'", "expected a real number", "got bool"]),
    (-1.0, ValueError, ["argument 'delay'", "expected seconds >= 0", "got -1"]),
])
def test_a_bad_delay_is_refused(delay, error, fragments):
    assert_explained(lambda: progress_bar(10, delay=delay, file=io.StringIO()), error, fragments)


# -- the training loop's factory ------------------------------------------------------------------
def tiny_problem():
    rng = np.random.default_rng(0)
    net = bp.mlp([2, 3, 1], ["tanh", "identity"], rng=rng)
    X = rng.normal(size=(8, 2))
    return net, X, X[:, :1] - X[:, 1:], rng


def test_train_with_the_bar_as_its_factory_reaches_100_percent():
    net, X, d, rng = tiny_problem()
    buffer = io.StringIO()
    history = bp.train(net, X, d, eta=0.1, epochs=3, batch_size=4, rng=rng,
                       progress=lambda **kw: progress_bar(file=buffer, delay=0, **kw))
    last = buffer.getvalue().strip().split("\r")[-1]
    assert last.startswith("training: 100%") and "6/6" in last  # 3 epochs of 2 mini-batches
    assert f"epoch 3/3: loss {history.train_loss[-1]:.4f}" in last  # the epoch's status as the postfix


def test_train_with_the_default_bar_is_silent_on_a_short_run():
    net, X, d, rng = tiny_problem()
    buffer = io.StringIO()
    bp.train(net, X, d, eta=0.1, epochs=2, batch_size=4, rng=rng,
             progress=lambda **kw: progress_bar(file=buffer, **kw))  # the default delay of 5 s
    assert buffer.getvalue() == ""  # a run of milliseconds shows nothing, as progress.py promises
