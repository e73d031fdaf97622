"""Small builders shared by the service, audit and API tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from casework.domain.lifecycle import ORDER, Phase
from casework.services import cases, lifecycle
from casework.services.schemas import CaseCreate, CaseView, TransitionRequest
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database


def new_case(db: Database, actor: uuid.UUID, *, opened_at: dt.datetime | None = None, **fields: Any) -> CaseView:
    data: dict[str, Any] = {"case_type": "complaint", "title": "Refund not received"}
    data.update(fields)
    return cases.create_case(db, actor, CaseCreate.model_validate(data), opened_at=opened_at)


def move(db: Database, actor: uuid.UUID, case: CaseView, to: Phase, **extra: Any) -> CaseView:
    return lifecycle.transition_case(db, actor, case.id, TransitionRequest(to_phase=to, **extra))


def advance_to(db: Database, actor: uuid.UUID, case: CaseView, target: Phase) -> CaseView:
    """Walk forward one phase at a time from the case's current working phase."""
    view = case
    while view.phase is not target:
        view = move(db, actor, view, ORDER[ORDER.index(view.phase) + 1])
    return view


def audit_count(db: Database, case_id: uuid.UUID | None = None) -> int:
    with db.read() as s:
        stmt = select(func.count()).select_from(AuditEntry)
        if case_id is not None:
            stmt = stmt.where(AuditEntry.case_id == case_id)
        return int(s.execute(stmt).scalar_one())
