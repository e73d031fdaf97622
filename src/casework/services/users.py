"""The built-in system account: the actor for changes made by casework itself and by local operators."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.domain.access import Principal, Role
from casework.domain.errors import DomainError
from casework.services import accounts, auth
from casework.store.models import User
from casework.store.unit_of_work import Database

SYSTEM_EMAIL = "system@casework.local"


def ensure_system_user(db: Database) -> uuid.UUID:
    """Create the system account on first use; it is an administrator without a password (no sign-in)."""
    with db.read() as s:
        found = s.scalars(select(User.id).where(User.email == SYSTEM_EMAIL)).first()
        if found:
            return found
    try:
        cmd = accounts.AccountCreate(name="System", email=SYSTEM_EMAIL, role=Role.ADMINISTRATOR)
        return accounts.create_account(db, None, cmd).id
    except DomainError:
        with db.read() as s:
            return s.scalars(select(User.id).where(User.email == SYSTEM_EMAIL)).one()


def system_principal(db: Database) -> Principal:
    return auth.load_principal(db, ensure_system_user(db))


def principal_by_email(db: Database, email: str) -> Principal:
    """The principal of an existing, active account (the CLI's --as)."""
    with db.read() as s:
        # No stored email holds NUL, and PostgreSQL refuses it in a query.
        user_id = None if "\x00" in email else s.scalars(select(User.id).where(User.email == email.strip().lower())).first()
    if user_id is None:
        raise auth.AuthenticationFailed(f"no account with email {email}", field="as")
    return auth.load_principal(db, user_id)
