"""The case-type model: custom field validation, priority bands, SLA look-ups and criteria."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from casework.casetypes.criteria import checks_for, outcome_problem
from casework.casetypes.loader import shipped_case_types
from casework.casetypes.model import CaseTypeDef, Criterion, FieldProblem, Question
from casework.domain.criteria import CaseFacts, unmet, unmet_for_move
from casework.domain.lifecycle import Phase, Priority


def shipped(key: str) -> CaseTypeDef:
    return next(d for d in shipped_case_types() if d.key == key)


# ---------------------------------------------------------------- custom fields


def test_valid_fields_have_no_problems() -> None:
    complaint = shipped("complaint")
    data = {"product": "credit_card", "channel": "email", "amount_claimed": 120.5, "incident_date": "2026-01-31", "language": "fr"}
    assert complaint.validate_fields(data) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"channel": "email"}, FieldProblem("fields.product", "is required")),
        (
            {"product": "loan", "channel": "email", "amount_claimed": "lots"},
            FieldProblem("fields.amount_claimed", "must be of type number"),
        ),
        ({"product": "loan", "channel": "fax"}, FieldProblem("fields.channel", "must be one of: email, phone, web, branch, letter")),
        (
            {"product": "loan", "channel": "web", "incident_date": "31/01/2026"},
            FieldProblem("fields.incident_date", "is not a valid date (YYYY-MM-DD)"),
        ),
        ({"product": "loan", "channel": "web", "amount_claimed": -1}, FieldProblem("fields.amount_claimed", "must be >= 0")),
        ({"product": "loan", "channel": "web", "colour": "red"}, FieldProblem("fields.colour", "is not a field of this case type")),
    ],
)
def test_field_problems_name_the_field(data: dict[str, Any], problem: FieldProblem) -> None:
    assert shipped("complaint").validate_fields(data) == [problem]


def test_several_field_problems_are_reported_sorted() -> None:
    problems = shipped("disputed_transaction").validate_fields({"transaction_kind": "cheque", "amount": "1", "currency": "eur"})
    assert [p.field for p in problems] == ["fields.account_type", "fields.amount", "fields.currency", "fields.transaction_kind"]


# ---------------------------------------------------------------- priority bands and SLA


@pytest.mark.parametrize(("score", "priority"), [(100, "P1"), (75, "P1"), (74.9, "P2"), (50, "P2"), (25, "P3"), (24, "P4"), (0, "P4")])
def test_priority_for_score(score: float, priority: str) -> None:
    assert shipped("complaint").priority_for_score(score) is Priority(priority)


def test_sla_lookups() -> None:
    sla = shipped("complaint").sla
    assert sla.phase_hours(Phase.SCREENING, Priority.P1) == 4
    assert sla.phase_hours("implementation", "P4") == 672
    assert sla.phase_hours("closed", "P1") is None
    assert sla.resolution_hours("P4") == 8 * 7 * 24
    assert 0 < sla.warn_before_fraction < 1


# ---------------------------------------------------------------- criteria


def facts(**overrides: Any) -> CaseFacts:
    base: dict[str, Any] = {
        "phase": "assessment",
        "fields": {},
        "answers": {},
        "complete_questionnaires": frozenset(),
        "goal_count": 0,
        "open_task_count": 0,
        "decisions_made": frozenset(),
    }
    base.update(overrides)
    return CaseFacts(**base)


def test_complaint_criteria() -> None:
    complaint = shipped("complaint")
    exit_assessment = checks_for(complaint, Phase.ASSESSMENT, "exit")
    assert unmet(exit_assessment, facts()) == ["questionnaire 'complaint_details' is not complete"]
    assert unmet(exit_assessment, facts(complete_questionnaires=frozenset({"complaint_details"}))) == []
    assert unmet(checks_for(complaint, "planning", "exit"), facts()) == ["add at least one goal to the resolution plan"]
    assert unmet(checks_for(complaint, "implementation", "exit"), facts(open_task_count=2)) == [
        "every task of the resolution plan must be done or cancelled"
    ]
    assert checks_for(complaint, "risk", "entry") == [] and checks_for(complaint, "closed", "exit") == []


def test_onboarding_criteria_use_fields_and_expressions() -> None:
    onboarding = shipped("onboarding")
    checks = checks_for(onboarding, "assessment", "exit")
    person = {"customer_type": "person", "country_of_residence": "BE"}
    messages = unmet(checks, facts(fields=person, missing_documents=("identity_document",)))
    assert messages == [
        "questionnaire 'kyc' is not complete",
        "fields not filled in: nationality",
        "a person's date of birth is required",
        "documents not received: identity_document",
    ]  # version 2: the documents checklist is an exit criterion (validated documents count)
    complete = {**person, "nationality": "FR", "date_of_birth": "1990-02-03"}
    assert unmet(checks, facts(fields=complete, complete_questionnaires=frozenset({"kyc"}))) == []
    organisation = {"customer_type": "organisation", "country_of_residence": "BE", "nationality": "BE"}
    assert unmet(checks, facts(fields=organisation, complete_questionnaires=frozenset({"kyc"}))) == [
        "an organisation's registration number is required"
    ]
    assert (
        unmet_for_move(checks, checks_for(onboarding, "risk", "entry"), facts(fields=complete, complete_questionnaires=frozenset({"kyc"})))
        == []
    )


def test_checks_for_rejects_a_bad_which() -> None:
    with pytest.raises(ValueError, match="entry"):
        checks_for(shipped("complaint"), "assessment", "exit_")  # type: ignore[arg-type]


def test_criterion_messages() -> None:
    assert Criterion(min_goals=2).unmet_message == "the plan needs at least 2 goals"
    assert Criterion(decision_made="risk").unmet_message == "the risk decision has not been made"
    assert Criterion(expression="fields.a = 1").unmet_message == "condition not met: fields.a = 1"
    assert Criterion(tasks_done=True, message="finish the plan").unmet_message == "finish the plan"
    with pytest.raises(ValidationError, match="exactly one"):
        Criterion()
    with pytest.raises(ValidationError, match="only be true"):
        Criterion(tasks_done=False)


def test_question_options_rules() -> None:
    with pytest.raises(ValidationError, match="needs options"):
        Question(key="a", text="A", type="multichoice")
    with pytest.raises(ValidationError, match="only allowed"):
        Question(key="a", text="A", type="text", options=["x"])
    with pytest.raises(ValidationError, match="unique"):
        Question(key="a", text="A", type="choice", options=["x", "x"])


def test_outcome_problem() -> None:
    complaint = shipped("complaint")
    assert outcome_problem(complaint, "upheld") is None
    assert outcome_problem(complaint, None) == "closing a case requires an outcome"
    assert outcome_problem(complaint, "  ") == "closing a case requires an outcome"
    problem = outcome_problem(complaint, "approved")
    assert problem is not None and problem.startswith("outcome 'approved' is not one of: upheld, partially_upheld")


def test_direct_construction_raises_every_cross_reference_problem() -> None:
    data = shipped("complaint").model_dump(mode="json")
    data["intake"] = [{"field": "nope", "label": "Nope"}]
    data["phases"]["assessment"]["exit"] = [{"questionnaire_complete": "missing"}]
    with pytest.raises(ValidationError) as info:
        CaseTypeDef.model_validate(data)
    text = str(info.value)
    assert "intake[0].field: 'nope'" in text and "unknown questionnaire 'missing'" in text
