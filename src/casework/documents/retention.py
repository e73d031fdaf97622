"""Retention periods of documents, as pure functions (no database, no clock).

A document is kept for a number of days *after its case closes*: the days its kind sets in the
case type (``documents[].retention_days``), else the type-wide ``document_retention_days``
(also used for kind "other" and for kinds a later version dropped). It becomes *due* for purging
the day after that period ends, i.e. when ``closed_on + days < today``. A document of an open case
is never due (a reopened case starts again from its next closure), and neither is one under legal
hold, however old.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from casework.casetypes.model import CaseTypeDef

#: Used when a definition cannot be read: ten years, the longest common statutory period.
FALLBACK_DAYS = 3650


class Verdict(str, enum.Enum):
    DUE = "due"  # past its retention period: to be purged
    KEEP = "keep"  # still within its retention period
    OPEN_CASE = "open_case"  # the case is open (never due)
    LEGAL_HOLD = "legal_hold"  # past its period, but held
    DELETED = "deleted"  # already purged


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep each kind after closure, with the type's default for the rest."""

    case_type: str
    version: int
    default_days: int = FALLBACK_DAYS
    kinds: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, defn: CaseTypeDef) -> RetentionPolicy:
        kinds = {d.kind: d.retention_days for d in defn.documents if d.retention_days is not None}
        return cls(case_type=defn.key, version=defn.version, default_days=defn.document_retention_days, kinds=kinds)

    def days_for(self, kind: str) -> int:
        return self.kinds.get(kind, self.default_days)

    def rule_for(self, kind: str) -> str:
        """Where the period comes from, for reports and the audit trail."""
        where = f"documents.{kind}.retention_days" if kind in self.kinds else "document_retention_days"
        return f"{self.case_type} v{self.version} {where} = {self.days_for(kind)}"


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    retention_days: int
    closed_on: dt.date | None = None
    expires_on: dt.date | None = None  # the last day the document is kept

    @property
    def past_retention(self) -> bool:
        return self.verdict in (Verdict.DUE, Verdict.LEGAL_HOLD)


def closed_on(closed_at: dt.datetime | dt.date) -> dt.date:
    """The calendar day (UTC) a case closed."""
    if isinstance(closed_at, dt.datetime):
        if closed_at.tzinfo is None:
            closed_at = closed_at.replace(tzinfo=dt.UTC)
        return closed_at.astimezone(dt.UTC).date()
    return closed_at


def expires_on(closed_at: dt.datetime | dt.date, retention_days: int) -> dt.date:
    """The last day a document is kept: the closure day plus the retention period."""
    if retention_days < 1:
        raise ValueError("a retention period is at least one day")
    return closed_on(closed_at) + dt.timedelta(days=retention_days)


def is_due(closed_at: dt.datetime | dt.date | None, retention_days: int, today: dt.date) -> bool:
    """True once the retention period after closure has fully passed (never for an open case)."""
    return closed_at is not None and expires_on(closed_at, retention_days) < today


def assess(
    *,
    kind: str,
    policy: RetentionPolicy,
    case_closed: bool,
    closed_at: dt.datetime | dt.date | None,
    today: dt.date,
    legal_hold: bool = False,
    deleted: bool = False,
) -> Assessment:
    """What retention says about one document today."""
    days = policy.days_for(kind)
    if deleted:
        return Assessment(Verdict.DELETED, days)
    if not case_closed or closed_at is None:
        return Assessment(Verdict.OPEN_CASE, days)
    day, last = closed_on(closed_at), expires_on(closed_at, days)
    if last >= today:
        return Assessment(Verdict.KEEP, days, day, last)
    return Assessment(Verdict.LEGAL_HOLD if legal_hold else Verdict.DUE, days, day, last)
