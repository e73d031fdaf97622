"""Case-type registry: installed definitions are versioned rows; a case keeps the version it was opened with.

Definitions are immutable once installed (a change is a new version), so a parsed definition
can be cached for the life of the process by (key, version, checksum).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.casetypes.diff import diff_definitions, format_diff
from casework.casetypes.loader import (
    CaseTypeError,
    definition_from_dict,
    load_case_type_text,
    shipped_case_type_files,
    validate_case_type_text,
)
from casework.casetypes.model import CaseTypeDef
from casework.domain.access import Perm, Principal
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.services.common import require
from casework.services.workflow_schemas import (
    CaseTypeDetail,
    CaseTypeSummary,
    CaseTypeVersionView,
    Change,
    DefinitionProblem,
    DiffView,
    ValidationReport,
)
from casework.store.models import CaseTypeVersion
from casework.store.unit_of_work import Database


def _checksum(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def shipped_sources() -> dict[str, str]:
    """The YAML text of each case type shipped with casework, by file name."""
    return {name: text for _defn, name, text in shipped_case_type_files()}


#: Parsed definitions by (key, version, checksum): installed versions never change, so each is parsed once.
_DEFINITIONS: dict[tuple[str, int, str], CaseTypeDef] = {}


def definition_of(row: CaseTypeVersion) -> CaseTypeDef:
    cache_key = (row.key, row.version, row.checksum)
    found = _DEFINITIONS.get(cache_key)
    if found is None:
        found = _DEFINITIONS[cache_key] = definition_from_dict(row.definition)
    return found


def _problem(err: CaseTypeError) -> DefinitionProblem:
    return DefinitionProblem(file=err.file, line=err.line, field=err.field, message=err.message)


def known_tables(s: Session) -> set[str]:
    """Decision tables a definition may name: those in the database and those shipped."""
    from casework.services import rulesets

    return rulesets.table_names(s)


def _install(s: Session, who_id: uuid.UUID | None, defn: CaseTypeDef, source: str) -> tuple[CaseTypeVersion, bool]:
    """Store ``defn`` unless that exact version is there already; a different body under a used version is refused."""
    data = defn.model_dump(mode="json")
    checksum = _checksum(data)
    existing = s.scalars(select(CaseTypeVersion).where(CaseTypeVersion.key == defn.key, CaseTypeVersion.version == defn.version)).first()
    if existing is not None:
        if existing.checksum == checksum:
            return existing, False
        raise DomainError(
            f"version {defn.version} of case type {defn.key} is already installed with a different definition; raise 'version'",
            field="version",
        )
    latest = s.execute(select(func.max(CaseTypeVersion.version)).where(CaseTypeVersion.key == defn.key)).scalar()
    if latest is not None and defn.version < latest:
        raise DomainError(f"case type {defn.key} is already at version {latest}; a new version must be higher", field="version")
    row = CaseTypeVersion(
        key=defn.key, version=defn.version, name=defn.name, definition=data, source=source, checksum=checksum, installed_by=who_id
    )
    s.add(row)
    s.flush()
    audit.append(s, actor_id=who_id, action="casetype.install", data={"key": defn.key, "version": defn.version, "checksum": checksum})
    return row, True


def install_shipped_in(s: Session, who_id: uuid.UUID | None = None, only: str | None = None) -> list[tuple[str, int, bool]]:
    """Install the shipped definitions that are missing or newer than the installed ones (idempotent; cases
    keep the version they were opened with); returns (key, version, newly installed)."""
    from casework.services import rulesets

    rulesets.install_shipped_tables_in(s, who_id)
    done = []
    for defn, _name, text in shipped_case_type_files():
        if only is not None and defn.key != only:
            continue
        present = s.execute(select(func.max(CaseTypeVersion.version)).where(CaseTypeVersion.key == defn.key)).scalar()
        if present is not None and present >= defn.version:
            done.append((defn.key, defn.version, False))
            continue
        row, new = _install(s, who_id, defn, text)
        done.append((row.key, row.version, new))
    return done


def install_shipped(db: Database, who: Principal | None = None) -> list[tuple[str, int, bool]]:
    if who is not None:
        require(who, Perm.CASETYPE_MANAGE)
    with db.write() as s:
        return install_shipped_in(s, who.user_id if who else None)


def latest_row(s: Session, key: str) -> CaseTypeVersion:
    """The newest installed version of ``key``; shipped types are installed on first use."""
    stmt = select(CaseTypeVersion).where(CaseTypeVersion.key == key).order_by(CaseTypeVersion.version.desc()).limit(1)
    row = s.scalars(stmt).first()
    if row is None:
        shipped = {defn.key for defn, _name, _text in shipped_case_type_files()}
        if key in shipped:
            install_shipped_in(s, None, only=key)
            row = s.scalars(stmt).first()
        if row is None:
            # The shipped types count as known before their first use installs them.
            known = sorted(set(s.scalars(select(CaseTypeVersion.key))) | shipped)
            raise InvalidInput(f"unknown case type '{key}'; known case types: {', '.join(known) or 'none'}", field="case_type")
    return row


def definition_for(s: Session, key: str, version: int | None = None) -> CaseTypeDef:
    """The definition a case follows: the version it was opened with, else the latest."""
    if version is None:
        return definition_of(latest_row(s, key))
    row = s.scalars(select(CaseTypeVersion).where(CaseTypeVersion.key == key, CaseTypeVersion.version == version)).first()
    if row is None:
        return definition_of(latest_row(s, key))
    return definition_of(row)


# ---------------------------------------------------------------- use cases


def validate_source(db: Database, who: Principal, source: str, filename: str = "case-type.yaml") -> ValidationReport:
    require(who, Perm.CASETYPE_READ)
    with db.read() as s:
        tables = known_tables(s)
    errors = validate_case_type_text(source, filename=filename, known_tables=tables)
    if errors:
        return ValidationReport(valid=False, errors=[_problem(e) for e in errors])
    defn = load_case_type_text(source, filename=filename, known_tables=tables)
    return ValidationReport(valid=True, key=defn.key, version=defn.version)


def install_source(db: Database, who: Principal, source: str, filename: str = "case-type.yaml") -> CaseTypeVersionView:
    require(who, Perm.CASETYPE_MANAGE)
    with db.write() as s:
        try:
            defn = load_case_type_text(source, filename=filename, known_tables=known_tables(s))
        except CaseTypeError as exc:
            raise InvalidInput(str(exc), field="source", line=exc.line, path=exc.field) from None
        row, _new = _install(s, who.user_id, defn, source)
        return CaseTypeVersionView.model_validate(row)


def _shipped_missing(rows: Sequence[CaseTypeVersion]) -> bool:
    newest: dict[str, int] = {}
    for row in rows:
        newest[row.key] = max(newest.get(row.key, 0), row.version)
    return any(newest.get(defn.key, 0) < defn.version for defn, _name, _text in shipped_case_type_files())


def list_case_types(db: Database, who: Principal) -> list[CaseTypeSummary]:
    """Every installed case type with its versions; pages call this often, so it only writes (to
    install the shipped types) when one is missing or older than the shipped file."""
    require(who, Perm.CASETYPE_READ)
    stmt = select(CaseTypeVersion).order_by(CaseTypeVersion.key, CaseTypeVersion.version)
    with db.read() as s:
        rows = s.scalars(stmt).all()
        if not _shipped_missing(rows):
            return _summaries(rows)
    with db.write() as s:
        install_shipped_in(s)  # a fresh database lists the shipped kinds too
        return _summaries(s.scalars(stmt).all())


def _summaries(rows: Sequence[CaseTypeVersion]) -> list[CaseTypeSummary]:
    versions: dict[str, list[CaseTypeVersion]] = {}
    for row in rows:
        versions.setdefault(row.key, []).append(row)
    out = []
    for key, items in versions.items():
        defn = definition_of(items[-1])
        out.append(
            CaseTypeSummary(
                key=key,
                name=defn.name,
                description=defn.description,
                latest_version=items[-1].version,
                versions=[r.version for r in items],
                outcomes=list(defn.outcomes),
                questionnaires=[q.key for q in defn.questionnaires],
            )
        )
    return out


def _row(s: Session, key: str, version: int | None) -> CaseTypeVersion:
    if version is None:
        try:
            return latest_row(s, key)
        except InvalidInput:
            raise NotFound(f"case type {key} not found", field="key") from None
    row = s.scalars(select(CaseTypeVersion).where(CaseTypeVersion.key == key, CaseTypeVersion.version == version)).first()
    if row is None:
        raise NotFound(f"case type {key} has no version {version}", field="version")
    return row


def get_case_type(db: Database, who: Principal, key: str, version: int | None = None) -> CaseTypeDetail:
    require(who, Perm.CASETYPE_READ)
    with db.write() as s:
        row = _row(s, key, version)
        return CaseTypeDetail(
            key=row.key,
            version=row.version,
            name=row.name,
            checksum=row.checksum,
            installed_at=row.installed_at,
            definition=row.definition,
            source=row.source,
        )


def diff_case_type(
    db: Database, who: Principal, key: str, from_version: int, to_version: int | None = None, *, source: str | None = None
) -> DiffView:
    """Compare two installed versions, or an installed version with a candidate text not yet installed."""
    require(who, Perm.CASETYPE_READ)
    with db.write() as s:
        old = _row(s, key, from_version)
        if source is not None:
            try:
                new_defn = load_case_type_text(source, filename="candidate.yaml", known_tables=known_tables(s))
            except CaseTypeError as exc:
                raise InvalidInput(str(exc), field="source", line=exc.line, path=exc.field) from None
            new_data: dict[str, Any] = new_defn.model_dump(mode="json")
            label: int | str = f"candidate (version {new_defn.version})"
        else:
            new = _row(s, key, to_version)
            new_data, label = new.definition, new.version
        changes = diff_definitions(old.definition, new_data)
        return DiffView(
            key=key,
            from_version=old.version,
            to_version=label,
            changes=[Change(path=c.path, kind=c.kind, before=c.before, after=c.after) for c in changes],
            text=format_diff(changes),
        )
