"""The OpenAPI document: every status code of every endpoint, with problem+json schemas.

FastAPI documents the routes; this module adds what it cannot infer: the request bodies of
``/v1/predict`` (the input row's field names and JSON types) and ``/v1/feedback``, the codes
each endpoint answers (from the policy's status table, so a remapped code is documented as
served), for each code the problem types it carries, and which operations need the API key
(the bearer scheme in ``components.securitySchemes``). In proxy mode (the model is a
:class:`~mlrails.models.remote.RemoteModel`) the prediction endpoints also document 502.

The document is public (no key), so it carries no more of the contract than a caller needs
to form a request: names and types, never the accepted or training ranges, missing rates or
categories, which ``GET /v1/contract`` serves to callers with a key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from mlrails.contract.jsonschema import to_public_json_schema
from mlrails.guard.rails import Rails
from mlrails.models.remote import RemoteModel
from mlrails.protocol import PROBLEM_MEDIA_TYPE
from mlrails.protocol import problem as problems
from mlrails.serve.oip import OIP_MODELS
from mlrails.serve.schemas import (
    ArtifactInfo,
    BatchDocument,
    DriftStatusDocument,
    FeedbackCountsDocument,
    FeedbackRequest,
    Health,
    ProblemDocument,
    Readiness,
    VerdictDocument,
)

_REF = "#/components/schemas/"
#: the name of the API key's scheme in ``components.securitySchemes``
BEARER_SCHEME = "bearerAuth"
_BEARER: dict[str, Any] = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key from `mlrails keys create`, sent as 'Authorization: Bearer "
    "TOKEN'. A missing, invalid or revoked key gets 401 with WWW-Authenticate.",
}
_F = TypeVar("_F", bound=Callable[..., Any])
_KEY_DEPENDENCIES: set[Callable[..., Any]] = set()


def requires_key(dependency: _F) -> _F:
    """Mark a FastAPI dependency as the API-key check: the operations that depend on it are
    documented with the bearer scheme under ``security``."""
    _KEY_DEPENDENCIES.add(dependency)
    return dependency


_MODELS: tuple[type[BaseModel], ...] = (
    ProblemDocument,
    DriftStatusDocument,
    FeedbackRequest,
    FeedbackCountsDocument,
    VerdictDocument,
    BatchDocument,
    ArtifactInfo,
    Health,
    Readiness,
    *OIP_MODELS,
)


@dataclass(frozen=True)
class Answer:
    """One documented answer of an endpoint: code, meaning, body schema, problem types."""

    status: int
    description: str
    schema: str = "ProblemDocument"
    problem_types: tuple[str, ...] = ()
    media_type: str = PROBLEM_MEDIA_TYPE


def responses(answers: Iterable[Answer]) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for these answers; answers sharing a code are merged."""
    merged: dict[int, list[Answer]] = {}
    for a in answers:
        merged.setdefault(a.status, []).append(a)
    out: dict[int | str, dict[str, Any]] = {}
    for code, group in sorted(merged.items()):
        content: dict[str, Any] = {}
        for a in group:
            entry = content.setdefault(a.media_type, {"schema": {"$ref": _REF + a.schema}})
            if a.media_type == PROBLEM_MEDIA_TYPE and a.problem_types:
                known = entry.setdefault("x-problem-types", [])
                known.extend(t for t in a.problem_types if t not in known)
        out[code] = {"description": "; ".join(a.description for a in group), "content": content}
    return out


def _problem(status: int, description: str, *types: str) -> Answer:
    return Answer(status, description, problem_types=types)


def _ok(description: str, schema: str) -> Answer:
    return Answer(200, description, schema, (), "application/json")


def predict_answers(rails: Rails) -> list[Answer]:
    """Every answer of ``POST /v1/predict`` under this artifact's status table."""
    c = rails.policy.status_codes
    ok = _ok("every safeguard passed: one verdict, or a batch", "PredictOk")
    return [
        Answer(c.ok, ok.description, ok.schema, (), ok.media_type),
        _problem(
            c.not_authoritative,
            "answered, not authoritative: the prediction is included",
            problems.LOW_CONFIDENCE.uri,
        ),
        _problem(c.mixed, "batch with mixed outcomes: per-row 'verdicts'", problems.MIXED.uri),
        _problem(
            c.invalid_input,
            "malformed request or input violating the contract",
            problems.INVALID_INPUT.uri,
            problems.MALFORMED_REQUEST.uri,
        ),
        _problem(c.unauthorized, "missing, invalid or revoked API key", problems.UNAUTHORIZED.uri),
        _problem(
            c.adversarial, "suspected adversarial input: do not retry", problems.ADVERSARIAL.uri
        ),
        _problem(413, "body or batch over the service's limit", problems.PAYLOAD_TOO_LARGE.uri),
        _problem(
            415, "body not JSON, or with a Content-Encoding", problems.UNSUPPORTED_MEDIA_TYPE.uri
        ),
        _problem(
            c.out_of_distribution,
            "input unlike the training data: use a fallback",
            problems.OUT_OF_DISTRIBUTION.uri,
        ),
        _problem(c.rate_limited, "rate limit exceeded; see Retry-After", problems.RATE_LIMITED.uri),
        _problem(
            c.model_error,
            "the model raised an error (or the service failed)",
            problems.MODEL_ERROR.uri,
            problems.INTERNAL_ERROR.uri,
        ),
        _problem(
            c.unavailable,
            "decision log unavailable: nothing answered; see Retry-After",
            problems.UNAVAILABLE.uri,
        ),
        _problem(c.timeout, "the guarded model call exceeded its time limit", problems.TIMEOUT.uri),
        *_upstream_answers(rails),
    ]


def feedback_answers(rails: Rails) -> list[Answer]:
    """Every answer of ``POST /v1/feedback``: its counts, or a prediction's refusals of a
    body (400, 413, 415), the key's (401, 429) and the store's (503)."""
    c = rails.policy.status_codes
    return [
        _ok(
            "the labels were filed: how many matched, unknown, duplicate, changed",
            "FeedbackCountsDocument",
        ),
        _problem(
            c.invalid_input, "the body is not a feedback request", problems.MALFORMED_REQUEST.uri
        ),
        _problem(c.unauthorized, "missing, invalid or revoked API key", problems.UNAUTHORIZED.uri),
        _problem(413, "body or labels over the service's limit", problems.PAYLOAD_TOO_LARGE.uri),
        _problem(
            415, "body not JSON, or with a Content-Encoding", problems.UNSUPPORTED_MEDIA_TYPE.uri
        ),
        _problem(c.rate_limited, "rate limit exceeded; see Retry-After", problems.RATE_LIMITED.uri),
        _problem(500, "the service failed unexpectedly", problems.INTERNAL_ERROR.uri),
        _problem(
            c.unavailable,
            "the store cannot record the labels: none was recorded; see Retry-After",
            problems.UNAVAILABLE.uri,
        ),
    ]


def _upstream_answers(rails: Rails) -> list[Answer]:
    """The answers only proxy mode (``--upstream``) gives: 502, and 504 for a slow upstream."""
    if not isinstance(rails.adapter, RemoteModel):
        return []
    c = rails.policy.status_codes
    return [
        _problem(
            c.upstream_error,
            "the upstream model failed, could not be reached or answered garbage: fall back",
            problems.BAD_GATEWAY.uri,
        ),
        _problem(c.timeout, "the upstream model did not answer in time", problems.TIMEOUT.uri),
    ]


def authenticated_get_answers(rails: Rails, schema: str) -> list[Answer]:
    """Answers of a GET that needs an API key."""
    c = rails.policy.status_codes
    return [
        _ok("OK", schema),
        _problem(c.unauthorized, "missing, invalid or revoked API key", problems.UNAUTHORIZED.uri),
        _problem(c.rate_limited, "rate limit exceeded; see Retry-After", problems.RATE_LIMITED.uri),
        _problem(c.unavailable, "key store unavailable; see Retry-After", problems.UNAVAILABLE.uri),
    ]


def readiness_answers(rails: Rails) -> list[Answer]:
    """Answers of ``GET /readyz``."""
    return [
        _ok("ready: model loaded, a decision can be committed to the log", "Readiness"),
        _problem(rails.policy.status_codes.unavailable, "not ready", problems.NOT_READY.uri),
    ]


def install_openapi(app: FastAPI, rails: Rails, *, auth: bool = True) -> None:
    """Replace ``app.openapi`` with the completed document (built once, then cached);
    ``auth``: the service asks for API keys (the bearer scheme is declared)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        _drop_fastapi_validation_errors(doc, schemas)
        for model in _MODELS:
            js = model.model_json_schema(ref_template=_REF + "{model}")
            schemas.update(js.pop("$defs", {}))
            schemas[model.__name__] = js
        row = to_public_json_schema(rails.contract)
        row.pop("$schema", None)
        schemas["InputRow"] = row
        schemas["ContractSchema"] = _CONTRACT_SCHEMA
        schemas["PredictOk"] = {
            "oneOf": [{"$ref": _REF + "VerdictDocument"}, {"$ref": _REF + "BatchDocument"}]
        }
        schemas["PredictRequest"] = _predict_request_schema()
        schemas["ProblemDocument"]["properties"]["type"]["enum"] = problems.all_problem_uris()
        if auth:
            _declare_security(app, doc)
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]


def _declare_security(app: FastAPI, doc: dict[str, Any]) -> None:
    """The bearer scheme, and ``security`` on every operation whose route checks the key."""
    doc["components"]["securitySchemes"] = {BEARER_SCHEME: _BEARER}
    paths = doc.get("paths", {})
    for route in _api_routes(app):
        if not _needs_key(getattr(route, "dependant", None)):
            continue
        ops = paths.get(getattr(route, "path", None), {})
        for method in getattr(route, "methods", None) or ():
            op = ops.get(method.lower())
            if op is not None:
                op["security"] = [{BEARER_SCHEME: []}]


def _api_routes(app: FastAPI) -> Iterator[object]:
    """The app's routes, those of included routers too (FastAPI >= 0.165 nests them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies included routes into app.routes
        yield from app.routes
        return
    for context in iter_route_contexts(app.routes):
        yield getattr(context, "original_route", context)


def _needs_key(dependant: Any) -> bool:
    if dependant is None:
        return False
    call = getattr(dependant, "call", None)
    if any(call is k for k in _KEY_DEPENDENCIES):
        return True
    return any(_needs_key(d) for d in getattr(dependant, "dependencies", ()))


#: what ``GET /v1/contract`` answers: a JSON Schema document *describing* an input row (an
#: ``InputRow`` schema), not an input row itself
_CONTRACT_SCHEMA: dict[str, Any] = {
    "title": "ContractSchema",
    "description": "JSON Schema (draft 2020-12) of one input row: its schema is InputRow.",
    "type": "object",
    "properties": {
        "$schema": {"type": "string"},
        "title": {"type": "string"},
        "type": {"enum": ["object", "array"], "description": "object: a table row"},
        "properties": {"type": "object", "additionalProperties": {"type": "object"}},
        "required": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["$schema", "type"],
}


def _drop_fastapi_validation_errors(doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    """FastAPI documents a 422 for parameter errors; the service answers those with a 400
    problem (422 means out of distribution here), so its entries are removed."""
    fastapi_ref = _REF + "HTTPValidationError"
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            answers = op.get("responses", {})
            for code in list(answers):
                content = answers[code].get("content", {})
                refs = [m.get("schema", {}).get("$ref") for m in content.values()]
                if fastapi_ref in refs:
                    del answers[code]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _predict_request_schema() -> dict[str, Any]:
    row = {"$ref": _REF + "InputRow"}
    return {
        "description": "One row, a batch of rows, or a batch as columns of equal length.",
        "oneOf": [
            {
                "type": "object",
                "properties": {"instance": row},
                "required": ["instance"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"instances": {"type": "array", "items": row}},
                "required": ["instances"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "instances": {
                        "type": "object",
                        "additionalProperties": {"type": "array"},
                    }
                },
                "required": ["instances"],
                "additionalProperties": False,
            },
        ],
    }


FEEDBACK_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF + "FeedbackRequest"}}},
    }
}

PREDICT_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF + "PredictRequest"}}},
    }
}
