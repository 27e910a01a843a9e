"""Vectorised validation of a batch against an :class:`InputContract`.

Validation never raises for bad rows: it returns every violation of every row (field, value,
expected), and a normalised batch in the layout the model was trained on, in which invalid
cells are replaced by NaN so the valid rows can still be scored together.

A batch of records (mappings) is judged row by row: a key one record lacks is that record's
``missing_column``, a key it should not have is its ``unexpected_column``; the other records
keep their own verdicts. A table (or columns) lacking a column is a fault of the whole batch
(``batch_errors``), but each row's faults in the columns present are still listed.

Types are the contract's, not Python's (where ``True`` is the integer 1): a boolean (a
Python or NumPy bool, a ``bool``/``boolean`` column) in a numeric or integer field, and a
number in a boolean field, is ``wrong_type``, as the JSON Schema of the contract says
(``number``/``integer`` and ``boolean`` are disjoint there).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.contract.spec import FieldSpec, InputContract

# violation codes
MISSING_COLUMN = "missing_column"
UNEXPECTED_COLUMN = "unexpected_column"
WRONG_COLUMN_COUNT = "wrong_column_count"
WRONG_TYPE = "wrong_type"
MISSING_VALUE = "missing_value"
NOT_FINITE = "not_finite"
OUT_OF_RANGE = "out_of_range"
NOT_INTEGER = "not_integer"
UNKNOWN_CATEGORY = "unknown_category"
WRONG_SHAPE = "wrong_shape"
EMPTY_BATCH = "empty_batch"
UNREADABLE = "unreadable_input"


@dataclass(frozen=True)
class Violation:
    """One broken promise of the contract: which field, what came, what was expected."""

    field: str
    code: str
    value: Any
    expected: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "value": self.value,
            "expected": self.expected,
        }


@dataclass
class ValidationResult:
    """Per-row violations plus the batch normalised to the model's layout."""

    data: Any
    errors: list[list[Violation]] = field(default_factory=list)
    batch_errors: list[Violation] = field(default_factory=list)
    #: the batch as a float64 matrix in the contract's column order, when the fast path
    #: produced one from plain NumPy numbers: ``data``'s own ``to_numpy`` (same values, same
    #: memory layout); lets the guard hand detectors the numbers without converting again
    matrix: NDArray[np.float64] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.errors)

    @property
    def valid(self) -> NDArray[np.bool_]:
        if self.batch_errors:
            return np.zeros(self.n_rows, dtype=bool)
        return np.array([not e for e in self.errors], dtype=bool)

    def row_errors(self, i: int) -> list[Violation]:
        return [*self.batch_errors, *self.errors[i]]


def json_value(value: Any) -> Any:
    """A JSON-safe rendering of an offending value (NaN/inf become strings).

    Not :func:`mlrails._json.jsonable` on purpose: a violation shows what was sent, so
    ``NaN`` stays visible as ``"nan"`` (not ``null``, which reads as "missing") and any other
    value is its ``repr`` cut to 200 characters.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def validate(contract: InputContract, X: Any) -> ValidationResult:
    """Check every row of ``X`` against ``contract`` (see module docstring)."""
    if contract.layout == "image":
        return _validate_image(contract, X)
    try:
        table = _to_table(contract, X)
    except (ValueError, TypeError) as exc:
        return ValidationResult(
            data=None,
            errors=[[]],
            batch_errors=[Violation("*", UNREADABLE, None, f"a table of rows ({exc})")],
        )
    frame = table.frame
    n = len(frame)
    if n == 0:
        return ValidationResult(
            data=frame,
            errors=[],
            batch_errors=[Violation("*", EMPTY_BATCH, 0, "at least one row")],
        )
    errors = table.row_errors if table.row_errors is not None else [[] for _ in range(n)]
    out: dict[str, Any] = {}
    for spec in contract.fields:
        if spec.name in frame.columns:  # absent from a table: a batch error already
            col = frame[spec.name]
            out[spec.name] = _check_column(spec, col, errors, table.absent.get(spec.name))
    if table.batch_errors:
        return ValidationResult(data=None, errors=errors, batch_errors=table.batch_errors)
    data: Any = pd.DataFrame(out, index=range(n))
    if contract.layout == "array":
        kinds = {f.kind for f in contract.fields}
        data = data.to_numpy(dtype=np.float64 if "categorical" not in kinds else object)
    return ValidationResult(data=data, errors=errors)


# -- conversion --------------------------------------------------------------------------
@dataclass
class _Table:
    """The input as a table, with the faults found while reading it."""

    frame: pd.DataFrame
    #: faults of the whole batch (a table or columns lacking a column, a wrong column count)
    batch_errors: list[Violation] = field(default_factory=list)
    #: records only: each record's own key faults (missing or unexpected keys)
    row_errors: list[list[Violation]] | None = None
    #: records only: per contract column, the rows that did not send that key (their cell is
    #: missing, and already reported as ``missing_column``, not as a missing value)
    absent: dict[str, NDArray[np.bool_]] = field(default_factory=dict)


def _to_table(contract: InputContract, X: Any) -> _Table:
    cols = contract_columns(contract)
    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, Mapping):
        values = list(X.values())
        if values and all(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            frame = pd.DataFrame(dict(X))
        else:
            return _records_table(contract, [X])
    elif (
        isinstance(X, Sequence)
        and not isinstance(X, (str, bytes))
        and X
        and all(isinstance(r, Mapping) for r in X)
    ):
        return _records_table(contract, X)
    else:
        arr = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
        if arr.ndim == 1 and arr.size == len(cols) and not isinstance(X, pd.Series):
            arr = arr.reshape(1, -1)
        if arr.ndim == 1 and arr.size == 0:
            arr = arr.reshape(0, len(cols))
        if arr.ndim != 2:
            raise ValueError(f"got an array of shape {arr.shape}")
        if arr.shape[1] != len(cols):
            errs = [Violation("*", WRONG_COLUMN_COUNT, int(arr.shape[1]), f"{len(cols)} columns")]
            return _Table(pd.DataFrame(index=range(arr.shape[0])), errs)
        frame = pd.DataFrame(arr, columns=cols)
    names = [str(c) for c in frame.columns]
    frame.columns = pd.Index(names)
    errs = [
        Violation(c, MISSING_COLUMN, None, "a column present in the contract")
        for c in cols
        if c not in names
    ]
    if not contract.allow_extra_columns:
        errs += [
            Violation(c, UNEXPECTED_COLUMN, None, f"only the columns {cols}")
            for c in names
            if c not in cols
        ]
    return _Table(frame.reset_index(drop=True), errs)


def _records_table(contract: InputContract, rows: Sequence[Mapping[Any, Any]]) -> _Table:
    """Records, each judged on its own keys: the table holds exactly the contract's columns
    (keys a record lacks are missing cells; keys outside the contract are dropped)."""
    cols = contract_columns(contract)
    n = len(rows)
    # ``columns=`` picks the contract's keys from each record (a missing key is NaN), so
    # records with many stray keys never widen the table
    frame = pd.DataFrame(rows, columns=_column_index(contract))
    # only a record with another number of keys, or a missing cell, can lack a key or hold
    # a stray one: the others (nearly all, usually) are never looked at one by one
    sizes = np.fromiter((len(r) for r in rows), dtype=np.intp, count=n)
    suspects = np.flatnonzero((sizes != len(cols)) | frame.isna().to_numpy().any(axis=1))
    errors: list[list[Violation]] = [[] for _ in range(n)]
    absent: dict[str, NDArray[np.bool_]] = {}
    renamed: dict[int, dict[str, Any]] = {}
    for i in suspects.tolist():
        r = rows[i]
        named = {k if isinstance(k, str) else str(k): v for k, v in r.items()}
        if named.keys() != r.keys():
            renamed[i] = named
        missing = [c for c in cols if c not in named]
        for c in missing:
            errors[i].append(Violation(c, MISSING_COLUMN, None, "a column present in the contract"))
            absent.setdefault(c, np.zeros(n, dtype=bool))[i] = True
        if not contract.allow_extra_columns:
            known = _column_set(contract)
            errors[i] += [
                Violation(k, UNEXPECTED_COLUMN, json_value(v), _only(cols, k, missing))
                for k, v in named.items()
                if k not in known
            ]
    if renamed:  # keys that are not strings (``{0: ...}``) name columns by their text
        frame = pd.DataFrame(
            [renamed.get(i, r) for i, r in enumerate(rows)], columns=_column_index(contract)
        )
    return _Table(frame, row_errors=errors, absent=absent)


def _only(cols: list[str], key: str, missing: list[str]) -> str:
    """The expectation for an unexpected key, naming the column it may be a misspelling of."""
    close = difflib.get_close_matches(key, missing, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = cols if len(cols) <= 20 else [*cols[:20], "..."]
    return f"only the columns {shown}{hint}"


def _column_set(contract: InputContract) -> frozenset[str]:
    cached = contract._cache.get("column_set")
    if cached is None:
        cached = contract._cache["column_set"] = frozenset(contract_columns(contract))
    return cached  # type: ignore[no-any-return]


# -- column checks -----------------------------------------------------------------------
def _add(
    errors: list[list[Violation]],
    mask: NDArray[np.bool_],
    raw: NDArray[Any],
    name: str,
    code: str,
    expected: str,
) -> None:
    for i in np.flatnonzero(mask):
        errors[i].append(Violation(name, code, json_value(raw[i]), expected))


def _check_column(
    spec: FieldSpec,
    col: pd.Series,
    errors: list[list[Violation]],
    absent: NDArray[np.bool_] | None = None,
) -> Any:
    """Check one column; ``absent``: rows whose key was not sent (a ``missing_column``
    already, so not a missing value too)."""
    raw = col.to_numpy()
    missing = col.isna().to_numpy()
    unsent = missing if absent is None else missing & ~absent
    if unsent.any() and not spec.nullable:
        _add(
            errors,
            unsent,
            raw,
            spec.name,
            MISSING_VALUE,
            "a value (no missing values in training)",
        )
    if spec.kind in ("numeric", "integer"):
        return _check_numeric(spec, col, raw, missing, errors)
    if spec.kind == "boolean":
        ok = _booleans(col, raw)
        _add(errors, ~ok & ~missing, raw, spec.name, WRONG_TYPE, "true or false")
        return col.where(~(~ok & ~missing), None)
    cats = set(spec.categories or [])
    as_str = np.array([str(v) for v in raw], dtype=object)
    known = np.isin(as_str, list(cats))
    bad = ~known & ~missing
    shown = sorted(cats)[:20]
    _add(
        errors,
        bad,
        raw,
        spec.name,
        UNKNOWN_CATEGORY,
        f"one of {shown}{' ...' if len(cats) > 20 else ''}",
    )
    return col.where(~bad, None)


def _check_numeric(
    spec: FieldSpec,
    col: pd.Series,
    raw: NDArray[Any],
    missing: NDArray[np.bool_],
    errors: list[list[Violation]],
) -> NDArray[np.float64]:
    name = spec.name
    if _is_number_dtype(col.dtype):
        num = col.to_numpy(dtype=np.float64, na_value=np.nan)
        wrong = np.zeros(len(col), dtype=bool)
    elif pd.api.types.is_bool_dtype(col.dtype):  # True is 1 to pandas, not to the contract
        num = np.full(len(col), np.nan)
        wrong = ~missing
        _add(errors, wrong, raw, name, WRONG_TYPE, "a number")
    else:
        # text and booleans are not numbers, whatever they would convert to
        not_number = np.fromiter(
            (isinstance(v, _NOT_NUMBERS) for v in raw), dtype=bool, count=len(raw)
        )
        num = pd.to_numeric(col.where(~not_number, None), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        wrong = ~missing & (not_number | np.isnan(num))
        _add(errors, wrong, raw, name, WRONG_TYPE, "a number")
    finite = np.isfinite(num)
    _add(errors, ~finite & ~missing & ~wrong, raw, name, NOT_FINITE, "a finite number")
    lo = -np.inf if spec.lower is None else spec.lower
    hi = np.inf if spec.upper is None else spec.upper
    out = finite & ((num < lo) | (num > hi))
    _add(errors, out, raw, name, OUT_OF_RANGE, f"a value in [{lo:.6g}, {hi:.6g}]")
    if spec.kind == "integer":
        with np.errstate(invalid="ignore"):
            frac = finite & ~out & (np.mod(num, 1.0) != 0)
        _add(errors, frac, raw, name, NOT_INTEGER, "a whole number")
    return np.where(finite, num, np.nan)


#: cell types that are never a number, whatever they would convert to
_NOT_NUMBERS = (str, bytes, bool, np.bool_)


def _is_number_dtype(dtype: Any) -> bool:
    """Whether a column of ``dtype`` holds numbers only: numeric and not boolean (pandas
    counts ``bool`` as numeric; the contract does not)."""
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _booleans(col: pd.Series, raw: NDArray[Any]) -> NDArray[np.bool_]:
    """Which cells hold a boolean (``True``/``False``, NumPy's too); a missing cell of a
    nullable boolean column counts, its missingness is judged apart."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return np.ones(len(col), dtype=bool)
    if _is_number_dtype(col.dtype):
        return np.zeros(len(col), dtype=bool)
    return np.fromiter((isinstance(v, (bool, np.bool_)) for v in raw), dtype=bool, count=len(raw))


# -- fast path and images ----------------------------------------------------------------
def validate_fast(contract: InputContract, X: Any) -> ValidationResult | None:
    """Fast path for all-numeric inputs (NumPy arrays, or tables with exactly the contract's
    columns, all numeric); ``None`` when it does not apply or some row is invalid."""
    if isinstance(X, np.ndarray):
        return validate_numeric_array(contract, X)
    if isinstance(X, pd.DataFrame) and contract.layout == "frame":
        columns = contract_columns(contract)
        labels = X.columns.tolist()  # much cheaper than iterating a string-backed Index
        if labels != columns and [str(c) for c in labels] != columns:
            return None
        dtypes = set(X.dtypes)  # a table has few distinct dtypes: check each once
        if not all(_is_number_dtype(d) for d in dtypes):
            return None
        num = X.to_numpy(dtype=np.float64)
        if not _numeric_rows_valid(contract, num):
            return None
        frame = (
            X
            if isinstance(X.index, pd.RangeIndex) and X.index.start == 0
            else (X.reset_index(drop=True))
        )
        # the matrix only stands for the table when every column is a plain NumPy number
        # (extension dtypes such as nullable Int64 behave differently when concatenated)
        plain = all(isinstance(d, np.dtype) and d.kind in "iuf" for d in dtypes)
        return ValidationResult(
            data=frame, errors=[[] for _ in range(len(X))], matrix=num if plain else None
        )
    return None


def validate_numeric_array(contract: InputContract, X: NDArray[Any]) -> ValidationResult | None:
    """Fast path for an all-numeric contract fed a float array: a handful of numpy ops.

    Returns ``None`` when the fast path does not apply (the caller then uses :func:`validate`)
    or when some row is invalid (the general path then reports every violation).
    """
    if contract.layout == "image" or X.ndim != 2 or X.dtype.kind not in "fiu":
        return None
    num = X.astype(np.float64, copy=False)
    if not _numeric_rows_valid(contract, num):
        return None
    data: Any = num
    matrix = num
    if contract.layout == "frame":
        data = pd.DataFrame(num, columns=_column_index(contract))
        # the table's own conversion (cheap: no copy), so that the matrix has the memory
        # layout a detector converting ``data`` would get, and hence bit-identical scores
        matrix = data.to_numpy(dtype=np.float64)
    return ValidationResult(data=data, errors=[[] for _ in range(X.shape[0])], matrix=matrix)


def _numeric_rows_valid(contract: InputContract, num: NDArray[np.float64]) -> bool:
    """Whether the fast path applies to the float matrix ``num`` and every row is valid."""
    specs = contract.fields
    if num.shape[1] != len(specs) or any(s.kind not in ("numeric", "integer") for s in specs):
        return False
    if num.shape[0] == 0:
        return False
    lo, hi, integer, nullable = _bounds(contract)
    nan = np.isnan(num)
    bad = (nan & np.logical_not(nullable)) | np.isinf(num) | (num < lo) | (num > hi)
    if integer.any():
        with np.errstate(invalid="ignore"):
            bad |= integer & np.logical_not(nan) & (np.mod(num, 1.0) != 0)
    return not bad.any()


def contract_columns(contract: InputContract) -> list[str]:
    """``contract.columns``, cached (it is rebuilt from the field models on every access)."""
    cached = contract._cache.get("columns")
    if cached is None:
        cached = contract._cache["columns"] = contract.columns
    return cached  # type: ignore[no-any-return]


def _column_index(contract: InputContract) -> pd.Index:
    """The contract's columns as a ready-made index: building a frame from one skips
    inferring the labels' dtype again (most of the cost of a one-row frame)."""
    cached = contract._cache.get("column_index")
    if cached is None:
        cached = contract._cache["column_index"] = pd.Index(contract.columns)
    return cached


def _bounds(contract: InputContract) -> tuple[NDArray[np.float64], ...]:
    cached = contract._cache.get("bounds")
    if cached is None:
        specs = contract.fields
        cached = (
            np.array([-np.inf if s.lower is None else s.lower for s in specs]),
            np.array([np.inf if s.upper is None else s.upper for s in specs]),
            np.array([s.kind == "integer" for s in specs]),
            np.array([s.nullable for s in specs]),
        )
        contract._cache["bounds"] = cached
    return cached  # type: ignore[no-any-return]


def _validate_image(contract: InputContract, X: Any) -> ValidationResult:
    spec = contract.image
    assert spec is not None
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (ValueError, TypeError):
        arr = np.asarray(X, dtype=object)
        n = arr.shape[0] if arr.ndim else 1
        return ValidationResult(
            data=None,
            errors=[[] for _ in range(n)],
            batch_errors=[
                Violation(
                    "*", WRONG_TYPE, None, f"a numeric array of per-sample shape {spec.shape}"
                )
            ],
        )
    if list(arr.shape) == spec.shape:
        arr = arr[None, ...]
    if arr.ndim >= 1 and arr.shape[0] == 0:
        return ValidationResult(
            data=arr,
            errors=[],
            batch_errors=[Violation("*", EMPTY_BATCH, 0, "at least one sample")],
        )
    if list(arr.shape[1:]) != spec.shape:
        n = arr.shape[0] if arr.ndim > 1 else 1
        return ValidationResult(
            data=None,
            errors=[[] for _ in range(n)],
            batch_errors=[
                Violation(
                    "*",
                    WRONG_SHAPE,
                    list(arr.shape[1:]) if arr.ndim > 1 else list(arr.shape),
                    f"per-sample shape {spec.shape}",
                )
            ],
        )
    flat = arr.reshape(arr.shape[0], -1)
    errors: list[list[Violation]] = [[] for _ in range(arr.shape[0])]
    nonfinite = ~np.isfinite(flat)
    for i in np.flatnonzero(nonfinite.any(axis=1)):
        errors[i].append(
            Violation(
                "pixels",
                NOT_FINITE,
                int(nonfinite[i].sum()),
                "finite values only (count of bad values shown)",
            )
        )
    with np.errstate(invalid="ignore"):
        low, high = (
            np.nanmin(np.where(nonfinite, np.nan, flat), axis=1),
            np.nanmax(np.where(nonfinite, np.nan, flat), axis=1),
        )
    out = (low < spec.lower) | (high > spec.upper)
    for i in np.flatnonzero(out):
        errors[i].append(
            Violation(
                "pixels",
                OUT_OF_RANGE,
                [float(low[i]), float(high[i])],
                f"values in [{spec.lower:.6g}, {spec.upper:.6g}]",
            )
        )
    clean = np.where(nonfinite, 0.0, arr.reshape(arr.shape[0], -1)).reshape(arr.shape)
    return ValidationResult(
        data=clean.astype(spec.dtype if spec.dtype.startswith("float") else np.float64),
        errors=errors,
    )
