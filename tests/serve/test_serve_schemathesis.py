"""Schemathesis over the service's own OpenAPI document, fetched from a running server.

Every operation of ``/openapi.json`` gets property-based requests generated from the document
(schema-valid ones, and for operations that take a body or a query, schema-violating ones),
sent with a valid API key to a real uvicorn server; every answer must be a non-5xx whose
status code, content type, headers and body are the ones the document declares for it.

Operations with path parameters run twice: with generated names (mostly 404, which must be
documented too) and with the served model's real name and version, so the OIP endpoints are
reached. Schemathesis' pytest integration is not used (its lazy fixture loader does not run on
the pinned pytest); each operation gets its own Hypothesis run through ``as_strategy``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from servekit import Served, ServerFactory

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import Case, GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

#: what every answer is checked for. 500 (model error), 503 (store down) and 504 (model too
#: slow) are documented, but none may happen against a healthy store and a fast model.
#: Left out on purpose: ``positive_data_acceptance`` (a schema-valid row far from the
#: training data is *meant* to get 422) and ``negative_data_rejection`` (a schema-violating
#: batch over ``max_batch_rows`` rightly gets 413, which that check does not expect).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: examples per operation and mode; the prediction endpoints get more
EXAMPLES = 30
PREDICT_EXAMPLES = 50
#: answers that mean the guard itself ran on the rows (not a refusal before it)
GUARD_CODES = {200, 203, 207, 403, 422}


@pytest.fixture(scope="module")
def api(make_server: ServerFactory) -> Served:
    """A server with auth on (a valid key is sent), no rate limit and small limits."""
    return make_server(max_batch_rows=20, max_body_bytes=64 * 1024)


@pytest.fixture(scope="module")
def api_schema(api: Served) -> Any:
    """The OpenAPI document as the running server serves it, loaded by schemathesis."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": api.url,
            "headers": {"Authorization": f"Bearer {api.token}"},
            "request-timeout": 30,
        }
    )
    return schemathesis.openapi.from_url(api.url + "/openapi.json", config=config)


def _operations(schema: Any) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    assert ops, "the document has no operations"
    return ops


def _real_path(op: Any, api: Served) -> dict[str, Any]:
    """The served model's real path parameters, for the ones ``op`` has."""
    real = {
        "model_name": api.settings.model_name,
        "model_version": api.extra.get("artifact_hash", ""),
    }
    return {p.name: real[p.name] for p in op.path_parameters if p.name in real}


def _fuzz(
    op: Any,
    mode: GenerationMode,
    api: Served,
    path: dict[str, Any] | None,
    seen: Counter[int],
) -> str | None:
    """Run one operation's Hypothesis test; the failure report, or None when it passed."""
    examples = PREDICT_EXAMPLES if op.method.upper() == "POST" else EXAMPLES
    headers = {"Authorization": f"Bearer {api.token}"}

    @given(case=op.as_strategy(mode, path_parameters=path))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    def run(case: Case[Any]) -> None:
        response = case.call_and_validate(checks=CHECKS, headers=headers, timeout=30)
        seen[response.status_code] += 1
        assert response.status_code < 500, response.text[:500]

    try:
        run()
    except Exception as exc:
        return f"{op.label} ({mode.value}, path {path}):\n{exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_conforms_to_its_openapi_document(
    api: Served, api_schema: Any, mode: GenerationMode
) -> None:
    api.extra["artifact_hash"] = api.client.get("/v1/artifact").json()["artifact_hash"]
    t0 = time.monotonic()
    failures: list[str] = []
    seen: dict[str, Counter[int]] = {}
    for op in _operations(api_schema):
        has_input = len(op.body) > 0 or len(op.query) > 0
        if mode is GenerationMode.NEGATIVE and not has_input:
            continue  # nothing to make invalid: a path segment is any string
        variants: list[dict[str, Any] | None] = [None]
        if len(op.path_parameters) > 0:
            variants.append(_real_path(op, api))
        for path in variants:
            counts = seen.setdefault(op.label + ("" if path is None else " (real)"), Counter())
            failure = _fuzz(op, mode, api, path, counts)
            if failure is not None:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)

    # the run reached every kind of endpoint, and deep: the guard answered predictions
    labels = set(seen)
    assert "POST /v1/predict" in labels and "POST /v1/feedback" in labels
    assert any(label.startswith("POST /v2/models/") for label in labels)
    assert all(sum(c.values()) > 0 for c in seen.values()), seen
    if mode is GenerationMode.POSITIVE:
        # negative bodies are invalid by construction: answering every one 400 is right (a
        # negative case that happens to be valid reached the guard in some runs, not in all)
        assert GUARD_CODES & set(seen["POST /v1/predict"]), seen["POST /v1/predict"]
        real_meta = seen["GET /v2/models/{model_name} (real)"]
        assert set(real_meta) == {200}, real_meta
    assert time.monotonic() - t0 < 120
