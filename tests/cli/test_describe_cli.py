"""``mlrails describe`` end to end: the real console script on a saved artifact, a training
CSV, a filled context and a SQLite decision log."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlrails.describe import TO_FILL
from mlrails.descriptors import read_descriptor_dir
from runcli import run_cli

pytestmark = pytest.mark.slow


def one_line_error(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, cancer: Any, cancer_rails: Any) -> Path:
    from mlrails.store import DecisionRecord, open_store

    root = tmp_path_factory.mktemp("describe-cli")
    cancer_rails.save(root / "rails")
    cancer.X_train.assign(label=cancer.y_train).to_csv(root / "train.csv", index=False)
    cancer.X_test.assign(label=cancer.y_test).to_csv(root / "test.csv", index=False)
    now = datetime.now(UTC)
    with open_store(root / "decisions.db") as store:
        store.write_decisions(
            [
                DecisionRecord(
                    time=now - timedelta(days=2) if i < 10 else now,
                    trace_id=f"t{i}",
                    key_id=None,
                    artifact_hash=cancer_rails.artifact_hash,
                    row_index=0,
                    status=200,
                    problem=None,
                    input={str(k): float(v) for k, v in row.items()},
                    output={"prediction": int(cancer.y_test[i])},
                    scores=None,
                    latency_ms=1.0,
                )
                for i, (_, row) in enumerate(cancer.X_test.iloc[:30].iterrows())
            ]
        )
    return root


def test_init_then_describe_writes_readable_descriptors(workspace: Path) -> None:
    init = run_cli("describe", "--init")
    assert init.returncode == 0 and "risk_fn" in init.stdout
    (workspace / "context.yaml").write_text(init.stdout.replace(TO_FILL, "filled"))
    res = run_cli(
        "describe", "rails", "--train", "train.csv", "--target", "label", "--eval", "test.csv",
        "--context", "context.yaml", "--store", "decisions.db", "--window", "1h",
        "--repeats", "5", "--out", "descriptors", cwd=workspace,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for kind in ("trained_model", "training_data", "production_data", "raw_data"):
        assert kind in res.stdout
    assert "not written" in res.stdout and "p99" in res.stdout
    found = read_descriptor_dir(workspace / "descriptors")
    assert not found.errors and sorted(found.missing) == ["data_pipeline", "raw_data"]
    production = found.production_data
    assert production is not None
    stats = production.statistics_for("mean radius")
    assert stats is not None and stats.count == 20  # the 10 rows two days old are outside 1h
    model = found.trained_model
    assert model is not None and model.evaluation_dataset.name.startswith("calibration split")
    assert model.test_dataset.name == "test.csv"


def test_bundled_data_needs_no_files(workspace: Path) -> None:
    res = run_cli("describe", "rails", "--bundled", "breast_cancer", "--repeats", "3",
                  "--out", "bundled", cwd=workspace)  # fmt: skip
    assert res.returncode == 0, res.stderr
    found = read_descriptor_dir(workspace / "bundled")
    assert found.training_data is not None and found.trained_model is not None


def test_bad_yaml_is_a_one_line_error(workspace: Path) -> None:
    (workspace / "bad.yaml").write_text("task: [unclosed\n")
    one_line_error(run_cli("describe", "--context", "bad.yaml", cwd=workspace), "bad.yaml")


def test_bad_window_and_missing_target(workspace: Path) -> None:
    one_line_error(
        run_cli("describe", "--store", "decisions.db", "--window", "soon", cwd=workspace),
        "--window",
    )
    one_line_error(run_cli("describe", "--train", "train.csv", cwd=workspace), "--target")
