"""Who may do what: roles, permissions and the principal acting on a request.

Kept pure so the API, the web UI and the CLI share one rulebook, and so the access-matrix
tests can enumerate it. Case *visibility* (which cases a principal sees at all) is decided
here too, as a description the store turns into a SQL filter.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace


class Role(str, enum.Enum):
    ADMINISTRATOR = "administrator"
    SUPERVISOR = "supervisor"
    CASE_WORKER = "case_worker"
    AUDITOR = "auditor"
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"


STAFF = frozenset({Role.ADMINISTRATOR, Role.SUPERVISOR, Role.CASE_WORKER, Role.AUDITOR})
EXTERNAL = frozenset({Role.CUSTOMER, Role.THIRD_PARTY})


class Perm(str, enum.Enum):
    CASE_CREATE = "case.create"
    CASE_READ = "case.read"
    CASE_UPDATE = "case.update"
    CASE_TRANSITION = "case.transition"
    CASE_ASSIGN = "case.assign"
    CASE_SHARE = "case.share"
    NOTE_INTERNAL_READ = "note.internal.read"
    NOTE_ADD = "note.add"
    NOTE_INTERNAL_ADD = "note.internal.add"
    COMMUNICATION_READ = "communication.read"
    COMMUNICATION_ADD = "communication.add"
    PARTY_READ = "party.read"
    PARTY_MANAGE = "party.manage"
    PLAN_READ = "plan.read"
    PLAN_MANAGE = "plan.manage"
    TASK_UPDATE = "task.update"
    HISTORY_READ = "history.read"
    AUDIT_READ = "audit.read"
    USER_MANAGE = "user.manage"
    USER_READ = "user.read"
    CASETYPE_READ = "casetype.read"
    CASETYPE_MANAGE = "casetype.manage"
    RULES_READ = "rules.read"
    RULES_MANAGE = "rules.manage"
    DECISION_READ = "decision.read"
    DECISION_RUN = "decision.run"
    DECISION_RESOLVE = "decision.resolve"
    ANSWERS_READ = "answers.read"
    ANSWERS_WRITE = "answers.write"
    QUEUE_READ = "queue.read"
    NOTIFICATION_READ = "notification.read"
    SLA_REPORT = "sla.report"
    EVENTS_READ = "events.read"
    DOCUMENT_READ = "document.read"  # documents visible to the caller: shared ones for customers and third parties
    DOCUMENT_INTERNAL_READ = "document.internal.read"
    DOCUMENT_UPLOAD = "document.upload"
    DOCUMENT_REQUEST = "document.request"
    DOCUMENT_REVIEW = "document.review"
    DOCUMENT_VERIFY = "document.verify"  # re-hash the whole blob store (administrators)
    RETENTION_MANAGE = "retention.manage"  # archive closed cases, purge documents past retention (administrators)
    LEGAL_HOLD = "document.legal_hold"  # place or release a legal hold on a case's documents
    TRUST_MANAGE = "trust.manage"  # the certificates trusted for 2D-Doc signatures (administrators)


_WORKER = {
    Perm.CASE_CREATE, Perm.CASE_READ, Perm.CASE_UPDATE, Perm.CASE_TRANSITION, Perm.CASE_ASSIGN,
    Perm.NOTE_INTERNAL_READ, Perm.NOTE_ADD, Perm.NOTE_INTERNAL_ADD, Perm.COMMUNICATION_READ,
    Perm.COMMUNICATION_ADD, Perm.PARTY_READ, Perm.PARTY_MANAGE, Perm.PLAN_READ, Perm.PLAN_MANAGE,
    Perm.TASK_UPDATE, Perm.HISTORY_READ, Perm.USER_READ, Perm.CASETYPE_READ, Perm.RULES_READ, Perm.DECISION_READ,
    Perm.DECISION_RUN, Perm.DECISION_RESOLVE, Perm.ANSWERS_READ, Perm.ANSWERS_WRITE, Perm.QUEUE_READ, Perm.NOTIFICATION_READ,
    Perm.DOCUMENT_READ, Perm.DOCUMENT_INTERNAL_READ, Perm.DOCUMENT_UPLOAD, Perm.DOCUMENT_REQUEST, Perm.DOCUMENT_REVIEW,
}  # fmt: skip

GRANTS: dict[Role, frozenset[Perm]] = {
    Role.ADMINISTRATOR: frozenset(Perm),
    Role.SUPERVISOR: frozenset(_WORKER | {Perm.CASE_SHARE, Perm.AUDIT_READ, Perm.SLA_REPORT, Perm.RULES_MANAGE, Perm.LEGAL_HOLD}),
    Role.CASE_WORKER: frozenset(_WORKER | {Perm.CASE_SHARE}),
    Role.AUDITOR: frozenset(
        {
            Perm.CASE_READ,
            Perm.NOTE_INTERNAL_READ,
            Perm.COMMUNICATION_READ,
            Perm.PARTY_READ,
            Perm.PLAN_READ,
            Perm.HISTORY_READ,
            Perm.AUDIT_READ,
            Perm.USER_READ,
            Perm.CASETYPE_READ,
            Perm.RULES_READ,
            Perm.DECISION_READ,
            Perm.ANSWERS_READ,
            Perm.NOTIFICATION_READ,
            Perm.SLA_REPORT,
            Perm.DOCUMENT_READ,
            Perm.DOCUMENT_INTERNAL_READ,
        }
    ),
    # Customers send their documents through the portal (always shared with the case's staff and them).
    Role.CUSTOMER: frozenset(
        {Perm.CASE_READ, Perm.NOTE_ADD, Perm.COMMUNICATION_READ, Perm.PLAN_READ, Perm.DOCUMENT_READ, Perm.DOCUMENT_UPLOAD}
    ),
    Role.THIRD_PARTY: frozenset({Perm.CASE_READ, Perm.PLAN_READ, Perm.TASK_UPDATE, Perm.DOCUMENT_READ}),
}

#: Permissions that only read; a read-scoped API token keeps just these.
READ_ONLY = frozenset(
    {Perm.CASE_READ, Perm.NOTE_INTERNAL_READ, Perm.COMMUNICATION_READ, Perm.PARTY_READ, Perm.PLAN_READ,
     Perm.HISTORY_READ, Perm.AUDIT_READ, Perm.USER_READ, Perm.CASETYPE_READ, Perm.RULES_READ, Perm.DECISION_READ,
     Perm.ANSWERS_READ, Perm.QUEUE_READ, Perm.NOTIFICATION_READ, Perm.SLA_REPORT, Perm.EVENTS_READ,
     Perm.DOCUMENT_READ, Perm.DOCUMENT_INTERNAL_READ}
)  # fmt: skip


class Scope(str, enum.Enum):
    READ = "read"
    WRITE = "write"


class Visibility(str, enum.Enum):
    """Which cases a principal sees; the store turns this into a SQL condition."""

    ALL = "all"
    TEAMS = "teams"  # cases of the principal's teams, or assigned to them
    CUSTOMER = "customer"  # cases whose customer party is the principal's party
    SHARED = "shared"  # cases explicitly shared with the principal, while the share lasts


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    teams: frozenset[str] = field(default_factory=frozenset)
    party_id: uuid.UUID | None = None
    scope: Scope = Scope.WRITE
    client: str | None = None  # where the request came from, for the access audit

    def with_client(self, client: str | None) -> Principal:
        return replace(self, client=client)

    @property
    def permissions(self) -> frozenset[Perm]:
        granted = GRANTS[self.role]
        return granted & READ_ONLY if self.scope is Scope.READ else granted

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def visibility(self) -> Visibility:
        if self.role in (Role.ADMINISTRATOR, Role.AUDITOR):
            return Visibility.ALL
        if self.role in (Role.SUPERVISOR, Role.CASE_WORKER):
            return Visibility.TEAMS
        if self.role is Role.CUSTOMER:
            return Visibility.CUSTOMER
        return Visibility.SHARED
