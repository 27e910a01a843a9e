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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mlrails.score.evidence import (
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
RULES: dict[str, Rule] = {}

ANSWER = "answer it in the answers file (mlrails score --init), with what backs it"


def rule(item_id: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` as the rule of ``item_id``."""
    if item_id not in ITEMS:
        raise ValueError(f"unknown rubric item {item_id!r}")

    def register(fn: Rule) -> Rule:
        RULES[item_id] = fn
        return fn

    return register


def evaluate(evidence: Evidence) -> dict[str, RuleResult]:
    """A :class:`RuleResult` for every rubric item (scores clipped to the item's scale)."""
    out: dict[str, RuleResult] = {}
    for item_id, item in ITEMS.items():
        fn = RULES.get(item_id)
        result = fn(evidence) if fn is not None else RuleResult(None, "no rule reads evidence")
        if result.score is not None and result.score not in item.allowed:
            raise AssertionError(f"rule {item_id} gave {result.score}, not on its scale")
        out[item_id] = result
    return out


# -- helpers -----------------------------------------------------------------------------


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


def _age_days(t: datetime | None) -> float | None:
    return None if t is None else (datetime.now(UTC) - t).total_seconds() / 86400


# ======================================================================================
# ML System Robustness Score (0–4)
# ======================================================================================


@rule("robustness.data.quality")
def data_quality(e: Evidence) -> RuleResult:
    a, d, s, p = e.artifact, e.descriptors, e.store, e.project
    if a is None and d is None:
        return unknown(
            "needs the artifact (contract) or the descriptors (training data statistics)",
            "give --artifact RAILS (mlrails fit infers the contract from the training data)",
        )
    pts = Points()
    pts.add(
        a is not None and a.n_fields > 0 and on(a.validation_mode),
        f"contract with {a.n_fields if a else 0} fields enforced by the guard",
        "a contract enforced by the guard",
        "fit the rails (mlrails fit) with validation on",
    )
    pts.add(
        a is not None and a.validation_mode == "block",
        "invalid rows refused (validation mode block)",
        "invalid rows refused (validation mode block)",
        "set validation.mode: block in the policy and re-fit",
    )
    stats_ok = d is not None and "training_data" in d.present and not d.rule_fired("MM-SCHEMA")
    pts.add(
        stats_ok,
        "training data schema and statistics described, no schema mismatch",
        "training data described without schema mismatch",
        "run `mlrails describe RAILS --train TRAIN --target LABEL` and `mlrails mismatch DIR`",
    )
    checked = served(s) or (p is not None and p.runs("mismatch"))
    what = []
    if s is not None and served(s):
        what.append(f"{s.count(400)} of {s.decisions} served rows refused as invalid (400)")
    if p is not None and p.runs("mismatch"):
        what.append(f"mlrails mismatch in CI ({ci_where(p, 'mismatch')})")
    pts.add(
        checked,
        "checked continuously: " + ", ".join(what),
        "checked continuously (served rows logged or mismatch in CI)",
        "serve with `mlrails serve RAILS --store STORE` (every row checked and logged) or run "
        "`mlrails mismatch DIR` in CI",
    )
    if a is not None:
        pts.see(ev_artifact(a, f"contract.json {a.n_fields} fields ({a.layout})"))
        pts.see(ev_artifact(a, f"policy.json validation mode {a.validation_mode}"))
    if d is not None:
        pts.see(
            ev_desc(
                d,
                f"present: {', '.join(d.present)}; schema findings: "
                f"{', '.join(d.rule_fired('MM-SCHEMA')) or 'none'}",
            )
        )
    if s is not None:
        pts.see(ev_store(s, f"{s.decisions} decisions, {s.count(400)} refused with 400"))
    return pts.result()


@rule("robustness.data.privacy")
def data_privacy(e: Evidence) -> RuleResult:
    d = e.descriptors
    evidence: list[str] = []
    if d is not None:
        evidence.append(ev_desc(d, f"data rights: {d.data_rights or 'not filled'}"))
        evidence.append(ev_desc(d, f"anonymisation: {d.anonymization or 'not filled'}"))
    if e.serve is not None:
        evidence.append(ev_serve(e.serve, f"auth {'on' if e.serve.auth else 'off'}"))
    step = (
        "fill data_rights_policies (system_context.json) and anonymization (raw_data.json), "
        f"then {ANSWER}"
        if d is None or d.data_rights is None or d.anonymization is None
        else ANSWER
    )
    return unknown(
        "privacy protection is organisational; the documented data rights and access control "
        "are listed as evidence",
        step,
        *evidence,
    )


@rule("robustness.data.bias")
def data_bias(e: Evidence) -> RuleResult:
    d, b, p = e.descriptors, e.bench, e.project
    if d is None and b is None:
        return unknown(
            "needs descriptors (label distribution, training vs production) or bench records",
            "give --descriptors DIR (mlrails describe) or --bench RECORD",
        )
    pts = Points()
    pts.add(
        d is not None and d.label_distribution,
        "training label distribution documented",
        "training label distribution documented",
        "describe the training data: `mlrails describe RAILS --train TRAIN --target LABEL`",
    )
    pts.add(
        d is not None and d.fields_compared > 0,
        f"training vs production statistics compared on {d.fields_compared if d else 0} fields",
        "training vs production statistics compared",
        "describe production data from the log: `mlrails describe RAILS --store STORE`, then "
        "`mlrails mismatch DIR`",
    )
    shift = sorted(set(b.perturbations) & {"covariate_shift", "prior_shift"}) if b else []
    pts.add(
        bool(shift),
        f"robustness to population shift measured ({', '.join(shift)})",
        "robustness to population shift measured (covariate_shift, prior_shift)",
        "add covariate_shift and prior_shift to the bench grid (mlrails bench --init)",
    )
    auto = drift_service(e) or (p is not None and (p.runs("drift") or p.runs("mismatch")))
    pts.add(
        auto,
        "representativeness re-checked automatically (drift monitoring)",
        "re-checked automatically (service drift checks or drift/mismatch in CI)",
        "serve with --drift-every 5m (reference kept in the artifact) or run `mlrails drift` "
        "periodically",
    )
    if d is not None:
        pts.see(
            ev_desc(
                d,
                f"{d.fields_compared} fields compared; drift findings: "
                f"{', '.join(d.rule_fired('MM-STAT')) or 'none'}",
            )
        )
    if b is not None:
        pts.see(ev_bench(b, f"perturbations {', '.join(b.perturbations) or 'none'}"))
    pts.see("fairness across groups of users is not measured by mlrails (see mltest.model.7)")
    return pts.result()


@rule("robustness.training.metrics")
def training_metrics(e: Evidence) -> RuleResult:
    d = e.descriptors
    if d is None:
        return unknown(
            "needs the descriptors (system context goals, trained model metrics)",
            "give --descriptors DIR: `mlrails describe --init > context.yaml`, fill the goals, "
            "then `mlrails describe RAILS --context context.yaml`",
        )
    pts = Points()
    pts.add(
        d.goals_with_metric > 0,
        f"{d.goals_with_metric} of {d.goals} business goals have a metric and a baseline",
        "business goals with a metric and a baseline",
        "fill goals (metric, baseline) in the system context (mlrails describe --init)",
    )
    pts.add(
        d.rule_checked("MM-GOAL-METRIC") and not d.rule_fired("MM-GOAL-METRIC"),
        "the goals' metrics are measured by the model (MM-GOAL-METRIC passes)",
        "goal metrics measured by the model (MM-GOAL-METRIC)",
        "report the goals' metrics in the trained model's evaluation/test metrics",
    )
    pts.add(
        bool(d.evaluation_metrics) and bool(d.test_metrics),
        "evaluation and test metrics recorded",
        "evaluation and test metrics recorded",
        "describe the model with held-out data: `mlrails describe RAILS --eval TEST.csv`",
    )
    pts.add(
        bool(d.production_business_metrics)
        and d.rule_checked("MM-GOAL-MONITOR")
        and not d.rule_fired("MM-GOAL-MONITOR"),
        "business metrics captured in production (MM-GOAL-MONITOR passes)",
        "business metrics captured in production (MM-GOAL-MONITOR)",
        "list the business metrics the production environment captures "
        "(production_environment.json)",
    )
    pts.see(ev_desc(d, f"evaluation metrics: {', '.join(d.evaluation_metrics) or 'none'}"))
    pts.see(ev_desc(d, f"test metrics: {', '.join(d.test_metrics) or 'none'}"))
    return pts.result()


@rule("robustness.training.selection")
def training_selection(e: Evidence) -> RuleResult:
    d, b, p = e.descriptors, e.bench, e.project
    if b is None and d is None:
        return unknown(
            "needs bench records (models compared) or the trained model descriptor",
            "compare candidate models in one grid: `mlrails bench bench.yaml` with several "
            "`models:`",
        )
    pts = Points()
    pts.add(
        d is not None and bool(d.evaluation_metrics),
        "evaluated on held-out data (trained model evaluation metrics)",
        "held-out evaluation documented",
        "describe the model with held-out data: `mlrails describe RAILS --eval TEST.csv`",
    )
    pts.add(
        b is not None and b.max_pairs >= 2,
        f"{b.max_pairs if b else 0} (model, artifact) pairs compared on the same cells",
        "alternative models compared on the same data (≥ 2 pairs in a bench grid)",
        "list the candidate models under `models:` in the bench config and run `mlrails bench`",
    )
    pts.add(
        b is not None and b.max_pairs >= 2 and b.max_runs >= 2,
        f"comparison over {b.max_runs if b else 0} seed × repeat runs",
        "comparison repeated over seeds (variance known)",
        "set `seeds: [0, 1, 2]` (or repeats) in the bench config",
    )
    pts.add(
        p is not None and p.runs("bench") and b is not None and b.max_pairs >= 2,
        "the comparison runs in CI",
        "the comparison runs in CI",
        "run `mlrails bench bench.yaml` in CI",
    )
    if b is not None:
        pts.see(ev_bench(b, f"pairs {', '.join(sorted({n for r in b.records for n in r.pairs}))}"))
    return pts.result()


@rule("robustness.training.stability")
def training_stability(e: Evidence) -> RuleResult:
    b, p = e.bench, e.project
    if b is None and p is None:
        return unknown(
            "needs bench records or the project's CI files",
            "record a run: `mlrails bench bench.yaml` (writes bench-results/record.json)",
        )
    pts = Points()
    pts.add(
        b is not None,
        "a bench record with full provenance (config, data, artifact hashes, seeds, versions)",
        "a bench record with provenance",
        "record a run: `mlrails bench bench.yaml`",
    )
    pts.add(
        b is not None and b.max_runs >= 2,
        f"every cell run over {b.max_runs if b else 0} seed × repeat runs",
        "several seeds or repeats per cell",
        "set `seeds: [0, 1, 2]` or `repeats: 3` in the bench config",
    )
    # a command written down, or a config merely run twice, shows no equal numbers: only a
    # re-run compared with the record does (bench verify's outcome, or identical results)
    pts.add(
        (p is not None and p.runs("bench_verify"))
        or (b is not None and (b.reproduced_configs > 0 or bool(b.verified))),
        "re-run reproduced the record (bench verify, or the same config re-run with "
        "identical numbers)",
        "a re-run shown to reproduce the record",
        "run `mlrails bench verify RECORD` (bit-identical metrics?)",
    )
    pts.add(
        p is not None and p.runs("bench_verify"),
        f"reproducibility verified automatically ({ci_where(p, 'bench_verify') if p else ''})",
        "reproducibility verified in CI",
        "run `mlrails bench verify RECORD` in CI",
    )
    if b is not None:
        pts.see(
            ev_bench(
                b,
                f"{len(b.records)} records, {b.repeated_configs} configs re-run, "
                f"{b.reproduced_configs} with identical numbers",
            )
        )
    if p is not None:
        pts.see(ev_project(p, f"bench verify: {ci_where(p, 'bench_verify') or 'not found'}"))
    return pts.result()


@rule("robustness.evaluation.interpretability")
def evaluation_interpretability(e: Evidence) -> RuleResult:
    a = e.artifact
    if a is None:
        return unknown("needs the artifact (calibration, conformal sets)", "give --artifact RAILS")
    pts = Points()
    pts.add(
        a.calibration_method != "none",
        f"confidence calibrated ({a.calibration_method})",
        "calibrated confidence",
        "set reliability.calibration: temperature (or isotonic) and re-fit",
    )
    measured = a.ece_before is not None and a.ece_after is not None
    pts.add(
        measured and (a.ece_after or 0.0) <= (a.ece_before or 0.0),
        f"calibration error measured: ECE {a.ece_before or 0:.3f} → {a.ece_after or 0:.3f}",
        "calibration error measured and not worse after calibration",
        "re-fit with a calibration split the model was not trained on (--calib)",
    )
    pts.add(
        a.conformal_coverage is not None,
        f"prediction sets/intervals at {a.coverage_target:.0%} coverage",
        "conformal prediction sets or intervals",
        "keep reliability on with a coverage target (reliability.coverage: 0.9)",
    )
    pts.add(
        on(a.reliability_mode),
        f"low-confidence answers flagged (reliability mode {a.reliability_mode}, 203)",
        "low-confidence answers flagged (reliability mode block/warn)",
        "set reliability.mode: block or warn",
    )
    pts.see(
        ev_artifact(
            a,
            f"manifest summary: ECE {a.ece_before} → {a.ece_after}, "
            f"conformal coverage {a.conformal_coverage}",
        )
    )
    return pts.result()


@rule("robustness.evaluation.importance")
def evaluation_importance(e: Evidence) -> RuleResult:
    a = e.artifact
    if a is None:
        return unknown("needs the artifact (explanation policy)", "give --artifact RAILS")
    pts = Points()
    has_shap = "shap" in a.libraries
    pts.add(
        has_shap,
        "per-prediction SHAP contributions on request (explain=true), background sample kept",
        "SHAP explanations available (the explain extra was not installed when fitting)",
        "install mlrails[explain] and re-fit",
        weight=3,
    )
    pts.add(
        a.explanation_when in ("non200", "always"),
        f"attached automatically (explanation.when {a.explanation_when})",
        f"explanations attached automatically (explanation.when is {a.explanation_when})",
        "set explanation.when: non200 in the policy so every refusal is explained",
    )
    pts.see(
        ev_artifact(
            a,
            f"policy.json explanation.when {a.explanation_when}; "
            f"shap {a.libraries.get('shap', 'absent')}",
        )
    )
    return pts.result()


@rule("robustness.evaluation.representative")
def evaluation_representative(e: Evidence) -> RuleResult:
    b, d = e.bench, e.descriptors
    if b is None and d is None and e.serve is None:
        return unknown(
            "needs bench records, descriptors or serve settings",
            "run `mlrails bench bench.yaml` with perturbations and attacks",
        )
    pts = Points()
    n_pert = len(b.perturbations) if b else 0
    pts.add(
        n_pert >= 1,
        f"evaluated under {n_pert} perturbations ({', '.join(b.perturbations) if b else ''})",
        "evaluated under perturbations",
        "add perturbations to the bench grid (mlrails bench --init)",
    )
    pts.add(
        n_pert >= 3,
        "a broad perturbation set (≥ 3)",
        "a broad perturbation set (≥ 3 perturbations)",
        "add missing_values, outliers, covariate_shift to the bench grid",
    )
    pts.add(
        b is not None and bool(b.attacks),
        f"adversarial attacks ({', '.join(b.attacks) if b else ''})",
        "adversarial attacks",
        "add `attacks:` (e.g. hopskipjump) to the bench grid",
    )
    prod = drift_service(e) or (d is not None and d.fields_compared > 0)
    pts.add(
        prod,
        "production compared with training (drift checks or mismatch statistics)",
        "production compared with training",
        "serve with --drift-every 5m, or `mlrails describe RAILS --store STORE` + "
        "`mlrails mismatch DIR`",
    )
    if b is not None:
        pts.see(ev_bench(b, f"{sum(r.n_cells for r in b.records)} cells, {b.failed_cells} failed"))
    return pts.result()


@rule("robustness.evaluation.counterfactual")
def evaluation_counterfactual(e: Evidence) -> RuleResult:
    return unknown("mlrails produces no counterfactual explanations to check", ANSWER)


@rule("robustness.deployment.infrastructure")
def deployment_infrastructure(e: Evidence) -> RuleResult:
    s = e.serve
    if s is None:
        return unknown(
            "needs the serve settings (limits, timeouts, log mode)",
            "give --serve-settings FILE (the settings mlrails serve runs with)",
        )
    pts = Points()
    pts.add(
        True,  # mlrails serve always enforces them; the settings only size them
        f"body and batch limits ({s.max_body_bytes} bytes, {s.max_batch_rows} rows: 413 beyond)",
        "",
        "",
    )
    pts.add(
        s.rate_limit_rps is not None,
        f"rate limit {s.rate_limit_rps:g} req/s per key (429)" if s.rate_limit_rps else "",
        "a rate limit per key",
        "serve with --rate-limit 100",
    )
    pts.add(
        s.model_timeout_s <= 60,
        f"model time limit {s.model_timeout_s:g} s (504 beyond); /readyz probes the store",
        f"a model time limit of at most 60 s (is {s.model_timeout_s:g} s)",
        "serve with --model-timeout 10",
    )
    pts.add(
        s.log_mode == "sync",
        "durable decision log (sync: answered only once committed)",
        "durable decision log (log mode sync)",
        "serve with --log-mode sync",
    )
    pts.see(
        ev_serve(
            s,
            f"max_body_bytes {s.max_body_bytes}, max_batch_rows {s.max_batch_rows}, "
            f"rate_limit_rps {s.rate_limit_rps}, model_timeout_s "
            f"{s.model_timeout_s}, log_mode {s.log_mode}",
        )
    )
    return pts.result()


@rule("robustness.deployment.rollout")
def deployment_rollout(e: Evidence) -> RuleResult:
    ev = []
    if e.store is not None:
        ev.append(ev_store(e.store, f"{e.store.artifacts_served} artifacts served"))
    return unknown(
        "gradual roll-out and A/B comparison happen outside mlrails (organisational)",
        "roll out behind a router that splits traffic between two `mlrails serve` instances; "
        + ANSWER,
        *ev,
    )


@rule("robustness.deployment.monitoring")
def deployment_monitoring(e: Evidence) -> RuleResult:
    s, st = e.serve, e.store
    if s is None and st is None:
        return unknown(
            "needs the store (decision log) or the serve settings",
            "give --store STORE and --serve-settings FILE",
        )
    pts = Points()
    pts.add(
        served(st),
        f"every decision logged ({st.decisions if st else 0} decisions)",
        "decisions logged in the store",
        "serve with `mlrails serve RAILS --store STORE`",
    )
    pts.add(
        s is not None or served(st),
        "Prometheus metrics exported on /metrics (status mix, latency, safeguards)",
        "metrics exported (serve settings or served traffic)",
        "scrape /metrics of `mlrails serve`",
    )
    pts.add(
        s is not None and s.drift_every_s is not None,
        f"drift checked every {s.drift_every_s:g} s" if s and s.drift_every_s else "",
        "periodic drift checks",
        "serve with --drift-every 5m",
    )
    pts.add(
        s is not None and s.drift_every_s is not None and s.drift_webhook,
        "drift alarms sent to a webhook",
        "drift raises an alert (webhook)",
        "serve with --drift-webhook URL",
    )
    if st is not None:
        pts.see(ev_store(st, f"{st.decisions} decisions, last {st.last_decision}"))
    if s is not None:
        pts.see(
            ev_serve(
                s,
                f"drift_every_s {s.drift_every_s}, webhook "
                f"{'set' if s.drift_webhook else 'not set'}",
            )
        )
    return pts.result()


@rule("robustness.deployment.updates")
def deployment_updates(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown(
            "needs the project (which automation retrains and re-validates)",
            "give --project DIR",
        )
    pts = Points()
    pts.add(
        drift_service(e) or p.runs("drift"),
        "data changes detected (drift monitoring)",
        "data changes detected (service drift checks or mlrails drift in CI)",
        "serve with --drift-every 5m or run `mlrails drift RAILS --store STORE` on a schedule",
    )
    pts.add(
        p.runs("fit"),
        f"retraining automated (mlrails fit in {ci_where(p, 'fit')})",
        "retraining automated (mlrails fit in CI)",
        "run training and `mlrails fit` in a CI job",
    )
    pts.add(
        p.runs("bench_gate"),
        f"re-validated against the current model ({ci_where(p, 'bench_gate')})",
        "re-validation gate (mlrails bench --baseline in CI)",
        "run `mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
    )
    pts.add(
        p.runs("describe") or p.runs("mismatch"),
        "descriptors re-measured/checked automatically",
        "descriptors re-measured and checked in CI",
        "run `mlrails describe` and `mlrails mismatch DIR` in CI",
    )
    pts.see(ev_project(p, f"CI files: {', '.join(p.ci_files) or 'none'}"))
    return pts.result()


@rule("robustness.operations.resources")
def operations_resources(e: Evidence) -> RuleResult:
    d, st = e.descriptors, e.store
    if d is None and st is None:
        return unknown(
            "needs the descriptors (resources, inference time) or the store (latency)",
            "give --descriptors DIR (mlrails describe measures inference time and memory)",
        )
    pts = Points()
    pts.add(
        d is not None and d.inference_time_ms is not None and d.model_resources,
        f"model needs measured (inference {d.inference_time_ms if d else 0:g} ms, resources)",
        "model needs measured (inference time, resources)",
        "run `mlrails describe RAILS` (times inference, measures memory)",
    )
    pts.add(
        d is not None and d.production_resources,
        "production resources described",
        "production resources described",
        "describe production: `mlrails describe RAILS --serve-config SETTINGS`",
    )
    res_rules = ("MM-RESOURCES-PROD", "MM-INFERENCE-TIME", "MM-THROUGHPUT")
    pts.add(
        d is not None
        and any(d.rule_checked(r) for r in res_rules)
        and not d.rule_fired(*res_rules),
        "model needs fit the production machines (resource and time rules pass)",
        "model needs matched to production (MM-RESOURCES-PROD, MM-INFERENCE-TIME)",
        "run `mlrails mismatch DIR` and fix resource/time findings",
    )
    pts.add(
        served(st) and st is not None and st.mean_latency_ms is not None,
        f"latency measured in production (mean {st.mean_latency_ms or 0:.1f} ms)" if st else "",
        "latency measured in production",
        "serve with --store STORE (latency logged per decision)",
    )
    if d is not None:
        pts.see(
            ev_desc(d, f"inference {d.inference_time_ms} ms, required {d.required_inference_ms} ms")
        )
    return pts.result()


@rule("robustness.operations.containers")
def operations_containers(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown("needs the project (container files)", "give --project DIR")
    pts = Points()
    pts.add(
        bool(p.container_files),
        f"packaged as a container ({', '.join(p.container_files[:3])})",
        "a container file (Dockerfile)",
        "add a Dockerfile that runs `mlrails serve RAILS`",
    )
    pts.add(
        p.runs("container_build"),
        f"image built automatically ({ci_where(p, 'container_build')})",
        "the image built in CI",
        "build the image in CI (docker build / build-push-action)",
    )
    pts.add(
        bool(p.orchestration_files),
        f"run by an orchestrator ({', '.join(p.orchestration_files[:3])})",
        "orchestration manifests (compose, Kubernetes, Helm)",
        "add a compose file or Kubernetes manifests with a readiness probe on /readyz",
    )
    pts.add(
        bool(p.lock_files),
        f"dependencies pinned ({', '.join(p.lock_files)})",
        "dependencies pinned (a lock file)",
        "pin dependencies (uv lock, pip-compile)",
    )
    pts.see(
        ev_project(
            p,
            f"containers: {', '.join(p.container_files) or 'none'}; orchestration: "
            f"{', '.join(p.orchestration_files) or 'none'}; locks: "
            f"{', '.join(p.lock_files) or 'none'}",
        )
    )
    return pts.result()


@rule("robustness.operations.cicd")
def operations_cicd(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown("needs the project (CI files)", "give --project DIR")
    pts = Points()
    pts.add(
        p.runs("tests"),
        f"tests run in CI ({ci_where(p, 'tests')})",
        "tests in CI",
        "add a CI workflow that runs the tests (pytest)",
    )
    pts.add(
        p.runs("bench"),
        f"robustness benchmark in CI ({ci_where(p, 'bench')})",
        "mlrails bench in CI",
        "run `mlrails bench bench.yaml` in CI",
    )
    pts.add(
        p.runs("bench_gate"),
        "regression gate against a baseline",
        "a regression gate (mlrails bench --baseline)",
        "run `mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
    )
    pts.add(
        p.runs("score_gate") or p.runs("mismatch"),
        "readiness gate (mlrails score --min or mlrails mismatch)",
        "a readiness gate (mlrails score --min, mlrails mismatch)",
        "run `mlrails score ... --min 40` in CI",
    )
    pts.see(
        ev_project(
            p,
            f"CI files: {', '.join(p.ci_files) or 'none'}; automated: "
            f"{', '.join(p.automated) or 'nothing'}",
        )
    )
    return pts.result()


@rule("robustness.operations.impact")
def operations_impact(e: Evidence) -> RuleResult:
    d = e.descriptors
    ev = []
    if d is not None:
        ev.append(
            ev_desc(
                d,
                f"business metrics: {', '.join(d.business_metrics) or 'none'}; "
                f"captured in production: "
                f"{', '.join(d.production_business_metrics) or 'none'}",
            )
        )
    return unknown(
        "business impact is measured outside mlrails (organisational); the business metrics "
        "the descriptors define are listed",
        "define business_metrics (trained_model.json) and how production captures them; " + ANSWER,
        *ev,
    )


@rule("robustness.security.access")
def security_access(e: Evidence) -> RuleResult:
    s, st = e.serve, e.store
    if s is None and st is None:
        return unknown("needs the serve settings or the store (API keys)", "give --serve-settings")
    pts = Points()
    auth = s.auth if s is not None else None
    pts.add(
        auth is True,
        "API keys required (auth on)",
        "auth on in the serve settings" if s is not None else "auth on (settings not given)",
        "serve with --auth on (the default)",
    )
    pts.add(
        st is not None and st.active_keys > 0,
        f"{st.active_keys if st else 0} active API keys, stored as SHA-256 hashes only",
        "API keys issued (stored hashed)",
        "issue keys: `mlrails keys create --name APP --store STORE`",
    )
    pts.add(
        st is not None and st.decisions > 0 and st.keyed_decisions == st.decisions,
        "every logged decision carries the caller's key id",
        "every served decision authenticated (key id logged)",
        "serve with --auth on so every decision is attributed to a key",
    )
    pts.add(
        auth is True and (s is not None and not s.cors_origins),
        "UI and logs behind the same auth, CORS closed",
        "UI and log access behind auth with CORS closed",
        "keep cors_origins empty unless needed",
    )
    if s is not None:
        pts.see(
            ev_serve(s, f"auth {'on' if s.auth else 'off'}, ui {s.ui}, cors {list(s.cors_origins)}")
        )
    if st is not None:
        pts.see(
            ev_store(
                st,
                f"{st.active_keys} active / {st.revoked_keys} revoked keys, "
                f"{st.keyed_decisions} of {st.decisions} decisions keyed",
            )
        )
    return pts.result()


@rule("robustness.security.compliance")
def security_compliance(e: Evidence) -> RuleResult:
    d = e.descriptors
    ev = [ev_desc(d, f"data rights: {d.data_rights or 'not filled'}")] if d else []
    return unknown(
        "regulatory compliance is organisational; the decision log (audit trail) and the "
        "documented data rights help evidence it",
        ANSWER,
        *ev,
    )


@rule("robustness.security.failures")
def security_failures(e: Evidence) -> RuleResult:
    a, s = e.artifact, e.serve
    if a is None and s is None:
        return unknown("needs the artifact (policy) or the serve settings", "give --artifact RAILS")
    pts = Points()
    pts.add(
        a is not None and on(a.validation_mode),
        f"invalid inputs answered explicitly (validation {a.validation_mode if a else ''}: 400)",
        "invalid inputs answered explicitly (validation on)",
        "set validation.mode: block and re-fit",
    )
    pts.add(
        a is not None and on(a.ood_mode) and on(a.adversarial_mode),
        "out-of-distribution (422) and adversarial (403) inputs answered explicitly",
        "OOD and adversarial inputs answered explicitly",
        "set ood.mode and adversarial.mode to block and re-fit",
    )
    pts.add(
        s is not None,
        f"model errors (500) and timeouts ({s.model_timeout_s:g} s: 504) answered explicitly"
        if s
        else "",
        "model errors and timeouts answered explicitly (serve settings)",
        "give --serve-settings FILE (mlrails serve answers 500/504, never silently)",
    )
    pts.add(
        s is not None and s.drift_every_s is not None and s.drift_webhook,
        "drift detected and alerted (webhook)",
        "drift detected and alerted",
        "serve with --drift-every 5m --drift-webhook URL",
    )
    if a is not None:
        pts.see(
            ev_artifact(
                a,
                f"modes: validation {a.validation_mode}, ood {a.ood_mode}, "
                f"adversarial {a.adversarial_mode}, reliability "
                f"{a.reliability_mode}",
            )
        )
    if e.store is not None:
        st = e.store
        pts.see(
            ev_store(
                st,
                f"explicit refusals logged: 400×{st.count(400)}, "
                f"403×{st.count(403)}, 422×{st.count(422)}, 500×{st.count(500)}, "
                f"504×{st.count(504)}",
            )
        )
    return pts.result()


@rule("robustness.security.encryption")
def security_encryption(e: Evidence) -> RuleResult:
    ev = []
    if e.artifact is not None:
        a = e.artifact
        ev.append(
            ev_artifact(
                a, f"hash-verified, model file {a.model_file or 'none'} (safe format: no pickle)"
            )
        )
    return unknown(
        "encryption in transit (TLS in front of mlrails serve) and at rest (disk, database) "
        "is configured outside mlrails; unsafe model formats are refused by mlrails",
        "put TLS in front of the service and encrypt the store's disk; " + ANSWER,
        *ev,
    )


# ======================================================================================
# ML Test Score (0 / 0.5 / 1)
# ======================================================================================


def _organisational(what: str, step: str = ANSWER) -> Rule:
    def fn(e: Evidence) -> RuleResult:
        return unknown(f"{what} (organisational: mlrails cannot see it)", step)

    return fn


@rule("mltest.data.1")
def schema_captured(e: Evidence) -> RuleResult:
    a, d, st = e.artifact, e.descriptors, e.store
    if a is None:
        if d is not None and "training_data" in d.present:
            return RuleResult(
                0.5,
                "training data schema and statistics documented in the descriptors "
                "(checked when mlrails mismatch runs)",
                (ev_desc(d, "training_data.json present"),),
                "fit the rails (mlrails fit): the contract is then checked on every row",
            )
        return unknown("needs the artifact (contract) or descriptors", "give --artifact RAILS")
    ev = (
        ev_artifact(a, f"contract.json {a.n_fields} fields"),
        ev_artifact(a, f"validation mode {a.validation_mode}"),
    )
    if not on(a.validation_mode):
        return RuleResult(
            0.5,
            f"contract with {a.n_fields} fields captured but not enforced (validation off)",
            ev,
            "set validation.mode: block and re-fit",
        )
    if served(st) and st is not None:
        return RuleResult(
            1.0,
            f"contract with {a.n_fields} fields enforced by the guard (validation mode "
            f"{a.validation_mode}) and checked on every served row ({st.count(400)} refusals "
            f"logged of {st.decisions})",
            (*ev, ev_store(st, f"{st.decisions} decisions, {st.count(400)} with 400")),
            "keep serving with --store",
        )
    return RuleResult(
        0.5,
        f"contract with {a.n_fields} fields inferred from the training data (validation "
        f"{a.validation_mode}); no served traffic shows it checked",
        ev,
        "serve with `mlrails serve RAILS --store STORE` (every row is checked) and give --store",
    )


RULES["mltest.data.2"] = _organisational(
    "feature ablation/importance studies",
    "measure each feature's contribution (SHAP on request: explain=true; ablation); " + ANSWER,
)
RULES["mltest.data.3"] = _organisational("the cost of each feature")
RULES["mltest.data.4"] = _organisational("project-level feature requirements")
RULES["mltest.data.5"] = _organisational("privacy controls of the data pipeline")
RULES["mltest.data.6"] = _organisational("the time to add a feature")


@rule("mltest.data.7")
def feature_code_tested(e: Evidence) -> RuleResult:
    d, p = e.descriptors, e.project
    documented = (d is not None and d.pipeline_test_cases > 0) or (
        p is not None and p.feature_test_files > 0
    )
    ev: list[str] = []
    if d is not None:
        ev.append(ev_desc(d, f"{d.pipeline_test_cases} data pipeline test cases"))
    if p is not None:
        ev.append(
            ev_project(
                p,
                f"{p.feature_test_files} feature/pipeline test files; tests in "
                f"CI: {ci_where(p, 'tests') or 'no'}",
            )
        )
    if documented and p is not None and p.runs("tests"):
        return RuleResult(
            1.0, "feature code tests exist and the CI runs the tests", tuple(ev), "keep it up"
        )
    if documented:
        return RuleResult(
            0.5,
            "feature code tests documented (pipeline test cases or test files), not run in CI",
            tuple(ev),
            "run the tests in CI (pytest)",
        )
    return unknown(
        "no feature code tests found (data pipeline test cases or test_*feature*/pipeline* files)",
        "list the pipeline's test cases in data_pipeline.json and run them in CI",
        *ev,
    )


@rule("mltest.model.1")
def specs_reviewed(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown("needs the project (version control, review gate)", "give --project DIR")
    if not p.version_control:
        return unknown(
            "no version control found above the project directory",
            "keep the model's code and configuration in git, reviewed via pull requests",
        )
    ev = (ev_project(p, f"git; review gate: {', '.join(p.review_gate) or 'none'}"),)
    if p.review_gate:
        return RuleResult(
            1.0,
            "version controlled, changes go through review (CI on pull/merge requests or "
            "CODEOWNERS)",
            ev,
            "keep it up",
        )
    return RuleResult(
        0.5,
        "version controlled; no review gate found (no CI on pull requests, no CODEOWNERS)",
        ev,
        "run CI on pull requests and add a CODEOWNERS file",
    )


RULES["mltest.model.2"] = _organisational("offline/online metric correlation (A/B test)")
RULES["mltest.model.3"] = _organisational(
    "hyperparameter search", "record the search (grid/random/Bayesian) and its results; " + ANSWER
)
RULES["mltest.model.4"] = _organisational("the measured impact of model staleness")

_SIMPLE = (
    "Logistic",
    "Linear",
    "Ridge",
    "Lasso",
    "ElasticNet",
    "Dummy",
    "NB",
    "DecisionTree",
    "Perceptron",
    "SGD",
    "KNeighbors",
)


@rule("mltest.model.5")
def simpler_model(e: Evidence) -> RuleResult:
    b, p = e.bench, e.project
    if b is None:
        return unknown("needs bench records (models compared)", "give --bench RECORD")
    compared = [
        r
        for r in b.records
        if len(r.pairs) >= 2
        and any(any(k in c.rsplit(".", 1)[-1] for k in _SIMPLE) for c in r.model_classes)
    ]
    if not compared:
        return RuleResult(
            0.0,
            "no bench record compares the model with a simpler one (linear, tree, dummy)",
            (ev_bench(b, f"{b.max_pairs} pairs at most"),),
            "add a simple baseline (e.g. LogisticRegression) under `models:` in the bench "
            "config and run `mlrails bench`",
        )
    ev = (ev_bench(b, f"{compared[0].path} compares {', '.join(compared[0].model_classes)}"),)
    if p is not None and p.runs("bench"):
        return RuleResult(1.0, "compared with a simpler model, in CI", ev, "keep it up")
    return RuleResult(
        0.5,
        "compared with a simpler model in a recorded bench run (manual)",
        ev,
        "run that comparison in CI (`mlrails bench bench.yaml`)",
    )


@rule("mltest.model.6")
def slices(e: Evidence) -> RuleResult:
    """Per-class results are not the paper's "important slices" (country, device, segment):
    they are listed as evidence, and the answers file decides."""
    b = e.bench
    per_class = b is not None and any(r.per_class for r in b.records)
    seen = (ev_bench(b, "per-class confusion matrices"),) if b is not None and per_class else ()
    return unknown(
        "quality on the important slices of the data (per-class results alone do not show it)",
        "evaluate the slices that matter (region, device, segment) on held-out data; " + ANSWER,
        *seen,
    )


RULES["mltest.model.7"] = _organisational("fairness across groups of users (inclusion)")


@rule("mltest.infrastructure.1")
def training_reproducible(e: Evidence) -> RuleResult:
    b, p = e.bench, e.project
    if b is None and p is None:
        return unknown("needs bench records or the project's CI", "give --bench RECORD")
    ev: list[str] = []
    if p is not None:
        ev.append(ev_project(p, f"bench verify: {ci_where(p, 'bench_verify') or 'not found'}"))
    if p is not None and p.runs("bench_verify"):
        return RuleResult(
            1.0,
            f"reproducibility verified in CI (mlrails bench verify in "
            f"{ci_where(p, 'bench_verify')})",
            tuple(ev),
            "keep it up",
        )
    if b is not None and b.verified:
        ev.append(ev_bench(b, f"{len(b.verified)} of {len(b.records)} records verified"))
        return RuleResult(
            0.5,
            "re-run by hand and reproduced bit for bit (`mlrails bench verify`, kept beside "
            "the record)",
            tuple(ev),
            "run `mlrails bench verify RECORD` in CI",
        )
    if b is not None:
        differs = [r for r in b.records if r.verified is False]
        ev.append(
            ev_bench(b, f"{len(b.records)} records, none verified identical")
            if not differs
            else ev_bench(b, f"verification found differences in {differs[0].path}")
        )
        return RuleResult(
            0.0,
            "a bench record exists but no re-run has shown it reproducible"
            if not differs
            else "a re-run did not reproduce the record",
            tuple(ev),
            "run `mlrails bench verify RECORD` (bit-identical metrics?), then in CI",
        )
    return RuleResult(
        0.0,
        "no bench record and no reproducibility check in CI",
        tuple(ev),
        "record a run (`mlrails bench bench.yaml`) and run `mlrails bench verify RECORD` in CI",
    )


@rule("mltest.infrastructure.2")
def specs_unit_tested(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown("needs the project (tests, CI)", "give --project DIR")
    ev = (ev_project(p, f"{p.test_files} test files; tests in CI: {ci_where(p, 'tests') or 'no'}"),)
    if p.test_files and p.runs("tests"):
        return RuleResult(1.0, f"{p.test_files} test files, run in CI", ev, "keep it up")
    if p.test_files:
        return RuleResult(
            0.5, f"{p.test_files} test files, not run in CI", ev, "run the tests in CI (pytest)"
        )
    return RuleResult(0.0, "no test files found", ev, "add unit tests for the model code")


@rule("mltest.infrastructure.3")
def integration_tested(e: Evidence) -> RuleResult:
    p, b = e.project, e.bench
    if p is None and b is None:
        return unknown("needs the project (CI) or bench records", "give --project DIR")
    if p is not None and (p.runs("integration") or p.runs("bench")):
        kinds = [k for k in ("integration", "bench") if p.runs(k)]
        where = ", ".join(ci_where(p, k) for k in kinds)
        return RuleResult(
            1.0,
            "the pipeline from data to guarded prediction runs in CI (mlrails bench / check / "
            "serve, or integration tests)",
            (ev_project(p, f"{', '.join(kinds)} in {where}"),),
            "keep it up",
        )
    ev = []
    if b is not None:
        ev.append(ev_bench(b, "data → model → rails exercised end to end"))
    if (p is not None and p.documents("integration")) or b is not None:
        return RuleResult(
            0.5,
            "the pipeline was run end to end by hand (bench record or documented command)",
            tuple(ev),
            "run `mlrails bench bench.yaml` (or an integration test) in CI",
        )
    return RuleResult(
        0.0, "no end-to-end run found", tuple(ev), "run `mlrails bench bench.yaml` in CI"
    )


@rule("mltest.infrastructure.4")
def validated_before_serving(e: Evidence) -> RuleResult:
    p, b, st = e.project, e.bench, e.store
    if p is None and b is None:
        return unknown("needs the project (CI) or bench records", "give --project DIR")
    if p is not None and p.runs("bench_gate"):
        return RuleResult(
            1.0,
            "quality gate in CI: mlrails bench against a baseline, failing on a significant "
            f"regression ({ci_where(p, 'bench_gate')})",
            (ev_project(p, f"bench --baseline in {ci_where(p, 'bench_gate')}"),),
            "keep it up",
        )
    ev = []
    if b is not None:
        ev.append(ev_bench(b, f"{len(b.records)} records; gate-ready: {b.gate_ready}"))
    if st is not None and st.bench_runs:
        ev.append(ev_store(st, f"{st.bench_runs} bench runs stored"))
    if b is not None or (st is not None and st.bench_runs) or (p is not None and p.runs("bench")):
        return RuleResult(
            0.5,
            "quality measured before serving (bench run), without an automatic gate",
            tuple(ev),
            "run `mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
        )
    return RuleResult(
        0.0,
        "no quality check before serving found",
        tuple(ev),
        "run `mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
    )


@rule("mltest.infrastructure.5")
def debuggable(e: Evidence) -> RuleResult:
    a, st = e.artifact, e.store
    if a is None and st is None:
        return unknown("needs the artifact or the store", "give --artifact RAILS --store STORE")
    if served(st) and st is not None:
        return RuleResult(
            1.0,
            f"every served row traceable: input, verdict and each safeguard's score logged "
            f"with a trace id ({st.decisions} decisions)",
            (ev_store(st, f"{st.decisions} decisions with trace ids and scores"),),
            "look one up: `mlrails log export --store STORE`",
        )
    if a is None:
        seen = () if st is None else (ev_store(st, "no decisions"),)
        return unknown(
            "the store holds no served decision yet",
            "serve the artifact with --store STORE (every decision logged with its scores)",
            *seen,
        )
    return RuleResult(
        0.5,
        "a single prediction can be traced by hand (`mlrails check` shows every safeguard's "
        "score; SHAP on request)",
        (ev_artifact(a, f"{len(a.safeguards)} safeguards with thresholds"),),
        "serve with --store STORE so every decision is logged with its scores",
    )


RULES["mltest.infrastructure.6"] = _organisational(
    "canary roll-out",
    "serve the new artifact to a share of traffic (a second `mlrails serve` behind the "
    "router) and compare the logs; " + ANSWER,
)
RULES["mltest.infrastructure.7"] = _organisational(
    "rollback of the serving model",
    "keep the previous artifact (its hash is in the decision log) and a command to re-serve "
    "it; " + ANSWER,
)


@rule("mltest.monitoring.1")
def dependency_notification(e: Evidence) -> RuleResult:
    p = e.project
    if p is None:
        return unknown("needs the project (dependabot/renovate config)", "give --project DIR")
    ev = (
        ev_project(
            p,
            f"bots: {', '.join(p.dependency_bots) or 'none'}; locks: "
            f"{', '.join(p.lock_files) or 'none'}",
        ),
    )
    if p.dependency_bots:
        return RuleResult(
            1.0,
            f"dependency updates announced automatically ({', '.join(p.dependency_bots)})",
            ev,
            "keep it up",
        )
    return RuleResult(
        0.0,
        "no dependency update bot (dependabot, renovate) configured",
        ev,
        "add .github/dependabot.yml (or renovate.json) for the pinned dependencies",
    )


@rule("mltest.monitoring.2")
def invariants_hold(e: Evidence) -> RuleResult:
    a, st = e.artifact, e.store
    if a is None:
        return unknown("needs the artifact (contract, validation mode)", "give --artifact RAILS")
    ev = [ev_artifact(a, f"validation mode {a.validation_mode}, {a.n_fields} fields")]
    if not on(a.validation_mode):
        return RuleResult(
            0.0,
            "validation is off: invariants not checked on inputs",
            tuple(ev),
            "set validation.mode: block and re-fit",
        )
    if served(st) and st is not None:
        ev.append(ev_store(st, f"{st.count(400)} refusals (400) logged of {st.decisions}"))
        return RuleResult(
            1.0,
            f"the contract's invariants checked on every served row, violations logged "
            f"({st.count(400)} refusals) and counted on /metrics",
            tuple(ev),
            'alert on mlrails_verdicts_total{status="400"} in your monitoring',
        )
    return RuleResult(
        0.5,
        "the guard would check the invariants on every row; no served traffic shows it",
        tuple(ev),
        "serve with `mlrails serve RAILS --store STORE` and give --store",
    )


@rule("mltest.monitoring.3")
def no_skew(e: Evidence) -> RuleResult:
    a, s, d, p = e.artifact, e.serve, e.descriptors, e.project
    if a is None and s is None and d is None and p is None:
        return unknown(
            "needs the artifact and serve settings, descriptors or the project",
            "give --artifact RAILS --serve-settings FILE",
        )
    ev: list[str] = []
    if a is not None:
        ev.append(ev_artifact(a, f"drift reference: {', '.join(a.drift_reference) or 'none'}"))
    if s is not None:
        ev.append(ev_serve(s, f"drift_every_s {s.drift_every_s}"))
    if drift_service(e) and s is not None:
        return RuleResult(
            1.0,
            f"served traffic compared with the training reference every {s.drift_every_s:g} s",
            tuple(ev),
            "serve with --drift-webhook URL to be alerted",
        )
    if p is not None and p.runs("drift"):
        return RuleResult(
            1.0,
            f"mlrails drift runs automatically ({ci_where(p, 'drift')})",
            (*ev, ev_project(p, "mlrails drift automated")),
            "keep it up",
        )
    if d is not None and d.fields_compared > 0:
        ev.append(ev_desc(d, f"{d.fields_compared} fields compared training vs production"))
        return RuleResult(
            0.5,
            f"training vs production compared once (descriptors, {d.fields_compared} fields)",
            tuple(ev),
            "serve with --drift-every 5m (the artifact keeps the reference)",
        )
    if p is not None and p.documents("drift"):
        return RuleResult(
            0.5,
            f"mlrails drift documented ({ci_where(p, 'drift')}), run by hand",
            tuple(ev),
            "run `mlrails drift` on a schedule",
        )
    return RuleResult(
        0.0,
        "no training/serving comparison found (no periodic drift check, no mismatch statistics)",
        tuple(ev),
        "serve with --drift-every 5m (re-fit if the artifact keeps no reference)",
    )


@rule("mltest.monitoring.4")
def staleness_monitored(e: Evidence) -> RuleResult:
    ev = []
    if e.artifact is not None and e.artifact.created_at is not None:
        age = _age_days(e.artifact.created_at)
        ev.append(
            ev_artifact(e.artifact, f"fitted {e.artifact.created_at:%Y-%m-%d} ({age:.0f} days ago)")
        )
    return unknown(
        "the model's age is known (artifact created_at); an alert on staleness is organisational",
        "alert when the serving artifact is older than the staleness limit; " + ANSWER,
        *ev,
    )


@rule("mltest.monitoring.5")
def numerically_stable(e: Evidence) -> RuleResult:
    a, st = e.artifact, e.store
    if a is None:
        return unknown("needs the artifact", "give --artifact RAILS")
    ev = [ev_artifact(a, f"validation mode {a.validation_mode}")]
    if not on(a.validation_mode):
        return RuleResult(
            0.0,
            "validation is off: non-finite inputs reach the model",
            tuple(ev),
            "set validation.mode: block and re-fit",
        )
    if served(st) and st is not None:
        ev.append(ev_store(st, f"{st.count(500)} model errors (500) logged"))
        return RuleResult(
            1.0,
            "NaN/inf inputs refused (400) and non-finite model outputs answered as model "
            f"errors (500) on every served row ({st.count(500)} logged)",
            tuple(ev),
            "alert on 500s in the decision log",
        )
    return RuleResult(
        0.5,
        "the guard refuses NaN/inf inputs and non-finite outputs; no served traffic shows it",
        tuple(ev),
        "serve with --store STORE and give --store",
    )


@rule("mltest.monitoring.6")
def computing_performance(e: Evidence) -> RuleResult:
    s, st, b = e.serve, e.store, e.bench
    if s is None and st is None and b is None:
        return unknown("needs the serve settings, the store or bench records", "give --store STORE")
    if served(st) and st is not None:
        return RuleResult(
            1.0,
            f"latency logged per decision (mean {st.mean_latency_ms or 0:.1f} ms) and exported "
            "on /metrics",
            (ev_store(st, f"{st.decisions} decisions with latency"),),
            "alert on the latency histogram of /metrics",
        )
    if s is not None:
        return RuleResult(
            1.0,
            "the service exports latency and batch metrics on /metrics",
            (ev_serve(s, "mlrails serve exports latency histograms"),),
            "alert on the latency histogram of /metrics",
        )
    if b is None:
        return unknown(
            "the store holds no served decision yet",
            "serve the artifact with --store STORE: latency is logged for every decision",
        )
    return RuleResult(
        0.5,
        "wall time and peak memory measured per bench cell (manual run)",
        (ev_bench(b, f"peak {max(r.peak_mb for r in b.records):.1f} MB"),),
        "serve with --store STORE: latency is logged for every decision",
    )


@rule("mltest.monitoring.7")
def prediction_quality(e: Evidence) -> RuleResult:
    """Only labelled outcomes answer "has prediction quality regressed?": a regression gate
    on labelled data (``mlrails bench --baseline``: accuracy or RMSE tested for "worse").
    Prediction drift is listed as evidence but scores nothing — a model can drift and stay
    right, or go wrong without drifting; without labels the item is a gap."""
    a, s, p, b = e.artifact, e.serve, e.project, e.bench
    if a is None and s is None and p is None and b is None:
        return unknown(
            "needs labelled evidence: the project (a bench regression gate in CI) or bench records",
            "give --project DIR (with `mlrails bench --baseline` in CI) or --bench RECORD",
        )
    ev: list[str] = []
    outputs = a is not None and "reference_outputs.npz" in a.drift_reference
    if a is not None:
        ev.append(ev_artifact(a, f"output reference {'kept' if outputs else 'absent'}"))
    if s is not None and s.drift_every_s is not None:
        ev.append(ev_serve(s, f"prediction drift checked every {s.drift_every_s:g} s (no labels)"))
    if b is not None:
        ev.append(ev_bench(b, f"{len(b.records)} labelled bench records"))
    if p is not None and p.runs("bench_gate"):
        return RuleResult(
            1.0,
            "prediction quality tested on labelled data automatically: mlrails bench "
            f"--baseline fails on a significant accuracy/RMSE regression "
            f"({ci_where(p, 'bench_gate')})",
            (*ev, ev_project(p, f"bench --baseline in {ci_where(p, 'bench_gate')}")),
            "bench freshly labelled production rows as their labels arrive",
        )
    if p is not None and p.documents("bench_gate"):
        return RuleResult(
            0.5,
            f"a regression gate on labelled data, run by hand ({ci_where(p, 'bench_gate')})",
            (*ev, ev_project(p, "bench --baseline documented, not automated")),
            "run `mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
        )
    return unknown(
        "no labelled outcome shows prediction quality over time (prediction drift, if "
        "monitored, is not prediction quality)",
        "label a sample of served rows as outcomes arrive and gate on them: "
        "`mlrails bench bench.yaml --baseline BASE.json --fail-on regression` in CI",
        *ev,
    )


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
