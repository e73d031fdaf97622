"""Notes, communications, parties, plans and users over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from casework.services import casetypes
from tests.api.test_cases_api import CASES, create, problem


def history_actions(api: TestClient, case: dict[str, Any]) -> list[str]:
    return [e["action"] for e in api.get(f"{CASES}/{case['id']}/history").json()]


def test_notes(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['reference']}/notes"
    made = api.post(url, json={"body": "Called the customer", "visibility": "shared"})
    assert made.status_code == 201
    assert made.json()["visibility"] == "shared"
    api.post(url, json={"body": "Internal remark"})
    listed = api.get(url).json()
    assert [(n["body"], n["visibility"]) for n in listed] == [("Called the customer", "shared"), ("Internal remark", "internal")]
    problem(api.post(url, json={"body": ""}), 422, "body")
    problem(api.post(url, json={"body": "x", "visibility": "public"}), 422, "visibility")
    problem(api.post(url, json={"body": "x", "pinned": True}), 422, "pinned")
    problem(api.post(f"{CASES}/CASE-2026-999999/notes", json={"body": "x"}), 404, "case_id")


def test_communications(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['id']}/communications"
    party = api.post("/api/v1/parties", json={"name": "Cleo"}).json()
    made = api.post(url, json={"channel": "email", "direction": "outbound", "subject": "Refund", "party_id": party["id"],
                               "occurred_at": "2026-05-01T10:00:00+02:00"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["occurred_at"] == "2026-05-01T08:00:00Z"
    api.post(url, json={"channel": "phone", "direction": "inbound", "occurred_at": "2026-04-30T09:00:00Z"})
    assert [c["channel"] for c in api.get(url).json()] == ["phone", "email"]
    problem(api.post(url, json={"channel": "pigeon", "direction": "inbound"}), 422, "channel")
    problem(api.post(url, json={"channel": "sms", "direction": "inbound", "occurred_at": "2026-13-45T00:00:00Z"}), 422, "occurred_at")
    problem(api.post(url, json={"channel": "sms", "direction": "inbound", "occurred_at": 1767225600}), 422, "occurred_at")
    problem(api.post(url, json={"channel": "sms", "direction": "sideways"}), 422, "direction")


def test_parties_and_case_roles(api: TestClient) -> None:
    case = create(api)
    intake = len(history_actions(api, case))  # case.create and what intake adds: routing, screening
    party = api.post("/api/v1/parties", json={"name": "Walter Witness", "email": "walter@example.org", "date_of_birth": "1970-02-03"})
    assert party.status_code == 201
    pid = party.json()["id"]
    assert api.get(f"/api/v1/parties/{pid}").json()["name"] == "Walter Witness"
    assert [p["id"] for p in api.get("/api/v1/parties", params={"name": "walt"}).json()] == [pid]

    url = f"{CASES}/{case['id']}/parties"
    link = api.post(url, json={"party_id": pid, "role": "witness"})
    assert link.status_code == 201
    assert (link.json()["role"], link.json()["party"]["id"]) == ("witness", pid)
    problem(api.post(url, json={"party_id": pid, "role": "witness"}), 422, "role")
    problem(api.post(url, json={"party_id": pid, "role": "judge"}), 422, "role")
    assert [p["role"] for p in api.get(url).json()] == ["witness"]

    gone = api.delete(f"{url}/{link.json()['id']}")
    assert gone.status_code == 204
    assert gone.content == b""
    assert api.get(url).json() == []
    problem(api.delete(f"{url}/{link.json()['id']}"), 404, "link_id")
    actions = history_actions(api, case)
    assert actions[0] == "case.create"
    assert actions[intake:] == ["case.party.add", "case.party.remove"]


def test_party_updates_use_versions(api: TestClient) -> None:
    pid = api.post("/api/v1/parties", json={"name": "Acme", "kind": "organisation"}).json()["id"]
    url = f"/api/v1/parties/{pid}"
    assert api.patch(url, json={"phone": "123", "version": 1}).json()["version"] == 2
    problem(api.patch(url, json={"phone": "456", "version": 1}), 409, "version")
    problem(api.patch(url, json={"phone": "456"}, headers={"If-Match": '"1"'}), 412, "If-Match")
    problem(api.patch(url, json={"phone": "456"}), 422, "version")
    problem(api.patch(url, json={"name": None, "version": 2}), 422, "name")
    problem(api.patch(url, json={"date_of_birth": "1899-12-31", "version": 2}), 422, "date_of_birth")
    problem(api.post("/api/v1/parties", json={"name": "x", "email": "not-an-email"}), 422, "email")
    problem(api.post("/api/v1/parties", json={"name": "x", "kind": "robot"}), 422, "kind")
    problem(api.get("/api/v1/parties", params={"name": "a\x00"}), 422, "name")


def test_plan_goals_and_tasks(api: TestClient) -> None:
    case = create(api)
    base = f"{CASES}/{case['id']}"
    intake = len(history_actions(api, case))  # case.create and what intake adds: routing, screening
    goal = api.post(f"{base}/goals", json={"title": "Refund the customer"})
    assert goal.status_code == 201
    gid = goal.json()["id"]
    task = api.post(f"{base}/goals/{gid}/tasks", json={"title": "Issue refund", "due_date": "2026-05-01"})
    assert task.status_code == 201
    tid = task.json()["id"]
    assert task.json()["completed_at"] is None

    done = api.patch(f"{base}/tasks/{tid}", json={"status": "done", "version": 1}).json()
    assert done["status"] == "done"
    assert done["completed_at"] is not None
    problem(api.patch(f"{base}/tasks/{tid}", json={"status": "todo", "version": 1}), 409, "version")
    problem(api.patch(f"{base}/tasks/{tid}", json={"status": None}), 422, "status")
    problem(api.patch(f"{base}/tasks/{tid}", json={"status": "finished"}), 422, "status")
    problem(api.patch(f"{base}/goals/{gid}", json={"description": None}), 422, "description")

    achieved = api.patch(f"{base}/goals/{gid}", json={"status": "achieved"}).json()
    assert achieved["status"] == "achieved"
    assert [t["id"] for t in achieved["tasks"]] == [tid]

    plan = api.get(f"{base}/plan").json()
    assert [(g["title"], [t["title"] for t in g["tasks"]]) for g in plan] == [("Refund the customer", ["Issue refund"])]
    other = create(api, title="Other")
    problem(api.patch(f"{CASES}/{other['id']}/tasks/{tid}", json={"title": "x"}), 404, "task_id")
    problem(api.post(f"{CASES}/{other['id']}/goals/{gid}/tasks", json={"title": "x"}), 404, "goal_id")
    actions = history_actions(api, case)
    assert actions[0] == "case.create"
    assert actions[intake:] == ["plan.goal.add", "plan.task.add", "plan.task.update", "plan.goal.update"]


def test_users(api: TestClient) -> None:
    made = api.post("/api/v1/users", json={"name": "Vera", "email": "Vera@Example.org"})
    assert made.status_code == 201
    assert made.json()["email"] == "vera@example.org"
    problem(api.post("/api/v1/users", json={"name": "Vera Again", "email": "vera@example.org"}), 422, "email")
    problem(api.post("/api/v1/users", json={"name": "x" * 201, "email": "long@example.org"}), 422, "name")
    emails = [u["email"] for u in api.get("/api/v1/users").json()]
    assert "vera@example.org" in emails


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/audit/verify", "/openapi.json"])
def test_service_endpoints(api: TestClient, path: str) -> None:
    resp = api.get(path)
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    if path.endswith("health"):
        assert body["status"] == "ok"
        assert body["database"] in ("sqlite", "postgresql")
    elif path.endswith("verify"):
        assert body["ok"] is True
    else:
        assert "/api/v1/cases" in body["paths"]


def test_the_longest_accepted_values_fit_their_columns(api: TestClient) -> None:
    """Every length the API accepts must also fit the column (PostgreSQL enforces VARCHAR(n))."""
    long = "é" * 300  # multi-byte characters: limits count characters, not bytes
    user = api.post("/api/v1/users", json={"name": "u" * 200, "email": f"{'m' * 300}@example.org"})
    assert user.status_code == 201, user.text
    party = api.post(
        "/api/v1/parties",
        json={"name": long, "email": "p@example.org", "phone": "1" * 50, "address": "a" * 1000, "registration_number": "r" * 100},
    )
    assert party.status_code == 201, party.text
    # Outcomes come from the case type, whose outcome keys are at most 63 characters: install one that long.
    longest_outcome = "o" * 63
    source = casetypes.shipped_sources()["complaint.yaml"]
    source = source.replace("\nversion: 1\n", "\nversion: 2\n", 1).replace("\noutcomes: [", f"\noutcomes: [{longest_outcome}, ", 1)
    installed = api.post("/api/v1/case-types", json={"source": source, "filename": "complaint.yaml"})
    assert installed.status_code == 201, installed.text
    case = create(api, title=long, team="t" * 100, customer_party_id=party.json()["id"], assignee_id=user.json()["id"])
    base = f"{CASES}/{case['id']}"
    assert api.get(f"{base}/readiness").json()["case_type_version"] == 2
    assert api.post(f"{base}/communications", json={"channel": "in_person", "direction": "inbound", "subject": long}).status_code == 201
    goal = api.post(f"{base}/goals", json={"title": long})
    assert goal.status_code == 201
    assert api.post(f"{base}/goals/{goal.json()['id']}/tasks", json={"title": long}).status_code == 201
    problem(api.post(f"{base}/transitions", json={"to_phase": "closed", "outcome": "o" * 64, "reason": "r" * 2000}), 422, "outcome")
    closed = api.post(f"{base}/transitions", json={"to_phase": "closed", "outcome": longest_outcome, "reason": "r" * 2000})
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == longest_outcome
    assert api.get(base).json()["title"] == long


def test_the_length_limit_applies_before_whitespace_is_trimmed(api: TestClient) -> None:
    """The schema says 300 characters at most: a 301-character name is refused even if trimming would shorten it."""
    resp = api.post("/api/v1/parties", json={"name": "\t" + "x" * 300})
    assert resp.status_code == 422, resp.text
    assert api.post("/api/v1/parties", json={"name": "\t" + "x" * 299}).json()["name"] == "x" * 299
