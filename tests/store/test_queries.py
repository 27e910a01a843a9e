"""Read-side queries of the decision log, against a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlrails.store import DecisionRecord, open_store
from mlrails.store.queries import log_summary, status_counts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _record(i: int, status: int, latency: float, key: str | None, artifact: str) -> DecisionRecord:
    return DecisionRecord(
        time=T0 + timedelta(seconds=i),
        trace_id=f"t{i}",
        key_id=key,
        artifact_hash=artifact,
        row_index=0,
        status=status,
        problem=None,
        input={"x": i},
        output={"prediction": 1},
        scores=None,
        latency_ms=latency,
    )


rows = st.lists(
    st.tuples(
        st.sampled_from([200, 203, 400, 422]),
        st.floats(0.01, 100.0),
        st.sampled_from([None, "k1", "k2"]),
        st.sampled_from(["a" * 64, "b" * 64]),
    ),
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=rows)
def test_log_summary_and_status_counts_match_the_records(
    tmp_path: Path, spec: list[tuple[int, float, str | None, str]]
) -> None:
    path = tmp_path / f"log-{len(list(tmp_path.iterdir()))}.db"
    records = [_record(i, *row) for i, row in enumerate(spec)]
    with open_store(path) as store:
        if records:
            store.write_decisions(records)
        summary = log_summary(store)
        counts = status_counts(store)
    assert summary.keyed_decisions == sum(r.key_id is not None for r in records)
    assert summary.artifacts_served == len({r.artifact_hash for r in records})
    if records:
        mean = sum(r.latency_ms for r in records) / len(records)
        assert summary.mean_latency_ms is not None
        assert abs(summary.mean_latency_ms - mean) <= 1e-9 * max(1.0, mean)
        assert summary.first is not None and summary.last is not None
        assert summary.first.replace(tzinfo=UTC) == T0
        assert summary.last.replace(tzinfo=UTC) == T0 + timedelta(seconds=len(records) - 1)
    else:
        assert summary.mean_latency_ms is None and summary.first is None and summary.last is None
    expected: dict[int, int] = {}
    for r in records:
        expected[r.status] = expected.get(r.status, 0) + 1
    assert counts == dict(sorted(expected.items()))
