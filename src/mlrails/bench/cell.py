"""One cell of a benchmark grid: a perturbation at one severity and seed, measured.

The cell perturbs the clean test rows, asks the bare model for probabilities (its quality)
and the rails for verdicts (their grade), and records its wall time. A cell that fails keeps
its error message instead of stopping the grid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.bench.metrics import ModelMetrics, RailsGrade, grade_rails, model_metrics
from mlrails.bench.perturbations import Perturbation, check_severity, make
from mlrails.guard.rails import Rails


@dataclass(frozen=True)
class CellSpec:
    """What one cell runs: ``perturbation`` (a registered name, or ``"none"`` for the clean
    rows) at ``severity`` 1–5 with ``seed``."""

    perturbation: str
    severity: int
    seed: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.perturbation}/s{self.severity}/seed{self.seed}"


@dataclass(frozen=True)
class CellResult:
    """A cell's measurements, or its error."""

    spec: CellSpec
    model: ModelMetrics | None
    rails: RailsGrade | None
    wall_s: float
    error: str | None = None


def run_cell(
    rails: Rails,
    X: Any,
    y: NDArray[Any],
    spec: CellSpec,
    reference: Any = None,
    perturbation: Perturbation | None = None,
) -> CellResult:
    """Measure the model and the rails on ``X, y`` perturbed as ``spec`` says; the
    perturbation is fitted on ``reference`` (default: ``X``) unless given fitted."""
    t0 = time.perf_counter()
    try:
        if spec.perturbation == "none":
            Xp, yp = X, np.asarray(y)
        else:
            check_severity(spec.severity)
            p = perturbation or make(spec.perturbation, **spec.params).fit(
                X if reference is None else reference, y
            )
            Xp, yp = p(X, y, spec.severity, spec.seed)
        adapter = rails.adapter
        proba = np.asarray(adapter.predict_proba(Xp), dtype=np.float64)
        classes = adapter.classes_ if adapter.classes_ is not None else np.arange(proba.shape[1])
        y_model = np.asarray(classes)[np.argmax(proba, axis=1)]
        verdicts = rails.check(Xp, explain=False)
        ok = rails.policy.status_codes.ok
        return CellResult(
            spec,
            model_metrics(yp, proba, classes),
            grade_rails(yp, y_model, verdicts, ok=ok),
            time.perf_counter() - t0,
        )
    except Exception as exc:  # a failing cell is recorded, the grid goes on
        msg = (str(exc).splitlines() or [""])[0][:300]
        return CellResult(
            spec, None, None, time.perf_counter() - t0, f"{type(exc).__name__}: {msg}"
        )
