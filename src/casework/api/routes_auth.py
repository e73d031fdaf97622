"""Sign-in, sign-out, the current account, and personal API tokens."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casework.api.deps import DB
from casework.api.problems import responses
from casework.api.security import SESSION_COOKIE, Who
from casework.domain.access import Principal, Scope
from casework.domain.errors import Forbidden
from casework.services import accounts, auth
from casework.services.schemas import Clean, raw_length
from casework.store.unit_of_work import Database

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320), raw_length(320), Clean]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256), Clean]


class LoginResult(BaseModel):
    user: accounts.AccountView
    csrf_token: str = Field(description="Echo it in the X-CSRF-Token header on every state-changing request")
    expires_at: dt.datetime


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), raw_length(100), Clean]
    scope: Scope = Scope.READ
    expires_in_days: int | None = Field(default=90, ge=1, le=365)


def cookie_secure() -> bool:
    return os.environ.get("CASEWORK_COOKIE_SECURE", "1").lower() not in ("0", "false", "no")


def start_session(db: Database, who: Principal, client: str | None, response: Response) -> LoginResult:
    """Open a web session for a signed-in principal and hand its cookie to the browser."""
    session = auth.open_session(db, who, client)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(auth.SESSION_TTL.total_seconds()),
        httponly=True,
        secure=cookie_secure(),
        samesite="lax",
        path="/",
    )
    me = accounts.get_account(db, who, str(who.user_id))
    return LoginResult(user=me, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.post("/login", response_model=LoginResult, responses=responses(401, 422, public=True))
def login(body: LoginRequest, request: Request, response: Response, db: DB) -> LoginResult:
    client = request.client.host if request.client else None
    who = auth.login(db, body.email, body.password, client)
    return start_session(db, who, client, response)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 403))
def logout(who: Who, request: Request, response: Response, db: DB) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.close_session(db, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=cookie_secure(), samesite="lax")


@router.get("/me", response_model=accounts.AccountView, responses=responses(401))
def me(who: Who, db: DB) -> accounts.AccountView:
    return accounts.get_account(db, who, str(who.user_id))


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=auth.NewToken, responses=responses(401, 403, 422))
def create_token(body: TokenRequest, who: Who, db: DB) -> auth.NewToken:
    if who.scope is Scope.READ:
        raise Forbidden("a read-only token cannot create tokens", field="scope")
    return auth.create_token(db, who, body.name, body.scope, body.expires_in_days)


@router.get("/tokens", response_model=list[auth.TokenView], responses=responses(401))
def list_tokens(who: Who, db: DB) -> list[auth.TokenView]:
    return auth.list_tokens(db, who)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 403, 404, 422))
def revoke_token(token_id: uuid.UUID, who: Who, db: DB) -> None:
    auth.revoke_token(db, who, token_id)
