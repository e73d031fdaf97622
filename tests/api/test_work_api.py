"""The daily-work API: /queue, /notifications, /cases/{key}/sla, /sla/breaches, /sla/scan and /events."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casework.domain.access import Principal, Role, Scope
from casework.services import notifications, sla, users
from casework.services.sla import MilestonePolicy, SlaPolicy
from casework.store.unit_of_work import Database
from tests.factories import opened_under, principal

H = dt.timedelta(hours=1)
POLICY = SlaPolicy(
    warn_fraction=0.25,
    phase_hours={"screening": {"P1": 4, "P2": 8, "P3": 24}},
    resolution_hours={"P1": 24, "P2": 72, "P3": 240},
    milestones=(MilestonePolicy("assessed", "Assessed", "assessment", {"P1": 2, "P2": 6, "P3": 12}),),
)
Client = Callable[..., TestClient]


@pytest.fixture(autouse=True)
def no_policy_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escalations leave the other clocks alone here, whatever policy source the case types register."""
    monkeypatch.setattr(sla, "_policy_resolver", None)


def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    return body


def test_queue_lists_my_open_cases_most_urgent_first(db: Database, actor: Principal, client_for: Client) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    low = opened_under(db, actor, POLICY, hours_ago=1, priority="P3", assignee_id=will.user_id, team="fraud", title="Low")
    late = opened_under(db, actor, POLICY, hours_ago=30, priority="P1", assignee_id=will.user_id, team="fraud", title="Late")
    fresh = opened_under(db, actor, POLICY, hours_ago=1, priority="P1", assignee_id=will.user_id, team="fraud", title="Fresh")
    opened_under(db, actor, POLICY, hours_ago=1, priority="P1", team="fraud", title="Not mine")
    client = client_for(will)
    items = client.get("/api/v1/queue").json()
    assert [i["id"] for i in items] == [str(late.id), str(fresh.id), str(low.id)]
    assert items[0]["overdue"] is True and items[0]["deadline_kind"] == "milestone" and items[0]["deadline_name"] == "assessed"
    assert items[1]["overdue"] is False and items[1]["next_deadline"] is not None
    assert set(items[0]) >= {"reference", "title", "case_type", "phase", "priority", "assignee_id", "team"}
    team = client.get("/api/v1/queue", params={"team": "fraud", "limit": 10}).json()
    assert len(team) == 4
    assert client.get("/api/v1/queue", params={"team": "kyc"}).json() == []
    problem(client.get("/api/v1/queue", params={"limit": 0}), 422)


def test_notifications_belong_to_their_owner(db: Database, actor: Principal, client_for: Client) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    with db.write() as s:
        mine = notifications.notify(s, will.user_id, None, "sla.warning", "for will")
        theirs = notifications.notify(s, olga.user_id, None, "sla.warning", "for olga")
    client = client_for(will)
    assert [n["message"] for n in client.get("/api/v1/notifications").json()] == ["for will"]
    body = problem(client.post(f"/api/v1/notifications/{theirs.id}/read"), 404)
    assert body["field"] == "notification_id"
    problem(client.post(f"/api/v1/notifications/{uuid.uuid4()}/read"), 404)
    read = client.post(f"/api/v1/notifications/{mine.id}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert client.get("/api/v1/notifications", params={"unread": "true"}).json() == []
    assert len(client.get("/api/v1/notifications").json()) == 1
    # Olga's stays unread.
    assert [n["read_at"] for n in client_for(olga).get("/api/v1/notifications").json()] == [None]
    problem(client_for(will, Scope.READ).post(f"/api/v1/notifications/{mine.id}/read"), 403)


def test_scan_then_clocks_breaches_notifications_and_events(db: Database, actor: Principal, client_for: Client, api: TestClient) -> None:
    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    case = opened_under(
        db, actor, POLICY, hours_ago=13, priority="P3", team="fraud", assignee_id=will.user_id
    )  # the 12 h milestone is missed

    problem(client_for(sue).post("/api/v1/sla/scan"), 403)
    problem(client_for(users.system_principal(db), Scope.READ).post("/api/v1/sla/scan"), 403)
    report = api.post("/api/v1/sla/scan")
    assert report.status_code == 200, report.text
    assert report.json() == {"warned": 0, "breached": 1, "escalated": 1, "failed": 0}
    assert api.post("/api/v1/sla/scan").json()["breached"] == 0

    clocks = client_for(will).get(f"/api/v1/cases/{case.reference}/sla").json()
    assert {(c["kind"], c["name"], c["state"]) for c in clocks} == {
        ("resolution", "resolution", "running"), ("milestone", "assessed", "breached"), ("phase", "screening", "running")}  # fmt: skip
    problem(client_for(olga).get(f"/api/v1/cases/{case.reference}/sla"), 404)

    breaches = client_for(sue).get("/api/v1/sla/breaches").json()
    assert breaches["total"] == 1 and breaches["by_kind"] == {"milestone": 1}
    assert breaches["items"][0]["reference"] == case.reference and breaches["items"][0]["escalated_to"] == "P2"
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert client_for(sue).get("/api/v1/sla/breaches", params={"since": tomorrow}).json()["total"] == 0
    assert client_for(sue).get("/api/v1/sla/breaches", params={"case_type": "onboarding"}).json()["total"] == 0
    problem(client_for(sue).get("/api/v1/sla/breaches", params={"since": "yesterday"}), 422)
    problem(client_for(will).get("/api/v1/sla/breaches"), 403)

    sue_notes = [n for n in client_for(sue).get("/api/v1/notifications").json() if n["kind"].startswith("sla.")]
    assert [(n["kind"], n["case_reference"]) for n in sue_notes] == [("sla.breach", case.reference)]

    events = [e for e in api.get("/api/v1/events", params={"limit": 1000}).json() if e["topic"].startswith("case.sla")]
    assert [e["topic"] for e in events] == ["case.sla_breached"]
    assert events[0]["payload"]["escalation"] == {"from": "P3", "to": "P2"}
    later = api.get("/api/v1/events", params={"after": events[0]["id"]}).json()
    assert [e for e in later if e["topic"].startswith("case.sla")] == []
    assert all(e["id"] > events[0]["id"] for e in later)
    problem(client_for(sue).get("/api/v1/events"), 403)
    problem(client_for(None).get("/api/v1/events"), 401)
    problem(api.get("/api/v1/events", params={"after": -1}), 422)

    assert api.get(f"/api/v1/cases/{case.id}").json()["priority"] == "P2"
