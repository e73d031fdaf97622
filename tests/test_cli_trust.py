"""The trust store commands and the document checks commands (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from casework.documents.checks.mrz import make_mrz_td3
from casework.services import documents, parties, users
from casework.services.schemas import PartyCreate
from casework.store.unit_of_work import Database
from tests.cli_support import Run, one_error_line
from tests.documents.pdfs import text_pdf
from tests.documents.twoddoc_factory import Authority
from tests.factories import new_case


def test_trust_add_list_revoke(cli: Run, tmp_path: Path) -> None:
    authority = Authority()
    pem = tmp_path / "ca.pem"
    pem.write_bytes(authority.pem())
    der = tmp_path / "signer.der"
    der.write_bytes(authority.issue("0003").cert.public_bytes(serialization.Encoding.DER))
    out = cli("trust", "add", str(pem), "--label", "Test CA").stdout
    assert out.startswith("trusted authority ") and "CN=FR00" in out
    assert "signing certificate FR00/0003" in cli("trust", "add", str(der), "--label", "Signer").stdout
    listed = json.loads(cli("trust", "list", "--json").stdout)
    assert [(c["label"], c["is_authority"]) for c in listed] == [("Test CA", True), ("Signer", False)]
    assert "Test CA" in cli("trust", "list").stdout
    cli("trust", "revoke", listed[0]["id"])
    assert [c["label"] for c in json.loads(cli("trust", "list", "--json").stdout)] == ["Signer"]
    assert [c["label"] for c in json.loads(cli("trust", "list", "--all", "--json").stdout)] == ["Test CA", "Signer"]
    assert "already" in one_error_line(cli("trust", "revoke", listed[0]["id"], expect=2))


def test_bad_certificates_are_one_line_errors(cli: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    assert "certificate" in one_error_line(cli("trust", "add", str(junk), "--label", "Junk", expect=2))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "not an X.509 certificate" in one_error_line(cli("trust", "add", str(text), "--label", "Junk", expect=2))
    assert "no such file" in one_error_line(cli("trust", "add", str(tmp_path / "nope.pem"), "--label", "X", expect=2))
    assert "not a certificate id" in one_error_line(cli("trust", "revoke", "nope", expect=2))
    assert json.loads(cli("trust", "list", "--json").stdout) == []


def test_documents_check_and_review_queue(cli: Run, db: Database) -> None:
    admin = users.system_principal(db)
    party = parties.create_party(db, admin, PartyCreate(name="Angela Sample"))
    case = new_case(db, admin, case_type="onboarding", customer_party_id=party.id,
                    custom_data={"customer_type": "person", "country_of_residence": "FR", "date_of_birth": "1990-02-03"})  # fmt: skip
    good = make_mrz_td3(surname="Sample", given_names="Angela", document_number="AB1234567", nationality="FRA",
                        birth_date=dt.date(1990, 2, 3), sex="F", expiry_date=dt.date(2031, 5, 1))  # fmt: skip
    bad = good.replace("SAMPLE", "SIMPLE")
    valid = documents.upload_document(db, admin, case.id, kind="identity_document", filename="p.pdf", stream=[text_pdf(*good.splitlines())])
    wrong = documents.upload_document(db, admin, case.id, kind="identity_document", filename="q.pdf", stream=[text_pdf(*bad.splitlines())])
    assert "no documents waiting" in cli("documents", "review-queue").stdout
    out = cli("documents", "check", case.reference, str(valid.id)).stdout
    assert "mrz_check_digits" in out and f"document {valid.id} is validated (authenticity score 100)" in out
    checked = json.loads(cli("documents", "check", case.reference, str(wrong.id), "--json").stdout)
    assert checked["status"] == "in_review"
    queue = json.loads(cli("documents", "review-queue", "--json").stdout)
    assert [(d["id"], d["case_reference"]) for d in queue] == [(str(wrong.id), case.reference)]
    table = cli("documents", "review-queue").stdout
    assert str(wrong.id)[:8] in table and case.reference in table  # cases by their reference
    assert "not a document id" in one_error_line(cli("documents", "check", case.reference, "nope", expect=2))
