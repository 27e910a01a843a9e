"""The service's periodic drift check: logged traffic against the artifact's reference.

Every ``drift_every_s`` seconds the job reads the decisions of the last ``drift_window_s``
seconds in a worker thread, compares them with the reference ``mlrails fit`` kept in the
artifact (:func:`mlrails.drift.monitor.check_traffic`), publishes the result as Prometheus
gauges and keeps it for ``GET /v1/drift`` and the UI's drift page. With ``drift_webhook`` set,
a JSON POST carries the findings whenever the set of alarming fields changes (an alarm starts,
changes, or clears), so that a persistent drift does not page every few minutes. Under
``--workers N`` every worker checks (its gauges and ``/v1/drift`` stay current) but only the
one holding a host-wide file lock for this store and artifact sends webhooks.
A failing check or webhook is logged and counted, never raised: monitoring must not take the
service down.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import anyio
import anyio.to_thread
import httpx

from mlrails.drift import DriftConfig, DriftReport
from mlrails.drift.monitor import DriftCheck, check_traffic_batches
from mlrails.errors import MlrailsError
from mlrails.guard.rails import Rails
from mlrails.serve.metrics import ServeMetrics
from mlrails.serve.settings import ServeSettings
from mlrails.store import Store, StoreUnavailable

log = logging.getLogger("mlrails.serve.drift")

#: seconds a webhook POST may take
WEBHOOK_TIMEOUT_S = 5.0

DriftState = Literal["off", "pending", "ok", "alarm", "no_traffic", "error"]


@dataclass(frozen=True)
class WebhookDelivery:
    """The last webhook POST: when, which event, and its HTTP status (or the error)."""

    time: datetime
    event: str
    status: int | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "event": self.event,
            "status": self.status,
            "error": self.error,
        }


@dataclass(frozen=True)
class DriftStatus:
    """What the drift job knows now (``GET /v1/drift``)."""

    state: DriftState
    every_s: float | None
    window_s: float
    check: DriftCheck | None = None
    error: str | None = None
    last_run: datetime | None = None
    webhook: WebhookDelivery | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers become null)."""
        return finite_dict(
            {
                "state": self.state,
                "every_s": self.every_s,
                "window_s": self.window_s,
                "last_run": None if self.last_run is None else self.last_run.isoformat(),
                "error": self.error,
                "check": None if self.check is None else self.check.to_dict(),
                "webhook": None if self.webhook is None else self.webhook.to_dict(),
            }
        )


class DriftMonitor:
    """Runs drift checks for one app and remembers the latest."""

    def __init__(
        self, rails: Rails, store: Store, settings: ServeSettings, metrics: ServeMetrics
    ) -> None:
        self.rails = rails
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.config = DriftConfig(alpha=settings.drift_alpha)
        self._lock = anyio.Lock()
        self._notified: frozenset[str] = frozenset()
        self._leader_fd: int | None = None
        enabled = rails.reference is not None
        self.status = DriftStatus(
            state="pending" if enabled else "off",
            every_s=settings.drift_every_s if enabled else None,
            window_s=settings.drift_window_s,
            error=None
            if enabled
            else "the artifact keeps no drift reference (fitted before mlrails kept one, or "
            "with policy drift.reference off); refit it to monitor drift",
        )

    @property
    def enabled(self) -> bool:
        return self.rails.reference is not None

    async def run_forever(self) -> None:
        """Check every ``drift_every_s`` seconds until cancelled (the first after one period)."""
        every = self.settings.drift_every_s
        if every is None or not self.enabled:
            return
        while True:
            await anyio.sleep(every)
            await self.run_once()

    async def run_once(self) -> DriftStatus:
        """One check now (concurrent calls wait for each other); never raises."""
        if not self.enabled:
            return self.status
        async with self._lock:
            now = datetime.now(UTC)
            try:
                check = await anyio.to_thread.run_sync(self._check, now)
            except (MlrailsError, StoreUnavailable) as exc:
                self.metrics.drift_checks.labels("error").inc()
                log.warning("drift check failed: %s", exc)
                self.status = _replace(self.status, state="error", error=str(exc), last_run=now)
                return self.status
            state: DriftState = (
                "alarm"
                if check.alarm
                else ("no_traffic" if check.n_rows + check.n_refused == 0 else "ok")
            )
            self.metrics.drift_checks.labels(state).inc()
            self.metrics.observe_drift(check)
            webhook = await self._notify(check)
            self.status = DriftStatus(
                state=state,
                every_s=self.status.every_s,
                window_s=self.status.window_s,
                check=check,
                error=None,
                last_run=now,
                webhook=webhook or self.status.webhook,
            )
            return self.status

    def _check(self, now: datetime) -> DriftCheck:
        reference = self.rails.reference
        assert reference is not None
        since = now - timedelta(seconds=self.settings.drift_window_s)
        return check_traffic_batches(
            reference,
            self.store.iter_decisions(since=since),
            self.rails.contract,
            task=self.rails.task,
            since=since,
            until=now,
            config=self.config,
        )

    async def _notify(self, check: DriftCheck) -> WebhookDelivery | None:
        url = self.settings.drift_webhook
        alarming = frozenset(check.alarming)
        if url is None or alarming == self._notified or not self._is_leader():
            return None
        event = (
            "drift.resolved"
            if not alarming
            else ("drift.alarm" if not self._notified else "drift.changed")
        )
        body = webhook_body(event, self.rails.artifact_hash, check)
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S) as client:
                answer = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            self.metrics.drift_webhook_failures.inc()
            log.warning("drift webhook %s failed: %s", url, exc)
            return WebhookDelivery(datetime.now(UTC), event, None, f"{type(exc).__name__}: {exc}")
        if answer.is_success:
            self._notified = alarming
        else:
            self.metrics.drift_webhook_failures.inc()
            log.warning("drift webhook %s answered %d", url, answer.status_code)
        return WebhookDelivery(datetime.now(UTC), event, answer.status_code)

    def _is_leader(self) -> bool:
        """Whether this process sends the webhooks (holds the host-wide lock)."""
        if self._leader_fd is not None:
            return True
        key = f"{self.store.display}|{self.rails.artifact_hash}".encode()
        name = f"mlrails-drift-{hashlib.sha256(key).hexdigest()[:16]}.lock"
        fd = os.open(os.path.join(tempfile.gettempdir(), name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._leader_fd = fd
        return True

    def close(self) -> None:
        """Release the webhook lock (the app's shutdown)."""
        if self._leader_fd is not None:
            os.close(self._leader_fd)
            self._leader_fd = None


def webhook_body(event: str, artifact_hash: str, check: DriftCheck) -> dict[str, Any]:
    """The webhook's JSON: the event, the artifact, one finding per alarming field (with its
    numbers), and the whole check."""
    findings = []
    for side, report in (("input", check.inputs), ("output", check.outputs)):
        findings.extend(_findings(side, report))
    return finite_dict(
        {
            "event": event,
            "artifact_hash": artifact_hash,
            "time": check.time.isoformat(),
            "window": {"since": check.since.isoformat(), "until": check.until.isoformat()},
            "alarming": check.alarming,
            "findings": findings,
            "check": check.to_dict(),
        }
    )


def finite_dict(value: dict[str, Any]) -> dict[str, Any]:
    """:func:`finite` of a dict."""
    out: dict[str, Any] = finite(value)
    return out


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _findings(side: str, report: DriftReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    return [
        {
            "rule": f"drift.{side}.{f.test}",
            "severity": "warning",
            "field": f.field,
            "side": side,
            "test": f.test,
            "statistic": f.statistic,
            "p_value": f.p_value,
            "p_adjusted": f.p_adjusted,
            "effect_size": f.effect_size,
            "effect_name": f.effect_name,
            "psi": f.psi,
            "n_reference": f.n_ref,
            "n_window": f.n_cur,
            "roles": ["data scientist", "operations"],
            "hint": f"production {side} {f.field!r} no longer looks like the training data: "
            "check the upstream source, then retrain or refit the rails on recent data",
        }
        for f in report.fields
        if f.alarm
    ]


def _replace(status: DriftStatus, **changes: Any) -> DriftStatus:
    from dataclasses import replace

    return replace(status, **changes)
