"""HTTP details of issue 12 item 12: a complete ``Allow`` on 405, 415 for bodies that are
not plain JSON, against a real uvicorn."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import Fitted, Served

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/drift", {"GET", "POST"}),
        ("PUT", "/v1/drift", {"GET", "POST"}),
        ("DELETE", "/ui/login", {"GET", "POST"}),
        ("DELETE", "/ui/drift", {"GET", "POST"}),
        ("GET", "/v1/predict", {"POST"}),
    ],
)
def test_405_allow_lists_every_method_of_the_path(
    served: Served, method: str, path: str, allowed: set[str]
) -> None:
    r = served.client.request(method, path)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed


def _row(fitted: Fitted) -> dict[str, object]:
    return {"instance": fitted.status_rows[200]}


@pytest.mark.parametrize("path", ["/v1/predict", "/v2/models/mlrails/infer"])
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
def test_a_non_json_content_type_gets_415(
    served: Served, fitted: Fitted, path: str, content_type: str
) -> None:
    r = served.client.post(
        path, content=json.dumps(_row(fitted)), headers={"Content-Type": content_type}
    )
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/unsupported-media-type")
    assert r.headers["accept"] == "application/json"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(coding=st.sampled_from(["gzip", "deflate", "br", "zstd", "compress", "x-anything", "GZIP"]))
def test_an_undecoded_content_encoding_gets_415(
    served: Served, fitted: Fitted, coding: str
) -> None:
    r = served.client.post(
        "/v1/predict",
        content=json.dumps(_row(fitted)),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert r.status_code == 415, r.text
    assert r.json()["type"].endswith("/unsupported-media-type")


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json; charset=utf-8"},
        {"Content-Type": "Application/JSON"},
        {"Content-Type": "application/vnd.example+json"},
        {"Content-Type": "application/json", "Content-Encoding": "identity"},
        {},
    ],
)
def test_json_bodies_are_accepted(served: Served, fitted: Fitted, headers: dict[str, str]) -> None:
    request = served.client.build_request(
        "POST", "/v1/predict", content=json.dumps(_row(fitted)), headers=headers
    )
    if not headers:  # no Content-Type at all: read as JSON (curl -d convenience)
        request.headers.pop("Content-Type", None)
        assert "content-type" not in request.headers
    r = served.client.send(request)
    assert r.status_code == 200, r.text
