"""Case use cases: open, read, edit, assign, list and search."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.model import CaseTypeDef
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import InvalidInput
from casework.domain.lifecycle import MoveKind, Phase, Status
from casework.domain.references import format_reference
from casework.services import workflow
from casework.services.casetypes import definition_for
from casework.services.common import (
    apply_changes,
    case_view,
    check_version,
    load,
    load_case,
    record_access,
    require,
    require_version,
    snapshot,
)
from casework.services.schemas import (
    AssignRequest,
    CaseCreate,
    CaseFilter,
    CasePage,
    CaseUpdate,
    CaseView,
    NoteVisibility,
    PartyRole,
    SortKey,
)
from casework.services.sharing import shared_parts
from casework.store import search
from casework.store.models import Case, CaseParty, Note, Party, PhaseChange, ReferenceCounter, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases

CASE_FIELDS = [
    "reference", "case_type", "title", "description", "status", "phase", "priority", "risk_score",
    "assignee_id", "team", "customer_party_id", "custom_data", "due_date",
]  # fmt: skip


def _next_reference(session: Session, year: int) -> str:
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(ReferenceCounter)
    stmt = (
        ins.values(year=year, last=1)
        .on_conflict_do_update(index_elements=[ReferenceCounter.year], set_={"last": ReferenceCounter.last + 1})
        .returning(ReferenceCounter.last)
    )
    number = session.execute(stmt).scalar_one()
    return format_reference(year, number)


def _check_refs(session: Session, assignee_id: uuid.UUID | None, party_id: uuid.UUID | None) -> None:
    if assignee_id is not None:
        load(session, User, assignee_id, "user", "assignee_id")
    if party_id is not None:
        load(session, Party, party_id, "party", "customer_party_id")


def create_case(db: Database, who: Principal, cmd: CaseCreate, *, opened_at: dt.datetime | None = None) -> CaseView:
    require(who, Perm.CASE_CREATE)
    team = cmd.team
    if team is None and who.teams:
        team = sorted(who.teams)[0]  # a worker's new case lands in their team, so they keep seeing it
    with db.write() as s:
        _check_refs(s, cmd.assignee_id, cmd.customer_party_id)
        defn = definition_for(s, cmd.case_type)
        _check_fields(defn, cmd.custom_data)
        now = opened_at or utcnow()
        case = Case(
            reference=_next_reference(s, now.year),
            case_type=cmd.case_type,
            case_type_version=defn.version,
            title=cmd.title,
            description=cmd.description,
            status=Status.OPEN.value,
            phase=Phase.SCREENING.value,
            priority=cmd.priority.value,
            risk_score=cmd.risk_score,
            assignee_id=cmd.assignee_id,
            team=team,
            customer_party_id=cmd.customer_party_id,
            custom_data=cmd.custom_data,
            due_date=cmd.due_date,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        s.flush()
        if cmd.customer_party_id:
            s.add(CaseParty(case_id=case.id, party_id=cmd.customer_party_id, role=PartyRole.CUSTOMER.value))
        s.add(PhaseChange(case_id=case.id, seq=1, from_phase=None, to_phase=Phase.SCREENING.value,
                          kind=MoveKind.OPEN.value, actor_id=who.user_id, at=now))  # fmt: skip
        search.index_case(s, case.id, f"{case.reference}\n{case.title}\n{case.description}")
        audit.append(s, actor_id=who.user_id, action="case.create", case_id=case.id, data={"fields": snapshot(case, CASE_FIELDS)})
        workflow.on_opened(s, case, defn, who, now)
        s.flush()
        return case_view(case, who)


def _check_fields(defn: CaseTypeDef, data: dict[str, Any]) -> None:
    """Custom fields must satisfy the type's JSON Schema; the first problem names its field, all are listed."""
    problems = defn.validate_fields(data)
    if problems:
        named = [("custom_data" + p.field.removeprefix("fields"), p.message) for p in problems]
        field, message = named[0]
        raise InvalidInput(f"{field}: {message}", field=field, errors=[{"field": f, "message": m} for f, m in named])


def get_case(db: Database, who: Principal, key: str | uuid.UUID) -> CaseView:
    require(who, Perm.CASE_READ)
    with db.write() as s:
        case = load_case(s, key, who)
        record_access(s, who, case.id, "case")
        return case_view(case, who)


def update_case(db: Database, who: Principal, key: str | uuid.UUID, cmd: CaseUpdate, *, if_match: int | None = None) -> CaseView:
    require(who, Perm.CASE_UPDATE)
    require_version(cmd.version, if_match)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        check_version(case.version, cmd.version, if_match)
        given = cmd.model_dump(exclude_unset=True, exclude={"version"})
        _check_refs(s, given.get("assignee_id"), given.get("customer_party_id"))
        defn = definition_for(s, case.case_type, case.case_type_version)
        if "custom_data" in given:
            _check_fields(defn, given["custom_data"] or {})
        changes = apply_changes(case, given)
        if not changes:
            return case_view(case, who)
        case.updated_at = utcnow()
        if "priority" in changes:
            workflow.priority_changed(s, case, defn, case.updated_at)
        if "customer_party_id" in changes and case.customer_party_id:
            _link_customer(s, case.id, case.customer_party_id)
        if "title" in changes or "description" in changes:
            search.replace_body(s, case.id, _search_body(s, case))
        audit.append(s, actor_id=who.user_id, action="case.update", case_id=case.id, data={"changes": changes})
        s.flush()
        return case_view(case, who)


def _link_customer(s: Session, case_id: uuid.UUID, party_id: uuid.UUID) -> None:
    exists = s.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.party_id == party_id,
                                               CaseParty.role == PartyRole.CUSTOMER.value)).first()  # fmt: skip
    if not exists:
        s.add(CaseParty(case_id=case_id, party_id=party_id, role=PartyRole.CUSTOMER.value))


def _search_body(s: Session, case: Case) -> str:
    notes = s.scalars(select(Note.body).where(Note.case_id == case.id).order_by(Note.created_at)).all()
    return "\n".join([case.reference, case.title, case.description, *notes])


def assign_case(db: Database, who: Principal, key: str | uuid.UUID, cmd: AssignRequest, *, if_match: int | None = None) -> CaseView:
    require(who, Perm.CASE_ASSIGN)
    with db.write() as s:
        case = load_case(s, key, who, for_update=True)
        check_version(case.version, cmd.version, if_match)
        _check_refs(s, cmd.assignee_id, None)
        before = {"assignee_id": case.assignee_id, "team": case.team}
        case.assignee_id = cmd.assignee_id
        if "team" in cmd.model_fields_set:
            case.team = cmd.team
        after = {"assignee_id": case.assignee_id, "team": case.team}
        if before != after:
            case.updated_at = utcnow()
            audit.append(s, actor_id=who.user_id, action="case.assign", case_id=case.id, data={"before": before, "after": after})
            s.flush()
        return case_view(case, who)


# ---------------------------------------------------------------- listing

#: Stand-ins for missing values so keyset pagination can compare them (sorted last / lowest).
NO_DUE_DATE = dt.date(9999, 12, 31)
NO_RISK_SCORE = -1

_SORT_COLUMNS: dict[str, Any] = {
    "created_at": Case.created_at,
    "updated_at": Case.updated_at,
    "priority": Case.priority,
    "due_date": func.coalesce(Case.due_date, NO_DUE_DATE),
    "reference": Case.reference,
    "risk_score": func.coalesce(Case.risk_score, NO_RISK_SCORE),
}


def _encode_cursor(sort: str, value: Any, case_id: uuid.UUID) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    raw = json.dumps([sort, value, str(case_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    """Parse a cursor from the client; anything we did not issue is a 422, never a crash in the database."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != 3:
            raise ValueError("malformed cursor")
        name, value, cid = parts
        if name != sort:
            raise ValueError("cursor was made for another sort order")
        if not isinstance(cid, str):
            raise ValueError("bad cursor id")
        field = sort.lstrip("-")
        if field in ("created_at", "updated_at"):
            if not isinstance(value, str):
                raise ValueError("bad cursor value")
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            value = value.astimezone(dt.UTC)  # may overflow near year 1 or 9999: OverflowError
        elif field == "due_date":
            if not isinstance(value, str):
                raise ValueError("bad cursor value")
            value = dt.date.fromisoformat(value)
        elif field == "risk_score":
            # Only the stored scores (0..100) or the -1 that stands for "no score" were ever issued.
            if isinstance(value, bool) or not isinstance(value, int) or not NO_RISK_SCORE <= value <= 100:
                raise ValueError("bad cursor value")
        elif not isinstance(value, str) or len(value) > 300 or "\x00" in value:
            raise ValueError("bad cursor value")
        else:
            value.encode("utf-8")  # lone surrogates cannot be sent to the database
        return value, uuid.UUID(cid)
    except (ValueError, TypeError, OverflowError) as exc:
        # JSONDecodeError, UnicodeDecodeError/UnicodeEncodeError and binascii.Error are ValueErrors.
        raise InvalidInput(f"invalid cursor: {exc}", field="cursor") from exc


def _text_condition(s: Session, who: Principal, query: str) -> Any:
    """Cases whose text matches every word of ``query``, judged only on text ``who`` may read.

    The search index holds internal notes too. For a customer or third party each hit is
    re-checked against the reference, title, description and the notes they may read, or a
    search for a word would tell them it appears in an internal note on their case.
    """
    matching = search.matching_case_ids(s.get_bind().dialect.name, query)
    if who.can(Perm.NOTE_INTERNAL_READ):
        return Case.id.in_(matching)
    hits = s.scalars(select(Case).where(visible_cases(who, utcnow()), Case.id.in_(matching))).all()
    keep = []
    for case in hits:
        readable = [case.reference, case.title, case.description]
        if who.role is not Role.THIRD_PARTY or "notes" in shared_parts(s, who, case.id):
            shared = select(Note.body).where(Note.case_id == case.id, Note.visibility == NoteVisibility.SHARED.value)
            readable.extend(s.scalars(shared))
        if search.matches(query, "\n".join(readable)):
            keep.append(case.id)
    return Case.id.in_(keep)


def apply_filter(s: Session, stmt: Any, f: CaseFilter, who: Principal) -> Any:
    conds = [visible_cases(who, utcnow())]
    if f.status:
        conds.append(Case.status == f.status.value)
    if f.phase:
        conds.append(Case.phase == f.phase.value)
    if f.case_type:
        conds.append(Case.case_type == f.case_type)
    if f.priority:
        conds.append(Case.priority == f.priority.value)
    if f.assignee_id:
        conds.append(Case.assignee_id == f.assignee_id)
    if f.team:
        conds.append(Case.team == f.team)
    if f.customer_party_id:
        conds.append(Case.customer_party_id == f.customer_party_id)
    day = dt.timedelta(days=1)
    if f.created_from:
        conds.append(Case.created_at >= dt.datetime.combine(f.created_from, dt.time(), dt.UTC))
    if f.created_to:
        conds.append(Case.created_at < dt.datetime.combine(f.created_to + day, dt.time(), dt.UTC))
    if f.due_from:
        conds.append(Case.due_date >= f.due_from)
    if f.due_to:
        conds.append(Case.due_date <= f.due_to)
    if f.q:
        conds.append(_text_condition(s, who, f.q))
    return stmt.where(and_(*conds))


def list_cases(
    db: Database, who: Principal, f: CaseFilter, *, sort: SortKey = SortKey.CREATED_DESC, cursor: str | None = None, limit: int = 50
) -> CasePage:
    require(who, Perm.CASE_READ)
    limit = max(1, min(limit, 500))
    field = sort.value.lstrip("-")
    desc = sort.value.startswith("-")
    col = _SORT_COLUMNS[field]
    with db.read() as s:
        stmt = apply_filter(s, select(Case), f, who)
        if cursor:
            value, last_id = _decode_cursor(cursor, sort.value)
            if desc:
                stmt = stmt.where(or_(col < value, and_(col == value, Case.id < last_id)))
            else:
                stmt = stmt.where(or_(col > value, and_(col == value, Case.id > last_id)))
        order = (col.desc(), Case.id.desc()) if desc else (col.asc(), Case.id.asc())
        rows = s.scalars(stmt.order_by(*order).limit(limit + 1)).all()
        items = [case_view(c, who) for c in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            value = {
                "due_date": last.due_date or NO_DUE_DATE,
                "risk_score": last.risk_score if last.risk_score is not None else NO_RISK_SCORE,
            }.get(field, getattr(last, field))
            next_cursor = _encode_cursor(sort.value, value, last.id)
        return CasePage(items=items, next_cursor=next_cursor)


def count_cases(db: Database, who: Principal, f: CaseFilter) -> int:
    require(who, Perm.CASE_READ)
    with db.read() as s:
        stmt = apply_filter(s, select(func.count()).select_from(Case), f, who)
        return int(s.execute(stmt).scalar_one())


def search_cases(db: Database, who: Principal, query: str, limit: int = 20) -> list[CaseView]:
    """Best matches first, among the cases the principal may see."""
    require(who, Perm.CASE_READ)
    limit = max(1, min(limit, 200))
    with db.read() as s:
        matches = search.ranked_matches(s.get_bind().dialect.name, query)
        stmt = (
            select(Case)
            .join(matches, matches.c.case_id == Case.id)
            .where(visible_cases(who, utcnow()))
            .order_by(matches.c.rank, Case.id)
            .limit(limit)
        )
        if not who.can(Perm.NOTE_INTERNAL_READ):
            stmt = stmt.where(_text_condition(s, who, query))
        return [case_view(c, who) for c in s.scalars(stmt)]
