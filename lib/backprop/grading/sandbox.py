"""The grading kernel's sandbox: bubblewrap (``bwrap``) around each submission's kernel.

What the kernel of one submission sees and may do:

- **files**: a read-only view of the interpreter (its executable, ``libpython`` and
  standard library, and ``/usr``; every site folder of the base interpreter and the
  system is mounted empty, :func:`_other_site_dirs`), of the packages the homework may
  use and the kernel needs (their installed files only, see :func:`package_entries`),
  and of a copy of ``backprop`` that holds only the modules the homework may use
  (:func:`build_package`); a private, size-limited ``/tmp`` as its working directory,
  the only place it can write; and one folder shared with the grader, read-only (the
  kernel's connection file, the grader's programs), holding the folder of its ``ipc``
  sockets, which the grader lets the kernel write only while it starts. Nothing else:
  not the repository, ``solutions/``, the grader's modules, other submissions, or any
  home folder.
- **no network**: its own network namespace, which holds only a loopback device; the
  grader talks to it over jupyter_client's ``ipc`` transport (Unix sockets in the
  shared folder).
- **its own processes only**: its own PID namespace (it sees no other process and
  none outlives it), a limit on processes, and every process other than the kernel is
  killed after each request (:func:`strays`).
- **limits**: per process, address space, processes, CPU seconds, file size; ``/tmp``
  size; over all the submission's processes, memory, a CPU quota and tasks, in a cgroup
  of its own where the host allows one (:class:`Cgroup`); the grader adds a time limit
  per request and a deadline per submission.
- **no new user namespaces**: a seccomp filter (:func:`seccomp_filter`) refuses them.
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
import time
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
    "seccomp_filter",
    "Cgroup",
    "cgroups_available",
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
    tmp_size: int = 256 << 20  # bytes of the private /tmp, the only place the kernel can write to
    # over all of a submission's processes together (its cgroup, where the host allows one):
    total_memory: int = 2 << 30  # bytes of memory (its /tmp included: tmpfs is memory)
    cpus: float = 1.0  # processors' worth of CPU time at most
    tasks: int = 128  # processes and threads


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
    seccomp: str | None = None  # a file holding the seccomp filter (:func:`seccomp_filter`)


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
    if not base.startswith("/usr/"):  # the interpreter, its shared library and its standard library: nothing more
        for path in _base_files(base):
            args += _dirs_to(inside(path)) + ["--ro-bind", path, inside(path)]
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
    for site in _other_site_dirs():  # installed packages the homework may not use (the base's, the system's)
        args += ["--tmpfs", inside(site), "--remount-ro", inside(site)]
    return args


def _base_files(base: str) -> list[str]:
    """What the kernel needs of the base interpreter: its executable, ``libpython``, and its standard library."""
    exe = os.path.realpath(sys.executable)
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    files = [exe] if exe.startswith(base + os.sep) else []
    files += sorted(str(p) for p in Path(base, "lib").glob("libpython*") if p.is_file())
    return files + [stdlib]


def _other_site_dirs() -> list[str]:
    """Site folders the kernel must see empty: every one of the base interpreter and the system but those in use."""
    import glob
    import site

    base, _ = _prefixes()
    used = set(_site_dirs())
    found = site.getsitepackages([base]) + glob.glob("/usr/lib/python3*/*-packages") \
        + glob.glob("/usr/local/lib/python3*/*-packages")
    out = []
    for path in found:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in used and real not in out and os.path.basename(real) in (
                "site-packages", "dist-packages"):
            out.append(real)
    return out


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
    program = seccomp_filter()
    seccomp = None
    if program is not None:
        seccomp = str(dest / "seccomp.bpf")
        Path(seccomp).write_bytes(program)
    return SandboxSpec(bwrap=bwrap, package_root=str(package), mounts=tuple(_interpreter_mounts(packages, dest)),
                       python=inside(sys.executable), limits=limits or Limits(), seccomp=seccomp)


# -- no nested user namespaces: a seccomp filter ---------------------------------------------------
#: (audit arch, clone, unshare, clone3) per machine; bwrap's --disable-userns needs --unshare-user, which root does not use
_SYSCALLS = {"x86_64": (0xC000003E, 56, 272, 435), "aarch64": (0xC00000B7, 220, 97, 435)}
_CLONE_NEWUSER = 0x10000000


def seccomp_filter() -> bytes | None:
    """A classic BPF program for bwrap's ``--seccomp``: clone and unshare with CLONE_NEWUSER fail with EPERM,
    clone3 with ENOSYS (so the C library falls back to clone, whose flags the filter can read), and system
    calls of another ABI (x32, 32-bit) fail; everything else is allowed. None on a machine not listed."""
    import errno
    import platform
    import struct

    known = _SYSCALLS.get(platform.machine())
    if known is None:
        return None
    arch, clone, unshare, clone3 = known
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, deny, nosys = 0x7FFF0000, 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    program = [
        (ld, 0, 0, 4),            # 0: the ABI
        (jeq, 1, 0, arch),        # 1: ours: go on; another: refuse
        (ret, 0, 0, deny),        # 2
        (ld, 0, 0, 0),            # 3: the system call's number
        (jge, 7, 0, 0x40000000),  # 4: x32 numbers: refuse (-> 12)
        (jeq, 5, 0, clone3),      # 5: -> 11
        (jeq, 1, 0, clone),       # 6: -> 8
        (jeq, 0, 2, unshare),     # 7: -> 8, else -> 10
        (ld, 0, 0, 16),           # 8: its first argument, the flags (low 32 bits)
        (jset, 3, 0, _CLONE_NEWUSER),  # 9: a new user namespace: refuse (-> 13)
        (ret, 0, 0, allow),       # 10
        (ret, 0, 0, nosys),       # 11
        (ret, 0, 0, deny),        # 12
        (ret, 0, 0, deny),        # 13
    ]
    return b"".join(struct.pack("=HBBI", *ins) for ins in program)


# -- limits over all of a submission's processes: cgroups ------------------------------------------
class Cgroup:
    """One submission's control group: memory, CPU and processes limited over all its processes together.

    cgroup v1 (a hierarchy per controller, as here: ``/sys/fs/cgroup/memory`` ...) or v2 (one unified
    hierarchy whose ``cgroup.subtree_control`` enables memory, cpu and pids). Each is made as a child of
    the grader's own cgroup, so whatever limits the grader already has still hold. :meth:`make` returns
    None where the host does not allow it (no controller mounted, not writable, v2 controllers not
    delegated): then the limits are per process (``Limits``), as :func:`cgroups_available` says.
    """

    _made = itertools.count()

    def __init__(self, paths: dict[str, str], version: int):
        self.paths = paths  # controller -> folder (v2: one folder under every key)
        self.version = version

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its id into to join (one per hierarchy)."""
        return sorted({os.path.join(p, "cgroup.procs") for p in self.paths.values()})

    @classmethod
    def make(cls, limits: "Limits", root: str = "/sys/fs/cgroup", own: str = "/proc/self/cgroup") -> "Cgroup | None":
        name = f"backprop-grade-{os.getpid()}-{next(cls._made)}"
        try:
            with open(own) as f:
                lines = [line.rstrip("\n").split(":", 2) for line in f if line.count(":") >= 2]
        except OSError:
            return None
        v1 = {c: path for _, controllers, path in lines for c in controllers.split(",") if c}
        made: dict[str, str] = {}
        try:
            if all(os.path.isdir(os.path.join(root, c)) for c in ("memory", "cpu", "pids")) and \
                    all(c in v1 for c in ("memory", "cpu", "pids")):
                for c in ("memory", "cpu", "pids"):
                    made[c] = os.path.join(root, c, v1[c].lstrip("/"), name)
                    _sweep(os.path.dirname(made[c]))
                    os.mkdir(made[c])
                group = cls(made, 1)
            else:
                mine = next((path for number, controllers, path in lines if number == "0" and not controllers), None)
                if mine is None or not os.path.isfile(os.path.join(root, "cgroup.controllers")):
                    return None
                parent = os.path.join(root, mine.lstrip("/"))
                with open(os.path.join(parent, "cgroup.subtree_control")) as f:
                    if not {"memory", "cpu", "pids"} <= set(f.read().split()):
                        return None  # not delegated to us: a parent with processes cannot enable them
                folder = os.path.join(parent, name)
                _sweep(parent)
                os.mkdir(folder)
                made = {c: folder for c in ("memory", "cpu", "pids")}
                group = cls(made, 2)
            group._limit(limits)
            return group
        except OSError:
            for folder in set(made.values()):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
            return None

    def _write(self, controller: str, name: str, value, optional: bool = False) -> None:
        path = os.path.join(self.paths[controller], name)
        if optional and not os.path.exists(path):
            return
        with open(path, "w") as f:
            f.write(str(value))

    def _limit(self, limits: "Limits") -> None:
        period = 100_000
        if self.version == 1:
            self._write("memory", "memory.limit_in_bytes", limits.total_memory)
            self._write("memory", "memory.memsw.limit_in_bytes", limits.total_memory, optional=True)  # no swap
            self._write("cpu", "cpu.shares", 1024)
            self._write("cpu", "cpu.cfs_period_us", period)
            self._write("cpu", "cpu.cfs_quota_us", int(limits.cpus * period))
        else:
            self._write("memory", "memory.max", limits.total_memory)
            self._write("memory", "memory.swap.max", 0, optional=True)
            self._write("cpu", "cpu.weight", 100)
            self._write("cpu", "cpu.max", f"{int(limits.cpus * period)} {period}")
        self._write("pids", "pids.max", limits.tasks)

    def pids(self) -> list[int]:
        out: set[int] = set()
        for path in self.procs_files:
            try:
                with open(path) as f:
                    out |= {int(p) for p in f.read().split()}
            except OSError:
                continue
        return sorted(out)

    def remove(self) -> None:
        """Kill every process still in the group, then remove it."""
        for _ in range(50):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if not pids:
                break
            time.sleep(0.02)
        for folder in sorted(set(self.paths.values())):
            for _ in range(50):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _sweep(parent: str) -> None:
    """Remove the empty cgroups a grader that was killed left behind (its process id is gone)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if not name.startswith("backprop-grade-") or len(parts) != 4 or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
            continue  # its grader is alive
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.rmdir(os.path.join(parent, name))
        except OSError:
            pass


def cgroups_available(limits: "Limits | None" = None) -> bool:
    """True when this host lets the grader make a cgroup per submission (tried once, and removed)."""
    group = Cgroup.make(limits or Limits())
    if group is None:
        return False
    group.remove()
    return True


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


#: joins the submission's cgroups, opens the seccomp filter as file 3 and becomes bwrap (so bwrap and all it
#: starts are in the cgroups from their first instruction)
_JOIN = ('filter=$1; n=$2; shift 2\n'
         'while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; n=$((n - 1)); done\n'
         'exec "$@" 3< "$filter"\n')


def kernel_command(spec: SandboxSpec, shared: str, uid: int, kernel_argv: Sequence[str],
                   cgroup: Cgroup | None = None) -> list[str]:
    """The command line running ``kernel_argv`` in bwrap: the kernel reads its connection file and the grader's
    programs in ``shared`` (read-only) and makes its sockets in ``shared/ipc`` (writable only while it starts:
    see :class:`~.runner.KernelSession`); it joins ``cgroup`` first, when there is one."""
    lim = spec.limits
    env = {
        "HOME": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": PACKAGE_MOUNT,
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter",
        "JUPYTER_CONFIG_DIR": "/tmp/.jupyter", "JUPYTER_DATA_DIR": "/tmp/.jupyter", "OPENBLAS_NUM_THREADS": "1",
    }
    args = [spec.bwrap, *_namespace_args(), "--die-with-parent", "--new-session", "--hostname", "grader",
            *(["--seccomp", "3"] if spec.seccomp else []),
            *_system_mounts(), *spec.mounts,
            *_dirs_to(PACKAGE_MOUNT), "--ro-bind", spec.package_root, PACKAGE_MOUNT,
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(lim.tmp_size), "--tmpfs", "/tmp",
            *_dirs_to(shared), "--ro-bind", shared, shared, "--bind", os.path.join(shared, "ipc"),
            os.path.join(shared, "ipc"),
            "--chdir", "/tmp", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--", spec.python, "-S", "-c", _LAUNCHER, str(uid), str(lim.memory), str(lim.processes),
             str(lim.cpu_seconds), str(lim.file_size), *kernel_argv]
    procs = cgroup.procs_files if cgroup is not None else []
    if not spec.seccomp and not procs:
        return args
    return [shutil.which("sh") or "/bin/sh", "-c", _JOIN, "sh", spec.seccomp or os.devnull, str(len(procs)), *procs,
            *args]


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


def kill_strays(outer: int, kernel: int | None, *, wait: float = 5.0) -> int:
    """Kill every stray process of the sandbox (see :func:`strays`) and wait, at most ``wait`` seconds, until
    none is left alive; the number killed.

    A killed process ends only when it next runs, which a busy machine or the submission's exhausted CPU
    quota can delay: returning before then would let it outlive the request.  A stray may also fork while
    it is being killed.  So: kill what is alive, look again, until nothing is."""
    killed: set[int] = set()
    deadline = time.monotonic() + wait
    while True:
        found = strays(outer, kernel)
        if not found or time.monotonic() > deadline:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        time.sleep(0.005)
    return len(killed)
