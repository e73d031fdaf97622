"""The access matrix: every API route, called by every role (and anonymously), allowed or refused.

The table below is written by hand from the product's rules rather than derived from the
code's grants, so a change to the rules shows up here. A route missing from the table fails
`test_every_route_has_a_rule`, so a new route cannot ship without deciding who may call it.
Refusals are 401 without credentials, 404 for a case outside the caller's visibility (its
existence must not leak), and 403 otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casework.domain.access import Principal, Role, Scope
from casework.services import (
    accounts,
    auth,
    cases,
    casetypes,
    decisions,
    documents,
    notes,
    parties,
    plans,
    rulesets,
    sharing,
    trust,
    users,
)
from casework.services import notifications as notifications_service
from casework.services.schemas import CaseCreate, CasePartyLink, GoalCreate, NoteCreate, PartyCreate, TaskCreate
from casework.services.workflow_schemas import DecisionPoint, DraftCreate
from casework.store.unit_of_work import Database
from tests.documents.twoddoc_factory import Authority

ADMIN, SUPERVISOR, WORKER, OUTSIDER, AUDITOR, CUSTOMER, THIRD, READER, ANON = (
    "admin", "supervisor", "worker", "outsider", "auditor", "customer", "third_party", "worker_read_token", "anonymous",
)  # fmt: skip
ROLES = [ADMIN, SUPERVISOR, WORKER, OUTSIDER, AUDITOR, CUSTOMER, THIRD, READER, ANON]
STAFF_WRITERS = {ADMIN, SUPERVISOR, WORKER}
STAFF = STAFF_WRITERS | {AUDITOR, READER}
AUTHENTICATED = set(ROLES) - {ANON}
#: Who can see case A at all (the outsider works in another team).
SEES_A = STAFF | {CUSTOMER, THIRD}
#: Who may read case types and decision tables (every staff member, whatever their team).
CONFIG_READERS = STAFF | {OUTSIDER}
COMPLAINT_DATA = {"product": "credit_card", "channel": "email"}
COMPLAINT_V2 = casetypes.shipped_sources()["complaint.yaml"].replace("\nversion: 1\n", "\nversion: 2\n", 1)
#: Certificates for the trust store: one seeded (then revoked), one added.
SEEDED_CA_PEM = Authority(ca_id="FR01").pem().decode("ascii")
OTHER_CA_PEM = Authority(ca_id="FR02").pem().decode("ascii")
RISK_TABLE = resources.files("casework.casetypes").joinpath("definitions/tables/complaint.risk.yaml").read_text(encoding="utf-8")


@dataclass
class World:
    ids: dict[str, str]
    version: Callable[[], int]


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    allowed: frozenset[str]
    body: Callable[[World], Any] | None = None
    on_case: bool = False  # the path names case A: callers who cannot see it get 404
    ok: int = 200
    params: dict[str, str] | None = None
    aliases: dict[str, str] | None = None  # path parameter -> the world id filling it (two rules, one name)
    files: dict[str, Any] | None = None  # a multipart upload: files (the body then gives the form fields)


def r(method: str, path: str, allowed: set[str], body: Callable[[World], Any] | None = None, **kw: Any) -> Rule:
    return Rule(method, "/api/v1" + path, frozenset(allowed), body, **kw)


# Order matters: each role runs the whole list against a fresh database, so requests that
# change or remove things (transitions, unlinking, revoking) come after those that need them.
RULES: list[Rule] = [
    r("GET", "/health", set(ROLES)),
    r("POST", "/auth/login", set(), lambda w: {"email": "nobody@example.org", "password": "not the password"}, ok=200),
    r("GET", "/auth/oidc/login", set(ROLES), ok=302),
    r("GET", "/auth/oidc/callback", set(ROLES), params={"code": "not-a-code", "state": "not-the-state"}),
    r("GET", "/auth/me", AUTHENTICATED),
    r("POST", "/auth/tokens", AUTHENTICATED - {READER}, lambda w: {"name": "extra", "scope": "read"}, ok=201),
    r("GET", "/auth/tokens", AUTHENTICATED),
    r(
        "POST",
        "/cases",
        STAFF_WRITERS | {OUTSIDER},
        lambda w: {"case_type": "complaint", "title": "New one", "custom_data": COMPLAINT_DATA},
        ok=201,
    ),
    r("GET", "/cases", AUTHENTICATED),
    r("GET", "/search", AUTHENTICATED, params={"q": "refund"}),
    r("GET", "/cases/{key}", SEES_A, on_case=True),
    r("PATCH", "/cases/{key}", STAFF_WRITERS, lambda w: {"title": "Edited title", "version": w.version()}, on_case=True),
    r("POST", "/cases/{key}/assignment", STAFF_WRITERS, lambda w: {"team": "fraud"}, on_case=True),
    r("GET", "/cases/{key}/phases", SEES_A, on_case=True),
    r("GET", "/cases/{key}/history", STAFF, on_case=True),
    r(
        "POST",
        "/cases/{key}/notes",
        STAFF_WRITERS | {CUSTOMER},
        lambda w: {"body": "Any news?", "visibility": "shared"},
        on_case=True,
        ok=201,
    ),
    r("GET", "/cases/{key}/notes", SEES_A, on_case=True),
    r("POST", "/cases/{key}/communications", STAFF_WRITERS, lambda w: {"channel": "phone", "direction": "inbound"}, on_case=True, ok=201),
    r("GET", "/cases/{key}/communications", STAFF | {CUSTOMER}, on_case=True),
    r("GET", "/cases/{key}/parties", STAFF, on_case=True),
    r("POST", "/cases/{key}/parties", STAFF_WRITERS, lambda w: {"party_id": w.ids["witness"], "role": "expert"}, on_case=True, ok=201),
    r("GET", "/cases/{key}/plan", SEES_A, on_case=True),
    r("POST", "/cases/{key}/goals", STAFF_WRITERS, lambda w: {"title": "Second goal"}, on_case=True, ok=201),
    r("PATCH", "/cases/{key}/goals/{goal_id}", STAFF_WRITERS, lambda w: {"title": "Renamed goal"}, on_case=True),
    r("POST", "/cases/{key}/goals/{goal_id}/tasks", STAFF_WRITERS, lambda w: {"title": "Another task"}, on_case=True, ok=201),
    r("PATCH", "/cases/{key}/tasks/{task_id}", STAFF_WRITERS | {THIRD}, lambda w: {"status": "in_progress"}, on_case=True),
    # Configured workflow (routes_workflow): case types, questionnaires, readiness, decisions and tables.
    r("GET", "/case-types", CONFIG_READERS),
    r("GET", "/case-types/{case_type}", CONFIG_READERS),
    r("POST", "/case-types/validate", CONFIG_READERS, lambda w: {"source": COMPLAINT_V2}),
    r("GET", "/case-types/{case_type}/diff", CONFIG_READERS, params={"from": "1"}),
    r("POST", "/case-types/{case_type}/diff", CONFIG_READERS, lambda w: {"source": COMPLAINT_V2}, params={"from": "1"}),
    r("POST", "/case-types", {ADMIN}, lambda w: {"source": COMPLAINT_V2, "filename": "complaint.yaml"}, ok=201),
    r("GET", "/cases/{key}/questionnaires", STAFF, on_case=True),
    r("PUT", "/cases/{key}/questionnaires/{questionnaire}", STAFF_WRITERS, lambda w: {"answers": {"raised_before": False}}, on_case=True),
    r("GET", "/cases/{key}/questionnaires/{questionnaire}", STAFF, on_case=True),
    r("GET", "/cases/{key}/questionnaires/{questionnaire}/versions", STAFF, on_case=True),
    r("GET", "/cases/{key}/readiness", STAFF, on_case=True),
    r("GET", "/cases/{key}/decisions", STAFF, on_case=True),
    r("POST", "/cases/{key}/decisions/{decision_id}/accept", STAFF_WRITERS, on_case=True),  # the pending next action
    r("POST", "/cases/{key}/decisions/{point}", STAFF_WRITERS, on_case=True, ok=201),
    r("GET", "/decision-tables", CONFIG_READERS),
    r("GET", "/decision-tables/{name}", CONFIG_READERS),
    r("GET", "/decision-tables/{name}/versions", CONFIG_READERS),
    r("POST", "/decision-tables/{name}/drafts", {ADMIN, SUPERVISOR}, lambda w: {"source": RISK_TABLE, "comment": "unchanged"}, ok=201),
    r("POST", "/decision-tables/{name}/versions/{version}/simulate", CONFIG_READERS, lambda w: {"last": 10}),
    r("POST", "/decision-tables/{name}/versions/{version}/publish", {ADMIN, SUPERVISOR}),
    r("POST", "/cases/{key}/transitions", STAFF_WRITERS, lambda w: {"to_phase": "assessment"}, on_case=True),
    # The screening recommendation made at intake, overridden once the case has moved on (so it changes nothing).
    r(
        "POST",
        "/cases/{key}/decisions/{decision_id}/override",
        STAFF_WRITERS,
        lambda w: {"outputs": {"reason": "checked by hand"}, "reason": "screened on the phone"},
        on_case=True,
        aliases={"decision_id": "screening_decision"},
    ),
    r("POST", "/parties", STAFF_WRITERS | {OUTSIDER}, lambda w: {"name": "New Party"}, ok=201),
    r("GET", "/parties", STAFF | {OUTSIDER}),
    r("GET", "/parties/{party_id}", STAFF | {OUTSIDER}),
    r("PATCH", "/parties/{party_id}", STAFF_WRITERS | {OUTSIDER}, lambda w: {"phone": "+32 2 555 01 01", "version": 1}),
    r("POST", "/users", {ADMIN}, lambda w: {"name": "New Hire", "email": "new.hire@example.org", "role": "case_worker"}, ok=201),
    r("GET", "/users", STAFF | {OUTSIDER}),
    r("GET", "/users/{user}", STAFF | {OUTSIDER}),
    r("PATCH", "/users/{user}", {ADMIN}, lambda w: {"name": "Renamed Worker"}),
    r("GET", "/audit/verify", {ADMIN, SUPERVISOR, AUDITOR}),
    r("GET", "/audit/access", {ADMIN, SUPERVISOR, AUDITOR}, params={"case": "{key}"}),
    r("POST", "/cases/{key}/shares", STAFF_WRITERS, lambda w: {"user_id": w.ids["third_user"], "parts": ["tasks"]}, on_case=True, ok=201),
    r("GET", "/cases/{key}/shares", STAFF_WRITERS, on_case=True),
    r("DELETE", "/cases/{key}/shares/{share_id}", STAFF_WRITERS, on_case=True),
    # Daily work (routes_work): the queue, one's own notifications, SLA timers and the outbox.
    r("GET", "/queue", STAFF_WRITERS | {OUTSIDER, READER}),
    r("GET", "/notifications", STAFF | {OUTSIDER}),
    r("POST", "/notifications/{notification_id}/read", STAFF_WRITERS | {OUTSIDER, AUDITOR}),
    r("GET", "/cases/{key}/sla", STAFF, on_case=True),
    r("GET", "/sla/breaches", {ADMIN, SUPERVISOR, AUDITOR}),
    r("GET", "/events", {ADMIN}),
    r("POST", "/sla/scan", {ADMIN}),
    # Documents (routes_documents): customers send theirs through the portal; the third party has a documents share.
    r(
        "POST",
        "/cases/{key}/documents",
        STAFF_WRITERS | {CUSTOMER},
        lambda w: {"kind": "customer_evidence", "visibility": "shared"},
        on_case=True,
        ok=201,
        files={"file": ("receipt.txt", b"Receipt for the card charge, uploaded by the access matrix", "text/plain")},
    ),
    r("GET", "/cases/{key}/documents", SEES_A, on_case=True),
    r("GET", "/cases/{key}/documents/{document_id}", SEES_A, on_case=True),
    r("GET", "/cases/{key}/documents/{document_id}/content", SEES_A, on_case=True),
    r("GET", "/cases/{key}/checklist", SEES_A, on_case=True),
    r("POST", "/cases/{key}/documents/{document_id}/checks", STAFF_WRITERS, on_case=True),
    r("GET", "/documents/review", STAFF | {OUTSIDER}),
    r("POST", "/cases/{key}/documents/{document_id}/review", STAFF_WRITERS, lambda w: {"decision": "validate"}, on_case=True),
    # The 2D-Doc trust store (routes_trust): administrators only.
    r("GET", "/admin/trust/certificates", {ADMIN}),
    r("POST", "/admin/trust/certificates", {ADMIN}, lambda w: {"label": "Second CA", "certificate": OTHER_CA_PEM}, ok=201),
    r("DELETE", "/admin/trust/certificates/{certificate_id}", {ADMIN}),
    r(
        "POST",
        "/cases/{key}/document-requests",
        STAFF_WRITERS,
        lambda w: {"kind": "final_response_letter", "reason": "Send us the letter"},
        on_case=True,
        ok=201,
    ),
    r("DELETE", "/cases/{key}/parties/{link_id}", STAFF_WRITERS, on_case=True, ok=204),
    r("DELETE", "/auth/tokens/{token_id}", AUTHENTICATED, ok=204),
    r("POST", "/auth/logout", AUTHENTICATED, ok=204),
]


def _account(db: Database, admin: Principal, name: str, role: Role, **extra: Any) -> Principal:
    email = f"{name}@example.org"
    made = accounts.create_account(db, admin, accounts.AccountCreate(name=name.title(), email=email, role=role, **extra))
    return auth.load_principal(db, made.id)


def build_world(db: Database) -> tuple[World, dict[str, Principal]]:
    admin = users.system_principal(db)
    customer_party = parties.create_party(db, admin, PartyCreate(name="Chloe Customer"))
    witness = parties.create_party(db, admin, PartyCreate(name="Walter Witness"))
    who = {
        ADMIN: admin,
        SUPERVISOR: _account(db, admin, "sue", Role.SUPERVISOR, teams=["fraud"]),
        WORKER: _account(db, admin, "will", Role.CASE_WORKER, teams=["fraud"]),
        OUTSIDER: _account(db, admin, "olga", Role.CASE_WORKER, teams=["kyc"]),
        AUDITOR: _account(db, admin, "audrey", Role.AUDITOR),
        CUSTOMER: _account(db, admin, "chloe", Role.CUSTOMER, party_id=customer_party.id),
        THIRD: _account(db, admin, "theo", Role.THIRD_PARTY),
    }
    who[READER] = who[WORKER]
    # A complaint: its screening only recommends, so the case stays in screening until a rule moves it.
    case = cases.create_case(
        db, admin, CaseCreate(case_type="complaint", title="Refund of a disputed card charge", team="fraud",
                              customer_party_id=customer_party.id, risk_score=70, custom_data=COMPLAINT_DATA),
    )  # fmt: skip
    cases.create_case(db, admin, CaseCreate(case_type="onboarding", title="Refund question at onboarding", team="kyc",
                                            custom_data={"customer_type": "person", "country_of_residence": "BE"}))  # fmt: skip
    # Configured workflow: a pending screening recommendation (made at intake), a pending next action,
    # and a draft of a decision table to simulate and publish.
    screening = next(d for d in decisions.list_decisions(db, admin, case.id) if d.point is DecisionPoint.SCREENING)
    next_action = decisions.run_decision(db, admin, case.id, DecisionPoint.NEXT_ACTION)
    risk_table = rulesets.get_table(db, admin, "complaint.risk").definition
    draft = rulesets.create_draft(db, admin, "complaint.risk", DraftCreate(definition=risk_table))
    goal = plans.add_goal(db, admin, case.id, GoalCreate(title="Refund the customer"))
    task = plans.add_task(db, admin, case.id, goal.id, TaskCreate(title="Ask the merchant", assignee_id=who[THIRD].user_id))
    notes.add_note(db, admin, case.id, NoteCreate(body="Internal: merchant known for chargebacks"))
    link = parties.link_party(db, admin, case.id, CasePartyLink(party_id=witness.id, role="witness"))
    share = sharing.share_case(db, admin, case.id, sharing.ShareCreate(user_id=who[THIRD].user_id, parts=["tasks", "notes", "documents"]))
    document = documents.upload_document(
        db, admin, case.id, kind="customer_evidence", filename="statement.txt", stream=[b"Card statement"], visibility="shared"
    )
    certificate = trust.add_certificate(db, admin, SEEDED_CA_PEM, "Seeded CA")
    ids = {
        "certificate_id": str(certificate.id),
        "key": str(case.id),
        "goal_id": str(goal.id),
        "task_id": str(task.id),
        "link_id": str(link.id),
        "party_id": str(customer_party.id),
        "witness": str(witness.id),
        "user": "will@example.org",
        "share_id": str(share.id),
        "document_id": str(document.id),
        "third_user": str(who[THIRD].user_id),
        "case_type": "complaint",
        "questionnaire": "complaint_details",
        "point": "risk",
        "decision_id": str(next_action.id),
        "screening_decision": str(screening.id),
        "name": "complaint.risk",
        "version": str(draft.version),
    }

    def version() -> int:
        return cases.get_case(db, admin, case.id).version

    return World(ids, version), who


def test_every_route_has_a_rule() -> None:
    from casework.api.app import create_app

    document = create_app(Database("sqlite://")).openapi()
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item if path.startswith("/api/")}
    ruled = {(rule.method, rule.path) for rule in RULES}
    assert routes - ruled == set(), "routes without an access rule"
    assert ruled - routes == set(), "rules for routes that do not exist"


def expected_status(rule: Rule, role: str) -> int:
    if rule.path.endswith("/auth/login"):
        return 401  # public, but these credentials are wrong for everybody
    if "/auth/oidc/" in rule.path:
        return 404  # public, but OpenID Connect sign-in is not configured here
    if role in rule.allowed:
        return rule.ok
    if role == ANON:
        return 401
    if rule.on_case and role not in SEES_A:
        return 404
    return 403


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role: str, db: Database, client_for: Callable[..., TestClient]) -> None:
    world, who = build_world(db)
    if role == ANON:
        client = client_for(None)
    else:
        client = client_for(who[role], Scope.READ if role == READER else Scope.WRITE)
        spare = auth.create_token(db, who[role], "spare", Scope.READ)
        world.ids["token_id"] = str(spare.id)
        with db.write() as s:  # a notification of the caller's own, to mark read
            world.ids["notification_id"] = str(notifications_service.notify(s, who[role].user_id, None, "test", "Hello").id)
    world.ids.setdefault("token_id", str(uuid.uuid4()))
    world.ids.setdefault("notification_id", str(uuid.uuid4()))
    mismatches = []
    for rule in RULES:
        path = rule.path.format(**{**world.ids, **{k: world.ids[v] for k, v in (rule.aliases or {}).items()}})
        params = {k: v.format(**world.ids) for k, v in (rule.params or {}).items()}
        body = rule.body(world) if rule.body else None
        if rule.files is not None:
            resp = client.request(rule.method, path, data=body, files=rule.files, params=params)
        else:
            resp = client.request(rule.method, path, json=body, params=params)
        want = expected_status(rule, role)
        if resp.status_code != want:
            mismatches.append(f"{rule.method} {rule.path}: expected {want}, got {resp.status_code} {resp.text[:200]}")
        elif want >= 400:
            assert resp.headers["content-type"].startswith("application/problem+json"), (rule.path, resp.headers)
    assert not mismatches, f"{role}:\n" + "\n".join(mismatches)


def test_customer_cannot_reach_another_customers_case(db: Database, client_for: Callable[..., TestClient]) -> None:
    admin = users.system_principal(db)
    mine_party = parties.create_party(db, admin, PartyCreate(name="Mia Mine"))
    other_party = parties.create_party(db, admin, PartyCreate(name="Otto Other"))
    mine = cases.create_case(
        db, admin, CaseCreate(case_type="complaint", title="My refund", customer_party_id=mine_party.id, custom_data=COMPLAINT_DATA)
    )
    other = cases.create_case(
        db, admin, CaseCreate(case_type="complaint", title="Other refund", customer_party_id=other_party.id, custom_data=COMPLAINT_DATA)
    )
    me = _account(db, admin, "mia", Role.CUSTOMER, party_id=mine_party.id)
    client = client_for(me)
    listed = client.get("/api/v1/cases").json()["items"]
    assert [c["id"] for c in listed] == [str(mine.id)]
    assert [c["id"] for c in client.get("/api/v1/search", params={"q": "refund"}).json()] == [str(mine.id)]
    for key in (str(other.id), other.reference, str(uuid.uuid4()), "CASE-2026-999999"):
        resp = client.get(f"/api/v1/cases/{key}")
        assert resp.status_code == 404, key
        assert resp.json()["detail"] == f"case {key} not found"  # same words whether it exists or not
        assert client.post(f"/api/v1/cases/{key}/notes", json={"body": "hi", "visibility": "shared"}).status_code == 404
    own = client.get(f"/api/v1/cases/{mine.reference}").json()
    assert own["risk_score"] is None and own["custom_data"] == {} and own["allowed_transitions"] == []
