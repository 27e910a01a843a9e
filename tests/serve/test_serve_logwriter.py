"""Group commit of the decision log, against a real SQLite store."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlrails.serve.logwriter import PROBE_INTERVAL_S, DecisionLog
from mlrails.store import DecisionRecord, Store, StoreUnavailable, open_store


def _records(trace: str, n: int = 1, row_index: int | None = 0) -> list[DecisionRecord]:
    return [
        DecisionRecord(
            time=datetime.now(UTC),
            trace_id=trace,
            key_id=None,
            artifact_hash="a" * 64,
            row_index=row_index if row_index is None else row_index + i,
            status=200,
            problem=None,
            input={"x": i},
            output={"status": 200},
            scores={"ood": 0.5},
            latency_ms=1.0,
        )
        for i in range(n)
    ]


def _traces(store: Store) -> list[str]:
    return [r.trace_id for r in store.decisions()]


def test_concurrent_writes_share_commits_and_all_land(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")
    commits: list[int] = []

    async def main() -> None:
        log = DecisionLog(store, on_commit=lambda groups, rows, s: commits.append(rows))
        log.start()
        await asyncio.gather(*(log.write(_records(f"t{i}", n=1 + i % 3)) for i in range(60)))
        assert log.pending == 0
        await log.close()

    asyncio.run(main())
    want = sum(1 + i % 3 for i in range(60))
    assert sum(commits) == want == store.count_decisions()
    assert len(commits) < 60  # grouped: fewer transactions than requests
    # each request's records are stored together and in order
    traces = _traces(store)
    assert sorted(set(traces)) == sorted(f"t{i}" for i in range(60))
    store.close()


def test_sync_write_fails_loudly_when_the_store_is_closed(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")

    async def main() -> None:
        log = DecisionLog(store)
        log.start()
        await log.write(_records("before"))
        store.close()
        with pytest.raises(StoreUnavailable):
            await log.write(_records("after"))
        await log.close()

    asyncio.run(main())
    assert _traces(open_store(tmp_path / "d.db")) == ["before"]


def test_a_record_the_store_refuses_fails_only_its_own_request(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")
    outcome: dict[str, str] = {}

    async def write(log: DecisionLog, trace: str, row_index: int) -> None:
        try:
            await log.write(_records(trace, row_index=row_index))
            outcome[trace] = "ok"
        except StoreUnavailable as exc:
            assert not exc.transient
            outcome[trace] = "refused"

    async def main() -> None:
        log = DecisionLog(store)
        log.start()
        # SQLite cannot hold 2**70: that request's group fails, its group-mates commit
        await asyncio.gather(
            write(log, "a", 0), write(log, "poison", 2**70), write(log, "b", 0), write(log, "c", 0)
        )
        await log.close()

    asyncio.run(main())
    assert outcome == {"a": "ok", "poison": "refused", "b": "ok", "c": "ok"}
    assert sorted(_traces(store)) == ["a", "b", "c"]
    store.close()


def test_async_log_answers_first_and_keeps_records_while_the_store_is_locked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.db"
    store = open_store(path, timeout_s=0.2)
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    lost: list[int] = []

    async def main() -> None:
        log = DecisionLog(store, mode="async", on_lost=lost.append)
        log.start()
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        for i in range(20):
            await log.write(_records(f"t{i}"))  # returns although nothing can commit
        await asyncio.sleep(0.8)  # a few failed, retried commits
        assert store.count_decisions() == 0
        assert log.pending == 20
        blocker.execute("COMMIT")
        await log.close()  # a graceful stop writes everything queued

    asyncio.run(main())
    assert lost == []
    assert sorted(_traces(store)) == sorted(f"t{i}" for i in range(20))
    blocker.close()
    store.close()


def test_async_log_refuses_new_records_once_its_queue_is_full(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    store = open_store(path, timeout_s=0.2)
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)

    async def main() -> None:
        log = DecisionLog(store, mode="async", max_pending=5)
        log.start()
        blocker.execute("BEGIN EXCLUSIVE")
        for i in range(5):
            await log.write(_records(f"t{i}"))
        with pytest.raises(StoreUnavailable, match="waiting for the store"):
            await log.write(_records("one too many"))
        blocker.execute("COMMIT")
        await log.close()

    asyncio.run(main())
    assert sorted(_traces(store)) == [f"t{i}" for i in range(5)]
    blocker.close()
    store.close()


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path / "d.db") as store, pytest.raises(ValueError, match="sync"):
        DecisionLog(store, mode="later")  # type: ignore[arg-type]


def test_commit_problem_follows_the_latest_commit_and_recovers_by_probe(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    store = open_store(path, timeout_s=0.2)
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)

    async def main() -> None:
        log = DecisionLog(store)
        log.start()
        assert await log.commit_problem() is None  # a probe: nothing committed yet
        await log.write(_records("ok"))
        assert log.failure is None
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="locked"):
            await log.write(_records("refused"))
        assert log.failure is not None and "locked" in log.failure
        assert await log.commit_problem() == log.failure
        blocker.execute("COMMIT")
        # no write needed: after a failure every check probes, and finds the store works
        assert await log.commit_problem() is None
        assert log.failure is None
        # a recent success is taken as it is; once it is old, a probe that fails flips the
        # log back, without traffic either
        blocker.execute("BEGIN EXCLUSIVE")
        assert await log.commit_problem() is None
        await asyncio.sleep(PROBE_INTERVAL_S)
        problem = await log.commit_problem()
        assert problem is not None and "locked" in problem
        blocker.execute("COMMIT")
        await log.write(_records("again"))
        assert log.failure is None and await log.commit_problem() is None
        await log.close()
        assert await log.commit_problem() == "the decision log is not running"

    asyncio.run(main())
    assert _traces(store) == ["ok", "again"]
    blocker.close()
    store.close()


def test_a_refused_value_does_not_make_the_log_unhealthy(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")

    async def main() -> None:
        log = DecisionLog(store)
        log.start()
        with pytest.raises(StoreUnavailable):
            await log.write(_records("poison", row_index=2**70))
        assert log.failure is None and await log.commit_problem() is None
        await log.close()

    asyncio.run(main())
    store.close()


def test_an_async_log_whose_store_is_locked_is_a_commit_problem(tmp_path: Path) -> None:
    """The async log answered every write, but nothing can be committed: not ready, and the
    reason is the store's (the cause), not only the full queue."""
    path = tmp_path / "d.db"
    store = open_store(path, timeout_s=0.2)
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)

    async def main() -> None:
        log = DecisionLog(store, mode="async", max_pending=3)
        log.start()
        blocker.execute("BEGIN EXCLUSIVE")
        for i in range(3):
            await log.write(_records(f"t{i}"))
        await asyncio.sleep(0.3)  # the writer tried and failed
        problem = await log.commit_problem()
        assert problem is not None and "locked" in problem
        blocker.execute("COMMIT")
        await log.close()

    asyncio.run(main())
    assert sorted(_traces(store)) == ["t0", "t1", "t2"]
    blocker.close()
    store.close()


def test_a_deleted_database_keeps_async_records_queued_and_loses_them_at_shutdown(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    store = open_store(folder / "d.db", timeout_s=0.2)
    lost: list[int] = []

    async def main() -> None:
        log = DecisionLog(store, mode="async", max_pending=4, on_lost=lost.append)
        log.start()
        await log.write(_records("before"))
        while log.pending:
            await asyncio.sleep(0.01)
        shutil.rmtree(folder)
        for i in range(4):
            await log.write(_records(f"t{i}"))  # queued: the async log answers first
        await asyncio.sleep(0.1)
        assert log.pending == 4  # nothing was taken as committed
        problem = await log.commit_problem()
        assert problem is not None and "restart" in problem
        with pytest.raises(StoreUnavailable, match="waiting for the store"):
            await log.write(_records("one too many"))
        await log.close()

    asyncio.run(main())
    assert lost == [1, 1, 1, 1]  # said out loud, not silently dropped
    store.close()


def test_concurrent_readiness_checks_share_one_bounded_probe(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    store = open_store(path, timeout_s=0.3)
    blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)

    async def main() -> None:
        log = DecisionLog(store)
        log.start()
        blocker.execute("BEGIN EXCLUSIVE")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        problems = await asyncio.gather(*(log.commit_problem() for _ in range(20)))
        # one probe waited for the lock (the store's timeout), not twenty in a row
        assert loop.time() - t0 < 2 * store.timeout_s + 0.5
        assert all(p is not None and "locked" in p for p in problems)
        blocker.execute("COMMIT")
        await log.close()

    asyncio.run(main())
    blocker.close()
    store.close()
