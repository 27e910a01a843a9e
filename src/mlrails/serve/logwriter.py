"""Group commit of the decision log: many requests' records, one transaction.

A durable commit costs a disk flush (SQLite ``synchronous=FULL``) or a WAL flush and a round
trip (PostgreSQL ``synchronous_commit=on``) whatever its size, so committing each request on
its own caps the service at a few hundred requests per second. :class:`DecisionLog` queues
the records of concurrent requests and one writer commits everything queued in one
transaction, while the requests wait; the next group forms during that commit.

Modes:

* ``sync`` (default): :meth:`DecisionLog.write` returns once the records are committed, so
  no answered request is ever missing from the log (a crash loses only unanswered requests).
  If the commit fails, every waiting request gets :class:`StoreUnavailable` (answered 503);
  one failing group does not fail the others (they are retried one request at a time).
* ``async``: :meth:`DecisionLog.write` only queues the records and returns. Faster, but a
  crash of the process loses what is queued and not yet committed: at most ``max_pending``
  records, in practice those of the last few milliseconds. While the store is down the
  records stay queued and are retried (answers keep being given until the queue is full;
  from then on requests get 503). A graceful shutdown writes everything queued. Records the
  store refuses while it is up (none in practice) are counted in ``lost`` and logged.

A store that fails every commit (locked, unwritable, its SQLite file deleted or replaced)
is down for both modes; :meth:`DecisionLog.commit_problem` says so for readiness. It goes by
the latest evidence: the outcome of the last commit if it is recent, otherwise a write probe
(:meth:`Store.probe_write`), so readiness also comes back when no traffic is sent to prove
that commits work again. A deleted or replaced SQLite file never comes back by itself (see
:mod:`mlrails.store.files`): async records then wait in the queue, are lost at shutdown, and
requests get 503 once the queue is full.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import anyio
import anyio.to_thread

from mlrails.store import DecisionRecord, Store, StoreUnavailable

log = logging.getLogger("mlrails.serve")

LogMode = Literal["sync", "async"]
#: pause before an ``async`` log retries a store that is down
RETRY_DELAY_S = 0.5
#: a commit outcome (or probe) younger than this answers readiness without a new probe, so a
#: flood of readiness requests costs at most one write probe per interval
PROBE_INTERVAL_S = 1.0


@dataclass(eq=False)
class _Group:
    records: Sequence[DecisionRecord]
    future: asyncio.Future[None] | None


class DecisionLog:
    """Queue decision records and commit them in groups (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        mode: LogMode = "sync",
        max_group_rows: int = 4096,
        max_pending: int = 10_000,
        on_commit: Callable[[int, int, float], None] | None = None,
        on_lost: Callable[[int], None] | None = None,
    ) -> None:
        if mode not in ("sync", "async"):
            raise ValueError(f"log mode must be 'sync' or 'async', got {mode!r}")
        self.store = store
        self.mode: LogMode = mode
        self.max_group_rows = max_group_rows
        self.max_pending = max_pending
        self.on_commit = on_commit
        self.on_lost = on_lost
        self.lost = 0
        self._queue: deque[_Group] = deque()
        self._pending = 0
        self._arrived = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: why the latest commit or probe failed (None: it succeeded), and when it happened
        self._failure: str | None = None
        self._evidence_at = -math.inf
        self._probe: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._writer())

    async def close(self) -> None:
        """Commit everything queued, then stop the writer."""
        self._closing = True
        self._arrived.set()
        if self._task is not None:
            await self._task
        if self._probe is not None:
            await self._probe

    @property
    def pending(self) -> int:
        """Records queued and not yet committed."""
        return self._pending

    @property
    def failure(self) -> str | None:
        """Why the latest commit (or probe) of the store failed; None if it succeeded."""
        return self._failure

    async def commit_problem(self) -> str | None:
        """Why a decision cannot be committed now, or None if it can (readiness).

        Not running, a store that failed its latest commit or probe, or an ``async`` queue
        that is full. A success younger than :data:`PROBE_INTERVAL_S` is taken as it is;
        otherwise (older, or a failure) a write probe runs, its outcome setting or clearing
        the failure, so the log is ready again as soon as the store is. At most one probe
        runs at a time (concurrent callers share it); it waits at most the store's timeout.
        """
        if self._closing or self._task is None:
            return "the decision log is not running"
        loop = asyncio.get_running_loop()
        fresh = loop.time() - self._evidence_at < PROBE_INTERVAL_S
        if self._failure is not None or not fresh:
            if self._probe is None or self._probe.done():
                self._probe = loop.create_task(self._run_probe(), name="mlrails-log-probe")
            await asyncio.shield(self._probe)
        if self._failure is None and self.mode == "async" and self._pending >= self.max_pending:
            return f"{self._pending} decision records are waiting for the store (queue full)"
        return self._failure

    async def _run_probe(self) -> None:
        try:
            await anyio.to_thread.run_sync(self.store.probe_write)
            self._observe(None)
        except StoreUnavailable as exc:
            self._observe(str(exc))
        except Exception as exc:  # readiness must answer whatever the probe hits
            log.exception("the decision log's write probe failed unexpectedly")
            self._observe(f"the write probe failed unexpectedly ({type(exc).__name__})")

    def _observe(self, failure: str | None) -> None:
        """Record the outcome of a commit or probe of the store (on the event loop)."""
        if failure is not None and self._failure is None:
            log.error("the decision log cannot commit: %s", failure)
        elif failure is None and self._failure is not None:
            log.warning("the decision log commits again")
        self._failure = failure
        self._evidence_at = asyncio.get_running_loop().time()

    async def write(self, records: Sequence[DecisionRecord]) -> None:
        """Log ``records`` (one request's, committed together). ``sync``: returns once they
        are committed, raises :class:`StoreUnavailable` if they cannot be; ``async``: returns
        once they are queued (waiting while ``max_pending`` records are)."""
        if not records:
            return
        if self._closing or self._task is None:
            raise StoreUnavailable("the decision log is not running")
        if self.mode == "async":
            while self._pending >= self.max_pending:
                self._space.clear()
                try:
                    with anyio.fail_after(self.store.timeout_s):
                        await self._space.wait()
                except TimeoutError:
                    raise StoreUnavailable(
                        f"{self._pending} decision records are waiting for the store"
                    ) from None
            self._enqueue(_Group(records, None))
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Group(records, fut))
        await asyncio.shield(fut)

    def _enqueue(self, group: _Group) -> None:
        self._queue.append(group)
        self._pending += len(group.records)
        self._arrived.set()

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            groups = self._take()
            rows = sum(len(g.records) for g in groups)
            t0 = loop.time()
            failed, down = await anyio.to_thread.run_sync(self._commit, groups)
            self._observe_commit(failed)
            if down and self.mode == "async" and not self._closing:
                # keep the records and retry: nothing is lost while the process lives
                log.error("decision log unavailable, %d records queued: %s", rows, failed[0])
                self._queue.extendleft(reversed(groups))
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            self._pending -= rows
            self._space.set()
            for g, err in zip(groups, failed, strict=True):
                if g.future is None:
                    if err is not None:
                        self.lost += len(g.records)
                        if self.on_lost is not None:
                            self.on_lost(len(g.records))
                        log.error("lost %d decision records: %s", len(g.records), err)
                elif not g.future.done():
                    if err is None:
                        g.future.set_result(None)
                    else:
                        g.future.set_exception(err)
            if self.on_commit is not None:
                self.on_commit(len(groups), rows, loop.time() - t0)

    def _observe_commit(self, failed: Sequence[StoreUnavailable | None]) -> None:
        """A commit that stored anything shows the store works; one where the store itself
        failed (not a value it refused) shows it does not."""
        if any(err is None for err in failed):
            self._observe(None)
        elif failed and failed[0] is not None and failed[0].transient:
            self._observe(str(failed[0]))

    def _take(self) -> list[_Group]:
        groups: list[_Group] = []
        rows = 0
        while self._queue and (
            not groups or rows + len(self._queue[0].records) <= self.max_group_rows
        ):
            g = self._queue.popleft()
            groups.append(g)
            rows += len(g.records)
        return groups

    def _commit(self, groups: list[_Group]) -> tuple[list[StoreUnavailable | None], bool]:
        """In a worker thread: every group in one transaction. If the store failed (closed,
        locked, unreachable), every group fails (second item True: retrying may help); if
        the data did, the groups are written one at a time, so only a group that cannot be
        written fails."""
        try:
            self._write([r for g in groups for r in g.records])
            return [None] * len(groups), False
        except StoreUnavailable as exc:
            down = exc.transient and not self.store.closed
            if len(groups) == 1 or down:
                return [exc] * len(groups), down
        out: list[StoreUnavailable | None] = []
        for g in groups:
            try:
                self._write(g.records)
                out.append(None)
            except StoreUnavailable as exc:
                out.append(exc)
        return out, False

    def _write(self, records: Sequence[DecisionRecord]) -> None:
        try:
            self.store.write_decisions(records)
        except StoreUnavailable:
            raise
        except Exception as exc:  # the writer must outlive any failure
            log.exception("unexpected failure of the decision log")
            raise StoreUnavailable(
                f"the store failed unexpectedly ({type(exc).__name__})", transient=False
            ) from None
