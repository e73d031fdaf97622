"""Cases: intake, reading, editing, listing, search, transitions and history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from casework.api.deps import DB, IfMatch, etag
from casework.api.problems import responses
from casework.api.security import Who
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import cases, history, lifecycle
from casework.services.schemas import (
    AssignRequest,
    AuditEntryView,
    CaseCreate,
    CaseFilter,
    CasePage,
    CaseTypeKey,
    CaseUpdate,
    CaseView,
    Date,
    PhaseChangeView,
    SortKey,
    Text100,
    Text200,
    TransitionRequest,
)

router = APIRouter(prefix="/api/v1", tags=["cases"])
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference (CASE-2026-000123)")]


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseView, responses=responses(401, 404, 422))
def create_case(body: CaseCreate, db: DB, who: Who, response: Response) -> CaseView:
    view = cases.create_case(db, who, body)
    response.headers["ETag"] = etag(view.version)
    response.headers["Location"] = f"/api/v1/cases/{view.id}"
    return view


@router.get("/cases", response_model=CasePage, responses=responses(401, 422))
def list_cases(
    db: DB,
    who: Who,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    phase: Phase | None = None,
    case_type: CaseTypeKey | None = None,
    priority: Priority | None = None,
    assignee_id: uuid.UUID | None = None,
    team: Annotated[Text100 | None, Query(max_length=100)] = None,
    customer_party_id: uuid.UUID | None = None,
    created_from: Date | None = None,
    created_to: Date | None = None,
    due_from: Date | None = None,
    due_to: Date | None = None,
    q: Annotated[Text200 | None, Query(max_length=200, description="Full-text search over title, description and notes")] = None,
    sort: SortKey = SortKey.CREATED_DESC,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CasePage:
    # The parameters above carry the same validators as CaseFilter, so bad input is a 422 naming the
    # parameter; should the two ever drift apart, report the filter's complaint as a 422 too, never a 500.
    try:
        f = CaseFilter.model_validate(dict(
            status=status_, phase=phase, case_type=case_type, priority=priority, assignee_id=assignee_id, team=team,
            customer_party_id=customer_party_id, created_from=created_from, created_to=created_to, due_from=due_from,
            due_to=due_to, q=q,
        ))  # fmt: skip
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from exc
    return cases.list_cases(db, who, f, sort=sort, cursor=cursor, limit=limit)


@router.get("/search", response_model=list[CaseView], responses=responses(401, 422))
def search(
    db: DB, who: Who, q: Annotated[str, Query(min_length=1, max_length=200)], limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[CaseView]:
    return cases.search_cases(db, who, q, limit)


@router.get("/cases/{key}", response_model=CaseView, responses=responses(401, 404, 422))
def get_case(key: CaseKey, db: DB, who: Who, response: Response) -> CaseView:
    view = cases.get_case(db, who, key)
    response.headers["ETag"] = etag(view.version)
    return view


@router.patch("/cases/{key}", response_model=CaseView, responses=responses(401, 404, 409, 412, 422))
def update_case(key: CaseKey, body: CaseUpdate, db: DB, who: Who, if_match: IfMatch, response: Response) -> CaseView:
    view = cases.update_case(db, who, key, body, if_match=if_match)
    response.headers["ETag"] = etag(view.version)
    return view


@router.post("/cases/{key}/assignment", response_model=CaseView, responses=responses(401, 404, 409, 412, 422))
def assign_case(key: CaseKey, body: AssignRequest, db: DB, who: Who, if_match: IfMatch, response: Response) -> CaseView:
    view = cases.assign_case(db, who, key, body, if_match=if_match)
    response.headers["ETag"] = etag(view.version)
    return view


@router.post("/cases/{key}/transitions", response_model=CaseView, responses=responses(401, 404, 409, 412, 422))
def transition(key: CaseKey, body: TransitionRequest, db: DB, who: Who, if_match: IfMatch, response: Response) -> CaseView:
    view = lifecycle.transition_case(db, who, key, body, if_match=if_match)
    response.headers["ETag"] = etag(view.version)
    return view


@router.get("/cases/{key}/phases", response_model=list[PhaseChangeView], responses=responses(401, 404, 422))
def phase_history(key: CaseKey, db: DB, who: Who) -> list[PhaseChangeView]:
    return lifecycle.phase_history(db, who, key)


@router.get("/cases/{key}/history", response_model=list[AuditEntryView], responses=responses(401, 404, 422))
def case_history(
    key: CaseKey,
    db: DB,
    who: Who,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    include_access: Annotated[bool, Query(description="Also list who read the case")] = False,
) -> list[AuditEntryView]:
    return history.case_history(db, who, key, limit, include_access=include_access)
