"""``mlrails bench`` as a real subprocess on a saved artifact."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlrails.bench.grid import GridConfig, run_grid
from runcli import run_cli


@pytest.fixture(scope="module")
def workdir(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("benchcli")
    cancer_rails.save(d / "rails")
    (d / "bench.yaml").write_text(
        "artifact: rails\n"
        "data: {bundled: breast_cancer}\n"
        "perturbations:\n"
        "  - {name: gaussian_noise, severities: [1, 5]}\n"
        "  - {name: category_swap, severities: [2]}\n"
        "seeds: [0]\n"
    )
    return d


def test_bench_runs_the_grid_records_and_reports(workdir: Path, cancer: Any) -> None:
    r = run_cli("bench", "bench.yaml", "--out", "out", "--store", "runs.db", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "model:gaussian_noise/s5/seed0" in r.stdout and "failed" in r.stdout
    assert "1 cell(s) failed" in r.stderr
    record = json.loads((workdir / "out" / "record.json").read_text())
    assert [c["name"] for c in record["cells"]] == [
        "none",
        "gaussian_noise",
        "gaussian_noise",
        "category_swap",
    ]
    assert (workdir / "out" / "report.html").stat().st_size > 1000
    assert "gaussian_noise" in (workdir / "out" / "summary.md").read_text()
    cfg = GridConfig.model_validate(
        {
            "artifact": workdir / "rails",
            "data": {"bundled": "breast_cancer"},
            "perturbations": [{"name": "gaussian_noise", "severities": [1, 5]}],
        }
    )
    direct = run_grid(cfg, cancer.X_test, cancer.y_test, cancer.X_train)
    for c, d in zip(record["cells"], direct, strict=False):
        assert c["metrics"]["accuracy"] == d.metrics["accuracy"]
        assert c["intervals"]["accuracy"] == list(d.intervals["accuracy"])
    assert record["cells"][3]["error"].startswith("PerturbationError")
    # the run is in the database: verify it by id, and re-render its report
    run_id = record["run_id"]
    v = run_cli("bench", "verify", run_id, "--store", "runs.db", cwd=workdir)
    assert v.returncode == 0, v.stderr
    assert "identical" in v.stdout and "4 cells" in v.stdout
    rep = run_cli("bench", "report", "out/record.json", "--out", "again", cwd=workdir)
    assert rep.returncode == 0, rep.stderr
    assert (workdir / "again" / "summary.md").read_text() == (
        workdir / "out" / "summary.md"
    ).read_text()


def test_verify_reports_a_tampered_record(workdir: Path) -> None:
    record = json.loads((workdir / "out" / "record.json").read_text())
    record["cells"][1]["metrics"]["accuracy"] += 1e-12
    (workdir / "tampered.json").write_text(json.dumps(record))
    v = run_cli("bench", "verify", "tampered.json", "--no-store", cwd=workdir)
    assert v.returncode == 1
    assert "model:gaussian_noise/s1/seed0 metrics.accuracy" in v.stdout
    # the outcome is kept beside the record, as evidence for `mlrails score`
    kept = json.loads((workdir / "tampered.verified.json").read_text())
    assert kept["run_id"] == record["run_id"] and kept["identical"] is False
    assert kept["n_mismatches"] >= 1 and kept["n_cells"] == len(record["cells"])


def test_baseline_gate_fails_on_a_planted_regression(workdir: Path) -> None:
    record = json.loads((workdir / "out" / "record.json").read_text())
    base = json.loads(json.dumps(record))
    for cell in base["cells"]:  # a baseline where the model got every row right
        if cell["error"] is None:
            n = cell["n"]
            cell["metrics"]["accuracy"] = 1.0
            cell["n_wrong"] = 0
            cell["metrics"]["silent_failure_rate"] = None
            cell["correct"] = base64.b64encode(np.packbits(np.ones(n, bool)).tobytes()).decode()
    (workdir / "perfect.json").write_text(json.dumps(base))
    r = run_cli(
        "bench", "bench.yaml", "--out", "gated", "--no-store", "--baseline", "perfect.json",
        cwd=workdir,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "regression" in r.stderr and "model:gaussian_noise/s5/seed0 accuracy" in r.stderr
    same = run_cli(
        "bench", "bench.yaml", "--out", "gated", "--no-store", "--baseline", "out/record.json",
        cwd=workdir,
    )  # fmt: skip
    assert same.returncode == 0, same.stderr
    assert "no significant regression" in same.stderr


def test_init_writes_a_config_that_validates(workdir: Path) -> None:
    r = run_cli("bench", "--init", cwd=workdir)
    assert r.returncode == 0 and "perturbations:" in r.stdout
    (workdir / "example.yaml").write_text(r.stdout)
    from mlrails.bench.grid import read_config

    assert read_config(workdir / "example.yaml").seeds == [0, 1, 2]


def test_bad_config_is_one_line_error(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(
        "artifact: rails\ndata: {bundled: breast_cancer}\nperturbations: [{name: nois}]\n"
    )
    r = run_cli("bench", "bad.yaml", cwd=workdir)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "unknown perturbation 'nois'" in lines[0]
    r = run_cli("bench", cwd=workdir)
    assert r.returncode == 2 and "--init" in r.stderr
    r = run_cli("bench", "verify", "nothing.json", "--no-store", cwd=workdir)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "nothing.json" in r.stderr
    (workdir / "junk.json").write_text("{not json")
    r = run_cli("bench", "verify", "junk.json", "--no-store", cwd=workdir)
    assert r.returncode == 2 and "not a JSON benchmark record" in r.stderr


def test_config_out_is_used_the_flag_wins_and_no_database_appears(workdir: Path) -> None:
    """`out:` in the config is the output folder (relative to the config), `--out` wins over
    it, and without `--store` no database file is created anywhere."""
    sub = workdir / "conf"
    sub.mkdir()
    (sub / "out.yaml").write_text(
        "artifact: ../rails\n"
        "data: {bundled: breast_cancer}\n"
        "perturbations: [{name: gaussian_noise, severities: [1]}]\n"
        "out: from-config\n"
    )
    before = set(workdir.rglob("*.db"))
    r = run_cli("bench", "conf/out.yaml", cwd=workdir)
    assert r.returncode == 0, r.stderr
    first = json.loads((sub / "from-config" / "record.json").read_text())
    assert "stored in" not in r.stderr and set(workdir.rglob("*.db")) == before
    assert not (workdir / "mlrails.db").exists()
    r = run_cli("bench", "conf/out.yaml", "--out", "flag-out", cwd=workdir)
    assert r.returncode == 0, r.stderr
    second = json.loads((workdir / "flag-out" / "record.json").read_text())
    assert second["config_hash"] == first["config_hash"]  # where results go is no input
    assert set(workdir.rglob("*.db")) == before
