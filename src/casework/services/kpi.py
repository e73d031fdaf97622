"""Key performance indicators for the reports page: a few aggregate queries over the cases.

Every aggregate is one ``GROUP BY`` query computed by the database, never a loop over cases in
Python. Dates are grouped by UTC day in SQL (the expression differs between SQLite and
PostgreSQL, see :func:`_day`) and the at most ``MAX_DAYS`` rows are folded into ISO weeks here.

Who sees what: staff with :attr:`Perm.SLA_REPORT` (supervisors, auditors, administrators) get
figures over every case; other staff (case workers) over the cases they may see
(``store.visibility.visible_cases``: their teams' cases and the ones assigned to them).
Customers and third parties get no figures at all.

Definitions:

* *open cases*: the cases open now, by phase and by priority (not limited to the period);
* *intake* and *closures*: cases created, and cases closed (``closed_at``; a case reopened since
  counts again when it closes again), per ISO week of the period;
* *time per phase*: completed stays in a phase (from the phase history: a stay ends with the
  next move) whose end falls in the period: the average exactly, the median to the hour (to the
  day beyond a week), from a histogram the database computes;
* *SLA compliance*: SLA clocks settled in the period, per ISO week and per case type: a clock is
  *met* when it was stopped by its deadline without a breach (settled when stopped), otherwise
  *missed* (settled at its deadline, whether it was breached, stopped late or still runs);
* *outcomes*: cases closed in the period by case type and outcome.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, extract, func, literal_column, or_, select, text, true
from sqlalchemy.orm import Session

from casework.domain.access import Perm, Principal
from casework.domain.errors import Forbidden, InvalidInput
from casework.domain.lifecycle import ORDER, Phase, Priority, Status
from casework.services.common import require
from casework.store.models import Case, CaseTypeVersion, PhaseChange, SlaClock
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases

#: The longest period a report covers (five years, leap days included).
MAX_DAYS = 5 * 365 + 2
#: The default period: the current ISO week and the eleven before it.
DEFAULT_WEEKS = 12
#: Stays shorter than this are put in hourly buckets for the median, longer ones in daily buckets.
HOURLY_UNTIL_SECONDS = 7 * 86400


# ---------------------------------------------------------------- the period and filters


@dataclass(frozen=True)
class Period:
    """The days ``start`` to ``end`` (both included, UTC), and optionally one case type."""

    start: dt.date
    end: dt.date
    case_type: str | None = None

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def end_at(self) -> dt.datetime:
        """The first moment after the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def weeks(self) -> list[Week]:
        """The ISO weeks the period touches, oldest first."""
        monday = self.start - dt.timedelta(days=self.start.weekday())
        out = []
        while monday <= self.end:
            year, number, _ = monday.isocalendar()
            out.append(Week(year, number, monday))
            monday += dt.timedelta(days=7)
        return out


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    monday: dt.date

    @property
    def key(self) -> str:
        """ISO 8601 week, ``2026-W07``."""
        return f"{self.year}-W{self.number:02d}"

    @classmethod
    def of(cls, day: dt.date) -> Week:
        year, number, weekday = day.isocalendar()
        return cls(year, number, day - dt.timedelta(days=weekday - 1))


def default_period(today: dt.date | None = None, case_type: str | None = None) -> Period:
    """The last twelve ISO weeks, this one included, up to today."""
    today = today or utcnow().date()
    monday = today - dt.timedelta(days=today.weekday())
    return Period(monday - dt.timedelta(weeks=DEFAULT_WEEKS - 1), today, case_type)


def _parse_day(text: str | None, field_name: str, problems: list[dict[str, str]]) -> dt.date | None:
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > 10:
        problems.append({"field": field_name, "message": "enter a date as YYYY-MM-DD"})
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append({"field": field_name, "message": "enter a date as YYYY-MM-DD"})
        return None


def parse_period(
    db: Database,
    who: Principal,
    start: str | None,
    end: str | None,
    case_type: str | None,
    *,
    today: dt.date | None = None,
    known_types: Collection[str] | None = None,
) -> Period:
    """The period asked for as text (``YYYY-MM-DD``; empty → the default), checked.

    ``known_types`` are the case type keys accepted (default: the installed ones).
    Raises :class:`InvalidInput` naming the first bad field (``from``, ``to`` or ``case_type``);
    every problem found is listed in its ``errors`` extra as ``{"field", "message"}``.
    """
    _scope(who)
    default = default_period(today)
    problems: list[dict[str, str]] = []
    first = _parse_day(start, "from", problems)
    last = _parse_day(end, "to", problems)
    kind = (case_type or "").strip() or None
    if known_types is None:
        known_types = {key for key, _name in case_types(db, who)} if kind is not None else ()
    if kind is not None and (len(kind) > 64 or kind not in known_types):
        problems.append({"field": "case_type", "message": "unknown case type"})
    if not problems:
        if first is None and last is None:
            first, last = default.start, default.end
        elif first is None:  # twelve ISO weeks up to the end asked for
            assert last is not None
            first = default_period(last).start
        elif last is None:  # from the start asked for up to today (twelve weeks when today is too far)
            last = (
                default.end if first <= default.end and (default.end - first).days < MAX_DAYS else first + dt.timedelta(weeks=12, days=-1)
            )
        if first > last:
            problems.append({"field": "to", "message": "the end date is before the start date"})
        elif (last - first).days + 1 > MAX_DAYS:
            problems.append({"field": "from", "message": "the period may cover at most five years"})
    if problems:
        raise InvalidInput(problems[0]["message"], field=problems[0]["field"], errors=problems)
    assert first is not None and last is not None
    return Period(first, last, kind)


def case_types(db: Database, who: Principal) -> list[tuple[str, str]]:
    """Installed case types as ``(key, name)`` (the name of the latest version), by key."""
    _scope(who)
    with db.read() as s:
        rows = s.execute(select(CaseTypeVersion.key, CaseTypeVersion.name).order_by(CaseTypeVersion.key, CaseTypeVersion.version))
        names = {key: name for key, name in rows}
    return sorted(names.items())


# ---------------------------------------------------------------- results


@dataclass
class OpenCases:
    by_phase: dict[str, int]  # every working phase, in lifecycle order
    by_priority: dict[str, int]  # P1..P4

    @property
    def total(self) -> int:
        return sum(self.by_phase.values())


@dataclass
class FlowWeek:
    week: Week
    intake: int = 0
    closed: int = 0


@dataclass
class PhaseTime:
    phase: str
    stays: int
    average_hours: float | None
    median_hours: float | None  # to the hour below a week, to the day beyond


class _Shares:
    met: int
    missed: int

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def share_met(self) -> float | None:
        return self.met / self.total if self.total else None


@dataclass
class SlaCount(_Shares):
    met: int = 0
    missed: int = 0


@dataclass
class SlaWeek(_Shares):
    week: Week
    met: int = 0
    missed: int = 0


@dataclass
class Sla:
    weeks: list[SlaWeek]
    by_case_type: dict[str, SlaCount]

    @property
    def overall(self) -> SlaCount:
        return SlaCount(sum(w.met for w in self.weeks), sum(w.missed for w in self.weeks))


@dataclass
class Outcomes:
    """Closed cases by case type, then by outcome (``None``: closed without one)."""

    by_case_type: dict[str, dict[str | None, int]]

    @property
    def outcomes(self) -> list[str | None]:
        seen: dict[str | None, int] = {}
        for counts in self.by_case_type.values():
            for outcome, n in counts.items():
                seen[outcome] = seen.get(outcome, 0) + n
        return sorted(seen, key=lambda o: (-seen[o], o or ""))


@dataclass
class KpiReport:
    period: Period
    open: OpenCases
    flow: list[FlowWeek]
    phase_times: list[PhaseTime]
    sla: Sla
    outcomes: Outcomes
    computed_at: dt.datetime | None = None


# ---------------------------------------------------------------- portable SQL pieces


def _scope(who: Principal) -> Any:
    """The cases ``who`` gets figures about, as a SQL condition; refuses non-staff."""
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("reports are for staff")
    return true() if who.can(Perm.SLA_REPORT) else visible_cases(who, utcnow())


def _day(column: Any, dialect: str) -> Any:
    """The UTC day of a timestamp as ``YYYY-MM-DD`` text. Literal SQL only (no bound parameters),
    so PostgreSQL sees the same expression in the select list and in ``GROUP BY``."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal_column("'UTC'"), column), literal_column("'YYYY-MM-DD'"))
    return func.strftime(literal_column("'%Y-%m-%d'"), column)  # SQLite stores UTC as text


def _seconds(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * literal_column("86400.0")


def _whole(value: Any, dialect: str) -> Any:
    """``value`` (>= 0) rounded down to a whole number, as a number."""
    if dialect == "postgresql":
        return func.floor(value)
    return cast(value, Integer)


def _filters(period: Period | None, who: Principal) -> list[Any]:
    conds = [_scope(who)]
    if period is not None and period.case_type is not None:
        conds.append(Case.case_type == period.case_type)
    return conds


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _fold(rows: Iterable[tuple[Any, int]], period: Period) -> dict[str, int]:
    """``(day, count)`` rows summed per ISO week key."""
    out: dict[str, int] = {}
    for day, n in rows:
        key = Week.of(_as_date(day)).key
        out[key] = out.get(key, 0) + int(n)
    return out


# ---------------------------------------------------------------- the aggregates


def _open_cases(s: Session, dialect: str, who: Principal, period: Period) -> OpenCases:
    stmt: Any = (
        select(Case.phase, Case.priority, func.count())
        .where(Case.status == Status.OPEN.value, *_filters(period, who))
        .group_by(Case.phase, Case.priority)
    )
    if dialect == "sqlite" and who.can(Perm.SLA_REPORT) and period.case_type is None:
        # Over every case the count reads only the covering index (6 ms instead of 60 at 100 000
        # cases); SQLite's planner prefers the status index, which must then visit every open row.
        # SQLAlchemy renders no table hints for SQLite, hence the literal statement.
        stmt = text(
            "SELECT phase, priority, count(*) FROM cases INDEXED BY ix_cases_open_kpi WHERE status = :status GROUP BY phase, priority"
        ).bindparams(status=Status.OPEN.value)
    by_phase = {p.value: 0 for p in ORDER}
    by_priority = {p.value: 0 for p in Priority}
    for phase, priority, n in s.execute(stmt):
        by_phase[phase] = by_phase.get(phase, 0) + int(n)
        by_priority[priority] = by_priority.get(priority, 0) + int(n)
    return OpenCases(by_phase, by_priority)


def _per_day(s: Session, dialect: str, who: Principal, period: Period, column: Any, *extra: Any) -> dict[str, int]:
    day = _day(column, dialect)
    stmt = select(day, func.count()).where(column >= period.start_at, column < period.end_at, *extra, *_filters(period, who)).group_by(day)
    return _fold(s.execute(stmt).all(), period)


def _flow(s: Session, dialect: str, who: Principal, period: Period) -> list[FlowWeek]:
    intake = _per_day(s, dialect, who, period, Case.created_at)
    # closed_at is set only while a case is closed (a reopening clears it); ix_cases_closed covers the range.
    closed = _per_day(s, dialect, who, period, Case.closed_at)
    return [FlowWeek(w, intake.get(w.key, 0), closed.get(w.key, 0)) for w in period.weeks()]


def _phase_times(s: Session, dialect: str, who: Principal, period: Period) -> list[PhaseTime]:
    # A finished stay carries its end (left_at, written by the move that ends it): one range of an index
    # that holds every column needed, instead of joining the history to itself on the next row.
    stay = PhaseChange
    seconds = _seconds(stay.left_at, stay.at, dialect)
    hours = case(
        (seconds < literal_column(str(HOURLY_UNTIL_SECONDS)), _whole(seconds / literal_column("3600"), dialect)),
        else_=_whole(seconds / literal_column("86400"), dialect) * literal_column("24"),
    )
    conds = [stay.left_at >= period.start_at, stay.left_at < period.end_at, stay.to_phase != Phase.CLOSED.value]
    scope = _filters(period, who)  # refuses non-staff
    if not who.can(Perm.SLA_REPORT) or period.case_type is not None:
        # Every move sets the case's updated_at, so only the cases touched since the start (an index range) can count.
        conds.append(stay.case_id.in_(select(Case.id).where(Case.updated_at >= period.start_at, *scope)))
    stmt = select(stay.to_phase, hours, func.count(), func.sum(seconds)).where(*conds).group_by(stay.to_phase, hours)
    buckets: dict[str, list[tuple[float, int]]] = {}
    sums: dict[str, float] = {}
    for phase, bucket, n, total in s.execute(stmt):
        buckets.setdefault(phase, []).append((float(bucket or 0), int(n)))
        sums[phase] = sums.get(phase, 0.0) + float(total or 0)
    out = []
    for phase in (p.value for p in ORDER):
        rows = sorted(buckets.get(phase, []))
        count = sum(n for _b, n in rows)
        if not count:
            out.append(PhaseTime(phase, 0, None, None))
            continue
        median = None
        seen, middle = 0, (count + 1) // 2
        for bucket, n in rows:
            seen += n
            if seen >= middle:
                median = bucket
                break
        out.append(PhaseTime(phase, count, sums[phase] / count / 3600, median))
    return out


def _sla(s: Session, dialect: str, who: Principal, period: Period, now: dt.datetime) -> Sla:
    met = and_(SlaClock.breached_at.is_(None), SlaClock.stopped_at.is_not(None), SlaClock.stopped_at <= SlaClock.due_at)
    settled = case((met, SlaClock.stopped_at), else_=SlaClock.due_at)
    flag = case((met, literal_column("1")), else_=literal_column("0"))
    day = _day(settled, dialect)
    until = min(period.end_at, now)
    stmt = (
        select(day, Case.case_type, flag, func.count())
        .select_from(SlaClock)
        .join(Case, Case.id == SlaClock.case_id)
        .where(
            # Implied: a clock settled since the start stopped since then, or has not stopped (few do); the
            # (stopped_at, due_at) index serves both branches.
            or_(SlaClock.stopped_at.is_(None), SlaClock.stopped_at >= period.start_at),
            settled >= period.start_at,
            settled < until,
            *_filters(period, who),
        )
        .group_by(day, Case.case_type, flag)
    )
    weeks = {w.key: SlaWeek(week=w) for w in period.weeks()}
    by_type: dict[str, SlaCount] = {}
    for day_value, case_type, is_met, n in s.execute(stmt):
        week = weeks.get(Week.of(_as_date(day_value)).key)
        counts = by_type.setdefault(case_type, SlaCount())
        for target in (week, counts):
            if target is None:
                continue
            if int(is_met):
                target.met += int(n)
            else:
                target.missed += int(n)
    return Sla(list(weeks.values()), dict(sorted(by_type.items())))


def _outcomes(s: Session, dialect: str, who: Principal, period: Period) -> Outcomes:
    stmt = (
        select(Case.case_type, Case.outcome, func.count())
        .where(
            Case.closed_at >= period.start_at,  # set only while the case is closed; ix_cases_closed covers it
            Case.closed_at < period.end_at,
            *_filters(period, who),
        )
        .group_by(Case.case_type, Case.outcome)
    )
    out: dict[str, dict[str | None, int]] = {}
    for case_type, outcome, n in s.execute(stmt):
        out.setdefault(case_type, {})[outcome] = int(n)
    return Outcomes({k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0] or ""))) for k, v in sorted(out.items())})


# ---------------------------------------------------------------- use cases


def open_cases(db: Database, who: Principal, period: Period) -> OpenCases:
    """Cases open now by phase and by priority (the period's case type applies, not its dates)."""
    _scope(who)
    with db.read() as s:
        return _open_cases(s, db.dialect, who, period)


def flow(db: Database, who: Principal, period: Period) -> list[FlowWeek]:
    """Cases opened and closed per ISO week of the period."""
    _scope(who)
    with db.read() as s:
        return _flow(s, db.dialect, who, period)


def phase_times(db: Database, who: Principal, period: Period) -> list[PhaseTime]:
    """Average and median time spent in each working phase, over stays that ended in the period."""
    _scope(who)
    with db.read() as s:
        return _phase_times(s, db.dialect, who, period)


def sla_compliance(db: Database, who: Principal, period: Period, *, now: dt.datetime | None = None) -> Sla:
    """SLA clocks met and missed per ISO week and per case type, among those settled in the period."""
    _scope(who)
    with db.read() as s:
        return _sla(s, db.dialect, who, period, now or utcnow())


def outcomes(db: Database, who: Principal, period: Period) -> Outcomes:
    """Cases closed in the period by case type and outcome."""
    _scope(who)
    with db.read() as s:
        return _outcomes(s, db.dialect, who, period)


PARTS = frozenset({"open", "flow", "phase_times", "sla", "outcomes"})
#: How long :func:`report` reuses figures it computed for the same people, period and case type.
CACHE_SECONDS = 300.0
_CACHE_SIZE = 128
_cache_lock = threading.Lock()


def _scope_key(who: Principal) -> tuple[Any, ...]:
    """Principals that get the same figures share a key: every case, or one person's visibility."""
    if who.can(Perm.SLA_REPORT):
        return ("all",)
    return (who.visibility.value, who.user_id, tuple(sorted(who.teams)), who.party_id)


def report(
    db: Database,
    who: Principal,
    period: Period,
    *,
    now: dt.datetime | None = None,
    parts: Collection[str] | None = None,
    max_age: float = CACHE_SECONDS,
) -> KpiReport:
    """The indicators of the reports page in one read transaction: one query each, two for the flow.

    ``parts`` (names from :data:`PARTS`) limits the work to some of them; the others are empty.
    Figures computed less than ``max_age`` seconds ago for the same scope, period and parts are
    reused (``computed_at`` tells when they were computed): over 100 000 cases the aggregates
    take a few hundred milliseconds, and a report a few minutes old is as useful. ``max_age=0``
    (or an explicit ``now``) always computes.
    """
    _scope(who)
    want = PARTS if parts is None else frozenset(parts)
    key = (_scope_key(who), period, want)
    cache: dict[Any, tuple[float, KpiReport]] = db.__dict__.setdefault("_kpi_report_cache", {})  # one per database
    clock = time.monotonic()
    if max_age > 0 and now is None:
        with _cache_lock:
            hit = cache.get(key)
        if hit is not None and clock - hit[0] < max_age:
            return hit[1]
    with db.read() as s:
        d = db.dialect
        result = KpiReport(
            period=period,
            open=_open_cases(s, d, who, period) if "open" in want else OpenCases({}, {}),
            flow=_flow(s, d, who, period) if "flow" in want else [],
            phase_times=_phase_times(s, d, who, period) if "phase_times" in want else [],
            sla=_sla(s, d, who, period, now or utcnow()) if "sla" in want else Sla([], {}),
            outcomes=_outcomes(s, d, who, period) if "outcomes" in want else Outcomes({}),
            computed_at=utcnow(),
        )
    with _cache_lock:
        cache.pop(key, None)
        cache[key] = (clock, result)
        while len(cache) > _CACHE_SIZE:
            cache.pop(next(iter(cache)))
    return result
