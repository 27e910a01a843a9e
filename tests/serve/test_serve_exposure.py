"""What a caller without a key can read, on real uvicorn servers.

``/openapi.json`` is public, so it names the input row's fields and their JSON types and
nothing of the contract that ``/v1/contract`` keeps behind the key (accepted and training
ranges, missing rates, categories); it declares the bearer scheme, and exactly the
operations that answer 401 without a key reference it. ``/docs`` is off unless asked for,
and then a page with no script under a strict Content-Security-Policy. Signing out of the
web UI is refused from another site, like every other UI form.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from servekit import Fitted, Served, ServerFactory
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails.contract.spec import InputContract
from mlrails.guard.rails import Rails
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.store import open_store

#: keys of a field's schema that would carry contract content
CONTRACT_KEYS = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "const",
    "default",
    "examples",
    "x-training-range",
    "x-missing-rate",
}
#: a category only this test's training data has
CATEGORIES = ["zone-aurora-q7", "zone-borealis-k2", "zone-cygnus-m4"]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


# -- a second data set: integer, categorical and nullable columns ---------------------------
@pytest.fixture(scope="module")
def mixed_rails() -> Rails:
    rng = np.random.default_rng(3)
    n = 700
    age = rng.normal(40, 10, n)
    age[rng.random(n) < 0.1] = np.nan
    zone = rng.choice(CATEGORIES, n).astype(object)
    zone[rng.random(n) < 0.05] = None
    visits = rng.integers(3, 17, n)
    income = rng.normal(50, 15, n)
    y = (np.nan_to_num(age, nan=40) + income / 2 + visits + rng.normal(0, 5, n) > 80).astype(int)
    X = pd.DataFrame({"age": age, "zone": zone, "visits": visits, "income": income})
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "visits", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["zone"]),
        ]
    )
    model = make_pipeline(prep, LogisticRegression()).fit(X[:450], y[:450])
    return mlrails.fit(model, X[:450], y[:450], X[450:], y[450:])


def _serve(rails: Rails, tmp_path: Path, **settings: Any) -> tuple[ServerThread, Any]:
    store = open_store(tmp_path / "decisions.db")
    cfg = ServeSettings(port=0, rate_limit_rps=None, **settings)
    return ServerThread(create_app(rails, store, cfg)).start(), store


@pytest.fixture
def mixed_server(mixed_rails: Rails, tmp_path: Path) -> Iterator[str]:
    server, store = _serve(mixed_rails, tmp_path)
    yield server.url
    server.stop()
    store.close()


def _contract_numbers(contract: InputContract) -> set[float]:
    """Every number of the contract that is not a plain small count (bounds, training range,
    missing rate)."""
    out: set[float] = set()
    for f in contract.fields:
        for v in (f.lower, f.upper, f.minimum, f.maximum, f.missing_rate):
            if v is not None and math.isfinite(v) and not (float(v).is_integer() and abs(v) < 600):
                out.add(float(v))
    return out


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)


def _assert_public(doc: dict[str, Any], text: str, contract: InputContract) -> None:
    row = doc["components"]["schemas"]["InputRow"]
    assert list(row["properties"]) == [f.name for f in contract.fields]
    kinds = {"numeric": "number", "integer": "integer", "boolean": "boolean"}
    for f in contract.fields:
        schema = row["properties"][f.name]
        assert not CONTRACT_KEYS & set(schema), (f.name, schema)
        kind = kinds.get(f.kind, "string")
        assert schema["type"] == ([kind, "null"] if f.nullable else kind), (f.name, schema)
    secret = _contract_numbers(contract)
    assert secret, "the contract has ranges to hide"
    assert not secret & set(_numbers(doc)), secret & set(_numbers(doc))
    for key in ("x-training-range", "x-missing-rate", "minimum", "maximum"):
        assert f'"{key}"' not in text, key
    for f in contract.fields:
        for c in f.categories or []:
            assert c not in text, c


def test_openapi_names_fields_and_types_only(served: Served, fitted: Fitted) -> None:
    r = httpx.get(served.url + "/openapi.json")  # no key
    assert r.status_code == 200
    _assert_public(r.json(), r.text, fitted.rails.contract)
    # the full contract is still there, with the key
    full = served.client.get("/v1/contract").json()
    radius = full["properties"]["mean radius"]
    assert {"minimum", "maximum", "x-training-range", "x-missing-rate"} <= set(radius)
    assert httpx.get(served.url + "/v1/contract").status_code == 401


def test_openapi_of_categorical_integer_and_nullable_fields(
    mixed_server: str, mixed_rails: Rails
) -> None:
    contract = mixed_rails.contract
    kinds = {f.name: (f.kind, f.nullable) for f in contract.fields}
    assert kinds == {
        "age": ("numeric", True),
        "zone": ("categorical", True),
        "visits": ("integer", False),
        "income": ("numeric", False),
    }
    r = httpx.get(mixed_server + "/openapi.json")
    assert r.status_code == 200
    _assert_public(r.json(), r.text, contract)


def _url(path: str, served: Served, version: str) -> str:
    return served.url + path.replace("{model_name}", served.settings.model_name).replace(
        "{model_version}", version
    )


def test_security_scheme_marks_exactly_the_operations_that_need_a_key(served: Served) -> None:
    doc = httpx.get(served.url + "/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert len(schemes) == 1
    name, scheme = next(iter(schemes.items()))
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    version = served.client.get("/v1/artifact").json()["artifact_hash"]
    protected = public = 0
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            declared = op.get("security")
            if declared is not None:
                assert declared == [{name: []}], (method, path, declared)
            answer = httpx.request(
                method.upper(), _url(path, served, version), json={}, headers={}, timeout=30
            )
            needs_key = answer.status_code == 401
            assert needs_key == (declared is not None), (method, path, answer.status_code)
            if needs_key:
                protected += 1
                assert answer.headers["www-authenticate"].lower().startswith("bearer")
            else:
                public += 1
    assert protected >= 8 and public >= 5, (protected, public)


def test_no_security_is_declared_with_auth_off(fitted: Fitted, tmp_path: Path) -> None:
    server, store = _serve(fitted.rails, tmp_path, auth=False)
    try:
        doc = httpx.get(server.url + "/openapi.json").json()
        assert "securitySchemes" not in doc["components"]
        ops = [op for item in doc["paths"].values() for op in item.values()]
        assert not any("security" in op for op in ops if isinstance(op, dict))
    finally:
        server.stop()
        store.close()


# -- /docs ------------------------------------------------------------------------------------
class _Resources(HTMLParser):
    """Every script, style sheet, image and frame a page loads, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.loads.append((tag, a))
            else:
                self.inline_scripts += 1
        elif (tag == "link" and a.get("href")) or (
            tag in ("img", "iframe", "embed", "object") and (a.get("src") or a.get("data"))
        ):
            self.loads.append((tag, a))
        if any(k.startswith("on") for k in a):
            self.inline_scripts += 1


def test_docs_are_off_by_default(served: Served) -> None:
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        r = httpx.get(served.url + path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json")


def test_docs_on_load_nothing_from_elsewhere_under_a_strict_policy(
    make_server: ServerFactory, fitted: Fitted, page: Any
) -> None:
    s = make_server(docs=True)
    r = httpx.get(s.url + "/docs")  # public, like /openapi.json
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives or "http" not in directives["script-src"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    parser = _Resources()
    parser.feed(r.text)
    assert parser.inline_scripts == 0
    for tag, attrs in parser.loads:
        url = attrs.get("src") or attrs.get("href") or attrs.get("data") or ""
        external = bool(re.match(r"^(https?:)?//", url))
        assert not external or attrs.get("integrity"), (tag, attrs)
        if not external:
            assert httpx.get(s.url + url).status_code == 200, url
    # every documented operation is on the page; the contract's ranges are not
    doc = httpx.get(s.url + "/openapi.json").json()
    for path in doc["paths"]:
        assert f'data-path="{path}"' in r.text
    assert "mean radius" in r.text
    for v in _contract_numbers(fitted.rails.contract):
        assert repr(v) not in r.text
    # a real browser shows it without a policy violation
    page.goto(s.url + "/docs")
    assert page.locator("#operations tbody tr").count() >= len(doc["paths"])
    assert page.problems == []


def test_cli_docs_option() -> None:
    from clikit import cli

    help_text = cli("serve", "--help").stdout
    assert "--docs" in help_text
    off = json.loads(cli("serve", "rails", "--print-settings").stdout)
    on = json.loads(cli("serve", "rails", "--docs", "--print-settings").stdout)
    assert off["docs"] is False and on["docs"] is True


# -- sign-out ---------------------------------------------------------------------------------
def _session_cookie(s: Served) -> dict[str, str]:
    from mlrails.serve.ui.session import COOKIE_NAME, issue_session

    record = next(k for k in s.store.list_keys() if k.id == s.key_id)
    return {"Cookie": f"{COOKIE_NAME}={issue_session(record)[0]}"}


def test_sign_out_from_another_site_is_refused(served: Served) -> None:
    cookie = _session_cookie(served)
    for foreign in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    ):
        r = httpx.post(
            served.url + "/ui/logout", headers={**cookie, **foreign}, follow_redirects=False
        )
        assert r.status_code == 403, foreign
        assert r.headers["content-type"].startswith("application/problem+json")
        doc = r.json()
        assert doc["status"] == 403 and doc["type"].endswith("/cross-site-request")
        assert "set-cookie" not in r.headers  # the session is left alone
        assert "default-src 'none'" in r.headers["content-security-policy"]
    # the same site (a browser's own form, or a client that sends no Origin) signs out
    host = served.url.split("://", 1)[1]
    for own in (
        {"Origin": served.url, "Sec-Fetch-Site": "same-origin"},
        {"Host": host},
    ):
        r = httpx.post(served.url + "/ui/logout", headers={**cookie, **own}, follow_redirects=False)
        assert r.status_code == 303, own
        assert r.headers["location"].endswith("/ui/login")
        assert "max-age=0" in r.headers["set-cookie"].lower()
