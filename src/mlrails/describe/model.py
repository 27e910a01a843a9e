"""The Trained Model descriptor measured from an mlrails artifact and its bundled model.

What is measured: framework, version and class (the adapter), the model file's SHA-256, the
output specification (classes and probabilities, or a value), metrics on evaluation and test
rows (scikit-learn's accuracy/F1/log-loss or RMSE/MAE), single-row and batch inference times
(``time.perf_counter``, p50/p99), the peak memory and CPUs a batch prediction used. What the
artifact recorded for its calibration split is used when no evaluation rows are given. The
rest is left :data:`~mlrails.describe.common.TO_FILL` for the team.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.describe.common import TO_FILL
from mlrails.descriptors.common import (
    ComponentMapping,
    ComputingResources,
    Documentation,
    InferenceTime,
    ItemSpecification,
)
from mlrails.descriptors.trained_model import (
    Algorithm,
    EvaluationDataset,
    Feedback,
    HyperParameter,
    LearningAlgorithm,
    LogData,
    MetricResult,
    ModelComponent,
    MonitoredMetric,
    OutputItem,
    TestDataset,
    TrainedModel,
)
from mlrails.errors import DataError
from mlrails.guard.fitting import split_for_calibration
from mlrails.measure import batch_peak_mib, file_hash

if TYPE_CHECKING:
    from mlrails.guard.rails import Rails
    from mlrails.models.base import ModelAdapter

_TO_MAP = ComponentMapping(component=TO_FILL, data_item=TO_FILL)
_ALGORITHMS: tuple[tuple[str, Algorithm], ...] = (
    ("RandomForest", "Random Forest"),
    ("GradientBoosting", "Gradient Boosting Tree (GBT)"),
    ("XGB", "Gradient Boosting Tree (GBT)"),
    ("LGBM", "Gradient Boosting Tree (GBT)"),
    ("CatBoost", "Gradient Boosting Tree (GBT)"),
    ("LogisticRegression", "Logistic Regression"),
    ("LinearRegression", "Linear Regression"),
    ("Ridge", "Linear Regression"),
    ("Lasso", "Linear Regression"),
    ("ElasticNet", "Linear Regression"),
    ("SVC", "Support Vector Machine (SVM)"),
    ("SVR", "Support Vector Machine (SVM)"),
    ("KNeighbors", "K-Nearest Neighbors (KNN)"),
    ("NB", "Naive Bayes Classifier"),
)
_ENSEMBLES = ("Forest", "Boosting", "Bagging", "Voting", "Stacking", "ExtraTrees", "XGB", "LGBM")


@dataclass(frozen=True)
class InferenceTiming:
    """Measured inference cost: single-row and batch latency percentiles (ms), the peak
    memory one batch prediction allocates above the process's baseline (MiB,
    :func:`~mlrails.measure.batch_peak_mib`) and the CPUs it
    kept busy (process CPU time over wall time, rounded up)."""

    single_p50_ms: float
    single_p99_ms: float
    batch_rows: int
    batch_p50_ms: float
    batch_p99_ms: float
    peak_memory_mib: float
    cpus_used: int
    repeats: int

    def text(self) -> str:
        """One sentence for humans (and the descriptor's assumptions)."""
        return (
            f"Measured inference time ({self.repeats} repeats): single row p50 "
            f"{self.single_p50_ms:.3g} ms, p99 {self.single_p99_ms:.3g} ms; batch of "
            f"{self.batch_rows} rows p50 {self.batch_p50_ms:.3g} ms, p99 "
            f"{self.batch_p99_ms:.3g} ms; peak memory of a batch prediction "
            f"{format_mib(self.peak_memory_mib)} above baseline; {self.cpus_used} CPU(s) busy"
        )


def measure_inference(
    adapter: ModelAdapter, X: Any, *, timing_rows: int = 256, repeats: int = 30
) -> InferenceTiming:
    """Time ``repeats`` single-row and batch (``timing_rows`` rows) predictions of the model
    as the guard calls it (probabilities or values), after one warm-up call each."""
    if repeats < 1 or timing_rows < 1:
        raise ValueError("repeats and timing_rows must be at least 1")
    n = len(X)
    if n == 0:
        raise DataError("no rows to time the model on")
    predict = _predict_fn(adapter)
    batch = _rows(X, np.resize(np.arange(n), min(timing_rows, max(n, timing_rows))))
    singles = [_rows(X, np.array([i % n])) for i in range(repeats)]
    predict(singles[0])
    single = []
    for row in singles:
        t0 = time.perf_counter()
        predict(row)
        single.append(time.perf_counter() - t0)
    predict(batch)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    batched = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(batch)
        batched.append(time.perf_counter() - t0)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    # after the timing (tracing slows allocations); the batch is built inside the measure
    idx = np.resize(np.arange(n), len(batch))
    peak = batch_peak_mib(predict, lambda: _rows(X, idx))
    s50, s99 = np.percentile(np.array(single) * 1000, [50, 99])
    b50, b99 = np.percentile(np.array(batched) * 1000, [50, 99])
    return InferenceTiming(
        single_p50_ms=float(s50),
        single_p99_ms=float(s99),
        batch_rows=len(batch),
        batch_p50_ms=float(b50),
        batch_p99_ms=float(b99),
        peak_memory_mib=float(peak),
        cpus_used=max(1, math.ceil(cpu / wall - 0.05)) if wall > 0 else 1,
        repeats=repeats,
    )


def format_mib(mib: float) -> str:
    """``mib`` in the unit that reads best: B, KiB, MiB or GiB, three significant digits."""
    size = mib * 2**20
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} GiB"


def model_metrics(adapter: ModelAdapter, X: Any, y: Any) -> list[MetricResult]:
    """scikit-learn's accuracy, F1 and log-loss (classification) or RMSE and MAE
    (regression) of the model on ``X``/``y``."""
    from sklearn import metrics

    y_true = np.asarray(y).reshape(-1)
    if len(y_true) != len(X) or len(y_true) == 0:
        raise DataError(f"{len(X)} rows but {len(y_true)} labels to evaluate the model on")
    if adapter.task == "regression":
        values = adapter.predict_values(X)
        return [
            _other("RMSE", math.sqrt(metrics.mean_squared_error(y_true, values))),
            _other("MAE", float(metrics.mean_absolute_error(y_true, values))),
        ]
    proba = adapter.predict_proba(X)
    classes = np.asarray(adapter.classes_ if adapter.classes_ is not None else [])
    if len(classes) != proba.shape[1]:
        classes = np.arange(proba.shape[1])
    predicted = classes[np.argmax(proba, axis=1)]
    y_true = _as_class_dtype(y_true, classes)
    accuracy = float(metrics.accuracy_score(y_true, predicted))
    if len(classes) == 2:
        f1 = float(metrics.f1_score(y_true, predicted, pos_label=classes[1]))
        f1_item = MetricResult(metric="F1 Score", other_metric="", result=f1)
    else:
        f1 = float(metrics.f1_score(y_true, predicted, average="macro"))
        f1_item = _other("F1 Score (macro average)", f1)
    loss = float(metrics.log_loss(y_true, proba, labels=classes))
    return [
        MetricResult(metric="Accuracy", other_metric="", result=accuracy),
        f1_item,
        _other("Log loss", loss),
    ]


def recorded_metrics(rails: Rails) -> list[MetricResult]:
    """What the artifact recorded on its calibration split (accuracy, log-loss, ECE)."""
    s = rails.summary
    out = []
    if s.calibration_accuracy is not None:
        out.append(MetricResult(metric="Accuracy", other_metric="", result=s.calibration_accuracy))
    if s.calibration is not None:
        if s.calibration.nll_before is not None:
            out.append(_other("Log loss", s.calibration.nll_before))
        if s.calibration.ece_before is not None:
            out.append(_other("Expected calibration error", s.calibration.ece_before))
    return out


def calibration_split(rails: Rails, X: Any, y: Any) -> tuple[Any, NDArray[Any]] | None:
    """The calibration rows the rails were fitted on, re-drawn from their training data.

    ``mlrails.fit`` with a held-out calibration share draws it seeded from the training data;
    given the same training data, the same split is drawn again. ``None`` when ``X`` cannot be
    that data (row counts differ, or the recorded calibration accuracy is not reproduced) or
    when the calibration was cross-fitted (its recorded metrics are out-of-fold already).
    """
    s = rails.summary
    y_arr = np.asarray(y).reshape(-1)
    if s.budget is not None and s.budget.calibration_method not in ("holdout", "training"):
        # cross-fitted (or given) calibration rows: the recorded metrics are out-of-fold,
        # the served model has seen every training row, so no split can be re-drawn
        return None
    if s.n_calibration <= 0 or s.n_train + s.n_calibration != len(X) or len(y_arr) != len(X):
        return None
    try:
        _, X_cal, _, y_cal = split_for_calibration(X, y_arr, rails.adapter, rails.policy)
    except ValueError:
        return None
    if len(X_cal) != s.n_calibration:
        return None
    if s.calibration_accuracy is not None:
        got = model_metrics(rails.adapter, X_cal, y_cal)[0].result
        if abs(got - s.calibration_accuracy) > 1e-9:
            return None
    return X_cal, np.asarray(y_cal)


def model_file_bytes(path: Path, manifest: dict[str, Any]) -> int:
    """Bytes of the bundled model: its file and every part it lists (a natively stored
    XGBoost / LightGBM booster and the pipeline steps before it), 0 when none is bundled."""
    from mlrails.artifact.manifest import CONTENT_FILES, REFERENCE_FILES

    model_file = manifest.get("model_file")
    if not isinstance(model_file, str) or not model_file:
        return 0
    content = {*CONTENT_FILES, *REFERENCE_FILES}
    listed = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    names = {model_file, *(f for f in listed or {} if f not in content)}
    return sum((path / n).stat().st_size for n in names if (path / n).is_file())


def describe_trained_model(
    artifact_dir: str | Path,
    X_eval: Any = None,
    y_eval: Any = None,
    *,
    X_test: Any = None,
    y_test: Any = None,
    eval_name: str = "calibration split",
    eval_file: str | None = None,
    test_name: str | None = None,
    test_file: str | None = None,
    training_data_identifier: str | None = None,
    rails: Rails | None = None,
    model: Any = None,
    trust: bool = False,
    timing_rows: int = 256,
    repeats: int = 30,
    progress: Callable[[str], None] | None = None,
) -> TrainedModel:
    """The Trained Model descriptor of the artifact at ``artifact_dir`` (loaded, verified).

    Evaluation metrics come from ``X_eval``/``y_eval`` (e.g. the calibration split, see
    :func:`calibration_split`), else from what the artifact recorded for its calibration
    split; test metrics from ``X_test``/``y_test``. Inference is timed on the evaluation or
    test rows, else on the artifact's background rows.
    """
    from mlrails.artifact.io import load_artifact

    step = progress or (lambda _msg: None)
    path = Path(artifact_dir)
    if rails is None:
        rails = load_artifact(path, model, trust=trust)
    manifest = rails.manifest or {}
    adapter, info, s = rails.adapter, rails.adapter.info(), rails.summary
    step("evaluating the model")
    evaluation = (
        model_metrics(adapter, X_eval, y_eval) if X_eval is not None else recorded_metrics(rails)
    )
    if not evaluation:
        evaluation = [_other(TO_FILL, 0.0)]
    tests = model_metrics(adapter, X_test, y_test) if X_test is not None else []
    step("timing inference")
    rows = next((r for r in (X_eval, X_test) if r is not None and len(r)), rails.background)
    timing = measure_inference(adapter, rows, timing_rows=timing_rows, repeats=repeats)
    model_file = manifest.get("model_file")
    model_path = path / model_file if isinstance(model_file, str) and model_file else None
    model_sha = file_hash(model_path) if model_path is not None else None
    short = info.model_class.rsplit(".", 1)[-1]
    digest = rails.artifact_hash
    outputs = _output_spec(adapter, X_eval if X_eval is not None else rows)
    status = OutputItem(
        item_name="status",
        item_description="HTTP status of the verdict: 200 when every safeguard passed, "
        "else the prediction is withheld or flagged",
        item_type="Integer",
        item_specification=ItemSpecification.for_number(200, 599),
        component_mapping=_TO_MAP,
    )
    held_out = 100.0 * s.n_calibration / max(1, s.n_train + s.n_calibration)
    storage = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30
    model_bytes = model_file_bytes(path, manifest)
    return TrainedModel(
        model_name=short,
        model_version=digest[:12],
        model_description=(
            f"{info.model_class} ({info.framework} {info.framework_version}) for "
            f"{info.task}, on rails (mlrails artifact {digest[:16]})"
            + (f"; model file {model_file} SHA-256 {model_sha}" if model_sha else "")
        ),
        training_date=_fitted_date(manifest),
        ensemble=any(k in short for k in _ENSEMBLES),
        model_components=[
            ModelComponent(
                learning_algorithm=_algorithm(short),
                hyper_parameters=_hyper_parameters(adapter.native),
                programming_languages=["Python"],
            )
        ],
        model_composition_details=_composition(adapter.native, short),
        ml_frameworks=[f"{info.framework} {info.framework_version}".strip()],
        data_pipeline_identifier=TO_FILL,
        training_data_identifier=training_data_identifier or TO_FILL,
        output_spec=outputs,
        post_processing=True,
        post_processing_process=_post_processing(rails),
        final_output_spec=[*outputs, status],
        error_handling=(
            "Inputs violating the input contract, or flagged by a safeguard, get a verdict with "
            "a non-200 status and an RFC 9457 problem document (see the rails policy)"
        ),
        evaluation_dataset=EvaluationDataset(
            name=eval_name,
            holdout_percentage=round(held_out, 4),
            seed=rails.policy.seed,
            algorithm="train_test_split (stratified for classes), as mlrails fit draws it",
            file=eval_file or TO_FILL,
        ),
        evaluation_metrics=evaluation,
        test_dataset=TestDataset(
            name=test_name or TO_FILL,
            test_results=_results_text(tests) if tests else TO_FILL,
            file=test_file or TO_FILL,
        ),
        integration_test_dataset=TestDataset(name=TO_FILL, test_results=TO_FILL, file=TO_FILL),
        test_metrics=tests or [_other(TO_FILL, 0.0)],
        model_output_interpretation=_interpretation(adapter),
        default_model_output="no prediction: a verdict with a non-200 status and a problem "
        "document saying why",
        algorithm_metrics=[_monitored()],
        business_metrics=[_monitored()],
        user_system_feedback=[Feedback(short_name=TO_FILL, details=TO_FILL)],
        log_data=[
            LogData(
                log="every input row, its verdict and each safeguard's score",
                log_data_format="JSON columns of the mlrails decision log (SQLite/PostgreSQL)",
                history=TO_FILL,
            )
        ],
        data_buffering_reqs="none: rows are checked one request at a time (concurrent "
        "requests are micro-batched by mlrails serve)",
        decisions_assumptions=[
            timing.text(),
            "training_date is the date the rails were fitted (the artifact does not record "
            "when the model itself was trained)",
            *s.notes,
        ],
        computing_resource_reqs=ComputingResources(
            gpu=_gpus_used(adapter),
            cpu=timing.cpus_used,
            memory=round((timing.peak_memory_mib * 2**20 + model_bytes) / 2**30, 6),
            storage=round(storage, 6),
        ),
        inference_time=InferenceTime(
            time=max(1, math.ceil(timing.single_p99_ms)), unit="Milliseconds"
        ),
        system_dependencies=[f"Python {manifest.get('python', '')}".strip()]
        + [f"{k}=={v}" for k, v in sorted((manifest.get("libraries") or {}).items())],
        model_training_code=TO_FILL,
        trained_model_code=(model_path or path).resolve().as_uri(),
        documentation=[
            Documentation(
                description=f"mlrails artifact (hash {digest})", location=path.resolve().as_uri()
            )
        ],
    )


# -- helpers -----------------------------------------------------------------------------
def _predict_fn(adapter: ModelAdapter) -> Callable[[Any], Any]:
    return adapter.predict_proba if adapter.task == "classification" else adapter.predict_values


def _rows(X: Any, index: NDArray[Any]) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[index]
    return np.asarray(X)[index]


def _other(name: str, value: float) -> MetricResult:
    return MetricResult(metric="Other", other_metric=name, result=float(value))


def _as_class_dtype(y: NDArray[Any], classes: NDArray[Any]) -> NDArray[Any]:
    """Labels read from a CSV as text compared with numeric classes (or the reverse)."""
    if y.dtype.kind == classes.dtype.kind:
        return y
    try:
        return y.astype(classes.dtype)
    except (TypeError, ValueError):
        return y


def _monitored() -> MonitoredMetric:
    return MonitoredMetric(
        metric=TO_FILL, operator="greater than", threshold=0.0, goal_mapping=TO_FILL
    )


def _results_text(results: list[MetricResult]) -> str:
    return ", ".join(
        f"{r.other_metric if r.metric == 'Other' else r.metric} {r.result:.4g}" for r in results
    )


def _output_spec(adapter: ModelAdapter, X: Any) -> list[OutputItem]:
    if adapter.task == "regression":
        spec = None
        if X is not None and len(X):
            values = adapter.predict_values(X)
            spec = ItemSpecification.for_number(float(np.min(values)), float(np.max(values)))
        return [
            OutputItem(
                item_name="prediction",
                item_description="Predicted value (specification: range on the described rows)",
                item_type="Float",
                item_specification=spec,
                component_mapping=_TO_MAP,
            )
        ]
    classes = [c.item() if hasattr(c, "item") else c for c in np.asarray(adapter.classes_)]
    numeric = all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes)
    integers = numeric and all(float(c).is_integer() for c in classes)
    label = OutputItem(
        item_name="prediction",
        item_description="Predicted class, one of: " + ", ".join(map(str, classes)),
        item_type="Integer" if integers else ("Float" if numeric else "String"),
        item_specification=ItemSpecification.for_number(float(min(classes)), float(max(classes)))
        if numeric
        else _enumeration([str(c) for c in classes]),
        component_mapping=_TO_MAP,
    )
    probabilities = [
        OutputItem(
            item_name=f"probabilities.{c}",
            item_description=f"Probability of class {c}",
            item_type="Float",
            item_specification=ItemSpecification.for_number(0.0, 1.0),
            component_mapping=_TO_MAP,
        )
        for c in classes
    ]
    return [label, *probabilities]


def _enumeration(values: list[str]) -> ItemSpecification:
    """Specification of a string item taking one of ``values``."""
    return ItemSpecification(
        other_value="enumeration: " + ", ".join(values),
        min_value=0,
        max_value=0,
        resolution_x=0,
        resolution_y=0,
        min_length=min(len(v) for v in values),
        max_length=max(len(v) for v in values),
        empty="" in values,
        numeric=any(ch.isdigit() for v in values for ch in v),
        slashes=any("/" in v or "\\" in v for v in values),
        spaces=any(" " in v for v in values),
        special=any(not (ch.isalnum() or ch in " /\\") for v in values for ch in v),
    )


def _interpretation(adapter: ModelAdapter) -> str:
    if adapter.task == "regression":
        return (
            "prediction: the model's value; trust it only when the verdict's status is 200 "
            "(a conformal interval is given when the rails have one)"
        )
    return (
        "prediction: the class with the highest probability; probabilities.<class>: the "
        "(calibrated, when the rails calibrate) probability of each class; trust the "
        "prediction only when the verdict's status is 200"
    )


def _post_processing(rails: Rails) -> list[str]:
    s = rails.summary
    steps = [f"input contract validation ({rails.policy.validation.mode})"]
    steps += [f"safeguard {g.name} ({g.mode})" for g in s.safeguards]
    if s.calibration is not None:
        steps.append(f"probability calibration ({s.calibration.method})")
    if s.conformal_coverage is not None:
        steps.append(f"conformal prediction (coverage {s.conformal_coverage:.0%})")
    return steps


def _algorithm(short: str) -> LearningAlgorithm:
    for key, algorithm in _ALGORITHMS:
        if key in short:
            return LearningAlgorithm(algorithm=algorithm, other_algorithm="")
    return LearningAlgorithm(algorithm="Other", other_algorithm=short)


def _hyper_parameters(native: Any) -> list[HyperParameter]:
    """Parameters of a scikit-learn estimator that differ from its class defaults."""
    get_params = getattr(native, "get_params", None)
    if get_params is None:
        return []
    try:
        params = get_params(deep=False)
        defaults = type(native)().get_params(deep=False)
    except Exception:  # an estimator whose class needs arguments: list nothing
        return []
    return [
        HyperParameter(parameter_name=str(k), parameter_value=repr(v))
        for k, v in sorted(params.items())
        if k not in defaults or repr(defaults[k]) != repr(v)
    ]


def _composition(native: Any, short: str) -> str:
    estimators = getattr(native, "estimators_", None)
    if estimators is not None and hasattr(estimators, "__len__"):
        return f"{short} combining {len(estimators)} fitted estimators"
    return "not an ensemble" if not any(k in short for k in _ENSEMBLES) else short


def _gpus_used(adapter: ModelAdapter) -> int:
    device = getattr(adapter, "device", None)
    return 1 if device is not None and "cuda" in str(device) else 0


def _fitted_date(manifest: dict[str, Any]) -> date:
    created = manifest.get("created_at")
    if isinstance(created, str):
        try:
            return datetime.fromisoformat(created).date()
        except ValueError:
            pass
    return datetime.now(UTC).date()


__all__ = [
    "InferenceTiming",
    "calibration_split",
    "describe_trained_model",
    "measure_inference",
    "model_metrics",
    "recorded_metrics",
]
