"""Adaptive micro-batching: shared guard calls give exactly the answers of separate ones."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import time
from typing import Any

import pandas as pd
import pytest
from servekit import Fitted, ServerFactory

import mlrails
from mlrails.errors import ModelUnavailable
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.serve.batching import MicroBatcher
from mlrails.serve.payload import PredictPayload, guard_input


def _same(a: Any, b: Any, where: str = "verdict") -> None:
    """Equal verdict documents, timings aside; floats to 1e-6 relative (a distance computed
    in a larger matrix product may differ in its last digits)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            if k != "latency_ms":
                _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-6, abs=1e-9, nan_ok=True), where
    else:
        assert a == b, where


def _mixed_payloads(fitted: Fitted) -> list[PredictPayload]:
    """Requests of 1–5 rows: rows of every status, out-of-range and invalid rows mixed."""
    X = fitted.X
    records = X.iloc[:30].to_dict(orient="records")
    far = (X.iloc[30:33] * 20).to_dict(orient="records")
    far += [fitted.status_rows[s] for s in (203, 403, 422)]
    bad = [dict(records[0], **{X.columns[0]: "not a number"}), {X.columns[1]: 1.0}]
    rows = records[:10] + far[:3] + bad[:1] + records[10:20] + far[3:] + bad[1:] + records[20:]
    sizes = [1, 3, 1, 5, 2, 1, 4, 1, 1, 2, 5, 3, 1, 2, 4]
    out, i = [], 0
    for n in sizes:
        out.append(PredictPayload(rows[i : i + n], single=n == 1))
        i += n
    return out


def _checker(rails: Rails) -> Any:
    def check(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        return rails.check(guard_input(payload, rails.contract), explain=explain)

    return check


def _run_batched(
    batcher: MicroBatcher, payloads: list[PredictPayload], explain: list[bool | None] | None = None
) -> list[list[Verdict] | BaseException]:
    flags = explain or [None] * len(payloads)

    async def main() -> list[list[Verdict] | BaseException]:
        batcher.start()
        try:
            return await asyncio.gather(
                *(batcher.submit(p, e) for p, e in zip(payloads, flags, strict=True)),
                return_exceptions=True,
            )
        finally:
            await batcher.close()

    return asyncio.run(main())


def test_batched_verdicts_equal_separate_ones(fitted: Fitted) -> None:
    rails = fitted.rails
    payloads = _mixed_payloads(fitted)
    check = _checker(rails)
    expected = [check(p, None) for p in payloads]
    batcher = MicroBatcher(check, max_rows=16, max_wait_s=0.0, concurrency=1)
    got = _run_batched(batcher, payloads)
    assert batcher.stats.requests == len(payloads)
    # every request was queued before the first batch ran: batches of up to 16 rows
    assert batcher.stats.batches < len(payloads)
    assert batcher.stats.largest <= 16
    statuses = set()
    for want, have in zip(expected, got, strict=True):
        assert isinstance(have, list)
        assert len(have) == len(want)
        for a, b in zip(want, have, strict=True):
            statuses.add(a.status)
            _same(a.to_dict(), b.to_dict())
    assert {200, 203, 400, 403, 422} <= statuses  # the mix really held every kind of row


def test_oversized_request_runs_alone_and_empty_requests_are_never_merged(
    fitted: Fitted,
) -> None:
    records = fitted.X.iloc[:12].to_dict(orient="records")
    seen: list[int] = []
    check = _checker(fitted.rails)

    def spy(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        seen.append(len(payload.rows))
        return check(payload, explain)

    payloads = [
        PredictPayload(records[:10], single=False),  # larger than max_rows: alone
        PredictPayload([], single=False),  # a batch-level verdict: alone
        PredictPayload(records[10:11], single=True),
        PredictPayload(records[11:12], single=True),
    ]
    got = _run_batched(MicroBatcher(spy, max_rows=4, max_wait_s=0.0), payloads)
    assert seen == [10, 0, 2]
    assert [len(v) for v in got if isinstance(v, list)] == [10, 1, 1, 1]
    empty = got[1]
    assert isinstance(empty, list) and empty[0].status == 400


def test_explain_flags_are_not_mixed(fitted: Fitted) -> None:
    records = fitted.X.iloc[:4].to_dict(orient="records")
    calls: list[tuple[int, bool | None]] = []
    check = _checker(fitted.rails)

    def spy(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        calls.append((len(payload.rows), explain))
        return check(payload, explain)

    payloads = [PredictPayload([r], single=True) for r in records]
    got = _run_batched(MicroBatcher(spy), payloads, explain=[True, None, True, None])
    assert sorted(calls, key=str) == sorted([(2, True), (2, None)], key=str)
    explained = [v[0].explanation is not None for v in got if isinstance(v, list)]
    assert explained == [True, False, True, False]


def test_lone_request_does_not_wait_but_arriving_ones_are_awaited(fitted: Fitted) -> None:
    check = _checker(fitted.rails)
    record = fitted.X.iloc[0].to_dict()

    async def lone() -> float:
        b = MicroBatcher(check, max_wait_s=5.0)
        b.start()
        t0 = time.perf_counter()
        await b.submit(PredictPayload([record], single=True), None)
        dt = time.perf_counter() - t0
        await b.close()
        return dt

    # nothing else is arriving: the 5 s budget is not spent
    assert asyncio.run(lone()) < 2.5

    async def arriving() -> MicroBatcher:
        b = MicroBatcher(check, max_wait_s=5.0, max_rows=2)
        b.start()
        with b.arriving() as second:
            first = asyncio.ensure_future(b.submit(PredictPayload([record], single=True), None))
            await asyncio.sleep(0.2)  # the dispatcher is now waiting for the second request
            assert not first.done()
            second.done()
            await b.submit(PredictPayload([record], single=True), None)
        await first
        await b.close()
        return b

    b = asyncio.run(arriving())
    assert (b.stats.batches, b.stats.largest) == (1, 2)


def test_failures_reach_every_caller_and_spare_batch_mates(fitted: Fitted) -> None:
    check = _checker(fitted.rails)
    records = fitted.X.iloc[:3].to_dict(orient="records")

    def picky(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        if any(r.get("poison") for r in payload.rows):
            raise RuntimeError("this row breaks the guard")
        return check(payload, explain)

    payloads = [
        PredictPayload([records[0]], single=True),
        PredictPayload([{**records[1], "poison": True}], single=True),
        PredictPayload([records[2]], single=True),
    ]
    got = _run_batched(MicroBatcher(picky), payloads)
    assert isinstance(got[0], list) and isinstance(got[2], list)
    assert isinstance(got[1], RuntimeError)

    def unreachable(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        raise ModelUnavailable("upstream down")

    got = _run_batched(MicroBatcher(unreachable), payloads)
    assert all(isinstance(g, ModelUnavailable) for g in got)

    def slow(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        time.sleep(1.0)
        return check(payload, explain)

    got = _run_batched(MicroBatcher(slow, timeout_s=0.2), payloads)
    assert all(isinstance(g, TimeoutError) for g in got)


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        MicroBatcher(lambda p, e: [], max_rows=0)


# -- over HTTP ---------------------------------------------------------------------------
class _SlowForest:
    """The fitted forest behind a fixed delay per call, so concurrent requests queue."""

    def __init__(self, model: Any, delay_s: float) -> None:
        self.model = model
        self.delay_s = delay_s
        self.classes_ = model.classes_
        self.calls: list[int] = []

    def predict_proba(self, X: Any) -> Any:
        self.calls.append(len(X))
        time.sleep(self.delay_s)
        return self.model.predict_proba(X)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_concurrent_requests_share_guard_calls_over_http(
    fitted: Fitted, make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = fitted.rails.adapter.estimator  # type: ignore[attr-defined]
    slow = _SlowForest(bundled, 0.3)
    rails = mlrails.load(fitted.artifact, model=slow)
    monkeypatch.setattr(fitted, "rails", rails)
    served = make_server(max_concurrent_checks=1, batch_max_rows=64)
    rows = [fitted.status_rows[s] for s in (200, 203, 422, 403)] * 3
    slow.calls.clear()
    with cf.ThreadPoolExecutor(len(rows)) as pool:
        answers = list(pool.map(lambda r: served.post({"instance": r}), rows))
    want = [v.status for v in rails.check(pd.DataFrame(rows))]
    assert [a.status_code for a in answers] == want
    # 12 requests, one guard call at a time: far fewer than 12 batches
    batches = _metric(served.client.get("/metrics").text, "mlrails_batch_requests_count")
    assert batches <= 6
    assert _metric(served.client.get("/metrics").text, "mlrails_batch_requests_sum") == len(rows)
    logged = {r.trace_id: r.status for r in served.store.decisions()}
    assert {a.headers["x-trace-id"]: a.status_code for a in answers}.items() <= logged.items()
