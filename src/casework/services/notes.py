"""Notes and communications: the case's written record, both searchable and audited."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit import log as audit
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import Forbidden
from casework.services.common import load, load_case, record_access, require
from casework.services.schemas import CommunicationCreate, CommunicationView, NoteCreate, NoteView, NoteVisibility
from casework.services.sharing import shared_parts
from casework.store import search
from casework.store.models import Communication, Note, Party
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


def add_note(db: Database, who: Principal, key: str | uuid.UUID, cmd: NoteCreate) -> NoteView:
    require(who, Perm.NOTE_ADD)
    if cmd.visibility is NoteVisibility.INTERNAL:
        require(who, Perm.NOTE_INTERNAL_ADD)
    with db.write() as s:
        case = load_case(s, key, who)
        note = Note(case_id=case.id, author_id=who.user_id, body=cmd.body, visibility=cmd.visibility.value)
        s.add(note)
        s.flush()
        search.append_text(s, case.id, cmd.body)
        audit.append(s, actor_id=who.user_id, action="note.add", case_id=case.id,
                     data={"note_id": note.id, "visibility": note.visibility, "body": note.body})  # fmt: skip
        return NoteView.model_validate(note)


def list_notes(db: Database, who: Principal, key: str | uuid.UUID) -> list[NoteView]:
    """Internal notes never reach customers or third parties; a third party sees shared notes only when granted."""
    require(who, Perm.CASE_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        stmt = select(Note).where(Note.case_id == case.id)
        if not who.can(Perm.NOTE_INTERNAL_READ):
            stmt = stmt.where(Note.visibility == NoteVisibility.SHARED.value)
        if who.role is Role.THIRD_PARTY and "notes" not in shared_parts(s, who, case.id):
            raise Forbidden("the notes of this case are not shared with you")
        record_access(s, who, case.id, "notes")
        return [NoteView.model_validate(n) for n in s.scalars(stmt.order_by(Note.created_at, Note.id))]


def add_communication(db: Database, who: Principal, key: str | uuid.UUID, cmd: CommunicationCreate) -> CommunicationView:
    require(who, Perm.COMMUNICATION_ADD)
    with db.write() as s:
        case = load_case(s, key, who)
        if cmd.party_id is not None:
            load(s, Party, cmd.party_id, "party", "party_id")
        comm = Communication(
            case_id=case.id,
            party_id=cmd.party_id,
            channel=cmd.channel.value,
            direction=cmd.direction.value,
            subject=cmd.subject,
            body=cmd.body,
            occurred_at=cmd.occurred_at or utcnow(),
            recorded_by=who.user_id,
        )
        s.add(comm)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="communication.add", case_id=case.id,
                     data={"communication_id": comm.id, "channel": comm.channel, "direction": comm.direction,
                           "subject": comm.subject})  # fmt: skip
        return CommunicationView.model_validate(comm)


def list_communications(db: Database, who: Principal, key: str | uuid.UUID) -> list[CommunicationView]:
    require(who, Perm.COMMUNICATION_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        record_access(s, who, case.id, "communications")
        rows = s.scalars(
            select(Communication).where(Communication.case_id == case.id).order_by(Communication.occurred_at, Communication.id)
        )
        return [CommunicationView.model_validate(c) for c in rows]
