"""The running service: its state and the guarded pipeline behind every prediction API.

:class:`Service` is what ``create_app`` builds and both route layers use (``/v1``, see
:mod:`mlrails.serve.app`; the OIP ``/v2``, see :mod:`mlrails.serve.oip_routes`). Its
:meth:`Service.run` is the path of a prediction request: read the body within its size limit
(413) → parse JSON and its shape (400) → batch size (413) → queue the rows for the
micro-batcher, which checks concurrent requests' rows in one guard call in a worker thread,
under the model time limit (504; 502/504 for an upstream model) → queue the decision records
for the group commit (503 if the store cannot commit them) → answer. With the default ``sync``
log a response is sent only after its records are committed, so no answered request is
missing from the log. A :class:`~mlrails.serve.dialect.Dialect` reads the rows and writes the
answer of each API. :meth:`Service.feedback` files the labels of ``POST /v1/feedback`` under
the same body limits and problem documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.responses import Response

from mlrails._json import loads
from mlrails.errors import ModelUnavailable
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.protocol import problem as problems
from mlrails.serve.batching import MicroBatcher
from mlrails.serve.decisions import RequestContext, request_record, verdict_records
from mlrails.serve.dialect import Dialect
from mlrails.serve.drift_job import DriftMonitor
from mlrails.serve.feedback import parse_feedback
from mlrails.serve.keys import KeyRing
from mlrails.serve.logwriter import DecisionLog
from mlrails.serve.media import unsupported_body
from mlrails.serve.metrics import ServeMetrics
from mlrails.serve.payload import PayloadError, PredictPayload, guard_input
from mlrails.serve.problems import ServeError, json_response
from mlrails.serve.ratelimit import RateLimiter
from mlrails.serve.schemas import Readiness
from mlrails.serve.settings import ServeSettings
from mlrails.store import DecisionRecord, Store, StoreFileReplaced, StoreUnavailable

log = logging.getLogger("mlrails.serve")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
#: an over-limit body is still read (and dropped) up to this multiple of the limit, so
#: ordinary clients see the 413 instead of a reset connection
_DRAIN_FACTOR = 4
#: ``/readyz`` waits at most this long for the explainer the service builds at start-up
EXPLAINER_READY_WAIT_S = 60.0


@dataclass(frozen=True)
class Caller:
    """Who is calling: the API key's id (None with auth off) and the rate-limit bucket."""

    key_id: str | None
    bucket: str


class Service:
    """What a running service holds (rails, store, settings, API keys, rate limiter,
    metrics, micro-batcher, decision log, drift monitor) and the guarded pipeline behind its
    prediction endpoints."""

    def __init__(
        self, rails: Rails, store: Store, settings: ServeSettings, owns_store: bool = False
    ) -> None:
        self.rails = rails
        self.store = store
        self.owns_store = owns_store
        self.settings = settings
        self.codes = rails.policy.status_codes
        self.keys = KeyRing(store)
        self.metrics = ServeMetrics()
        self.rate = (
            None
            if settings.rate_limit_rps is None
            else RateLimiter(settings.rate_limit_rps, settings.rate_limit_burst)
        )
        self.store_limiter: anyio.CapacityLimiter | None = None
        self.batcher: MicroBatcher | None = None
        self.log: DecisionLog | None = None
        self.drift = DriftMonitor(rails, store, settings, self.metrics)
        #: builds the SHAP explainer at start-up (``/readyz`` waits for it)
        self.explainer_task: asyncio.Task[None] | None = None
        self.explainer_error: str | None = None

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        s = self.settings
        self.store_limiter = anyio.CapacityLimiter(max(4, s.max_concurrent_checks))
        self.batcher = MicroBatcher(
            self._check,
            max_rows=s.batch_max_rows,
            max_wait_s=s.batch_max_wait_ms / 1000.0,
            concurrency=s.max_concurrent_checks,
            timeout_s=s.model_timeout_s,
            on_batch=self.metrics.observe_batch,
        )
        self.log = DecisionLog(
            self.store,
            mode=s.log_mode,
            max_pending=s.log_max_pending,
            on_commit=self.metrics.observe_commit,
            on_lost=self.metrics.log_lost.inc,
        )
        self.batcher.start()
        self.log.start()
        self.explainer_task = asyncio.create_task(
            self._prepare_explainer(), name="mlrails-explainer"
        )
        drift_task = asyncio.create_task(self.drift.run_forever(), name="mlrails-drift")
        try:
            yield
        finally:
            self.explainer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.explainer_task
            drift_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drift_task
            self.drift.close()
            # uvicorn has drained the in-flight requests; finish what is still queued
            await self.batcher.close()
            await self.log.close()
            if self.owns_store:
                self.store.close()

    async def _prepare_explainer(self) -> None:
        """Build the explainer in a worker thread, so no request pays for it (importing SHAP
        and building a tree explainer take seconds). A failure is logged; explanations then
        report it on each verdict, and the service is ready all the same."""
        try:
            await anyio.to_thread.run_sync(self.rails.prepare_explainer, abandon_on_cancel=True)
        except Exception as exc:
            self.explainer_error = f"{type(exc).__name__}: {_first_line(exc)}"
            log.warning("the explainer could not be built: %s", self.explainer_error)

    async def explainer_ready(self) -> bool:
        """Whether the start-up explainer build has finished (waits a bounded time for it)."""
        task = self.explainer_task
        if task is None:
            return True
        if not task.done():
            await asyncio.wait({task}, timeout=EXPLAINER_READY_WAIT_S)
        return task.done()

    # -- authentication and rate limiting ------------------------------------------------
    async def authorize(self, request: Request) -> Caller:
        if self.settings.auth:
            record = None
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if not header:
                raise self._unauthorized("no API key: send 'Authorization: Bearer TOKEN'", None)
            if scheme.lower() != "bearer" or not token or len(token) > 512:
                raise self._unauthorized("malformed Authorization header", "invalid_request")
            try:
                record = await anyio.to_thread.run_sync(
                    self.keys.verify, token, limiter=self.store_limiter
                )
            except StoreUnavailable:
                raise self._unavailable("the key store is unavailable") from None
            if record is None:
                raise self._unauthorized("unknown or revoked API key", "invalid_token")
            caller = Caller(record.id, "key:" + record.id)
        else:
            host = request.client.host if request.client else "unknown"
            caller = Caller(None, "addr:" + host)
        if self.rate is not None:
            wait = self.rate.acquire(caller.bucket)
            if wait:
                raise ServeError(
                    problems.RATE_LIMITED,
                    self.codes.rate_limited,
                    f"more than {self.settings.rate_limit_rps:g} requests per second; "
                    f"retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
        return caller

    def _unauthorized(self, detail: str, error: str | None) -> ServeError:
        challenge = 'Bearer realm="mlrails"'
        if error is not None:
            challenge += f', error="{error}"'
        return ServeError(
            problems.UNAUTHORIZED,
            self.codes.unauthorized,
            detail,
            headers={"WWW-Authenticate": challenge},
        )

    def _unavailable(self, detail: str, trace_id: str | None = None) -> ServeError:
        self.metrics.store_failures.inc()
        ext = {} if trace_id is None else {"trace_id": trace_id}
        return ServeError(
            problems.UNAVAILABLE,
            self.codes.unavailable,
            detail,
            headers={"Retry-After": str(self.settings.retry_after_s)},
            extensions=ext,
        )

    # -- predict -------------------------------------------------------------------------
    async def run(self, request: Request, caller: Caller, dialect: Dialect) -> Response:
        """The guarded pipeline behind every prediction API (``/v1/predict``, the OIP v2
        ``infer``): ``dialect`` reads the rows from the body and writes the answer; limits,
        logging and status codes are the same for all. Every refusal passes through
        ``dialect.refusal`` (which may add members) before it is logged and answered."""
        try:
            return await self._run(request, caller, dialect)
        except ServeError as err:
            raise dialect.refusal(err) from None

    async def _run(self, request: Request, caller: Caller, dialect: Dialect) -> Response:
        batcher = self.batcher
        if batcher is None:
            raise RuntimeError("the app is used without its lifespan (use a real server)")
        with batcher.arriving() as arrival:
            return await self._run_arriving(request, caller, dialect, batcher, arrival.done)

    async def _run_arriving(
        self,
        request: Request,
        caller: Caller,
        dialect: Dialect,
        batcher: MicroBatcher,
        submitted: Callable[[], None],
    ) -> Response:
        t0 = time.perf_counter()
        ctx = RequestContext(
            trace_id=trace_id(request),
            key_id=caller.key_id,
            artifact_hash=self.rails.artifact_hash,
            time=datetime.now(UTC),
        )
        try:
            raw = await self._read_body(request)
        except ServeError as refused:
            return await self._refuse(ctx, dialect.refusal(refused), None, t0)
        try:
            body = self._json(raw)
        except ServeError as not_json:
            return await self._refuse(
                ctx, dialect.refusal(not_json), raw.decode("utf-8", "replace"), t0
            )
        try:
            payload = dialect.parse(body)
        except PayloadError as exc:
            return await self._refuse(ctx, dialect.refusal(self._malformed(str(exc))), body, t0)
        too_many = self._too_many(len(payload), "rows")
        if too_many is not None:
            return await self._refuse(ctx, dialect.refusal(too_many), None, t0)
        submitted()
        try:
            with anyio.fail_after(self.settings.model_timeout_s):
                verdicts = await batcher.submit(payload, dialect.explain)
        except TimeoutError:
            refusal = ServeError(
                problems.TIMEOUT,
                self.codes.timeout,
                f"the guard did not answer within {self.settings.model_timeout_s:g} s",
            )
            return await self._refuse(ctx, dialect.refusal(refusal), payload.rows, t0)
        except ModelUnavailable as exc:
            log.warning("upstream model failed on request %s: %s", ctx.trace_id, exc.detail)
            refusal = ServeError(
                problems.TIMEOUT if exc.timeout else problems.BAD_GATEWAY,
                self.codes.timeout if exc.timeout else self.codes.upstream_error,
                exc.detail,
            )
            return await self._refuse(ctx, dialect.refusal(refusal), payload.rows, t0)
        except Exception:
            log.exception("guard failed on request %s", ctx.trace_id)
            refusal = ServeError(
                problems.INTERNAL_ERROR,
                self.codes.model_error,
                f"the guard failed unexpectedly; trace id {ctx.trace_id}",
            )
            return await self._refuse(ctx, dialect.refusal(refusal), payload.rows, t0)
        records = verdict_records(ctx, verdicts, payload.rows)
        await self._commit(records, verdicts, ctx)
        return dialect.answer(ctx, payload, verdicts, [r.output for r in records])

    def _json(self, raw: bytes) -> Any:
        """The body's JSON value; a 400 problem if it is not JSON."""
        try:
            return loads(raw)
        except ValueError as exc:
            raise self._malformed(f"the body is not valid JSON ({_first_line(exc)})") from None

    def _malformed(self, detail: str) -> ServeError:
        """The 400 of a body that is not a request of its endpoint."""
        return ServeError(problems.MALFORMED_REQUEST, self.codes.invalid_input, detail)

    def _too_many(self, n: int, what: str) -> ServeError | None:
        """The 413 of a request with more than ``max_batch_rows`` rows (or labels)."""
        limit = self.settings.max_batch_rows
        if n <= limit:
            return None
        return ServeError(
            problems.PAYLOAD_TOO_LARGE, 413, f"{n} {what}; at most {limit} per request"
        )

    def _check(self, payload: PredictPayload, explain: bool | None) -> list[Verdict]:
        """The CPU work, in a worker thread: the guard over the whole batch at once."""
        return self.rails.check(guard_input(payload, self.rails.contract), explain=explain)

    async def _read_body(self, request: Request) -> bytes:
        unsupported = unsupported_body(request.headers)
        if unsupported is not None:
            raise unsupported
        limit = self.settings.max_body_bytes
        too_large = ServeError(
            problems.PAYLOAD_TOO_LARGE, 413, f"the body exceeds the limit of {limit} bytes"
        )
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise ServeError(
                    problems.MALFORMED_REQUEST, self.codes.invalid_input, "bad Content-Length"
                )
            if int(declared) > limit * _DRAIN_FACTOR:
                raise too_large
        buf = bytearray()
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received <= limit:
                buf.extend(chunk)
            elif received > limit * _DRAIN_FACTOR:
                break
        if received > limit or (declared is not None and int(declared) > limit):
            raise too_large
        return bytes(buf)

    async def _commit(
        self, records: Sequence[DecisionRecord], verdicts: Sequence[Verdict], ctx: RequestContext
    ) -> None:
        """Write the records (one transaction) before anything is answered; 503 otherwise."""

        try:
            await self._log().write(records)
            self.metrics.observe_verdicts(verdicts)
        except StoreUnavailable as exc:
            log.error("decision log write failed for %s: %s", ctx.trace_id, exc)
            raise self._log_unavailable(exc, ctx.trace_id) from None

    async def _refuse(self, ctx: RequestContext, err: ServeError, body: Any, t0: float) -> Response:
        """Log a request answered without verdicts, then answer with its problem."""
        err.extensions.setdefault("instance", instance_uri(ctx.trace_id))
        err.extensions.setdefault("trace_id", ctx.trace_id)
        doc = err.document()
        record = request_record(ctx, err.status, doc, body, (time.perf_counter() - t0) * 1e3)

        try:
            await self._log().write([record])
            self.metrics.observe_refusal(err.status, err.kind.uri)
        except StoreUnavailable as exc:
            raise self._log_unavailable(exc, ctx.trace_id) from None
        err.headers["X-Trace-Id"] = ctx.trace_id
        return err.response()

    def _log_unavailable(self, exc: StoreUnavailable, trace_id: str) -> ServeError:
        """The 503 of a request whose records were not committed; a database file that was
        deleted or replaced says that only a restart helps."""
        detail = "the decision log cannot record this request; nothing was answered"
        if isinstance(exc, StoreFileReplaced):
            detail += f" ({exc})"
        return self._unavailable(detail, trace_id)

    def _log(self) -> DecisionLog:
        if self.log is None:
            raise StoreUnavailable("the decision log is not running")
        return self.log

    # -- label feedback -----------------------------------------------------------------
    async def feedback(self, request: Request, caller: Caller) -> Response:
        """``POST /v1/feedback``: file the true labels of logged decisions (the body is
        :mod:`mlrails.serve.feedback`'s) and answer how many matched, were unknown,
        duplicates or changed. The body limits and problem documents are a prediction's
        (413, 415, 400); 503 if the store cannot commit them, and then none was recorded.
        A feedback request is not a decision: it is not logged."""
        body = self._json(await self._read_body(request))
        try:
            labels = parse_feedback(body)
        except PayloadError as exc:
            raise self._malformed(str(exc)) from None
        too_many = self._too_many(len(labels), "labels")
        if too_many is not None:
            raise too_many
        record = functools.partial(self.store.record_labels, labels, key_id=caller.key_id)
        try:
            counts = await anyio.to_thread.run_sync(record, limiter=self.store_limiter)
        except StoreUnavailable as exc:
            log.error("label feedback not recorded: %s", exc)
            raise self._unavailable(
                "the store cannot record the labels now; none was recorded"
            ) from None
        self.metrics.observe_feedback(counts.to_dict())
        return json_response(counts.to_dict(), 200)

    # -- the other endpoints --------------------------------------------------------------
    async def ready_state(self, *, check_model: bool = True) -> Readiness:
        """Model loaded (``check_model``: a remote one answers too), database answering,
        a decision committable now (the log's latest commit or a write probe, see
        :meth:`DecisionLog.commit_problem`) and the start-up explainer built."""
        model = self.rails.adapter is not None
        ping = getattr(self.rails.adapter, "ping", None)
        if check_model and model and callable(ping):  # a remote model (proxy mode)
            model = bool(await anyio.to_thread.run_sync(ping, limiter=self.store_limiter))
        store = await anyio.to_thread.run_sync(self.store.ping, limiter=self.store_limiter)
        log_error = (
            "the decision log is not running"
            if self.log is None
            else await self.log.commit_problem()
        )
        explainer = await self.explainer_ready()
        ready = model and store and log_error is None and explainer
        return Readiness(
            status="ready" if ready else "not ready",
            model=model,
            store=store,
            log=log_error is None,
            log_error=log_error,
            explainer=explainer,
            artifact_hash=self.rails.artifact_hash,
        )


def trace_id(request: Request) -> str:
    """The W3C trace id of an incoming ``traceparent``, else a fresh random one."""
    m = _TRACEPARENT.match(request.headers.get("traceparent", ""))
    if m and m.group(1) != "0" * 32:
        return m.group(1)
    return uuid.uuid4().hex


def instance_uri(trace_id: str) -> str:
    """The problem document's ``instance`` of the request with ``trace_id``."""
    return f"urn:mlrails:trace:{trace_id}"


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
