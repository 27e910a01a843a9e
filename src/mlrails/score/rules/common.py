"""The registry of the rubric rules and the helpers the rules of both rubrics share.

:data:`RULES` maps each rubric item id to its rule; :func:`rule` registers one (refusing an id
that is not a rubric item). :class:`Points` is the robustness ladder, ``ev_*`` say where a fact
comes from, :func:`unknown` is the result when the evidence cannot tell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlrails.registry import Registry
from mlrails.score.facts import (
    ArtifactFacts,
    BenchFacts,
    DescriptorFacts,
    Evidence,
    ProjectFacts,
    ServeFacts,
    StoreFacts,
)
from mlrails.score.report import RuleResult
from mlrails.score.rubrics import ITEMS

Rule = Callable[[Evidence], RuleResult]
#: the rule of every rubric item, in registration order
RULES: Registry[Rule] = Registry("rubric rule")

ANSWER = "answer it in the answers file (mlrails score --init), with what backs it"


def rule(item_id: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` as the rule of ``item_id``."""
    if item_id not in ITEMS:
        raise ValueError(f"unknown rubric item {item_id!r}")

    def register(fn: Rule) -> Rule:
        return RULES.add(item_id, fn)

    return register


@dataclass
class Points:
    """A robustness ladder: one point per condition met (at most 4)."""

    met: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    points: int = 0

    def add(self, ok: bool, met: str, unmet: str, step: str, weight: int = 1) -> None:
        """A condition worth ``weight`` points (``met``/``unmet``: how the rule text says it)."""
        if ok:
            self.met.append(met if weight == 1 else f"{met} (+{weight})")
            self.points += weight
        else:
            self.unmet.append(unmet)
            self.steps.append(step)

    def see(self, *evidence: str) -> None:
        self.evidence.extend(evidence)

    def result(self) -> RuleResult:
        score = float(min(4, self.points))
        text = f"{score:g}/4: " + ("; ".join(self.met) if self.met else "no condition met")
        if self.unmet:
            text += " — not shown: " + "; ".join(self.unmet)
        step = self.steps[0] if self.steps else "keep it up: every condition is met"
        return RuleResult(score, text, tuple(self.evidence), step)


def unknown(why: str, step: str, *evidence: str) -> RuleResult:
    """The evidence cannot tell: the answers file decides."""
    return RuleResult(None, why, tuple(evidence), step)


def ev_artifact(a: ArtifactFacts, what: str) -> str:
    return f"artifact {a.path}: {what}"


def ev_desc(d: DescriptorFacts, what: str) -> str:
    return f"descriptors {d.directory}: {what}"


def ev_bench(b: BenchFacts, what: str) -> str:
    paths = ", ".join(r.path for r in b.records[:3]) + (" ..." if len(b.records) > 3 else "")
    return f"bench {paths}: {what}"


def ev_store(s: StoreFacts, what: str) -> str:
    return f"store {s.display}: {what}"


def ev_serve(s: ServeFacts, what: str) -> str:
    return f"serve settings {s.path}: {what}"


def ev_project(p: ProjectFacts, what: str) -> str:
    return f"project {p.path}: {what}"


def ci_where(p: ProjectFacts, kind: str) -> str:
    return ", ".join(p.automated.get(kind) or p.documented.get(kind) or ())


def served(s: StoreFacts | None) -> bool:
    return s is not None and s.decisions > 0


def on(mode: str) -> bool:
    return mode != "off"


def drift_service(e: Evidence) -> bool:
    """The service checks drift periodically against a reference kept in the artifact."""
    return (
        e.serve is not None
        and e.serve.drift_every_s is not None
        and e.artifact is not None
        and bool(e.artifact.drift_reference)
    )
