"""Phase transitions: the domain decides, this records the move, its history and its audit entry."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from casework.audit import log as audit
from casework.domain.access import Perm, Principal
from casework.domain.lifecycle import MoveKind, Phase, plan_move, status_for
from casework.services.common import case_view, check_version, load_case, require
from casework.services.schemas import CaseView, PhaseChangeView, TransitionRequest
from casework.store.models import PhaseChange
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


def transition_case(db: Database, who: Principal, key: str | uuid.UUID, cmd: TransitionRequest, *, if_match: int | None = None) -> CaseView:
    require(who, Perm.CASE_TRANSITION)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        check_version(case.version, cmd.version, if_match)
        move = plan_move(Phase(case.phase), cmd.to_phase, reason=cmd.reason, outcome=cmd.outcome)
        now = utcnow()
        seq = (s.execute(select(func.max(PhaseChange.seq)).where(PhaseChange.case_id == case.id)).scalar() or 0) + 1
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
            data={
                "from": move.from_phase,
                "to": move.to_phase,
                "kind": move.kind,
                "reason": move.reason,
                "outcome": move.outcome,
            },
        )
        s.flush()
        return case_view(case, who)


def phase_history(db: Database, who: Principal, key: str | uuid.UUID) -> list[PhaseChangeView]:
    require(who, Perm.CASE_READ)
    with db.read() as s:
        case = load_case(s, key, who)
        rows = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id).order_by(PhaseChange.seq))
        return [PhaseChangeView.model_validate(r) for r in rows]
