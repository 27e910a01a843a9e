"""A JSON batch of records is judged row by row, through a real uvicorn server on loopback.

One row with a stray, misspelt or missing key gets its own 400 listing all of its faults; the
other rows keep their own verdicts (so the batch is a 207), every row is in the decision log,
and the in-process guard answers the same records identically.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from servekit import Fitted, Served, ServerFactory

import mlrails
from mlrails.contract.validate import validate_fast
from mlrails.guard.verdict import Verdict
from mlrails.serve.batching import MicroBatcher
from mlrails.serve.payload import PredictPayload, guard_input, parse_payload

MIXED = "https://mlrails.dev/problems/mixed-batch"


@pytest.fixture(scope="module")
def fresh(make_server: ServerFactory) -> Served:
    """A server whose decision log only these tests write to."""
    return make_server()


def _faults(verdict: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in verdict.get("errors") or []}


def _three_rows(fitted: Fitted) -> list[dict[str, Any]]:
    ok = fitted.status_rows[200]
    extra = {**ok, "patient id": 17}
    short = {k: v for k, v in ok.items() if k != "mean radius"}
    short["mean texture"] = "abc"
    return [ok, extra, short]


def test_one_bad_row_does_not_poison_the_batch(fresh: Served, fitted: Fitted) -> None:
    rows = _three_rows(fitted)
    r = fresh.post({"instances": rows})
    assert r.status_code == 207, r.text
    doc = r.json()
    assert doc["type"] == MIXED and doc["status_counts"] == {"200": 1, "400": 2}
    v = doc["verdicts"]
    assert [x["status"] for x in v] == [200, 400, 400]
    assert [x["row"] for x in v] == [0, 1, 2]
    assert v[0]["prediction"] in (0, 1) and not v[0].get("errors")
    assert _faults(v[1]) == {("patient id", "unexpected_column")}
    assert _faults(v[2]) == {("mean radius", "missing_column"), ("mean texture", "wrong_type")}
    # the decision log holds every row, each with its own verdict
    logged = sorted(
        (d for d in fresh.store.decisions() if d.trace_id == r.headers["x-trace-id"]),
        key=lambda d: d.row_index,
    )
    assert [(d.row_index, d.status) for d in logged] == [(0, 200), (1, 400), (2, 400)]
    assert [d.input for d in logged] == rows
    assert [_faults(d.output) for d in logged] == [_faults(x) for x in v]
    # the library answers the same records the same way
    local = fitted.rails.check(rows)
    assert [x.status for x in local] == [200, 400, 400]
    assert [{(e.field, e.code) for e in x.errors} for x in local] == [_faults(x) for x in v]
    assert local[0].prediction == v[0]["prediction"]


def test_a_misspelt_key_is_that_rows_fault(served: Served, fitted: Fitted) -> None:
    ok = fitted.status_rows[200]
    typo = {("mean radiuss" if k == "mean radius" else k): x for k, x in ok.items()}
    r = served.post({"instances": [typo, ok]})
    assert r.status_code == 207, r.text
    bad, good = r.json()["verdicts"]
    assert (bad["status"], good["status"]) == (400, 200)
    assert _faults(bad) == {
        ("mean radius", "missing_column"),
        ("mean radiuss", "unexpected_column"),
    }
    hint = next(e for e in bad["errors"] if e["code"] == "unexpected_column")["expected"]
    assert "did you mean 'mean radius'?" in hint


def test_extra_keys_pass_when_the_contract_allows_them(fitted: Fitted) -> None:
    rails = mlrails.load(fitted.artifact)
    rails.contract.allow_extra_columns = True
    ok = fitted.status_rows[200]
    short = {k: v for k, v in ok.items() if k != "mean radius"}
    verdicts = rails.check([ok, {**ok, "patient id": 17}, {**short, "note": "x"}])
    assert [v.status for v in verdicts] == [200, 200, 400]
    assert [(e.field, e.code) for e in verdicts[2].errors] == [("mean radius", "missing_column")]


def test_exact_numeric_records_keep_the_fast_path(fitted: Fitted) -> None:
    contract = fitted.rails.contract
    ok = fitted.status_rows[200]
    exact = guard_input(parse_payload({"instances": [ok, ok]}, contract), contract)
    assert validate_fast(contract, exact) is not None
    mixed = guard_input(parse_payload({"instances": [ok, {**ok, "x": 1}]}, contract), contract)
    assert isinstance(mixed, list)  # the rows as sent: judged one by one


def test_a_stray_key_does_not_reach_micro_batch_mates(fitted: Fitted) -> None:
    """Concurrent requests share one guard call: a request with a stray key must not turn
    its batch-mates' rows into 400s."""
    rails = fitted.rails

    def check(payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        return rails.check(guard_input(payload, rails.contract), explain=explain)

    ok = fitted.status_rows[200]
    payloads = [
        PredictPayload([ok], single=True),
        PredictPayload([{**ok, "patient id": 17}], single=True),
        PredictPayload([ok, fitted.status_rows[422]], single=False),
    ]
    batcher = MicroBatcher(check, max_rows=16, max_wait_s=0.0, concurrency=1)

    async def main() -> list[list[Verdict]]:
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit(p, None) for p in payloads))
        finally:
            await batcher.close()

    got = asyncio.run(main())
    assert batcher.stats.batches < len(payloads)  # they really shared a guard call
    assert [[v.status for v in vs] for vs in got] == [[200], [400], [200, 422]]


def test_a_large_batch_answer_carries_the_batch_shift_finding(
    fresh: Served, fitted: Fitted
) -> None:
    rows = [{str(k): float(v) for k, v in r.items()} for _, r in fitted.X.head(150).iterrows()]
    shifted = [{**r, "mean area": r["mean area"] * 0.5} for r in rows]
    for batch, expect in ((rows, False), (shifted, True)):
        r = fresh.post({"instances": batch})
        assert r.status_code in (200, 207), r.text
        doc = r.json()
        finding = doc["batch_shift"]
        assert finding["n_rows"] <= 150 and isinstance(finding["reason"], str)
        assert finding["drifted"] is expect
        # the same finding is in each answered verdict's safeguards
        v = next(x for x in doc["verdicts"] if x.get("prediction") is not None)
        sg = next(s for s in v["safeguards"] if s["name"] == "batch_shift")
        assert sg["details"]["drifted"] is expect
    small = fresh.post({"instances": rows[:10]}).json()
    assert "batch_shift" not in small
