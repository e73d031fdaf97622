"""The staff dashboard's read side: the work queue with filters, pages and SLA state, in one query.

:func:`casework.services.queue.work_queue` orders a user's or a team's open cases by priority and
then the nearest running SLA deadline, but takes no filters and has no pages;
:func:`casework.services.cases.list_cases` filters and pages but cannot order by SLA deadline.
The dashboard needs both, plus what each row shows (customer and assignee names, the version a
bulk assignment is based on, whether an SLA is at risk or breached), so this module combines the
same case-list filter conditions with the same deadline ordering as the queue, and joins the
names in, instead of one service call per row.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from casework.domain.access import Perm, Principal, Role, Visibility
from casework.domain.errors import Forbidden
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services.cases import apply_filter
from casework.services.common import require
from casework.services.schemas import CaseFilter
from casework.services.users import SYSTEM_EMAIL
from casework.store.models import Case, Party, SlaClock, Team, TeamMember, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

SlaState = Literal["none", "on_time", "at_risk", "breached"]
ASSIGNABLE_ROLES = (Role.CASE_WORKER.value, Role.SUPERVISOR.value, Role.ADMINISTRATOR.value)


class QueueView(str, enum.Enum):
    MINE = "mine"  # assigned to the caller
    TEAM = "team"  # in one of the caller's teams, whoever is assigned
    ALL = "all"  # every case the caller may see


class DashboardRow(BaseModel):
    id: uuid.UUID
    reference: str
    title: str
    case_type: str
    status: Status
    phase: Phase
    priority: Priority
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    team: str | None
    customer_name: str | None
    due_date: dt.date | None
    created_at: dt.datetime
    version: int
    next_deadline: dt.datetime | None  # the earliest deadline among the case's running SLA clocks
    sla: SlaState


class DashboardPage(BaseModel):
    rows: list[DashboardRow]
    total: int
    page: int
    pages: int
    limit: int


class Colleague(BaseModel):
    id: uuid.UUID
    name: str
    email: str


def sla_state(next_deadline: dt.datetime | None, first_warning: dt.datetime | None, breached: bool, now: dt.datetime) -> SlaState:
    """Breached once a running clock is past its deadline; at risk once past its warning time.

    The warning time is the SLA policy's own (``warn_fraction`` of the target before the deadline).
    """
    if next_deadline is None:
        return "none"
    if breached or next_deadline <= now:
        return "breached"
    if first_warning is not None and first_warning <= now:
        return "at_risk"
    return "on_time"


def _scope_condition(who: Principal, view: QueueView) -> Any:
    if view is QueueView.MINE:
        return Case.assignee_id == who.user_id
    if view is QueueView.TEAM:
        return Case.team.in_(sorted(who.teams)) if who.teams else Case.id.is_(None)
    return None


def supports_materialized(s: Session) -> bool:
    """Whether the database takes ``AS MATERIALIZED`` on a CTE (SQLite 3.35, PostgreSQL 12).

    Only a hint: both also materialise a CTE that a statement reads twice, as the dashboard's does.
    """
    dialect = s.get_bind().dialect
    if dialect.name == "sqlite":
        return tuple(getattr(dialect.dbapi, "sqlite_version_info", (0,))) >= (3, 35)
    return bool(dialect.server_version_info and dialect.server_version_info >= (12,))


def matched_cases(s: Session, base: Any) -> Any:
    """``base`` (selecting ``id``, ``priority`` and ``created_at`` of cases) as a CTE found once."""
    matched = base.cte("matched")
    return matched.prefix_with("MATERIALIZED") if supports_materialized(s) else matched


def by_urgency(matched: Any, *extra: Any) -> Select[Any]:
    """The matched cases most urgent first, with ``due_at``, the nearest deadline of their running SLA
    clocks: priority (P1 first), then that deadline (cases without one last), then the oldest case.

    Each case is joined to its running clocks through the case_id index and grouped, so no clock is
    read twice; ``extra`` are more aggregates over those clocks."""
    due_at = func.min(SlaClock.due_at)
    no_deadline = sql_case((due_at.is_(None), 1), else_=0)
    return (
        select(matched.c.id, matched.c.priority, no_deadline.label("no_deadline"), due_at.label("due_at"), *extra, matched.c.created_at)
        .select_from(matched)
        .outerjoin(SlaClock, and_(SlaClock.case_id == matched.c.id, SlaClock.stopped_at.is_(None)))
        .group_by(matched.c.id, matched.c.priority, matched.c.created_at)
        .order_by(matched.c.priority, no_deadline, due_at, matched.c.created_at, matched.c.id)
    )


def dashboard_queue(
    db: Database,
    who: Principal,
    f: CaseFilter,
    *,
    view: QueueView = QueueView.MINE,
    page: int = 1,
    limit: int = 25,
    now: dt.datetime | None = None,
) -> DashboardPage:
    """One page of the cases matching ``f`` within ``view``, most urgent first.

    The order is the work queue's: priority (P1 first), the nearest running SLA deadline (cases
    without one last), the oldest case. Only cases the caller may see are listed. The caller's own
    and team queues need the queue right; every staff member who reads cases may list ``all``.

    One statement: the matching cases (filters, full-text search, visibility) are found once, in a
    materialised CTE, which both the count and the page read; the SLA clocks are aggregated only
    over those cases, and the full rows and names are joined to the page's cases alone. Evaluating
    the filter (a full-text match on a common word finds a third of all cases) once instead of three
    times, and sorting narrow rows, is what keeps a broad search fast. Only a page past the last
    one, which returns no row to carry the count, counts in a second statement.
    """
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("the work queue is for staff")
    if view is not QueueView.ALL:
        require(who, Perm.QUEUE_READ)
    limit = max(1, min(limit, 200))
    page = max(1, min(page, 100_000))
    now = now or utcnow()
    with db.read() as s:
        base = apply_filter(s, select(Case.id, Case.priority, Case.created_at), f, who)
        scope = _scope_condition(who, view)
        if scope is not None:
            base = base.where(scope)
        matched = matched_cases(s, base)
        ranked = (
            by_urgency(
                matched,
                func.min(SlaClock.warn_at).label("warn_at"),
                func.max(sql_case((SlaClock.breached_at.is_not(None), 1), else_=0)).label("breached"),
            )
            .offset((page - 1) * limit)
            .limit(limit)
            .subquery("ranked")
        )
        total_col = select(func.count()).select_from(matched).scalar_subquery()
        assignee = aliased(User)
        stmt = (
            select(Case, ranked.c.due_at, ranked.c.warn_at, ranked.c.breached, assignee.name, Party.name, total_col)
            .select_from(ranked)
            .join(Case, Case.id == ranked.c.id)
            .outerjoin(assignee, assignee.id == Case.assignee_id)
            .outerjoin(Party, Party.id == Case.customer_party_id)
            .order_by(ranked.c.priority, ranked.c.no_deadline, ranked.c.due_at, ranked.c.created_at, ranked.c.id)
        )
        result = s.execute(stmt).all()
        if result:
            total = int(result[0][-1])
        elif page == 1:
            total = 0
        else:  # past the last page: count on its own
            total = int(s.execute(select(func.count()).select_from(base.subquery())).scalar_one())
        rows = [
            DashboardRow(
                id=c.id,
                reference=c.reference,
                title=c.title,
                case_type=c.case_type,
                status=Status(c.status),
                phase=Phase(c.phase),
                priority=Priority(c.priority),
                assignee_id=c.assignee_id,
                assignee_name=assignee_name,
                team=c.team,
                customer_name=customer_name,
                due_date=c.due_date,
                created_at=c.created_at,
                version=c.version,
                next_deadline=due,
                sla=sla_state(due, warn, bool(breached), now),
            )
            for c, due, warn, breached, assignee_name, customer_name, _total in result
        ]
    pages = max(1, -(-total // limit))
    return DashboardPage(rows=rows, total=total, page=page, pages=pages, limit=limit)


def _colleague_rows(s: Session, who: Principal) -> list[Colleague]:
    stmt = select(User.id, User.name, User.email).where(
        User.is_active.is_(True), User.role.in_(ASSIGNABLE_ROLES), User.email != SYSTEM_EMAIL
    )
    if who.visibility is not Visibility.ALL:
        members = select(TeamMember.user_id).join(Team, Team.id == TeamMember.team_id).where(Team.name.in_(sorted(who.teams)))
        stmt = stmt.where(User.id.in_(members) | (User.id == who.user_id))
    stmt = stmt.order_by(User.name, User.email)
    return [Colleague(id=i, name=n, email=e) for i, n, e in s.execute(stmt)]


def colleagues(db: Database, who: Principal) -> list[Colleague]:
    """Active staff who can be given cases and share a team with the caller (everyone for administrators and auditors)."""
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("the list of colleagues is for staff")
    with db.read() as s:
        return _colleague_rows(s, who)


def team_names(db: Database, who: Principal) -> list[str]:
    """The teams the caller may filter on: their own, or every team for those who see every case."""
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("the list of teams is for staff")
    if who.visibility is not Visibility.ALL:
        return sorted(who.teams)
    with db.read() as s:
        return sorted(set(s.scalars(select(Team.name))) | set(who.teams))


__all__ = ["Colleague", "DashboardPage", "DashboardRow", "QueueView", "colleagues", "dashboard_queue", "sla_state", "team_names"]
