"""``mlrails.describe``: measured descriptors equal pandas' and scikit-learn's
numbers, validate against the reference schemas, and read the decision log by time window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score, log_loss

from logkit import served_records
from mlrails.describe import (
    SYSTEM_CONTEXT_TEMPLATE,
    TO_FILL,
    calibration_split,
    describe_development_environment,
    describe_production_data,
    describe_production_environment,
    describe_trained_model,
    describe_training_data,
    fields_to_fill,
    measure_inference,
    system_context_from_yaml,
)
from mlrails.descriptors import (
    FieldStatistics,
    ProductionData,
    SystemContext,
    TrainingData,
    validate_against_schema,
)
from mlrails.descriptors.schema_check import schema_file
from mlrails.errors import MlrailsError


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, cancer_rails: Any) -> Path:
    path = tmp_path_factory.mktemp("describe") / "rails"
    cancer_rails.save(path)
    return path


@pytest.fixture(scope="module")
def training(cancer: Any) -> TrainingData:
    return describe_training_data(cancer.X_train, cancer.y_train, name="wdbc", target="target")


def test_training_statistics_equal_pandas(cancer: Any, training: TrainingData) -> None:
    frame = cancer.X_train
    for column in ("mean radius", "worst area"):
        stats = training.statistics_for(column)
        assert stats is not None
        assert stats.count == frame[column].count()
        assert stats.mean == pytest.approx(frame[column].mean(), rel=1e-12)
        assert stats.std == pytest.approx(frame[column].std(), rel=1e-12)
        assert stats.minimum == frame[column].min() and stats.maximum == frame[column].max()
        assert stats.quantiles[0.5] == pytest.approx(frame[column].quantile(0.5), rel=1e-12)
    label = next(f for f in training.data_schema if f.label_field)
    assert label.field_name == "target" and label.field_type == "integer"
    counts = np.bincount(cancer.y_train)
    shares = {s.label: s.percentage for s in training.distribution}
    assert shares == pytest.approx(
        {"1": 100 * counts[1] / counts.sum(), "0": 100 * counts[0] / counts.sum()}
    )
    assert "$.raw_data_identifier" in fields_to_fill(training)


def test_trained_model_metrics_equal_sklearn(
    artifact: Path, cancer: Any, cancer_forest: Any
) -> None:
    model = describe_trained_model(
        artifact, X_test=cancer.X_test, y_test=cancer.y_test, repeats=5, timing_rows=32
    )
    got = {m.other_metric or m.metric: m.result for m in model.test_metrics}
    predicted = cancer_forest.predict(cancer.X_test)
    assert got["Accuracy"] == pytest.approx(accuracy_score(cancer.y_test, predicted), abs=1e-12)
    assert got["F1 Score"] == pytest.approx(f1_score(cancer.y_test, predicted), abs=1e-12)
    expected = log_loss(cancer.y_test, cancer_forest.predict_proba(cancer.X_test))
    assert got["Log loss"] == pytest.approx(expected, rel=1e-9)
    assert model.ml_frameworks[0].startswith("scikit-learn ")
    assert model.model_components[0].learning_algorithm.algorithm == "Random Forest"
    assert model.ensemble
    params = {
        p.parameter_name: p.parameter_value for p in model.model_components[0].hyper_parameters
    }
    assert params["n_estimators"] == "50"
    sha = __import__("hashlib").sha256((artifact / "model.skops").read_bytes()).hexdigest()
    assert sha in model.model_description
    assert [o.item_name for o in model.output_spec] == [
        "prediction", "probabilities.0", "probabilities.1"
    ]  # fmt: skip
    assert model.inference_time.time >= 1 and model.computing_resource_reqs.cpu >= 1


def test_recorded_calibration_metrics_and_redrawn_split(
    artifact: Path, cancer: Any, cancer_rails: Any, cancer_forest: Any
) -> None:
    recorded = describe_trained_model(artifact, repeats=3, timing_rows=8)
    accuracy = next(m.result for m in recorded.evaluation_metrics if m.metric == "Accuracy")
    assert accuracy == cancer_rails.summary.calibration_accuracy
    # cross-fitted: every training row calibrated out-of-fold, nothing to re-draw
    assert cancer_rails.summary.budget.calibration_method == "crossfit"
    assert calibration_split(cancer_rails, cancer.X_train, cancer.y_train) is None
    # a held-out calibration share is drawn again, seeded, from the same training data
    import mlrails

    held = mlrails.fit(
        cancer_forest,
        cancer.X_train,
        cancer.y_train,
        policy={"calibration_fraction": 0.3, "cross_fit": {"method": "training"}},
    )
    split = calibration_split(held, cancer.X_train, cancer.y_train)
    assert split is not None
    assert len(split[0]) == held.summary.n_calibration
    assert calibration_split(held, cancer.X_test, cancer.y_test) is None


def test_inference_timing_is_positive_and_ordered(cancer_rails: Any, cancer: Any) -> None:
    timing = measure_inference(cancer_rails.adapter, cancer.X_test, timing_rows=64, repeats=10)
    assert 0 < timing.single_p50_ms <= timing.single_p99_ms
    assert 0 < timing.batch_p50_ms <= timing.batch_p99_ms
    assert timing.batch_rows == 64 and timing.peak_memory_mib >= 0 and timing.cpus_used >= 1


@pytest.mark.parametrize("rows", [256, 2048])
def test_peak_memory_of_a_batch_prediction_is_plausible(
    cancer_rails: Any, cancer: Any, rows: int
) -> None:
    """The peak is what one batch prediction needs: more than the batch of rows itself (plus
    what the model allocates on it), bounded, and printed in a unit that reads (not
    0.00391 MiB)."""
    from mlrails.describe.model import format_mib

    timing = measure_inference(cancer_rails.adapter, cancer.X_test, timing_rows=rows, repeats=3)
    batch_mib = rows * cancer.X_test.shape[1] * 8 / 2**20  # the rows as float64
    assert batch_mib < timing.peak_memory_mib < 50 * batch_mib + 64
    assert "peak memory of a batch prediction" in timing.text()
    assert format_mib(timing.peak_memory_mib) in timing.text()
    assert format_mib(0.00390625) == "4 KiB" and format_mib(1.5) == "1.5 MiB"
    assert format_mib(3 * 1024) == "3 GiB" and format_mib(100 / 2**20) == "100 B"


def _records(X: Any, preds: Any, when: datetime, trace: str) -> list[Any]:
    return served_records(X, [{"prediction": int(p), "status": 200} for p in preds], when, trace)


def test_production_data_from_the_decision_log_window(
    tmp_path: Path, cancer: Any, cancer_rails: Any, training: TrainingData
) -> None:
    from mlrails.store import open_store

    now = datetime.now(UTC)
    recent, old = cancer.X_test.iloc[:40], cancer.X_test.iloc[40:60] * 100
    db = tmp_path / "decisions.db"
    with open_store(db) as store:
        store.write_decisions(_records(old, np.zeros(len(old)), now - timedelta(days=3), "old"))
        store.write_decisions(_records(recent, cancer.y_test[:40], now, "new"))
    data = describe_production_data(
        db, since=now - timedelta(hours=1), contract=cancer_rails.contract, training=training
    )
    stats = data.statistics_for("mean radius")
    assert stats is not None
    expected = FieldStatistics.from_series(recent["mean radius"])
    assert stats.count == 40 and stats.mean == pytest.approx(expected.mean, rel=1e-12)
    train_hist = training.statistics_for("mean radius")
    assert train_hist is not None and train_hist.histogram is not None
    assert stats.histogram is not None and stats.histogram.edges == train_hist.histogram.edges
    # the guard's answers are a 'prediction' field; the label distribution is unknown there
    predicted = data.statistics_for("prediction")
    ones = int(np.sum(cancer.y_test[:40]))
    assert predicted is not None and predicted.frequencies["1"] == ones
    assert predicted.count == 40 and data.distribution == []
    everything = describe_production_data(db, contract=cancer_rails.contract)
    assert everything.statistics_for("mean radius").count == 60  # type: ignore[union-attr]
    with pytest.raises(MlrailsError, match="no row was logged"):
        describe_production_data(db, since=now + timedelta(hours=1))


def test_production_data_leaves_rows_refused_by_validation_out(
    tmp_path: Path, cancer: Any, cancer_rails: Any, training: TrainingData
) -> None:
    """A row the guard refused with 400 (a huge value) is counted in the data sources text
    but moves no field statistic."""
    from dataclasses import replace

    from mlrails.store import open_store

    now = datetime.now(UTC)
    clean = cancer.X_test.iloc[:40]
    bad = cancer.X_test.iloc[:1].copy()
    bad["mean radius"] = 3.9e6
    (verdict,) = cancer_rails.check(bad)
    assert verdict.status == 400
    (refused,) = _records(bad, [0], now, "bad")
    refused = replace(refused, status=400, problem=verdict.problem, output=verdict.to_dict())
    with_bad, without = tmp_path / "with.db", tmp_path / "without.db"
    for db, extra in ((with_bad, [refused]), (without, [])):
        with open_store(db) as store:
            store.write_decisions(_records(clean, cancer.y_test[:40], now, "new") + extra)
    kw: dict[str, Any] = {"contract": cancer_rails.contract, "training": training}
    got, base = describe_production_data(with_bad, **kw), describe_production_data(without, **kw)
    assert got.statistics == base.statistics
    assert "1 refused by validation" in got.data_sources and "41 logged rows" in got.data_sources
    with open_store(tmp_path / "only.db") as store:
        store.write_decisions([refused])
    with pytest.raises(MlrailsError, match="refused by validation"):
        describe_production_data(tmp_path / "only.db", **kw)


def test_documents_validate_against_reference_schemas(
    schemas_dir: Path, artifact: Path, cancer: Any, training: TrainingData
) -> None:
    built = [
        training,
        describe_trained_model(artifact, cancer.X_test, cancer.y_test, repeats=3),
        describe_development_environment(),
        describe_production_environment(),
        _filled_context(),
    ]
    for descriptor in built:
        document = json.loads(json.dumps(descriptor.to_document()))
        assert validate_against_schema(document, schema_file(schemas_dir, descriptor.kind)) == []


def _filled_context() -> SystemContext:
    data = yaml.safe_load(SYSTEM_CONTEXT_TEMPLATE.replace(TO_FILL, "filled"))
    return SystemContext.model_validate(data)


def test_template_parses_after_filling(tmp_path: Path) -> None:
    path = tmp_path / "context.yaml"
    path.write_text(SYSTEM_CONTEXT_TEMPLATE, encoding="utf-8")
    unfilled = system_context_from_yaml(path)
    assert "$.task" in fields_to_fill(unfilled)
    path.write_text(SYSTEM_CONTEXT_TEMPLATE.replace(TO_FILL, "filled"), encoding="utf-8")
    filled = system_context_from_yaml(path)
    assert fields_to_fill(filled) == [] and filled.goals[0].id == "G1"


def test_bad_yaml_names_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("task: [unclosed\n", encoding="utf-8")
    with pytest.raises(MlrailsError, match=r"broken\.yaml: not valid YAML at line"):
        system_context_from_yaml(broken)
    wrong = tmp_path / "wrong.yaml"
    data = yaml.safe_load(SYSTEM_CONTEXT_TEMPLATE)
    del data["risks"]["risk_fn"]
    data["ml_problem_type"]["ml_problem"] = "Guessing"
    wrong.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(MlrailsError) as info:
        system_context_from_yaml(wrong)
    message = str(info.value)
    assert "wrong.yaml" in message and "$.risks.risk_fn: missing" in message
    assert "$.ml_problem_type.ml_problem" in message and "\n" not in message


def test_production_data_descriptor_round_trips(tmp_path: Path, cancer: Any) -> None:
    from mlrails.store import open_store

    db = tmp_path / "log.db"
    with open_store(db) as store:
        store.write_decisions(_records(cancer.X_test.iloc[:5], [1] * 5, datetime.now(UTC), "t"))
    data = describe_production_data(db)
    again = ProductionData.model_validate(data.to_document())
    assert again == data
