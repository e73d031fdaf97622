"""Parties (people and organisations) and their roles on cases."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit import log as audit
from casework.domain.access import Perm, Principal
from casework.domain.errors import InvalidInput, NotFound
from casework.services.common import apply_changes, check_version, load, load_case, require, require_version
from casework.services.schemas import CasePartyLink, CasePartyView, PartyCreate, PartyUpdate, PartyView
from casework.store.models import CaseParty, Party
from casework.store.unit_of_work import Database


def create_party(db: Database, who: Principal, cmd: PartyCreate) -> PartyView:
    require(who, Perm.PARTY_MANAGE)
    with db.write() as s:
        party = Party(**{k: (v.value if hasattr(v, "value") else v) for k, v in cmd.model_dump().items()})
        s.add(party)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="party.create", data={"party_id": party.id, "fields": cmd.model_dump()})
        return PartyView.model_validate(party)


def get_party(db: Database, who: Principal, party_id: uuid.UUID) -> PartyView:
    require(who, Perm.PARTY_READ)
    with db.read() as s:
        return PartyView.model_validate(load(s, Party, party_id, "party", "party_id"))


def list_parties(db: Database, who: Principal, name: str | None = None, limit: int = 50) -> list[PartyView]:
    require(who, Perm.PARTY_READ)
    with db.read() as s:
        stmt = select(Party).order_by(Party.name, Party.id).limit(max(1, min(limit, 500)))
        if name:
            stmt = stmt.where(Party.name.ilike(f"%{name}%"))
        return [PartyView.model_validate(p) for p in s.scalars(stmt)]


def update_party(db: Database, who: Principal, party_id: uuid.UUID, cmd: PartyUpdate, *, if_match: int | None = None) -> PartyView:
    require_version(cmd.version, if_match)
    require(who, Perm.PARTY_MANAGE)
    with db.write() as s:
        party = load(s, Party, party_id, "party", "party_id")
        check_version(party.version, cmd.version, if_match)
        changes = apply_changes(party, cmd.model_dump(exclude_unset=True, exclude={"version"}), required=("name",))
        if changes:
            audit.append(s, actor_id=who.user_id, action="party.update", data={"party_id": party.id, "changes": changes})
            s.flush()
        return PartyView.model_validate(party)


def link_party(db: Database, who: Principal, key: str | uuid.UUID, cmd: CasePartyLink) -> CasePartyView:
    require(who, Perm.PARTY_MANAGE)
    with db.write() as s:
        case = load_case(s, key, who)
        party = load(s, Party, cmd.party_id, "party", "party_id")
        dup = s.scalars(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.party_id == party.id,
                                                CaseParty.role == cmd.role.value)).first()  # fmt: skip
        if dup:
            raise InvalidInput(f"party already has role {cmd.role.value} on this case", field="role")
        link = CaseParty(case_id=case.id, party_id=party.id, role=cmd.role.value)
        s.add(link)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="case.party.add", case_id=case.id,
                     data={"party_id": party.id, "role": cmd.role, "link_id": link.id})  # fmt: skip
        return CasePartyView(id=link.id, role=cmd.role, party=PartyView.model_validate(party), created_at=link.created_at)


def unlink_party(db: Database, who: Principal, key: str | uuid.UUID, link_id: uuid.UUID) -> None:
    require(who, Perm.PARTY_MANAGE)
    with db.write() as s:
        case = load_case(s, key, who)
        link = s.get(CaseParty, link_id)
        if link is None or link.case_id != case.id:
            raise NotFound(f"party link {link_id} not found on this case", field="link_id")
        if link.role == "customer" and case.customer_party_id == link.party_id:
            raise InvalidInput("change the case's customer before removing the customer role", field="link_id")
        s.delete(link)
        audit.append(s, actor_id=who.user_id, action="case.party.remove", case_id=case.id,
                     data={"party_id": link.party_id, "role": link.role, "link_id": link.id})  # fmt: skip


def case_parties(db: Database, who: Principal, key: str | uuid.UUID) -> list[CasePartyView]:
    require(who, Perm.PARTY_READ)
    with db.read() as s:
        case = load_case(s, key, who)
        rows = s.scalars(select(CaseParty).where(CaseParty.case_id == case.id).order_by(CaseParty.created_at, CaseParty.id))
        return [CasePartyView.model_validate(r) for r in rows]
