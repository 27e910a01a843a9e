"""Adaptive micro-batching: concurrent requests share one vectorised guard + model call.

A guard call has a fixed cost (validation set-up, one model call, detector set-up) that
dwarfs the per-row cost for small batches, so a server that calls the model once per request
spends most of its time on overhead. :class:`MicroBatcher` queues the rows of concurrent
requests and runs them through :meth:`Rails.check` together, then hands every request its
own verdicts. Verdicts do not depend on what else is in the batch (every safeguard scores
rows independently), so batching changes throughput, never answers.

Adaptive: at most ``concurrency`` batches run at once; while they run, new requests queue
and form the next batch, so batches grow with the load by themselves. A batch may also wait
up to ``max_wait_s`` for more rows, but only while other requests are on their way (read,
parsed, not yet queued): a lone request is never delayed. A batch holds at most
``max_rows`` rows (a single larger request runs alone).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from mlrails.errors import ModelUnavailable
from mlrails.guard.verdict import Verdict
from mlrails.serve.payload import PredictPayload

log = logging.getLogger("mlrails.serve")

#: runs the guard on rows (the combined payload) with an ``explain`` flag, in a worker thread
CheckFn = Callable[[PredictPayload, "bool | None"], list[Verdict]]


@dataclass
class BatchStats:
    """Counters for metrics and tests: how many batches ran and how many rows they held."""

    batches: int = 0
    rows: int = 0
    requests: int = 0
    largest: int = 0


@dataclass(eq=False)
class _Job:
    payload: PredictPayload
    explain: bool | None
    future: asyncio.Future[list[Verdict]]

    @property
    def alone(self) -> bool:
        """An empty request gets one batch-level verdict: it cannot share a batch."""
        return not self.payload.rows


class MicroBatcher:
    """Queue requests' rows and run them through ``check`` in shared batches.

    Create it inside the running event loop (the app's lifespan), :meth:`start` it, then
    ``await submit(payload, explain)`` from request handlers; :meth:`close` finishes every
    queued and running batch.
    """

    def __init__(
        self,
        check: CheckFn,
        *,
        max_rows: int = 64,
        max_wait_s: float = 0.002,
        concurrency: int = 1,
        timeout_s: float = 10.0,
        on_batch: Callable[[int, int, float], None] | None = None,
    ) -> None:
        if max_rows < 1 or concurrency < 1 or max_wait_s < 0:
            raise ValueError("max_rows and concurrency must be ≥ 1, max_wait_s ≥ 0")
        self.check = check
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.on_batch = on_batch
        self.stats = BatchStats()
        #: requests that have started but not yet called :meth:`submit` (see :meth:`arriving`)
        self.incoming = 0
        self._queue: list[_Job] = []
        self._queued_rows = 0
        self._arrived = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._dispatch())

    async def close(self) -> None:
        """Run what is queued, wait for running batches, stop the dispatcher."""
        self._closing = True
        self._arrived.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    # -- requests ---------------------------------------------------------------------------
    def arriving(self) -> _Arrival:
        """Context manager a request holds from its start until it submits (or gives up),
        so the dispatcher knows more rows are coming and a short wait is worth it."""
        return _Arrival(self)

    async def submit(self, payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        """The verdicts of ``payload``'s rows, computed in a batch with other requests'."""
        if self._closing or self._loop_task is None:
            raise RuntimeError("the micro-batcher is not running")
        fut: asyncio.Future[list[Verdict]] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_retrieve)
        self._queue.append(_Job(payload, explain, fut))
        self._queued_rows += len(payload.rows)
        self._arrived.set()
        # a caller that gives up (its own time limit) must not cancel a shared batch
        return await asyncio.shield(fut)

    # -- the dispatcher ---------------------------------------------------------------------
    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            await self._slots.acquire()
            if self.max_wait_s > 0 and not self._closing:
                deadline = loop.time() + self.max_wait_s
                while (
                    self._queued_rows < self.max_rows
                    and self.incoming > 0
                    and (left := deadline - loop.time()) > 0
                ):
                    self._arrived.clear()
                    try:
                        await asyncio.wait_for(self._arrived.wait(), left)
                    except TimeoutError:
                        break
            jobs = self._take()
            task = loop.create_task(self._run(jobs))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _take(self) -> list[_Job]:
        """The oldest job plus every queued job that combines with it, up to ``max_rows``."""
        first = self._queue[0]
        jobs, rest, rows = [], [], 0
        for job in self._queue:
            n = len(job.payload.rows)
            joins = (
                not first.alone
                and not job.alone
                and job.explain == first.explain
                and rows + n <= self.max_rows
            )
            if job is first or joins:
                jobs.append(job)
                rows += n
            else:
                rest.append(job)
        self._queue = rest
        self._queued_rows -= rows
        return jobs

    async def _run(self, jobs: list[_Job]) -> None:
        try:
            t0 = time.perf_counter()
            try:
                with anyio.fail_after(self.timeout_s):
                    results = await anyio.to_thread.run_sync(
                        self._check_jobs, jobs, abandon_on_cancel=True
                    )
            except BaseException as exc:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(
                            TimeoutError() if isinstance(exc, TimeoutError) else exc
                        )
                if not isinstance(exc, Exception):
                    raise
                return
            for job, result in zip(jobs, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(result, Exception):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)
            rows = sum(len(j.payload.rows) for j in jobs)
            self.stats.batches += 1
            self.stats.rows += rows
            self.stats.requests += len(jobs)
            self.stats.largest = max(self.stats.largest, rows)
            if self.on_batch is not None:
                self.on_batch(len(jobs), rows, time.perf_counter() - t0)
        finally:
            self._slots.release()

    def _check_jobs(self, jobs: list[_Job]) -> list[list[Verdict] | Exception]:
        """In a worker thread: one guard call over every job's rows, split back per job.

        Falls back to one call per job when the guard answers the combined rows with
        anything but one verdict per row (a batch-level verdict, e.g. ragged images) or
        fails unexpectedly, so one request's failure never becomes its batch-mates'. An
        unreachable model (:class:`ModelUnavailable`) fails every job at once."""
        explain = jobs[0].explain
        if len(jobs) > 1:
            rows = [r for j in jobs for r in j.payload.rows]
            try:
                verdicts = self.check(PredictPayload(rows, single=False), explain)
            except ModelUnavailable:
                raise
            except Exception:
                verdicts = []
            if len(verdicts) == len(rows):
                out: list[list[Verdict] | Exception] = []
                start = 0
                for j in jobs:
                    n = len(j.payload.rows)
                    mine = verdicts[start : start + n]
                    for v in mine:  # row numbers are the request's, not the batch's
                        if v.row is not None:
                            v.row -= start
                    out.append(mine)
                    start += n
                return out
        results: list[list[Verdict] | Exception] = []
        for j in jobs:
            try:
                results.append(self.check(j.payload, explain))
            except Exception as exc:
                results.append(exc)
        return results


def _retrieve(fut: asyncio.Future[list[Verdict]]) -> None:
    """Mark a job's error as seen: its caller may have stopped waiting (time limit)."""
    if not fut.cancelled():
        fut.exception()


class _Arrival:
    def __init__(self, batcher: MicroBatcher) -> None:
        self.batcher = batcher
        self.active = False

    def __enter__(self) -> _Arrival:
        self.batcher.incoming += 1
        self.active = True
        return self

    def done(self) -> None:
        """The request has submitted (or will not): stop counting it as incoming."""
        if self.active:
            self.batcher.incoming -= 1
            self.active = False

    def __exit__(self, *exc: object) -> None:
        self.done()
