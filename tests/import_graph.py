"""The library's import graph, read from the files themselves (nothing is imported).

* :func:`library_imports` -- which library modules each library module imports;
* :func:`third_party_imports` -- which outside packages each imports;
* :func:`closure` -- modules and everything they import, transitively;
* :func:`module_under_test` -- the library module a test file mirrors.

``test_architecture.py`` checks the library's layout against them.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "backprop"
TESTS = ROOT / "tests"


def module_name(path: Path) -> str:
    """``lib/backprop/core/layers.py`` -> ``"core.layers"``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


@lru_cache(maxsize=None)
def library_modules() -> dict[str, Path]:
    """Every module of the library: ``{"core.layers": path, ...}``."""
    return {module_name(p): p for p in sorted(LIB.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """The library modules an ``from ... import ...`` statement in ``module`` names."""
    modules = library_modules()
    if node.level:
        is_package = modules.get(module, Path()).name == "__init__.py"
        base = module.split(".") if module != "__init__" else []
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module and (node.module == "backprop" or node.module.startswith("backprop.")):
        target = node.module[len("backprop."):] if node.module != "backprop" else "__init__"
    else:
        return []
    found = []
    for alias in node.names:  # "from . import hw01" imports a module; "from .x import name" the module x
        candidate = f"{target}.{alias.name}" if target not in ("", "__init__") else alias.name
        found.append(candidate if candidate in modules else target or "__init__")
    return [m for m in found if m in modules]


@lru_cache(maxsize=None)
def _imports() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """``{module: (the library modules it imports, the outside packages it imports)}``.

    From every import statement of the file, at the top or inside a function.
    """
    out = {}
    for module, path in library_modules().items():
        inside, outside = set(), set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                inside.update(_resolve(module, node))
                if not node.level and node.module:
                    outside.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                inside.update(a.name[len("backprop."):] for a in node.names if a.name.startswith("backprop."))
                outside.update(a.name.split(".")[0] for a in node.names)
        out[module] = (frozenset(inside - {module}), frozenset(outside - {"backprop", "__future__"}))
    return out


def library_imports() -> dict[str, frozenset[str]]:
    """``{module: the library modules it imports}``."""
    return {module: both[0] for module, both in _imports().items()}


def third_party_imports() -> dict[str, frozenset[str]]:
    """``{module: the top-level names of the packages outside the library it imports}``."""
    return {module: both[1] for module, both in _imports().items()}


def closure(modules, imports=None) -> set[str]:
    """``modules`` and everything they import, transitively."""
    imports = library_imports() if imports is None else imports
    seen, stack = set(), list(modules)
    while stack:
        m = stack.pop()
        if m not in seen:
            seen.add(m)
            stack.extend(imports.get(m, ()))
    return seen


def module_under_test(test_path) -> str | None:
    """The library module a test file mirrors: ``tests/core/test_layers.py`` -> ``"core.layers"``.

    A file in a folder that mirrors a package but names no module of it
    (``tests/grading/test_homework.py``) tests the package as a whole; files at
    the top of ``tests/`` name a top-level module (``test_bench.py`` -> ``"bench"``)
    or nothing.
    """
    path = Path(test_path)
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return None
    stem = path.stem[len("test_"):]
    folder = path.parent.relative_to(TESTS).parts if TESTS in path.parents else ()
    prefix = ".".join(folder)
    candidate = f"{prefix}.{stem}" if prefix else stem
    if candidate in library_modules():
        return candidate
    if prefix and prefix in library_modules():
        return prefix
    return None
