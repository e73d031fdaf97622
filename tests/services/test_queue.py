"""The work queue: which open cases a user should work on next, most urgent first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, event

from casework.domain.access import Principal, Role, Scope
from casework.domain.errors import Forbidden
from casework.services import queue
from casework.store.models import Case, SlaClock
from casework.store.unit_of_work import Database
from tests.factories import new_case, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
NOW = T0 + 10 * H


def make(db: Database, who: Principal, title: str, *, priority: str, opened: dt.datetime, deadlines: tuple[Any, ...] = (),
         closed: bool = False, **fields: Any) -> uuid.UUID:  # fmt: skip
    """A case with exactly the given clocks: (kind, name, due_at, stopped)."""
    view = new_case(db, who, title=title, priority=priority, opened_at=opened, **fields)
    with db.write() as s:
        s.execute(delete(SlaClock).where(SlaClock.case_id == view.id))
        for kind, name, due, stopped in deadlines:
            s.add(SlaClock(case_id=view.id, kind=kind, name=name, priority=priority, started_at=opened, due_at=due, warn_at=due - H,
                           stopped_at=opened + H if stopped else None))  # fmt: skip
        if closed:
            case = s.get(Case, view.id)
            assert case is not None
            case.status, case.phase = "closed", "closed"
    return view.id


@pytest.fixture
def world(db: Database, actor: Principal) -> dict[str, Any]:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    mine = {"assignee_id": will.user_id, "team": "fraud"}
    ids = {
        "p2_no_clock_old": make(db, actor, "P2 without clock, older", priority="P2", opened=T0, **mine),
        "p1_later": make(db, actor, "P1 due later", priority="P1", opened=T0 + H,
                         deadlines=(("phase", "screening", T0 + 30 * H, False), ("phase", "intake", T0 + 2 * H, True)), **mine),
        "p1_sooner": make(db, actor, "P1 due sooner", priority="P1", opened=T0 + 2 * H,
                          deadlines=(("resolution", "resolution", T0 + 40 * H, False), ("milestone", "assessed", T0 + 20 * H, False)),
                          **mine),
        "p2_clock": make(db, actor, "P2 with clock", priority="P2", opened=T0 + 3 * H,
                         deadlines=(("phase", "screening", T0 + 50 * H, False),), **mine),
        "p2_no_clock_new": make(db, actor, "P2 without clock, newer", priority="P2", opened=T0 + 4 * H, **mine),
        "p3_overdue": make(db, actor, "P3 overdue", priority="P3", opened=T0,
                           deadlines=(("phase", "screening", T0 + 5 * H, False),), **mine),
        "p1_stopped_only": make(db, actor, "P1 whose only clock stopped", priority="P1", opened=T0 + 5 * H,
                                deadlines=(("phase", "screening", T0 + 6 * H, True),), **mine),
        "closed": make(db, actor, "Closed P1", priority="P1", opened=T0, closed=True, **mine),
        "team_unassigned": make(db, actor, "Fraud team, unassigned", priority="P4", opened=T0, team="fraud"),
        "kyc": make(db, actor, "KYC case", priority="P1", opened=T0, team="kyc", assignee_id=olga.user_id),
    }  # fmt: skip
    return {"ids": ids, "will": will, "olga": olga, "actor": actor}


def names(items: list[queue.QueueItem], ids: dict[str, uuid.UUID]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[i.id] for i in items]


def test_my_queue_orders_by_priority_then_deadline_then_age(db: Database, world: dict[str, Any]) -> None:
    items = queue.work_queue(db, world["will"], now=NOW)
    assert names(items, world["ids"]) == [
        "p1_sooner",  # P1, due at 20 h
        "p1_later",  # P1, due at 30 h (its earlier clock is stopped and does not count)
        "p1_stopped_only",  # P1, no running clock
        "p2_clock",  # P2 with a deadline before P2 without one
        "p2_no_clock_old",
        "p2_no_clock_new",
        "p3_overdue",
    ]
    first = items[0]
    assert (first.next_deadline, first.deadline_kind and first.deadline_kind.value, first.deadline_name) == (
        T0 + 20 * H, "milestone", "assessed")  # fmt: skip
    assert not first.overdue
    overdue = items[-1]
    assert overdue.overdue and overdue.next_deadline == T0 + 5 * H
    no_clock = items[2]
    assert (no_clock.next_deadline, no_clock.deadline_kind, no_clock.overdue) == (None, None, False)
    assert all(i.assignee_id == world["will"].user_id for i in items)
    assert items[0].reference.startswith("CASE-") and items[0].title == "P1 due sooner"


def test_team_queue_and_assignee_filter(db: Database, world: dict[str, Any]) -> None:
    ids = world["ids"]
    team = names(queue.work_queue(db, world["will"], team="fraud", now=NOW), ids)
    assert "team_unassigned" in team and "kyc" not in team and "closed" not in team
    assert team[-1] == "team_unassigned"  # P4 last
    assert names(queue.work_queue(db, world["actor"], assignee_id=world["olga"].user_id, now=NOW), ids) == ["kyc"]
    assert len(queue.work_queue(db, world["will"], team="fraud", limit=2, now=NOW)) == 2


def test_other_teams_cases_stay_invisible(db: Database, world: dict[str, Any]) -> None:
    ids = world["ids"]
    olga = world["olga"]
    assert queue.work_queue(db, olga, team="fraud", now=NOW) == []
    assert queue.work_queue(db, olga, assignee_id=world["will"].user_id, now=NOW) == []
    assert names(queue.work_queue(db, olga, now=NOW), ids) == ["kyc"]
    # An administrator sees every team's queue.
    assert "team_unassigned" in names(queue.work_queue(db, world["actor"], team="fraud", now=NOW), ids)


def test_the_queue_needs_queue_read(db: Database, actor: Principal) -> None:
    auditor = principal(db, actor, "audrey@example.org", Role.AUDITOR)
    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, actor, PartyCreate(name="Chloe Customer"))
    customer = principal(db, actor, "chloe@example.org", Role.CUSTOMER, party_id=party.id)
    for who in (auditor, customer):
        with pytest.raises(Forbidden):
            queue.work_queue(db, who)
    reader = principal(db, actor, "will@example.org", teams=["fraud"])
    from dataclasses import replace

    assert queue.work_queue(db, replace(reader, scope=Scope.READ)) == []  # a read token may read the queue


def test_the_queue_reads_three_statements_whatever_its_length(db: Database, world: dict[str, Any]) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        items = queue.work_queue(db, world["will"], now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(items) == 7
    assert len(statements) == 3, statements  # the order, the page's cases, their running clocks
