"""``mlrails drift`` on a real SQLite decision log, as a real subprocess."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runcli import run_cli


def _log(db: Path, X: pd.DataFrame, when: datetime, trace: str) -> None:
    from mlrails.store import DecisionRecord, open_store

    records = [
        DecisionRecord(
            time=when,
            trace_id=f"{trace}-{i}",
            key_id=None,
            artifact_hash="h",
            row_index=0,
            status=200,
            problem=None,
            input={str(k): float(v) for k, v in row.items()},
            output={"prediction": 1, "status": 200},
            scores=None,
            latency_ms=1.0,
        )
        for i, (_, row) in enumerate(X.iterrows())
    ]
    with open_store(db) as store:
        store.write_decisions(records)


@pytest.mark.slow
def test_drift_alarms_on_shifted_traffic_only(
    cancer: Any, cancer_rails: Any, tmp_path: Path
) -> None:
    from mlrails.mismatch import ReferenceProfile, compare

    cancer_rails.save(tmp_path / "rails")
    train = cancer.X_train.assign(label=cancer.y_train)
    train.to_csv(tmp_path / "train.csv", index=False)
    now = datetime.now(UTC)
    shifted = cancer.X_test.assign(**{"mean radius": cancer.X_test["mean radius"] * 1.3})
    _log(tmp_path / "calm.db", cancer.X_test, now, "calm")
    _log(tmp_path / "shift.db", cancer.X_test, now - timedelta(days=2), "old")  # outside 1h
    _log(tmp_path / "shift.db", shifted, now, "new")
    common = ("--reference", "train.csv", "--target", "label", "--window", "1h")
    calm = run_cli("drift", "rails", "--store", "calm.db", *common, cwd=tmp_path)
    assert calm.returncode == 0, calm.stderr
    assert "0 of 30 field(s) alarm" in calm.stderr
    r = run_cli("drift", "rails", "--store", "shift.db", *common, "--json", "d.json", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "mean radius" in r.stderr and "drift alarm" in r.stdout
    doc = json.loads((tmp_path / "d.json").read_text())
    # the window is exactly the recent rows: the same numbers as comparing them directly
    direct = compare(ReferenceProfile.fit(cancer.X_train), shifted)
    assert doc["alarming"] == direct.alarming
    got = {f["field"]: f for f in doc["fields"]}
    for f in direct.fields:
        assert got[f.field]["statistic"] == f.statistic and got[f.field]["n_cur"] == len(shifted)
    never = run_cli(
        "drift", "rails", "--store", "shift.db", *common, "--fail-on", "never", cwd=tmp_path
    )
    assert never.returncode == 0


def test_drift_bad_input_is_one_line(cancer_rails: Any, tmp_path: Path) -> None:
    cancer_rails.save(tmp_path / "rails")
    r = run_cli("drift", "rails", "--store", "none.db", "--bundled", "breast_cancer", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "none.db" in r.stderr
    r = run_cli("drift", "rails", "--store", "none.db", cwd=tmp_path)
    assert r.returncode == 2 and "--reference FILE or --bundled" in r.stderr
    r = run_cli("drift", "rails", "--store", "x.db", "--bundled", "iris", cwd=tmp_path)
    assert r.returncode == 2 and "breast_cancer or wine" in r.stderr
