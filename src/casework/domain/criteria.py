"""Phase entry and exit criteria as plain checks over plain facts.

A case type declares what must be true before a case may leave or enter a phase ("the
complaint questionnaire is complete", "the plan has a goal"). The declarations live in the
case-type layer; this module only knows how to judge a list of checks against a snapshot of
the case, so the lifecycle service, the API and property-based tests share one judgement
without pulling in YAML, pydantic or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The kinds of check the case-type layer may compile; anything else is a programming error.
KINDS: frozenset[str] = frozenset(
    {"questionnaire_complete", "min_goals", "fields_present", "decision_made", "tasks_done", "documents_received", "expression"}
)


@dataclass(frozen=True)
class CaseFacts:
    """What the checks may look at, gathered once by the caller before a move."""

    phase: str
    fields: Mapping[str, Any]
    answers: Mapping[str, Mapping[str, Any]]
    complete_questionnaires: frozenset[str]
    goal_count: int
    open_task_count: int
    decisions_made: frozenset[str]
    missing_documents: tuple[str, ...] = ()
    #: The expression context ({"case", "fields", "answers", "risk"}); built from the facts when empty.
    context: Mapping[str, Any] = field(default_factory=dict)

    def expression_context(self) -> Mapping[str, Any]:
        """The context handed to compiled expressions: the caller's, or a minimal one from the facts."""
        if self.context:
            return self.context
        return {"case": {"phase": self.phase}, "fields": self.fields, "answers": self.answers, "risk": {}}


@dataclass(frozen=True)
class Check:
    """One compiled criterion. ``message`` is shown when the check is unmet; ``{missing}`` in it
    is replaced by the missing field or document names."""

    kind: str
    arg: object
    message: str
    predicate: Callable[[Mapping[str, Any]], Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown criterion kind {self.kind!r}")
        if self.kind == "expression" and self.predicate is None:
            raise ValueError("an expression check needs a compiled predicate")


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    current: Any = data
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _missing_fields(names: object, facts: CaseFacts) -> list[str]:
    wanted = [names] if isinstance(names, str) else list(names) if isinstance(names, Sequence) else []
    return [str(n) for n in wanted if not _present(_lookup(facts.fields, str(n)))]


def _met(check: Check, facts: CaseFacts) -> tuple[bool, list[str]]:
    """Whether the check holds, and the names to put in ``{missing}`` when it does not."""
    kind, arg = check.kind, check.arg
    if kind == "questionnaire_complete":
        return str(arg) in facts.complete_questionnaires, []
    if kind == "min_goals":
        return facts.goal_count >= (arg if isinstance(arg, int) else 1), []
    if kind == "fields_present":
        missing = _missing_fields(arg, facts)
        return not missing, missing
    if kind == "decision_made":
        return str(arg) in facts.decisions_made, []
    if kind == "tasks_done":
        return facts.open_task_count == 0, []
    if kind == "documents_received":
        return not facts.missing_documents, list(facts.missing_documents)
    # expression: only a real true passes; a failing evaluation counts as unmet rather than crashing a move
    assert check.predicate is not None
    try:
        return check.predicate(facts.expression_context()) is True, []
    except Exception:
        return False, []


def unmet(checks: Sequence[Check], facts: CaseFacts) -> list[str]:
    """Messages of the checks that do not hold, in declaration order (empty when all hold)."""
    messages: list[str] = []
    for check in checks:
        ok, missing = _met(check, facts)
        if not ok:
            message = check.message.replace("{missing}", ", ".join(missing) if missing else "-")
            if message not in messages:
                messages.append(message)
    return messages


def unmet_for_move(exit_checks: Sequence[Check], entry_checks: Sequence[Check], facts: CaseFacts) -> list[str]:
    """Everything blocking a move: the exit criteria of the current phase, then the entry
    criteria of the target phase, without repeating a message both declare."""
    messages = unmet(exit_checks, facts)
    for message in unmet(entry_checks, facts):
        if message not in messages:
            messages.append(message)
    return messages
