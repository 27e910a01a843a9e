"""Reading label feedback from a file (``mlrails feedback labels.csv``): one label a line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from mlrails.errors import DataError
from mlrails.store.labels import Label
from mlrails.tabular_io import read_table

#: how a CSV file spells a boolean label
_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}
_INTEGER = re.compile(r"^[+-]?\d+$")


def read_labels(
    path: str | Path,
    *,
    trace_id_column: str = "trace_id",
    row_column: str | None = None,
    label_column: str = "label",
) -> list[Label]:
    """The labels of a CSV or Parquet file, one a line, in its order.

    ``row_column`` names the row-index column; ``None`` means ``row`` when the file has one,
    else every label is of a single-row request (row 0). A CSV label cell is read as an
    integer, a number or a boolean (``true``/``True``, ``false``/``False``) when it is
    written as one, else as text, cell by cell (Parquet keeps its column's type).
    :class:`DataError` names the file and the line of a missing column or a value that
    cannot be a label.
    """
    frame = read_table(path, text_columns=[trace_id_column, label_column])
    rows = row_column if row_column is not None else "row"
    needed = [trace_id_column, label_column] + ([] if row_column is None else [row_column])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: no column {missing[0]!r} (columns: {list(frame.columns)[:10]})")
    has_rows = rows in frame.columns
    out: list[Label] = []
    for line, rec in enumerate(frame.to_dict("records"), start=2):
        try:
            out.append(
                Label(
                    _cell(rec[trace_id_column], trace_id_column),
                    _row_cell(rec[rows], rows) if has_rows else 0,
                    _label_cell(rec[label_column], label_column),
                )
            )
        except DataError as exc:
            raise DataError(f"{path}, line {line}: {exc}") from None
    return out


def _cell(value: Any, column: str) -> Any:
    """A table cell as a plain Python value; a missing cell is a :class:`DataError`."""
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()
    if _is_missing(value):
        raise DataError(f"no value in column {column!r}")
    return value


def _label_cell(value: Any, column: str) -> Any:
    """A label cell: CSV text as the integer, number or boolean it spells, else as text."""
    v = _cell(value, column)
    if not isinstance(v, str):
        return v
    text = v.strip()
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if _INTEGER.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return v
    return number if math.isfinite(number) else v


def _row_cell(value: Any, column: str) -> Any:
    """A row-index cell: an integer (``3.0`` read from a column with gaps is ``3``); anything
    else is left for :class:`Label` to refuse."""
    v = _cell(value, column)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return v


def _is_missing(value: Any) -> bool:
    """Whether a cell is empty: ``None``, NaN or pandas' ``NA`` / ``NaT``."""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list-like cell: not one missing value
        return False
