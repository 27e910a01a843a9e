"""``mlrails serve`` as a real subprocess: start it, wait until it is ready, stop it.

Shared by the crash and lifecycle tests. The server's output goes to a file (not a pipe, which
a busy server could fill and block on); :meth:`CliServer.output` reads it for messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import httpx
from pgkit import free_port

MLRAILS = Path(sys.executable).with_name("mlrails")


def cli(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``mlrails ARGS`` to completion."""
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def create_key(store: str | Path) -> str:
    """A new API key's token, created with ``mlrails keys create``."""
    r = cli("keys", "create", "--name", "tests", "--store", store)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class CliServer:
    """One ``mlrails serve`` process on a free loopback port, logging to ``log_path``."""

    def __init__(
        self,
        artifact: Path,
        store: str | Path,
        log_path: Path,
        *extra: str,
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        argv = [*(command or [str(MLRAILS)]), "serve", str(artifact), "--store", str(store)]
        argv += ["--port", str(self.port), "--log-level", "warning", *extra]
        self._log: IO[str] = log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 90) -> CliServer:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited during start-up:\n{self.output()}")
            assert time.monotonic() < deadline, f"the server did not start:\n{self.output()}"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait for the exit; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code

    def close(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._log.close()
