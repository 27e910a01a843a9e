"""``mlrails serve --workers N`` and ``--log-mode async`` as real processes."""

from __future__ import annotations

import concurrent.futures as cf
import signal
from pathlib import Path

import httpx
import pytest
from clikit import CliServer
from servekit import Fitted

from mlrails.store import open_store

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _load(url: str, fitted: Fitted, n: int) -> list[httpx.Response]:
    rows = [fitted.status_rows[s] for s in (200, 203, 403, 422)]

    def call(i: int) -> httpx.Response:
        body = (
            {"instances": [rows[i % 4], rows[(i + 1) % 4]]} if i % 3 else {"instance": rows[i % 4]}
        )
        return httpx.post(url + "/v1/predict", json=body, timeout=60)

    with cf.ThreadPoolExecutor(8) as pool:
        return list(pool.map(call, range(n)))


def _audit(db: Path, answers: list[httpx.Response]) -> None:
    """Every answered request has one record per row with the status it was answered."""
    with open_store(db, create=False) as store:
        logged = store.decisions()
    by_trace: dict[str, list[int]] = {}
    for d in logged:
        by_trace.setdefault(d.trace_id, []).append(d.status)
    assert len(by_trace) == len(answers)
    for a in answers:
        body = a.json()
        want = [v["status"] for v in body["verdicts"]] if "verdicts" in body else [a.status_code]
        assert sorted(by_trace[a.headers["x-trace-id"]]) == sorted(want)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_share_the_port_and_the_log(fitted: Fitted, tmp_path: Path) -> None:
    db = tmp_path / "decisions.db"
    server = CliServer(
        fitted.artifact, db, tmp_path / "server.log",
        "--auth", "off", "--rate-limit", "0", "--ui", "off", "--workers", "2",
    )  # fmt: skip
    try:
        server.wait_ready()
        workers = _children(server.proc.pid)
        # two workers (multiprocessing may add its resource tracker)
        assert len(workers) >= 2, workers
        answers = _load(server.url, fitted, 60)
        assert {a.status_code for a in answers} <= {200, 203, 207, 403, 422}
        code = server.terminate(timeout=60)
    finally:
        server.close()
    assert code in (0, -signal.SIGTERM), server.output()
    assert "2 workers" in server.output()
    assert "Traceback" not in server.output()
    _audit(db, answers)


def test_async_log_mode_answers_and_flushes_on_shutdown(fitted: Fitted, tmp_path: Path) -> None:
    db = tmp_path / "decisions.db"
    server = CliServer(
        fitted.artifact, db, tmp_path / "server.log",
        "--auth", "off", "--rate-limit", "0", "--ui", "off", "--log-mode", "async",
    )  # fmt: skip
    try:
        server.wait_ready()
        answers = _load(server.url, fitted, 40)
        code = server.terminate(timeout=60)
    finally:
        server.close()
    assert code in (0, -signal.SIGTERM), server.output()
    assert "log async" in server.output()
    _audit(db, answers)
