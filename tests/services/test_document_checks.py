"""The automated document checks after upload: MRZ, IBAN, 2D-Doc, auto-validation, review, the job, reruns."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from casework.casetypes.loader import load_case_type_text
from casework.documents.checks.mrz import make_mrz_td1, make_mrz_td3
from casework.documents.checks.twoddoc import render_datamatrix
from casework.domain.access import Principal, Role
from casework.domain.errors import CriteriaNotMet, DomainError, Forbidden
from casework.domain.lifecycle import Phase
from casework.jobs import tasks
from casework.services import answers, casetypes, documents, notifications, parties, trust
from casework.services.document_checks import STAGE, review_queue, run_document_checks
from casework.services.documents import DocumentView
from casework.services.schemas import CaseView, PartyCreate
from casework.services.workflow_schemas import AnswersSubmit
from casework.store.models import AuditEntry, OutboxEvent
from casework.store.unit_of_work import Database
from tests.documents.images import encode, render_id_card
from tests.documents.pdfs import image_pdf, text_pdf
from tests.documents.twoddoc_factory import TODAY, Authority, Signer
from tests.factories import move, new_case, principal

BORN = dt.date(1990, 2, 3)
PERSON = {"customer_type": "person", "country_of_residence": "FR", "nationality": "FR", "date_of_birth": BORN.isoformat()}
ADDRESS = "7 place des Specimens, Bat 2 Etg 3, 57000 Metz"
VALID_IBAN = "BE68 5390 0754 7034"


def passport(*, birth: dt.date = BORN, expiry: dt.date = dt.date(2031, 5, 1), surname: str = "Sample") -> str:
    return make_mrz_td3(surname=surname, given_names="Angela", document_number="AB1234567", nationality="FRA",
                        birth_date=birth, sex="F", expiry_date=expiry)  # fmt: skip


def passport_pdf(**kw: Any) -> bytes:
    return text_pdf("REPUBLIQUE FRANCAISE", "PASSEPORT / PASSPORT", "Nom: SAMPLE  Prenoms: ANGELA", *passport(**kw).splitlines())


@pytest.fixture
def kyc(db: Database, actor: Principal) -> dict[str, Any]:
    """An onboarding case (version 2) for Angela Sample, assigned to a case worker of the onboarding team."""
    worker = principal(db, actor, "olivia@example.org", teams=["onboarding"])
    sue = principal(db, actor, "sue@example.org", role=Role.SUPERVISOR, teams=["onboarding"])
    party = parties.create_party(db, actor, PartyCreate(name="Angela Sample", address=ADDRESS))
    case = new_case(db, actor, case_type="onboarding", team="onboarding", assignee_id=worker.user_id, customer_party_id=party.id,
                    custom_data=PERSON)  # fmt: skip
    return {"case": case, "worker": worker, "supervisor": sue, "party": party}


def on_page(png: bytes) -> bytes:
    """The image on a white page as a PNG, like a scan (small images fail the file checks)."""
    page = Image.new("RGB", (1240, 1000), "white")
    page.paste(Image.open(io.BytesIO(png)), (100, 100))
    return encode(page)


def upload(db: Database, who: Principal, case: CaseView, data: bytes, kind: str, name: str = "scan.pdf") -> DocumentView:
    return documents.upload_document(db, who, case.id, kind=kind, filename=name, stream=[data])


def automatic(view: DocumentView) -> dict[str, str]:
    return {c["check"]: c["outcome"] for c in view.checks if c.get("stage") == STAGE}


def inbox(db: Database, who: Principal) -> list[str]:
    return [n.kind for n in notifications.list_notifications(db, who) if n.kind.startswith("document.")]


def events(db: Database, topic: str) -> list[OutboxEvent]:
    with db.read() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic)))


def audit_actions(db: Database, case_id: uuid.UUID) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)))


# ---------------------------------------------------------------- MRZ


def test_onboarding_is_version_2_with_checks() -> None:
    defn = load_case_type_text(casetypes.shipped_sources()["onboarding.yaml"], filename="onboarding.yaml")
    kinds = {d.kind: d for d in defn.documents}
    assert defn.version == 2
    assert (kinds["identity_document"].checks, kinds["identity_document"].auto_validate) == (["mrz"], True)
    assert (kinds["proof_of_address"].checks, kinds["proof_of_address"].auto_validate) == (["twoddoc"], False)
    assert (kinds["bank_details"].checks, kinds["bank_details"].required, kinds["bank_details"].auto_validate) == (["iban"], False, True)


def test_upload_without_a_queue_leaves_the_checks_pending(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    doc = upload(db, actor, kyc["case"], passport_pdf(), "identity_document")
    assert doc.status.value == "received" and doc.checks_pending and automatic(doc) == {}
    other = upload(db, actor, kyc["case"], text_pdf("A letter"), "other")
    assert not other.checks_pending  # kinds without checks have nothing pending


def test_passport_pdf_text_layer_is_auto_validated(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    case = kyc["case"]
    doc = upload(db, actor, case, passport_pdf(), "identity_document")
    done = run_document_checks(db, None, case.reference, doc.id)
    assert automatic(done) == {"mrz_check_digits": "pass", "document_expiry": "pass", "identity_match": "pass"}
    assert done.status.value == "validated" and done.authenticity_score == 100 and not done.checks_pending
    assert done.reviewed_by is not None  # the system account
    assert any(c.get("stage") != STAGE for c in done.checks)  # the upload's sanity results are kept
    assert [c["details"]["source"] for c in done.checks if c.get("stage") == STAGE] == ["text"] * 3
    actions = audit_actions(db, case.id)
    assert "document.checks" in actions and "document.auto_validate" in actions
    assert [e.payload["document_id"] for e in events(db, "document.validated")] == [str(doc.id)]
    assert inbox(db, kyc["worker"]) == []  # nothing for a person to do
    assert review_queue(db, kyc["worker"]) == []


def test_wrong_birth_date_goes_to_review_and_notifies_the_assignee(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    case = kyc["case"]
    doc = upload(db, actor, case, passport_pdf(birth=dt.date(1991, 2, 3)), "identity_document")
    done = run_document_checks(db, None, case.id, doc.id)
    assert automatic(done)["identity_match"] == "fail" and automatic(done)["mrz_check_digits"] == "pass"
    assert done.status.value == "in_review" and done.authenticity_score == 60 and done.reviewed_by is None
    assert inbox(db, kyc["worker"]) == ["document.review_needed"]
    assert inbox(db, kyc["supervisor"]) == []
    (event,) = events(db, "document.review_needed")
    assert event.payload["document_id"] == str(doc.id) and "1991-02-03" in event.payload["reasons"][0]
    assert [d.id for d in review_queue(db, kyc["worker"])] == [doc.id]
    # A person decides as before: validate (or reject with a reason).
    reviewed = documents.review_document(db, kyc["worker"], case.id, doc.id, "validate")
    assert reviewed.status.value == "validated" and reviewed.reviewed_by == kyc["worker"].user_id
    assert review_queue(db, kyc["worker"]) == []


def test_expired_passport_goes_to_review_and_an_unassigned_case_tells_the_supervisors(
    db: Database, actor: Principal, kyc: dict[str, Any]
) -> None:
    case = new_case(db, actor, case_type="onboarding", team="onboarding", customer_party_id=kyc["party"].id, custom_data=PERSON)
    doc = upload(db, actor, case, passport_pdf(expiry=dt.date(2024, 1, 31)), "identity_document")
    done = run_document_checks(db, None, case.id, doc.id)
    assert automatic(done)["document_expiry"] == "fail" and done.status.value == "in_review"
    assert inbox(db, kyc["supervisor"]) == ["document.review_needed"] and inbox(db, kyc["worker"]) == []


def test_a_pdf_without_an_mrz_is_unknown_and_reviewed(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    doc = upload(db, actor, kyc["case"], text_pdf("Some letter without a machine-readable zone"), "identity_document")
    done = run_document_checks(db, None, kyc["case"].id, doc.id)
    assert automatic(done) == {"mrz": "unknown"} and done.status.value == "in_review" and done.authenticity_score == 85


def test_photo_of_an_id_card_is_read_by_ocr(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    """The one OCR test here (seconds): a rendered TD1 card as a PNG."""
    mrz = make_mrz_td1(surname="Sample", given_names="Angela", document_number="X4RTBPFW4", nationality="FRA",
                       birth_date=BORN, sex="F", expiry_date=dt.date(2031, 2, 28))  # fmt: skip
    card = on_page(render_id_card(mrz))  # a scan: at least 600 pixels on the shorter side, or the file check fails
    doc = upload(db, actor, kyc["case"], card, "identity_document", name="card.png")
    done = run_document_checks(db, None, kyc["case"].id, doc.id)
    assert automatic(done) == {"mrz_check_digits": "pass", "document_expiry": "pass", "identity_match": "pass"}
    assert {c["details"]["source"] for c in done.checks if c.get("stage") == STAGE} == {"ocr"}
    assert done.status.value == "validated"


# ---------------------------------------------------------------- IBAN


def test_bank_details_with_a_valid_iban_are_auto_validated(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    pdf = text_pdf("Relevé d'identité bancaire", "Titulaire: Angela Sample", f"IBAN: {VALID_IBAN}", "BIC: GEBABEBB")
    doc = upload(db, actor, kyc["case"], pdf, "bank_details")
    done = run_document_checks(db, None, kyc["case"].id, doc.id)
    assert automatic(done) == {"iban": "pass", "bic": "pass"} and done.status.value == "validated"


def test_bank_details_with_a_wrong_iban_go_to_review(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    pdf = text_pdf("Bank details", "IBAN: BE68 5390 0754 7035")
    doc = upload(db, actor, kyc["case"], pdf, "bank_details")
    done = run_document_checks(db, None, kyc["case"].id, doc.id)
    assert automatic(done) == {"iban": "fail"} and done.status.value == "in_review"
    assert "check digits" in next(c["message"] for c in done.checks if c["check"] == "iban")


def test_the_iban_is_compared_with_the_case_field(db: Database, actor: Principal) -> None:
    source = (
        casetypes.shipped_sources()["onboarding.yaml"]
        .replace("\nversion: 2\n", "\nversion: 3\n")
        .replace("    date_of_birth:\n", "    iban:\n      type: string\n      title: IBAN\n    date_of_birth:\n")
    )
    casetypes.install_source(db, actor, source, "onboarding.yaml")
    case = new_case(db, actor, case_type="onboarding", custom_data={**PERSON, "iban": "FR76 3000 6000 0112 3456 7890 189"})
    doc = upload(db, actor, case, text_pdf(f"IBAN {VALID_IBAN}"), "bank_details")
    done = run_document_checks(db, None, case.id, doc.id)
    assert automatic(done) == {"iban": "pass", "iban_match": "fail"} and done.status.value == "in_review"


# ---------------------------------------------------------------- 2D-Doc


@pytest.fixture
def authority() -> Authority:
    return Authority()


@pytest.fixture
def signer(authority: Authority) -> Signer:
    return authority.issue()


def twoddoc_png(signer: Signer) -> bytes:
    return on_page(render_datamatrix(signer.encode()))


def trust_both(db: Database, actor: Principal, authority: Authority, signer: Signer) -> list[uuid.UUID]:
    """A 2D-Doc names its signing certificate by id: the store needs it, and the authority that issued it."""
    return [
        trust.add_certificate(db, actor, authority.pem(), "Test CA").id,
        trust.add_certificate(db, actor, signer.pem(), "Signer 0001").id,
    ]


def test_signed_2ddoc_with_a_trusted_authority_passes(
    db: Database, actor: Principal, kyc: dict[str, Any], authority: Authority, signer: Signer
) -> None:
    trust_both(db, actor, authority, signer)
    doc = upload(db, actor, kyc["case"], twoddoc_png(signer), "proof_of_address", name="bill.png")
    done = run_document_checks(db, None, kyc["case"].id, doc.id, today=TODAY)
    assert automatic(done) == {"2ddoc_decode": "pass", "2ddoc_signature": "pass", "2ddoc_name": "pass", "2ddoc_address": "pass"}
    # Every check passed, but a proof of address is validated by a person: it waits, scored 100.
    assert done.status.value == "received" and done.authenticity_score == 100 and inbox(db, kyc["worker"]) == []
    assert [d.id for d in review_queue(db, kyc["worker"])] == [doc.id]  # still a person's to validate


def test_a_2ddoc_in_a_scanned_pdf_is_found(
    db: Database, actor: Principal, kyc: dict[str, Any], authority: Authority, signer: Signer
) -> None:
    trust_both(db, actor, authority, signer)
    doc = upload(db, actor, kyc["case"], image_pdf(twoddoc_png(signer)), "proof_of_address")
    done = run_document_checks(db, None, kyc["case"].id, doc.id, today=TODAY)
    assert automatic(done)["2ddoc_signature"] == "pass"


def test_untrusted_or_revoked_authority_goes_to_review(
    db: Database, actor: Principal, kyc: dict[str, Any], authority: Authority, signer: Signer
) -> None:
    case = kyc["case"]
    doc = upload(db, actor, case, twoddoc_png(signer), "proof_of_address", name="bill.png")
    done = run_document_checks(db, None, case.id, doc.id, today=TODAY)
    assert automatic(done)["2ddoc_signature"] == "unknown" and done.status.value == "in_review"  # nobody trusts the signer
    # An impostor authority issuing a certificate under the same ids: the signature does not verify.
    impostor_ca = Authority()
    trust.add_certificate(db, actor, impostor_ca.pem(), "Impostor CA")
    trust.add_certificate(db, actor, impostor_ca.issue().pem(), "Impostor signer")
    assert automatic(run_document_checks(db, None, case.id, doc.id, today=TODAY))["2ddoc_signature"] == "fail"
    # Trusted now: a rerun passes, but the document stays with the person it was sent to.
    ca_id, _signer_id = trust_both(db, actor, authority, signer)
    again = run_document_checks(db, kyc["worker"], case.id, doc.id, today=TODAY)
    assert automatic(again)["2ddoc_signature"] == "pass" and again.status.value == "in_review"
    # The authority revoked: its certificates are not issued by a trusted authority any more.
    trust.revoke_certificate(db, actor, ca_id)
    second = upload(db, actor, case, twoddoc_png(signer), "proof_of_address", name="bill2.png")
    checked = run_document_checks(db, None, case.id, second.id, today=TODAY)
    assert automatic(checked)["2ddoc_signature"] == "fail" and checked.status.value == "in_review"
    assert "trusted certification authority" in next(c["message"] for c in checked.checks if c["check"] == "2ddoc_signature")
    assert inbox(db, kyc["worker"]).count("document.review_needed") == 2


# ---------------------------------------------------------------- reruns and rights


def test_rerun_is_idempotent_and_keeps_a_persons_decision(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    case = kyc["case"]
    doc = upload(db, actor, case, passport_pdf(expiry=dt.date(2024, 1, 31)), "identity_document")
    first = run_document_checks(db, None, case.id, doc.id)
    second = run_document_checks(db, None, case.id, doc.id)
    assert second.checks == first.checks and second.status == first.status  # replaced, not appended
    assert len(events(db, "document.review_needed")) == 1 and inbox(db, kyc["worker"]) == ["document.review_needed"]
    rejected = documents.review_document(db, kyc["worker"], case.id, doc.id, "reject", "expired passport")
    third = run_document_checks(db, kyc["worker"], case.id, doc.id)
    assert third.status.value == "rejected" and third.status_reason == "expired passport" == rejected.status_reason
    assert third.reviewed_by == kyc["worker"].user_id and automatic(third) == automatic(first)


def test_running_checks_needs_the_review_right(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    doc = upload(db, actor, kyc["case"], passport_pdf(), "identity_document")
    auditor = principal(db, actor, "audrey@example.org", role=Role.AUDITOR)
    with pytest.raises(Forbidden):
        run_document_checks(db, auditor, kyc["case"].id, doc.id)
    assert review_queue(db, auditor) == []  # the auditor may read the queue


def test_documents_received_blocks_leaving_assessment_until_validated(db: Database, actor: Principal, kyc: dict[str, Any]) -> None:
    case = kyc["case"]
    assert case.phase is Phase.ASSESSMENT
    kyc_answers = {"purpose_of_account": "savings", "source_of_funds": "salary", "expects_international_transfers": False,
                   "tax_resident_elsewhere": False}  # fmt: skip
    assert answers.submit_answers(db, actor, case.id, "kyc", AnswersSubmit(answers=kyc_answers)).complete
    with pytest.raises(CriteriaNotMet) as refused:
        move(db, actor, case, Phase.RISK)
    assert refused.value.unmet == ["documents not received: identity_document, proof_of_address"]
    ident = upload(db, actor, case, passport_pdf(), "identity_document")
    run_document_checks(db, None, case.id, ident.id)  # auto-validated
    address = upload(db, actor, case, text_pdf("Electricity bill"), "proof_of_address")
    with pytest.raises(CriteriaNotMet) as still:
        move(db, actor, case, Phase.RISK)
    assert still.value.unmet == ["documents not received: proof_of_address"]
    documents.review_document(db, kyc["worker"], case.id, address.id, "validate")
    moved = move(db, actor, case, Phase.RISK)
    assert moved.phase is Phase.RISK


def test_cases_opened_under_version_1_keep_it(db: Database, actor: Principal) -> None:
    from casework.store.models import Case, CaseTypeVersion

    v1 = casetypes.shipped_sources()["onboarding.yaml"].replace("\nversion: 2\n", "\nversion: 1\n", 1)
    with db.write() as s:  # a database from before: version 1 installed, a case opened under it
        s.execute(CaseTypeVersion.__table__.delete().where(CaseTypeVersion.key == "onboarding"))
    casetypes.install_source(db, actor, v1.replace("      - documents_received: true\n", ""), "onboarding.yaml")
    old = new_case(db, actor, case_type="onboarding", custom_data=PERSON)
    casetypes.install_shipped(db, actor)  # the upgrade brings version 2 for new cases
    new = new_case(db, actor, case_type="onboarding", custom_data=PERSON)
    with db.read() as s:
        assert s.get(Case, old.id).case_type_version == 1  # type: ignore[union-attr]
        assert s.get(Case, new.id).case_type_version == 2  # type: ignore[union-attr]


# ---------------------------------------------------------------- the background job


@pytest.fixture
def immediate_queue(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The module queue runs tasks at once, against the test database (what a worker would do)."""
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db_url)
    tasks.huey.immediate = True
    try:
        yield
    finally:
        tasks.huey.immediate = False


def test_upload_enqueues_the_checks_and_the_task_validates(
    db: Database, actor: Principal, kyc: dict[str, Any], immediate_queue: None
) -> None:
    doc = upload(db, actor, kyc["case"], passport_pdf(), "identity_document")
    assert doc.status.value == "validated" and not doc.checks_pending and doc.authenticity_score == 100
    assert "document.auto_validate" in audit_actions(db, kyc["case"].id)


def test_the_task_sends_failures_to_review(db: Database, actor: Principal, kyc: dict[str, Any], immediate_queue: None) -> None:
    doc = upload(db, actor, kyc["case"], text_pdf("Bank details", "IBAN: BE68 5390 0754 7035"), "bank_details")
    assert doc.status.value == "in_review" and inbox(db, kyc["worker"]) == ["document.review_needed"]


def test_a_failing_queue_leaves_the_upload_pending(
    db: Database, actor: Principal, kyc: dict[str, Any], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db_url)

    def broken(*args: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks, "document_checks", broken)
    doc = upload(db, actor, kyc["case"], passport_pdf(), "identity_document")
    assert doc.status.value == "received" and doc.checks_pending


def test_the_task_skips_a_document_that_is_gone(db: Database, actor: Principal, kyc: dict[str, Any], db_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db_url)
    result = tasks.check_document_once(str(kyc["case"].id), str(uuid.uuid4()))
    assert "skipped" in result


def test_a_duplicate_certificate_is_refused(db: Database, actor: Principal, authority: Authority) -> None:
    trust.add_certificate(db, actor, authority.pem(), "Test CA")
    with pytest.raises(DomainError, match="already in the trust store"):
        trust.add_certificate(db, actor, authority.pem(), "Again")
