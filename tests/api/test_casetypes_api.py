"""Case types, questionnaires and readiness over HTTP: install new versions, compare them, answer
questionnaires with optimistic concurrency, and phase criteria that block a move until met."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from casework.domain.access import Role
from casework.services import accounts, auth, users
from casework.store.unit_of_work import Database
from tests.api.problems import ok, problem

V1 = "/api/v1"
SHIPPED = {"complaint", "support_ticket", "onboarding", "disputed_transaction"}
COMPLAINT_DATA = {"product": "credit_card", "channel": "email"}
SCREENING_SLA = "screening: {P1: 4, P2: 8, P3: 24, P4: 48}"


def open_case(api: TestClient, case_type: str = "complaint", data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"case_type": case_type, "title": "Card fee charged twice", "custom_data": COMPLAINT_DATA if data is None else data, **extra}
    return dict(ok(api.post(f"{V1}/cases", json=body), 201))


def move(api: TestClient, case: dict[str, Any], to: str, **extra: Any) -> Response:
    resp: Response = api.post(f"{V1}/cases/{case['id']}/transitions", json={"to_phase": to, **extra})
    return resp


def complaint_v2(api: TestClient) -> str:
    """complaint's shipped source with the version raised and the P1 screening target halved."""
    source: str = ok(api.get(f"{V1}/case-types/complaint"))["source"]
    assert "\nversion: 1\n" in source and SCREENING_SLA in source
    return source.replace("\nversion: 1\n", "\nversion: 2\n", 1).replace(SCREENING_SLA, "screening: {P1: 2, P2: 8, P3: 24, P4: 48}")


@pytest.fixture
def worker_api(db: Database, client_for: Callable[..., TestClient]) -> TestClient:
    admin = users.system_principal(db)
    made = accounts.create_account(
        db, admin, accounts.AccountCreate(name="Wanda Worker", email="wanda@example.org", role=Role.CASE_WORKER, teams=["complaints"])
    )
    return client_for(auth.load_principal(db, made.id))


# ---------------------------------------------------------------- case types


def test_list_includes_the_shipped_types(api: TestClient) -> None:
    listed = {t["key"]: t for t in ok(api.get(f"{V1}/case-types"))}
    assert set(listed) >= SHIPPED
    complaint = listed["complaint"]
    assert complaint["latest_version"] == 1 and complaint["versions"] == [1]
    assert "complaint_details" in complaint["questionnaires"]
    assert "upheld" in complaint["outcomes"]
    detail = ok(api.get(f"{V1}/case-types/disputed_transaction"))
    assert detail["version"] == 1 and detail["definition"]["decisions"]["risk"]["table"] == "disputed_transaction.risk"
    assert detail["source"].startswith("#")


def test_unknown_or_malformed_case_type_keys(api: TestClient) -> None:
    problem(api.get(f"{V1}/case-types/no_such_type"), 404)
    problem(api.get(f"{V1}/case-types/complaint", params={"version": 9}), 404, "version")
    problem(api.get(f"{V1}/case-types/Not-A-Key"), 422, "case_type")
    problem(api.get(f"{V1}/case-types/complaint", params={"version": 0}), 422, "version")
    problem(api.get(f"{V1}/case-types/complaint/diff"), 422, "from")


def test_install_a_new_version_keeps_open_cases_on_theirs(api: TestClient) -> None:
    before = open_case(api)
    source = complaint_v2(api)

    resp = api.post(f"{V1}/case-types", json={"source": source, "filename": "complaint.yaml"})
    installed = ok(resp, 201)
    assert (installed["key"], installed["version"]) == ("complaint", 2)
    assert resp.headers["location"] == "/api/v1/case-types/complaint?version=2"

    listed = {t["key"]: t for t in ok(api.get(f"{V1}/case-types"))}
    assert listed["complaint"]["latest_version"] == 2 and listed["complaint"]["versions"] == [1, 2]
    assert ok(api.get(f"{V1}/case-types/complaint"))["version"] == 2
    old = ok(api.get(f"{V1}/case-types/complaint", params={"version": 1}))
    assert old["definition"]["sla"]["phases"]["screening"]["P1"] == 4

    diff = ok(api.get(f"{V1}/case-types/complaint/diff", params={"from": 1, "to": 2}))
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    changes = {c["path"]: c for c in diff["changes"]}
    assert changes["sla.phases.screening.P1"]["kind"] == "changed"
    assert (changes["sla.phases.screening.P1"]["before"], changes["sla.phases.screening.P1"]["after"]) == (4, 2)
    assert "sla.phases.screening.P1" in diff["text"]
    assert ok(api.get(f"{V1}/case-types/complaint/diff", params={"from": 1}))["to_version"] == 2  # default: the latest

    after = open_case(api)
    assert ok(api.get(f"{V1}/cases/{before['id']}/readiness"))["case_type_version"] == 1
    assert ok(api.get(f"{V1}/cases/{after['id']}/readiness"))["case_type_version"] == 2

    # The same text again changes nothing; a different text under a used version is refused.
    assert ok(api.post(f"{V1}/case-types", json={"source": source}), 201)["version"] == 2
    altered = source.replace("name: Customer complaint", "name: Customer complaint (new)")
    problem(api.post(f"{V1}/case-types", json={"source": altered}), 409, "version")
    assert ok(api.get(f"{V1}/case-types/complaint"))["name"] == "Customer complaint"


def test_compare_a_candidate_without_installing_it(api: TestClient) -> None:
    candidate = complaint_v2(api).replace("\nversion: 2\n", "\nversion: 5\n")
    diff = ok(api.post(f"{V1}/case-types/complaint/diff", params={"from": 1}, json={"source": candidate}))
    assert diff["from_version"] == 1 and "5" in str(diff["to_version"])
    assert "sla.phases.screening.P1" in {c["path"] for c in diff["changes"]}
    assert ok(api.get(f"{V1}/case-types/complaint"))["version"] == 1  # nothing installed


def test_invalid_definitions_are_refused_naming_line_and_field(api: TestClient) -> None:
    broken_yaml = "key: complaint\nversion: 3\nname: Broken\nteams: [complaints\n"
    body = problem(api.post(f"{V1}/case-types", json={"source": broken_yaml, "filename": "broken.yaml"}), 422, "source")
    assert body["line"] is not None and "broken.yaml" in body["detail"]

    source = complaint_v2(api)
    lines = source.splitlines()
    wrong = next(i for i, line in enumerate(lines) if line.strip() == "phase: assessment") + 1
    bad = source.replace("    phase: assessment\n", "    phase: nowhere\n", 1)
    body = problem(api.post(f"{V1}/case-types", json={"source": bad, "filename": "complaint.yaml"}), 422, "source")
    assert body["line"] == wrong
    assert body["path"] == "questionnaires[0].phase"
    assert f"complaint.yaml:{wrong}: questionnaires[0].phase" in body["detail"]
    assert ok(api.get(f"{V1}/case-types/complaint"))["version"] == 1


def test_validate_reports_every_problem_without_installing(api: TestClient) -> None:
    good = complaint_v2(api)
    report = ok(api.post(f"{V1}/case-types/validate", json={"source": good}))
    assert report == {"valid": True, "key": "complaint", "version": 2, "errors": []}

    bad = good.replace("    phase: assessment\n", "    phase: nowhere\n", 1).replace("table: complaint.risk", "table: no.such.table")
    report = ok(api.post(f"{V1}/case-types/validate", json={"source": bad, "filename": "mine.yaml"}))
    assert report["valid"] is False and report["errors"]
    fields = [e["field"] for e in report["errors"]]
    assert "questionnaires[0].phase" in fields
    assert all(e["file"] == "mine.yaml" and e["line"] for e in report["errors"])
    assert ok(api.get(f"{V1}/case-types/complaint"))["version"] == 1

    problem(api.post(f"{V1}/case-types/validate", json={"source": ""}), 422, "source")


def test_only_administrators_install(worker_api: TestClient, api: TestClient) -> None:
    source = complaint_v2(api)
    problem(worker_api.post(f"{V1}/case-types", json={"source": source}), 403)
    assert ok(worker_api.post(f"{V1}/case-types/validate", json={"source": source}))["valid"] is True
    assert {t["key"] for t in ok(worker_api.get(f"{V1}/case-types"))} >= SHIPPED


# ---------------------------------------------------------------- questionnaires


def test_answers_are_versioned_and_checked(api: TestClient) -> None:
    case = open_case(api)
    base = f"{V1}/cases/{case['reference']}/questionnaires"
    listed = ok(api.get(base))
    assert [q["questionnaire"] for q in listed] == ["complaint_details"]
    empty = listed[0]
    assert (empty["version"], empty["complete"], empty["answers"]) == (0, False, {})
    assert "what_happened" in empty["missing"]

    first = ok(
        api.put(f"{base}/complaint_details", json={"answers": {"what_happened": "Charged twice", "raised_before": False}, "version": 0})
    )
    assert first["version"] == 1 and first["answers"] == {"what_happened": "Charged twice", "raised_before": False}
    assert first["complete"] is False

    stale = problem(api.put(f"{base}/complaint_details", json={"answers": {"what_happened": "Other"}, "version": 0}), 409, "version")
    assert stale["current_version"] == 1

    invalid = problem(api.put(f"{base}/complaint_details", json={"answers": {"raised_before": "perhaps"}, "version": 1}), 422)
    assert invalid["field"] == "answers.raised_before"
    unknown = problem(api.put(f"{base}/complaint_details", json={"answers": {"shoe_size": 42}}), 422)
    assert unknown["field"] == "answers.shoe_size"

    assert ok(api.get(f"{base}/complaint_details"))["version"] == 1
    versions = ok(api.get(f"{base}/complaint_details/versions"))
    assert [v["version"] for v in versions] == [1]

    problem(api.get(f"{base}/no_such_questionnaire"), 404, "questionnaire")
    problem(api.get(f"{base}/bad key!"), 422, "questionnaire")
    problem(api.put(f"{base}/complaint_details", json={"answers": {}, "version": -1}), 422, "version")


def test_a_conditional_question_appears_after_its_trigger(api: TestClient) -> None:
    case = open_case(api)
    url = f"{V1}/cases/{case['id']}/questionnaires/complaint_details"
    keys = [q["key"] for q in ok(api.get(url))["questions"]]
    assert "wants_compensation" in keys and "compensation_amount" not in keys

    view = ok(api.put(url, json={"answers": {"wants_compensation": True}, "version": 0}))
    assert "compensation_amount" in [q["key"] for q in view["questions"]]
    assert "compensation_amount" in view["missing"]

    # An answer to the conditional question is dropped once its trigger is withdrawn.
    view = ok(api.put(url, json={"answers": {"wants_compensation": False, "compensation_amount": 200}, "version": 1}))
    assert "compensation_amount" not in view["answers"]
    assert "compensation_amount" not in [q["key"] for q in view["questions"]]
    history = ok(api.get(f"{url}/versions"))
    assert [v["version"] for v in history] == [1, 2]


COMPLETE_DETAILS = {
    "what_happened": "The annual card fee was charged twice",
    "raised_before": False,
    "preferred_resolution": "refund",
    "wants_compensation": False,
    "regulator_contacted": False,
}


def test_readiness_lists_unmet_criteria_and_the_move_is_refused_until_met(api: TestClient) -> None:
    case = open_case(api)
    ok(move(api, case, "assessment"))
    ready = ok(api.get(f"{V1}/cases/{case['id']}/readiness"))
    assert ready["phase"] == "assessment" and ready["case_type"] == "complaint"
    to_risk = next(m for m in ready["moves"] if m["to_phase"] == "risk")
    assert to_risk["ready"] is False
    assert any("complaint_details" in u for u in to_risk["unmet"])
    back = next(m for m in ready["moves"] if m["to_phase"] == "screening")
    assert back["ready"] is True  # going back is never blocked by criteria
    assert "upheld" in ready["outcomes"]

    refused = problem(move(api, case, "risk"), 409, "to_phase")
    assert refused["unmet_criteria"] == to_risk["unmet"]

    ok(api.put(f"{V1}/cases/{case['id']}/questionnaires/complaint_details", json={"answers": COMPLETE_DETAILS, "version": 0}))
    ready = ok(api.get(f"{V1}/cases/{case['id']}/readiness"))
    assert next(m for m in ready["moves"] if m["to_phase"] == "risk") == {"to_phase": "risk", "ready": True, "unmet": []}
    assert ok(move(api, case, "risk"))["phase"] == "risk"


def test_readiness_of_a_missing_case_is_404(api: TestClient) -> None:
    problem(api.get(f"{V1}/cases/CASE-2026-999999/readiness"), 404)
    problem(api.get(f"{V1}/cases/not-a-case/questionnaires"), 404)
