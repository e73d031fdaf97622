"""The record-keeping commands (archive, retention apply, cases hold), run in-process with Typer's
CliRunner on SQLite and, when CASEWORK_TEST_POSTGRES_URL is set, on PostgreSQL too."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import bagit
import pytest
from PIL import Image

from casework.domain.access import Principal
from casework.domain.lifecycle import Phase
from casework.services import cases, documents
from casework.services.schemas import CaseView
from casework.store.models import Document
from casework.store.unit_of_work import Database
from tests.cli_support import Run, one_error_line
from tests.factories import make_account, move, new_case


def _pdf() -> bytes:
    """A small, well-formed one-page PDF (the upload's file checks read it)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 255, 255)).save(out, format="PDF")
    return out.getvalue()


PDF = _pdf()
TOMORROW = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()


def closed_case_with_document(db: Database, actor: Principal) -> tuple[CaseView, documents.DocumentView]:
    case = new_case(db, actor, team="complaints")
    doc = documents.upload_document(
        db, actor, str(case.id), kind="customer_evidence", filename="evidence.pdf", stream=[PDF], declared_mime="application/pdf"
    )
    case = move(db, actor, cases.get_case(db, actor, case.id), Phase.CLOSED, outcome="withdrawn")
    return case, doc


def test_hold_and_release(cli: Run, db: Database, actor: Principal) -> None:
    case, doc = closed_case_with_document(db, actor)
    out = cli("cases", "hold", case.reference, "--reason", "litigation").stdout
    assert f"legal hold placed on {case.reference} (1 document(s))" in out
    with db.read() as s:
        row = s.get(Document, doc.id)
        assert row is not None and row.legal_hold
    released = json.loads(cli("cases", "hold", case.reference, "--reason", "settled", "--release", "--json").stdout)
    assert released["legal_hold"] is False and released["reference"] == case.reference


def test_hold_errors_are_one_line(cli: Run, db: Database, actor: Principal) -> None:
    case, _ = closed_case_with_document(db, actor)
    assert "reason" in one_error_line(cli("cases", "hold", case.reference, "--reason", "  ", expect=2))
    assert "--reason" in one_error_line(cli("cases", "hold", case.reference, expect=2))
    assert "not found" in one_error_line(cli("cases", "hold", "CASE-2026-999999", "--reason", "x", expect=2))
    make_account(db, actor, "wes@example.org", teams=["complaints"])
    line = one_error_line(cli("--as", "wes@example.org", "cases", "hold", case.reference, "--reason", "x", expect=2))
    assert "may not" in line


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "01/02/2026"])
def test_bad_dates_exit_2(cli: Run, tmp_path: Path, bad: str) -> None:
    assert "today: not a date" in one_error_line(cli("retention", "apply", "--today", bad, expect=2))
    line = one_error_line(cli("archive", "--closed-before", bad, "--out", str(tmp_path / "bags"), expect=2))
    assert "closed-before: not a date" in line
    assert not (tmp_path / "bags").exists()


def test_retention_apply_is_a_dry_run_until_execute(cli: Run, db: Database, actor: Principal) -> None:
    case, doc = closed_case_with_document(db, actor)
    assert case.closed_at is not None
    day = (case.closed_at.date() + dt.timedelta(days=3651)).isoformat()
    out = cli("retention", "apply", "--today", day).stdout
    assert str(doc.id) in out and case.reference in out and "dry run" in out and "1 document(s) due" in out
    assert documents.blob_store(db).exists(doc.sha256)
    report = json.loads(cli("retention", "apply", "--today", day, "--execute", "--json").stdout)
    assert report["dry_run"] is False and report["purged"] == [str(doc.id)] and report["blobs_deleted"] == 1
    assert not documents.blob_store(db).exists(doc.sha256)
    assert "purged 0 document(s)" in cli("retention", "apply", "--today", day, "--execute").stdout
    assert "0 document(s) due" in cli("retention", "apply").stdout  # today: nothing is ten years old


def test_archive_writes_bags(cli: Run, db: Database, actor: Principal, tmp_path: Path) -> None:
    case, _doc = closed_case_with_document(db, actor)
    out = tmp_path / "bags"
    preview = json.loads(cli("archive", "--closed-before", TOMORROW, "--out", str(out), "--dry-run", "--json").stdout)
    assert [c["reference"] for c in preview["archived"]] == [case.reference] and not out.exists()
    text = cli("archive", "--closed-before", TOMORROW, "--out", str(out)).stdout
    assert f"archived 1 case(s) closed before {TOMORROW}" in text and case.reference in text
    bagit.Bag(str(out / case.reference)).validate()
    assert "archived 0 case(s)" in cli("archive", "--closed-before", TOMORROW, "--out", str(out)).stdout


def test_archive_problems_exit_1(cli: Run, db: Database, actor: Principal, tmp_path: Path) -> None:
    case, doc = closed_case_with_document(db, actor)
    documents.blob_store(db).delete(doc.sha256)
    result = cli("archive", "--closed-before", TOMORROW, "--out", str(tmp_path / "bags"), expect=1)
    assert f"error: {case.reference}:" in result.stderr and "Traceback" not in result.output


def test_archive_out_must_be_a_directory(cli: Run, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert one_error_line(cli("archive", "--closed-before", TOMORROW, "--out", str(target), expect=2))
