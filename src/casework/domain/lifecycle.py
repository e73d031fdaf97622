"""The seven-phase lifecycle as a pure state machine.

Kept free of persistence so the same rules are enforced by the API, the CLI and the
property-based tests, and so a later case-type layer can add entry/exit criteria on top.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from casework.domain.errors import InvalidTransition, MissingOutcome, MissingReason


class Phase(str, enum.Enum):
    SCREENING = "screening"
    ASSESSMENT = "assessment"
    RISK = "risk"
    PLANNING = "planning"
    IMPLEMENTATION = "implementation"
    FOLLOW_UP = "follow_up"
    EVALUATION = "evaluation"
    CLOSED = "closed"


class Status(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Priority(str, enum.Enum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class MoveKind(str, enum.Enum):
    OPEN = "open"
    FORWARD = "forward"
    RETURN = "return"
    CLOSE = "close"
    REOPEN = "reopen"


#: The working phases in their natural order; CLOSED is not part of the order.
ORDER: tuple[Phase, ...] = (
    Phase.SCREENING,
    Phase.ASSESSMENT,
    Phase.RISK,
    Phase.PLANNING,
    Phase.IMPLEMENTATION,
    Phase.FOLLOW_UP,
    Phase.EVALUATION,
)
_INDEX = {p: i for i, p in enumerate(ORDER)}


@dataclass(frozen=True)
class Move:
    """A validated phase change, ready to be recorded in the phase history."""

    from_phase: Phase
    to_phase: Phase
    kind: MoveKind
    reason: str | None
    outcome: str | None


def allowed_targets(current: Phase) -> list[Phase]:
    """Every phase reachable from ``current`` (some need a reason or an outcome)."""
    if current is Phase.CLOSED:
        return list(ORDER)
    idx = _INDEX[current]
    targets = list(ORDER[:idx])  # returns to any earlier phase
    if idx + 1 < len(ORDER):
        targets.append(ORDER[idx + 1])
    if current in (Phase.SCREENING, Phase.EVALUATION):
        targets.append(Phase.CLOSED)
    return targets


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text or None


def plan_move(current: Phase, target: Phase, *, reason: str | None = None, outcome: str | None = None) -> Move:
    """Validate a requested move and classify it; raises a DomainError naming what is wrong."""
    reason, outcome = _clean(reason), _clean(outcome)
    allowed = [p.value for p in allowed_targets(current)]
    if target is current:
        raise InvalidTransition(current.value, target.value, allowed, "the case is already in this phase")
    if target.value not in allowed:
        why = "phases move forward one at a time" if target is not Phase.CLOSED else ("only screening and evaluation can close a case")
        raise InvalidTransition(current.value, target.value, allowed, why)
    if current is Phase.CLOSED:
        if reason is None:
            raise MissingReason("reopening a closed case requires a reason")
        return Move(current, target, MoveKind.REOPEN, reason, None)
    if target is Phase.CLOSED:
        if outcome is None:
            raise MissingOutcome()
        return Move(current, target, MoveKind.CLOSE, reason, outcome)
    if _INDEX[target] < _INDEX[current]:
        if reason is None:
            raise MissingReason(f"returning from {current.value} to {target.value} requires a reason")
        return Move(current, target, MoveKind.RETURN, reason, None)
    return Move(current, target, MoveKind.FORWARD, reason, None)


def status_for(phase: Phase) -> Status:
    return Status.CLOSED if phase is Phase.CLOSED else Status.OPEN


def history_is_contiguous(moves: list[tuple[str | None, str]]) -> bool:
    """True when each move starts where the previous one ended, the first from nothing."""
    previous: str | None = None
    for i, (src, dst) in enumerate(moves):
        if i == 0 and src is not None:
            return False
        if i > 0 and src != previous:
            return False
        previous = dst
    return True
