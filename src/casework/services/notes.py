"""Notes and communications: the case's written record, both searchable and audited."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casework.audit import log as audit
from casework.services.common import load, load_case
from casework.services.schemas import CommunicationCreate, CommunicationView, NoteCreate, NoteView
from casework.store import search
from casework.store.models import Communication, Note, Party
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


def add_note(db: Database, actor_id: uuid.UUID, key: str | uuid.UUID, cmd: NoteCreate) -> NoteView:
    with db.write() as s:
        case = load_case(s, key)
        note = Note(case_id=case.id, author_id=actor_id, body=cmd.body, visibility=cmd.visibility.value)
        s.add(note)
        s.flush()
        search.append_text(s, case.id, cmd.body)
        audit.append(s, actor_id=actor_id, action="note.add", case_id=case.id,
                     data={"note_id": note.id, "visibility": note.visibility, "body": note.body})  # fmt: skip
        return NoteView.model_validate(note)


def list_notes(db: Database, key: str | uuid.UUID) -> list[NoteView]:
    with db.read() as s:
        case = load_case(s, key)
        rows = s.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at, Note.id))
        return [NoteView.model_validate(n) for n in rows]


def add_communication(db: Database, actor_id: uuid.UUID, key: str | uuid.UUID, cmd: CommunicationCreate) -> CommunicationView:
    with db.write() as s:
        case = load_case(s, key)
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
            recorded_by=actor_id,
        )
        s.add(comm)
        s.flush()
        audit.append(s, actor_id=actor_id, action="communication.add", case_id=case.id,
                     data={"communication_id": comm.id, "channel": comm.channel, "direction": comm.direction,
                           "subject": comm.subject})  # fmt: skip
        return CommunicationView.model_validate(comm)


def list_communications(db: Database, key: str | uuid.UUID) -> list[CommunicationView]:
    with db.read() as s:
        case = load_case(s, key)
        rows = s.scalars(
            select(Communication).where(Communication.case_id == case.id).order_by(Communication.occurred_at, Communication.id)
        )
        return [CommunicationView.model_validate(c) for c in rows]
