"""The verdict: what the guard says about one input, as a typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlrails.contract.validate import Violation
from mlrails.protocol.problem import Problem
from mlrails.protocol.status import Outcome

if TYPE_CHECKING:
    from mlrails.explain.contributions import FeatureContribution


@dataclass(slots=True)
class SafeguardResult:
    """One safeguard's evidence for one input.

    ``latency_ms`` is the safeguard's time on the whole batch divided by the batch size
    (safeguards run vectorised over the batch).
    """

    name: str
    mode: str
    triggered: bool
    score: float | None = None
    threshold: float | None = None
    latency_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "triggered": self.triggered,
            "score": self.score,
            "threshold": self.threshold,
            "latency_ms": round(self.latency_ms, 4),
            **({"details": self.details} if self.details else {}),
        }


@dataclass(slots=True)
class Confidence:
    """Confidence of a classification, computed on calibrated probabilities."""

    max_probability: float
    margin: float
    entropy: float

    def to_dict(self) -> dict[str, float]:
        return {
            "max_probability": self.max_probability,
            "margin": self.margin,
            "entropy": self.entropy,
        }


@dataclass(slots=True)
class OODAttribution:
    """Which features made a row unusual: the OOD ``score`` split by input feature.

    ``contributions``: the ``top_k`` features by contribution, largest first (one-hot
    columns summed onto their input column); ``remainder``: the other features' summed
    contributions; ``offset``: the part not attributed to any feature, so that
    ``offset + sum(contributions) + remainder == score``. ``exact``: the offset is a constant
    of the detector (false when part of the score has no per-feature split, e.g. the
    isolation forest inside the ensemble).
    """

    detector: str
    score: float
    offset: float
    exact: bool
    contributions: list[FeatureContribution]
    remainder: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "score": self.score,
            "offset": self.offset,
            "exact": self.exact,
            "contributions": [c.to_dict() for c in self.contributions],
            "remainder": self.remainder,
        }


@dataclass(slots=True)
class Verdict:
    """One input's outcome: status code, RFC 9457 fields, prediction and the evidence.

    ``prediction`` is ``None`` when the input was refused (400, 403, 422, 500).
    """

    status: int
    outcome: Outcome
    problem: str | None = None
    title: str | None = None
    detail: str | None = None
    prediction: Any = None
    probabilities: dict[str, float] | None = None
    confidence: Confidence | None = None
    prediction_set: list[Any] | None = None
    interval: tuple[float, float] | None = None
    safeguards: list[SafeguardResult] = field(default_factory=list)
    errors: list[Violation] = field(default_factory=list)
    explanation: Any = None
    #: for a row the OOD detector flagged: which features made it unusual
    ood_contributions: OODAttribution | None = None
    artifact_hash: str = ""
    latency_ms: float = 0.0
    row: int | None = None

    @property
    def ok(self) -> bool:
        """True when every safeguard passed (status 200)."""
        return self.outcome is Outcome.OK

    def safeguard(self, name: str) -> SafeguardResult | None:
        return next((s for s in self.safeguards if s.name == name), None)

    def to_problem(self) -> Problem | None:
        """The RFC 9457 problem document, or None for a 200 verdict."""
        if self.problem is None:
            return None
        ext: dict[str, Any] = {
            "outcome": self.outcome.value,
            "safeguards": [s.to_dict() for s in self.safeguards],
            "artifact_hash": self.artifact_hash,
        }
        if self.errors:
            ext["errors"] = [e.to_dict() for e in self.errors]
        if self.prediction is not None:
            ext["prediction"] = _jsonable(self.prediction)
        if self.explanation is not None:
            ext["explanation"] = self.explanation.to_dict()
        if self.ood_contributions is not None:
            ext["ood_contributions"] = self.ood_contributions.to_dict()
        if self.row is not None:
            ext["row"] = self.row
        return Problem(
            type=self.problem,
            title=self.title or "",
            status=self.status,
            detail=self.detail or "",
            extensions=ext,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the HTTP service and ``mlrails check --json`` return)."""
        return {
            "row": self.row,
            "status": self.status,
            "outcome": self.outcome.value,
            "problem": self.problem,
            "title": self.title,
            "detail": self.detail,
            "prediction": _jsonable(self.prediction),
            "probabilities": self.probabilities,
            "confidence": None if self.confidence is None else self.confidence.to_dict(),
            "prediction_set": None
            if self.prediction_set is None
            else [_jsonable(v) for v in self.prediction_set],
            "interval": None if self.interval is None else list(self.interval),
            "safeguards": [s.to_dict() for s in self.safeguards],
            "errors": [e.to_dict() for e in self.errors],
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
            "ood_contributions": None
            if self.ood_contributions is None
            else self.ood_contributions.to_dict(),
            "artifact_hash": self.artifact_hash,
            "latency_ms": round(self.latency_ms, 4),
        }


def _jsonable(value: Any) -> Any:
    """A NumPy scalar as its Python value; any other value as it is.

    Not :func:`mlrails._json.jsonable`: ``to_dict`` keeps the prediction the model gave (a
    NaN, a tuple, a date); the writer decides its JSON (the service's strict JSON is
    :func:`mlrails._json.dumps`).
    """
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
