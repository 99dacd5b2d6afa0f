"""Tests backprop.grading.sandbox: what a grading kernel can see and do in bubblewrap, and the filtered package.

The sandboxed kernel's tests need bwrap (Debian's bubblewrap). Without it they are
skipped and say so, unless BACKPROP_REQUIRE_SANDBOX=1 (CI: ``.ci/run`` sets it and
installs bubblewrap), where its absence fails.
"""

from __future__ import annotations

import ast
import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest

from backprop.grading import hw01, hw02
from backprop.grading import sandbox as sb
from backprop.grading.runner import KernelSession

ROOT = Path(__file__).resolve().parents[2]
BWRAP = shutil.which("bwrap")
REQUIRED = os.environ.get("BACKPROP_REQUIRE_SANDBOX") == "1"
needs_bwrap = pytest.mark.skipif(not BWRAP and not REQUIRED,
                                 reason="bubblewrap (bwrap) is not installed: .ci/install-bubblewrap, or apt-get install bubblewrap")


def test_the_sandbox_is_there_when_ci_requires_it():
    if not REQUIRED:
        pytest.skip("BACKPROP_REQUIRE_SANDBOX is not set (CI sets it)")
    assert sb.check_bwrap() == BWRAP


def test_a_missing_bwrap_is_refused_with_how_to_install_it(tmp_path):
    with pytest.raises(sb.SandboxUnavailable, match="apt-get install bubblewrap"):
        sb.check_bwrap(None if not BWRAP else str(tmp_path / "no-bwrap-here"))


# -- the filtered package ---------------------------------------------------------------------------------
def _modules(root: Path) -> set[str]:
    pkg = root / "backprop"
    return {".".join(p.relative_to(pkg).with_suffix("").parts) for p in pkg.rglob("*.py")}


def test_the_filtered_package_holds_only_the_modules_the_homework_may_use(tmp_path):
    sb.build_package(tmp_path, hw02.MAY_USE)
    modules = _modules(tmp_path)
    assert set(hw02.MAY_USE) <= modules
    assert not (tmp_path / "backprop" / "symbolic").exists() and not (tmp_path / "backprop" / "views").exists()
    for absent in ("core.scalar_net", "core.network", "core.layers", "core.graph", "core.gradcheck", "core.training",
                   "symbolic.influence", "symbolic.network", "grading.hw02", "grading.parts", "grading.registry",
                   "views.network"):
        assert absent not in modules
    assert {m for m in modules if m not in hw02.MAY_USE} == {"__init__", "core.__init__", "grading.__init__"}
    for path in tmp_path.rglob("*"):
        assert path.stat().st_mode & 0o004, f"{path} is not readable by the kernel's user"


def test_the_worked_examples_come_as_data_and_their_builders_say_why_not(tmp_path):
    import backprop.core.examples as real

    sb.build_package(tmp_path, hw01.MAY_USE)
    source = (tmp_path / "backprop" / "core" / "examples.py").read_text()
    assert "import" not in source  # nothing of the library
    namespace: dict = {}
    exec(compile(source, "examples.py", "exec"), namespace)
    assert namespace["TWO_RELU"] == real.TWO_RELU and namespace["HOMEWORK_01"] == real.HOMEWORK_01
    with pytest.raises(ModuleNotFoundError, match="two_relu_network builds a network of the library") as info:
        namespace["two_relu_network"]()
    assert info.value.name == "backprop.core.examples.two_relu_network"


def test_the_grading_package_is_a_stand_in_whose_check_does_nothing(tmp_path):
    sb.build_package(tmp_path, hw02.MAY_USE)
    source = (tmp_path / "backprop" / "grading" / "__init__.py").read_text()
    namespace: dict = {}
    exec(compile(source, "grading", "exec"), namespace)
    assert namespace["check"]("02_forward", print) is None
    assert not [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_a_module_name_that_is_not_the_librarys_is_refused(tmp_path):
    with pytest.raises(ValueError, match="argument 'may_use' expected modules of backprop.*'core.nothing'"):
        sb.build_package(tmp_path, ["core.nothing"])


def test_the_packages_in_view_are_the_homeworks_and_the_kernels_with_their_requirements():
    entries = {e.split("/")[0] for site in sb.package_entries(["ipykernel", *hw02.PACKAGES]).values() for e in site}
    assert {"numpy", "ipykernel", "zmq", "IPython", "traitlets"} <= entries
    assert not {"sympy", "matplotlib", "nbgrader", "jupyterlab", "backprop", "playwright"} & entries
    with_sympy = {e.split("/")[0] for site in sb.package_entries(["ipykernel", *hw01.PACKAGES]).values() for e in site}
    assert {"sympy", "mpmath", "matplotlib"} <= with_sympy


def test_each_session_has_a_user_id_of_its_own():
    ids = {sb.session_uid() for _ in range(8)}
    assert len(ids) == 8 and min(ids) >= 1_000_000


def test_the_command_shares_nothing_but_the_folder_it_names(tmp_path):
    spec = sb.SandboxSpec(bwrap="/usr/bin/bwrap", package_root=str(tmp_path), mounts=(), python="/py")
    cmd = sb.kernel_command(spec, "/tmp/shared-x", 1_000_123, ["/py", "-m", "ipykernel_launcher"])
    assert cmd[0] == "/usr/bin/bwrap" and "--die-with-parent" in cmd and "--clearenv" in cmd
    assert ("--unshare-net" in cmd and "--unshare-pid" in cmd) or "--unshare-all" in cmd
    binds = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--bind"]
    assert binds == ["/tmp/shared-x/ipc"]  # the only writable view of the host (and only while the kernel starts)
    assert cmd[cmd.index("/tmp/shared-x") - 1] == "--ro-bind"
    assert cmd[-3:] == ["/py", "-m", "ipykernel_launcher"]


def test_a_submission_joins_its_cgroups_and_gets_the_seccomp_filter_before_bwrap_starts(tmp_path):
    (tmp_path / "filter").write_bytes(b"")
    spec = sb.SandboxSpec(bwrap="/usr/bin/bwrap", package_root=str(tmp_path), mounts=(), python="/py",
                          seccomp=str(tmp_path / "filter"))
    group = sb.Cgroup({"memory": "/cg/memory/x", "cpu": "/cg/cpu/x", "pids": "/cg/pids/x"}, 1)
    cmd = sb.kernel_command(spec, "/tmp/shared-x", 1_000_123, ["/py"], group)
    assert cmd[cmd.index("-c") + 1] == sb._JOIN
    start = cmd.index("/usr/bin/bwrap")
    assert cmd[start - 3:start] == ["/cg/cpu/x/cgroup.procs", "/cg/memory/x/cgroup.procs", "/cg/pids/x/cgroup.procs"]
    assert cmd[start - 5:start - 3] == [str(tmp_path / "filter"), "3"]
    assert cmd[cmd.index("--seccomp") + 1] == "3"


@pytest.mark.parametrize("version", [1, 2])
def test_a_cgroup_is_made_under_the_graders_own_with_the_limits_and_removed(tmp_path, version):
    root = tmp_path / "cgroup"
    own = tmp_path / "self-cgroup"
    if version == 1:
        own.write_text("4:memory:/grader\n2:cpu,cpuacct:/\n8:pids:/grader\n")
        for c, at in (("memory", "grader"), ("cpu", ""), ("pids", "grader")):
            (root / c / at).mkdir(parents=True, exist_ok=True)
    else:
        own.write_text("0::/grader\n")
        (root / "grader").mkdir(parents=True)
        (root / "cgroup.controllers").write_text("cpu memory pids")
        (root / "grader" / "cgroup.subtree_control").write_text("cpu memory pids")
    limits = sb.Limits(total_memory=1 << 30, cpus=1.0, tasks=100)
    real_mkdir = os.mkdir

    def mkdir(path, *a):  # a real cgroup folder comes with its files
        real_mkdir(path, *a)
        for name in ("cgroup.procs", "memory.limit_in_bytes", "memory.max", "cpu.max", "cpu.weight", "cpu.shares",
                     "cpu.cfs_period_us", "cpu.cfs_quota_us", "pids.max"):
            Path(path, name).write_text("")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sb.os, "mkdir", mkdir)
        group = sb.Cgroup.make(limits, root=str(root), own=str(own))
    assert group is not None and group.version == version
    values = {f"{c}/{p.name}": p.read_text() for c, folder in group.paths.items() for p in Path(folder).iterdir()}
    if version == 1:
        assert str(root / "memory" / "grader") in group.paths["memory"] and str(root / "cpu") in group.paths["cpu"]
        assert values["memory/memory.limit_in_bytes"] == str(1 << 30) and values["cpu/cpu.cfs_quota_us"] == "100000"
    else:
        assert values["memory/memory.max"] == str(1 << 30) and values["cpu/cpu.max"] == "100000 100000"
    assert values["pids/pids.max"] == "100"
    for folder in set(group.paths.values()):  # emptied by the kernel when its processes are gone
        for f in Path(folder).iterdir():
            f.unlink()
    group.remove()
    assert not any(Path(folder).exists() for folder in group.paths.values())


def test_the_empty_cgroups_of_a_grader_that_was_killed_are_removed(tmp_path):
    gone, alive = tmp_path / "backprop-grade-999999999-0", tmp_path / f"backprop-grade-{os.getpid()}-3"
    for folder in (gone, alive, tmp_path / "someone-elses"):
        folder.mkdir()
    sb._sweep(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "someone-elses"]


def test_without_cgroups_the_grader_says_so_and_makes_none(tmp_path):
    (tmp_path / "self-cgroup").write_text("0::/\n")
    assert sb.Cgroup.make(sb.Limits(), root=str(tmp_path), own=str(tmp_path / "self-cgroup")) is None


def test_the_seccomp_filter_refuses_new_user_namespaces_only():
    import platform
    import struct

    program = sb.seccomp_filter()
    if program is None:
        pytest.skip(f"no filter for {platform.machine()}")
    ins = [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    arch, clone, unshare, clone3 = sb._SYSCALLS[platform.machine()]

    def run(nr, flags=0, abi=arch):  # a classic BPF interpreter, enough for this program
        data = struct.pack("=iIQ6Q", nr, abi, 0, flags, 0, 0, 0, 0, 0)
        acc, pc = 0, 0
        while True:
            code, jt, jf, k = ins[pc]
            if code == 0x20:
                acc = struct.unpack_from("=I", data, k)[0]
                pc += 1
            elif code == 0x06:
                return k
            else:
                hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
                pc += 1 + (jt if hit else jf)

    allow, eperm, enosys = 0x7FFF0000, 0x50000 | 1, 0x50000 | 38
    assert run(clone, 0x11) == allow and run(unshare, 0x20000) == allow and run(0) == allow and run(1) == allow
    assert run(clone, 0x10000000 | 0x11) == eperm and run(unshare, 0x10000000) == eperm
    assert run(clone3) == enosys and run(0x40000000 + 1) == eperm and run(1, abi=0x40000003) == eperm


# -- a kernel in the sandbox -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    if not BWRAP and not REQUIRED:
        pytest.skip("bubblewrap (bwrap) is not installed: .ci/install-bubblewrap, or apt-get install bubblewrap")
    spec = sb.make_spec(tmp_path_factory.mktemp("pkg"), hw02.MAY_USE, hw02.PACKAGES, sb.check_bwrap(),
                        sb.Limits(memory=2 << 30, processes=64))
    with KernelSession(timeout=20.0, spec=spec) as session:
        yield session


def _ok(session, code: str):
    run = session.execute(code)
    assert run.status == "ok", (code, run.error)
    return run


@needs_bwrap
def test_the_kernel_sees_no_repository_solutions_or_home(kernel):
    _ok(kernel, f"""
import os, sys
for path in [{str(ROOT)!r}, {str(ROOT / 'solutions')!r}, {str(ROOT / 'lib' / 'backprop' / 'grading')!r},
             {str(ROOT / '.venv')!r}, '/home', '/etc', {str(Path.home() / '.bash_history')!r}]:
    assert not os.path.exists(path), path
assert not os.path.exists({str(Path.home())!r}) or {str(Path.home())!r} in ('/', '/tmp')
assert sys.prefix.startswith('/opt/') or sys.prefix.startswith('/usr'), sys.prefix
import backprop
assert backprop.__file__.startswith('{sb.PACKAGE_MOUNT}'), backprop.__file__
assert os.getcwd() == '/tmp'
""")


@needs_bwrap
def test_the_kernel_runs_unprivileged(kernel):
    _ok(kernel, "import os\nassert os.getuid() != 0 and os.geteuid() != 0\n"
                "assert open('/proc/self/status').read().split('CapEff:')[1].split()[0] == '0000000000000000'")


@needs_bwrap
def test_the_kernel_has_no_network(kernel):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # the host's kernel completes a connection into this backlog: no accept() is needed
    port = server.getsockname()[1]
    try:
        _ok(kernel, f"""
import socket
for address in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:
    try:
        socket.create_connection(address, timeout=2)
        raise AssertionError(f'connected to {{address}}')
    except OSError:
        pass
""")
    finally:
        server.close()


@needs_bwrap
def test_the_kernel_imports_only_what_the_homework_may_use(kernel):
    _ok(kernel, """
import importlib
import backprop as bp
assert bp.get_activation('relu').name == 'relu' and bp.examples.TWO_RELU['x'] == [1.0]
from backprop.grading import check
assert check('02_forward') is None
for module in ['backprop.core.scalar_net', 'backprop.core.network', 'backprop.grading.hw02', 'backprop.grading.parts',
               'backprop.symbolic.influence', 'backprop.views.network', 'sympy', 'nbgrader', 'jupyterlab']:
    try:
        importlib.import_module(module)
        raise AssertionError(module + ' was importable')
    except ModuleNotFoundError as exc:
        assert module == exc.name or module.startswith(exc.name + '.'), exc.name
try:
    bp.ScalarNetwork
    raise AssertionError('bp.ScalarNetwork was there')
except ModuleNotFoundError as exc:
    assert exc.name == 'backprop.core.scalar_net'
""")


@needs_bwrap
def test_the_kernel_sees_only_its_own_processes_and_a_private_tmp(kernel, tmp_path):
    name = f"/tmp/backprop-sandbox-test-{uuid.uuid4().hex}"
    _ok(kernel, f"""
import os
assert len([p for p in os.listdir('/proc') if p.isdigit()]) <= 3
open({name!r}, 'w').write('x')
assert not os.path.exists({str(tmp_path)!r})
""")
    assert not Path(name).exists()


@needs_bwrap
def test_the_kernel_sees_only_the_standard_library_of_the_base_interpreter(kernel):
    hidden = sb._other_site_dirs()
    assert hidden  # this machine has some: the base interpreter's site-packages, the system's dist-packages
    _ok(kernel, f"""
import os, sys
for folder in {[sb.inside(p) for p in hidden]!r}:
    assert not os.path.isdir(folder) or os.listdir(folder) == [], (folder, os.listdir(folder)[:5])
    sys.path.append(folder)
for name in ('scipy', 'sympy', 'networkx', 'yaml', 'pip'):
    try:
        __import__(name)
        raise AssertionError(name + ' was importable')
    except ImportError:
        pass
import json, decimal, sqlite3  # the standard library is there
""")


@needs_bwrap
def test_nested_user_namespaces_are_refused(kernel):
    _ok(kernel, """
import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x10000000) == -1 and ctypes.get_errno() == 1  # CLONE_NEWUSER: EPERM
r = subprocess.run(['unshare', '--user', '--map-root-user', 'id'], capture_output=True)
assert r.returncode != 0, r
import threading
threading.Thread(target=print).start()  # threads and processes still start
assert subprocess.run(['true']).returncode == 0
""")


@needs_bwrap
def test_the_kernel_can_write_nothing_the_grader_reads(kernel):
    for folder in (kernel.shared, kernel.ipc, kernel.cases):
        for code in (f"open({folder!r} + '/x', 'w')", f"import os\nos.mkfifo({folder!r} + '/f')",
                     f"import os\nos.symlink('/etc/passwd', {folder!r} + '/l')"):
            run = kernel.execute(code)
            assert run.status == "error" and run.error[0] in ("PermissionError", "OSError"), (code, run.error)
    run = kernel.execute(f"import os\nos.rename({kernel.ipc!r}, '/tmp/x')")
    assert run.status == "error"


@needs_bwrap
def test_memory_processes_and_cpu_are_limited_over_the_whole_submission_and_cpu_time_per_kernel(tmp_path):
    # one kernel for both kinds of limit: the cgroup's (over all processes) and the kernel's own CPU time
    if not sb.cgroups_available():
        pytest.skip("this host does not let the grader make cgroups (the limits are per process there)")
    spec = sb.make_spec(tmp_path, hw02.MAY_USE, hw02.PACKAGES, sb.check_bwrap(),
                        sb.Limits(total_memory=512 << 20, tasks=48, cpu_seconds=3))
    with KernelSession(timeout=30.0, spec=spec) as session:
        assert session.cgroup is not None and len(session.cgroup.pids()) >= 2  # bwrap, its init, the kernel
        # three processes of 300 MB each: each under its own limit, together over the submission's
        run = session.execute("""
import subprocess, sys
hogs = [subprocess.Popen([sys.executable, '-c', 'import time; x = b\"1\" * (300 << 20); time.sleep(3)'])
        for _ in range(3)]
codes = [h.wait() for h in hogs]
assert any(c != 0 for c in codes), codes
""")
        assert run.status in ("ok", "died"), run.error
        run = session.execute("""
import os, time
n = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError:
    pass
assert n < 48, n
""")
        assert run.status == "ok", run.error
        quota = Path(session.cgroup.paths["cpu"], "cpu.cfs_quota_us" if session.cgroup.version == 1 else "cpu.max")
        assert quota.read_text().split()[0] == "100000"
        run = session.execute("while True:\n    pass")
        assert run.status == "died"  # SIGXCPU at 3 s of the kernel's CPU, long before the 30 s time limit
        assert session.execute("1 + 1").status == "ok"  # restarted


@needs_bwrap
def test_the_kernel_cannot_change_the_graders_programs(kernel):
    program = kernel.case_path("def run(namespace):\n    return '{}'\n")
    run = kernel.execute(f"open({program!r}, 'w').write('forged')")
    assert run.status == "error" and run.error[0] in ("PermissionError", "OSError")
    run = kernel.execute(f"import os\nos.rename({program!r}, {program!r} + '.x')")
    assert run.status == "error"


@needs_bwrap
def test_processes_are_limited_and_none_outlives_its_request(kernel):
    _ok(kernel, """
import os, time
kids = []
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
    raise AssertionError('500 processes were allowed')
except OSError:
    pass
""")
    # the forked children were killed after that cell; once their parent collects them, processes can start again
    _ok(kernel, "import os\nwhile True:\n    try:\n        os.waitpid(-1, 0)\n    except ChildProcessError:\n        break")
    run = kernel.execute("import subprocess\nchild = subprocess.Popen(['sleep', '60'])")
    assert run.status == "ok" and run.strays >= 1
    _ok(kernel, "import os\nassert child.poll() is not None or os.waitpid(child.pid, os.WNOHANG) != (0, 0)")
    assert kernel.execute("1").strays == 0


@needs_bwrap
def test_memory_is_limited(kernel):
    run = kernel.execute("import numpy as np\nx = np.ones(4 << 30 >> 3)")
    assert run.status == "error" and run.error[0] in ("MemoryError", "_ArrayMemoryError")
    _ok(kernel, "1 + 1")
