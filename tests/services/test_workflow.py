"""Case types at work through the services: each shipped type through its lifecycle, decisions on
the way, plans from templates, SLA clocks, versioned definitions and rule sets with simulation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casework.domain.access import Principal
from casework.domain.errors import CriteriaNotMet, DomainError, InvalidInput, StaleVersion
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import answers, cases, casetypes, decisions, plans, rulesets, workflow
from casework.services.schemas import CaseUpdate
from casework.services.workflow_schemas import AnswersSubmit, DecisionPoint, DecisionResolve, DecisionStatus, DraftCreate
from casework.store.models import Case, SlaClock
from casework.store.unit_of_work import Database
from tests.factories import CASE_DATA, OUTCOME, advance_to, move, new_case, satisfy_exit

EMPTIED_SAVINGS = {"transaction_kind": "unauthorised_transfer", "amount": 8000.0, "currency": "EUR", "account_type": "savings",
                   "balance_after": 0.0, "reported_within_days": 1}  # fmt: skip
SMALL_CARD_CHARGE = {"transaction_kind": "card_charge", "amount": 65.0, "currency": "EUR", "account_type": "current",
                     "balance_after": 1200.0, "reported_within_days": 3}  # fmt: skip


@pytest.mark.parametrize("case_type", ["complaint", "support_ticket", "disputed_transaction"])
def test_each_shipped_type_goes_from_intake_to_closure(db: Database, actor: Principal, case_type: str) -> None:
    case = new_case(db, actor, case_type=case_type, team=None)
    assert case.team is not None  # routed by the type's routing table
    case = advance_to(db, actor, case, Phase.EVALUATION)
    closed = move(db, actor, case, Phase.CLOSED, outcome=OUTCOME[case_type])
    assert (closed.status, closed.outcome) == (Status.CLOSED, OUTCOME[case_type])
    points = {d.point for d in decisions.list_decisions(db, actor, case.id)}
    assert {DecisionPoint.ROUTING, DecisionPoint.SCREENING, DecisionPoint.RISK} <= points
    assert plans.get_plan(db, actor, case.id), "entering planning created the plan from the type's templates"


def test_onboarding_is_screened_automatically_and_blocked_by_its_criteria(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, case_type="onboarding", team="onboarding")
    assert case.phase is Phase.ASSESSMENT  # automatic screening opened it
    with pytest.raises(CriteriaNotMet) as info:
        move(db, actor, case, Phase.RISK)
    unmet = info.value.unmet
    assert "questionnaire 'kyc' is not complete" in unmet
    assert any("date of birth" in m for m in unmet)
    ready = workflow.readiness(db, actor, case.id)
    (forward,) = [m for m in ready.moves if m.to_phase is Phase.RISK]
    assert (forward.ready, forward.unmet) == (False, unmet)
    assert "identity_document" in ready.required_documents


def test_the_fraud_example_outranks_a_small_card_charge(db: Database, actor: Principal) -> None:
    """The seed's example: an unauthorised transfer that emptied a savings account is P1, a small charge P4."""
    big = new_case(db, actor, case_type="disputed_transaction", team="fraud", custom_data=EMPTIED_SAVINGS)
    small = new_case(db, actor, case_type="disputed_transaction", team="fraud", custom_data=SMALL_CARD_CHARGE)
    assert big.phase is Phase.ASSESSMENT and small.phase is Phase.ASSESSMENT  # screening opened both
    big, small = (advance_to(db, actor, c, Phase.RISK) for c in (big, small))
    assert (big.priority, small.priority) == (Priority.P1, Priority.P4)
    assert big.risk_score is not None and small.risk_score is not None and big.risk_score >= 75 > 25 > small.risk_score
    (risk,) = [d for d in decisions.list_decisions(db, actor, big.id) if d.point is DecisionPoint.RISK]
    assert (risk.mode, risk.status, risk.table_name, risk.table_version) == (
        "automatic",
        DecisionStatus.APPLIED,
        "disputed_transaction.risk",
        1,
    )
    assert risk.inputs and risk.matched and "Matched" in risk.explanation
    assert risk.outputs["score"] >= 75


def test_tiny_card_charges_are_fast_tracked_at_intake(db: Database, actor: Principal) -> None:
    tiny = {**SMALL_CARD_CHARGE, "amount": 12.5}
    case = new_case(db, actor, case_type="disputed_transaction", team="fraud", custom_data=tiny)
    assert (case.status, case.outcome) == (Status.CLOSED, "fast_tracked")


def test_custom_fields_are_validated_on_intake_and_update(db: Database, actor: Principal) -> None:
    with pytest.raises(InvalidInput) as info:
        new_case(db, actor, custom_data={"product": "spaceship"})
    assert info.value.field == "custom_data.product"
    with pytest.raises(InvalidInput) as info:
        new_case(db, actor, case_type="no_such_type")
    assert info.value.field == "case_type"
    case = new_case(db, actor, team="complaints")
    with pytest.raises(InvalidInput) as info:
        cases.update_case(db, actor, case.id, CaseUpdate(custom_data={"channel": "email"}, version=case.version))
    assert info.value.field == "custom_data.product"
    assert {e["field"] for e in info.value.extra["errors"]} == {"custom_data.product"}


def test_answers_are_versioned_and_conditional(db: Database, actor: Principal) -> None:
    case = move(db, actor, new_case(db, actor, team="complaints"), Phase.ASSESSMENT)
    first = answers.submit_answers(db, actor, case.id, "complaint_details", AnswersSubmit(answers={"what_happened": "Fee charged"}))
    assert (first.version, first.complete) == (1, False)
    assert "compensation_amount" not in [q.key for q in first.questions]
    full = {"what_happened": "Fee charged", "raised_before": False, "preferred_resolution": "refund", "wants_compensation": True,
            "regulator_contacted": False}  # fmt: skip
    second = answers.submit_answers(db, actor, case.id, "complaint_details", AnswersSubmit(answers=full, version=1))
    assert "compensation_amount" in [q.key for q in second.questions]  # shown once compensation is wanted
    assert second.missing == ["compensation_amount"]
    with pytest.raises(StaleVersion):
        answers.submit_answers(db, actor, case.id, "complaint_details", AnswersSubmit(answers=full, version=1))
    with pytest.raises(InvalidInput) as info:
        answers.submit_answers(db, actor, case.id, "complaint_details", AnswersSubmit(answers={**full, "compensation_amount": "lots"}))
    assert info.value.field == "answers.compensation_amount"
    third = answers.submit_answers(db, actor, case.id, "complaint_details", AnswersSubmit(answers={**full, "compensation_amount": 50}))
    assert (third.version, third.complete) == (3, True)
    assert [v.version for v in answers.answer_history(db, actor, case.id, "complaint_details")] == [1, 2, 3]
    planned = advance_to(db, actor, case, Phase.PLANNING)
    titles = [g.title for g in plans.get_plan(db, actor, planned.id)]
    assert titles == ["Resolve the complaint", "Pay compensation"]  # the second template's condition held


def test_recommendations_wait_for_a_person(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, team="complaints")
    (pending,) = [d for d in decisions.list_decisions(db, actor, case.id) if d.point is DecisionPoint.SCREENING]
    assert (pending.status, pending.outputs["action"]) == (DecisionStatus.PENDING, "open")
    assert cases.get_case(db, actor, case.id).phase is Phase.SCREENING  # nothing happened yet
    with pytest.raises(InvalidInput) as info:
        decisions.resolve_decision(db, actor, case.id, pending.id, DecisionResolve(outputs={"action": "drop"}))
    assert info.value.field == "reason"
    with pytest.raises(InvalidInput) as info:
        decisions.resolve_decision(db, actor, case.id, pending.id, DecisionResolve(outputs={"colour": "red"}, reason="x"))
    assert info.value.field == "outputs.colour"
    done, view = decisions.resolve_decision(
        db, actor, case.id, pending.id, DecisionResolve(outputs={"action": "drop", "reason": "duplicate"}, reason="same as CASE-1")
    )
    assert (done.status, done.final_outputs["action"], done.reason) == (DecisionStatus.OVERRIDDEN, "drop", "same as CASE-1")
    assert (view.status, view.outcome) == (Status.CLOSED, "screened_out")
    with pytest.raises(DomainError):
        decisions.resolve_decision(db, actor, case.id, pending.id, DecisionResolve())


def test_sla_clocks_follow_the_case(db: Database, actor: Principal) -> None:
    opened = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    case = new_case(db, actor, team="complaints", priority="P2", opened_at=opened)
    with db.read() as s:
        clocks = {(c.kind, c.name): c for c in s.scalars(select(SlaClock).where(SlaClock.case_id == case.id))}
    assert clocks[("phase", "screening")].due_at == opened + dt.timedelta(hours=8)  # complaint: screening P2 = 8 h
    assert clocks[("resolution", "resolution")].due_at == opened + dt.timedelta(hours=672)
    assert ("milestone", "acknowledged") in clocks
    move(db, actor, case, Phase.ASSESSMENT)
    with db.read() as s:
        running = {(c.kind, c.name) for c in s.scalars(select(SlaClock).where(SlaClock.case_id == case.id, SlaClock.stopped_at.is_(None)))}
    assert ("phase", "assessment") in running and ("phase", "screening") not in running
    assert ("milestone", "acknowledged") not in running  # met on entering assessment


def test_a_case_keeps_the_definition_it_was_opened_with(db: Database, actor: Principal) -> None:
    old_case = new_case(db, actor, team="complaints")
    source = casetypes.get_case_type(db, actor, "complaint").source
    changed = source.replace("version: 1", "version: 2", 1).replace("outcomes: [upheld,", "outcomes: [goodwill_gesture, upheld,", 1)
    assert casetypes.validate_source(db, actor, changed).valid
    installed = casetypes.install_source(db, actor, changed)
    assert installed.version == 2
    diff = casetypes.diff_case_type(db, actor, "complaint", 1, 2)
    assert any(c.path.startswith("outcomes") for c in diff.changes)
    new = new_case(db, actor, team="complaints")
    with db.read() as s:
        versions = {c.id: c.case_type_version for c in s.scalars(select(Case))}
    assert (versions[old_case.id], versions[new.id]) == (1, 2)
    assert workflow.readiness(db, actor, new.id).outcomes[0] == "goodwill_gesture"
    assert "goodwill_gesture" not in workflow.readiness(db, actor, old_case.id).outcomes
    with pytest.raises(DomainError):  # the same version with other content is refused
        casetypes.install_source(db, actor, changed.replace("goodwill_gesture", "other_gesture"))
    report = casetypes.validate_source(db, actor, "key: complaint\nversion: x\n")
    assert not report.valid and report.errors[0].line is not None


def test_drafts_are_simulated_then_published(db: Database, actor: Principal) -> None:
    for data in (EMPTIED_SAVINGS, SMALL_CARD_CHARGE):
        case = advance_to(
            db, actor, new_case(db, actor, case_type="disputed_transaction", team="fraud", custom_data=data), Phase.EVALUATION
        )
        move(db, actor, case, Phase.CLOSED, outcome="refunded")
    current = rulesets.get_table(db, actor, "disputed_transaction.risk")
    definition = current.definition
    # The draft scores everything 100: every closed case's outcome would change.
    definition["rules"] = [{"id": "all", "when": ["-"] * len(definition["inputs"]), "then": {"score": 100}}]
    definition.pop("aggregation", None)
    definition["hit_policy"] = "FIRST"
    draft = rulesets.create_draft(db, actor, "disputed_transaction.risk", DraftCreate(definition=definition, comment="flat"))
    assert (draft.version, draft.status.value) == (2, "draft")
    report = rulesets.simulate(db, actor, "disputed_transaction.risk", draft.version, last=10)
    assert (report.cases, report.changed, report.unchanged, report.published_version) == (2, 2, 0, 1)
    assert report.examples[0].draft == {"score": 100}
    with pytest.raises(InvalidInput) as info:
        rulesets.create_draft(db, actor, "disputed_transaction.risk", DraftCreate(definition={**definition, "hit_policy": "SOMETIMES"}))
    assert info.value.field == "definition.hit_policy"
    rulesets.publish(db, actor, "disputed_transaction.risk", draft.version)
    versions = {v.version: v.status.value for v in rulesets.table_versions(db, actor, "disputed_transaction.risk")}
    assert versions == {1: "retired", 2: "published"}
    later = advance_to(
        db, actor, new_case(db, actor, case_type="disputed_transaction", team="fraud", custom_data=SMALL_CARD_CHARGE), Phase.RISK
    )
    assert later.priority is Priority.P1
    (risk,) = [d for d in decisions.list_decisions(db, actor, later.id) if d.point is DecisionPoint.RISK]
    assert risk.table_version == 2


def test_satisfying_the_criteria_unblocks_the_move(db: Database, actor: Principal) -> None:
    case = move(db, actor, new_case(db, actor, team="complaints", custom_data=CASE_DATA["complaint"]), Phase.ASSESSMENT)
    assert not workflow.readiness(db, actor, case.id).moves[-1].ready
    satisfy_exit(db, actor, case)
    assert move(db, actor, cases.get_case(db, actor, case.id), Phase.RISK).phase is Phase.RISK
