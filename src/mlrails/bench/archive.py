"""Benchmark records in the embedded store (the same database as ``mlrails serve``'s log).

A run is kept twice: as a JSON file beside its report (for people and CI artifacts), and in
the store's ``bench_runs`` table (to list runs and pick a baseline by id). A reference to a
record is either a JSON file's path or a run id in the store.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from mlrails.bench.record import RECORD_FORMAT, RecordError, RunRecord, first_error


def save_record(record: RunRecord, store_target: str | Path) -> str:
    """Add ``record`` to the store at ``store_target`` (path or URL); returns its run id.
    :class:`~mlrails.store.StoreError` if the store cannot be opened or has the run."""
    from mlrails.store import open_store

    with open_store(store_target) as store:
        store.add_bench_run(json.loads(record.to_json()))
    return record.run_id


def load_record(ref: str | Path, store_target: str | Path | None = None) -> RunRecord:
    """The record ``ref`` names: a JSON record file, else a run id in the store at
    ``store_target``; one-line :class:`RecordError` if it is neither."""
    p = Path(ref)
    if p.is_file():
        return RunRecord.read(p)
    if store_target is None:
        raise RecordError(f"{ref}: no such record file (give a store to look up a run id)")
    from mlrails.store import open_store

    with open_store(store_target, create=False) as store:
        raw = store.get_bench_run(str(ref))
        where = store.display
    if raw is None:
        raise RecordError(f"{ref}: neither a record file nor a run id in the store {where}")
    if raw.get("format") != RECORD_FORMAT:
        raise RecordError(f"run {ref!r} in {where}: not a {RECORD_FORMAT} record")
    try:
        return RunRecord.model_validate(raw)
    except ValidationError as exc:
        raise RecordError(f"run {ref!r} in {where}: {first_error(exc)}") from None
