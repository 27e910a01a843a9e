"""The status-code table shared by the library and the HTTP service (see DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

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


#: an HTTP status code
Code = Annotated[int, Field(ge=100, le=599)]


class StatusTable(BaseModel):
    """Outcome → HTTP status code; any entry may be overridden by the policy."""

    model_config = ConfigDict(extra="forbid")

    ok: Code = 200
    not_authoritative: Code = 203
    mixed: Code = 207
    invalid_input: Code = 400
    unauthorized: Code = 401
    adversarial: Code = 403
    out_of_distribution: Code = 422
    rate_limited: Code = 429
    model_error: Code = 500
    upstream_error: Code = 502
    unavailable: Code = 503
    timeout: Code = 504

    def code(self, outcome: Outcome) -> int:
        return int(getattr(self, outcome.value))


#: the default code of each outcome (the defaults of :class:`StatusTable`, one field each)
DEFAULT_CODES: dict[Outcome, int] = {o: StatusTable().code(o) for o in Outcome}
