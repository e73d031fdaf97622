"""Phase entry/exit criteria judged by the pure domain module (domain/criteria.py).

Checks are built by hand here (the case-type layer compiles them from YAML), so the table of
cases below pins down exactly what each kind of check looks at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from casework.domain.criteria import CaseFacts, Check, unmet, unmet_for_move


def facts(**overrides: Any) -> CaseFacts:
    base: dict[str, Any] = {
        "phase": "assessment",
        "fields": {"amount": 120, "nationality": "BE", "empty": "", "nested": {"inner": 1}},
        "answers": {"kyc": {"pep": True}},
        "complete_questionnaires": frozenset({"kyc"}),
        "goal_count": 1,
        "open_task_count": 0,
        "decisions_made": frozenset({"risk"}),
    }
    base.update(overrides)
    return CaseFacts(**base)


def expr(fn: Any, message: str = "expression unmet") -> Check:
    return Check("expression", "<expr>", message, predicate=fn)


CASES = [
    ("questionnaire complete", [Check("questionnaire_complete", "kyc", "q")], {}, []),
    ("questionnaire missing", [Check("questionnaire_complete", "incident", "q incident")], {}, ["q incident"]),
    ("enough goals", [Check("min_goals", 1, "goals")], {}, []),
    ("too few goals", [Check("min_goals", 2, "goals")], {}, ["goals"]),
    ("no goals", [Check("min_goals", 1, "goals")], {"goal_count": 0}, ["goals"]),
    ("fields present", [Check("fields_present", ("amount", "nested.inner"), "f: {missing}")], {}, []),
    ("fields missing", [Check("fields_present", ("amount", "empty", "absent"), "f: {missing}")], {}, ["f: empty, absent"]),
    ("decision made", [Check("decision_made", "risk", "d")], {}, []),
    ("decision missing", [Check("decision_made", "routing", "d")], {}, ["d"]),
    ("tasks done", [Check("tasks_done", True, "t")], {}, []),
    ("tasks open", [Check("tasks_done", True, "t")], {"open_task_count": 2}, ["t"]),
    ("documents in", [Check("documents_received", True, "docs: {missing}")], {}, []),
    (
        "documents missing",
        [Check("documents_received", True, "docs: {missing}")],
        {"missing_documents": ("id", "address")},
        ["docs: id, address"],
    ),
    ("expression true", [expr(lambda ctx: ctx["fields"]["amount"] > 100)], {}, []),
    ("expression false", [expr(lambda ctx: ctx["fields"]["amount"] > 1000)], {}, ["expression unmet"]),
    ("expression null is unmet", [expr(lambda ctx: None)], {}, ["expression unmet"]),
    ("expression truthy non-boolean is unmet", [expr(lambda ctx: 1)], {}, ["expression unmet"]),
    ("expression raising is unmet", [expr(lambda ctx: 1 / 0)], {}, ["expression unmet"]),
    (
        "order kept, duplicates once",
        [Check("tasks_done", True, "t"), Check("min_goals", 3, "g"), Check("tasks_done", True, "t")],
        {"open_task_count": 1},
        ["t", "g"],
    ),
]


@pytest.mark.parametrize(("checks", "overrides", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unmet(checks: list[Check], overrides: dict[str, Any], expected: list[str]) -> None:
    assert unmet(checks, facts(**overrides)) == expected


def test_expression_context_defaults_to_facts_and_prefers_the_callers() -> None:
    seen: list[Mapping[str, Any]] = []
    check = expr(lambda ctx: seen.append(ctx) or True)
    unmet([check], facts())
    assert seen[-1]["case"] == {"phase": "assessment"} and seen[-1]["answers"]["kyc"]["pep"] is True
    custom = {"case": {"phase": "risk"}, "fields": {}, "answers": {}, "risk": {"score": 80}}
    unmet([check], facts(context=custom))
    assert seen[-1] is custom


def test_unmet_for_move_combines_exit_then_entry_without_repeats() -> None:
    exit_checks = [Check("questionnaire_complete", "incident", "incident not complete"), Check("tasks_done", True, "open tasks")]
    entry_checks = [Check("decision_made", "routing", "routing missing"), Check("tasks_done", True, "open tasks")]
    got = unmet_for_move(exit_checks, entry_checks, facts(open_task_count=1))
    assert got == ["incident not complete", "open tasks", "routing missing"]
    assert unmet_for_move([], [], facts()) == []


def test_check_rejects_unknown_kind_and_expression_without_predicate() -> None:
    with pytest.raises(ValueError, match="unknown criterion kind"):
        Check("vibes", None, "x")
    with pytest.raises(ValueError, match="predicate"):
        Check("expression", "a = 1", "x")
