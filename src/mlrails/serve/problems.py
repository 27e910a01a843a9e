"""RFC 9457 problem documents for what the HTTP layer itself refuses.

The guard's own problems (invalid input, out of distribution, adversarial, low confidence,
model error) come from :mod:`mlrails.protocol`; these are the service's: a body that is not
JSON, a missing key, an unknown route, a body too large, a rate limit, an unavailable store,
a timeout. Every non-200 response of the service is one of the two, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from mlrails._json import dumps
from mlrails.protocol.problem import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, PROBLEM_TYPES


@dataclass(frozen=True)
class HttpProblem:
    """A problem kind raised by the service (not by the guard) and its fixed title."""

    slug: str
    title: str
    description: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


MALFORMED_REQUEST = HttpProblem(
    "malformed-request",
    "The request body is not a valid prediction request",
    "The body is not JSON, or not one of the accepted shapes ({instance: {...}}, "
    "{instances: [...]}, {instances: {column: [...]}}). Fix the caller.",
)
UNAUTHORIZED = HttpProblem(
    "unauthorized",
    "Missing or invalid API key",
    "Send a valid, unrevoked key as 'Authorization: Bearer TOKEN'.",
)
CROSS_SITE = HttpProblem(
    "cross-site-request",
    "Cross-site request refused",
    "A form of the web UI was posted from another site (Origin or Sec-Fetch-Site); send it "
    "from the UI's own pages.",
)
NOT_FOUND = HttpProblem("not-found", "No such resource", "The path is not served here.")
METHOD_NOT_ALLOWED = HttpProblem(
    "method-not-allowed",
    "Method not allowed",
    "The resource exists but not with this method; see the Allow header.",
)
PAYLOAD_TOO_LARGE = HttpProblem(
    "payload-too-large",
    "Request too large",
    "The body or the batch exceeds the service's limit; split it into smaller requests.",
)
UNSUPPORTED_MEDIA_TYPE = HttpProblem(
    "unsupported-media-type",
    "Unsupported request body type",
    "The body must be JSON (Content-Type application/json) and not encoded "
    "(no Content-Encoding but identity).",
)
RATE_LIMITED = HttpProblem(
    "rate-limited",
    "Rate limit exceeded",
    "This key sent more requests than its rate allows; retry after Retry-After seconds.",
)
UNAVAILABLE = HttpProblem(
    "unavailable",
    "Service unavailable",
    "The decision log cannot record the request right now, so no answer is given; "
    "retry after Retry-After seconds.",
)
NOT_READY = HttpProblem(
    "not-ready",
    "Service not ready",
    "The model or the decision log is not available yet.",
)
TIMEOUT = HttpProblem(
    "timeout",
    "The model exceeded its time limit",
    "The guarded model call took longer than the service's time limit.",
)
BAD_GATEWAY = HttpProblem(
    "bad-gateway",
    "The upstream model failed",
    "In proxy mode (--upstream) the model served elsewhere refused the call, could not be "
    "reached or answered something that is not a prediction; fall back.",
)
INTERNAL_ERROR = HttpProblem(
    "internal-error",
    "Internal error",
    "The service failed unexpectedly; the trace id identifies the request in its logs.",
)

HTTP_PROBLEMS: dict[str, HttpProblem] = {
    p.slug: p
    for p in (
        MALFORMED_REQUEST,
        UNAUTHORIZED,
        CROSS_SITE,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        RATE_LIMITED,
        UNAVAILABLE,
        NOT_READY,
        TIMEOUT,
        BAD_GATEWAY,
        INTERNAL_ERROR,
    )
}


def all_problem_uris() -> list[str]:
    """Every problem type URI the service can answer with (guard's and service's)."""
    return [p.uri for p in PROBLEM_TYPES.values()] + [p.uri for p in HTTP_PROBLEMS.values()]


class ServeError(Exception):
    """Raised inside the app to answer with a problem document (handled centrally)."""

    def __init__(
        self,
        kind: HttpProblem,
        status: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    def document(self) -> dict[str, Any]:
        return problem_document(self.kind, self.status, self.detail, self.extensions)

    def response(self) -> Response:
        return json_response(self.document(), self.status, self.headers, PROBLEM_MEDIA_TYPE)


def problem_document(
    kind: HttpProblem, status: int, detail: str, extensions: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": kind.uri, "title": kind.title, "status": status}
    doc["detail"] = detail
    doc.update(extensions or {})
    return doc


def json_response(
    body: Any,
    status: int,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A response with strict JSON (non-finite floats become null, never a 500)."""
    return Response(dumps(body), status_code=status, headers=headers, media_type=media_type)
