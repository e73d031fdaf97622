"""One-time form ids, kept in the database: a form sent twice does its work once.

Forms that create something (a new case, a portal message or upload) carry a hidden
``submission_id``. The first request to send it *claims* the id (a row keyed by the user and the
id), does the work and records its result (the new case's reference); a second request with the
same id finds the claim and is told the result, or that the first is still running. Kept in the
database rather than in a server process, so a double click that two server processes answer
still does the work once. A failed submission *releases* its id, so the corrected form can be sent
again with it. Claims are forgotten after ``ttl`` (a claim whose request died stays pending until
then).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from casework.store.models import FormSubmission
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

Claim = Literal["new", "pending", "done"]
#: How long a claim is remembered.
TTL = dt.timedelta(minutes=10)


def claim(db: Database, user_id: uuid.UUID, submission_id: str, *, ttl: dt.timedelta = TTL) -> tuple[Claim, str | None]:
    """``("new", None)`` for the first claim of the id, then ``("pending", None)`` until the first
    request finishes, then ``("done", result)``."""
    now = utcnow()
    values = {"user_id": user_id, "submission_id": submission_id, "result": None, "claimed_at": now}
    insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(FormSubmission)
    with db.write() as s:
        s.execute(delete(FormSubmission).where(FormSubmission.claimed_at < now - ttl))
        # A concurrent claim of the same id waits for this one's commit, then inserts nothing.
        inserted = s.execute(insert.values(**values).on_conflict_do_nothing().returning(FormSubmission.user_id)).first()
        if inserted is not None:
            return "new", None
    _claimed, result = result_of(db, user_id, submission_id)
    return ("done", result) if result is not None else ("pending", None)


def finish(db: Database, user_id: uuid.UUID, submission_id: str, result: str) -> None:
    """The submission's work is done: later claims of its id are told ``result``."""
    with db.write() as s:
        s.execute(update(FormSubmission).where(_this(user_id, submission_id)).values(result=result[:200]))


def release(db: Database, user_id: uuid.UUID, submission_id: str) -> None:
    """The submission failed: its id may be claimed again."""
    with db.write() as s:
        s.execute(delete(FormSubmission).where(_this(user_id, submission_id), FormSubmission.result.is_(None)))


def result_of(db: Database, user_id: uuid.UUID, submission_id: str) -> tuple[bool, str | None]:
    """Whether the id is still claimed, and the result once there is one."""
    with db.read() as s:
        found = s.execute(select(FormSubmission.result).where(_this(user_id, submission_id))).first()
    return (found is not None, found[0] if found is not None else None)


def _this(user_id: uuid.UUID, submission_id: str) -> ColumnElement[bool]:
    return (FormSubmission.user_id == user_id) & (FormSubmission.submission_id == submission_id)
