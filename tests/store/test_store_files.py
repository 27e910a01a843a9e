"""A SQLite store whose file is deleted, moved or replaced under it refuses to commit.

Every write checks that the database and its write-ahead log are still the files at the
path: otherwise a commit succeeds into a file nobody can open again (deleted directory) or
into a log that no longer belongs to the database at the path (moved, replaced, log
removed), and the decision is lost without a word.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from logkit import served_records
from mlrails.store import DecisionRecord, Store, StoreFileReplaced, StoreUnavailable, open_store
from storekit import delete_the_wal, rename, replace_by_a_copy


def _records(trace: str) -> list[DecisionRecord]:
    X = pd.DataFrame({"x": [1.0]})
    return served_records(X, [{"status": 200}], datetime.now(UTC), trace)


def _delete_directory(db: Path) -> None:
    shutil.rmtree(db.parent)


def _delete_directory_and_start_afresh(db: Path) -> None:
    shutil.rmtree(db.parent)
    db.parent.mkdir()
    open_store(db).close()  # a new, empty log at the same path


def _delete_file(db: Path) -> None:
    for p in db.parent.iterdir():
        p.unlink()


DISRUPTIONS = [
    _delete_directory,
    _delete_directory_and_start_afresh,
    _delete_file,
    rename,
    replace_by_a_copy,
    delete_the_wal,
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    folder = tmp_path / "store"
    folder.mkdir()
    s = open_store(folder / "d.db", timeout_s=0.2)
    s.write_decisions(_records("before"))
    return s


@pytest.mark.parametrize("disrupt", DISRUPTIONS)
def test_a_store_refuses_to_commit_to_a_file_that_is_not_at_its_path(
    store: Store, tmp_path: Path, disrupt: Callable[[Path], None]
) -> None:
    db = tmp_path / "store" / "d.db"
    disrupt(db)
    for _ in range(2):
        with pytest.raises(StoreFileReplaced, match="restart") as err:
            store.write_decisions(_records("after"))
        assert err.value.transient  # the store failed, not the data: nothing to retry per row
        assert str(db.parent) not in str(err.value)  # callers see it; the path is logged
    with pytest.raises(StoreUnavailable, match="restart"):
        store.probe_write()
    assert store.ping() is False
    store.close()


def test_moving_the_file_back_is_the_same_store_again(store: Store, tmp_path: Path) -> None:
    db = tmp_path / "store" / "d.db"
    os.replace(db, db.with_name("away.db"))
    with pytest.raises(StoreFileReplaced):
        store.write_decisions(_records("while away"))
    os.replace(db.with_name("away.db"), db)
    store.write_decisions(_records("back"))
    assert store.ping()
    store.close()
    with open_store(db, create=False) as again:
        assert "back-0" in {r.trace_id for r in again.decisions()}


def test_an_intact_store_probes_and_writes(store: Store, tmp_path: Path) -> None:
    store.probe_write()
    store.write_decisions(_records("next"))
    assert store.ping() and store.count_decisions() == 2
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.probe_write()


def test_an_in_memory_store_has_no_file_to_check() -> None:
    with Store("sqlite://") as store:
        store.write_decisions(_records("m"))
        store.probe_write()
        assert store.ping()
