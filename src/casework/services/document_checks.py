"""The automated checks of a document, run after upload: MRZ, IBAN/BIC, 2D-Doc; auto-validation or review.

The case type says which checks a document kind gets (``checks: [mrz]``) and whether passing them
all validates it (``auto_validate: true``). :func:`run_document_checks` reads the stored bytes
(:mod:`casework.documents.extract`: PDF text layer, embedded images, image files), compares what
it finds with the case (the customer party's name, birth date and address, the ``iban`` custom
field), stores the results next to the file sanity results of the upload, scores them
(:mod:`casework.documents.checks.score`) and then:

- every check passed and the kind auto-validates: the system validates the document
  (audit ``document.auto_validate``, outbox ``document.validated``);
- a check failed or could not decide: the document goes ``in_review`` and a person is asked to
  look at it (an in-app notification to the case's assignee, else the team's supervisors, and an
  outbox event ``document.review_needed``). The machine never rejects;
- every check passed on a kind without ``auto_validate``: it stays ``received`` (score 100) for a
  person to validate.

The slow part (OCR is seconds per image) runs outside any transaction; the results are written
in one short transaction. Running it again replaces the earlier automatic results; a document a
person already validated or rejected keeps its status (only its stored results change).

Upload enqueues :func:`run_document_checks` as the Huey task ``document_checks``
(:func:`schedule`); with no queue serving this database the document keeps ``checks_pending``
until ``casework documents check`` or ``POST …/documents/{id}/checks`` runs it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from casework.audit import log as audit
from casework.casetypes.model import CaseTypeDef, DocumentRequirement
from casework.documents.checks.result import CheckResult, Outcome, unknown
from casework.documents.checks.score import authenticity
from casework.documents.checks.twoddoc_trust import TrustStore
from casework.documents.extract import Extracted, extract
from casework.documents.storage import BlobNotFound
from casework.domain.access import Perm, Principal
from casework.domain.errors import StorageFailure
from casework.services.casetypes import definition_for
from casework.services.common import load_case, require
from casework.services.documents import DocumentStatus, DocumentView, _load_document, _view, _visible, blob_store
from casework.store.models import Case, Document, Party
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases

log = logging.getLogger("casework.documents.checks")

#: Marks the results this pipeline stored, so a rerun replaces them and keeps the upload's sanity results.
STAGE = "automatic"
#: Images the MRZ OCR looks at, at most (each costs seconds).
MAX_OCR_IMAGES = 2


@dataclass(frozen=True)
class CaseFacts:
    """What the case says the document should show."""

    party_name: str | None = None
    birth_date: dt.date | None = None
    address: str | None = None
    iban: str | None = None


def requirement(defn: CaseTypeDef, kind: str) -> DocumentRequirement | None:
    return next((d for d in defn.documents if d.kind == kind), None)


def checks_for_kind(defn: CaseTypeDef, kind: str) -> list[str]:
    req = requirement(defn, kind)
    return list(req.checks) if req is not None else []


# ---------------------------------------------------------------- the checks, on extracted inputs (no SQL)


def _mrz(found: Extracted, facts: CaseFacts, today: dt.date) -> list[CheckResult]:
    from casework.documents.checks.mrz import MrzError, check_mrz, find_mrz_lines

    def run(text: str, source: str) -> list[CheckResult]:
        results = check_mrz(text, today=today, party_name=facts.party_name, party_birth_date=facts.birth_date)
        return [CheckResult(r.check, r.outcome, r.message, {**r.details, "source": source}) for r in results]

    if found.text:
        try:
            find_mrz_lines(found.text)
        except MrzError:
            pass
        else:
            return run(found.text, "text")
    if found.images:
        from casework.documents.checks.ocr import read_mrz_from_image

        for image in found.images[:MAX_OCR_IMAGES]:
            text = read_mrz_from_image(image)
            if text:
                return run(text, "ocr")
    where = "its text or images" if found.images else "its text (it has no image to read)"
    return [unknown("mrz", f"No machine-readable zone could be found in {where}.", problems=found.problems)]


def _iban(found: Extracted, facts: CaseFacts) -> list[CheckResult]:
    from casework.documents.checks.bank import check_bic, check_iban, normalise

    if not found.ibans:
        return [unknown("iban", "No IBAN could be found in the document's text.", problems=found.problems)]
    iban = found.ibans[0]
    results = [check_iban(iban)]
    if facts.iban:
        expected = normalise(facts.iban)
        if normalise(iban) == expected:
            results.append(CheckResult("iban_match", Outcome.PASS, "The IBAN is the one given on the case.", {"iban": iban}))
        else:
            message = f"The document's IBAN {iban} is not the one given on the case ({expected})."
            results.append(CheckResult("iban_match", Outcome.FAIL, message, {"iban": iban, "expected": expected}))
    if found.bics:
        results.append(check_bic(found.bics[0], iban=iban))
    return results


def _twoddoc(found: Extracted, facts: CaseFacts, trust: TrustStore, today: dt.date) -> list[CheckResult]:
    from casework.documents.checks.twoddoc_image import check_2ddoc_image

    if not found.images:
        return [unknown("2ddoc_decode", "The document has no image in which to look for a 2D-Doc.", problems=found.problems)]
    first: list[CheckResult] | None = None
    for image in found.images:
        results = check_2ddoc_image(image, trust, today=today, expected_name=facts.party_name, expected_address=facts.address)
        if results[0].outcome is not Outcome.UNKNOWN:
            return results
        first = first or results
    return first or []


def run_checks(data: bytes, mime: str, checks: Sequence[str], facts: CaseFacts, trust: TrustStore, *, today: dt.date) -> list[CheckResult]:
    """The results of ``checks`` ("mrz", "iban", "twoddoc") on a file; pure (no database)."""
    found = extract(data, mime)
    results: list[CheckResult] = []
    for check in checks:
        if check == "mrz":
            results += _mrz(found, facts, today)
        elif check == "iban":
            results += _iban(found, facts)
        elif check == "twoddoc":
            results += _twoddoc(found, facts, trust, today)
    return results


# ---------------------------------------------------------------- the pipeline


def _facts(s: Any, case: Case, defn: CaseTypeDef) -> CaseFacts:
    party = s.get(Party, case.customer_party_id) if case.customer_party_id else None
    data = case.custom_data or {}
    birth: dt.date | None = None
    raw = data.get("date_of_birth") if "date_of_birth" in defn.field_names else None
    if isinstance(raw, str):
        try:
            birth = dt.date.fromisoformat(raw)
        except ValueError:
            birth = None
    if birth is None and party is not None:
        birth = party.date_of_birth
    iban = data.get("iban") if "iban" in defn.field_names else None
    return CaseFacts(
        party_name=party.name if party is not None else None,
        birth_date=birth,
        address=(party.address or None) if party is not None else None,
        iban=iban if isinstance(iban, str) and iban.strip() else None,
    )


def _stored(results: list[CheckResult]) -> list[dict[str, Any]]:
    return [{**r.to_dict(), "stage": STAGE} for r in results]


def _for_score(checks: list[dict[str, Any]]) -> list[CheckResult]:
    """The automatic results, and the upload's sanity checks that failed (a damaged file is never auto-validated)."""
    found = []
    for c in checks:
        outcome = Outcome(c.get("outcome", "unknown"))
        if c.get("stage") == STAGE or outcome is Outcome.FAIL:
            found.append(CheckResult(str(c.get("check")), outcome, str(c.get("message") or ""), dict(c.get("details") or {})))
    return found


def _ask_for_review(s: Any, case: Case, doc: Document, reasons: list[str], score: int) -> None:
    from casework.services.notifications import emit, notify, notify_team_supervisors

    why = reasons[0] if reasons else "an automated check did not pass"
    message = f"{case.reference}: document {doc.original_name} ({doc.kind}) needs a review — {why}"[:1000]
    if case.assignee_id is not None:
        notify(s, case.assignee_id, case.id, "document.review_needed", message)
    else:
        notify_team_supervisors(s, case.team, case.id, "document.review_needed", message)
    emit(s, "document.review_needed", case.id,
         {"document_id": doc.id, "case_reference": case.reference, "kind": doc.kind, "authenticity_score": score,
          "reasons": reasons, "assignee_id": case.assignee_id, "team": case.team})  # fmt: skip


def run_document_checks(
    db: Database, who: Principal | None, case_key: str | uuid.UUID, doc_id: uuid.UUID, *, today: dt.date | None = None
) -> DocumentView:
    """Run the kind's checks on a document, store the results and score, then auto-validate or ask for a review.

    ``who`` None is the system (the background job); a person needs DOCUMENT_REVIEW. Safe to
    rerun: the earlier automatic results are replaced, and a person's decision is never undone.
    """
    from casework.services import trust as trust_service
    from casework.services.notifications import emit
    from casework.services.users import system_principal

    system = system_principal(db)
    actor = who or system
    require(actor, Perm.DOCUMENT_REVIEW)
    today = today or utcnow().date()
    with db.read() as s:
        case = load_case(s, case_key, actor)
        case_id = case.id
        doc = _load_document(s, actor, case, doc_id)
        defn = definition_for(s, case.case_type, case.case_type_version)
        req = requirement(defn, doc.kind)
        wanted: list[str] = list(req.checks) if req is not None else []
        facts = _facts(s, case, defn)
        trust = trust_service.trust_store_in(s) if "twoddoc" in wanted else TrustStore()
        sha, mime = doc.sha256, doc.mime

    results: list[CheckResult] = []
    if wanted:
        try:
            with blob_store(db).open(sha) as f:
                data = f.read()
        except (BlobNotFound, FileNotFoundError):
            raise StorageFailure(f"the file of document {doc_id} is missing from the store", field="document_id") from None
        results = run_checks(data, mime, wanted, facts, trust, today=today)

    with db.write() as s:
        case = load_case(s, case_id, actor)
        doc = _load_document(s, actor, case, doc_id, for_update=True)
        if not wanted:
            if doc.checks_pending:
                doc.checks_pending = False
            return _view(doc, actor)
        checks = [c for c in (doc.checks or []) if c.get("stage") != STAGE] + _stored(results)
        verdict = authenticity(_for_score(checks))
        doc.checks = checks
        doc.authenticity_score = verdict.score
        doc.checks_pending = False
        before = doc.status
        now = utcnow()
        # Untouched by a person: received, or in review because an earlier run asked for one.
        automatic = doc.status in (DocumentStatus.RECEIVED.value, DocumentStatus.IN_REVIEW.value) and doc.reviewed_by is None
        if automatic and verdict.verdict == "validated" and req is not None and req.auto_validate:
            doc.status = DocumentStatus.VALIDATED.value
            doc.reviewed_by, doc.reviewed_at = system.user_id, now
            doc.status_reason = "every automated check passed"
        elif automatic and verdict.verdict == "review":
            doc.status = DocumentStatus.IN_REVIEW.value
        # Every check passed on a kind a person validates: it stays received, for the reviewer to validate.
        s.flush()
        audit.append(s, actor_id=actor.user_id, action="document.checks", case_id=case.id,
                     data={"document_id": doc.id, "kind": doc.kind, "checks": wanted, "authenticity_score": verdict.score,
                           "verdict": verdict.verdict, "reasons": verdict.reasons,
                           "results": {r.check: r.outcome.value for r in results},
                           "status": {"before": before, "after": doc.status}})  # fmt: skip
        if doc.status != before and doc.status == DocumentStatus.VALIDATED.value:
            audit.append(s, actor_id=system.user_id, action="document.auto_validate", case_id=case.id,
                         data={"document_id": doc.id, "kind": doc.kind, "authenticity_score": verdict.score,
                               "status": {"before": before, "after": doc.status}})  # fmt: skip
            emit(s, "document.validated", case.id,
                 {"document_id": doc.id, "case_reference": case.reference, "kind": doc.kind, "reason": doc.status_reason,
                  "automatic": True})  # fmt: skip
        elif doc.status != before and doc.status == DocumentStatus.IN_REVIEW.value:
            _ask_for_review(s, case, doc, verdict.reasons, verdict.score)
        return _view(doc, actor)


# ---------------------------------------------------------------- running it in the background


def _queue_serves(db: Database) -> bool:
    """Whether the worker's queue serves ``db``: the worker reads CASEWORK_DATABASE_URL, so a job for
    another database would check the wrong one (or none)."""
    from casework.config import Settings, normalise_url

    return normalise_url(Settings.from_env().database_url) == normalise_url(db.url)


def schedule(db: Database, case_id: uuid.UUID, doc_id: uuid.UUID) -> bool:
    """Enqueue the checks of a committed document; False (the document stays ``checks_pending``) when no
    queue serves this database or enqueuing failed."""
    if not _queue_serves(db):
        log.info("no job queue serves this database: the checks of document %s wait for `casework documents check`", doc_id)
        return False
    try:
        from casework.jobs import tasks

        tasks.document_checks(str(case_id), str(doc_id))
    except Exception:  # a queue that is down must not fail an upload that committed
        log.warning("could not enqueue the checks of document %s; they wait for `casework documents check`", doc_id, exc_info=True)
        return False
    return True


# ---------------------------------------------------------------- the review queue


class ReviewItem(DocumentView):
    """A document waiting for a person, with the reference of its case (what people know cases by)."""

    case_reference: str


def review_queue(db: Database, who: Principal, *, limit: int = 100) -> list[ReviewItem]:
    """Documents waiting for a person on the cases the caller sees, oldest first: those the checks
    sent to review (``in_review``) and those received whose kind is never validated automatically
    (once their checks, if any, have run)."""
    require(who, Perm.DOCUMENT_INTERNAL_READ)
    limit = max(1, min(limit, 500))
    with db.read() as s:
        stmt = (
            select(Document, Case.reference)
            .join(Case, Case.id == Document.case_id)
            .where(
                visible_cases(who, utcnow()),
                _visible(who),
                Document.status.in_((DocumentStatus.RECEIVED.value, DocumentStatus.IN_REVIEW.value)),
                Document.checks_pending.is_(False),
                Document.deleted_at.is_(None),
            )
            .order_by(Document.uploaded_at, Document.id)
            .limit(limit)
        )
        return [ReviewItem(**_view(d, who).model_dump(), case_reference=reference) for d, reference in s.execute(stmt)]


__all__ = [
    "STAGE",
    "CaseFacts",
    "ReviewItem",
    "checks_for_kind",
    "requirement",
    "review_queue",
    "run_checks",
    "run_document_checks",
    "schedule",
]
