"""Option values several commands share: the ``--store`` option, durations (``--window``,
``--drift-every``) and ISO 8601 times (``--since``, ``--until``).

The parsers raise :class:`~mlrails.errors.MlrailsError` naming the option, so a command
reports a bad value as one ``error:`` line.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from mlrails.clock import parse_time
from mlrails.errors import MlrailsError, echo

#: the decision log and key store when --store is not given
DEFAULT_STORE = "mlrails.db"

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        help="Decision log and key store: a SQLite file path or a PostgreSQL URL "
        "(postgresql://user:pass@host/db; the postgres extra).",
    ),
]

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_window(text: str, option: str = "--window") -> timedelta:
    """A duration such as ``90s``, ``30m``, ``1h``, ``7d`` or ``2w``."""
    match = _WINDOW.match(text)
    if match is None:
        raise MlrailsError(f"{option} {echo(text)}: not a duration (e.g. 30m, 1h, 7d, 2w)")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def time_option(text: str | None, option: str) -> datetime | None:
    """The ISO 8601 time an ``option`` was given (naive read as UTC), None when not given."""
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise MlrailsError(
            f"{option} {echo(text)}: not an ISO 8601 time (e.g. 2025-01-31T12:00:00Z)"
        ) from None
