"""``mlrails serve``, ``mlrails keys`` and ``mlrails log export`` as a user runs them."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from servekit import Fitted

pytestmark = pytest.mark.slow

MLRAILS = Path(sys.executable).with_name("mlrails")


def run(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_fails_fast_on_bad_artifact_or_store(fitted: Fitted, tmp_path: Path) -> None:
    r = run("serve", tmp_path / "missing", "--store", tmp_path / "x.db")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "error:" in r.stderr and "Traceback" not in r.stderr
    r = run("serve", fitted.artifact, "--store", tmp_path / "no" / "such" / "dir.db")
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    r = run("keys", "create", "--name", "alice", "--store", db)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("mlr_")
    key_id = token.split("_")[1]
    listed = run("keys", "list", "--store", db)
    assert key_id in listed.stdout and "alice" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout
    assert run("keys", "revoke", key_id, "--store", db).returncode == 0
    again = run("keys", "revoke", key_id, "--store", db)
    assert again.returncode == 2 and "already revoked" in again.stderr
    missing = run("keys", "list", "--store", tmp_path / "typo.db")
    assert missing.returncode == 2 and "no such store" in missing.stderr


def test_serve_answers_logs_and_exports(fitted: Fitted, tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    token = run("keys", "create", "--name", "ci", "--store", db).stdout.strip()
    port = _free_port()
    proc = subprocess.Popen(
        [str(MLRAILS), "serve", str(fitted.artifact), "--port", str(port), "--store", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        rows = [fitted.status_rows[s] for s in (200, 422)]
        r = httpx.post(url + "/v1/predict", json={"instances": rows}, headers=headers)
        assert r.status_code == 207
        assert httpx.post(url + "/v1/predict", json={"instance": rows[0]}).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    # uvicorn drains in-flight requests, then re-raises the signal: exit status -SIGTERM
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Finished server process" in err and "Traceback" not in err

    out_csv = tmp_path / "log.csv"
    r = run("log", "export", "--store", db, "--format", "csv", "--out", out_csv)
    assert r.returncode == 0, r.stderr
    with out_csv.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [int(t["status"]) for t in table] == [200, 422]
    assert {t["artifact_hash"] for t in table} == {fitted.rails.artifact_hash}
    out_pq = tmp_path / "log.parquet"
    r = run("log", "export", "--store", db, "--format", "parquet", "--out", out_pq)
    assert r.returncode == 0, r.stderr
    assert pd.read_parquet(out_pq)["status"].tolist() == [200, 422]
    later = run("log", "export", "--store", db, "--since", "2999-01-01T00:00:00Z", "--out", out_csv)
    assert later.returncode == 0 and "0 decisions" in later.stdout
