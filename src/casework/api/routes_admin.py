"""Users (minimal, until accounts land), audit verification and health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from casework.api.deps import DB, Actor
from casework.api.problems import responses
from casework.services import history, users
from casework.services.schemas import UserCreate, UserView, VerifyReport

router = APIRouter(prefix="/api/v1", tags=["administration"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health)
def health(db: DB) -> Health:
    return Health(status="ok", database=db.dialect)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserView, responses=responses(401, 409, 422))
def create_user(body: UserCreate, db: DB, actor: Actor) -> UserView:
    return users.create_user(db, actor, body)


@router.get("/users", response_model=list[UserView], responses=responses(401, 422))
def list_users(db: DB, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[UserView]:
    return users.list_users(db, limit)


@router.get("/audit/verify", response_model=VerifyReport, responses=responses(401))
def verify_audit(db: DB) -> VerifyReport:
    return history.verify_audit(db)
