"""The documents commands, run in-process with Typer's CliRunner (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from pathlib import Path

from casework.services import documents, users
from casework.store.unit_of_work import Database
from tests.cli_support import Run
from tests.factories import new_case


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_upload_list_checklist_request(cli: Run, db: Database, tmp_path: Path) -> None:
    case = new_case(db, users.system_principal(db), case_type="onboarding")
    passport = _file(tmp_path, "passport scan.pdf", b"%PDF-1.4\n%%EOF\n")
    out = cli("documents", "upload", case.reference, str(passport), "--kind", "identity_document", "--visibility", "shared")
    assert "added: passport scan.pdf (application/pdf" in out.stdout
    listed = cli("documents", "list", case.reference).stdout
    assert "identity_document" in listed and "passport scan.pdf" in listed and "shared" in listed
    data = json.loads(cli("documents", "list", case.reference, "--json").stdout)
    assert [d["kind"] for d in data] == ["identity_document"]
    cli("documents", "request", case.reference, "--kind", "proof_of_address", "--reason", "Recent utility bill please")
    checklist = cli("documents", "checklist", case.reference).stdout
    assert "identity_document" in checklist and "received" in checklist and "missing" in checklist
    rows = json.loads(cli("documents", "checklist", case.reference, "--json").stdout)
    assert {r["kind"]: (r["state"], r["requested"]) for r in rows} == {
        "identity_document": ("received", False),
        "proof_of_address": ("missing", True),
        "bank_details": ("missing", False),  # onboarding version 2, optional
    }


def test_user_errors_are_one_line(cli: Run, db: Database, tmp_path: Path) -> None:
    case = new_case(db, users.system_principal(db))
    for args, needle in (
        (["documents", "upload", case.reference, str(tmp_path / "nope.pdf"), "--kind", "other"], "no such file"),
        (["documents", "upload", case.reference, str(_file(tmp_path, "e.txt", b"")), "--kind", "other"], "empty"),
        (["documents", "upload", case.reference, str(_file(tmp_path, "a.txt", b"a")), "--kind", "selfie"], "kind"),
        (["documents", "list", "CASE-2026-999999"], "not found"),
    ):
        result = cli(*args, expect=2)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr


def test_verify_passes_then_names_a_damaged_file(cli: Run, db: Database, tmp_path: Path) -> None:
    admin = users.system_principal(db)
    case = new_case(db, admin)
    cli("documents", "upload", case.reference, str(_file(tmp_path, "a.txt", b"first file")), "--kind", "other")
    cli("documents", "upload", case.reference, str(_file(tmp_path, "b.txt", b"second file")), "--kind", "other")
    assert "all 2 stored files match" in cli("documents", "verify").stdout
    doc = documents.list_documents(db, admin, case.id)[0]
    path = documents.blob_store(db).path(doc.sha256)
    path.write_bytes(b"First file")
    result = cli("documents", "verify", expect=1)
    assert f"corrupt: {doc.sha256}" in result.stderr and "1 of 2 stored files" in result.stderr
    report = json.loads(cli("documents", "verify", "--json", expect=1).stdout)
    assert report["ok"] is False and report["problems"][0]["documents"] == [str(doc.id)]


def test_review(cli: Run, db: Database, tmp_path: Path) -> None:
    admin = users.system_principal(db)
    case = new_case(db, admin)
    cli("documents", "upload", case.reference, str(_file(tmp_path, "a.txt", b"the letter")), "--kind", "final_response_letter")
    doc = documents.list_documents(db, admin, case.id)[0]
    result = cli("documents", "review", case.reference, str(doc.id), "--decision", "reject", expect=2)
    assert result.stderr.strip() == "error: reason: a rejection needs a reason"
    out = cli("documents", "review", case.reference, str(doc.id), "--decision", "reject", "--reason", "Unsigned").stdout
    assert out.strip() == f"document {doc.id} is now rejected"
    assert "already rejected" in cli("documents", "review", case.reference, str(doc.id), "--decision", "validate", expect=2).stderr
    assert "not a document id" in cli("documents", "review", case.reference, "nope", "--decision", "validate", expect=2).stderr
