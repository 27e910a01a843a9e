"""Turn a request's outcome into decision-log records (one per row, or one per request).

Row-level records carry the row as the caller sent it, the verdict's JSON form and each
safeguard's score; request-level records (malformed body, batch too large, timeout, internal
error) carry the problem document and ``row_index=None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlrails.guard.verdict import Verdict
from mlrails.store import DecisionRecord


@dataclass(frozen=True)
class RequestContext:
    """Who asked, when, under which trace, against which artifact."""

    trace_id: str
    key_id: str | None
    artifact_hash: str
    time: datetime


def verdict_records(
    ctx: RequestContext, verdicts: Sequence[Verdict], rows: Sequence[Any]
) -> list[DecisionRecord]:
    """One record per verdict; when the guard answered the batch as a whole (one verdict
    for several or no rows), the record holds every row and no row index."""
    per_row = len(verdicts) == len(rows)
    out = []
    for i, v in enumerate(verdicts):
        out.append(
            DecisionRecord(
                time=ctx.time,
                trace_id=ctx.trace_id,
                key_id=ctx.key_id,
                artifact_hash=v.artifact_hash or ctx.artifact_hash,
                row_index=i if per_row else None,
                status=v.status,
                problem=v.problem,
                input=rows[i] if per_row else list(rows),
                output=v.to_dict(),
                scores={s.name: s.score for s in v.safeguards if s.score is not None},
                latency_ms=v.latency_ms,
            )
        )
    return out


def request_record(
    ctx: RequestContext,
    status: int,
    problem: dict[str, Any],
    body: Any,
    latency_ms: float,
) -> DecisionRecord:
    """The record of a request answered before (or instead of) the guard."""
    return DecisionRecord(
        time=ctx.time,
        trace_id=ctx.trace_id,
        key_id=ctx.key_id,
        artifact_hash=ctx.artifact_hash,
        row_index=None,
        status=status,
        problem=str(problem.get("type")) if problem.get("type") else None,
        input=body,
        output=problem,
        scores=None,
        latency_ms=latency_ms,
    )
