"""Run untrusted notebook code in its own kernel, with limits, inside a sandbox.

Each submission gets a fresh IPython kernel (this interpreter), with its own IPython
profile and a scratch folder shared with the grader (the connection file, the
``ipc`` sockets, the per-case result files). Given a :class:`~.sandbox.SandboxSpec`
with ``bwrap``, the kernel runs in bubblewrap (see :mod:`.sandbox`: no network, a
read-only view of the interpreter and the allowed packages, the filtered
``backprop``, a private /tmp, its own processes, limits); without ``bwrap`` (the
instructor's ``--no-sandbox``) it runs as a plain process, still with the filtered
``backprop`` first on its path and a memory limit, and nothing else keeps it from
the machine.

Code runs one request at a time under a time limit; a request over the limit is
interrupted, and a kernel that does not come back is restarted. After each request,
every process the code left running in the sandbox is killed. Output is counted,
not kept. A kernel that dies is restarted.

Nothing here judges results: ``execute`` returns what came back, as data.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

try:  # POSIX only: limits on the kernel process
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from . import sandbox as sb

__all__ = ["Execution", "KernelSession"]


@dataclass
class Execution:
    """What one request did: its status, how much it printed, its error, and the processes it left behind.

    Printed output is counted, never stored: grading does not read it, so a cell that
    prints megabytes costs no memory here.
    """

    status: str = "ok"  # ok | error | timeout | died
    output_chars: int = 0
    error: tuple[str, str] | None = None  # (name, message)
    strays: int = 0  # processes still running after the request, killed


def _limit_memory(max_bytes: int):
    if resource is None:  # pragma: no cover - Windows
        return None

    def apply():  # runs in the kernel's process before it starts
        try:
            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
        except (ValueError, OSError):
            pass

    return apply


class _Manager(KernelManager):
    """A kernel manager whose kernel command is given (this interpreter, in bwrap or not), never a kernelspec."""

    argv: list = []
    interrupt: str = "signal"

    @property
    def kernel_spec(self):
        return KernelSpec(argv=list(self.argv), display_name="grader", language="python", interrupt_mode=self.interrupt)


class KernelSession:
    """One kernel for one submission; use as a context manager.

    ``timeout``: seconds per request; ``memory_limit``: bytes of address space per
    kernel process (without a sandbox; the sandbox has its own ``Limits``);
    ``spec``: the sandbox and filtered package (None: this interpreter's own
    ``backprop``, no sandbox).
    """

    def __init__(self, timeout: float = 30.0, memory_limit: int = 4 << 30, spec: sb.SandboxSpec | None = None):
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.spec = spec
        self._dir = tempfile.TemporaryDirectory(prefix="backprop-grade-")
        self.shared = os.path.join(self._dir.name, "shared")
        self.cases = os.path.join(self.shared, "cases")  # the grader's programs: read-only for the kernel
        self.km = None
        self.kc = None
        self._kernel_pid = None
        self._results = 0

    @property
    def sandboxed(self) -> bool:
        return self.spec is not None and self.spec.bwrap is not None

    # -- lifetime -----------------------------------------------------------------------
    def __enter__(self) -> "KernelSession":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        os.makedirs(self.cases, exist_ok=True)
        os.chmod(self.cases, 0o755)
        posix = os.name == "posix"
        python = self.spec.python if self.sandboxed else sys.executable
        kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        # ipc: no TCP ports to race for between parallel graders; the only way into a sandbox without a network
        self.km = _Manager(transport="ipc" if posix else "tcp")
        if posix:
            self.km.connection_file = os.path.join(self.shared, "kernel.json")
            self.km.ip = os.path.join(self.shared, "kernel-ipc")
        launch = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if self.sandboxed:
            uid = sb.session_uid() if os.geteuid() == 0 else os.geteuid()
            self.km.write_connection_file()
            if os.geteuid() == 0:  # the kernel's own user owns what it must read and write
                for path in (self.shared, self.km.connection_file):
                    os.chown(path, uid, uid)
            self.km.argv = sb.kernel_command(self.spec, self.shared, uid, kernel)
            self.km.interrupt = "message"  # a signal to bwrap would not reach the kernel
            launch["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            env = dict(os.environ)
            work = os.path.join(self._dir.name, "work")
            os.makedirs(work, exist_ok=True)
            env["IPYTHONDIR"] = os.path.join(work, ".ipython")  # no instructor profile, no startup files
            env["MPLBACKEND"] = "Agg"
            env["PYTHONHASHSEED"] = "0"
            env.pop("PYTHONSTARTUP", None)
            if self.spec is not None:  # the filtered backprop comes first on the kernel's path
                env["PYTHONPATH"] = os.pathsep.join([self.spec.package_root, *filter(None, [env.get("PYTHONPATH")])])
            self.km.argv = kernel
            launch.update(cwd=work, env=env)
            if posix:
                launch["preexec_fn"] = _limit_memory(self.memory_limit)
        self._launch = launch
        self.km.start_kernel(**launch)
        self._connect()

    def _connect(self) -> None:
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self._kernel_pid = sb.kernel_pid(self._outer()) if self.sandboxed else None

    def _outer(self) -> int | None:
        process = getattr(self.km.provisioner, "process", None) if self.km is not None else None
        return process.pid if process is not None else None

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        self._dir.cleanup()

    def restart(self) -> None:
        self.kc.stop_channels()
        self.km.restart_kernel(now=True)
        self._connect()

    # -- the harness's programs and results ---------------------------------------------------
    def case_paths(self, program: str) -> tuple[str, str]:
        """Write one case's program where the kernel can read but not change it; (its path, the outcome's path)."""
        self._results += 1
        path = os.path.join(self.cases, f"case-{self._results}.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        os.chmod(path, 0o444)
        return path, os.path.join(self.shared, f"case-{self._results}.json")

    @staticmethod
    def read_result(path: str, limit: int) -> str | None:
        """The text the harness wrote (at most ``limit`` characters and a little), or None; the file is removed."""
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(limit + 1000)
        except OSError:
            return None
        try:
            os.remove(path)
        except OSError:
            pass
        return text

    # -- running code --------------------------------------------------------------------
    def execute(self, code: str, timeout: float | None = None, silent: bool = False) -> Execution:
        """Run ``code``; wait at most ``timeout`` seconds (default: the session's).

        ``silent``: the kernel does not echo the code (the harness's cells, not the student's).
        """
        limit = self.timeout if timeout is None else timeout
        result = Execution()
        msg_id = self.kc.execute(code, silent=silent, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.status = "timeout"
                self._recover(msg_id)
                break
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 1.0))
            except queue.Empty:
                if not self.km.is_alive():
                    result.status = "died"
                    self.restart()
                    break
                continue
            except Exception:  # a message the kernel garbled (its json patched?): not ours to read
                continue
            if not isinstance(msg, dict) or msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "stream":
                result.output_chars += len(content.get("text", ""))
            elif kind in ("execute_result", "display_data", "update_display_data"):
                result.output_chars += len(str(content.get("data", {}).get("text/plain", "")))
            elif kind == "error":
                result.error = (content.get("ename", "Error"), content.get("evalue", ""))
                if result.status == "ok":
                    result.status = "error"
        if self.sandboxed and result.status != "died":
            result.strays = sb.kill_strays(self._outer(), self._kernel_pid)
        return result

    def _recover(self, msg_id: str) -> None:
        """After a timeout: interrupt, wait for the kernel to go idle; restart it if it will not."""
        try:
            self.km.interrupt_kernel()
        except Exception:
            pass
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            except Exception:  # garbled: see execute
                continue
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                return
        self.restart()
