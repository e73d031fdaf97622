"""In-app notifications and the outbox of events for other systems.

``notify``, ``notify_team_supervisors`` and ``emit`` are called inside the caller's open
transaction (they take the Session and never commit), so a notification or an event exists
exactly when the change it reports was committed. The read side (``list_notifications``,
``mark_read``, ``list_events``, ``mark_dispatched``) opens its own transactions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from casework.audit.chain import to_jsonable
from casework.audit.log import _PG_LOCK_ID  # the audit chain's lock: see emit()
from casework.domain.access import Perm, Principal, Role, Scope
from casework.domain.errors import Forbidden, NotFound
from casework.services.common import require
from casework.services.users import SYSTEM_EMAIL
from casework.store.models import Case, Notification, OutboxEvent, Team, TeamMember, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


class NotificationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID | None
    case_reference: str | None = None
    kind: str
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class EventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    case_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: dt.datetime
    dispatched_at: dt.datetime | None


# ---------------------------------------------------------------- writing (inside the caller's transaction)


def notify(
    s: Session, user_id: uuid.UUID, case_id: uuid.UUID | None, kind: str, message: str, *, at: dt.datetime | None = None
) -> Notification:
    """Leave a message in one user's in-app inbox."""
    note = Notification(id=uuid.uuid4(), user_id=user_id, case_id=case_id, kind=kind[:40], message=message, created_at=at or utcnow())
    s.add(note)
    return note


def team_supervisors(s: Session, team: str | None) -> list[uuid.UUID]:
    """Active supervisors who are members of ``team``; when there are none (or no team), the active
    administrators (the built-in system account aside, as nobody reads its inbox)."""
    found: list[uuid.UUID] = []
    if team:
        stmt = (
            select(User.id)
            .join(TeamMember, TeamMember.user_id == User.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.name == team, User.role == Role.SUPERVISOR.value, User.is_active.is_(True))
            .order_by(User.email)
        )
        found = list(s.scalars(stmt))
    if not found:
        stmt = (
            select(User.id)
            .where(User.role == Role.ADMINISTRATOR.value, User.is_active.is_(True), User.email != SYSTEM_EMAIL)
            .order_by(User.email)
        )
        found = list(s.scalars(stmt))
    return found


def notify_team_supervisors(
    s: Session, team: str | None, case_id: uuid.UUID | None, kind: str, message: str, *, at: dt.datetime | None = None
) -> list[Notification]:
    """Notify the supervisors of ``team`` (fallback: the active administrators)."""
    return [notify(s, user_id, case_id, kind, message, at=at) for user_id in team_supervisors(s, team)]


def emit(s: Session, topic: str, case_id: uuid.UUID | None, payload: dict[str, Any], *, at: dt.datetime | None = None) -> OutboxEvent:
    """Write an event to the outbox in the caller's transaction (the transactional outbox pattern).

    On PostgreSQL the event id is drawn under the audit chain's transaction-level advisory lock.
    Every audited change holds that lock until it commits anyway, so this costs nothing extra,
    and it makes ids become visible in increasing order: a consumer polling ``after=<last id>``
    can never skip an event that committed late with a smaller id.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
    event = OutboxEvent(topic=topic[:100], case_id=case_id, payload=to_jsonable(payload), created_at=at or utcnow())
    s.add(event)
    s.flush()  # draw the id now, under the lock
    return event


# ---------------------------------------------------------------- reading


def list_notifications(db: Database, who: Principal, *, unread_only: bool = False, limit: int = 50) -> list[NotificationView]:
    """The caller's own notifications, newest first."""
    require(who, Perm.NOTIFICATION_READ)
    limit = max(1, min(limit, 500))
    with db.read() as s:
        stmt = (
            select(Notification, Case.reference)
            .outerjoin(Case, Case.id == Notification.case_id)
            .where(Notification.user_id == who.user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        out = []
        for note, reference in s.execute(stmt):
            view = NotificationView.model_validate(note)
            view.case_reference = reference
            out.append(view)
        return out


def _require_write_scope(who: Principal) -> None:
    if who.scope is not Scope.WRITE:
        raise Forbidden("a read-only token cannot change anything")


def mark_read(db: Database, who: Principal, notification_id: uuid.UUID) -> NotificationView:
    """Mark one of the caller's notifications read; anybody else's is reported as not found."""
    require(who, Perm.NOTIFICATION_READ)
    _require_write_scope(who)
    with db.write() as s:
        note = s.scalars(select(Notification).where(Notification.id == notification_id, Notification.user_id == who.user_id)).first()
        if note is None:
            raise NotFound(f"notification {notification_id} not found", field="notification_id")
        if note.read_at is None:
            note.read_at = utcnow()
        view = NotificationView.model_validate(note)
        if note.case_id is not None:
            view.case_reference = s.scalars(select(Case.reference).where(Case.id == note.case_id)).first()
        return view


MAX_EVENT_ID = 2**63 - 1


def list_events(db: Database, who: Principal, *, after: int = 0, limit: int = 100, pending_only: bool = False) -> list[EventView]:
    """Outbox events with an id above ``after``, oldest first: integrations poll with the last id they saw."""
    require(who, Perm.EVENTS_READ)
    limit = max(1, min(limit, 1000))
    after = max(0, min(after, MAX_EVENT_ID))
    with db.read() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.id > after).order_by(OutboxEvent.id).limit(limit)
        if pending_only:
            stmt = stmt.where(OutboxEvent.dispatched_at.is_(None))
        return [EventView.model_validate(e) for e in s.scalars(stmt)]


def mark_dispatched(db: Database, who: Principal, up_to_id: int) -> int:
    """Stamp every undispatched event with an id up to ``up_to_id`` as dispatched; returns how many."""
    require(who, Perm.EVENTS_READ)
    _require_write_scope(who)
    if who.role is not Role.ADMINISTRATOR:
        raise Forbidden("only administrators may acknowledge outbox events")
    up_to_id = max(0, min(up_to_id, MAX_EVENT_ID))
    with db.write() as s:
        result = s.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id <= up_to_id, OutboxEvent.dispatched_at.is_(None))
            .values(dispatched_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
