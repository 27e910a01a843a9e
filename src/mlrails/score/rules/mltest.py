"""ML Test Score rules (0 / 0.5 / 1): data, model, infrastructure and monitoring tests.

1 when the check runs automatically and repeatedly, 0.5 when a manual, documented run exists;
the conventions are in :mod:`mlrails.score.rules`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mlrails.score.facts import Evidence
from mlrails.score.report import RuleResult
from mlrails.score.rules.common import (
    ANSWER,
    Rule,
    ci_where,
    drift_service,
    ev_artifact,
    ev_bench,
    ev_desc,
    ev_project,
    ev_serve,
    ev_store,
    on,
    rule,
    served,
    unknown,
)


def _age_days(t: datetime | None) -> float | None:
    return None if t is None else (datetime.now(UTC) - t).total_seconds() / 86400


def _organisational(item_id: str, what: str, step: str = ANSWER) -> Rule:
    """Register the rule of an organisational item: the evidence cannot tell."""

    def fn(e: Evidence) -> RuleResult:
        return unknown(f"{what} (organisational: mlrails cannot see it)", step)

    return rule(item_id)(fn)


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


_organisational(
    "mltest.data.2",
    "feature ablation/importance studies",
    "measure each feature's contribution (SHAP on request: explain=true; ablation); " + ANSWER,
)
_organisational("mltest.data.3", "the cost of each feature")
_organisational("mltest.data.4", "project-level feature requirements")
_organisational("mltest.data.5", "privacy controls of the data pipeline")
_organisational("mltest.data.6", "the time to add a feature")


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


_organisational("mltest.model.2", "offline/online metric correlation (A/B test)")
_organisational(
    "mltest.model.3",
    "hyperparameter search",
    "record the search (grid/random/Bayesian) and its results; " + ANSWER,
)
_organisational("mltest.model.4", "the measured impact of model staleness")

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


_organisational("mltest.model.7", "fairness across groups of users (inclusion)")


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


_organisational(
    "mltest.infrastructure.6",
    "canary roll-out",
    "serve the new artifact to a share of traffic (a second `mlrails serve` behind the "
    "router) and compare the logs; " + ANSWER,
)
_organisational(
    "mltest.infrastructure.7",
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
