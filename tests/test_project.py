"""The project's own promises: one list of requirements, CI running what the README says, a Binder launch."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: the optional groups, none of which a Binder launch installs
GROUPS = PYPROJECT["project"]["optional-dependencies"]


def _names(specs):
    return {canonicalize_name(Requirement(spec).name) for spec in specs}


def test_pyproject_is_the_one_list_of_requirements_each_pinned_to_a_range():
    assert not (ROOT / "requirements.txt").exists(), "a second list (repo2docker would install it on Binder too)"
    for spec in PYPROJECT["project"]["dependencies"] + [s for group in GROUPS.values() for s in group]:
        req = Requirement(spec)
        assert {s.operator for s in req.specifier} == {">=", "<"}, f"{spec} is not pinned to a compatible range"


def test_make_install_installs_every_optional_group():
    makefile = (ROOT / "Makefile").read_text()
    line = next(l for l in makefile.splitlines() if "pip install" in l)
    installed = re.search(r'-e "\.\[([\w,]+)\]"', line)
    assert installed and set(installed.group(1).split(",")) == set(GROUPS), line


def _closure(names):
    """The installed distributions ``names`` need, theirs included (no extras)."""
    seen, stack = set(), [canonicalize_name(n) for n in names]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(canonicalize_name(req.name))
    return seen


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_what_a_student_runs_needs_only_the_dependencies_a_binder_launch_installs():
    """Binder installs the library's ``dependencies`` alone: every package the course's modules import (all but the
    instructor's grader) comes with them, and none of the test, book or grading groups does."""
    student = [p for folder in ("core", "experiments", "symbolic", "views") for p in (ROOT / "lib/backprop" / folder).glob("*.py")]
    student += [ROOT / "lib/backprop/__init__.py", ROOT / "lib/backprop/grading/__init__.py"]
    student += [ROOT / "lib/backprop/grading" / f"{m}.py" for m in ("harness", "parts", "registry")]
    student += [ROOT / "lib/backprop/grading" / f"hw0{i}.py" for i in range(1, 7)]
    modules = {m for p in student for m in _imports(p)} - set(sys.stdlib_module_names) - {"backprop"}
    distributions = packages_distributions()
    needed = {canonicalize_name(distributions[m][0]) for m in modules}
    launch = _closure(Requirement(s).name for s in PYPROJECT["project"]["dependencies"])
    assert needed <= launch, f"imported by the course but not installed on Binder: {sorted(needed - launch)}"
    assert {"ipywidgets", "jupyterlab", "ipykernel"} <= launch  # the course's JupyterLab and its widgets
    optional = set().union(*(_names(g) for g in GROUPS.values())) - _names(PYPROJECT["project"]["dependencies"])
    assert not (optional - {"nbformat", "jupyter-client", "nbclient"}) & launch, \
        f"a test, book or grading package on Binder: {sorted(optional & launch)}"
    assert {"pytest", "playwright", "nbval", "hypothesis", "nbgrader", "jupyter-book"}.isdisjoint(launch)


def test_the_binder_files_say_what_repo2docker_needs():
    """repo2docker (what Binder builds with): runtime.txt picks Python, and a pyproject with [project] and
    [build-system] makes it run `pip install .`, unless a binder/ folder exists."""
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"
    assert "project" in PYPROJECT and "build-system" in PYPROJECT
    from packaging.specifiers import SpecifierSet
    assert "3.11" in SpecifierSet(PYPROJECT["project"]["requires-python"])  # else repo2docker refuses runtime.txt
    for folder in ("binder", ".binder"):
        assert not (ROOT / folder).exists(), f"{folder}/ would stop repo2docker from installing the library"
    readme = (ROOT / "README.md").read_text()
    quick = readme[readme.index("## Quick start"):readme.index("## ", readme.index("## Quick start") + 3)]
    link = re.search(r"\(https://mybinder\.org/v2/gh/[^)\s]+\)", quick)
    assert link and link.group(0).endswith("/HEAD?urlpath=lab/tree/notebooks)"), "the launch link, by make lab"
    assert "make lab" in quick and "make test" in quick


def test_ci_runs_make_test_and_nothing_else():
    commands = [l for l in (ROOT / ".ci/run").read_text().splitlines()
                if l.strip() and not l.lstrip().startswith("#") and not l.startswith(("set ", "cd "))]
    # besides make test, only what puts the system packages in place that some tests must not skip without:
    # the browser tests' Chromium and the grader's bubblewrap
    assert commands == ["export BACKPROP_REQUIRE_BROWSER=1", "command -v chromium >/dev/null || .ci/install-chromium",
                        "export BACKPROP_REQUIRE_SANDBOX=1", "command -v bwrap >/dev/null || .ci/install-bubblewrap",
                        "make test"]
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_the_readme_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "gradient check:" in capsys.readouterr().out
