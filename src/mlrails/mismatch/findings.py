"""Typed findings of ``mlrails mismatch`` and the report that collects them.

A :class:`Finding` says which rule fired, how bad it is, which descriptors and fields (as
``<kind>:<JSONPath>``) are involved, the numbers behind it, which roles must talk to settle it,
and how to fix it. A :class:`MismatchReport` also lists which rules ran, which were skipped (and
why) and the descriptor files that could not be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mlrails.descriptors.common import DescriptorKind

Severity = Literal["error", "warning", "info"]
Role = Literal["data scientist", "software engineer", "operations"]
FailOn = Literal["error", "warning", "never"]
NumberValue = float | int | str | bool | None

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
ROLES: tuple[Role, ...] = ("data scientist", "software engineer", "operations")
_RANK: dict[str, int] = {"error": 2, "warning": 1, "info": 0}

DS: Role = "data scientist"
SE: Role = "software engineer"
OPS: Role = "operations"


def severity_rank(severity: Severity) -> int:
    """2 for error, 1 for warning, 0 for info."""
    return _RANK[severity]


def field_ref(kind: DescriptorKind, path: str) -> str:
    """A field reference as findings write it: ``trained_model:$.inference_time``."""
    return f"{kind}:{path}"


@dataclass(frozen=True)
class Finding:
    """One mismatch (or missing piece of information) between descriptors."""

    rule_id: str
    severity: Severity
    descriptors: tuple[DescriptorKind, ...]
    fields: tuple[str, ...]
    numbers: Mapping[str, NumberValue]
    roles: tuple[Role, ...]
    message: str
    fix_hint: str

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"unknown severity {self.severity!r}")
        bad = [r for r in self.roles if r not in ROLES]
        if bad:
            raise ValueError(f"unknown role(s) {bad}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "descriptors": list(self.descriptors),
            "fields": list(self.fields),
            "numbers": dict(self.numbers),
            "roles": list(self.roles),
            "message": self.message,
            "fix_hint": self.fix_hint,
        }


@dataclass(frozen=True)
class SkippedRule:
    """A rule that did not run, and why (a descriptor it needs is missing or unreadable)."""

    rule_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "reason": self.reason}


@dataclass(frozen=True)
class DescriptorProblem:
    """A descriptor file that could not be read: file, JSON path and problem."""

    file: str
    path: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "problem": self.problem}


@dataclass
class MismatchReport:
    """Everything ``check_descriptors`` found about one descriptor directory."""

    directory: str
    findings: list[Finding] = field(default_factory=list)
    checked_rules: list[str] = field(default_factory=list)
    skipped_rules: list[SkippedRule] = field(default_factory=list)
    descriptor_problems: list[DescriptorProblem] = field(default_factory=list)
    present: list[DescriptorKind] = field(default_factory=list)
    missing: list[DescriptorKind] = field(default_factory=list)
    statistics: list[dict[str, NumberValue]] = field(default_factory=list)
    """Per-field training-vs-production comparisons (see ``check.FieldComparison``)."""

    def counts(self) -> dict[Severity, int]:
        """Number of findings per severity."""
        out: dict[Severity, int] = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def by_rule(self, rule_id: str) -> list[Finding]:
        """The findings of one rule."""
        return [f for f in self.findings if f.rule_id == rule_id]

    def exit_code(self, fail_on: FailOn = "error") -> int:
        """1 when a finding is at or above ``fail_on`` or a descriptor file is unreadable (an
        unreadable file counts as an error), else 0; ``never`` always gives 0."""
        if fail_on == "never":
            return 0
        if fail_on not in ("error", "warning"):
            raise ValueError(f"fail_on must be error, warning or never, not {fail_on!r}")
        floor = _RANK[fail_on]
        if self.descriptor_problems:
            return 1
        return 1 if any(_RANK[f.severity] >= floor for f in self.findings) else 0

    def sorted_findings(self) -> list[Finding]:
        """Findings, most severe first, then by rule id (stable otherwise)."""
        return sorted(self.findings, key=lambda f: (-_RANK[f.severity], f.rule_id))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``format`` and ``version`` identify the layout)."""
        return {
            "format": "mlrails-mismatch-report",
            "version": 1,
            "directory": self.directory,
            "summary": dict(self.counts()),
            "present": list(self.present),
            "missing": list(self.missing),
            "descriptor_problems": [p.to_dict() for p in self.descriptor_problems],
            "checked_rules": list(self.checked_rules),
            "skipped_rules": [s.to_dict() for s in self.skipped_rules],
            "findings": [f.to_dict() for f in self.sorted_findings()],
            "statistics": [dict(s) for s in self.statistics],
        }
