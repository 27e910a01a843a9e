"""Read every evidence source of a score into typed facts; a bad source becomes a gap.

:func:`collect` reads what :class:`~mlrails.score.sources.EvidenceSources` names and returns
an :class:`Evidence`: one frozen fact object per source (``None`` when the source was not given
or could not be used) and the :class:`~mlrails.score.report.Gap` list saying which file failed
and why. It never raises for a bad source: a missing path, corrupt JSON, a tampered artifact,
an unreachable store each become a gap, and the score is computed from what remains.

What each source yields:

* **artifact** (a rails directory): ``manifest.json`` is read and every content file, drift
  reference file and the bundled model file is checked against its SHA-256 in the manifest,
  then the artifact hash (as :func:`mlrails.load` does); ``contract.json`` and ``policy.json``
  are parsed. The model is never loaded (no skops, no pickle): the facts come from the
  manifest, contract and policy only.
* **descriptors** (a directory of the eight v1.2 descriptors): which were read, missing or
  unreadable, how many values are still ``TO FILL``, the findings of every mismatch rule
  (:func:`mlrails.mismatch.check.check_descriptors`), and a few filled-in facts the rules use.
* **bench** (``mlrails bench`` record files): perturbations and attacks covered, pairs
  compared, seeds × repeats, failed cells, the worst silent-failure rate, regression tolerance.
* **store** (the decision log of ``mlrails serve``): decisions and their status mix, API keys,
  stored benchmark runs, first/last decision time, latency, artifacts served.
* **serve_settings** (JSON or YAML of :class:`~mlrails.serve.settings.ServeSettings`).
* **project** (a repository root): what its CI runs automatically, container and orchestration
  files, dependency lock files and update bots, test files. Detection is plain regular
  expressions on file text, see :data:`COMMAND_PATTERNS` and :func:`scan_project`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlrails.descriptors.placeholders import filled
from mlrails.mismatch.units import inference_ms
from mlrails.score.report import Gap
from mlrails.score.sources import EvidenceSources

# -- facts -------------------------------------------------------------------------------


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
    pre-commit hook, a script). Kinds: :data:`COMMAND_PATTERNS`.
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


class _Unusable(Exception):
    """A source that cannot be used; its message becomes the gap's problem."""


def collect(sources: EvidenceSources) -> Evidence:
    """Read every given source; each failure is a gap, never an exception."""
    gaps: list[Gap] = []

    def guarded(name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except _Unusable as exc:
            gaps.append(Gap(name, str(exc)))
        except Exception as exc:  # a reader's bug or an odd file must not stop the score
            gaps.append(Gap(name, f"{args[0]}: cannot be read ({type(exc).__name__}: {exc})"))
        return None

    artifact = None
    if sources.artifact is not None:
        artifact = guarded("artifact", read_artifact, sources.artifact)
    descriptors = None
    if sources.descriptors is not None:
        descriptors = guarded("descriptors", read_descriptors, sources.descriptors)
    bench = None
    if sources.bench:
        records = []
        for p in sources.bench:
            rec = guarded("bench", read_bench_record, p)
            if rec is not None:
                kept = guarded("bench", _read_verification, p, rec.run_id)
                records.append(replace(rec, verified=None if kept is None else kept.identical))
        bench = BenchFacts(tuple(records)) if records else None
    store = None
    if sources.store is not None:
        store = guarded("store", read_store, sources.store)
    serve = None
    if sources.serve_settings is not None:
        serve = guarded("serve_settings", read_serve_settings, sources.serve_settings)
    project = None
    if sources.project is not None:
        project = guarded("project", scan_project, sources.project)
    return Evidence(artifact, descriptors, bench, store, serve, project, tuple(gaps))


# -- artifact ----------------------------------------------------------------------------


def read_artifact(path: Path) -> ArtifactFacts:
    """Verify the artifact's file hashes and read its manifest, contract and policy."""
    from pydantic import ValidationError

    from mlrails.artifact.manifest import (
        CONTENT_FILES,
        REFERENCE_FILES,
        artifact_hash,
        read_manifest,
    )
    from mlrails.contract import InputContract
    from mlrails.errors import ArtifactError
    from mlrails.guard.policy import Policy

    try:
        _, manifest = read_manifest(path)
    except ArtifactError as exc:
        raise _Unusable(str(exc)) from None
    listed: dict[str, Any] = manifest["files"]
    content = [*CONTENT_FILES, *(f for f in REFERENCE_FILES if f in listed)]
    model_file = manifest.get("model_file") or None
    blobs: dict[str, bytes] = {}
    for name in [*content, *([model_file] if model_file else [])]:
        f = path / name
        if not f.is_file():
            raise _Unusable(f"{path}: artifact file {name} is missing")
        blob = f.read_bytes()
        if hashlib.sha256(blob).hexdigest() != listed.get(name):
            raise _Unusable(
                f"{path}: {name} does not match its hash in manifest.json (tampered or corrupt)"
            )
        if name in ("contract.json", "policy.json"):
            blobs[name] = blob
    if artifact_hash({k: listed.get(k, "") for k in content}) != manifest.get("artifact_hash"):
        raise _Unusable(f"{path}: artifact hash in manifest.json does not match its files")
    try:
        contract = InputContract.model_validate_json(blobs["contract.json"])
        policy = Policy.model_validate_json(blobs["policy.json"])
    except ValidationError as exc:
        raise _Unusable(
            f"{path}: contract.json or policy.json is not valid ({exc.title})"
        ) from None
    summary = manifest.get("summary") or {}
    calibration = summary.get("calibration") or {}
    safeguards = tuple(
        SafeguardFact(
            str(s.get("name")),
            str(s.get("mode")),
            _float(s.get("target_fpr")),
            _float(s.get("realised_fpr")),
        )
        for s in summary.get("safeguards") or []
        if isinstance(s, dict)
    )
    model = manifest.get("model") or {}
    return ArtifactFacts(
        path=str(path),
        hash=str(manifest.get("artifact_hash")),
        created_at=_time(manifest.get("created_at")),
        task=str(manifest.get("task")),
        model_class=str(model.get("model_class", "")),
        n_fields=len(contract.fields),
        layout=contract.layout,
        validation_mode=policy.validation.mode,
        ood_mode=policy.ood.mode,
        ood_detector=policy.ood.detector,
        adversarial_mode=policy.adversarial.mode,
        adversarial_detectors=tuple(policy.adversarial.detectors),
        reliability_mode=policy.reliability.mode,
        calibration_method=policy.reliability.calibration,
        coverage_target=policy.reliability.coverage,
        explanation_when=policy.explanation.when,
        safeguards=safeguards,
        ece_before=_float(calibration.get("ece_before")),
        ece_after=_float(calibration.get("ece_after")),
        conformal_coverage=_float(summary.get("conformal_coverage")),
        n_train=int(summary.get("n_train") or 0),
        n_calibration=int(summary.get("n_calibration") or 0),
        drift_reference=tuple(f for f in REFERENCE_FILES if f in listed),
        model_file=model_file,
        libraries={str(k): str(v) for k, v in (manifest.get("libraries") or {}).items()},
    )


# -- descriptors -------------------------------------------------------------------------


def read_descriptors(path: Path) -> DescriptorFacts:
    """Read the descriptor directory and run the mismatch check on it."""
    from mlrails.describe.common import fields_to_fill
    from mlrails.descriptors import DescriptorError, read_descriptor_dir
    from mlrails.mismatch.check import check_descriptors

    try:
        ds = read_descriptor_dir(path)
    except DescriptorError as exc:
        raise _Unusable(f"{path}: {exc}") from None
    if not ds.descriptors:
        what = "unreadable" if ds.errors else "missing"
        raise _Unusable(f"{path}: no readable descriptor (<kind>.json files {what})")
    report = check_descriptors(ds)
    sc, raw, td, tm = ds.system_context, ds.raw_data, ds.training_data, ds.trained_model
    pe, dp = ds.production_environment, ds.data_pipeline
    goals = sc.goals if sc is not None else []
    return DescriptorFacts(
        directory=str(path),
        present=tuple(ds.descriptors),
        missing=tuple(ds.missing),
        unreadable=tuple(ds.errors),
        to_fill=sum(len(fields_to_fill(d)) for d in ds.descriptors.values()),
        findings={str(k): n for k, n in report.counts().items()},
        finding_rules=tuple(
            sorted({f.rule_id for f in report.findings if f.severity in ("error", "warning")})
        ),
        checked_rules=tuple(report.checked_rules),
        fields_compared=len(report.statistics),
        goals=len(goals),
        goals_with_metric=sum(1 for g in goals if filled(g.metric) and filled(g.baseline)),
        data_rights=_text(sc.data_rights_policies) if sc is not None else None,
        anonymization=_text(raw.anonymization) if raw is not None else None,
        restrictions=_text(raw.restrictions) if raw is not None else None,
        label_distribution=td is not None and bool(td.distribution),
        evaluation_metrics=_metrics(tm.evaluation_metrics) if tm is not None else (),
        test_metrics=_metrics(tm.test_metrics) if tm is not None else (),
        inference_time_ms=_ms(tm.inference_time) if tm is not None else None,
        required_inference_ms=_ms(pe.required_inference_time) if pe is not None else None,
        model_resources=tm is not None and _resources(tm.computing_resource_reqs),
        production_resources=pe is not None and _resources(pe.computing_resources),
        business_metrics=tuple(m.metric for m in tm.business_metrics if filled(m.metric))
        if tm is not None
        else (),
        production_business_metrics=tuple(
            m.metric for m in pe.business_metrics if filled(m.implementation)
        )
        if pe is not None
        else (),
        pipeline_test_cases=sum(1 for t in dp.test_cases if filled(t.test_case_name))
        if dp is not None
        else 0,
    )


def _text(value: str | None) -> str | None:
    return value.strip() if filled(value) and value is not None else None


def _metrics(results: Any) -> tuple[str, ...]:
    return tuple(
        f"{r.other_metric if r.metric == 'Other' else r.metric} = {r.result:g}" for r in results
    )


def _ms(t: Any) -> float | None:
    try:
        ms = inference_ms(t)
    except ValueError:
        return None
    return ms if t.time > 0 else None


def _resources(r: Any) -> bool:
    return bool(r.cpu > 0 or r.gpu > 0) and r.memory > 0


# -- bench records -----------------------------------------------------------------------


def _read_verification(path: Path, run_id: str) -> Any:
    """The ``bench verify`` outcome kept beside the record (None: never verified)."""
    from mlrails.bench.record import RecordError
    from mlrails.bench.verification import read_verification

    try:
        return read_verification(path, run_id)
    except RecordError as exc:
        raise _Unusable(str(exc)) from None


def read_bench_record(path: Path) -> BenchRecordFact:
    """The facts of one ``mlrails bench`` record file."""
    from mlrails.bench.record import RecordError, RunRecord

    try:
        rec = RunRecord.read(path)
    except RecordError as exc:
        raise _Unusable(str(exc)) from None
    silent = [
        float(v)
        for c in rec.cells
        if c.error is None and (v := c.metrics.get("silent_failure_rate")) is not None
    ]
    tolerance = rec.config.get("regression_tolerance")
    return BenchRecordFact(
        path=str(path),
        run_id=rec.run_id,
        config_hash=rec.config_hash,
        finished_at=_time(rec.finished_at),
        pairs=tuple(p.name for p in rec.pairs),
        model_classes=tuple(p.model_class for p in rec.pairs),
        perturbations=tuple(
            sorted({c.name for c in rec.cells if c.kind == "perturbation" and c.name != "none"})
        ),
        attacks=tuple(sorted({c.name for c in rec.cells if c.kind == "attack"})),
        seeds=len(rec.seeds),
        repeats=rec.repeats,
        n_cells=len(rec.cells),
        n_failed=sum(1 for c in rec.cells if c.error is not None),
        worst_silent_failure=max(silent) if silent else None,
        per_class=any(c.confusion is not None for c in rec.cells),
        regression_tolerance=_float(tolerance),
        peak_mb=max((c.peak_mb for c in rec.cells), default=0.0),
        git_commit=rec.git_commit,
        results_hash=_results_hash(rec),
    )


def _results_hash(rec: Any) -> str:
    """SHA-256 of the cells' measured numbers (wall time and peak memory left out)."""
    cells = [c.model_dump(mode="json", exclude={"wall_s", "peak_mb"}) for c in rec.cells]
    text = json.dumps(cells, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- store -------------------------------------------------------------------------------


def read_store(target: str) -> StoreFacts:
    """Summaries of the decision log, keys and stored bench runs (read only)."""
    try:
        from sqlalchemy import distinct, func, select

        from mlrails.store import StoreError, StoreUnavailable, display_url, open_store
        from mlrails.store.queries import status_counts
        from mlrails.store.tables import decisions
    except ModuleNotFoundError as exc:  # the serve extra is not installed
        raise _Unusable(f"{target}: cannot read a store without {exc.name!r}") from None
    try:
        store = open_store(target, create=False)
    except StoreError as exc:
        raise _Unusable(str(exc)) from None
    try:
        stmt = select(
            func.min(decisions.c.time),
            func.max(decisions.c.time),
            func.avg(decisions.c.latency_ms),
            func.count(decisions.c.key_id),
            func.count(distinct(decisions.c.artifact_hash)),
        )

        def q() -> Any:
            with store.engine.connect() as conn:
                return conn.execute(stmt).one()

        first, last, latency, keyed, artifacts = store._guarded(q)
        keys = store.list_keys()
        return StoreFacts(
            display=display_url(target),
            decisions=store.count_decisions(),
            status_counts=status_counts(store),
            keyed_decisions=int(keyed or 0),
            artifacts_served=int(artifacts or 0),
            active_keys=sum(1 for k in keys if k.active),
            revoked_keys=sum(1 for k in keys if not k.active),
            bench_runs=len(store.list_bench_runs()),
            first_decision=_aware(first),
            last_decision=_aware(last),
            mean_latency_ms=None if latency is None else float(latency),
        )
    except (StoreError, StoreUnavailable) as exc:
        raise _Unusable(f"{display_url(target)}: {exc}") from None
    finally:
        store.close()


# -- serve settings ----------------------------------------------------------------------


def read_serve_settings(path: Path) -> ServeFacts:
    """Validate a JSON or YAML file of :class:`ServeSettings` fields."""
    import yaml
    from pydantic import ValidationError

    from mlrails.serve.settings import ServeSettings

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _Unusable(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _Unusable(f"{path}: not valid YAML/JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise _Unusable(f"{path}: expected a mapping of serve settings (auth, rate_limit_rps, ...)")
    try:
        s = ServeSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise _Unusable(f"{path}: {problems}") from None
    return ServeFacts(
        path=str(path),
        auth=s.auth,
        rate_limit_rps=s.rate_limit_rps,
        max_body_bytes=s.max_body_bytes,
        max_batch_rows=s.max_batch_rows,
        model_timeout_s=s.model_timeout_s,
        log_mode=s.log_mode,
        drift_every_s=s.drift_every_s,
        drift_webhook=s.drift_webhook is not None,
        ui=s.ui,
        cors_origins=tuple(s.cors_origins),
    )


# -- project -----------------------------------------------------------------------------

#: command kinds and the regular expression that finds each in a line of a CI file (comments
#: stripped). ``bench_gate`` is a run compared with ``--baseline`` whose regression fails the
#: job (``--fail-on regression``, the default); ``score_gate`` is ``mlrails score --min``.
COMMAND_PATTERNS: dict[str, re.Pattern[str]] = {
    "tests": re.compile(r"\b(pytest|py\.test|tox|nox|unittest|hatch\s+test|make\s+(test|check)\b)"),
    "bench": re.compile(r"\bmlrails\s+bench\s+(?!verify\b|report\b|--init\b)\S"),
    "bench_gate": re.compile(
        r"\bmlrails\s+bench\s+(?!verify\b|report\b)(?=.*--baseline)(?!.*--fail-on[ =]never)"
    ),
    "bench_verify": re.compile(r"\bmlrails\s+bench\s+verify\b"),
    "mismatch": re.compile(r"\bmlrails\s+mismatch\b"),
    "drift": re.compile(r"\bmlrails\s+drift\b"),
    "describe": re.compile(r"\bmlrails\s+describe\b(?!.*--init)"),
    "score": re.compile(r"\bmlrails\s+score\b"),
    "score_gate": re.compile(r"\bmlrails\s+score\b.*--min\b"),
    "fit": re.compile(r"\bmlrails\s+fit\b"),
    "container_build": re.compile(
        r"\b(docker|podman|buildah)\s+(buildx\s+)?build\b|docker/build-push-action|kaniko"
    ),
    "integration": re.compile(
        r"\bmlrails\s+(check|demo|serve)\b|\bpytest\b.*\b(integration|e2e)\b"
        r"|\bdocker[- ]compose\b.*\bup\b|\bdocker\s+compose\b.*\bup\b"
    ),
}

#: CI configuration files (relative globs); a Makefile target or a pre-commit hook counts as
#: automated only when one of these calls it (``make TARGET``, ``pre-commit run``)
CI_GLOBS = (
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
    ".gitlab-ci.yml",
    ".gitlab-ci.yaml",
    ".ci/*",
    ".circleci/config.yml",
    "Jenkinsfile",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    "bitbucket-pipelines.yml",
)
CONTAINER_GLOBS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile")
COMPOSE_GLOBS = ("docker-compose*.yml", "docker-compose*.yaml", "compose.yml", "compose.yaml")
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "conda-lock.yml",
    "requirements.lock",
    "package-lock.json",
)
BOT_FILES = (
    ".github/dependabot.yml",
    ".github/dependabot.yaml",
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".github/renovate.json",
    ".github/renovate.json5",
)
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox", "build"}
_K8S = re.compile(r"^\s*kind:\s*(Deployment|StatefulSet|DaemonSet|Service|Job|CronJob)\b", re.M)
_MAKE_CALL = re.compile(r"\bmake\b((?:[ \t]+-\S+)*)(?:[ \t]+([A-Za-z0-9_.-]+))?")
_REVIEW = re.compile(r"\b(pull_request|merge_request|merge_requests|pr:)\b")
_FEATURE_TEST = re.compile(r"feature|pipeline|preprocess|transform|etl", re.I)
_MAX_FILES = 5000


def scan_project(path: Path) -> ProjectFacts:
    """Find CI, container, lock and bot files under ``path`` and what the CI runs."""
    if not path.is_dir():
        raise _Unusable(f"{path}: not a project directory (does not exist or is a file)")
    ci_files = sorted({p for g in CI_GLOBS for p in path.glob(g) if p.is_file()})
    makefile = path / "Makefile"
    targets = _make_targets(_read(makefile)) if makefile.is_file() else {}
    precommit = path / ".pre-commit-config.yaml"
    hooks = _read(precommit) if precommit.is_file() else ""

    automated: dict[str, set[str]] = {}
    documented: dict[str, set[str]] = {}
    review: list[str] = []
    called_targets: set[str] = set()
    runs_precommit = False
    for f in ci_files:
        text = _strip_comments(_read(f))
        rel = _rel(f, path)
        _match(text, rel, automated)
        if _REVIEW.search(text) or f.name == "Jenkinsfile":
            review.append(rel)
        for m in _MAKE_CALL.finditer(text):
            called_targets.add(m.group(2) or next(iter(targets), ""))
        runs_precommit = runs_precommit or "pre-commit run" in text
    for name, recipe in targets.items():
        into = automated if name in called_targets else documented
        _match(recipe, f"Makefile ({name})", into)
    if hooks:
        _match(
            _strip_comments(hooks),
            ".pre-commit-config.yaml",
            automated if runs_precommit else documented,
        )
    for f in (path / "scripts").glob("*") if (path / "scripts").is_dir() else ():
        if f.is_file() and f.stat().st_size < 200_000:
            _match(_strip_comments(_read(f)), _rel(f, path), documented)
    for kind in automated:
        documented.pop(kind, None)
    review.extend(
        _rel(p, path)
        for p in (
            path / "CODEOWNERS",
            path / ".github" / "CODEOWNERS",
            path / "docs" / "CODEOWNERS",
        )
        if p.is_file()
    )

    files = list(_walk(path))
    containers = [p for p in files if any(p.match(g) for g in CONTAINER_GLOBS + COMPOSE_GLOBS)]
    orchestration = [p for p in files if p.name == "Chart.yaml"]
    orchestration += [p for p in files if any(p.match(g) for g in COMPOSE_GLOBS)]
    orchestration += [
        p
        for p in files
        if p.suffix in (".yml", ".yaml")
        and p.name != "Chart.yaml"
        and p not in ci_files
        and p.stat().st_size < 500_000
        and "apiVersion:" in (text := _read(p))
        and _K8S.search(text)
    ]
    locks = [path / n for n in LOCK_FILES if (path / n).is_file()]
    locks += [p for p in path.glob("requirements*.txt") if _pinned(_read(p))]
    tests = [p for p in files if p.suffix == ".py" and _is_test(p.name)]
    return ProjectFacts(
        path=str(path),
        ci_files=tuple(_rel(f, path) for f in ci_files),
        automated={k: tuple(sorted(v)) for k, v in sorted(automated.items())},
        documented={k: tuple(sorted(v)) for k, v in sorted(documented.items())},
        review_gate=tuple(sorted(set(review))),
        version_control=any((d / ".git").exists() for d in (path, *path.resolve().parents)),
        container_files=tuple(sorted({_rel(p, path) for p in containers})),
        orchestration_files=tuple(sorted({_rel(p, path) for p in orchestration})),
        lock_files=tuple(sorted(_rel(p, path) for p in locks)),
        dependency_bots=tuple(_rel(path / n, path) for n in BOT_FILES if (path / n).is_file()),
        test_files=len(tests),
        feature_test_files=sum(1 for p in tests if _FEATURE_TEST.search(p.name)),
    )


def _match(text: str, where: str, into: dict[str, set[str]]) -> None:
    for line in text.splitlines():
        for kind, pattern in COMMAND_PATTERNS.items():
            if pattern.search(line):
                into.setdefault(kind, set()).add(where)


def _make_targets(text: str) -> dict[str, str]:
    """Makefile target → its recipe lines (tab-indented lines after ``name:``)."""
    targets: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        head = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", line)
        if head and not line.startswith("\t"):
            current = head.group(1)
            if current.startswith("."):
                current = None
            else:
                targets.setdefault(current, "")
        elif current is not None and line.startswith("\t"):
            targets[current] += _strip_comments(line) + "\n"
        elif line.strip() and not line.startswith("\t"):
            current = None
    return targets


def _strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def _pinned(text: str) -> bool:
    reqs = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and not ln.strip().startswith(("#", "-"))
    ]
    return bool(reqs) and all("==" in r or "@" in r for r in reqs)


def _is_test(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py")


def _walk(root: Path) -> Iterator[Path]:
    count = 0
    stack = [root]
    while stack and count < _MAX_FILES:
        d = stack.pop()
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.is_dir() and not p.is_symlink():
                if p.name not in _SKIP_DIRS and not p.name.endswith(".egg-info"):
                    stack.append(p)
            elif p.is_file():
                count += 1
                yield p


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


# -- small helpers -----------------------------------------------------------------------


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _aware(t: Any) -> datetime | None:
    if not isinstance(t, datetime):
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def facts_json(evidence: Evidence) -> dict[str, Any]:
    """The evidence as JSON-ready data (for ``--json`` output and debugging)."""
    from dataclasses import asdict

    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    out: dict[str, Any] = {}
    for name in ("artifact", "descriptors", "bench", "store", "serve", "project"):
        facts = getattr(evidence, name)
        out[name] = None if facts is None else plain(asdict(facts))
    out["gaps"] = [asdict(g) for g in evidence.gaps]
    plain_out: dict[str, Any] = json.loads(json.dumps(out, default=str))
    return plain_out
