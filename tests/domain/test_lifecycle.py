"""The pure state machine of the case lifecycle (domain/lifecycle.py).

The rules under test, from the "Foundation" requirement: phases run screening -> assessment
-> risk -> planning -> implementation -> follow_up -> evaluation -> closed; forward one phase
at a time; back to any earlier phase with a mandatory reason; screening can close a case
directly; follow-up goes back to planning (a return) or on to evaluation; closing requires an
outcome; a closed case can be reopened (to any working phase) with a reason.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.domain.errors import DomainError, InvalidTransition, MissingOutcome, MissingReason
from casework.domain.lifecycle import (
    ORDER,
    Move,
    MoveKind,
    Phase,
    Status,
    allowed_targets,
    history_is_contiguous,
    plan_move,
    status_for,
)

S, A, R, P, M, F, E, C = (  # M for iMplementation: I reads like 1
    Phase.SCREENING,
    Phase.ASSESSMENT,
    Phase.RISK,
    Phase.PLANNING,
    Phase.IMPLEMENTATION,
    Phase.FOLLOW_UP,
    Phase.EVALUATION,
    Phase.CLOSED,
)

# ------------------------------------------------------------------ allowed_targets


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (S, [A, C]),
        (A, [S, R]),
        (R, [S, A, P]),
        (P, [S, A, R, M]),
        (M, [S, A, R, P, F]),
        (F, [S, A, R, P, M, E]),
        (E, [S, A, R, P, M, F, C]),
        (C, [S, A, R, P, M, F, E]),
    ],
)
def test_allowed_targets_lists_every_reachable_phase_in_order(current: Phase, expected: list[Phase]) -> None:
    assert allowed_targets(current) == expected


def test_order_is_the_seven_working_phases_without_closed() -> None:
    assert ORDER == (S, A, R, P, M, F, E)
    assert C not in ORDER


@pytest.mark.parametrize("current", list(Phase))
def test_a_phase_is_never_its_own_target(current: Phase) -> None:
    assert current not in allowed_targets(current)


# ------------------------------------------------------------------ plan_move: the kinds of move


@pytest.mark.parametrize(("current", "target"), list(pairwise(ORDER)))
def test_forward_one_phase_needs_no_reason(current: Phase, target: Phase) -> None:
    move = plan_move(current, target)
    assert move == Move(current, target, MoveKind.FORWARD, None, None)


def test_forward_keeps_an_optional_reason() -> None:
    assert plan_move(S, A, reason=" triaged ").reason == "triaged"


@pytest.mark.parametrize(("current", "target"), [(ORDER[j], ORDER[i]) for j in range(len(ORDER)) for i in range(j)])
def test_return_to_any_earlier_phase_with_a_reason(current: Phase, target: Phase) -> None:
    move = plan_move(current, target, reason="  new facts came to light  ")
    assert move.kind is MoveKind.RETURN
    assert (move.from_phase, move.to_phase) == (current, target)
    assert move.reason == "new facts came to light"
    assert move.outcome is None


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_return_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(MissingReason) as info:
        plan_move(E, R, reason=reason)
    assert info.value.field == "reason"
    assert info.value.status == 422
    assert "evaluation" in info.value.message and "risk" in info.value.message


def test_follow_up_goes_back_to_planning_as_a_return_or_on_to_evaluation() -> None:
    back = plan_move(F, P, reason="the plan did not work")
    assert back.kind is MoveKind.RETURN
    assert plan_move(F, E).kind is MoveKind.FORWARD


@pytest.mark.parametrize("current", [S, E])
def test_screening_and_evaluation_can_close_with_an_outcome(current: Phase) -> None:
    move = plan_move(current, C, outcome=" resolved ", reason="done")
    assert move == Move(current, C, MoveKind.CLOSE, "done", "resolved")


@pytest.mark.parametrize("current", [S, E])
@pytest.mark.parametrize("outcome", [None, "", "  "])
def test_closing_requires_an_outcome(current: Phase, outcome: str | None) -> None:
    with pytest.raises(MissingOutcome) as info:
        plan_move(current, C, outcome=outcome)
    assert info.value.field == "outcome"
    assert info.value.status == 422


@pytest.mark.parametrize("current", [A, R, P, M, F])
def test_only_screening_and_evaluation_can_close(current: Phase) -> None:
    with pytest.raises(InvalidTransition) as info:
        plan_move(current, C, outcome="resolved")
    assert "only screening and evaluation can close a case" in info.value.message
    assert info.value.allowed == [p.value for p in allowed_targets(current)]


@pytest.mark.parametrize("target", list(ORDER))
def test_reopen_to_any_working_phase_with_a_reason(target: Phase) -> None:
    move = plan_move(C, target, reason="customer appealed", outcome="ignored on reopen")
    assert move == Move(C, target, MoveKind.REOPEN, "customer appealed", None)


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_reopen_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(MissingReason, match="reopening a closed case requires a reason"):
        plan_move(C, A, reason=reason)


# ------------------------------------------------------------------ plan_move: refused moves


@pytest.mark.parametrize(("current", "target"), [(ORDER[i], ORDER[j]) for i in range(len(ORDER)) for j in range(i + 2, len(ORDER))])
def test_skipping_forward_is_refused_naming_the_allowed_moves(current: Phase, target: Phase) -> None:
    with pytest.raises(InvalidTransition) as info:
        plan_move(current, target, reason="in a hurry")
    err = info.value
    assert err.status == 409
    assert err.field == "to_phase"
    assert err.allowed == [p.value for p in allowed_targets(current)]
    assert err.extra == {"allowed_transitions": err.allowed, "current_phase": current.value}
    assert "phases move forward one at a time" in err.message
    assert f"cannot move from {current.value} to {target.value}" in err.message


@pytest.mark.parametrize("current", list(Phase))
def test_moving_to_the_current_phase_is_refused(current: Phase) -> None:
    with pytest.raises(InvalidTransition, match="already in this phase"):
        plan_move(current, current, reason="r", outcome="o")


def test_invalid_transition_message_lists_allowed_transitions() -> None:
    with pytest.raises(InvalidTransition) as info:
        plan_move(A, P)
    assert str(info.value).endswith("allowed transitions: screening, risk")


def test_every_refusal_is_a_domain_error() -> None:
    for exc in (InvalidTransition("a", "b", []), MissingReason("x"), MissingOutcome()):
        assert isinstance(exc, DomainError)
    assert "allowed transitions: none" in str(InvalidTransition("a", "b", []))


# ------------------------------------------------------------------ status and history helpers


@pytest.mark.parametrize("phase", list(Phase))
def test_status_is_closed_only_in_the_closed_phase(phase: Phase) -> None:
    assert status_for(phase) is (Status.CLOSED if phase is C else Status.OPEN)


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        ([], True),
        ([(None, "screening")], True),
        ([(None, "screening"), ("screening", "assessment"), ("assessment", "screening")], True),
        ([("screening", "assessment")], False),  # the first move must come from nothing
        ([(None, "screening"), ("assessment", "risk")], False),  # a gap
        ([(None, "screening"), (None, "assessment")], False),  # a second opening
    ],
)
def test_history_is_contiguous(moves: list[tuple[str | None, str]], expected: bool) -> None:
    assert history_is_contiguous(moves) is expected


# ------------------------------------------------------------------ property: an independent oracle


def oracle(current: Phase, target: Phase, reason: str | None, outcome: str | None) -> MoveKind | type[DomainError]:
    """The requirement restated independently of the implementation: the expected kind or error."""
    has_reason = bool(reason and reason.strip())
    has_outcome = bool(outcome and outcome.strip())
    if current is C:
        if target is C:
            return InvalidTransition
        return MoveKind.REOPEN if has_reason else MissingReason
    if target is current:
        return InvalidTransition
    if target is C:
        if current not in (S, E):
            return InvalidTransition
        return MoveKind.CLOSE if has_outcome else MissingOutcome
    here, there = ORDER.index(current), ORDER.index(target)
    if there == here + 1:
        return MoveKind.FORWARD
    if there < here:
        return MoveKind.RETURN if has_reason else MissingReason
    return InvalidTransition


texts = st.one_of(st.none(), st.just(""), st.just("   "), st.text(min_size=1, max_size=12))


# (index, pick among the allowed targets?, reason, outcome): picking mostly among the moves the
# lifecycle lists makes sequences go deep; otherwise the index names any phase at all.
commands = st.lists(st.tuples(st.integers(0, len(Phase) - 1), st.integers(0, 3).map(bool), texts, texts), max_size=40)


@settings(max_examples=300, deadline=None)
@given(commands)
def test_random_command_sequences_follow_the_rules(cmds: list[tuple[int, bool, str | None, str | None]]) -> None:
    phase = S
    history: list[tuple[str | None, str]] = [(None, S.value)]
    outcome: str | None = None
    for index, among_allowed, reason, given_outcome in cmds:
        choices = allowed_targets(phase) if among_allowed else list(Phase)
        target = choices[index % len(choices)]
        expected = oracle(phase, target, reason, given_outcome)
        assert (expected is not InvalidTransition) == (target in allowed_targets(phase))
        if isinstance(expected, type):
            with pytest.raises(expected):
                plan_move(phase, target, reason=reason, outcome=given_outcome)
            continue
        move = plan_move(phase, target, reason=reason, outcome=given_outcome)
        assert move.kind is expected
        assert move.from_phase is phase and move.to_phase is target
        # Text is stored trimmed, and blank text is stored as nothing.
        assert move.reason == ((reason or "").strip() or None)
        if move.kind is MoveKind.CLOSE:
            assert move.outcome == (given_outcome or "").strip()
            outcome = move.outcome
        else:
            assert move.outcome is None
        if move.kind is MoveKind.REOPEN:
            outcome = None
        history.append((move.from_phase.value, move.to_phase.value))
        phase = move.to_phase
        # Invariants of the state reached.
        assert history_is_contiguous(history)
        assert (status_for(phase) is Status.CLOSED) == (phase is C) == (outcome is not None)
        assert phase not in allowed_targets(phase)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Phase)), st.sampled_from(list(Phase)))
def test_allowed_targets_is_exactly_the_set_of_moves_some_input_permits(current: Phase, target: Phase) -> None:
    permitted = not isinstance(oracle(current, target, "reason", "outcome"), type)
    assert permitted == (target in allowed_targets(current))


def test_every_working_phase_is_reachable_and_every_case_can_be_closed() -> None:
    # Breadth-first over allowed moves from screening.
    seen = {S}
    frontier = [S]
    while frontier:
        nxt = [t for p in frontier for t in allowed_targets(p) if t not in seen]
        seen.update(nxt)
        frontier = nxt
    assert seen == set(Phase)
    # From any phase there is a path to closed: forward to evaluation, then close.
    for start in ORDER:
        phase = start
        while phase is not E:
            phase = plan_move(phase, ORDER[ORDER.index(phase) + 1]).to_phase
        assert plan_move(phase, C, outcome="done").kind is MoveKind.CLOSE
