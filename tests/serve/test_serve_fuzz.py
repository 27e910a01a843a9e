"""Property-based: no JSON body sent to /v1/predict makes the server answer 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from servekit import Fitted, Served

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _rows(columns: list[str]) -> Any:
    """Records keyed mostly by real column names, with values of any JSON type."""
    names = st.sampled_from(columns) | st.text(max_size=8)
    record = st.dictionaries(names, JSON, max_size=len(columns) + 2)
    return st.lists(record | JSON, max_size=4)


@pytest.fixture(scope="module")
def columns(fitted: Fitted) -> list[str]:
    return fitted.rails.contract.columns


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_get_500(served: Served, columns: list[str], data: Any) -> None:
    rows = data.draw(_rows(columns))
    body = data.draw(st.sampled_from(["instance", "instances", "columns", "raw"]), label="shape")
    if body == "instance":
        payload: Any = {"instance": rows[0] if rows else {}}
    elif body == "instances":
        payload = {"instances": rows}
    elif body == "columns":
        payload = {"instances": data.draw(st.dictionaries(st.sampled_from(columns), JSON))}
    else:
        payload = data.draw(JSON)
    r = served.client.post(
        "/v1/predict",
        content=json.dumps(payload),
        headers={"content-type": "application/json"},
    )
    assert r.status_code < 500 or r.status_code == 503, r.text
    assert r.status_code != 503  # the store is healthy here
    assert r.headers["content-type"].split(";")[0] in (
        "application/json",
        "application/problem+json",
    )
