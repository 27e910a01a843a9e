"""Run a benchmark config into a :class:`~mlrails.bench.record.RunRecord`, and verify one.

:func:`run_benchmark` loads the test set and every pair, hashes them, runs the grid and
returns the record of the run with its provenance. :func:`verify_record` re-runs a record's
config and checks that every cell's numbers come out bit-identical — after first checking
that the data, artifacts and models still hash as recorded, so that "the inputs changed"
is told apart from "the numbers changed".
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlrails.bench.executors import Executor, PairSource
from mlrails.bench.grid import CellCallback, GridConfig, PairConfig, run_grid
from mlrails.bench.provenance import (
    config_hash,
    data_hashes,
    directory_hash,
    git_commit,
    model_hash,
    pair_record,
)
from mlrails.bench.record import CellRecord, PairRecord, RecordError, RunRecord, first_error
from mlrails.guard.rails import Rails
from mlrails.measure import ProvenanceError, machine, package_versions

#: cell fields that measure the run, not its results: never compared
VOLATILE = frozenset({"wall_s", "peak_mb"})
#: cell fields compared entry by entry (a mismatch names e.g. ``metrics.accuracy``)
_MAPPINGS = ("metrics", "intervals", "status_mix", "roc")
#: stands for an entry or cell that one side lacks
ABSENT = "<absent>"


@dataclass(frozen=True)
class Mismatch:
    """One difference between a recorded cell and its re-run (values in JSON form)."""

    key: str
    field: str
    recorded: Any
    now: Any


@dataclass(frozen=True)
class VerifyResult:
    """Whether a re-run reproduced every cell of a record bit for bit."""

    identical: bool
    n_cells: int
    mismatches: list[Mismatch] = field(default_factory=list)


def run_benchmark(
    config: GridConfig,
    *,
    progress: CellCallback | None = None,
    executor: Executor | None = None,
    config_dir: Path | None = None,
) -> RunRecord:
    """Run every cell of ``config`` and return the record of the run. ``config_dir`` (the
    config file's directory) is where the git commit is read and what the config hash takes
    paths relative to; default: the working directory, and absolute paths."""
    from mlrails.version import __version__

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    config = _absolute(config)
    X, y, reference = config.data.load()
    loaded: dict[str, Rails] = {}
    pairs: list[PairRecord] = []
    for pair in config.pairs:
        loaded[pair.name] = _source(pair).load()
        pairs.append(pair_record(pair, loaded[pair.name]))
    cells = run_grid(config, X, y, reference, progress, rails=loaded, executor=executor)
    wall = time.perf_counter() - t0
    finished = datetime.now(UTC)
    return RunRecord(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}",
        config=config.model_dump(mode="json"),
        config_hash=config_hash(config, config_dir),
        data_hashes=data_hashes(X, y, reference),
        pairs=pairs,
        seeds=list(config.seeds),
        repeats=config.repeats,
        packages=package_versions(),
        git_commit=git_commit(config_dir if config_dir is not None else Path.cwd()),
        mlrails_version=__version__,
        machine=machine(),
        executor=executor.name if executor is not None else config.executor,
        started_at=started.isoformat(timespec="milliseconds"),
        finished_at=finished.isoformat(timespec="milliseconds"),
        wall_s=wall,
        cells=cells,
    )


def verify_record(
    record: RunRecord,
    *,
    executor: Executor | None = None,
    progress: CellCallback | None = None,
) -> VerifyResult:
    """Re-run ``record``'s config and compare every cell exactly (all but wall time and
    peak memory). :class:`ProvenanceError` if the data, an artifact or a model no longer
    hashes as recorded; :class:`RecordError` if the record's config is not a valid one."""
    try:
        config = GridConfig.model_validate(record.config)
    except ValidationError as exc:
        raise RecordError(f"run {record.run_id}: config: {first_error(exc)}") from None
    X, y, reference = config.data.load()
    now_data = data_hashes(X, y, reference)
    for name, was in record.data_hashes.items():
        _same(f"{name} data", was, now_data.get(name))
    recorded_pairs = {p.name: p for p in record.pairs}
    loaded: dict[str, Rails] = {}
    for pair in config.pairs:
        rec = recorded_pairs.get(pair.name)
        if rec is None:
            raise RecordError(f"run {record.run_id}: pair {pair.name!r} has no provenance")
        _same(f"artifact of pair {pair.name!r}", rec.artifact_hash, directory_hash(pair.artifact))
        _same(f"model of pair {pair.name!r}", rec.model_hash, model_hash(pair))
        loaded[pair.name] = _source(pair).load()
    cells = run_grid(config, X, y, reference, progress, rails=loaded, executor=executor)
    mismatches = compare_cells(record.cells, cells)
    return VerifyResult(not mismatches, len(record.cells), mismatches)


def compare_cells(recorded: list[CellRecord], now: list[CellRecord]) -> list[Mismatch]:
    """Every difference between two runs' cells, in the recorded order: a cell only one
    side has (field ``cell``), else per field (per entry for metrics, intervals, status
    mix and ROC curves). Values are compared in their JSON form, so floats bit for bit."""
    now_by_key = {c.key: c for c in now}
    out: list[Mismatch] = []
    for cell in recorded:
        other = now_by_key.pop(cell.key, None)
        if other is None:
            out.append(Mismatch(cell.key, "cell", "present", ABSENT))
            continue
        out.extend(_cell_mismatches(cell.key, _json_form(cell), _json_form(other)))
    out.extend(Mismatch(key, "cell", ABSENT, "present") for key in now_by_key)
    return out


def _cell_mismatches(key: str, was: dict[str, Any], now: dict[str, Any]) -> list[Mismatch]:
    out: list[Mismatch] = []
    for name in was.keys() | now.keys():
        if name in VOLATILE:
            continue
        a, b = was.get(name, ABSENT), now.get(name, ABSENT)
        if name in _MAPPINGS and isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(a.keys() | b.keys()):
                x, y = a.get(sub, ABSENT), b.get(sub, ABSENT)
                if _text(x) != _text(y):
                    out.append(Mismatch(key, f"{name}.{sub}", x, y))
        elif _text(a) != _text(b):
            out.append(Mismatch(key, name, a, b))
    order = {n: i for i, n in enumerate(CellRecord.model_fields)}
    return sorted(out, key=lambda m: (order.get(m.field.split(".")[0], len(order)), m.field))


def _json_form(cell: CellRecord) -> dict[str, Any]:
    """The cell as its JSON record has it (so a fresh cell compares like a read one)."""
    data: dict[str, Any] = json.loads(cell.model_dump_json())
    return data


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _same(what: str, recorded: str, now: str | None) -> None:
    if now != recorded:
        now_s = "missing" if now is None else f"{now[:12]}…"
        raise ProvenanceError(f"{what} changed since the run: hash {recorded[:12]}… ≠ {now_s}")


def _source(pair: PairConfig) -> PairSource:
    return PairSource(
        str(pair.artifact), None if pair.model is None else str(pair.model), pair.trust
    )


def _absolute(config: GridConfig) -> GridConfig:
    """``config`` with every path absolute (resolved against the working directory, as the
    grid itself would use them), so that its record can be re-run from anywhere."""
    data = config.model_dump()
    if data["artifact"] is not None:
        data["artifact"] = _abs(data["artifact"])
    for m in data["models"]:
        m["artifact"] = _abs(m["artifact"])
        if m["model"] is not None:
            m["model"] = _abs(m["model"])
    for name in ("test", "reference"):
        if data["data"][name] is not None:
            data["data"][name] = _abs(data["data"][name])
    return GridConfig.model_validate(data)


def _abs(p: Path) -> Path:
    return Path(os.path.abspath(p))
