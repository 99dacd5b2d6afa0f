"""The benchmark's command line and JSON, in its tiny mode (the figures are not judged here: no timing assertions)."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import backprop as bp
import backprop.core.training
from backprop import bench
from strategies import assert_explained

REQUIRED = ["digits_test_accuracy", "digits_train_seconds", "scalar_vs_vector_speedup", "mnist_epoch_seconds",
            "gemm_floor_seconds", "mnist_epoch_over_floor", "mnist_epoch_in_order_over_floor", "mnist_gather_seconds",
            "mnist_gather_over_floor", "numpy_fused_epoch_seconds", "numpy_fused_epoch_over_floor", "mnist_epoch_over_fused",
            "import_backprop_ms"]
PEER_KEYS = ["sklearn_digits_accuracy", "sklearn_digits_seconds", "torch_epoch_seconds"]


def test_the_command_writes_every_figure_as_json(tmp_path):
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "backprop.bench", "--tiny", "--no-peers", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    for key in REQUIRED:
        assert isinstance(results[key], float) and results[key] > 0, key
    # tiny mode times one repeat: each ratio is the ratio of its two figures
    assert results["mnist_epoch_over_floor"] == pytest.approx(results["mnist_epoch_seconds"] / results["gemm_floor_seconds"])
    assert results["mnist_epoch_over_fused"] == pytest.approx(
        results["mnist_epoch_seconds"] / results["numpy_fused_epoch_seconds"])
    assert results["mode"] == "tiny"
    assert results["peers"] == {"sklearn": "skipped (--no-peers)", "torch": "skipped (--no-peers)"}
    assert not any(key in results for key in PEER_KEYS)
    assert set(results["targets_met"]) == set(bench.TARGETS)
    assert results["targets_met"]["notebooks_run_seconds"] is None  # tiny runs no notebook: not measured, not missed
    assert re.search(r"slowest notebook, top to bottom +not measured .* target <= 20: not measured", done.stdout)
    assert "epoch / floor" in done.stdout and "skipped (--no-peers)" in done.stdout
    line = next(l for l in done.stdout.splitlines() if "library epoch / hand-fused epoch" in l)
    comparison, bound = bench.TARGETS["mnist_epoch_over_fused"]
    assert f"target {comparison} {bound:g}:" in line
    # the dashboard, timed through its widget (tiny: 2 settings at depth 5): the training panel comes second
    assert results["dashboard_points"] == 2 and results["dashboard_depth"] == 5
    assert 0 < results["dashboard_update_ms"] < results["dashboard_train_ms"]
    assert "dashboard update at depth 5" in done.stdout
    assert "import backprop, fresh interpreter" in done.stdout


def test_missing_peers_are_skipped_and_said_so(monkeypatch):
    monkeypatch.setattr(bench, "_installed", lambda name: False)
    assert bench.bench_sklearn() is None and bench.bench_torch() is None
    # the library's own measurements ran for real in the test above; here run() only assembles them
    figures = {k: v for k, v in _fake_results().items() if k not in ("mode", "peers", "targets_met")}
    for name in ("bench_digits", "bench_scalar_vs_vector", "bench_mnist_epoch", "bench_dashboard", "bench_import"):
        monkeypatch.setattr(bench, name, lambda **kwargs: dict(figures))
    results = bench.run(tiny=True)
    assert results["peers"] == {"sklearn": "not installed", "torch": "not installed"}
    assert not any(key in results for key in PEER_KEYS)
    text = bench.report(results)
    assert text.count("not installed") == 2 and "sklearn MLPClassifier" in text and "PyTorch" in text


@pytest.mark.parametrize("argv, fragment", [
    (["--full", "--tiny"], "--full and --tiny exclude each other"),
    (["--json", "/no/such/folder/out.json"], "the folder /no/such/folder does not exist"),
    (["--fast"], "unrecognized arguments: --fast"),
])
def test_bad_command_lines_are_explained(argv, fragment, capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(argv)
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err


def _fake_results(**changes):
    """Every figure present, every target met, but for ``changes``."""
    results = {"mode": "tiny", "python": "3", "numpy": "2", "cpu_count": 2, "machine": "x",
               "digits_test_accuracy": 0.98, "digits_train_seconds": 0.1, "scalar_seconds": 1.0,
               "vector_seconds": 0.001, "scalar_vs_vector_speedup": 1000.0, "mnist_epoch_seconds": 1.0,
               "gemm_floor_seconds": 1.0, "mnist_epoch_over_floor": 1.0, "mnist_epoch_in_order_seconds": 0.9,
               "mnist_epoch_in_order_over_floor": 0.9, "mnist_gather_seconds": 0.1,
               "mnist_gather_over_floor": 0.1, "numpy_fused_epoch_seconds": 0.96,
               "numpy_fused_epoch_over_floor": 0.96, "mnist_epoch_over_fused": 1.0 / 0.96,
               "dashboard_update_ms": 40.0, "dashboard_update_max_ms": 60.0, "dashboard_points": 24,
               "dashboard_train_ms": 600.0, "dashboard_train_max_ms": 900.0, "import_backprop_ms": 4.0,
               "peers": {"sklearn": "not installed", "torch": "not installed"}}
    results.update(changes)
    results["targets_met"] = bench.targets_met(results)
    return results


@pytest.mark.parametrize("changes, line", [
    ({}, r"library epoch / hand-fused epoch +1\.042x +target <= 1\.1: met"),
    ({"digits_test_accuracy": 0.9}, r"digits test accuracy +90\.00 % +target >= 97\.5 %: MISSED"),
    ({"numpy_fused_epoch_seconds": 0.9, "mnist_epoch_over_fused": 1.0 / 0.9},
     r"library epoch / hand-fused epoch +1\.111x +target <= 1\.1: MISSED"),
])
def test_check_fails_when_a_target_is_missed(changes, line, monkeypatch, capsys):
    missed = "MISSED" in line
    monkeypatch.setattr(bench, "run", lambda **kwargs: _fake_results(**changes))
    assert bench.main(["--check"]) == (1 if missed else 0)
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("MISSED") == (2 if missed else 0)  # once per run, only the target changed
    assert len(re.findall(line, out)) == 2


def test_the_floor_times_the_five_products_of_a_batch():
    rng = np.random.default_rng(0)
    X, W1, W2 = rng.random((300, 20)), rng.random((8, 20)), rng.random((3, 8))
    assert bench.matmul_floor(X, W1, W2, 128) > 0


def test_targets_compare_in_the_stated_direction():
    assert bench._meets(0.98, ">=", 0.975) and not bench._meets(0.97, ">=", 0.975)
    assert bench._meets(1.2, "<=", 1.25) and not bench._meets(1.3, "<=", 1.25)


def test_scalar_and_vector_runs_agree_before_they_are_compared():
    results = bench.bench_scalar_vs_vector(instances=3, repeats=1)
    assert results["scalar_instances"] == 3 and results["scalar_seconds"] > results["vector_seconds"] > 0


@pytest.mark.parametrize("T, batch_size", [(300, 64), (257, 32), (40, 40)])
def test_the_fused_reference_epoch_does_what_train_does(T, batch_size):
    """numpy's hand-fused epoch is only a fair yardstick if it computes the same updates, loss and accuracy."""
    rng = np.random.default_rng(5)
    X, labels = rng.random((T, 12)), rng.integers(0, 4, size=T)
    net = bp.initialise(bp.mlp([12, 7, 4], ["relu", "identity"], rng=rng, divergence="softmax_cross_entropy"),
                        "he", rng=rng)
    params = {name: p.copy() for name, p in net.parameters().items()}
    before = {name: p.copy() for name, p in params.items()}
    history = bp.train(net, X, labels, eta=0.3, epochs=1, batch_size=batch_size, rng=np.random.default_rng(9))
    order = np.random.default_rng(9).permutation(T) if batch_size < T else np.arange(T)
    seconds, loss, accuracy = bench.fused_epoch(params, X, labels, eta=0.3, batch_size=batch_size, order=order)
    assert seconds > 0
    assert loss == pytest.approx(history.train_loss[0], rel=1e-12)
    assert accuracy == history.train_accuracy[0]
    for name, p in net.parameters().items():
        np.testing.assert_allclose(params[name], p, rtol=1e-12, atol=1e-14, err_msg=name)
    assert not np.array_equal(params["W(1)"], before["W(1)"])  # it did train


def test_the_fused_reference_epoch_reports_divergence():
    rng = np.random.default_rng(0)
    X, labels = rng.random((64, 5)) * 1e200, rng.integers(0, 3, size=64)
    params = {"W(1)": rng.normal(size=(4, 5)) * 1e200, "b(1)": np.zeros(4), "W(2)": rng.normal(size=(3, 4)),
              "b(2)": np.zeros(3)}
    with pytest.raises(ArithmeticError, match="norm"), np.errstate(all="ignore"):
        bench.fused_epoch(params, X, labels, eta=0.1, batch_size=16, order=np.arange(64))


def test_gathering_times_the_epochs_row_copies():
    X = np.random.default_rng(0).random((1000, 30))
    assert bench.gather_seconds(X, np.random.default_rng(1).permutation(1000), 128) > 0


def _small_problem(T=70, seed=3):
    rng = np.random.default_rng(seed)
    X, labels = rng.random((T, 6)), rng.integers(0, 3, size=T)
    params = {"W(1)": rng.normal(size=(5, 6)), "b(1)": np.zeros(5), "W(2)": rng.normal(size=(3, 5)), "b(2)": np.zeros(3)}
    return X, labels, params


def test_the_fused_epoch_updates_through_the_librarys_sgd_update(monkeypatch):
    X, labels, params = _small_problem()
    calls = []

    def recording(p, grads, eta, **kwargs):
        calls.append((p, sorted(grads), eta))
        return backprop.core.training.sgd_update(p, grads, eta, **kwargs)

    monkeypatch.setattr(bench, "sgd_update", recording)
    bench.fused_epoch(params, X, labels, eta=0.05, batch_size=32, order=np.arange(70))
    assert len(calls) == 3  # 32 + 32 + 6 rows: one update per mini-batch
    assert all(p is params and names == sorted(params) and eta == 0.05 for p, names, eta in calls)


@pytest.mark.parametrize("eta, got", [(0.0, "got 0"), (-0.1, "got -0.1")])
def test_the_fused_epoch_explains_a_bad_learning_rate(eta, got):
    X, labels, params = _small_problem()
    assert_explained(lambda: bench.fused_epoch(params, X, labels, eta=eta, batch_size=32, order=np.arange(70)),
                     ValueError, ["argument 'eta'", "a learning rate", "> 0", got])


def test_importing_backprop_does_not_import_the_bench():
    code = ("import sys, backprop as bp; bp.Network; bp.train; bp.grading; "
            "print(sorted(m for m in sys.modules if m.startswith('backprop.bench')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_batch_sweep_times_loops_and_matrices_per_batch_size():
    from backprop.bench import bench_batch_sweep

    sweep = bench_batch_sweep(batches=(1, 4), repeats=1, loop_instances=2)
    assert "64-64-10" in sweep["network"] and [r["batch_size"] for r in sweep["rows"]] == [1, 4]
    assert all(r["loop_seconds_per_instance"] > r["matrix_seconds_per_instance"] > 0 for r in sweep["rows"])


def test_the_batch_sweep_command_writes_its_rows_and_where_they_came_from(tmp_path, monkeypatch, capsys):
    import json

    from backprop import bench

    rows = [{"batch_size": 1, "loop_seconds_per_instance": 2e-3, "matrix_seconds_per_instance": 1e-4, "speedup": 20.0}]
    monkeypatch.setattr(bench, "bench_batch_sweep", lambda repeats: {"network": "n", "rows": rows})
    out = tmp_path / "vector_speedup.json"
    assert bench.main(["--batch-sweep", str(out)]) == 0
    stored = json.loads(out.read_text())
    assert stored["rows"] == rows and stored["source"].startswith("python -m backprop.bench --batch-sweep vector_speedup.json")
    assert "numpy" in stored["source"] and "CPU cores" in stored["source"]
    assert "B =    1" in capsys.readouterr().out


def test_the_slowest_notebook_is_reported_against_its_target(monkeypatch, capsys):
    timed = {"notebooks_run_seconds": 25.0, "notebooks_slowest": "06_training_loop.ipynb",
             "notebook_seconds": {"00_problem_setup.ipynb": 9.0, "06_training_loop.ipynb": 25.0}}
    monkeypatch.setattr(bench, "run", lambda **kwargs: _fake_results(**timed))
    assert bench.main(["--check"]) == 1
    line = next(l for l in capsys.readouterr().out.splitlines() if "slowest notebook" in l)
    assert re.search(r"25\.0 s \(06_training_loop\.ipynb, 2 notebooks run\) +target <= 20: MISSED", line), line


def test_the_dashboard_is_reported_against_its_targets():
    lines = [l for l in bench.report(_fake_results(dashboard_update_ms=150.0, dashboard_train_ms=1500.0,
                                                   dashboard_train_max_ms=1600.0)).splitlines() if "dashboard" in l]
    assert "150.0 ms median" in lines[0] and "target <= 100: MISSED" in lines[0]
    assert "1500 ms median (max 1600 ms)" in lines[1] and "target <= 1000: MISSED" in lines[1]


def test_the_notebooks_are_timed_top_to_bottom_and_the_slowest_named(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    for name, source in (("00_quick.ipynb", "x = 1"), ("01_slower.ipynb", "import time\ntime.sleep(0.3)")):
        nbformat.write(new_notebook(cells=[new_code_cell(source)]), tmp_path / name)
    nbformat.write(new_notebook(cells=[new_code_cell("raise SystemExit")]), tmp_path / "99_not_a_course_notebook.ipynb")
    results = bench.bench_notebooks(str(tmp_path))
    assert set(results["notebook_seconds"]) == {"00_quick.ipynb", "01_slower.ipynb"}
    seconds = results["notebook_seconds"]  # which one is slower depends on the machine's load (a kernel's start)
    assert results["notebooks_slowest"] == max(seconds, key=seconds.get)
    assert results["notebooks_run_seconds"] == seconds[results["notebooks_slowest"]] and seconds["01_slower.ipynb"] >= 0.3
    assert bench.bench_notebooks(str(tmp_path / "none")) is None
