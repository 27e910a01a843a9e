"""Read tables from CSV or Parquet files with one-line errors naming the file."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from mlrails.errors import DataError


def _numbers_cell_by_cell(frame: pd.DataFrame, text: Collection[str] = ()) -> pd.DataFrame:
    """Parse numeric-looking cells of text columns as numbers, one cell at a time.

    CSV has no types: one text cell in a numeric column makes pandas read the whole column as
    text, which would make every row of it look wrong. Cells that parse as numbers become
    numbers; the rest stay text, for the contract to report row by row.
    """
    for col in frame.columns:
        if col in text:
            continue
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        num = pd.to_numeric(s, errors="coerce")
        parsed = num.notna()
        if not parsed.any():
            continue
        if bool((parsed | s.isna()).all()):
            frame[col] = num
        else:
            frame[col] = s.astype(object).where(~parsed, num.astype(object))
    return frame


def read_table(path: str | Path, *, text_columns: Collection[str] = ()) -> pd.DataFrame:
    """Read a ``.csv`` (or ``.csv.gz``) or ``.parquet`` file into a DataFrame.

    ``text_columns`` of a CSV file are read as text, never as numbers (identifiers such as
    trace ids, which may be all digits or have leading zeros)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            try:
                return pd.read_parquet(p)
            except ImportError:
                raise DataError(
                    f"{p}: reading Parquet needs pyarrow (pip install 'mlrails[parquet]')"
                ) from None
        if name.endswith((".csv", ".csv.gz", ".txt")):
            dtype = dict.fromkeys(text_columns, str)
            return _numbers_cell_by_cell(pd.read_csv(p, dtype=dtype or None), text_columns)
    except DataError:
        raise
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        ValueError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{p}: cannot read table ({reason})") from None
    raise DataError(f"{p}: unsupported table format (use .csv or .parquet)")
