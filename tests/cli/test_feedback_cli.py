"""``mlrails feedback`` in process (Typer's CliRunner) against a real SQLite decision log."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from labelkit import NEVER, A, B, log_decisions
from mlrails.cli.main import app
from mlrails.store import open_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "decisions.db"
    with open_store(path) as store:
        log_decisions(store)
    return path


def _run(*args: object) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return res.exit_code, res.stdout, res.stderr


def test_feedback_files_labels_and_prints_the_counts(db: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(f"trace_id,row,label\n{A},0,1\n{A},1,0\n{NEVER},0,1\n{A},0,1\n")
    code, out, err = _run("feedback", labels, "--store", db)
    assert code == 0, err
    assert "4 labels" in out
    for outcome, n in (("matched", 2), ("unknown", 1), ("duplicate", 1), ("changed", 0)):
        assert any(
            outcome in line and line.rstrip(" │").endswith(str(n)) for line in out.splitlines()
        ), out

    labels.write_text(f"trace_id,row,label\n{A},0,1\n{A},1,1\n")
    code, out, err = _run("feedback", labels, "--store", db, "--json")
    assert code == 0, err
    assert json.loads(out) == {"matched": 0, "unknown": 0, "duplicate": 1, "changed": 1}
    with open_store(db) as store:
        got = {(r.trace_id, r.row_index): (r.label, r.revision) for r in store.labelled_decisions()}
    assert got == {(A, 0): (1, 1), (A, 1): (1, 2)}


def test_feedback_with_named_columns_from_parquet(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    labels = tmp_path / "truth.parquet"
    pd.DataFrame({"trace": [B, A], "truth": ["yes", "no"]}).to_parquet(labels)
    code, out, err = _run(
        "feedback",
        labels,
        "--store",
        db,
        "--trace-id-column",
        "trace",
        "--label-column",
        "truth",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == {"matched": 2, "unknown": 0, "duplicate": 0, "changed": 0}


def test_feedback_fails_with_one_line(db: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(f"id,label\n{A},1\n")
    code, _, err = _run("feedback", labels, "--store", db)
    assert code == 2 and "error:" in err and "no column 'trace_id'" in err
    code, _, err = _run(
        "feedback", labels, "--store", db, "--trace-id-column", "id", "--row-column", "r"
    )
    assert code == 2 and "no column 'r'" in err
    labels.write_text(f"trace_id,label\n{A},\n")
    code, _, err = _run("feedback", labels, "--store", db)
    assert code == 2 and "line 2" in err
    labels.write_text(f"trace_id,label\n{A},1\n")
    code, _, err = _run("feedback", labels, "--store", tmp_path / "missing.db")
    assert code == 2 and "no such store" in err
    assert "Traceback" not in err
    with open_store(db) as store:
        assert store.labelled_decisions() == []
