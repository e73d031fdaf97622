"""The seed decision tables shipped with the case types, run on realistic cases.

The fraud example is the one the risk table was designed around: an unauthorised transfer
that emptied a savings account must come out P1, a small disputed card charge P4.
"""

from __future__ import annotations

from typing import Any

import pytest

from casework.casetypes.loader import shipped_case_types, shipped_tables
from casework.casetypes.model import CONTEXT_ROOTS, CaseTypeDef
from casework.decisions.expressions import names_used
from casework.decisions.tables import compile_table
from casework.domain.lifecycle import ORDER, Priority


def shipped(key: str) -> CaseTypeDef:
    return next(d for d in shipped_case_types() if d.key == key)


def decide(
    defn: CaseTypeDef, point: str, fields: dict[str, Any], answers: dict[str, Any] | None = None, phase: str = "screening"
) -> dict[str, Any]:
    assert defn.validate_fields(fields) == [], "the example itself must be valid"
    table = next(t for t in shipped_tables() if t.name == defn.decisions[point].table)  # type: ignore[index]
    context = {"case": {"case_type": defn.key, "phase": phase}, "fields": fields, "answers": answers or {}, "risk": {"score": None}}
    return dict(compile_table(table).evaluate(context).outputs)


EMPTIED_SAVINGS = {
    "transaction_kind": "unauthorised_transfer",
    "amount": 4800,
    "currency": "EUR",
    "account_type": "savings",
    "balance_after": 0,
    "reported_within_days": 1,
    "customer_years": 12,
}
SMALL_CARD_CHARGE = {
    "transaction_kind": "card_charge",
    "amount": 25,
    "currency": "EUR",
    "account_type": "current",
    "balance_after": 1830.55,
    "reported_within_days": 9,
    "customer_years": 6,
}


def test_fraud_risk_emptied_savings_is_p1_and_small_card_charge_is_p4() -> None:
    fraud = shipped("disputed_transaction")
    big = decide(fraud, "risk", EMPTIED_SAVINGS)["score"]
    small = decide(fraud, "risk", SMALL_CARD_CHARGE)["score"]
    assert big >= 75 and fraud.priority_for_score(big) is Priority.P1
    assert small < 25 and fraud.priority_for_score(small) is Priority.P4


def test_fraud_screening_fast_tracks_tiny_card_charges_and_drops_late_reports() -> None:
    fraud = shipped("disputed_transaction")
    assert decide(fraud, "screening", SMALL_CARD_CHARGE) | {"reason": ""} == {"action": "fast_track", "reason": "", "refund": True}
    assert decide(fraud, "screening", EMPTIED_SAVINGS)["action"] == "open"
    assert decide(fraud, "screening", {**SMALL_CARD_CHARGE, "amount": 80})["action"] == "open"
    assert decide(fraud, "screening", {**EMPTIED_SAVINGS, "reported_within_days": 400})["action"] == "drop"


def test_fraud_routing_goes_to_the_fraud_team() -> None:
    fraud = shipped("disputed_transaction")
    assert decide(fraud, "routing", EMPTIED_SAVINGS)["team"] == "fraud"
    assert decide(fraud, "routing", SMALL_CARD_CHARGE)["skill"] == "card_disputes"


def test_complaint_screening_and_risk() -> None:
    complaint = shipped("complaint")
    base = {"product": "credit_card", "channel": "email"}
    assert decide(complaint, "screening", {**base, "duplicate_of": "CASE-2026-000123"})["action"] == "drop"
    assert decide(complaint, "screening", {**base, "nature": "enquiry"})["action"] == "fast_track"
    assert decide(complaint, "screening", {**base, "nature": "enquiry", "amount_claimed": 20})["action"] == "open"
    assert decide(complaint, "screening", base)["action"] == "open"
    serious = {**base, "amount_claimed": 15000, "vulnerable_customer": True, "repeat_complaint": True}
    assert complaint.priority_for_score(decide(complaint, "risk", serious)["score"]) is Priority.P1
    assert complaint.priority_for_score(decide(complaint, "risk", {"product": "savings_account", "channel": "web"})["score"]) is Priority.P4
    assert decide(complaint, "routing", serious) == {"team": "complaints", "skill": "vulnerable_customers", "assign": "least_open"}


def test_onboarding_risk_pep_in_high_risk_country_is_p1() -> None:
    onboarding = shipped("onboarding")
    pep = {"customer_type": "person", "country_of_residence": "MM", "nationality": "MM", "pep": True, "expected_monthly_volume": 60000}
    plain = {"customer_type": "person", "country_of_residence": "BE", "nationality": "BE", "pep": False, "expected_monthly_volume": 2500}
    assert onboarding.priority_for_score(decide(onboarding, "risk", pep)["score"]) is Priority.P1
    assert onboarding.priority_for_score(decide(onboarding, "risk", plain)["score"]) is Priority.P4
    assert decide(onboarding, "screening", {**plain, "country_of_residence": "KP"})["action"] == "drop"
    assert decide(onboarding, "routing", pep)["skill"] == "enhanced_due_diligence"


def test_support_ticket_outage_is_never_closed_at_intake() -> None:
    support = shipped("support_ticket")
    ticket = {"request_kind": "question", "product_area": "payments", "channel": "chat", "suspected_outage": True}
    assert decide(support, "screening", ticket)["action"] == "open"
    assert decide(support, "screening", {**ticket, "suspected_outage": False})["action"] == "fast_track"
    assert support.priority_for_score(decide(support, "risk", {**ticket, "severity": "critical"})["score"]) is Priority.P1


MINIMAL_FIELDS = {
    "complaint": {"product": "loan", "channel": "phone"},
    "support_ticket": {"request_kind": "problem", "product_area": "cards", "channel": "web"},
    "onboarding": {"customer_type": "organisation", "country_of_residence": "NL"},
    "disputed_transaction": {"transaction_kind": "direct_debit", "amount": 60, "currency": "EUR", "account_type": "current"},
}


@pytest.mark.parametrize("key", list(MINIMAL_FIELDS))
def test_every_decision_gives_an_answer_in_every_phase(key: str) -> None:
    defn = shipped(key)
    for phase in ORDER:
        for point in ("screening", "risk", "routing", "next_action"):
            outputs = decide(defn, point, MINIMAL_FIELDS[key], phase=phase.value)
            wanted = {"screening": "action", "risk": "score", "routing": "team", "next_action": "action"}[point]
            assert outputs.get(wanted) not in (None, ""), (key, phase, point, outputs)


@pytest.mark.parametrize("key", list(MINIMAL_FIELDS))
def test_tables_read_only_what_their_case_type_has(key: str) -> None:
    defn = shipped(key)
    questions = {f"answers.{q.key}.{x.key}" for q in defn.questionnaires for x in q.questions}
    for binding in defn.decisions.values():
        table = next(t for t in shipped_tables() if t.name == binding.table)
        for column in table.inputs:
            for name in names_used(column.expression):
                root, _, rest = name.partition(".")
                assert root in CONTEXT_ROOTS, (table.name, name)
                if root == "fields":
                    assert rest in defn.field_names, (table.name, name)
                if root == "answers":
                    assert name in questions, (table.name, name)
