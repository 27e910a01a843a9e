"""Reading CSV/Parquet tables: numbers parsed cell by cell, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlrails.errors import DataError
from mlrails.tabular_io import read_table


def test_one_text_cell_does_not_turn_its_column_into_text(tmp_path: Path) -> None:
    f = tmp_path / "rows.csv"
    f.write_text("a,b,colour\n1.5,2,red\nabc,3,blue\n2.5,,green\n")
    t = read_table(f)
    assert t["a"].tolist()[0] == 1.5 and t["a"].tolist()[1] == "abc" and t["a"][2] == 2.5
    assert pd.api.types.is_numeric_dtype(t["b"]) and np.isnan(t["b"][2])
    assert t["colour"].tolist() == ["red", "blue", "green"]


def test_parquet_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    df = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    df.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), df)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("t.xlsx", b"x", "unsupported table format"),
        ("empty.csv", b"", "cannot read table"),
        ("bad.parquet", b"not parquet", "cannot read table"),
    ],
)
def test_bad_files_give_one_line_errors(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_table(f)
    assert message in str(info.value) and str(f) in str(info.value)
    assert "\n" not in str(info.value)
