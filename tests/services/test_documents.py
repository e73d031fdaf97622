"""Documents on a case: upload with rights and limits, visibility, download audit, checklist, requests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.domain.access import Principal, Role
from casework.domain.errors import DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from casework.services import cases, casetypes, documents, notifications, parties, sharing, workflow
from casework.services.documents import ChecklistState, DocumentVisibility
from casework.services.schemas import CaseView, PartyCreate
from casework.store.models import AuditEntry, Document
from casework.store.unit_of_work import Database
from tests.doc_samples import EXE, PDF, PNG, pdf
from tests.factories import new_case, principal


def upload(db: Database, who: Principal, case: CaseView | str, data: bytes = PDF, **kw: object) -> documents.DocumentView:
    key = case if isinstance(case, str) else str(case.id)
    args: dict[str, object] = {"kind": "customer_evidence", "filename": "evidence.pdf", "visibility": "internal"}
    args.update(kw)
    return documents.upload_document(db, who, key, stream=[data], **args)  # type: ignore[arg-type]


def blobs(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def people(db: Database, actor: Principal) -> dict[str, object]:
    party = parties.create_party(db, actor, PartyCreate(name="Carla Customer"))
    case = new_case(db, actor, team="complaints", customer_party_id=party.id)
    return {
        "case": case,
        "worker": principal(db, actor, "wes@example.org", teams=["complaints"]),
        "outsider": principal(db, actor, "otto@example.org", teams=["fraud"]),
        "customer": principal(db, actor, "carla@example.org", Role.CUSTOMER, party_id=party.id),
        "third": principal(db, actor, "tess@example.org", Role.THIRD_PARTY),
    }


def test_upload_stores_bytes_row_and_audit(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case)
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest() and doc.size == len(PDF)
    assert doc.mime == "application/pdf" and doc.status.value == "received" and doc.channel.value == "upload"
    assert (storage_dir / doc.sha256[:2] / doc.sha256[2:4] / doc.sha256).read_bytes() == PDF
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "document.upload")).one()
    assert entry.case_id == case.id and entry.data["document_id"] == str(doc.id) and entry.data["sha256"] == doc.sha256
    view, chunks = documents.download_document(db, actor, case.reference, doc.id)
    assert b"".join(chunks) == PDF and view.id == doc.id


def test_type_comes_from_the_bytes_not_the_name(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case, PNG, filename="statement.pdf", declared_mime="application/octet-stream")
    assert doc.mime == "image/png" and doc.pages is None
    assert {c["check"]: c["outcome"] for c in doc.checks} == {"file_type": "pass", "image_structure": "pass", "image_resolution": "pass"}
    letter = upload(db, actor, case, pdf(pages=2), filename="letter.pdf", declared_mime="application/pdf")
    assert letter.mime == "application/pdf" and letter.pages == 2


@pytest.mark.parametrize(
    ("data", "declared", "why"),
    [
        (EXE, None, "program"),
        (PNG, "application/pdf", "sent as application/pdf"),
        (pdf(javascript="app.alert('hi')"), "application/pdf", "active content"),
        (pdf(password="secret"), None, "encrypted"),
    ],
    ids=["executable", "declared-type-lies", "pdf-javascript", "pdf-encrypted"],
)
def test_dangerous_or_mislabelled_files_are_refused(
    db: Database, actor: Principal, storage_dir: Path, data: bytes, declared: str | None, why: str
) -> None:
    case = new_case(db, actor)
    with pytest.raises(InvalidInput) as err:
        upload(db, actor, case, data, declared_mime=declared)
    assert err.value.status == 422 and err.value.field == "file" and why in err.value.message
    assert blobs(storage_dir) == []
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0


def test_a_refused_file_keeps_bytes_another_document_uses(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    kept = upload(db, actor, case, PNG, filename="photo.png")
    other = new_case(db, actor)
    with pytest.raises(InvalidInput):
        upload(db, actor, other, PNG, declared_mime="application/pdf")
    assert [p.name for p in blobs(storage_dir)] == [kept.sha256]


def test_small_or_damaged_files_are_kept_with_their_failed_checks(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    tiny = upload(db, actor, case, b"\x89PNG\r\n\x1a\n" + PNG[8:200], filename="cut.png")
    assert any(c["check"] == "image_structure" and c["outcome"] == "fail" for c in tiny.checks)


def test_unknown_kind_and_unknown_case_are_refused_before_storing(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    with pytest.raises(InvalidInput) as err:
        upload(db, actor, case, kind="passport_selfie")
    assert err.value.field == "kind" and "customer_evidence" in err.value.message
    with pytest.raises(NotFound):
        upload(db, actor, "CASE-2026-999999")
    assert blobs(storage_dir) == []
    assert upload(db, actor, case, kind="other").kind == "other"


def test_empty_file_is_refused_and_leaves_nothing(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    with pytest.raises(InvalidInput) as err:
        upload(db, actor, case, b"")
    assert err.value.status == 422 and err.value.field == "file"
    assert blobs(storage_dir) == []


def test_oversized_file_is_413_and_leaves_nothing(
    db: Database, actor: Principal, storage_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWORK_MAX_UPLOAD_MB", "0.001")  # 1048 bytes
    case = new_case(db, actor)
    with pytest.raises(PayloadTooLarge) as err:
        upload(db, actor, case, b"x" * 2000)
    assert err.value.status == 413
    assert blobs(storage_dir) == []
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0


def test_failure_mid_stream_leaves_no_file_and_no_row(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)

    def broken() -> Iterator[bytes]:
        yield PDF
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        documents.upload_document(db, actor, case.id, kind="other", filename="a.pdf", stream=broken())
    assert blobs(storage_dir) == []
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0


def test_duplicate_on_the_same_case_is_409_naming_the_document(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    other = new_case(db, actor)
    first = upload(db, actor, case)
    with pytest.raises(DomainError) as err:
        upload(db, actor, case, filename="again.pdf")
    assert err.value.status == 409 and str(first.id) in err.value.message and err.value.extra["document_id"] == str(first.id)
    # The same bytes on another case are another document sharing one blob.
    again = upload(db, actor, other)
    assert again.sha256 == first.sha256 and len(blobs(storage_dir)) == 1


def test_path_traversal_filename_is_made_safe(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case, filename="../../etc/passwd\x00.pdf")
    assert "/" not in doc.original_name and "\\" not in doc.original_name and "\x00" not in doc.original_name
    assert not doc.original_name.startswith(".")
    doc2 = upload(db, actor, case, PNG, filename="..\\..\\windows\\system32\\evil.png")
    assert doc2.original_name == "evil.png"


def test_customer_sees_shared_documents_only(db: Database, actor: Principal, people: dict) -> None:  # type: ignore[type-arg]
    case, worker, customer = people["case"], people["worker"], people["customer"]
    internal = upload(db, worker, case, PDF)
    shared = upload(db, worker, case, PNG, filename="letter.png", visibility=DocumentVisibility.SHARED)
    mine = upload(db, customer, case, b"my proof of address", filename="proof.txt", visibility="internal")
    assert mine.visibility is DocumentVisibility.SHARED and mine.channel.value == "portal"  # the portal shares what it sends
    assert {d.id for d in documents.list_documents(db, customer, case.id)} == {shared.id, mine.id}
    assert {d.id for d in documents.list_documents(db, worker, case.id)} == {internal.id, shared.id, mine.id}
    with pytest.raises(NotFound):
        documents.get_document(db, customer, case.id, internal.id)
    with pytest.raises(NotFound):
        documents.download_document(db, customer, case.id, internal.id)
    assert documents.get_document(db, customer, case.id, shared.id).checks == []


def test_third_party_needs_a_documents_share(db: Database, actor: Principal, people: dict) -> None:  # type: ignore[type-arg]
    case, third = people["case"], people["third"]
    shared = upload(db, actor, case, PNG, filename="letter.png", visibility="shared")
    upload(db, actor, case, PDF)
    with pytest.raises(NotFound):
        documents.list_documents(db, third, case.id)  # not shared at all: the case does not exist for them
    sharing.share_case(db, actor, case.id, sharing.ShareCreate(user_id=third.user_id, parts=["tasks"]))
    with pytest.raises(Forbidden):
        documents.list_documents(db, third, case.id)
    sharing.share_case(db, actor, case.id, sharing.ShareCreate(user_id=third.user_id, parts=["documents"]))
    assert [d.id for d in documents.list_documents(db, third, case.id)] == [shared.id]
    with pytest.raises(Forbidden):
        upload(db, third, case, b"from the third party")


def test_outsider_gets_404(db: Database, actor: Principal, people: dict) -> None:  # type: ignore[type-arg]
    case, outsider = people["case"], people["outsider"]
    doc = upload(db, actor, case)
    for call in (
        lambda: documents.list_documents(db, outsider, case.id),
        lambda: documents.get_document(db, outsider, case.id, doc.id),
        lambda: documents.download_document(db, outsider, case.id, doc.id),
        lambda: documents.checklist(db, outsider, case.id),
        lambda: upload(db, outsider, case, PNG),
    ):
        with pytest.raises(NotFound):
            call()


def test_download_is_audited(db: Database, actor: Principal, people: dict) -> None:  # type: ignore[type-arg]
    case, customer = people["case"], people["customer"]
    doc = upload(db, actor, case, visibility="shared")
    _, chunks = documents.download_document(db, customer, case.id, doc.id)
    assert b"".join(chunks) == PDF
    with db.read() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "access.case.read", AuditEntry.actor_id == customer.user_id)).all()
    assert any(e.data.get("part") == "document" and e.data.get("document_id") == str(doc.id) and e.data.get("download") for e in reads)


def test_checklist_follows_the_case_type_and_requests(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, case_type="onboarding", custom_data={"customer_type": "organisation"})
    items = {i.kind: i for i in documents.checklist(db, actor, case.id)}
    # PEP evidence does not apply; bank details are optional (onboarding version 2).
    assert list(items) == ["identity_document", "proof_of_address", "bank_details", "company_registration"]
    assert [k for k, i in items.items() if not i.required] == ["bank_details"]
    assert all(i.state is ChecklistState.MISSING and not i.requested for i in items.values())
    req = documents.request_document(db, actor, case.id, "proof_of_address", "The bill sent is older than three months")
    assert req.fulfilled_at is None
    events = notifications.list_events(db, actor)
    assert events[-1].topic == "document.requested" and events[-1].payload["kind"] == "proof_of_address"
    assert documents.checklist(db, actor, case.id)[1].requested
    doc = upload(db, actor, case.reference, kind="proof_of_address", filename="bill.pdf")
    items = {i.kind: i for i in documents.checklist(db, actor, case.id)}
    assert items["proof_of_address"].state is ChecklistState.RECEIVED and items["proof_of_address"].documents == [doc.id]
    assert not items["proof_of_address"].requested  # the upload fulfilled the request
    with pytest.raises(InvalidInput):
        documents.request_document(db, actor, case.id, "selfie", "why not")
    with pytest.raises(InvalidInput):
        documents.request_document(db, actor, case.id, "identity_document", "   ")


def test_missing_documents_come_from_validated_documents(db: Database, actor: Principal) -> None:
    case = new_case(db, actor, case_type="onboarding")
    assert workflow.readiness(db, actor, case.id).required_documents == ["identity_document", "proof_of_address"]
    doc = upload(db, actor, case, kind="identity_document", filename="passport.pdf")
    assert workflow.readiness(db, actor, case.id).required_documents == ["identity_document", "proof_of_address"]
    documents.review_document(db, actor, case.id, doc.id, "validate")
    assert workflow.readiness(db, actor, case.id).required_documents == ["proof_of_address"]


FOUR_EYES = (
    casetypes.shipped_sources()["complaint.yaml"]
    .replace("\nversion: 1\n", "\nversion: 2\n", 1)
    .replace(
        "{kind: final_response_letter, title: Final response letter}",
        "{kind: final_response_letter, title: Final response letter, four_eyes: true}",
    )
)


def test_review_validates_or_rejects_with_a_reason(db: Database, actor: Principal, people: dict) -> None:  # type: ignore[type-arg]
    case, worker, customer = people["case"], people["worker"], people["customer"]
    doc = upload(db, actor, case, visibility="shared")
    with pytest.raises(InvalidInput) as err:
        documents.review_document(db, worker, case.id, doc.id, "reject", "  ")
    assert err.value.field == "reason"
    with pytest.raises(Forbidden):
        documents.review_document(db, customer, case.id, doc.id, "validate")
    with pytest.raises(DomainError) as stale:
        documents.review_document(db, worker, case.id, doc.id, "validate", version=doc.version + 1)
    assert stale.value.status == 409
    done = documents.review_document(db, worker, case.id, doc.id, "validate", version=doc.version)
    assert done.status.value == "validated" and done.reviewed_by == worker.user_id and done.version == doc.version + 1
    with pytest.raises(DomainError) as again:
        documents.review_document(db, actor, case.id, doc.id, "reject", "changed my mind")
    assert again.value.status == 409
    other = upload(db, actor, case, PNG, filename="blurry.png", visibility="shared")
    rejected = documents.review_document(db, worker, case.id, other.id, "reject", "Too blurry to read")
    assert rejected.status.value == "rejected" and rejected.status_reason == "Too blurry to read"
    seen = documents.get_document(db, customer, case.id, other.id)
    assert seen.status_reason == "Too blurry to read" and seen.reviewed_by is None  # the customer learns why, not who
    assert [e.topic for e in notifications.list_events(db, actor)][-2:] == ["document.validated", "document.rejected"]
    with db.read() as s:
        actions = [e.data["decision"] for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "document.review"))]
    assert actions == ["validate", "reject"]


def test_four_eyes_needs_two_different_reviewers(db: Database, actor: Principal) -> None:
    casetypes.install_source(db, actor, FOUR_EYES, "complaint.yaml")
    case = new_case(db, actor, team="complaints")
    first = principal(db, actor, "first@example.org", teams=["complaints"])
    second = principal(db, actor, "second@example.org", teams=["complaints"])
    letter = upload(db, actor, case, kind="final_response_letter", filename="letter.pdf")
    view = documents.review_document(db, first, case.id, letter.id, "validate")
    assert view.status.value == "in_review" and view.reviewed_by == first.user_id
    assert documents.checklist(db, actor, case.id)[1].state is ChecklistState.IN_REVIEW
    with pytest.raises(DomainError) as same:
        documents.review_document(db, first, case.id, letter.id, "validate")
    assert same.value.status == 409 and "second, different reviewer" in same.value.message
    view = documents.review_document(db, second, case.id, letter.id, "validate")
    assert view.status.value == "validated" and view.second_reviewed_by == second.user_id
    # A kind without four-eyes is validated by one person.
    evidence = upload(db, actor, case, PNG, filename="receipt.png")
    assert documents.review_document(db, first, case.id, evidence.id, "validate").status.value == "validated"
    # A second reviewer may reject what the first validated.
    other = upload(db, actor, case, b"another letter", kind="final_response_letter", filename="letter2.txt")
    documents.review_document(db, first, case.id, other.id, "validate")
    view = documents.review_document(db, second, case.id, other.id, "reject", "Wrong addressee")
    assert view.status.value == "rejected" and view.second_reviewed_by == second.user_id


def test_verify_blobs_reports_missing_and_altered(db: Database, actor: Principal, storage_dir: Path) -> None:
    case = new_case(db, actor)
    a = upload(db, actor, case, PDF)
    b = upload(db, actor, case, PNG, filename="b.png")
    assert documents.verify_blobs(db, actor).ok
    store = documents.blob_store(db)
    path = store.path(a.sha256)
    path.write_bytes(b"%PDF-1.5" + path.read_bytes()[8:])
    store.delete(b.sha256)
    seen: list[tuple[int, int]] = []
    report = documents.verify_blobs(db, actor, progress=lambda done, total: seen.append((done, total)))
    assert not report.ok and report.checked == 2 and seen[-1] == (2, 2)
    assert {(p.sha256, p.problem) for p in report.problems} == {(a.sha256, "corrupt"), (b.sha256, "missing")}
    worker = principal(db, actor, "w@example.org")
    with pytest.raises(Forbidden):
        documents.verify_blobs(db, worker)


def test_case_keys_accept_references(db: Database, actor: Principal) -> None:
    case = new_case(db, actor)
    doc = upload(db, actor, case.reference)
    assert [d.id for d in documents.list_documents(db, actor, cases.get_case(db, actor, case.id).reference)] == [doc.id]
