"""The record of a run organised for its reports, and how their numbers read.

:func:`build_view` groups a :class:`~mlrails.bench.record.RunRecord`'s cells by pair, clean
or condition (perturbation or attack) and severity; :func:`aggregate` averages one metric
over cells. Both renderers (:mod:`~mlrails.bench.report.html`,
:mod:`~mlrails.bench.report.markdown`) draw from the same view with the same formatting.

**Aggregation across seeds and repeats.** Where one (pair, condition, severity) ran several
seeds or repeats, a curve point and a table entry show the *mean* of the metric over the
cells that measured it, and its interval is the mean of their bootstrap bounds — the
uncertainty of one typical cell, not an envelope of the seeds (each seed is in the per-cell
table). The "worst severity" is the highest severity a pair has a successful cell at; its
reliability diagram and confusion matrix pool the counts of all its seeds, its ROC curve is
that of the cell with the lowest seed and repeat. The clean cells are drawn at severity 0.

Numbers are shown with :data:`PRECISION` decimals (shares of the status mix in percent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.bench.compare import PowerNote
from mlrails.bench.gate import GateResult
from mlrails.bench.record import CellRecord, Reliability, RunRecord

#: decimals of every number in the reports
PRECISION = 3

#: model-quality metrics in display order (those a run measured are shown)
QUALITY = ("accuracy", "f1_macro", "ece_model", "ece_rails", "brier", "nll", "rmse", "mae", "r2")
#: metrics drawn against severity (those a run measured), then the rails' silent failures
CURVES = ("accuracy", "rmse")
#: how the rails are graded
RAILS = ("silent_failure_rate", "false_alarm_rate", "refusal_rate")
#: metrics where lower is better (for the "worst under stress" column)
LOWER_IS_BETTER = frozenset(
    {"ece_model", "ece_rails", "brier", "nll", "rmse", "mae", "silent_failure_rate"}
)

LABELS = {
    "accuracy": "accuracy",
    "f1_macro": "F1 (macro)",
    "ece_model": "ECE (model, raw)",
    "ece_rails": "ECE (rails, calibrated)",
    "brier": "Brier",
    "nll": "NLL",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "silent_failure_rate": "silent failure",
    "false_alarm_rate": "false alarm",
    "refusal_rate": "refusal",
}


# ---------------------------------------------------------------------------------------------
# the record, organised


@dataclass(frozen=True)
class Agg:
    """A metric over several cells: mean value, mean interval bounds, cells averaged."""

    value: float | None
    low: float | None = None
    high: float | None = None
    k: int = 0


def aggregate(cells: Iterable[CellRecord], metric: str) -> Agg:
    """The mean of ``metric`` over ``cells`` that measured it and the mean of their interval
    bounds (see the module docstring)."""
    vals, lows, highs = [], [], []
    for c in cells:
        v = c.metrics.get(metric)
        if c.error is not None or v is None:
            continue
        vals.append(v)
        if metric in c.intervals:
            lows.append(c.intervals[metric][0])
            highs.append(c.intervals[metric][1])
    if not vals:
        return Agg(None)
    both = len(lows) == len(vals)
    return Agg(
        float(np.mean(vals)),
        float(np.mean(lows)) if both else None,
        float(np.mean(highs)) if both else None,
        len(vals),
    )


@dataclass
class Condition:
    """One perturbation or attack: its cells by (pair, severity)."""

    kind: str
    name: str
    cells: dict[tuple[str, int], list[CellRecord]] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        """The HTML id of its section."""
        return "c-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.kind}-{self.name}")

    @property
    def severities(self) -> list[int]:
        return sorted({s for _, s in self.cells})

    def ok(self, pair: str, severity: int) -> list[CellRecord]:
        """The successful cells of ``pair`` at ``severity``."""
        return [c for c in self.cells.get((pair, severity), []) if c.error is None]

    @property
    def any_ok(self) -> bool:
        return any(c.error is None for cells in self.cells.values() for c in cells)

    def worst(self, pair: str) -> int | None:
        """The highest severity with a successful cell of ``pair``."""
        done = [s for s in self.severities if self.ok(pair, s)]
        return max(done) if done else None


@dataclass
class View:
    """A run's cells by pair (clean) and condition, and the metrics it measured."""

    record: RunRecord
    pairs: list[str]
    clean: dict[str, list[CellRecord]]
    conditions: list[Condition]
    failed: list[CellRecord]
    quality: list[str]
    curves: list[str]


def build_view(record: RunRecord) -> View:
    """The cells of ``record`` grouped for its reports (see the module docstring)."""
    pairs = list(dict.fromkeys([p.name for p in record.pairs] + [c.pair for c in record.cells]))
    clean: dict[str, list[CellRecord]] = {p: [] for p in pairs}
    conds: dict[tuple[str, str], Condition] = {}
    for c in record.cells:
        if c.kind == "clean":
            if c.error is None:
                clean[c.pair].append(c)
            continue
        cond = conds.setdefault((c.kind, c.name), Condition(c.kind, c.name))
        cond.cells.setdefault((c.pair, c.severity), []).append(c)
    ok = [c for c in record.cells if c.error is None]
    return View(
        record=record,
        pairs=pairs,
        clean=clean,
        conditions=list(conds.values()),
        failed=[c for c in record.cells if c.error is not None],
        quality=[m for m in QUALITY if any(c.metrics.get(m) is not None for c in ok)],
        curves=[m for m in CURVES if any(c.metrics.get(m) is not None for c in ok)],
    )


def pool_reliability(cells: Sequence[CellRecord]) -> Reliability | None:
    """One reliability diagram from several cells' (same bins): counts summed, means weighted."""
    rel = [c.reliability for c in cells if c.reliability is not None]
    if not rel:
        return None
    nb = len(rel[0].count)
    count = [sum(r.count[b] for r in rel) for b in range(nb)]
    conf: list[float | None] = []
    acc: list[float | None] = []
    for b in range(nb):
        parts = [(r.count[b], r.confidence[b], r.accuracy[b]) for r in rel if r.count[b]]
        if not count[b]:
            conf.append(None)
            acc.append(None)
            continue
        conf.append(sum(k * (cf or 0.0) for k, cf, _ in parts) / count[b])
        acc.append(sum(k * (a or 0.0) for k, _, a in parts) / count[b])
    return Reliability(edges=rel[0].edges, count=count, confidence=conf, accuracy=acc)


def confusion_rates(
    cells: Sequence[CellRecord],
) -> tuple[list[Any], NDArray[np.float64]] | None:
    """Pooled confusion matrix normalised per true class (rows), with its classes."""
    mats = [c for c in cells if c.confusion is not None and c.classes is not None]
    if not mats:
        return None
    classes = mats[0].classes or []
    total = sum(np.asarray(c.confusion, dtype=np.float64) for c in mats if c.classes == classes)
    rows = np.asarray(total).sum(axis=1, keepdims=True)
    return classes, np.divide(total, rows, out=np.zeros_like(total), where=rows > 0)


def first_cell(cells: Sequence[CellRecord]) -> CellRecord | None:
    """The cell with the lowest seed and repeat."""
    return min(cells, key=lambda c: (c.seed, c.repeat)) if cells else None


def gate_lists(gate: GateResult) -> list[tuple[list[str], str]]:
    """The cells that fail a gate without a regression, with what they are."""
    return [
        (gate.missing, "cells missing from this run"),
        (gate.failed, "cells that newly failed"),
    ]


#: the columns of :func:`power_rows`
POWER_HEAD = [
    "condition",
    "pairs",
    "replicates",
    "mean b − a",
    "sd",
    "to resolve",
    "power now",
    "replicates needed",
]


def power_rows(notes: Sequence[PowerNote]) -> list[list[str]]:
    """The power notes as rows of plain text (columns: :data:`POWER_HEAD`)."""
    rows = []
    for n in notes:
        rows.append(
            [
                f"{n.name}/s{n.severity}",
                f"{n.pair_b} − {n.pair_a}",
                str(n.replicates),
                fmt(n.mean_difference),
                "–" if n.sd is None else fmt(n.sd),
                f"±{fmt(n.target)}",
                "–" if n.power_now is None else f"{n.power_now:.0%}",
                "needs ≥ 2 replicates"
                if n.sd is None
                else ("–" if n.replicates_needed is None else str(n.replicates_needed)),
            ]
        )
    return rows


# ---------------------------------------------------------------------------------------------
# formatting


def fmt(v: Any) -> str:
    """A number with :data:`PRECISION` decimals; ``—`` for a missing one."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return str(int(v))
    x = float(v)
    return f"{x:.{PRECISION}f}" if np.isfinite(x) else str(x)


def fmt_p(p: Any) -> str:
    """A p-value: :data:`PRECISION` decimals, ``<0.001`` (at that precision) below."""
    if p is None:
        return "—"
    floor = 10.0**-PRECISION
    return f"<{floor:.{PRECISION}f}" if float(p) < floor else fmt(p)


def fmt_agg(a: Agg) -> str:
    """``value [low, high]`` (just the value without an interval)."""
    if a.value is None:
        return "—"
    if a.low is None or a.high is None:
        return fmt(a.value)
    return f"{fmt(a.value)} [{fmt(a.low)}, {fmt(a.high)}]"


def short_hash(h: str | None, n: int = 12) -> str:
    """The first ``n`` characters of a hash; ``—`` for none."""
    return "—" if not h else h[:n]


def metric_label(metric: str) -> str:
    """How a metric is named in the reports."""
    if metric.startswith("auroc."):
        return f"AUROC {metric[6:]}"
    return LABELS.get(metric, metric)


def severity_label(s: int) -> str:
    """``clean`` for severity 0, the number otherwise."""
    return "clean" if s == 0 else str(s)
