"""Names and teams of every account in two queries, for pages that show who did what and offer
people to assign (``accounts.list_accounts`` loads each account's teams one query at a time)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy import select

from casework.domain.access import Perm, Principal, Role
from casework.services.common import require
from casework.store.models import Team, TeamMember, User
from casework.store.unit_of_work import Database


class Person(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    is_active: bool
    teams: list[str] = Field(default_factory=list)


def directory(db: Database, who: Principal, *, limit: int = 5000) -> list[Person]:
    """Every account (disabled ones too, so history keeps its names), by name, with its teams."""
    require(who, Perm.USER_READ)
    with db.read() as s:
        users = s.execute(
            select(User.id, User.name, User.role, User.is_active).order_by(User.name, User.id).limit(max(1, min(limit, 20000)))
        ).all()
        teams: dict[uuid.UUID, list[str]] = {}
        for user_id, team in s.execute(select(TeamMember.user_id, Team.name).join(Team, Team.id == TeamMember.team_id).order_by(Team.name)):
            teams.setdefault(user_id, []).append(team)
        return [Person(id=u.id, name=u.name, role=Role(u.role), is_active=u.is_active, teams=teams.get(u.id, [])) for u in users]
