"""Automated document checks and the 2D-Doc trust store over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from casework.documents.checks.mrz import make_mrz_td3
from casework.domain.access import Role
from casework.services import parties, users
from casework.services.schemas import PartyCreate
from casework.store.unit_of_work import Database
from tests.api.problems import ok, problem
from tests.documents.pdfs import text_pdf
from tests.documents.twoddoc_factory import Authority
from tests.factories import new_case, principal

TRUST = "/api/v1/admin/trust/certificates"


def test_trust_store_add_list_revoke(db: Database, client_for: Callable[..., TestClient]) -> None:
    admin = users.system_principal(db)
    api = client_for(admin)
    authority = Authority()
    added = ok(api.post(TRUST, json={"label": "ANTS test CA", "certificate": authority.pem().decode()}), 201)
    assert added["is_authority"] and added["label"] == "ANTS test CA" and added["revoked_at"] is None
    signer = authority.issue("0007")
    der = base64.b64encode(signer.cert.public_bytes(serialization.Encoding.DER)).decode()
    second = ok(api.post(TRUST, json={"label": "Signer", "certificate": der}), 201)
    assert not second["is_authority"] and (second["ca_id"], second["cert_id"]) == ("FR00", "0007")
    assert [c["id"] for c in ok(api.get(TRUST))] == [added["id"], second["id"]]
    problem(api.post(TRUST, json={"label": "Again", "certificate": authority.pem().decode()}), 409, "certificate")
    revoked = ok(api.delete(f"{TRUST}/{added['id']}"))
    assert revoked["revoked_at"] is not None
    assert [c["id"] for c in ok(api.get(TRUST, params={"include_revoked": "false"}))] == [second["id"]]
    problem(api.delete(f"{TRUST}/{added['id']}"), 409, "certificate_id")
    problem(api.delete(f"{TRUST}/{second['id'][:-4]}0000"), 404, "certificate_id")


def test_garbage_is_not_a_certificate(db: Database, client_for: Callable[..., TestClient]) -> None:
    api = client_for(users.system_principal(db))
    for garbage in ("hello", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", base64.b64encode(b"x" * 300).decode()):
        body = problem(api.post(TRUST, json={"label": "Junk", "certificate": garbage}), 422, "certificate")
        assert "certificate" in body["detail"]
    assert ok(api.get(TRUST)) == []


def test_only_administrators_manage_trust(db: Database, client_for: Callable[..., TestClient]) -> None:
    admin = users.system_principal(db)
    sue = principal(db, admin, "sue@example.org", Role.SUPERVISOR, teams=["onboarding"])
    problem(client_for(sue).get(TRUST), 403)
    problem(client_for(sue).post(TRUST, json={"label": "CA", "certificate": Authority().pem().decode()}), 403)


def test_rerun_checks_and_the_review_queue(db: Database, client_for: Callable[..., TestClient]) -> None:
    admin = users.system_principal(db)
    worker = principal(db, admin, "olivia@example.org", teams=["onboarding"])
    party = parties.create_party(db, admin, PartyCreate(name="Angela Sample"))
    born = dt.date(1990, 2, 3)
    case = new_case(db, admin, case_type="onboarding", team="onboarding", assignee_id=worker.user_id, customer_party_id=party.id,
                    custom_data={"customer_type": "person", "country_of_residence": "FR", "date_of_birth": born.isoformat()})  # fmt: skip
    api = client_for(worker)
    mrz = make_mrz_td3(surname="Sample", given_names="Angela", document_number="AB1234567", nationality="FRA",
                       birth_date=born, sex="F", expiry_date=dt.date(2020, 5, 1))  # fmt: skip
    resp = api.post(f"/api/v1/cases/{case.reference}/documents", data={"kind": "identity_document"},
                    files={"file": ("passport.pdf", text_pdf(*mrz.splitlines()), "application/pdf")})  # fmt: skip
    doc = ok(resp, 201)
    assert doc["status"] == "received" and doc["checks_pending"] is True  # no queue serves the test database
    assert ok(api.get("/api/v1/documents/review")) == []
    checked = ok(api.post(f"/api/v1/cases/{case.reference}/documents/{doc['id']}/checks"))
    assert checked["status"] == "in_review" and checked["checks_pending"] is False and checked["authenticity_score"] == 60
    assert {c["check"]: c["outcome"] for c in checked["checks"] if c.get("stage") == "automatic"}["document_expiry"] == "fail"
    waiting = ok(api.get("/api/v1/documents/review"))
    assert [d["id"] for d in waiting] == [doc["id"]] and waiting[0]["case_reference"].startswith("CASE-")
    assert [n["kind"] for n in ok(api.get("/api/v1/notifications")) if n["kind"].startswith("document.")] == ["document.review_needed"]
    again = ok(api.post(f"/api/v1/cases/{case.reference}/documents/{doc['id']}/checks"))
    assert again["checks"] == checked["checks"] and again["status"] == "in_review"
    ok(api.post(f"/api/v1/cases/{case.reference}/documents/{doc['id']}/review", json={"decision": "reject", "reason": "expired"}))
    assert ok(api.get("/api/v1/documents/review")) == []
