"""The HTTP side of problem documents: raising, answering and the app's error handlers.

The problem kinds and the document itself are :mod:`mlrails.protocol.problem`'s; here a
:class:`ServeError` raised anywhere in the app becomes its ``application/problem+json``
answer, and Starlette's own errors (404, 405, a request FastAPI could not validate, an
unhandled exception) are answered as problem documents too: never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from mlrails._json import dumps
from mlrails.protocol import problem as problems
from mlrails.protocol.problem import PROBLEM_MEDIA_TYPE, Problem, ProblemType
from mlrails.serve.routing import flat_routes

log = logging.getLogger("mlrails.serve")


class ServeError(Exception):
    """Raised inside the app to answer with a problem document (handled centrally)."""

    def __init__(
        self,
        kind: ProblemType,
        status: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    def document(self) -> dict[str, Any]:
        return self.kind.problem(self.status, self.detail, extensions=self.extensions).to_dict()

    def response(self) -> Response:
        return json_response(self.document(), self.status, self.headers, PROBLEM_MEDIA_TYPE)


def json_response(
    body: Any,
    status: int,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A response with strict JSON (non-finite floats become null, never a 500)."""
    return Response(dumps(body), status_code=status, headers=headers, media_type=media_type)


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """``problem`` as its ``application/problem+json`` answer."""
    return json_response(problem.to_dict(), problem.status, headers, PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer :class:`ServeError`, Starlette's HTTP errors, request validation errors and
    any unhandled exception with problem documents."""
    app.add_exception_handler(ServeError, _serve_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)


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
        kind = ProblemType(phrase.lower().replace(" ", "-"), phrase, phrase)
        detail = phrase
    headers = dict(exc.headers or {})
    if code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(kind.problem(code, detail), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path: Starlette's 405 names only the
    first matching route's, and GET and POST on one path are two routes here."""
    allowed: set[str] = set()
    for route in flat_routes(request.app.router.routes):
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
    status = int(request.app.state.service.codes.invalid_input)
    return problem_response(problems.MALFORMED_REQUEST.problem(status, "; ".join(parts)))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(problems.INTERNAL_ERROR.problem(500, "the service failed unexpectedly"))


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"
