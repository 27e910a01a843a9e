"""Read tables from CSV or Parquet files with one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlrails.errors import DataError


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv`` (or ``.csv.gz``) or ``.parquet`` file into a DataFrame."""
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
            return pd.read_csv(p)
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
