"""Typed errors of the decision log."""

from __future__ import annotations

from mlrails.errors import MlrailsError


class StoreError(MlrailsError):
    """The store cannot be opened or used (bad path or URL, unreachable database)."""


class StoreUnavailable(StoreError):
    """A read or write failed at run time (locked, closed, disk full, connection lost).

    The service answers 503 with ``Retry-After`` instead of answering without a record.
    ``transient`` says whether the store itself failed (closed, locked, unreachable: a retry
    may succeed) rather than the data written (a value the database refuses).
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class StoreFileReplaced(StoreUnavailable):
    """The SQLite file the store has open is no longer the file at its path (deleted, moved
    or replaced, or its write-ahead log was): what is committed to it now is in a file nobody
    can read, so the write counts as failed. Only a restart opens the file at the path again
    (reopening it behind the service's back would start an empty log without saying so)."""
