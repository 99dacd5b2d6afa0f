"""Run untrusted notebook code in its own kernel, with limits, inside a sandbox.

Each submission gets a fresh IPython kernel (this interpreter), with its own IPython
profile and a scratch folder shared with the grader, read-only to the kernel (the
connection file, the grader's per-case programs, and a folder for the ``ipc`` sockets
that the kernel may write only while it starts). A case's outcome comes back in a
display message of its request, so the grader reads no file the kernel wrote. In the
sandbox, run by root, each session also gets a cgroup of its own (memory, CPU,
processes over all its processes; see :class:`~.sandbox.Cgroup`), and every socket
drops a message over ``MAX_MESSAGE_BYTES``. Given a :class:`~.sandbox.SandboxSpec`
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

__all__ = ["Execution", "KernelSession", "RESULT_MIME", "MAX_MESSAGE_BYTES"]

#: the MIME type of the display message a case's outcome travels in (the kernel writes no file the grader reads)
RESULT_MIME = "application/x-backprop-result"

#: a message from the kernel larger than this is dropped by ZeroMQ before it reaches the grader's memory
MAX_MESSAGE_BYTES = 16 << 20

#: messages ZeroMQ queues per socket for the grader at most (so at most this many times the size above)
QUEUED_MESSAGES = 8


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
    restarted: bool = False  # the kernel was restarted (it died, or would not stop): what ran before is gone
    result: str | None = None  # the text of the request's last result message (RESULT_MIME), if any


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
    ``backprop``, no sandbox); ``interrupt_grace``: seconds an interrupted request
    has to end before its kernel is restarted.
    """

    def __init__(self, timeout: float = 30.0, memory_limit: int = 4 << 30, spec: sb.SandboxSpec | None = None,
                 interrupt_grace: float = 5.0):
        self.timeout = timeout
        self.interrupt_grace = interrupt_grace
        self.memory_limit = memory_limit
        self.spec = spec
        self._dir = tempfile.TemporaryDirectory(prefix="backprop-grade-")
        self.shared = os.path.join(self._dir.name, "shared")  # read-only for the kernel
        self.cases = os.path.join(self.shared, "cases")  # the grader's programs
        self.ipc = os.path.join(self.shared, "ipc")  # the kernel's sockets: writable only while it starts
        self.km = None
        self.kc = None
        self.cgroup: sb.Cgroup | None = None
        self._uid = None
        self._kernel_pid = None
        self._results = 0
        self._context = None

    @property
    def sandboxed(self) -> bool:
        return self.spec is not None and self.spec.bwrap is not None

    # -- lifetime -----------------------------------------------------------------------
    def __enter__(self) -> "KernelSession":
        try:
            self.start()
        except BaseException:
            self.stop()  # no cgroup, process or folder is left behind by a kernel that would not start
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        import zmq

        for folder in (self.shared, self.cases, self.ipc):
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o755)
        posix = os.name == "posix"
        python = self.spec.python if self.sandboxed else sys.executable
        kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        # every socket of this session drops a message larger than MAX_MESSAGE_BYTES and queues few: a kernel
        # sending hundreds of megabytes cannot make the grader hold them
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self._context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
        # ipc: no TCP ports to race for between parallel graders; the only way into a sandbox without a network
        self.km = _Manager(transport="ipc" if posix else "tcp", context=self._context)
        if posix:
            self.km.connection_file = os.path.join(self.shared, "kernel.json")
            self.km.ip = os.path.join(self.ipc, "kernel")
        launch = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if self.sandboxed:
            uid = self._uid = sb.session_uid() if os.geteuid() == 0 else os.geteuid()
            self.km.write_connection_file()
            if os.geteuid() == 0:  # the kernel's own user reads its connection file
                os.chown(self.km.connection_file, uid, uid)
                self.cgroup = sb.Cgroup.make(self.spec.limits)
            self.km.argv = sb.kernel_command(self.spec, self.shared, uid, kernel, self.cgroup)
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
        self._unlock()
        self.km.start_kernel(**launch)
        self._connect()

    def _unlock(self) -> None:
        """The kernel's user may make its sockets in the ipc folder (before it starts)."""
        if self.sandboxed and os.geteuid() == 0:
            os.chown(self.ipc, self._uid, self._uid)

    def _lock(self) -> None:
        """Once the kernel listens, nothing in the sandbox can add, remove or replace a file the grader uses."""
        if self.sandboxed and os.geteuid() == 0:
            os.chown(self.ipc, 0, 0)
            os.chmod(self.ipc, 0o755)

    def _connect(self) -> None:
        self.kc = self.km.client(context=self._context)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self._lock()
        self._kernel_pid = sb.kernel_pid(self._outer()) if self.sandboxed else None

    def _outer(self) -> int | None:
        process = getattr(self.km.provisioner, "process", None) if self.km is not None else None
        return process.pid if process is not None else None

    def stop(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        finally:
            if self.cgroup is not None:
                self.cgroup.remove()
            if self._context is not None:
                self._context.destroy(linger=0)
            self._dir.cleanup()

    def restart(self) -> None:
        self.kc.stop_channels()
        self._unlock()
        self.km.restart_kernel(now=True)
        self._connect()

    # -- the harness's programs and results ---------------------------------------------------
    def case_path(self, program: str) -> str:
        """Write one case's program where the kernel can read but not change it; its path.

        The outcome comes back in a display message of the request (``Execution.result``): the kernel writes
        nothing the grader reads from disk, so no link, pipe or device of its making is ever opened here.
        """
        self._results += 1
        path = os.path.join(self.cases, f"case-{self._results}.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        os.chmod(path, 0o444)
        return path

    # -- running code --------------------------------------------------------------------
    def execute(self, code: str, timeout: float | None = None, silent: bool = False,
                result_limit: int = 2_000_000) -> Execution:
        """Run ``code``; wait at most ``timeout`` seconds (default: the session's).

        ``silent``: the kernel does not echo the code (the harness's cells, not the student's);
        ``result_limit``: a result message longer than this many characters is not kept.
        """
        limit = self.timeout if timeout is None else timeout
        result = Execution()
        msg_id = self.kc.execute(code, silent=silent, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.status = "timeout"
                result.restarted = self._recover(msg_id)
                break
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 1.0))
            except queue.Empty:
                if not self.km.is_alive():
                    result.status = "died"
                    result.restarted = True
                    self.restart()
                    break
                continue
            except Exception:  # a message the kernel garbled (its json patched?): not ours to read
                continue
            try:
                if _read(msg, msg_id, result, result_limit):
                    break
            except (AttributeError, KeyError, TypeError, ValueError):  # a message of the wrong shape: ignored
                continue
        if self.sandboxed and result.status != "died":
            result.strays = sb.kill_strays(self._outer(), self._kernel_pid)
        return result

    def _recover(self, msg_id: str) -> bool:
        """After a timeout: interrupt, wait for the kernel to go idle; restart it if it will not (then True)."""
        try:
            self.km.interrupt_kernel()
        except Exception:
            pass
        deadline = time.monotonic() + self.interrupt_grace
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            except Exception:  # garbled: see execute
                continue
            try:
                if _read(msg, msg_id, Execution(), 0):
                    return False
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
        self.restart()
        return True


def _read(msg, msg_id: str, result: Execution, result_limit: int) -> bool:
    """Take one iopub message into ``result`` if it belongs to the request ``msg_id``; True when the request is over."""
    if msg["parent_header"].get("msg_id") != msg_id:
        return False
    kind, content = msg["msg_type"], msg["content"]
    if kind == "status":
        return content.get("execution_state") == "idle"
    if kind == "stream":
        result.output_chars += len(str(content.get("text", "")))
    elif kind in ("execute_result", "display_data", "update_display_data"):
        data = content.get("data", {})
        text = data.get(RESULT_MIME)
        if kind == "display_data" and isinstance(text, str):
            result.result = text if len(text) <= result_limit + 1000 else None
        else:
            result.output_chars += len(str(data.get("text/plain", "")))
    elif kind == "error":
        result.error = (str(content.get("ename", "Error")), str(content.get("evalue", "")))
        if result.status == "ok":
            result.status = "error"
    return False
