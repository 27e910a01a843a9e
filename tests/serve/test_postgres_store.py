"""The decision log and the key store on a real PostgreSQL server (psycopg 3)."""

from __future__ import annotations

import csv
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pgkit import PostgresServer, free_port

from mlrails.serve.keys import KeyRing, hash_token
from mlrails.store import DecisionRecord, StoreError, display_url, export_decisions, open_store
from mlrails.store.database import store_url


def _record(i: int, t: datetime, **kw: Any) -> DecisionRecord:
    base: dict[str, Any] = {
        "time": t,
        "trace_id": f"{i:032x}",
        "key_id": "abc123def456",
        "artifact_hash": "f" * 64,
        "row_index": i % 3,
        "status": (200, 203, 422)[i % 3],
        "problem": None if i % 3 == 0 else "https://mlrails.dev/problems/x",
        "input": {"a": float(i), "b": "é\u0000✓", "nested": [1, None, {"c": True}]},
        "output": {"status": (200, 203, 422)[i % 3], "probabilities": [0.25, 0.75]},
        "scores": {"ood": 0.5, "validation": None},
        "latency_ms": 1.5,
    }
    base.update(kw)
    return DecisionRecord(**base)


def test_postgres_urls_use_psycopg_and_hide_the_password() -> None:
    assert (
        store_url("postgresql://u:pw@db.example/log") == "postgresql+psycopg://u:pw@db.example/log"
    )
    assert store_url("postgres://u:pw@db/log") == "postgresql+psycopg://u:pw@db/log"
    assert store_url("postgresql+psycopg://u@db/log") == "postgresql+psycopg://u@db/log"
    shown = display_url("postgresql://alice:s3cret@db.example:5433/log")
    assert "s3cret" not in shown and "db.example:5433/log" in shown and "alice" in shown
    assert display_url("decisions.db") == "decisions.db"


def test_decisions_round_trip(pg_url: str, tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    records = [_record(i, t0 + timedelta(seconds=i)) for i in range(7)]
    records.append(_record(7, t0 + timedelta(seconds=7), row_index=None, scores=None, input=None))
    with open_store(pg_url) as store:
        assert store.is_postgres and store.ping()
        assert "postgresql+psycopg" in store.engine.url.drivername
        store.write_decisions(records[:4])
        store.write_decisions(records[4:])
        assert store.count_decisions() == 8
        got = store.decisions()
        assert [r.trace_id for r in got] == [r.trace_id for r in records]
        for want, have in zip(records, got, strict=True):
            assert have.id is not None and have.time == want.time and have.time.tzinfo
            assert (have.input, have.output, have.scores) == (want.input, want.output, want.scores)
            assert (have.status, have.row_index, have.problem) == (
                want.status,
                want.row_index,
                want.problem,
            )
        later = store.decisions(since=t0 + timedelta(seconds=5))
        assert [r.trace_id for r in later] == [r.trace_id for r in records[5:]]
        chunks = list(store.iter_decisions(chunk=3))
        assert [len(c) for c in chunks] == [3, 3, 2]
        n = export_decisions(store, tmp_path / "log.csv", fmt="csv")
        assert n == 8
        with (tmp_path / "log.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert [int(r["status"]) for r in rows] == [r.status for r in records]
        assert export_decisions(store, tmp_path / "log.parquet", fmt="parquet") == 8
        assert pd.read_parquet(tmp_path / "log.parquet")["trace_id"].tolist() == [
            r.trace_id for r in records
        ]
    # reopening finds the same log: schema creation is idempotent
    with open_store(pg_url) as again:
        assert again.count_decisions() == 8


def test_keys_are_stored_hashed(postgres: PostgresServer, pg_url: str) -> None:
    with open_store(pg_url) as store:
        ring = KeyRing(store)
        issued = ring.create("alice")
        assert ring.verify(issued.token) == issued.record
        assert ring.verify(issued.token + "x") is None
        stored = store.get_key(issued.record.id)
        assert stored is not None and stored.token_hash == hash_token(issued.token)
        ring.revoke(issued.record.id)
        assert ring.verify(issued.token) is None
        assert [k.active for k in ring.list()] == [False]
    dump = str(postgres.query(pg_url, "SELECT * FROM api_keys"))
    secret = issued.token.split("_", 2)[2]
    assert secret not in dump and hash_token(issued.token) in dump


def test_processes_starting_at_once_create_the_schema_once(pg_url: str) -> None:
    """Separate engines (as separate processes have) opening an empty database together."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            barrier.wait()
            with open_store(pg_url) as s:
                s.write_decisions([_record(0, datetime.now(UTC))])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(pg_url) as s:
        assert s.count_decisions() == 8


def test_concurrent_writers_with_separate_engines_lose_nothing(pg_url: str) -> None:
    stores = [open_store(pg_url) for _ in range(4)]
    try:

        def write(k: int) -> None:
            for j in range(25):
                batch = [_record(1000 * k + 10 * j + r, datetime.now(UTC)) for r in range(3)]
                stores[k].write_decisions(batch)

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = stores[0].decisions()
        assert len(got) == 4 * 25 * 3
        assert len({r.trace_id for r in got}) == 4 * 25 * 3
    finally:
        for s in stores:
            s.close()


def test_unreachable_server_fails_fast_without_the_password() -> None:
    url = f"postgresql://mlrails:hunter2-secret@127.0.0.1:{free_port()}/decisions"
    t0 = time.monotonic()
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert time.monotonic() - t0 < 10
    msg = str(info.value)
    assert "hunter2" not in msg
    assert "127.0.0.1" in msg and "decisions" in msg and "\n" not in msg
    assert "cannot open the store" in msg


def test_wrong_password_fails_fast(postgres: PostgresServer, pg_url: str) -> None:
    bad = postgres.url(pg_url.rsplit("/", 1)[1], password="not-the-password")
    with pytest.raises(StoreError) as info:
        open_store(bad)
    msg = str(info.value)
    assert "not-the-password" not in msg and postgres.password not in msg
    assert "authentication failed" in msg and "\n" not in msg


def test_lone_surrogates_from_callers_do_not_fail_the_write(pg_url: str) -> None:
    """`"\\ud800"` is valid JSON that parses to a string UTF-8 cannot encode."""
    with open_store(pg_url) as store:
        store.write_decisions([_record(0, datetime.now(UTC), input={"\ud800": "x\udc00y"})])
        assert store.decisions()[0].input == {"\ufffd": "x\ufffdy"}
