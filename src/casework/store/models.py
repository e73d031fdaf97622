"""ORM models: the central database of cases and everything about them."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from casework.store import versioning  # noqa: F401  (one version bump per transaction)
from casework.store.types import UTCDateTime, utcnow


def _aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` as UTC when it came without a zone (SQLite keeps none; columns are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    role: Mapped[str] = mapped_column(String(20), default="case_worker", server_default="case_worker")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    party_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the customer/third party this account speaks for
    locale: Mapped[str | None] = mapped_column(String(10))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class ApiToken(Base):
    """Personal API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """Server-side web session; the cookie holds a secret whose SHA-256 is the id."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    client: Mapped[str | None] = mapped_column(String(100))


class CaseShare(Base):
    """A case shared with a third party, for a limited time and for named parts only."""

    __tablename__ = "case_shares"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    kind: Mapped[str] = mapped_column(String(20))  # person | organisation
    name: Mapped[str] = mapped_column(String(300), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(1000))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    registration_number: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    case_type: Mapped[str] = mapped_column(String(64), index=True)
    case_type_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the definition it was opened with
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    phase: Mapped[str] = mapped_column(String(20), default="screening")
    outcome: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(2), default="P3")
    risk_score: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(100))
    customer_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    custom_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        # Filters end in (created_at, id) so the default newest-first page is read in index order.
        Index("ix_cases_status_phase_created", "status", "phase", "created_at", "id"),
        Index("ix_cases_priority_created", "priority", "created_at"),
        Index("ix_cases_assignee_created", "assignee_id", "created_at", "id"),
        Index("ix_cases_team_created", "team", "created_at", "id"),
        Index("ix_cases_customer", "customer_party_id"),
        Index("ix_cases_created", "created_at", "id"),
        Index("ix_cases_updated", "updated_at", "id"),
        # Open cases by phase and priority, read from the index alone (reports): over every case, and over
        # the cases a case worker may see (their teams' and their own, checked in the index).
        Index("ix_cases_open_kpi", "status", "phase", "priority", "team", "assignee_id"),
        Index("ix_cases_closed", "closed_at", "case_type", "outcome"),  # closures and outcomes of a period
    )

    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", cascade="all, delete-orphan")


class CaseParty(Base):
    __tablename__ = "case_parties"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "party_id", "role", name="uq_case_party_role"),)

    case: Mapped[Case] = relationship(back_populates="parties")
    party: Mapped[Party] = relationship()


class PhaseChange(Base):
    __tablename__ = "phase_history"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    from_phase: Mapped[str | None] = mapped_column(String(20))
    to_phase: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the case left this phase: the ``at`` of its next row, written by the move that ends the stay
    # (None while the case is still in the phase). The reports' time per phase reads stays by their end.
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # How long the stay lasted in whole seconds (``left_at - at``, rounded down), written with left_at:
    # the report sums integers instead of parsing two timestamps per stay.
    stay_seconds: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_phase_history_seq"),
        # Cover the time-per-phase report: stays ending in a period (over every case), and the stays of
        # the cases a case worker may see.
        Index("ix_phase_history_stays", "left_at", "to_phase", "stay_seconds", "case_id"),
        Index("ix_phase_history_case_stays", "case_id", "left_at", "to_phase", "stay_seconds"),
    )

    def end_stay(self, at: dt.datetime) -> None:
        """The case leaves this phase at ``at``."""
        self.left_at = at
        self.stay_seconds = math.floor((at - _aware(self.at)).total_seconds())


class Goal(Base):
    __tablename__ = "goals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goals.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="todo")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10), default="internal")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Communication(Base):
    __tablename__ = "communications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("parties.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Document(Base):
    """A file attached to a case; its bytes live in the blob store under their SHA-256."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))  # a kind of the case type's checklist, or "other"
    original_name: Mapped[str] = mapped_column(String(255))  # made safe on upload
    mime: Mapped[str] = mapped_column(String(100))  # detected from the bytes, not as declared
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pages: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))  # upload | email | scan | portal | api
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    visibility: Mapped[str] = mapped_column(String(10), default="internal")  # internal | shared
    status: Mapped[str] = mapped_column(String(12), default="received")  # received | in_review | validated | rejected | archived
    status_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    second_reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    second_reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    authenticity_score: Mapped[int | None] = mapped_column(Integer)
    #: The kind's automated checks (case type ``checks``) have not run yet: queued, or no queue to run them.
    checks_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    # Given bytes once per case among live documents; a purged tombstone does not block a re-upload.
    __table_args__ = (
        Index(
            "uq_documents_case_sha256_live", "case_id", "sha256", unique=True,
            sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"),
        ),
    )  # fmt: skip


class TrustedCertificate(Base):
    """A certificate administrators trust for 2D-Doc signatures: a certification authority or a signing certificate."""

    __tablename__ = "trusted_certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    label: Mapped[str] = mapped_column(String(200))
    pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the DER, hex
    is_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DocumentRequest(Base):
    """A document asked of the customer (or anybody else) for a case."""

    __tablename__ = "document_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SearchDoc(Base):
    """One row of searchable text per case; FTS5 (SQLite) or a tsvector (PostgreSQL) indexes it."""

    __tablename__ = "search_docs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """Append-only, hash-chained record of every change; nothing in the code updates or deletes it."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    case_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CaseTypeVersion(Base):
    """One installed version of a case-type definition; cases keep the version they were opened with."""

    __tablename__ = "case_type_versions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    checksum: Mapped[str] = mapped_column(String(64))
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    installed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("key", "version", name="uq_case_type_version"),)


class QuestionnaireAnswers(Base):
    """Answers to one questionnaire of a case; each save is a new version, older ones are kept."""

    __tablename__ = "questionnaire_answers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "questionnaire", "version", name="uq_answers_version"),)


class DecisionTableVersion(Base):
    """A decision table version: edited as a draft, published to take effect, retired when superseded."""

    __tablename__ = "decision_tables"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # draft | published | retired
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_decision_table_version"),
        Index("ix_decision_tables_name_status", "name", "status"),
    )


class DecisionRecord(Base):
    """A decision taken on a case: inputs, matched rules, output, table version and mode, and its fate."""

    __tablename__ = "decision_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    point: Mapped[str] = mapped_column(String(20))  # screening | risk | routing | next_action
    table_name: Mapped[str] = mapped_column(String(100))
    table_version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))  # automatic | recommend
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    matched: Mapped[list[str]] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12))  # applied | pending | accepted | overridden | superseded
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    final_outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_decision_records_case", "case_id", "decided_at"),)


class SlaClock(Base):
    """A running SLA target on a case: a phase, the whole resolution, or a milestone."""

    __tablename__ = "sla_clocks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(12))  # phase | resolution | milestone
    name: Mapped[str] = mapped_column(String(64))  # phase name or milestone key
    priority: Mapped[str] = mapped_column(String(2))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The case's type (it never changes), so the SLA report groups clocks without joining the cases.
    case_type: Mapped[str] = mapped_column(String(64))
    # Kept by :func:`_settle_clock` on every write: ``met`` when stopped by the deadline without a
    # breach, and when the clock counts in the report: when it was met, or else at its deadline.
    met: Mapped[bool] = mapped_column(Boolean, default=False)
    settled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_sla_clocks_open_due", "stopped_at", "due_at"),
        # Cover the SLA compliance report: clocks settled in a period, by day, case type and result (over
        # every case), and the clocks of the cases a case worker may see.
        Index("ix_sla_clocks_settled", "settled_at", "case_type", "met", "case_id"),
        Index("ix_sla_clocks_case", "case_id", "settled_at", "case_type", "met"),
    )

    def settle(self) -> None:
        """Work out ``met`` and ``settled_at`` from the deadline, the stop and the breach."""
        self.met = self.breached_at is None and self.stopped_at is not None and _aware(self.stopped_at) <= _aware(self.due_at)
        self.settled_at = self.stopped_at if self.met and self.stopped_at is not None else self.due_at


@event.listens_for(SlaClock, "before_insert")
@event.listens_for(SlaClock, "before_update")
def _settle_clock(_mapper: Any, connection: Any, clock: SlaClock) -> None:
    if clock.case_type is None:  # a clock made without its case's type takes it from the case
        clock.case_type = connection.scalar(select(Case.case_type).where(Case.id == clock.case_id))
    clock.settle()


class SlaBreach(Base):
    """A missed SLA target, kept for reporting even after the case moves on."""

    __tablename__ = "sla_breaches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    clock_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sla_clocks.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    case_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(2))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    breached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    escalated_to: Mapped[str | None] = mapped_column(String(2))


class Notification(Base):
    """An in-app message to one user (SLA warnings, escalations, recommendations to review)."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "created_at"),)


class OutboxEvent(Base):
    """An event for other systems, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


__all__ = [
    "AuditEntry",
    "Base",
    "Boolean",
    "Case",
    "CaseParty",
    "CaseTypeVersion",
    "Communication",
    "DecisionRecord",
    "DecisionTableVersion",
    "Document",
    "DocumentRequest",
    "Goal",
    "Note",
    "Notification",
    "OutboxEvent",
    "Party",
    "PhaseChange",
    "QuestionnaireAnswers",
    "ReferenceCounter",
    "SearchDoc",
    "SlaBreach",
    "SlaClock",
    "Task",
    "User",
]


class FormSubmission(Base):
    """A one-time form id a user sent (services.submissions): the work it did, once finished."""

    __tablename__ = "form_submissions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    result: Mapped[str | None] = mapped_column(String(200))  # None while the first request is still running
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SavedFilter(Base):
    """A set of work-queue filters a staff member saved under a name (their own; unique per user)."""

    __tablename__ = "saved_filters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the dashboard's GET parameters
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),)
