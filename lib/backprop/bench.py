"""``python -m backprop.bench``: how fast and how good the library's training is, against the alternatives.

One run measures (times with ``time.perf_counter``, the median of a few repeats):

1. **Digits**: the 8x8 digits (stratified 75/25 split, seed 0), one hidden layer
   of 64 ReLU units, softmax and cross-entropy (fused: ``softmax_cross_entropy``
   on the logits, as PyTorch and scikit-learn do), He initialisation,
   mini-batch SGD (eta 0.3, batch 32, 60 epochs, a new random order each epoch):
   test accuracy and training time (``History.seconds``: the epochs' loop; the
   one-time data validation and the per-epoch bookkeeping excluded; the whole
   ``train`` call is reported beside it as ``digits_train_call_seconds``).
2. **Scalar versus vectorised**: the same 64-64-10 network and digits, its loss
   and gradients by the lecture's loops (``ScalarNetwork.loss_and_gradients``)
   and by matrix products (``Network.loss_and_gradients``, with its input checks):
   the speedup.
3. **An MNIST-shaped epoch**: 60,000 synthetic instances of width 784 (uniform
   pixels, random labels), 784-128-10 (ReLU, fused softmax cross-entropy), batch
   128, float64, one epoch of :func:`backprop.train` (a new random order, rows
   gathered into each mini-batch, updates, loss and accuracy tracking included;
   also without the shuffle, ``shuffle=False``).  Its ratio to the
   **matrix-multiply floor**, the
   same run's time for only the five matrix products the forward and backward
   passes need for each batch (X_b (128, 784), H (128, 128), dZ2 (128, 10)):
   forward X_b W(1)^T and H W(2)^T, backward dZ2^T H, dZ2 W(2) and dZ1^T X_b
   (no d loss / dX: nothing needs it), into preallocated outputs, batches taken
   in order from the same array.  Beside it, two yardsticks from the same run:
   the time to gather one epoch's shuffled rows alone (what the shuffle adds),
   and :func:`fused_epoch`, the same epoch written directly in numpy by hand
   (same order, updates, loss and accuracy; no checks, no history, no
   per-step allocation): how fast plain numpy gets on this machine.
4. **Peers, when installed (never required)**: scikit-learn's ``MLPClassifier``
   on the same digits split (its defaults but 64 hidden units, and the same SGD
   settings as ours); PyTorch on the CPU for the same MNIST-shaped epoch
   (float64, ``nn.Linear``, ``CrossEntropyLoss``, ``optim.SGD``, a new random
   order every epoch).

``--full`` adds repeats, the digits accuracy over 10 seeds, and a larger scalar
sample; ``--json FILE`` writes every figure (seconds and ratios as numbers);
``--check`` exits with status 1 when a target is missed (a target this run did not
measure, as ``--tiny`` leaves the notebooks out, is reported "not measured", not missed).

5. **The dashboard of notebook 06** (``dashboard_update_ms``, ``dashboard_train_ms``): the
   widget itself (:func:`backprop.views.dashboard.vanishing_dashboard`) at depth 50, for
   every activation, initialisation and residual setting (clipping on for half of them):
   from a simulated change of the eta slider (the same callback path a student's mouse
   triggers), the median time until the gradient panel and its readout are redrawn
   (``dashboard_update_ms``), and until the training panel is drawn
   (``dashboard_train_ms``: the training run of the new setting, drawn when ready).
   ``--tiny`` takes 2 settings at depth 5.
6. **The notebooks** (``notebooks_run_seconds``, not in ``--tiny``): each notebook
   00-06 of the repository run top to bottom in a fresh kernel (nbclient); the slowest.
7. **``import backprop``** (``import_backprop_ms``): the import in a fresh interpreter, timed
   inside it (the interpreter's own start left out), the median over fresh interpreters. The
   facade loads its modules on first use, so this stays a few milliseconds; the
   architecture test checks that SymPy, matplotlib and ipywidgets stay out of it.

``--lab-sweep FILE`` runs instead the lab sweeps of notebook 06
(:func:`backprop.experiments.lab.lab_sweeps`) and writes them to FILE as JSON;
``lib/backprop/_data/lab_sweeps.json`` is that file.

``--batch-sweep FILE`` measures instead the scalar loops against the matrices on the
64-64-10 network for every batch size of :data:`SWEEP_BATCHES` (seconds per instance,
:func:`bench_batch_sweep`) and writes them to FILE as JSON, with the command, the date
and the machine; ``lib/backprop/_data/vector_speedup.json``, which notebook 05 plots,
is that file.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

from .core.data import digits_dataset
from .core.initialisation import initialise
from .core.network import mlp
from .core.scalar_net import ScalarNetwork
from .core.training import evaluate, sgd_update, train

__all__ = ["DIGITS", "TARGETS", "bench_digits", "bench_scalar_vs_vector", "SWEEP_BATCHES", "bench_batch_sweep",
           "matmul_floor", "gather_seconds",
           "fused_epoch", "bench_mnist_epoch",
           "bench_sklearn", "bench_torch", "bench_dashboard", "bench_notebooks", "bench_import", "run", "report", "main"]

#: the digits task: one hidden layer of 64 ReLU units, mini-batch SGD
DIGITS = {"seed": 0, "hidden": 64, "eta": 0.3, "batch_size": 32, "epochs": 60, "test_fraction": 0.25}
#: the MNIST-shaped epoch
MNIST = {"rows": 60_000, "width": 784, "hidden": 128, "classes": 10, "batch_size": 128, "eta": 0.01}

#: key -> (comparison, bound): what the library promises
TARGETS = {
    "digits_test_accuracy": (">=", 0.975),
    "digits_train_seconds": ("<=", 0.5),
    "scalar_vs_vector_speedup": (">=", 100.0),
    "mnist_epoch_over_floor": ("<=", 1.25),
    "mnist_epoch_over_fused": ("<=", 1.10),  # issue 22: the per-step dispatch (35-60 us) measured and explained
    "dashboard_update_ms": ("<=", 100.0),
    "dashboard_train_ms": ("<=", 1000.0),
    "notebooks_run_seconds": ("<=", 20.0),  # not measured by --tiny, nor without the repository's notebooks
    "import_backprop_ms": ("<=", 25.0),  # measured 4.4 ms; a top-level import of numpy alone costs about 90
}


def _median_time(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _digits_net(rng, hidden, fused=True):
    """64-hidden-10, ReLU, He initialisation; softmax and cross-entropy fused (from the logits) or as two steps."""
    if fused:
        return initialise(mlp([64, hidden, 10], ["relu", "identity"], rng=rng, divergence="softmax_cross_entropy"),
                          "he", rng=rng)
    return initialise(mlp([64, hidden, 10], ["relu", "softmax"], rng=rng, divergence="cross_entropy"), "he", rng=rng)


# -- 1. digits ---------------------------------------------------------------------------------------
def bench_digits(*, seed=DIGITS["seed"], repeats=3, epochs=DIGITS["epochs"], seeds=()) -> dict:
    """Test accuracy (a fraction) and training seconds on the digits; the same seed gives the same accuracy."""
    accuracies, seconds, calls = [], [], []
    for _ in range(repeats):
        accuracy, sec, call = _digits_once(seed, epochs)
        accuracies.append(accuracy)
        seconds.append(sec)
        calls.append(call)
    out = {"digits_test_accuracy": accuracies[0], "digits_train_seconds": statistics.median(seconds),
           "digits_train_call_seconds": statistics.median(calls), "digits_seed": seed, "digits_epochs": epochs}
    if seeds:
        spread = [_digits_once(s, epochs)[0] for s in seeds]
        out.update(digits_accuracy_by_seed={str(s): a for s, a in zip(seeds, spread)},
                   digits_accuracy_mean=statistics.mean(spread), digits_accuracy_min=min(spread),
                   digits_accuracy_max=max(spread))
    return out


def _digits_once(seed, epochs):
    rng = np.random.default_rng(seed)
    data = digits_dataset(rng=rng, test_fraction=DIGITS["test_fraction"])
    net = _digits_net(rng, DIGITS["hidden"])
    start = time.perf_counter()
    history = train(net, data.X_train, data.labels_train, eta=DIGITS["eta"], epochs=epochs,
                    batch_size=DIGITS["batch_size"], rng=rng, progress=None)
    call = time.perf_counter() - start
    return evaluate(net, data.X_test, data.labels_test)[1], history.seconds[-1], call


# -- 2. scalar loops against matrix products -----------------------------------------------------------
def bench_scalar_vs_vector(*, instances=100, repeats=3) -> dict:
    """Seconds for the loss and gradients of a 64-64-10 network on ``instances`` digits, loops against matrices."""
    rng = np.random.default_rng(1)
    data = digits_dataset(rng=rng)
    net = _digits_net(rng, 64, fused=False)  # the scalar network has a softmax layer, not a fused divergence
    X, labels = data.X_train[:instances], data.labels_train[:instances]
    scalar = ScalarNetwork.from_network(net)
    start = time.perf_counter()
    scalar_loss, scalar_grads = scalar.loss_and_gradients(X, labels)
    scalar_seconds = time.perf_counter() - start
    vector_loss, vector_grads = net.loss_and_gradients(X, labels)
    for name, g in vector_grads.items():  # the same numbers, or the comparison means nothing
        if not np.allclose(g, scalar_grads[name], rtol=1e-9, atol=1e-12):
            raise AssertionError(f"scalar and vectorised gradients of {name} differ")
    inner = max(1, int(0.05 / max(_median_time(lambda: net.loss_and_gradients(X, labels), 1), 1e-6)))
    vector_seconds = _median_time(lambda: [net.loss_and_gradients(X, labels) for _ in range(inner)], repeats) / inner
    return {"scalar_seconds": scalar_seconds, "vector_seconds": vector_seconds,
            "scalar_vs_vector_speedup": scalar_seconds / vector_seconds, "scalar_instances": instances}


#: the batch sizes of the sweep behind notebook 05's speed-up plot
SWEEP_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def bench_batch_sweep(*, batches=SWEEP_BATCHES, repeats=5, loop_instances=16) -> dict:
    """Seconds per instance, scalar loops against matrices, for a 64-64-10 network on digits, per batch size.

    The network and data are those of :func:`bench_scalar_vs_vector`; each batch size B
    times ``Network.loss_and_gradients`` on B digits (best of ``repeats``) and the loops
    on ``min(B, loop_instances)`` of them (their time per instance does not depend on B).
    """
    from .experiments.vector_form import time_loops_and_matrices

    rng = np.random.default_rng(1)
    data = digits_dataset(rng=rng)
    net = _digits_net(rng, 64, fused=False)
    rows = []
    for B in batches:
        X, labels = data.X_train[:B], data.labels_train[:B]
        rows.append(time_loops_and_matrices(net, X, labels, repeats=repeats, loop_instances=loop_instances))
    return {"network": "64-64-10, ReLU then softmax, cross-entropy, float64, digits (seed 1)", "rows": rows}


# -- 3. the MNIST-shaped epoch and its floor -----------------------------------------------------------------
def _mnist_problem(rows, rng):
    X = rng.random((rows, MNIST["width"]))
    labels = rng.integers(0, MNIST["classes"], size=rows)
    net = initialise(mlp([MNIST["width"], MNIST["hidden"], MNIST["classes"]], ["relu", "identity"], rng=rng,
                         divergence="softmax_cross_entropy"), "he", rng=rng)
    return X, labels, net


def matmul_floor(X, W1, W2, batch_size) -> float:
    """Seconds for only the matrix products of one epoch of forward and backward passes over X.

    Per batch X_b: forward Z1 = X_b W1^T, Z2 = H W2^T; backward dW2 = dZ2^T H,
    dH = dZ2 W2, dW1 = dZ1^T X_b (values reused: the products cost the same
    whatever the numbers), all into preallocated outputs.
    """
    B = batch_size
    Z1, Z2 = np.empty((B, W1.shape[0])), np.empty((B, W2.shape[0]))
    dW2, dH, dW1 = np.empty(W2.shape), np.empty((B, W1.shape[0])), np.empty(W1.shape)
    start = time.perf_counter()
    for s in range(0, len(X), B):
        Xb = X[s:s + B]
        b = len(Xb)
        np.matmul(Xb, W1.T, out=Z1[:b])
        np.matmul(Z1[:b], W2.T, out=Z2[:b])
        np.matmul(Z2[:b].T, Z1[:b], out=dW2)
        np.matmul(Z2[:b], W2, out=dH[:b])
        np.matmul(dH[:b].T, Xb, out=dW1)
    return time.perf_counter() - start


def gather_seconds(X, order, batch_size) -> float:
    """Seconds to copy the rows of every mini-batch of one epoch, in ``order``, into one (B, width_0) buffer.

    Exactly the gathering :func:`backprop.train` does per epoch when it
    shuffles, and nothing else: what the shuffle alone adds to an epoch.
    """
    buffer = np.empty((batch_size, X.shape[1]))
    start = time.perf_counter()
    for s in range(0, len(X), batch_size):
        idx = order[s:s + batch_size]
        X.take(idx, axis=0, out=buffer[:len(idx)], mode="clip")
    return time.perf_counter() - start


def fused_epoch(params, X, labels, *, eta, batch_size, order) -> tuple[float, float, float]:
    """One epoch of the bench's 2-layer network written directly in numpy: ``(seconds, mean loss, accuracy)``.

    params: {"W(1)": (width_1, width_0), "b(1)": (width_1,), "W(2)": (width_2,
    width_1), "b(2)": (width_2,)}, updated in place; X: (T, width_0); labels:
    (T,) classes; ``order``: the rows' order (as ``train`` draws it).  ReLU
    hidden layer, softmax cross-entropy on the logits, SGD on the batch mean:
    the same updates, loss and accuracy as :func:`backprop.train`, and each
    step's gradient norm computed as it does, but with no checks, no history,
    no per-step allocation and every elementwise step of the forward and
    backward passes fused by hand.  The update is the library's one update,
    :func:`backprop.sgd_update` (W <- W - eta grad W), as in ``train``.  It says
    how close to plain numpy the library's epoch runs: not a training API.
    """
    W1, b1, W2, b2 = (params[k] for k in ("W(1)", "b(1)", "W(2)", "b(2)"))
    B = batch_size
    Xb_buf, Z1, Z2 = np.empty((B, X.shape[1])), np.empty((B, W1.shape[0])), np.empty((B, W2.shape[0]))
    dW1, dW2, dH = np.empty_like(W1), np.empty_like(W2), np.empty((B, W1.shape[0]))
    mask, rows = np.empty((B, W1.shape[0]), dtype=bool), np.arange(B)
    loss_sum, correct = 0.0, 0
    start = time.perf_counter()
    for s in range(0, len(X), B):
        idx = order[s:s + B]
        b, lab, r = len(idx), labels[idx], rows[:len(idx)]
        Xb = X.take(idx, axis=0, out=Xb_buf[:b], mode="clip")
        z1, z2, dh, m = Z1[:b], Z2[:b], dH[:b], mask[:b]
        np.matmul(Xb, W1.T, out=z1)
        z1 += b1
        np.greater(z1, 0, out=m)
        z1 *= m  # H = relu(Z1), in place
        np.matmul(z1, W2.T, out=z2)
        z2 += b2
        correct += np.count_nonzero(z2.argmax(axis=1) == lab)
        z2 -= z2.max(axis=1, keepdims=True)
        np.exp(z2, out=z2)
        z2 /= z2.sum(axis=1, keepdims=True)  # softmax
        loss_sum -= np.log(z2[r, lab]).sum()
        z2[r, lab] -= 1.0  # dZ2 = Y - D
        z2 /= b  # the batch mean's derivative
        np.matmul(z2.T, z1, out=dW2)
        np.matmul(z2, W2, out=dh)
        dh *= m
        np.matmul(dh.T, Xb, out=dW1)
        grads = {"W(1)": dW1, "b(1)": dh.sum(axis=0), "W(2)": dW2, "b(2)": z2.sum(axis=0)}
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        if not math.isfinite(norm):
            raise ArithmeticError(f"the fused epoch diverged: the gradient's norm is {norm}")
        sgd_update(params, grads, eta, reuse_grads=True)
    return time.perf_counter() - start, loss_sum / len(X), correct / len(X)


def bench_mnist_epoch(*, rows=MNIST["rows"], repeats=5) -> dict:
    """One epoch of :func:`train` on MNIST-shaped data against the matrix-multiply floor, interleaved.

    Each repeat times the floor, then an epoch in a new random order (the
    default), right after it the hand-fused epoch (:func:`fused_epoch`) in a new
    random order of its own, then the shuffle's gather alone and an epoch in the
    data's own order (``shuffle=False``, no gathering of rows).  The ratios are
    medians of each repeat's ratio, so a machine that slows down for a while
    slows both sides of a ratio.
    """
    rng = np.random.default_rng(2)
    X, labels, net = _mnist_problem(rows, rng)
    W1, W2 = net.parameters()["W(1)"].copy(), net.parameters()["W(2)"].copy()
    B = MNIST["batch_size"]
    matmul_floor(X[:8 * B], W1, W2, B)  # warm up
    fused_params = {name: p.copy() for name, p in net.parameters().items()}
    floors, epochs, in_order, calls, gathers, fused = [], [], [], [], [], []
    for _ in range(repeats):
        floors.append(matmul_floor(X, W1, W2, B))
        start = time.perf_counter()
        history = train(net, X, labels, eta=MNIST["eta"], epochs=1, batch_size=B, rng=rng, progress=None)
        calls.append(time.perf_counter() - start)
        epochs.append(history.seconds[-1])
        order = rng.permutation(rows)
        fused.append(fused_epoch(fused_params, X, labels, eta=MNIST["eta"], batch_size=B, order=order)[0])
        gathers.append(gather_seconds(X, order, B))
        in_order.append(train(net, X, labels, eta=MNIST["eta"], epochs=1, batch_size=B, shuffle=False,
                              progress=None).seconds[-1])

    def ratio(times):
        return statistics.median(t / f for t, f in zip(times, floors))

    return {"mnist_epoch_seconds": statistics.median(epochs), "gemm_floor_seconds": statistics.median(floors),
            "mnist_epoch_over_floor": ratio(epochs),
            "mnist_epoch_in_order_seconds": statistics.median(in_order),
            "mnist_epoch_in_order_over_floor": ratio(in_order),
            "mnist_gather_seconds": statistics.median(gathers), "mnist_gather_over_floor": ratio(gathers),
            "numpy_fused_epoch_seconds": statistics.median(fused), "numpy_fused_epoch_over_floor": ratio(fused),
            "mnist_epoch_over_fused": statistics.median(e / f for e, f in zip(epochs, fused)),
            "mnist_train_call_seconds": statistics.median(calls), "mnist_rows": rows}


# -- 5. the dashboard of notebook 06, and 6. the notebooks ---------------------------------------------------
def bench_dashboard(*, depth=50, points=None) -> dict:
    """Milliseconds from a change of the dashboard's eta slider to its redrawn panels, at ``depth``, over a grid.

    The widget is built once (threaded, as in the notebook); each grid point
    (activation, init, residual, clip) is set up untimed, then the eta slider
    moves and the times until the gradient panel is redrawn and until the
    training panel is drawn are taken (the widget's ``drawn`` log).  Medians and
    maxima.
    """
    import itertools

    from .experiments.dashboard import DASHBOARD_ACTIVATIONS, DASHBOARD_INITS
    from .views.dashboard import vanishing_dashboard

    grid = [(a, i, r, 1.0 if (n % 2) else 0.0) for n, (a, i, r) in
            enumerate(itertools.product(DASHBOARD_ACTIVATIONS, DASHBOARD_INITS, (False, True)))]
    grid = grid[:points] if points else grid
    board = vanishing_dashboard("ReLU + He")
    c, wait = board.controls, board.scheduler.wait
    c["depth"].value = depth
    wait()
    update, trained = [], []
    for activation, init, residual, clip in grid:
        c["activation"].value, c["init"].value, c["residual"].value, c["clip"].value = activation, init, residual, clip
        wait()
        eta = 0.02 if c["eta"].value != 0.02 else 0.01
        seen = len(board.drawn)
        start = time.perf_counter()
        c["eta"].value = eta  # the simulated slider change
        wait()
        stages = {stage: at for stage, settings, at in board.drawn[seen:] if settings.eta == eta}
        update.append(stages["gradient"] - start)
        trained.append(stages["training"] - start)
    if board.scheduler.errors:
        raise board.scheduler.errors[0]
    return {"dashboard_update_ms": 1e3 * statistics.median(update), "dashboard_update_max_ms": 1e3 * max(update),
            "dashboard_train_ms": 1e3 * statistics.median(trained), "dashboard_train_max_ms": 1e3 * max(trained),
            "dashboard_depth": depth, "dashboard_points": len(update)}


def bench_notebooks(folder=None, *, timeout=600) -> dict | None:
    """Seconds to run each notebook 00-06 top to bottom in a fresh kernel; None without the repository's notebooks."""
    import glob

    folder = folder or os.path.join(os.path.dirname(__file__), "..", "..", "notebooks")
    paths = sorted(p for p in glob.glob(os.path.join(folder, "0[0-6]_*.ipynb")))
    if not paths or not _installed("nbclient"):
        return None
    import tempfile

    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    seconds = {}
    with tempfile.TemporaryDirectory(prefix="backprop-bench-") as sockets:
        config = Config()
        if os.name == "posix":  # ipc: no TCP port, and no kernel warning about unencrypted TCP in the bench's output
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = os.path.join(sockets, "kernel")
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=timeout, kernel_name="python3", config=config,
                           resources={"metadata": {"path": os.path.dirname(path)}}).execute()
            seconds[os.path.basename(path)] = time.perf_counter() - start
    slowest = max(seconds, key=seconds.get)
    return {"notebooks_run_seconds": seconds[slowest], "notebooks_slowest": slowest, "notebook_seconds": seconds}


def bench_import(*, repeats=5) -> dict:
    """Milliseconds for ``import backprop`` in a fresh interpreter: the median over ``repeats`` interpreters."""
    code = "import time; start = time.perf_counter(); import backprop; print(time.perf_counter() - start)"
    seconds = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"import backprop failed in a fresh interpreter: {done.stderr.strip()}")
        seconds.append(float(done.stdout))
    return {"import_backprop_ms": 1e3 * statistics.median(seconds)}


# -- 4. peers -----------------------------------------------------------------------------------------------------
def _installed(name):
    return importlib.util.find_spec(name) is not None


def bench_sklearn(*, seed=DIGITS["seed"], repeats=3) -> dict | None:
    """scikit-learn's MLPClassifier on the same digits split and scaling; None when it is not installed."""
    if not _installed("sklearn"):
        return None
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    data = digits_dataset(rng=np.random.default_rng(seed), test_fraction=DIGITS["test_fraction"])
    settings = {
        "sklearn": {"hidden_layer_sizes": (DIGITS["hidden"],), "random_state": seed},  # its defaults: Adam, 200 epochs
        "sklearn_sgd": {"hidden_layer_sizes": (DIGITS["hidden"],), "random_state": seed, "solver": "sgd",
                        "learning_rate_init": DIGITS["eta"], "batch_size": DIGITS["batch_size"], "momentum": 0.0,
                        "alpha": 0.0, "max_iter": DIGITS["epochs"], "n_iter_no_change": DIGITS["epochs"] + 1},
    }
    out = {}
    for key, options in settings.items():
        seconds, accuracy = [], None
        for _ in range(repeats):
            clf = MLPClassifier(**options)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # it stops at max_iter, as asked
                start = time.perf_counter()
                clf.fit(data.X_train, data.labels_train)
                seconds.append(time.perf_counter() - start)
            accuracy = float(clf.score(data.X_test, data.labels_test))
        out[f"{key}_digits_accuracy"] = accuracy
        out[f"{key}_digits_seconds"] = statistics.median(seconds)
    out["sklearn_version"] = sklearn.__version__
    return out


def bench_torch(*, rows=MNIST["rows"], repeats=3) -> dict | None:
    """The MNIST-shaped epoch in PyTorch on the CPU (float64); None when torch is not installed."""
    if not _installed("torch"):
        return None
    import torch

    generator = torch.Generator().manual_seed(3)
    rng = np.random.default_rng(3)
    X = torch.from_numpy(rng.random((rows, MNIST["width"])))
    y = torch.from_numpy(rng.integers(0, MNIST["classes"], size=rows))
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(MNIST["width"], MNIST["hidden"]), torch.nn.ReLU(),
                                torch.nn.Linear(MNIST["hidden"], MNIST["classes"])).double()
    optimiser = torch.optim.SGD(model.parameters(), lr=MNIST["eta"])
    loss_fn = torch.nn.CrossEntropyLoss()
    B = MNIST["batch_size"]

    def epoch():
        order = torch.randperm(rows, generator=generator)
        for s in range(0, rows, B):
            idx = order[s:s + B]
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimiser.step()

    epoch()  # warm up
    return {"torch_epoch_seconds": _median_time(epoch, repeats), "torch_version": torch.__version__,
            "torch_threads": torch.get_num_threads()}


# -- the run -----------------------------------------------------------------------------------------------------
def run(*, full=False, tiny=False, peers=True, log=None) -> dict:
    """Every measurement, as a flat dict of numbers (and a few descriptive strings)."""
    say = log or (lambda message: None)
    repeats = 1 if tiny else 7 if full else 3
    rows = 512 if tiny else MNIST["rows"]  # tiny: 4 mini-batches of 128
    results = {"mode": "tiny" if tiny else "full" if full else "quick", "python": platform.python_version(),
               "numpy": np.__version__, "cpu_count": os.cpu_count(), "machine": platform.machine()}
    say("digits: 64 hidden ReLU units, softmax, cross-entropy, mini-batch SGD ...")
    results.update(bench_digits(repeats=repeats, epochs=2 if tiny else DIGITS["epochs"],
                                seeds=tuple(range(10)) if full else ()))
    say("scalar loops against matrix products (64-64-10) ...")
    results.update(bench_scalar_vs_vector(instances=5 if tiny else 300 if full else 100, repeats=repeats))
    say(f"an MNIST-shaped epoch ({rows} x 784, 784-128-10, batch 128, float64) and its matrix-multiply floor ...")
    results.update(bench_mnist_epoch(rows=rows, repeats=1 if tiny else 9 if full else 5))
    depth = 5 if tiny else 50  # tiny: the same widget and callbacks on a shallow network
    say(f"the dashboard of notebook 06 at depth {depth}: slider change to redrawn gradient and training panels ...")
    results.update(bench_dashboard(depth=depth, points=2 if tiny else None))
    say("import backprop in a fresh interpreter ...")
    results.update(bench_import(repeats=1 if tiny else 9 if full else 5))
    if not tiny:
        say("the notebooks 00-06, each top to bottom in a fresh kernel ...")
        nbs = bench_notebooks()
        if nbs is not None:
            results.update(nbs)
    if peers:
        say("scikit-learn MLPClassifier on the digits (if installed) ...")
        sk = bench_sklearn(repeats=repeats)
        if sk is not None:
            results.update(sk)
            results["sklearn_over_library_seconds"] = sk["sklearn_digits_seconds"] / results["digits_train_seconds"]
        say("PyTorch on the CPU, the MNIST-shaped epoch (if installed) ...")
        th = bench_torch(rows=rows, repeats=repeats)
        if th is not None:
            results.update(th)
            results["torch_epoch_over_floor"] = th["torch_epoch_seconds"] / results["gemm_floor_seconds"]
            results["library_over_torch"] = results["mnist_epoch_seconds"] / th["torch_epoch_seconds"]
    results["peers"] = {name: "measured" if key in results else "not installed" if peers else "skipped (--no-peers)"
                        for name, key in (("sklearn", "sklearn_digits_accuracy"), ("torch", "torch_epoch_seconds"))}
    results["targets_met"] = targets_met(results)
    return results


def _meets(value, comparison, bound):
    return bool(value >= bound) if comparison == ">=" else bool(value <= bound)


def targets_met(results: dict) -> dict:
    """Target key -> met (True), missed (False) or not measured in this run (None)."""
    return {key: _meets(results[key], *bound) if key in results else None for key, bound in TARGETS.items()}


def report(results: dict) -> str:
    """The figures as a text table, each target marked met or missed."""
    def target(key):
        comparison, bound = TARGETS[key]
        met = results["targets_met"][key]
        return f"target {comparison} {bound:g}: {'not measured' if met is None else 'met' if met else 'MISSED'}"

    rows = [
        ("digits test accuracy", f"{100 * results['digits_test_accuracy']:.2f} %",
         f"target >= 97.5 %: {'met' if results['targets_met']['digits_test_accuracy'] else 'MISSED'}"),
        ("digits training time", f"{results['digits_train_seconds']:.3f} s", target("digits_train_seconds")),
        ("scalar loops / vectorised", f"{results['scalar_vs_vector_speedup']:.0f}x "
         f"({results['scalar_seconds']:.3f} s / {1e3 * results['vector_seconds']:.3f} ms)",
         target("scalar_vs_vector_speedup")),
        ("MNIST-shaped epoch", f"{results['mnist_epoch_seconds']:.3f} s", ""),
        ("matrix-multiply floor", f"{results['gemm_floor_seconds']:.3f} s", ""),
        ("epoch / floor", f"{results['mnist_epoch_over_floor']:.2f}x", target("mnist_epoch_over_floor")),
        ("same, rows in their own order", f"{results['mnist_epoch_in_order_over_floor']:.2f}x "
         f"({results['mnist_epoch_in_order_seconds']:.3f} s)", "shuffle=False: no rows gathered"),
        ("gathering the shuffled rows alone", f"{results['mnist_gather_over_floor']:.2f}x "
         f"({results['mnist_gather_seconds']:.3f} s)", "what shuffling adds to an epoch"),
        ("hand-fused numpy epoch / floor", f"{results['numpy_fused_epoch_over_floor']:.2f}x "
         f"({results['numpy_fused_epoch_seconds']:.3f} s)", "same shuffle, no checks or history: numpy's best"),
        ("library epoch / hand-fused epoch", f"{results['mnist_epoch_over_fused']:.3f}x",
         target("mnist_epoch_over_fused")),
    ]
    depth = results.get("dashboard_depth", 50)
    rows.append((f"dashboard update at depth {depth}", f"{results['dashboard_update_ms']:.1f} ms median "
                 f"(max {results['dashboard_update_max_ms']:.0f} ms, {results['dashboard_points']} settings)",
                 target("dashboard_update_ms")))
    rows.append((f"dashboard training panel at depth {depth}", f"{results['dashboard_train_ms']:.0f} ms median "
                 f"(max {results['dashboard_train_max_ms']:.0f} ms)", target("dashboard_train_ms")))
    rows.append(("import backprop, fresh interpreter", f"{results['import_backprop_ms']:.1f} ms",
                 target("import_backprop_ms")))
    if "notebooks_run_seconds" in results:
        rows.append(("slowest notebook, top to bottom", f"{results['notebooks_run_seconds']:.1f} s "
                     f"({results['notebooks_slowest']}, {len(results['notebook_seconds'])} notebooks run)",
                     target("notebooks_run_seconds")))
    else:
        rows.append(("slowest notebook, top to bottom", "not measured (--tiny, or no notebooks/)",
                     target("notebooks_run_seconds")))
    if "digits_accuracy_mean" in results:
        rows.append(("digits accuracy, 10 seeds", f"mean {100 * results['digits_accuracy_mean']:.2f} %, "
                     f"min {100 * results['digits_accuracy_min']:.2f} %, max {100 * results['digits_accuracy_max']:.2f} %", ""))
    if results["peers"]["sklearn"] == "measured":
        rows.append((f"sklearn {results['sklearn_version']} MLPClassifier (defaults)",
                     f"{100 * results['sklearn_digits_accuracy']:.2f} % in "
                     f"{results['sklearn_digits_seconds']:.3f} s", f"{results['sklearn_over_library_seconds']:.1f}x our time"))
        rows.append(("sklearn MLPClassifier (our SGD)", f"{100 * results['sklearn_sgd_digits_accuracy']:.2f} % in "
                     f"{results['sklearn_sgd_digits_seconds']:.3f} s", ""))
    else:
        rows.append(("sklearn MLPClassifier", results["peers"]["sklearn"], ""))
    if results["peers"]["torch"] == "measured":
        rows.append((f"PyTorch {results['torch_version']} epoch", f"{results['torch_epoch_seconds']:.3f} s "
                     f"({results['torch_epoch_over_floor']:.2f}x the floor)",
                     f"library / torch: {results['library_over_torch']:.2f}x"))
    else:
        rows.append(("PyTorch", results["peers"]["torch"], ""))
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"backprop.bench ({results['mode']}): Python {results['python']}, numpy {results['numpy']}, "
             f"{results['cpu_count']} CPUs"]
    lines += [f"  {name:<{width}}  {value:<{value_width}}  {note}".rstrip() for name, value, note in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backprop.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="more repeats, accuracy over 10 seeds, more scalar instances")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")
    parser.add_argument("--no-peers", action="store_true", help="skip scikit-learn and PyTorch even when installed")
    parser.add_argument("--tiny", action="store_true", help="a smoke run in seconds (tiny sizes: the figures mean nothing)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--lab-sweep", metavar="FILE",
                        help="only notebook 06's lab sweeps (eta, batch size, width; 3 seeds each), written to FILE as JSON")
    parser.add_argument("--batch-sweep", metavar="FILE",
                        help="only the scalar-vs-matrix sweep over batch sizes, written to FILE as JSON")
    args = parser.parse_args(argv)
    if args.lab_sweep is not None:
        from .experiments.lab import lab_sweeps

        sweeps = lab_sweeps()
        sweeps["source"] = (f"python -m backprop.bench --lab-sweep {os.path.basename(args.lab_sweep)}, "
                            f"{time.strftime('%Y-%m-%d', time.gmtime())}, {platform.machine()}, "
                            f"Python {platform.python_version()}, numpy {np.__version__}")
        with open(args.lab_sweep, "w") as f:
            json.dump(sweeps, f, indent=2)
            f.write("\n")
        for name, rows in sweeps["sweeps"].items():
            print(name + ": " + ", ".join(f"{r['value']:g} -> {100 * r['mean']:.1f} %" for r in rows))
        return 0
    if args.batch_sweep is not None:
        sweep = bench_batch_sweep(repeats=7 if args.full else 5)
        sweep["source"] = (f"python -m backprop.bench --batch-sweep {os.path.basename(args.batch_sweep)}"
                           f"{' --full' if args.full else ''}, {time.strftime('%Y-%m-%d', time.gmtime())}, "
                           f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
                           f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
        with open(args.batch_sweep, "w") as f:
            json.dump(sweep, f, indent=2)
            f.write("\n")
        for row in sweep["rows"]:
            print(f"B = {row['batch_size']:4d}: loops {1e3 * row['loop_seconds_per_instance']:.3f} ms, "
                  f"matrices {1e6 * row['matrix_seconds_per_instance']:.1f} us per instance: {row['speedup']:.0f}x")
        return 0
    if args.full and args.tiny:
        parser.error("--full and --tiny exclude each other")
    if args.json is not None:
        folder = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(folder):
            parser.error(f"--json {args.json}: the folder {folder} does not exist")
    started = time.perf_counter()
    results = run(full=args.full, tiny=args.tiny, peers=not args.no_peers,
                  log=lambda message: print(message, file=sys.stderr, flush=True))
    results["bench_wall_seconds"] = time.perf_counter() - started
    print(report(results))
    print(f"  (the whole run: {results['bench_wall_seconds']:.1f} s)")
    if args.json is not None:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
            f.write("\n")
    missed = [key for key, ok in results["targets_met"].items() if ok is False]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
