"""Turn a case type's declared phase criteria into the domain's plain checks.

The domain judges checks without knowing about YAML or pydantic; this is the one place that
translates a :class:`Criterion` into a :class:`Check`, compiling expressions once (the
compiled form is cached by text) so moving a case never re-parses its definition.
"""

from __future__ import annotations

from typing import Literal

from casework.casetypes.model import CaseTypeDef, Criterion, compiled_expression
from casework.domain.criteria import Check
from casework.domain.lifecycle import Phase


def check_for(criterion: Criterion) -> Check:
    kind = criterion.kind
    predicate = compiled_expression(criterion.expression) if criterion.expression else None
    arg: object = tuple(criterion.fields_present) if criterion.fields_present else criterion.arg
    return Check(kind=kind, arg=arg, message=criterion.unmet_message, predicate=predicate)


def checks_for(defn: CaseTypeDef, phase: Phase | str, which: Literal["entry", "exit"]) -> list[Check]:
    """The compiled entry or exit checks of ``phase`` (empty when the type declares none)."""
    if which not in ("entry", "exit"):
        raise ValueError(f"which must be 'entry' or 'exit', not {which!r}")
    rules = defn.phases.get(Phase(phase))
    if rules is None:
        return []
    return [check_for(c) for c in getattr(rules, which)]


def outcome_problem(defn: CaseTypeDef, outcome: str | None) -> str | None:
    """Why ``outcome`` cannot close a case of this type, or None when it can."""
    if outcome is None or not outcome.strip():
        return "closing a case requires an outcome"
    if outcome.strip() not in defn.outcomes:
        return f"outcome '{outcome}' is not one of: {', '.join(defn.outcomes)}"
    return None
