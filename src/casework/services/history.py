"""Reading the audit trail of a case and verifying the whole chain."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit.log import verify_chain
from casework.services.common import load_case
from casework.services.schemas import AuditEntryView, VerifyReport
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database


def case_history(db: Database, key: str | uuid.UUID, limit: int = 1000) -> list[AuditEntryView]:
    with db.read() as s:
        case = load_case(s, key)
        rows = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.seq).limit(max(1, min(limit, 10000))))
        return [AuditEntryView.model_validate(r) for r in rows]


def verify_audit(db: Database) -> VerifyReport:
    with db.read() as s:
        verdict = verify_chain(s)
    return VerifyReport(ok=verdict.ok, checked=verdict.checked, first_bad_seq=verdict.first_bad_seq,
                        problem=verdict.problem, message=verdict.describe())  # fmt: skip
