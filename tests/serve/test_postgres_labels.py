"""Label feedback on a real PostgreSQL server: the same counts as SQLite, writers of the same
labels at once (separate engines, as separate processes) count each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from pgkit import PostgresServer

from labelkit import (
    AT_ONCE,
    T0,
    A,
    B,
    Batch,
    batches,
    check_against_a_hand_count,
    check_values_round_trip,
    log_decisions,
    post_at_once,
)
from mlrails.store import FeedbackCounts, Label, StoreUnavailable, open_store


def test_counts_stored_values_and_the_join(pg_url: str) -> None:
    with open_store(pg_url) as store:
        assert store.is_postgres
        log_decisions(store)
        first = [Label(A, 0, 1), Label(A, 1, "é\u0000✓"), Label(A, 0, 1.0), Label(B, 0, True)]
        assert store.record_labels(first) == FeedbackCounts(matched=3, duplicate=1)
        later = T0 + timedelta(days=2)
        second = [Label(A, 0, 2), Label(A, 1, "é\u0000✓"), Label(A, 2, 0.25), Label(B, 5, 1)]
        counts = store.record_labels(second, key_id="k1", received_at=later)
        assert counts == FeedbackCounts(matched=1, unknown=1, duplicate=1, changed=1)
        got = {(r.trace_id, r.row_index): r for r in store.labelled_decisions()}
        assert (got[A, 0].label, got[A, 0].revision, got[A, 0].labelled_at) == (2, 2, later)
        assert got[A, 1].label == "é\u0000✓" and got[A, 1].status == 422
        assert got[B, 0].label is True and got[A, 2].prediction == "p2"
        window = store.labelled_decisions(
            since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3)
        )
        assert [(r.trace_id, r.row_index) for r in window] == [(A, 1), (A, 2)]


def test_label_values_round_trip_exactly(pg_url: str) -> None:
    with open_store(pg_url) as store:
        check_values_round_trip(store)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=batches)
def test_counts_of_random_label_sequences_equal_a_hand_count(
    postgres: PostgresServer, spec: list[Batch]
) -> None:
    with open_store(postgres.create_database()) as store:
        check_against_a_hand_count(store, spec)


def test_two_writers_of_the_same_labels_count_each_once(pg_url: str) -> None:
    with open_store(pg_url) as setup:
        log_decisions(setup)
    assert post_at_once(lambda: open_store(pg_url)) == AT_ONCE
    with open_store(pg_url) as s:
        assert [(r.row_index, r.revision) for r in s.labelled_decisions()] == [
            (0, 1),
            (1, 1),
            (2, 1),
        ]


def test_a_stopped_server_is_unavailable(own_postgres: PostgresServer) -> None:
    store = open_store(own_postgres.create_database(), timeout_s=2.0)
    try:
        log_decisions(store)
        own_postgres.stop()
        with pytest.raises(StoreUnavailable):
            store.record_labels([Label(A, 0, 1)])
        with pytest.raises(StoreUnavailable):
            store.labelled_decisions()
    finally:
        store.close()
