"""Phase transitions: the domain decides, this records the move, its history and its audit entry."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.criteria import outcome_problem
from casework.casetypes.model import CaseTypeDef
from casework.domain.access import Perm, Principal
from casework.domain.errors import CriteriaNotMet, InvalidInput
from casework.domain.lifecycle import Move, MoveKind, Phase, plan_move, status_for
from casework.services.casetypes import definition_for
from casework.services.common import case_view, check_version, load_case, require
from casework.services.decisions import SCREENING_OUTCOMES
from casework.services.schemas import CaseView, PhaseChangeView, TransitionRequest
from casework.store.models import Case, PhaseChange
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


def move_in(
    s: Session,
    case: Case,
    target: Phase,
    who: Principal,
    defn: CaseTypeDef,
    *,
    reason: str | None = None,
    outcome: str | None = None,
    now: dt.datetime | None = None,
    check_criteria: bool = True,
) -> Move:
    """Move ``case`` inside an open transaction: lifecycle rules, the type's criteria, history, audit, follow-ups."""
    from casework.services import workflow

    move = plan_move(Phase(case.phase), target, reason=reason, outcome=outcome)
    if move.kind is MoveKind.CLOSE:
        screened = move.from_phase is Phase.SCREENING and move.outcome in SCREENING_OUTCOMES.values()
        problem = None if screened else outcome_problem(defn, move.outcome)
        if problem:
            raise InvalidInput(problem, field="outcome", allowed_outcomes=list(defn.outcomes))
    if (
        check_criteria
        and move.kind in (MoveKind.FORWARD, MoveKind.CLOSE)
        and not (move.kind is MoveKind.CLOSE and move.from_phase is Phase.SCREENING)
    ):
        unmet = workflow.unmet_for(s, case, defn, move.to_phase)
        if unmet:
            raise CriteriaNotMet(move.from_phase.value, move.to_phase.value, unmet)
    now = now or utcnow()
    current = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id).order_by(PhaseChange.seq.desc()).limit(1)).first()
    seq = (current.seq if current is not None else 0) + 1
    if current is not None:  # the move ends the stay in the current phase: the reports read stays by their end
        current.end_stay(now)
    s.add(PhaseChange(case_id=case.id, seq=seq, from_phase=move.from_phase.value, to_phase=move.to_phase.value,
                      kind=move.kind.value, reason=move.reason, outcome=move.outcome, actor_id=who.user_id, at=now))  # fmt: skip
    case.phase = move.to_phase.value
    case.status = status_for(move.to_phase).value
    if move.kind is MoveKind.CLOSE:
        case.outcome = move.outcome
        case.closed_at = now
    elif move.kind is MoveKind.REOPEN:
        case.outcome = None
        case.closed_at = None
    case.updated_at = now
    audit.append(
        s,
        actor_id=who.user_id,
        action="case.transition",
        case_id=case.id,
        data={"from": move.from_phase, "to": move.to_phase, "kind": move.kind, "reason": move.reason, "outcome": move.outcome},
    )
    workflow.on_entered(s, case, defn, who, now)
    return move


def transition_case(db: Database, who: Principal, key: str | uuid.UUID, cmd: TransitionRequest, *, if_match: int | None = None) -> CaseView:
    require(who, Perm.CASE_TRANSITION)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        check_version(case.version, cmd.version, if_match)
        defn = definition_for(s, case.case_type, case.case_type_version)
        move_in(s, case, cmd.to_phase, who, defn, reason=cmd.reason, outcome=cmd.outcome)
        s.flush()
        return case_view(case, who)


def phase_history(db: Database, who: Principal, key: str | uuid.UUID) -> list[PhaseChangeView]:
    require(who, Perm.CASE_READ)
    with db.read() as s:
        case = load_case(s, key, who)
        rows = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id).order_by(PhaseChange.seq))
        return [PhaseChangeView.model_validate(r) for r in rows]
