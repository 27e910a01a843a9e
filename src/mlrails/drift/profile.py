"""The reference side of drift monitoring: what the training data looked like, per field.

Numeric fields keep their sorted float64 values (the exact two-sample KS p-value is a
function of the whole reference sample, so no sketch would reproduce SciPy's numbers);
categorical fields keep one count per category. A profile round-trips through one ``.npz``
file (JSON metadata plus plain arrays, read with ``allow_pickle=False``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.drift.statistics import NumericIndex
from mlrails.errors import ArtifactError, DataError

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
FORMAT = "mlrails-reference-profile"
VERSION = 1
#: How many distinct values an integer label may have and still be treated as classes.
MAX_LABEL_CLASSES = 50

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True, eq=False)
class NumericReference:
    """Sorted non-missing reference values of one numeric field."""

    name: str
    values: F64
    n_missing: int
    is_label: bool = False
    kind: Kind = field(default="numeric", init=False)

    @property
    def n(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NumericReference)
            and (self.name, self.n_missing, self.is_label)
            == (other.name, other.n_missing, other.is_label)
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """Reference count per category (categories compared by their text form)."""

    name: str
    categories: tuple[str, ...]
    counts: I64
    n_missing: int
    is_label: bool = False
    kind: Kind = field(default="categorical", init=False)

    @property
    def n(self) -> int:
        return int(self.counts.sum()) + self.n_missing

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CategoricalReference)
            and (self.name, self.categories, self.n_missing, self.is_label)
            == (other.name, other.categories, other.n_missing, other.is_label)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]


FieldReference = NumericReference | CategoricalReference


def category_key(value: Any) -> str | None:
    """Text form of a category, None for missing. Integral floats print as integers, so a
    column read as float because of a missing value still matches its integer categories."""
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value)


def category_counts(s: pd.Series) -> tuple[dict[str, int], int]:
    """(count per category key, missing count) of one column: one hashed ``value_counts``
    over the rows, then the key function over the distinct values only."""
    counts: dict[str, int] = {}
    missing = 0
    vc = s.value_counts(dropna=False, sort=False)
    for value, c in zip(vc.index.tolist(), vc.to_numpy().tolist(), strict=True):
        if c == 0:
            continue  # unobserved level of a pandas Categorical
        key = category_key(value)
        if key is None:
            missing += int(c)
        else:
            counts[key] = counts.get(key, 0) + int(c)
    return counts, missing


def numeric_values(s: pd.Series, name: str) -> F64:
    """A column as float64 (NaN for missing); DataError naming the field for text values."""
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return np.asarray(s.to_numpy(dtype=np.float64), dtype=np.float64)
    if pd.api.types.is_numeric_dtype(dt):
        if dt == np.float64:
            return np.asarray(s.to_numpy(), dtype=np.float64)
        return np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bool(bad.any()):
        first = s[bad].iloc[0]
        raise DataError(
            f"field {name!r}: non-numeric value {first!r} in a numeric field "
            f"({int(bad.sum())} such rows)"
        )
    return np.asarray(num.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _is_categorical_dtype(dt: Any) -> bool:
    return bool(
        pd.api.types.is_bool_dtype(dt)
        or isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


@dataclass
class ReferenceProfile:
    """Per-field reference distributions of a training (reference) table."""

    fields: tuple[FieldReference, ...]
    n_rows: int
    _indexes: dict[tuple[str, int], NumericIndex] = field(
        default_factory=dict, repr=False, compare=False
    )

    # ---------------------------------------------------------------- construction

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        *,
        label: str | None = None,
        columns: Sequence[str] | None = None,
        categorical: Iterable[str] = (),
        numeric: Iterable[str] = (),
        max_values: int | None = None,
        seed: int = 0,
    ) -> ReferenceProfile:
        """Profile ``frame``'s columns (or ``columns``, plus ``label``).

        Kinds: bool, string, object and pandas Categorical columns are categorical, other
        numeric columns numeric, unless named in ``categorical`` / ``numeric``. The label is
        categorical when it is not float and has at most 50 distinct values (classes).
        ``max_values`` keeps a seeded random subsample of larger numeric fields (the KS test is
        then exact with respect to that subsample).
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"reference must be a pandas DataFrame, not {type(frame).__name__}")
        if len(frame) == 0:
            raise DataError("reference table is empty")
        names = list(frame.columns) if columns is None else list(columns)
        if label is not None and label not in names:
            names.append(label)
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"reference table lacks column(s): {', '.join(map(str, missing))}")
        cat, num = set(categorical), set(numeric)
        both = cat & num
        if both:
            raise DataError(f"column(s) both categorical and numeric: {sorted(both)}")
        rng = np.random.default_rng(seed)
        out: list[FieldReference] = []
        for name in names:
            s = frame[name]
            is_label = name == label
            kind = _kind(s, name, is_label, cat, num)
            if kind == "numeric":
                x = numeric_values(s, str(name))
                ok = ~np.isnan(x)
                if np.isinf(x).any():
                    raise DataError(f"field {name!r}: infinite values in the reference")
                vals = x[ok]
                if len(vals) == 0:
                    raise DataError(f"field {name!r}: no non-missing reference values")
                if max_values is not None and len(vals) > max_values:
                    vals = rng.choice(vals, size=max_values, replace=False)
                vals = np.sort(vals)
                out.append(NumericReference(str(name), vals, int((~ok).sum()), is_label))
            else:
                counts, n_miss = category_counts(s)
                keys = tuple(sorted(counts))
                arr = np.array([counts[k] for k in keys], dtype=np.int64)
                out.append(CategoricalReference(str(name), keys, arr, n_miss, is_label))
        return cls(fields=tuple(out), n_rows=len(frame))

    # ---------------------------------------------------------------- access

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def reference(self, name: str) -> FieldReference:
        for f in self.fields:
            if f.name == name:
                return f
        raise DataError(f"no field {name!r} in the reference profile")

    def numeric_index(self, ref: NumericReference, psi_bins: int) -> NumericIndex:
        """The comparison index of a numeric field (built on first use, then cached)."""
        key = (ref.name, psi_bins)
        ix = self._indexes.get(key)
        if ix is None:
            ix = NumericIndex.build(ref.values, psi_bins)
            self._indexes[key] = ix
        return ix

    # ---------------------------------------------------------------- storage

    def to_npz(self, target: str | Path | IO[bytes]) -> None:
        """Write the profile as one uncompressed ``.npz`` (metadata JSON + arrays)."""
        meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "n_rows": self.n_rows}
        arrays: dict[str, Any] = {}
        fields: list[dict[str, Any]] = []
        for i, f in enumerate(self.fields):
            entry: dict[str, Any] = {
                "name": f.name,
                "kind": f.kind,
                "is_label": f.is_label,
                "n_missing": f.n_missing,
            }
            if isinstance(f, NumericReference):
                arrays[f"values_{i}"] = f.values
            else:
                entry["categories"] = list(f.categories)
                arrays[f"counts_{i}"] = f.counts
            fields.append(entry)
        meta["fields"] = fields
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(target, allow_pickle=False, **arrays)  # type: ignore[arg-type]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.to_npz(buf)
        return buf.getvalue()

    @classmethod
    def from_npz(cls, source: str | Path | IO[bytes]) -> ReferenceProfile:
        """Read a profile written by :meth:`to_npz`; ArtifactError when corrupt."""
        try:
            with np.load(source, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"][()]))
                if meta.get("format") != FORMAT:
                    raise ArtifactError("not a reference profile")
                if meta.get("version") != VERSION:
                    raise ArtifactError(f"unsupported profile version {meta.get('version')}")
                out: list[FieldReference] = []
                for i, e in enumerate(meta["fields"]):
                    if e["kind"] == "numeric":
                        vals = np.asarray(z[f"values_{i}"], dtype=np.float64)
                        if (
                            vals.ndim != 1
                            or len(vals) == 0
                            or not np.isfinite(vals).all()
                            or (np.diff(vals) < 0).any()
                        ):
                            raise ArtifactError(f"field {e['name']!r}: bad reference values")
                        out.append(
                            NumericReference(
                                str(e["name"]), vals, int(e["n_missing"]), bool(e["is_label"])
                            )
                        )
                    elif e["kind"] == "categorical":
                        counts = np.asarray(z[f"counts_{i}"], dtype=np.int64)
                        cats = tuple(str(c) for c in e["categories"])
                        if counts.shape != (len(cats),) or (counts < 0).any():
                            raise ArtifactError(f"field {e['name']!r}: bad category counts")
                        out.append(
                            CategoricalReference(
                                str(e["name"]),
                                cats,
                                counts,
                                int(e["n_missing"]),
                                bool(e["is_label"]),
                            )
                        )
                    else:
                        raise ArtifactError(f"unknown field kind {e['kind']!r}")
                return cls(fields=tuple(out), n_rows=int(meta["n_rows"]))
        except ArtifactError:
            raise
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise ArtifactError(f"cannot read reference profile ({exc})") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        return cls.from_npz(io.BytesIO(data))


def _kind(s: pd.Series, name: Any, is_label: bool, cat: set[Any], num: set[Any]) -> Kind:
    if name in cat:
        return "categorical"
    if name in num:
        return "numeric"
    dt = s.dtype
    if _is_categorical_dtype(dt):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dt):
        if is_label and not pd.api.types.is_float_dtype(dt):
            return "categorical" if s.nunique(dropna=True) <= MAX_LABEL_CLASSES else "numeric"
        return "numeric"
    raise DataError(
        f"field {name!r}: unsupported dtype {dt} (name it in numeric= or categorical=, "
        "or leave it out with columns=)"
    )
