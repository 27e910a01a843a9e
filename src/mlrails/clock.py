"""Moments in time as mlrails reads and writes them: timezone-aware, naive read as UTC.

One rule everywhere a time is compared (log windows, ``--since``, evidence dates): a time
without a zone is UTC, and text is ISO 8601 as :meth:`datetime.fromisoformat` reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """``moment`` itself when it has a zone, else the same wall time in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_time(text: str) -> datetime:
    """The ISO 8601 time ``text`` (e.g. ``2025-01-31T12:00:00Z``), naive read as UTC.

    Raises ``ValueError`` when ``text`` is not an ISO 8601 time.
    """
    return utc(datetime.fromisoformat(text))
