"""One version number per committed change: a record edited several times in one transaction
(a move that also re-scores and re-routes the case) goes up by one, not by one per flush.

Versioned models map ``version_id_col`` with ``version_id_generator=False``; this hook sets the
next number on the first flush that changes a row in the transaction. SQLAlchemy still puts
the version read at load time in the UPDATE's WHERE clause, so a concurrent edit is detected.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

_BUMPED = "casework_versions_bumped"


def _versioned(obj: Any) -> bool:
    return inspect(obj).mapper.version_id_col is not None


@event.listens_for(Session, "before_flush")
def _bump_versions(session: Session, _context: Any, _instances: Any) -> None:
    bumped: set[int] = session.info.setdefault(_BUMPED, set())
    for obj in session.dirty:
        if id(obj) in bumped or not _versioned(obj) or not session.is_modified(obj, include_collections=False):
            continue
        obj.version = (obj.version or 0) + 1
        bumped.add(id(obj))
    for obj in session.new:
        if _versioned(obj):
            if getattr(obj, "version", None) is None:
                obj.version = 1
            bumped.add(id(obj))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_BUMPED, None)
