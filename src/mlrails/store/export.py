"""Export the decision log to CSV or Parquet, streaming it chunk by chunk.

JSON columns (``input``, ``output``, ``scores``) are written as JSON text so the export is
lossless and any tool can read it; times are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mlrails._json import dumps
from mlrails.store.database import Store
from mlrails.store.errors import StoreError
from mlrails.store.records import DecisionRecord

ExportFormat = Literal["csv", "parquet"]

COLUMNS = (
    "id",
    "time",
    "trace_id",
    "key_id",
    "artifact_hash",
    "row_index",
    "status",
    "problem",
    "input",
    "output",
    "scores",
    "latency_ms",
)


def export_decisions(
    store: Store,
    out: str | Path,
    *,
    fmt: ExportFormat = "csv",
    since: datetime | None = None,
) -> int:
    """Write the decisions logged at or after ``since`` to ``out``; returns how many."""
    path = Path(out)
    if not path.parent.is_dir():
        raise StoreError(f"{path}: directory {path.parent} does not exist")
    if fmt == "csv":
        return _export_csv(store, path, since)
    if fmt == "parquet":
        return _export_parquet(store, path, since)
    raise StoreError(f"unknown export format {fmt!r} (csv or parquet)")


def _flat(r: DecisionRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "time": r.time.isoformat(),
        "trace_id": r.trace_id,
        "key_id": r.key_id,
        "artifact_hash": r.artifact_hash,
        "row_index": r.row_index,
        "status": r.status,
        "problem": r.problem,
        "input": dumps(r.input),
        "output": dumps(r.output),
        "scores": dumps(r.scores),
        "latency_ms": r.latency_ms,
    }


def _export_csv(store: Store, path: Path, since: datetime | None) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for batch in store.iter_decisions(since=since):
            writer.writerows(_flat(r) for r in batch)
            n += len(batch)
    return n


def _export_parquet(store: Store, path: Path, since: datetime | None) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise StoreError("Parquet export needs pyarrow: pip install 'mlrails[parquet]'") from None
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("time", pa.string()),
            ("trace_id", pa.string()),
            ("key_id", pa.string()),
            ("artifact_hash", pa.string()),
            ("row_index", pa.int64()),
            ("status", pa.int32()),
            ("problem", pa.string()),
            ("input", pa.string()),
            ("output", pa.string()),
            ("scores", pa.string()),
            ("latency_ms", pa.float64()),
        ]
    )
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for batch in store.iter_decisions(since=since):
            rows = [_flat(r) for r in batch]
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            n += len(batch)
        if n == 0:
            writer.write_table(schema.empty_table())
    return n
