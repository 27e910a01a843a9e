"""Combine what the rules read from the evidence with the team's answers into a report.

Evidence first: an item a rule could score takes the rule's score (an answer for it is kept
as a note, not used). Otherwise the answer counts; with neither, the item scores 0 and says
what evidence or answer would raise it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mlrails.score.report import (
    Answer,
    Gap,
    ItemScore,
    RuleResult,
    ScoreReport,
    rubric_score,
)
from mlrails.score.rubrics import ITEMS


def combine(
    results: Mapping[str, RuleResult],
    answers: Mapping[str, Answer],
    gaps: Iterable[Gap] = (),
    sources: dict[str, Any] | None = None,
    *,
    time: datetime | None = None,
) -> ScoreReport:
    """One :class:`ItemScore` per rubric item, then both rubrics."""
    unknown = sorted(set(results) - set(ITEMS))
    if unknown:
        raise ValueError(f"rule results for unknown items: {unknown}")
    scored: dict[str, ItemScore] = {}
    for item_id, item in ITEMS.items():
        result = results.get(item_id) or RuleResult(None, "no rule reads evidence for it")
        answer = answers.get(item_id)
        if result.score is not None:
            note = None
            if answer is not None and answer.score != result.score:
                note = f"answers file says {answer.score:g}; the evidence decides"
            scored[item_id] = ItemScore(
                item,
                float(result.score),
                "evidence",
                result.rule,
                result.evidence,
                result.next_step,
                note,
            )
        elif answer is not None:
            scored[item_id] = ItemScore(
                item,
                answer.score,
                "answer",
                "answers file",
                result.evidence + ((f"answer: {answer.note}",) if answer.note else ()),
                result.next_step,
            )
        else:
            step = result.next_step or "answer it in the answers file (mlrails score --init)"
            scored[item_id] = ItemScore(item, 0.0, "none", result.rule, result.evidence, step)
    return ScoreReport(
        time=time or datetime.now(UTC),
        robustness=rubric_score("robustness", scored),
        mltest=rubric_score("mltest", scored),
        items=tuple(scored[i] for i in ITEMS),
        gaps=tuple(gaps),
        sources=dict(sources or {}),
    )
