"""Appending to and reading the audit table; the only writer of audit rows.

There is deliberately no update or delete function here: the table is append-only,
and database triggers (see the migration) refuse UPDATE and DELETE as well.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from casework.audit.chain import GENESIS, Record, Verdict, compute_hash, to_jsonable, verify
from casework.store.models import AuditEntry
from casework.store.types import utcnow

_HEAD_KEY = "casework_audit_head"
_PG_LOCK_ID = 424242


def _head(session: Session) -> tuple[int, str]:
    cached = session.info.get(_HEAD_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Serialise chain appends across concurrent transactions.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
    row = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def append(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    case_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one chained entry inside the caller's transaction."""
    seq, prev = _head(session)
    seq += 1
    at = utcnow()
    payload = to_jsonable(data or {})
    digest = compute_hash(seq=seq, at=at, actor_id=actor_id, case_id=case_id, action=action, data=payload, prev_hash=prev)
    entry = AuditEntry(seq=seq, at=at, actor_id=actor_id, case_id=case_id, action=action, data=payload, prev_hash=prev, hash=digest)
    session.add(entry)
    session.info[_HEAD_KEY] = (seq, digest)
    return entry


def forget_head(session: Session) -> None:
    """Drop the cached head when a transaction ends, so the next one re-reads it under lock."""
    session.info.pop(_HEAD_KEY, None)


def iter_records(session: Session, batch: int = 5000) -> Iterator[Record]:
    last = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield Record(r.seq, r.at, r.actor_id, r.case_id, r.action, r.data, r.prev_hash, r.hash)
            last = r.seq
        session.expunge_all()


def verify_chain(session: Session) -> Verdict:
    return verify(iter_records(session))
