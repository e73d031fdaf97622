"""Keeping documents as long as the rules say and no longer: legal hold, archiving, retention purge.

* **Legal hold** (:func:`set_legal_hold`) flags every document of a case; while the case's last
  ``case.legal_hold`` audit entry says ``on``, its documents (also ones uploaded later) are never
  purged.
* **Archiving** (:func:`archive_cases`) exports each closed case as a BagIt bag: the documents'
  bytes, ``case.json`` (the case, parties, phases, notes, communications, decisions, documents) and
  ``audit.json`` (the case's audit entries with their hashes, so the extract can be checked against
  the chain). The bag is validated and renamed into place before the case's documents are marked
  ``archived`` and a ``case.archive`` entry records its Payload-Oxum and manifest digest. A case is
  archived again only after it was reopened and closed again.
* **Retention** (:func:`apply_retention`) finds documents of closed cases past their retention
  period (:mod:`casework.documents.retention`); a dry run only reports them, an execution deletes
  their bytes (unless another live document row uses the same bytes), keeps the row as a
  tombstone with ``deleted_at`` and records ``document.purge``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.audit.chain import format_time
from casework.documents.archive import ArchiveError, BagResult, PayloadFile, json_bytes, remove_bag, safe_part, write_bag
from casework.documents.retention import RetentionPolicy, Verdict, assess
from casework.domain.access import Perm, Principal
from casework.domain.errors import InvalidInput
from casework.domain.lifecycle import Status
from casework.services.casetypes import definition_for
from casework.services.common import load_case, require
from casework.store.models import (
    AuditEntry,
    Case,
    CaseParty,
    Communication,
    DecisionRecord,
    Document,
    Note,
    Party,
    PhaseChange,
)
from casework.store.types import utcnow
from casework.store.unit_of_work import Database

ARCHIVED = "archived"
HOLD_ACTION = "case.legal_hold"
ARCHIVE_ACTION = "case.archive"
PURGE_ACTION = "document.purge"
MAX_REASON = 2000


# ---------------------------------------------------------------- legal hold


class LegalHoldResult(BaseModel):
    case_id: uuid.UUID
    reference: str
    legal_hold: bool
    documents: int
    reason: str


def held_case_ids(s: Session, case_ids: set[uuid.UUID] | None = None) -> set[uuid.UUID]:
    """Cases whose latest legal-hold entry places a hold (documents uploaded after the hold count too)."""
    stmt = select(AuditEntry.case_id, AuditEntry.data).where(AuditEntry.action == HOLD_ACTION).order_by(AuditEntry.seq)
    latest: dict[uuid.UUID, bool] = {}
    for case_id, data in s.execute(stmt):
        if case_id is not None and (case_ids is None or case_id in case_ids):
            latest[case_id] = bool((data or {}).get("on"))
    return {case_id for case_id, on in latest.items() if on}


def set_legal_hold(db: Database, who: Principal, case_key: str | uuid.UUID, on: bool, reason: str) -> LegalHoldResult:
    """Place (``on``) or release a legal hold on every document of a case, saying why."""
    require(who, Perm.LEGAL_HOLD)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("say why the hold is placed or released", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"at most {MAX_REASON} characters", field="reason")
    with db.write() as s:
        case = load_case(s, case_key, who, for_update=True)
        docs = list(s.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.uploaded_at, Document.id)))
        changed = []
        for doc in docs:
            if doc.legal_hold != on:
                doc.legal_hold = on
                doc.version += 1
                changed.append(doc.id)
        audit.append(s, actor_id=who.user_id, action=HOLD_ACTION, case_id=case.id,
                     data={"on": on, "reason": reason, "documents": [d.id for d in docs], "changed": changed})  # fmt: skip
        return LegalHoldResult(case_id=case.id, reference=case.reference, legal_hold=on, documents=len(docs), reason=reason)


# ---------------------------------------------------------------- archiving


class ArchivedCase(BaseModel):
    case_id: uuid.UUID
    reference: str
    closed_at: dt.datetime
    documents: int
    bytes: int
    path: str | None = None  # None in a dry run
    payload_oxum: str | None = None
    manifest_sha256: str | None = None


class ArchiveProblem(BaseModel):
    case_id: uuid.UUID
    reference: str
    problem: str


class ArchiveReport(BaseModel):
    dry_run: bool
    closed_before: dt.date
    out_dir: str
    archived: list[ArchivedCase]
    problems: list[ArchiveProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _archive_candidates(s: Session, closed_before: dt.date) -> list[Case]:
    """Closed before the day, and not archived since their (last) closure."""
    last_archive = (
        select(func.max(AuditEntry.at))
        .where(AuditEntry.action == ARCHIVE_ACTION, AuditEntry.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = (
        select(Case)
        .where(Case.status == Status.CLOSED.value, Case.closed_at.is_not(None), Case.closed_at < _start_of(closed_before))
        .where(or_(last_archive.is_(None), last_archive < Case.closed_at))
        .order_by(Case.closed_at, Case.reference)
    )
    return list(s.scalars(stmt))


def _is_archived(s: Session, case: Case) -> bool:
    stmt = select(func.max(AuditEntry.at)).where(AuditEntry.action == ARCHIVE_ACTION, AuditEntry.case_id == case.id)
    last = s.execute(stmt).scalar()
    return last is not None and case.closed_at is not None and last >= case.closed_at


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return format_time(value)
    return value.isoformat()


def _doc_path(doc: Document) -> str:
    return f"documents/{doc.id}-{safe_part(doc.original_name)}"


def _case_record(s: Session, case: Case, docs: list[Document]) -> dict[str, Any]:
    """What ``data/case.json`` says about the case."""
    parties = s.execute(
        select(CaseParty, Party)
        .join(Party, Party.id == CaseParty.party_id)
        .where(CaseParty.case_id == case.id)
        .order_by(CaseParty.created_at)
    ).all()
    phases = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id).order_by(PhaseChange.seq))
    notes = s.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at, Note.id))
    comms = s.scalars(select(Communication).where(Communication.case_id == case.id).order_by(Communication.occurred_at, Communication.id))
    decisions = s.scalars(select(DecisionRecord).where(DecisionRecord.case_id == case.id).order_by(DecisionRecord.decided_at))
    return {
        "case": {
            "id": str(case.id), "reference": case.reference, "case_type": case.case_type,
            "case_type_version": case.case_type_version, "title": case.title, "description": case.description,
            "status": case.status, "phase": case.phase, "outcome": case.outcome, "priority": case.priority,
            "risk_score": case.risk_score, "assignee_id": str(case.assignee_id) if case.assignee_id else None,
            "team": case.team, "customer_party_id": str(case.customer_party_id) if case.customer_party_id else None,
            "custom_data": case.custom_data, "due_date": _iso(case.due_date), "created_at": _iso(case.created_at),
            "updated_at": _iso(case.updated_at), "closed_at": _iso(case.closed_at), "version": case.version,
        },
        "parties": [
            {"party_id": str(p.id), "role": cp.role, "kind": p.kind, "name": p.name, "email": p.email, "phone": p.phone,
             "address": p.address, "date_of_birth": _iso(p.date_of_birth), "registration_number": p.registration_number}
            for cp, p in parties
        ],
        "phases": [
            {"seq": ph.seq, "from": ph.from_phase, "to": ph.to_phase, "kind": ph.kind, "reason": ph.reason,
             "outcome": ph.outcome, "actor_id": str(ph.actor_id), "at": _iso(ph.at)}
            for ph in phases
        ],
        "notes": [
            {"id": str(n.id), "author_id": str(n.author_id), "visibility": n.visibility, "body": n.body, "created_at": _iso(n.created_at)}
            for n in notes
        ],
        "communications": [
            {"id": str(c.id), "channel": c.channel, "direction": c.direction, "subject": c.subject, "body": c.body,
             "party_id": str(c.party_id) if c.party_id else None, "occurred_at": _iso(c.occurred_at)}
            for c in comms
        ],
        "decisions": [
            {"id": str(d.id), "point": d.point, "table": d.table_name, "table_version": d.table_version, "mode": d.mode,
             "status": d.status, "outputs": d.final_outputs if d.final_outputs is not None else d.outputs,
             "explanation": d.explanation, "decided_at": _iso(d.decided_at), "reason": d.reason}
            for d in decisions
        ],
        "documents": [
            {"id": str(d.id), "kind": d.kind, "name": d.original_name, "mime": d.mime, "size": d.size, "sha256": d.sha256,
             "pages": d.pages, "channel": d.channel, "visibility": d.visibility, "status": d.status,
             "uploaded_at": _iso(d.uploaded_at), "legal_hold": d.legal_hold, "deleted_at": _iso(d.deleted_at),
             "path": None if d.deleted_at is not None else f"data/{_doc_path(d)}"}
            for d in docs
        ],
    }  # fmt: skip


def _audit_record(s: Session, case: Case) -> dict[str, Any]:
    """What ``data/audit.json`` holds: the case's entries with their chain fields, and the chain's head."""
    entries = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.seq))
    head = s.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return {
        "case_id": str(case.id),
        "reference": case.reference,
        "hash": "sha256 over the canonical JSON of seq, at, actor, case, action, data, prev (casework.audit.chain.compute_hash)",
        "chain_head": {"seq": head[0], "hash": head[1]} if head else None,
        "entries": [
            {"seq": e.seq, "at": format_time(e.at), "actor_id": str(e.actor_id) if e.actor_id else None,
             "case_id": str(e.case_id) if e.case_id else None, "action": e.action, "data": e.data,
             "prev_hash": e.prev_hash, "hash": e.hash}
            for e in entries
        ],
    }  # fmt: skip


def _archive_one(db: Database, who: Principal, case_id: uuid.UUID, out_dir: Path) -> ArchivedCase:
    from casework.services.documents import blob_store

    store = blob_store(db)
    with db.read() as s:
        case = s.get(Case, case_id)
        if case is None or case.status != Status.CLOSED.value or case.closed_at is None:
            raise ArchiveError("the case is no longer closed")
        closed_at, reference = case.closed_at, case.reference
        docs = list(s.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.uploaded_at, Document.id)))
        record = _case_record(s, case, docs)
        trail = _audit_record(s, case)
    live = [d for d in docs if d.deleted_at is None]

    def opener(sha: str) -> Callable[[], Any]:
        return lambda: store.open(sha)

    files = [PayloadFile(path=_doc_path(d), open=opener(d.sha256), sha256=d.sha256) for d in live]
    bag: BagResult = write_bag(
        out_dir, safe_part(reference), files=files, documents={"case.json": json_bytes(record), "audit.json": json_bytes(trail)},
        external_identifier=reference, extra_info={"External-Description": f"casework case {reference}, closed {_iso(closed_at)}"},
    )  # fmt: skip
    try:
        with db.write() as s:
            case = s.get(Case, case_id, with_for_update=True)
            if case is None or case.status != Status.CLOSED.value or case.closed_at != closed_at:
                raise ArchiveError("the case changed while it was being archived")
            if _is_archived(s, case):
                raise ArchiveError("the case was archived meanwhile")
            marked = []
            for doc in s.scalars(select(Document).where(Document.case_id == case.id, Document.deleted_at.is_(None))):
                if doc.status != ARCHIVED:
                    doc.status = ARCHIVED
                    doc.version += 1
                marked.append(doc.id)
            audit.append(s, actor_id=who.user_id, action=ARCHIVE_ACTION, case_id=case.id,
                         data={"bag": bag.path.name, "payload_oxum": bag.payload_oxum, "manifest_sha256": bag.manifest_sha256,
                               "documents": marked, "closed_at": closed_at, "audit_entries": len(trail["entries"])})  # fmt: skip
    except BaseException:
        remove_bag(bag.path)
        raise
    return ArchivedCase(case_id=case_id, reference=reference, closed_at=closed_at, documents=len(live), bytes=sum(d.size for d in live),
                        path=str(bag.path), payload_oxum=bag.payload_oxum, manifest_sha256=bag.manifest_sha256)  # fmt: skip


def archive_cases(
    db: Database,
    who: Principal,
    *,
    closed_before: dt.date,
    out_dir: Path,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveReport:
    """Export each closed case (closed before ``closed_before``, not yet archived) as a bag ``<out_dir>/<reference>/``.

    One case failing (a missing blob, a bag already there) is reported and does not stop the others.
    ``progress(done, total)`` is called after each case.
    """
    require(who, Perm.RETENTION_MANAGE)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"{out_dir} is not a directory", field="out")
    with db.read() as s:
        candidates = _archive_candidates(s, closed_before)
        summary = {}
        for case in candidates:
            live = s.execute(
                select(func.count(Document.id), func.coalesce(func.sum(Document.size), 0)).where(
                    Document.case_id == case.id, Document.deleted_at.is_(None)
                )
            ).one()
            summary[case.id] = (case.reference, case.closed_at, int(live[0]), int(live[1]))
    report = ArchiveReport(dry_run=dry_run, closed_before=closed_before, out_dir=str(out_dir), archived=[], problems=[])
    total = len(summary)
    for done, (case_id, (reference, closed_at, count, size)) in enumerate(summary.items(), start=1):
        if dry_run:
            assert closed_at is not None
            report.archived.append(ArchivedCase(case_id=case_id, reference=reference, closed_at=closed_at, documents=count, bytes=size))
        else:
            try:
                report.archived.append(_archive_one(db, who, case_id, out_dir))
            except ArchiveError as exc:
                report.problems.append(ArchiveProblem(case_id=case_id, reference=reference, problem=str(exc)))
        if progress is not None:
            progress(done, total)
    return report


# ---------------------------------------------------------------- retention


class DueDocument(BaseModel):
    document_id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: str
    sha256: str
    size: int
    closed_at: dt.datetime
    retention_days: int
    expires_on: dt.date  # the last day it was to be kept
    reason: str


class RetentionReport(BaseModel):
    today: dt.date
    dry_run: bool
    due: list[DueDocument]  # past retention and not held: purged unless a dry run
    purged: list[uuid.UUID]
    skipped_legal_hold: list[DueDocument]
    skipped_open_case: int  # live documents of open cases (never due)
    blobs_deleted: int = 0
    blobs_shared: int = 0  # bytes kept because another live document uses them


def _policy(s: Session, cache: dict[tuple[str, int], RetentionPolicy], key: str, version: int) -> RetentionPolicy:
    if (key, version) not in cache:
        cache[key, version] = RetentionPolicy.of(definition_for(s, key, version))
    return cache[key, version]


def _due_documents(s: Session, today: dt.date) -> tuple[list[DueDocument], list[DueDocument], int]:
    open_count = s.execute(
        select(func.count(Document.id))
        .join(Case, Case.id == Document.case_id)
        .where(Document.deleted_at.is_(None), Case.status != Status.CLOSED.value)
    ).scalar_one()
    rows = s.execute(
        select(Document.id, Document.kind, Document.sha256, Document.size, Document.legal_hold,
               Case.id, Case.reference, Case.case_type, Case.case_type_version, Case.closed_at)
        .join(Case, Case.id == Document.case_id)
        .where(Document.deleted_at.is_(None), Case.status == Status.CLOSED.value, Case.closed_at.is_not(None))
        .order_by(Case.closed_at, Case.reference, Document.uploaded_at, Document.id)
    ).all()  # fmt: skip
    held_cases = held_case_ids(s)
    cache: dict[tuple[str, int], RetentionPolicy] = {}
    due: list[DueDocument] = []
    held: list[DueDocument] = []
    for doc_id, kind, sha, size, doc_hold, case_id, reference, case_type, version, closed_at in rows:
        policy = _policy(s, cache, case_type, version)
        hold = bool(doc_hold) or case_id in held_cases
        found = assess(kind=kind, policy=policy, case_closed=True, closed_at=closed_at, today=today, legal_hold=hold)
        if not found.past_retention:
            continue
        assert found.expires_on is not None and found.closed_on is not None and closed_at is not None
        rule = policy.rule_for(kind)
        reason = f"closed {found.closed_on.isoformat()} + {found.retention_days} days ({rule}): kept until {found.expires_on.isoformat()}"
        if found.verdict is Verdict.LEGAL_HOLD:
            reason += "; under legal hold"
        item = DueDocument(document_id=doc_id, case_id=case_id, case_reference=reference, kind=kind, sha256=sha,
                           size=size, closed_at=closed_at, retention_days=found.retention_days,
                           expires_on=found.expires_on, reason=reason)  # fmt: skip
        (held if found.verdict is Verdict.LEGAL_HOLD else due).append(item)
    return due, held, int(open_count)


def _without_personal_data(checks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """What a purged document keeps of its check results: which checks ran and how they came out.

    Messages and details can hold what the document said (names, birth dates, document numbers,
    IBANs, addresses read from an MRZ or a 2D-Doc), so they go with the content.
    """
    return [
        {"check": str(c.get("check", "")), "outcome": str(c.get("outcome", "")), "purged": True}
        for c in checks or []
        if isinstance(c, dict)
    ]


def _purge_case(
    db: Database, who: Principal, case_id: uuid.UUID, items: list[DueDocument], today: dt.date
) -> tuple[list[DueDocument], list[DueDocument]]:
    """Tombstone the due documents of one case in one transaction; returns (purged, held meanwhile)."""
    purged: list[DueDocument] = []
    held: list[DueDocument] = []
    with db.write() as s:
        case = s.get(Case, case_id, with_for_update=True)
        if case is None or case.status != Status.CLOSED.value or case.closed_at is None:
            return purged, held  # reopened meanwhile: nothing is due any more
        case_held = case_id in held_case_ids(s, {case_id})
        now = utcnow()
        for item in items:
            doc = s.scalars(select(Document).where(Document.id == item.document_id).with_for_update()).first()
            if doc is None or doc.deleted_at is not None:
                continue
            if doc.legal_hold or case_held:
                held.append(item)
                continue
            if case.closed_at != item.closed_at:
                continue  # closed again meanwhile: the period starts over
            doc.deleted_at = now
            doc.checks = _without_personal_data(doc.checks)
            doc.version += 1
            audit.append(s, actor_id=who.user_id, action=PURGE_ACTION, case_id=case_id,
                         data={"document_id": doc.id, "kind": doc.kind, "name": doc.original_name, "sha256": doc.sha256,
                               "size": doc.size, "retention_days": item.retention_days, "rule": item.reason,
                               "closed_at": item.closed_at, "expires_on": item.expires_on, "today": today})  # fmt: skip
            purged.append(item)
    return purged, held


def apply_retention(db: Database, who: Principal, *, today: dt.date | None = None, dry_run: bool = True) -> RetentionReport:
    """Report (``dry_run``) or purge the documents of closed cases past their retention period.

    Purging deletes a document's bytes when no other live document row uses them, sets its
    ``deleted_at`` (the row stays, as a tombstone with its metadata) and records ``document.purge``.
    """
    from casework.services.documents import blob_store

    require(who, Perm.RETENTION_MANAGE)
    today = today or utcnow().date()
    with db.read() as s:
        due, held, open_count = _due_documents(s, today)
    report = RetentionReport(today=today, dry_run=dry_run, due=due, purged=[], skipped_legal_hold=held, skipped_open_case=open_count)
    if dry_run or not due:
        return report
    by_case: dict[uuid.UUID, list[DueDocument]] = {}
    for item in due:
        by_case.setdefault(item.case_id, []).append(item)
    store = blob_store(db)
    for case_id, items in by_case.items():
        purged, held_now = _purge_case(db, who, case_id, items, today)
        report.skipped_legal_hold.extend(held_now)
        report.purged.extend(i.document_id for i in purged)
        for sha in sorted({i.sha256 for i in purged}):
            with db.read() as s:
                shared = s.scalars(select(Document.id).where(Document.sha256 == sha, Document.deleted_at.is_(None)).limit(1)).first()
            if shared is not None:
                report.blobs_shared += 1
            elif store.delete(sha):
                report.blobs_deleted += 1
    return report
