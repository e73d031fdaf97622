"""Account administration: roles, teams, passwords, disabling without losing history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import InvalidInput, NotFound
from casework.services.auth import hash_password
from casework.services.common import apply_changes, require
from casework.services.schemas import Clean, Email, Name, raw_length
from casework.store.models import Party, Team, TeamMember, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), raw_length(100), Clean]
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256), Clean]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(_[A-Z]{2})?$")]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    email: Email
    role: Role = Role.CASE_WORKER
    password: Password | None = None
    teams: list[TeamName] = Field(default_factory=list, max_length=50)
    party_id: uuid.UUID | None = None
    locale: Locale | None = None


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    role: Role | None = None
    teams: list[TeamName] | None = Field(default=None, max_length=50)
    party_id: uuid.UUID | None = None
    locale: Locale | None = None
    password: Password | None = None
    is_active: bool | None = None


class AccountView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str
    role: Role
    is_active: bool
    teams: list[str] = Field(default_factory=list)
    party_id: uuid.UUID | None
    locale: str | None
    created_at: dt.datetime
    disabled_at: dt.datetime | None


def _teams_of(s: Session, user_id: uuid.UUID) -> list[str]:
    q = select(Team.name).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user_id).order_by(Team.name)
    return list(s.scalars(q))


def _view(s: Session, user: User) -> AccountView:
    view = AccountView.model_validate(user)
    view.teams = _teams_of(s, user.id)
    return view


def _set_teams(s: Session, user_id: uuid.UUID, names: list[str]) -> None:
    s.execute(delete(TeamMember).where(TeamMember.user_id == user_id))
    for name in sorted(set(names)):
        team = s.scalars(select(Team).where(Team.name == name)).first()
        if team is None:
            team = Team(name=name)
            s.add(team)
            s.flush()
        s.add(TeamMember(team_id=team.id, user_id=user_id))


def _check_party(s: Session, role: Role, party_id: uuid.UUID | None) -> None:
    if party_id is not None and s.get(Party, party_id) is None:
        raise NotFound(f"party {party_id} not found", field="party_id")
    if role is Role.CUSTOMER and party_id is None:
        raise InvalidInput("a customer account must be linked to its party", field="party_id")


def create_account(db: Database, who: Principal | None, cmd: AccountCreate) -> AccountView:
    """``who`` is None only for bootstrap (the first administrator, created from the CLI)."""
    if who is not None:
        require(who, Perm.USER_MANAGE)
    pw_hash = hash_password(cmd.password, email=cmd.email) if cmd.password else None
    with db.write() as s:
        email = cmd.email.lower()
        if s.scalars(select(User.id).where(User.email == email)).first():
            raise InvalidInput(f"a user with email {email} already exists", field="email")
        _check_party(s, cmd.role, cmd.party_id)
        user = User(name=cmd.name, email=email, role=cmd.role.value, password_hash=pw_hash, party_id=cmd.party_id, locale=cmd.locale)
        s.add(user)
        s.flush()
        _set_teams(s, user.id, cmd.teams)
        audit.append(
            s,
            actor_id=who.user_id if who else user.id,
            action="user.create",
            data={"user_id": user.id, "email": email, "name": cmd.name, "role": cmd.role, "teams": sorted(set(cmd.teams))},
        )
        return _view(s, user)


def update_account(db: Database, who: Principal, user_id: uuid.UUID, cmd: AccountUpdate) -> AccountView:
    require(who, Perm.USER_MANAGE)
    given = cmd.model_dump(exclude_unset=True)
    with db.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found", field="user_id")
        changes: dict[str, object] = {}
        if "password" in given:
            if given.pop("password") is None:
                raise InvalidInput("password cannot be null", field="password")
            user.password_hash = hash_password(cmd.password or "", email=user.email)
            user.failed_logins, user.locked_until = 0, None
            changes["password"] = "changed"
        if "teams" in given:
            teams = given.pop("teams")
            if teams is None:
                raise InvalidInput("teams cannot be null; send [] to clear", field="teams")
            before = _teams_of(s, user.id)
            _set_teams(s, user.id, teams)
            changes["teams"] = {"before": before, "after": sorted(set(teams))}
        changes.update(apply_changes(user, given, required=("name", "role", "is_active")))
        if "is_active" in changes:
            if user.id == who.user_id and not user.is_active:
                raise InvalidInput("you cannot disable your own account", field="is_active")
            user.disabled_at = None if user.is_active else utcnow()
        _check_party(s, Role(user.role), user.party_id)
        if changes:
            audit.append(s, actor_id=who.user_id, action="user.update", data={"user_id": user.id, "changes": changes})
        return _view(s, user)


def list_accounts(db: Database, who: Principal, *, include_disabled: bool = True, limit: int = 500) -> list[AccountView]:
    """Accounts by name, each with its teams (two queries, whatever the number of accounts: the
    case page lists every colleague one may assign)."""
    require(who, Perm.USER_READ)
    with db.read() as s:
        stmt = select(User).order_by(User.name, User.id).limit(max(1, min(limit, 5000)))
        if not include_disabled:
            stmt = stmt.where(User.is_active.is_(True))
        views = [AccountView.model_validate(u) for u in s.scalars(stmt)]
        teams: dict[uuid.UUID, list[str]] = {}
        members = select(TeamMember.user_id, Team.name).join(Team, Team.id == TeamMember.team_id).order_by(Team.name)
        for user_id, team in s.execute(members):
            teams.setdefault(user_id, []).append(team)
        for view in views:
            view.teams = teams.get(view.id, [])
        return views


def get_account(db: Database, who: Principal, key: str) -> AccountView:
    if str(who.user_id) != key:
        require(who, Perm.USER_READ)
    if "\x00" in key:  # no stored email holds NUL, and PostgreSQL refuses it in a query
        raise NotFound(f"user {key!r} not found", field="user")
    with db.read() as s:
        try:
            user = s.get(User, uuid.UUID(key))
        except ValueError:
            user = s.scalars(select(User).where(User.email == key.strip().lower())).first()
        if user is None:
            raise NotFound(f"user {key} not found", field="user")
        return _view(s, user)
