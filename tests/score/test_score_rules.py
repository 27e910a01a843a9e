"""Rules score every item from real evidence, on the item's scale, and move with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from evidencekit import CI_TESTS_AND_BENCH, World, build_world, write_project, write_store

from mlrails.score.engine import combine
from mlrails.score.evidence import Evidence, collect
from mlrails.score.rubrics import ITEMS
from mlrails.score.rules import AUTOMATIC, ORGANISATIONAL, RULES, evaluate, rule
from mlrails.score.sources import EvidenceSources


@pytest.fixture(scope="module")
def world(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("rules"), cancer_rails)


def scores(sources: EvidenceSources) -> dict[str, float | None]:
    return {k: r.score for k, r in evaluate(collect(sources)).items()}


def on_scale(results: dict[str, Any]) -> None:
    assert set(results) == set(ITEMS)
    for item_id, r in results.items():
        assert r.score is None or r.score in ITEMS[item_id].allowed, item_id
        assert r.rule, item_id


def test_every_item_has_a_rule_and_a_result_on_its_scale(world: World) -> None:
    assert set(RULES) == set(ITEMS) and len(ITEMS) == 50
    assert set(ITEMS) == AUTOMATIC | ORGANISATIONAL and not AUTOMATIC & ORGANISATIONAL
    full = evaluate(collect(world.sources()))
    on_scale(full)
    empty = evaluate(Evidence())
    on_scale(empty)
    assert all(r.score is None for r in empty.values())  # no evidence: the answers decide
    assert all(full[i].score is None for i in ORGANISATIONAL)
    # this world shows no git repository and no feature-code tests: those two stay open
    assert full["mltest.model.1"].score is None and full["mltest.data.7"].score is None
    # nor labelled outcomes over time: prediction quality is a gap (drift is no label)
    assert full["mltest.monitoring.7"].score is None
    assert "--baseline" in full["mltest.monitoring.7"].next_step
    for item_id in AUTOMATIC - {"mltest.model.1", "mltest.data.7", "mltest.monitoring.7"}:
        r = full[item_id]
        assert r.score is not None and r.evidence and r.next_step, item_id
    report = combine(full, {})
    assert report.robustness.score > 0 and report.mltest.score >= 0


def test_specific_scores_from_the_full_evidence(world: World) -> None:
    res = evaluate(collect(world.sources()))
    schema = res["mltest.data.1"]
    assert schema.score == 1.0
    assert "30 fields" in schema.rule and "2 refusals logged" in schema.rule
    assert res["mltest.monitoring.2"].score == 1.0  # invariants checked on served rows
    assert res["mltest.monitoring.3"].score == 1.0  # service drift checks vs artifact reference
    assert res["mltest.infrastructure.4"].score == 0.5  # bench run, no gate
    assert "--baseline" in res["mltest.infrastructure.4"].next_step
    assert res["mltest.infrastructure.1"].score == 0.0  # a record, never re-run
    assert "mlrails bench verify" in res["mltest.infrastructure.1"].next_step
    assert res["mltest.infrastructure.2"].score == 1.0
    assert res["mltest.model.1"].score is None  # tmp project is not under git
    assert res["mltest.model.5"].score == 0.0  # one model only
    assert res["mltest.monitoring.1"].score == 0.0  # no dependabot
    assert res["robustness.deployment.monitoring"].score == 4.0
    assert res["robustness.security.access"].score == 4.0
    assert res["robustness.evaluation.interpretability"].score == 4.0
    assert res["robustness.deployment.infrastructure"].score == 4.0
    assert res["robustness.data.quality"].score == 4.0
    assert res["robustness.training.metrics"].score == 4.0  # consistent descriptors
    assert res["robustness.operations.cicd"].score == 2.0  # tests + bench, no gates
    assert res["robustness.operations.containers"].score == 2.0  # Dockerfile + lock
    assert res["robustness.evaluation.representative"].score == 2.0
    assert any("decisions.db" in e for e in res["mltest.data.1"].evidence)


def test_a_regression_gate_in_ci_raises_quality_validation(world: World, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(world.project, project)
    before = scores(world.sources(project=project))
    gate = "      - run: mlrails bench bench.yaml --baseline main.json --fail-on regression\n"
    write_project(project, CI_TESTS_AND_BENCH + gate)
    after = scores(world.sources(project=project))
    assert before["mltest.infrastructure.4"] == 0.5 and after["mltest.infrastructure.4"] == 1.0
    assert after["robustness.operations.cicd"] == before["robustness.operations.cicd"] + 1  # type: ignore[operator]


def test_bench_verify_in_ci_makes_training_reproducible(world: World, tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, CI_TESTS_AND_BENCH + "      - run: mlrails bench verify rec.json\n")
    after = scores(world.sources(project=project))
    assert after["mltest.infrastructure.1"] == 1.0
    assert after["robustness.training.stability"] == 3.0  # record, verify, verify in CI


def test_serving_evidence_is_what_makes_checks_automatic(world: World, tmp_path: Path) -> None:
    without = scores(world.sources(store=None))
    assert without["mltest.data.1"] == 0.5 and without["mltest.monitoring.2"] == 0.5
    assert without["mltest.monitoring.5"] == 0.5 and without["mltest.infrastructure.5"] == 0.5
    empty_log = tmp_path / "empty.db"
    write_store(empty_log, "x", ok=0, invalid=0)
    quiet = scores(world.sources(store=str(empty_log)))
    assert quiet["mltest.data.1"] == 0.5  # a store without decisions shows nothing served
    assert quiet["robustness.security.access"] == 3.0  # no keyed traffic in the log


def test_drift_and_auth_settings_move_the_scores(world: World, tmp_path: Path) -> None:
    settings = tmp_path / "serve.yaml"
    settings.write_text("auth: false\ndrift_every_s: null\ncors_origins: ['*']\n")
    res = evaluate(collect(world.sources(serve_settings=settings)))
    assert res["mltest.monitoring.3"].score == 0.5  # only the descriptors' comparison left
    assert res["mltest.monitoring.7"].score is None  # no labels either way: a gap
    assert res["robustness.deployment.monitoring"].score == 2.0
    assert "--drift-every" in res["robustness.deployment.monitoring"].next_step
    assert res["robustness.security.access"].score == 2.0  # keys, keyed log; auth off now


def test_a_tampered_artifact_leaves_artifact_items_to_the_answers(
    world: World, tmp_path: Path
) -> None:
    art = tmp_path / "rails"
    shutil.copytree(world.artifact, art)
    contract = json.loads((art / "contract.json").read_text())
    contract["fields"] = contract["fields"][:1]
    (art / "contract.json").write_text(json.dumps(contract))
    ev = collect(world.sources(artifact=art))
    assert ev.artifact is None and "contract.json" in ev.gaps[0].problem
    res = evaluate(ev)
    on_scale(res)
    assert res["robustness.evaluation.interpretability"].score is None
    assert res["mltest.monitoring.2"].score is None
    assert res["mltest.data.1"].score == 0.5  # the descriptors still document the schema
    assert res["mltest.infrastructure.5"].score == 1.0  # the store still traces every row


def test_more_evidence_never_lowers_a_bench_score(world: World, tmp_path: Path) -> None:
    raw = json.loads(world.record.read_text())
    raw["run_id"] += "-again"
    again = tmp_path / "again.json"
    again.write_text(json.dumps(raw))
    one = scores(world.sources())
    two = scores(world.sources(bench=(world.record, again)))
    assert one["robustness.training.stability"] == 1.0
    assert two["robustness.training.stability"] == 2.0  # the same config, the same numbers
    assert all((two[k] or 0) >= (one[k] or 0) for k in ITEMS if k.startswith("robustness.training"))


def test_a_store_that_served_nothing_is_not_evidence_either_way(tmp_path: Path) -> None:
    """An empty decision log alone (a first `mlrails score --store`) scores nothing from it."""
    from mlrails.store import open_store

    open_store(tmp_path / "empty.db").close()
    results = evaluate(collect(EvidenceSources(store=str(tmp_path / "empty.db"))))
    assert results["mltest.infrastructure.5"].score is None
    assert results["mltest.monitoring.6"].score is None
    assert set(results) == set(ITEMS)


def test_a_verified_record_is_documented_reproducibility(world: World, tmp_path: Path) -> None:
    """`mlrails bench verify` really re-runs the record and keeps the outcome beside it: that
    is a manual, documented check (0.5); a verification of another run does not count."""
    from mlrails.bench.record import RunRecord
    from mlrails.bench.runner import verify_record
    from mlrails.bench.verification import Verification, write_verification

    record = tmp_path / "record.json"
    shutil.copy(world.record, record)
    rec = RunRecord.read(record)
    result = verify_record(rec)
    assert result.identical
    write_verification(record, Verification.of("another-run", True, result.n_cells, 0))
    stale = scores(world.sources(bench=(record,)))
    assert stale["mltest.infrastructure.1"] == 0.0
    write_verification(record, Verification.of(rec.run_id, True, result.n_cells, 0))
    verified = scores(world.sources(bench=(record,)))
    assert verified["mltest.infrastructure.1"] == 0.5
    assert verified["robustness.training.stability"] == stale["robustness.training.stability"] + 1  # type: ignore[operator]
    write_verification(record, Verification.of(rec.run_id, False, result.n_cells, 3))
    differs = evaluate(collect(world.sources(bench=(record,))))["mltest.infrastructure.1"]
    assert differs.score == 0.0 and "did not reproduce" in differs.rule
    (record.with_name("record.verified.json")).write_text("{not json")
    corrupt = collect(world.sources(bench=(record,)))
    assert any("record.verified.json" in g.problem for g in corrupt.gaps)
    assert corrupt.bench is not None and corrupt.bench.records[0].verified is None


def test_prediction_drift_alone_is_no_evidence_of_prediction_quality(
    world: World, tmp_path: Path
) -> None:
    """Drift checked every 5 min on the outputs, no labels: a gap with the next step; a
    regression gate on labelled data (bench --baseline) in CI scores it, by hand half."""
    drift_only = evaluate(collect(world.sources()))["mltest.monitoring.7"]
    assert drift_only.score is None
    assert "labelled" in drift_only.rule and "--baseline" in drift_only.next_step
    assert any("prediction drift checked" in e for e in drift_only.evidence)
    project = tmp_path / "project"
    gate = "      - run: mlrails bench bench.yaml --baseline main.json --fail-on regression\n"
    write_project(project, CI_TESTS_AND_BENCH + gate)
    gated = evaluate(collect(world.sources(project=project)))["mltest.monitoring.7"]
    assert gated.score == 1.0 and "labelled" in gated.rule
    by_hand = tmp_path / "by-hand"
    write_project(by_hand, CI_TESTS_AND_BENCH)
    (by_hand / "Makefile").write_text("gate:\n\tmlrails bench bench.yaml --baseline main.json\n")
    manual = evaluate(collect(world.sources(project=by_hand)))["mltest.monitoring.7"]
    assert manual.score == 0.5


def test_a_config_run_twice_with_different_numbers_is_not_reproduced(
    world: World, tmp_path: Path
) -> None:
    """Running a config again is evidence of reproducibility only when the numbers agree."""
    raw = json.loads(world.record.read_text())
    raw["run_id"] += "-again"
    cell = next(c for c in raw["cells"] if c["error"] is None)
    cell["metrics"]["accuracy"] -= 0.01
    again = tmp_path / "again.json"
    again.write_text(json.dumps(raw))
    one = evaluate(collect(world.sources()))["robustness.training.stability"]
    two = evaluate(collect(world.sources(bench=(world.record, again))))
    assert two["robustness.training.stability"].score == one.score
    assert "reproduce" in two["robustness.training.stability"].rule


def test_a_rule_is_registered_only_for_a_rubric_item() -> None:
    with pytest.raises(ValueError, match="unknown rubric item 'robustness.nope'"):
        rule("robustness.nope")
    with pytest.raises(ValueError, match="already registered"):
        rule("mltest.data.1")(lambda e: RULES["mltest.data.2"](e))
    assert RULES.get("mltest.data.1")(Evidence()).score is None


@pytest.mark.parametrize(("delta", "keeps_point"), [(-0.01, True), (0.002, True), (0.03, False)])
def test_calibration_point_allows_binning_noise_but_not_a_worse_ece(
    world: World, delta: float, keeps_point: bool
) -> None:
    """Temperature scaling minimises log-loss: on out-of-fold outputs that were calibrated
    already the binned ECE moves by noise (kept); a clearly worse ECE loses the point."""
    import dataclasses

    from mlrails.score.rules.robustness_model import ECE_NOISE, evaluation_interpretability

    ev = collect(world.sources())
    assert ev.artifact is not None
    before = 0.04
    worse_nll = {"nll_before": 0.10, "nll_after": 0.12}
    full = dataclasses.replace(ev.artifact, ece_before=before, ece_after=before, **worse_nll)
    moved = dataclasses.replace(
        ev.artifact, ece_before=before, ece_after=before + delta, **worse_nll
    )
    base = evaluation_interpretability(dataclasses.replace(ev, artifact=full)).score
    got = evaluation_interpretability(dataclasses.replace(ev, artifact=moved)).score
    assert base is not None and got is not None
    assert (got == base) is keeps_point
    assert (delta <= ECE_NOISE) is keeps_point
    # a log-loss that improved keeps the point whatever the binned ECE did
    better_nll = dataclasses.replace(moved, nll_before=0.12, nll_after=0.10)
    assert evaluation_interpretability(dataclasses.replace(ev, artifact=better_nll)).score == base
