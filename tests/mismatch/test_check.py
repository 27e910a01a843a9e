"""check_descriptors: statistics from descriptors, skipped rules, unreadable files, rendering."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from mismatch_system import (
    EDGES,
    TRAIN_AGE,
    categorical_stats,
    consistent,
    descriptor_set,
    numeric_stats,
    production_data,
    training_data,
    with_,
)
from scipy import stats

from logkit import served_records
from mlrails.descriptors import ProductionData, read_descriptor_dir, write_descriptor_dir
from mlrails.drift.detect import DriftConfig
from mlrails.mismatch.check import check_descriptors, compare_histograms, compare_statistics
from mlrails.mismatch.render import to_html, to_json


def _stat(report_stats: Sequence[Mapping[str, object]], name: str) -> Mapping[str, object]:
    return next(s for s in report_stats if s["field"] == name)


def test_category_share_shift_alarms() -> None:
    shifted = {"red": 300, "green": 300, "blue": 400}
    report = check_descriptors(with_(production_data=production_data(color=shifted)))
    drift = report.by_rule("MM-STAT-DRIFT")
    assert len(drift) == 1 and drift[0].severity == "warning"
    n = drift[0].numbers
    assert n["test"] == "chi2" and n["exactness"] == "exact"
    # the same numbers as scipy on the 2 × 3 table
    chi = stats.chi2_contingency([[500, 300, 200], [300, 300, 400]])
    assert n["statistic"] == pytest.approx(chi.statistic)
    assert n["p_value"] == pytest.approx(chi.pvalue)
    assert float(n["cramers_v_equal_n"]) >= 0.1  # type: ignore[arg-type]
    assert set(drift[0].roles) == {"data scientist", "operations"}


def test_tiny_shift_on_huge_counts_is_significant_without_alarm() -> None:
    big = {"red": 5_000_000, "green": 3_000_000, "blue": 2_000_000}
    moved = {"red": 4_950_000, "green": 3_030_000, "blue": 2_020_000}
    td = training_data()
    td = td.model_copy(update={"statistics": [td.statistics[0], categorical_stats("color", big)]})
    report = check_descriptors(
        with_(training_data=td, production_data=production_data(color=moved))
    )
    row = _stat(report.statistics, "color")
    assert row["significant"] is True and row["alarm"] is False
    (f,) = [f for f in report.by_rule("MM-STAT-DRIFT") if "'color'" in f.message]
    assert f.severity == "info" and "no alarm" in f.message
    assert all(f.severity == "info" for f in report.by_rule("MM-STAT-DRIFT"))


def test_numeric_shift_on_shared_edges_alarms_with_bounds() -> None:
    moved = [20, 60, 220, 400, 300]  # mass moved one to two bins up
    report = check_descriptors(with_(production_data=production_data(age=moved)))
    row = _stat(report.statistics, "age")
    assert row["test"] == "ks" and row["exactness"] == "binned bounds"
    assert row["alarm"] is True
    d_lo, d_hi = float(row["statistic"]), float(row["ks_upper"])  # type: ignore[arg-type]
    assert 0 < d_lo <= d_hi <= 1
    w = float(row["wasserstein"])  # type: ignore[arg-type]
    assert float(row["wasserstein_lower"]) <= w <= float(row["wasserstein_upper"]) + 1e-9  # type: ignore[arg-type]
    chi = stats.chi2_contingency([TRAIN_AGE, moved])
    assert row["bins_chi2_p"] == pytest.approx(chi.pvalue)


def test_binned_ks_bounds_contain_the_raw_statistic() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(25, 8, 3000), rng.normal(27, 8, 2500)
    edges = list(np.linspace(-20, 70, 19))
    ha, hb = np.histogram(a, edges)[0].tolist(), np.histogram(b, edges)[0].tolist()
    ref = numeric_stats("x", ha, edges).model_copy(update={"mean": a.mean(), "std": a.std(ddof=1)})
    cur = numeric_stats("x", hb, edges).model_copy(update={"mean": b.mean(), "std": b.std(ddof=1)})
    c = compare_histograms("x", "x", ref, cur, DriftConfig())
    raw = stats.ks_2samp(a, b)
    assert c.statistic <= raw.statistic + 1e-12 <= c.ks_upper + 1e-12  # type: ignore[operator]
    assert c.p_value >= raw.pvalue  # conservative
    w = stats.wasserstein_distance(a, b)
    assert c.wasserstein_lower - 1e-9 <= w <= c.wasserstein_upper  # type: ignore[operator]
    assert c.wasserstein == pytest.approx(w, rel=0.15)


def test_different_edges_are_approximate() -> None:
    td = training_data()
    prod = production_data()
    other = numeric_stats("age", [300, 400, 300], [0.0, 15.0, 35.0, 50.0])
    prod = prod.model_copy(update={"statistics": [other, prod.statistics[1]]})
    cmp = compare_statistics(td, prod)
    age = next(c for c in cmp.fields if c.field == "age")
    assert age.exactness == "approximate" and age.bins_chi2_p is None and age.ks_upper is None


def test_incomparable_statistics_are_missing_information() -> None:
    prod = production_data()
    as_freq = categorical_stats("age", {"young": 500, "old": 500})
    prod = prod.model_copy(update={"statistics": [as_freq, prod.statistics[1]]})
    report = check_descriptors(with_(production_data=prod))
    (f,) = report.by_rule("MM-STAT-MISSING")
    assert "age" in f.message and f.severity == "info"


def _with_predictions(predicted: dict[str, int]) -> ProductionData:
    """Production data whose field 'default' (the training label's counterpart) holds the
    model's answers, as `mlrails describe` writes the guard's predictions."""
    pdd = production_data()
    answers = pdd.data_schema[1].model_copy(update={"field_name": "default"})
    return ProductionData.model_validate(
        {
            **pdd.model_dump(),
            "schema": [*pdd.data_schema, answers],
            "statistics": [*pdd.statistics, categorical_stats("default", predicted)],
        }
    )


def test_bh_is_applied_across_fields() -> None:
    report = check_descriptors(with_(production_data=_with_predictions({"bad": 210, "good": 790})))
    *fields, labels = report.statistics
    p = [float(s["p_value"]) for s in fields]  # type: ignore[arg-type]
    adj = [float(s["p_adjusted"]) for s in fields]  # type: ignore[arg-type]
    assert [s["field"] for s in fields] == ["age", "color", "default"]
    assert np.allclose(adj, stats.false_discovery_control(p))
    # label vs label (MM-LABEL-SHIFT) is a test of its own, listed last: 20/80 vs 21/79 %
    assert labels["field"] == "<label distribution>" and labels["effect_name"] == "cohens_h"
    chi = stats.chi2_contingency([[200, 800], [210, 790]])
    assert labels["p_value"] == labels["p_adjusted"] == pytest.approx(chi.pvalue)
    assert labels["alarm"] is False


def test_labels_vs_predictions_is_named_prediction_distribution_shift() -> None:
    report = check_descriptors(with_(production_data=_with_predictions({"bad": 450, "good": 550})))
    (f,) = report.by_rule("MM-PREDICTION-SHIFT")
    assert f.severity == "warning" and f.message.startswith("prediction distribution")
    assert "training labels 'default' vs production 'default'" in f.message
    # training: distribution 20/80 % × 1000 rows (mapped default→bad, ok→good); production:
    # the answers' counts
    chi = stats.chi2_contingency([[200, 800], [450, 550]])
    assert f.numbers["statistic"] == pytest.approx(chi.statistic)
    assert f.numbers["p_value"] == pytest.approx(chi.pvalue)
    assert "training_data:$.distribution" in f.fields
    assert "production_data:$.statistics[?(@.field=='default')]" in f.fields
    # the label-vs-label rule sees the two label distributions (20/80 vs 21/79): no shift
    assert report.by_rule("MM-LABEL-SHIFT") == []
    assert not [x for x in report.findings if "label distribution" in x.message]
    assert all("'default'" not in x.message for x in report.by_rule("MM-STAT-DRIFT"))


def test_described_production_data_compares_labels_with_predictions() -> None:
    """What `mlrails describe` writes: the label maps to 'prediction', answers are there."""
    td = training_data()
    schema = [
        f.model_copy(update={"mapping_production_data": "prediction"}) if f.label_field else f
        for f in td.data_schema
    ]
    td = td.model_copy(update={"data_schema": schema})
    pdd = production_data().model_copy(update={"distribution": []})
    answers = categorical_stats("prediction", {"bad": 500, "good": 500})
    pdd = pdd.model_copy(update={"statistics": [*pdd.statistics, answers]})
    report = check_descriptors(with_(training_data=td, production_data=pdd))
    (f,) = report.by_rule("MM-PREDICTION-SHIFT")
    assert "production 'prediction'" in f.message and f.severity == "warning"
    assert report.by_rule("MM-LABEL-SHIFT") == []


def test_missing_descriptors_skip_their_rules() -> None:
    d = consistent()
    del d["production_environment"]
    report = check_descriptors(descriptor_set(d))
    skipped = {s.rule_id: s.reason for s in report.skipped_rules}
    assert (
        "MM-INFERENCE-TIME" in skipped
        and "production_environment.json" in skipped["MM-INFERENCE-TIME"]
    )
    assert "MM-FRAMEWORK" in report.checked_rules


def test_broken_file_is_reported_and_the_rest_checked(tmp_path: Path) -> None:
    write_descriptor_dir(consistent().values(), tmp_path)
    (tmp_path / "production_environment.json").write_text("{not json", encoding="utf-8")
    doc = json.loads((tmp_path / "trained_model.json").read_text())
    doc["inference_time"]["unit"] = "Fortnights"
    (tmp_path / "trained_model.json").write_text(json.dumps(doc))
    report = check_descriptors(read_descriptor_dir(tmp_path))
    files = {Path(p.file).name: p for p in report.descriptor_problems}
    assert set(files) == {"production_environment.json", "trained_model.json"}
    assert files["trained_model.json"].path == "$.inference_time.unit"
    skipped = {s.rule_id: s.reason for s in report.skipped_rules}
    assert "production_environment.json" in skipped["MM-THROUGHPUT"]
    assert skipped["MM-THROUGHPUT"].startswith("unreadable: ")
    assert "MM-SCHEMA-TYPE" in report.checked_rules and "MM-STAT-DRIFT" in report.checked_rules
    assert report.exit_code("error") == 1 and report.exit_code("never") == 0


def test_json_and_html_outputs() -> None:
    shifted = {"red": 300, "green": 300, "blue": 400}
    report = check_descriptors(with_(production_data=production_data(color=shifted)))
    data = json.loads(to_json(report))
    assert data["summary"]["warning"] >= 1
    assert data["findings"][0]["rule_id"] and "numbers" in data["findings"][0]
    html = to_html(report)
    assert html.startswith("<!DOCTYPE html>") and "MM-STAT-DRIFT" in html
    assert not re.search(r"(?:src|href)\s*=|https?://|@import|<script", html)


def test_html_escapes_descriptor_text() -> None:
    pdd = production_data()
    schema = [f.model_copy() for f in pdd.data_schema]
    evil = "<script>alert(1)</script>"
    schema.append(schema[0].model_copy(update={"field_name": evil}))
    report = check_descriptors(
        with_(production_data=pdd.model_copy(update={"data_schema": schema}))
    )
    html = to_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert EDGES  # the shared fixture edges are importable


def test_describe_then_check_names_predictions_as_predictions(tmp_path: Path) -> None:
    """Production data described from a real decision log: the guard's answers are a
    'prediction' field; training labels 10 % positive, answers 35 % positive."""
    import pandas as pd

    from mlrails.describe import describe_production_data, describe_training_data
    from mlrails.store import open_store

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=1000)})
    y = np.r_[np.ones(100, dtype=int), np.zeros(900, dtype=int)]
    td = describe_training_data(X, y, name="t", target="label")
    answers = np.r_[np.ones(350, dtype=int), np.zeros(650, dtype=int)]
    db = tmp_path / "log.db"
    with open_store(db) as store:
        store.write_decisions(
            served_records(
                X,
                [{"prediction": int(a), "status": 200} for a in answers],
                pd.Timestamp.now(tz="UTC").to_pydatetime(),
                "t",
            )
        )
    pdd = describe_production_data(db, training=td)
    assert pdd.distribution == []  # production labels are not in a decision log
    write_descriptor_dir([td, pdd], tmp_path / "d")
    report = check_descriptors(read_descriptor_dir(tmp_path / "d"))
    assert not report.descriptor_problems
    (f,) = report.by_rule("MM-PREDICTION-SHIFT")
    assert "training labels 'label' vs production 'prediction'" in f.message
    chi = stats.chi2_contingency([[900, 100], [650, 350]])
    assert f.numbers["statistic"] == pytest.approx(chi.statistic)
    assert report.by_rule("MM-LABEL-SHIFT") == []
    assert not [x for x in report.findings if "label distribution" in x.message]


def test_label_frequencies_are_mapped_to_production_names_before_comparing() -> None:
    """Training label counts (default/ok) against production answers named bad/good."""
    td = training_data()
    counts = categorical_stats("default", {"default": 200, "ok": 800})
    td = td.model_copy(update={"statistics": [*td.statistics, counts]})
    same = check_descriptors(
        with_(training_data=td, production_data=_with_predictions({"bad": 200, "good": 800}))
    )
    assert same.by_rule("MM-PREDICTION-SHIFT") == []
    row = _stat(same.statistics, "default")
    assert row["exactness"] == "exact" and row["statistic"] == pytest.approx(0.0)
    moved = check_descriptors(
        with_(training_data=td, production_data=_with_predictions({"bad": 400, "good": 600}))
    )
    (f,) = moved.by_rule("MM-PREDICTION-SHIFT")
    chi = stats.chi2_contingency([[200, 800], [400, 600]])
    assert f.numbers["p_value"] == pytest.approx(chi.pvalue)
