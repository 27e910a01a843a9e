"""Label feedback on a real SQLite store: counts equal a hand count, the latest label wins,
writers of the same labels at once count each once, and the join to the decisions."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from labelkit import (
    AT_ONCE,
    NEVER,
    REFUSED,
    T0,
    Batch,
    batches,
    check_against_a_hand_count,
    check_values_round_trip,
    log_decisions,
    post_at_once,
)
from mlrails.errors import DataError
from mlrails.store import (
    FeedbackCounts,
    Label,
    Store,
    StoreFileReplaced,
    StoreUnavailable,
    open_store,
    read_labels,
)
from storekit import rename


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "d.db")
    log_decisions(s)
    return s


def _by_key(store: Store) -> dict[tuple[str, int], Any]:
    return {(r.trace_id, r.row_index): r for r in store.labelled_decisions()}


def test_counts_equal_a_hand_count(store: Store) -> None:
    a, b = "a" * 32, "b" * 32
    first = [
        Label(a, 0, 1),
        Label(a, 1, "cat"),
        Label(a, 0, 1.0),  # the same value as JSON: a duplicate
        Label(b, 0, False),
        Label(REFUSED, 0, 1),  # refused as a whole: no row to label
        Label(NEVER, 0, 1),
        Label(a, 7, 1),  # no such row in the batch
        Label(a, 2, 3.5),
        Label(a, 2, 4.5),  # another value in the same batch: changed
    ]
    assert store.record_labels(first) == FeedbackCounts(
        matched=4, unknown=3, duplicate=1, changed=1
    )
    second = [Label(a, 0, True), Label(a, 1, "cat"), Label(b, 0, False), Label(NEVER, 0, 2)]
    later = T0 + timedelta(days=3)
    counts = store.record_labels(second, key_id="k1", received_at=later)
    assert counts == FeedbackCounts(matched=0, unknown=1, duplicate=2, changed=1)
    assert counts.to_dict() == {"matched": 0, "unknown": 1, "duplicate": 2, "changed": 1}
    assert counts.total == len(second)

    got = _by_key(store)
    assert set(got) == {(a, 0), (a, 1), (a, 2), (b, 0)}
    assert (got[a, 0].label, got[a, 0].revision, got[a, 0].labelled_at) == (True, 2, later)
    assert (got[a, 1].label, got[a, 1].revision, got[a, 1].prediction) == ("cat", 1, "p1")
    assert (got[a, 2].label, got[a, 2].revision) == (4.5, 2)
    assert got[a, 1].status == 422 and got[b, 0].label is False
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as raw:
        rows = raw.execute(
            "SELECT row_index, previous, key_id FROM labels WHERE trace_id = ? ORDER BY 1", (a,)
        ).fetchall()
    assert rows == [(0, "1", "k1"), (1, None, None), (2, "3.5", None)]  # JSON text as sent


def test_label_values_round_trip_exactly(store: Store) -> None:
    check_values_round_trip(store)


def test_label_refuses_what_cannot_be_one() -> None:
    for bad in (
        dict(trace_id="", row=0, value=1),
        dict(trace_id="x" * 65, row=0, value=1),
        dict(trace_id="has space", row=0, value=1),
        dict(trace_id="a\u0000", row=0, value=1),
        dict(trace_id=7, row=0, value=1),
        dict(trace_id="t", row=-1, value=1),
        dict(trace_id="t", row=True, value=1),
        dict(trace_id="t", row=2**31, value=1),
        dict(trace_id="t", row=0, value=float("nan")),
        dict(trace_id="t", row=0, value=None),
        dict(trace_id="t", row=0, value=[1]),
    ):
        with pytest.raises(DataError):
            Label(**bad)  # type: ignore[arg-type]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=batches)
def test_counts_of_random_label_sequences_equal_a_hand_count(
    tmp_path_factory: pytest.TempPathFactory, spec: list[Batch]
) -> None:
    with open_store(tmp_path_factory.mktemp("labels") / "d.db") as store:
        check_against_a_hand_count(store, spec)


def test_two_writers_of_the_same_labels_count_each_once(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    with open_store(path) as setup:
        log_decisions(setup)
    assert post_at_once(lambda: open_store(path, timeout_s=10.0)) == AT_ONCE
    with open_store(path) as s:
        got = [(r.row_index, r.revision) for r in s.labelled_decisions()]
    assert got == [(0, 1), (1, 1), (2, 1)]


def test_labelled_decisions_of_a_window(tmp_path: Path) -> None:
    with open_store(tmp_path / "d.db") as store:
        log_decisions(store)  # rows at T0 + 0, 1, 2 (trace a) and 3 s (trace b)
        store.record_labels([Label("a" * 32, r, r) for r in range(3)] + [Label("b" * 32, 0, 9)])
        window = store.labelled_decisions(
            since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3)
        )
        assert [(r.row_index, r.label) for r in window] == [(1, 1), (2, 2)]
        assert [r.time for r in window] == [T0 + timedelta(seconds=s) for s in (1, 2)]
        paged = store.labelled_decisions(chunk=2)
        assert [r.decision_id for r in paged] == sorted(r.decision_id for r in paged)
        assert len(paged) == 4
        assert store.labelled_decisions(since=T0 + timedelta(hours=1)) == []
        assert store.record_labels([]) == FeedbackCounts()


def test_an_existing_database_gets_the_labels_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with open_store(path) as store:
        log_decisions(store)
    with sqlite3.connect(path) as raw:  # as a log written before label feedback existed
        raw.execute("DROP TABLE labels")
    with open_store(path) as store:
        assert store.record_labels([Label("a" * 32, 0, 1)]).matched == 1


def test_a_store_that_cannot_commit_records_no_label(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    store = open_store(folder / "d.db", timeout_s=0.2)
    log_decisions(store)
    rename(folder / "d.db")
    with pytest.raises(StoreFileReplaced):
        store.record_labels([Label("a" * 32, 0, 1)])
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.record_labels([Label("a" * 32, 0, 1)])


def test_a_locked_store_is_unavailable_and_records_nothing(store: Store, tmp_path: Path) -> None:
    locked = open_store(tmp_path / "d.db", timeout_s=0.2)
    blocker = sqlite3.connect(tmp_path / "d.db", timeout=0.1, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="locked") as err:
            locked.record_labels([Label("a" * 32, 0, 1)])
        assert err.value.transient
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        locked.close()
    assert store.labelled_decisions() == []


# -- reading labels from a file -------------------------------------------------------------
def test_read_labels_keeps_trace_ids_as_text(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    f.write_text(
        "trace_id,row,label\n0012,0,1\n0012,1,cat\n" + "9" * 32 + ",2,0.5\nt,0,True\nt,1,-3\n"
    )
    got = read_labels(f)
    assert got == [
        Label("0012", 0, 1),
        Label("0012", 1, "cat"),
        Label("9" * 32, 2, 0.5),
        Label("t", 0, True),
        Label("t", 1, -3),
    ]
    assert [type(label.value) for label in got] == [int, str, float, bool, int]


def test_read_labels_with_named_columns_and_no_row_column(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    f.write_text("id,truth\nt1,yes\nt2,no\n")
    got = read_labels(f, trace_id_column="id", label_column="truth")
    assert got == [Label("t1", 0, "yes"), Label("t2", 0, "no")]
    with pytest.raises(DataError, match="no column 'row'"):
        read_labels(f, trace_id_column="id", label_column="truth", row_column="row")
    with pytest.raises(DataError, match="no column 'label'"):
        read_labels(f, trace_id_column="id")


def test_read_labels_names_the_line_of_a_bad_value(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    f.write_text("trace_id,row,label\nt1,0,1\nt2,0,\n")
    with pytest.raises(DataError, match=r"line 3: no value in column 'label'"):
        read_labels(f)
    f.write_text("trace_id,row,label\nt1,-2,1\n")
    with pytest.raises(DataError, match=r"line 2: row -2"):
        read_labels(f)
