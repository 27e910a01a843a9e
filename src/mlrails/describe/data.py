"""Training-data and production-data descriptors measured from the data itself.

Training data: schema, per-field statistics and label distribution from the table. Production
data: the same statistics over the rows the decision log of ``mlrails serve`` holds for a time
window, binned with the *training* histogram edges when the training descriptor is given, so
that both histograms count the same bins and can be compared directly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlrails.clock import utc
from mlrails.describe.common import TO_FILL
from mlrails.descriptors.production_data import ProductionData, ProductionDataField
from mlrails.descriptors.statistics import DEFAULT_BINS, FieldStatistics
from mlrails.descriptors.training_data import TrainingData, TrainingDataField, TrainingLabelShare
from mlrails.drift.traffic import logged_window, refused_by_validation
from mlrails.errors import DataError

PREDICTION_FIELD = "prediction"
"""The production field holding the guard's answers; the training label maps to it."""

if TYPE_CHECKING:
    from mlrails.contract import InputContract
    from mlrails.store import DecisionRecord, Store

_MAX_LISTED_CATEGORIES = 20
_MAX_LABELS = 50


def as_frame(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame; a 2-D array gets the columns ``x0, x1, ...`` the contract uses."""
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"a table (2-D) is needed to describe data, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def field_type(series: pd.Series[Any]) -> str:
    """The format's field type of a column: boolean, integer, number or string."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    return "string"


def expected_values(series: pd.Series[Any]) -> str:
    """Observed values of a column: ``range [min, max]`` or ``enumeration: a, b, ...``."""
    present = series.dropna()
    if present.empty:
        return "any (no value present)"
    kind = field_type(series)
    if kind in ("integer", "number"):
        return f"range [{_num(present.min())}, {_num(present.max())}]"
    values = sorted({str(v) for v in present})
    if len(values) > _MAX_LISTED_CATEGORIES:
        return f"any of {len(values)} distinct values"
    return "enumeration: " + ", ".join(values)


def is_label_column(y: pd.Series[Any]) -> bool:
    """Whether a target holds class labels (not continuous values) worth a distribution."""
    if pd.api.types.is_float_dtype(y):
        present = y.dropna()
        return bool(present.nunique() <= _MAX_LABELS and np.all(np.mod(present.to_numpy(), 1) == 0))
    return bool(y.nunique(dropna=True) <= _MAX_LABELS)


def label_shares(values: Sequence[Any]) -> list[tuple[str, float]]:
    """``(label, percentage)`` of each label, most frequent first (ties by label)."""
    counts = Counter(_label_text(v) for v in values)
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(label, 100.0 * n / total) for label, n in ordered] if total else []


def describe_training_data(
    X: Any,
    y: Any = None,
    *,
    name: str,
    target: str = "label",
    identifier: str | None = None,
    version: str = "1",
    description: str | None = None,
    bins: int = DEFAULT_BINS,
) -> TrainingData:
    """The Training Data descriptor of ``X`` (and label ``y``), measured with pandas/NumPy.

    Schema (type, observed values, missing values) and statistics for every column and the
    label; the label distribution when ``y`` holds classes. Raw-data link, preparation code
    and field descriptions are left as :data:`TO_FILL` for the team.
    """
    frame = as_frame(X)
    if len(frame) == 0:
        raise DataError(f"{name}: the training data has no rows")
    if target in frame.columns:
        raise DataError(f"{name}: a feature is named like the label {target!r}; pass target=")
    columns: list[pd.Series[Any]] = [frame[c].rename(str(c)) for c in frame.columns]
    label: pd.Series[Any] | None = None
    if y is not None:
        label = pd.Series(np.asarray(y).reshape(-1), name=target)
        if len(label) != len(frame):
            raise DataError(f"{name}: X has {len(frame)} rows but y has {len(label)}")
        columns.append(label)
    schema = [
        TrainingDataField(
            field_name=str(s.name),
            label_field=s is label,
            field_description=TO_FILL,
            field_type=field_type(s),
            expected_values=expected_values(s),
            missing_values=_missing_text(s),
            mapping_production_data=PREDICTION_FIELD if s is label else str(s.name),
        )
        for s in columns
    ]
    distribution = []
    if label is not None and is_label_column(label):
        distribution = [
            TrainingLabelShare(label=lab, percentage=pct, mapping_production_data=lab)
            for lab, pct in label_shares(label.dropna().tolist())
        ]
    n_features = len(columns) - (label is not None)
    return TrainingData(
        dataset_identifier=identifier or name,
        dataset_name=name,
        dataset_version=version,
        dataset_description=description
        or f"{len(frame)} rows, {n_features} features"
        + (f", label {target!r}" if label is not None else ""),
        raw_data_identifier=TO_FILL,
        data_schema=schema,
        statistics=[FieldStatistics.from_series(s, bins=bins) for s in columns],
        distribution=distribution,
        preparation_process=[],
        preparation_code=TO_FILL,
        documentation=[],
    )


def describe_production_data(
    store: str | Path | Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    contract: InputContract | None = None,
    training: TrainingData | None = None,
    bins: int = DEFAULT_BINS,
) -> ProductionData:
    """The Production Data descriptor of the rows logged in ``[since, until)``.

    ``store`` is a decision log (SQLite path, ``postgresql://`` URL or an open
    :class:`~mlrails.store.Store`). Only row-level records count (request-level failures have
    no row), and rows refused by validation stay out of the field statistics (their
    values broke the contract; the data sources text counts them). Fields are the
    contract's when given (values that are not numbers count as missing in a numeric
    field), else every key seen. A field the ``training`` descriptor has a histogram for is
    binned with its edges. The guard's answers are the statistics of a field ``prediction``
    (class frequencies of the answered rows; the training label maps to it), not the
    ``distribution``: that one holds production *labels*, which a decision log does not
    have, so it is left empty (mismatch compares labels with predictions as
    ``MM-PREDICTION-SHIFT`` and labels with labels as ``MM-LABEL-SHIFT``).
    """
    frame, rows, shown = logged_window(store, since=since, until=until, contract=contract)
    specs = {f.name: f for f in contract.fields} if contract is not None else {}
    stats: list[FieldStatistics] = []
    schema: list[ProductionDataField] = []
    for field in frame.columns:
        series = frame[field]
        spec = specs.get(field)
        edges = _training_edges(training, field)
        stats.append(FieldStatistics.from_series(series, bins=edges if edges else bins))
        schema.append(
            ProductionDataField(
                field_name=field,
                field_description=f"input field {field!r} as logged by mlrails serve",
                field_type=field_type(series),
                expected_values=_contract_values(spec) if spec else expected_values(series),
            )
        )
    predictions = [r.output.get("prediction") for r in rows if isinstance(r.output, dict)]
    answered = [p for p in predictions if p is not None and not isinstance(p, float)]
    if answered and PREDICTION_FIELD not in frame.columns:
        classes = pd.Series(answered, name=PREDICTION_FIELD)
        texts = pd.Series([_label_text(p) for p in answered], name=PREDICTION_FIELD)
        stats.append(FieldStatistics.from_series(texts))
        schema.append(
            ProductionDataField(
                field_name=PREDICTION_FIELD,
                field_description="the class mlrails serve answered (answered rows only)",
                field_type=field_type(classes),
                expected_values=expected_values(classes),
            )
        )
    return ProductionData(
        data_sources=f"decision log of mlrails serve ({shown}): {_status_text(rows)}",
        data_rates=_rate_text(rows, since, until),
        data_schema=schema,
        statistics=stats,
        distribution=[],
        documentation=[],
    )


def _training_edges(training: TrainingData | None, field: str) -> list[float] | None:
    if training is None:
        return None
    stats = training.statistics_for(field)
    if stats is None or stats.histogram is None:
        return None
    return list(stats.histogram.edges)


def _contract_values(spec: Any) -> str:
    if spec.categories:
        return "enumeration: " + ", ".join(spec.categories[:_MAX_LISTED_CATEGORIES])
    if spec.lower is not None and spec.upper is not None:
        return f"range [{_num(spec.lower)}, {_num(spec.upper)}] (accepted by the contract)"
    return "any"


def _missing_text(series: pd.Series[Any]) -> str:
    missing = int(series.isna().sum())
    if missing == 0:
        return "none present in the training data"
    return f"{missing} of {len(series)} rows missing (null/NaN)"


def _status_text(rows: Sequence[DecisionRecord]) -> str:
    counts = Counter(r.status for r in rows)
    mix = ", ".join(f"{n} with status {s}" for s, n in sorted(counts.items()))
    refused = sum(refused_by_validation(r) for r in rows)
    left_out = f"; {refused} refused by validation, left out of the statistics" if refused else ""
    return f"{len(rows)} logged rows ({mix}{left_out})"


def _rate_text(
    rows: Sequence[DecisionRecord], since: datetime | None, until: datetime | None
) -> str:
    start = utc(since) if since is not None else min(utc(r.time) for r in rows)
    end = utc(until) if until is not None else max(utc(r.time) for r in rows)
    hours = (end - start).total_seconds() / 3600
    requests = len({r.trace_id for r in rows})
    span = f"from {start.isoformat(timespec='seconds')} to {end.isoformat(timespec='seconds')}"
    if hours <= 0:
        return f"{len(rows)} rows in {requests} requests {span}"
    return f"{len(rows) / hours:.4g} rows per hour ({len(rows)} rows in {requests} requests {span})"


def _label_text(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _num(value: Any) -> str:
    number = float(value)
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)
