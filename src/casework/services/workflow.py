"""What a case type adds to the lifecycle: criteria before a move, and the work that follows one.

The lifecycle service calls in here inside its transaction. Entering a phase can start SLA
clocks, create the plan from the type's templates and run the decision bound to that phase.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.criteria import checks_for
from casework.casetypes.model import CaseTypeDef, compiled_expression
from casework.casetypes.questionnaires import missing_answers
from casework.domain.access import Perm, Principal
from casework.domain.criteria import CaseFacts, unmet_for_move
from casework.domain.lifecycle import ORDER, Phase, allowed_targets
from casework.services.casetypes import definition_for
from casework.services.common import load_case, require
from casework.services.decisions import DONE, context_for, decide_in, latest_answers
from casework.services.workflow_schemas import DecisionPoint, MoveReadiness, ReadinessView
from casework.store.models import Case, DecisionRecord, Document, Goal, Task
from casework.store.unit_of_work import Database

CLOSED_TASKS = ("done", "cancelled")


def sla_policy(defn: CaseTypeDef):  # type: ignore[no-untyped-def]
    """The case type's targets in the plain form the SLA service works with."""
    from casework.services.sla import MilestonePolicy, SlaPolicy

    return SlaPolicy(
        warn_fraction=defn.sla.warn_before_fraction,
        phase_hours={p.value: {k.value: v for k, v in hours.items()} for p, hours in defn.sla.phases.items()},
        resolution_hours={k.value: v for k, v in defn.sla.resolution.items()},
        milestones=tuple(
            MilestonePolicy(key=m.key, title=m.title, phase=m.phase.value, within_hours={k.value: v for k, v in m.within_hours.items()})
            for m in defn.milestones
        ),
    )


def _required_documents(defn: CaseTypeDef, context: dict) -> list[str]:  # type: ignore[type-arg]
    wanted = []
    for doc in defn.documents:
        if doc.required and (doc.when is None or compiled_expression(doc.when)(context) is True):
            wanted.append(doc.kind)
    return wanted


#: Document statuses that satisfy a required kind of the checklist: only a reviewed and validated one.
SATISFYING_STATUSES = ("validated",)


def _documents_in(s: Session, case: Case) -> set[str]:
    """Kinds of which the case holds a document that counts (see SATISFYING_STATUSES)."""
    rows = s.scalars(
        select(Document.kind)
        .where(Document.case_id == case.id, Document.deleted_at.is_(None), Document.status.in_(SATISFYING_STATUSES))
        .distinct()
    )
    return set(rows)


def facts_for(s: Session, case: Case, defn: CaseTypeDef) -> CaseFacts:
    rows = latest_answers(s, case.id)
    answers = {k: dict(r.answers) for k, r in rows.items()}
    context = context_for(s, case, answers)
    complete = frozenset(q.key for q in defn.questionnaires if q.key in rows and not missing_answers(q, answers[q.key], context))
    goals = s.execute(select(func.count()).select_from(Goal).where(Goal.case_id == case.id, Goal.status != "abandoned")).scalar_one()
    open_tasks = s.execute(
        select(func.count()).select_from(Task).where(Task.case_id == case.id, Task.status.not_in(CLOSED_TASKS))
    ).scalar_one()
    required = _required_documents(defn, context)
    held = _documents_in(s, case) if required else set()
    made = frozenset(
        s.scalars(select(DecisionRecord.point).where(DecisionRecord.case_id == case.id, DecisionRecord.status.in_(DONE)).distinct())
    )
    return CaseFacts(
        phase=case.phase,
        fields=dict(case.custom_data or {}),
        answers=answers,
        complete_questionnaires=complete,
        goal_count=int(goals),
        open_task_count=int(open_tasks),
        decisions_made=made,
        missing_documents=tuple(k for k in required if k not in held),
        context=context,
    )


def unmet_for(s: Session, case: Case, defn: CaseTypeDef, target: Phase, facts: CaseFacts | None = None) -> list[str]:
    """What blocks a forward move or a closing: the current phase's exit and the target's entry criteria."""
    facts = facts or facts_for(s, case, defn)
    entry = checks_for(defn, target, "entry") if target is not Phase.CLOSED else []
    return unmet_for_move(checks_for(defn, case.phase, "exit"), entry, facts)


def on_opened(s: Session, case: Case, defn: CaseTypeDef, who: Principal, now: dt.datetime) -> None:
    """A new case: start its clocks, route it if nobody did, then screen it."""
    from casework.services import sla

    sla.on_case_opened(s, case, sla_policy(defn), now)
    if case.team is None and case.assignee_id is None:
        decide_in(s, case, defn, DecisionPoint.ROUTING, who, now)
    decide_in(s, case, defn, DecisionPoint.SCREENING, who, now)


def on_entered(s: Session, case: Case, defn: CaseTypeDef, who: Principal, now: dt.datetime) -> None:
    """The case has just entered ``case.phase``."""
    from casework.services import sla

    sla.on_phase_entered(s, case, sla_policy(defn), now)
    if case.phase == Phase.PLANNING.value:
        _plan_from_templates(s, case, defn, who, now)
    if case.phase == Phase.RISK.value:
        decide_in(s, case, defn, DecisionPoint.RISK, who, now)
    if case.phase != Phase.CLOSED.value and DecisionPoint.NEXT_ACTION.value in defn.decisions:
        decide_in(s, case, defn, DecisionPoint.NEXT_ACTION, who, now)


def priority_changed(s: Session, case: Case, defn: CaseTypeDef, now: dt.datetime) -> None:
    from casework.services import sla

    sla.on_priority_changed(s, case, sla_policy(defn), now)


def _plan_from_templates(s: Session, case: Case, defn: CaseTypeDef, who: Principal, now: dt.datetime) -> None:
    """Create the type's goals and tasks the first time a case is planned (a re-plan keeps what is there)."""
    if not defn.plan_templates:
        return
    has_goals = s.execute(select(Goal.id).where(Goal.case_id == case.id).limit(1)).first()
    if has_goals:
        return
    context = context_for(s, case)
    for order, template in enumerate(defn.plan_templates):
        if template.when is not None and compiled_expression(template.when)(context) is not True:
            continue
        at = now + dt.timedelta(microseconds=order)  # plans list goals by creation: keep the template's order
        goal = Goal(id=uuid.uuid4(), case_id=case.id, title=template.title, description=template.description, created_at=at)
        s.add(goal)
        for task in template.tasks:
            s.add(Task(case_id=case.id, goal_id=goal.id, title=task.title, due_date=now.date() + dt.timedelta(days=task.due_in_days),
                       assignee_id=case.assignee_id, created_at=at))  # fmt: skip
        s.flush()
        audit.append(s, actor_id=who.user_id, action="plan.goal.add", case_id=case.id,
                     data={"goal_id": goal.id, "title": goal.title, "from_template": True, "tasks": len(template.tasks)})  # fmt: skip


def readiness(db: Database, who: Principal, key: str | uuid.UUID) -> ReadinessView:
    """For each move the case may make next, whether the type's criteria allow it and, if not, why."""
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        require(who, Perm.CASE_TRANSITION)
    with db.write() as s:
        case = load_case(s, key, who)
        defn = definition_for(s, case.case_type, case.case_type_version)
        facts = facts_for(s, case, defn)
        current = Phase(case.phase)
        moves = []
        for target in allowed_targets(current):
            forward = target is Phase.CLOSED or (current is not Phase.CLOSED and ORDER.index(target) > ORDER.index(current))
            unmet = unmet_for(s, case, defn, target, facts) if forward and current is not Phase.CLOSED else []
            moves.append(MoveReadiness(to_phase=target, ready=not unmet, unmet=unmet))
        return ReadinessView(
            phase=current,
            case_type=case.case_type,
            case_type_version=case.case_type_version,
            moves=moves,
            required_documents=list(facts.missing_documents),
            outcomes=list(defn.outcomes),
        )


def definition_of_case(s: Session, case: Case) -> CaseTypeDef:
    return definition_for(s, case.case_type, case.case_type_version)


def _case_policy(s: Session, case: Case):  # type: ignore[no-untyped-def]
    return sla_policy(definition_for(s, case.case_type, case.case_type_version))


def register() -> None:
    """Let the SLA scanner find a case's targets (to recompute deadlines after an escalation)."""
    from casework.services import sla

    sla.set_policy_resolver(_case_policy)


register()
