"""RFC 9457 problem details: every error the API returns names what was wrong and where."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from casework.domain.errors import DomainError

log = logging.getLogger("casework.api")
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[FieldError] | None = None
    allowed_transitions: list[str] | None = None
    current_phase: str | None = None
    current_version: int | None = None


def problem_response(status: int, title: str, detail: str, request: Request | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(field=_field_name(tuple(e.get("loc", ()))), message=str(e.get("msg", "invalid"))) for e in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
    return problem_response(
        422, "Invalid request", detail, request, field=errors[0].field if errors else None,
        errors=[e.model_dump() for e in errors],
    )  # fmt: skip


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    extra = {k: v for k, v in exc.extra.items()}
    # An error may list several field problems itself (every invalid answer of a questionnaire).
    errors = extra.pop("errors", None) or ([{"field": exc.field, "message": exc.message}] if exc.field else None)
    resp = problem_response(exc.status, exc.title, exc.message, request, field=exc.field, errors=errors, **extra)
    if exc.status == 401:  # RFC 9110 §15.5.2: a 401 must carry a challenge
        resp.headers["WWW-Authenticate"] = 'Bearer realm="casework"'
    return resp


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    resp = problem_response(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), request)
    if exc.headers:
        resp.headers.update(exc.headers)
    if exc.status_code == 405:
        resp.headers["Allow"] = ", ".join(_allowed_methods(request))
    return resp


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (RFC 9110 §15.5.6).

    The router only reports the methods of the first route whose path matched, which is
    incomplete when several routes share a path (GET and POST /cases are separate routes).
    """
    found = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            found.append(method)
    return found


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "Internal error", "an unexpected error occurred; it has been logged", request)


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 410: "Gone", 412: "Precondition failed", 413: "Payload too large", 415: "Unsupported media type",
           422: "Invalid request"}  # fmt: skip


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def responses(*codes: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations for the problem responses a route can return.

    Every non-public route can also answer 401 (no or bad credentials) and 403 (role, token
    scope or CSRF check refused the request).
    """
    schema = {"$ref": "#/components/schemas/Problem"}
    all_codes = sorted(set(codes) | (set() if public else {401, 403}))
    return {code: {"description": _TITLES.get(code, "Error"), "content": {MEDIA_TYPE: {"schema": schema}}} for code in all_codes}
