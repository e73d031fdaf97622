"""Parties, plans (goals and tasks), notes and communications: each change audited on its case."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import BaseModel, ValidationError

from casework.domain.access import Principal
from casework.domain.errors import InvalidInput, NotFound, PreconditionFailed, StaleVersion
from casework.services import cases, history, notes, parties, plans
from casework.services.schemas import (
    CasePartyLink,
    Channel,
    CommunicationCreate,
    Direction,
    GoalCreate,
    GoalStatus,
    GoalUpdate,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyKind,
    PartyRole,
    PartyUpdate,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
)
from casework.store.unit_of_work import Database
from tests.factories import audit_count, make_account, new_case

INTAKE = ("decision.made", "case.assign")  # the routing and screening decisions taken at intake

# ------------------------------------------------------------------ parties


def test_party_create_get_list_and_update(db: Database, actor: Principal) -> None:
    person = parties.create_party(
        db, actor, PartyCreate(name="Grace Hopper", email="grace@example.org", date_of_birth=dt.date(1906, 12, 9))
    )
    org = parties.create_party(db, actor, PartyCreate(kind=PartyKind.ORGANISATION, name="Acme Ltd", registration_number="12345"))
    assert parties.get_party(db, actor, person.id) == person
    assert [p.name for p in parties.list_parties(db, actor)] == ["Acme Ltd", "Grace Hopper"]
    assert [p.id for p in parties.list_parties(db, actor, name="hopp")] == [person.id]
    assert org.kind is PartyKind.ORGANISATION

    updated = parties.update_party(db, actor, person.id, PartyUpdate(phone="+44 20 7946 0000", version=1))
    assert (updated.phone, updated.version) == ("+44 20 7946 0000", 2)
    with pytest.raises(StaleVersion):
        parties.update_party(db, actor, person.id, PartyUpdate(phone="0", version=1))
    with pytest.raises(PreconditionFailed):
        parties.update_party(db, actor, person.id, PartyUpdate(phone="0"), if_match=1)
    with pytest.raises(InvalidInput) as info:
        parties.update_party(db, actor, person.id, PartyUpdate(phone="0"))
    assert info.value.field == "version"
    with pytest.raises(InvalidInput) as info:
        parties.update_party(db, actor, person.id, PartyUpdate(name=None, version=2))
    assert info.value.field == "name"
    with pytest.raises(NotFound) as info:
        parties.get_party(db, actor, uuid.uuid4())
    assert info.value.field == "party_id"


def test_link_and_unlink_party_roles(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    witness = parties.create_party(db, actor, PartyCreate(name="Walter Witness"))
    link = parties.link_party(db, actor, case.id, CasePartyLink(party_id=witness.id, role=PartyRole.WITNESS))
    also = parties.link_party(db, actor, case.reference, CasePartyLink(party_id=witness.id, role=PartyRole.EXPERT))
    assert (link.role, link.party.id) == (PartyRole.WITNESS, witness.id)
    assert [(p.id, p.role) for p in parties.case_parties(db, actor, case.id)] == [(link.id, PartyRole.WITNESS), (also.id, PartyRole.EXPERT)]

    with pytest.raises(InvalidInput) as info:
        parties.link_party(db, actor, case.id, CasePartyLink(party_id=witness.id, role=PartyRole.WITNESS))
    assert info.value.field == "role"
    with pytest.raises(NotFound) as info:
        parties.link_party(db, actor, case.id, CasePartyLink(party_id=uuid.uuid4(), role=PartyRole.WITNESS))
    assert info.value.field == "party_id"

    parties.unlink_party(db, actor, case.id, link.id)
    assert [p.id for p in parties.case_parties(db, actor, case.id)] == [also.id]
    with pytest.raises(NotFound) as info:
        parties.unlink_party(db, actor, case.id, link.id)
    assert info.value.field == "link_id"

    entries = [e for e in history.case_history(db, actor, case.id) if e.action not in INTAKE]
    assert [e.action for e in entries] == ["case.create", "case.party.add", "case.party.add", "case.party.remove"]
    assert entries[-1].data == {"party_id": str(witness.id), "role": "witness", "link_id": str(link.id)}


def test_unlink_refuses_a_link_from_another_case(db: Database, actor: Principal) -> None:
    one, other = new_case(db, actor), new_case(db, actor)
    party = parties.create_party(db, actor, PartyCreate(name="Pat"))
    link = parties.link_party(db, actor, one.id, CasePartyLink(party_id=party.id, role=PartyRole.OTHER))
    with pytest.raises(NotFound):
        parties.unlink_party(db, actor, other.id, link.id)
    assert len(parties.case_parties(db, actor, one.id)) == 1


def test_the_customer_role_stays_while_the_party_is_the_case_customer(db: Database, actor: Principal) -> None:
    customer = parties.create_party(db, actor, PartyCreate(name="Cara Customer"))
    case = new_case(db, actor, customer_party_id=customer.id)
    (link,) = parties.case_parties(db, actor, case.id)
    with pytest.raises(InvalidInput) as info:
        parties.unlink_party(db, actor, case.id, link.id)
    assert info.value.field == "link_id"


# ------------------------------------------------------------------ plans


def test_goals_and_tasks(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    worker = make_account(db, actor, "tess@example.org")
    goal = plans.add_goal(db, actor, case.id, GoalCreate(title="Refund the customer", description="in full"))
    task = plans.add_task(
        db, actor, case.id, goal.id, TaskCreate(title="Issue refund", assignee_id=worker.id, due_date=dt.date(2026, 5, 1))
    )
    assert (task.status, task.completed_at, task.version) == (TaskStatus.TODO, None, 1)

    done = plans.update_task(db, actor, case.id, task.id, TaskUpdate(status=TaskStatus.DONE, version=1))
    assert done.status is TaskStatus.DONE
    assert done.completed_at is not None
    assert done.version == 2
    reopened = plans.update_task(db, actor, case.id, task.id, TaskUpdate(status=TaskStatus.IN_PROGRESS))
    assert reopened.completed_at is None

    achieved = plans.update_goal(db, actor, case.id, goal.id, GoalUpdate(status=GoalStatus.ACHIEVED, version=1))
    assert achieved.status is GoalStatus.ACHIEVED
    assert [t.id for t in achieved.tasks] == [task.id]

    (plan,) = plans.get_plan(db, actor, case.reference)
    assert (plan.id, plan.title, plan.status) == (goal.id, "Refund the customer", GoalStatus.ACHIEVED)
    assert [(t.title, t.status) for t in plan.tasks] == [("Issue refund", TaskStatus.IN_PROGRESS)]

    entries = [e for e in history.case_history(db, actor, case.id) if e.action not in INTAKE]
    assert [e.action for e in entries] == [
        "case.create", "plan.goal.add", "plan.task.add", "plan.task.update", "plan.task.update", "plan.goal.update",
    ]  # fmt: skip
    assert entries[3].data["changes"] == {"status": {"before": "todo", "after": "done"}}


def test_plan_changes_without_effect_are_not_audited(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    goal = plans.add_goal(db, actor, case.id, GoalCreate(title="Goal"))
    task = plans.add_task(db, actor, case.id, goal.id, TaskCreate(title="Task"))
    before = audit_count(db, case.id)
    plans.update_goal(db, actor, case.id, goal.id, GoalUpdate(title="Goal"))
    plans.update_task(db, actor, case.id, task.id, TaskUpdate(status=TaskStatus.TODO))
    assert audit_count(db, case.id) == before


def test_plan_items_belong_to_their_case(db: Database, actor: Principal) -> None:
    case, other = new_case(db, actor), new_case(db, actor)
    goal = plans.add_goal(db, actor, case.id, GoalCreate(title="Goal"))
    task = plans.add_task(db, actor, case.id, goal.id, TaskCreate(title="Task"))
    with pytest.raises(NotFound) as info:
        plans.add_task(db, actor, other.id, goal.id, TaskCreate(title="Smuggled"))
    assert info.value.field == "goal_id"
    with pytest.raises(NotFound) as info:
        plans.update_task(db, actor, other.id, task.id, TaskUpdate(title="Hijacked"))
    assert info.value.field == "task_id"
    with pytest.raises(NotFound):
        plans.update_goal(db, actor, other.id, goal.id, GoalUpdate(title="Hijacked"))
    with pytest.raises(NotFound) as info:
        plans.add_task(db, actor, case.id, goal.id, TaskCreate(title="For a ghost", assignee_id=uuid.uuid4()))
    assert info.value.field == "assignee_id"
    with pytest.raises(StaleVersion):
        plans.update_task(db, actor, case.id, task.id, TaskUpdate(title="Late", version=9))
    assert plans.get_plan(db, actor, other.id) == []


@pytest.mark.parametrize(
    ("model", "field"),
    [(GoalUpdate, "title"), (GoalUpdate, "description"), (GoalUpdate, "status"), (TaskUpdate, "title"), (TaskUpdate, "status")],
)
def test_plan_updates_refuse_null_for_required_fields(model: type[BaseModel], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate({field: None})
    assert info.value.errors()[0]["loc"] == (field,)


# ------------------------------------------------------------------ notes and communications


def test_notes_are_listed_audited_and_leave_the_case_version_alone(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    first = notes.add_note(db, actor, case.id, NoteCreate(body="  Spoke to the customer  "))
    second = notes.add_note(db, actor, case.reference, NoteCreate(body="Shared update", visibility=NoteVisibility.SHARED))
    assert first.body == "Spoke to the customer"
    assert (first.author_id, first.case_id) == (actor.user_id, case.id)
    assert [n.id for n in notes.list_notes(db, actor, case.id)] == [first.id, second.id]
    assert [n.visibility for n in notes.list_notes(db, actor, case.id)] == [NoteVisibility.INTERNAL, NoteVisibility.SHARED]
    entry = history.case_history(db, actor, case.id)[-1]
    assert entry.action == "note.add"
    assert entry.data == {"note_id": str(second.id), "visibility": "shared", "body": "Shared update"}
    assert cases.get_case(db, actor, case.id).version == 1


def test_communications(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    party = parties.create_party(db, actor, PartyCreate(name="Cleo"))
    later = notes.add_communication(
        db,
        actor,
        case.id,
        CommunicationCreate(
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            subject="Your refund",
            party_id=party.id,
            occurred_at=dt.datetime(2026, 5, 2, 10, 0, tzinfo=dt.UTC),
        ),
    )
    earlier = notes.add_communication(
        db,
        actor,
        case.id,
        CommunicationCreate(
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            body="Customer called",
            occurred_at=dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC),
        ),
    )
    listed = notes.list_communications(db, actor, case.id)
    assert [c.id for c in listed] == [earlier.id, later.id]  # by time of occurrence
    assert listed[1].party_id == party.id
    assert listed[1].recorded_by == actor.user_id
    entry = history.case_history(db, actor, case.id)[-2]
    assert entry.action == "communication.add"
    assert entry.data == {"communication_id": str(later.id), "channel": "email", "direction": "outbound", "subject": "Your refund"}
    with pytest.raises(NotFound) as info:
        notes.add_communication(db, actor, case.id, CommunicationCreate(channel="sms", direction="inbound", party_id=uuid.uuid4()))
    assert info.value.field == "party_id"


def test_communication_time_defaults_to_now_and_is_bounded(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    made = notes.add_communication(db, actor, case.id, CommunicationCreate(channel="chat", direction="inbound"))
    assert abs((made.occurred_at - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    with pytest.raises(ValidationError):
        # In range as written, but past 2200-12-31 once converted to UTC.
        CommunicationCreate(channel="chat", direction="inbound", occurred_at="2200-12-31T23:00:00-05:00")
    with pytest.raises(ValidationError):
        CommunicationCreate.model_validate({"channel": "chat", "direction": "inbound", "occurred_at": 1767225600})


def test_notes_on_unknown_cases_are_refused(db: Database, actor: Principal) -> None:
    with pytest.raises(NotFound):
        notes.add_note(db, actor, "CASE-2026-424242", NoteCreate(body="lost"))
    with pytest.raises(NotFound):
        plans.add_goal(db, actor, uuid.uuid4(), GoalCreate(title="lost"))
    assert audit_count(db) == 1
