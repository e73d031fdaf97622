"""Saved work-queue filters (per user, unique names, at most 50, audited) and the dashboard's queue query."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from casework.domain.access import Principal, Role
from casework.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from casework.services import dashboard, parties, saved_filters
from casework.services.dashboard import QueueView, sla_state
from casework.services.saved_filters import SavedFilterCreate
from casework.services.schemas import CaseFilter, PartyCreate
from casework.services.sla import SlaPolicy
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database
from tests.factories import new_case, opened_under, principal


def create(db: Database, who: Principal, name: str, **params: str) -> saved_filters.SavedFilterView:
    return saved_filters.create_saved_filter(db, who, SavedFilterCreate(name=name, params=params))


def test_create_list_and_delete_are_audited(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    made = create(db, will, "  Urgent  ", priority="P1", view="team", q=" refund ", phase="")
    assert made.name == "Urgent"
    assert made.params == {"view": "team", "priority": "P1", "q": "refund"}  # blanks dropped, stable order
    create(db, will, "Another", status="any")
    assert [f.name for f in saved_filters.list_saved_filters(db, will)] == ["Another", "Urgent"]
    saved_filters.delete_saved_filter(db, will, made.id)
    assert [f.name for f in saved_filters.list_saved_filters(db, will)] == ["Another"]
    with db.read() as s:
        entries = s.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.data).where(AuditEntry.action.like("saved_filter.%"))
        ).all()
    assert [(a, who) for a, who, _ in entries] == [("saved_filter.create", will.user_id)] * 2 + [("saved_filter.delete", will.user_id)]
    assert entries[0][2]["name"] == "Urgent"


def test_names_are_unique_per_user_and_limited(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["fraud"])
    create(db, will, "Mine")
    with pytest.raises(DomainError) as dup:
        create(db, will, "Mine", priority="P2")
    assert dup.value.status == 409 and dup.value.field == "name"
    create(db, olga, "Mine")  # someone else may use the same name
    with pytest.raises(ValidationError):
        SavedFilterCreate(name="x" * 101, params={})
    with pytest.raises(ValidationError):
        SavedFilterCreate(name=" ", params={})
    SavedFilterCreate(name="x" * 100, params={})


def test_at_most_fifty_per_user(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    for i in range(saved_filters.MAX_PER_USER):
        create(db, will, f"Filter {i:02}")
    with pytest.raises(DomainError) as full:
        create(db, will, "One too many")
    assert full.value.status == 409 and "50" in full.value.message
    assert len(saved_filters.list_saved_filters(db, will)) == 50


@pytest.mark.parametrize(
    "params",
    [{"bogus": "1"}, {"view": "everything"}, {"status": "pending"}, {"created_from": "tomorrow"}, {"priority": "P9"}, {"q": "x" * 201}],
)
def test_parameters_must_make_a_valid_list(params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SavedFilterCreate(name="Bad", params=params)


def test_only_the_owner_deletes_and_customers_have_none(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["fraud"])
    mine = create(db, will, "Mine")
    with pytest.raises(NotFound):
        saved_filters.delete_saved_filter(db, olga, mine.id)
    with pytest.raises(NotFound):
        saved_filters.delete_saved_filter(db, will, uuid.uuid4())
    with pytest.raises(InvalidInput):
        saved_filters.delete_saved_filter(db, will, "nope")
    assert [f.name for f in saved_filters.list_saved_filters(db, will)] == ["Mine"]
    party = parties.create_party(db, actor, PartyCreate(name="Claire"))
    customer = principal(db, actor, "claire@example.org", Role.CUSTOMER, party_id=party.id)
    with pytest.raises(Forbidden):
        saved_filters.list_saved_filters(db, customer)
    with pytest.raises(Forbidden):
        create(db, customer, "Mine")


# ---------------------------------------------------------------- the dashboard's queue


def test_sla_state_follows_the_policys_warning_time() -> None:
    now = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    assert sla_state(None, None, False, now) == "none"
    assert sla_state(now + 5 * hour, now + hour, False, now) == "on_time"
    assert sla_state(now + 5 * hour, now - hour, False, now) == "at_risk"
    assert sla_state(now - hour, now - 2 * hour, False, now) == "breached"
    assert sla_state(now + hour, now - hour, True, now) == "breached"  # recorded by the scanner


def test_queue_orders_by_priority_then_deadline_with_names_and_versions(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"], name="Will Worker")
    party = parties.create_party(db, actor, PartyCreate(name="Claire Martin"))
    policy = SlaPolicy(resolution_hours={"P2": 10, "P3": 10})
    mine = {"team": "fraud", "assignee_id": will.user_id}
    late = opened_under(db, actor, policy, hours_ago=20, priority="P3", title="Late P3", **mine)
    soon = opened_under(db, actor, policy, hours_ago=9, priority="P2", title="Soon P2", customer_party_id=party.id, **mine)
    fresh = opened_under(db, actor, policy, hours_ago=1, priority="P2", title="Fresh P2", **mine)
    team_case = new_case(db, actor, title="Team only", priority="P1", team="fraud")
    other = new_case(db, actor, title="Other team", priority="P1", team="kyc")

    page = dashboard.dashboard_queue(db, will, CaseFilter(status="open"))
    assert [r.title for r in page.rows] == ["Soon P2", "Fresh P2", "Late P3"]
    first = page.rows[0]
    assert (first.customer_name, first.assignee_name, first.sla, first.version) == ("Claire Martin", "Will Worker", "at_risk", soon.version)
    assert [r.sla for r in page.rows] == ["at_risk", "on_time", "breached"]
    team = dashboard.dashboard_queue(db, will, CaseFilter(), view=QueueView.TEAM)
    assert [r.id for r in team.rows] == [team_case.id, soon.id, fresh.id, late.id]
    assert other.id not in {r.id for r in dashboard.dashboard_queue(db, will, CaseFilter(), view=QueueView.ALL).rows}
    assert {r.id for r in dashboard.dashboard_queue(db, actor, CaseFilter(), view=QueueView.ALL).rows} >= {other.id, late.id}

    paged = dashboard.dashboard_queue(db, will, CaseFilter(), view=QueueView.TEAM, page=2, limit=3)
    assert (paged.total, paged.pages, [r.id for r in paged.rows]) == (4, 2, [late.id])
    narrowed = dashboard.dashboard_queue(db, will, CaseFilter(q="fresh"), view=QueueView.TEAM)
    assert [r.id for r in narrowed.rows] == [fresh.id]
    assert fresh.reference


def test_colleagues_are_active_staff_of_the_callers_teams(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"], name="Will")
    principal(db, actor, "fay@example.org", teams=["fraud"], name="Fay")
    principal(db, actor, "kim@example.org", teams=["kyc"], name="Kim")
    principal(db, actor, "aud@example.org", Role.AUDITOR, name="Aud")
    assert [c.name for c in dashboard.colleagues(db, will)] == ["Fay", "Will"]
    everyone = [c.name for c in dashboard.colleagues(db, actor)]
    assert {"Fay", "Kim", "Will"} <= set(everyone) and "Aud" not in everyone and "System" not in everyone
    assert dashboard.team_names(db, will) == ["fraud"]
    assert {"fraud", "kyc"} <= set(dashboard.team_names(db, actor))
