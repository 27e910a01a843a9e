"""The model-to-software protocol: status codes and RFC 9457 problem documents."""

from mlrails.protocol.problem import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPES,
    SERVICE_PROBLEM_TYPES,
    Problem,
    ProblemType,
    all_problem_uris,
)
from mlrails.protocol.status import DEFAULT_CODES, Outcome, StatusTable

__all__ = [
    "DEFAULT_CODES",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "SERVICE_PROBLEM_TYPES",
    "Outcome",
    "Problem",
    "ProblemType",
    "StatusTable",
    "all_problem_uris",
]
