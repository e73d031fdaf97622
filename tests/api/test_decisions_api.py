"""Decisions and decision tables over HTTP: the disputed-transaction risk example, recommendations
accepted or overridden, and rule sets drafted, simulated on closed cases and published."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from tests.api.problems import ok, problem

V1 = "/api/v1"
RISK = "disputed_transaction.risk"

#: An unauthorised transfer that emptied a savings account, reported the next day.
EMPTIED_SAVINGS = {
    "transaction_kind": "unauthorised_transfer",
    "amount": 15000,
    "currency": "EUR",
    "account_type": "savings",
    "balance_after": 0,
    "reported_within_days": 1,
}
#: A small card charge the customer does not recognise (large enough not to be refunded at screening).
SMALL_CARD_CHARGE = {"transaction_kind": "card_charge", "amount": 120, "currency": "EUR", "account_type": "current", "balance_after": 2300}
#: Answers to hidden questions (card_in_possession for a transfer) are dropped, so one set fits every kind.
DISPUTE_DETAILS = {"recognises": "not_at_all", "card_in_possession": True, "shared_credentials": False, "contacted_by_fraudster": False}
COMPLAINT_DATA = {"product": "credit_card", "channel": "email"}


def open_case(api: TestClient, case_type: str, data: dict[str, Any], title: str = "Disputed payment") -> dict[str, Any]:
    return dict(ok(api.post(f"{V1}/cases", json={"case_type": case_type, "title": title, "custom_data": data}), 201))


def dispute_in_risk(api: TestClient, data: dict[str, Any]) -> dict[str, Any]:
    """A disputed transaction taken through screening (automatic) and assessment into risk."""
    case = open_case(api, "disputed_transaction", data)
    assert case["phase"] == "assessment", case  # the automatic screening opened it for investigation
    ok(api.put(f"{V1}/cases/{case['id']}/questionnaires/dispute_details", json={"answers": DISPUTE_DETAILS, "version": 0}))
    moved = ok(api.post(f"{V1}/cases/{case['id']}/transitions", json={"to_phase": "risk"}))
    assert moved["phase"] == "risk"
    return dict(moved)


def decisions_of(api: TestClient, case: dict[str, Any], point: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(api.get(f"{V1}/cases/{case['id']}/decisions"))
    return [d for d in found if point is None or d["point"] == point]


# ---------------------------------------------------------------- the seed example


def test_risk_decision_ranks_an_emptied_savings_account_above_a_small_card_charge(api: TestClient) -> None:
    severe = dispute_in_risk(api, EMPTIED_SAVINGS)
    minor = dispute_in_risk(api, SMALL_CARD_CHARGE)
    assert (severe["priority"], minor["priority"]) == ("P1", "P4")
    assert severe["risk_score"] >= 75 and minor["risk_score"] < 25

    [risk] = decisions_of(api, severe, "risk")
    assert (risk["table_name"], risk["table_version"], risk["mode"], risk["status"]) == (RISK, 1, "automatic", "applied")
    assert {"unauthorised-transfer", "large-amount", "account-emptied", "savings-emptied", "reported-at-once"} <= set(risk["matched"])
    assert risk["inputs"]["kind"] == "unauthorised_transfer" and risk["inputs"]["account_type"] == "savings"
    assert risk["outputs"]["score"] >= 75
    assert RISK in risk["explanation"] and "savings-emptied" in risk["explanation"]

    [small] = decisions_of(api, minor, "risk")
    assert "unauthorised-transfer" not in small["matched"] and small["outputs"]["score"] < 25

    # Screening and routing ran when the case was opened, and are on record too.
    points = [d["point"] for d in decisions_of(api, severe)]
    assert "screening" in points and "routing" in points


def test_run_a_decision_now(api: TestClient) -> None:
    case = dispute_in_risk(api, EMPTIED_SAVINGS)
    again = ok(api.post(f"{V1}/cases/{case['reference']}/decisions/risk"), 201)
    assert again["point"] == "risk" and again["status"] == "applied" and again["case_id"] == case["id"]
    assert len(decisions_of(api, case, "risk")) == 2
    problem(api.post(f"{V1}/cases/{case['id']}/decisions/astrology"), 422, "point")
    problem(api.post(f"{V1}/cases/CASE-2026-999999/decisions/risk"), 404)


# ---------------------------------------------------------------- recommend mode


def test_accept_and_override_recommendations(api: TestClient) -> None:
    case = open_case(api, "complaint", COMPLAINT_DATA, title="Card fee charged twice")
    assert case["phase"] == "screening"  # complaint screening only recommends
    [screening] = decisions_of(api, case, "screening")
    assert (screening["mode"], screening["status"], screening["outputs"]["action"]) == ("recommend", "pending", "open")
    assert "recommendation" in screening["explanation"]

    resp = api.post(f"{V1}/cases/{case['id']}/decisions/{screening['id']}/accept")
    accepted = ok(resp)
    assert accepted["status"] == "accepted" and accepted["final_outputs"]["action"] == "open"
    current = ok(api.get(f"{V1}/cases/{case['id']}"))
    assert current["phase"] == "assessment"  # the accepted recommendation took effect
    assert resp.headers["etag"] == f'"{current["version"]}"'
    problem(api.post(f"{V1}/cases/{case['id']}/decisions/{screening['id']}/accept", json={}), 409, "status")

    [next_action] = [d for d in decisions_of(api, case, "next_action") if d["status"] == "pending"]
    url = f"{V1}/cases/{case['id']}/decisions/{next_action['id']}/override"
    problem(api.post(url, json={"outputs": {"action": "Phone the customer"}}), 422, "reason")
    problem(api.post(url, json={"outputs": {"action": "Phone the customer"}, "reason": "   "}), 422, "reason")
    problem(api.post(url, json={"reason": "the customer asked for a call"}), 422, "outputs")
    problem(api.post(url, json={"outputs": {"colour": "blue"}, "reason": "why not"}), 422, "outputs.colour")

    resp = api.post(url, json={"outputs": {"action": "Phone the customer"}, "reason": "the customer asked for a call"})
    overridden = ok(resp)
    assert overridden["status"] == "overridden"
    assert overridden["final_outputs"] == {"action": "Phone the customer"}
    assert overridden["outputs"] == next_action["outputs"]  # what the table said stays on record
    assert overridden["reason"] == "the customer asked for a call"
    version = ok(api.get(f"{V1}/cases/{case['id']}"))["version"]
    assert resp.headers["etag"] == f'"{version}"'

    problem(api.post(f"{V1}/cases/{case['id']}/decisions/00000000-0000-0000-0000-000000000000/accept"), 404)
    problem(api.post(f"{V1}/cases/{case['id']}/decisions/not-a-uuid/accept"), 422, "decision_id")


# ---------------------------------------------------------------- rule sets


def _close_at_screening(api: TestClient) -> list[dict[str, Any]]:
    """Two disputes closed by the automatic screening: a tiny card charge (fast-tracked) and a late report (dropped)."""
    tiny = open_case(api, "disputed_transaction", {**SMALL_CARD_CHARGE, "amount": 20})
    late = open_case(api, "disputed_transaction", {"transaction_kind": "direct_debit", "amount": 500, "currency": "EUR",
                                                    "account_type": "current", "reported_within_days": 400})  # fmt: skip
    assert (tiny["status"], tiny["outcome"]) == ("closed", "fast_tracked")
    assert (late["status"], late["outcome"]) == ("closed", "screened_out")
    return [tiny, late]


def _draft_scoring_card_charges(api: TestClient) -> dict[str, Any]:
    """The published risk table with card charges scored like ATM withdrawals."""
    table = copy.deepcopy(ok(api.get(f"{V1}/decision-tables/{RISK}"))["definition"])
    rule = next(r for r in table["rules"] if r["id"] == "atm-withdrawal")
    rule["when"][0] = '"atm_withdrawal","card_charge"'
    return table


def test_rule_sets_draft_simulate_publish(api: TestClient) -> None:
    closed = _close_at_screening(api)
    listed = {t["name"]: t for t in ok(api.get(f"{V1}/decision-tables"))}
    assert listed[RISK]["published_version"] == 1 and listed[RISK]["used_by"] == ["disputed_transaction"]

    # An invalid draft is refused, naming the place in the table.
    broken = _draft_scoring_card_charges(api)
    broken["rules"][0]["when"][1] = ">>> nonsense"
    body = problem(api.post(f"{V1}/decision-tables/{RISK}/drafts", json={"definition": broken}), 422)
    assert body["field"].startswith("definition.rules[0].when")
    problem(api.post(f"{V1}/decision-tables/{RISK}/drafts", json={}), 422, "definition")
    problem(api.post(f"{V1}/decision-tables/{RISK}/drafts", json={"source": "rules: [\n"}), 422, "source")

    resp = api.post(f"{V1}/decision-tables/{RISK}/drafts", json={"definition": _draft_scoring_card_charges(api), "comment": "cards"})
    draft = ok(resp, 201)
    assert (draft["version"], draft["status"], draft["comment"]) == (2, "draft", "cards")
    assert resp.headers["location"] == f"/api/v1/decision-tables/{RISK}?version=2"
    assert ok(api.get(f"{V1}/decision-tables/{RISK}"))["version"] == 1  # the published one still decides

    report = ok(api.post(f"{V1}/decision-tables/{RISK}/versions/2/simulate", json={"last": 50}))
    assert (report["table"], report["published_version"], report["draft_version"]) == (RISK, 1, 2)
    assert (report["cases"], report["changed"], report["unchanged"], report["errors"]) == (2, 1, 1, 0)
    [example] = report["examples"]
    assert example["reference"] == closed[0]["reference"]
    assert example["current"]["score"] == 0 and example["draft"]["score"] == 15
    assert "atm-withdrawal" in example["draft_rules"]
    assert ok(api.post(f"{V1}/decision-tables/{RISK}/versions/2/simulate"))["cases"] == 2  # the body is optional
    problem(api.post(f"{V1}/decision-tables/{RISK}/versions/1/simulate", json={}), 409, "draft")
    problem(api.post(f"{V1}/decision-tables/{RISK}/versions/9/simulate", json={}), 404)

    published = ok(api.post(f"{V1}/decision-tables/{RISK}/versions/2/publish"))
    assert (published["version"], published["status"]) == (2, "published") and published["published_at"]
    versions = ok(api.get(f"{V1}/decision-tables/{RISK}/versions"))
    assert [(v["version"], v["status"]) for v in versions] == [(1, "retired"), (2, "published")]
    problem(api.post(f"{V1}/decision-tables/{RISK}/versions/2/publish"), 409, "version")
    assert ok(api.get(f"{V1}/decision-tables/{RISK}", params={"version": 1}))["status"] == "retired"

    # Later decisions record the new version and follow its rules; earlier ones keep theirs.
    case = dispute_in_risk(api, SMALL_CARD_CHARGE)
    [risk] = decisions_of(api, case, "risk")
    assert (risk["table_version"], risk["outputs"]["score"]) == (2, 15)
    assert "atm-withdrawal" in risk["matched"]


def test_decision_table_lookups(api: TestClient) -> None:
    problem(api.get(f"{V1}/decision-tables/no.such.table"), 404)
    problem(api.get(f"{V1}/decision-tables/no.such.table/versions"), 404)
    problem(api.get(f"{V1}/decision-tables/{RISK}", params={"version": 7}), 404, "version")
    problem(api.get(f"{V1}/decision-tables/Upper.Case"), 422, "name")
    problem(api.post(f"{V1}/decision-tables/{RISK}/versions/0/publish"), 422, "version")
    table = ok(api.get(f"{V1}/decision-tables/{RISK}"))
    assert table["status"] == "published" and table["definition"]["hit_policy"] == "COLLECT"
    # A draft under another name is refused; an incomplete YAML text is refused naming its line.
    renamed = {**table["definition"], "name": "other.table"}
    problem(api.post(f"{V1}/decision-tables/{RISK}/drafts", json={"definition": renamed}), 422, "definition.name")
    incomplete = problem(api.post(f"{V1}/decision-tables/{RISK}/drafts", json={"source": "name: other.table\n"}), 422, "source")
    assert incomplete["line"] == 1 and "inputs" in incomplete["detail"]
