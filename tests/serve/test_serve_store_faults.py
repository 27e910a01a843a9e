"""A real server whose SQLite decision log breaks under it: deleted, moved, replaced, locked
or made immutable. Whatever breaks, no request is answered 200 without its decisions in a
file someone can read, and ``/readyz`` says 503 (and why) while a decision cannot be
committed, and ready again once one can, without traffic to prove it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servekit import Fitted, Served, ServerFactory

from storekit import delete_the_wal, rename, replace_by_a_copy

#: a store timeout short enough that a lock turns into 503 quickly
STORE_TIMEOUT_S = 0.3
#: how long the service may take to notice that the store recovered (readiness re-probes)
RECOVERY_S = 5.0


def _start(make_server: ServerFactory, **settings: Any) -> Served:
    opts: dict[str, Any] = {"auth": False, "ui": False, "drift_every_s": None, **settings}
    return make_server(store_timeout_s=STORE_TIMEOUT_S, **opts)


def _problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc = r.json()
    assert doc["status"] == status and doc["type"].endswith("/" + slug), doc
    assert "Traceback" not in r.text
    return doc


def _not_ready(s: Served) -> dict[str, Any]:
    doc = _problem(s.client.get("/readyz"), 503, "not-ready")
    assert doc["log"] is False and doc["log_error"], doc
    assert "decision log cannot commit: " + doc["log_error"] in doc["detail"], doc
    return doc


def _wait_ready(s: Served, timeout: float = RECOVERY_S) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = s.client.get("/readyz")
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_deleting_the_store_directory_under_load_answers_no_200(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = _start(make_server)
    body = {"instance": fitted.status_rows[200]}
    assert s.post(body).status_code == 200
    assert s.client.get("/readyz").status_code == 200
    answers: list[tuple[float, int]] = []  # (when the request was sent, its status)
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=s.url, timeout=30) as client:
            while not stop.is_set():
                sent = time.monotonic()
                code = client.post("/v1/predict", json=body).status_code
                with lock:
                    answers.append((sent, code))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        shutil.rmtree(s.db_path.parent)
        removed = time.monotonic()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    before = [code for sent, code in answers if sent < removed]
    after = [code for sent, code in answers if sent > removed]
    assert 200 in before and after, (len(before), len(after))
    # no request sent after the files were gone was acknowledged
    assert set(after) == {503}, sorted(set(after))

    doc = _problem(s.post(body), 503, "unavailable")
    assert "restart" in doc["detail"] and doc["trace_id"], doc
    assert "restart" in _not_ready(s)["log_error"]
    # recreating the directory does not bring a new, empty log in silently
    s.db_path.parent.mkdir()
    assert s.post(body).status_code == 503
    time.sleep(1.2)
    _not_ready(s)
    assert not s.db_path.exists()


@pytest.mark.parametrize("disrupt", [rename, replace_by_a_copy, delete_the_wal])
def test_a_moved_or_replaced_database_file_is_the_store_down(
    make_server: ServerFactory, fitted: Fitted, disrupt: Callable[[Path], None]
) -> None:
    s = _start(make_server)
    body = {"instance": fitted.status_rows[200]}
    assert s.post(body).status_code == 200
    disrupt(s.db_path)
    for _ in range(3):
        doc = _problem(s.post(body), 503, "unavailable")
        assert "restart" in doc["detail"], doc
    _not_ready(s)
    time.sleep(1.2)  # the readiness probe does not talk itself into ready
    _not_ready(s)


def test_a_locked_database_is_not_ready_until_the_lock_is_released(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = _start(make_server)
    body = {"instance": fitted.status_rows[200]}
    assert s.post(body).status_code == 200
    time.sleep(1.2)  # the last commit is old news: readiness must look for itself
    blocker = sqlite3.connect(s.db_path, timeout=0.1, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        # no traffic needed: readiness finds out that nothing can be committed
        assert "locked" in _not_ready(s)["log_error"]
        _problem(s.post(body), 503, "unavailable")
        _not_ready(s)
        blocker.execute("COMMIT")
        # ready again without a single predict to prove it
        r = _wait_ready(s)
        assert r.status_code == 200, r.text
        assert r.json()["log"] is True and r.json()["log_error"] is None
    finally:
        blocker.close()
    assert s.post(body).status_code == 200


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """``chattr +i`` a file (root cannot write it either) and undo it afterwards; skipped
    where the filesystem or the capabilities (CAP_LINUX_IMMUTABLE) do not allow it."""
    done: list[Path] = []

    def chattr(path: Path) -> None:
        r = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"chattr +i is not possible here: {r.stderr.strip()}")
        done.append(path)

    if shutil.which("chattr") is None:
        pytest.skip("no chattr")
    yield chattr
    for path in done:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_an_immutable_wal_is_not_ready_until_it_is_writable(
    make_server: ServerFactory, fitted: Fitted, immutable: Callable[[Path], None]
) -> None:
    s = _start(make_server)
    body = {"instance": fitted.status_rows[200]}
    assert s.post(body).status_code == 200
    wal = s.db_path.with_name(s.db_path.name + "-wal")
    immutable(wal)
    _problem(s.post(body), 503, "unavailable")
    _not_ready(s)
    time.sleep(1.2)  # the write probe fails as the commit did
    _not_ready(s)
    subprocess.run(["chattr", "-i", str(wal)], check=True)
    r = _wait_ready(s)
    assert r.status_code == 200, r.text
    assert s.post(body).status_code == 200


def test_readiness_reports_the_log(served: Served) -> None:
    r = served.client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["log"] is True and r.json()["log_error"] is None
    assert r.json()["store"] is True
