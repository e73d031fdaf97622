"""Request dependencies: the database and optimistic-concurrency headers (the caller is in security.py)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from casework.domain.errors import InvalidInput
from casework.store.unit_of_work import Database

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DB = Annotated[Database, Depends(get_db)]


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
