"""Who is calling: a personal API token (Authorization: Bearer) or a web session cookie.

Cookie-authenticated requests that change state must echo the session's CSRF token in the
X-CSRF-Token header: a cross-site page can make the browser send the cookie, but it cannot
read the token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from casework.api.deps import DB
from casework.domain.access import Principal
from casework.domain.errors import Forbidden
from casework.services import auth
from casework.services.auth import AuthenticationFailed

SESSION_COOKIE = "casework_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="Personal API token: `Authorization: Bearer cwt_…`")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Web session (sign in at POST /api/v1/auth/login)")


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_principal(
    request: Request,
    db: DB,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    header = request.headers.get("authorization")
    if header is not None:
        if bearer is None or bearer.scheme.lower() != "bearer" or not bearer.credentials.strip():
            raise AuthenticationFailed("malformed Authorization header; expected 'Bearer <token>'", field="Authorization")
        token = bearer.credentials.strip()
        if len(token) > 200 or not token.isascii():
            raise AuthenticationFailed("unknown API token", field="Authorization")
        who = auth.principal_from_token(db, token)
    elif cookie:
        if len(cookie) > 200 or not cookie.isascii():
            raise AuthenticationFailed("the session has expired; sign in again", field="session")
        who, csrf = auth.principal_from_session(db, cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise Forbidden("missing or wrong CSRF token; send the X-CSRF-Token header", field=CSRF_HEADER)
    else:
        raise AuthenticationFailed("authentication required: send 'Authorization: Bearer <token>' or sign in", field="Authorization")
    return who.with_client(_client(request))


Who = Annotated[Principal, Depends(get_principal)]
