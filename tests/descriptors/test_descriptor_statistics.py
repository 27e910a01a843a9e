"""Typed field statistics: values checked against numpy/pandas, exact round-trip through rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlrails.descriptors import (
    FieldStatistics,
    Histogram,
    Statistic,
    statistics_from_rows,
    statistics_to_rows,
)
from mlrails.descriptors.statistics import DEFAULT_QUANTILES, StatisticsFormatError


def _rows(**props: str) -> list[Statistic]:
    return [Statistic(property=p, field="x", value=v) for p, v in props.items()]


def test_numeric_statistics_match_pandas_and_numpy(cancer: Any) -> None:
    series = cancer.X_train["mean radius"].copy()
    series.iloc[[3, 7]] = np.nan
    series.iloc[11] = np.inf  # not a usable number: counted as missing
    stats = FieldStatistics.from_series(series, bins=12)

    finite = series[np.isfinite(series)]
    assert stats.field == "mean radius"
    assert stats.count == finite.count() == len(series) - 3
    assert stats.missing_rate == pytest.approx(3 / len(series), abs=0)
    assert stats.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert stats.std == pytest.approx(finite.std(ddof=1), rel=1e-12)
    assert stats.std == pytest.approx(np.std(finite.to_numpy(), ddof=1), rel=1e-12)
    assert stats.minimum == finite.min()
    assert stats.maximum == finite.max()
    assert list(stats.quantiles) == list(DEFAULT_QUANTILES)
    for p, value in stats.quantiles.items():
        assert value == pytest.approx(finite.quantile(p), rel=1e-12)
    counts, edges = np.histogram(finite.to_numpy(), bins=12)
    assert stats.histogram == Histogram(edges=edges.tolist(), counts=counts.tolist())
    assert stats.frequencies == {}


def test_production_data_binned_with_the_training_edges(cancer: Any) -> None:
    train = FieldStatistics.from_series(cancer.X_train["mean area"])
    assert train.histogram is not None
    production = FieldStatistics.from_series(cancer.X_test["mean area"], bins=train.histogram.edges)
    assert production.histogram is not None
    assert production.histogram.edges == train.histogram.edges
    expected, _ = np.histogram(cancer.X_test["mean area"], bins=train.histogram.edges)
    assert production.histogram.counts == expected.tolist()


def test_categorical_statistics_are_category_counts() -> None:
    series = pd.Series(["B", "M", "B", None, "B", "M", np.nan], name="diagnosis")
    stats = FieldStatistics.from_series(series)
    assert stats.frequencies == {"B": 3, "M": 2}
    assert stats.count == 5
    assert stats.missing_rate == pytest.approx(2 / 7)
    assert stats.mean is None and stats.histogram is None and stats.quantiles == {}

    flags = FieldStatistics.from_series(pd.Series([True, False, True], name="flag"))
    assert flags.frequencies == {"True": 2, "False": 1}

    many = FieldStatistics.from_series(
        pd.Series([str(i) for i in range(50)], name="id"), max_categories=5
    )
    assert len(many.frequencies) == 5 and many.count == 50


def test_degenerate_columns() -> None:
    empty = FieldStatistics.from_series(pd.Series([np.nan, np.nan], name="x"))
    assert (empty.count, empty.missing_rate, empty.mean) == (0, 1.0, None)
    single = FieldStatistics.from_series(pd.Series([2.5], name="y"))
    assert single.std is None and single.mean == 2.5
    assert statistics_from_rows(statistics_to_rows([empty, single])) == [empty, single]
    narrow = FieldStatistics.from_series(pd.Series([1.0, 1.0000000000000002], name="z"))
    assert narrow.histogram is not None and sum(narrow.histogram.counts) == 2  # one bin
    with pytest.raises(ValueError, match="no name"):
        FieldStatistics.from_series(pd.Series([1.0]))


def test_rows_round_trip_exactly(cancer: Any) -> None:
    stats = [FieldStatistics.from_series(cancer.X_train[c]) for c in cancer.X_train.columns]
    rows = statistics_to_rows(stats)
    assert statistics_from_rows(rows) == stats
    # The value strings themselves are stable: a second trip writes identical rows.
    assert statistics_to_rows(statistics_from_rows(rows)) == rows
    means = {r.field: r.value for r in rows if r.property == "mean"}
    for s in stats:
        assert float(means[s.field]) == s.mean  # repr(float) reads back as the same float


def test_aliases_and_unknown_properties_are_read() -> None:
    (stats,) = statistics_from_rows(
        _rows(average="2.5", min="1", max="4", median="2", Entropy="1.2 bits")
    )
    assert (stats.mean, stats.minimum, stats.maximum) == (2.5, 1.0, 4.0)
    assert stats.quantiles == {0.5: 2.0}
    assert stats.other == {"Entropy": "1.2 bits"}
    written = {r.property: r.value for r in stats.to_rows()}
    assert written == {
        "mean": "2.5",
        "minimum": "1.0",
        "maximum": "4.0",
        "quantile_0.5": "2.0",
        "Entropy": "1.2 bits",
    }


@pytest.mark.parametrize(
    ("rows", "index", "key", "message"),
    [
        (_rows(count="12", mean="about 3"), 1, "value", "mean 'about 3' is not a number"),
        (_rows(mean="nan"), 0, "value", "not a finite number"),
        (_rows(count="-1"), 0, "value", "not a non-negative integer"),
        (_rows(missing_rate="1.5"), 0, "value", "not in [0, 1]"),
        (_rows(mean="1", average="2"), 1, "property", "already given at $.statistics[0]"),
        (_rows(histogram='{"edges": [0, 1]}'), 0, "value", "histogram is not JSON"),
        (_rows(histogram='{"edges": [0, 1], "counts": [1, 2]}'), 0, "value", "one edge more"),
        (_rows(frequencies='{"a": 1.5}'), 0, "value", "non-negative integer counts"),
        (_rows(quantile_2="3"), 0, "value", "not in [0, 1]"),
    ],
)
def test_bad_rows_are_reported_by_index(
    rows: list[Statistic], index: int, key: str, message: str
) -> None:
    with pytest.raises(StatisticsFormatError) as info:
        statistics_from_rows(rows)
    (problem,) = info.value.problems
    assert (problem.index, problem.key) == (index, key)
    assert message in problem.problem


def test_typed_statistics_are_validated() -> None:
    with pytest.raises(ValueError, match="no statistic given"):
        FieldStatistics(field="x")
    with pytest.raises(ValueError, match="typed statistics"):
        FieldStatistics(field="x", other={"average": "1"})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        FieldStatistics(field="x", quantiles={50.0: 1.0})


# --- property-based round trips ------------------------------------------------------------

_floats = st.floats(allow_nan=False, allow_infinity=False)
_names = st.text(min_size=1, max_size=12)


@st.composite
def _field_statistics(draw: st.DrawFn) -> FieldStatistics:
    edges = sorted(draw(st.lists(_floats, min_size=2, max_size=6)))
    histogram = draw(
        st.none()
        | st.just(
            Histogram(
                edges=edges,
                counts=draw(
                    st.lists(
                        st.integers(0, 10**9), min_size=len(edges) - 1, max_size=len(edges) - 1
                    )
                ),
            )
        )
    )
    other_keys = _names.filter(
        lambda k: (
            k.strip().lower()
            not in {
                "count",
                "missing_rate",
                "mean",
                "std",
                "minimum",
                "maximum",
                "histogram",
                "frequencies",
                "min",
                "max",
                "average",
                "median",
            }
            and not k.strip().lower().startswith("quantile_")
        )
    )
    return FieldStatistics(
        field=draw(_names),
        count=draw(st.integers(0, 10**12)),
        missing_rate=draw(st.none() | st.floats(0, 1)),
        mean=draw(st.none() | _floats),
        std=draw(st.none() | st.floats(0, 1e300)),
        minimum=draw(st.none() | _floats),
        maximum=draw(st.none() | _floats),
        quantiles=draw(st.dictionaries(st.floats(0, 1), _floats, max_size=5)),
        histogram=histogram,
        frequencies=draw(st.dictionaries(st.text(max_size=8), st.integers(0, 10**9), max_size=5)),
        other=draw(st.dictionaries(other_keys, st.text(max_size=20), max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_field_statistics(), max_size=4, unique_by=lambda s: s.field))
def test_property_rows_round_trip(stats: list[FieldStatistics]) -> None:
    rows = statistics_to_rows(stats)
    assert statistics_from_rows(rows) == stats
    assert statistics_to_rows(statistics_from_rows(rows)) == rows


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(0, 60),
        elements=st.floats(-1e6, 1e6) | st.floats(),  # moderate values, or any (nan, ±inf, 1e308)
    )
)
def test_property_from_series_round_trips(values: np.ndarray[Any, Any]) -> None:
    stats = FieldStatistics.from_series(pd.Series(values, name="x"))
    assert statistics_from_rows(stats.to_rows()) == [stats]
    finite = values[np.isfinite(values)]
    assert stats.count == finite.size
    if finite.size and np.abs(finite).max() < 1e300:
        assert stats.mean == pytest.approx(float(np.mean(finite)), rel=1e-9, abs=1e-9)
        assert stats.histogram is not None and sum(stats.histogram.counts) == finite.size
