"""Reports with known scores for the score tests, computed by hand in the tests."""

from __future__ import annotations

from datetime import UTC, datetime

from mlrails.score.engine import combine
from mlrails.score.report import Answer, Gap, RuleResult, ScoreReport

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

#: robustness answers: data 4+3+2 = 9, training 1, evaluation 0, deployment 4*4 = 16,
#: operations 3, security 4+2 = 6; total 35
ROBUSTNESS_ANSWERS = {
    "robustness.data.quality": 4,
    "robustness.data.privacy": 3,
    "robustness.data.bias": 2,
    "robustness.training.metrics": 1,
    "robustness.deployment.infrastructure": 4,
    "robustness.deployment.rollout": 4,
    "robustness.deployment.monitoring": 4,
    "robustness.deployment.updates": 4,
    "robustness.operations.cicd": 3,
    "robustness.security.access": 4,
    "robustness.security.failures": 2,
}
#: ML Test answers: data 7 * 1 = 7, model 3 * 0.5 = 1.5, infrastructure 1 + 1 + 0.5 = 2.5,
#: monitoring 1 + 1 + 1 = 3; final min = 1.5 (model)
MLTEST_ANSWERS = {
    **{f"mltest.data.{i}": 1.0 for i in range(1, 8)},
    "mltest.model.1": 0.5,
    "mltest.model.2": 0.5,
    "mltest.model.3": 0.5,
    "mltest.infrastructure.1": 1.0,
    "mltest.infrastructure.2": 1.0,
    "mltest.infrastructure.3": 0.5,
    "mltest.monitoring.1": 1.0,
    "mltest.monitoring.2": 1.0,
    "mltest.monitoring.3": 1.0,
}


def answers(scores: dict[str, float], notes: dict[str, str] | None = None) -> dict[str, Answer]:
    notes = notes or {}
    return {k: Answer(k, float(v), notes.get(k)) for k, v in scores.items()}


def known_report(
    *,
    results: dict[str, RuleResult] | None = None,
    notes: dict[str, str] | None = None,
    gaps: tuple[Gap, ...] = (),
    time: datetime = T0,
) -> ScoreReport:
    given = answers({**ROBUSTNESS_ANSWERS, **MLTEST_ANSWERS}, notes)
    return combine(results or {}, given, gaps, {"project": "."}, time=time)
