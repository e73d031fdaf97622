"""Accounts administration, case sharing, the audit trail (verification and access log) and health."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel

from casework.api.deps import DB
from casework.api.problems import responses
from casework.api.security import Who
from casework.services import accounts, history, sharing
from casework.services.schemas import AuditEntryView, VerifyReport

router = APIRouter(prefix="/api/v1", tags=["administration"])
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference")]
UserKey = Annotated[str, Path(min_length=1, max_length=320, description="User UUID or email")]


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health, responses=responses(public=True))
def health(db: DB) -> Health:
    return Health(status="ok", database=db.dialect)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=accounts.AccountView, responses=responses(404, 409, 422))
def create_user(body: accounts.AccountCreate, db: DB, who: Who) -> accounts.AccountView:
    return accounts.create_account(db, who, body)


@router.get("/users", response_model=list[accounts.AccountView], responses=responses(422))
def list_users(db: DB, who: Who, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[accounts.AccountView]:
    return accounts.list_accounts(db, who, limit=limit)


@router.get("/users/{user}", response_model=accounts.AccountView, responses=responses(404, 422))
def get_user(user: UserKey, db: DB, who: Who) -> accounts.AccountView:
    return accounts.get_account(db, who, user)


@router.patch("/users/{user}", response_model=accounts.AccountView, responses=responses(404, 409, 422))
def update_user(user: UserKey, body: accounts.AccountUpdate, db: DB, who: Who) -> accounts.AccountView:
    return accounts.update_account(db, who, accounts.get_account(db, who, user).id, body)


@router.post(
    "/cases/{key}/shares", status_code=status.HTTP_201_CREATED, response_model=sharing.ShareView, responses=responses(404, 409, 422)
)
def share_case(key: CaseKey, body: sharing.ShareCreate, db: DB, who: Who) -> sharing.ShareView:
    return sharing.share_case(db, who, key, body)


@router.get("/cases/{key}/shares", response_model=list[sharing.ShareView], responses=responses(404, 422))
def list_shares(key: CaseKey, db: DB, who: Who) -> list[sharing.ShareView]:
    return sharing.list_shares(db, who, key)


@router.delete("/cases/{key}/shares/{share_id}", response_model=sharing.ShareView, responses=responses(404, 422))
def revoke_share(key: CaseKey, share_id: uuid.UUID, db: DB, who: Who) -> sharing.ShareView:
    return sharing.revoke_share(db, who, key, share_id)


@router.get("/audit/verify", response_model=VerifyReport, responses=responses())
def verify_audit(db: DB, who: Who) -> VerifyReport:
    return history.verify_audit(db, who)


@router.get("/audit/access", response_model=list[AuditEntryView], responses=responses(404, 422))
def access_log(
    db: DB,
    who: Who,
    case: Annotated[str | None, Query(min_length=1, max_length=64, description="Case UUID or reference")] = None,
    user_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AuditEntryView]:
    """Who accessed a case, or what a user accessed (reads, downloads, exports)."""
    return history.access_log(db, who, case_key=case, user_id=user_id, limit=limit)
