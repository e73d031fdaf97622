"""Phase changes through the service: recorded in the phase history and the audit trail, or not at all."""

from __future__ import annotations

import pytest

from casework.domain.access import Principal
from casework.domain.errors import (
    CriteriaNotMet,
    InvalidInput,
    InvalidTransition,
    MissingOutcome,
    MissingReason,
    PreconditionFailed,
    StaleVersion,
)
from casework.domain.lifecycle import ORDER, Phase, Status, history_is_contiguous
from casework.services import cases, history, lifecycle
from casework.services.schemas import TransitionRequest
from casework.store.unit_of_work import Database
from tests.factories import advance_to, audit_count, move, new_case, satisfy_exit


def test_a_case_through_its_whole_life(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    case = advance_to(db, actor, case, Phase.FOLLOW_UP)
    case = move(db, actor, case, Phase.PLANNING, reason="the first plan did not work")
    case = advance_to(db, actor, case, Phase.EVALUATION)
    closed = move(db, actor, case, Phase.CLOSED, outcome="upheld", reason="refund paid")
    assert (closed.status, closed.phase, closed.outcome) == (Status.CLOSED, Phase.CLOSED, "upheld")
    assert closed.closed_at is not None
    assert closed.allowed_transitions == list(ORDER)

    reopened = move(db, actor, closed, Phase.ASSESSMENT, reason="customer appealed")
    assert (reopened.status, reopened.phase, reopened.outcome, reopened.closed_at) == (Status.OPEN, Phase.ASSESSMENT, None, None)

    phases = lifecycle.phase_history(db, actor, case.id)
    assert [(p.from_phase, p.to_phase, p.kind) for p in phases] == [
        (None, Phase.SCREENING, "open"),
        (Phase.SCREENING, Phase.ASSESSMENT, "forward"),
        (Phase.ASSESSMENT, Phase.RISK, "forward"),
        (Phase.RISK, Phase.PLANNING, "forward"),
        (Phase.PLANNING, Phase.IMPLEMENTATION, "forward"),
        (Phase.IMPLEMENTATION, Phase.FOLLOW_UP, "forward"),
        (Phase.FOLLOW_UP, Phase.PLANNING, "return"),
        (Phase.PLANNING, Phase.IMPLEMENTATION, "forward"),
        (Phase.IMPLEMENTATION, Phase.FOLLOW_UP, "forward"),
        (Phase.FOLLOW_UP, Phase.EVALUATION, "forward"),
        (Phase.EVALUATION, Phase.CLOSED, "close"),
        (Phase.CLOSED, Phase.ASSESSMENT, "reopen"),
    ]
    assert [p.seq for p in phases] == list(range(1, 13))
    assert phases[6].reason == "the first plan did not work"
    assert (phases[10].outcome, phases[10].reason) == ("upheld", "refund paid")
    assert all(p.actor_id == actor.user_id for p in phases)
    assert history_is_contiguous([(p.from_phase and p.from_phase.value, p.to_phase.value) for p in phases])

    everything = history.case_history(db, actor, case.id)
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)
    entries = [e for e in everything if e.action in ("case.create", "case.transition")]
    assert [e.action for e in entries] == ["case.create"] + ["case.transition"] * 11
    # The case type's work between the moves is on the record too: decisions, the plan, the answers.
    assert {"decision.made", "plan.goal.add", "answers.submit", "plan.task.update"} <= {e.action for e in everything}
    assert entries[6].data == {
        "from": "follow_up",
        "to": "planning",
        "kind": "return",
        "reason": "the first plan did not work",
        "outcome": None,
    }
    assert entries[-1].data["kind"] == "reopen"
    assert reopened.version == 12
    assert history.verify_audit(db, actor).ok


def test_screening_can_close_directly(db: Database, actor: Principal) -> None:
    closed = move(db, actor, new_case(db, actor), Phase.CLOSED, outcome="withdrawn")
    assert (closed.status, closed.outcome) == (Status.CLOSED, "withdrawn")
    screened = move(db, actor, new_case(db, actor), Phase.CLOSED, outcome="screened_out", reason="duplicate")
    assert screened.outcome == "screened_out"


def test_closing_needs_an_outcome_of_the_case_type(db: Database, actor: Principal) -> None:
    case = advance_to(db, actor, new_case(db, actor), Phase.EVALUATION)
    with pytest.raises(InvalidInput) as info:
        move(db, actor, case, Phase.CLOSED, outcome="resolved")
    assert info.value.field == "outcome"
    assert info.value.extra["allowed_outcomes"] == ["upheld", "partially_upheld", "rejected", "withdrawn", "referred_to_ombudsman"]
    # Only screening may close with the screening outcomes.
    with pytest.raises(InvalidInput):
        move(db, actor, case, Phase.CLOSED, outcome="screened_out")
    assert move(db, actor, case, Phase.CLOSED, outcome="partially_upheld").outcome == "partially_upheld"


def test_forward_moves_need_the_case_types_criteria(db: Database, actor: Principal) -> None:
    case = advance_to(db, actor, new_case(db, actor), Phase.ASSESSMENT)
    before = audit_count(db, case.id)
    with pytest.raises(CriteriaNotMet) as info:
        move(db, actor, case, Phase.RISK)
    assert info.value.status == 409
    assert info.value.extra["unmet_criteria"] == ["questionnaire 'complaint_details' is not complete"]
    assert audit_count(db, case.id) == before
    # Going back never needs criteria, only a reason.
    assert move(db, actor, case, Phase.SCREENING, reason="wrong intake").phase is Phase.SCREENING


@pytest.mark.parametrize(
    ("start", "target", "extra", "error"),
    [
        (Phase.SCREENING, Phase.RISK, {}, InvalidTransition),
        (Phase.ASSESSMENT, Phase.CLOSED, {"outcome": "x"}, InvalidTransition),
        (Phase.RISK, Phase.ASSESSMENT, {}, MissingReason),
        (Phase.EVALUATION, Phase.CLOSED, {"reason": "done", "outcome": None}, MissingOutcome),
        (Phase.SCREENING, Phase.SCREENING, {"reason": "again"}, InvalidTransition),
    ],
)
def test_refused_transitions_change_nothing(
    db: Database, actor: Principal, start: Phase, target: Phase, extra: dict[str, str], error: type[Exception]
) -> None:
    case = advance_to(db, actor, new_case(db, actor), start)
    entries_before = audit_count(db)
    with pytest.raises(error):
        move(db, actor, case, target, **extra)
    assert audit_count(db) == entries_before
    assert cases.get_case(db, actor, case.id) == case
    assert len(lifecycle.phase_history(db, actor, case.id)) == 1 + ORDER.index(start)


def test_invalid_transition_names_the_allowed_ones(db: Database, actor: Principal) -> None:
    case = advance_to(db, actor, new_case(db, actor), Phase.RISK)
    with pytest.raises(InvalidTransition) as info:
        move(db, actor, case, Phase.IMPLEMENTATION)
    assert info.value.allowed == ["screening", "assessment", "planning"]
    assert info.value.extra["current_phase"] == "risk"


def test_transition_versions(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    with pytest.raises(StaleVersion):
        lifecycle.transition_case(db, actor, case.id, TransitionRequest(to_phase=Phase.ASSESSMENT, version=2))
    with pytest.raises(PreconditionFailed):
        lifecycle.transition_case(db, actor, case.id, TransitionRequest(to_phase=Phase.ASSESSMENT), if_match=3)
    moved = lifecycle.transition_case(db, actor, case.id, TransitionRequest(to_phase=Phase.ASSESSMENT, version=1), if_match=1)
    assert (moved.phase, moved.version) == (Phase.ASSESSMENT, 2)
    satisfy_exit(db, actor, moved)
    # The reference works as a key, and the version check is optional for transitions.
    assert lifecycle.transition_case(db, actor, case.reference, TransitionRequest(to_phase=Phase.RISK)).phase is Phase.RISK
