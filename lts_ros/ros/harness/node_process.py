"""lts_node in a process of its own, in an isolated DDS domain (``domain.isolated_env``): started with parameters
and remaps or a README's exact command line, waited for by its log, stopped as Ctrl-C would."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from lts_ros.errors import LtsError
from lts_ros.ros.harness.domain import REPO

STOP_TIMEOUT_S = 15.0  # SIGINT -> exit, before a kill


class NodeProcess:
    """``lts_node`` with ``params`` and topic ``remaps`` in a subprocess, its output in ``log``; or, with
    ``command``, that exact command line (run from the repository root, as a README line would be)."""

    def __init__(self, env: dict[str, str], log: Path, params: dict | None = None, remaps: dict | None = None,
                 command: list[str] | None = None):
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._file = log.open("w")
        args = [arg for k, v in (params or {}).items() for arg in ("-p", f"{k}:={v}")]
        args += [arg for k, v in (remaps or {}).items() for arg in ("-r", f"{k}:={v}")]
        command = command or [sys.executable, "-m", "lts_ros.ros.node", "--ros-args", *args]
        self.proc = subprocess.Popen(command, env=env, stdout=self._file, stderr=subprocess.STDOUT, cwd=REPO)
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, fragment: str, timeout_s: float = 180.0) -> None:
        """Until ``fragment`` appears in the log; LtsError when the node exits or time runs out first."""
        deadline = time.monotonic() + timeout_s
        while fragment not in self.text():
            if not self.alive():
                raise LtsError(f"lts_node exited with status {self.proc.returncode} (log: {self.log}):\n{self.text()}")
            if time.monotonic() > deadline:
                raise LtsError(f"no '{fragment}' in the lts_node log after {timeout_s:.0f} s (log: {self.log}):\n"
                               f"{self.text()}")
            time.sleep(0.1)

    def wait_active(self, timeout_s: float = 180.0) -> None:
        """Until the node reports it is active; a failed configure is an LtsError with its reason."""
        deadline = time.monotonic() + timeout_s
        while "active:" not in (text := self.text()):
            failed = [line for line in text.splitlines() if "configure failed" in line]
            if failed:
                raise LtsError(f"lts_node did not start: {failed[-1].strip()} (log: {self.log})")
            if not self.alive():
                raise LtsError(f"lts_node exited with status {self.proc.returncode} (log: {self.log})")
            if time.monotonic() > deadline:
                raise LtsError(f"lts_node not active after {timeout_s:.0f} s (log: {self.log})")
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would; a kill after STOP_TIMEOUT_S. The exit status (negative: the signal)."""
        if self.exit_code is not None:
            return self.exit_code
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._file.close()
        self.exit_code = self.proc.returncode
        return self.exit_code
