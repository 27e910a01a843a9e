"""``mlrails bench`` as a real subprocess on a saved artifact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlrails.bench.grid import GridConfig, run_grid

MLRAILS = Path(sys.executable).with_name("mlrails")


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
        check=False,
    )


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


def test_bench_runs_the_grid_and_writes_json(workdir: Path, cancer: Any) -> None:
    r = _cli("bench", "bench.yaml", "--json", "cells.json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "gaussian_noise/s5/seed0" in r.stdout and "failed" in r.stdout
    assert "1 cell(s) failed" in r.stderr
    cells = json.loads((workdir / "cells.json").read_text())
    assert [c["spec"]["perturbation"] for c in cells] == [
        "none",
        "gaussian_noise",
        "gaussian_noise",
        "category_swap",
    ]
    cfg = GridConfig.model_validate(
        {
            "artifact": workdir / "rails",
            "data": {"bundled": "breast_cancer"},
            "perturbations": [{"name": "gaussian_noise", "severities": [1, 5]}],
        }
    )
    direct = run_grid(cfg, cancer.X_test, cancer.y_test, cancer.X_train)
    for c, d in zip(cells, direct, strict=False):
        assert d.model is not None
        assert c["model"]["accuracy"] == d.model.accuracy
    assert cells[3]["error"].startswith("PerturbationError")


def test_init_writes_a_config_that_validates(workdir: Path) -> None:
    r = _cli("bench", "--init", cwd=workdir)
    assert r.returncode == 0 and "perturbations:" in r.stdout
    (workdir / "example.yaml").write_text(r.stdout)
    from mlrails.bench.grid import read_config

    assert read_config(workdir / "example.yaml").seeds == [0, 1, 2]


def test_bad_config_is_one_line_error(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(
        "artifact: rails\ndata: {bundled: breast_cancer}\nperturbations: [{name: nois}]\n"
    )
    r = _cli("bench", "bad.yaml", cwd=workdir)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "unknown perturbation 'nois'" in lines[0]
    r = _cli("bench", cwd=workdir)
    assert r.returncode == 2 and "--init" in r.stderr
