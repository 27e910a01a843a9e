"""Readiness scores in a real PostgreSQL store: saved, listed oldest first, report intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgkit import PostgresServer

from mlrails.score import history
from mlrails.score.engine import combine
from mlrails.score.report import Answer, Gap
from mlrails.store import open_store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_scores_round_trip_on_postgres(postgres: PostgresServer, pg_url: str) -> None:
    answers = {"robustness.data.privacy": Answer("robustness.data.privacy", 3.0, "<b>ok</b>")}
    later = combine({}, answers, [Gap("a.yaml", "line 2: x")], {"store": "pg"}, time=T0)
    earlier = combine({}, {}, time=T0 - timedelta(minutes=5))
    with open_store(pg_url) as store:
        id_later = history.save(store, later)
        id_earlier = history.save(store, earlier)
        entries = history.load(store)
        assert [(e.id, e.time, e.robustness, e.mltest) for e in entries] == [
            (id_earlier, T0 - timedelta(minutes=5), 0.0, 0.0),
            (id_later, T0, 3.0, 0.0),
        ]
        assert store.get_score(id_later) == later.to_dict()
        assert [r.id for r in store.list_scores(1)] == [id_later]
