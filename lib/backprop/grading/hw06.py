"""Homework 06: the training loop itself, an initialisation for 20 ReLU layers, and diagnosing a training run.

The student writes

* ``train_loop(params, instance_gradients, X, labels, eta, batch_size, epochs, clip, rng)``:
  mini-batch SGD exactly as the homework states it -- every epoch one ``rng.permutation(T)``,
  mini-batches taken in that order (the last one may be smaller), each instance's divergence and
  gradients accumulated over the whole batch, both divided once by the batch's size b, the
  averaged gradients clipped by their **global** norm when ``clip`` is given, then
  ``W <- W - eta grad W`` for every parameter.  It updates ``params`` in place and returns the
  loss of every epoch (the average of Div over the epoch's T instances, each taken before its
  batch's update).  Part ``06_training_loop`` compares the final weights and the epoch losses
  with the reference on small random problems; a loop that forgets to shuffle, averages twice,
  sums, clips per tensor, or updates before the whole batch is accumulated is told which.
  Part ``06_digits_accuracy`` trains the given network (64 -> 64 ReLU -> 10, He-initialised) with
  the student's loop on the 8x8 digits, on a split the grader draws from its seed, and needs a
  test accuracy of at least :data:`TARGET_ACCURACY` on that split's test digits, which stay in
  the grader;
* ``relu_init_std(fan_in)`` and ``z_variance_factor(fan_in, std)``: the scale that keeps the
  variance of z(k) steady through ReLU layers, sqrt(2 / fan_in), and the factor
  fan_in std^2 / 2 by which one ReLU layer multiplies it (the reason);
* ``diagnose_run(history)``: from a run's per-epoch gradient norms, dead-unit fractions and
  losses, ``(problem, k)`` with problem one of "exploding", "vanishing", "dead units", "healthy"
  (tested in that order, rules in :func:`diagnose_reference`) and k the layer most affected.

The kernel gets only ``backprop.core.checks`` of the library (and numpy): ``backprop.train``,
``clip_by_global_norm``, ``init_std`` and the dashboard's ``diagnose`` compute these answers.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.gradcheck import lecture_name
from ..core.tolerance import agree
from ..core.training import clip_by_global_norm, sgd_update
from .parts import AnswerError, Case, Part, Verdict, as_numbers, fmt

__all__ = ["MAY_USE", "PACKAGES", "ALLOWED", "INSTANCE_GRADIENTS", "TARGET_ACCURACY", "DIGITS_SETTINGS",
           "instance_gradients", "reference_loop", "digits_test_accuracy", "diagnose_reference", "PARTS"]

MAY_USE = ("core.checks",)
PACKAGES = ("numpy",)
ALLOWED = ("this homework may use numpy and the function it is given (instance_gradients); not the library's "
           "training loop, clipping, initialisation or diagnosis")
#: the digits part: the test accuracy to reach, and the settings the grader trains with
TARGET_ACCURACY = 0.92
DIGITS_SETTINGS = {"hidden": 64, "eta": 0.1, "batch_size": 32, "epochs": 10, "clip": 5.0}
#: thresholds of the diagnosis (the homework states them)
EXPLODING_NORM, VANISHING_RATIO, DEAD_SHARE = 1e3, 1e-3, 0.5

#: the given function, as the homework's given cell defines it and as the grader's kernel side runs it
INSTANCE_GRADIENTS = '''
def instance_gradients(params, x, label):
    """Div and its gradients for ONE instance of a 1-hidden-layer network: ReLU, then softmax and cross-entropy.

    params: "W(1)" (width_1, width_0), "b(1)" (width_1,), "W(2)" (width_2, width_1), "b(2)" (width_2,);
    x: (width_0,), label: the class, an int. Returns (Div, grads), grads shaped like params.
    """
    z1 = params["W(1)"] @ x + params["b(1)"]
    y1 = np.maximum(z1, 0.0)
    z2 = params["W(2)"] @ y1 + params["b(2)"]
    top = z2.max()
    log_sum = top + np.log(np.exp(z2 - top).sum())
    div = float(log_sum - z2[label])                    # -log softmax(z2)[label]
    dz2 = np.exp(z2 - log_sum)                          # dDiv/dz(2) = Y - d
    dz2[label] -= 1.0
    dz1 = (params["W(2)"].T @ dz2) * (z1 > 0)           # back through W(2) and the ReLU
    return div, {"W(1)": np.outer(dz1, x), "b(1)": dz1, "W(2)": np.outer(dz2, y1), "b(2)": dz2}
'''.strip("\n")

_scope: dict = {"np": np}
exec(INSTANCE_GRADIENTS, _scope)
instance_gradients = _scope["instance_gradients"]


class Hw06Part(Part):
    may_use = MAY_USE
    packages = PACKAGES
    allowed = ALLOWED


# -- the reference loop and its classic bugs ------------------------------------------------------------
def reference_loop(params, X, labels, *, eta, batch_size, epochs, clip, rng, bug: str = ""):
    """The homework's loop (``bug=""``), or one of its classic bugs: "no shuffle", "twice" (averages twice),
    "sum" (never averages), "per tensor" (clips each tensor alone), "always" (rescales to norm tau even a
    gradient already shorter), "per instance" (updates after every instance, unclipped),
    "per instance, clipped", "shuffled once" (one order for every epoch), "divides by B" (the last, smaller
    batch divided by batch_size), "ascent" (W + eta grad W) or "by value" (each entry clipped to [-tau, tau]).
    Updates ``params`` in place; returns the epoch losses."""
    T = len(X)
    losses = []
    once = rng.permutation(T) if bug == "shuffled once" else None
    for _ in range(epochs):
        order = np.arange(T) if bug == "no shuffle" else once if once is not None else rng.permutation(T)
        total = 0.0
        for start in range(0, T, batch_size):
            idx = order[start:start + batch_size]
            b = len(idx)
            sums = {name: np.zeros_like(p) for name, p in params.items()}
            loss = 0.0
            for t in idx:
                div, grads = instance_gradients(params, X[t], int(labels[t]))
                loss += div
                if bug.startswith("per instance"):  # the update before the batch is accumulated
                    _update(params, {n: g / b for n, g in grads.items()}, eta,
                            clip if bug == "per instance, clipped" else None, "")
                    continue
                for name, g in grads.items():
                    sums[name] += g
            total += loss
            if bug.startswith("per instance"):
                continue
            divide = {"sum": 1, "twice": b * b, "divides by B": batch_size}.get(bug, b)
            _update(params, {n: s / divide for n, s in sums.items()}, eta, clip, bug)
        losses.append(total / T)
    return losses


def _update(params, grads, eta, clip, bug):
    """The library's clipping (or the per-tensor bug: each tensor clipped alone; or the bug that always
    rescales, even a gradient shorter than tau) and its update."""
    if clip is not None:
        if bug == "per tensor":
            grads = {n: clip_by_global_norm({n: g}, clip)[0][n] for n, g in grads.items()}
        elif bug == "by value":
            grads = {n: np.clip(g, -clip, clip) for n, g in grads.items()}
        elif bug == "always":
            norm = clip_by_global_norm(grads, clip)[1]
            grads = {n: g * (clip / norm) for n, g in grads.items()} if norm > 0 else grads
        else:
            grads, _ = clip_by_global_norm(grads, clip)
    sgd_update(params, {n: -g for n, g in grads.items()} if bug == "ascent" else grads, eta)


_LOOP_CALL = '''
import numpy as np
''' + INSTANCE_GRADIENTS + '''
params = {name: np.array(value, dtype=float) for name, value in p["params"].items()}
X, labels = np.array(p["X"], dtype=float), np.array(p["labels"], dtype=np.int64)
rng = np.random.default_rng(p["seed"])
losses = call("train_loop", params, give(instance_gradients, "instance_gradients"), X, labels, p["eta"],
              p["batch_size"], p["epochs"], p["clip"], rng)
if hasattr(losses, "tolist"):
    losses = losses.tolist()
if not isinstance(losses, (list, tuple)):
    raise Wrong("train_loop should return the list of the epochs' losses, one number per epoch")
result = {"params": {name: value.tolist() for name, value in params.items()},
          "losses": [float(v) for v in losses]}
'''


def _loop_problem(rng: np.random.Generator, n: int) -> dict:
    """A small random problem: widths, instances (T not a multiple of B, so the last batch is smaller), weights."""
    w0, w1, w2 = int(rng.integers(3, 7)), int(rng.integers(3, 6)), int(rng.integers(2, 5))
    T = int(rng.integers(9, 19))
    B = int(rng.choice([b for b in (2, 3, 4, 5) if T % b]))
    X = rng.normal(size=(T, w0))
    labels = rng.integers(0, w2, size=T)
    params = {"W(1)": rng.normal(0, 0.8, size=(w1, w0)), "b(1)": rng.normal(0, 0.3, size=w1),
              "W(2)": rng.normal(0, 0.8, size=(w2, w1)), "b(2)": rng.normal(0, 0.3, size=w2)}
    # tau near the size of a typical step's gradient: some steps are clipped and others not, so neither a loop
    # that averages twice nor one that clips per tensor can hide behind a clipping that rescales every step
    grads = [instance_gradients(params, X[t], int(labels[t]))[1] for t in range(T)]
    norms = [math.sqrt(sum(float(np.sum(sum(g[k] for g in grads[s:s + B]) ** 2)) for k in params)) / len(grads[s:s + B])
             for s in range(0, T, B)]  # each batch's averaged gradient, at the start
    case = {"params": {k: v.tolist() for k, v in params.items()}, "X": X.tolist(), "labels": labels.tolist(),
            "eta": float(np.round(rng.uniform(0.2, 0.6), 3)), "batch_size": B, "epochs": int(rng.integers(2, 4)),
            "clip": None, "seed": int(rng.integers(0, 2**31))}
    if n % 6 == 5:
        return case
    for attempt in range(40):  # a tau with which every classic bug changes the trained weights (later: larger taus,
        # so that some steps stay unclipped and a loop that never averages cannot hide behind a clip of every step)
        case["clip"] = float(np.round(np.median(norms) * rng.uniform(0.5, 1.0 if attempt < 20 else 2.0), 4))
        right = _run_reference(case)["params"]
        if not any(all(_close(right[k], v) for k, v in _run_reference(case, bug)["params"].items()) for bug in _BUGS):
            break
    return case


def _run_reference(p: dict, bug: str = "") -> dict:
    params = {k: np.array(v, dtype=float) for k, v in p["params"].items()}
    losses = reference_loop(params, np.array(p["X"], dtype=float), np.array(p["labels"]), eta=p["eta"],
                            batch_size=p["batch_size"], epochs=p["epochs"], clip=p["clip"],
                            rng=np.random.default_rng(p["seed"]), bug=bug)
    return {"params": params, "losses": losses}


_BUGS = {
    "no shuffle": "the mini-batches came in the data's own order: draw order = rng.permutation(T) once at the start "
                  "of every epoch and take the batches order[0:B], order[B:2B], ...",
    "twice": "the gradient was divided by the batch size twice (e.g. once in the sum and once more after it): divide "
             "the accumulated divergence and gradients by b once",
    "sum": "the gradient was summed over the batch but never averaged: divide the accumulated gradients by b, the "
           "batch's size",
    "per tensor": "each gradient was clipped on its own: clipping by global norm takes the norm of ALL gradients "
                  "together, sqrt(sum of every entry squared), and multiplies every gradient by the same tau / norm",
    "always": "every step was rescaled to norm tau, also when the gradients' global norm was already at most tau: "
              "clipping only ever shortens a step (if norm > tau), it never lengthens one",
    "per instance": "the weights were updated inside the loop over the batch's instances: accumulate the whole "
                    "batch first, then average, clip and update once per batch",
}
_BUGS["per instance, clipped"] = _BUGS["per instance"]
_BUGS.update({
    "shuffled once": "every epoch went through the data in the same order: draw a fresh order = rng.permutation(T) "
                     "at the start of EACH epoch, not once before the epochs",
    "divides by B": "the last, smaller batch was averaged with batch_size: divide by b, the number of instances "
                    "actually in that batch",
    "ascent": "the weights moved up the gradient, raising the loss: the update subtracts, W <- W - eta grad W",
    "by value": "each entry was clipped to [-tau, tau] on its own (clipping by value): clipping by global norm "
                "rescales all the gradients together, by tau / norm, only when their global norm is above tau",
})


def _close(a, b) -> bool:
    return bool(np.all(agree(np.asarray(a, dtype=float), np.asarray(b, dtype=float))))


class TrainingLoop(Hw06Part, id="06_training_loop", names=("train_loop",),
                   title="mini-batch SGD with a fresh shuffle, the batch average and clipping by global norm"):
    call = _LOOP_CALL
    argument_names = ("params", "instance_gradients", "X", "labels", "eta", "batch_size", "epochs", "clip", "rng")

    def public_cases(self):
        rng = np.random.default_rng(606)
        cases = []
        for n, label in ((0, "clipping at tau, small batches (the last one smaller)"),
                         (1, "clipping at tau, another network, another seed"), (5, "no clipping (clip = None)")):
            cases.append(Case(label, _loop_problem(rng, n)))
        return cases

    def hidden_case(self, rng, n):
        return Case("a random small problem, shuffled mini-batches" + (", clipped" if n % 6 != 5 else ""),
                    _loop_problem(rng, n))

    def expected(self, p):
        return _run_reference(p)

    def judge(self, p, answer, expected):
        if not isinstance(answer, dict) or "params" not in answer:
            raise AnswerError("train_loop should update params in place and return the epochs' losses")
        got_params = {k: as_numbers(answer["params"].get(k), f"params[{k!r}]", v.shape)
                      for k, v in expected["params"].items()}
        losses = answer.get("losses", [])
        if len(losses) != p["epochs"]:
            raise AnswerError(f"train_loop should return one loss per epoch ({p['epochs']}), got {len(losses)}")
        ok_params = all(_close(got_params[k], v) for k, v in expected["params"].items())
        ok_losses = _close(losses, expected["losses"])
        if ok_params and ok_losses:
            return Verdict.ok()
        details = []
        for name, want in expected["params"].items():
            bad = ~agree(got_params[name], want)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                details.append(f"after training, {lecture_name(name, idx)} ({name}{list(idx)}): expected "
                               f"{fmt(want[idx])}, got {fmt(got_params[name][idx])}")
                break
        if not ok_losses:
            e = int(np.argmax(~agree(np.asarray(losses, float), np.asarray(expected["losses"], float))))
            details.append(f"loss of epoch {e + 1}: expected {fmt(expected['losses'][e])}, got {fmt(losses[e])}")
        matches = []  # the classic bugs whose weights these are (two bugs can give the same weights on a case)
        for bug, why in _BUGS.items():
            if bug in ("per tensor", "always", "by value", "per instance, clipped") and p["clip"] is None:
                continue
            other = _run_reference(p, bug)
            if all(_close(got_params[k], v) for k, v in other["params"].items()) and why not in matches:
                matches.append(why)
        if len(matches) == 1:
            return Verdict.wrong(details, matches[0])
        if matches:
            return Verdict.wrong(details, "these weights are what more than one mistake gives on this case: "
                                 + "; or ".join(f"({n}) {why}" for n, why in enumerate(matches, 1)))
        if ok_params:
            why = ("the weights are right but the epoch losses are not: each epoch's loss is the average of Div over "
                   "its T instances (the sum of every batch's accumulated Div, divided by T)")
        else:
            why = ("the weights after training differ from the homework's loop: per epoch one rng.permutation(T); "
                   "per batch accumulate Div and the gradients of every instance, divide by b once, clip by the "
                   "global norm when clip is given, then W <- W - eta grad W")
        return Verdict.wrong(details, why)


# -- the loop on the digits -----------------------------------------------------------------------------
_DIGITS_CALL = '''
import numpy as np
''' + INSTANCE_GRADIENTS + '''
pixels = np.array(p["pixels"], dtype=float) / 16.0
mean = pixels.mean(axis=0)
X = (pixels - mean) / pixels.std()                      # scaled with the training digits' own numbers
labels = np.array(p["labels"], dtype=np.int64)
rng = np.random.default_rng(p["seed"])
hidden = p["hidden"]
params = {"W(1)": rng.normal(0.0, np.sqrt(2.0 / 64), size=(hidden, 64)), "b(1)": np.zeros(hidden),
          "W(2)": rng.normal(0.0, np.sqrt(2.0 / hidden), size=(10, hidden)), "b(2)": np.zeros(10)}
call("train_loop", params, give(instance_gradients, "instance_gradients"), X, labels, p["eta"], p["batch_size"],
     p["epochs"], p["clip"], rng)
result = {"params": {name: value.tolist() for name, value in params.items()}}
'''


def _digits_split(seed: int):
    """The grader's split of the 8x8 digits for ``seed``: training pixels and labels, test pixels and labels."""
    from ..core.data import load_digits, stratified_split

    images, labels = load_digits()
    train, test = stratified_split(labels, 0.25, rng=np.random.default_rng(seed))
    flat = images.reshape(len(images), -1)
    return flat[train], labels[train], flat[test], labels[test]


def digits_test_accuracy(p: dict, params: dict) -> float:
    """The accuracy of the trained ``params`` on the test digits of the split ``p["split_seed"]`` (grader side)."""
    train_pixels, _, test_pixels, test_labels = _digits_split(p["split_seed"])
    train = train_pixels / 16.0
    X = (test_pixels / 16.0 - train.mean(axis=0)) / train.std()
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=float) for k in ("W(1)", "b(1)", "W(2)", "b(2)"))
    with np.errstate(all="ignore"):
        scores = np.maximum(X @ W1.T + b1, 0.0) @ W2.T + b2
    if not np.isfinite(scores).all():
        return 0.0
    return float(np.mean(scores.argmax(axis=1) == test_labels))


class DigitsAccuracy(Hw06Part, id="06_digits_accuracy", names=("train_loop",), hidden_count=2,
                     title=f"your loop reaches {100 * TARGET_ACCURACY:.0f} % test accuracy on the digits"):
    call = _DIGITS_CALL
    argument_names = ("params", "instance_gradients", "X", "labels", "eta", "batch_size", "epochs", "clip", "rng")

    def _case(self, split_seed: int, seed: int) -> dict:
        pixels, labels, _, _ = _digits_split(split_seed)
        return {"pixels": pixels.astype(int).tolist(), "labels": labels.tolist(), "seed": seed,
                "split_seed": split_seed, **DIGITS_SETTINGS}

    def public_cases(self):
        return [Case(f"the digits, split 0: 64 -> {DIGITS_SETTINGS['hidden']} ReLU -> 10, eta "
                     f"{DIGITS_SETTINGS['eta']:g}, batch {DIGITS_SETTINGS['batch_size']}, "
                     f"{DIGITS_SETTINGS['epochs']} epochs, clip {DIGITS_SETTINGS['clip']:g}", self._case(0, 0))]

    def hidden_case(self, rng, n):
        return Case("the digits, a split drawn by the grader", self._case(int(rng.integers(1, 2**31)),
                                                                          int(rng.integers(0, 2**31))))

    def expected(self, p):
        return TARGET_ACCURACY

    def judge(self, p, answer, target):
        if not isinstance(answer, dict) or "params" not in answer:
            raise AnswerError("train_loop should update params in place")
        accuracy = digits_test_accuracy(p, answer["params"])
        if accuracy >= target:
            return Verdict.ok()
        return Verdict.wrong(f"test accuracy {100 * accuracy:.1f} %, needed {100 * target:.0f} %",
                             f"after training with your loop the network classifies only {100 * accuracy:.1f} % "
                             f"of the test digits (needed {100 * target:.0f} %): check part 1's loop first "
                             f"(shuffle, average once, clip globally, one update per batch)")


# -- initialisation ---------------------------------------------------------------------------------------
_INIT_CALL = '''
std = call("relu_init_std", p["fan_in"])
factor = call("z_variance_factor", p["fan_in"], p["std"])
try:
    result = [float(std), float(factor)]
except (TypeError, ValueError):
    raise Wrong("relu_init_std and z_variance_factor should each return one number")
'''


class InitScale(Hw06Part, id="06_init_scale", names=("relu_init_std", "z_variance_factor"),
                title="the scale that keeps the variance steady through ReLU layers, and why"):
    call = _INIT_CALL
    argument_names = ("fan_in", "std")

    def public_cases(self):
        return [Case("fan_in = 32, std = 0.1", {"fan_in": 32, "std": 0.1}),
                Case("fan_in = 64, std = 0.25", {"fan_in": 64, "std": 0.25}),
                Case("fan_in = 2, std = 1", {"fan_in": 2, "std": 1.0})]

    def hidden_case(self, rng, n):
        return Case("random fan_in and std", {"fan_in": int(rng.integers(1, 2000)),
                                             "std": float(np.round(rng.uniform(0.01, 2.0), 4))})

    def expected(self, p):
        return [math.sqrt(2.0 / p["fan_in"]), p["fan_in"] * p["std"] ** 2 / 2.0]

    def judge(self, p, answer, expected):
        got = as_numbers(answer, "answer", (2,))
        ok = agree(got, np.array(expected))
        if ok.all():
            return Verdict.ok()
        n, s = p["fan_in"], p["std"]
        details, why = [], []
        # the hints say which quantity is off and by how much, and point at the ReLU's effect on E[y^2]; the factor
        # and the scale are what part 3 asks the student to derive, so no hint states them
        relu_question = ("ask which half of a ReLU's inputs gives y = 0, and what part of Var(z) that leaves in "
                         "E[y^2] (notebook 06, section 6.1)")
        if not ok[0]:
            details.append(f"relu_init_std({n}): expected {fmt(expected[0])}, got {fmt(got[0])}")
            if agree(got[0], math.sqrt(1.0 / n)):
                why.append(f"relu_init_std gave the scale of a layer that passes every z unchanged: through ReLU "
                           f"layers it leaves the variance of z off by exactly a factor 2 per layer; "
                           f"{relu_question}")
            elif agree(got[0], 2.0 / n):
                why.append("relu_init_std returned the variance std^2 that makes the factor 1, not the standard "
                           "deviation std of N(0, std^2)")
            elif got[0] > 0 and math.isfinite(got[0]):
                ratio = (got[0] / expected[0]) ** 2
                why.append(f"with your relu_init_std({n}) a ReLU layer would multiply the variance of z by "
                           f"{fmt(ratio)}, not 1: solve 'the factor of z_variance_factor equals 1' for std")
            else:
                why.append("relu_init_std should be the positive std that makes the variance factor exactly 1")
        if not ok[1]:
            details.append(f"z_variance_factor({n}, {fmt(s)}): expected {fmt(expected[1])}, got {fmt(got[1])}")
            if agree(got[1], n * s ** 2):
                why.append("z_variance_factor is off by exactly a factor 2 (yours is twice the expected): "
                           "Var(z(k)) = fan_in std^2 E[y(k-1)^2], but after a ReLU E[y^2] is not Var(z)"
                           + ("" if why else f": {relu_question}"))
            elif agree(got[1], n * s / 2.0):
                why.append("z_variance_factor used std where the variance std^2 belongs")
            elif expected[1] != 0 and math.isfinite(got[1]):
                why.append(f"z_variance_factor is {fmt(got[1] / expected[1])} times the expected: start from the "
                           f"given Var(z(k)) = fan_in std^2 E[y(k-1)^2]; {relu_question}")
            else:
                why.append(f"start from the given Var(z(k)) = fan_in std^2 E[y(k-1)^2]; {relu_question}")
        return Verdict.wrong(details, "; ".join(why))


# -- diagnosing a run -------------------------------------------------------------------------------------
def diagnose_reference(history: dict):
    """``(problem, k)`` for a run's history, the homework's rules on the LAST epoch's values, in this order:

    * "exploding": a training loss that is not finite, or a gradient norm of some W(k) above 1e3;
      k = the layer with the largest norm of W(k)'s gradient;
    * "vanishing": the smallest W(k) gradient norm below 1e-3 times the largest; k = the layer with the smallest;
    * "dead units": more than half the units of some ReLU layer y(k) dead; k = the layer with the largest share;
    * "healthy": k = None.
    """
    norms = {int(n[2:-1]): v[-1] for n, v in history["grad_norm"].items() if n.startswith("W(")}
    dead = {int(n[2:-1]): v[-1] for n, v in history["dead_relu"].items()}
    if not all(math.isfinite(x) for x in history["train_loss"]) or max(norms.values()) > EXPLODING_NORM:
        return "exploding", max(norms, key=norms.get)
    if min(norms.values()) < VANISHING_RATIO * max(norms.values()):
        return "vanishing", min(norms, key=norms.get)
    if dead and max(dead.values()) > DEAD_SHARE:
        return "dead units", max(dead, key=dead.get)
    return "healthy", None


_DIAGNOSE_CALL = '''
history = {"grad_norm": {k: list(v) for k, v in p["grad_norm"].items()},
           "dead_relu": {k: list(v) for k, v in p["dead_relu"].items()},
           "train_loss": [float(x) for x in p["train_loss"]]}
answer = call("diagnose_run", history)
if not isinstance(answer, (tuple, list)) or len(answer) != 2:
    raise Wrong("diagnose_run should return a pair (problem, k), e.g. ('vanishing', 1) or ('healthy', None)")
problem, k = answer
if k is not None and (isinstance(k, bool) or not (hasattr(k, "__index__") or isinstance(k, float) and k.is_integer())):
    raise Wrong(f"k should be the layer's number, an int (1 for W(1) and y(1)), or None for a healthy run; got {k!r}")
result = [str(problem), None if k is None else int(k)]
'''


#: how the bias gradient norms b(k) of a hidden history differ from the weights' W(k), so that a diagnosis reading
#: b(k) (instead of, besides or over W(k)) is wrong: one far larger (above 1e3, or above an exploding W), one far
#: smaller (below 1e-3 of the largest, or below a vanishing W), or each b(k) holding W(k+1)'s values
BIAS_MODES = ("larger", "smaller", "shifted")


def _bias_norms(rng: np.random.Generator, mode: str, kind: str, k: int, last: np.ndarray) -> np.ndarray:
    """The last epoch's b(k) norms, per layer, for a history whose W(k) norms are ``last``."""
    depth = len(last)
    if mode == "shifted":
        return np.roll(last, -1)
    out = last * rng.uniform(0.3, 3.0, size=depth)
    j = int(rng.choice([i for i in range(1, depth + 1) if i != k]))  # another layer than the affected one
    if mode == "larger":
        out[j - 1] = last.max() * 10.0 ** rng.uniform(0.3, 1.0) if kind == "exploding" else 10.0 ** rng.uniform(3.3, 6)
    else:
        out[j - 1] = last.min() * 10.0 ** rng.uniform(-2, -0.3) if kind == "vanishing" else \
            last.max() * 10.0 ** rng.uniform(-9, -3.5)
    return out


def _history(rng: np.random.Generator, kind: str, mode: str = "larger", dead_too: bool = False) -> dict:
    """A synthetic history of ``kind`` with the affected layer drawn at random (not always layer 1), its bias
    norms differing from the weights' as ``mode`` says (:data:`BIAS_MODES`); ``dead_too``: an exploding or
    vanishing run with, besides, more than half of some ReLU layer dead (the rules' order decides)."""
    depth, epochs = int(rng.integers(3, 8)), int(rng.integers(3, 7))
    k = int(rng.integers(1, depth + 1))
    base = 10.0 ** rng.uniform(-1.5, 0.5, size=depth)
    last = base.copy()
    dead_last = rng.uniform(0.0, 0.3, size=depth - 1)
    loss = [float(v) for v in np.round(np.sort(rng.uniform(0.2, 2.5, size=epochs))[::-1], 4)]
    if kind == "exploding":
        last[k - 1] = 10.0 ** rng.uniform(3.3, 8)
        if rng.random() < 0.3:
            loss[-1] = "inf"
    elif kind == "vanishing":
        last[k - 1] = last.max() * 10.0 ** rng.uniform(-9, -3.5)
    elif kind == "dead units":
        k = int(rng.integers(1, depth))
        dead_last[k - 1] = float(rng.uniform(0.55, 1.0))
    bias = _bias_norms(rng, mode, kind, k, last)
    grad_norm = {}
    weights = {j: list(base[j - 1] * 10.0 ** rng.uniform(-0.2, 0.2, size=epochs - 1)) + [last[j - 1]]
               for j in range(1, depth + 1)}
    for j in range(1, depth + 1):
        grad_norm[f"W({j})"] = [float(f"{v:.6g}") for v in weights[j]]
        if mode == "shifted":
            series = weights[j % depth + 1]
        else:
            series = [v * bias[j - 1] / last[j - 1] for v in weights[j]]
        grad_norm[f"b({j})"] = [float(f"{v:.6g}") for v in series]
    dead = {f"y({j})": [float(f"{v:.4f}") for v in list(rng.uniform(0, 0.3, size=epochs - 1)) + [dead_last[j - 1]]]
            for j in range(1, depth)}
    if dead_too and kind in ("exploding", "vanishing"):
        dead[f"y({int(rng.integers(1, depth))})"][-1] = float(f"{rng.uniform(0.55, 1.0):.4f}")
    return {"grad_norm": grad_norm, "dead_relu": dead, "train_loss": loss}


def _plain_history(p: dict) -> dict:
    return {"grad_norm": p["grad_norm"], "dead_relu": p["dead_relu"],
            "train_loss": [float(x) for x in p["train_loss"]]}


class DiagnoseRun(Hw06Part, id="06_diagnose_run", names=("diagnose_run",),
                  title="name the problem of a training run and the layer it hits"):
    call = _DIAGNOSE_CALL
    argument_names = ("history",)
    KINDS = ("exploding", "vanishing", "dead units", "healthy")

    def public_cases(self):
        rng = np.random.default_rng(6060)
        return [Case(f"a run that is {kind}" if kind != "dead units" else "a run with dead units", _history(rng, kind))
                for kind in self.KINDS] + [
            Case("a run that is vanishing, with a ReLU layer more than half dead too",
                 _history(rng, "vanishing", dead_too=True))]

    def hidden_case(self, rng, n):  # in every third case, an exploding or vanishing run has dead units too
        return Case("a random run", _history(rng, self.KINDS[n % 4], BIAS_MODES[n // 4 % len(BIAS_MODES)],
                                             dead_too=n // 4 != 1))

    def expected(self, p):
        problem, k = diagnose_reference(_plain_history(p))
        return [problem, k]

    def judge(self, p, answer, expected):
        if not isinstance(answer, list) or len(answer) != 2:
            raise AnswerError("diagnose_run should return a pair (problem, k)")
        problem, k = answer
        if problem == expected[0] and k == expected[1]:
            return Verdict.ok()
        hist = _plain_history(p)
        norms = {n: v[-1] for n, v in hist["grad_norm"].items() if n.startswith("W(")}
        detail = (f"expected ({expected[0]!r}, {expected[1]!r}), got ({problem!r}, {k!r}); last epoch: gradient norms "
                  + ", ".join(f"{n} {v:.3g}" for n, v in norms.items())
                  + "; dead shares " + ", ".join(f"{n} {v[-1]:.2f}" for n, v in hist["dead_relu"].items())
                  + f"; last loss {hist['train_loss'][-1]:.4g}")
        if problem not in self.KINDS:
            why = f"the problem must be one of {', '.join(repr(x) for x in self.KINDS)}"
        elif problem != expected[0]:
            rules = {"exploding": "a loss that is not finite, or a W(k) gradient norm above 1e3, means exploding "
                                  "(tested first)",
                     "vanishing": "the smallest W(k) gradient norm below 1e-3 times the largest means vanishing "
                                  "(tested after exploding)",
                     "dead units": "more than half the units of a ReLU layer dead means dead units (tested after "
                                   "exploding and vanishing)",
                     "healthy": "none of the three rules holds on the last epoch: the run is healthy"}
            why = f"wrong problem: {rules[expected[0]]}; judge on the LAST epoch's values"
        elif expected[1] is None:
            why = "a healthy run names no layer: return ('healthy', None)"
        else:
            which = {"exploding": "the W(k) with the largest gradient norm", "vanishing": "the W(k) with the "
                     "smallest gradient norm", "dead units": "the ReLU layer y(k) with the largest dead share"}
            why = (f"right problem, wrong layer: k is {which[expected[0]]} on the last epoch, numbered from 1 as in "
                   f"the lecture (W(1) is the first layer)")
        return Verdict.wrong(detail, why)


PARTS = (TrainingLoop(), DigitsAccuracy(), InitScale(), DiagnoseRun())
