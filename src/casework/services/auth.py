"""Authentication: passwords with lockout, personal API tokens and web sessions.

Secrets (token values, session cookies) are only ever stored as SHA-256 digests, so a
copy of the database does not let anyone sign in. Failed logins are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Principal, Role, Scope
from casework.domain.errors import InvalidInput, NotFound, Unauthenticated
from casework.domain.passwords import problems
from casework.store.models import ApiToken, Team, TeamMember, User, WebSession
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_TTL = dt.timedelta(hours=12)
TOKEN_PREFIX = "cwt_"

_hasher = PasswordHasher()


AuthenticationFailed = Unauthenticated


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str, *, email: str | None = None) -> str:
    found = problems(password, email=email)
    if found:
        raise InvalidInput("password " + "; ".join(found), field="password")
    return _hasher.hash(password)


def _verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_for(s: Session, user: User, scope: Scope = Scope.WRITE) -> Principal:
    teams = s.scalars(select(Team.name).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user.id))
    return Principal(user_id=user.id, role=Role(user.role), teams=frozenset(teams), party_id=user.party_id, scope=scope)


def load_principal(db: Database, user_id: uuid.UUID, scope: Scope = Scope.WRITE) -> Principal:
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed("the account does not exist or is disabled")
        return principal_for(s, user, scope)


def login(db: Database, email: str, password: str, client: str | None = None) -> Principal:
    """Check a password; lock the account for a while after repeated failures."""
    now = utcnow()
    failure: str | None = None
    with db.write() as s:
        user = s.scalars(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            audit.append(
                s, actor_id=None, action="auth.login.failed", data={"email": email[:320], "client": client, "why": "unknown account"}
            )
            failure = "wrong email or password"
        elif user.locked_until is not None and user.locked_until > now:
            audit.append(s, actor_id=user.id, action="auth.login.failed", data={"email": user.email, "client": client, "why": "locked"})
            failure = f"the account is locked after repeated failures; try again after {user.locked_until:%H:%M} UTC"
        elif not user.is_active or not _verify_password(user.password_hash, password):
            user.failed_logins += 1
            why = "disabled" if not user.is_active else "wrong password"
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
                why += "; account locked"
            audit.append(s, actor_id=user.id, action="auth.login.failed", data={"email": user.email, "client": client, "why": why})
            failure = "wrong email or password"
        else:
            user.failed_logins = 0
            user.locked_until = None
            audit.append(s, actor_id=user.id, action="auth.login", data={"client": client})
            return principal_for(s, user)
    raise AuthenticationFailed(failure, field="password")


# ---------------------------------------------------------------- API tokens


class TokenView(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scope: Scope
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewToken(TokenView):
    token: str


def create_token(db: Database, who: Principal, name: str, scope: Scope, expires_in_days: int | None = 90) -> NewToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        tok = ApiToken(
            user_id=who.user_id,
            name=name,
            token_hash=digest(secret),
            prefix=secret[:12],
            scope=scope.value,
            expires_at=utcnow() + dt.timedelta(days=expires_in_days) if expires_in_days else None,
        )
        s.add(tok)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="auth.token.create", data={"token_id": tok.id, "name": name, "scope": scope})
        return NewToken.model_validate({**_token_fields(tok), "token": secret})


def _token_fields(tok: ApiToken) -> dict[str, object]:
    return {k: getattr(tok, k) for k in ("id", "name", "prefix", "scope", "created_at", "expires_at", "revoked_at")}


def list_tokens(db: Database, who: Principal) -> list[TokenView]:
    with db.read() as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == who.user_id).order_by(ApiToken.created_at))
        return [TokenView.model_validate(_token_fields(t)) for t in rows]


def revoke_token(db: Database, who: Principal, token_id: uuid.UUID) -> None:
    with db.write() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None or (tok.user_id != who.user_id and who.role is not Role.ADMINISTRATOR):
            raise NotFound(f"token {token_id} not found", field="token_id")
        if tok.revoked_at is None:
            tok.revoked_at = utcnow()
            audit.append(s, actor_id=who.user_id, action="auth.token.revoke", data={"token_id": tok.id})


def principal_from_token(db: Database, secret: str) -> Principal:
    with db.read() as s:
        tok = s.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
        if tok is None:
            raise AuthenticationFailed("unknown API token", field="Authorization")
        if tok.revoked_at is not None:
            raise AuthenticationFailed("the API token has been revoked", field="Authorization")
        if tok.expires_at is not None and tok.expires_at <= utcnow():
            raise AuthenticationFailed("the API token has expired", field="Authorization")
        user = s.get(User, tok.user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed("the account is disabled", field="Authorization")
        return principal_for(s, user, Scope(tok.scope))


# ---------------------------------------------------------------- web sessions


class SessionInfo(BaseModel):
    cookie: str
    csrf_token: str
    expires_at: dt.datetime


def open_session(db: Database, who: Principal, client: str | None = None) -> SessionInfo:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = utcnow() + SESSION_TTL
    with db.write() as s:
        s.add(WebSession(id=digest(cookie), user_id=who.user_id, csrf_token=csrf, expires_at=expires, client=(client or "")[:100]))
    return SessionInfo(cookie=cookie, csrf_token=csrf, expires_at=expires)


def principal_from_session(db: Database, cookie: str) -> tuple[Principal, str]:
    """The session's principal and its CSRF token (which unsafe requests must echo)."""
    identity = web_identity(db, cookie)
    return identity.principal, identity.csrf_token


@dataclass(frozen=True)
class WebIdentity:
    """Who a browser session speaks for, with what the pages show of them."""

    principal: Principal
    csrf_token: str
    name: str
    email: str
    locale: str | None


def web_identity(db: Database, cookie: str) -> WebIdentity:
    """The session's principal, CSRF token, display name and language in one read."""
    with db.read() as s:
        sess = s.get(WebSession, digest(cookie))
        if sess is None or sess.revoked_at is not None or sess.expires_at <= utcnow():
            raise AuthenticationFailed("the session has expired; sign in again", field="session")
        user = s.get(User, sess.user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed("the account is disabled", field="session")
        return WebIdentity(principal_for(s, user), sess.csrf_token, user.name, user.email, user.locale)


def set_own_locale(db: Database, who: Principal, locale: str | None) -> None:
    """A user's interface language (None: follow the browser)."""
    with db.write() as s:
        user = s.get(User, who.user_id)
        if user is None:
            raise AuthenticationFailed("the account is disabled", field="session")
        if user.locale != locale:
            audit.append(s, actor_id=who.user_id, action="user.locale", data={"before": user.locale, "after": locale})
            user.locale = locale


def close_session(db: Database, cookie: str) -> None:
    with db.write() as s:
        sess = s.get(WebSession, digest(cookie))
        if sess is not None and sess.revoked_at is None:
            sess.revoked_at = utcnow()
            audit.append(s, actor_id=sess.user_id, action="auth.logout", data={})
