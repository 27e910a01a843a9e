"""What ``fit`` learnt, as typed records: for the CLI table and the artifact manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlrails.guard.budget import BudgetSummary


@dataclass
class CalibrationSummary:
    """Calibration quality measured on the calibration split."""

    method: str
    ece_before: float | None
    ece_after: float | None
    nll_before: float | None = None
    nll_after: float | None = None


@dataclass
class SafeguardSummary:
    """One safeguard's threshold and its false-alarm rate, target and realised."""

    name: str
    mode: str
    threshold: float | None
    target_fpr: float | None
    realised_fpr: float | None
    n_calibration: int | None


@dataclass
class FitSummary:
    """What ``fit`` learnt, for humans (CLI table) and machines (artifact manifest)."""

    task: str
    n_train: int
    n_calibration: int
    safeguards: list[SafeguardSummary] = field(default_factory=list)
    calibration: CalibrationSummary | None = None
    conformal_coverage: float | None = None
    calibration_accuracy: float | None = None
    notes: list[str] = field(default_factory=list)
    #: the budgets and what they bought (None: artifacts written before budgets existed)
    budget: BudgetSummary | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitSummary:
        """Rebuild a summary from its manifest form (``dataclasses.asdict`` of one)."""
        cal = d.get("calibration")
        return cls(
            task=d.get("task", ""),
            n_train=int(d.get("n_train", 0)),
            n_calibration=int(d.get("n_calibration", 0)),
            safeguards=[SafeguardSummary(**s) for s in d.get("safeguards", [])],
            calibration=None if cal is None else CalibrationSummary(**cal),
            conformal_coverage=d.get("conformal_coverage"),
            calibration_accuracy=d.get("calibration_accuracy"),
            notes=list(d.get("notes", [])),
            budget=None if d.get("budget") is None else BudgetSummary.from_dict(d["budget"]),
        )
