"""Request dependencies: the database, the acting user and optimistic-concurrency headers."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Depends, Header, Request

from casework.domain.errors import DomainError, InvalidInput
from casework.services import users
from casework.store.unit_of_work import Database

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DB = Annotated[Database, Depends(get_db)]


def get_actor(
    request: Request,
    db: DB,
    x_casework_user: Annotated[
        str | None, Header(max_length=320, description="Acting user (email or id); defaults to the system user")
    ] = None,
) -> uuid.UUID:
    if not x_casework_user:
        cached: uuid.UUID | None = getattr(request.app.state, "system_user_id", None)
        if cached is None:
            cached = users.ensure_system_user(db)
            request.app.state.system_user_id = cached
        return cached
    try:
        return users.find_user(db, x_casework_user).id
    except DomainError as exc:
        raise Unauthorized(f"unknown user {x_casework_user!r}", field="X-Casework-User") from exc


Actor = Annotated[uuid.UUID, Depends(get_actor)]


def if_match_version(
    if_match: Annotated[str | None, Header(max_length=64, description='Version the edit is based on, e.g. "3"')] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "":
        return None
    m = _ETAG.match(if_match)
    if not m:
        raise InvalidInput('If-Match must be an entity tag such as "3"', field="If-Match")
    return int(m.group(1))


IfMatch = Annotated[int | None, Depends(if_match_version)]


def etag(version: int) -> str:
    return f'"{version}"'
