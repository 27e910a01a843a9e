"""What the drift page shows: the latest drift check, field by field, as plain values."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlrails.drift import DriftReport, FieldDrift
from mlrails.serve.drift_job import DriftStatus
from mlrails.serve.ui.view import time_text

#: width in pixels of a full effect bar (effect 2 × the alarm threshold or more)
BAR_PX = 160

_STATE_TEXT = {
    "off": "off",
    "pending": "waiting for the first check",
    "ok": "no drift",
    "alarm": "drift alarm",
    "no_traffic": "no traffic in the window",
    "error": "check failed",
}


@dataclass(frozen=True)
class DriftRow:
    """One compared field."""

    side: str
    field: str
    kind: str
    test: str
    statistic: str
    p_adjusted: str
    effect: str
    effect_threshold: str
    bar_px: int
    threshold_px: int
    psi: str
    missing: str
    n: str
    alarm: bool


@dataclass(frozen=True)
class DriftPage:
    """The page's content."""

    state: str
    state_text: str
    every: str
    window: str
    last_run: str | None
    error: str | None
    n_rows: int | None
    n_answered: int | None
    since: str | None
    until: str | None
    alarming: list[str]
    rows: list[DriftRow]
    notes: list[str]
    webhook: str | None


def drift_page(status: DriftStatus) -> DriftPage:
    """The page for ``status``: alarming fields first, then by adjusted p-value."""
    check = status.check
    rows: list[DriftRow] = []
    if check is not None:
        for side, report in (("input", check.inputs), ("output", check.outputs)):
            if report is not None:
                rows.extend(_row(side, report, f) for f in report.fields)
    rows.sort(key=lambda r: (not r.alarm, _float(r.p_adjusted)))
    hook = status.webhook
    return DriftPage(
        state=status.state,
        state_text=_STATE_TEXT.get(status.state, status.state),
        every=_schedule(status.every_s, status.window_s),
        window=_duration(status.window_s),
        last_run=None if status.last_run is None else time_text(status.last_run),
        error=status.error,
        n_rows=None if check is None else check.n_rows,
        n_answered=None if check is None else check.n_answered,
        since=None if check is None else time_text(check.since),
        until=None if check is None else time_text(check.until),
        alarming=[] if check is None else check.alarming,
        rows=rows,
        notes=[] if check is None else list(check.notes),
        webhook=None
        if hook is None
        else f"{hook.event} at {time_text(hook.time)}: "
        + (f"HTTP {hook.status}" if hook.status is not None else f"failed ({hook.error})"),
    )


def _row(side: str, report: DriftReport, f: FieldDrift) -> DriftRow:
    threshold = report.numeric_effect if f.kind == "numeric" else report.categorical_effect
    scale = 2 * threshold if math.isfinite(threshold) and threshold > 0 else 1.0
    missing = f.missing_cur if f.kind == "numeric" else None
    return DriftRow(
        side=side,
        field=f.field,
        kind=f.kind,
        test="Kolmogorov–Smirnov" if f.test == "ks" else "chi-square",
        statistic=_num(f.statistic),
        p_adjusted=_num(f.p_adjusted),
        effect=_num(f.effect_size),
        effect_threshold=_num(threshold),
        bar_px=bar_px(f.effect_size, scale),
        threshold_px=bar_px(threshold, scale),
        psi=_num(f.psi),
        missing="" if missing is None else _share(missing),
        n=f"{f.n_cur} vs {f.n_ref}",
        alarm=f.alarm,
    )


def _schedule(every_s: float | None, window_s: float) -> str:
    window = _duration(window_s)
    if every_s is None:
        return f"No periodic check; each check covers the last {window}"
    return f"Checked every {_duration(every_s)} over the last {window}"


def bar_px(value: float | None, scale: float) -> int:
    """Width in pixels of ``value`` on a bar whose full width :data:`BAR_PX` stands for
    ``scale``, clamped to ``[0, BAR_PX]``: an infinite or huge effect is a full bar, a
    negative one or NaN an empty bar (``round`` of an infinite float would raise)."""
    if value is None or math.isnan(value) or value <= 0:
        return 0
    if not (math.isfinite(scale) and scale > 0):
        return BAR_PX
    fraction = value / scale  # may overflow to inf: still a float
    return BAR_PX if fraction >= 1 else max(0, min(BAR_PX, round(BAR_PX * fraction)))


def _num(x: float | None) -> str:
    """Three significant digits; ``–`` for a missing or NaN value (``inf`` stays ``inf``)."""
    if x is None or math.isnan(x):
        return "–"
    return f"{x:.3g}"


def _share(x: float) -> str:
    """A share as a percentage; anything that is not a share in [0, 1] as a plain number."""
    if math.isfinite(x) and 0 <= x <= 1:
        return f"{x:.1%}"
    return _num(x)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.inf


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
