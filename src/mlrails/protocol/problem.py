"""RFC 9457 problem documents: one typed, documented problem per non-200 outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlrails.protocol.status import Outcome

PROBLEM_BASE = "https://mlrails.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A problem kind: its URI (``type``), human title and the outcome it belongs to."""

    slug: str
    title: str
    outcome: Outcome
    description: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


INVALID_INPUT = ProblemType(
    "invalid-input",
    "Input violates the model's input contract",
    Outcome.INVALID_INPUT,
    "The request or a row is malformed or breaks the contract learnt from training data "
    "(types, columns, ranges, categories, missing values). Fix the caller.",
)
OUT_OF_DISTRIBUTION = ProblemType(
    "out-of-distribution",
    "Input is out of the model's training distribution",
    Outcome.OUT_OF_DISTRIBUTION,
    "The input is valid but unlike the data the model was trained on; its answer would not "
    "be trustworthy. Use a fallback.",
)
ADVERSARIAL = ProblemType(
    "adversarial-input",
    "Suspected adversarial input",
    Outcome.ADVERSARIAL,
    "The input shows signs of manipulation aimed at the model. Refused; do not retry.",
)
LOW_CONFIDENCE = ProblemType(
    "low-confidence",
    "Prediction is not authoritative",
    Outcome.NOT_AUTHORITATIVE,
    "The model answered, but with low confidence or a warn-mode safeguard fired. Route the "
    "prediction to review or a fallback.",
)
MODEL_ERROR = ProblemType(
    "model-error",
    "The model raised an error",
    Outcome.MODEL_ERROR,
    "The model failed on this input; the error class is named in the detail.",
)
MIXED = ProblemType(
    "mixed-batch",
    "Batch has mixed outcomes",
    Outcome.MIXED,
    "Not every item of the batch passed; see the status of each item.",
)

PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (INVALID_INPUT, OUT_OF_DISTRIBUTION, ADVERSARIAL, LOW_CONFIDENCE, MODEL_ERROR, MIXED)
}


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
