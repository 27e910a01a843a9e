"""``mlrails drift`` on a real SQLite decision log, as a real subprocess."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from logkit import served_records
from runcli import run_cli


def _log(
    db: Path,
    X: pd.DataFrame,
    when: datetime,
    trace: str,
    rails: Any = None,
    outputs: list[dict[str, Any]] | None = None,
) -> None:
    """Log ``X`` as served rows; with ``rails``, each with its real verdict as output (or
    with the ``outputs`` given)."""
    from mlrails.store import open_store

    if outputs is None:
        outputs = (
            [{"prediction": 1, "status": 200}] * len(X)
            if rails is None
            else [v.to_dict() for v in rails.check(X)]
        )
    records = served_records(X, outputs, when, trace)
    with open_store(db) as store:
        store.write_decisions(records)


@pytest.mark.slow
def test_drift_alarms_on_shifted_traffic_only(
    cancer: Any, cancer_rails: Any, tmp_path: Path
) -> None:
    from mlrails.drift import ReferenceProfile, compare

    cancer_rails.save(tmp_path / "rails")
    train = cancer.X_train.assign(label=cancer.y_train)
    train.to_csv(tmp_path / "train.csv", index=False)
    now = datetime.now(UTC)
    shifted = cancer.X_test.assign(**{"mean radius": cancer.X_test["mean radius"] * 1.3})
    _log(tmp_path / "calm.db", cancer.X_test, now, "calm", cancer_rails)
    _log(tmp_path / "shift.db", cancer.X_test, now - timedelta(days=2), "old")  # outside 1h
    _log(tmp_path / "shift.db", shifted, now, "new", cancer_rails)
    common = ("--reference", "train.csv", "--target", "label", "--window", "1h")
    calm = run_cli("drift", "rails", "--store", "calm.db", *common, cwd=tmp_path)
    assert calm.returncode == 0, calm.stderr
    # 30 inputs against train.csv, prediction and confidence against the artifact's reference
    assert "0 of 32 field(s) alarm" in calm.stderr
    r = run_cli("drift", "rails", "--store", "shift.db", *common, "--json", "d.json", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "mean radius" in r.stderr and "drift alarm" in r.stdout
    doc = json.loads((tmp_path / "d.json").read_text())
    # the window is exactly the recent rows: the same numbers as comparing them directly
    direct = compare(ReferenceProfile.fit(cancer.X_train), shifted)
    assert doc["inputs"]["alarming"] == direct.alarming
    assert doc["n_rows"] == len(shifted)
    got = {f["field"]: f for f in doc["inputs"]["fields"]}
    for f in direct.fields:
        assert got[f.field]["statistic"] == f.statistic and got[f.field]["n_cur"] == len(shifted)
    never = run_cli(
        "drift", "rails", "--store", "shift.db", *common, "--fail-on", "never", cwd=tmp_path
    )
    assert never.returncode == 0


def test_drift_json_counts_refused_rows_apart(
    cancer: Any, cancer_rails: Any, tmp_path: Path
) -> None:
    """A row refused with 400 (a huge value) in the window: the input statistics are those of
    the clean rows alone; the JSON and the terminal count the refusal."""
    from dataclasses import replace

    from mlrails.drift import ReferenceProfile, compare
    from mlrails.store import DecisionRecord, open_store

    cancer_rails.save(tmp_path / "rails")
    cancer.X_train.assign(label=cancer.y_train).to_csv(tmp_path / "train.csv", index=False)
    now = datetime.now(UTC)
    _log(tmp_path / "log.db", cancer.X_test, now, "clean", cancer_rails)
    bad = {str(k): float(v) for k, v in cancer.X_test.iloc[0].items()} | {"mean radius": 3.9e6}
    (verdict,) = cancer_rails.check(pd.DataFrame([bad]))
    assert verdict.status == 400
    record = DecisionRecord(
        time=now, trace_id="bad", key_id=None, artifact_hash="h", row_index=0, status=400,
        problem=verdict.problem, input=bad, output=verdict.to_dict(), scores=None, latency_ms=1.0,
    )  # fmt: skip
    with open_store(tmp_path / "log.db") as store:
        store.write_decisions([replace(record)])
    r = run_cli(
        "drift", "rails", "--store", "log.db", "--reference", "train.csv", "--target", "label",
        "--window", "1h", "--json", "d.json", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "1 row(s) refused by validation" in r.stderr
    doc = json.loads((tmp_path / "d.json").read_text())
    n = len(cancer.X_test)
    assert doc["n_rows"] == n and doc["n_refused"] == 1
    assert doc["refusal_rate"] == pytest.approx(1 / (n + 1))
    direct = compare(ReferenceProfile.fit(cancer.X_train), cancer.X_test)
    got = {f["field"]: f for f in doc["inputs"]["fields"]}
    for f in direct.fields:
        assert got[f.field]["statistic"] == f.statistic and got[f.field]["n_cur"] == n
    assert got["mean radius"]["effect_size"] == direct["mean radius"].effect_size


def test_drift_bad_input_is_one_line(cancer_rails: Any, tmp_path: Path) -> None:
    cancer_rails.save(tmp_path / "rails")
    r = run_cli("drift", "rails", "--store", "none.db", "--bundled", "breast_cancer", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "none.db" in r.stderr
    r = run_cli("drift", "rails", "--store", "none.db", cwd=tmp_path)
    assert r.returncode == 2 and "none.db" in r.stderr
    r = run_cli(
        "drift",
        "rails",
        "--store",
        "n.db",
        "--bundled",
        "wine",
        "--reference",
        "t.csv",
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "--reference FILE or --bundled" in r.stderr
    r = run_cli("drift", "rails", "--store", "x.db", "--bundled", "iris", cwd=tmp_path)
    assert r.returncode == 2 and "breast_cancer or wine" in r.stderr


@pytest.mark.slow
def test_drift_uses_the_reference_kept_in_the_artifact(
    cancer: Any, cancer_rails: Any, tmp_path: Path
) -> None:
    """No --reference: inputs against the training rows, answers against the calibration
    split's, both kept by ``fit``; a model that suddenly answers one class alarms on
    ``prediction`` even though no input moved."""
    from mlrails.drift import compare

    cancer_rails.save(tmp_path / "rails")
    now = datetime.now(UTC)
    _log(tmp_path / "calm.db", cancer.X_test, now, "calm", cancer_rails)
    r = run_cli("drift", "rails", "--store", "calm.db", "--json", "c.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "c.json").read_text())
    kept = cancer_rails.reference
    direct = compare(kept.inputs, cancer.X_test)
    got = {f["field"]: f for f in doc["inputs"]["fields"]}
    assert set(got) == set(cancer.X_test.columns)
    for f in direct.fields:
        assert got[f.field]["p_value"] == f.p_value
    assert [f["field"] for f in doc["outputs"]["fields"]] == ["prediction", "confidence"]

    verdicts = [v.to_dict() for v in cancer_rails.check(cancer.X_test)]
    for v in verdicts:
        v["prediction"] = 0 if v["prediction"] is not None else None
    _log(tmp_path / "stuck.db", cancer.X_test, now, "s", outputs=verdicts)
    stuck = run_cli("drift", "rails", "--store", "stuck.db", "--json", "s.json", cwd=tmp_path)
    assert stuck.returncode == 1, stuck.stderr
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["alarming"] == ["prediction"]


def test_serve_drift_options_are_checked_before_anything_starts(tmp_path: Path) -> None:
    r = run_cli("serve", "rails", "--drift-every", "soon", cwd=tmp_path)
    assert r.returncode == 2 and "--drift-every 'soon': not a duration" in r.stderr
    r = run_cli("serve", "rails", "--drift-webhook", "ftp://x", cwd=tmp_path)
    assert r.returncode == 2 and "drift_webhook" in r.stderr
    r = run_cli("serve", "rails", "--descriptors", "nowhere", cwd=tmp_path)
    assert r.returncode == 2 and "--descriptors nowhere: not a directory" in r.stderr
    assert "Traceback" not in r.stderr
