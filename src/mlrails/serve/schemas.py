"""Typed documents the service returns, as pydantic models (they also feed the OpenAPI doc).

The verdict models mirror :meth:`mlrails.Verdict.to_dict`; :class:`ProblemDocument` is the
RFC 9457 shape every non-200 response has (extension members allowed).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlrails.guard.rails import Rails
from mlrails.store.labels import MAX_ROW, TRACE_ID_PATTERN


class SafeguardDocument(BaseModel):
    """One safeguard's evidence for one row."""

    name: str
    mode: str
    triggered: bool
    score: float | None = None
    threshold: float | None = None
    latency_ms: float = 0.0
    details: dict[str, Any] | None = None


class ViolationDocument(BaseModel):
    """One broken promise of the input contract."""

    field: str
    code: str
    value: Any = None
    expected: str


class ConfidenceDocument(BaseModel):
    max_probability: float | None = None
    margin: float | None = None
    entropy: float | None = None


class VerdictDocument(BaseModel):
    """One row's verdict (the body of a single-instance 200)."""

    model_config = ConfigDict(extra="allow")

    row: int | None = None
    status: int
    outcome: str
    problem: str | None = None
    title: str | None = None
    detail: str | None = None
    prediction: Any = None
    probabilities: dict[str, float | None] | None = None
    confidence: ConfidenceDocument | None = None
    prediction_set: list[Any] | None = None
    interval: list[float | None] | None = None
    safeguards: list[SafeguardDocument] = Field(default_factory=list)
    errors: list[ViolationDocument] = Field(default_factory=list)
    explanation: Any = None
    ood_contributions: Any = Field(
        None, description="rows flagged out of distribution: each feature's part of the score"
    )
    artifact_hash: str = ""
    latency_ms: float = 0.0
    trace_id: str | None = Field(None, description="identifies the request in the decision log")


class ProblemDocument(BaseModel):
    """RFC 9457 problem document; mlrails adds evidence members (``safeguards``,
    ``errors``, ``prediction``, ``verdicts``, ``trace_id`` ...)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="problem type URI, e.g. https://mlrails.dev/problems/...")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="urn:mlrails:trace:<trace id>")
    trace_id: str | None = None


class BatchDocument(BaseModel):
    """A batch where every row passed (200); a mixed batch is a 207 problem with the same
    ``verdicts`` and ``status_counts`` members."""

    status: int
    trace_id: str
    artifact_hash: str
    n: int
    status_counts: dict[str, int]
    verdicts: list[VerdictDocument]


class LabelDocument(BaseModel):
    """The true value of one logged decision row (an item of ``POST /v1/feedback``).

    Bounds are in the descriptions, not ``minimum``/``maximum``: the public document carries
    no such keys, so none can be read as a contract range (see ``serve/openapi.py``)."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str = Field(
        pattern=TRACE_ID_PATTERN,
        description="the trace id of the prediction's request (its answer's X-Trace-Id)",
    )
    row: int = Field(
        0,
        description=f"the row's index in that request's batch, 0 to {MAX_ROW} (0: one row)",
    )
    label: str | int | float | bool = Field(description="the true value: a class or a number")


class FeedbackRequest(BaseModel):
    """The body of ``POST /v1/feedback``: labels of decisions already logged."""

    model_config = ConfigDict(extra="forbid")

    labels: list[LabelDocument]


class FeedbackCountsDocument(BaseModel):
    """What became of the labels of one ``POST /v1/feedback``."""

    matched: int = Field(description="first label of a logged decision row: stored")
    unknown: int = Field(description="no logged decision row has that trace id and row")
    duplicate: int = Field(description="the value already stored: nothing changed")
    changed: int = Field(description="another value for a labelled row: the latest wins")


class SafeguardInfo(BaseModel):
    """A fitted safeguard's threshold and its false-alarm rate, target and realised."""

    name: str
    mode: str
    threshold: float | None
    target_fpr: float | None
    realised_fpr: float | None
    n_calibration: int | None


class ArtifactInfo(BaseModel):
    """What the served artifact is and how its alarms were set (``GET /v1/artifact``)."""

    artifact_hash: str
    task: str
    n_train: int
    n_calibration: int
    safeguards: list[SafeguardInfo]
    calibration: dict[str, Any] | None
    conformal_coverage: float | None
    calibration_accuracy: float | None
    notes: list[str]
    policy: dict[str, Any]
    manifest: dict[str, Any]

    @classmethod
    def of(cls, rails: Rails) -> ArtifactInfo:
        s = rails.summary
        return cls(
            artifact_hash=rails.artifact_hash,
            task=s.task,
            n_train=s.n_train,
            n_calibration=s.n_calibration,
            safeguards=[SafeguardInfo(**dataclasses.asdict(g)) for g in s.safeguards],
            calibration=None if s.calibration is None else dataclasses.asdict(s.calibration),
            conformal_coverage=s.conformal_coverage,
            calibration_accuracy=s.calibration_accuracy,
            notes=list(s.notes),
            policy=rails.policy.model_dump(mode="json"),
            manifest=rails.manifest,
        )


class DriftStatusDocument(BaseModel):
    """The service's latest drift check (``GET /v1/drift``); ``check`` is the comparison
    per field (inputs; prediction and confidence), null before the first check."""

    state: str = Field(description="off, pending, ok, alarm, no_traffic or error")
    every_s: float | None
    window_s: float
    last_run: str | None
    error: str | None
    check: dict[str, Any] | None
    webhook: dict[str, Any] | None


class Health(BaseModel):
    """Liveness: the process answers."""

    status: str = "ok"


class Readiness(BaseModel):
    """Readiness: the model is loaded and a decision can be committed to the log now."""

    status: str
    model: bool
    store: bool = Field(
        description="the database answers (and, SQLite, is still the file at its path)"
    )
    log: bool = Field(
        True,
        description="a decision can be committed now: the latest commit, or a write probe, "
        "succeeded and an async log's queue has room",
    )
    log_error: str | None = Field(None, description="why a decision cannot be committed")
    #: the explainer built at start-up is done (built, or failed: explanations then say so)
    explainer: bool = True
    artifact_hash: str

    @property
    def ready(self) -> bool:
        return self.model and self.store and self.log and self.explainer

    def why_not(self) -> str:
        """The problem detail of a 503: what is missing, and why the log cannot commit."""
        parts = (
            ("model", self.model),
            ("store", self.store),
            ("decision log", self.log),
            ("explainer", self.explainer),
        )
        missing = " and ".join(n for n, ok in parts if not ok)
        why = f" (decision log cannot commit: {self.log_error})" if self.log_error else ""
        return f"{missing} not available{why}"
