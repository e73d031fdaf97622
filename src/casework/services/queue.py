"""The work queue: open cases in the order they should be worked on.

Most urgent first: priority (P1 first), then the earliest running SLA deadline among the case's
clocks (cases without a running clock last), then the oldest case. The queue's cases are found
once and grouped with their running clocks for the order; then only the page's cases are read in
full, with their nearest clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from casework.domain.access import Perm, Principal
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services.common import require
from casework.services.dashboard import by_urgency, matched_cases
from casework.services.sla import ClockKind
from casework.store.models import Case, SlaClock
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases


class QueueItem(BaseModel):
    id: uuid.UUID
    reference: str
    title: str
    case_type: str
    phase: Phase
    priority: Priority
    assignee_id: uuid.UUID | None
    team: str | None
    created_at: dt.datetime
    next_deadline: dt.datetime | None
    deadline_kind: ClockKind | None
    deadline_name: str | None
    overdue: bool


def work_queue(
    db: Database,
    who: Principal,
    *,
    assignee_id: uuid.UUID | None = None,
    team: str | None = None,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> list[QueueItem]:
    """Open cases assigned to ``assignee_id`` and/or in ``team``; with neither, the caller's own cases.

    Only cases the caller may see are listed (asking for another team's queue lists nothing).
    A breached clock keeps counting until it is stopped, so overdue cases come first within a priority.
    """
    require(who, Perm.QUEUE_READ)
    limit = max(1, min(limit, 500))
    now = now or utcnow()
    conds: list[Any] = [Case.status == Status.OPEN.value, visible_cases(who, now)]
    if assignee_id is None and team is None:
        assignee_id = who.user_id
    if assignee_id is not None:
        conds.append(Case.assignee_id == assignee_id)
    if team is not None:
        conds.append(Case.team == team)
    with db.read() as s:
        # The order needs every queued case's nearest deadline; the rows, only the page's cases.
        matched = matched_cases(s, select(Case.id, Case.priority, Case.created_at).where(*conds))
        ranked = by_urgency(matched).limit(limit).subquery("ranked")
        order = select(ranked.c.id).order_by(ranked.c.priority, ranked.c.no_deadline, ranked.c.due_at, ranked.c.created_at, ranked.c.id)
        ids = list(s.scalars(order))
        rows = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_(ids)))}
        nearest: dict[uuid.UUID, SlaClock] = {}
        running = select(SlaClock).where(SlaClock.case_id.in_(ids), SlaClock.stopped_at.is_(None))
        for running_clock in s.scalars(running.order_by(SlaClock.case_id, SlaClock.due_at, SlaClock.id)):
            nearest.setdefault(running_clock.case_id, running_clock)
        items = []
        for case_id in ids:
            c, clock = rows[case_id], nearest.get(case_id)
            due = clock.due_at if clock is not None else None
            items.append(
                QueueItem(
                    id=c.id,
                    reference=c.reference,
                    title=c.title,
                    case_type=c.case_type,
                    phase=Phase(c.phase),
                    priority=Priority(c.priority),
                    assignee_id=c.assignee_id,
                    team=c.team,
                    created_at=c.created_at,
                    next_deadline=due,
                    deadline_kind=ClockKind(clock.kind) if clock is not None else None,
                    deadline_name=clock.name if clock is not None else None,
                    overdue=due is not None and due <= now,
                )
            )
        return items
