"""Scores in the embedded database: saved, listed oldest first, and the trend in words."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from scorekit import T0, known_report

from mlrails.score import history
from mlrails.score.history import ScoreHistoryEntry, trend_text
from mlrails.score.report import Gap, RuleResult
from mlrails.store import StoreError, open_store


def test_two_scores_round_trip_and_list_oldest_first(tmp_path: Path) -> None:
    db = tmp_path / "scores.db"
    later = known_report(
        time=T0,
        results={"robustness.evaluation.counterfactual": RuleResult(4.0, "r")},
        gaps=(Gap("x.json", "corrupt"),),
    )
    earlier = known_report(time=T0 - timedelta(hours=1))
    with open_store(db) as store:
        assert store.list_scores() == []
        id_later = history.save(store, later)  # saved first, but later in time
        id_earlier = history.save(store, earlier)
        assert id_later != id_earlier
        rows = store.list_scores()
        assert [r.id for r in rows] == [id_earlier, id_later]
        assert [(r.robustness, r.mltest) for r in rows] == [(35.0, 1.5), (39.0, 1.5)]
        assert rows[1].time == T0
        assert [r.id for r in store.list_scores(1)] == [id_later]
        assert store.get_score(id_later) == later.to_dict()
        assert store.get_score(12345) is None
    with open_store(db, create=False) as store:  # persisted
        entries = history.load(store)
    assert entries == [
        ScoreHistoryEntry(id_earlier, T0 - timedelta(hours=1), 35.0, 1.5),
        ScoreHistoryEntry(id_later, T0, 39.0, 1.5),
    ]
    assert entries[0].band == "adequate: failure points appear as it scales"
    assert entries[1].to_dict()["robustness_max"] == 88.0


def test_a_database_from_before_scores_gets_the_table(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:  # as written by an mlrails without scores
        conn.execute("DROP TABLE scores")
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "scores" not in tables and "decisions" in tables
    with open_store(db, create=False) as store:
        history.save(store, known_report())
        assert len(store.list_scores()) == 1


def test_a_report_without_scores_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(StoreError, match="not a score report"):
            store.add_score({"time": T0.isoformat(), "robustness": {}})
        with pytest.raises(StoreError, match="not a score report"):
            store.add_score({"time": "yesterday", "robustness": {"score": 1}, "mltest": {}})
        assert store.list_scores() == []


def test_trend_text() -> None:
    assert trend_text([]).startswith("no stored scores yet")
    one = ScoreHistoryEntry(1, T0, 20.0, 0.5)
    assert trend_text([one]) == "1 stored score: robustness 20/88 (not ready), ML Test Score 0.5"
    two = ScoreHistoryEntry(2, T0 + timedelta(days=1), 41.0, 0.5)
    assert trend_text([one, two]) == (
        "2 stored scores, 2025-03-01 12:00 to 2025-03-02 12:00 UTC: robustness 20 → 41/88 "
        "(+21; not ready → robust), ML Test Score 0.5 → 0.5 (unchanged)"
    )
    three = ScoreHistoryEntry(3, T0 + timedelta(days=2), 40.0, 1.0)
    assert "robustness 20 → 40/88 (+20; not ready → robust)" in trend_text([one, two, three])
    down = trend_text([two, three])
    assert "41 → 40/88 (-1; robust)" in down and "0.5 → 1 (+0.5)" in down
