"""``/metrics`` keeps a bounded set of series whatever the requests: invented methods and
random paths, sent without a key to a real uvicorn server (any token is a method to its HTTP
parser), all land on the labels ``other`` and ``unmatched`` or on a route template."""

from __future__ import annotations

import http.client
import random
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from servekit import Served, ServerFactory

#: the method label's values besides ``other``, and the labels of unknown values
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
OTHER = "other"
UNMATCHED = "unmatched"
#: method tokens h11 accepts (RFC 9110 tchar), none a standard method
TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
#: paths that hit every kind of route: real templates with invented parameters, the UI and
#: its assets, OIP names, documents, nothing at all
PATH_SHAPES = [
    "/{}",
    "/v1/{}",
    "/v1/predict/{}",
    "/v1/predict/",
    "/v2/models/{}",
    "/v2/models/{}/infer",
    "/v2/models/{}/versions/{}/ready",
    "/ui/{}",
    "/ui/assets/{}",
    "/ui/descriptors/{}",
    "/docs/{}",
    "/openapi.json/{}",
    "/static/{}",
    "/{}/{}/{}",
]


@pytest.fixture(scope="module")
def server(make_server: ServerFactory) -> Served:
    return make_server()


@pytest.fixture
def conn(server: Served) -> Iterator[http.client.HTTPConnection]:
    u = urlsplit(server.url)
    c = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=30)
    yield c
    c.close()


def _send(c: http.client.HTTPConnection, method: str, path: str) -> int:
    c.request(method, path, headers={"Content-Length": "0"})
    r = c.getresponse()
    r.read()
    if r.getheader("connection", "").lower() == "close":
        c.close()
    return r.status


def _token(rng: random.Random) -> str:
    while True:
        t = "".join(rng.choice(TCHAR) for _ in range(rng.randint(1, 12)))
        if t not in HTTP_METHODS:
            return t


def _path(rng: random.Random, shape: str) -> str:
    parts = [quote(_token(rng), safe="") for _ in range(shape.count("{}"))]
    return shape.format(*parts)


def _series(server: Served) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Every sample's label set, per metric family, from /metrics (no key)."""
    c = http.client.HTTPConnection(urlsplit(server.url).hostname, urlsplit(server.url).port)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(family.name, set()).add(tuple(sorted(s.labels.items())))
    return out


def _templates(server: Served) -> set[str]:
    """The served app's route templates (an included router's routes too)."""
    from fastapi.routing import iter_route_contexts

    app: Any = server.server.server.config.app
    return {c.path for c in iter_route_contexts(app.routes)}


def _check_labels(server: Served) -> int:
    series = _series(server)
    requests = series["mlrails_http_requests"]
    templates = _templates(server)
    for labels in requests:
        d = dict(labels)
        assert d["method"] in HTTP_METHODS | {OTHER}, d
        assert d["route"] in templates | {UNMATCHED}, d
        assert d["status"].isdigit() and 100 <= int(d["status"]) <= 599, d
    for labels in series["mlrails_http_request_duration_seconds"]:
        route = dict(labels).get("route")
        assert route is None or route in templates | {UNMATCHED}, labels
    return sum(len(v) for v in series.values())


def test_invented_methods_and_paths_add_no_series(
    server: Served, conn: http.client.HTTPConnection
) -> None:
    rng = random.Random(12)
    _series(server)  # the scrape's own series exist from here on
    shapes = PATH_SHAPES * 15
    statuses = [_send(conn, _token(rng), _path(rng, shape)) for shape in shapes]
    assert all(s < 500 for s in statuses), statuses
    first = _check_labels(server)
    # a second round of as many new methods and paths of the same shapes: not one series more
    statuses = [_send(conn, _token(rng), _path(rng, shape)) for shape in shapes]
    assert all(s < 500 for s in statuses), statuses
    assert _check_labels(server) == first
    requests = {dict(x)["method"] for x in _series(server)["mlrails_http_requests"]}
    assert OTHER in requests


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    method=st.text(TCHAR, min_size=1, max_size=20),
    path=st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=4),
    shape=st.sampled_from(PATH_SHAPES),
)
def test_any_method_and_path_is_counted_on_a_known_label(
    server: Served, conn: http.client.HTTPConnection, method: str, path: list[str], shape: str
) -> None:
    target = shape.format(*(quote(p, safe="") for p in (path * 3)[: shape.count("{}")]))
    assert _send(conn, method, target) < 500
    _check_labels(server)


def test_known_methods_and_routes_keep_their_labels(server: Served) -> None:
    server.client.get("/v2/models/mlrails")
    server.client.get("/v2/models/no-such-model")
    server.client.get("/openapi.json")  # a FastAPI route of its own
    server.client.get("/ui/drift")  # an included router's
    server.client.request("PROPFIND", "/ui/drift")
    labels = {
        (d["method"], d["route"]) for d in map(dict, _series(server)["mlrails_http_requests"])
    }
    assert ("GET", "/v2/models/{model_name}") in labels
    assert ("GET", "/openapi.json") in labels
    assert ("GET", "/ui/drift") in labels and ("other", "/ui/drift") in labels
    assert not any("no-such-model" in route for _, route in labels)
