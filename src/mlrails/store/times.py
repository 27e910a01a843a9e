"""Times as the store writes and reads them: aware, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from mlrails.clock import utc


def to_utc(t: datetime) -> datetime:
    """``t`` in UTC, for storage and as read back (a naive time is UTC, see
    :func:`mlrails.clock.utc`). Unlike ``clock.utc`` an aware time is converted: SQLite stores
    the UTC wall time as text, so text comparison orders times; PostgreSQL's timestamptz
    keeps the instant."""
    return utc(t).astimezone(UTC)
