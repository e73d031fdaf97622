"""Helpers shared by the use cases: loading with clear not-found errors, version checks, views."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Perm, Principal
from casework.domain.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed, StaleVersion
from casework.domain.lifecycle import Phase, allowed_targets
from casework.domain.references import is_reference
from casework.services.schemas import CaseView
from casework.store.models import Base, Case
from casework.store.types import utcnow
from casework.store.visibility import visible_cases

M = TypeVar("M", bound=Base)


def require(who: Principal, perm: Perm) -> None:
    """Refuse with 403 when the role (or a read-only token) does not grant ``perm``."""
    if not who.can(perm):
        raise Forbidden(f"your role ({who.role.value}, {who.scope.value} access) may not {perm.value}")


def load_case(session: Session, key: str | uuid.UUID, who: Principal, *, for_update: bool = False) -> Case:
    """Find a case the principal may see, by UUID or human reference.

    A case outside the principal's visibility is reported exactly like a missing one (404),
    so guessing ids or references tells nothing about what exists.
    """
    stmt = select(Case).where(visible_cases(who, utcnow()))
    if isinstance(key, uuid.UUID):
        stmt = stmt.where(Case.id == key)
    elif is_reference(key):
        stmt = stmt.where(Case.reference == key)
    else:
        try:
            stmt = stmt.where(Case.id == uuid.UUID(key))
        except ValueError:
            raise NotFound(f"case {key} not found", field="case_id") from None
    if for_update:
        stmt = stmt.with_for_update()
    case = session.scalars(stmt).first()
    if case is None:
        raise NotFound(f"case {key} not found", field="case_id")
    return case


def load(session: Session, model: type[M], key: uuid.UUID, what: str, field: str) -> M:
    obj = session.get(model, key)
    if obj is None:
        raise NotFound(f"{what} {key} not found", field=field)
    return obj


def check_version(current: int, expected: int | None, if_match: int | None) -> None:
    """If-Match mismatches are 412 (HTTP precondition); body-version mismatches are 409."""
    if if_match is not None and if_match != current:
        raise PreconditionFailed(
            f"If-Match version {if_match} does not match current version {current}", field="If-Match", current_version=current
        )
    if expected is not None and expected != current:
        raise StaleVersion(
            f"version {expected} is stale: the record is now at version {current}; reload and retry",
            field="version",
            current_version=current,
        )


def case_view(case: Case, who: Principal) -> CaseView:
    view = CaseView.model_validate(case)
    if who.is_staff:
        view.allowed_transitions = allowed_targets(Phase(case.phase)) if who.can(Perm.CASE_TRANSITION) else []
    else:
        # Customers and third parties see the case, not the institution's assessment of it.
        view.risk_score = None
        view.custom_data = {}
        view.assignee_id = None
        view.team = None
    return view


def record_access(session: Session, who: Principal, case_id: uuid.UUID, part: str) -> None:
    """Reading personal data is itself audited: who, what, when and from where."""
    audit.append(session, actor_id=who.user_id, action="access.case.read", case_id=case_id, data={"part": part, "client": who.client})


def require_version(expected: int | None, if_match: int | None) -> None:
    """Edits must say which version they were based on, or concurrent changes could be overwritten."""
    if expected is None and if_match is None:
        raise InvalidInput("send the version you edited (If-Match header or 'version' field)", field="version")


def apply_changes(obj: Any, given: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Set the given fields on ``obj`` and return what changed as {field: {before, after}} for the audit.

    Fields named in ``required`` are NOT NULL: a partial update may omit them, not null them.
    """
    changes: dict[str, Any] = {}
    for field, value in given.items():
        if field in required and value is None:
            raise InvalidInput(f"{field} cannot be null", field=field)
        if hasattr(value, "value"):
            value = value.value
        if getattr(obj, field) != value:
            changes[field] = {"before": getattr(obj, field), "after": value}
            setattr(obj, field, value)
    return changes


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}
