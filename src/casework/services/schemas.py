"""Input commands and read models shared by the API and the CLI.

Inputs forbid unknown fields and bound every string, number and date so bad input is
rejected with a message naming the field before it can reach the database.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from casework.domain.lifecycle import Phase, Priority, Status

#: A case type's key; which types exist is decided by the installed definitions, checked by the services.
CaseTypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _datetime_in_range(value: dt.datetime) -> dt.datetime:
    # Check before converting (so the conversion cannot overflow) and after (so an offset
    # cannot carry a timestamp past the bounds once it is stored in UTC).
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _bounded(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def raw_length(max_length: int) -> BeforeValidator:
    """The documented maximum applies to the text as sent: stripping must not let 301 characters through a 300 limit."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > max_length:
            raise ValueError(f"should have at most {max_length} characters")
        return value

    return BeforeValidator(check)


Clean = AfterValidator(_clean_text)
Title = Annotated[str, _bounded(300, 1), raw_length(300), Clean]
Name = Annotated[str, _bounded(200, 1), raw_length(200), Clean]
LongText = Annotated[str, _bounded(20000), raw_length(20000), Clean]
NoteBody = Annotated[str, _bounded(20000, 1), raw_length(20000), Clean]
Text50 = Annotated[str, _bounded(50), raw_length(50), Clean]
Text100 = Annotated[str, _bounded(100), raw_length(100), Clean]
Text200 = Annotated[str, _bounded(200), raw_length(200), Clean]
Text300 = Annotated[str, _bounded(300), raw_length(300), Clean]
Text1000 = Annotated[str, _bounded(1000), raw_length(1000), Clean]
Text2000 = Annotated[str, _bounded(2000), raw_length(2000), Clean]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    raw_length(320),
    AfterValidator(_clean_text),
]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_text(value: Any) -> Any:
    """Dates are written YYYY-MM-DD; pydantic would also take 0 or "0" as 1970-01-01, or a timestamp."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return value.strip()
    raise ValueError("must be a date written YYYY-MM-DD")


def _datetime_text(value: Any) -> Any:
    """Date-times are ISO 8601 with a time of day, never a bare number (a Unix timestamp) or a date."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.match(value.strip()):
        return value.strip()
    raise ValueError("must be a date and time such as 2026-05-01T09:30:00Z")


Date = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(_date_in_range)]
DateTime = Annotated[dt.datetime, BeforeValidator(_datetime_text), AfterValidator(_datetime_in_range)]
RiskScore = Annotated[int, Field(ge=0, le=100)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 10:
        raise ValueError("is nested too deeply (10 levels at most)")
    if isinstance(value, str):
        _clean_text(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > 2**53:
            raise ValueError("holds an integer too large to store exactly")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("holds a number that is not finite")
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean_text(key)
            _check_json(item, depth + 1)


def _custom_data(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value)
    if len(json.dumps(value)) > 65536:
        raise ValueError("is larger than 64 KiB")
    return value


CustomData = Annotated[dict[str, Any], AfterValidator(_custom_data)]


def _not_null(value: Any) -> Any:
    """Partial updates may omit a field, but a column that is NOT NULL cannot be set to null."""
    if value is None:
        raise ValueError("cannot be null")
    return value


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PartyKind(str, enum.Enum):
    PERSON = "person"
    ORGANISATION = "organisation"


class PartyRole(str, enum.Enum):
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"
    WITNESS = "witness"
    REPRESENTATIVE = "representative"
    EXPERT = "expert"
    OTHER = "other"


class NoteVisibility(str, enum.Enum):
    INTERNAL = "internal"
    SHARED = "shared"


class Channel(str, enum.Enum):
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    PORTAL = "portal"
    SMS = "sms"
    CHAT = "chat"
    IN_PERSON = "in_person"


class Direction(str, enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class GoalStatus(str, enum.Enum):
    OPEN = "open"
    ACHIEVED = "achieved"
    ABANDONED = "abandoned"


class TaskStatus(str, enum.Enum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class SortKey(str, enum.Enum):
    CREATED = "created_at"
    CREATED_DESC = "-created_at"
    UPDATED = "updated_at"
    UPDATED_DESC = "-updated_at"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"
    DUE = "due_date"
    DUE_DESC = "-due_date"
    REFERENCE = "reference"
    REFERENCE_DESC = "-reference"
    RISK = "risk_score"
    RISK_DESC = "-risk_score"


# ---------------------------------------------------------------- commands


class PartyCreate(Command):
    kind: PartyKind = PartyKind.PERSON
    name: Title
    email: Email | None = None
    phone: Text50 | None = None
    address: Text1000 | None = None
    date_of_birth: Date | None = None
    registration_number: Text100 | None = None


class PartyUpdate(Command):
    name: Title | None = None
    email: Email | None = None
    phone: Text50 | None = None
    address: Text1000 | None = None
    date_of_birth: Date | None = None
    registration_number: Text100 | None = None
    version: Version | None = None


class CaseCreate(Command):
    case_type: CaseTypeKey
    title: Title
    description: LongText = ""
    priority: Priority = Priority.P3
    risk_score: RiskScore | None = None
    assignee_id: uuid.UUID | None = None
    team: Text100 | None = None
    customer_party_id: uuid.UUID | None = None
    custom_data: CustomData = Field(default_factory=dict)
    due_date: Date | None = None


class CaseUpdate(Command):
    """Only the fields present are changed; ``version`` (or If-Match) guards against lost updates."""

    title: Title | None = None
    description: LongText | None = None
    priority: Priority | None = None
    risk_score: RiskScore | None = None
    assignee_id: uuid.UUID | None = None
    team: Text100 | None = None
    customer_party_id: uuid.UUID | None = None
    custom_data: CustomData | None = None
    due_date: Date | None = None
    version: Version | None = None

    @field_validator("title", "priority", "description", "custom_data")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _not_null(value)


class TransitionRequest(Command):
    to_phase: Phase
    reason: Text2000 | None = None
    outcome: Text200 | None = None
    version: Version | None = None


class AssignRequest(Command):
    assignee_id: uuid.UUID | None = None
    team: Text100 | None = None
    version: Version | None = None


class NoteCreate(Command):
    body: NoteBody
    visibility: NoteVisibility = NoteVisibility.INTERNAL


class CommunicationCreate(Command):
    channel: Channel
    direction: Direction
    subject: Text300 = ""
    body: LongText = ""
    occurred_at: DateTime | None = None
    party_id: uuid.UUID | None = None


class CasePartyLink(Command):
    party_id: uuid.UUID
    role: PartyRole


class GoalCreate(Command):
    title: Title
    description: LongText = ""


class GoalUpdate(Command):
    title: Title | None = None
    description: LongText | None = None
    status: GoalStatus | None = None
    version: Version | None = None

    @field_validator("title", "description", "status")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _not_null(value)


class TaskCreate(Command):
    title: Title
    assignee_id: uuid.UUID | None = None
    due_date: Date | None = None


class TaskUpdate(Command):
    title: Title | None = None
    assignee_id: uuid.UUID | None = None
    due_date: Date | None = None
    status: TaskStatus | None = None
    version: Version | None = None

    @field_validator("title", "status")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _not_null(value)


class CaseFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    phase: Phase | None = None
    case_type: CaseTypeKey | None = None
    priority: Priority | None = None
    assignee_id: uuid.UUID | None = None
    team: Text100 | None = None
    customer_party_id: uuid.UUID | None = None
    created_from: Date | None = None
    created_to: Date | None = None
    due_from: Date | None = None
    due_to: Date | None = None
    q: Text200 | None = None


# ---------------------------------------------------------------- views


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PartyView(View):
    id: uuid.UUID
    kind: PartyKind
    name: str
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: dt.date | None
    registration_number: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class CasePartyView(View):
    id: uuid.UUID
    role: PartyRole
    party: PartyView
    created_at: dt.datetime


class CaseView(View):
    id: uuid.UUID
    reference: str
    case_type: str
    title: str
    description: str
    status: Status
    phase: Phase
    outcome: str | None
    priority: Priority
    risk_score: int | None
    assignee_id: uuid.UUID | None
    team: str | None
    customer_party_id: uuid.UUID | None
    custom_data: dict[str, Any]
    due_date: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    version: int
    allowed_transitions: list[Phase] = Field(default_factory=list)


class CasePage(BaseModel):
    items: list[CaseView]
    next_cursor: str | None = None


class PhaseChangeView(View):
    seq: int
    from_phase: Phase | None
    to_phase: Phase
    kind: str
    reason: str | None
    outcome: str | None
    actor_id: uuid.UUID
    at: dt.datetime


class NoteView(View):
    id: uuid.UUID
    case_id: uuid.UUID
    author_id: uuid.UUID
    body: str
    visibility: NoteVisibility
    created_at: dt.datetime


class CommunicationView(View):
    id: uuid.UUID
    case_id: uuid.UUID
    party_id: uuid.UUID | None
    channel: Channel
    direction: Direction
    subject: str
    body: str
    occurred_at: dt.datetime
    recorded_by: uuid.UUID
    created_at: dt.datetime


class TaskView(View):
    id: uuid.UUID
    goal_id: uuid.UUID
    case_id: uuid.UUID
    title: str
    assignee_id: uuid.UUID | None
    due_date: dt.date | None
    status: TaskStatus
    created_at: dt.datetime
    completed_at: dt.datetime | None
    version: int


class GoalView(View):
    id: uuid.UUID
    case_id: uuid.UUID
    title: str
    description: str
    status: GoalStatus
    created_at: dt.datetime
    version: int
    tasks: list[TaskView] = Field(default_factory=list)


class AuditEntryView(View):
    seq: int
    at: dt.datetime
    actor_id: uuid.UUID | None
    case_id: uuid.UUID | None
    action: str
    data: dict[str, Any]
    hash: str


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None
    message: str
