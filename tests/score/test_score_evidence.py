"""Evidence read from real sources; every bad source becomes a gap naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from evidencekit import World, build_world, write_project

from mlrails.score.evidence import collect, scan_project
from mlrails.score.sources import EvidenceSources


@pytest.fixture(scope="module")
def world(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("evidence"), cancer_rails)


def test_every_source_yields_facts(world: World) -> None:
    ev = collect(world.sources())
    assert ev.gaps == ()
    a = ev.artifact
    assert a is not None and a.n_fields == 30 and a.layout == "frame" and a.task == "classification"
    assert a.validation_mode == "block" and a.calibration_method == "temperature"
    assert a.drift_reference == ("reference_inputs.npz", "reference_outputs.npz")
    assert a.model_file == "model.skops" and a.created_at is not None
    assert {s.name for s in a.safeguards} >= {"ood", "reliability"}
    assert a.ece_before is not None and a.conformal_coverage == pytest.approx(0.9)
    d = ev.descriptors
    assert d is not None and len(d.present) == 8 and d.missing == () and d.unreadable == ()
    assert d.to_fill == 0 and d.findings == {"error": 0, "warning": 0, "info": 0}
    assert d.goals == d.goals_with_metric == 1 and d.fields_compared == 3
    assert d.inference_time_ms == 20 and d.required_inference_ms == 100
    b = ev.bench
    assert b is not None and b.perturbations == ("gaussian_noise",) and b.attacks == ()
    assert b.max_pairs == 1 and b.max_runs == 1 and b.failed_cells == 0
    assert b.worst_silent_failure is not None and b.latest is not None
    s = ev.store
    assert s is not None and s.decisions == 7 and s.status_counts == {200: 5, 400: 2}
    assert s.active_keys == 1 and s.revoked_keys == 1 and s.keyed_decisions == 7
    assert s.artifacts_served == 1 and s.first_decision is not None
    assert s.first_decision < s.last_decision  # type: ignore[operator]
    sv = ev.serve
    assert sv is not None and sv.auth and sv.drift_every_s == 300 and sv.drift_webhook
    p = ev.project
    assert p is not None and p.ci_files == (".github/workflows/ci.yml",)
    assert p.runs("tests") and p.runs("bench") and not p.runs("bench_gate")
    assert p.container_files == ("Dockerfile",) and p.lock_files == ("uv.lock",)
    assert p.review_gate == (".github/workflows/ci.yml",) and p.test_files == 1


def test_a_tampered_artifact_is_a_gap_naming_the_file(world: World, tmp_path: Path) -> None:
    art = tmp_path / "rails"
    shutil.copytree(world.artifact, art)
    policy = json.loads((art / "policy.json").read_text())
    policy["validation"]["mode"] = "off"
    (art / "policy.json").write_text(json.dumps(policy))
    ev = collect(world.sources(artifact=art))
    assert ev.artifact is None and ev.store is not None and ev.bench is not None
    [gap] = ev.gaps
    assert gap.source == "artifact" and "policy.json" in gap.problem and "tampered" in gap.problem


def test_a_tampered_bundled_model_is_a_gap(world: World, tmp_path: Path) -> None:
    art = tmp_path / "rails"
    shutil.copytree(world.artifact, art)
    (art / "model.skops").write_bytes(b"not the model")
    [gap] = collect(EvidenceSources(artifact=art)).gaps
    assert "model.skops" in gap.problem


def test_a_corrupt_bench_record_is_a_gap_and_the_others_count(world: World, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "mlrails.bench/1", "run_id": ')
    ev = collect(world.sources(bench=(bad, world.record, tmp_path / "absent.json")))
    assert ev.bench is not None and len(ev.bench.records) == 1
    assert [g.source for g in ev.gaps] == ["bench", "bench"]
    assert str(bad) in ev.gaps[0].problem and "not a JSON benchmark record" in ev.gaps[0].problem
    assert "absent.json" in ev.gaps[1].problem


def test_missing_and_invalid_sources_are_gaps_never_errors(tmp_path: Path) -> None:
    settings = tmp_path / "serve.yaml"
    settings.write_text("auth: true\nrate_limit: 5\n")  # unknown field
    not_a_db = tmp_path / "log.db"
    not_a_db.write_text("this is not SQLite")
    ev = collect(
        EvidenceSources(
            artifact=tmp_path / "nope",
            descriptors=tmp_path / "nodesc",
            store=str(not_a_db),
            serve_settings=settings,
            project=tmp_path / "noproject",
        )
    )
    assert (ev.artifact, ev.descriptors, ev.store, ev.serve, ev.project) == (None,) * 5
    by = {g.source: g.problem for g in ev.gaps}
    assert set(by) == {"artifact", "descriptors", "store", "serve_settings", "project"}
    assert str(tmp_path / "nope") in by["artifact"]
    assert "rate_limit" in by["serve_settings"] and str(settings) in by["serve_settings"]
    assert str(not_a_db) in by["store"]
    missing_store = collect(EvidenceSources(store=str(tmp_path / "absent.db")))
    assert "no such store" in missing_store.gaps[0].problem
    assert not (tmp_path / "absent.db").exists()  # reading never creates a store


def test_a_descriptor_directory_with_a_corrupt_file(world: World, tmp_path: Path) -> None:
    desc = tmp_path / "desc"
    shutil.copytree(world.descriptors, desc)
    (desc / "trained_model.json").write_text("{ not json")
    (desc / "production_data.json").unlink()
    d = collect(EvidenceSources(descriptors=desc)).descriptors
    assert d is not None and d.unreadable == ("trained_model",)
    assert d.missing == ("production_data",) and d.inference_time_ms is None
    empty = tmp_path / "empty"
    empty.mkdir()
    [gap] = collect(EvidenceSources(descriptors=empty)).gaps
    assert "no readable descriptor" in gap.problem


def test_ci_detection_follows_make_targets_and_ignores_comments(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "on: push\njobs:\n  x:\n    steps:\n      - run: make gate\n"
        "      # - run: mlrails bench verify old.json\n",
    )
    (tmp_path / "Makefile").write_text(
        "gate:\n\tmlrails bench b.yaml --baseline base.json\n\tmlrails score --min 40\n"
        "verify:\n\tmlrails bench verify bench-results/record.json\n"
    )
    p = scan_project(tmp_path)
    assert p.runs("bench_gate") and p.runs("score_gate") and p.runs("bench")
    assert p.automated["bench_gate"] == ("Makefile (gate)",)
    assert not p.runs("bench_verify") and p.documents("bench_verify")
    assert p.review_gate == ()


def test_fail_on_never_is_no_gate(tmp_path: Path) -> None:
    write_project(
        tmp_path, "steps:\n  - run: mlrails bench b.yaml --baseline b.json --fail-on never\n"
    )
    p = scan_project(tmp_path)
    assert p.runs("bench") and not p.runs("bench_gate")
