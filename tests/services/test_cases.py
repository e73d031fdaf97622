"""Case use cases against a real database: open, read, edit with versions, assign."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pytest
from pydantic import ValidationError

from casework.domain.access import Principal, Role
from casework.domain.errors import DomainError, InvalidInput, NotFound, PreconditionFailed, StaleVersion
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import accounts, auth, cases, history, lifecycle, parties, users
from casework.services.schemas import AssignRequest, CaseUpdate, PartyCreate
from casework.store.unit_of_work import Database
from tests.factories import audit_count, make_account, new_case


def test_create_opens_a_case_in_screening(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, title="  Card charged twice  ", description="Two charges on 3 May", priority="P2", risk_score=40)
    assert re.fullmatch(r"CASE-\d{4}-\d{6}", view.reference)
    assert view.title == "Card charged twice"  # trimmed
    assert (view.status, view.phase, view.priority, view.risk_score) == (Status.OPEN, Phase.SCREENING, Priority.P2, 40)
    assert view.version == 1
    assert view.outcome is None and view.closed_at is None
    assert view.allowed_transitions == [Phase.ASSESSMENT, Phase.CLOSED]
    assert view.created_at == view.updated_at

    phases = lifecycle.phase_history(db, actor, view.id)
    assert [(p.seq, p.from_phase, p.to_phase, p.kind) for p in phases] == [(1, None, Phase.SCREENING, "open")]

    entries = history.case_history(db, actor, view.id)
    # Intake is recorded, then the case type's intake decisions: routing (it had no team) and screening.
    assert [e.action for e in entries] == ["case.create", "decision.made", "case.assign", "decision.made"]
    assert [e.data["point"] for e in entries if e.action == "decision.made"] == ["routing", "screening"]
    fields = entries[0].data["fields"]
    assert fields["title"] == "Card charged twice"
    assert fields["reference"] == view.reference
    assert fields["priority"] == "P2"

    # Reads are audited too, and listed only when asked for: both history reads, the first one included.
    reads = history.case_history(db, actor, view.id, include_access=True)
    assert [e.action for e in reads][-2:] == ["access.case.read", "access.case.read"]
    assert len(reads) == len(entries) + 2
    assert all((e.actor_id, e.data) == (actor.user_id, {"part": "history", "client": None}) for e in reads[-2:])


def test_references_increase_per_year(db: Database, actor: Principal) -> None:
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    made = [new_case(db, actor, opened_at=at).reference for _ in range(3)]
    assert made == ["CASE-2026-000001", "CASE-2026-000002", "CASE-2026-000003"]
    assert new_case(db, actor, opened_at=dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC)).reference == "CASE-2025-000001"
    assert new_case(db, actor, opened_at=at).reference == "CASE-2026-000004"


def test_get_by_id_or_reference(db: Database, actor: Principal) -> None:
    view = new_case(db, actor)
    assert cases.get_case(db, actor, view.id) == view
    assert cases.get_case(db, actor, str(view.id)) == view
    assert cases.get_case(db, actor, view.reference) == view


@pytest.mark.parametrize("key", ["CASE-2026-999999", str(uuid.UUID(int=7)), "not-a-key", "CASE-26-1"])
def test_unknown_case_is_not_found(db: Database, actor: Principal, key: str) -> None:
    with pytest.raises(NotFound) as info:
        cases.get_case(db, actor, key)
    assert info.value.status == 404
    assert info.value.field == "case_id"


def test_create_checks_referenced_user_and_party(db: Database, actor: Principal) -> None:
    with pytest.raises(NotFound) as info:
        new_case(db, actor, assignee_id=uuid.uuid4())
    assert info.value.field == "assignee_id"
    with pytest.raises(NotFound) as info:
        new_case(db, actor, customer_party_id=uuid.uuid4())
    assert info.value.field == "customer_party_id"
    assert audit_count(db) == 1  # only the system user's creation: failed commands leave nothing behind


def test_create_with_customer_links_the_customer_role(db: Database, actor: Principal) -> None:
    person = parties.create_party(db, actor, PartyCreate(name="Ada Customer"))
    view = new_case(db, actor, customer_party_id=person.id)
    linked = parties.case_parties(db, actor, view.id)
    assert [(link.role.value, link.party.id) for link in linked] == [("customer", person.id)]


# ------------------------------------------------------------------ updates and versions


def test_update_changes_fields_bumps_version_and_audits_before_and_after(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, priority="P3", due_date="2026-06-01")
    updated = cases.update_case(
        db, actor, view.id, CaseUpdate(title="New title", priority=Priority.P1, due_date=dt.date(2026, 7, 1), risk_score=10, version=1)
    )
    assert (updated.title, updated.priority, updated.due_date, updated.risk_score) == ("New title", Priority.P1, dt.date(2026, 7, 1), 10)
    assert updated.version == 2
    assert updated.updated_at > view.updated_at
    assert cases.get_case(db, actor, view.id) == updated

    last = history.case_history(db, actor, view.id)[-1]
    assert last.action == "case.update"
    assert last.data["changes"] == {
        "title": {"before": "Refund not received", "after": "New title"},
        "priority": {"before": "P3", "after": "P1"},
        "due_date": {"before": "2026-06-01", "after": "2026-07-01"},
        "risk_score": {"before": None, "after": 10},
    }


def test_update_with_nothing_changed_keeps_the_version_and_writes_no_audit(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, priority="P2")
    opened = audit_count(db, view.id)  # the creation and the decisions taken at intake
    same = cases.update_case(db, actor, view.id, CaseUpdate(title=view.title, priority=Priority.P2, version=1))
    assert same.version == 1
    assert audit_count(db, view.id) == opened


def test_update_can_clear_nullable_fields(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, risk_score=50, team="fraud", due_date="2026-01-01")
    cleared = cases.update_case(db, actor, view.id, CaseUpdate(risk_score=None, team=None, due_date=None, version=1))
    assert (cleared.risk_score, cleared.team, cleared.due_date) == (None, None, None)


@pytest.mark.parametrize("field", ["title", "priority", "description", "custom_data"])
def test_update_refuses_null_for_required_fields(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CaseUpdate.model_validate({field: None, "version": 1})
    assert info.value.errors()[0]["loc"] == (field,)


def test_update_requires_a_version(db: Database, actor: Principal) -> None:
    view = new_case(db, actor)
    with pytest.raises(InvalidInput) as info:
        cases.update_case(db, actor, view.id, CaseUpdate(title="x"))
    assert info.value.field == "version"
    assert info.value.status == 422


def test_stale_if_match_is_a_precondition_failure(db: Database, actor: Principal) -> None:
    view = new_case(db, actor)
    cases.update_case(db, actor, view.id, CaseUpdate(title="first", version=1))
    with pytest.raises(PreconditionFailed) as info:
        cases.update_case(db, actor, view.id, CaseUpdate(title="second"), if_match=1)
    assert info.value.status == 412
    assert info.value.extra["current_version"] == 2
    assert cases.update_case(db, actor, view.id, CaseUpdate(title="second"), if_match=2).version == 3


def test_two_updates_from_the_same_version_second_is_stale(db: Database, actor: Principal) -> None:
    view = new_case(db, actor)
    opened = audit_count(db, view.id)
    cases.update_case(db, actor, view.id, CaseUpdate(title="Alice's edit", version=view.version))
    with pytest.raises(StaleVersion) as info:
        cases.update_case(db, actor, view.id, CaseUpdate(title="Bob's edit", version=view.version))
    assert info.value.status == 409
    assert info.value.field == "version"
    assert info.value.extra["current_version"] == 2
    assert audit_count(db, view.id) == opened + 1  # the refused edit wrote nothing
    assert cases.get_case(db, actor, view.id).title == "Alice's edit"
    assert audit_count(db, view.id) == opened + 2  # the read just above is recorded


def test_concurrent_updates_from_the_same_version_exactly_one_wins(db: Database, actor: Principal) -> None:
    """Two writers race with version 1: the row lock (or SQLite's write lock) lets one through."""
    view = new_case(db, actor)
    opened = audit_count(db, view.id)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def edit(name: str) -> None:
        barrier.wait()
        try:
            results[name] = cases.update_case(db, actor, view.id, CaseUpdate(title=f"edit by {name}", version=1)).version
        except DomainError as exc:
            results[name] = exc

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    outcomes = sorted(results.values(), key=lambda r: isinstance(r, Exception))
    assert outcomes[0] == 2
    assert isinstance(outcomes[1], StaleVersion)
    assert audit_count(db, view.id) == opened + 1  # the losing edit wrote nothing
    final = cases.get_case(db, actor, view.id)
    assert final.version == 2
    assert history.verify_audit(db, actor).ok


# ------------------------------------------------------------------ assignment


def test_assignment_is_audited_with_before_and_after(db: Database, actor: Principal) -> None:
    alice = make_account(db, actor, "alice@example.org")
    bob = make_account(db, actor, "bob@example.org")
    view = new_case(db, actor, assignee_id=alice.id, team="complaints")

    moved = cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=bob.id, team="fraud", version=1))
    assert (moved.assignee_id, moved.team, moved.version) == (bob.id, "fraud", 2)
    entry = history.case_history(db, actor, view.id)[-1]
    assert entry.action == "case.assign"
    assert entry.data == {
        "before": {"assignee_id": str(alice.id), "team": "complaints"},
        "after": {"assignee_id": str(bob.id), "team": "fraud"},
    }

    # Team left out: only the assignee changes. Unassigning is an assignment to nobody.
    unassigned = cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=None))
    assert (unassigned.assignee_id, unassigned.team) == (None, "fraud")
    assert history.case_history(db, actor, view.id)[-1].data["after"] == {"assignee_id": None, "team": "fraud"}


def test_assignment_without_change_writes_nothing(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, team="complaints")
    opened = audit_count(db, view.id)
    same = cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=None))
    assert same.version == 1
    assert audit_count(db, view.id) == opened


def test_assignment_checks_user_and_version(db: Database, actor: Principal) -> None:
    view = new_case(db, actor, team="complaints")
    opened = audit_count(db, view.id)
    with pytest.raises(NotFound) as info:
        cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=uuid.uuid4()))
    assert info.value.field == "assignee_id"
    with pytest.raises(StaleVersion):
        cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=actor.user_id, version=5))
    with pytest.raises(PreconditionFailed):
        cases.assign_case(db, actor, view.id, AssignRequest(assignee_id=actor.user_id), if_match=5)
    assert audit_count(db, view.id) == opened
    assert cases.get_case(db, actor, view.id).assignee_id is None


# ------------------------------------------------------------------ accounts


def test_accounts_unique_email_and_lookup(db: Database, actor: Principal) -> None:
    made = accounts.create_account(db, actor, accounts.AccountCreate(name="Carol", email="Carol@Example.org"))
    assert made.email == "carol@example.org"
    assert accounts.get_account(db, actor, "CAROL@example.org").id == made.id
    assert accounts.get_account(db, actor, str(made.id)).id == made.id
    with pytest.raises(InvalidInput) as info:
        accounts.create_account(db, actor, accounts.AccountCreate(name="Other Carol", email="carol@example.org"))
    assert info.value.field == "email"
    with pytest.raises(NotFound):
        accounts.get_account(db, actor, "nobody@example.org")
    with pytest.raises(NotFound):
        accounts.get_account(db, actor, "nul\x00@example.org")
    assert users.ensure_system_user(db) == actor.user_id
    assert users.system_principal(db) == actor
    assert (actor.role, actor.teams, actor.party_id) == (Role.ADMINISTRATOR, frozenset(), None)
    assert users.principal_by_email(db, " Carol@example.org ").user_id == made.id
    for unknown in ("nobody@example.org", "nul\x00@example.org"):
        with pytest.raises(auth.AuthenticationFailed):
            users.principal_by_email(db, unknown)
    assert {u.email for u in accounts.list_accounts(db, actor)} == {"carol@example.org", users.SYSTEM_EMAIL}


def test_account_list_carries_each_accounts_teams_in_two_queries(db: Database, actor: Principal) -> None:
    from sqlalchemy import event

    make_account(db, actor, "ann@example.org", teams=["kyc", "fraud"])
    make_account(db, actor, "bob@example.org", teams=["fraud"])
    make_account(db, actor, "cid@example.org")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        listed = accounts.list_accounts(db, actor)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    teams = {a.email: a.teams for a in listed}
    assert teams == {"ann@example.org": ["fraud", "kyc"], "bob@example.org": ["fraud"], "cid@example.org": [], users.SYSTEM_EMAIL: []}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_account_name_is_bounded_by_its_column() -> None:
    # users.name is VARCHAR(200): longer names must be refused before PostgreSQL truncates or errors.
    with pytest.raises(ValidationError):
        accounts.AccountCreate(name="x" * 201, email="long@example.org")
    assert accounts.AccountCreate(name="x" * 200, email="long@example.org").name == "x" * 200
