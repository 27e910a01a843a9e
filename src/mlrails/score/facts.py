"""The typed facts a score reads: one frozen object per evidence source, and :class:`Evidence`.

:func:`mlrails.score.evidence.collect` fills them (through :mod:`mlrails.score.readers`); the
rules of :mod:`mlrails.score.rules` read them. A source's facts are ``None`` in
:class:`Evidence` when it was not given or could not be used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mlrails._json import jsonable
from mlrails.score.report import Gap


@dataclass(frozen=True)
class SafeguardFact:
    """One fitted safeguard: its mode and false-alarm rate, target and realised."""

    name: str
    mode: str
    target_fpr: float | None
    realised_fpr: float | None


@dataclass(frozen=True)
class ArtifactFacts:
    """A verified artifact directory (hashes checked, model not loaded)."""

    path: str
    hash: str
    created_at: datetime | None
    task: str
    model_class: str
    n_fields: int
    layout: str
    validation_mode: str
    ood_mode: str
    ood_detector: str
    adversarial_mode: str
    adversarial_detectors: tuple[str, ...]
    reliability_mode: str
    calibration_method: str
    coverage_target: float
    explanation_when: str
    safeguards: tuple[SafeguardFact, ...]
    ece_before: float | None
    ece_after: float | None
    conformal_coverage: float | None
    n_train: int
    n_calibration: int
    drift_reference: tuple[str, ...]
    model_file: str | None
    libraries: dict[str, str] = field(default_factory=dict)
    #: log-loss on the calibration rows before / after calibration (a proper score)
    nll_before: float | None = None
    nll_after: float | None = None


@dataclass(frozen=True)
class DescriptorFacts:
    """A descriptor directory and the mismatch check run on it."""

    directory: str
    present: tuple[str, ...]
    missing: tuple[str, ...]
    unreadable: tuple[str, ...]
    to_fill: int
    findings: dict[str, int]
    finding_rules: tuple[str, ...]
    checked_rules: tuple[str, ...]
    fields_compared: int
    goals: int
    goals_with_metric: int
    data_rights: str | None
    anonymization: str | None
    restrictions: str | None
    label_distribution: bool
    evaluation_metrics: tuple[str, ...]
    test_metrics: tuple[str, ...]
    inference_time_ms: float | None
    required_inference_ms: float | None
    model_resources: bool
    production_resources: bool
    business_metrics: tuple[str, ...]
    production_business_metrics: tuple[str, ...]
    pipeline_test_cases: int

    def rule_fired(self, *prefixes: str) -> tuple[str, ...]:
        """The fired error/warning rules starting with any of ``prefixes``."""
        return tuple(r for r in self.finding_rules if r.startswith(prefixes))

    def rule_checked(self, rule_id: str) -> bool:
        return rule_id in self.checked_rules


@dataclass(frozen=True)
class BenchRecordFact:
    """One readable benchmark record."""

    path: str
    run_id: str
    config_hash: str
    finished_at: datetime | None
    pairs: tuple[str, ...]
    model_classes: tuple[str, ...]
    perturbations: tuple[str, ...]
    attacks: tuple[str, ...]
    seeds: int
    repeats: int
    n_cells: int
    n_failed: int
    worst_silent_failure: float | None
    per_class: bool
    regression_tolerance: float | None
    peak_mb: float
    git_commit: str | None
    #: ``mlrails bench verify`` kept beside the record: True reproduced bit for bit, False
    #: differed, None never verified
    verified: bool | None = None
    #: SHA-256 of every cell's measured numbers (not its wall time or memory): two runs of
    #: one config with equal hashes reproduced each other
    results_hash: str = ""


@dataclass(frozen=True)
class BenchFacts:
    """Every readable benchmark record, and what they cover together."""

    records: tuple[BenchRecordFact, ...]

    @property
    def perturbations(self) -> tuple[str, ...]:
        return tuple(sorted({p for r in self.records for p in r.perturbations}))

    @property
    def attacks(self) -> tuple[str, ...]:
        return tuple(sorted({a for r in self.records for a in r.attacks}))

    @property
    def verified(self) -> tuple[BenchRecordFact, ...]:
        """Records a ``bench verify`` reproduced bit for bit."""
        return tuple(r for r in self.records if r.verified is True)

    @property
    def max_pairs(self) -> int:
        return max((len(r.pairs) for r in self.records), default=0)

    @property
    def max_runs(self) -> int:
        """Most seed × repeat runs of one cell in one record."""
        return max((r.seeds * r.repeats for r in self.records), default=0)

    @property
    def failed_cells(self) -> int:
        return sum(r.n_failed for r in self.records)

    @property
    def worst_silent_failure(self) -> float | None:
        rates = [r.worst_silent_failure for r in self.records if r.worst_silent_failure is not None]
        return max(rates) if rates else None

    @property
    def repeated_configs(self) -> int:
        """Configs run more than once (a baseline exists to compare a new run with)."""
        hashes = [r.config_hash for r in self.records]
        return sum(1 for h in set(hashes) if hashes.count(h) > 1)

    @property
    def reproduced_configs(self) -> int:
        """Configs run more than once whose runs measured identical numbers (a re-run
        compared with the record, not merely repeated)."""
        by_config: dict[str, set[str]] = {}
        runs: dict[str, set[str]] = {}
        for r in self.records:
            by_config.setdefault(r.config_hash, set()).add(r.results_hash)
            runs.setdefault(r.config_hash, set()).add(r.run_id)
        return sum(
            1
            for h, results in by_config.items()
            if len(runs[h]) > 1 and len(results) == 1 and "" not in results
        )

    @property
    def gate_ready(self) -> bool:
        """A regression gate can run: a tolerance is fixed or a config was run again."""
        return self.repeated_configs > 0 or any(
            r.regression_tolerance is not None for r in self.records
        )

    @property
    def latest(self) -> datetime | None:
        times = [r.finished_at for r in self.records if r.finished_at is not None]
        return max(times) if times else None


@dataclass(frozen=True)
class StoreFacts:
    """The decision log of ``mlrails serve``."""

    display: str
    decisions: int
    status_counts: dict[int, int]
    keyed_decisions: int
    artifacts_served: int
    active_keys: int
    revoked_keys: int
    bench_runs: int
    first_decision: datetime | None
    last_decision: datetime | None
    mean_latency_ms: float | None

    def count(self, *statuses: int) -> int:
        return sum(self.status_counts.get(s, 0) for s in statuses)


@dataclass(frozen=True)
class ServeFacts:
    """The settings ``mlrails serve`` runs with."""

    path: str
    auth: bool
    rate_limit_rps: float | None
    max_body_bytes: int
    max_batch_rows: int
    model_timeout_s: float
    log_mode: str
    drift_every_s: float | None
    drift_webhook: bool
    ui: bool
    cors_origins: tuple[str, ...]


@dataclass(frozen=True)
class ProjectFacts:
    """What a repository's files say about automation and packaging.

    ``automated[kind]``: files where a command of that kind runs automatically (CI files, and
    Makefile targets or pre-commit hooks that a CI file calls); ``documented[kind]``: files
    where it is written down but nothing runs it automatically (a Makefile target, a
    pre-commit hook, a script). Kinds: :data:`mlrails.score.readers.project.COMMAND_PATTERNS`.
    """

    path: str
    ci_files: tuple[str, ...]
    automated: dict[str, tuple[str, ...]]
    documented: dict[str, tuple[str, ...]]
    review_gate: tuple[str, ...]
    version_control: bool
    container_files: tuple[str, ...]
    orchestration_files: tuple[str, ...]
    lock_files: tuple[str, ...]
    dependency_bots: tuple[str, ...]
    test_files: int
    feature_test_files: int

    def runs(self, kind: str) -> bool:
        return bool(self.automated.get(kind))

    def documents(self, kind: str) -> bool:
        return bool(self.documented.get(kind))


@dataclass(frozen=True)
class Evidence:
    """Everything the rules may read; a source's facts are None when not given or unusable."""

    artifact: ArtifactFacts | None = None
    descriptors: DescriptorFacts | None = None
    bench: BenchFacts | None = None
    store: StoreFacts | None = None
    serve: ServeFacts | None = None
    project: ProjectFacts | None = None
    gaps: tuple[Gap, ...] = ()


def facts_json(evidence: Evidence) -> dict[str, Any]:
    """The evidence as JSON-ready data (for ``--json`` output and debugging)."""
    out: dict[str, Any] = {}
    for name in ("artifact", "descriptors", "bench", "store", "serve", "project"):
        facts = getattr(evidence, name)
        out[name] = None if facts is None else asdict(facts)
    out["gaps"] = [asdict(g) for g in evidence.gaps]
    plain_out: dict[str, Any] = jsonable(out)
    return plain_out
