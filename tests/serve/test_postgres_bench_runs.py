"""Benchmark runs in a real PostgreSQL store: the record's floats survive bit for bit."""

from __future__ import annotations

import json

import pytest
from pgkit import PostgresServer

from mlrails.bench.archive import load_record, save_record
from mlrails.bench.record import CellRecord, Machine, RunRecord
from mlrails.store import StoreError, open_store

AWKWARD = [0.1 + 0.2, 1e-300, 5e-324, -0.0, 2.0**0.5]


def _record(run_id: str) -> RunRecord:
    cell = CellRecord(
        pair="model", kind="clean", name="none", severity=1, seed=0, n=3, n_wrong=1,
        metrics={f"m{i}": v for i, v in enumerate(AWKWARD)} | {"auroc.ood": None},
        intervals={"m0": (AWKWARD[0], AWKWARD[4])}, correct="4A==", rows_hash="ab",
    )  # fmt: skip
    return RunRecord(
        run_id=run_id, config={"seeds": [0]}, config_hash="c" * 64, data_hashes={"test": "d"},
        pairs=[], seeds=[0], packages={}, mlrails_version="0.1.0",
        machine=Machine(hostname="h", platform="p", python="3", cpu="c", cpu_count=1),
        started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:01+00:00",
        wall_s=1.0, cells=[cell],
    )  # fmt: skip


def test_bench_runs_round_trip_on_postgres(postgres: PostgresServer, pg_url: str) -> None:
    rec = _record("run-1")
    assert save_record(rec, pg_url) == "run-1"
    back = load_record("run-1", pg_url)
    assert back == rec
    assert json.loads(back.to_json()) == json.loads(rec.to_json())
    assert str(back.cells[0].metrics["m3"]) == "-0.0"
    with pytest.raises(StoreError, match="already stored"):
        save_record(rec, pg_url)
    save_record(_record("run-0").model_copy(update={"started_at": "2024-12-31T00:00:00Z"}), pg_url)
    with open_store(pg_url) as store:
        assert [r.run_id for r in store.list_bench_runs()] == ["run-0", "run-1"]
        assert store.get_bench_run("nope") is None
