"""Start-up and shutdown of ``mlrails serve`` as a process.

Graceful shutdown: SIGTERM while slow requests are in flight stops new connections at once,
lets every in-flight request finish with its full answer, and each of them is in the log.
Start-up: a corrupt artifact, an unreachable store or a busy port stops the process with a
one-line message and exit code 2, never a traceback (test_serve_cli.py covers a missing
artifact and a store in a missing directory; test_postgres_serve.py a refused password).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import joblib
import pytest
from clikit import CliServer, cli
from pgkit import free_port
from servekit import Fitted
from slowmodel import SlowModel

from mlrails.store import open_store

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
#: seconds each guard call takes in the slow server
DELAY_S = 2.0
#: requests in flight when SIGTERM arrives
IN_FLIGHT = 6


def _one_line_error(r: subprocess.CompletedProcess[str], *, only: bool = True) -> str:
    """Exit code 2 and one 'error:' line, the last on stderr (``only``: the only one), no
    traceback; returns that line."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    lines = r.stderr.splitlines()
    assert r.stderr.endswith("\n") and lines, r.stderr
    assert lines[-1].startswith("error:"), r.stderr
    assert sum(line.startswith("error:") for line in lines) == 1, r.stderr
    if only:
        assert len(lines) == 1, r.stderr
    return lines[-1]


@pytest.fixture
def slow_model(fitted: Fitted, tmp_path: Path) -> Path:
    """The artifact's own model behind a DELAY_S delay, pickled (served with --trust)."""
    path = tmp_path / "slow.pkl"
    joblib.dump(SlowModel(fitted.rails.adapter.native, DELAY_S), path)
    return path


def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(
    fitted: Fitted, slow_model: Path, tmp_path: Path
) -> None:
    db = tmp_path / "decisions.db"
    pythonpath = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    server = CliServer(
        fitted.artifact, db, tmp_path / "server.log",
        "--auth", "off", "--model", str(slow_model), "--trust", "--model-timeout", "120",
        "--ui", "off", "--rate-limit", "0",
        env={"PYTHONPATH": pythonpath},
    )  # fmt: skip
    answers: dict[int, httpx.Response | Exception] = {}
    finished: dict[int, float] = {}
    lock = threading.Lock()

    def call(i: int) -> None:
        try:
            result: httpx.Response | Exception = httpx.post(
                server.url + "/v1/predict", json={"instance": fitted.status_rows[200]}, timeout=120
            )
        except Exception as exc:
            result = exc
        with lock:
            answers[i] = result
            finished[i] = time.monotonic()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(IN_FLIGHT)]
    try:
        server.wait_ready()
        for t in threads:
            t.start()
        time.sleep(DELAY_S / 2)  # every request is at the server; none can be done yet
        with lock:
            assert not answers, f"answered before SIGTERM: {answers}"
        server.proc.send_signal(signal.SIGTERM)
        sigterm = time.monotonic()

        # the listening socket closes at once: a new connection is refused while the
        # in-flight requests are still being answered
        refused_at = None
        while time.monotonic() - sigterm < 10:
            try:
                httpx.get(server.url + "/healthz", timeout=2)
            except (httpx.ConnectError, httpx.ReadError):
                # refused, or reset unanswered: a probe that reached the backlog just as the
                # listening socket closed is dropped without an answer (seen under load)
                refused_at = time.monotonic()
                break
            time.sleep(0.02)
        assert refused_at is not None, "new connections were still accepted 10 s after SIGTERM"
        with lock:
            pending = IN_FLIGHT - len(answers)
        assert pending > 0, "the requests were done before new connections were refused"

        for t in threads:
            t.join(120)
        code = server.terminate(timeout=60)
    finally:
        server.close()
    output = server.output()
    assert code in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output

    traces = []
    for i in range(IN_FLIGHT):
        r = answers[i]
        assert isinstance(r, httpx.Response), f"request {i} got no answer: {r!r}"
        assert r.status_code == 200, r.text
        body = r.json()  # the whole body arrived
        assert body["status"] == 200 and body["trace_id"] == r.headers["x-trace-id"]
        assert body["prediction"] is not None
        traces.append(body["trace_id"])
    assert min(finished.values()) > sigterm  # every answer came during the drain
    with open_store(db, create=False) as store:
        logged = store.decisions()
    assert sorted(d.trace_id for d in logged) == sorted(traces)
    assert {d.status for d in logged} == {200}


def test_start_fails_fast_on_a_corrupt_artifact(fitted: Fitted, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(fitted.artifact, tampered)
    with (tampered / "policy.json").open("a", encoding="utf-8") as fh:
        fh.write(" ")
    r = cli("serve", tampered, "--store", tmp_path / "x.db", "--port", free_port())
    _one_line_error(r)
    assert "policy.json" in r.stderr and "hash" in r.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("serve", empty, "--store", tmp_path / "x.db", "--port", free_port())
    _one_line_error(r)
    assert "manifest.json" in r.stderr


def test_start_fails_fast_on_an_unreachable_store(fitted: Fitted, tmp_path: Path) -> None:
    """Nothing listens on the port: a one-line error naming the host, well before any
    timeout, and no PostgreSQL server is needed for this."""
    pytest.importorskip("psycopg")
    url = f"postgresql://nobody:s3cret-pw@127.0.0.1:{free_port()}/decisions"
    t0 = time.monotonic()
    r = cli("serve", fitted.artifact, "--store", url, "--port", free_port())
    assert time.monotonic() - t0 < 30
    _one_line_error(r)
    assert "127.0.0.1" in r.stderr and "s3cret-pw" not in r.stderr


def test_start_fails_fast_on_a_busy_port(fitted: Fitted, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = cli("serve", fitted.artifact, "--store", tmp_path / "x.db", "--port", port)
    # the port is bound before anything is announced: the error is the only line
    error = _one_line_error(r)
    assert f"127.0.0.1:{port}" in error and "cannot listen" in error
