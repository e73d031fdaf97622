"""Sharing a case with a third party, for a limited time and for named parts; audited both ways."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import InvalidInput, NotFound
from casework.services.common import load_case, require
from casework.services.schemas import DateTime
from casework.store.models import CaseShare, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import active_share_condition


class SharePart(str, enum.Enum):
    """What a third party sees besides the case summary."""

    TASKS = "tasks"  # tasks assigned to them
    NOTES = "notes"  # notes marked shared
    DOCUMENTS = "documents"  # documents marked shareable (documents arrive with their own feature)


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    parts: list[SharePart] = Field(default_factory=lambda: [SharePart.TASKS], max_length=3)
    expires_at: DateTime | None = None


class ShareView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    user_id: uuid.UUID
    parts: list[SharePart]
    created_by: uuid.UUID
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool = False


def _view(share: CaseShare, now: dt.datetime) -> ShareView:
    view = ShareView.model_validate(share)
    view.active = share.revoked_at is None and (share.expires_at is None or share.expires_at > now)
    return view


def share_case(db: Database, who: Principal, key: str | uuid.UUID, cmd: ShareCreate) -> ShareView:
    require(who, Perm.CASE_SHARE)
    now = utcnow()
    if cmd.expires_at is not None and cmd.expires_at <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    with db.write() as s:
        case = load_case(s, key, who)
        target = s.get(User, cmd.user_id)
        if target is None or not target.is_active:
            raise NotFound(f"user {cmd.user_id} not found", field="user_id")
        if target.role != Role.THIRD_PARTY.value:
            raise InvalidInput("cases are shared with third-party accounts only", field="user_id")
        share = CaseShare(case_id=case.id, user_id=target.id, parts=sorted({p.value for p in cmd.parts}),
                          created_by=who.user_id, expires_at=cmd.expires_at)  # fmt: skip
        s.add(share)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="case.share", case_id=case.id,
                     data={"share_id": share.id, "user_id": target.id, "parts": share.parts, "expires_at": cmd.expires_at})  # fmt: skip
        return _view(share, now)


def list_shares(db: Database, who: Principal, key: str | uuid.UUID) -> list[ShareView]:
    require(who, Perm.CASE_SHARE)
    now = utcnow()
    with db.read() as s:
        case = load_case(s, key, who)
        rows = s.scalars(select(CaseShare).where(CaseShare.case_id == case.id).order_by(CaseShare.created_at, CaseShare.id))
        return [_view(r, now) for r in rows]


def revoke_share(db: Database, who: Principal, key: str | uuid.UUID, share_id: uuid.UUID) -> ShareView:
    require(who, Perm.CASE_SHARE)
    now = utcnow()
    with db.write() as s:
        case = load_case(s, key, who)
        share = s.get(CaseShare, share_id)
        if share is None or share.case_id != case.id:
            raise NotFound(f"share {share_id} not found on this case", field="share_id")
        if share.revoked_at is None:
            share.revoked_at = now
            audit.append(s, actor_id=who.user_id, action="case.unshare", case_id=case.id,
                         data={"share_id": share.id, "user_id": share.user_id})  # fmt: skip
        return _view(share, now)


def shared_parts(s: Session, who: Principal, case_id: uuid.UUID) -> set[str]:
    """The parts of a case a third party may see now (empty when nothing is shared)."""
    rows = s.scalars(
        select(CaseShare.parts).where(CaseShare.case_id == case_id, CaseShare.user_id == who.user_id, active_share_condition(utcnow()))
    )
    return {p for parts in rows for p in parts}
