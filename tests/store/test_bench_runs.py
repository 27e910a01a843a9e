"""Benchmark runs in the store (SQLite) and as JSON files: exact round trips, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlrails.bench.archive import load_record, save_record
from mlrails.bench.record import CellRecord, Machine, RecordError, RunRecord, pack_bits
from mlrails.store import StoreError, open_store

#: floats whose text must survive exactly (shortest repr, subnormal, negative zero)
AWKWARD = [0.1 + 0.2, 1e-300, 5e-324, -0.0, 2.0**0.5, 123456789.12345678]


def make_record(run_id: str = "20250101T000000Z-abc", *, started: str = "00:00:00") -> RunRecord:
    right = np.arange(171) % 7 != 0
    good = CellRecord(
        pair="model",
        kind="perturbation",
        name="gaussian_noise",
        severity=5,
        seed=0,
        params={"fraction": 0.3},
        n=171,
        n_wrong=int((~right).sum()),
        metrics={f"m{i}": v for i, v in enumerate(AWKWARD)} | {"auroc.ood": None},
        intervals={"m0": (AWKWARD[0], AWKWARD[3])},
        status_mix={"200": 0.9, "203": 0.1},
        classes=[0, 1],
        confusion=[[60, 4], [3, 104]],
        correct=pack_bits(right),
        rows_hash="ab" * 32,
        wall_s=0.25,
        peak_mb=3.5,
    )
    bad = CellRecord(
        pair="model", kind="perturbation", name="category_swap", severity=1, seed=0,
        error="PerturbationError: no categorical column",
    )  # fmt: skip
    return RunRecord(
        run_id=run_id,
        config={"artifact": "/x/rails", "seeds": [0]},
        config_hash="c" * 64,
        data_hashes={"test": "d" * 64},
        pairs=[],
        seeds=[0],
        packages={"numpy": np.__version__},
        git_commit="f" * 40 + "+dirty",
        mlrails_version="0.1.0",
        machine=Machine(hostname="h", platform="p", python="3.11", cpu="c", cpu_count=2),
        started_at=f"2025-01-01T{started}.000+00:00",
        finished_at=f"2025-01-01T{started}.500+00:00",
        wall_s=0.5,
        cells=[good, bad],
    )


def test_runs_round_trip_through_the_store_exactly(tmp_path: Path) -> None:
    rec = make_record()
    with open_store(tmp_path / "log.db") as store:
        store.add_bench_run(json.loads(rec.to_json()))
        raw = store.get_bench_run(rec.run_id)
        assert raw is not None and RunRecord.model_validate(raw) == rec
        assert (
            raw["cells"][0]["metrics"]["m3"] == 0.0
            and str(raw["cells"][0]["metrics"]["m3"]) == "-0.0"
        )
        assert store.get_bench_run("nope") is None
        [row] = store.list_bench_runs()
    assert (row.run_id, row.n_cells, row.n_failed) == (rec.run_id, 2, 1)
    assert row.config_hash == rec.config_hash and row.git_commit == rec.git_commit
    assert row.started_at.isoformat() == "2025-01-01T00:00:00+00:00"
    assert row.finished_at.isoformat() == "2025-01-01T00:00:00.500000+00:00"


def test_runs_are_listed_oldest_first_and_ids_are_unique(tmp_path: Path) -> None:
    with open_store(tmp_path / "log.db") as store:
        store.add_bench_run(json.loads(make_record("b", started="10:00:00").to_json()))
        store.add_bench_run(json.loads(make_record("a", started="11:00:00").to_json()))
        with pytest.raises(StoreError, match="run 'a' is already stored"):
            store.add_bench_run(json.loads(make_record("a").to_json()))
        with pytest.raises(StoreError, match="not a benchmark record"):
            store.add_bench_run({"run_id": "c"})
        assert [r.run_id for r in store.list_bench_runs()] == ["b", "a"]
        # the decision log is untouched
        assert store.count_decisions() == 0


def test_save_and_load_by_run_id_or_path(tmp_path: Path) -> None:
    rec = make_record()
    db = tmp_path / "log.db"
    assert save_record(rec, db) == rec.run_id
    assert load_record(rec.run_id, db) == rec
    path = rec.write(tmp_path / "out" / "run.json")
    back = load_record(path)
    assert back == rec and load_record(str(path), db) == rec
    assert json.loads(back.to_json()) == json.loads(rec.to_json())
    assert back.cells[0].metrics["m4"] == AWKWARD[4]


def test_unknown_references_fail_clearly(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    save_record(make_record(), db)
    with pytest.raises(RecordError, match="nope: neither a record file nor a run id in the store"):
        load_record("nope", db)
    with pytest.raises(RecordError, match="no such record file"):
        load_record("nope")
    with pytest.raises(StoreError, match="no such store"):
        load_record("nope", tmp_path / "missing.db")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(RecordError, match="not a benchmark record"):
        load_record(tmp_path / "x.json", db)


def test_a_stored_record_that_is_not_valid_fails_clearly(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    raw: dict[str, Any] = json.loads(make_record("bad").to_json())
    raw["cells"][0]["severity"] = "high"
    with open_store(db) as store:
        store.add_bench_run(raw)
    with pytest.raises(RecordError, match=r"run 'bad' in .*: cells\.0\.severity"):
        load_record("bad", db)
