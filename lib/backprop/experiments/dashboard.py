"""The vanishing/exploding-gradients dashboard, as numbers: one pure function of its controls.

:func:`dashboard_state` builds the network the controls describe, runs the real
forward and backward pass of the library's layers on real digits, trains it for
a few epochs of mini-batch SGD (the lecture's step, as
:func:`~backprop.core.training.train` takes it) and returns a
:class:`DashboardState`: everything the dashboard draws and prints.  Nothing here
approximates the gradient by a geometric series: each number is what
backpropagation computed.

The network: y(0) = x (an 8x8 digit, width_0 = 64); hidden layers k = 1..depth,
each z(k) = W(k) y(k-1) + b(k), y(k) = f(z(k)) of ``width`` units (from k = 2 on,
with ``residual=True``, y(k) = y(k-1) + f(z(k))); an output layer
z(depth+1) = W(depth+1) y(depth) + b(depth+1) of 10 logits, softmax and
cross-entropy (fused).  Every W(k) is drawn from N(0, std^2) with std from
:func:`~backprop.core.initialisation.init_std` (``"normal"`` uses ``scale``);
biases start at 0.

Why the layer-1 gradient is a product.  Write g(k) = d loss / d y(k) (B, width)
for the batch.  The backward pass computes, layer by layer,

    g(k-1) = (g(k) * f'(z(k))) W(k)            (plus g(k) itself with a residual connection)

so g(1) is g(depth) carried back through every W(k) and every f'(z(k)).  The
state keeps, for each k, the measured factor ||g(k-1)|| / ||g(k)||, the mean of
|f'(z(k))| and the largest singular value of W(k).

**The verdict's number** is the *gain* ||g(1)|| / ||g(depth)||: the share of the
last hidden layer's gradient that reaches layer 1, which is the product of the
per-layer factors.  Each layer k has its own gain ||g(k)|| / ||g(depth)||; it is
in the *vanished* band below :data:`VANISHED` (a hundredth) and in the
*exploded* band above :data:`EXPLODED` (a hundred times).  The diagnosis
(:func:`diagnose`), tested in this order:

* ``exploding``: the gain is above 1e2 (or overflowed);
* ``vanishing``: the gain is below 1e-2;
* ``diverged``: the gradient's factors are in range, but training blew up: the
  loss went non-finite, or ended above :data:`GROWTH` times its start (a
  learning rate too large);
* ``dead units``: after training, more than a quarter of the hidden ReLU units
  output 0 for every held-out digit;
* ``healthy`` otherwise.

With clipping on, the verdict still describes the gradient (clipping changes the
step, not the gradient); :meth:`DashboardState.readout` says what clipping did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from ..core.checks import check_choice, check_positive, check_positive_int, describe
from ..core.data import digits_dataset
from ..core.initialisation import init_std
from ..core.layers import ActivationLayer, Affine, Residual
from ..core.network import Network
from ..core.training import clip_by_global_norm, dead_relu_units, sgd_step

__all__ = ["DASHBOARD_ACTIVATIONS", "DASHBOARD_INITS", "DashboardSettings", "PRESETS", "DashboardState",
           "dashboard_network", "dashboard_state", "diagnose", "DIAGNOSES"]

DASHBOARD_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
DASHBOARD_INITS = ("normal", "xavier", "he")
#: the one-word diagnoses, in the order they are tested
DIAGNOSES = ("exploding", "vanishing", "diverged", "dead units", "healthy")
#: a layer whose gain ||g(k)|| / ||g(depth)|| is below this is in the vanished band; layer 1 there: vanishing
VANISHED = 1e-2
#: above this, the exploded band; layer 1 there: exploding
EXPLODED = 1e2
#: a run whose loss ends above this multiple of its start has diverged (as has one whose loss is not finite)
GROWTH = 1.5
#: a mini-batch loss above this multiple of the start stops training at once (diverged)
STOP_GROWTH = 100
#: more than this share of the hidden ReLU units dead after training: "dead units"
DEAD_SHARE = 0.25
#: hidden units per layer; digits in the batch of the first pass (the gradient picture)
WIDTH, PROBE_BATCH = 32, 64
#: the training run: mini-batches of BATCH digits, EPOCHS passes over the 1,347 training digits
BATCH, EPOCHS = 32, 8
#: rows per forward pass when measuring a whole set
CHUNK = 64
MAX_DEPTH = 60


#: how a student reads the controls' values: the activations and initialisations in words
WORDS = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "normal": "normal (a fixed scale)", "xavier": "Xavier", "he": "He"}


@dataclass(frozen=True)
class DashboardSettings:
    """The dashboard's controls: depth (hidden layers), eta, activation, initialisation (and its scale for
    ``"normal"``), residual connections, clipping threshold tau (None: off), and the seed."""

    depth: int = 10
    eta: float = 0.1
    activation: str = "relu"
    init: str = "he"
    scale: float = 0.1
    residual: bool = False
    clip: float | None = None
    seed: int = 0

    def checked(self) -> "DashboardSettings":
        """The same settings, every value checked (an error names the control)."""
        depth = check_positive_int(self.depth, "depth")
        if depth > MAX_DEPTH:
            raise ValueError(f"argument 'depth' expected 1..{MAX_DEPTH} hidden layers, got {depth}")
        return replace(self, depth=depth, eta=check_positive(self.eta, "eta", "a learning rate"),
                       activation=check_choice(self.activation, "activation", DASHBOARD_ACTIVATIONS),
                       init=check_choice(self.init, "init", DASHBOARD_INITS),
                       scale=check_positive(self.scale, "scale", "a standard deviation"),
                       residual=bool(self.residual),
                       clip=None if self.clip is None else check_positive(self.clip, "clip", "a clipping threshold tau"))

    def label(self) -> str:
        """One line, in words: ``depth 30, ReLU, He, eta 0.1, no residual, no clipping``."""
        init = f"normal({self.scale:g})" if self.init == "normal" else WORDS[self.init]
        return (f"depth {self.depth}, {WORDS.get(self.activation, self.activation)}, {init}, eta {self.eta:g}, "
                f"{'residual' if self.residual else 'no residual'}, "
                f"{'clip tau = %g' % self.clip if self.clip is not None else 'no clipping'}")


#: the classic cases, by name: two broken networks and three repairs
PRESETS = {
    "deep sigmoid": DashboardSettings(depth=30, eta=0.5, activation="sigmoid", init="normal", scale=0.1),
    "too-large scale": DashboardSettings(depth=50, eta=0.05, activation="relu", init="normal", scale=0.3),
    "ReLU + He": DashboardSettings(depth=30, eta=0.02, activation="relu", init="he"),
    "residual": DashboardSettings(depth=30, eta=0.05, activation="tanh", init="normal", scale=0.1, residual=True),
    "clipping": DashboardSettings(depth=50, eta=0.05, activation="relu", init="normal", scale=0.3, clip=5.0),
}


class Superseded(Exception):
    """Raised by :func:`dashboard_state` when its ``cancelled`` callback says a newer setting replaced this one."""


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows for one setting (all numbers from the real network on real digits).

    The first pass, on :data:`PROBE_BATCH` training digits: ``grad_norms``
    (depth+1,): ||d loss / d W(k)|| for k = 1..depth+1, before clipping;
    ``applied_norms``: the same after clipping (what the first update uses).
    ``spread`` (depth,): the standard deviation of y(k) over the batch.
    ``f_prime`` (depth,): the mean |f'(z(k))|; ``w_norm`` (depth+1,): the largest
    singular value of W(k); ``factors`` (depth-1,): ||g(k-1)|| / ||g(k)|| for
    k = 2..depth; ``g_norms`` (depth,): ||g(k)|| = ||d loss / d y(k)||.
    ``slope_rms`` (depth,): the root mean square of f'(z(k)); ``w_stretch``
    (depth+1,): ||W(k)||_F / sqrt(width_k), the factor by which W(k) stretches a
    random row vector on average (E ||g W||^2 = ||g||^2 ||W||_F^2 / width_k).
    Without a residual connection, ||g(k-1)|| / ||g(k)|| is close to
    ``slope_rms[k-1] * w_stretch[k-1]``: the chain multiplies out.

    The training run (:data:`EPOCHS` epochs of mini-batches of :data:`BATCH`):
    ``losses`` (epochs+1,): the Loss over every training digit before training,
    then each epoch's average of its mini-batch losses (each taken before its
    update); when training diverged it stops early and the last entry is the
    loss where it stopped (``inf`` when not finite).  ``test_accuracy``: the
    held-out accuracy before training and after each epoch; ``dead``: the share
    of hidden ReLU units that output 0 for every held-out digit, at the same
    moments (zeros for other activations); ``steps``: updates made;
    ``clipped_steps``: updates that clipping rescaled.
    ``trained`` is False for a state of the first pass only (``train=False``):
    then the training fields hold only the start, and the diagnosis is decided
    only if the gain alone decides it (``""`` otherwise).
    """

    settings: DashboardSettings
    grad_norms: np.ndarray
    applied_norms: np.ndarray
    spread: np.ndarray
    f_prime: np.ndarray
    w_norm: np.ndarray
    factors: np.ndarray
    g_norms: np.ndarray
    slope_rms: np.ndarray
    w_stretch: np.ndarray
    losses: np.ndarray
    test_accuracy: np.ndarray
    dead: np.ndarray
    diverged: bool
    steps: int = 0
    clipped_steps: int = 0
    trained: bool = True
    diagnosis: str = field(default="")

    @property
    def first(self) -> float:
        """||d loss / d W(1)||."""
        return float(self.grad_norms[0])

    @property
    def last(self) -> float:
        """||d loss / d W(depth+1)||, the output layer's."""
        return float(self.grad_norms[-1])

    @property
    def ratio(self) -> float:
        """||d loss / d W(1)|| / ||d loss / d W(depth+1)||: the weight gradients' ratio (not the verdict's number:
        each W's gradient also carries its layer's input y(k-1), see :attr:`gain`)."""
        return self.first / self.last if self.last > 0 else math.inf

    @property
    def gains(self) -> np.ndarray:
        """(depth,): ||g(k)|| / ||g(depth)|| for k = 1..depth, how much of the last hidden layer's gradient reaches
        layer k (inf where it overflowed, nan where nothing reached the last hidden layer)."""
        return _gains(self.g_norms)

    @property
    def gain(self) -> float:
        """The verdict's number: ||g(1)|| / ||g(depth)||, the product of the per-layer factors."""
        return _gain(self.g_norms)

    @property
    def bands(self) -> np.ndarray:
        """(depth,): each layer's band, ``"vanished"`` (gain below :data:`VANISHED`), ``"exploded"`` (above
        :data:`EXPLODED`) or ``"normal"``."""
        return band_of(self.gains)

    @property
    def dead_share(self) -> float:
        """The share of hidden ReLU units dead after training (nan without training)."""
        return float(self.dead[-1]) if len(self.dead) else math.nan

    @property
    def loss_ratio(self) -> float:
        """The last Loss over the first (nan without training): at most 0.85, training visibly paid off; at
        least 0.95, it did not."""
        return float(self.losses[-1] / self.losses[0]) if len(self.losses) and self.losses[0] > 0 else math.nan

    @property
    def epochs_run(self) -> int:
        """Epochs completed (or begun, when training stopped because it diverged)."""
        return max(len(self.losses) - 1, 0)

    def evidence(self) -> str:
        """The number the diagnosis was decided on, with its name and the bound it crossed (or stayed within)."""
        gain = f"||g(1)|| / ||g({self.settings.depth})|| = {self.gain:.3g}"
        within = f"within {_power(VANISHED)}..{_power(EXPLODED)}"
        word = self.diagnosis
        if word == "exploding":
            return f"{gain}, above {_power(EXPLODED)}"
        if word == "vanishing":
            return f"{gain}, below {_power(VANISHED)}"
        if word == "diverged":
            end = "not finite" if not np.isfinite(self.losses[-1]) else f"{self.losses[-1]:.3g}"
            return f"the loss went from {self.losses[0]:.3g} to {end} in {self.steps} steps, while {gain} stays {within}"
        if word == "dead units":
            return (f"{100 * self.dead_share:.0f} % of the ReLU units dead after training, more than "
                    f"{100 * DEAD_SHARE:.0f} %; {gain} stays {within}")
        if word == "healthy":
            return f"{gain}, {within}"
        return f"{gain}, {within}: the rest of the verdict waits for training"

    def training_line(self) -> str:
        """What the training run did, in one line."""
        if not self.trained:
            return "training: running ..."
        share = "diverged" if self.diverged else f"{100 * self.loss_ratio:.2g} % of the start"
        line = (f"training: {_count(self.steps, 'step')} ({_count(self.epochs_run, 'epoch')} of batch {BATCH}): "
                f"Loss {self.losses[0]:.3g} -> "
                f"{self.losses[-1]:.3g} ({share}), held-out accuracy {100 * self.test_accuracy[0]:.0f} % -> "
                f"{100 * self.test_accuracy[-1]:.0f} %")
        if self.settings.activation == "relu":
            line += f"; dead ReLU units {100 * self.dead[0]:.0f} % -> {100 * self.dead[-1]:.0f} %"
        return line

    def clipping_line(self) -> str | None:
        """What clipping did to the steps (None without clipping)."""
        tau = self.settings.clip
        if tau is None:
            return None
        before = float(np.sqrt(np.sum(self.grad_norms ** 2)))
        after = float(np.sqrt(np.sum(self.applied_norms ** 2)))
        line = (f"clipping (tau = {tau:g}) changes the step, not the gradient: the first step's global norm "
                f"{before:.3g} -> {after:.3g}, same direction")
        if self.trained:
            line += f"; {self.clipped_steps} of {self.steps} steps clipped"
        return line

    def chain(self, shown: int = 4) -> list[str]:
        """The layer-1 gradient as its chain of per-layer factors, in lecture names, the first and last
        ``shown`` layers (k = depth .. 2), then the product."""
        depth = self.settings.depth
        lines = []
        ks = list(range(depth, 1, -1))
        picked = ks if len(ks) <= 2 * shown else ks[:shown] + [None] + ks[-shown:]
        for k in picked:
            if k is None:
                lines.append(f"  ... {_count(len(ks) - 2 * shown, 'more layer')} ...")
                continue
            a, b = self.w_stretch[k - 1], self.slope_rms[k - 1]
            lines.append(f"  k = {k:2d}: W({k}) stretches by {a:.3g}, rms f'(z({k})) = {b:.3g}"
                         + (" (plus the skip: 1 + ...)" if self.settings.residual else f", product {a * b:.3g}")
                         + f"; measured ||g({k - 1})|| / ||g({k})|| = {self.factors[k - 2]:.3g}")
        if not len(self.factors):  # one hidden layer: g(1) is the top layer's own gradient
            lines.append("  one hidden layer: no layer lies between g(1) and the top, so there is no factor")
            return lines
        product = float(np.prod(self.factors))
        lines.append(f"  product of the {_count(len(self.factors), 'factor')}: ||g(1)|| / ||g({depth})|| = {product:.3g}")
        return lines

    def readout(self) -> str:
        """The readout in plain text: the settings, the diagnosis and its number, the bands, the training run,
        clipping, the weight gradients and the factor chain."""
        s = self.settings
        vanished, exploded = int(np.sum(self.bands == "vanished")), int(np.sum(self.bands == "exploded"))
        lines = [s.label(),
                 f"diagnosis: {self.diagnosis or 'waiting for training'} ({self.evidence()})",
                 f"layers in the vanished band: {vanished} of {s.depth}; in the exploded band: {exploded} of {s.depth}",
                 self.training_line()]
        clipping = self.clipping_line()
        if clipping:
            lines.append(clipping)
        lines.append(f"||dLoss/dW(1)|| = {self.first:.3g}, ||dLoss/dW({s.depth + 1})|| = {self.last:.3g}")
        return "\n".join(lines + ["the layer-1 gradient, factor by factor (g(k) = dLoss/dy(k)):"] + self.chain())


def _power(x: float) -> str:
    """A power of ten as ``1e-2``."""
    return f"1e{round(math.log10(x))}"


def _gains(g_norms) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(np.isfinite(g_norms), g_norms / g_norms[-1], math.inf)


def _gain(g_norms) -> float:
    return float(_gains(g_norms)[0])


def band_of(gains) -> np.ndarray:
    """The band of each gain: ``"vanished"`` below :data:`VANISHED`, ``"exploded"`` above :data:`EXPLODED` (or not
    finite), ``"normal"`` between."""
    gains = np.asarray(gains, dtype=float)
    return np.where(gains < VANISHED, "vanished", np.where(~(gains <= EXPLODED), "exploded", "normal"))


def diagnose(gain: float, *, diverged: bool = False, dead_share: float = 0.0, trained: bool = True) -> str:
    """One word of :data:`DIAGNOSES` from the gain ||g(1)|| / ||g(depth)||, whether training diverged, and the
    share of dead ReLU units after it (see the module's docstring for the rules).  ``trained=False``: only the
    gain is known, and ``""`` when it alone does not decide."""
    gain = float(gain)
    if gain > EXPLODED or gain == math.inf:
        return "exploding"
    if gain < VANISHED:
        return "vanishing"
    if not trained:
        return ""
    if diverged:
        return "diverged"
    if dead_share > DEAD_SHARE:
        return "dead units"
    return "healthy"


def dashboard_network(settings: DashboardSettings, width: int = WIDTH) -> Network:
    """The network of ``settings`` (see the module's docstring), drawn from ``numpy.random.default_rng(seed)``."""
    s = settings.checked()
    rng = np.random.default_rng(s.seed)
    widths = [64] + [width] * s.depth + [10]
    layers = []
    for k in range(1, s.depth + 2):
        fan_in, fan_out = widths[k - 1], widths[k]
        std = init_std(s.init, fan_in, fan_out, s.scale if s.init == "normal" else None)
        affine = Affine(rng.normal(0.0, std, size=(fan_out, fan_in)), np.zeros(fan_out))
        if k == s.depth + 1:
            layers.append(affine)
        elif s.residual and k > 1:
            layers.append(Residual([affine, ActivationLayer(s.activation)]))
        else:
            layers += [affine, ActivationLayer(s.activation)]
    return Network(layers, "softmax_cross_entropy", input_width=64)


_DIGITS: dict = {}


def _digits(seed: int):
    """The digits split and scaled once per seed and kept."""
    if seed not in _DIGITS:
        _DIGITS[seed] = digits_dataset(rng=np.random.default_rng(seed))
    return _DIGITS[seed]


def _hidden(net):
    """``(affine, activation layer, cache index, residual?)`` for every hidden layer k = 1..depth."""
    found = []
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Residual):
            found.append((layer.layers[0], layer.layers[1], i, True))
        elif isinstance(layer, ActivationLayer):
            found.append((net.layers[i - 1], layer, i, False))
    return found


def _z_and_y(layer_cache, residual):
    """z(k) and f(z(k)) of a hidden layer from its cache (a residual block keeps its branch's caches)."""
    z, y = (layer_cache[1][0], layer_cache[1][1]) if residual else (layer_cache[0], layer_cache[1])
    return z, y


def _measure(net, X, labels, relu) -> tuple[float, float, float]:
    """``(Loss, accuracy, dead ReLU share)`` of ``net`` on (X, labels), a forward pass of ``CHUNK`` rows at a time
    (small products: a busy machine's threaded BLAS stalls on large ones).  Loss ``inf`` when not finite; a dead
    unit has z(k) <= 0 for every row of X."""
    div = net.divergence
    total, correct, dead = 0.0, 0, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for start in range(0, len(X), CHUNK):
            Y, caches = net.forward(X[start:start + CHUNK], check=False)
            lb = labels[start:start + CHUNK]
            total += float(div.rule(Y, div.targets(lb, Y.shape, "labels"))[0].sum())
            correct += int(np.count_nonzero(Y.argmax(axis=1) == lb)) if np.isfinite(Y).all() else 0
            if relu:  # dead on the whole set: dead on every chunk
                units = np.concatenate(list(dead_relu_units(net, caches).values()))
                dead = units if dead is None else dead & units
    loss = total / len(X)
    return (loss if math.isfinite(loss) else math.inf, correct / len(X),
            float(np.mean(dead)) if relu else 0.0)


def dashboard_state(settings: DashboardSettings | None = None, *, train: bool = True,
                    cancelled: Callable[[], bool] | None = None, **controls) -> DashboardState:
    """The dashboard's pure callback: the :class:`DashboardState` for ``settings`` (or the controls as keywords).

    One forward and backward pass on :data:`PROBE_BATCH` training digits (in a
    fixed order drawn from the seed) gives the per-layer norms, spreads and
    factors.  Then :data:`EPOCHS` epochs of mini-batch SGD on the 1,347 training
    digits, each epoch a new random order in batches of :data:`BATCH` (the
    lecture's step: forward pass, batch-average divergence, backward pass,
    clipping by global norm when ``clip`` is set, ``W <- W - eta grad W``).  The
    Loss is measured over every training digit before training; after each epoch
    it is the average of that epoch's mini-batch losses (each taken before its
    update, as :func:`~backprop.core.training.train` reports it); the held-out
    accuracy and the dead ReLU units are measured on the test digits before
    training and after each epoch.  A loss or gradient that is not finite, or a
    loss above :data:`STOP_GROWTH` times the start, stops training (diverged).
    ``train=False``: the first pass only (fast; what the widget draws first).
    ``cancelled``: called before every epoch; when it returns True,
    :class:`Superseded` is raised.  Deterministic: the same settings give the
    same state.
    """
    if settings is None:
        settings = DashboardSettings(**controls)
    elif controls:
        raise TypeError("give either 'settings' or the controls as keywords, not both")
    if not isinstance(settings, DashboardSettings):
        raise TypeError(f"argument 'settings' expected DashboardSettings, got {describe(settings)}")
    s = settings.checked()
    net = dashboard_network(s)
    data = _digits(s.seed)
    X, labels = data.X_train, data.labels_train
    hidden = _hidden(net)
    relu = s.activation == "relu"
    batch = np.random.default_rng(s.seed + 1).permutation(len(X))[:PROBE_BATCH]
    first = _first_pass(net, hidden, X[batch], labels[batch], s.clip)
    if not train:
        empty = np.array([])
        return DashboardState(s, first["grad_norms"], first["applied"], first["spread"], first["f_prime"],
                              first["w_norm"], first["factors"], first["g_norms"], first["slope_rms"], first["w_stretch"],
                              empty, empty, empty, False,
                              trained=False, diagnosis=diagnose(_gain(first["g_norms"]), trained=False))
    start_loss = _measure(net, X, labels, False)[0]
    _, accuracy, dead = _measure(net, data.X_test, data.labels_test, relu)
    losses, accuracies, deads = [start_loss], [accuracy], [dead]
    diverged, steps, clipped = not math.isfinite(start_loss), 0, 0
    rng = np.random.default_rng(s.seed + 2)  # the order of the mini-batches
    params = net.parameters()
    targets = net.divergence.targets(labels, (len(X), 10), "labels")  # one-hot rows, made once
    for _ in range(0 if diverged else EPOCHS):
        if cancelled is not None and cancelled():
            raise Superseded(s.label())
        order, epoch_losses = rng.permutation(len(X)), []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for begin in range(0, len(X) - BATCH + 1, BATCH):
                idx = order[begin:begin + BATCH]
                step = sgd_step(net, params, X[idx], targets[idx], s.eta, clip=s.clip,
                                max_loss=STOP_GROWTH * start_loss)  # the lecture's step, as train takes it
                if step.stopped:
                    diverged = True
                    break
                clipped += step.clipped
                epoch_losses.append(step.loss)
                steps += 1
        if diverged:  # where it stopped: the loss that had grown a hundredfold, or inf (the loss or the gradient)
            losses.append(step.loss if step.stopped == "loss" and math.isfinite(step.loss) else math.inf)
        else:
            losses.append(float(np.mean(epoch_losses)))
        _, accuracy, dead = _measure(net, data.X_test, data.labels_test, relu)
        accuracies.append(accuracy)
        deads.append(dead)
        if diverged:
            break
    diverged = diverged or losses[-1] > GROWTH * losses[0]
    return DashboardState(s, first["grad_norms"], first["applied"], first["spread"], first["f_prime"],
                          first["w_norm"], first["factors"], first["g_norms"], first["slope_rms"], first["w_stretch"],
                          np.array(losses), np.array(accuracies),
                          np.array(deads), diverged, steps, clipped,
                          diagnosis=diagnose(_gain(first["g_norms"]), diverged=diverged, dead_share=deads[-1]))


def _first_pass(net, hidden, Xb, lb, clip):
    """The first pass, layer by layer, keeping g(k) = d loss / d y(k) at every hidden layer."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        Y, caches = net.forward(Xb, check=False)
        div = net.divergence
        _, dY = div.rule(Y, div.targets(lb, Y.shape, "labels"))
        carried: list = []
        grads = net.backward(dY / len(Xb), caches, output_grads=carried)  # the batch average, once
        # g(k) = d loss / d y(k): what the backward pass carried into hidden layer k's activation (or block)
        g_norm = {k: float(np.linalg.norm(carried[i])) for k, (_, _, i, _) in enumerate(hidden, start=1)}
        depth = len(hidden)
        slopes = [act.activation.derivative(_z_and_y(caches[i], residual)[0]) for _, act, i, residual in hidden]
        f_prime = np.array([float(np.mean(np.abs(f))) for f in slopes])
        slope_rms = np.array([float(np.sqrt(np.mean(f * f))) for f in slopes])
        spread = np.array([float(np.std(y)) for y in _outputs(net, hidden, caches)])  # y(k), residual sum included
        w_names = [n for n in grads if n.startswith("W(")]
        grad_norms = np.array([float(np.linalg.norm(grads[n])) for n in w_names])
        finite = all(np.isfinite(g).all() for g in grads.values())
        applied = grads if clip is None or not finite else clip_by_global_norm(grads, clip)[0]
        applied_norms = np.array([float(np.linalg.norm(applied[n])) for n in w_names])
        params = net.parameters()
        w_norm = np.array([float(np.linalg.norm(params[n], 2)) for n in w_names])
        w_stretch = np.array([float(np.linalg.norm(params[n]) / math.sqrt(params[n].shape[0])) for n in w_names])
        factors = np.array([g_norm[k - 1] / g_norm[k] if g_norm[k] > 0 else math.nan for k in range(2, depth + 1)])
    return {"grad_norms": grad_norms, "applied": applied_norms, "spread": spread, "f_prime": f_prime,
            "w_norm": w_norm, "factors": factors, "g_norms": np.array([g_norm[k] for k in range(1, depth + 1)]),
            "slope_rms": slope_rms, "w_stretch": w_stretch}


def _outputs(net, hidden, caches):
    """y(k) for k = 1..depth: the input of the layer after each hidden layer, read from the caches."""
    ys = []
    for _, _, i, _ in hidden:
        nxt = caches[i + 1]
        layer = net.layers[i + 1]
        if isinstance(layer, Residual):
            ys.append(nxt[0][0])  # the block's first affine cached its input y(k)
        else:
            ys.append(nxt[0])     # an affine layer caches its input first
    return ys


def _count(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1: "1 step", "336 steps"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
