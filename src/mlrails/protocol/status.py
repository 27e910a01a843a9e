"""The status-code table shared by the library and the HTTP service (see DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    """What happened to one input, independent of how it is encoded as a status code."""

    OK = "ok"
    NOT_AUTHORITATIVE = "not_authoritative"
    MIXED = "mixed"
    INVALID_INPUT = "invalid_input"
    UNAUTHORIZED = "unauthorized"
    ADVERSARIAL = "adversarial"
    OUT_OF_DISTRIBUTION = "out_of_distribution"
    RATE_LIMITED = "rate_limited"
    MODEL_ERROR = "model_error"
    UPSTREAM_ERROR = "upstream_error"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"


DEFAULT_CODES: dict[Outcome, int] = {
    Outcome.OK: 200,
    Outcome.NOT_AUTHORITATIVE: 203,
    Outcome.MIXED: 207,
    Outcome.INVALID_INPUT: 400,
    Outcome.UNAUTHORIZED: 401,
    Outcome.ADVERSARIAL: 403,
    Outcome.OUT_OF_DISTRIBUTION: 422,
    Outcome.RATE_LIMITED: 429,
    Outcome.MODEL_ERROR: 500,
    Outcome.UPSTREAM_ERROR: 502,
    Outcome.UNAVAILABLE: 503,
    Outcome.TIMEOUT: 504,
}


class StatusTable(BaseModel):
    """Outcome → HTTP status code; any entry may be overridden by the policy."""

    model_config = ConfigDict(extra="forbid")

    ok: int = Field(200, ge=100, le=599)
    not_authoritative: int = Field(203, ge=100, le=599)
    mixed: int = Field(207, ge=100, le=599)
    invalid_input: int = Field(400, ge=100, le=599)
    unauthorized: int = Field(401, ge=100, le=599)
    adversarial: int = Field(403, ge=100, le=599)
    out_of_distribution: int = Field(422, ge=100, le=599)
    rate_limited: int = Field(429, ge=100, le=599)
    model_error: int = Field(500, ge=100, le=599)
    upstream_error: int = Field(502, ge=100, le=599)
    unavailable: int = Field(503, ge=100, le=599)
    timeout: int = Field(504, ge=100, le=599)

    def code(self, outcome: Outcome) -> int:
        return int(getattr(self, outcome.value))
