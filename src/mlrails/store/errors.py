"""Typed errors of the decision log."""

from __future__ import annotations

from mlrails.errors import MlrailsError


class StoreError(MlrailsError):
    """The store cannot be opened or used (bad path or URL, unreachable database)."""


class StoreUnavailable(StoreError):
    """A read or write failed at run time (locked, closed, disk full, connection lost).

    The service answers 503 with ``Retry-After`` instead of answering without a record.
    """
