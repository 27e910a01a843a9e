"""One small rule per rubric item: what the evidence says about it, or ``None`` (can't tell).

:func:`evaluate` runs every rule in :data:`RULES` (one per id of
:data:`mlrails.score.rubrics.ITEMS`) on the facts :func:`mlrails.score.evidence.collect` read.
Each returns a :class:`~mlrails.score.report.RuleResult`: a score on the item's scale, the rule
as it applied (what was checked, with the numbers found), the evidence (source and fact) and
the next concrete step.

Conventions, conservative on purpose:

* **Robustness** (0–4): one point per condition met, the conditions listed in the rule text
  (met ones first, the others after "not shown:"); the next step is the first unmet one.
* **ML Test Score**: 1 only when the check runs automatically and repeatedly (a CI file runs
  it, or the service does it on every request or periodically); 0.5 when a manual, documented
  run exists (a bench record, descriptors, a mismatch report, a Makefile target); 0 when the
  source that would show it was given and does not.
* ``None`` when the sources that bear on the item were not given (or were unusable), and for
  items that are organisational (privacy review, compliance, A/B tests, canaries...): the
  answers file decides those; the rule still lists the related evidence.

The rules are registered (:func:`~mlrails.score.rules.common.rule`) by the modules of the
rubrics, in rubric order: :mod:`.robustness_model` (data, training, evaluation),
:mod:`.robustness_system` (deployment, operations, security), then :mod:`.mltest`.
"""

from __future__ import annotations

from mlrails.score.facts import Evidence
from mlrails.score.report import RuleResult
from mlrails.score.rubrics import ITEMS
from mlrails.score.rules.common import RULES, Rule, rule

# isort: split
# the rubric modules register their rules on import, in rubric order (robustness first)
from mlrails.score.rules import robustness_model, robustness_system

# isort: split
from mlrails.score.rules import mltest

__all__ = [
    "AUTOMATIC",
    "ORGANISATIONAL",
    "RULES",
    "Rule",
    "evaluate",
    "mltest",
    "robustness_model",
    "robustness_system",
    "rule",
]


def evaluate(evidence: Evidence) -> dict[str, RuleResult]:
    """A :class:`RuleResult` for every rubric item (scores clipped to the item's scale)."""
    out: dict[str, RuleResult] = {}
    for item_id, item in ITEMS.items():
        if item_id in RULES:
            result = RULES[item_id](evidence)
        else:
            result = RuleResult(None, "no rule reads evidence")
        if result.score is not None and result.score not in item.allowed:
            raise AssertionError(f"rule {item_id} gave {result.score}, not on its scale")
        out[item_id] = result
    return out


#: items no evidence can score (their rules always return ``None``, listing related facts):
#: the answers file decides them
ORGANISATIONAL: frozenset[str] = frozenset(
    {
        "robustness.data.privacy",
        "robustness.evaluation.counterfactual",
        "robustness.deployment.rollout",
        "robustness.operations.impact",
        "robustness.security.compliance",
        "robustness.security.encryption",
        "mltest.data.2",
        "mltest.data.3",
        "mltest.data.4",
        "mltest.data.5",
        "mltest.data.6",
        "mltest.model.2",
        "mltest.model.3",
        "mltest.model.4",
        "mltest.model.6",
        "mltest.model.7",
        "mltest.infrastructure.6",
        "mltest.infrastructure.7",
        "mltest.monitoring.4",
    }
)
#: items a rule can score from evidence (when the source that bears on it is given)
AUTOMATIC: frozenset[str] = frozenset(set(ITEMS) - ORGANISATIONAL)
