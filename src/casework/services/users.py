"""User use cases. Accounts and rights come later; for now a user is an actor with a name."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit import log as audit
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.services.schemas import UserCreate, UserView
from casework.store.models import User
from casework.store.unit_of_work import Database

SYSTEM_EMAIL = "system@casework.local"


def create_user(db: Database, actor_id: uuid.UUID | None, cmd: UserCreate) -> UserView:
    with db.write() as s:
        if s.scalars(select(User).where(User.email == cmd.email.lower())).first():
            raise InvalidInput(f"a user with email {cmd.email} already exists", field="email")
        user = User(name=cmd.name, email=cmd.email.lower())
        s.add(user)
        s.flush()
        audit.append(s, actor_id=actor_id or user.id, action="user.create",
                     data={"user_id": user.id, "email": user.email, "name": user.name})  # fmt: skip
        return UserView.model_validate(user)


def ensure_system_user(db: Database) -> uuid.UUID:
    """The actor for changes made by the system itself or by callers not yet identified."""
    with db.read() as s:
        found = s.scalars(select(User.id).where(User.email == SYSTEM_EMAIL)).first()
        if found:
            return found
    try:
        return create_user(db, None, UserCreate(name="System", email=SYSTEM_EMAIL)).id
    except DomainError:
        with db.read() as s:
            return s.scalars(select(User.id).where(User.email == SYSTEM_EMAIL)).one()


def find_user(db: Database, key: str) -> UserView:
    if "\x00" in key:  # no stored email holds NUL, and PostgreSQL refuses it in a query
        raise NotFound(f"user {key!r} not found", field="user")
    with db.read() as s:
        user = None
        try:
            user = s.get(User, uuid.UUID(key))
        except ValueError:
            user = s.scalars(select(User).where(User.email == key.lower())).first()
        if user is None:
            raise NotFound(f"user {key} not found", field="user")
        return UserView.model_validate(user)


def list_users(db: Database, limit: int = 200) -> list[UserView]:
    with db.read() as s:
        return [UserView.model_validate(u) for u in s.scalars(select(User).order_by(User.name).limit(limit))]
