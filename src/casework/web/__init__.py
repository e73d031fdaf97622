"""The server-rendered interface: staff dashboard, customer and third-party portal, KPI pages.

Pages sit beside the JSON API in the same application and call the same services with the same
access rules; they are left out of the OpenAPI document. Errors on page routes are answered as
HTML pages in the user's language, errors on ``/api`` routes stay problem+json.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from casework.domain.errors import DomainError

STATIC = Path(__file__).parent / "static"
API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json")
log = logging.getLogger(__name__)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def _page_routers() -> list[Any]:
    from casework.web import routes_auth

    routers = [routes_auth.router]
    # Pages added by later modules register here; an import error must not hide the others.
    for name in ("routes_dashboard", "routes_case", "routes_case_parts", "routes_intake", "routes_portal", "routes_kpi", "routes_review"):
        try:
            module = __import__(f"casework.web.{name}", fromlist=["router"])
        except ModuleNotFoundError as exc:
            if exc.name != f"casework.web.{name}":
                raise
            continue
        routers.append(module.router)
    return routers


def install(app: FastAPI) -> None:
    """Mount the static files and page routes, and answer page errors as HTML."""
    from casework.web.pages import SignInRequired, current_user, render, sign_in_url

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in _page_routers():
        app.include_router(router)

    api_handlers = dict(app.exception_handlers)

    def page_error(request: Request, status: int, message: str, field: str | None = None) -> Response:
        if getattr(request.state, "user", None) is None:
            try:  # show the navigation to a signed-in user even on a page that does not exist
                current_user(request)
            except (SignInRequired, DomainError):
                pass
        response = render(request, "error.html", {"status": status, "message": message, "field": field}, status=status)
        return response

    async def on_domain(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return await _call(api_handlers[DomainError], request, exc)
        assert isinstance(exc, DomainError)
        if exc.status == 401:
            from fastapi.responses import RedirectResponse

            return RedirectResponse(sign_in_url(request.url.path), status_code=303)
        return page_error(request, exc.status, exc.message, exc.field)

    async def on_validation(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return await _call(api_handlers[RequestValidationError], request, exc)
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return page_error(request, 422, str(first.get("msg", "invalid request")), where)

    async def on_http(request: Request, exc: Exception) -> Response:
        if _is_api(request) or request.url.path.startswith("/static/"):
            return await _call(api_handlers[StarletteHTTPException], request, exc)
        assert isinstance(exc, StarletteHTTPException)
        return page_error(request, exc.status_code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return await _call(api_handlers[Exception], request, exc)
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return page_error(request, 500, "Something went wrong on our side; nothing was changed. Try again in a moment.")

    async def on_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        from casework.web.pages import redirect

        return redirect(sign_in_url(exc.next_url), request)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(SignInRequired, on_sign_in)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if hasattr(result, "__await__"):
        result = await result
    assert isinstance(result, Response)
    return result
