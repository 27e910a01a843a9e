"""Typed per-field statistics, and their form in the v1.2 format's ``statistics`` list.

The format stores statistics as untyped rows ``{property, field, value: string}``. mlrails keeps
one :class:`FieldStatistics` per field (count, missing rate, mean, std, minimum, maximum,
quantiles, histogram, category frequencies) and writes it as rows:

============== =============================================== ==============================
property       value string                                    example
============== =============================================== ==============================
count          non-missing values, decimal integer              ``"412"``
missing_rate   share of rows missing, ``repr(float)``           ``"0.0125"``
mean           ``repr(float)``                                  ``"14.127291739894552"``
std            sample standard deviation (ddof=1)               ``"3.5240488262120775"``
minimum        ``repr(float)``                                  ``"6.981"``
maximum        ``repr(float)``                                  ``"28.11"``
quantile_<p>   value at probability p (linear interpolation)   ``quantile_0.25`` → ``"11.7"``
histogram      JSON ``{"edges": [...], "counts": [...]}``       bin edges and counts
frequencies    JSON ``{category: count}``                       ``{"B": 357, "M": 212}``
============== =============================================== ==============================

Floats are written with ``repr`` (shortest text that reads back as the same float), so values
round-trip exactly. On reading, ``min``/``max``/``average``/``median`` are accepted as aliases
(and written back under the names above); properties mlrails does not know (``entropy``, ...)
are kept verbatim in :attr:`FieldStatistics.other`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

import numpy as np
import pandas as pd
from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlrails._json import dumps
from mlrails.descriptors.common import Descriptor, DescriptorModel

DEFAULT_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
DEFAULT_BINS = 10
DEFAULT_MAX_CATEGORIES = 100

QUANTILE_PREFIX = "quantile_"
_SCALARS = ("count", "missing_rate", "mean", "std", "minimum", "maximum")
_JSON_VALUED = ("histogram", "frequencies")
_ALIASES = {"min": "minimum", "max": "maximum", "average": "mean", "median": "quantile_0.5"}
_COUNT = re.compile(r"^[0-9]+$")


class Statistic(DescriptorModel):
    """One row of the format's ``statistics`` list (training and production data)."""

    property: str = Field(
        description="Statistical property such as minimum, maximum, average, entropy, etc."
    )
    field: str = Field(description="Field (column) that the statistic applies to")
    value: str = Field(description="Value for reported statistical property")


class Histogram(DescriptorModel):
    """Counts of values per bin; ``edges`` has one more entry than ``counts``.

    As in ``numpy.histogram``, every bin is half-open except the last, which includes its
    right edge.
    """

    edges: list[float] = Field(min_length=2, description="Bin edges, non-decreasing")
    counts: list[int] = Field(description="Number of values in each bin")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.edges) != len(self.counts) + 1:
            raise ValueError(
                f"{len(self.edges)} edges for {len(self.counts)} counts; "
                "a histogram needs one edge more than counts"
            )
        if any(b < a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("histogram edges must be non-decreasing")
        if any(c < 0 for c in self.counts):
            raise ValueError("histogram counts must be non-negative")
        return self


class FieldStatistics(DescriptorModel):
    """Statistics of one field (column); every statistic is optional, at least one is given."""

    field: str = Field(description="Field (column) that the statistics apply to")
    count: int | None = Field(default=None, ge=0, description="Number of non-missing values")
    missing_rate: float | None = Field(
        default=None, ge=0, le=1, description="Share of rows whose value is missing"
    )
    mean: float | None = Field(default=None, description="Arithmetic mean")
    std: float | None = Field(default=None, ge=0, description="Sample standard deviation (ddof=1)")
    minimum: float | None = Field(default=None, description="Smallest value")
    maximum: float | None = Field(default=None, description="Largest value")
    quantiles: dict[float, float] = Field(
        default_factory=dict,
        description="Value at each probability p in [0, 1] (linear interpolation)",
    )
    histogram: Histogram | None = Field(default=None, description="Bin edges and counts")
    frequencies: dict[str, int] = Field(
        default_factory=dict,
        description="Number of rows per category (categorical fields)",
    )
    other: dict[str, str] = Field(
        default_factory=dict,
        description="Statistics mlrails does not type (e.g. entropy), kept as written",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        bad_p = [p for p in self.quantiles if not 0.0 <= p <= 1.0]
        if bad_p:
            raise ValueError(f"quantile probabilities must lie in [0, 1], got {bad_p}")
        if any(c < 0 for c in self.frequencies.values()):
            raise ValueError("category frequencies must be non-negative counts")
        reserved = [k for k in self.other if canonical_property(k) is not None]
        if reserved:
            raise ValueError(f"{reserved} are typed statistics; set them as fields, not in other")
        if not self.to_rows():
            raise ValueError(f"no statistic given for field {self.field!r}")
        return self

    @classmethod
    def from_series(
        cls,
        series: pd.Series[Any],
        *,
        field: str | None = None,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        bins: int | Sequence[float] = DEFAULT_BINS,
        max_categories: int | None = DEFAULT_MAX_CATEGORIES,
    ) -> FieldStatistics:
        """Statistics of a column: numeric (not boolean) columns get mean, std, quantiles and a
        histogram; any other column gets category frequencies (values as text).

        Missing means NaN/None/NaT, and for numeric columns also ±inf (not a usable number).
        ``bins`` may be explicit edges, e.g. a training histogram's, so that production data is
        binned the same way (values outside the edges are then not counted in any bin). Only the
        ``max_categories`` most frequent categories are listed; ``count`` still counts all.
        """
        name = field if field is not None else series.name
        if name is None:
            raise ValueError("the series has no name; pass field=")
        n_rows = len(series)
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            return cls._numeric(str(name), n_rows, values[np.isfinite(values)], quantiles, bins)
        present = series[series.notna()].astype(str)
        counts = present.value_counts(sort=True)
        if max_categories is not None:
            counts = counts.iloc[:max_categories]
        return cls(
            field=str(name),
            count=len(present),
            missing_rate=_share(n_rows - len(present), n_rows),
            frequencies={str(k): int(v) for k, v in counts.items()},
        )

    @classmethod
    def _numeric(
        cls,
        name: str,
        n_rows: int,
        finite: np.ndarray[Any, np.dtype[np.float64]],
        quantiles: Sequence[float],
        bins: int | Sequence[float],
    ) -> FieldStatistics:
        count = int(finite.size)
        missing_rate = _share(n_rows - count, n_rows)
        if count == 0:
            return cls(field=name, count=0, missing_rate=missing_rate)
        probabilities = [float(p) for p in quantiles]
        with np.errstate(over="ignore", invalid="ignore"):  # overflow only near ±1.8e308
            values = np.quantile(finite, probabilities) if probabilities else np.array([])
            histogram = _histogram(finite, bins)
            mean = _finite(np.mean(finite))
            std = _finite(np.std(finite, ddof=1)) if count > 1 else None
        return cls(
            field=name,
            count=count,
            missing_rate=missing_rate,
            mean=mean,
            std=std,
            minimum=float(finite.min()),
            maximum=float(finite.max()),
            quantiles={p: float(v) for p, v in zip(probabilities, values, strict=True)},
            histogram=histogram,
        )

    def to_rows(self) -> list[Statistic]:
        """This field's statistics as format rows, in a fixed order (see module docstring)."""
        rows: list[tuple[str, str]] = []
        if self.count is not None:
            rows.append(("count", str(self.count)))
        for name in _SCALARS[1:]:
            value = getattr(self, name)
            if value is not None:
                rows.append((name, _float_text(value)))
        for p in sorted(self.quantiles):
            rows.append((quantile_property(p), _float_text(self.quantiles[p])))
        if self.histogram is not None:
            rows.append(("histogram", dumps(self.histogram.model_dump())))
        if self.frequencies:
            rows.append(("frequencies", dumps(self.frequencies)))
        rows.extend(self.other.items())
        return [Statistic(property=p, field=self.field, value=v) for p, v in rows]


def quantile_property(p: float) -> str:
    """Property name of the quantile at probability ``p`` (``quantile_0.25``)."""
    return f"{QUANTILE_PREFIX}{float(p)!r}"


def canonical_property(name: str) -> str | None:
    """The name mlrails writes for a known property (aliases resolved), else ``None``."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in _SCALARS or key in _JSON_VALUED:
        return key
    if key.startswith(QUANTILE_PREFIX):
        try:
            return quantile_property(float(key[len(QUANTILE_PREFIX) :]))
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class RowProblem:
    """A problem with one row of a ``statistics`` list: row index, key and what is wrong."""

    index: int
    key: Literal["property", "field", "value"]
    problem: str


class StatisticsFormatError(ValueError):
    """Rows of a ``statistics`` list that cannot be typed (bad value, duplicate property)."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"[{p.index}].{p.key}: {p.problem}" for p in self.problems))


def statistics_to_rows(stats: Iterable[FieldStatistics]) -> list[Statistic]:
    """The format's ``statistics`` list for typed statistics (fields in the given order)."""
    return [row for s in stats for row in s.to_rows()]


def statistics_from_rows(rows: Sequence[Statistic]) -> list[FieldStatistics]:
    """Typed statistics from format rows, one per field in order of first appearance.

    Raises :class:`StatisticsFormatError` listing every row whose value does not parse, whose
    property repeats one already given for the field, or that is otherwise inconsistent.
    """
    fields: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    problems: list[RowProblem] = []
    for index, row in enumerate(rows):
        kwargs = fields.setdefault(row.field, {"field": row.field})
        first_row.setdefault(row.field, index)
        name = canonical_property(row.property) or row.property
        if (row.field, name) in seen:
            problems.append(
                RowProblem(
                    index,
                    "property",
                    f"{row.property!r} for field {row.field!r} is already given at "
                    f"$.statistics[{seen[row.field, name]}]",
                )
            )
            continue
        seen[row.field, name] = index
        try:
            _store(kwargs, name, row.property, row.value)
        except ValueError as exc:
            problems.append(RowProblem(index, "value", str(exc)))
    result: list[FieldStatistics] = []
    failed = {rows[p.index].field for p in problems}
    for field_name, kwargs in fields.items():
        if field_name in failed:
            continue
        try:
            result.append(FieldStatistics(**kwargs))
        except ValidationError as exc:
            message = "; ".join(e["msg"] for e in exc.errors())
            problems.append(RowProblem(first_row[field_name], "field", message))
    if problems:
        raise StatisticsFormatError(problems)
    return result


def unknown_statistics_fields(
    stats: Iterable[FieldStatistics], known_fields: Iterable[str]
) -> list[str]:
    """Names of fields that have statistics but are not among ``known_fields``."""
    known = set(known_fields)
    return [s.field for s in stats if s.field not in known]


_ROWS: TypeAdapter[list[Statistic]] = TypeAdapter(list[Statistic])


def coerce_statistics(value: Any, known_fields: Iterable[str] | None) -> Any:
    """Pydantic ``before`` hook: format rows → typed statistics; anything else unchanged.

    Problems are raised as a ``ValidationError`` located at the offending row
    (``statistics[3].value``), including rows naming a field missing from ``known_fields``.
    """
    if not isinstance(value, list) or not any(
        isinstance(v, Mapping) and "property" in v for v in value
    ):
        return value
    rows = _ROWS.validate_python(value, strict=True)
    problems: list[RowProblem] = []
    try:
        stats = statistics_from_rows(rows)
    except StatisticsFormatError as exc:
        problems.extend(exc.problems)
        stats = []
    if known_fields is not None:  # one problem per unknown field, at its first row
        unknown: dict[str, int] = {}
        known = set(known_fields)
        for i, row in enumerate(rows):
            if row.field not in known:
                unknown.setdefault(row.field, i)
        problems.extend(
            RowProblem(i, "field", f"no field {name!r} in $.schema") for name, i in unknown.items()
        )
    if problems:
        raise ValidationError.from_exception_data(
            "statistics",
            [
                InitErrorDetails(
                    type=PydanticCustomError(
                        "descriptor_statistic", "{problem}", {"problem": p.problem}
                    ),
                    loc=(p.index, p.key),
                    input=getattr(rows[p.index], p.key),
                )
                for p in sorted(problems, key=lambda p: p.index)
            ],
        )
    return stats


def _store(kwargs: dict[str, Any], name: str, written: str, text: str) -> None:
    """Parse ``text`` for property ``name`` into the keyword arguments of a FieldStatistics."""
    if name == "count":
        if not _COUNT.match(text):
            raise ValueError(f"count {text!r} is not a non-negative integer")
        kwargs["count"] = int(text)
    elif name in _SCALARS:
        number = _parse_float(name, text)
        if name == "missing_rate" and not 0.0 <= number <= 1.0:
            raise ValueError(f"missing_rate {text!r} is not in [0, 1]")
        if name == "std" and number < 0:
            raise ValueError(f"std {text!r} is negative")
        kwargs[name] = number
    elif name.startswith(QUANTILE_PREFIX):
        p = float(name[len(QUANTILE_PREFIX) :])
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"quantile probability {p!r} is not in [0, 1]")
        kwargs.setdefault("quantiles", {})[p] = _parse_float(written, text)
    elif name == "histogram":
        try:
            kwargs["histogram"] = Histogram.model_validate_json(text, strict=True)
        except ValidationError as exc:
            detail = exc.errors()[0]
            where = ".".join(str(x) for x in detail["loc"])
            raise ValueError(
                f"histogram is not JSON {{edges, counts}}: {where + ': ' if where else ''}"
                f"{detail['msg']}"
            ) from None
    elif name == "frequencies":
        kwargs["frequencies"] = _parse_frequencies(text)
    else:
        kwargs.setdefault("other", {})[written] = text


def _parse_float(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} {text!r} is not a finite number")
    return number


def _parse_frequencies(text: str) -> dict[str, int]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in data.values()
    ):
        raise ValueError(
            "frequencies is not a JSON object of non-negative integer counts "
            '(e.g. {"B": 357, "M": 212})'
        )
    return {str(k): int(v) for k, v in data.items()}


def _histogram(
    values: np.ndarray[Any, np.dtype[np.float64]], bins: int | Sequence[float]
) -> Histogram | None:
    """``numpy.histogram`` of non-empty finite values; one bin [min, max] when the range is too
    narrow for distinct edges, none when it overflows float64."""
    if isinstance(bins, int) and not math.isfinite(float(values.max()) - float(values.min())):
        return None
    try:
        counts, edges = np.histogram(values, bins=bins)  # type: ignore[arg-type]
    except ValueError:
        if not isinstance(bins, int):
            raise
        return Histogram(edges=[float(values.min()), float(values.max())], counts=[values.size])
    return Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])


def _float_text(value: float) -> str:
    return repr(float(value))


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _finite(value: Any) -> float | None:
    """A statistic that overflowed (inf/NaN from huge values) is absent, not written."""
    number = float(value)
    return number if math.isfinite(number) else None


class _NamedField(Protocol):
    field_name: str


class DescriptorWithStatistics(Descriptor):
    """Base of the descriptors with a ``schema`` and ``statistics`` (training/production data).

    ``statistics`` is typed (one :class:`FieldStatistics` per field), read from and written as
    the format's rows, and every field it names must be listed in ``schema``.
    """

    if TYPE_CHECKING:
        data_schema: Sequence[_NamedField]
        statistics: list[FieldStatistics]

    @field_validator("statistics", mode="before", check_fields=False)
    @classmethod
    def _statistics_from_rows(cls, value: Any, info: ValidationInfo) -> Any:
        schema = info.data.get("data_schema")
        known = None if schema is None else [f.field_name for f in schema]
        return coerce_statistics(value, known)

    @field_serializer("statistics", check_fields=False)
    def _statistics_to_rows(self, stats: list[FieldStatistics]) -> list[dict[str, str]]:
        return [row.model_dump() for row in statistics_to_rows(stats)]

    @model_validator(mode="after")
    def _statistics_fields_exist(self) -> Self:
        unknown = unknown_statistics_fields(self.statistics, self.field_names())
        if unknown:
            raise ValueError(f"statistics given for fields not listed in schema: {unknown}")
        return self

    def field_names(self) -> list[str]:
        """Names of the fields listed in ``schema``."""
        return [f.field_name for f in self.data_schema]

    def statistics_for(self, field: str) -> FieldStatistics | None:
        """The statistics of ``field``, or ``None`` when the descriptor has none for it."""
        return next((s for s in self.statistics if s.field == field), None)
