"""The machine-readable record of a benchmark run: every cell's numbers and their provenance.

A :class:`RunRecord` is what a run leaves behind — written as JSON beside the report and
stored in the embedded database — and all that the report, the regression gate and
``mlrails bench verify`` need: the config and its hash, hashes of the data, models and
artifacts, seeds, package versions, git commit, machine, times, and per cell its metrics with
bootstrap intervals, curves for the report, which rows the model got right (packed bits, for
paired comparisons), wall time and peak memory.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlrails.errors import MlrailsError
from mlrails.measure import Machine

RECORD_FORMAT = "mlrails.bench/1"

CellKind = Literal["clean", "perturbation", "attack"]


class RecordError(MlrailsError):
    """A record file that cannot be read or is not a benchmark record."""


class Reliability(BaseModel):
    """A reliability diagram: per equal-width confidence bin, its row count, mean confidence
    and accuracy (``None`` for an empty bin)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    edges: list[float]
    count: list[int]
    confidence: list[float | None]
    accuracy: list[float | None]


class RocCurve(BaseModel):
    """A safeguard's ROC curve for "the prediction is wrong" (at most ~100 points)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fpr: list[float]
    tpr: list[float]
    auroc: float


class CellRecord(BaseModel):
    """One cell of the grid: what ran (pair, kind, name, severity, seed, repeat, params) and
    what it measured, or its error.

    ``metrics`` holds flat names: ``accuracy, f1_macro, ece_model, ece_rails, brier, nll``
    (classification: ``ece_model`` is the expected calibration error of the bare model's
    probabilities, ``ece_rails`` that of the calibrated probabilities the rails serve, on the
    same rows) or
    ``rmse, mae, r2`` (regression), then ``silent_failure_rate, false_alarm_rate,
    refusal_rate`` and ``auroc.<safeguard>``; ``intervals[name] = (low, high)`` is its
    bootstrap interval. ``confusion[i][j]``: rows of true class ``classes[i]`` predicted as
    ``classes[j]``. ``correct``: packed bits, one per row, whether the model was right.
    ``rows_hash``: hash of the exact rows the model saw (equal hashes → paired comparison).
    """

    model_config = ConfigDict(extra="forbid")

    pair: str
    kind: CellKind
    name: str
    severity: int
    seed: int
    repeat: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    n: int = 0
    n_wrong: int = 0
    metrics: dict[str, float | None] = Field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = Field(default_factory=dict)
    status_mix: dict[str, float] = Field(default_factory=dict)
    classes: list[Any] | None = None
    confusion: list[list[int]] | None = None
    reliability: Reliability | None = None
    roc: dict[str, RocCurve] = Field(default_factory=dict)
    correct: str | None = None
    rows_hash: str | None = None
    wall_s: float = 0.0
    peak_mb: float = 0.0
    error: str | None = None

    @property
    def key(self) -> str:
        """``pair:name/s<severity>/seed<seed>[/r<repeat>]`` — unique within a run."""
        rep = f"/r{self.repeat}" if self.repeat else ""
        return f"{self.pair}:{self.name}/s{self.severity}/seed{self.seed}{rep}"

    @property
    def condition(self) -> str:
        """The cell without its pair: what two pairs are compared on."""
        rep = f"/r{self.repeat}" if self.repeat else ""
        return f"{self.name}/s{self.severity}/seed{self.seed}{rep}"

    def correct_rows(self) -> NDArray[np.bool_] | None:
        """Whether the model was right on each row (``None`` for a failed cell)."""
        return None if self.correct is None else unpack_bits(self.correct, self.n)


class PairRecord(BaseModel):
    """A (model, artifact) pair and the hashes that pin it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    artifact: str
    artifact_hash: str
    model: str | None = None
    model_hash: str
    model_class: str
    task: str


class RunRecord(BaseModel):
    """A whole run: provenance and cells (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    format: str = RECORD_FORMAT
    run_id: str
    config: dict[str, Any]
    config_hash: str
    data_hashes: dict[str, str]
    pairs: list[PairRecord]
    seeds: list[int]
    repeats: int = 1
    packages: dict[str, str]
    git_commit: str | None = None
    mlrails_version: str
    machine: Machine
    executor: str = "local"
    started_at: str
    finished_at: str
    wall_s: float
    cells: list[CellRecord]

    def cell(self, key: str) -> CellRecord:
        """The cell with this :attr:`CellRecord.key`; ``KeyError`` if absent."""
        for c in self.cells:
            if c.key == key:
                return c
        raise KeyError(key)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    @classmethod
    def read(cls, path: str | Path) -> RunRecord:
        """Read a record file; one-line :class:`RecordError` if it is not one."""

        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RecordError(f"{p}: cannot read ({exc.strerror or exc})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordError(f"{p}: not a JSON benchmark record ({exc})") from None
        if not isinstance(raw, dict) or raw.get("format") != RECORD_FORMAT:
            raise RecordError(f"{p}: not a benchmark record (expected format {RECORD_FORMAT!r})")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise RecordError(f"{p}: {first_error(exc)}") from None


def pack_bits(mask: ArrayLike) -> str:
    """A boolean vector as base64 of its packed bits (compact in JSON)."""
    bits = np.packbits(np.asarray(mask, dtype=bool))
    return base64.b64encode(bits.tobytes()).decode("ascii")


def unpack_bits(text: str, n: int) -> NDArray[np.bool_]:
    """Inverse of :func:`pack_bits` for a vector of length ``n``."""
    raw = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return np.unpackbits(raw, count=n).astype(bool)


def first_error(exc: ValidationError) -> str:
    """``path.in.document: message`` of a pydantic error's first problem (one-line errors)."""
    first = exc.errors()[0]
    return ".".join(str(x) for x in first["loc"]) + f": {first['msg']}"
