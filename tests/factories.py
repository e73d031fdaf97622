"""Small builders shared by the service, audit and API tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from casework.domain.access import Principal, Role
from casework.domain.lifecycle import ORDER, Phase
from casework.services import accounts, auth, cases, lifecycle
from casework.services.schemas import AuditEntryView, CaseCreate, CaseView, TransitionRequest
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database

#: Audit actions starting with this record a read (who looked at what), not a change.
ACCESS = "access."


#: Custom fields that satisfy each shipped case type's required fields (tests add their own on top).
CASE_DATA: dict[str, dict[str, Any]] = {
    "complaint": {"product": "current_account", "channel": "email"},
    "support_ticket": {"request_kind": "problem", "product_area": "payments", "channel": "email"},
    "onboarding": {"customer_type": "person", "country_of_residence": "BE"},
    "disputed_transaction": {"transaction_kind": "card_charge", "amount": 120.0, "currency": "EUR", "account_type": "current"},
}
#: An outcome each shipped case type accepts when a case is closed.
OUTCOME: dict[str, str] = {
    "complaint": "upheld",
    "support_ticket": "resolved",
    "onboarding": "approved",
    "disputed_transaction": "refunded",
}


def case_body(case_type: str = "complaint", **fields: Any) -> dict[str, Any]:
    """A valid create-case body for ``case_type``; ``custom_data`` given is merged over the required fields."""
    data: dict[str, Any] = {"case_type": case_type, "title": "Refund not received"}
    data.update(fields)
    data["custom_data"] = {**CASE_DATA.get(case_type, {}), **(fields.get("custom_data") or {})}
    return data


def new_case(db: Database, who: Principal, *, opened_at: dt.datetime | None = None, **fields: Any) -> CaseView:
    data = case_body(str(fields.pop("case_type", "complaint")), **fields)
    return cases.create_case(db, who, CaseCreate.model_validate(data), opened_at=opened_at)


def move(db: Database, who: Principal, case: CaseView, to: Phase, **extra: Any) -> CaseView:
    if to is Phase.CLOSED and "outcome" not in extra:
        extra["outcome"] = OUTCOME[case.case_type]
    return lifecycle.transition_case(db, who, case.id, TransitionRequest(to_phase=to, **extra))


def _sample_answer(question: Any) -> Any:
    return {"text": "As told by the customer", "number": 10, "integer": 1, "boolean": False, "date": "2026-01-15"}.get(
        question.type, question.options[0] if question.type == "choice" else question.options[:1]
    )


def satisfy_exit(db: Database, who: Principal, case: CaseView) -> None:
    """Do what a case worker does before leaving the current phase: answer its questionnaires, plan, finish tasks."""
    from casework.services import answers, decisions, plans
    from casework.services.schemas import GoalCreate, TaskStatus, TaskUpdate
    from casework.services.workflow_schemas import AnswersSubmit, DecisionPoint, DecisionResolve

    for status in answers.list_questionnaires(db, who, case.id):
        if status.phase is not case.phase or status.complete:
            continue
        given = dict(status.answers)
        for _ in range(10):  # conditional questions appear as earlier ones are answered
            view = answers.get_answers(db, who, case.id, status.questionnaire)
            todo = [q for q in view.questions if q.key not in given]
            if not todo:
                break
            given.update({q.key: _sample_answer(q) for q in todo})
            answers.submit_answers(db, who, case.id, status.questionnaire, AnswersSubmit(answers=given))
    for d in decisions.list_decisions(db, who, case.id):
        if d.point is DecisionPoint.RISK and d.status.value == "pending":
            decisions.resolve_decision(db, who, case.id, d.id, DecisionResolve())
    goals = plans.get_plan(db, who, case.id)
    if case.phase is Phase.PLANNING and not goals:
        plans.add_goal(db, who, case.id, GoalCreate(title="Resolve it"))
    if case.phase is Phase.IMPLEMENTATION:
        for goal in goals:
            for task in goal.tasks:
                if task.status.value not in ("done", "cancelled"):
                    plans.update_task(db, who, case.id, task.id, TaskUpdate(status=TaskStatus.DONE, version=task.version))


def advance_to(db: Database, who: Principal, case: CaseView, target: Phase) -> CaseView:
    """Walk forward one phase at a time from the case's current working phase, meeting each phase's criteria."""
    view = case
    while view.phase is not target:
        satisfy_exit(db, who, view)
        view = move(db, who, cases.get_case(db, who, view.id), ORDER[ORDER.index(view.phase) + 1])
    return view


def make_account(
    db: Database,
    admin: Principal,
    email: str,
    role: Role = Role.CASE_WORKER,
    *,
    teams: Sequence[str] = (),
    party_id: uuid.UUID | None = None,
    name: str | None = None,
) -> accounts.AccountView:
    """An account without a password (no sign-in needed: tests act through its principal)."""
    cmd = accounts.AccountCreate(name=name or email.split("@")[0].title(), email=email, role=role, teams=list(teams), party_id=party_id)
    return accounts.create_account(db, admin, cmd)


def principal(db: Database, admin: Principal, email: str, role: Role = Role.CASE_WORKER, **extra: Any) -> Principal:
    """Create an account and return the principal it acts as (teams and party loaded from the database)."""
    return auth.load_principal(db, make_account(db, admin, email, role, **extra).id)


def changes(entries: Sequence[AuditEntryView]) -> list[AuditEntryView]:
    """The entries that record changes, leaving out the access entries that reads append."""
    return [e for e in entries if not e.action.startswith(ACCESS)]


def audit_count(db: Database, case_id: uuid.UUID | None = None, *, reads: bool = True) -> int:
    """Audit entries (of one case, or all); ``reads=False`` leaves out the access entries."""
    with db.read() as s:
        stmt = select(func.count()).select_from(AuditEntry)
        if case_id is not None:
            stmt = stmt.where(AuditEntry.case_id == case_id)
        if not reads:
            stmt = stmt.where(AuditEntry.action.not_like(ACCESS + "%"))
        return int(s.execute(stmt).scalar_one())


def opened_under(db: Database, who: Principal, policy: Any, *, hours_ago: float, **fields: Any) -> CaseView:
    """A case opened ``hours_ago`` hours ago whose SLA clocks come from ``policy`` rather than its case type."""
    from sqlalchemy import delete

    from casework.services import sla
    from casework.store.models import Case, SlaClock

    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    view = new_case(db, who, opened_at=start, **fields)
    with db.write() as s:
        s.execute(delete(SlaClock).where(SlaClock.case_id == view.id))
        sla.on_case_opened(s, s.get(Case, view.id), policy, start)
    return view


def waiting_passport(db: Database, who: Principal, *, team: str, filename: str = "passport.pdf") -> CaseView:
    """An onboarding case whose passport names somebody else: its checks send it to a person's review."""
    from casework.documents.checks.mrz import make_mrz_td3
    from casework.documents.text_pdf import text_pdf
    from casework.services import documents, parties
    from casework.services.document_checks import run_document_checks
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, who, PartyCreate(name="Angela Sample"))
    person = {"customer_type": "person", "country_of_residence": "FR", "nationality": "FR", "date_of_birth": "1990-02-03"}
    case = new_case(db, who, case_type="onboarding", team=team, customer_party_id=party.id, custom_data=person)
    mrz = make_mrz_td3(surname="Other", given_names="Person", document_number="AB1234567", nationality="FRA",
                       birth_date=dt.date(1990, 2, 3), sex="F", expiry_date=dt.date(2031, 5, 1))  # fmt: skip
    doc = documents.upload_document(db, who, case.id, kind="identity_document", filename=filename, stream=[text_pdf(*mrz.splitlines())])
    assert run_document_checks(db, None, case.id, doc.id).status.value == "in_review"
    return case
