"""ML System Robustness Score rules (0–4), categories deployment, operations and security.

One point per condition met (:class:`~mlrails.score.rules.common.Points`); the conventions are
in :mod:`mlrails.score.rules`.
"""

from __future__ import annotations

from mlrails.score.facts import Evidence
from mlrails.score.report import RuleResult
from mlrails.score.rules.common import (
    ANSWER,
    Points,
    ci_where,
    drift_service,
    ev_artifact,
    ev_desc,
    ev_project,
    ev_serve,
    ev_store,
    on,
    rule,
    served,
    unknown,
)


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
