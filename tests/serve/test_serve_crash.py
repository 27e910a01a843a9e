"""Crash test: ``kill -9`` of ``mlrails serve`` under load loses no answered decision.

A real ``mlrails serve`` process takes concurrent requests from several client threads (single
rows of every status, small mixed batches, invalid rows, bodies that are not JSON), each with
its own W3C ``traceparent`` so its trace id is known even when no answer comes back. In the
middle of the load the process gets SIGKILL: no shutdown code runs, as in a crash, an OOM kill
or a power cut of the process. A new server is then started on the same store, and the log
is audited:

* every request that got an answer has all its records in the log, one per row, with the
  status codes the client was given (a server that answered before committing loses the
  records of the answers it gave just before the kill: see the control test below);
* every request that got no answer left all of its records or none (one transaction);
* nothing is logged that no client sent;
* the log is readable (``mlrails log export`` works) and the restarted server answers.

The control test runs the same crash against a server whose commits are deferred (it answers
first and commits 0.5 s later) and checks that the audit catches it, so the crash test can
fail. The same crash runs on PostgreSQL when a server is available (see pgkit.py).
"""

from __future__ import annotations

import csv
import json
import random
import secrets
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from clikit import CliServer, cli, create_key
from servekit import Fitted

from mlrails.store import DecisionRecord, open_store

pytestmark = pytest.mark.slow

#: client threads sending requests back to back
THREADS = 6
#: answers received before the kill (the load goes on while it happens)
KILL_AFTER = 120
#: bound of the load phase in seconds (the kill normally comes long before)
LOAD_LIMIT_S = 90
#: statuses of the valid single rows sent (400: a row that breaks the contract)
SINGLE_STATUSES = (200, 203, 400, 403, 422)
NOT_JSON = b'{"instance": {"mean radius": 14.1,'

#: a server that answers before its records are committed: ``Store.write_decisions`` returns
#: at once and commits 0.5 s later in a thread (run as ``python -c`` with the CLI's argv)
ANSWERS_BEFORE_COMMIT = """
import sys, threading, time
from mlrails.store.database import Store

commit = Store.write_decisions

def answer_first(self, records):
    records = list(records)

    def later():
        time.sleep(0.5)
        commit(self, records)

    threading.Thread(target=later, daemon=True).start()

Store.write_decisions = answer_first
from mlrails.cli.main import app

sys.argv[0] = "mlrails"
app()
"""


@dataclass
class Sent:
    """One request as the client saw it."""

    trace_id: str
    #: records the request leaves in the log: one per row, one for a body that is not JSON
    n_records: int
    #: what was sent: a status per row (the guard's verdict on it), or [400] for "not JSON"
    expected: list[int]
    #: the answer's status code; None when no answer came (the server was killed)
    status: int | None = None
    #: per record, the status the answer gave (a batch's ``verdicts``, else the code)
    answered: list[int] = field(default_factory=list)
    #: no answer, and the connection was cut while the request was at the server
    cut: bool = False


@dataclass
class Crash:
    sent: list[Sent]
    errors: list[str]


def _traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


def _pick(rng: random.Random, rows: dict[int, dict[str, Any]]) -> tuple[bytes, list[int]]:
    """A request body and the status of each of its rows (``[400]`` for a non-JSON body)."""
    kind = rng.random()
    if kind < 0.45:
        status = rng.choice(SINGLE_STATUSES)
        return json.dumps({"instance": rows[status]}).encode(), [status]
    if kind < 0.9:
        statuses = [rng.choice(SINGLE_STATUSES) for _ in range(rng.randint(2, 5))]
        return json.dumps({"instances": [rows[s] for s in statuses]}).encode(), statuses
    return NOT_JSON, [400]


def _row_statuses(r: httpx.Response, trace_id: str) -> list[int]:
    """Per record the request leaves, the status its answer gave."""
    assert r.headers.get("x-trace-id") == trace_id, "the answer lacks its trace id"
    if r.status_code in (200, 207) and "verdicts" in r.json():
        return [int(v["status"]) for v in r.json()["verdicts"]]
    return [r.status_code]


def _load_and_kill(server: CliServer, token: str, rows: dict[int, dict[str, Any]]) -> Crash:
    """Load ``server`` from THREADS threads; SIGKILL it after KILL_AFTER answers."""
    sent: list[Sent] = []
    errors: list[str] = []
    lock = threading.Lock()
    answered = threading.Semaphore(0)
    killing = threading.Event()
    deadline = time.monotonic() + LOAD_LIMIT_S

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            while not killing.is_set() and time.monotonic() < deadline:
                body, statuses = _pick(rng, rows)
                s = Sent(secrets.token_hex(16), len(statuses), statuses)
                with lock:
                    sent.append(s)
                try:
                    r = client.post(
                        "/v1/predict",
                        content=body,
                        headers={
                            "traceparent": _traceparent(s.trace_id),
                            "content-type": "application/json",
                        },
                    )
                except httpx.TransportError as exc:
                    if not killing.is_set():
                        with lock:
                            errors.append(f"before the kill: {exc!r}")
                    s.cut = not isinstance(exc, httpx.ConnectError)
                    return
                try:
                    s.answered = _row_statuses(r, s.trace_id)
                except (AssertionError, ValueError, KeyError, TypeError) as exc:
                    with lock:
                        errors.append(f"bad answer {r.status_code} ({exc!r}): {r.text[:300]}")
                    return
                s.status = r.status_code
                answered.release()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for _ in range(KILL_AFTER):
            left = deadline - time.monotonic()
            if left <= 0 or not answered.acquire(timeout=left):
                break
    finally:
        killing.set()
        server.kill()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads), "a client thread hangs"
    return Crash(sent, errors)


def audit(sent: Sequence[Sent], logged: Sequence[DecisionRecord], extra: set[str]) -> list[str]:
    """What is wrong with the log after the crash (empty: nothing)."""
    by_trace: dict[str, list[DecisionRecord]] = defaultdict(list)
    for d in logged:
        by_trace[d.trace_id].append(d)
    problems: list[str] = []
    for s in sent:
        mine = sorted(by_trace.get(s.trace_id, []), key=lambda d: d.row_index or 0)
        statuses = [d.status for d in mine]
        if s.status is None:
            if len(mine) not in (0, s.n_records):
                problems.append(
                    f"{s.trace_id}: unanswered; {len(mine)} of its {s.n_records} records "
                    "logged (a torn transaction)"
                )
        elif statuses != s.answered:
            problems.append(
                f"{s.trace_id}: answered {s.status} with row statuses {s.answered}, "
                f"logged {statuses}"
            )
    stray = set(by_trace) - {s.trace_id for s in sent} - extra
    if stray:
        problems.append(f"{len(stray)} logged trace ids were never sent: {sorted(stray)[:3]}")
    return problems


def _crash_and_restart(
    fitted: Fitted, store: str, tmp_path: Path, command: Sequence[str] | None = None
) -> tuple[Crash, str]:
    token = create_key(store)
    server = CliServer(
        fitted.artifact, store, tmp_path / "crashed.log", "--rate-limit", "0", "--ui", "off",
        command=command,
    )  # fmt: skip
    try:
        server.wait_ready()
        crash = _load_and_kill(server, token, fitted.status_rows)
    finally:
        server.close()
    return crash, token


def _check_load(crash: Crash) -> None:
    """The load itself went as planned: answers as expected, and some were cut off."""
    assert not crash.errors, crash.errors[:5]
    answered = [s for s in crash.sent if s.status is not None]
    in_flight = [s for s in crash.sent if s.cut]
    assert len(answered) >= KILL_AFTER, f"only {len(answered)} answers before the deadline"
    assert in_flight, "no request was in flight when the server was killed"
    for s in answered:
        assert s.status != 503, "the store is healthy: no 503 expected"
        if s.n_records > 1:
            assert s.status == (200 if set(s.expected) == {200} else 207), s
        assert s.answered == s.expected, s
    kinds = {(s.n_records > 1, s.expected == [400]) for s in answered}
    assert len(kinds) == 3, "batches, single rows and refusals were all answered"


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "decisions.db")
    else:
        yield str(request.getfixturevalue("pg_url"))


def test_sigkill_under_load_loses_no_answered_decision(
    fitted: Fitted, store_target: str, tmp_path: Path
) -> None:
    crash, token = _crash_and_restart(fitted, store_target, tmp_path)
    _check_load(crash)

    # the restarted server opens the crashed store (SQLite recovers its WAL) and answers
    restarted = CliServer(fitted.artifact, store_target, tmp_path / "restarted.log", "--ui", "off")
    try:
        restarted.wait_ready()
        r = httpx.post(
            restarted.url + "/v1/predict",
            json={"instance": fitted.status_rows[200]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        probe = r.headers["x-trace-id"]
    finally:
        code = restarted.terminate()
    assert code in (0, -signal.SIGTERM), restarted.output()

    with open_store(store_target, create=False) as store:
        logged = store.decisions()
    problems = audit(crash.sent, logged, {probe})
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:10])
    assert [d.status for d in logged if d.trace_id == probe] == [200]

    out = tmp_path / "log.csv"
    export = cli("log", "export", "--store", store_target, "--format", "csv", "--out", out)
    assert export.returncode == 0, export.stderr
    with out.open(encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == len(logged)
    assert {t["trace_id"] for t in exported} == {d.trace_id for d in logged}


def test_crash_test_catches_a_server_that_answers_before_committing(
    fitted: Fitted, tmp_path: Path
) -> None:
    """The control: the same crash against a server that answers first and commits 0.5 s
    later loses the records of its last answers, and the audit says so."""
    db = str(tmp_path / "decisions.db")
    crash, _ = _crash_and_restart(
        fitted, db, tmp_path, command=[sys.executable, "-c", ANSWERS_BEFORE_COMMIT]
    )
    _check_load(crash)
    with open_store(db, create=False) as store:
        logged = store.decisions()
    problems = audit(crash.sent, logged, set())
    lost = [p for p in problems if "answered" in p and "logged []" in p]
    assert lost, "the audit did not notice answered requests missing from the log"
