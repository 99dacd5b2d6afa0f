"""Training: the lecture's algorithm, its batch / stochastic / mini-batch variants, and what to watch.

The lecture's algorithm, for T training instances (x_t, d_t):

    initialise every W(k) and b(k)
    repeat
        Loss = 0; every gradient = 0
        for t = 1..T
            forward pass:  Y_t = y(N) for x_t;  Loss += Div(Y_t, d_t)
            backward pass: every gradient += the gradient of Div(Y_t, d_t)
        Loss /= T; every gradient /= T                  (average)
        W(k) <- W(k) - eta grad W(k); b(k) <- b(k) - eta grad b(k)   (update)
    until converged

:func:`lecture_gradients` is the inner loop, instance by instance, with the
library's forward and backward passes; :func:`lecture_step` adds the update.
Stacking the T instances as rows turns the sum over t into matrix products
(``Network.loss_and_gradients``): the same numbers at once.  :func:`train` runs
the variants on a data set:

* **batch** descent: ``batch_size = T``, one update per epoch, exactly the step above;
* **stochastic** descent: ``batch_size = 1``, one update per instance;
* **mini-batch** descent: ``1 < batch_size < T``, the instances in a new random
  order each epoch (from an explicit ``numpy.random.Generator``), one update per
  mini-batch (the last one may be smaller).

Every step of :func:`train` is :func:`sgd_step`, the lecture's: the forward pass, the batch
average of the divergence and its derivative (the 1/B applied once, to
d loss / dY), the backward pass, optionally :func:`clip_by_global_norm` (same
direction, norm at most tau), then :func:`sgd_update`, ``W <- W - eta grad W``.
The learning rate is ``eta`` everywhere, as in the lecture.  :func:`train`
checks its data once, then runs every step without re-checking.  It returns a
:class:`History`: losses and accuracies per epoch, each parameter's gradient
norm (vanishing and exploding gradients), the fraction of dead ReLU units, and
every step's loss.  A non-finite loss or gradient stops training with a message
(lower the learning rate, or clip) and keeps the history up to the last good step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .activations import ReLU
from .checks import check_positive, check_positive_int, check_rng, describe
from .divergences import BinaryCrossEntropy, SigmoidBinaryCrossEntropy
from .layers import ActivationLayer, Affine, Residual
from .network import Network

__all__ = [
    "sgd_update",
    "global_norm",
    "clip_by_global_norm",
    "lecture_gradients",
    "lecture_step",
    "descent_variant",
    "History",
    "TrainingDiverged",
    "train",
    "evaluate",
    "predict_labels",
    "Step",
    "sgd_step",
    "relu_inputs",
    "dead_relu_units",
]

#: rows of the training set (spread evenly over it) on which dead ReLU units are counted after each epoch
DEAD_PROBE_ROWS = 1000
#: rows per forward pass when evaluating a whole set
EVAL_CHUNK = 4096


# -- the update and clipping ------------------------------------------------------------------------
def _check_pairs(params, grads):
    if not (type(params) is dict or isinstance(params, Mapping)) or not (type(grads) is dict or isinstance(grads, Mapping)):
        raise TypeError(
            f"arguments 'params' and 'grads' expected mappings name -> array, got {describe(params)} and {describe(grads)}"
        )
    if params.keys() != grads.keys():
        raise ValueError(f"argument 'grads' expected the names of 'params' {list(params)}, got {list(grads)}")
    for name, p in params.items():
        g = grads[name]
        if getattr(g, "shape", None) != p.shape and np.shape(g) != p.shape:
            raise ValueError(f"argument 'grads[{name!r}]' expected the shape of the parameter {p.shape}, "
                             f"got {np.shape(g)}")


def sgd_update(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], eta: float, *,
               reuse_grads: bool = False) -> None:
    """The lecture's update, in place: ``W <- W - eta * grad W`` for every parameter (biases too).

    ``params`` is ``net.parameters()`` (the arrays themselves), ``grads`` the
    gradients of the same names and shapes; ``eta`` > 0 is the learning rate.
    The gradients are left unchanged, unless ``reuse_grads=True``: then each
    gradient array holds ``eta * grad`` afterwards, which spares a temporary the
    size of W at every step (the training loop owns its gradients and says so).
    """
    eta = check_positive(eta, "eta", "a learning rate")
    _check_pairs(params, grads)
    for name, p in params.items():
        g = grads[name]
        step = np.multiply(g, eta, out=g if reuse_grads else None)  # eta * grad W
        p -= step                                                    # W <- W - eta grad W


def _squared_norms(grads) -> list[float]:
    return [float(np.vdot(g, g)) for g in grads.values()]


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The norm of all gradients taken together as one vector: sqrt(sum of every entry squared)."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"argument 'grads' expected a mapping name -> array, got {describe(grads)}")
    return math.sqrt(sum(_squared_norms({k: np.asarray(g, dtype=np.float64) for k, g in grads.items()})))


def clip_by_global_norm(grads: Mapping[str, np.ndarray], tau: float) -> tuple[dict[str, np.ndarray], float]:
    """``(clipped, norm)``: the gradients rescaled to global norm at most ``tau``, and their norm before.

    When ``norm > tau`` every gradient is multiplied by ``tau / norm`` (new
    arrays): the same direction, norm exactly tau.  Otherwise the same arrays
    come back, unchanged.
    """
    tau = check_positive(tau, "tau", "a clipping threshold")
    norm = global_norm(grads)
    if norm <= tau:
        return dict(grads), norm
    return {name: np.asarray(g, dtype=np.float64) * (tau / norm) for name, g in grads.items()}, norm


@dataclass(frozen=True)
class Step:
    """What one :func:`sgd_step` saw.  ``loss``: the batch average of Div, before the update; ``Y``: the
    outputs y(N) (B, width_N); ``squares``: every parameter's squared gradient norm and ``norm`` the global
    norm, both before clipping (empty and nan when the step stopped at the loss); ``clipped``: whether
    clipping rescaled the gradient; ``stopped``: ``""`` when the update was made, else what stopped it first
    (``"loss"`` or ``"gradient's norm"``)."""

    loss: float
    Y: np.ndarray
    squares: tuple[float, ...] = ()
    norm: float = math.nan
    clipped: bool = False
    stopped: str = ""


def sgd_step(net: Network, params: Mapping[str, np.ndarray], X: np.ndarray, D: np.ndarray, eta: float, *,
             clip: float | None = None, max_loss: float = math.inf) -> Step:
    """One step of (mini-batch) SGD, the lecture's, on ``net`` in place; returns the :class:`Step`.

    The forward pass on X (b, width_0); the batch average of Div against the
    targets D (b, width_N) and its derivative (the 1/b applied once, to
    d loss / dY); the backward pass; then, unless the loss is not finite or above
    ``max_loss`` (checked before the backward pass) or the gradient's global norm
    is not finite: :func:`clip_by_global_norm` at tau = ``clip`` when given, and
    :func:`sgd_update`, ``W <- W - eta grad W``.  ``params`` is
    ``net.parameters()``.  Nothing is checked here: the caller checked its data
    and settings once (:func:`train` does).
    """
    b = len(X)
    Y, caches = net.forward(X, check=False)          # forward pass
    values, dY = net.divergence.rule(Y, D)           # Div per instance, dDiv/dY
    loss = float(values.sum()) / b                   # the batch average ...
    if not (math.isfinite(loss) and loss <= max_loss):
        return Step(loss, Y, stopped="loss")
    dY /= b                                          # ... and its derivative: the 1/b, once
    grads = net.backward(dY, caches)                 # backward pass
    squares = tuple(_squared_norms(grads))
    norm = math.sqrt(sum(squares))
    if not math.isfinite(norm):
        return Step(loss, Y, squares, norm, stopped="gradient's norm")
    clipped = clip is not None and norm > clip
    if clipped:
        grads, _ = clip_by_global_norm(grads, clip)
    sgd_update(params, grads, eta, reuse_grads=True)  # W <- W - eta grad W
    return Step(loss, Y, squares, norm, clipped)


# -- the lecture's algorithm -----------------------------------------------------------------------
def lecture_gradients(net: Network, X, d) -> tuple[float, dict[str, np.ndarray]]:
    """``(Loss, grads)`` by the lecture's loop: for every instance forward, backward, accumulate; then average.

    X: (T, width_0); d: the T targets (rows, or class labels).  Each instance
    goes through the network alone, as a batch of one row.  The result equals
    ``net.loss_and_gradients(X, d)`` (the same sum, as matrix products).
    """
    X, D, _ = _prepare(net, X, d, "X", "d")
    T = len(X)
    loss = 0.0
    sums = {name: np.zeros_like(p) for name, p in net.parameters().items()}
    for t in range(T):
        x_t, d_t = X[t:t + 1], D[t:t + 1]
        Y, caches = net.forward(x_t)                                         # forward pass
        div_t, dY = net.divergence.loss_and_derivative(Y, d_t)               # Div(Y_t, d_t) and dDiv/dY
        loss += div_t                                                        # Loss += Div(Y_t, d_t)
        grads = net.backward(dY, caches)                                     # backward pass for instance t
        for name, g in grads.items():                                        # accumulate
            sums[name] += g
    return loss / T, {name: s / T for name, s in sums.items()}              # average


def _learning_rate(function: str, eta, unknown: dict) -> float:
    """``eta`` checked; unknown keywords refused, pointing at eta when the caller wrote lr."""
    hint = " (the learning rate is called eta, as in the lecture)" if "lr" in unknown else ""
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument '{next(iter(unknown))}'{hint}")
    if eta is None:
        raise TypeError(f"{function}() missing the keyword argument 'eta', the learning rate")
    return check_positive(eta, "eta", "a learning rate")


def lecture_step(net: Network, X, d, *, eta: float | None = None, **unknown) -> float:
    """One iteration of the lecture's algorithm on all of X: :func:`lecture_gradients`, then :func:`sgd_update`.

    ``eta`` (required): the learning rate.  Returns the loss before the update.
    """
    eta = _learning_rate("lecture_step", eta, unknown)
    loss, grads = lecture_gradients(net, X, d)
    sgd_update(net.parameters(), grads, eta)
    return loss


def descent_variant(batch_size: int, T: int) -> str:
    """``"batch"`` (batch_size >= T), ``"stochastic"`` (1) or ``"mini-batch"`` descent."""
    batch_size, T = check_positive_int(batch_size, "batch_size"), check_positive_int(T, "T")
    return "batch" if batch_size >= T else "stochastic" if batch_size == 1 else "mini-batch"


# -- validation of a data set, once --------------------------------------------------------------------
def _prepare(net, X, d, x_name, d_name):
    """``(X, D, labels)``: checked float64 inputs, targets (T, width_N), class labels for accuracy (or None)."""
    if not isinstance(net, Network):
        raise TypeError(f"argument 'net' expected a backprop Network, got {describe(net)}")
    X = np.ascontiguousarray(net.check_input(X, x_name))
    T = len(X)
    width = net.forward(X[:1], check=False)[0].shape[1]
    div = net.divergence
    darr = d if isinstance(d, np.ndarray) else np.asarray(d)
    labels_given = div.needs_distribution and darr.ndim == 1 and darr.dtype.kind in "iuf"
    if not labels_given and darr.shape != (T, width):
        raise ValueError(
            f"argument '{d_name}' expected targets of shape ({T}, {width}) (one row of width_N per instance of "
            f"{x_name}){' or ' + str(T) + ' class labels' if div.needs_distribution else ''}, got {describe(d)}"
        )
    if labels_given and len(darr) != T:
        raise ValueError(f"argument '{d_name}' expected {T} class labels (one per row of {x_name}), got {len(darr)}")
    D = np.ascontiguousarray(div.targets(d, (T, width), d_name))
    return X, D, _labels(div, D)


def _labels(div, D):
    """The class of every target row, for accuracy: argmax of a distribution, or 0/1 of one binary output."""
    if div.needs_distribution:
        return D.argmax(axis=1)
    if D.shape[1] == 1 and isinstance(div, (BinaryCrossEntropy, SigmoidBinaryCrossEntropy)):
        return (D[:, 0] >= 0.5).astype(np.int64)
    return None


def _threshold(div) -> float:
    """Where one binary output unit switches class: 0 for a logit, 0.5 for a probability."""
    return 0.0 if div.input_name == "z" else 0.5


def _predicted(Y, threshold):
    return Y.argmax(axis=1) if Y.shape[1] > 1 else (Y[:, 0] >= threshold).astype(np.int64)


# -- what to watch ------------------------------------------------------------------------------------
def _outputs(net, X):
    """y(N) for a checked X, a chunk of rows at a time (a whole data set need not fit one pass)."""
    return np.concatenate([net.forward(X[i:i + EVAL_CHUNK], check=False)[0] for i in range(0, len(X), EVAL_CHUNK)])


def predict_labels(net: Network, X) -> np.ndarray:
    """The predicted class of every row of X, (T,) int64: argmax of the outputs, or, for one output unit,
    1 where it is at least 0.5 (a probability) or 0 (a logit, with a fused sigmoid divergence)."""
    return _predicted(_outputs(net, net.check_input(X)), _threshold(net.divergence))


def evaluate(net: Network, X, d) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``net`` on a data set; accuracy is nan when the targets are not classes."""
    X, D, labels = _prepare(net, X, d, "X", "d")
    return _evaluate(net, X, D, labels)


def _evaluate(net, X, D, labels):
    Y = _outputs(net, X)
    if not np.isfinite(Y).all():  # a diverged network: no loss to speak of
        return math.nan, math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(net.divergence.rule(Y, D)[0].mean())
    accuracy = float(np.mean(_predicted(Y, _threshold(net.divergence)) == labels)) if labels is not None else math.nan
    return loss, accuracy


def relu_inputs(net: Network, caches) -> dict[str, np.ndarray]:
    """z(k) of every ReLU layer y(k) = ReLU(z(k)), read from the caches of ``net.forward``: ``{"y(k)": (B, width_k)}``.

    k counts the affine layers, through residual blocks too.
    """
    found: dict[str, np.ndarray] = {}

    def walk(layers, layer_caches, k):
        for layer, cache in zip(layers, layer_caches):
            if isinstance(layer, Affine):
                k += 1
            elif isinstance(layer, Residual):
                k = walk(layer.layers, cache, k)
            elif isinstance(layer, ActivationLayer) and isinstance(layer.activation, ReLU):
                found[f"y({k})"] = cache[0]  # an activation layer caches (Z, Y, f)
        return k

    walk(net.layers, caches, 0)
    return found


def dead_relu_units(net: Network, caches) -> dict[str, np.ndarray]:
    """For every ReLU layer y(k), a bool per unit (width_k,): True where z(k) <= 0 for every row of the batch.

    Such a unit outputs 0 for all of these inputs and its gradient is 0 too, so
    no step moves it: the typical damage of a too-large learning rate.
    """
    return {name: ~(z > 0).any(axis=0) for name, z in relu_inputs(net, caches).items()}


# -- the training loop --------------------------------------------------------------------------------
@dataclass
class History:
    """What :func:`train` saw, epoch by epoch (lists have one entry per completed epoch).

    ``train_loss`` / ``train_accuracy``: averages over the epoch's mini-batches,
    each taken before its update; ``test_loss`` / ``test_accuracy``: after the
    epoch (empty without a test set; accuracy is nan for targets that are not
    classes).  ``grad_norm[name]``: the mean over the epoch's steps of that
    parameter's gradient norm, before clipping.  ``dead_relu["y(k)"]``: after
    each epoch, the fraction of layer k's ReLU units that output 0 for every one
    of up to 1,000 training instances.  ``step_loss`` and ``step_grad_norm``
    (global norm, before clipping): every step.  ``clipped_steps``: how many
    steps clipping rescaled.  ``seconds``: training time at the end of each epoch
    (evaluation excluded).  ``status``: ``"completed"`` or ``"diverged"`` (then
    ``message`` says why and what to try).
    """

    variant: str
    batch_size: int
    eta: float
    clip: float | None
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    grad_norm: dict[str, list[float]] = field(default_factory=dict)
    dead_relu: dict[str, list[float]] = field(default_factory=dict)
    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    clipped_steps: int = 0
    seconds: list[float] = field(default_factory=list)
    status: str = "running"
    message: str = ""

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def summary(self) -> str:
        """One line: the variant, the epochs run, the time, the last losses and accuracies."""
        head = f"{self.variant} descent (batch {self.batch_size}, eta {self.eta:g}" + (
            f", clip {self.clip:g})" if self.clip is not None else ")")
        if not self.epochs:
            body = "no epoch completed"
        else:
            body = f"{self.epochs[-1]} epochs in {self.seconds[-1]:.2f} s; train loss {self.train_loss[-1]:.4f}"
            if not math.isnan(self.train_accuracy[-1]):
                body += f", accuracy {100 * self.train_accuracy[-1]:.1f} %"
            if self.test_loss:
                body += f"; test loss {self.test_loss[-1]:.4f}"
                if not math.isnan(self.test_accuracy[-1]):
                    body += f", accuracy {100 * self.test_accuracy[-1]:.1f} %"
        return f"{head}: {body}" + (f" [{self.status}]" if self.status != "completed" else "")


class TrainingDiverged(ArithmeticError):
    """Training produced a non-finite loss or gradient; ``history`` holds everything up to the last good step."""

    def __init__(self, message: str, history: History):
        super().__init__(message)
        self.history = history


def _divergence_message(what, value, epoch, step, steps, eta, clip, div):
    remedy = (f"try a lower learning rate than eta = {eta:g}" +
              (f", or a lower clipping threshold than clip = {clip:g}" if clip is not None
               else ", or clip the gradient (e.g. clip=1.0)"))
    if div.input_range == (0.0, 1.0):  # a divergence of probabilities: an output may have saturated at 0 or 1
        remedy += (f"; {div.name} is infinite once an output probability is exactly 0 or 1 where the target "
                   f"disagrees: train on the logits with a fused divergence (softmax_cross_entropy, "
                   f"sigmoid_binary_cross_entropy) instead")
    return (f"training diverged at epoch {epoch}, step {step} of {steps}: the {what} is {value}. "
            f"The updates grew without bound: {remedy}. The history up to the last good step is kept.")


def _check_progress(progress):
    if progress is None or progress is False:
        return None
    if progress is True or not callable(progress):
        raise TypeError(f"argument 'progress' expected None, False or a progress-bar factory called as "
                        f"progress(total=..., desc=...) (bp.progress_bar, or tqdm.auto.tqdm), got {describe(progress)}")
    return progress


def train(net: Network, X, d, *, eta: float | None = None, epochs: int, batch_size: int = 32, rng: np.random.Generator | None = None,
          X_test=None, d_test=None, clip: float | None = None, shuffle: bool = True, progress=None,
          on_divergence: str = "raise", **unknown) -> History:
    """Train ``net`` in place by SGD on (X, d); return the :class:`History`.

    X: (T, width_0); d: (T, width_N) targets or, for a cross-entropy, T class
    labels.  ``eta`` (required): the learning rate.  ``batch_size``: T (or more) for batch
    descent, 1 for stochastic, anything between for mini-batches, drawn in a new
    random order every epoch from ``rng`` (required unless ``shuffle=False`` or
    batch descent).  ``clip``: rescale each step's gradient to global norm at most
    tau = clip.  (X_test, d_test): evaluated after every epoch.  ``progress``: None
    (nothing shown) or a progress-bar factory, ``bp.progress_bar`` (a bar in
    JupyterLab, a line in a terminal, for runs longer than a few seconds) or any
    ``tqdm``.  ``on_divergence``: ``"raise"`` a :class:`TrainingDiverged` (its
    ``history`` attribute kept), or ``"stop"`` and return the history with
    ``status == "diverged"`` and the ``message``.
    """
    eta = _learning_rate("train", eta, unknown)
    X, D, labels = _prepare(net, X, d, "X", "d")
    T, width_0 = X.shape
    epochs = check_positive_int(epochs, "epochs")
    B = min(check_positive_int(batch_size, "batch_size"), T)
    clip = None if clip is None else check_positive(clip, "clip", "a clipping threshold tau")
    if on_divergence not in ("raise", "stop"):
        raise ValueError(f"argument 'on_divergence' expected 'raise' or 'stop', got {describe(on_divergence)}")
    shuffled = bool(shuffle) and B < T
    if shuffled:
        check_rng(rng, "mini-batches are drawn in a random order every epoch")
    if (X_test is None) != (d_test is None):
        raise TypeError("arguments 'X_test' and 'd_test' go together: give both or neither")
    test = _prepare(net, X_test, d_test, "X_test", "d_test") if X_test is not None else None
    if test is not None and test[1].shape[1] != D.shape[1]:
        raise ValueError(f"argument 'd_test' expected rows of width {D.shape[1]} like 'd', got {test[1].shape[1]}")
    progress = _check_progress(progress)

    history = History(descent_variant(B, T), B, eta, clip)
    params = net.parameters()
    probe = X[:: max(1, T // DEAD_PROBE_ROWS)][:DEAD_PROBE_ROWS]
    threshold = _threshold(net.divergence)
    steps_per_epoch = -(-T // B)
    batch_buffers = (np.empty((B, width_0)), np.empty((B, D.shape[1]))) if shuffled else None
    bar = progress(total=epochs * steps_per_epoch, desc="training") if progress else None
    elapsed = 0.0

    def stop(what, value, epoch, step):
        history.status = "diverged"
        history.message = _divergence_message(what, value, epoch, step, steps_per_epoch, eta, clip, net.divergence)
        if on_divergence == "raise":
            raise TrainingDiverged(history.message, history)
        return history

    # overflow in a diverging run shows up as a non-finite loss, reported below, not as numpy warnings
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for epoch in range(1, epochs + 1):
                started = time.perf_counter()
                order = rng.permutation(T) if shuffled else None
                loss_sum, correct, norm_sums = 0.0, 0, dict.fromkeys(params, 0.0)
                for step, start in enumerate(range(0, T, B), start=1):
                    if order is None:
                        Xb, Db = X[start:start + B], D[start:start + B]
                        Lb = labels[start:start + B] if labels is not None else None
                    else:
                        idx = order[start:start + B]  # the mini-batch's rows, gathered into reused buffers
                        Xb = X.take(idx, axis=0, out=batch_buffers[0][:len(idx)], mode="clip")
                        Db = D.take(idx, axis=0, out=batch_buffers[1][:len(idx)], mode="clip")
                        Lb = labels[idx] if labels is not None else None
                    taken = sgd_step(net, params, Xb, Db, eta, clip=clip)  # the lecture's step
                    if taken.stopped:
                        return stop(taken.stopped, taken.loss if taken.stopped == "loss" else taken.norm, epoch, step)
                    b, loss, norm = len(Xb), taken.loss, taken.norm
                    history.clipped_steps += taken.clipped
                    for name, s in zip(norm_sums, taken.squares):
                        norm_sums[name] += math.sqrt(s)
                    loss_sum += loss * b
                    if Lb is not None:
                        correct += np.count_nonzero(_predicted(taken.Y, threshold) == Lb)
                    history.step_loss.append(loss)
                    history.step_grad_norm.append(norm)
                    if bar is not None:
                        bar.update(1)
                elapsed += time.perf_counter() - started
                # the epoch's record (not timed)
                history.epochs.append(epoch)
                history.seconds.append(elapsed)
                history.train_loss.append(loss_sum / T)
                history.train_accuracy.append(correct / T if labels is not None else math.nan)
                for name, s in norm_sums.items():
                    history.grad_norm.setdefault(name, []).append(s / steps_per_epoch)
                for name, dead in dead_relu_units(net, net.forward(probe, check=False)[1]).items():
                    history.dead_relu.setdefault(name, []).append(float(np.mean(dead)))
                status = f"epoch {epoch}/{epochs}: loss {history.train_loss[-1]:.4f}"
                if test is not None:
                    test_loss, test_accuracy = _evaluate(net, *test)
                    history.test_loss.append(test_loss)
                    history.test_accuracy.append(test_accuracy)
                    if not math.isnan(test_accuracy):
                        status += f", test accuracy {100 * test_accuracy:.1f} %"
                if bar is not None:
                    bar.set_postfix_str(status, refresh=False)  # shown with the next redraw: a bar's delay holds
    finally:
        if bar is not None:
            bar.close()
    history.status = "completed"
    return history
