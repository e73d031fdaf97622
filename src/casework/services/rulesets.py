"""Decision tables as versioned rule sets: drafts are edited, simulated on past cases, then published.

Exactly one version of a table is published at a time; publishing retires the previous one,
and every decision records the version it was taken with, so old explanations stay true.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.loader import CaseTypeError, load_table_text, shipped_tables
from casework.decisions.tables import CompiledTable, DecisionError, TableError, compile_table, parse_table, table_to_dict
from casework.domain.access import Perm, Principal
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.services.common import require
from casework.services.workflow_schemas import (
    DraftCreate,
    SimulationExample,
    SimulationReport,
    TableStatus,
    TableSummary,
    TableVersionView,
)
from casework.store.models import Case, CaseTypeVersion, DecisionTableVersion
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


@functools.lru_cache(maxsize=512)
def _compiled(name: str, version: int, definition_json: str) -> CompiledTable:
    return compile_table(parse_table(json.loads(definition_json)))


def compiled(row: DecisionTableVersion) -> CompiledTable:
    """Compile a stored version once per process; stored versions never change after publication."""
    return _compiled(row.name, row.version, json.dumps(row.definition, sort_keys=True))


def table_names(s: Session) -> set[str]:
    stored = set(s.scalars(select(DecisionTableVersion.name).distinct()))
    return stored | {t.name for t in shipped_tables()}


def install_shipped_tables_in(s: Session, who_id: uuid.UUID | None = None) -> int:
    """Publish version 1 of every shipped table that has no version yet; returns how many were added."""
    present = set(s.scalars(select(DecisionTableVersion.name).distinct()))
    added = 0
    for table in shipped_tables():
        if table.name in present:
            continue
        s.add(
            DecisionTableVersion(
                name=table.name,
                version=1,
                status=TableStatus.PUBLISHED.value,
                definition=table_to_dict(table),
                comment="shipped with casework",
                created_by=who_id,
                published_by=who_id,
                published_at=utcnow(),
            )
        )
        added += 1
    if added:
        s.flush()
    return added


def published_row(s: Session, name: str) -> DecisionTableVersion | None:
    stmt = select(DecisionTableVersion).where(DecisionTableVersion.name == name, DecisionTableVersion.status == TableStatus.PUBLISHED.value)
    row = s.scalars(stmt).first()
    if row is None and name in {t.name for t in shipped_tables()}:
        install_shipped_tables_in(s)
        row = s.scalars(stmt).first()
    return row


def _version_row(s: Session, name: str, version: int) -> DecisionTableVersion:
    row = s.scalars(select(DecisionTableVersion).where(DecisionTableVersion.name == name, DecisionTableVersion.version == version)).first()
    if row is None:
        raise NotFound(f"decision table {name} has no version {version}", field="version")
    return row


def _used_by(s: Session) -> dict[str, list[str]]:
    """Which case types (latest versions) bind each table."""
    latest = select(CaseTypeVersion.key, func.max(CaseTypeVersion.version).label("v")).group_by(CaseTypeVersion.key).subquery()
    rows = s.scalars(
        select(CaseTypeVersion).join(latest, (latest.c.key == CaseTypeVersion.key) & (latest.c.v == CaseTypeVersion.version))
    ).all()
    used: dict[str, list[str]] = {}
    for row in rows:
        for binding in (row.definition.get("decisions") or {}).values():
            used.setdefault(binding["table"], []).append(row.key)
    return used


def _view(row: DecisionTableVersion) -> TableVersionView:
    return TableVersionView.model_validate(row)


# ---------------------------------------------------------------- use cases


def list_tables(db: Database, who: Principal) -> list[TableSummary]:
    require(who, Perm.RULES_READ)
    with db.write() as s:
        install_shipped_tables_in(s)
        rows = s.scalars(select(DecisionTableVersion).order_by(DecisionTableVersion.name, DecisionTableVersion.version)).all()
        used = _used_by(s)
        by_name: dict[str, list[DecisionTableVersion]] = {}
        for row in rows:
            by_name.setdefault(row.name, []).append(row)
        out = []
        for name, items in by_name.items():
            published = next((r.version for r in items if r.status == TableStatus.PUBLISHED.value), None)
            out.append(
                TableSummary(
                    name=name,
                    title=str(items[-1].definition.get("title") or name),
                    published_version=published,
                    latest_version=items[-1].version,
                    drafts=[r.version for r in items if r.status == TableStatus.DRAFT.value],
                    used_by=sorted(used.get(name, [])),
                )
            )
        return out


def get_table(db: Database, who: Principal, name: str, version: int | None = None) -> TableVersionView:
    """A given version, else the published one, else the newest draft."""
    require(who, Perm.RULES_READ)
    with db.write() as s:
        if version is not None:
            return _view(_version_row(s, name, version))
        row = published_row(s, name)
        if row is None:
            row = s.scalars(
                select(DecisionTableVersion).where(DecisionTableVersion.name == name).order_by(DecisionTableVersion.version.desc())
            ).first()
        if row is None:
            raise NotFound(f"decision table {name} not found", field="name")
        return _view(row)


def table_versions(db: Database, who: Principal, name: str) -> list[TableVersionView]:
    require(who, Perm.RULES_READ)
    with db.read() as s:
        rows = s.scalars(select(DecisionTableVersion).where(DecisionTableVersion.name == name).order_by(DecisionTableVersion.version)).all()
        if not rows:
            raise NotFound(f"decision table {name} not found", field="name")
        return [_view(r) for r in rows]


def _definition_from(cmd: DraftCreate) -> dict[str, Any]:
    if (cmd.definition is None) == (cmd.source is None):
        raise InvalidInput("send the table either as 'definition' (a JSON object) or as 'source' (YAML text)", field="definition")
    if cmd.definition is not None:
        return cmd.definition
    try:
        return table_to_dict(load_table_text(cmd.source or "", filename="draft.yaml"))
    except CaseTypeError as exc:
        raise InvalidInput(str(exc), field="source", line=exc.line, path=exc.field) from None


def create_draft(db: Database, who: Principal, name: str, cmd: DraftCreate) -> TableVersionView:
    """Save a new draft version; drafts never affect decisions until published."""
    require(who, Perm.RULES_MANAGE)
    data = _definition_from(cmd)
    data.setdefault("name", name)
    if data.get("name") != name:
        raise InvalidInput(f"the table is named {data.get('name')!r} but is saved as {name!r}", field="definition.name")
    try:
        table = parse_table(data)
    except TableError as exc:
        raise InvalidInput(str(exc), field=f"definition.{exc.path}" if exc.path else "definition") from None
    with db.write() as s:
        install_shipped_tables_in(s)
        latest = s.execute(select(func.max(DecisionTableVersion.version)).where(DecisionTableVersion.name == name)).scalar() or 0
        row = DecisionTableVersion(
            name=name,
            version=latest + 1,
            status=TableStatus.DRAFT.value,
            definition=table_to_dict(table),
            comment=cmd.comment,
            created_by=who.user_id,
        )
        s.add(row)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="rules.draft", data={"table": name, "version": row.version, "comment": cmd.comment})
        return _view(row)


def publish(db: Database, who: Principal, name: str, version: int) -> TableVersionView:
    require(who, Perm.RULES_MANAGE)
    with db.write() as s:
        row = _version_row(s, name, version)
        if row.status != TableStatus.DRAFT.value:
            raise DomainError(f"version {version} of {name} is {row.status}; only a draft can be published", field="version")
        previous = published_row(s, name)
        if previous is not None and previous.id != row.id:
            previous.status = TableStatus.RETIRED.value
            s.flush()  # one published version at a time, even inside this transaction
        row.status = TableStatus.PUBLISHED.value
        row.published_by = who.user_id
        row.published_at = utcnow()
        s.flush()
        audit.append(
            s,
            actor_id=who.user_id,
            action="rules.publish",
            data={"table": name, "version": version, "replaces": previous.version if previous else None},
        )
        return _view(row)


def simulate(db: Database, who: Principal, name: str, draft_version: int, last: int = 100) -> SimulationReport:
    """Replay a draft over the last ``last`` closed cases of the types that use the table; nothing is written."""
    from casework.services.decisions import context_for

    require(who, Perm.RULES_READ)
    with db.write() as s:
        draft_row = _version_row(s, name, draft_version)
        if draft_row.status != TableStatus.DRAFT.value:
            raise DomainError(f"version {draft_version} of {name} is {draft_row.status}, not a draft", field="draft")
        current_row = published_row(s, name)
        types = _used_by(s).get(name, [])
        stmt = select(Case).where(Case.status == "closed", Case.case_type.in_(types)).order_by(Case.closed_at.desc(), Case.id).limit(last)
        cases = s.scalars(stmt).all()
        draft = compiled(draft_row)
        current = compiled(current_row) if current_row else None
        changed = unchanged = errors = 0
        examples: list[SimulationExample] = []
        for case in cases:
            context = context_for(s, case)
            try:
                after = draft.evaluate(context)
                before = current.evaluate(context) if current else None
            except DecisionError:
                errors += 1
                continue
            before_out = before.outputs if before else {}
            if before_out == after.outputs:
                unchanged += 1
                continue
            changed += 1
            if len(examples) < 10:
                examples.append(
                    SimulationExample(
                        case_id=case.id,
                        reference=case.reference,
                        current=before_out,
                        draft=after.outputs,
                        current_rules=before.matched if before else [],
                        draft_rules=after.matched,
                    )
                )
        return SimulationReport(
            table=name,
            published_version=current_row.version if current_row else None,
            draft_version=draft_version,
            cases=len(cases),
            changed=changed,
            unchanged=unchanged,
            errors=errors,
            examples=examples,
        )
