"""The typed result of scoring: per item, per section, per rubric, and the whole report.

Every item says where its score came from (``evidence``: a rule read it from artifacts,
descriptors, bench records, the service's store or CI files; ``answer``: the team's answers
file; ``none``: neither, scored 0), the rule that scored it, the evidence it saw, and the next
concrete step to raise it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from mlrails.score.rubrics import (
    MLTEST,
    MLTEST_MAX,
    ROBUSTNESS,
    ROBUSTNESS_MAX,
    Item,
    RubricName,
    Section,
    robustness_band,
)

ScoreSource = Literal["evidence", "answer", "none"]


@dataclass(frozen=True)
class Gap:
    """Something that could not be used as evidence (missing or corrupt file, bad answer)."""

    source: str
    problem: str


@dataclass(frozen=True)
class RuleResult:
    """What a rule concluded for one item from the evidence (``score`` None: it could not
    tell, so the item falls back to the answers file)."""

    score: float | None
    rule: str
    evidence: tuple[str, ...] = ()
    next_step: str = ""


@dataclass(frozen=True)
class ItemScore:
    """One item's score, its origin and how to raise it."""

    item: Item
    score: float
    source: ScoreSource
    rule: str
    evidence: tuple[str, ...]
    next_step: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "rubric": self.item.rubric,
            "section": self.item.section,
            "title": self.item.title,
            "score": self.score,
            "max_score": self.item.max_score,
            "source": self.source,
            "rule": self.rule,
            "evidence": list(self.evidence),
            "next_step": self.next_step,
            "note": self.note,
        }


@dataclass(frozen=True)
class SectionScore:
    """The sum of a section's (category's) items."""

    section: Section
    score: float
    max_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.section.id,
            "title": self.section.title,
            "score": self.score,
            "max_score": self.max_score,
        }


@dataclass(frozen=True)
class RubricScore:
    """A rubric's result. Robustness: ``score`` is the total out of 88 with its band. ML Test
    Score: ``score`` is the minimum of the four section sums (out of 7)."""

    rubric: RubricName
    score: float
    max_score: float
    sections: tuple[SectionScore, ...]
    band: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rubric": self.rubric,
            "score": self.score,
            "max_score": self.max_score,
            "band": self.band,
            "sections": [s.to_dict() for s in self.sections],
        }


def rubric_score(rubric: RubricName, items: dict[str, ItemScore]) -> RubricScore:
    """Sum the sections of ``rubric`` from the item scores and apply its final rule."""
    sections = ROBUSTNESS if rubric == "robustness" else MLTEST
    scored = tuple(
        SectionScore(
            s,
            sum(items[i.id].score for i in s.items),
            sum(i.max_score for i in s.items),
        )
        for s in sections
    )
    if rubric == "robustness":
        total = sum(s.score for s in scored)
        return RubricScore(rubric, total, ROBUSTNESS_MAX, scored, robustness_band(total))
    final = min(s.score for s in scored)
    weakest = min(scored, key=lambda s: s.score)
    band = f"minimum of the section sums: {weakest.section.title.lower()} is the weakest"
    return RubricScore(rubric, final, MLTEST_MAX, scored, band)


@dataclass(frozen=True)
class ScoreReport:
    """Both rubrics, every item, and what could not be used."""

    time: datetime
    robustness: RubricScore
    mltest: RubricScore
    items: tuple[ItemScore, ...]
    gaps: tuple[Gap, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)

    def item(self, item_id: str) -> ItemScore:
        for s in self.items:
            if s.item.id == item_id:
                return s
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "robustness": self.robustness.to_dict(),
            "mltest": self.mltest.to_dict(),
            "items": [s.to_dict() for s in self.items],
            "gaps": [asdict(g) for g in self.gaps],
            "sources": self.sources,
        }


@dataclass(frozen=True)
class Answer:
    """The team's answer for one item (from the answers file): a score on the item's scale,
    and what backs it (a link, a document, who checked)."""

    item_id: str
    score: float
    note: str | None = None
