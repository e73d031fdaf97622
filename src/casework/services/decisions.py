"""Decisions taken on cases with the case type's tables: screening, risk, routing and next action.

Each decision is stored with its inputs, the rules that matched, the outputs, the table
version and the mode. In ``automatic`` mode the outputs take effect at once; in ``recommend``
mode a person accepts them or overrides them with a reason, and only then do they apply.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.model import CaseTypeDef
from casework.decisions.tables import DecisionError
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import rulesets
from casework.services.casetypes import definition_for
from casework.services.common import case_view, load_case, require
from casework.services.schemas import CaseView
from casework.services.workflow_schemas import DecisionPoint, DecisionResolve, DecisionStatus, DecisionView
from casework.store.models import Case, DecisionRecord, QuestionnaireAnswers, Team, TeamMember, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

#: Outcomes screening may close a case with, whatever the case type lists.
SCREENING_OUTCOMES = {"drop": "screened_out", "fast_track": "fast_tracked"}
DONE = (DecisionStatus.APPLIED.value, DecisionStatus.ACCEPTED.value, DecisionStatus.OVERRIDDEN.value)


def latest_answers(s: Session, case_id: uuid.UUID) -> dict[str, QuestionnaireAnswers]:
    newest = (
        select(QuestionnaireAnswers.questionnaire, func.max(QuestionnaireAnswers.version).label("v"))
        .where(QuestionnaireAnswers.case_id == case_id)
        .group_by(QuestionnaireAnswers.questionnaire)
        .subquery()
    )
    rows = s.scalars(
        select(QuestionnaireAnswers)
        .join(
            newest,
            (newest.c.questionnaire == QuestionnaireAnswers.questionnaire) & (newest.c.v == QuestionnaireAnswers.version),
        )
        .where(QuestionnaireAnswers.case_id == case_id)
    ).all()
    return {r.questionnaire: r for r in rows}


def context_for(s: Session, case: Case, answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """What expressions and tables read: the case, its custom fields, its answers and its risk."""
    if answers is None:
        answers = {k: dict(r.answers) for k, r in latest_answers(s, case.id).items()}
    fields = dict(case.custom_data or {})
    return {
        "case": {
            "reference": case.reference,
            "case_type": case.case_type,
            "title": case.title,
            "priority": case.priority,
            "phase": case.phase,
            "status": case.status,
            "team": case.team,
            "channel": fields.get("channel"),
            "language": fields.get("language"),
            "has_assignee": case.assignee_id is not None,
        },
        "fields": fields,
        "answers": answers,
        "risk": {"score": case.risk_score},
    }


def _least_busy_member(s: Session, team: str, language: str | None) -> uuid.UUID | None:
    """The active worker of ``team`` with the fewest open cases, preferring those who speak the case's language."""
    open_count = (
        select(Case.assignee_id, func.count().label("n")).where(Case.status == Status.OPEN.value).group_by(Case.assignee_id).subquery()
    )
    stmt = (
        select(User.id, User.locale, func.coalesce(open_count.c.n, 0))
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .outerjoin(open_count, open_count.c.assignee_id == User.id)
        .where(Team.name == team, User.is_active.is_(True), User.role.in_([Role.CASE_WORKER.value, Role.SUPERVISOR.value]))
    )
    members = s.execute(stmt).all()
    if not members:
        return None
    speakers = [m for m in members if language and m[1] and m[1].split("-")[0].lower() == str(language).lower()]
    pool = speakers or members
    chosen: uuid.UUID = min(pool, key=lambda m: (m[2], str(m[0])))[0]
    return chosen


def _apply(
    s: Session, case: Case, defn: CaseTypeDef, point: str, outputs: dict[str, Any], who: Principal, reason: str | None, now: dt.datetime
) -> None:
    """Make a decision's outputs take effect on the case."""
    from casework.services import lifecycle

    if point == DecisionPoint.SCREENING.value:
        action = outputs.get("action")
        if case.phase != Phase.SCREENING.value:
            return  # the case has moved on since the screening was recommended
        why = str(outputs.get("reason") or f"screening decided: {action}")
        if action in SCREENING_OUTCOMES:
            lifecycle.move_in(s, case, Phase.CLOSED, who, defn, reason=reason or why, outcome=SCREENING_OUTCOMES[str(action)], now=now)
        elif action == "open":
            lifecycle.move_in(s, case, Phase.ASSESSMENT, who, defn, reason=reason or why, now=now, check_criteria=False)
    elif point == DecisionPoint.RISK.value:
        score = outputs.get("score")
        before: dict[str, Any] = {"risk_score": case.risk_score, "priority": case.priority}
        if isinstance(score, int | float) and not isinstance(score, bool):
            case.risk_score = max(0, min(100, round(score)))
            case.priority = defn.priority_for_score(case.risk_score).value
        if outputs.get("priority") in {p.value for p in Priority}:
            case.priority = str(outputs["priority"])
        after = {"risk_score": case.risk_score, "priority": case.priority}
        if after != before:
            case.updated_at = now
            if before["priority"] != case.priority:
                from casework.services import workflow

                workflow.priority_changed(s, case, defn, now)
            audit.append(s, actor_id=who.user_id, action="case.risk", case_id=case.id, data={"before": before, "after": after})
    elif point == DecisionPoint.ROUTING.value:
        was: dict[str, Any] = {"team": case.team, "assignee_id": case.assignee_id}
        team = outputs.get("team")
        if isinstance(team, str) and team:
            case.team = team
        if outputs.get("assign") == "least_open" and case.team:
            chosen = _least_busy_member(s, case.team, (case.custom_data or {}).get("language"))
            if chosen is not None:
                case.assignee_id = chosen
        now_routed: dict[str, Any] = {"team": case.team, "assignee_id": case.assignee_id}
        if now_routed != was:
            case.updated_at = now
            data = {"before": was, "after": now_routed, "by": "routing"}
            audit.append(s, actor_id=who.user_id, action="case.assign", case_id=case.id, data=data)
    # next_action: the recommendation itself is the result; nothing on the case changes.


def decide_in(
    s: Session, case: Case, defn: CaseTypeDef, point: DecisionPoint | str, who: Principal, now: dt.datetime | None = None
) -> DecisionRecord | None:
    """Run the table bound at ``point`` for the case's type; None when the type binds no table there."""
    now = now or utcnow()
    point = DecisionPoint(point).value
    binding = defn.decisions.get(point)  # type: ignore[call-overload]
    if binding is None:
        return None
    row = rulesets.published_row(s, binding.table)
    if row is None:
        raise DomainError(f"decision table {binding.table} has no published version", field="table")
    context = context_for(s, case)
    try:
        result = rulesets.compiled(row).evaluate(context)
    except DecisionError as exc:
        raise DomainError(f"decision table {binding.table} v{row.version} could not decide: {exc}", field="table") from None
    # A newer recommendation replaces one still waiting at the same point.
    for pending in s.scalars(
        select(DecisionRecord).where(
            DecisionRecord.case_id == case.id, DecisionRecord.point == point, DecisionRecord.status == DecisionStatus.PENDING.value
        )
    ):
        pending.status = DecisionStatus.SUPERSEDED.value
    automatic = binding.mode == "automatic"
    explanation = result.explain()
    if not automatic:
        explanation += " This is a recommendation: a person accepts or overrides it."
    record = DecisionRecord(
        case_id=case.id,
        point=point,
        table_name=row.name,
        table_version=row.version,
        mode=binding.mode,
        inputs=_jsonable(result.inputs),
        matched=list(result.matched),
        outputs=_jsonable(result.outputs),
        explanation=explanation,
        status=DecisionStatus.APPLIED.value if automatic else DecisionStatus.PENDING.value,
        decided_by=who.user_id,
        decided_at=now,
    )
    s.add(record)
    s.flush()
    audit.append(
        s,
        actor_id=who.user_id,
        action="decision.made",
        case_id=case.id,
        data={"decision_id": record.id, "point": point, "table": row.name, "version": row.version, "mode": binding.mode,
              "matched": record.matched, "outputs": record.outputs},
    )  # fmt: skip
    if automatic:
        _apply(s, case, defn, point, dict(record.outputs), who, None, now)
    elif case.assignee_id is not None:
        _notify(s, case, f"{point.replace('_', ' ')} recommendation waiting for review on {case.reference}")
    return record


def _notify(s: Session, case: Case, message: str) -> None:
    try:
        from casework.services import notifications
    except ImportError:  # pragma: no cover - notifications ship with the SLA work
        return
    if case.assignee_id is not None:
        notifications.notify(s, case.assignee_id, case.id, "decision.recommendation", message)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------- use cases


def run_decision(db: Database, who: Principal, key: str | uuid.UUID, point: DecisionPoint) -> DecisionView:
    require(who, Perm.DECISION_RUN)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        defn = definition_for(s, case.case_type, case.case_type_version)
        record = decide_in(s, case, defn, point, who)
        if record is None:
            raise InvalidInput(f"case type {case.case_type} has no {point.value} decision table", field="point")
        s.flush()
        return DecisionView.model_validate(record)


def list_decisions(db: Database, who: Principal, key: str | uuid.UUID) -> list[DecisionView]:
    require(who, Perm.DECISION_READ)
    with db.read() as s:
        case = load_case(s, key, who)
        rows = s.scalars(
            select(DecisionRecord).where(DecisionRecord.case_id == case.id).order_by(DecisionRecord.decided_at, DecisionRecord.id)
        )
        return [DecisionView.model_validate(r) for r in rows]


def resolve_decision(
    db: Database, who: Principal, key: str | uuid.UUID, decision_id: uuid.UUID, cmd: DecisionResolve
) -> tuple[DecisionView, CaseView]:
    """Accept a pending recommendation, or override it (other outputs and a reason)."""
    require(who, Perm.DECISION_RESOLVE)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        record = s.get(DecisionRecord, decision_id)
        if record is None or record.case_id != case.id:
            raise NotFound(f"decision {decision_id} not found on this case", field="decision_id")
        if record.status != DecisionStatus.PENDING.value:
            why = f"this decision is {record.status}; only a pending recommendation can be accepted or overridden"
            raise DomainError(why, field="status")
        defn = definition_for(s, case.case_type, case.case_type_version)
        overriding = cmd.outputs is not None
        if overriding:
            if not cmd.reason:
                raise InvalidInput("overriding a recommendation requires a reason", field="reason")
            table = rulesets.compiled(rulesets._version_row(s, record.table_name, record.table_version)).table
            allowed = {o.name for o in table.outputs}
            unknown = sorted(set(cmd.outputs or {}) - allowed)
            if unknown:
                why = f"unknown output {unknown[0]!r}; this table decides: {', '.join(sorted(allowed))}"
                raise InvalidInput(why, field=f"outputs.{unknown[0]}")
            final = {**record.outputs, **(cmd.outputs or {})}
        else:
            final = dict(record.outputs)
        record.status = (DecisionStatus.OVERRIDDEN if overriding else DecisionStatus.ACCEPTED).value
        record.final_outputs = final
        record.reason = cmd.reason
        record.resolved_by = who.user_id
        now = utcnow()
        record.resolved_at = now
        audit.append(
            s,
            actor_id=who.user_id,
            action="decision.override" if overriding else "decision.accept",
            case_id=case.id,
            data={"decision_id": record.id, "point": record.point, "outputs": final, "reason": cmd.reason},
        )
        _apply(s, case, defn, record.point, final, who, cmd.reason, now)
        s.flush()
        return DecisionView.model_validate(record), case_view(case, who)
