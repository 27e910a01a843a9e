"""The HTTP service: ``create_app(rails, store, settings)`` returns a FastAPI app.

Request path of ``POST /v1/predict``: authenticate (401) → rate limit (429) → read the body
within its size limit (413) → parse JSON and its shape (400) → batch size (413) → queue the
rows for the micro-batcher, which checks concurrent requests' rows in one guard call in a
worker thread, under the model time limit (504; 502/504 for an upstream model) → queue the
decision records for the group commit (503 if the store cannot commit them) → answer. With
the default ``sync`` log a response is sent only after its records are committed, so no
answered request is missing from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlrails._json import loads
from mlrails.contract import to_json_schema
from mlrails.errors import ModelUnavailable
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.protocol import PROBLEM_MEDIA_TYPE
from mlrails.protocol import problem as guard_problems
from mlrails.serve import problems
from mlrails.serve.batching import MicroBatcher
from mlrails.serve.decisions import RequestContext, request_record, verdict_records
from mlrails.serve.dialect import Dialect
from mlrails.serve.drift_job import DriftMonitor
from mlrails.serve.keys import KeyRing
from mlrails.serve.logwriter import DecisionLog
from mlrails.serve.media import unsupported_body
from mlrails.serve.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from mlrails.serve.metrics import ServeMetrics, route_label, route_templates
from mlrails.serve.oip_routes import install_oip
from mlrails.serve.openapi import (
    PREDICT_REQUEST_BODY,
    authenticated_get_answers,
    install_openapi,
    predict_answers,
    readiness_answers,
    requires_key,
    responses,
)
from mlrails.serve.payload import PayloadError, PredictPayload, guard_input, parse_payload
from mlrails.serve.problems import ServeError, json_response, problem_document
from mlrails.serve.ratelimit import RateLimiter
from mlrails.serve.schemas import ArtifactInfo, Health, Readiness
from mlrails.serve.settings import ServeSettings
from mlrails.store import DecisionRecord, Store, StoreFileReplaced, StoreUnavailable
from mlrails.version import __version__

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


def create_app(
    rails: Rails,
    store: Store,
    settings: ServeSettings | None = None,
    *,
    owns_store: bool = False,
) -> FastAPI:
    """The ASGI app serving ``rails``, logging to ``store`` (closed when the app stops if
    ``owns_store``, else the caller's to close)."""
    service = _Service(rails, store, settings or ServeSettings(), owns_store)
    app = FastAPI(
        title="mlrails",
        version=__version__,
        description=(
            "A model on rails: every prediction comes with a status code saying whether to "
            "use it (200), review it (203), fix the call (400), refuse it (403) or fall back "
            "(422). Non-200 bodies are RFC 9457 problem documents."
        ),
        lifespan=service.lifespan,
        docs_url=None,  # --docs: a script-free reference instead (serve/docs.py)
        redoc_url=None,
    )
    app.state.service = service
    app.add_exception_handler(ServeError, _serve_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    if service.settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=service.settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "traceparent"],
            expose_headers=["X-Trace-Id", "Retry-After"],
        )
    app.add_middleware(_MetricsMiddleware, metrics=service.metrics)
    _add_routes(app, service)
    if service.settings.ui:
        from mlrails.serve.ui import install_ui

        install_ui(app, service)
    install_oip(app, service)
    install_openapi(app, rails, auth=service.settings.auth)
    if service.settings.docs:
        from mlrails.serve.docs import install_docs

        install_docs(app)
    return app


class _Service:
    """The app's state and the logic behind its endpoints."""

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
    async def predict(self, request: Request, caller: Caller, explain: bool | None) -> Response:
        return await self.run(request, caller, _V1Dialect(self, explain))

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
            trace_id=_trace_id(request),
            key_id=caller.key_id,
            artifact_hash=self.rails.artifact_hash,
            time=datetime.now(UTC),
        )
        try:
            raw = await self._read_body(request)
        except ServeError as refused:
            return await self._refuse(ctx, dialect.refusal(refused), None, t0)
        try:
            body = loads(raw)
        except ValueError as exc:
            refusal = ServeError(
                problems.MALFORMED_REQUEST,
                self.codes.invalid_input,
                f"the body is not valid JSON ({_first_line(exc)})",
            )
            return await self._refuse(
                ctx, dialect.refusal(refusal), raw.decode("utf-8", "replace"), t0
            )
        try:
            payload = dialect.parse(body)
        except PayloadError as exc:
            refusal = ServeError(problems.MALFORMED_REQUEST, self.codes.invalid_input, str(exc))
            return await self._refuse(ctx, dialect.refusal(refusal), body, t0)
        if len(payload) > self.settings.max_batch_rows:
            refusal = ServeError(
                problems.PAYLOAD_TOO_LARGE,
                413,
                f"{len(payload)} rows; at most {self.settings.max_batch_rows} per request",
            )
            return await self._refuse(ctx, dialect.refusal(refusal), None, t0)
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
        err.extensions.setdefault("instance", _instance(ctx.trace_id))
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

    def _answer(
        self,
        ctx: RequestContext,
        payload: PredictPayload,
        verdicts: list[Verdict],
        outputs: list[Any],
    ) -> Response:
        headers = {"X-Trace-Id": ctx.trace_id}
        if payload.single or len(verdicts) != len(payload.rows):
            return self._single(ctx, verdicts[0], outputs[0], headers)
        ok = self.codes.ok
        counts = Counter(str(v.status) for v in verdicts)
        n_ok = counts.get(str(ok), 0)
        body: dict[str, Any] = {
            "status": ok,
            "trace_id": ctx.trace_id,
            "artifact_hash": self.rails.artifact_hash,
            "n": len(verdicts),
            "status_counts": dict(sorted(counts.items())),
            "verdicts": outputs,
        }
        if n_ok == len(verdicts):
            return json_response(body, ok, headers)
        mixed = guard_problems.MIXED
        doc = {
            "type": mixed.uri,
            "title": mixed.title,
            "status": self.codes.mixed,
            "detail": f"{n_ok} of {len(verdicts)} rows passed every safeguard; "
            "see each verdict's status",
            "instance": _instance(ctx.trace_id),
            **{k: v for k, v in body.items() if k != "status"},
        }
        return json_response(doc, self.codes.mixed, headers, PROBLEM_MEDIA_TYPE)

    def _single(
        self, ctx: RequestContext, v: Verdict, output: Any, headers: dict[str, str]
    ) -> Response:
        problem = v.to_problem()
        if v.status == self.codes.ok or problem is None:
            return json_response({**output, "trace_id": ctx.trace_id}, v.status, headers)
        doc = problem.to_dict()
        doc["instance"] = _instance(ctx.trace_id)
        doc["trace_id"] = ctx.trace_id
        for key in ("probabilities", "confidence", "prediction_set", "interval", "latency_ms"):
            if output.get(key) is not None:
                doc[key] = output[key]
        return json_response(doc, v.status, headers, PROBLEM_MEDIA_TYPE)

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

    async def readiness(self) -> Response:
        state = await self.ready_state()
        doc = state.model_dump()
        if state.ready:
            return json_response(doc, 200)
        status = self.codes.unavailable
        evidence = {k: v for k, v in doc.items() if k != "status"}
        return json_response(
            problem_document(problems.NOT_READY, status, state.why_not(), evidence),
            status,
            {"Retry-After": str(self.settings.retry_after_s)},
            PROBLEM_MEDIA_TYPE,
        )


class _V1Dialect:
    """``POST /v1/predict``: mlrails' own request shapes and answers (see payload.py)."""

    def __init__(self, service: _Service, explain: bool | None) -> None:
        self.service = service
        self.explain = explain

    def parse(self, body: Any) -> PredictPayload:
        return parse_payload(body, self.service.rails.contract)

    def answer(
        self,
        ctx: RequestContext,
        payload: PredictPayload,
        verdicts: list[Verdict],
        outputs: list[Any],
    ) -> Response:
        return self.service._answer(ctx, payload, verdicts, outputs)

    def refusal(self, err: ServeError) -> ServeError:
        return err


@requires_key
async def _authorize(request: Request) -> Caller:
    service: _Service = request.app.state.service
    return await service.authorize(request)


#: the caller of an endpoint that needs an API key (401 / 429 before the endpoint runs)
AuthorizedCaller = Annotated[Caller, Depends(_authorize)]


def _add_routes(app: FastAPI, service: _Service) -> None:
    rails = service.rails
    contract_schema = to_json_schema(rails.contract)
    artifact_info = ArtifactInfo.of(rails).model_dump(mode="json")

    @app.post(
        "/v1/predict",
        summary="Guarded prediction for one row or a batch",
        response_class=Response,
        responses=responses(predict_answers(rails)),
        openapi_extra=PREDICT_REQUEST_BODY,
    )
    async def predict(
        request: Request,
        caller: AuthorizedCaller,
        explain: Annotated[
            bool | None,
            Query(description="true: attach SHAP explanations; default: the policy decides"),
        ] = None,
    ) -> Response:
        """Run every safeguard on the rows; the status code says whether to use the answer."""
        return await service.predict(request, caller, explain)

    @app.get(
        "/v1/contract",
        summary="The input contract as JSON Schema",
        response_class=Response,
        responses=responses(authenticated_get_answers(rails, "ContractSchema")),
    )
    async def contract(caller: AuthorizedCaller) -> Response:
        """JSON Schema (draft 2020-12) of one input row."""
        return json_response(contract_schema, 200)

    @app.get(
        "/v1/artifact",
        summary="The served artifact: hashes, thresholds, false-alarm rates",
        response_class=Response,
        responses=responses(authenticated_get_answers(rails, "ArtifactInfo")),
    )
    async def artifact(caller: AuthorizedCaller) -> Response:
        """Manifest, artifact hash, thresholds and realised false-alarm rates."""
        return json_response(artifact_info, 200)

    @app.get(
        "/v1/drift",
        summary="The latest drift check of the logged traffic",
        response_class=Response,
        responses=responses(authenticated_get_answers(rails, "DriftStatusDocument")),
    )
    async def drift(caller: AuthorizedCaller) -> Response:
        """The service's periodic comparison of the traffic logged over its window with the
        reference the artifact keeps (inputs; predictions and confidence), per field."""
        return json_response(service.drift.status.to_dict(), 200)

    @app.post(
        "/v1/drift",
        summary="Run a drift check now",
        response_class=Response,
        responses=responses(authenticated_get_answers(rails, "DriftStatusDocument")),
    )
    async def drift_now(caller: AuthorizedCaller) -> Response:
        """Check the traffic of the drift window now (as the periodic job does) and answer
        the result; gauges and webhook as for a periodic check."""
        status = await service.drift.run_once()
        return json_response(status.to_dict(), 200)

    @app.get("/healthz", summary="Liveness", response_model=Health)
    async def healthz() -> Health:
        """The process is alive (no dependency is checked)."""
        return Health()

    @app.get(
        "/readyz",
        summary="Readiness",
        response_class=Response,
        responses=responses(readiness_answers(rails)),
    )
    async def readyz() -> Response:
        """Model loaded, decision log able to commit now, explainer built; 503 otherwise."""
        return await service.readiness()

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
    )
    async def metrics() -> Response:
        """Requests by status code, verdicts by problem type, safeguard triggers, latencies."""
        return Response(service.metrics.render(), media_type=METRICS_CONTENT_TYPE)


# -- error handlers ----------------------------------------------------------------------
async def _serve_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServeError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = exc.status_code
    path = request.url.path[:200]
    if code == 404:
        kind, detail = problems.NOT_FOUND, f"nothing is served at {path}"
    elif code == 405:
        kind, detail = problems.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on {path}"
    else:
        phrase = _phrase(code)
        kind = problems.HttpProblem(phrase.lower().replace(" ", "-"), phrase, phrase)
        detail = phrase
    doc = problem_document(kind, code, detail)
    headers = dict(exc.headers or {})
    if code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return json_response(doc, code, headers, PROBLEM_MEDIA_TYPE)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path: Starlette's 405 names only the
    first matching route's, and GET and POST on one path are two routes here."""
    from starlette.routing import Match

    allowed: set[str] = set()
    pending = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI's include_router
        if included is not None:
            pending.extend(included.routes)
            continue
        methods = getattr(route, "methods", None)
        if methods and route.matches(request.scope)[0] is not Match.NONE:
            allowed.update(methods)
    return sorted(allowed)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    service: _Service = request.app.state.service
    status = service.codes.invalid_input
    doc = problem_document(problems.MALFORMED_REQUEST, status, "; ".join(parts))
    return json_response(doc, status, None, PROBLEM_MEDIA_TYPE)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    doc = problem_document(problems.INTERNAL_ERROR, 500, "the service failed unexpectedly")
    return json_response(doc, 500, None, PROBLEM_MEDIA_TYPE)


class _MetricsMiddleware:
    """Counts every HTTP request by method, route template and status (pure ASGI); every
    label bounded to a known set (see :mod:`mlrails.serve.metrics`)."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes: frozenset[str] = frozenset()
        self.plain: list[Route] = []
        self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.ready:  # the app's routes, complete once it serves
            routes = list(getattr(scope.get("app"), "routes", ()))
            self.routes = route_templates(routes)
            self.plain = [r for r in routes if type(r) is Route]
            self.ready = True
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe_request(
                scope["method"], self._route(scope), status, time.perf_counter() - start
            )

    def _route(self, scope: Scope) -> str:
        """The matched route's template, else ``unmatched`` (never the raw path)."""
        template = getattr(scope.get("route"), "path", None)
        if template is None:  # FastAPI's own routes (/openapi.json) do not set scope["route"]
            for r in self.plain:
                if r.matches(scope)[0] is not Match.NONE:
                    template = r.path
                    break
        return route_label(template, self.routes)


def _trace_id(request: Request) -> str:
    """The W3C trace id of an incoming ``traceparent``, else a fresh random one."""
    m = _TRACEPARENT.match(request.headers.get("traceparent", ""))
    if m and m.group(1) != "0" * 32:
        return m.group(1)
    return uuid.uuid4().hex


def _instance(trace_id: str) -> str:
    return f"urn:mlrails:trace:{trace_id}"


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"
