"""Helpers shared by the use cases: loading with clear not-found errors, version checks, views."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain.errors import NotFound, PreconditionFailed, StaleVersion
from casework.domain.lifecycle import Phase, allowed_targets
from casework.domain.references import is_reference
from casework.services.schemas import CaseView
from casework.store.models import Base, Case

M = TypeVar("M", bound=Base)


def load_case(session: Session, key: str | uuid.UUID, *, for_update: bool = False) -> Case:
    """Find a case by UUID or by its human reference."""
    stmt = select(Case)
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


def case_view(case: Case) -> CaseView:
    view = CaseView.model_validate(case)
    view.allowed_transitions = allowed_targets(Phase(case.phase))
    return view


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}
