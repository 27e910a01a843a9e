"""``mlrails serve`` with its decision log on a real PostgreSQL server, through real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pgkit import PostgresServer, free_port
from servekit import Fitted

from mlrails.serve import KeyRing, ServerThread, ServeSettings, create_app
from mlrails.serve.keys import hash_token
from mlrails.store import open_store

MLRAILS = Path(sys.executable).with_name("mlrails")


def _cli(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else "server exited")
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)


@pytest.fixture
def pg_server(fitted: Fitted, pg_url: str) -> Iterator[tuple[str, httpx.Client, str]]:
    """uvicorn in a thread serving the rails, logging to a fresh PostgreSQL database."""
    store = open_store(pg_url)
    token = KeyRing(store).create("tests").token
    cfg = ServeSettings(port=0, rate_limit_rps=None, ui=False)
    server = ServerThread(create_app(fitted.rails, store, cfg)).start()
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    yield pg_url, client, token
    client.close()
    server.stop()
    store.close()


def test_predict_logs_every_row_in_postgres(
    pg_server: tuple[str, httpx.Client, str], fitted: Fitted, postgres: PostgresServer
) -> None:
    pg_url, client, token = pg_server
    rows = fitted.status_rows
    assert client.get("/readyz").status_code == 200
    sent: dict[str, list[int]] = {}
    for body, want in [
        ({"instance": rows[200]}, [200]),
        ({"instance": rows[422]}, [422]),
        ({"instances": [rows[200], rows[203], rows[403], rows[400]]}, [200, 203, 403, 400]),
    ]:
        r = client.post("/v1/predict", json=body)
        assert r.status_code == (want[0] if len(want) == 1 else 207)
        sent[r.headers["x-trace-id"]] = want
    r = client.post("/v1/predict", content=b"{broken")
    assert r.status_code == 400
    sent[r.headers["x-trace-id"]] = [400]
    with open_store(pg_url, create=False) as store:
        logged = store.decisions()
    assert len(logged) == 7
    for trace, want in sent.items():
        mine = sorted((d for d in logged if d.trace_id == trace), key=lambda d: d.row_index or 0)
        assert [d.status for d in mine] == want
    assert {d.artifact_hash for d in logged} == {fitted.rails.artifact_hash}
    assert logged[0].input == rows[200] and logged[0].time.tzinfo is not None
    dump = str(postgres.query(pg_url, "SELECT * FROM api_keys"))
    assert token.split("_", 2)[2] not in dump and hash_token(token) in dump
    bad = httpx.post(str(client.base_url) + "/v1/predict", json={"instance": rows[200]})
    assert bad.status_code == 401


def test_feedback_joins_labels_to_the_postgres_log(
    pg_server: tuple[str, httpx.Client, str], fitted: Fitted
) -> None:
    pg_url, client, _ = pg_server
    rows = fitted.status_rows
    answer = client.post("/v1/predict", json={"instances": [rows[200], rows[422]]})
    trace = answer.headers["x-trace-id"]
    labels = [{"trace_id": trace, "row": r, "label": r} for r in range(2)]
    want = [(2, 0, 0, 0), (0, 0, 2, 0)]
    for sent, counts in zip([labels, labels], want, strict=True):
        r = client.post("/v1/feedback", json={"labels": sent})
        assert r.status_code == 200, r.text
        assert tuple(r.json().values()) == counts
    changed = [{"trace_id": trace, "row": 1, "label": "x"}, {"trace_id": "f" * 32, "label": 1}]
    assert client.post("/v1/feedback", json={"labels": changed}).json() == {
        "matched": 0,
        "unknown": 1,
        "duplicate": 0,
        "changed": 1,
    }
    with open_store(pg_url, create=False) as store:
        got = [(d.row_index, d.status, d.label, d.revision) for d in store.labelled_decisions()]
    assert got == [(0, 200, 0, 1), (1, 422, "x", 2)]


@pytest.mark.slow
def test_two_server_processes_share_one_postgres_log(
    fitted: Fitted, postgres: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """Two `mlrails serve` processes start at once on an empty database (both create the
    schema), take concurrent requests, and every answered row is in the shared log."""
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [str(MLRAILS), "serve", str(fitted.artifact), "--port", str(p), "--store", pg_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_ready(url, proc)
        created = _cli("keys", "create", "--name", "ci", "--store", pg_url)
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        body = {"instances": [fitted.status_rows[200], fitted.status_rows[422]]}
        n = 60

        def send(i: int) -> tuple[int, str]:
            r = httpx.post(urls[i % 2] + "/v1/predict", json=body, headers=headers, timeout=30)
            return r.status_code, r.headers.get("x-trace-id", "")

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(send, range(n)))
        assert [code for code, _ in answers] == [207] * n
    finally:
        errs = []
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            errs.append(proc.communicate(timeout=30)[1])
    for err in errs:
        assert "Traceback" not in err and postgres.password not in err
        assert "mlrails:***@" in err  # the start-up line names the store, password masked
    with open_store(pg_url, create=False) as store:
        logged = store.decisions()
    assert len(logged) == 2 * n
    traces = {t for _, t in answers}
    assert len(traces) == n and {d.trace_id for d in logged} == traces

    listed = _cli("keys", "list", "--store", pg_url)
    assert listed.returncode == 0 and "ci" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout
    out = tmp_path / "log.parquet"
    exported = _cli("log", "export", "--store", pg_url, "--format", "parquet", "--out", out)
    assert exported.returncode == 0, exported.stderr
    assert f"{2 * n} decisions" in exported.stdout


def test_serve_fails_fast_when_postgres_is_unreachable_or_refuses(
    fitted: Fitted, postgres: PostgresServer, pg_url: str
) -> None:
    down = f"postgresql://mlrails:hunter2-secret@127.0.0.1:{free_port()}/decisions"
    wrong = postgres.url(pg_url.rsplit("/", 1)[1], password="wrong-secret")
    for url, says in ((down, "127.0.0.1"), (wrong, "authentication failed")):
        t0 = time.monotonic()
        r = _cli("serve", fitted.artifact, "--port", free_port(), "--store", url)
        assert time.monotonic() - t0 < 30
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and says in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        assert "hunter2" not in r.stderr and "wrong-secret" not in r.stderr
    r = _cli("keys", "list", "--store", down)
    assert r.returncode == 2 and "hunter2" not in r.stderr and "decisions" in r.stderr


def test_database_down_means_503_never_500(fitted: Fitted, own_postgres: PostgresServer) -> None:
    url = own_postgres.create_database()
    store = open_store(url, timeout_s=2.0)
    token = KeyRing(store).create("tests").token
    cfg = ServeSettings(port=0, rate_limit_rps=None, ui=False, retry_after_s=3)
    server = ServerThread(create_app(fitted.rails, store, cfg)).start()
    no_auth = cfg.model_copy(update={"auth": False})
    open_server = ServerThread(create_app(fitted.rails, store, no_auth)).start()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"instances": [fitted.status_rows[200], fitted.status_rows[422]]}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            assert client.post("/v1/predict", json=body).status_code == 207
            own_postgres.stop()
            for _ in range(3):
                r = client.post("/v1/predict", json=body)
                assert r.status_code == 503, r.text
                assert r.headers["retry-after"] == "3"
                assert r.headers["content-type"].startswith("application/problem+json")
                assert "prediction" not in r.text and own_postgres.password not in r.text
            # without auth the key lookup is skipped: the failed commit itself answers 503
            r = httpx.post(open_server.url + "/v1/predict", json=body, timeout=30)
            assert r.status_code == 503 and "decision log" in r.json()["detail"]
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["store"] is False
            assert ready.headers["retry-after"] == "3"
            assert client.get("/healthz").status_code == 200
            own_postgres.start()
            # pooled connections to the old server are replaced: the service recovers
            assert client.get("/readyz").status_code == 200
            r = client.post("/v1/predict", json=body)
            assert r.status_code == 207
    finally:
        server.stop()
        open_server.stop()
        store.close()
    with open_store(url) as again:
        # exactly the two answered requests were logged; the 503s were not answered
        assert again.count_decisions() == 4
