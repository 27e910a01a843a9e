"""Typed rows of the store: one guarded decision, one API key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One verdict of one request, as logged.

    ``row_index`` is the row's position in the request's batch, or ``None`` for a
    request-level outcome (malformed body, batch-level error, timeout) that has no row.
    ``input`` is the row as the caller sent it, ``output`` the verdict's JSON form (or the
    problem document for a request-level outcome), ``scores`` each safeguard's score.
    """

    time: datetime
    trace_id: str
    key_id: str | None
    artifact_hash: str
    row_index: int | None
    status: int
    problem: str | None
    input: Any
    output: Any
    scores: dict[str, float | None] | None
    latency_ms: float
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored: a public id and the SHA-256 of the token, never the token."""

    id: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
