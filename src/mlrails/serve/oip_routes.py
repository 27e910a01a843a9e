"""The Open Inference Protocol v2 (KServe "V2") endpoints of the service.

``/v2/health/live``, ``/v2/health/ready``, ``/v2`` (server metadata), ``/v2/models/{name}``
(model metadata), ``/v2/models/{name}/ready`` and ``POST /v2/models/{name}/infer``, each also
under ``/v2/models/{name}/versions/{version}`` (the version is the artifact hash). The infer
endpoint runs the same pipeline as ``/v1/predict`` (auth, rate limit, size limits, time limit,
decision log committed before the answer, same status codes); :class:`OipDialect` only reads
tensors and writes the OIP response (see :mod:`mlrails.serve.oip`).

A batch (more than one row) whose rows all got a verdict is a successful inference: HTTP 200
with an OIP inference response, whatever the verdicts (OIP clients such as tritonclient treat
every other code as an error and drop the body). Each row's outcome is in the outputs
``status`` (its code), ``problem`` (its problem type) and ``answered``, and in
``parameters.mlrails_verdicts``; ``parameters.mlrails_status`` is the code ``/v1/predict``
answers for the same rows (207 for a mixed batch). A one-row request answers its verdict's code,
as ``/v1/predict`` does.

Errors: OIP clients read ``{"error": "..."}``; mlrails answers every non-200 with an RFC 9457
problem document. Every non-200 answer under ``/v2`` is therefore an
``application/problem+json`` document that *also* has an ``error`` member (``"title:
detail"``); a non-200 answer to a one-row request (203, 4xx/5xx verdicts) also carries the OIP
response members (``model_name``, ``id``, ``parameters`` with the verdicts, ``outputs``).
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from mlrails._json import dumps, loads
from mlrails.contract.validate import Violation
from mlrails.guard.verdict import Verdict
from mlrails.protocol import problem as problems
from mlrails.protocol.problem import PROBLEM_MEDIA_TYPE
from mlrails.serve.decisions import RequestContext
from mlrails.serve.oip import (
    InferPayload,
    classes,
    input_tensors,
    matrix_datatypes,
    output_tensors,
    outputs_of,
    parse_infer,
    verdict_parameters,
)
from mlrails.serve.openapi import (
    Answer,
    authenticated_get_answers,
    predict_answers,
    requires_key,
    responses,
)
from mlrails.serve.payload import PayloadError, PredictPayload
from mlrails.serve.problems import ServeError, json_response
from mlrails.serve.service import Caller, Service, instance_uri
from mlrails.version import __version__

_REF = "#/components/schemas/"
INFER_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF + "OipInferenceRequest"}}},
    }
}


@requires_key
async def _authorize(request: Request) -> Caller:
    """The caller (``Caller``) of an endpoint that needs a key; refusals carry ``error``."""
    service: Service = request.app.state.service
    try:
        return await service.authorize(request)
    except ServeError as err:
        raise with_error(err) from None


#: the caller of an OIP endpoint that needs an API key (401 / 429 before it runs)
OipCaller = Annotated[Caller, Depends(_authorize)]


def with_error(err: ServeError) -> ServeError:
    """``err`` with the OIP ``error`` member added to its problem document."""
    err.extensions.setdefault("error", f"{err.kind.title}: {err.detail}")
    return err


def _error_text(doc: dict[str, Any]) -> str:
    return f"{doc.get('title') or 'Error'}: {doc.get('detail') or ''}".rstrip(": ")


def _is_v2(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


class OipDialect:
    """``POST /v2/models/{name}/infer``: OIP tensors in, an OIP response with verdicts out."""

    def __init__(self, service: Service, model_name: str, model_version: str) -> None:
        self.service = service
        self.model_name = model_name
        self.model_version = model_version
        self.explain: bool | None = None
        self._outputs = [t["name"] for t in output_tensors(service.rails)]
        #: the fields of a tensor refused for a value's type (``wrong_type``), for ``errors``
        self._wrong_types: tuple[Violation, ...] = ()

    def parse(self, body: Any) -> PredictPayload:
        try:
            payload = parse_infer(body, self.service.rails.contract, self._outputs)
        except PayloadError as exc:
            self._wrong_types = exc.violations
            raise
        self.explain = payload.explain
        return payload

    def refusal(self, err: ServeError) -> ServeError:
        if self._wrong_types and err.kind is problems.MALFORMED_REQUEST:
            err.extensions.setdefault("errors", [v.to_dict() for v in self._wrong_types])
        return with_error(err)

    def answer(
        self,
        ctx: RequestContext,
        payload: PredictPayload,
        verdicts: list[Verdict],
        outputs: list[Any],
    ) -> Response:
        codes = self.service.codes
        per_row = len(verdicts) == len(payload.rows)
        single = payload.single or not per_row
        n_ok = sum(v.status == codes.ok for v in verdicts)
        if single:
            status = verdicts[0].status
        else:
            status = codes.ok if n_ok == len(verdicts) else codes.mixed
        wanted = payload.outputs if isinstance(payload, InferPayload) else None
        req_id = payload.id if isinstance(payload, InferPayload) else None
        rails = self.service.rails
        body: dict[str, Any] = {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "id": req_id or ctx.trace_id,
            "parameters": verdict_parameters(status, ctx.trace_id, rails.artifact_hash, verdicts),
            "outputs": outputs_of(rails, verdicts, wanted) if per_row else [],
        }
        headers = {"X-Trace-Id": ctx.trace_id}
        if not single:  # a batch: a successful inference, each row's outcome in the outputs
            return json_response(body, codes.ok, headers)
        problem = verdicts[0].to_problem()
        if problem is None:
            return json_response(body, status, headers)
        doc = problem.to_dict()
        doc["instance"] = instance_uri(ctx.trace_id)
        doc["trace_id"] = ctx.trace_id
        doc["error"] = _error_text(doc)
        doc.update(body)
        return json_response(doc, status, headers, PROBLEM_MEDIA_TYPE)


def install_oip(app: FastAPI, service: Service) -> None:
    """Add the OIP v2 routes to ``app`` (before its OpenAPI document is built)."""
    rails = service.rails
    settings = service.settings
    name = settings.model_name
    version = rails.artifact_hash
    codes = rails.policy.status_codes
    framework = str((rails.manifest.get("model") or {}).get("framework") or "model").lower()
    platform = "mlrails_" + "".join(c if c.isalnum() else "_" for c in framework)
    metadata = {
        "name": name,
        "versions": [version],
        "platform": platform,
        "inputs": input_tensors(rails.contract),
        "outputs": output_tensors(rails),
        "parameters": _metadata_parameters(service),
    }

    def check_model(model_name: str, model_version: str | None = None) -> None:
        if model_name != name:
            raise with_error(
                ServeError(
                    problems.NOT_FOUND,
                    404,
                    f"no model named {model_name[:100]!r}; this server serves {name!r}",
                )
            )
        if model_version is not None and model_version != version:
            raise with_error(
                ServeError(
                    problems.NOT_FOUND,
                    404,
                    f"model {name!r} has no version {model_version[:100]!r}; serving {version}",
                )
            )

    async def readiness() -> Response | None:
        """None when ready, else the 503 answer (the checks of ``/readyz``, except that an
        upstream model is not asked)."""
        state = await service.ready_state(check_model=False)
        if state.ready:
            return None
        status = codes.unavailable
        evidence = state.model_dump(exclude={"status", "artifact_hash"})
        extensions = {"ready": False, **evidence}
        doc = problems.NOT_READY.problem(status, state.why_not(), extensions=extensions).to_dict()
        doc["error"] = _error_text(doc)
        headers = {"Retry-After": str(settings.retry_after_s)}
        return json_response(doc, status, headers, PROBLEM_MEDIA_TYPE)

    not_found = Answer(
        404, "no model of this name (or version)", problem_types=(problems.NOT_FOUND.uri,)
    )
    not_ready = Answer(codes.unavailable, "not ready", problem_types=(problems.NOT_READY.uri,))
    infer_answers = [
        Answer(
            codes.ok,
            "an OIP inference response: one row that passed every safeguard, or a batch "
            "(each row's verdict in the outputs status, problem and answered)",
            "OipInferenceResponse",
            (),
            "application/json",
        ),
        *(a for a in predict_answers(rails) if a.status not in (codes.ok, codes.mixed)),
        not_found,
    ]

    @app.get(
        "/v2/health/live",
        summary="OIP v2: liveness",
        response_class=Response,
        responses=responses([Answer(200, "alive", "OipLive", (), "application/json")]),
    )
    async def live() -> Response:
        """The process answers (OIP ``server live``)."""
        return json_response({"live": True}, 200)

    @app.get(
        "/v2/health/ready",
        summary="OIP v2: readiness",
        response_class=Response,
        responses=responses([Answer(200, "ready", "OipReady", (), "application/json"), not_ready]),
    )
    async def ready() -> Response:
        """Model loaded, decision log able to commit and the start-up explainer built
        (OIP ``server ready``); 503 otherwise."""
        return await readiness() or json_response({"ready": True}, 200)

    @app.get(
        "/v2",
        summary="OIP v2: server metadata",
        response_class=Response,
        responses=responses(
            [Answer(200, "server metadata", "OipServerMetadata", (), "application/json")]
        ),
    )
    async def server_metadata() -> Response:
        """Server name, version and protocol extensions."""
        return json_response({"name": "mlrails", "version": __version__, "extensions": []}, 200)

    meta_answers = responses([*authenticated_get_answers(rails, "OipModelMetadata"), not_found])
    ready_answers = responses(
        [Answer(200, "ready", "OipModelReady", (), "application/json"), not_found, not_ready]
    )
    infer_docs = responses(infer_answers)

    async def model_ready(model_name: str, model_version: str | None = None) -> Response:
        check_model(model_name, model_version)
        return await readiness() or json_response({"name": name, "ready": True}, 200)

    async def infer(
        request: Request, caller: Caller, model_name: str, model_version: str | None = None
    ) -> Response:
        check_model(model_name, model_version)
        if "inference-header-content-length" in request.headers:
            raise with_error(
                ServeError(
                    problems.MALFORMED_REQUEST,
                    codes.invalid_input,
                    "the binary tensor data extension is not supported; send tensors as JSON "
                    "(tritonclient: binary_data=False)",
                )
            )
        return await service.run(request, caller, OipDialect(service, name, version))

    @app.get(
        "/v2/models/{model_name}",
        summary="OIP v2: model metadata",
        response_class=Response,
        responses=meta_answers,
    )
    async def model_metadata(model_name: str, caller: OipCaller) -> Response:
        """Inputs (one tensor per contract column), outputs, versions (the artifact hash)."""
        check_model(model_name)
        return json_response(metadata, 200)

    @app.get(
        "/v2/models/{model_name}/versions/{model_version}",
        summary="OIP v2: model metadata (one version)",
        response_class=Response,
        responses=meta_answers,
    )
    async def model_version_metadata(
        model_name: str, model_version: str, caller: OipCaller
    ) -> Response:
        """Like ``/v2/models/{model_name}``; the version is the artifact hash."""
        check_model(model_name, model_version)
        return json_response(metadata, 200)

    @app.get(
        "/v2/models/{model_name}/ready",
        summary="OIP v2: model readiness",
        response_class=Response,
        responses=ready_answers,
    )
    async def model_is_ready(model_name: str) -> Response:
        """200 when the model is loaded and the decision log can commit; 503 otherwise."""
        return await model_ready(model_name)

    @app.get(
        "/v2/models/{model_name}/versions/{model_version}/ready",
        summary="OIP v2: model readiness (one version)",
        response_class=Response,
        responses=ready_answers,
    )
    async def model_version_is_ready(model_name: str, model_version: str) -> Response:
        """Like ``/v2/models/{model_name}/ready``."""
        return await model_ready(model_name, model_version)

    @app.post(
        "/v2/models/{model_name}/infer",
        summary="OIP v2: guarded inference",
        response_class=Response,
        responses=infer_docs,
        openapi_extra=INFER_REQUEST_BODY,
    )
    async def model_infer(request: Request, model_name: str, caller: OipCaller) -> Response:
        """OIP inference request in; predictions as output tensors, verdicts in
        ``parameters``; the status code follows the protocol table like ``/v1/predict``."""
        return await infer(request, caller, model_name)

    @app.post(
        "/v2/models/{model_name}/versions/{model_version}/infer",
        summary="OIP v2: guarded inference (one version)",
        response_class=Response,
        responses=infer_docs,
        openapi_extra=INFER_REQUEST_BODY,
    )
    async def model_version_infer(
        request: Request, model_name: str, model_version: str, caller: OipCaller
    ) -> Response:
        """Like ``/v2/models/{model_name}/infer``; the version is the artifact hash."""
        return await infer(request, caller, model_name, model_version)

    _add_error_member_under_v2(app)


def _metadata_parameters(service: Service) -> dict[str, Any]:
    rails = service.rails
    contract = rails.contract
    params: dict[str, Any] = {
        "mlrails_artifact_hash": rails.artifact_hash,
        "mlrails_task": rails.task,
    }
    if contract.layout != "image":
        cols = contract.columns
        params["mlrails_column_order"] = dumps(cols)
        single = (
            f", or one tensor of shape [-1, {len(cols)}] in column order"
            if matrix_datatypes(contract)  # every column takes one datatype
            else ""
        )
        params["mlrails_input_forms"] = "one tensor per column, shape [-1] or [-1, 1]" + single
    labels = [t for t in output_tensors(rails) if t["name"] == "probabilities"]
    if labels:
        params["mlrails_classes"] = dumps(classes(rails))
    return params


def _add_error_member_under_v2(app: FastAPI) -> None:
    """404/405 answers of unknown ``/v2/...`` paths (handled centrally) get ``error`` too."""
    original = app.exception_handlers[StarletteHTTPException]

    async def handler(request: Request, exc: Exception) -> Response:
        answered = original(request, exc)
        response: Response = await answered if inspect.isawaitable(answered) else answered
        if not _is_v2(request.url.path):
            return response
        try:
            doc = loads(bytes(response.body))
        except ValueError:
            return response
        if not isinstance(doc, dict) or "error" in doc:
            return response
        doc["error"] = _error_text(doc)
        drop = ("content-length", "content-type")
        keep = {k: v for k, v in response.headers.items() if k not in drop}
        media = response.media_type or PROBLEM_MEDIA_TYPE
        return json_response(doc, response.status_code, keep, media)

    app.add_exception_handler(StarletteHTTPException, handler)
