"""Configured workflows over HTTP: case types, questionnaires, readiness, decisions and decision tables.

Two routers: ``casetypes_router`` (tag "case types": definitions, questionnaire answers and the
readiness of a case for its next move) and ``decisions_router`` (tag "decisions": decisions taken
on cases and the versioned decision tables behind them).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import Field, StringConstraints
from starlette.convertors import StringConvertor, register_url_convertor

from casework.api.deps import DB, etag
from casework.api.problems import responses
from casework.api.security import Who
from casework.services import answers, casetypes, decisions, rulesets, workflow
from casework.services.schemas import Clean, Command, CustomData, Text2000, raw_length
from casework.services.workflow_schemas import (
    AnswersSubmit,
    AnswersVersionView,
    AnswersView,
    CaseTypeDetail,
    CaseTypeSource,
    CaseTypeSummary,
    CaseTypeVersionView,
    DecisionPoint,
    DecisionResolve,
    DecisionView,
    DiffView,
    DraftCreate,
    ReadinessView,
    SimulationReport,
    SimulationRequest,
    TableSummary,
    TableVersionView,
    ValidationReport,
)


class _CaseTypeSegment(StringConvertor):
    """A case type key in a path: any segment but ``validate``, so ``/case-types/validate`` is only the
    POST route and a GET there is a 405 naming POST, not a lookup of a case type called "validate"."""

    regex = "(?!validate$)[^/]+"


register_url_convertor("casetype", _CaseTypeSegment())

casetypes_router = APIRouter(prefix="/api/v1", tags=["case types"])
decisions_router = APIRouter(prefix="/api/v1", tags=["decisions"])
routers = (casetypes_router, decisions_router)

MAX_VERSION = 2**31 - 1
CaseKey = Annotated[str, Path(min_length=1, max_length=64, description="Case UUID or reference (CASE-2026-000123)")]
TypeKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Case type key, e.g. complaint")]
QuestionnaireKey = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Questionnaire key, e.g. complaint_details")
]
TableName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$", description="Decision table name, e.g. complaint.risk")]
TableVersion = Annotated[int, Path(ge=1, le=MAX_VERSION, description="Version of the decision table")]
DecisionId = Annotated[uuid.UUID, Path(description="The decision's id (see GET …/decisions)")]
Point = Annotated[DecisionPoint, Path(description="Decision point bound to a table by the case type")]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), raw_length(2000), Clean]


class DecisionAccept(Command):
    """Accept a recommendation as it is; the reason is optional."""

    reason: Text2000 | None = None


class DecisionOverride(DecisionResolve):
    """Override a recommendation: the outputs that replace the recommended ones, and why."""

    outputs: Annotated[CustomData, Field(min_length=1, description='Outputs replacing the recommended ones, e.g. {"priority": "P1"}')]
    reason: Reason


# ---------------------------------------------------------------- case types


@casetypes_router.get("/case-types", response_model=list[CaseTypeSummary], responses=responses(401))
def list_case_types(db: DB, who: Who) -> list[CaseTypeSummary]:
    return casetypes.list_case_types(db, who)


@casetypes_router.post(
    "/case-types", status_code=status.HTTP_201_CREATED, response_model=CaseTypeVersionView, responses=responses(401, 409, 422)
)
def install_case_type(body: CaseTypeSource, db: DB, who: Who, response: Response) -> CaseTypeVersionView:
    """Install a new version of a case type (administrators). Cases already open keep the version they were opened with."""
    view = casetypes.install_source(db, who, body.source, body.filename)
    response.headers["Location"] = f"/api/v1/case-types/{view.key}?version={view.version}"
    return view


@casetypes_router.post("/case-types/validate", response_model=ValidationReport, responses=responses(401, 422))
def validate_case_type(body: CaseTypeSource, db: DB, who: Who) -> ValidationReport:
    """Check a definition without installing it; the report lists every problem with its line and field."""
    return casetypes.validate_source(db, who, body.source, body.filename)


@casetypes_router.get("/case-types/{case_type:casetype}", response_model=CaseTypeDetail, responses=responses(401, 404, 422))
def get_case_type(case_type: TypeKey, db: DB, who: Who, version: VersionQuery = None) -> CaseTypeDetail:
    return casetypes.get_case_type(db, who, case_type, version)


FromVersion = Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION, description="The older version")]


@casetypes_router.get("/case-types/{case_type:casetype}/diff", response_model=DiffView, responses=responses(401, 404, 422))
def diff_case_type(
    case_type: TypeKey,
    db: DB,
    who: Who,
    from_version: FromVersion,
    to: Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="The newer version (default: the latest)")] = None,
) -> DiffView:
    return casetypes.diff_case_type(db, who, case_type, from_version, to)


@casetypes_router.post("/case-types/{case_type:casetype}/diff", response_model=DiffView, responses=responses(401, 404, 422))
def diff_candidate(case_type: TypeKey, body: CaseTypeSource, db: DB, who: Who, from_version: FromVersion) -> DiffView:
    """Compare an installed version with a candidate definition that is not installed."""
    return casetypes.diff_case_type(db, who, case_type, from_version, source=body.source)


# ---------------------------------------------------------------- questionnaires and readiness


@casetypes_router.get("/cases/{key}/questionnaires", response_model=list[AnswersView], responses=responses(401, 404, 422))
def list_questionnaires(key: CaseKey, db: DB, who: Who) -> list[AnswersView]:
    return answers.list_questionnaires(db, who, key)


@casetypes_router.get("/cases/{key}/questionnaires/{questionnaire}", response_model=AnswersView, responses=responses(401, 404, 422))
def get_answers(key: CaseKey, questionnaire: QuestionnaireKey, db: DB, who: Who) -> AnswersView:
    return answers.get_answers(db, who, key, questionnaire)


@casetypes_router.put("/cases/{key}/questionnaires/{questionnaire}", response_model=AnswersView, responses=responses(401, 404, 409, 422))
def submit_answers(key: CaseKey, questionnaire: QuestionnaireKey, body: AnswersSubmit, db: DB, who: Who) -> AnswersView:
    """Save a new version of the answers (the whole set). Send the version you edited: a stale one is a 409."""
    return answers.submit_answers(db, who, key, questionnaire, body)


@casetypes_router.get(
    "/cases/{key}/questionnaires/{questionnaire}/versions", response_model=list[AnswersVersionView], responses=responses(401, 404, 422)
)
def answer_history(key: CaseKey, questionnaire: QuestionnaireKey, db: DB, who: Who) -> list[AnswersVersionView]:
    return answers.answer_history(db, who, key, questionnaire)


@casetypes_router.get("/cases/{key}/readiness", response_model=ReadinessView, responses=responses(401, 404, 422))
def readiness(key: CaseKey, db: DB, who: Who) -> ReadinessView:
    """For each move the case may make next, whether its case type's criteria allow it and, if not, what is unmet."""
    return workflow.readiness(db, who, key)


# ---------------------------------------------------------------- decisions on cases


@decisions_router.get("/cases/{key}/decisions", response_model=list[DecisionView], responses=responses(401, 404, 422))
def list_decisions(key: CaseKey, db: DB, who: Who) -> list[DecisionView]:
    return decisions.list_decisions(db, who, key)


@decisions_router.post(
    "/cases/{key}/decisions/{point}",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionView,
    responses=responses(401, 404, 409, 422),
)
def run_decision(key: CaseKey, point: Point, db: DB, who: Who) -> DecisionView:
    """Take the decision now with the published table the case type binds at this point."""
    return decisions.run_decision(db, who, key, point)


@decisions_router.post("/cases/{key}/decisions/{decision_id}/accept", response_model=DecisionView, responses=responses(401, 404, 409, 422))
def accept_decision(
    key: CaseKey, decision_id: DecisionId, db: DB, who: Who, response: Response, body: Annotated[DecisionAccept | None, Body()] = None
) -> DecisionView:
    """Accept a pending recommendation: its outputs take effect on the case."""
    cmd = DecisionResolve(reason=body.reason if body else None)
    view, case = decisions.resolve_decision(db, who, key, decision_id, cmd)
    response.headers["ETag"] = etag(case.version)
    return view


@decisions_router.post(
    "/cases/{key}/decisions/{decision_id}/override", response_model=DecisionView, responses=responses(401, 404, 409, 422)
)
def override_decision(key: CaseKey, decision_id: DecisionId, body: DecisionOverride, db: DB, who: Who, response: Response) -> DecisionView:
    """Override a pending recommendation with other outputs and a reason; those outputs take effect."""
    view, case = decisions.resolve_decision(db, who, key, decision_id, DecisionResolve(outputs=body.outputs, reason=body.reason))
    response.headers["ETag"] = etag(case.version)
    return view


# ---------------------------------------------------------------- decision tables


@decisions_router.get("/decision-tables", response_model=list[TableSummary], responses=responses(401))
def list_tables(db: DB, who: Who) -> list[TableSummary]:
    return rulesets.list_tables(db, who)


@decisions_router.get("/decision-tables/{name}", response_model=TableVersionView, responses=responses(401, 404, 422))
def get_table(name: TableName, db: DB, who: Who, version: VersionQuery = None) -> TableVersionView:
    """A given version, else the published one, else the newest draft."""
    return rulesets.get_table(db, who, name, version)


@decisions_router.get("/decision-tables/{name}/versions", response_model=list[TableVersionView], responses=responses(401, 404, 422))
def table_versions(name: TableName, db: DB, who: Who) -> list[TableVersionView]:
    return rulesets.table_versions(db, who, name)


@decisions_router.post(
    "/decision-tables/{name}/drafts", status_code=status.HTTP_201_CREATED, response_model=TableVersionView, responses=responses(401, 422)
)
def create_draft(name: TableName, body: DraftCreate, db: DB, who: Who, response: Response) -> TableVersionView:
    """Save a new draft version (as a JSON object in ``definition`` or YAML text in ``source``); drafts decide nothing until published."""
    view = rulesets.create_draft(db, who, name, body)
    response.headers["Location"] = f"/api/v1/decision-tables/{view.name}?version={view.version}"
    return view


@decisions_router.post(
    "/decision-tables/{name}/versions/{version}/publish", response_model=TableVersionView, responses=responses(401, 404, 409, 422)
)
def publish_table(name: TableName, version: TableVersion, db: DB, who: Who) -> TableVersionView:
    """Publish a draft: later decisions use it, and the previously published version is retired."""
    return rulesets.publish(db, who, name, version)


@decisions_router.post(
    "/decision-tables/{name}/versions/{version}/simulate", response_model=SimulationReport, responses=responses(401, 404, 409, 422)
)
def simulate_table(
    name: TableName, version: TableVersion, db: DB, who: Who, body: Annotated[SimulationRequest | None, Body()] = None
) -> SimulationReport:
    """Replay a draft over recently closed cases and compare it with the published version; nothing is written."""
    return rulesets.simulate(db, who, name, version, last=(body or SimulationRequest()).last)
