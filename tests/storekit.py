"""Ways for tests to pull a SQLite decision log's files out from under an open store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def rename(db: Path) -> None:
    """The database file moved away: the path is empty."""
    os.replace(db, db.with_name("elsewhere.db"))


def replace_by_a_copy(db: Path) -> None:
    """Another file (a copy) now stands at the path."""
    copy = db.with_name("copy.db")
    shutil.copyfile(db, copy)
    os.replace(copy, db)


def delete_the_wal(db: Path) -> None:
    """The write-ahead log removed: commits would go to a log the path no longer holds."""
    db.with_name(db.name + "-wal").unlink()
