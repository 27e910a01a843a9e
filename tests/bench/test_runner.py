"""A benchmark run's record, verified bit for bit; changed inputs and tampered numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlrails.bench.gate import compare_to_baseline
from mlrails.bench.grid import GridConfig
from mlrails.bench.provenance import config_hash, directory_hash
from mlrails.bench.record import RecordError, RunRecord
from mlrails.bench.runner import ABSENT, Mismatch, compare_cells, run_benchmark, verify_record
from mlrails.measure import ProvenanceError

DATA = {"bundled": "breast_cancer"}
KEYS = ["model:none/s1/seed0", "model:gaussian_noise/s1/seed0", "model:gaussian_noise/s5/seed0"]


def config(artifact: Path) -> GridConfig:
    return GridConfig(
        artifact=artifact,
        data=DATA,
        perturbations=[{"name": "gaussian_noise", "severities": [1, 5]}],
        seeds=[0],
        n_resamples=200,
    )


@pytest.fixture(scope="module")
def artifact(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runner") / "rails"
    cancer_rails.save(path)
    return path


@pytest.fixture(scope="module")
def run(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRecord, Path]:
    """The run, and its record written to and read back from JSON."""
    seen: list[str] = []
    rec = run_benchmark(config(artifact), progress=lambda c: seen.append(c.key))
    assert seen == KEYS
    path = rec.write(tmp_path_factory.mktemp("record") / "run.json")
    return rec, path


def test_the_record_holds_cells_and_provenance(run: tuple[RunRecord, Path], artifact: Path) -> None:
    rec, path = run
    assert [c.key for c in rec.cells] == KEYS and all(c.error is None for c in rec.cells)
    assert rec.config == config(artifact).model_dump(mode="json")
    assert rec.config_hash == config_hash(config(artifact))
    assert set(rec.data_hashes) == {"test", "reference"}
    [pair] = rec.pairs
    assert pair.name == "model" and pair.artifact_hash == directory_hash(artifact)
    assert pair.task == "classification" and pair.model_class.endswith("RandomForestClassifier")
    assert rec.seeds == [0] and rec.executor == "local" and rec.packages["numpy"]
    assert rec.started_at <= rec.finished_at and rec.wall_s > 0
    assert rec.run_id.endswith(tuple("0123456789abcdef")) and rec.machine.cpu_count >= 1
    assert RunRecord.read(path) == rec  # exact JSON round trip, floats included


def test_relative_paths_are_recorded_absolute(
    artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlrails.bench import runner

    monkeypatch.chdir(artifact.parent)
    seen: dict[str, Any] = {}

    def fake_grid(cfg: GridConfig, *args: Any, **kw: Any) -> list[Any]:
        seen["config"] = cfg
        return []

    monkeypatch.setattr(runner, "run_grid", fake_grid)
    rec = run_benchmark(config(Path("rails")), config_dir=artifact.parent)
    assert rec.config["artifact"] == str(artifact) and seen["config"].artifact == artifact
    assert rec.config_hash == config_hash(config(artifact), artifact.parent)


@pytest.mark.slow
def test_a_rerun_is_bit_identical(run: tuple[RunRecord, Path]) -> None:
    _, path = run
    res = verify_record(RunRecord.read(path))
    assert res.identical and res.n_cells == 3 and res.mismatches == []


@pytest.mark.slow
def test_a_tampered_metric_is_reported_exactly(run: tuple[RunRecord, Path], tmp_path: Path) -> None:
    _, path = run
    raw = json.loads(path.read_text())
    acc = raw["cells"][2]["metrics"]["accuracy"]
    nudged = float(np.nextafter(acc, 2.0))  # one bit in the last place
    raw["cells"][2]["metrics"]["accuracy"] = nudged
    raw["cells"][0]["wall_s"] = 1e9  # timings are not compared
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(raw))
    res = verify_record(RunRecord.read(tampered))
    assert not res.identical and res.n_cells == 3
    assert res.mismatches == [Mismatch(KEYS[2], "metrics.accuracy", nudged, acc)]


def test_cells_are_compared_field_by_field(run: tuple[RunRecord, Path]) -> None:
    rec, _ = run
    now = [c.model_copy(deep=True) for c in rec.cells]
    assert compare_cells(rec.cells, now) == []
    now[0].confusion = [[1, 2], [3, 4]]
    now[0].status_mix = {**now[0].status_mix, "200": 0.0}
    now[1].error = "ValueError: x"
    now[1].intervals = {k: v for k, v in now[1].intervals.items() if k != "brier"}
    del now[2]
    got = compare_cells(rec.cells, now)
    assert [(m.key, m.field) for m in got] == [
        (KEYS[0], "status_mix.200"),
        (KEYS[0], "confusion"),
        (KEYS[1], "intervals.brier"),
        (KEYS[1], "error"),
        (KEYS[2], "cell"),
    ]
    assert got[1].recorded == rec.cells[0].confusion and got[1].now == [[1, 2], [3, 4]]
    assert got[2].now == ABSENT and got[4].now == ABSENT
    assert compare_cells([], rec.cells[:1]) == [Mismatch(KEYS[0], "cell", ABSENT, "present")]


def _moved(rec: RunRecord, artifact: Path) -> RunRecord:
    return rec.model_copy(update={"config": {**rec.config, "artifact": str(artifact)}})


def test_a_changed_artifact_stops_verification(
    run: tuple[RunRecord, Path], artifact: Path, tmp_path: Path, cancer: Any, cancer_forest: Any
) -> None:
    import mlrails

    rec, _ = run
    copy = tmp_path / "rails"
    shutil.copytree(artifact, copy)
    with (copy / "policy.json").open("ab") as f:
        f.write(b" ")
    msg = r"artifact of pair 'model' changed since the run: hash [0-9a-f]{12}… ≠ [0-9a-f]{12}…"
    with pytest.raises(ProvenanceError, match=msg):
        verify_record(_moved(rec, copy))
    other = mlrails.fit(
        cancer_forest, cancer.X_train, cancer.y_train, policy={"calibration_fraction": 0.2}
    )
    shutil.rmtree(copy)
    other.save(copy)
    with pytest.raises(ProvenanceError, match="artifact of pair 'model' changed since the run"):
        verify_record(_moved(rec, copy))


def test_changed_data_or_model_stop_verification(run: tuple[RunRecord, Path]) -> None:
    rec, _ = run
    other_split = {**rec.config, "data": {**rec.config["data"], "split_seed": 1}}
    with pytest.raises(ProvenanceError, match="test data changed since the run"):
        verify_record(rec.model_copy(update={"config": other_split}))
    pair = rec.pairs[0].model_copy(update={"model_hash": "0" * 64})
    with pytest.raises(ProvenanceError, match=r"model of pair 'model' changed .* 000000000000…"):
        verify_record(rec.model_copy(update={"pairs": [pair]}))
    with pytest.raises(RecordError, match="pair 'model' has no provenance"):
        verify_record(rec.model_copy(update={"pairs": []}))
    with pytest.raises(RecordError, match="config: seeds"):
        verify_record(rec.model_copy(update={"config": {**rec.config, "seeds": []}}))


@pytest.mark.slow
def test_the_gate_passes_a_rerun_and_catches_a_worse_model(
    run: tuple[RunRecord, Path], tmp_path: Path, cancer: Any
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    import mlrails

    good, _ = run
    assert compare_to_baseline(good, good).ok
    # a model trained on shuffled labels, behind rails fitted the same way
    y_bad = np.random.default_rng(0).permutation(cancer.y_train)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(cancer.X_train, y_bad)
    bad_rails = mlrails.fit(forest, cancer.X_train, y_bad, policy={"calibration_fraction": 0.3})
    bad_rails.save(tmp_path / "bad")
    bad = run_benchmark(config(tmp_path / "bad"))
    res = compare_to_baseline(bad, good)
    assert not res.ok and "pair 'model': the model differs" in res.notes
    clean = next(t for t in res.tests if t.key == KEYS[0] and t.metric == "accuracy")
    assert clean.test == "mcnemar-exact" and clean.regressed and clean.p_holm is not None
    assert clean.p_holm < 1e-6 and clean.difference is not None and clean.difference < -0.2
