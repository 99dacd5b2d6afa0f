"""The vanishing/exploding-gradients dashboard, as numbers: one pure function of its controls.

:func:`dashboard_state` builds the network the controls describe, runs the real
forward and backward pass of the library's layers on real digits, trains it for
a few mini-batch steps, and returns a :class:`DashboardState`: everything the
dashboard draws and prints.  Nothing here approximates the gradient by a
geometric series: each number is what backpropagation computed.

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
|f'(z(k))| and the largest singular value of W(k): their product over the layers
is what makes ||dLoss/dW(1)|| tiny (vanishing) or huge (exploding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from .checks import check_choice, check_positive, check_positive_int, describe
from .data import digits_dataset
from .initialisation import init_std
from .layers import ActivationLayer, Affine, Residual
from .network import Network
from .training import clip_by_global_norm, sgd_update

__all__ = ["DASHBOARD_ACTIVATIONS", "DASHBOARD_INITS", "DashboardSettings", "PRESETS", "DashboardState",
           "dashboard_network", "dashboard_state", "diagnose", "DIAGNOSES"]

DASHBOARD_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
DASHBOARD_INITS = ("normal", "xavier", "he")
#: the one-word diagnoses, in the order they are tested
DIAGNOSES = ("exploding", "vanishing", "dead units", "healthy")
#: below this ratio ||grad W(1)|| / ||grad W(last)||, the gradient vanishes toward layer 1
VANISHING_RATIO = 1e-3
#: above this ratio, or an applied gradient norm above EXPLODING_NORM, it explodes
EXPLODING_RATIO = 1e3
EXPLODING_NORM = 1e3
#: more than this share of the ReLU units dead after the short training: "dead units"
DEAD_SHARE = 0.5
#: hidden units per layer, instances per batch, training steps of the short curve
WIDTH, BATCH, STEPS = 32, 64, 16
MAX_DEPTH = 60


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
        """One line: ``depth 30, sigmoid, normal(0.1), eta 0.1, no residual, no clipping``."""
        init = f"normal({self.scale:g})" if self.init == "normal" else self.init
        return (f"depth {self.depth}, {self.activation}, {init}, eta {self.eta:g}, "
                f"{'residual' if self.residual else 'no residual'}, "
                f"{'clip tau = %g' % self.clip if self.clip is not None else 'no clipping'}")


#: the classic cases, by name: two broken networks and three repairs
PRESETS = {
    "deep sigmoid": DashboardSettings(depth=30, eta=0.5, activation="sigmoid", init="normal", scale=0.1),
    "too-large scale": DashboardSettings(depth=30, eta=0.05, activation="relu", init="normal", scale=0.3),
    "ReLU + He": DashboardSettings(depth=30, eta=0.05, activation="relu", init="he"),
    "residual": DashboardSettings(depth=30, eta=0.05, activation="sigmoid", init="normal", scale=0.1, residual=True),
    "clipping": DashboardSettings(depth=30, eta=0.05, activation="relu", init="normal", scale=0.3, clip=5.0),
}


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows for one setting (all numbers from the real network on real digits).

    ``grad_norms`` (depth+1,): ||d loss / d W(k)|| for k = 1..depth+1 at the first
    step, before clipping; ``applied_norms``: the same after clipping (what the
    update uses).  ``spread`` (depth,): the standard deviation of y(k) over the batch.
    ``f_prime`` (depth,): the mean |f'(z(k))|; ``w_norm`` (depth+1,): the largest
    singular value of W(k); ``factors`` (depth-1,): ||g(k-1)|| / ||g(k)|| for
    k = depth..2 (stored for k = 2..depth); ``g_norms`` (depth,): ||g(k)|| = ||d loss / d y(k)||.  ``losses``: the loss before each
    training step (shorter when training diverged); ``dead``: the fraction of dead
    hidden ReLU units after each step (zeros for other activations).
    """

    settings: DashboardSettings
    grad_norms: np.ndarray
    applied_norms: np.ndarray
    spread: np.ndarray
    f_prime: np.ndarray
    w_norm: np.ndarray
    factors: np.ndarray
    g_norms: np.ndarray
    losses: np.ndarray
    dead: np.ndarray
    diverged: bool
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
        """first / last: far below 1, the gradient vanishes toward layer 1; far above, it explodes."""
        return self.first / self.last if self.last > 0 else math.inf

    def chain(self, shown: int = 4) -> list[str]:
        """The layer-1 gradient as its chain of per-layer factors, in lecture names, the first and last
        ``shown`` layers (k = depth .. 2), then the product."""
        depth = self.settings.depth
        lines = []
        ks = list(range(depth, 1, -1))
        picked = ks if len(ks) <= 2 * shown else ks[:shown] + [None] + ks[-shown:]
        for k in picked:
            if k is None:
                lines.append(f"  ... {len(ks) - 2 * shown} more layers ...")
                continue
            lines.append(f"  k = {k:2d}: ||W({k})|| = {self.w_norm[k - 1]:.3g}, mean |f'(z({k}))| = "
                         f"{self.f_prime[k - 1]:.3g}, ||g({k - 1})|| / ||g({k})|| = {self.factors[k - 2]:.3g}")
        product = float(np.prod(self.factors)) if len(self.factors) else 1.0
        lines.append(f"  product of the {len(self.factors)} factors: ||g(1)|| / ||g({depth})|| = {product:.3g}")
        return lines

    def readout(self) -> str:
        """The readout in plain text: first and last norms, their ratio, the diagnosis, the factor chain."""
        s = self.settings
        head = [f"{s.label()}",
                f"||dLoss/dW(1)|| = {self.first:.3g}, ||dLoss/dW({s.depth + 1})|| = {self.last:.3g}, "
                f"ratio {self.ratio:.3g}: {self.diagnosis}"]
        if s.clip is not None:
            head.append(f"clipping: global norm {float(np.sqrt(np.sum(self.grad_norms ** 2))):.3g} -> "
                        f"{float(np.sqrt(np.sum(self.applied_norms ** 2))):.3g} (tau = {s.clip:g}), same direction")
        curve = (f"training: loss {self.losses[0]:.4g} -> {self.losses[-1]:.4g} in {len(self.losses)} steps"
                 + (" (diverged)" if self.diverged else ""))
        if s.activation == "relu":
            curve += f", dead ReLU units {100 * self.dead[-1]:.0f} %"
        return "\n".join(head + [curve, "the layer-1 gradient, factor by factor (g(k) = dLoss/dy(k)):"] + self.chain())


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
    """Training digits (inputs, labels), split and scaled once per seed and kept."""
    if seed not in _DIGITS:
        data = digits_dataset(rng=np.random.default_rng(seed))
        _DIGITS[seed] = (data.X_train, data.labels_train)
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


def diagnose(grad_norms, applied_norms, dead_share: float, diverged: bool, chain_ratio: float = 1.0) -> str:
    """One word of :data:`DIAGNOSES`, from the gradient norms of W(1)..W(last) before and after clipping, the share
    of dead ReLU units, whether training diverged, and ``chain_ratio`` = ||g(1)|| / ||g(depth)||, the product of
    the per-layer factors:

    * exploding: training diverged, an applied norm above 1e3, or (without clipping to hold it) the ratio
      first/last or the chain's product above 1e3;
    * vanishing: the ratio first/last or the chain's product below 1e-3;
    * dead units: more than half the ReLU units dead after the short training;
    * healthy otherwise.
    """
    grad_norms, applied_norms = np.asarray(grad_norms, float), np.asarray(applied_norms, float)
    ratio = grad_norms[0] / grad_norms[-1] if grad_norms[-1] > 0 else math.inf
    clipped = not np.allclose(grad_norms, applied_norms)
    if diverged or not np.isfinite(applied_norms).all() or applied_norms.max() > EXPLODING_NORM or (
            max(ratio, chain_ratio) > EXPLODING_RATIO and not clipped):
        return "exploding"
    if min(ratio, chain_ratio) < VANISHING_RATIO:
        return "vanishing"
    if dead_share > DEAD_SHARE:
        return "dead units"
    return "healthy"


def dashboard_state(settings: DashboardSettings | None = None, **controls) -> DashboardState:
    """The dashboard's pure callback: the :class:`DashboardState` for ``settings`` (or the controls as keywords).

    One forward and backward pass on the first mini-batch of ``BATCH`` training
    digits gives the per-layer norms, spreads and factors; then ``STEPS`` steps of
    mini-batch SGD (the lecture's update, clipped by global norm when ``clip`` is
    set) give the training curve and the dead-unit fraction.  Deterministic: the
    same settings give the same state.
    """
    if settings is None:
        settings = DashboardSettings(**controls)
    elif controls:
        raise TypeError("give either 'settings' or the controls as keywords, not both")
    if not isinstance(settings, DashboardSettings):
        raise TypeError(f"argument 'settings' expected DashboardSettings, got {describe(settings)}")
    s = settings.checked()
    net = dashboard_network(s)
    X, labels = _digits(s.seed)
    order = np.random.default_rng(s.seed + 1).permutation(len(X))
    div = net.divergence
    hidden = _hidden(net)
    params = net.parameters()
    losses, dead = [], []
    diverged = False
    first = None
    def dead_share(caches):  # hidden ReLU units that output 0 for every instance of the batch
        return float(np.mean([~(_z_and_y(caches[i], r)[0] > 0).any(axis=0) for _, _, i, r in hidden]))

    relu = s.activation == "relu"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for step in range(STEPS + 1):
            idx = order[(step * BATCH) % len(X):][:BATCH]
            Xb, lb = X[idx], labels[idx]
            Y, caches = net._forward(Xb)                       # forward pass
            if step > 0:  # the units dead after the last update, on this new batch
                dead.append(dead_share(caches) if relu else 0.0)
            if step == STEPS:
                break
            values, dY = div.rule(Y, div.targets(lb, Y.shape, "labels"))
            loss = float(values.mean())
            if not math.isfinite(loss):
                diverged = True
                break
            dY /= len(Xb)                                      # the batch average, once
            if first is None:
                first = _first_pass(net, hidden, caches, dY)
                grads = first.pop("grads")
            else:
                grads = net.backward(dY, caches)               # backward pass
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
            if not math.isfinite(norm):
                diverged = True
                losses.append(loss)
                break
            if s.clip is not None:
                grads, _ = clip_by_global_norm(grads, s.clip)
            if step == 0:
                first["applied"] = np.array([math.sqrt(float(np.vdot(g, g)))
                                             for name, g in grads.items() if name.startswith("W(")])
            losses.append(loss)
            sgd_update(params, grads, s.eta, reuse_grads=True)  # W <- W - eta grad W
    if first is None:  # the very first loss was not finite: nothing to show but that
        nan = np.full(s.depth + 1, math.nan)
        first = {"grad_norms": nan, "spread": nan[:-1], "f_prime": nan[:-1], "w_norm": nan, "factors": nan[:-2],
                 "g_norms": nan[:-1]}
        first["applied"] = nan
    applied = first.pop("applied", first["grad_norms"])
    dead = np.array(dead or [0.0])  # after each update, on the next mini-batch
    state = DashboardState(s, first["grad_norms"], applied, first["spread"], first["f_prime"], first["w_norm"],
                           first["factors"], first["g_norms"], np.array(losses or [math.nan]), dead, diverged)
    chain = float(np.prod(state.factors)) if len(state.factors) and np.isfinite(state.factors).all() else 1.0
    return replace(state, diagnosis=diagnose(state.grad_norms, state.applied_norms,
                                             dead[-1] if s.activation == "relu" else 0.0, diverged, chain))


def _first_pass(net, hidden, caches, dY):
    """The first step's backward pass, layer by layer, keeping g(k) = d loss / d y(k) at every hidden layer."""
    g_norm = {}
    per_layer = [None] * len(net.layers)
    out_index = {i: k for k, (_, _, i, _) in enumerate(hidden, start=1)}
    d = dY
    for i in reversed(range(len(net.layers))):
        if i in out_index:  # d is g(k), the gradient at the output of hidden layer k
            g_norm[out_index[i]] = float(np.linalg.norm(d))
        d, per_layer[i] = net.layers[i].backward(d, caches[i], input_grad=i > 0)
    grads = {}
    for name, i, key in net._slots:
        grads[name] = per_layer[i][key]
    depth = len(hidden)
    f_prime = np.array([float(np.mean(np.abs(act.activation.derivative(_z_and_y(caches[i], residual)[0]))))
                        for _, act, i, residual in hidden])
    spread = np.array([float(np.std(y)) for y in _outputs(net, hidden, caches)])  # y(k), residual sum included
    w_names = [n for n in grads if n.startswith("W(")]
    grad_norms = np.array([float(np.linalg.norm(grads[n])) for n in w_names])
    params = net.parameters()
    w_norm = np.array([float(np.linalg.norm(params[n], 2)) for n in w_names])
    factors = np.array([g_norm[k - 1] / g_norm[k] if g_norm[k] > 0 else math.nan for k in range(2, depth + 1)])
    return {"grads": grads, "grad_norms": grad_norms, "spread": spread, "f_prime": f_prime, "w_norm": w_norm,
            "factors": factors, "g_norms": np.array([g_norm[k] for k in range(1, depth + 1)])}


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
