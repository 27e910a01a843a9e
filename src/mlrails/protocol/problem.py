"""RFC 9457 problem documents: one typed, documented problem kind per non-200 answer.

:class:`ProblemType` is a kind of problem (its ``type`` URI, title and description); the
guard's kinds (invalid input, out of distribution, adversarial, low confidence, model error,
mixed batch) carry the :class:`Outcome` that picks their status code, the HTTP service's own
(a body that is not JSON, a missing key, an unknown route, a body too large, a rate limit, an
unavailable store, a timeout, ...) have none: the service gives their status. A
:class:`Problem` is one document; :meth:`Problem.to_dict` is the one place its members are laid
out. Every non-200 answer of mlrails is one of these kinds, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlrails.protocol.status import Outcome

PROBLEM_BASE = "https://mlrails.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A problem kind: its URI (``type``), human title, description and, for the guard's
    kinds, the outcome it belongs to."""

    slug: str
    title: str
    description: str
    outcome: Outcome | None = None

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def problem(
        self,
        status: int,
        detail: str,
        *,
        instance: str | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Problem:
        """One problem of this kind, answered with ``status``."""
        return Problem(self.uri, self.title, status, detail, instance, dict(extensions or {}))


@dataclass
class Problem:
    """An RFC 9457 problem document with mlrails' evidence extensions."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``type``, ``title``, ``status``, ``detail``, ``instance`` (when set), then the
        extension members in their order."""
        doc: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.instance is not None:
            doc["instance"] = self.instance
        doc.update(self.extensions)
        return doc


# -- the guard's problems ----------------------------------------------------------------------
INVALID_INPUT = ProblemType(
    "invalid-input",
    "Input violates the model's input contract",
    "The request or a row is malformed or breaks the contract learnt from training data "
    "(types, columns, ranges, categories, missing values). Fix the caller.",
    Outcome.INVALID_INPUT,
)
OUT_OF_DISTRIBUTION = ProblemType(
    "out-of-distribution",
    "Input is out of the model's training distribution",
    "The input is valid but unlike the data the model was trained on; its answer would not "
    "be trustworthy. Use a fallback.",
    Outcome.OUT_OF_DISTRIBUTION,
)
ADVERSARIAL = ProblemType(
    "adversarial-input",
    "Suspected adversarial input",
    "The input shows signs of manipulation aimed at the model. Refused; do not retry.",
    Outcome.ADVERSARIAL,
)
LOW_CONFIDENCE = ProblemType(
    "low-confidence",
    "Prediction is not authoritative",
    "The model answered, but with low confidence or a warn-mode safeguard fired. Route the "
    "prediction to review or a fallback.",
    Outcome.NOT_AUTHORITATIVE,
)
MODEL_ERROR = ProblemType(
    "model-error",
    "The model raised an error",
    "The model failed on this input; the error class is named in the detail.",
    Outcome.MODEL_ERROR,
)
MIXED = ProblemType(
    "mixed-batch",
    "Batch has mixed outcomes",
    "Not every item of the batch passed; see the status of each item.",
    Outcome.MIXED,
)

#: the guard's problem kinds by slug
PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (INVALID_INPUT, OUT_OF_DISTRIBUTION, ADVERSARIAL, LOW_CONFIDENCE, MODEL_ERROR, MIXED)
}

# -- the HTTP service's problems ---------------------------------------------------------------
MALFORMED_REQUEST = ProblemType(
    "malformed-request",
    "The request body is not a valid request",
    "The body is not JSON, or not one of the shapes its endpoint accepts (a prediction: "
    "{instance: {...}}, {instances: [...]}, {instances: {column: [...]}}; label feedback: "
    "{labels: [{trace_id, row, label}, ...]}). Fix the caller.",
)
UNAUTHORIZED = ProblemType(
    "unauthorized",
    "Missing or invalid API key",
    "Send a valid, unrevoked key as 'Authorization: Bearer TOKEN'.",
)
CROSS_SITE = ProblemType(
    "cross-site-request",
    "Cross-site request refused",
    "A form of the web UI was posted from another site (Origin or Sec-Fetch-Site); send it "
    "from the UI's own pages.",
)
NOT_FOUND = ProblemType("not-found", "No such resource", "The path is not served here.")
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed",
    "Method not allowed",
    "The resource exists but not with this method; see the Allow header.",
)
PAYLOAD_TOO_LARGE = ProblemType(
    "payload-too-large",
    "Request too large",
    "The body or the batch exceeds the service's limit; split it into smaller requests.",
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    "Unsupported request body type",
    "The body must be JSON (Content-Type application/json) and not encoded "
    "(no Content-Encoding but identity).",
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    "Rate limit exceeded",
    "This key sent more requests than its rate allows; retry after Retry-After seconds.",
)
UNAVAILABLE = ProblemType(
    "unavailable",
    "Service unavailable",
    "The decision log cannot record the request right now, so no answer is given; "
    "retry after Retry-After seconds.",
)
NOT_READY = ProblemType(
    "not-ready",
    "Service not ready",
    "The model or the decision log is not available yet.",
)
TIMEOUT = ProblemType(
    "timeout",
    "The model exceeded its time limit",
    "The guarded model call took longer than the service's time limit.",
)
BAD_GATEWAY = ProblemType(
    "bad-gateway",
    "The upstream model failed",
    "In proxy mode (--upstream) the model served elsewhere refused the call, could not be "
    "reached or answered something that is not a prediction; fall back.",
)
INTERNAL_ERROR = ProblemType(
    "internal-error",
    "Internal error",
    "The service failed unexpectedly; the trace id identifies the request in its logs.",
)

#: the HTTP service's own problem kinds by slug
SERVICE_PROBLEM_TYPES: dict[str, ProblemType] = {
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
    """Every problem type URI mlrails can answer with (the guard's, then the service's)."""
    return [p.uri for p in (*PROBLEM_TYPES.values(), *SERVICE_PROBLEM_TYPES.values())]
