"""Read models for the customer and third-party portal: a case as its customer or partner sees it.

The portal shows a customer (or a third party a case is shared with) their cases in plain words,
and what is expected of them: the documents the case team asked for and has not received yet.
Visibility is the one of every other use case (``visible_cases``); what a third party sees
beyond the summary is limited to the parts shared with them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from casework.domain.access import Perm, Principal, Role
from casework.services.casetypes import definition_for
from casework.services.common import case_view, load_case, record_access, require
from casework.services.documents import OTHER
from casework.services.schemas import CaseView
from casework.services.sharing import shared_parts
from casework.store.models import Case, CaseTypeVersion, DocumentRequest
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases

#: What a customer sees of their own case besides the summary.
CUSTOMER_PARTS = ("documents", "messages", "notes")


class ExpectedDocument(BaseModel):
    """A document the case team asked for and has not received yet."""

    request_id: uuid.UUID
    kind: str
    title: str
    reason: str
    requested_at: dt.datetime


class PortalCaseRow(BaseModel):
    case: CaseView
    case_type_name: str
    open_requests: int = 0


class PortalCase(BaseModel):
    case: CaseView
    case_type_name: str
    #: The parts shown besides the summary: documents, messages, notes (customers); tasks, notes, documents (as shared).
    parts: list[str]
    expected: list[ExpectedDocument]
    #: The kinds of document the case type knows, kind → title (``other`` last), for the upload form.
    document_kinds: dict[str, str]


def _parts(s: Session, who: Principal, case_id: uuid.UUID) -> list[str]:
    if who.role is Role.THIRD_PARTY:
        return sorted(shared_parts(s, who, case_id))
    return list(CUSTOMER_PARTS)


def portal_cases(db: Database, who: Principal, *, limit: int = 200) -> list[PortalCaseRow]:
    """The principal's visible cases, open ones first and most recently changed first, with their open document requests."""
    require(who, Perm.CASE_READ)
    limit = max(1, min(limit, 500))
    with db.read() as s:
        rows = s.scalars(
            select(Case).where(visible_cases(who, utcnow())).order_by(Case.status.desc(), Case.updated_at.desc(), Case.id).limit(limit)
        ).all()
        ids = [c.id for c in rows]
        counts: dict[uuid.UUID, int] = {}
        if ids and who.can(Perm.DOCUMENT_UPLOAD):
            counts = {
                case_id: int(n)
                for case_id, n in s.execute(
                    select(DocumentRequest.case_id, func.count())
                    .where(DocumentRequest.case_id.in_(ids), DocumentRequest.fulfilled_at.is_(None))
                    .group_by(DocumentRequest.case_id)
                )
            }
        names: dict[tuple[str, int], str] = {}
        wanted = {(c.case_type, c.case_type_version) for c in rows}
        if wanted:
            found = s.execute(
                select(CaseTypeVersion.key, CaseTypeVersion.version, CaseTypeVersion.name).where(
                    tuple_(CaseTypeVersion.key, CaseTypeVersion.version).in_(sorted(wanted))
                )
            )
            names = {(key, version): name for key, version, name in found}
        return [
            PortalCaseRow(
                case=case_view(c, who),
                case_type_name=names.get((c.case_type, c.case_type_version), c.case_type),
                open_requests=counts.get(c.id, 0),
            )
            for c in rows
        ]


def portal_case(db: Database, who: Principal, key: str | uuid.UUID) -> PortalCase:
    """One case as the portal shows it; a case outside the principal's visibility is a 404 like any other."""
    require(who, Perm.CASE_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        record_access(s, who, case.id, "case")
        defn = definition_for(s, case.case_type, case.case_type_version)
        titles = {d.kind: d.title for d in defn.documents}
        expected: list[ExpectedDocument] = []
        if who.can(Perm.DOCUMENT_UPLOAD):
            for req in s.scalars(
                select(DocumentRequest)
                .where(DocumentRequest.case_id == case.id, DocumentRequest.fulfilled_at.is_(None))
                .order_by(DocumentRequest.requested_at, DocumentRequest.id)
            ):
                expected.append(
                    ExpectedDocument(
                        request_id=req.id,
                        kind=req.kind,
                        title=titles.get(req.kind, req.kind.replace("_", " ")),
                        reason=req.reason,
                        requested_at=req.requested_at,
                    )
                )
        kinds = dict(titles)
        kinds.setdefault(OTHER, "Other document")
        return PortalCase(
            case=case_view(case, who),
            case_type_name=defn.name,
            parts=_parts(s, who, case.id),
            expected=expected,
            document_kinds=kinds,
        )
