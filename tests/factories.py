"""Small builders shared by the service, audit and API tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from casework.domain.access import Principal, Role
from casework.domain.lifecycle import ORDER, Phase
from casework.services import accounts, auth, cases, lifecycle
from casework.services.schemas import AuditEntryView, CaseCreate, CaseView, TransitionRequest
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database

#: Audit actions starting with this record a read (who looked at what), not a change.
ACCESS = "access."


def new_case(db: Database, who: Principal, *, opened_at: dt.datetime | None = None, **fields: Any) -> CaseView:
    data: dict[str, Any] = {"case_type": "complaint", "title": "Refund not received"}
    data.update(fields)
    return cases.create_case(db, who, CaseCreate.model_validate(data), opened_at=opened_at)


def move(db: Database, who: Principal, case: CaseView, to: Phase, **extra: Any) -> CaseView:
    return lifecycle.transition_case(db, who, case.id, TransitionRequest(to_phase=to, **extra))


def advance_to(db: Database, who: Principal, case: CaseView, target: Phase) -> CaseView:
    """Walk forward one phase at a time from the case's current working phase."""
    view = case
    while view.phase is not target:
        view = move(db, who, view, ORDER[ORDER.index(view.phase) + 1])
    return view


def make_account(
    db: Database,
    admin: Principal,
    email: str,
    role: Role = Role.CASE_WORKER,
    *,
    teams: Sequence[str] = (),
    party_id: uuid.UUID | None = None,
    name: str | None = None,
) -> accounts.AccountView:
    """An account without a password (no sign-in needed: tests act through its principal)."""
    cmd = accounts.AccountCreate(name=name or email.split("@")[0].title(), email=email, role=role, teams=list(teams), party_id=party_id)
    return accounts.create_account(db, admin, cmd)


def principal(db: Database, admin: Principal, email: str, role: Role = Role.CASE_WORKER, **extra: Any) -> Principal:
    """Create an account and return the principal it acts as (teams and party loaded from the database)."""
    return auth.load_principal(db, make_account(db, admin, email, role, **extra).id)


def changes(entries: Sequence[AuditEntryView]) -> list[AuditEntryView]:
    """The entries that record changes, leaving out the access entries that reads append."""
    return [e for e in entries if not e.action.startswith(ACCESS)]


def audit_count(db: Database, case_id: uuid.UUID | None = None, *, reads: bool = True) -> int:
    """Audit entries (of one case, or all); ``reads=False`` leaves out the access entries."""
    with db.read() as s:
        stmt = select(func.count()).select_from(AuditEntry)
        if case_id is not None:
            stmt = stmt.where(AuditEntry.case_id == case_id)
        if not reads:
            stmt = stmt.where(AuditEntry.action.not_like(ACCESS + "%"))
        return int(s.execute(stmt).scalar_one())
