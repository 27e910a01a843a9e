"""Read-side summaries of the decision log for dashboards (the web UI at ``/ui``) and reports.

Both queries stay within a time window: the status mix is one ``GROUP BY`` over the rows of
the window (found through the ``time`` index), the recent decisions a newest-first scan on
the primary key that stops after ``limit`` matches or at the window's start. Their cost grows
with the traffic in the window, not with the size of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select

from mlrails.store.database import Store, decision_record
from mlrails.store.records import DecisionRecord
from mlrails.store.tables import decisions
from mlrails.store.times import to_utc


def status_counts(store: Store, *, since: datetime | None = None) -> dict[int, int]:
    """How many decisions (rows, not requests) were logged per status code at or after
    ``since`` (all of them without it), ordered by code."""
    stmt = select(decisions.c.status, func.count()).group_by(decisions.c.status)
    if since is not None:
        stmt = stmt.where(decisions.c.time >= to_utc(since))

    def q() -> dict[int, int]:
        with store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return {int(status): int(n) for status, n in sorted(rows)}

    return store.guarded(q)  # StoreUnavailable on failure


def recent_decisions(
    store: Store,
    *,
    limit: int = 20,
    since: datetime | None = None,
    exclude_status: int | None = None,
) -> list[DecisionRecord]:
    """The ``limit`` most recently logged decisions, newest first, optionally at or after
    ``since`` and without those of status ``exclude_status`` (e.g. 200)."""
    stmt = select(decisions).order_by(decisions.c.id.desc()).limit(max(0, int(limit)))
    if since is not None:
        stmt = stmt.where(decisions.c.time >= to_utc(since))
    if exclude_status is not None:
        stmt = stmt.where(decisions.c.status != exclude_status)

    def q() -> list[DecisionRecord]:
        with store.engine.connect() as conn:
            return [decision_record(m) for m in conn.execute(stmt).mappings()]

    return store.guarded(q)  # StoreUnavailable on failure


@dataclass(frozen=True)
class LogSummary:
    """The whole log at a glance: first and last decision time (as stored), mean latency,
    decisions logged under an API key, distinct artifacts served."""

    first: datetime | None
    last: datetime | None
    mean_latency_ms: float | None
    keyed_decisions: int
    artifacts_served: int


def log_summary(store: Store) -> LogSummary:
    """One aggregate query over every decision (``mlrails score`` reads it)."""
    stmt = select(
        func.min(decisions.c.time),
        func.max(decisions.c.time),
        func.avg(decisions.c.latency_ms),
        func.count(decisions.c.key_id),
        func.count(distinct(decisions.c.artifact_hash)),
    )

    def q() -> LogSummary:
        with store.engine.connect() as conn:
            first, last, latency, keyed, artifacts = conn.execute(stmt).one()
        return LogSummary(
            first=first if isinstance(first, datetime) else None,
            last=last if isinstance(last, datetime) else None,
            mean_latency_ms=None if latency is None else float(latency),
            keyed_decisions=int(keyed or 0),
            artifacts_served=int(artifacts or 0),
        )

    return store.guarded(q)  # StoreUnavailable on failure
