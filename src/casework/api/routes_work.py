"""Daily work: the work queue, in-app notifications, SLA timers and breaches, and the outbox of events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from casework.api.deps import DB
from casework.api.problems import responses
from casework.api.security import Who
from casework.domain.access import Role, Scope
from casework.domain.errors import Forbidden
from casework.services import notifications, queue, sla
from casework.services.schemas import DateTime, Text100

router = APIRouter(prefix="/api/v1", tags=["work"])
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference")]


@router.get("/queue", response_model=list[queue.QueueItem], responses=responses(422))
def work_queue(
    db: DB,
    who: Who,
    assignee_id: uuid.UUID | None = None,
    team: Annotated[Text100 | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[queue.QueueItem]:
    """Open cases, most urgent first: priority, then the nearest SLA deadline, then the oldest.
    Without filters: the cases assigned to the caller."""
    return queue.work_queue(db, who, assignee_id=assignee_id, team=team, limit=limit)


@router.get("/notifications", response_model=list[notifications.NotificationView], responses=responses(422))
def list_notifications(
    db: DB,
    who: Who,
    unread: Annotated[bool, Query(description="Only notifications not yet read")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[notifications.NotificationView]:
    """The caller's own notifications, newest first."""
    return notifications.list_notifications(db, who, unread_only=unread, limit=limit)


@router.post("/notifications/{notification_id}/read", response_model=notifications.NotificationView, responses=responses(404, 422))
def mark_notification_read(notification_id: uuid.UUID, db: DB, who: Who) -> notifications.NotificationView:
    return notifications.mark_read(db, who, notification_id)


@router.get("/cases/{key}/sla", response_model=list[sla.SlaClockView], responses=responses(404, 422))
def case_sla(key: CaseKey, db: DB, who: Who) -> list[sla.SlaClockView]:
    """The case's SLA clocks: phase, resolution and milestones, running or stopped."""
    return sla.case_clocks(db, who, key)


@router.get("/sla/breaches", response_model=sla.BreachReport, responses=responses(422))
def sla_breaches(
    db: DB,
    who: Who,
    since: DateTime | None = None,
    until: DateTime | None = None,
    case_type: Annotated[Text100 | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> sla.BreachReport:
    """Missed SLA targets (breached at or after ``since``, before ``until``), with totals."""
    return sla.breach_report(db, who, since=since, until=until, case_type=case_type, limit=limit)


@router.get("/events", response_model=list[notifications.EventView], responses=responses(422))
def list_events(
    db: DB,
    who: Who,
    after: Annotated[int, Query(ge=0, le=notifications.MAX_EVENT_ID, description="Last event id already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[notifications.EventView]:
    """Outbox events for other systems (ERP, CRM), oldest first: poll with the last id seen."""
    return notifications.list_events(db, who, after=after, limit=limit)


@router.post("/sla/scan", response_model=sla.ScanReport, responses=responses())
def run_sla_scan(db: DB, who: Who) -> sla.ScanReport:
    """Run the SLA scan now (administrators); the background worker runs it every minute."""
    if who.role is not Role.ADMINISTRATOR or who.scope is not Scope.WRITE:
        raise Forbidden("only administrators (with a write token or session) may run the SLA scan")
    return sla.scan(db)
