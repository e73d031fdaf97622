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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, func, literal_column, select, true
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

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
    # SQLite stores UTC as text, YYYY-MM-DD first: cutting it is cheaper than parsing it.
    return func.substr(column, literal_column("1"), literal_column("10"))


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
    # ix_cases_open_kpi holds every column read, the visibility's included.
    stmt = (
        select(Case.phase, Case.priority, func.count())
        .where(Case.status == Status.OPEN.value, *_filters(period, who))
        .group_by(Case.phase, Case.priority)
    )
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


#: The working phases, numbered for the time-per-phase grouping key (see :func:`_phase_times`).
_WORKING = [p.value for p in ORDER if p is not Phase.CLOSED]
#: Hours below this many per phase in that key (more than a thousand years).
_KEY_STEP = 10_000_000


def _phase_times(s: Session, dialect: str, who: Principal, period: Period) -> list[PhaseTime]:
    # A finished stay carries its end and length (written by the move that ends it): one range of an index
    # that holds every column needed, instead of joining the history to itself on the next row.
    stay = PhaseChange
    seconds = stay.stay_seconds
    hours = case(
        (seconds < literal_column(str(HOURLY_UNTIL_SECONDS), Integer), seconds // literal_column("3600", Integer)),
        else_=seconds // literal_column("86400", Integer) * literal_column("24", Integer),
    )
    # Grouped by one number (phase number * step + hours) rather than (phase text, hours): SQLite sorts the stays to
    # group them, and sorting integers takes about half the time (a year over 100 000 cases: 200 → 120 ms).
    # Literal SQL only, so PostgreSQL sees the same expression in the select list and in GROUP BY.
    number = case(
        *((stay.to_phase == literal_column(f"'{phase}'"), literal_column(str(i), Integer)) for i, phase in enumerate(_WORKING)),
        else_=literal_column("-1", Integer),
    )
    key = number * literal_column(str(_KEY_STEP), Integer) + hours
    conds = [stay.left_at >= period.start_at, stay.left_at < period.end_at, stay.to_phase != Phase.CLOSED.value]
    scope = _filters(period, who)  # refuses non-staff
    if not who.can(Perm.SLA_REPORT) or period.case_type is not None:
        # Every move sets the case's updated_at, so only the cases touched since the start (an index range) can count.
        conds.append(stay.case_id.in_(select(Case.id).where(Case.updated_at >= period.start_at, *scope)))
    stmt = select(key, func.count(), func.sum(seconds)).where(*conds).group_by(key)
    buckets: dict[str, list[tuple[float, int]]] = {}
    sums: dict[str, float] = {}
    for value, n, total in s.execute(stmt):
        if value is None:  # a stay without its length (none are written so)
            continue
        index, whole_hours = divmod(int(value), _KEY_STEP)
        if not 0 <= index < len(_WORKING):
            continue  # a phase this version does not know
        phase = _WORKING[index]
        buckets.setdefault(phase, []).append((float(whole_hours), int(n)))
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
    # Each clock stores its type, whether it was met and when it counts (SlaClock.settle): over every case
    # the report is one range of a covering index; a case worker's visibility needs the cases.
    clock = SlaClock
    day = _day(clock.settled_at, dialect)
    conds = [clock.settled_at >= period.start_at, clock.settled_at < min(period.end_at, now)]
    if period.case_type is not None:
        conds.append(clock.case_type == period.case_type)
    stmt = select(day, clock.case_type, clock.met, func.count()).where(*conds).group_by(day, clock.case_type, clock.met)
    if not who.can(Perm.SLA_REPORT):
        stmt = stmt.join(Case, Case.id == clock.case_id).where(_scope(who))
    weeks = {w.key: SlaWeek(week=w) for w in period.weeks()}
    by_type: dict[str, SlaCount] = {}
    for day_value, case_type, is_met, n in s.execute(stmt):
        week = weeks.get(Week.of(_as_date(day_value)).key)
        counts = by_type.setdefault(case_type, SlaCount())
        for target in (week, counts):
            if target is None:
                continue
            if is_met:
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


_side_lock = threading.Lock()
_side_pool: ThreadPoolExecutor | None = None


def _side_work() -> ThreadPoolExecutor:
    """The threads reports run their time-per-phase aggregate on (made on first use; two at once at
    most, so a burst of reports cannot take every database connection)."""
    global _side_pool
    with _side_lock:
        if _side_pool is None:
            _side_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpi")
        return _side_pool


def _phase_times_alone(db: Database, who: Principal, period: Period) -> list[PhaseTime]:
    with db.read() as s:
        return _phase_times(s, db.dialect, who, period)


def report(
    db: Database,
    who: Principal,
    period: Period,
    *,
    now: dt.datetime | None = None,
    parts: Collection[str] | None = None,
    max_age: float = CACHE_SECONDS,
) -> KpiReport:
    """The indicators of the reports page: one query each, two for the flow; the time per phase in a
    read transaction of its own, beside the others' (so the parts may see moments a few milliseconds
    apart).

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
    d = db.dialect
    # The time per phase is the heaviest aggregate (it sorts every stay of the period to build the
    # histogram its median comes from); with other parts wanted it runs beside them, on its own
    # connection, so the page waits for the longer of the two rather than their sum.
    side = "phase_times" in want and len(want) > 1 and not isinstance(db.engine.pool, StaticPool)
    phase_times: Future[list[PhaseTime]] | None = None
    if side:
        phase_times = _side_work().submit(_phase_times_alone, db, who, period)
    with db.read() as s:
        result = KpiReport(
            period=period,
            open=_open_cases(s, d, who, period) if "open" in want else OpenCases({}, {}),
            flow=_flow(s, d, who, period) if "flow" in want else [],
            phase_times=_phase_times(s, d, who, period) if "phase_times" in want and not side else [],
            sla=_sla(s, d, who, period, now or utcnow()) if "sla" in want else Sla([], {}),
            outcomes=_outcomes(s, d, who, period) if "outcomes" in want else Outcomes({}),
            computed_at=utcnow(),
        )
    if phase_times is not None:
        result.phase_times = phase_times.result()
    with _cache_lock:
        cache.pop(key, None)
        cache[key] = (clock, result)
        while len(cache) > _CACHE_SIZE:
            cache.pop(next(iter(cache)))
    return result
