"""Legal hold, archiving closed cases as BagIt bags, and the retention purge (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import bagit
import pytest
from PIL import Image
from sqlalchemy import select

from casework.audit.chain import compute_hash
from casework.domain.access import Principal, Role
from casework.domain.errors import DomainError, Forbidden, Gone, InvalidInput
from casework.domain.lifecycle import Phase
from casework.services import cases, documents, notes, retention
from casework.services.schemas import CaseView, NoteCreate
from casework.store.models import AuditEntry, Document
from casework.store.unit_of_work import Database
from tests.factories import move, new_case, principal


def _pdf() -> bytes:
    """A small, well-formed one-page PDF (the upload's file checks read it)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 255, 255)).save(out, format="PDF")
    return out.getvalue()


PDF = _pdf()


def png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), colour).save(out, format="PNG")
    return out.getvalue()


def upload(
    db: Database, who: Principal, case: CaseView, data: bytes, *, kind: str = "customer_evidence", name: str = "evidence.pdf"
) -> documents.DocumentView:
    mime = "image/png" if data.startswith(b"\x89PNG") else "application/pdf"
    return documents.upload_document(db, who, str(case.id), kind=kind, filename=name, stream=[data], declared_mime=mime)


def close(db: Database, who: Principal, case: CaseView) -> CaseView:
    """Close from screening (withdrawn); a case the screening table moved on is sent back first."""
    case = cases.get_case(db, who, case.id)
    if case.phase is not Phase.SCREENING:
        case = move(db, who, case, Phase.SCREENING, reason="customer withdrew")
    return move(db, who, case, Phase.CLOSED, outcome="withdrawn")


def doc_row(db: Database, doc_id: object) -> Document:
    with db.read() as s:
        row = s.get(Document, doc_id)
        assert row is not None
        return row


def entries(db: Database, action: str) -> list[AuditEntry]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def last_seq(db: Database) -> int:
    with db.read() as s:
        return int(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)).one())


TOMORROW = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


# ---------------------------------------------------------------- legal hold


def test_legal_hold_is_placed_and_released_with_a_reason(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, team="complaints")
    a = upload(db, actor, case, PDF)
    b = upload(db, actor, case, png(), name="photo.png")
    held = retention.set_legal_hold(db, actor, case.reference, True, "litigation 2026/17")
    assert held.legal_hold and held.documents == 2 and held.reference == case.reference
    assert doc_row(db, a.id).legal_hold and doc_row(db, b.id).legal_hold
    released = retention.set_legal_hold(db, actor, case.id, False, "settled")
    assert not released.legal_hold and not doc_row(db, a.id).legal_hold
    found = entries(db, "case.legal_hold")
    assert [(e.data["on"], e.data["reason"]) for e in found] == [(True, "litigation 2026/17"), (False, "settled")]
    assert all(e.case_id == case.id for e in found)
    with pytest.raises(InvalidInput) as err:
        retention.set_legal_hold(db, actor, case.id, True, "   ")
    assert err.value.field == "reason"


def test_who_may_hold_archive_and_purge(db: Database, actor: Principal, tmp_path: Path) -> None:
    case = new_case(db, actor, team="complaints")
    worker = principal(db, actor, "wes@example.org", teams=["complaints"])
    boss = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["complaints"])
    with pytest.raises(Forbidden):
        retention.set_legal_hold(db, worker, case.id, True, "because")
    assert retention.set_legal_hold(db, boss, case.id, True, "because").legal_hold
    for who in (worker, boss):
        with pytest.raises(Forbidden):
            retention.apply_retention(db, who, today=TOMORROW)
        with pytest.raises(Forbidden):
            retention.archive_cases(db, who, closed_before=TOMORROW, out_dir=tmp_path)


# ---------------------------------------------------------------- archiving


def _verify_extract(trail: dict[str, object]) -> int:
    """Recompute every entry's hash from its fields, as `casework audit verify` does for the whole chain."""
    items = trail["entries"]
    assert isinstance(items, list)
    for e in items:
        at = dt.datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        digest = compute_hash(seq=e["seq"], at=at, actor_id=e["actor_id"], case_id=e["case_id"], action=e["action"],
                              data=e["data"], prev_hash=e["prev_hash"])  # fmt: skip
        assert digest == e["hash"], f"entry {e['seq']} does not verify"
    return len(items)


def test_archive_writes_a_valid_bag_and_marks_the_documents(db: Database, actor: Principal, tmp_path: Path) -> None:
    case = new_case(db, actor, team="complaints")
    a = upload(db, actor, case, PDF, name="letter of complaint.pdf")
    b = upload(db, actor, case, png(), kind="other", name="../../photo.png")
    notes.add_note(db, actor, case.id, NoteCreate(body="Customer withdrew by phone"))
    case = close(db, actor, case)
    still_open = new_case(db, actor, team="complaints")
    upload(db, actor, still_open, png((0, 0, 255)))
    out = tmp_path / "bags"

    preview = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=out, dry_run=True)
    assert [c.reference for c in preview.archived] == [case.reference] and preview.archived[0].documents == 2
    assert not out.exists() and doc_row(db, a.id).status == "received"

    report = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=out)
    assert report.ok and [c.reference for c in report.archived] == [case.reference]
    bag_dir = out / case.reference
    assert report.archived[0].path == str(bag_dir.resolve())
    assert sorted(p.name for p in out.iterdir()) == [case.reference]  # no temporary directory left
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.algorithms == ["sha256"]
    assert bag.info["Source-Organization"] == "casework" and bag.info["External-Identifier"] == case.reference
    assert dt.date.fromisoformat(str(bag.info["Bagging-Date"]))
    store = documents.blob_store(db)
    manifest = {path: digests["sha256"] for path, digests in bag.entries.items() if path.startswith("data/")}
    for doc in (a, b):
        (path,) = [p for p in manifest if p.startswith(f"data/documents/{doc.id}-")]
        assert "/" not in path.removeprefix("data/documents/")
        assert manifest[path] == doc.sha256 and store.verify(doc.sha256)
        assert hashlib.sha256((bag_dir / path).read_bytes()).hexdigest() == doc.sha256
    record = json.loads((bag_dir / "data" / "case.json").read_text(encoding="utf-8"))
    assert record["case"]["reference"] == case.reference and record["case"]["outcome"] == "withdrawn"
    assert [n["body"] for n in record["notes"]] == ["Customer withdrew by phone"]
    assert [p["to"] for p in record["phases"]][-1] == "closed"
    assert {d["id"] for d in record["documents"]} == {str(a.id), str(b.id)}
    trail = json.loads((bag_dir / "data" / "audit.json").read_text(encoding="utf-8"))
    assert _verify_extract(trail) >= 4  # creation, two uploads, a note, the closure...
    assert {"document.upload", "case.transition"} <= {e["action"] for e in trail["entries"]}
    assert all(e["case_id"] == str(case.id) for e in trail["entries"])

    assert doc_row(db, a.id).status == "archived" and doc_row(db, b.id).status == "archived"
    assert doc_row(db, a.id).deleted_at is None and store.exists(a.sha256)  # archived, not deleted
    (entry,) = entries(db, "case.archive")
    assert entry.case_id == case.id and entry.data["payload_oxum"] == bag.info["Payload-Oxum"]
    assert entry.data["manifest_sha256"] == hashlib.sha256((bag_dir / "manifest-sha256.txt").read_bytes()).hexdigest()

    again = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=out)
    assert again.archived == [] and again.ok and len(entries(db, "case.archive")) == 1


def test_archive_only_cases_closed_before_the_day(db: Database, actor: Principal, tmp_path: Path) -> None:
    case = close(db, actor, new_case(db, actor))
    today = dt.datetime.now(dt.UTC).date()
    assert retention.archive_cases(db, actor, closed_before=today - dt.timedelta(days=1), out_dir=tmp_path / "bags").archived == []
    report = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=tmp_path / "bags")
    assert [c.reference for c in report.archived] == [case.reference] and report.archived[0].documents == 0
    bagit.Bag(str(tmp_path / "bags" / case.reference)).validate()


def test_archive_refuses_a_case_whose_file_is_missing(db: Database, actor: Principal, tmp_path: Path) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case, PDF)
    close(db, actor, case)
    documents.blob_store(db).delete(doc.sha256)
    out = tmp_path / "bags"
    report = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=out)
    assert report.archived == [] and [p.reference for p in report.problems] == [case.reference]
    assert list(out.iterdir()) == []  # nothing half-written
    assert doc_row(db, doc.id).status == "received" and entries(db, "case.archive") == []


def test_archive_does_not_overwrite_an_existing_bag(db: Database, actor: Principal, tmp_path: Path) -> None:
    case = close(db, actor, new_case(db, actor))
    out = tmp_path / "bags"
    (out / case.reference).mkdir(parents=True)
    (out / case.reference / "keep.txt").write_text("mine")
    report = retention.archive_cases(db, actor, closed_before=TOMORROW, out_dir=out)
    assert report.archived == [] and "already exists" in report.problems[0].problem
    assert (out / case.reference / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == [case.reference]


# ---------------------------------------------------------------- retention


def test_retention_dry_run_reports_and_changes_nothing(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case, PDF)
    open_case = new_case(db, actor)
    upload(db, actor, open_case, png())
    case = close(db, actor, case)
    assert case.closed_at is not None
    closed_day = case.closed_at.date()
    head_before = last_seq(db)

    # The last day of the period (default ten years): not yet due.
    kept = retention.apply_retention(db, actor, today=closed_day + dt.timedelta(days=3650))
    assert kept.due == [] and kept.skipped_open_case == 1

    report = retention.apply_retention(db, actor, today=closed_day + dt.timedelta(days=3651))
    assert report.dry_run and report.purged == []
    (item,) = report.due
    assert item.document_id == doc.id and item.case_reference == case.reference and item.kind == "customer_evidence"
    assert item.retention_days == 3650 and item.expires_on == closed_day + dt.timedelta(days=3650)
    assert "document_retention_days" in item.reason
    assert doc_row(db, doc.id).deleted_at is None and documents.blob_store(db).exists(doc.sha256)
    assert last_seq(db) == head_before  # not even an audit entry


def test_retention_execute_purges_content_keeps_tombstone_and_spares_held_and_shared(db: Database, actor: Principal) -> None:
    store = documents.blob_store(db)
    shared_bytes = png((10, 200, 10))
    old = new_case(db, actor)
    purged_doc = upload(db, actor, old, PDF)
    shared_doc = upload(db, actor, old, shared_bytes, kind="other", name="shared.png")
    live = new_case(db, actor)  # open: its copy of the same bytes keeps the blob
    live_copy = upload(db, actor, live, shared_bytes, kind="other", name="copy.png")
    held_case = new_case(db, actor)
    held_doc = upload(db, actor, held_case, png((1, 2, 3)))
    old = close(db, actor, old)
    held_case = close(db, actor, held_case)
    retention.set_legal_hold(db, actor, held_case.reference, True, "regulator inquiry")
    late_upload = upload(db, actor, held_case, png((4, 5, 6)), kind="other", name="late.png")  # after the hold: held too
    assert old.closed_at is not None
    today = old.closed_at.date() + dt.timedelta(days=4000)

    report = retention.apply_retention(db, actor, today=today, dry_run=False)
    assert not report.dry_run
    assert set(report.purged) == {purged_doc.id, shared_doc.id}
    assert {i.document_id for i in report.skipped_legal_hold} == {held_doc.id, late_upload.id}
    assert report.skipped_open_case == 1 and report.blobs_deleted == 1 and report.blobs_shared == 1

    row = doc_row(db, purged_doc.id)
    assert row.deleted_at is not None and row.sha256 == purged_doc.sha256 and row.original_name == "evidence.pdf"
    # The check results lose what the document said (messages and details) but keep how they came out.
    assert row.checks and all(set(c) == {"check", "outcome", "purged"} for c in row.checks), row.checks
    assert {c["check"] for c in row.checks} >= {"file_type", "pdf_structure"}
    assert "details" not in str(row.checks) and "message" not in str(row.checks)
    assert not store.exists(purged_doc.sha256)
    assert store.exists(shared_doc.sha256) and doc_row(db, live_copy.id).deleted_at is None
    assert doc_row(db, held_doc.id).deleted_at is None and store.exists(held_doc.sha256)
    purges = entries(db, "document.purge")
    assert {e.data["document_id"] for e in purges} == {str(purged_doc.id), str(shared_doc.id)}
    first = next(e for e in purges if e.data["document_id"] == str(purged_doc.id))
    assert first.case_id == old.id and first.data["kind"] == "customer_evidence" and first.data["sha256"] == purged_doc.sha256
    assert first.data["retention_days"] == 3650 and "document_retention_days" in first.data["rule"]

    # Purged documents are gone from the case (the download refuses), and a second run finds nothing new.
    assert [d.id for d in documents.list_documents(db, actor, old.id)] == []
    with pytest.raises(Gone) as gone:
        documents.download_document(db, actor, old.id, purged_doc.id)
    assert gone.value.status == 410
    again = retention.apply_retention(db, actor, today=today, dry_run=False)
    assert again.purged == [] and again.due == []

    # The tombstone does not stop the same file from being sent again once the case is reopened.
    reopened = move(db, actor, cases.get_case(db, actor, old.id), Phase.SCREENING, reason="customer came back")
    resent = upload(db, actor, reopened, PDF)
    assert resent.id != purged_doc.id and resent.sha256 == purged_doc.sha256 and store.exists(resent.sha256)
    with pytest.raises(DomainError, match="already on the case"):
        upload(db, actor, reopened, PDF)

    # Once the hold is released, the held documents go too.
    retention.set_legal_hold(db, actor, held_case.reference, False, "inquiry closed")
    released = retention.apply_retention(db, actor, today=today, dry_run=False)
    assert set(released.purged) == {held_doc.id, late_upload.id}


def test_retention_follows_the_kind_rule_of_the_case_type(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, case_type="onboarding", title="New account")
    passport = upload(db, actor, case, PDF, kind="identity_document", name="passport.pdf")
    other = upload(db, actor, case, png(), kind="other", name="misc.png")
    case = close(db, actor, case)
    assert case.closed_at is not None
    today = case.closed_at.date() + dt.timedelta(days=1826)  # five years (AML) and a day
    report = retention.apply_retention(db, actor, today=today)
    assert [i.document_id for i in report.due] == [passport.id]
    assert report.due[0].retention_days == 1825 and "identity_document.retention_days" in report.due[0].reason
    assert other.id not in {i.document_id for i in report.due}


def test_a_reopened_case_is_never_due(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    upload(db, actor, case, PDF)
    case = close(db, actor, case)
    assert case.closed_at is not None
    today = case.closed_at.date() + dt.timedelta(days=5000)
    move(db, actor, case, Phase.SCREENING, reason="new facts")
    report = retention.apply_retention(db, actor, today=today, dry_run=False)
    assert report.due == [] and report.purged == [] and report.skipped_open_case == 1
