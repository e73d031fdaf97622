"""OpenID Connect sign-in for staff: redirect to the provider, then come back with a code.

Both routes always exist (so the OpenAPI document does not depend on configuration) and
answer 404 when CASEWORK_OIDC_* is not set. See casework.services.oidc.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from casework.api.deps import DB
from casework.api.problems import responses
from casework.api.routes_auth import LoginResult, cookie_secure, start_session
from casework.domain.access import Principal
from casework.domain.errors import Unauthenticated
from casework.services import oidc

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["authentication"])

FLOW_COOKIE = "casework_oidc"
FLOW_PATH = "/api/v1/auth/oidc"


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "Sent on to the identity provider", "headers": {"Location": {"schema": {"type": "string"}}}}
}


@router.get("/login", status_code=302, response_class=RedirectResponse, responses={**_REDIRECT, **responses(404, 502, public=True)})
def oidc_login() -> RedirectResponse:
    """Start signing in with the organisation's identity provider."""
    cfg = oidc.require_config()
    url, flow = oidc.start(cfg)
    resp = RedirectResponse(url, status_code=302)
    resp.headers["Cache-Control"] = "no-store"
    resp.set_cookie(
        FLOW_COOKIE, oidc.seal(flow), max_age=oidc.FLOW_TTL, httponly=True, secure=cookie_secure(), samesite="lax", path=FLOW_PATH
    )
    return resp


@router.get("/callback", response_model=LoginResult, responses=responses(400, 401, 404, 422, 502, public=True))
def oidc_callback(
    request: Request,
    response: Response,
    db: DB,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> LoginResult:
    """Where the identity provider sends the browser back; opens a session like POST /auth/login."""
    cfg = oidc.require_config()
    flow = oidc.unseal(request.cookies.get(FLOW_COOKIE))
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, secure=cookie_secure(), samesite="lax")
    if error is not None:
        raise Unauthenticated(f"the identity provider did not sign you in ({error})", field="error")
    if not code or not state:
        raise oidc.BadFlow("the callback needs both code and state", field="code" if not code else "state")
    who: Principal = oidc.finish(db, cfg, flow, code, state, _client(request))
    response.headers["Cache-Control"] = "no-store"
    return start_session(db, who, _client(request), response)
