"""Authorization at the service layer: who sees which cases, who may change what, and the access audit.

One small world per test: two teams' staff, an auditor, two customers and a third party,
and four cases (fraud, kyc, a kyc case assigned to the fraud worker, one with no team).
The rule under test throughout: a case the principal may not see is NotFound, exactly like
a missing one; a visible case with a forbidden action is Forbidden.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from casework.domain.access import Principal, Role, Scope
from casework.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from casework.domain.lifecycle import Phase
from casework.services import accounts, cases, history, lifecycle, notes, parties, plans, sharing
from casework.services.schemas import (
    AssignRequest,
    CaseFilter,
    CasePartyLink,
    CaseUpdate,
    CaseView,
    CommunicationCreate,
    GoalCreate,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyRole,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
    TransitionRequest,
)
from casework.store.models import AuditEntry, CaseShare
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from tests.factories import CASE_DATA, audit_count, new_case, principal

CLIENT = "203.0.113.7"


@dataclass
class World:
    admin: Principal  # the system account
    fraud_worker: Principal
    kyc_worker: Principal
    supervisor: Principal  # of team fraud
    auditor: Principal
    customer: Principal  # speaks for Cora, the customer of the fraud case
    other_customer: Principal  # speaks for Olga, the customer of the kyc case
    third: Principal  # an outside investigator, nothing shared yet
    fraud: CaseView
    kyc: CaseView
    assigned: CaseView  # a kyc case assigned to the fraud worker
    orphan: CaseView  # no team, no customer, no assignee

    @property
    def cases(self) -> dict[str, CaseView]:
        return {"fraud": self.fraud, "kyc": self.kyc, "assigned": self.assigned, "orphan": self.orphan}

    def name_of(self, case_id: uuid.UUID) -> str:
        return next(name for name, c in self.cases.items() if c.id == case_id)


@pytest.fixture
def world(db: Database, actor: Principal) -> World:
    cora = parties.create_party(db, actor, PartyCreate(name="Cora Customer"))
    olga = parties.create_party(db, actor, PartyCreate(name="Olga Other"))
    fraud_worker = principal(db, actor, "fred@bank.example", teams=["fraud"])
    kyc_worker = principal(db, actor, "kim@bank.example", teams=["kyc"])
    made = {
        "fraud": new_case(db, actor, title="Account takeover by phishing", team="fraud", customer_party_id=cora.id,
                          risk_score=80, custom_data={"amount_claimed": 900.0}),
        "kyc": new_case(db, actor, title="Account passport check", team="kyc", customer_party_id=olga.id),
        "assigned": new_case(db, actor, title="Account address proof", team="kyc", assignee_id=fraud_worker.user_id),
        "orphan": new_case(db, actor, title="Account closure request"),
    }  # fmt: skip
    return World(
        admin=actor,
        fraud_worker=fraud_worker,
        kyc_worker=kyc_worker,
        supervisor=principal(db, actor, "sue@bank.example", Role.SUPERVISOR, teams=["fraud"]),
        auditor=principal(db, actor, "audrey@bank.example", Role.AUDITOR),
        customer=principal(db, actor, "cora@mail.example", Role.CUSTOMER, party_id=cora.id),
        other_customer=principal(db, actor, "olga@mail.example", Role.CUSTOMER, party_id=olga.id),
        third=principal(db, actor, "ivy@investigators.example", Role.THIRD_PARTY),
        **made,
    )


def _ids(views: list[CaseView]) -> set[uuid.UUID]:
    return {v.id for v in views}


def refused(db: Database, error: type[DomainError], call: Callable[..., Any], *args: Any, **kwargs: Any) -> DomainError:
    """``call(*args, **kwargs)`` must raise exactly ``error`` (not a subclass or a sibling) and write nothing at all."""
    before = audit_count(db)
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    assert audit_count(db) == before
    return info.value


def _share(db: Database, who: Principal, case: CaseView, third: Principal, *parts: str, **extra: Any) -> sharing.ShareView:
    cmd = sharing.ShareCreate(user_id=third.user_id, parts=[sharing.SharePart(p) for p in parts], **extra)
    return sharing.share_case(db, who, case.id, cmd)


# ------------------------------------------------------------------ visibility


VISIBLE = {
    "admin": {"fraud", "kyc", "assigned", "orphan"},
    "auditor": {"fraud", "kyc", "assigned", "orphan"},
    "supervisor": {"fraud"},
    "fraud_worker": {"fraud", "assigned"},
    "kyc_worker": {"kyc", "assigned"},
    "customer": {"fraud"},
    "other_customer": {"kyc"},
    "third": set(),
}


def test_list_count_search_and_get_agree_on_what_each_principal_sees(db: Database, world: World) -> None:
    for who_name, expected in VISIBLE.items():
        who: Principal = getattr(world, who_name)
        listed = {world.name_of(c) for c in _ids(cases.list_cases(db, who, CaseFilter(), limit=500).items)}
        assert listed == expected, who_name
        assert cases.count_cases(db, who, CaseFilter()) == len(expected), who_name
        assert {world.name_of(c) for c in _ids(cases.search_cases(db, who, "account"))} == expected, who_name
        assert {world.name_of(c) for c in _ids(cases.list_cases(db, who, CaseFilter(q="account")).items)} == expected, who_name
        assert cases.count_cases(db, who, CaseFilter(q="account")) == len(expected), who_name
        for name, case in world.cases.items():
            for key in (case.id, str(case.id), case.reference):
                if name in expected:
                    assert cases.get_case(db, who, key).id == case.id
                else:
                    err = refused(db, NotFound, cases.get_case, db, who, key)
                    assert err.field == "case_id"


def test_an_invisible_case_looks_exactly_like_a_missing_one(db: Database, world: World) -> None:
    hidden = refused(db, NotFound, cases.get_case, db, world.customer, world.kyc.reference)
    missing = refused(db, NotFound, cases.get_case, db, world.customer, "CASE-2026-999999")
    assert (hidden.status, hidden.field, hidden.extra) == (missing.status, missing.field, missing.extra) == (404, "case_id", {})
    assert hidden.message == f"case {world.kyc.reference} not found"
    hidden = refused(db, NotFound, cases.get_case, db, world.customer, world.kyc.id)
    assert hidden.message == f"case {world.kyc.id} not found"


def test_filters_cannot_widen_what_a_principal_sees(db: Database, world: World) -> None:
    fred = world.fraud_worker
    assert _ids(cases.list_cases(db, fred, CaseFilter(team="kyc")).items) == {world.assigned.id}
    assert cases.count_cases(db, fred, CaseFilter(team="kyc")) == 1
    assert cases.list_cases(db, world.customer, CaseFilter(customer_party_id=world.kyc.customer_party_id)).items == []
    assert cases.count_cases(db, world.customer, CaseFilter(customer_party_id=world.kyc.customer_party_id)) == 0
    assert cases.search_cases(db, world.customer, world.kyc.reference) == []
    assert cases.search_cases(db, fred, "passport") == []
    assert _ids(cases.search_cases(db, world.kyc_worker, "passport")) == {world.kyc.id}


def test_a_party_role_other_than_customer_does_not_make_a_case_visible(db: Database, world: World) -> None:
    assert world.customer.party_id is not None
    parties.link_party(db, world.admin, world.kyc.id, CasePartyLink(party_id=world.customer.party_id, role=PartyRole.WITNESS))
    assert _ids(cases.list_cases(db, world.customer, CaseFilter()).items) == {world.fraud.id}
    refused(db, NotFound, cases.get_case, db, world.customer, world.kyc.id)


def test_changes_to_invisible_cases_are_not_found_and_write_nothing(db: Database, world: World) -> None:
    fred, kyc = world.fraud_worker, world.kyc
    refused(db, NotFound, cases.update_case, db, fred, kyc.id, CaseUpdate(title="Mine now", version=1))
    refused(db, NotFound, cases.assign_case, db, fred, kyc.id, AssignRequest(assignee_id=fred.user_id, team="fraud"))
    refused(db, NotFound, lifecycle.transition_case, db, fred, kyc.id, TransitionRequest(to_phase=Phase.ASSESSMENT))
    refused(db, NotFound, notes.add_note, db, fred, kyc.reference, NoteCreate(body="peek"))
    refused(db, NotFound, notes.list_notes, db, fred, kyc.id)
    refused(db, NotFound, notes.list_communications, db, fred, kyc.id)
    refused(db, NotFound, history.case_history, db, fred, kyc.id)
    refused(db, NotFound, lifecycle.phase_history, db, fred, kyc.id)
    refused(db, NotFound, plans.add_goal, db, fred, kyc.id, GoalCreate(title="x"))
    refused(db, NotFound, plans.get_plan, db, fred, kyc.id)
    refused(db, NotFound, parties.case_parties, db, fred, kyc.id)
    refused(db, NotFound, _share, db, fred, kyc, world.third, "tasks")
    assert cases.get_case(db, world.admin, kyc.id) == kyc


def test_a_worker_who_moves_a_case_out_of_their_teams_loses_it(db: Database, world: World) -> None:
    fred = world.fraud_worker
    moved = cases.assign_case(db, fred, world.fraud.id, AssignRequest(assignee_id=None, team="kyc", version=1))
    assert moved.team == "kyc"
    refused(db, NotFound, cases.get_case, db, fred, world.fraud.id)
    assert cases.get_case(db, world.kyc_worker, world.fraud.id).version == 2


def test_a_new_case_lands_in_the_principals_first_team(db: Database, world: World) -> None:
    both = principal(db, world.admin, "zoe@bank.example", teams=["zeta", "alpha"])
    assert new_case(db, both).team == "alpha"
    assert new_case(db, both, team="zeta").team == "zeta"
    assert new_case(db, world.admin).team == "complaints"  # no teams, no default: the type's routing table decides
    assert {c.team for c in cases.list_cases(db, both, CaseFilter()).items} == {"alpha", "zeta"}


# ------------------------------------------------------------------ staff roles


def test_supervisors_also_read_the_audit_trail_workers_do_not(db: Database, world: World) -> None:
    sue, fred = world.supervisor, world.fraud_worker
    assert history.verify_audit(db, sue).ok
    assert history.access_log(db, sue, case_key=world.fraud.id) == []
    refused(db, NotFound, history.access_log, db, sue, case_key=world.kyc.id)  # outside her teams
    refused(db, Forbidden, history.verify_audit, db, fred)
    refused(db, Forbidden, history.access_log, db, fred, case_key=world.fraud.id)
    # Both manage their team's cases.
    for who in (sue, fred):
        assert cases.get_case(db, who, world.fraud.id).allowed_transitions == [Phase.ASSESSMENT, Phase.CLOSED]
        notes.add_note(db, who, world.fraud.id, NoteCreate(body=f"note by {who.role.value}"))
    assert len(notes.list_notes(db, sue, world.fraud.id)) == 2


def test_auditors_see_everything_and_change_nothing(db: Database, world: World) -> None:
    audrey, kyc = world.auditor, world.kyc
    view = cases.get_case(db, audrey, world.fraud.id)
    assert (view.risk_score, view.custom_data, view.team) == (
        80,
        {**CASE_DATA["complaint"], "amount_claimed": 900.0},
        "fraud",
    )  # nothing redacted
    assert view.allowed_transitions == []  # they may not move it
    notes.add_note(db, world.admin, kyc.id, NoteCreate(body="internal remark"))
    assert [n.body for n in notes.list_notes(db, audrey, kyc.id)] == ["internal remark"]
    assert [e.action for e in history.case_history(db, audrey, kyc.id)] == ["case.create", "decision.made", "note.add"]
    assert history.verify_audit(db, audrey).ok

    goal = plans.add_goal(db, world.admin, kyc.id, GoalCreate(title="Verify"))
    task = plans.add_task(db, world.admin, kyc.id, goal.id, TaskCreate(title="Check passport"))
    party = kyc.customer_party_id
    assert party is not None
    refused(db, Forbidden, new_case, db, audrey)
    refused(db, Forbidden, cases.update_case, db, audrey, kyc.id, CaseUpdate(title="x", version=1))
    refused(db, Forbidden, cases.assign_case, db, audrey, kyc.id, AssignRequest(assignee_id=audrey.user_id))
    refused(db, Forbidden, lifecycle.transition_case, db, audrey, kyc.id, TransitionRequest(to_phase=Phase.ASSESSMENT))
    refused(db, Forbidden, notes.add_note, db, audrey, kyc.id, NoteCreate(body="x", visibility=NoteVisibility.SHARED))
    refused(db, Forbidden, notes.add_communication, db, audrey, kyc.id, CommunicationCreate(channel="sms", direction="inbound"))
    refused(db, Forbidden, plans.add_goal, db, audrey, kyc.id, GoalCreate(title="x"))
    refused(db, Forbidden, plans.update_task, db, audrey, kyc.id, task.id, TaskUpdate(status=TaskStatus.DONE))
    refused(db, Forbidden, parties.create_party, db, audrey, PartyCreate(name="x"))
    refused(db, Forbidden, parties.link_party, db, audrey, kyc.id, CasePartyLink(party_id=party, role=PartyRole.OTHER))
    refused(db, Forbidden, _share, db, audrey, kyc, world.third, "tasks")
    refused(db, Forbidden, accounts.create_account, db, audrey, accounts.AccountCreate(name="x", email="x@bank.example"))


def test_a_read_scoped_principal_reads_but_never_writes(db: Database, world: World) -> None:
    for base in (world.fraud_worker, world.admin):
        ro = Principal(user_id=base.user_id, role=base.role, teams=base.teams, party_id=base.party_id, scope=Scope.READ)
        view = cases.get_case(db, ro, world.fraud.id)
        assert view.allowed_transitions == []
        assert cases.count_cases(db, ro, CaseFilter()) == cases.count_cases(db, base, CaseFilter())
        assert notes.list_notes(db, ro, world.fraud.id) == []
        refused(db, Forbidden, new_case, db, ro)
        refused(db, Forbidden, cases.update_case, db, ro, world.fraud.id, CaseUpdate(title="x", version=1))
        refused(db, Forbidden, lifecycle.transition_case, db, ro, world.fraud.id, TransitionRequest(to_phase=Phase.CLOSED))
        refused(db, Forbidden, notes.add_note, db, ro, world.fraud.id, NoteCreate(body="x"))
        refused(db, Forbidden, plans.add_goal, db, ro, world.fraud.id, GoalCreate(title="x"))
        refused(db, Forbidden, _share, db, ro, world.fraud, world.third, "tasks")
    ro_admin = dataclasses.replace(world.admin, scope=Scope.READ)
    refused(db, Forbidden, accounts.create_account, db, ro_admin, accounts.AccountCreate(name="x", email="x@bank.example"))
    assert history.verify_audit(db, ro_admin).ok  # auditing is reading


# ------------------------------------------------------------------ customers


def test_customers_get_the_case_without_the_institutions_assessment(db: Database, world: World) -> None:
    assigned = cases.assign_case(db, world.admin, world.fraud.id, AssignRequest(assignee_id=world.fraud_worker.user_id))
    staff = cases.get_case(db, world.admin, world.fraud.id)
    assert (staff.risk_score, staff.custom_data, staff.assignee_id, staff.team) == (
        80, {**CASE_DATA["complaint"], "amount_claimed": 900.0}, world.fraud_worker.user_id, "fraud"
    )  # fmt: skip
    views = [
        cases.get_case(db, world.customer, world.fraud.reference),
        *cases.list_cases(db, world.customer, CaseFilter()).items,
        *cases.search_cases(db, world.customer, "phishing"),
    ]
    assert len(views) == 3
    for view in views:
        assert (view.risk_score, view.custom_data, view.assignee_id, view.team, view.allowed_transitions) == (None, {}, None, None, [])
        assert (view.id, view.reference, view.title, view.phase, view.version) == (
            staff.id, staff.reference, staff.title, staff.phase, assigned.version
        )  # fmt: skip


def test_customers_never_see_internal_notes_and_add_only_shared_ones(db: Database, world: World) -> None:
    cora, case = world.customer, world.fraud
    internal = notes.add_note(db, world.fraud_worker, case.id, NoteCreate(body="Suspected mule account"))
    shared = notes.add_note(db, world.fraud_worker, case.id, NoteCreate(body="We are looking into it", visibility=NoteVisibility.SHARED))
    assert [n.id for n in notes.list_notes(db, cora, case.id)] == [shared.id]

    reply = notes.add_note(db, cora, case.reference, NoteCreate(body="Thank you", visibility=NoteVisibility.SHARED))
    assert (reply.author_id, reply.visibility) == (cora.user_id, NoteVisibility.SHARED)
    refused(db, Forbidden, notes.add_note, db, cora, case.id, NoteCreate(body="hidden", visibility=NoteVisibility.INTERNAL))
    refused(db, Forbidden, notes.add_note, db, cora, case.id, NoteCreate(body="the default is internal"))
    refused(db, NotFound, notes.add_note, db, cora, world.kyc.id, NoteCreate(body="x", visibility=NoteVisibility.SHARED))
    assert [n.id for n in notes.list_notes(db, cora, case.id)] == [shared.id, reply.id]
    assert [n.id for n in notes.list_notes(db, world.fraud_worker, case.id)] == [internal.id, shared.id, reply.id]


def test_search_does_not_reveal_words_of_internal_notes(db: Database, world: World) -> None:
    cora, case = world.customer, world.fraud
    notes.add_note(db, world.fraud_worker, case.id, NoteCreate(body="Suspected money laundering"))
    notes.add_note(db, world.fraud_worker, case.id, NoteCreate(body="Refund approved", visibility=NoteVisibility.SHARED))
    assert _ids(cases.search_cases(db, world.fraud_worker, "laundering")) == {case.id}
    for q in ("laundering", "launder", "phishing laundering"):
        assert cases.search_cases(db, cora, q) == [], q
        assert cases.list_cases(db, cora, CaseFilter(q=q)).items == [], q
        assert cases.count_cases(db, cora, CaseFilter(q=q)) == 0, q
    for q in ("refund approved", "phish", case.reference, "ACCOUNT takeover"):
        assert _ids(cases.search_cases(db, cora, q)) == {case.id}, q
        assert _ids(cases.list_cases(db, cora, CaseFilter(q=q)).items) == {case.id}, q
        assert cases.count_cases(db, cora, CaseFilter(q=q)) == 1, q


def test_customers_read_but_do_not_manage_their_case(db: Database, world: World) -> None:
    cora, case = world.customer, world.fraud
    notes.add_communication(db, world.admin, case.id, CommunicationCreate(channel="email", direction="outbound", subject="Hello"))
    assert [c.subject for c in notes.list_communications(db, cora, case.id)] == ["Hello"]
    assert [p.to_phase for p in lifecycle.phase_history(db, cora, case.id)] == [Phase.SCREENING]
    refused(db, Forbidden, cases.update_case, db, cora, case.id, CaseUpdate(title="x", version=1))
    refused(db, Forbidden, lifecycle.transition_case, db, cora, case.id, TransitionRequest(to_phase=Phase.CLOSED, outcome="x"))
    refused(db, Forbidden, history.case_history, db, cora, case.id)
    refused(db, Forbidden, parties.case_parties, db, cora, case.id)
    refused(db, Forbidden, new_case, db, cora)
    # A role-level refusal comes before the case is looked up, so it reads the same for any key.
    for key in (world.kyc.id, uuid.uuid4()):
        err = refused(db, Forbidden, cases.update_case, db, cora, key, CaseUpdate(title="x", version=1))
        assert str(key) not in err.message


# ------------------------------------------------------------------ third parties


@pytest.fixture
def tasks(db: Database, world: World) -> dict[str, uuid.UUID]:
    """On the fraud case: a task for the third party, one for the fraud worker, and a goal without theirs."""
    admin, case = world.admin, world.fraud
    goal = plans.add_goal(db, admin, case.id, GoalCreate(title="Trace the funds"))
    other_goal = plans.add_goal(db, admin, case.id, GoalCreate(title="Talk to the customer"))
    return {
        "goal": goal.id,
        "mine": plans.add_task(db, admin, case.id, goal.id, TaskCreate(title="Trace wire", assignee_id=world.third.user_id)).id,
        "theirs": plans.add_task(db, admin, case.id, goal.id, TaskCreate(title="Freeze", assignee_id=world.fraud_worker.user_id)).id,
        "other": plans.add_task(db, admin, case.id, other_goal.id, TaskCreate(title="Call Cora")).id,
    }


def _lost_access(db: Database, world: World, task_id: uuid.UUID) -> None:
    ivy, case = world.third, world.fraud
    assert cases.list_cases(db, ivy, CaseFilter()).items == []
    assert cases.count_cases(db, ivy, CaseFilter()) == 0
    assert cases.search_cases(db, ivy, "account") == []
    refused(db, NotFound, cases.get_case, db, ivy, case.id)
    refused(db, NotFound, plans.get_plan, db, ivy, case.id)
    refused(db, NotFound, plans.update_task, db, ivy, case.id, task_id, TaskUpdate(status=TaskStatus.DONE))


def test_a_third_party_sees_a_shared_case_and_only_their_own_tasks(db: Database, world: World, tasks: dict[str, uuid.UUID]) -> None:
    ivy, case = world.third, world.fraud
    _lost_access(db, world, tasks["mine"])  # nothing before sharing

    share = _share(db, world.fraud_worker, case, ivy, "tasks")
    assert (share.parts, share.active, share.expires_at) == ([sharing.SharePart.TASKS], True, None)
    assert (share.case_id, share.user_id, share.created_by) == (case.id, ivy.user_id, world.fraud_worker.user_id)
    assert _ids(cases.list_cases(db, ivy, CaseFilter()).items) == {case.id}
    assert cases.count_cases(db, ivy, CaseFilter()) == 1
    view = cases.get_case(db, ivy, case.reference)
    assert (view.risk_score, view.custom_data, view.assignee_id, view.team, view.allowed_transitions) == (None, {}, None, None, [])
    refused(db, NotFound, cases.get_case, db, ivy, world.kyc.id)

    (goal,) = plans.get_plan(db, ivy, case.id)  # the goal without any of their tasks is left out
    assert (goal.id, [t.id for t in goal.tasks]) == (tasks["goal"], [tasks["mine"]])
    assert len(plans.get_plan(db, world.admin, case.id)) == 2

    done = plans.update_task(db, ivy, case.id, tasks["mine"], TaskUpdate(status=TaskStatus.DONE, version=1))
    assert (done.status, done.version) == (TaskStatus.DONE, 2)
    refused(db, Forbidden, plans.update_task, db, ivy, case.id, tasks["mine"], TaskUpdate(title="Renamed"))
    refused(db, Forbidden, plans.update_task, db, ivy, case.id, tasks["mine"], TaskUpdate(status=TaskStatus.TODO, assignee_id=None))
    for other in ("theirs", "other"):
        err = refused(db, NotFound, plans.update_task, db, ivy, case.id, tasks[other], TaskUpdate(status=TaskStatus.DONE))
        assert err.field == "task_id"

    # Only tasks are shared: no notes, communications, history, or changes to the case.
    refused(db, Forbidden, notes.list_notes, db, ivy, case.id)
    refused(db, Forbidden, notes.list_communications, db, ivy, case.id)
    refused(db, Forbidden, history.case_history, db, ivy, case.id)
    refused(db, Forbidden, notes.add_note, db, ivy, case.id, NoteCreate(body="x", visibility=NoteVisibility.SHARED))
    refused(db, Forbidden, cases.update_case, db, ivy, case.id, CaseUpdate(title="x", version=1))
    refused(db, Forbidden, plans.add_goal, db, ivy, case.id, GoalCreate(title="x"))
    refused(db, Forbidden, _share, db, ivy, case, ivy, "notes")

    revoked = sharing.revoke_share(db, world.supervisor, case.reference, share.id)
    assert (revoked.active, revoked.revoked_at is not None) == (False, True)
    _lost_access(db, world, tasks["mine"])

    entries = [e for e in history.case_history(db, world.admin, case.id) if e.action.startswith("case.")]
    assert [(e.action, e.actor_id) for e in entries[-2:]] == [
        ("case.share", world.fraud_worker.user_id),
        ("case.unshare", world.supervisor.user_id),
    ]
    assert entries[-2].data == {"share_id": str(share.id), "user_id": str(ivy.user_id), "parts": ["tasks"], "expires_at": None}
    assert entries[-1].data == {"share_id": str(share.id), "user_id": str(ivy.user_id)}
    assert history.verify_audit(db, world.admin).ok


def test_shared_notes_need_the_notes_part(db: Database, world: World, tasks: dict[str, uuid.UUID]) -> None:
    ivy, case = world.third, world.fraud
    notes.add_note(db, world.admin, case.id, NoteCreate(body="Internal: suspected mule"))
    shared = notes.add_note(db, world.admin, case.id, NoteCreate(body="Please trace the wire", visibility=NoteVisibility.SHARED))
    _share(db, world.fraud_worker, case, ivy, "notes")
    assert [n.id for n in notes.list_notes(db, ivy, case.id)] == [shared.id]
    assert plans.get_plan(db, ivy, case.id) == []  # tasks are not shared, not even their own
    refused(db, NotFound, plans.update_task, db, ivy, case.id, tasks["mine"], TaskUpdate(status=TaskStatus.DONE))
    assert cases.search_cases(db, ivy, "mule") == []
    assert _ids(cases.search_cases(db, ivy, "wire")) == {case.id}

    # A second share adds its parts while both last.
    _share(db, world.fraud_worker, case, ivy, "tasks", "documents")
    assert [t.id for g in plans.get_plan(db, ivy, case.id) for t in g.tasks] == [tasks["mine"]]


def test_a_share_ends_when_it_expires(db: Database, world: World, tasks: dict[str, uuid.UUID]) -> None:
    ivy, case = world.third, world.fraud
    until = utcnow() + dt.timedelta(days=7)
    share = _share(db, world.supervisor, case, ivy, "tasks", expires_at=until)
    assert share.expires_at == until
    assert cases.get_case(db, ivy, case.id).id == case.id
    with db.write() as s:  # a week passes
        s.execute(update(CaseShare).where(CaseShare.id == share.id).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    _lost_access(db, world, tasks["mine"])
    (listed,) = sharing.list_shares(db, world.supervisor, case.id)
    assert (listed.id, listed.active, listed.revoked_at) == (share.id, False, None)


def test_sharing_rules(db: Database, world: World) -> None:
    fred, case = world.fraud_worker, world.fraud
    err = refused(db, InvalidInput, sharing.share_case, db, fred, case.id, sharing.ShareCreate(user_id=world.customer.user_id))
    assert err.field == "user_id"  # only with third-party accounts
    refused(db, NotFound, sharing.share_case, db, fred, case.id, sharing.ShareCreate(user_id=uuid.uuid4()))
    past = utcnow() - dt.timedelta(minutes=1)
    err = refused(db, InvalidInput, _share, db, fred, case, world.third, "tasks", expires_at=past)
    assert err.field == "expires_at"
    refused(db, NotFound, _share, db, world.kyc_worker, case, world.third, "tasks")
    for who in (world.customer, world.third, world.auditor):
        refused(db, Forbidden, _share, db, who, case, world.third, "tasks")
        refused(db, Forbidden, sharing.list_shares, db, who, case.id)

    share = sharing.share_case(db, fred, case.id, sharing.ShareCreate(user_id=world.third.user_id))
    assert share.parts == [sharing.SharePart.TASKS]  # the default
    refused(db, NotFound, sharing.revoke_share, db, fred, case.id, uuid.uuid4())
    refused(db, NotFound, sharing.revoke_share, db, fred, world.assigned.id, share.id)  # wrong case
    refused(db, NotFound, sharing.revoke_share, db, world.kyc_worker, case.id, share.id)  # invisible case
    sharing.revoke_share(db, fred, case.id, share.id)
    before = audit_count(db, case.id)
    assert sharing.revoke_share(db, fred, case.id, share.id).active is False
    assert audit_count(db, case.id) == before  # revoking twice is audited once
    assert [s.id for s in sharing.list_shares(db, fred, case.id)] == [share.id]


# ------------------------------------------------------------------ the access audit


def _access_entries(db: Database) -> list[AuditEntry]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action.like("access.%")).order_by(AuditEntry.seq)))


def test_reads_are_audited_with_the_part_and_the_client(db: Database, world: World) -> None:
    cora = world.customer.with_client(CLIENT)
    case = world.fraud
    assert _access_entries(db) == []
    cases.get_case(db, cora, case.reference)
    notes.list_notes(db, cora, case.id)
    notes.list_communications(db, cora, case.id)
    history.case_history(db, world.fraud_worker.with_client("10.1.2.3"), case.id)
    refused(db, NotFound, cases.get_case, db, cora, world.kyc.id)  # a refused read is not an access
    cases.list_cases(db, cora, CaseFilter())  # lists and searches are not case reads
    cases.search_cases(db, cora, "account")

    found = [(e.actor_id, e.case_id, e.action, e.data) for e in _access_entries(db)]
    assert found == [
        (cora.user_id, case.id, "access.case.read", {"part": "case", "client": CLIENT}),
        (cora.user_id, case.id, "access.case.read", {"part": "notes", "client": CLIENT}),
        (cora.user_id, case.id, "access.case.read", {"part": "communications", "client": CLIENT}),
        (world.fraud_worker.user_id, case.id, "access.case.read", {"part": "history", "client": "10.1.2.3"}),
    ]
    assert history.verify_audit(db, world.auditor).ok


def test_auditors_find_who_accessed_a_case_and_what_a_user_accessed(db: Database, world: World) -> None:
    cora = world.customer.with_client(CLIENT)
    cases.get_case(db, cora, world.fraud.id)
    cases.get_case(db, world.kyc_worker, world.kyc.id)
    notes.list_notes(db, cora, world.fraud.id)
    cases.get_case(db, world.fraud_worker, world.fraud.id)
    notes.add_note(db, world.fraud_worker, world.fraud.id, NoteCreate(body="a change, not an access"))

    audrey = world.auditor
    by_case = history.access_log(db, audrey, case_key=world.fraud.reference)
    assert [(e.actor_id, e.data["part"]) for e in by_case] == [  # newest first
        (world.fraud_worker.user_id, "case"),
        (cora.user_id, "notes"),
        (cora.user_id, "case"),
    ]
    assert all(e.case_id == world.fraud.id and e.action == "access.case.read" for e in by_case)
    assert by_case[-1].data == {"part": "case", "client": CLIENT}

    by_user = history.access_log(db, audrey, user_id=cora.user_id)
    assert [(e.case_id, e.data["part"]) for e in by_user] == [(world.fraud.id, "notes"), (world.fraud.id, "case")]
    both = history.access_log(db, audrey, case_key=world.kyc.id, user_id=world.kyc_worker.user_id)
    assert [(e.case_id, e.actor_id) for e in both] == [(world.kyc.id, world.kyc_worker.user_id)]
    assert history.access_log(db, audrey, case_key=world.kyc.id, user_id=cora.user_id) == []
    assert len(history.access_log(db, audrey, limit=2)) == 2
    assert len(history.access_log(db, audrey)) == 4  # everything, with no filter
    refused(db, NotFound, history.access_log, db, audrey, case_key="CASE-2026-999999")

    # Looking at the access log is not itself a case read.
    assert len(history.access_log(db, dataclasses.replace(audrey, scope=Scope.READ), case_key=world.fraud.id)) == 3
    for who in (world.fraud_worker, world.customer, world.third):
        refused(db, Forbidden, history.access_log, db, who, user_id=cora.user_id)
