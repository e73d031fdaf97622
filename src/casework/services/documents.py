"""Documents on a case: upload (streamed to the blob store), list, download, checklist and requests.

The bytes are written to the content-addressed store *before* the row that names them commits,
so a row never points at a blob that is not there; a failed or refused upload removes the blob
it created (unless another row uses the same bytes), and ``BlobStore.sweep_orphans`` catches what
a crash left behind. The type of a file is detected from its bytes, never taken from the client.

Customers and third parties see documents marked ``shared`` only, and a third party only when
the case is shared with them with the ``documents`` part, exactly like notes.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.model import CaseTypeDef, compiled_expression
from casework.config import max_upload_bytes, storage_dir_for
from casework.documents.storage import BlobNotFound, BlobStore, TooLarge
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import DomainError, Forbidden, Gone, InvalidInput, NotFound, PayloadTooLarge, StorageFailure
from casework.services.casetypes import definition_for
from casework.services.common import load_case, require
from casework.services.sharing import shared_parts
from casework.store.models import Case, Document, DocumentRequest
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

OTHER = "other"
#: How much of a file the type detection looks at.
HEAD = 8192


class DocumentVisibility(str, enum.Enum):
    INTERNAL = "internal"  # staff only
    SHARED = "shared"  # also the case's customer, and third parties the documents are shared with


class DocumentChannel(str, enum.Enum):
    UPLOAD = "upload"
    EMAIL = "email"
    SCAN = "scan"
    PORTAL = "portal"
    API = "api"


class DocumentStatus(str, enum.Enum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class ChecklistState(str, enum.Enum):
    MISSING = "missing"
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    VALIDATED = "validated"
    REJECTED = "rejected"


class DocumentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    original_name: str
    mime: str
    size: int
    sha256: str
    pages: int | None
    channel: DocumentChannel
    uploaded_by: uuid.UUID
    uploaded_at: dt.datetime
    visibility: DocumentVisibility
    status: DocumentStatus
    status_reason: str | None
    reviewed_by: uuid.UUID | None
    reviewed_at: dt.datetime | None
    second_reviewed_by: uuid.UUID | None
    second_reviewed_at: dt.datetime | None
    checks: list[dict[str, Any]]
    authenticity_score: int | None
    checks_pending: bool = Field(default=False, description="The kind's automated checks have not run yet")
    version: int


class ChecklistItem(BaseModel):
    kind: str
    title: str
    required: bool
    state: ChecklistState
    documents: list[uuid.UUID]
    requested: bool


class DocumentRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


class DocumentRequestView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    reason: str
    requested_by: uuid.UUID
    requested_at: dt.datetime
    fulfilled_at: dt.datetime | None


class BlobProblem(BaseModel):
    sha256: str
    problem: str  # missing | corrupt
    documents: list[uuid.UUID]


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    problems: list[BlobProblem]
    message: str


# ---------------------------------------------------------------- the blob store and the file checks


def blob_store(db: Database) -> BlobStore:
    """The blob store of ``db``: CASEWORK_STORAGE_DIR, else a folder next to a SQLite file, else ./casework-files."""
    return BlobStore(storage_dir_for(db.url), max_bytes=max_upload_bytes())


def _sanity() -> Any | None:
    """The file sanity checks (``casework.documents.checks.sanity``) when installed."""
    try:
        return importlib.import_module("casework.documents.checks.sanity")
    except ImportError:
        return None


_UNSAFE = re.compile(r"[^\w.\- ()]+")


def _fallback_safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "document"


def safe_filename(name: str) -> str:
    """A name without directories, control characters or shell-hostile characters."""
    sanity = _sanity()
    if sanity is not None:
        cleaned = str(sanity.safe_filename(name))
        # Belt and braces: whatever the helper returns, never keep a path.
        return _fallback_safe_filename(cleaned)
    return _fallback_safe_filename(name)


def detect_mime(data: bytes) -> str:
    """The MIME type the bytes really have (never the one a client declared)."""
    sanity = _sanity()
    if sanity is not None:
        return str(sanity.detect_type(data) or "application/octet-stream")[:100]
    import puremagic

    try:
        return str(puremagic.from_string(data[:HEAD], mime=True) or "application/octet-stream")[:100]
    except (puremagic.PureError, ValueError):
        pass
    try:
        data[:HEAD].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def _run_checks(data: bytes, kind: str, filename: str, declared_mime: str | None) -> list[dict[str, Any]]:
    """File sanity checks (type, bombs, encryption, active content) as dicts; empty when they are not installed."""
    sanity = _sanity()
    if sanity is None:
        return []
    results = sanity.check_file(data, declared_kind=kind, declared_mime=declared_mime, filename=filename)
    return [r.to_dict() for r in results]


def _refusals(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed checks that refuse an upload outright: a wrong or dangerous type, a zip or image bomb, an
    encrypted PDF or one with active content (JavaScript, launch actions...). A damaged or too small
    file is kept, its failed check shown to the reviewer."""
    refused = []
    for c in checks:
        if c.get("outcome") != "fail":
            continue
        name, details, message = c.get("check"), c.get("details") or {}, str(c.get("message", "")).lower()
        if (
            name in ("file_type", "zip_structure")
            or (name == "pdf_structure" and (details.get("encrypted") or details.get("active_content")))
            or (name == "image_structure" and "bomb" in message)
        ):
            refused.append(c)
    return refused


def _pdf_pages(data: bytes, mime: str) -> int | None:
    if mime != "application/pdf":
        return None
    try:
        import io

        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # a damaged PDF: the sanity checks say why, the page count stays unknown
        return None


# ---------------------------------------------------------------- views and visibility


def _view(doc: Document, who: Principal) -> DocumentView:
    view = DocumentView.model_validate(doc)
    if not who.is_staff:
        # The institution's assessment of a document is not the customer's business.
        view.checks = []
        view.authenticity_score = None
        view.reviewed_by = view.second_reviewed_by = None
    return view


def _may_see(s: Session, who: Principal, case_id: uuid.UUID) -> None:
    require(who, Perm.DOCUMENT_READ)
    if who.role is Role.THIRD_PARTY and "documents" not in shared_parts(s, who, case_id):
        raise Forbidden("the documents of this case are not shared with you")


def _visible(who: Principal) -> Any:
    cond: Any = Document.deleted_at.is_(None)
    if not who.can(Perm.DOCUMENT_INTERNAL_READ):
        cond = cond & (Document.visibility == DocumentVisibility.SHARED.value)
    return cond


def _load_document(s: Session, who: Principal, case: Case, doc_id: uuid.UUID, *, for_update: bool = False) -> Document:
    stmt = select(Document).where(Document.id == doc_id, Document.case_id == case.id, _visible(who))
    if for_update:
        stmt = stmt.with_for_update()
    doc = s.scalars(stmt).first()
    if doc is None:
        purged = s.scalars(
            select(Document).where(Document.id == doc_id, Document.case_id == case.id, Document.deleted_at.is_not(None))
        ).first()
        if purged is not None and (who.can(Perm.DOCUMENT_INTERNAL_READ) or purged.visibility == DocumentVisibility.SHARED.value):
            raise Gone(f"document {doc_id} was purged on {purged.deleted_at:%Y-%m-%d} under the retention rules", field="document_id")
        raise NotFound(f"document {doc_id} not found on this case", field="document_id")
    return doc


def _kinds(defn: CaseTypeDef) -> list[str]:
    return [d.kind for d in defn.documents]


def _check_kind(defn: CaseTypeDef, kind: str) -> None:
    allowed = [*_kinds(defn), OTHER]
    if kind not in allowed:
        raise InvalidInput(f"case type {defn.key} has no document kind {kind!r}; it has: {', '.join(allowed)}", field="kind")


def _access(s: Session, who: Principal, case_id: uuid.UUID, part: str, **data: Any) -> None:
    audit.append(s, actor_id=who.user_id, action="access.case.read", case_id=case_id, data={"part": part, "client": who.client, **data})


# ---------------------------------------------------------------- upload


def _chunks(stream: Iterable[bytes], keep: bytearray) -> Iterator[bytes]:
    for chunk in stream:
        keep.extend(chunk)
        yield chunk


def _referenced(db: Database, sha: str) -> bool:
    with db.read() as s:
        return s.scalars(select(Document.id).where(Document.sha256 == sha, Document.deleted_at.is_(None)).limit(1)).first() is not None


def _discard(db: Database, store: BlobStore, sha: str, created: bool) -> None:
    """Remove a blob this upload created, unless a row uses those bytes (the sweep catches the rest)."""
    if created and not _referenced(db, sha):
        store.delete(sha)


def upload_document(
    db: Database,
    who: Principal,
    case_key: str | uuid.UUID,
    *,
    kind: str,
    filename: str,
    stream: Iterable[bytes],
    declared_mime: str | None = None,
    visibility: DocumentVisibility | str = DocumentVisibility.INTERNAL,
    channel: DocumentChannel | str = DocumentChannel.UPLOAD,
) -> DocumentView:
    """Store a file and attach it to a case; refused files leave nothing behind."""
    require(who, Perm.DOCUMENT_UPLOAD)
    visibility = DocumentVisibility(visibility)
    channel = DocumentChannel(channel)
    if not who.is_staff:  # the portal: what a customer sends is theirs to see
        visibility = DocumentVisibility.SHARED
        channel = DocumentChannel.PORTAL
    name = safe_filename(filename)
    with db.read() as s:  # refuse early, before reading the bytes: unknown case, unknown kind
        case = load_case(s, case_key, who)
        case_id = case.id
        defn = definition_for(s, case.case_type, case.case_type_version)
        _check_kind(defn, kind)
        wants_checks = any(d.kind == kind and d.checks for d in defn.documents)

    store = blob_store(db)
    data = bytearray()
    try:
        sha, size, created = store.put_stream_new(_chunks(stream, data))
    except TooLarge as exc:
        raise PayloadTooLarge(f"the file is larger than the limit of {exc.limit} bytes", field="file", limit=exc.limit) from None
    if size == 0:
        _discard(db, store, sha, created)
        raise InvalidInput("the file is empty", field="file")
    content = bytes(data)
    del data
    try:
        mime = detect_mime(content)
        checks = _run_checks(content, kind, name, declared_mime)
        refused = _refusals(checks)
        if refused:
            reasons = "; ".join(str(c.get("message") or c.get("check")) for c in refused)
            raise InvalidInput(f"the file was refused: {reasons}", field="file", checks=checks)
        pages = next((c["details"]["pages"] for c in checks if isinstance((c.get("details") or {}).get("pages"), int)), None)
        if pages is None:
            pages = _pdf_pages(content, mime)
        with db.write() as s:
            case = load_case(s, case_id, who)
            existing = s.scalars(
                select(Document).where(Document.case_id == case.id, Document.sha256 == sha, Document.deleted_at.is_(None))
            ).first()
            if existing is not None:
                raise DomainError(
                    f"this file is already on the case as document {existing.id} ({existing.original_name})",
                    field="file",
                    document_id=str(existing.id),
                )
            now = utcnow()
            doc = Document(
                case_id=case.id, kind=kind, original_name=name, mime=mime, size=size, sha256=sha, pages=pages,
                channel=channel.value, uploaded_by=who.user_id, uploaded_at=now, visibility=visibility.value,
                status=DocumentStatus.RECEIVED.value, checks=checks, checks_pending=wants_checks,
            )  # fmt: skip
            s.add(doc)
            s.flush()
            for req in s.scalars(
                select(DocumentRequest).where(
                    DocumentRequest.case_id == case.id, DocumentRequest.kind == kind, DocumentRequest.fulfilled_at.is_(None)
                )
            ):
                req.fulfilled_at = now
            audit.append(s, actor_id=who.user_id, action="document.upload", case_id=case.id,
                         data={"document_id": doc.id, "kind": kind, "name": name, "mime": mime, "size": size, "sha256": sha,
                               "channel": channel.value, "visibility": visibility.value,
                               "failed_checks": [c.get("check") for c in checks if c.get("outcome") == "fail"]})  # fmt: skip
            view = _view(doc, who)
    except BaseException:
        _discard(db, store, sha, created)
        raise
    if wants_checks:
        # The automated checks (OCR takes seconds) run in the background, once the row is committed.
        from casework.services.document_checks import schedule

        if schedule(db, case_id, view.id):
            with db.read() as s:  # a queue in immediate mode has run them already
                done = s.get(Document, view.id)
                if done is not None:
                    view = _view(done, who)
    return view


# ---------------------------------------------------------------- reading


def list_documents(db: Database, who: Principal, case_key: str | uuid.UUID) -> list[DocumentView]:
    require(who, Perm.DOCUMENT_READ)
    with db.write() as s:
        case = load_case(s, case_key, who)
        _may_see(s, who, case.id)
        rows = s.scalars(select(Document).where(Document.case_id == case.id, _visible(who)).order_by(Document.uploaded_at, Document.id))
        found = [_view(d, who) for d in rows]
        _access(s, who, case.id, "documents")
        return found


def get_document(db: Database, who: Principal, case_key: str | uuid.UUID, doc_id: uuid.UUID) -> DocumentView:
    require(who, Perm.DOCUMENT_READ)
    with db.write() as s:
        case = load_case(s, case_key, who)
        _may_see(s, who, case.id)
        doc = _load_document(s, who, case, doc_id)
        _access(s, who, case.id, "document", document_id=doc.id)
        return _view(doc, who)


def download_document(db: Database, who: Principal, case_key: str | uuid.UUID, doc_id: uuid.UUID) -> tuple[DocumentView, Iterator[bytes]]:
    """The document and its bytes (in chunks); the read is recorded in the access audit."""
    require(who, Perm.DOCUMENT_READ)
    store = blob_store(db)
    with db.write() as s:
        case = load_case(s, case_key, who)
        _may_see(s, who, case.id)
        doc = _load_document(s, who, case, doc_id)
        try:
            chunks = store.iter_chunks(doc.sha256)
        except BlobNotFound:
            raise StorageFailure(f"the file of document {doc.id} is missing from the store", field="document_id") from None
        _access(s, who, case.id, "document", document_id=doc.id, download=True)
        return _view(doc, who), chunks


# ---------------------------------------------------------------- checklist and requests


def required_kinds(defn: CaseTypeDef, context: dict[str, Any]) -> list[str]:
    from casework.services.workflow import _required_documents

    return _required_documents(defn, context)


_STATE_ORDER = [ChecklistState.VALIDATED, ChecklistState.IN_REVIEW, ChecklistState.RECEIVED, ChecklistState.REJECTED]


def checklist(db: Database, who: Principal, case_key: str | uuid.UUID) -> list[ChecklistItem]:
    """The case type's documents that apply to this case, with what has been received of each."""
    from casework.services.decisions import context_for

    require(who, Perm.DOCUMENT_READ)
    with db.read() as s:
        case = load_case(s, case_key, who)
        _may_see(s, who, case.id)
        defn = definition_for(s, case.case_type, case.case_type_version)
        context = context_for(s, case)
        docs = list(s.scalars(select(Document).where(Document.case_id == case.id, Document.deleted_at.is_(None))))
        seen = {d.id for d in s.scalars(select(Document).where(Document.case_id == case.id, _visible(who)))}
        open_requests = set(
            s.scalars(select(DocumentRequest.kind).where(DocumentRequest.case_id == case.id, DocumentRequest.fulfilled_at.is_(None)))
        )
        items = []
        for req in defn.documents:
            if req.when is not None and compiled_expression(req.when)(context) is not True:
                continue
            mine = [d for d in docs if d.kind == req.kind and d.status != DocumentStatus.ARCHIVED.value]
            states = {d.status for d in mine}
            state = next((st for st in _STATE_ORDER if st.value in states), ChecklistState.MISSING)
            visible_ids = [d.id for d in mine if d.id in seen]
            item = ChecklistItem(kind=req.kind, title=req.title, required=req.required, state=state,
                                 documents=visible_ids, requested=req.kind in open_requests)  # fmt: skip
            items.append(item)
        return items


def request_document(db: Database, who: Principal, case_key: str | uuid.UUID, kind: str, reason: str) -> DocumentRequestView:
    """Ask for a document; other systems (mail, portal) learn of it through the outbox."""
    from casework.services.notifications import emit

    require(who, Perm.DOCUMENT_REQUEST)
    if not reason.strip():
        raise InvalidInput("say why the document is needed", field="reason")
    with db.write() as s:
        case = load_case(s, case_key, who)
        _check_kind(definition_for(s, case.case_type, case.case_type_version), kind)
        req = DocumentRequest(case_id=case.id, kind=kind, reason=reason, requested_by=who.user_id, requested_at=utcnow())
        s.add(req)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="document.request", case_id=case.id,
                     data={"request_id": req.id, "kind": kind, "reason": reason})  # fmt: skip
        emit(s, "document.requested", case.id,
             {"request_id": req.id, "case_reference": case.reference, "kind": kind, "reason": reason,
              "customer_party_id": case.customer_party_id})  # fmt: skip
        return DocumentRequestView.model_validate(req)


# ---------------------------------------------------------------- review


class ReviewDecision(str, enum.Enum):
    VALIDATE = "validate"
    REJECT = "reject"


class DocumentReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision
    reason: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=1, description="The version reviewed; a stale one is refused (409)")


REVIEWABLE = (DocumentStatus.RECEIVED.value, DocumentStatus.IN_REVIEW.value)


def review_document(
    db: Database,
    who: Principal,
    case_key: str | uuid.UUID,
    doc_id: uuid.UUID,
    decision: ReviewDecision | str,
    reason: str | None = None,
    *,
    version: int | None = None,
    if_match: int | None = None,
) -> DocumentView:
    """Validate or reject a document. A kind marked ``four_eyes`` needs two different reviewers:
    the first validation leaves it ``in_review``, a second one by somebody else validates it."""
    from casework.services.common import check_version
    from casework.services.notifications import emit

    require(who, Perm.DOCUMENT_REVIEW)
    decision = ReviewDecision(decision)
    reason = (reason or "").strip() or None
    if decision is ReviewDecision.REJECT and reason is None:
        raise InvalidInput("a rejection needs a reason", field="reason")
    with db.write() as s:
        case = load_case(s, case_key, who)
        doc = _load_document(s, who, case, doc_id, for_update=True)
        check_version(doc.version, version, if_match)
        if doc.status not in REVIEWABLE:
            raise DomainError(f"document {doc.id} is already {doc.status}; it cannot be reviewed again", field="decision")
        defn = definition_for(s, case.case_type, case.case_type_version)
        four_eyes = any(d.kind == doc.kind and d.four_eyes for d in defn.documents)
        before = doc.status
        now = utcnow()
        second = doc.status == DocumentStatus.IN_REVIEW.value and doc.reviewed_by is not None
        if second and doc.reviewed_by == who.user_id and decision is ReviewDecision.VALIDATE:
            raise DomainError(
                f"you validated document {doc.id} already; four-eyes review needs a second, different reviewer", field="decision"
            )
        if second:
            doc.second_reviewed_by, doc.second_reviewed_at = who.user_id, now
        else:
            doc.reviewed_by, doc.reviewed_at = who.user_id, now
        if decision is ReviewDecision.REJECT:
            doc.status = DocumentStatus.REJECTED.value
        elif four_eyes and not second:
            doc.status = DocumentStatus.IN_REVIEW.value
        else:
            doc.status = DocumentStatus.VALIDATED.value
        doc.status_reason = reason
        s.flush()
        audit.append(s, actor_id=who.user_id, action="document.review", case_id=case.id,
                     data={"document_id": doc.id, "kind": doc.kind, "decision": decision.value, "reason": reason,
                           "status": {"before": before, "after": doc.status}, "four_eyes": four_eyes, "second_review": second})  # fmt: skip
        if doc.status in (DocumentStatus.VALIDATED.value, DocumentStatus.REJECTED.value):
            emit(s, f"document.{doc.status}", case.id,
                 {"document_id": doc.id, "case_reference": case.reference, "kind": doc.kind, "reason": reason})  # fmt: skip
        return _view(doc, who)


# ---------------------------------------------------------------- integrity


def verify_blobs(db: Database, who: Principal, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Re-hash every stored blob a document names; report the missing and the altered ones.

    ``progress(done, total)`` is called after each blob.
    """
    require(who, Perm.DOCUMENT_VERIFY)
    store = blob_store(db)
    with db.read() as s:
        live = Document.deleted_at.is_(None)  # purged content is gone on purpose
        rows = s.execute(select(Document.sha256, Document.id).where(live).order_by(Document.sha256, Document.id)).all()
    by_hash: dict[str, list[uuid.UUID]] = {}
    for sha, doc_id in rows:
        by_hash.setdefault(sha, []).append(doc_id)
    problems = []
    total = len(by_hash)
    for done, (sha, ids) in enumerate(by_hash.items(), start=1):
        if not store.exists(sha):
            problems.append(BlobProblem(sha256=sha, problem="missing", documents=ids))
        elif not store.verify(sha):
            problems.append(BlobProblem(sha256=sha, problem="corrupt", documents=ids))
        if progress is not None:
            progress(done, total)
    if problems:
        message = f"{len(problems)} of {total} stored files are missing or altered"
    else:
        message = f"all {total} stored files match their SHA-256"
    return VerifyReport(ok=not problems, checked=total, problems=problems, message=message)


def sweep_orphans(db: Database, who: Principal, older_than: dt.timedelta = dt.timedelta(hours=1)) -> list[str]:
    """Remove blobs (and temporary files) that no document names, once older than ``older_than``."""
    require(who, Perm.DOCUMENT_VERIFY)
    with db.read() as s:
        known = set(s.scalars(select(Document.sha256).distinct()))
    return blob_store(db).sweep_orphans(known, older_than.total_seconds())
