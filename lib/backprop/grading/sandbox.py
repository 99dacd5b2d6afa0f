"""The grading kernel's sandbox: bubblewrap (``bwrap``) around each submission's kernel.

What the kernel of one submission sees and may do:

- **files**: a read-only view of the interpreter (its prefix and ``/usr``), of the
  packages the homework may use and the kernel needs (their installed files only, see
  :func:`package_entries`), and of a copy of ``backprop`` that holds only the modules
  the homework may use (:func:`build_package`); a private, size-limited ``/tmp`` as its
  working directory; and one folder shared with the grader (the kernel's connection
  file, its ``ipc`` sockets and the per-case result files). Nothing else: not the
  repository, ``solutions/``, the grader's modules, other submissions, or any home
  folder.
- **no network**: its own network namespace, which holds only a loopback device; the
  grader talks to it over jupyter_client's ``ipc`` transport (Unix sockets in the
  shared folder).
- **its own processes only**: its own PID namespace (it sees no other process and
  none outlives it), a limit on processes, and every process other than the kernel is
  killed after each request (:func:`strays`).
- **limits**: address space, processes, CPU seconds, file size, ``/tmp`` size;
  the grader adds a time limit per request.
- **no privileges**: run by root, the kernel drops to an unprivileged user id of its
  own (one per session, so two kernels never share a process count); run by anyone
  else, it runs in a user namespace as that user.

The filtered package has the top-level ``backprop/__init__.py`` (its names are looked
up on first use, so ``bp.ScalarNetwork`` raises ``ModuleNotFoundError`` for a module
that is not there), the allowed modules as they are, ``backprop.core.examples`` as its
data alone when it is allowed (its builders need the network classes), and in place
of ``backprop.grading`` a stand-in whose ``check`` does nothing: the grader runs the
tests itself, outside.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "INSTALL_HINT",
    "Limits",
    "SandboxSpec",
    "SandboxUnavailable",
    "build_package",
    "find_bwrap",
    "check_bwrap",
    "kernel_command",
    "package_entries",
    "make_spec",
    "strays",
    "kill_strays",
    "KERNEL_PACKAGES",
    "PACKAGE_MOUNT",
    "PYTHON_MOUNT",
    "VENV_MOUNT",
    "inside",
    "session_uid",
]

INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or pass --no-sandbox"

#: what the kernel itself needs, whatever the homework
KERNEL_PACKAGES = ("ipykernel",)

#: where the filtered copy of ``backprop`` appears inside the sandbox (it is the kernel's PYTHONPATH)
PACKAGE_MOUNT = "/opt/backprop-course"

_ROOT = Path(__file__).resolve().parents[1]  # lib/backprop


class SandboxUnavailable(RuntimeError):
    """``bwrap`` is missing or cannot make a sandbox on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of a sandboxed kernel (each a ``setrlimit`` value, and the size of its /tmp)."""

    memory: int = 4 << 30  # bytes of address space per process
    processes: int = 64  # tasks (processes and threads) of the kernel's user
    cpu_seconds: int = 900  # CPU time of one kernel (the grader also limits each request's wall time)
    file_size: int = 64 << 20  # bytes per file written
    tmp_size: int = 256 << 20  # bytes of the private /tmp


@dataclass(frozen=True)
class SandboxSpec:
    """Everything needed to start sandboxed kernels for one homework (plain data: it crosses to worker processes).

    ``bwrap``: its path (None: no sandbox, only the filtered package); ``package_root``: a
    host folder holding the filtered ``backprop``; ``mounts``: bwrap's arguments for the
    interpreter and the allowed packages; ``python``: the interpreter to run (this one).
    """

    bwrap: str | None
    package_root: str
    mounts: tuple[str, ...]
    python: str
    limits: Limits = Limits()


# -- is bwrap there, and does it work here --------------------------------------------------------
def find_bwrap() -> str | None:
    """The path of ``bwrap``, or None."""
    return shutil.which("bwrap")


def _namespace_args() -> list[str]:
    # run by root: no user namespace (the kernel drops to an unprivileged uid itself, so the process
    # limit counts); run by a user: a user namespace, which is what lets bwrap work unprivileged
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all"]


def check_bwrap(bwrap: str | None = None) -> str:
    """The path of a working ``bwrap``; ``SandboxUnavailable`` saying why (and how to install it) if there is none."""
    bwrap = bwrap or find_bwrap()
    if not bwrap:
        raise SandboxUnavailable(f"the grader runs each submission in a bubblewrap sandbox, and `bwrap` is not "
                                 f"installed: {INSTALL_HINT}")
    cmd = [bwrap, *_namespace_args(), "--die-with-parent", *_system_mounts(), "--proc", "/proc", "--dev", "/dev",
           "--", shutil.which("true") or "/usr/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"`{bwrap}` could not start a sandbox ({exc}); {INSTALL_HINT}") from None
    if proc.returncode != 0:
        raise SandboxUnavailable(f"`{bwrap}` could not start a sandbox: {proc.stderr.strip()[:300]} (user namespaces "
                                 f"may be disabled on this machine); fix that, or pass --no-sandbox")
    return bwrap


# -- what the kernel may see --------------------------------------------------------------------
def _system_mounts() -> list[str]:
    """/usr read-only, and /bin, /lib, /lib64 as the host has them (symlinks into /usr, or folders)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _dirs_to(path: str) -> list[str]:
    """bwrap arguments creating every parent of ``path`` readable by all (bwrap would make them 0700)."""
    args = []
    parts = Path(path).parts
    for n in range(2, len(parts)):
        args += ["--perms", "0755", "--dir", str(Path(*parts[:n]))]
    return args


def _site_dirs() -> list[str]:
    """The folders this interpreter imports installed packages from."""
    out = []
    for p in sys.path:
        if p and os.path.isdir(p) and os.path.basename(p) in ("site-packages", "dist-packages") and p not in out:
            out.append(os.path.realpath(p))
    for key in ("purelib", "platlib"):
        p = os.path.realpath(sysconfig.get_paths()[key])
        if os.path.isdir(p) and p not in out:
            out.append(p)
    return out


def package_entries(roots: Iterable[str]) -> dict[str, list[str]]:
    """The installed files of the distributions ``roots`` and everything they require: {site folder: [entries]}.

    An entry is a top-level folder of a site folder (a package, its ``.dist-info``, a
    ``.libs`` folder) or a single file (a one-file module and its cached bytecode).
    Requirements behind a marker that does not hold here, and extras, are left out.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    stack = list(roots)
    out: dict[str, set[str]] = {}
    while stack:
        name = canonicalize_name(stack.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # an optional requirement that is not installed
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
        site = os.path.realpath(str(dist.locate_file("")))
        entries = out.setdefault(site, set())
        for f in dist.files or []:
            parts = f.parts
            if not parts or parts[0] == "..":
                continue
            if parts[0] == "__pycache__" or len(parts) == 1:
                entries.add(str(Path(*parts)))  # a one-file module, or its bytecode: the file alone
            else:
                entries.add(parts[0])
    return {site: sorted(e for e in entries if os.path.lexists(os.path.join(site, e))) for site, e in out.items()}


#: where the interpreter's prefix and the virtual environment appear inside the sandbox (never where the host
#: keeps them: that may be a home folder, or the repository)
PYTHON_MOUNT = "/opt/python"
VENV_MOUNT = "/opt/venv"


def _prefixes() -> tuple[str, str | None]:
    base = os.path.realpath(sys.base_prefix)
    venv = os.path.realpath(sys.prefix)
    return base, (venv if venv != base else None)


def inside(path: str) -> str:
    """Where a path of the interpreter or its environment appears in the sandbox."""
    base, venv = _prefixes()
    path = os.path.abspath(path)
    for host, mount in ((venv, VENV_MOUNT), (base, PYTHON_MOUNT)):
        if host and not host.startswith("/usr/") and (path == host or path.startswith(host + os.sep)):
            return mount + path[len(host):]
    return path


def _interpreter_mounts(packages: Sequence[str], workspace: Path) -> list[str]:
    """The interpreter, read-only, with each of its site folders showing only the given packages' files.

    A virtual environment's ``pyvenv.cfg`` and ``bin/python`` are rewritten to point at
    the interpreter's new place (files written into ``workspace``).
    """
    base, venv = _prefixes()
    args: list[str] = []
    if not base.startswith("/usr/"):
        args += _dirs_to(PYTHON_MOUNT) + ["--ro-bind", base, PYTHON_MOUNT]
    if venv:
        args += _dirs_to(VENV_MOUNT) + ["--ro-bind", venv, VENV_MOUNT, "--tmpfs", VENV_MOUNT + "/bin"]
        for exe in sorted(Path(venv, "bin").glob("python*")):
            if exe.is_symlink():
                args += ["--symlink", inside(os.path.realpath(exe)), f"{VENV_MOUNT}/bin/{exe.name}"]
        args += ["--remount-ro", VENV_MOUNT + "/bin"]
        cfg = Path(venv, "pyvenv.cfg")
        if cfg.is_file():
            kept = [line for line in cfg.read_text().splitlines()
                    if line.split("=")[0].strip() in ("include-system-site-packages", "version")]
            home = inside(os.path.dirname(os.path.realpath(sys.executable)))
            (workspace / "pyvenv.cfg").write_text("\n".join([f"home = {home}", *kept]) + "\n")
            os.chmod(workspace / "pyvenv.cfg", 0o644)
            args += ["--ro-bind", str(workspace / "pyvenv.cfg"), VENV_MOUNT + "/pyvenv.cfg"]
    entries = package_entries([*KERNEL_PACKAGES, *packages])
    for site in _site_dirs():
        # an empty folder over every site folder, then only the entries of the allowed distributions
        there = inside(site)
        args += ["--tmpfs", there]
        for entry in entries.get(site, []):
            if os.path.dirname(entry):
                args += ["--dir", os.path.join(there, os.path.dirname(entry))]
            args += ["--ro-bind", os.path.join(site, entry), os.path.join(there, entry)]
        args += ["--remount-ro", there]
    return args


# -- the filtered package --------------------------------------------------------------------------
_GRADING_STAND_IN = '''"""backprop.grading in the grading kernel: a stand-in.

The grader runs every test itself, outside this kernel, so a check cell has nothing
to do here; the self-check and the grader's reference modules are not in this kernel.
"""


def check(part_id, *functions, **options):
    """Does nothing in the grading kernel: the grader runs the tests of each part outside."""
    return None
'''


def _is_data(value, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_data(v, depth + 1) for k, v in value.items())
    return False


def _examples_data_only() -> str:
    """``backprop.core.examples`` reduced to its worked examples as data; each builder raises ModuleNotFoundError."""
    from ..core import examples

    lines = ['"""backprop.core.examples in the grading kernel: the worked examples as data.',
             "",
             "The builders of the full module make the library's networks, which a homework",
             'answer must not use; here each one says so."""', "", "__all__ = " + repr(list(examples.__all__)), ""]
    for name in examples.__all__:
        value = getattr(examples, name)
        if _is_data(value):
            lines.append(f"{name} = {value!r}")
        elif callable(value):
            module = f"{examples.__name__}.{name}"
            lines += ["", "", f"def {name}(*args, **kwargs):",
                      f"    raise ModuleNotFoundError({module + ' builds a network of the library, which is not in the grading kernel'!r}, "
                      f"name={module!r})"]
    return "\n".join(lines) + "\n"


def build_package(dest: Path, may_use: Sequence[str]) -> Path:
    """Write a copy of ``backprop`` with only the modules ``may_use`` (names under ``backprop``) into ``dest``.

    Returns ``dest`` (it holds ``backprop/``). Every package's ``__init__.py`` comes along;
    ``core.examples`` becomes its data alone when it imports a module that is left out;
    ``grading`` becomes a stand-in whose ``check`` does nothing.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in may_use:
        if not (_ROOT / (name.replace(".", "/") + ".py")).is_file():
            raise ValueError(f"argument 'may_use' expected modules of backprop such as 'core.activations', got {name!r}")
    pkg = dest / "backprop"
    if pkg.exists():
        shutil.rmtree(pkg)
    folders = {name.split(".")[0] for name in may_use if "." in name}
    for init in sorted(_ROOT.rglob("__init__.py")):
        rel = init.relative_to(_ROOT)
        if "__pycache__" in rel.parts or rel.parts[0] == "grading" or (len(rel.parts) > 1 and rel.parts[0] not in folders):
            continue
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(init, pkg / rel)
    for name in may_use:
        rel = Path(name.replace(".", "/") + ".py")
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        if name == "core.examples" and not _imports_only(_ROOT / rel, may_use):
            (pkg / rel).write_text(_examples_data_only(), encoding="utf-8")
        else:
            shutil.copyfile(_ROOT / rel, pkg / rel)
    (pkg / "grading").mkdir(parents=True, exist_ok=True)
    (pkg / "grading" / "__init__.py").write_text(_GRADING_STAND_IN, encoding="utf-8")
    for path in [dest, *dest.rglob("*")]:  # readable by the kernel's own user id
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return dest


def _imports_only(path: Path, modules: Sequence[str]) -> bool:
    """True when every ``from .x import`` of a core module names a module in ``modules``."""
    import ast

    folder = path.parent.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            if f"{folder}.{node.module}" not in modules:
                return False
    return True


def make_spec(dest: Path, may_use: Sequence[str], packages: Sequence[str], bwrap: str | None,
              limits: Limits | None = None) -> SandboxSpec:
    """The sandbox of one homework: its filtered package written under ``dest``, its mounts listed.

    ``bwrap`` None: no sandbox (``--no-sandbox``), the filtered package alone. ``dest`` gets the package
    (``dest/package/backprop``) and the files the sandbox binds.
    """
    dest = Path(dest)
    package = build_package(dest / "package", may_use)
    if not bwrap:
        return SandboxSpec(bwrap=None, package_root=str(package), mounts=(), python=sys.executable,
                           limits=limits or Limits())
    return SandboxSpec(bwrap=bwrap, package_root=str(package), mounts=tuple(_interpreter_mounts(packages, dest)),
                       python=inside(sys.executable), limits=limits or Limits())


# -- starting a kernel inside ---------------------------------------------------------------------
#: run inside the sandbox before the kernel: drop to the session's user id (when root), set the limits, exec
_LAUNCHER = (
    "import os, resource, sys\n"
    "uid, memory, nproc, cpu, fsize = (int(v) for v in sys.argv[1:6])\n"
    "if os.getuid() == 0:\n"
    "    os.setgroups([]); os.setgid(uid); os.setuid(uid)\n"
    "for what, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_CPU, cpu),\n"
    "                    (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):\n"
    "    resource.setrlimit(what, (value, value))\n"
    "os.execv(sys.argv[6], sys.argv[6:])\n"
)

_uids = itertools.count()


def session_uid() -> int:
    """A user id no other live grading kernel has: the process count limit is per user id."""
    return 1_000_000 + os.getpid() * 8 + next(_uids) % 8


def kernel_command(spec: SandboxSpec, shared: str, uid: int, kernel_argv: Sequence[str]) -> list[str]:
    """bwrap's command line running ``kernel_argv`` (the kernel, reading its connection file in ``shared``)."""
    lim = spec.limits
    env = {
        "HOME": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": PACKAGE_MOUNT,
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter",
        "JUPYTER_CONFIG_DIR": "/tmp/.jupyter", "JUPYTER_DATA_DIR": "/tmp/.jupyter", "OPENBLAS_NUM_THREADS": "1",
    }
    args = [spec.bwrap, *_namespace_args(), "--die-with-parent", "--new-session", "--hostname", "grader",
            *_system_mounts(), *spec.mounts,
            *_dirs_to(PACKAGE_MOUNT), "--ro-bind", spec.package_root, PACKAGE_MOUNT,
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(lim.tmp_size), "--tmpfs", "/tmp",
            *_dirs_to(shared), "--bind", shared, shared, "--ro-bind", os.path.join(shared, "cases"),
            os.path.join(shared, "cases"),
            "--chdir", "/tmp", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--", spec.python, "-S", "-c", _LAUNCHER, str(uid), str(lim.memory), str(lim.processes),
             str(lim.cpu_seconds), str(lim.file_size), *kernel_argv]
    return args


# -- processes that should not be there ------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    """False for a process that has ended (a zombie waiting for its parent) or is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def strays(outer: int, kernel: int | None) -> list[int]:
    """Every live process of a sandbox other than its init and the kernel: what the student's code left running.

    ``outer``: bwrap's process (the one the grader started); its child is the
    sandbox's init, whose child is the kernel.
    """
    inits = _children(outer)
    return [p for init in inits for p in _descendants(init) if p != kernel and _alive(p)]


def kernel_pid(outer: int) -> int | None:
    """The kernel's process: the first child of the sandbox's init (read before any student code runs)."""
    inits = _children(outer)
    kids = sorted(_children(inits[0])) if inits else []
    return kids[0] if kids else None


def kill_strays(outer: int, kernel: int | None) -> int:
    """Kill every stray process of the sandbox (see :func:`strays`); the number killed."""
    killed: set[int] = set()
    for _ in range(10):  # a stray may fork while it is being killed
        found = strays(outer, kernel)
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
    return len(killed)
