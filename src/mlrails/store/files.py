"""Whether a SQLite store still writes to the file at its path.

SQLite writes through the file descriptors it opened: delete the directory, move or replace
the database (or its ``-wal`` file) and commits keep succeeding into files that no one can
open again, gone when the process ends. :class:`DatabaseFiles` records the device and inode
of both files when the store opens them and compares them with what the path names now: a
``stat`` each, cheap enough to run around every commit.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from mlrails.store.errors import StoreFileReplaced

log = logging.getLogger("mlrails.store")

_Identity = tuple[int, int]

#: what the service can do about it, for messages shown to callers (no path in them)
RESTART_HINT = "restart the service to open the file at its path again"


class DatabaseFiles:
    """The identity of an open SQLite database file and of its write-ahead log."""

    def __init__(self, path: Path, db: _Identity) -> None:
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self._db = db
        #: recorded once the log exists (WAL mode creates it with the first connection);
        #: it then lives as long as any connection to the database is open
        self._wal = _identity(self.wal)
        self._lock = threading.Lock()
        self._reported = False

    @classmethod
    def of(cls, database: str | None) -> DatabaseFiles | None:
        """The files of an opened SQLite database (None for an in-memory one or a URI
        that names no plain file)."""
        if not database or database == ":memory:":
            return None
        path = Path(database)
        db = _identity(path)
        return None if db is None else cls(path, db)

    def verify(self) -> None:
        """Raise :class:`StoreFileReplaced` unless both files are the ones opened."""
        problem = self._problem()
        if problem is None:
            return
        with self._lock:
            first, self._reported = not self._reported, True
        if first:
            log.error("%s: %s; nothing more can be committed to it", self.path, problem)
        raise StoreFileReplaced(
            f"the database file was {problem} while the store had it open, so decisions "
            f"written to it would be lost ({RESTART_HINT})"
        )

    def _problem(self) -> str | None:
        now = _identity(self.path)
        if now != self._db:
            return "deleted or moved" if now is None else "replaced"
        wal = _identity(self.wal)
        with self._lock:
            if self._wal is None:
                self._wal = wal
                return None
            if wal == self._wal:
                return None
        return "changed (its write-ahead log was deleted or replaced)"


def _identity(path: Path) -> _Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
