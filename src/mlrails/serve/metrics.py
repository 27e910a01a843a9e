"""Prometheus metrics of one app, in its own registry (several apps never share counters).

* ``mlrails_http_requests_total{method,route,status}`` and
  ``mlrails_http_request_duration_seconds{route}`` — every HTTP request, by status code;
* ``mlrails_verdicts_total{status,problem}`` — every logged verdict (one per row);
* ``mlrails_safeguard_triggers_total{safeguard,mode}`` — safeguards that fired;
* ``mlrails_safeguard_latency_seconds{safeguard}`` — per-row time of each safeguard;
* ``mlrails_safeguard_score_ratio{safeguard}`` — detector score / threshold (1 = threshold),
  a scale-free score distribution that shows drift towards the alarm;
* ``mlrails_confidence`` — calibrated maximum probability of answered classifications;
* ``mlrails_store_failures_total`` — decision-log writes that failed (answered 503);
* ``mlrails_feedback_labels_total{outcome}`` — labels received at ``/v1/feedback`` by what
  became of them (``matched``, ``unknown``, ``duplicate``, ``changed``);
* ``mlrails_batch_rows`` / ``mlrails_batch_requests`` — rows and requests per guard call
  (micro-batching), ``mlrails_batch_seconds`` — time of one batched guard call;
* ``mlrails_log_commit_rows`` / ``mlrails_log_commit_seconds`` — records per group commit
  and its duration; ``mlrails_log_records_lost_total`` — records an ``async`` log could not
  write;
* ``mlrails_drift_*{side,field}`` — the latest drift check of the logged traffic against the
  artifact's reference (``side`` input or output): ``alarm`` (0/1), ``statistic`` (KS D or
  chi-square), ``p_adjusted`` (Benjamini–Hochberg), ``effect_size``, ``psi``;
  ``mlrails_drift_window_rows`` (rows compared), ``mlrails_drift_refused_rows`` and
  ``mlrails_drift_refusal_rate`` (rows refused by validation, kept out of the input
  statistics), ``mlrails_drift_last_check_timestamp_seconds``,
  ``mlrails_drift_checks_total{result}`` and ``mlrails_drift_webhook_failures_total``.

No label takes a value from a request as it came: the method is one of :data:`HTTP_METHODS`
or ``other``, the route the matched route's template (``/v2/models/{model_name}``) or
``unmatched``, the status a code in 100–599, the problem a known problem type URI (else
``other``). Safeguard, mode and field labels come from the artifact, never from a request.
So however many invented methods and paths a caller sends, the series stay a fixed set.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from mlrails.guard.verdict import Verdict
from mlrails.protocol.problem import all_problem_uris
from mlrails.serve.routing import flat_routes

if TYPE_CHECKING:
    from mlrails.drift.monitor import DriftCheck

CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RATIO_BUCKETS = (0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 5.0, 10.0)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096)
_CONFIDENCE_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)

#: the ``method`` label's values besides :data:`OTHER` (HTTP methods are case-sensitive)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
#: the label value of anything outside a label's known set
OTHER = "other"
#: the ``route`` label of a request no route matched (404, a redirected trailing slash)
UNMATCHED = "unmatched"
_PROBLEMS = frozenset(all_problem_uris())


def method_label(method: str) -> str:
    """``method`` if it is a standard HTTP method, else ``other`` (any token is a method to
    the HTTP parser, so the raw value would give one series per invented method)."""
    return method if method in HTTP_METHODS else OTHER


def route_label(template: object, known: Collection[str]) -> str:
    """The matched route's template if it is one of the app's (``known``), else
    ``unmatched``: never a raw path."""
    return template if isinstance(template, str) and template in known else UNMATCHED


def route_templates(routes: Iterable[object]) -> frozenset[str]:
    """The path templates of an app's routes, those of included routers too."""
    return frozenset(
        p for r in flat_routes(routes) if isinstance(p := getattr(r, "path", None), str)
    )


def status_label(status: int) -> str:
    """The status code as text if it is a valid HTTP code (100–599), else ``other``."""
    return str(status) if isinstance(status, int) and 100 <= status <= 599 else OTHER


def problem_label(problem: str | None) -> str:
    """A known problem type URI, ``none`` for no problem, else ``other``."""
    if problem is None:
        return "none"
    return problem if problem in _PROBLEMS else OTHER


class ServeMetrics:
    """The service's metrics and their exposition (``render``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "mlrails_http_requests",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_duration = Histogram(
            "mlrails_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.verdicts = Counter(
            "mlrails_verdicts",
            "Logged verdicts by status code and problem type",
            ["status", "problem"],
            registry=r,
        )
        self.triggers = Counter(
            "mlrails_safeguard_triggers",
            "Safeguards that fired, by safeguard and mode",
            ["safeguard", "mode"],
            registry=r,
        )
        self.safeguard_latency = Histogram(
            "mlrails_safeguard_latency_seconds",
            "Per-row time of each safeguard (batch time / rows)",
            ["safeguard"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.score_ratio = Histogram(
            "mlrails_safeguard_score_ratio",
            "Detector score divided by its threshold (above 1 fires)",
            ["safeguard"],
            buckets=_RATIO_BUCKETS,
            registry=r,
        )
        self.confidence = Histogram(
            "mlrails_confidence",
            "Calibrated maximum probability of answered classifications",
            buckets=_CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.store_failures = Counter(
            "mlrails_store_failures",
            "Decision-log writes that failed (answered 503)",
            registry=r,
        )
        self.feedback_labels = Counter(
            "mlrails_feedback_labels",
            "Labels received as feedback, by what became of them",
            ["outcome"],
            registry=r,
        )

        self.batch_rows = Histogram(
            "mlrails_batch_rows", "Rows per guard call", buckets=_SIZE_BUCKETS, registry=r
        )
        self.batch_requests = Histogram(
            "mlrails_batch_requests",
            "Requests sharing one guard call (micro-batching)",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "mlrails_batch_seconds",
            "Time of one batched guard call",
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.log_commit_rows = Histogram(
            "mlrails_log_commit_rows",
            "Decision records per group commit",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.log_commit_seconds = Histogram(
            "mlrails_log_commit_seconds",
            "Time of one group commit of the decision log",
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.log_lost = Counter(
            "mlrails_log_records_lost",
            "Decision records an async log could not write",
            registry=r,
        )

        drift_labels = ["side", "field"]
        self.drift_alarm = Gauge(
            "mlrails_drift_alarm",
            "1 when the field alarmed in the latest drift check (significant and large)",
            drift_labels,
            registry=r,
        )
        self.drift_statistic = Gauge(
            "mlrails_drift_statistic",
            "Test statistic of the latest drift check (KS D for numeric, chi-square otherwise)",
            drift_labels,
            registry=r,
        )
        self.drift_p_adjusted = Gauge(
            "mlrails_drift_p_adjusted",
            "Benjamini-Hochberg adjusted p-value of the latest drift check",
            drift_labels,
            registry=r,
        )
        self.drift_effect = Gauge(
            "mlrails_drift_effect_size",
            "Effect size of the latest drift check (W1/std or Cramer's V, debiased)",
            drift_labels,
            registry=r,
        )
        self.drift_psi = Gauge(
            "mlrails_drift_psi",
            "Population stability index of the latest drift check",
            drift_labels,
            registry=r,
        )
        self.drift_rows = Gauge(
            "mlrails_drift_window_rows", "Logged rows in the latest drift window", registry=r
        )
        self.drift_refused = Gauge(
            "mlrails_drift_refused_rows",
            "Rows of the latest drift window refused by validation (kept out of its input "
            "statistics)",
            registry=r,
        )
        self.drift_refusal_rate = Gauge(
            "mlrails_drift_refusal_rate",
            "Share of the latest drift window's rows refused by validation",
            registry=r,
        )
        self.drift_last = Gauge(
            "mlrails_drift_last_check_timestamp_seconds",
            "Unix time of the latest drift check",
            registry=r,
        )
        self.drift_checks = Counter(
            "mlrails_drift_checks",
            "Drift checks by result (ok, alarm, no_traffic, error)",
            ["result"],
            registry=r,
        )
        self.drift_webhook_failures = Counter(
            "mlrails_drift_webhook_failures",
            "Drift webhook POSTs that failed or were not answered 2xx",
            registry=r,
        )

    def observe_drift(self, check: DriftCheck) -> None:
        """Publish a drift check: one gauge set per compared field (stale fields removed)."""
        gauges = (
            self.drift_alarm,
            self.drift_statistic,
            self.drift_p_adjusted,
            self.drift_effect,
            self.drift_psi,
        )
        for g in gauges:
            g.clear()
        for side, report in (("input", check.inputs), ("output", check.outputs)):
            if report is None:
                continue
            for f in report.fields:
                self.drift_alarm.labels(side, f.field).set(1.0 if f.alarm else 0.0)
                self.drift_statistic.labels(side, f.field).set(f.statistic)
                self.drift_p_adjusted.labels(side, f.field).set(f.p_adjusted)
                self.drift_effect.labels(side, f.field).set(f.effect_size)
                self.drift_psi.labels(side, f.field).set(f.psi)
        self.drift_rows.set(check.n_rows)
        self.drift_refused.set(check.n_refused)
        self.drift_refusal_rate.set(check.refusal_rate or 0.0)
        self.drift_last.set(check.time.timestamp())

    def observe_batch(self, requests: int, rows: int, seconds: float) -> None:
        self.batch_requests.observe(requests)
        self.batch_rows.observe(rows)
        self.batch_seconds.observe(seconds)

    def observe_commit(self, _groups: int, rows: int, seconds: float) -> None:
        self.log_commit_rows.observe(rows)
        self.log_commit_seconds.observe(seconds)

    def observe_feedback(self, counts: Mapping[str, int]) -> None:
        """Count the labels of one feedback request by outcome (the store's fixed names)."""
        for outcome, n in counts.items():
            self.feedback_labels.labels(outcome).inc(n)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request; ``route`` is already a label (:func:`route_label`)."""
        self.requests.labels(method_label(method), route, status_label(status)).inc()
        self.request_duration.labels(route).observe(seconds)

    def observe_refusal(self, status: int, problem: str) -> None:
        """Count a request refused before the guard ran (one verdict, no rows)."""
        self.verdicts.labels(status_label(status), problem_label(problem)).inc()

    def observe_verdicts(self, verdicts: Sequence[Verdict]) -> None:
        """Count a request's verdicts; safeguard latencies once per request (equal per row)."""
        seen_latency: set[str] = set()
        for v in verdicts:
            self.verdicts.labels(status_label(v.status), problem_label(v.problem)).inc()
            for s in v.safeguards:
                if s.triggered:
                    self.triggers.labels(s.name, s.mode).inc()
                if s.name not in seen_latency:
                    seen_latency.add(s.name)
                    self.safeguard_latency.labels(s.name).observe(s.latency_ms / 1000.0)
                if (
                    s.name not in ("validation", "reliability", "explanation")
                    and s.score is not None
                    and s.threshold is not None
                    and s.threshold > 0
                    and math.isfinite(s.score)
                ):
                    self.score_ratio.labels(s.name).observe(s.score / s.threshold)
            if v.confidence is not None and math.isfinite(v.confidence.max_probability):
                self.confidence.observe(v.confidence.max_probability)

    def render(self) -> bytes:
        return generate_latest(self.registry)
