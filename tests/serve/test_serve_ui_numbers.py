"""Every UI view renders any statistic: finite, huge, tiny, infinite, NaN or missing.

The view models are fed such numbers by Hypothesis and rendered through the real templates;
then a real uvicorn server on a real SQLite log is sent traffic whose drift check has an
infinite effect (a field constant in training that moves) and a 1e308 in a bounded field
(refused with 400, kept out of the statistics), and ``GET /ui/drift`` must answer 200.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import Fitted
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

import mlrails
from mlrails.drift import DriftReport, FieldDrift
from mlrails.drift.monitor import DriftCheck
from mlrails.mismatch.render import format_number
from mlrails.protocol.status import StatusTable
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.serve.drift_job import DriftStatus
from mlrails.serve.ui.drift_view import BAR_PX, drift_page
from mlrails.serve.ui.templates import render
from mlrails.serve.ui.view import decision_view, status_mix
from mlrails.store import DecisionRecord, open_store

#: every kind of float a statistic can be: extremes, infinities, NaN, signed zeros, subnormals
EXTREMES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    1e-300,
    1e308,
    -1e308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
]
ANY_FLOAT = st.one_of(st.sampled_from(EXTREMES), st.floats(allow_nan=True, allow_infinity=True))
MAYBE_FLOAT = st.one_of(st.none(), ANY_FLOAT)
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _field(draw: Any, name: str, kind: str) -> FieldDrift:
    return FieldDrift(
        field=name,
        kind=kind,  # type: ignore[arg-type]
        test="ks" if kind == "numeric" else "chi2",
        statistic=draw(ANY_FLOAT),
        p_value=draw(ANY_FLOAT),
        p_adjusted=draw(ANY_FLOAT),
        effect_size=draw(ANY_FLOAT),
        effect_name="wasserstein_std_debiased" if kind == "numeric" else "cramers_v_debiased",
        psi=draw(ANY_FLOAT),
        wasserstein=draw(MAYBE_FLOAT),
        alarm=draw(st.booleans()),
        n_ref=draw(st.integers(0, 10**12)),
        n_cur=draw(st.integers(0, 10**12)),
        effect_raw=draw(ANY_FLOAT),
        missing_ref=draw(ANY_FLOAT),
        missing_cur=draw(ANY_FLOAT),
    )


@st.composite
def drift_reports(draw: Any) -> DriftReport:
    kinds = draw(st.lists(st.sampled_from(["numeric", "categorical"]), min_size=1, max_size=4))
    fields = tuple(_field(draw, f"f{i}", k) for i, k in enumerate(kinds))
    return DriftReport(
        fields=fields,
        alarm=any(f.alarm for f in fields),
        alpha=draw(ANY_FLOAT),
        numeric_effect=draw(ANY_FLOAT),
        categorical_effect=draw(ANY_FLOAT),
        n_ref=draw(st.integers(0, 10**6)),
        n_cur=draw(st.integers(0, 10**6)),
    )


@st.composite
def drift_statuses(draw: Any) -> DriftStatus:
    inputs = draw(st.one_of(st.none(), drift_reports()))
    outputs = draw(st.one_of(st.none(), drift_reports()))
    check = DriftCheck(
        time=NOW,
        since=NOW - timedelta(hours=1),
        until=NOW,
        n_records=draw(st.integers(0, 10**9)),
        n_rows=draw(st.integers(0, 10**9)),
        n_answered=draw(st.integers(0, 10**9)),
        inputs=inputs,
        outputs=outputs,
        n_refused=draw(st.integers(0, 10**9)),
    )
    return DriftStatus(
        state=draw(st.sampled_from(["ok", "alarm", "no_traffic", "error"])),
        every_s=draw(st.one_of(st.none(), st.floats(min_value=1e-3, allow_infinity=True))),
        window_s=draw(st.floats(min_value=1e-3, allow_infinity=True)),
        check=check,
        last_run=NOW,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=drift_statuses())
def test_the_drift_page_renders_any_statistic(status: DriftStatus) -> None:
    page = drift_page(status)
    check = status.check
    assert check is not None
    n = sum(len(r.fields) for r in (check.inputs, check.outputs) if r is not None)
    assert len(page.rows) == n
    for row in page.rows:
        assert isinstance(row.bar_px, int) and 0 <= row.bar_px <= BAR_PX
        assert isinstance(row.threshold_px, int) and 0 <= row.threshold_px <= BAR_PX
        for text in (row.statistic, row.p_adjusted, row.effect, row.psi, row.missing):
            assert isinstance(text, str) and len(text) <= 12, text
    html = render(
        "drift.html",
        root="/ui",
        auth=False,
        key_id=None,
        current="drift",
        p=page,
        bar_px=BAR_PX,
        generated="now",
    )
    assert html.count('class="drift-row') == n
    widths = [int(w) for w in re.findall(r'class="bar-fill"[^>]* width="(-?\d+)"', html)]
    assert len(widths) == n and all(0 <= w <= BAR_PX for w in widths)


def _record(output: dict[str, Any], status: int) -> DecisionRecord:
    return DecisionRecord(
        time=NOW,
        trace_id="t",
        key_id=None,
        artifact_hash="h",
        row_index=0,
        status=status,
        problem="https://mlrails.dev/problems/out-of-distribution",
        input={"x": 1.0},
        output=output,
        scores=None,
        latency_ms=1.0,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=st.lists(MAYBE_FLOAT, min_size=8, max_size=8), count=st.integers(0, 10**12))
def test_the_dashboard_renders_any_logged_number(x: list[float | None], count: int) -> None:
    """A logged decision's evidence (scores, thresholds, contributions) with any number."""
    output = {
        "title": "out of distribution",
        "safeguards": [
            {"name": "ood", "mode": "block", "triggered": True, "score": x[0], "threshold": x[1]}
        ],
        "errors": [{"field": "x", "code": "out_of_range", "value": x[2], "expected": x[3]}],
        "ood_contributions": {
            "detector": "knn",
            "score": x[4],
            "offset": x[5],
            "exact": True,
            "remainder": x[6],
            "contributions": [{"feature": "x", "value": x[7], "contribution": x[0]}],
        },
    }
    table = StatusTable()
    html = render(
        "live.html",
        mix=status_mix({200: count, 422: 1}, table),
        recent=[decision_view(_record(output, 422))],
        generated="now",
        window_label="15 min",
        error=None,
        ok=200,
        limit=20,
    )
    assert 'data-status="422"' in html


@settings(max_examples=300, deadline=None)
@given(x=st.one_of(MAYBE_FLOAT, st.integers(-(10**30), 10**30), st.booleans()))
def test_the_mismatch_pages_number_text_takes_any_number(x: float | int | bool | None) -> None:
    """The mismatch page's findings and statistics go through ``format_number``."""
    text = format_number(x)
    assert isinstance(text, str) and 0 < len(text) <= 40


# -- a real server --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def constant_field_rails(fitted: Fitted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rails fitted with a column that is 0 in every training row (its accepted range is
    open, so any non-negative value passes validation: a shift of it is an infinite effect)."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6].copy()
    X["constant"] = 0.0
    idx = np.random.default_rng(0).permutation(len(X))
    tr, cal = idx[:350], idx[350:]
    model = RandomForestClassifier(n_estimators=20, random_state=0)
    model.fit(X.iloc[tr], y.iloc[tr])
    rails = mlrails.fit(model, X.iloc[tr], y.iloc[tr], X.iloc[cal], y.iloc[cal])
    path = tmp_path_factory.mktemp("constant") / "rails"
    rails.save(path)
    return path


@pytest.fixture
def constant_server(constant_field_rails: Path, tmp_path: Path) -> Iterator[str]:
    store = open_store(tmp_path / "decisions.db")
    settings_ = ServeSettings(port=0, auth=False, drift_every_s=None, rate_limit_rps=None)
    server = ServerThread(create_app(mlrails.load(constant_field_rails), store, settings_))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        store.close()


def test_an_infinite_drift_effect_renders_on_the_drift_page(
    constant_server: str, constant_field_rails: Path
) -> None:
    url = constant_server
    X, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    rows = [{str(k): float(v) for k, v in r.items()} for _, r in X.iloc[:60, :6].iterrows()]
    for i, row in enumerate(rows):
        row["constant"] = [1.0, 1e30, 3.0e38][i % 3]
    answers = httpx.post(url + "/v1/predict", json={"instances": rows}, timeout=60)
    assert answers.status_code in (200, 207), answers.text[:500]
    # the request: 1e308 in a bounded field is refused, and kept out of the statistics
    absurd = dict(rows[0], **{"mean radius": 1e308})
    assert httpx.post(url + "/v1/predict", json={"instance": absurd}).status_code == 400
    doc = httpx.post(url + "/v1/drift", timeout=60).json()
    assert doc["check"]["n_refused"] == 1
    fields = {f["field"]: f for f in doc["check"]["inputs"]["fields"]}
    assert fields["constant"]["effect_size"] is None  # infinite, written as null in JSON
    assert fields["mean radius"]["effect_size"] is not None

    page = httpx.get(url + "/ui/drift")
    assert page.status_code == 200, page.text[:500]
    row = re.search(r'<tr class="drift-row[^"]*" data-field="constant".*?</tr>', page.text, re.S)
    assert row is not None
    width = re.search(r'class="bar-fill"[^>]* width="(\d+)"', row.group(0))
    assert width is not None and int(width.group(1)) == BAR_PX
    assert "inf" in row.group(0) or "∞" in row.group(0)
    assert httpx.get(url + "/v1/drift").status_code == 200
    assert httpx.get(url + "/metrics").status_code == 200
