"""Run untrusted notebook code in its own kernel, with limits.

Each submission gets a fresh IPython kernel (this interpreter, so it imports the same
library), started in a scratch directory with its own IPython profile directory. Code
runs one request at a time under a time limit; a request over the limit is
interrupted, and a kernel that does not come back is restarted. Output is counted, not
kept. A kernel that dies is restarted.

Nothing here judges results: ``execute`` returns what came back, as data.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

try:  # POSIX only: limits on the kernel process
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = ["Execution", "KernelSession"]

#: the mime type the harness uses to hand results back (see ``grade.py``)
RESULT_MIME = "application/vnd.backprop.result+json"


@dataclass
class Execution:
    """What one request did: its status, how much it printed, its error and harness results.

    Printed output is counted, never stored: grading does not read it, so a cell that
    prints megabytes costs no memory here.
    """

    status: str = "ok"  # ok | error | timeout | died
    output_chars: int = 0
    error: tuple[str, str] | None = None  # (name, message)
    results: list[str] = field(default_factory=list)


class _CurrentPythonKernelManager(KernelManager):
    """A kernel manager whose kernel is always this interpreter (never a stale kernelspec)."""

    @property
    def kernel_spec(self):
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="grader",
            language="python",
        )


def _limit_memory(max_bytes: int):
    if resource is None:  # pragma: no cover - Windows
        return None

    def apply():  # runs in the kernel's process before it starts
        try:
            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
        except (ValueError, OSError):
            pass

    return apply


class KernelSession:
    """One kernel for one submission; use as a context manager.

    ``timeout``: seconds per request; ``memory_limit``: bytes of address space for the
    kernel process.
    """

    def __init__(self, timeout: float = 30.0, memory_limit: int = 4 << 30):
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._dir = tempfile.TemporaryDirectory(prefix="backprop-grade-")
        self.km = None
        self.kc = None

    # -- lifetime -----------------------------------------------------------------------
    def __enter__(self) -> "KernelSession":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        env = dict(os.environ)
        env["IPYTHONDIR"] = os.path.join(self._dir.name, ".ipython")  # no instructor profile, no startup files
        env["MPLBACKEND"] = "Agg"
        env["PYTHONHASHSEED"] = "0"
        env.pop("PYTHONSTARTUP", None)
        work = os.path.join(self._dir.name, "work")
        os.makedirs(work, exist_ok=True)
        posix = os.name == "posix"
        # ipc: no TCP ports to race for between parallel graders, no plain-text TCP warning
        self.km = _CurrentPythonKernelManager(transport="ipc" if posix else "tcp")
        if posix:
            self.km.connection_file = os.path.join(self._dir.name, "kernel.json")
            self.km.ip = os.path.join(self._dir.name, "kernel-ipc")
        launch = {"cwd": work, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if posix:
            launch["preexec_fn"] = _limit_memory(self.memory_limit)
        self.km.start_kernel(**launch)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        self._dir.cleanup()

    def restart(self) -> None:
        self.kc.stop_channels()
        self.km.restart_kernel(now=True)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    # -- running code --------------------------------------------------------------------
    def execute(self, code: str, timeout: float | None = None) -> Execution:
        """Run ``code``; wait at most ``timeout`` seconds (default: the session's)."""
        limit = self.timeout if timeout is None else timeout
        result = Execution()
        msg_id = self.kc.execute(code, silent=False, store_history=False, allow_stdin=False, stop_on_error=False)
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
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "stream":
                result.output_chars += len(content.get("text", ""))
            elif kind in ("execute_result", "display_data"):
                data = content.get("data", {})
                if RESULT_MIME in data:
                    result.results.append(str(data[RESULT_MIME]))
                else:
                    result.output_chars += len(str(data.get("text/plain", "")))
            elif kind == "error":
                result.error = (content.get("ename", "Error"), content.get("evalue", ""))
                if result.status == "ok":
                    result.status = "error"
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
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                return
        self.restart()
