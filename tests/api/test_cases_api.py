"""Cases over HTTP: the lifecycle, optimistic concurrency, problem reports, listing and search."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.problems import problem
from tests.factories import case_body

CASES = "/api/v1/cases"


def create(api: TestClient, **fields: Any) -> dict[str, Any]:
    resp = api.post(CASES, json=case_body(str(fields.pop("case_type", "complaint")), **fields))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def transition(api: TestClient, case: dict[str, Any], to: str, **extra: Any) -> Response:
    resp: Response = api.post(f"{CASES}/{case['id']}/transitions", json={"to_phase": to, **extra})
    return resp


#: Every required answer of the complaint's assessment questionnaire (no compensation, so no follow-up question).
COMPLAINT_DETAILS = {
    "what_happened": "The refund promised in March never arrived",
    "raised_before": False,
    "preferred_resolution": "refund",
    "wants_compensation": False,
    "regulator_contacted": False,
}


def answer_complaint_details(api: TestClient, case: dict[str, Any]) -> None:
    """What a worker does before a complaint may leave assessment."""
    resp = api.put(f"{CASES}/{case['id']}/questionnaires/complaint_details", json={"answers": COMPLAINT_DETAILS})
    assert resp.status_code == 200, resp.text
    assert resp.json()["complete"] is True, resp.text


def finish_tasks(api: TestClient, case: dict[str, Any]) -> None:
    """What a worker does before a case may leave implementation: every task of the plan done."""
    for goal in api.get(f"{CASES}/{case['id']}/plan").json():
        for task in goal["tasks"]:
            if task["status"] not in ("done", "cancelled"):
                resp = api.patch(f"{CASES}/{case['id']}/tasks/{task['id']}", json={"status": "done", "version": task["version"]})
                assert resp.status_code == 200, resp.text


# ------------------------------------------------------------------ lifecycle


def test_full_lifecycle_with_a_return_and_a_reopen(api: TestClient) -> None:
    case = create(api)
    assert (case["status"], case["phase"], case["version"]) == ("open", "screening", 1)
    assert case["allowed_transitions"] == ["assessment", "closed"]

    steps: list[tuple[str, dict[str, str]]] = [
        ("assessment", {}),
        ("risk", {}),
        ("planning", {}),
        ("implementation", {}),
        ("follow_up", {}),
        ("planning", {"reason": "the plan needs another step"}),
        ("implementation", {}),
        ("follow_up", {}),
        ("evaluation", {}),
        ("risk", {"reason": "new risk found in evaluation"}),
        ("planning", {}),
        ("implementation", {}),
        ("follow_up", {}),
        ("evaluation", {}),
        ("closed", {"outcome": "upheld"}),
        ("evaluation", {"reason": "customer appealed"}),
        ("closed", {"outcome": "partially_upheld"}),
    ]
    phase = "screening"
    for version, (to, extra) in enumerate(steps, start=2):
        # Meet the complaint type's exit criteria first, as a worker would (entering planning made the plan);
        # answers and tasks are records of their own and leave the case's version alone.
        if phase == "assessment":
            answer_complaint_details(api, case)
        if phase == "implementation":
            finish_tasks(api, case)
        resp = transition(api, case, to, **extra)
        assert resp.status_code == 200, (to, resp.text)
        body = resp.json()
        phase = body["phase"]
        assert (body["phase"], body["version"]) == (to, version)
        assert resp.headers["etag"] == f'"{version}"'
    assert (body["status"], body["outcome"]) == ("closed", "partially_upheld")
    assert body["closed_at"] is not None

    phases = api.get(f"{CASES}/{case['reference']}/phases").json()
    assert [p["to_phase"] for p in phases] == ["screening"] + [to for to, _ in steps]
    assert [p["kind"] for p in phases if p["kind"] != "forward"] == ["open", "return", "return", "close", "reopen", "close"]
    assert phases[6]["reason"] == "the plan needs another step"
    assert [p["seq"] for p in phases] == list(range(1, len(steps) + 2))

    entries = api.get(f"{CASES}/{case['id']}/history").json()
    moves = [e for e in entries if e["action"] in ("case.create", "case.transition")]
    assert [e["action"] for e in moves] == ["case.create"] + ["case.transition"] * len(steps)
    assert [(e["data"]["from"], e["data"]["to"]) for e in moves[1:3]] == [("screening", "assessment"), ("assessment", "risk")]
    # The work the case type asked for is in the history too: answers, the plan made on entering planning, the tasks done.
    assert {"answers.submit", "plan.goal.add", "decision.made"} <= {e["action"] for e in entries}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert all(len(e["hash"]) == 64 for e in entries)
    assert api.get("/api/v1/audit/verify").json()["ok"] is True


def test_screening_closes_directly(api: TestClient) -> None:
    case = create(api)
    # Free text is no outcome: screening closes with screened_out / fast_tracked or one of the type's outcomes.
    problem(transition(api, case, "closed", outcome="duplicate of CASE-2026-000001"), 422, "outcome")
    body = transition(api, case, "closed", outcome="screened_out").json()
    assert (body["status"], body["phase"], body["outcome"]) == ("closed", "closed", "screened_out")
    other = create(api)
    body = transition(api, other, "closed", outcome="withdrawn").json()
    assert (body["status"], body["phase"], body["outcome"]) == ("closed", "closed", "withdrawn")


def test_invalid_transition_is_409_naming_the_allowed_transitions(api: TestClient) -> None:
    case = create(api)
    body = problem(transition(api, case, "planning"), 409, "to_phase")
    assert body["allowed_transitions"] == ["assessment", "closed"]
    assert body["current_phase"] == "screening"
    assert "allowed transitions: assessment, closed" in body["detail"]
    assert body["errors"] == [{"field": "to_phase", "message": body["detail"]}]
    # Nothing changed.
    assert api.get(f"{CASES}/{case['id']}").json()["version"] == 1


def test_close_from_the_middle_is_409(api: TestClient) -> None:
    case = create(api)
    transition(api, case, "assessment")
    body = problem(transition(api, case, "closed", outcome="upheld"), 409, "to_phase")
    assert body["allowed_transitions"] == ["screening", "risk"]


def test_missing_reason_and_outcome_are_422(api: TestClient) -> None:
    case = create(api)
    problem(transition(api, case, "closed"), 422, "outcome")
    problem(transition(api, case, "closed", outcome="   "), 422, "outcome")
    transition(api, case, "assessment")
    problem(transition(api, case, "screening"), 422, "reason")
    problem(transition(api, case, "screening", reason=""), 422, "reason")
    transition(api, case, "screening", reason="wrong queue")
    body = problem(transition(api, case, "closed", outcome="moved"), 422, "outcome")
    assert body["allowed_outcomes"] == ["upheld", "partially_upheld", "rejected", "withdrawn", "referred_to_ombudsman"]
    assert transition(api, case, "closed", outcome="withdrawn").json()["status"] == "closed"
    problem(transition(api, case, "assessment"), 422, "reason")
    assert transition(api, case, "assessment", reason="reopened on request").json()["status"] == "open"


@pytest.mark.parametrize(
    "body", [{"to_phase": "archived"}, {}, {"to_phase": "risk", "colour": "red"}, {"to_phase": "risk", "reason": "x" * 2001}]
)
def test_malformed_transition_requests_are_422(api: TestClient, body: dict[str, Any]) -> None:
    case = create(api)
    resp = api.post(f"{CASES}/{case['id']}/transitions", json=body)
    problem(resp, 422)


# ------------------------------------------------------------------ versions: 412, 409, 422


def test_get_returns_an_etag_and_create_a_location(api: TestClient) -> None:
    resp = api.post(CASES, json=case_body("onboarding", title="New customer"))
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"{CASES}/{resp.json()['id']}"
    got = api.get(resp.headers["location"])
    assert got.headers["etag"] == '"1"'
    assert got.json() == resp.json()
    assert api.get(f"{CASES}/{resp.json()['reference']}").json()["id"] == resp.json()["id"]


def test_patch_with_if_match(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['id']}"
    resp = api.patch(url, json={"title": "Corrected title"}, headers={"If-Match": '"1"'})
    assert resp.status_code == 200
    assert resp.headers["etag"] == '"2"'
    assert resp.json()["title"] == "Corrected title"
    # Weak and bare forms of the entity tag are accepted too.
    assert api.patch(url, json={"priority": "P1"}, headers={"If-Match": 'W/"2"'}).headers["etag"] == '"3"'
    assert api.patch(url, json={"priority": "P2"}, headers={"If-Match": "3"}).headers["etag"] == '"4"'


def test_stale_if_match_is_412(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['id']}"
    api.patch(url, json={"title": "First edit", "version": 1})
    body = problem(api.patch(url, json={"title": "Lost edit"}, headers={"If-Match": '"1"'}), 412, "If-Match")
    assert body["current_version"] == 2
    assert api.get(url).json()["title"] == "First edit"


def test_stale_body_version_is_409(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['id']}"
    assert api.patch(url, json={"title": "First edit", "version": 1}).status_code == 200
    body = problem(api.patch(url, json={"title": "Lost edit", "version": 1}), 409, "version")
    assert body["current_version"] == 2
    assert body["title"] == "Stale version"


def test_patch_without_any_version_is_422(api: TestClient) -> None:
    case = create(api)
    problem(api.patch(f"{CASES}/{case['id']}", json={"title": "No version"}), 422, "version")


def test_malformed_if_match_is_422(api: TestClient) -> None:
    case = create(api)
    problem(api.patch(f"{CASES}/{case['id']}", json={"title": "x"}, headers={"If-Match": "*"}), 422, "If-Match")


def test_stale_versions_on_transitions_and_assignment(api: TestClient) -> None:
    case = create(api)
    problem(api.post(f"{CASES}/{case['id']}/transitions", json={"to_phase": "assessment"}, headers={"If-Match": '"7"'}), 412)
    problem(api.post(f"{CASES}/{case['id']}/transitions", json={"to_phase": "assessment", "version": 7}), 409, "version")
    problem(api.post(f"{CASES}/{case['id']}/assignment", json={"team": "fraud", "version": 7}), 409, "version")
    problem(api.post(f"{CASES}/{case['id']}/assignment", json={"team": "fraud"}, headers={"If-Match": '"7"'}), 412)
    assert api.get(f"{CASES}/{case['id']}").json()["version"] == 1


# ------------------------------------------------------------------ validation problems name the field


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (case_body(title="ok", colour="red"), "colour"),
        (case_body(title="x" * 301), "title"),
        (case_body(title="   "), "title"),
        (case_body(title="bad\x00title"), "title"),
        (case_body(title="ok", due_date="2026-13-45"), "due_date"),
        (case_body(title="ok", due_date="1850-01-01"), "due_date"),
        (case_body(title="ok", due_date=0), "due_date"),
        (case_body(title="ok", priority="P9"), "priority"),
        ({**case_body(title="ok"), "case_type": "burglary"}, "case_type"),
        ({"title": "ok"}, "case_type"),
        (case_body(title="ok", risk_score=101), "risk_score"),
        (case_body(title="ok", assignee_id="not-a-uuid"), "assignee_id"),
        (case_body(title="ok", description="x" * 20001), "description"),
        (case_body(title="ok", custom_data={"n": 2**60}), "custom_data"),
        (case_body(title="ok", custom_data={"k\x00": 1}), "custom_data"),
        (case_body(title="ok", team="t" * 101), "team"),
        # The case type's JSON Schema: required fields, no unknown keys, allowed values.
        ({"case_type": "complaint", "title": "ok"}, "custom_data.channel"),
        ({"case_type": "complaint", "title": "ok", "custom_data": {"channel": "email"}}, "custom_data.product"),
        (case_body(title="ok", custom_data={"colour": "red"}), "custom_data.colour"),
        (case_body(title="ok", custom_data={"product": "boat"}), "custom_data.product"),
        (case_body(title="ok", custom_data={"amount_claimed": -1}), "custom_data.amount_claimed"),
        (case_body("onboarding", title="ok", custom_data={"country_of_residence": "Belgium"}), "custom_data.country_of_residence"),
    ],
)
def test_create_validation_problems_name_the_field(api: TestClient, payload: dict[str, Any], field: str) -> None:
    body = problem(api.post(CASES, json=payload), 422, field)
    assert body["errors"][0]["field"] == field
    assert api.get(CASES).json()["items"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": None, "version": 1}, "title"),
        ({"custom_data": None, "version": 1}, "custom_data"),
        ({"priority": None, "version": 1}, "priority"),
        ({"reference": "CASE-2000-000001", "version": 1}, "reference"),
        ({"status": "closed", "version": 1}, "status"),
        ({"title": "ok", "version": 0}, "version"),
        ({"title": "ok", "version": "one"}, "version"),
        ({"custom_data": {"product": "loan"}, "version": 1}, "custom_data.channel"),
        ({"custom_data": {"product": "loan", "channel": "email", "colour": "red"}, "version": 1}, "custom_data.colour"),
    ],
)
def test_update_validation_problems_name_the_field(api: TestClient, payload: dict[str, Any], field: str) -> None:
    case = create(api)
    problem(api.patch(f"{CASES}/{case['id']}", json=payload), 422, field)
    assert api.get(f"{CASES}/{case['id']}").json() == case


def test_a_body_that_is_not_json_is_a_problem(api: TestClient) -> None:
    resp = api.post(CASES, content=b"{not json", headers={"content-type": "application/json"})
    problem(resp, 422)
    resp = api.post(CASES, content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    problem(resp, 400)


def test_unknown_case_is_404(api: TestClient) -> None:
    for key in ["CASE-2026-999999", str(uuid.uuid4()), "no-such-case"]:
        body = problem(api.get(f"{CASES}/{key}"), 404, "case_id")
        assert key in body["detail"]
    problem(api.patch(f"{CASES}/{uuid.uuid4()}", json={"title": "x", "version": 1}), 404, "case_id")
    problem(api.post(f"{CASES}/CASE-2026-999999/transitions", json={"to_phase": "risk"}), 404, "case_id")
    problem(api.get(f"{CASES}/CASE-2026-999999/history"), 404, "case_id")


def test_bad_uuid_in_a_path_is_422(api: TestClient) -> None:
    case = create(api)
    problem(api.get("/api/v1/parties/not-a-uuid"), 422, "party_id")
    problem(api.patch(f"{CASES}/{case['id']}/tasks/12345", json={"title": "x"}), 422, "task_id")
    problem(api.delete(f"{CASES}/{case['id']}/parties/xyz"), 422, "link_id")
    problem(api.get(f"{CASES}/{'x' * 65}"), 422, "key")


def test_unknown_references_in_the_body_are_404(api: TestClient) -> None:
    problem(api.post(CASES, json=case_body(title="ok", assignee_id=str(uuid.uuid4()))), 404, "assignee_id")
    problem(api.post(CASES, json=case_body(title="ok", customer_party_id=str(uuid.uuid4()))), 404, "customer_party_id")


def test_unsupported_method_lists_every_allowed_method(api: TestClient) -> None:
    body = problem(api.put(CASES, json={}), 405)
    assert body["title"] == "Method not allowed"
    assert api.put(CASES, json={}).headers["allow"] == "GET, POST"
    case = create(api)
    assert api.delete(f"{CASES}/{case['id']}").headers["allow"] == "GET, PATCH"


def test_unknown_route_is_a_404_problem(api: TestClient) -> None:
    problem(api.get("/api/v1/nothing-here"), 404)


# ------------------------------------------------------------------ listing, pagination, search


def test_pagination_walks_every_case_once(api: TestClient) -> None:
    made = [create(api, title=f"Case {i}", priority=f"P{1 + i % 4}")["id"] for i in range(7)]
    for sort in ["-created_at", "priority", "-priority", "reference", "due_date", "-risk_score"]:
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 3, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = api.get(CASES, params=params).json()
            seen += [c["id"] for c in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert pages == 3, sort
        assert sorted(seen) == sorted(made), sort
    by_reference = [c["reference"] for c in api.get(CASES, params={"sort": "reference"}).json()["items"]]
    assert by_reference == sorted(by_reference)


def test_filters_over_http(api: TestClient) -> None:
    first = create(api, priority="P1", team="fraud", due_date="2026-04-01")
    second = create(api, case_type="onboarding", priority="P4")
    assert second["phase"] == "assessment"  # onboarding's screening is automatic: it opened the case at intake

    def ids(**params: Any) -> list[str]:
        resp = api.get(CASES, params=params)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert ids(priority="P1") == [first["id"]]
    assert ids(phase="assessment") == [second["id"]]
    assert ids(case_type="onboarding") == [second["id"]]
    assert ids(team="fraud", status="open") == [first["id"]]
    assert ids(due_from="2026-03-01", due_to="2026-04-01") == [first["id"]]
    assert ids(status="closed") == []
    assert sorted(ids()) == sorted([first["id"], second["id"]])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"phase": "archived"}, "phase"),
        ({"status": "pending"}, "status"),
        ({"priority": "P9"}, "priority"),
        ({"created_from": "2026-13-45"}, "created_from"),
        ({"created_from": "0001-01-01"}, "created_from"),
        ({"due_to": "0"}, "due_to"),
        ({"sort": "colour"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"assignee_id": "bob"}, "assignee_id"),
        ({"team": "a\x00b"}, "team"),
        ({"q": "nul\x00"}, "q"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "WyJjcmVhdGVkX2F0IiwgMSwgMl0"}, "cursor"),
        ({"cursor": "x" * 501}, "cursor"),
    ],
)
def test_bad_list_parameters_are_422(api: TestClient, params: dict[str, Any], field: str) -> None:
    problem(api.get(CASES, params=params), 422, field)


def test_search_endpoint(api: TestClient) -> None:
    kettle = create(api, title="Broken kettle", description="Refund requested")
    other = create(api, title="Address change")
    api.post(f"{CASES}/{other['id']}/notes", json={"body": "Customer mentioned the landlord"})
    assert [c["id"] for c in api.get("/api/v1/search", params={"q": "kett"}).json()] == [kettle["id"]]
    assert [c["id"] for c in api.get("/api/v1/search", params={"q": "refund"}).json()] == [kettle["id"]]
    assert [c["id"] for c in api.get("/api/v1/search", params={"q": "landl"}).json()] == [other["id"]]
    assert [c["id"] for c in api.get("/api/v1/search", params={"q": other["reference"]}).json()] == [other["id"]]
    assert api.get("/api/v1/search", params={"q": "zebra"}).json() == []
    assert [c["id"] for c in api.get(CASES, params={"q": "landlord"}).json()["items"]] == [other["id"]]
    problem(api.get("/api/v1/search", params={"q": "?!"}), 422, "q")
    problem(api.get("/api/v1/search"), 422, "q")
    problem(api.get("/api/v1/search", params={"q": "x" * 201}), 422, "q")


def test_history_lists_every_change_in_order(api: TestClient) -> None:
    case = create(api)
    url = f"{CASES}/{case['id']}"
    api.patch(url, json={"title": "Renamed", "version": 1})
    api.post(f"{url}/notes", json={"body": "A note"})
    api.post(f"{url}/assignment", json={"team": "fraud"})
    transition(api, case, "assessment")
    entries = api.get(f"{url}/history").json()
    # The decisions taken at intake and on entering assessment are listed in between; the changes are these.
    decided = [e for e in entries if e["action"] == "decision.made"]
    assert [e["data"]["point"] for e in decided] == ["routing", "screening", "next_action"]
    changed = [e for e in entries if e["action"] != "decision.made"]
    assert [e["action"] for e in changed] == ["case.create", "case.assign", "case.update", "note.add", "case.assign", "case.transition"]
    # Intake routed the unassigned complaint to its team (nobody in it to assign yet).
    assert changed[1]["data"] == {
        "before": {"assignee_id": None, "team": None},
        "after": {"assignee_id": None, "team": "complaints"},
        "by": "routing",
    }
    assert changed[2]["data"] == {"changes": {"title": {"before": "Refund not received", "after": "Renamed"}}}
    assert changed[4]["data"] == {"before": {"assignee_id": None, "team": "complaints"}, "after": {"assignee_id": None, "team": "fraud"}}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert len(api.get(f"{url}/history", params={"limit": 2}).json()) == 2
    assert all(e["case_id"] == case["id"] for e in entries)
