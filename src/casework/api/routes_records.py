"""Notes, communications, parties on a case, and the plan (goals and tasks)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from casework.api.deps import DB, IfMatch
from casework.api.problems import responses
from casework.api.security import Who
from casework.services import notes, parties, plans
from casework.services.schemas import (
    CasePartyLink,
    CasePartyView,
    CommunicationCreate,
    CommunicationView,
    GoalCreate,
    GoalUpdate,
    GoalView,
    NoteCreate,
    NoteView,
    PartyCreate,
    PartyUpdate,
    PartyView,
    TaskCreate,
    TaskUpdate,
    TaskView,
    Text300,
)

router = APIRouter(prefix="/api/v1", tags=["case records"])
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference")]
E = responses(401, 404, 409, 422)


@router.post("/cases/{key}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteView, responses=E)
def add_note(key: CaseKey, body: NoteCreate, db: DB, who: Who) -> NoteView:
    return notes.add_note(db, who, key, body)


@router.get("/cases/{key}/notes", response_model=list[NoteView], responses=E)
def list_notes(key: CaseKey, db: DB, who: Who) -> list[NoteView]:
    return notes.list_notes(db, who, key)


@router.post("/cases/{key}/communications", status_code=status.HTTP_201_CREATED, response_model=CommunicationView, responses=E)
def add_communication(key: CaseKey, body: CommunicationCreate, db: DB, who: Who) -> CommunicationView:
    return notes.add_communication(db, who, key, body)


@router.get("/cases/{key}/communications", response_model=list[CommunicationView], responses=E)
def list_communications(key: CaseKey, db: DB, who: Who) -> list[CommunicationView]:
    return notes.list_communications(db, who, key)


@router.get("/cases/{key}/parties", response_model=list[CasePartyView], responses=E)
def list_case_parties(key: CaseKey, db: DB, who: Who) -> list[CasePartyView]:
    return parties.case_parties(db, who, key)


@router.post("/cases/{key}/parties", status_code=status.HTTP_201_CREATED, response_model=CasePartyView, responses=E)
def link_party(key: CaseKey, body: CasePartyLink, db: DB, who: Who) -> CasePartyView:
    return parties.link_party(db, who, key, body)


@router.delete("/cases/{key}/parties/{link_id}", status_code=status.HTTP_204_NO_CONTENT, responses=E)
def unlink_party(key: CaseKey, link_id: uuid.UUID, db: DB, who: Who) -> None:
    parties.unlink_party(db, who, key, link_id)


@router.post("/parties", status_code=status.HTTP_201_CREATED, response_model=PartyView, responses=responses(401, 422))
def create_party(body: PartyCreate, db: DB, who: Who) -> PartyView:
    return parties.create_party(db, who, body)


@router.get("/parties", response_model=list[PartyView], responses=responses(401, 422))
def list_parties(
    db: DB, who: Who, name: Annotated[Text300 | None, Query(max_length=300)] = None, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[PartyView]:
    return parties.list_parties(db, who, name, limit)


@router.get("/parties/{party_id}", response_model=PartyView, responses=responses(401, 404, 422))
def get_party(party_id: uuid.UUID, db: DB, who: Who) -> PartyView:
    return parties.get_party(db, who, party_id)


@router.patch("/parties/{party_id}", response_model=PartyView, responses=responses(401, 404, 409, 412, 422))
def update_party(party_id: uuid.UUID, body: PartyUpdate, db: DB, who: Who, if_match: IfMatch) -> PartyView:
    return parties.update_party(db, who, party_id, body, if_match=if_match)


@router.get("/cases/{key}/plan", response_model=list[GoalView], responses=E)
def get_plan(key: CaseKey, db: DB, who: Who) -> list[GoalView]:
    return plans.get_plan(db, who, key)


@router.post("/cases/{key}/goals", status_code=status.HTTP_201_CREATED, response_model=GoalView, responses=E)
def add_goal(key: CaseKey, body: GoalCreate, db: DB, who: Who) -> GoalView:
    return plans.add_goal(db, who, key, body)


@router.patch("/cases/{key}/goals/{goal_id}", response_model=GoalView, responses=E)
def update_goal(key: CaseKey, goal_id: uuid.UUID, body: GoalUpdate, db: DB, who: Who) -> GoalView:
    return plans.update_goal(db, who, key, goal_id, body)


@router.post("/cases/{key}/goals/{goal_id}/tasks", status_code=status.HTTP_201_CREATED, response_model=TaskView, responses=E)
def add_task(key: CaseKey, goal_id: uuid.UUID, body: TaskCreate, db: DB, who: Who) -> TaskView:
    return plans.add_task(db, who, key, goal_id, body)


@router.patch("/cases/{key}/tasks/{task_id}", response_model=TaskView, responses=E)
def update_task(key: CaseKey, task_id: uuid.UUID, body: TaskUpdate, db: DB, who: Who) -> TaskView:
    return plans.update_task(db, who, key, task_id, body)
