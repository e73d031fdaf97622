"""Documents over HTTP: multipart upload, listing with rights, streamed download, limits and problems."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from casework.domain.access import Principal, Role
from casework.services import notifications, parties, sharing, users
from casework.services.schemas import PartyCreate
from casework.store.models import AuditEntry
from casework.store.unit_of_work import Database
from tests.doc_samples import PDF
from tests.factories import new_case, principal


def post_file(
    client: TestClient, key: str, data: bytes = PDF, name: str = "evidence.pdf", kind: str = "customer_evidence", **form: str
) -> Any:
    mime = "application/pdf" if data.startswith(b"%PDF") else "application/octet-stream"
    return client.post(f"/api/v1/cases/{key}/documents", data={"kind": kind, **form}, files={"file": (name, data, mime)})


@pytest.fixture
def setup(db: Database, client_for: Callable[..., TestClient]) -> dict[str, object]:
    admin = users.system_principal(db)
    party = parties.create_party(db, admin, PartyCreate(name="Carla Customer"))
    case = new_case(db, admin, team="complaints", customer_party_id=party.id)
    customer: Principal = principal(db, admin, "carla@example.org", Role.CUSTOMER, party_id=party.id)
    third: Principal = principal(db, admin, "tess@example.org", Role.THIRD_PARTY)
    outsider: Principal = principal(db, admin, "otto@example.org", teams=["fraud"])
    return {
        "admin": admin,
        "case": case,
        "api": client_for(admin),
        "customer": client_for(customer),
        "third": client_for(third),
        "third_principal": third,
        "outsider": client_for(outsider),
    }


def test_upload_list_get_and_download(setup: dict, storage_dir: Path) -> None:  # type: ignore[type-arg]
    api, case = setup["api"], setup["case"]
    resp = post_file(api, case.reference, name="Relevé bancaire.pdf")
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["mime"] == "application/pdf" and doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["visibility"] == "internal"
    assert [d["id"] for d in api.get(f"/api/v1/cases/{case.id}/documents").json()] == [doc["id"]]
    assert api.get(f"/api/v1/cases/{case.id}/documents/{doc['id']}").json()["original_name"] == doc["original_name"]
    content = api.get(f"/api/v1/cases/{case.id}/documents/{doc['id']}/content")
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["etag"] == f'"{doc["sha256"]}"'
    disposition = content.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Relev%C3%A9%20bancaire.pdf" in disposition


def test_customer_third_party_and_outsider(setup: dict, db: Database) -> None:  # type: ignore[type-arg]
    api, case, customer, third, outsider = setup["api"], setup["case"], setup["customer"], setup["third"], setup["outsider"]
    internal = post_file(api, str(case.id)).json()
    shared = post_file(api, str(case.id), b"shared letter", name="letter.txt", visibility="shared").json()
    listed = customer.get(f"/api/v1/cases/{case.id}/documents").json()
    assert [d["id"] for d in listed] == [shared["id"]] and listed[0]["checks"] == []
    assert customer.get(f"/api/v1/cases/{case.id}/documents/{internal['id']}").status_code == 404
    assert customer.get(f"/api/v1/cases/{case.id}/documents/{internal['id']}/content").status_code == 404
    assert customer.get(f"/api/v1/cases/{case.id}/documents/{shared['id']}/content").content == b"shared letter"
    sent = post_file(customer, str(case.id), b"my bank details", name="rib.txt", visibility="internal")
    assert sent.status_code == 201 and sent.json()["visibility"] == "shared" and sent.json()["channel"] == "portal"
    # The third party: nothing shared -> the case does not exist; shared without documents -> 403; with -> shared ones only.
    assert third.get(f"/api/v1/cases/{case.id}/documents").status_code == 404
    sharing.share_case(db, setup["admin"], case.id, sharing.ShareCreate(user_id=setup["third_principal"].user_id, parts=["tasks"]))
    assert third.get(f"/api/v1/cases/{case.id}/documents").status_code == 403
    sharing.share_case(db, setup["admin"], case.id, sharing.ShareCreate(user_id=setup["third_principal"].user_id, parts=["documents"]))
    assert {d["id"] for d in third.get(f"/api/v1/cases/{case.id}/documents").json()} == {shared["id"], sent.json()["id"]}
    assert post_file(third, str(case.id), b"from them").status_code == 403
    for path in ("documents", f"documents/{shared['id']}", f"documents/{shared['id']}/content", "checklist"):
        resp = outsider.get(f"/api/v1/cases/{case.id}/{path}")
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/problem+json"), path
    assert post_file(outsider, str(case.id), b"x").status_code == 404


def test_problems_empty_oversized_duplicate_bad_kind(setup: dict, storage_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    api, case = setup["api"], setup["case"]
    empty = post_file(api, str(case.id), b"")
    assert empty.status_code == 422 and empty.json()["field"] == "file"
    bad_kind = post_file(api, str(case.id), kind="selfie")
    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"
    first = post_file(api, str(case.id)).json()
    dup = post_file(api, str(case.id), name="copy.pdf")
    assert dup.status_code == 409 and first["id"] in dup.json()["detail"] and dup.json()["document_id"] == first["id"]
    monkeypatch.setenv("CASEWORK_MAX_UPLOAD_MB", "0.001")
    huge = post_file(api, str(case.id), b"y" * 200_000)  # refused on its Content-Length, before the body is read
    assert huge.status_code == 413 and huge.headers["content-type"].startswith("application/problem+json")
    over = post_file(api, str(case.id), b"z" * 5000)  # within the envelope slack: stopped while streaming
    assert over.status_code == 413 and over.json()["field"] == "file"
    assert sorted(p.name for p in storage_dir.rglob("*") if p.is_file()) == [first["sha256"]]


def test_path_traversal_name_is_sanitised(setup: dict) -> None:  # type: ignore[type-arg]
    api, case = setup["api"], setup["case"]
    doc = post_file(api, str(case.id), name="../../../etc/passwd").json()
    assert doc["original_name"] == "passwd"
    resp = api.get(f"/api/v1/cases/{case.id}/documents/{doc['id']}/content")
    assert 'filename="passwd"' in resp.headers["content-disposition"]


def test_download_is_audited(setup: dict, db: Database) -> None:  # type: ignore[type-arg]
    api, case = setup["api"], setup["case"]
    doc = post_file(api, str(case.id)).json()
    assert api.get(f"/api/v1/cases/{case.id}/documents/{doc['id']}/content").status_code == 200
    with db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id, AuditEntry.action == "access.case.read")).all()
    assert any(e.data.get("document_id") == doc["id"] and e.data.get("download") for e in entries)


def test_checklist_and_requests(setup: dict, db: Database) -> None:  # type: ignore[type-arg]
    api, case, customer = setup["api"], setup["case"], setup["customer"]
    items = api.get(f"/api/v1/cases/{case.id}/checklist").json()
    assert [(i["kind"], i["required"], i["state"]) for i in items] == [
        ("customer_evidence", False, "missing"),
        ("final_response_letter", True, "missing"),
    ]
    resp = api.post(f"/api/v1/cases/{case.id}/document-requests", json={"kind": "customer_evidence", "reason": "Send the receipt"})
    assert resp.status_code == 201 and resp.json()["fulfilled_at"] is None
    assert customer.post(f"/api/v1/cases/{case.id}/document-requests", json={"kind": "x", "reason": "y"}).status_code == 403
    assert customer.get(f"/api/v1/cases/{case.id}/checklist").json()[0]["requested"] is True
    assert notifications.list_events(db, setup["admin"])[-1].topic == "document.requested"
    post_file(customer, str(case.id), b"the receipt", name="receipt.txt")
    item = api.get(f"/api/v1/cases/{case.id}/checklist").json()[0]
    assert item["state"] == "received" and item["requested"] is False and len(item["documents"]) == 1


def test_review_over_http(setup: dict) -> None:  # type: ignore[type-arg]
    api, case, customer = setup["api"], setup["case"], setup["customer"]
    doc = post_file(api, str(case.id), visibility="shared").json()
    url = f"/api/v1/cases/{case.id}/documents/{doc['id']}/review"
    assert customer.post(url, json={"decision": "validate"}).status_code == 403
    missing_reason = api.post(url, json={"decision": "reject"})
    assert missing_reason.status_code == 422 and missing_reason.json()["field"] == "reason"
    assert api.post(url, json={"decision": "validate"}, headers={"If-Match": '"9"'}).status_code == 412
    ok = api.post(url, json={"decision": "validate", "version": doc["version"]})
    assert ok.status_code == 200 and ok.json()["status"] == "validated"
    assert api.post(url, json={"decision": "reject", "reason": "no"}).status_code == 409
    assert api.get(f"/api/v1/cases/{case.id}/checklist").json()[0]["state"] == "validated"


def test_a_lying_or_dangerous_file_is_refused(setup: dict) -> None:  # type: ignore[type-arg]
    api, case = setup["api"], setup["case"]
    resp = api.post(
        f"/api/v1/cases/{case.id}/documents",
        data={"kind": "other"},
        files={"file": ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60, "application/pdf")},
    )
    assert resp.status_code == 422 and resp.json()["field"] == "file" and "program" in resp.json()["detail"]
    assert api.get(f"/api/v1/cases/{case.id}/documents").json() == []
