"""Label feedback for the store tests of every backend: a small decision log, a hand count of
what labels should become, and two writers posting the same labels at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from mlrails.store import DecisionRecord, FeedbackCounts, Label, Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A, B = "a" * 32, "b" * 32
#: traces with logged rows: trace -> number of rows of its batch
LOGGED = {A: 3, B: 1}
#: a request refused as a whole (no row) and a trace never logged
REFUSED, NEVER = "c" * 32, "d" * 32
#: the decision rows :func:`log_decisions` writes
LOGGED_ROWS = frozenset((t, r) for t, n in LOGGED.items() for r in range(n))

#: a small world of decision rows, logged or not, and of label values that collide as JSON
KEYS = [(A, 0), (A, 1), (A, 2), (B, 0), (REFUSED, 0), (NEVER, 1)]
VALUES: list[Any] = [0, 1, 1.0, True, False, "0", "cat"]
Batch = list[tuple[tuple[str, int], Any]]
#: sequences of label batches over that world
batches = st.lists(
    st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=8),
    min_size=1,
    max_size=5,
)


def log_decisions(store: Store) -> None:
    """Two answered requests, trace A (3 rows at T0 + 0, 1, 2 s; row 1 answered 422) and
    trace B (1 row at T0 + 3 s), and one request refused as a whole (no row)."""
    rows = [(t, r) for t, n in LOGGED.items() for r in range(n)]
    records = [
        DecisionRecord(
            time=T0 + timedelta(seconds=i),
            trace_id=trace,
            key_id=None,
            artifact_hash="h",
            row_index=row,
            status=422 if (trace, row) == (A, 1) else 200,
            problem=None,
            input={"x": row},
            output={"status": 200, "prediction": f"p{row}"},
            scores=None,
            latency_ms=1.0,
        )
        for i, (trace, row) in enumerate(rows)
    ]
    records.append(DecisionRecord(T0, REFUSED, None, "h", None, 400, "x", "{broken", {}, None, 1.0))
    store.write_decisions(records)


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values: a boolean is only ever equal to the same boolean."""
    return (type(a) is bool) == (type(b) is bool) and a == b


class HandCount:
    """What the store should answer, counted by hand: each row's latest value and revision."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, int], tuple[Any, int]] = {}

    def post(self, batch: Batch) -> dict[str, int]:
        want = dict.fromkeys(("matched", "unknown", "duplicate", "changed"), 0)
        for key, value in batch:
            if key not in LOGGED_ROWS:
                want["unknown"] += 1
            elif key not in self.latest:
                want["matched"] += 1
                self.latest[key] = (value, 1)
            elif same(self.latest[key][0], value):
                want["duplicate"] += 1
            else:
                want["changed"] += 1
                self.latest[key] = (value, self.latest[key][1] + 1)
        return want


def check_against_a_hand_count(store: Store, spec: Sequence[Batch]) -> None:
    """Post each batch of ``spec``; every answer and the stored labels are the hand count's,
    and the latest labels sent again are all duplicates."""
    log_decisions(store)
    hand = HandCount()
    for batch in spec:
        want = hand.post(batch)
        assert store.record_labels([Label(t, r, v) for (t, r), v in batch]).to_dict() == want
    stored = {(r.trace_id, r.row_index): (r.label, r.revision) for r in store.labelled_decisions()}
    assert stored.keys() == hand.latest.keys()
    for key, (value, revision) in hand.latest.items():
        assert same(stored[key][0], value) and stored[key][1] == revision, (key, stored[key])
    again = [Label(t, r, v) for (t, r), (v, _) in hand.latest.items()]
    assert store.record_labels(again) == FeedbackCounts(duplicate=len(again))


#: label values whose JSON text a lax column would change (SQLite's numeric affinity turns
#: large integers into floats and 1.0 into 1)
EXACT_VALUES: list[Any] = [
    12345678901234567890,
    10**40,
    -(2**63),
    0.30000000000000004,
    1.0,
    -0.0,
    1e-300,
    "007",
    "1",
    "é\u0000✓",
    True,
    False,
]


def check_values_round_trip(store: Store) -> None:
    """Every value of :data:`EXACT_VALUES` is read back as sent (same type, same value), and
    sending them again is all duplicates."""
    when = T0 + timedelta(days=1)
    trace = "e" * 32
    store.write_decisions(
        [
            DecisionRecord(when, trace, None, "h", i, 200, None, {}, {"prediction": 1}, None, 1.0)
            for i in range(len(EXACT_VALUES))
        ]
    )
    sent = [Label(trace, i, v) for i, v in enumerate(EXACT_VALUES)]
    assert store.record_labels(sent) == FeedbackCounts(matched=len(sent))
    got = {r.row_index: r.label for r in store.labelled_decisions(since=when)}
    for i, value in enumerate(EXACT_VALUES):
        assert type(got[i]) is type(value) and repr(got[i]) == repr(value), (value, got[i])
    assert store.record_labels(sent) == FeedbackCounts(duplicate=len(sent))


def post_at_once(open_one: Callable[[], Store], rounds: int = 5) -> FeedbackCounts:
    """Two stores (as two server processes) post the same labels at once, ``rounds`` times;
    the counts of all their answers together (any error fails)."""
    labels = [Label(A, r, r % 2) for r in range(3)] + [Label(NEVER, 0, 1)]
    stores = [open_one() for _ in range(2)]
    results: list[FeedbackCounts] = []
    errors: list[BaseException] = []
    try:
        for _ in range(rounds):
            start = threading.Barrier(2)

            def post(s: Store, start: threading.Barrier = start) -> None:
                start.wait()
                try:
                    results.append(s.record_labels(labels))
                except BaseException as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=post, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
    finally:
        for s in stores:
            s.close()
    assert not errors, errors
    return sum(results, FeedbackCounts())


#: what :func:`post_at_once` must add up to: each labelled row matched once, whoever won
AT_ONCE = FeedbackCounts(matched=3, unknown=10, duplicate=27, changed=0)
