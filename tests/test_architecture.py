"""The library's layout holds: the math imports no view and no SymPy, no import circle, a light `import backprop`."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import backprop
from import_graph import TESTS, closure, library_imports, library_modules, module_under_test, third_party_imports

ROOT = Path(__file__).resolve().parents[1]
#: what each folder may import from the library: only the folders before it (and itself)
ALLOWED = {
    "core": {"core"},  # the concepts: activations, divergences, layers, networks, training, checks...
    "experiments": {"core", "experiments"},  # the notebooks' experiments, built from the concepts
    "symbolic": {"core", "experiments", "symbolic"},
    "views": {"core", "experiments", "symbolic", "views"},
    "grading": {"core", "symbolic", "grading"},
    "bench": {"core", "experiments", "views"},  # the dashboard's timing runs the widget itself
}
#: the folders that are numpy only
NUMPY_ONLY = ("core", "experiments")
#: packages the math must never import, directly or through the modules it imports
NOT_IN_THE_MATH = {"matplotlib", "ipywidgets", "IPython", "sympy", "tqdm"}


def _folder(module: str) -> str:
    return module.split(".")[0]


def test_every_library_module_is_in_a_known_folder():
    folders = {_folder(m) for m in library_modules() if m != "__init__"}
    assert folders == set(ALLOWED), folders


@pytest.mark.parametrize("module", sorted(m for m in library_modules() if m != "__init__"))
def test_a_module_imports_only_the_folders_before_its_own(module):
    imported = {_folder(m) for m in library_imports()[module]}
    assert imported <= ALLOWED[_folder(module)], (
        f"{module} imports {sorted(m for m in library_imports()[module] if _folder(m) not in ALLOWED[_folder(module)])}")


@pytest.mark.parametrize("module", sorted(m for m in library_modules() if _folder(m) in NUMPY_ONLY))
def test_the_math_imports_no_view_and_no_sympy_even_indirectly(module):
    reached = closure([module])
    outside = set().union(*(third_party_imports()[m] for m in reached))
    assert not outside & NOT_IN_THE_MATH, f"{module} reaches {sorted(outside & NOT_IN_THE_MATH)}"
    assert outside - set(sys.stdlib_module_names) <= {"numpy"}, f"{module} reaches {sorted(outside)}"


def test_every_module_of_the_library_has_a_test_file():
    tested = {module_under_test(path) for path in TESTS.rglob("test_*.py")}
    untested = [m for m in library_modules() if m not in tested and not m.endswith("__main__") and m != "__init__"
                and not any(t and t.startswith(m + ".") for t in tested)]
    assert not untested, f"modules without a mirroring test file: {untested}"


def test_no_import_circle():
    imports = library_imports()
    for module in imports:
        for other in imports[module]:
            assert module not in closure([other]) or other == module, f"circle: {module} -> {other} -> ... -> {module}"


def _used_at_the_top() -> set[str]:
    """Every ``bp.name`` the notebooks, the homework (both versions) and the README write."""
    used = set()
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb"), *ROOT.glob("exercises/*.ipynb"),
                 ROOT / "README.md"]:
        used |= set(re.findall(r"\bbp\.([A-Za-z_]\w*)", path.read_text()))
    return used


def test_the_facade_holds_exactly_what_the_course_writes_after_bp():
    """Each name at the top is its module's own object, is written by a notebook, the homework or the README, and
    every ``bp.name`` they write is there (a module's other names are reached through the module)."""
    flat = [n for names in backprop.EXPORTS.values() for n in names]
    assert len(flat) == len(set(flat)), "a name is exported twice"
    assert sorted(flat) == backprop.__all__
    for module, names in backprop.EXPORTS.items():
        mod = __import__(f"backprop.{module}", fromlist=["__all__"])
        assert set(names) <= set(mod.__all__), f"{module}: not public there: {sorted(set(names) - set(mod.__all__))}"
        for name in names:
            assert getattr(backprop, name) is getattr(mod, name)
    used = _used_at_the_top()
    assert set(flat) - used == set(), "at the top but written nowhere in the course: reach them by their module"
    assert used - set(flat) - set(backprop.MODULES) == set(), "written after bp. but not at the top"


def test_an_unknown_name_is_an_attribute_error_and_a_module_s_name_says_where_it_lives():
    with pytest.raises(AttributeError, match="no attribute 'Progresss'$"):
        backprop.Progresss  # noqa: B018
    with pytest.raises(AttributeError, match=r"'Affine': it lives in its module, from backprop.core.layers import Affine"):
        backprop.Affine  # noqa: B018


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_backprop_loads_no_sympy_matplotlib_or_ipywidgets():
    # what keeps the import light; its time is the bench's figure (import_backprop_ms), not a test's
    loaded = _fresh("""
        import sys
        import backprop
        heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'matplotlib', 'ipywidgets', 'IPython', 'tqdm'}
                       | {'backprop.bench'} & set(sys.modules))
        print(heavy, 'backprop.core' in sys.modules)
    """)
    heavy, core_loaded = loaded.rsplit(" ", 1)
    assert heavy == "[]", heavy
    assert core_loaded == "False"  # the facade looks names up on first use


def test_the_math_runs_without_the_views_or_sympy():
    loaded = _fresh("""
        import sys
        import numpy as np
        import backprop as bp
        rng = np.random.default_rng(0)
        net = bp.mlp([3, 4, 2], ["relu", "identity"], rng=rng, divergence="softmax_cross_entropy")
        bp.train(net, rng.normal(size=(20, 3)), rng.integers(0, 2, 20), eta=0.1, epochs=2, batch_size=5, rng=rng)
        net.gradient_check(rng.normal(size=(2, 3)), [0, 1]).assert_ok()
        print(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'matplotlib', 'ipywidgets', 'tqdm'}))
    """)
    assert loaded == "[]", loaded


def test_importing_the_library_and_its_views_changes_no_global_state():
    # rcParams["backend"] is skipped: reading it would itself import pyplot.
    result = _fresh("""
        import sys, warnings
        import matplotlib, numpy as np, sympy, ipywidgets
        snapshot = lambda: {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != 'backend'}
        before, filters, rng = snapshot(), list(warnings.filters), np.random.get_state()[1].copy()
        import backprop as bp
        for name in bp.__all__:
            getattr(bp, name)
        import backprop.grading, backprop.bench
        assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'
        assert snapshot() == before, 'rcParams changed'
        assert list(warnings.filters) == filters, 'warnings filters changed'
        assert (np.random.get_state()[1] == rng).all(), 'numpy global random state changed'
        print('ok')
    """)
    assert result == "ok"
