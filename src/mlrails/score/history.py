"""Readiness scores over time: the entries stored by ``mlrails score`` and their trend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mlrails.score.report import ScoreReport
from mlrails.score.rubrics import ROBUSTNESS_MAX, robustness_band

#: how many stored scores ``--history`` and the HTML trend show by default
DEFAULT_LIMIT = 20


class _ScoreStore(Protocol):
    def add_score(self, report_json: dict[str, Any]) -> int: ...

    def list_scores(self, limit: int | None = None) -> Sequence[Any]: ...


@dataclass(frozen=True)
class ScoreHistoryEntry:
    """One stored score: when, the robustness total (out of 88) with its band, and the ML
    Test Score final (minimum of the section sums, out of 7)."""

    id: int
    time: datetime
    robustness: float
    mltest: float

    @property
    def band(self) -> str:
        return robustness_band(self.robustness)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time.isoformat(),
            "robustness": self.robustness,
            "robustness_max": ROBUSTNESS_MAX,
            "band": self.band,
            "mltest": self.mltest,
        }


def entries(rows: Iterable[Any]) -> list[ScoreHistoryEntry]:
    """History entries from the store's rows (anything with id, time, robustness, mltest)."""
    return [
        ScoreHistoryEntry(int(r.id), r.time, float(r.robustness), float(r.mltest)) for r in rows
    ]


def save(store: _ScoreStore, report: ScoreReport) -> int:
    """Store ``report``; its id in the store."""
    return store.add_score(report.to_dict())


def load(store: _ScoreStore, limit: int | None = DEFAULT_LIMIT) -> list[ScoreHistoryEntry]:
    """The latest ``limit`` stored scores, oldest first."""
    return entries(store.list_scores(limit))


def _delta(a: float, b: float) -> str:
    d = b - a
    if d == 0:
        return "unchanged"
    return f"{d:+g}"


def trend_text(history: Sequence[ScoreHistoryEntry]) -> str:
    """One line on how the scores moved from the first entry to the last."""
    if not history:
        return "no stored scores yet (run mlrails score with --store to record one)"
    last = history[-1]
    if len(history) == 1:
        return (
            f"1 stored score: robustness {last.robustness:g}/88 ({last.band}), "
            f"ML Test Score {last.mltest:g}"
        )
    first = history[0]
    band = last.band if first.band == last.band else f"{first.band} → {last.band}"
    return (
        f"{len(history)} stored scores, {first.time:%Y-%m-%d %H:%M} to "
        f"{last.time:%Y-%m-%d %H:%M} UTC: robustness {first.robustness:g} → "
        f"{last.robustness:g}/88 ({_delta(first.robustness, last.robustness)}; {band}), "
        f"ML Test Score {first.mltest:g} → {last.mltest:g} "
        f"({_delta(first.mltest, last.mltest)})"
    )
