"""The project's own promises: one set of version ranges, and CI running what the README says."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirements():
    reqs = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", line).groups()
            reqs[name.lower()] = spec.replace(" ", "")
    return reqs


def test_library_dependencies_use_the_same_ranges_as_requirements():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    reqs = _requirements()
    for dep in deps:
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()
        assert reqs.get(name.lower()) == spec.replace(" ", ""), f"{name}: pyproject {spec!r}, requirements {reqs.get(name.lower())!r}"


def test_every_requirement_is_pinned_to_a_range():
    for name, spec in _requirements().items():
        assert ">=" in spec and "<" in spec, f"{name} is not pinned to a compatible range: {spec!r}"


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
