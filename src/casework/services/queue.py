"""The work queue: open cases in the order they should be worked on.

Most urgent first: priority (P1 first), then the earliest running SLA deadline among the case's
clocks (cases without a running clock last), then the oldest case. One SQL query: the cases
are joined to their most urgent running clock, picked by a window function.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from casework.domain.access import Perm, Principal
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services.common import require
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


def _next_deadline(case_ids: Any) -> Any:
    """Per case among ``case_ids``, its running clock with the earliest deadline (rank 1)."""
    rank = func.row_number().over(partition_by=SlaClock.case_id, order_by=(SlaClock.due_at, SlaClock.id))
    return (
        select(SlaClock.case_id, SlaClock.due_at, SlaClock.kind, SlaClock.name, rank.label("rank"))
        .where(SlaClock.stopped_at.is_(None), SlaClock.case_id.in_(case_ids))
        .subquery("next_deadline")
    )


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
    # Rank only the clocks of the cases in this queue, not every running clock.
    nd = _next_deadline(select(Case.id).where(*conds))
    stmt = (
        select(Case, nd.c.due_at, nd.c.kind, nd.c.name)
        .outerjoin(nd, (nd.c.case_id == Case.id) & (nd.c.rank == 1))
        .where(*conds)
        .order_by(
            Case.priority,
            sql_case((nd.c.due_at.is_(None), 1), else_=0),
            nd.c.due_at,
            Case.created_at,
            Case.id,
        )
        .limit(limit)
    )
    with db.read() as s:
        return [
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
                deadline_kind=ClockKind(kind) if kind else None,
                deadline_name=name,
                overdue=due is not None and due <= now,
            )
            for c, due, kind, name in s.execute(stmt)
        ]
