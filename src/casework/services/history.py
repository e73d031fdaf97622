"""Reading the audit trail of a case and verifying the whole chain."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit.log import verify_chain
from casework.domain.access import Perm, Principal
from casework.services.common import load_case, record_access, require
from casework.services.schemas import AuditEntryView, VerifyReport
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database


def case_history(
    db: Database, who: Principal, key: str | uuid.UUID, limit: int = 1000, *, include_access: bool = False
) -> list[AuditEntryView]:
    """The changes made to a case, oldest first; reads of it ("access.*") only when asked for."""
    require(who, Perm.HISTORY_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        record_access(s, who, case.id, "history")
        stmt = select(AuditEntry).where(AuditEntry.case_id == case.id)
        if not include_access:
            stmt = stmt.where(AuditEntry.action.not_like("access.%"))
        rows = s.scalars(stmt.order_by(AuditEntry.seq).limit(max(1, min(limit, 10000))))
        return [AuditEntryView.model_validate(r) for r in rows]


def verify_audit(db: Database, who: Principal) -> VerifyReport:
    require(who, Perm.AUDIT_READ)
    with db.read() as s:
        verdict = verify_chain(s)
    return VerifyReport(ok=verdict.ok, checked=verdict.checked, first_bad_seq=verdict.first_bad_seq,
                        problem=verdict.problem, message=verdict.describe())  # fmt: skip


def access_log(
    db: Database, who: Principal, *, case_key: str | uuid.UUID | None = None, user_id: uuid.UUID | None = None, limit: int = 200
) -> list[AuditEntryView]:
    """Who accessed a case, or what a user accessed: the "access.*" entries of the audit trail."""
    require(who, Perm.AUDIT_READ)
    with db.read() as s:
        stmt = select(AuditEntry).where(AuditEntry.action.like("access.%"))
        if case_key is not None:
            stmt = stmt.where(AuditEntry.case_id == load_case(s, case_key, who).id)
        if user_id is not None:
            stmt = stmt.where(AuditEntry.actor_id == user_id)
        rows = s.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(max(1, min(limit, 5000))))
        return [AuditEntryView.model_validate(r) for r in rows]
