"""Saved filters: a staff member keeps work-queue filter sets under a name and reopens them in one click.

Each filter belongs to one user (nobody else sees or deletes it), names are unique per user and a
user keeps at most :data:`MAX_PER_USER`. The parameters are checked against the case-list filter
before they are stored, so a saved filter always opens a valid list. Creating and deleting are
written to the audit trail like every other change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from casework.audit import log as audit
from casework.domain.access import Perm, Principal
from casework.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from casework.services.common import require
from casework.services.schemas import CaseFilter, Clean, Command, _bounded, raw_length
from casework.store.models import SavedFilter
from casework.store.unit_of_work import Database

MAX_PER_USER = 50
NAME_MAX = 100

#: The dashboard parameters a filter may keep: the case-list filters plus the queue view and status.
FILTER_KEYS = ("case_type", "phase", "priority", "assignee_id", "team", "created_from", "created_to", "q")
VIEWS = ("mine", "team", "all")
STATUSES = ("open", "closed", "any")
PARAM_KEYS = ("view", "status", *FILTER_KEYS)

FilterName = Annotated[str, _bounded(NAME_MAX, 1), raw_length(NAME_MAX), Clean]


class SavedFilterCreate(Command):
    name: FilterName
    params: dict[str, str]

    @field_validator("params")
    @classmethod
    def _known_params(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(PARAM_KEYS))
        if unknown:
            raise ValueError(f"unknown filter parameter '{unknown[0][:40]}'; allowed: {', '.join(PARAM_KEYS)}")
        kept = {k: v.strip() for k, v in value.items() if v.strip()}
        if kept.get("view", "mine") not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}")
        if kept.get("status", "open") not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        try:
            CaseFilter.model_validate({k: v for k, v in kept.items() if k in FILTER_KEYS})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ValueError(f"{where}: {first.get('msg', 'invalid value')}") from None
        return {k: kept[k] for k in PARAM_KEYS if k in kept}


class SavedFilterView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    params: dict[str, str]
    created_at: dt.datetime


def _require_staff(who: Principal) -> None:
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("saved filters belong to the staff work queue")


def list_saved_filters(db: Database, who: Principal) -> list[SavedFilterView]:
    """The caller's own saved filters, by name."""
    _require_staff(who)
    with db.read() as s:
        rows = s.scalars(select(SavedFilter).where(SavedFilter.user_id == who.user_id).order_by(SavedFilter.name, SavedFilter.id))
        return [SavedFilterView.model_validate(r) for r in rows]


def create_saved_filter(db: Database, who: Principal, cmd: SavedFilterCreate) -> SavedFilterView:
    """Save the filter set under a name unique among the caller's filters (409 naming ``name`` otherwise)."""
    _require_staff(who)
    try:
        with db.write() as s:
            taken = s.scalars(select(SavedFilter.id).where(SavedFilter.user_id == who.user_id, SavedFilter.name == cmd.name)).first()
            if taken is not None:
                raise DomainError(f"you already have a saved filter named '{cmd.name}'; choose another name", field="name")
            count = s.execute(select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == who.user_id)).scalar_one()
            if count >= MAX_PER_USER:
                raise DomainError(f"you already have {MAX_PER_USER} saved filters, the most you can keep; delete one first", field="name")
            row = SavedFilter(user_id=who.user_id, name=cmd.name, params=cmd.params)
            s.add(row)
            s.flush()
            audit.append(s, actor_id=who.user_id, action="saved_filter.create", data={"id": row.id, "name": row.name, "params": row.params})
            return SavedFilterView.model_validate(row)
    except IntegrityError:  # the same name saved at the same moment by a second request
        raise DomainError(f"you already have a saved filter named '{cmd.name}'; choose another name", field="name") from None


def delete_saved_filter(db: Database, who: Principal, filter_id: uuid.UUID | str) -> None:
    """Delete one of the caller's filters; another user's filter is reported as not found."""
    _require_staff(who)
    try:
        key = filter_id if isinstance(filter_id, uuid.UUID) else uuid.UUID(str(filter_id))
    except ValueError:
        raise InvalidInput("not a saved filter id", field="filter_id") from None
    with db.write() as s:
        row = s.get(SavedFilter, key)
        if row is None or row.user_id != who.user_id:
            raise NotFound(f"saved filter {key} not found", field="filter_id")
        audit.append(s, actor_id=who.user_id, action="saved_filter.delete", data={"id": row.id, "name": row.name})
        s.delete(row)
