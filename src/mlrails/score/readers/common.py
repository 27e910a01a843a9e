"""What every reader of an evidence source shares: the error that turns a source into a gap,
and lenient conversions of the values found in JSON files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mlrails.clock import parse_time


class Unusable(Exception):
    """A source that cannot be used; its message becomes the gap's problem."""


def optional_float(value: Any) -> float | None:
    """``value`` as a float; None when absent or not a number."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def optional_time(value: Any) -> datetime | None:
    """ISO 8601 text as an aware time (naive read as UTC); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None
