"""The service's drift monitoring on a real uvicorn server and a real SQLite log: the check
equals the library's on the same records, gauges on /metrics, a real webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
from servekit import Fitted, Served, ServerFactory

import mlrails
from mlrails.drift.monitor import check_traffic
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.store import open_store


def _rows(X: pd.DataFrame) -> list[dict[str, float]]:
    return [{str(k): float(v) for k, v in r.items()} for _, r in X.iterrows()]


def _shifted(fitted: Fitted, n: int = 80) -> list[dict[str, float]]:
    X = fitted.X.head(n).copy()
    X["mean radius"] = X["mean radius"] * 1.25
    return _rows(X)


class _Receiver:
    """A webhook receiver on loopback that keeps every JSON body POSTed to it."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def _wait(predicate: Any, timeout_s: float = 20.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_drift_check_equals_the_library_on_the_logged_records(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = make_server(drift_every_s=None)
    before = s.client.get("/v1/drift").json()
    assert before["state"] == "pending" and before["check"] is None
    assert s.post({"instances": _rows(fitted.X.head(120))}).status_code in (200, 207, 422)
    doc = s.client.post("/v1/drift").json()
    assert doc["state"] in ("ok", "alarm")
    check = doc["check"]
    assert check["n_rows"] == 120
    since = datetime.fromisoformat(check["since"])
    until = datetime.fromisoformat(check["until"])
    records = [r for r in s.store.decisions(since=since) if r.time < until]
    direct = check_traffic(
        fitted.rails.reference,  # type: ignore[arg-type]
        records,
        fitted.rails.contract,
        task="classification",
        since=since,
        until=until,
    )
    assert direct.inputs is not None and direct.outputs is not None
    got = {f["field"]: f for f in check["inputs"]["fields"]}
    assert set(got) == set(fitted.X.columns)
    for f in direct.inputs.fields:
        assert got[f.field]["statistic"] == f.statistic
        assert got[f.field]["p_adjusted"] == f.p_adjusted
    outputs = {f["field"]: f for f in check["outputs"]["fields"]}
    assert outputs["prediction"]["p_value"] == direct.outputs["prediction"].p_value
    assert check["n_answered"] == direct.n_answered > 0
    assert s.client.get("/v1/drift").json() == doc  # kept for GET


def test_shifted_traffic_alarms_and_sets_the_gauges(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = make_server(drift_every_s=None)
    s.post({"instances": _shifted(fitted)})
    doc = s.client.post("/v1/drift").json()
    assert doc["state"] == "alarm"
    assert "mean radius" in doc["check"]["alarming"]
    fields = {f["field"]: f for f in doc["check"]["inputs"]["fields"]}
    assert not fields["mean texture"]["alarm"]
    metrics = s.client.get("/metrics").text
    assert 'mlrails_drift_alarm{field="mean radius",side="input"} 1.0' in metrics
    assert 'mlrails_drift_alarm{field="mean texture",side="input"} 0.0' in metrics
    stat = fields["mean radius"]["statistic"]
    line = next(
        ln
        for ln in metrics.splitlines()
        if ln.startswith('mlrails_drift_statistic{field="mean radius",side="input"}')
    )
    assert float(line.split()[-1]) == pytest.approx(stat, rel=1e-12)
    assert 'mlrails_drift_checks_total{result="alarm"} 1.0' in metrics
    assert "mlrails_drift_window_rows 80.0" in metrics


def test_periodic_job_posts_the_findings_once_per_change(
    make_server: ServerFactory, fitted: Fitted, receiver: _Receiver
) -> None:
    s = make_server(drift_every_s=0.2, drift_webhook=receiver.url)
    s.post({"instances": _shifted(fitted)})
    _wait(lambda: len(receiver.bodies) >= 1)
    body = receiver.bodies[0]
    assert body["event"] == "drift.alarm"
    assert body["artifact_hash"] == fitted.rails.artifact_hash
    assert "mean radius" in body["alarming"]
    assert {f["field"] for f in body["findings"]} == set(body["alarming"])
    finding = next(f for f in body["findings"] if f["field"] == "mean radius")
    assert finding["test"] == "ks" and finding["p_adjusted"] < 0.05 and finding["hint"]
    assert finding["statistic"] == pytest.approx(
        next(
            f["statistic"] for f in body["check"]["inputs"]["fields"] if f["field"] == "mean radius"
        )
    )
    # the same alarm on later checks does not page again
    _wait(lambda: _checks(s) >= 4)
    assert len(receiver.bodies) == 1
    status = s.client.get("/v1/drift").json()
    assert status["state"] == "alarm" and status["webhook"]["status"] == 200


def _checks(s: Served) -> float:
    for ln in s.client.get("/metrics").text.splitlines():
        if ln.startswith('mlrails_drift_checks_total{result="alarm"}'):
            return float(ln.split()[-1])
    return 0.0


def test_a_failing_webhook_is_counted_and_the_service_keeps_answering(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    dead = _Receiver()
    url = dead.url
    dead.close()  # nothing listens there any more
    s = make_server(drift_every_s=None, drift_webhook=url)
    s.post({"instances": _shifted(fitted, 40)})
    doc = s.client.post("/v1/drift").json()
    assert doc["state"] == "alarm"
    assert doc["webhook"]["status"] is None and "Connect" in doc["webhook"]["error"]
    assert "mlrails_drift_webhook_failures_total 1.0" in s.client.get("/metrics").text
    assert s.post({"instance": fitted.status_rows[200]}).status_code == 200


def test_no_traffic_and_auth(make_server: ServerFactory) -> None:
    s = make_server(drift_every_s=None)
    doc = s.client.post("/v1/drift").json()
    assert doc["state"] == "no_traffic" and doc["check"]["n_rows"] == 0
    anonymous = s.client.get("/v1/drift", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


def test_an_artifact_without_a_reference_says_drift_is_off(fitted: Fitted, tmp_path: Any) -> None:
    rails = mlrails.fit(
        fitted.rails.adapter.native,
        fitted.X,
        fitted.rails.adapter.predict(fitted.X),
        policy={"drift": {"reference": False}},
    )
    assert rails.reference is None
    rails.save(tmp_path / "a")
    assert not (tmp_path / "a" / "reference_inputs.npz").exists()
    loaded = mlrails.load(tmp_path / "a")
    assert loaded.reference is None
    store = open_store(tmp_path / "d.db")
    server = ServerThread(
        create_app(loaded, store, ServeSettings(port=0, auth=False, drift_every_s=1.0))
    ).start()
    try:
        import httpx

        doc = httpx.post(server.url + "/v1/drift").json()
        assert doc["state"] == "off" and "no drift reference" in doc["error"]
    finally:
        server.stop()
        store.close()


def test_two_workers_on_one_log_send_one_webhook(
    make_server: ServerFactory, fitted: Fitted, receiver: _Receiver
) -> None:
    """Two apps on the same store and artifact (as ``--workers 2``): both check and show the
    alarm; only the holder of the host-wide lock posts."""
    s = make_server(drift_every_s=None, drift_webhook=receiver.url)
    twin = ServerThread(create_app(fitted.rails, s.store, s.settings)).start()
    try:
        import httpx

        s.post({"instances": _shifted(fitted, 40)})
        first = s.client.post("/v1/drift").json()
        second = httpx.post(
            twin.url + "/v1/drift", headers={"Authorization": f"Bearer {s.token}"}
        ).json()
        assert first["state"] == second["state"] == "alarm"
        assert first["check"]["alarming"] == second["check"]["alarming"]
        assert len(receiver.bodies) == 1 and second["webhook"] is None
    finally:
        twin.stop()


def test_a_row_refused_by_validation_moves_no_input_statistic(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    """One row refused with 400 (an absurd value) after clean traffic: /v1/drift's input
    statistics are those of the clean rows alone; the refusal is its own series, in the
    document and on /metrics."""
    s = make_server(drift_every_s=None)
    s.post({"instances": _rows(fitted.X.head(100))})
    clean = s.client.post("/v1/drift").json()["check"]
    assert clean["n_refused"] == 0 and clean["refusal_rate"] == 0.0
    bad = _rows(fitted.X.head(1))[0]
    bad["mean radius"] = 3.9e6
    s.post({"instances": [bad]})
    assert [r.status for r in s.store.decisions() if r.status != 200 and r.input == bad] == [400]
    check = s.client.post("/v1/drift").json()["check"]
    assert check["n_rows"] == 100 and check["n_refused"] == 1
    assert check["refusal_rate"] == pytest.approx(1 / 101)
    assert check["inputs"]["fields"] == clean["inputs"]["fields"]
    assert check["outputs"]["fields"] == clean["outputs"]["fields"]
    metrics = s.client.get("/metrics").text
    assert "mlrails_drift_refused_rows 1.0" in metrics
    assert "mlrails_drift_window_rows 100.0" in metrics
    line = next(ln for ln in metrics.splitlines() if ln.startswith("mlrails_drift_refusal_rate "))
    assert float(line.split()[-1]) == pytest.approx(1 / 101)
