"""The HTTP service: ``create_app(rails, store, settings)`` returns a FastAPI app.

The ``/v1`` API (``POST /v1/predict``, ``POST /v1/feedback``, the contract, the artifact,
drift), the probes
(``/healthz``, ``/readyz``) and ``/metrics``; the OIP v2 routes come from
:mod:`mlrails.serve.oip_routes`, the web UI from :mod:`mlrails.serve.ui`, both over the same
:class:`~mlrails.serve.service.Service`, whose pipeline every prediction request runs (see
:mod:`mlrails.serve.service`). Every non-200 answer is a problem document
(:mod:`mlrails.serve.problems`).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlrails.contract import to_json_schema
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.protocol import problem as problems
from mlrails.protocol.problem import PROBLEM_MEDIA_TYPE
from mlrails.serve.decisions import RequestContext
from mlrails.serve.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from mlrails.serve.metrics import ServeMetrics, route_label, route_templates
from mlrails.serve.oip_routes import install_oip
from mlrails.serve.openapi import (
    FEEDBACK_REQUEST_BODY,
    PREDICT_REQUEST_BODY,
    authenticated_get_answers,
    feedback_answers,
    install_openapi,
    predict_answers,
    readiness_answers,
    requires_key,
    responses,
)
from mlrails.serve.payload import PredictPayload, parse_payload
from mlrails.serve.problems import (
    ServeError,
    install_problem_handlers,
    json_response,
    problem_response,
)
from mlrails.serve.schemas import ArtifactInfo, Health
from mlrails.serve.service import Caller, Service, instance_uri
from mlrails.serve.settings import ServeSettings
from mlrails.store import Store
from mlrails.version import __version__


def create_app(
    rails: Rails,
    store: Store,
    settings: ServeSettings | None = None,
    *,
    owns_store: bool = False,
) -> FastAPI:
    """The ASGI app serving ``rails``, logging to ``store`` (closed when the app stops if
    ``owns_store``, else the caller's to close)."""
    service = Service(rails, store, settings or ServeSettings(), owns_store)
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
    install_problem_handlers(app)
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


class V1Dialect:
    """``POST /v1/predict``: mlrails' own request shapes and answers (see payload.py)."""

    def __init__(self, service: Service, explain: bool | None) -> None:
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
        headers = {"X-Trace-Id": ctx.trace_id}
        if payload.single or len(verdicts) != len(payload.rows):
            return self._single(ctx, verdicts[0], outputs[0], headers)
        codes = self.service.codes
        counts = Counter(str(v.status) for v in verdicts)
        n_ok = counts.get(str(codes.ok), 0)
        body: dict[str, Any] = {
            "status": codes.ok,
            "trace_id": ctx.trace_id,
            "artifact_hash": self.service.rails.artifact_hash,
            "n": len(verdicts),
            "status_counts": dict(sorted(counts.items())),
        }
        shift = next((sg for v in verdicts if (sg := v.safeguard("batch_shift")) is not None), None)
        if shift is not None:  # the batch-level shift test's finding, once for the batch
            body["batch_shift"] = shift.details
        body["verdicts"] = outputs
        if n_ok == len(verdicts):
            return json_response(body, codes.ok, headers)
        mixed = problems.MIXED.problem(
            codes.mixed,
            f"{n_ok} of {len(verdicts)} rows passed every safeguard; see each verdict's status",
            instance=instance_uri(ctx.trace_id),
            extensions={k: v for k, v in body.items() if k != "status"},
        )
        return problem_response(mixed, headers)

    def _single(
        self, ctx: RequestContext, v: Verdict, output: Any, headers: dict[str, str]
    ) -> Response:
        problem = v.to_problem()
        if v.status == self.service.codes.ok or problem is None:
            return json_response({**output, "trace_id": ctx.trace_id}, v.status, headers)
        doc = problem.to_dict()
        doc["instance"] = instance_uri(ctx.trace_id)
        doc["trace_id"] = ctx.trace_id
        for key in ("probabilities", "confidence", "prediction_set", "interval", "latency_ms"):
            if output.get(key) is not None:
                doc[key] = output[key]
        return json_response(doc, v.status, headers, PROBLEM_MEDIA_TYPE)

    def refusal(self, err: ServeError) -> ServeError:
        return err


@requires_key
async def _authorize(request: Request) -> Caller:
    service: Service = request.app.state.service
    return await service.authorize(request)


#: the caller of an endpoint that needs an API key (401 / 429 before the endpoint runs)
AuthorizedCaller = Annotated[Caller, Depends(_authorize)]


def _add_routes(app: FastAPI, service: Service) -> None:
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
        return await service.run(request, caller, V1Dialect(service, explain))

    @app.post(
        "/v1/feedback",
        summary="Labels of logged decisions (the true answers, days later)",
        response_class=Response,
        responses=responses(feedback_answers(rails)),
        openapi_extra=FEEDBACK_REQUEST_BODY,
    )
    async def feedback(request: Request, caller: AuthorizedCaller) -> Response:
        """File the true label of decision rows already logged, each named by the trace id
        of its prediction's answer (X-Trace-Id) and its row in that batch (0 for one row);
        answers how many matched, were unknown, duplicates or changed (the latest wins).
        Sending the same labels again is safe."""
        return await service.feedback(request, caller)

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
        return await _readiness(service)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
    )
    async def metrics() -> Response:
        """Requests by status code, verdicts by problem type, safeguard triggers, latencies."""
        return Response(service.metrics.render(), media_type=METRICS_CONTENT_TYPE)


async def _readiness(service: Service) -> Response:
    """The answer of ``/readyz``: the readiness state, a problem document when not ready."""
    state = await service.ready_state()
    doc = state.model_dump()
    if state.ready:
        return json_response(doc, 200)
    status = service.codes.unavailable
    evidence = {k: v for k, v in doc.items() if k != "status"}
    return problem_response(
        problems.NOT_READY.problem(status, state.why_not(), extensions=evidence),
        {"Retry-After": str(service.settings.retry_after_s)},
    )


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
