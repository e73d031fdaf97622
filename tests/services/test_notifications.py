"""In-app notifications (each user sees only their own) and the transactional outbox of events."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest

from casework.domain.access import Principal, Role, Scope
from casework.domain.errors import Forbidden, NotFound
from casework.services import accounts, notifications
from casework.store.models import Case
from casework.store.unit_of_work import Database
from tests.factories import new_case, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_each_user_reads_and_marks_only_their_own(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    case = new_case(db, actor, team="fraud")
    with db.write() as s:
        first = notifications.notify(s, will.user_id, case.id, "sla.warning", "first", at=T0)
        notifications.notify(s, will.user_id, None, "info", "second", at=T0 + dt.timedelta(minutes=1))
        theirs = notifications.notify(s, olga.user_id, None, "info", "for olga", at=T0)
    mine = notifications.list_notifications(db, will)
    assert [n.message for n in mine] == ["second", "first"]  # newest first
    assert mine[1].case_reference == case.reference and mine[0].case_reference is None
    assert [n.message for n in notifications.list_notifications(db, olga)] == ["for olga"]

    marked = notifications.mark_read(db, will, first.id)
    assert marked.read_at is not None and marked.case_reference == case.reference
    assert notifications.mark_read(db, will, first.id).read_at == marked.read_at  # marking twice keeps the first time
    assert [n.message for n in notifications.list_notifications(db, will, unread_only=True)] == ["second"]
    assert len(notifications.list_notifications(db, will, limit=1)) == 1

    with pytest.raises(NotFound):
        notifications.mark_read(db, will, theirs.id)  # somebody else's: as if it did not exist
    with pytest.raises(NotFound):
        notifications.mark_read(db, will, uuid.uuid4())
    assert notifications.list_notifications(db, olga, unread_only=True)[0].read_at is None


def test_read_tokens_read_but_do_not_mark_and_externals_have_no_inbox(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    with db.write() as s:
        note = notifications.notify(s, will.user_id, None, "info", "hello")
    reader = replace(will, scope=Scope.READ)
    assert len(notifications.list_notifications(db, reader)) == 1
    with pytest.raises(Forbidden):
        notifications.mark_read(db, reader, note.id)
    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, actor, PartyCreate(name="Chloe Customer"))
    customer = principal(db, actor, "chloe@example.org", Role.CUSTOMER, party_id=party.id)
    with pytest.raises(Forbidden):
        notifications.list_notifications(db, customer)


def test_team_supervisors_are_active_supervisors_of_the_team_else_administrators(db: Database, actor: Principal) -> None:
    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud", "kyc"])
    sam = principal(db, actor, "sam@example.org", Role.SUPERVISOR, teams=["fraud"])
    principal(db, actor, "will@example.org", Role.CASE_WORKER, teams=["fraud"])
    principal(db, actor, "kim@example.org", Role.SUPERVISOR, teams=["support"])
    ada = principal(db, actor, "ada@example.org", Role.ADMINISTRATOR)
    accounts.update_account(db, actor, sam.user_id, accounts.AccountUpdate(is_active=False))
    with db.write() as s:
        sent = notifications.notify_team_supervisors(s, "fraud", None, "sla.breach", "breached")
        assert [n.user_id for n in sent] == [sue.user_id]  # not the disabled supervisor, not the worker
        fallback = notifications.notify_team_supervisors(s, "nobody-here", None, "sla.breach", "breached")
        assert [n.user_id for n in fallback] == [ada.user_id]  # never the built-in system account
        assert [n.user_id for n in notifications.notify_team_supervisors(s, None, None, "x", "y")] == [ada.user_id]


def test_events_are_written_with_the_change_and_only_administrators_read_them(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    with db.write() as s:
        first = notifications.emit(s, "case.sla_warning", case.id, {"case_id": case.id, "due_at": T0, "n": 1})
        second = notifications.emit(s, "case.sla_breached", case.id, {"n": 2})
    assert second.id > first.id
    with pytest.raises(RuntimeError), db.write() as s:
        notifications.emit(s, "case.lost", case.id, {"n": 3})
        raise RuntimeError("the change fails: its event must not be published")

    events = notifications.list_events(db, actor)
    assert [(e.topic, e.payload["n"]) for e in events] == [("case.sla_warning", 1), ("case.sla_breached", 2)]
    assert events[0].payload["case_id"] == str(case.id)
    assert events[0].payload["due_at"].startswith("2026-03-02T09:00:00")
    assert [e.id for e in notifications.list_events(db, actor, after=first.id)] == [second.id]
    assert len(notifications.list_events(db, actor, limit=1)) == 1

    assert notifications.mark_dispatched(db, actor, first.id) == 1
    assert [e.id for e in notifications.list_events(db, actor, pending_only=True)] == [second.id]
    assert notifications.mark_dispatched(db, actor, first.id) == 0

    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    auditor = principal(db, actor, "audrey@example.org", Role.AUDITOR)
    for who in (sue, auditor):
        with pytest.raises(Forbidden):
            notifications.list_events(db, who)
    with pytest.raises(Forbidden):
        notifications.mark_dispatched(db, replace(actor, scope=Scope.READ), second.id)
    assert len(notifications.list_events(db, replace(actor, scope=Scope.READ))) == 2  # an integration's read token


def test_notifications_of_a_case_name_it(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    case = new_case(db, actor, team="fraud")
    with db.write() as s:
        loaded = s.get(Case, case.id)
        assert loaded is not None
        notifications.notify(s, will.user_id, loaded.id, "sla.warning", f"{loaded.reference} is due soon")
    (only,) = [n for n in notifications.list_notifications(db, will) if n.kind == "sla.warning"]
    assert only.case_id == case.id and only.case_reference == case.reference and case.reference in only.message
