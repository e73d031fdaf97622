"""Commands and views for configured workflows: case types, questionnaires, decisions and rule sets."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from casework.domain.lifecycle import Phase
from casework.services.schemas import Command, CustomData, Text2000, View

#: A case-type definition or decision table as YAML text; generous but bounded.
Source = Annotated[str, StringConstraints(min_length=1, max_length=200_000)]
TableName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,100}$")]
CaseTypeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
QuestionnaireKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class DecisionPoint(str, enum.Enum):
    SCREENING = "screening"
    RISK = "risk"
    ROUTING = "routing"
    NEXT_ACTION = "next_action"


class DecisionStatus(str, enum.Enum):
    APPLIED = "applied"  # automatic mode: the output took effect at once
    PENDING = "pending"  # recommend mode: waiting for a person
    ACCEPTED = "accepted"
    OVERRIDDEN = "overridden"
    SUPERSEDED = "superseded"  # a newer decision at the same point replaced a pending one


class TableStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


# ---------------------------------------------------------------- case types


class CaseTypeSource(Command):
    source: Source
    filename: Annotated[str, StringConstraints(max_length=200)] = "case-type.yaml"


class DefinitionProblem(BaseModel):
    file: str
    line: int | None
    field: str
    message: str


class ValidationReport(BaseModel):
    valid: bool
    key: str | None = None
    version: int | None = None
    errors: list[DefinitionProblem] = Field(default_factory=list)


class CaseTypeVersionView(View):
    key: str
    version: int
    name: str
    checksum: str
    installed_at: dt.datetime
    installed_by: uuid.UUID | None


class CaseTypeSummary(BaseModel):
    key: str
    name: str
    description: str
    latest_version: int
    versions: list[int]
    outcomes: list[str]
    questionnaires: list[str]


class CaseTypeDetail(BaseModel):
    key: str
    version: int
    name: str
    checksum: str
    installed_at: dt.datetime
    definition: dict[str, Any]
    source: str


class Change(BaseModel):
    path: str
    kind: str
    before: Any = None
    after: Any = None


class DiffView(BaseModel):
    key: str
    from_version: int | str
    to_version: int | str
    changes: list[Change]
    text: str


# ---------------------------------------------------------------- questionnaires and readiness


class AnswersSubmit(Command):
    answers: CustomData
    version: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        default=None, description="The answers version you edited (0 when there were none yet); a stale one is a 409"
    )


class QuestionView(BaseModel):
    key: str
    text: str
    type: str
    required: bool
    options: list[str]
    help: str


class AnswersView(BaseModel):
    questionnaire: str
    title: str
    phase: Phase
    version: int
    answers: dict[str, Any]
    complete: bool
    missing: list[str]
    questions: list[QuestionView]
    answered_by: uuid.UUID | None = None
    answered_at: dt.datetime | None = None


class AnswersVersionView(View):
    version: int
    answers: dict[str, Any]
    complete: bool
    answered_by: uuid.UUID
    answered_at: dt.datetime


class MoveReadiness(BaseModel):
    to_phase: Phase
    ready: bool
    unmet: list[str]


class ReadinessView(BaseModel):
    phase: Phase
    case_type: str
    case_type_version: int
    moves: list[MoveReadiness]
    required_documents: list[str]
    outcomes: list[str]


# ---------------------------------------------------------------- decisions


class DecisionView(View):
    id: uuid.UUID
    case_id: uuid.UUID
    point: DecisionPoint
    table_name: str
    table_version: int
    mode: str
    inputs: dict[str, Any]
    matched: list[str]
    outputs: dict[str, Any]
    explanation: str
    status: DecisionStatus
    decided_at: dt.datetime
    decided_by: uuid.UUID | None
    resolved_by: uuid.UUID | None
    resolved_at: dt.datetime | None
    final_outputs: dict[str, Any] | None
    reason: str | None


class DecisionResolve(Command):
    """Accept a recommendation as it is, or override it with other outputs and a reason."""

    outputs: CustomData | None = None
    reason: Text2000 | None = None


# ---------------------------------------------------------------- decision tables


class TableVersionView(View):
    name: str
    version: int
    status: TableStatus
    comment: str
    created_by: uuid.UUID | None
    created_at: dt.datetime
    published_by: uuid.UUID | None
    published_at: dt.datetime | None
    definition: dict[str, Any]


class TableSummary(BaseModel):
    name: str
    title: str
    published_version: int | None
    latest_version: int
    drafts: list[int]
    used_by: list[str]


class DraftCreate(Command):
    """A new draft: the table as a JSON object, or as YAML text in ``source``."""

    definition: CustomData | None = None
    source: Source | None = None
    comment: Text2000 = ""


class SimulationRequest(Command):
    last: Annotated[int, Field(ge=1, le=10_000)] = 100


class SimulationExample(BaseModel):
    case_id: uuid.UUID
    reference: str
    current: dict[str, Any]
    draft: dict[str, Any]
    current_rules: list[str]
    draft_rules: list[str]


class SimulationReport(BaseModel):
    table: str
    published_version: int | None
    draft_version: int
    cases: int
    changed: int
    unchanged: int
    errors: int
    examples: list[SimulationExample]
