"""KPI aggregates: exact figures over a few cases built through the services (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, func, select

from casework.domain.access import Principal, Role
from casework.domain.errors import Forbidden, InvalidInput
from casework.domain.lifecycle import Phase
from casework.services import kpi, sla, users
from casework.services.sla import SlaPolicy
from casework.store.models import Case, PhaseChange, SlaBreach, SlaClock
from casework.store.unit_of_work import Database
from tests.factories import advance_to, move, new_case, opened_under, principal

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def admin(db: Database) -> Principal:
    return users.system_principal(db)


def _period(days: int = 84, case_type: str | None = None) -> kpi.Period:
    return kpi.Period(TODAY - dt.timedelta(days=days - 1), TODAY, case_type)


def test_open_cases_by_phase_and_priority(db: Database, admin: Principal) -> None:
    new_case(db, admin, priority="P1", team="complaints")
    new_case(db, admin, priority="P3", team="complaints")
    moved = new_case(db, admin, priority="P3", team="complaints")
    move(db, admin, moved, Phase.ASSESSMENT)
    closed = new_case(db, admin, priority="P2", team="complaints")
    move(db, admin, closed, Phase.CLOSED, outcome="withdrawn")
    ticket = new_case(db, admin, case_type="support_ticket", priority="P4", team="support")

    figures = kpi.open_cases(db, admin, _period())
    assert figures.by_phase == {
        "screening": 3, "assessment": 1, "risk": 0, "planning": 0, "implementation": 0, "follow_up": 0, "evaluation": 0,
    }  # fmt: skip
    assert figures.by_priority == {"P1": 1, "P2": 0, "P3": 2, "P4": 1}
    assert figures.total == 4

    only_tickets = kpi.open_cases(db, admin, _period(case_type="support_ticket"))
    assert only_tickets.total == 1 and only_tickets.by_priority["P4"] == 1 and ticket.phase is Phase.SCREENING


def test_intake_and_closures_per_iso_week(db: Database, admin: Principal) -> None:
    ages = [0, 0, 3, 9, 20, 100]  # days ago; the last one is before the 12 weeks
    made = [new_case(db, admin, opened_at=NOW - dt.timedelta(days=d, minutes=5), team="complaints") for d in ages]
    move(db, admin, made[0], Phase.CLOSED, outcome="withdrawn")
    move(db, admin, made[5], Phase.CLOSED, outcome="withdrawn")  # opened long ago, closed now

    period = kpi.default_period(TODAY)
    assert len(period.weeks()) == 12 and period.start.weekday() == 0 and period.end == TODAY
    weeks = kpi.flow(db, admin, period)
    assert [w.week.key for w in weeks] == [w.key for w in period.weeks()]
    expected: dict[str, int] = {}
    for d in ages[:5]:
        key = kpi.Week.of((NOW - dt.timedelta(days=d, minutes=5)).date()).key
        expected[key] = expected.get(key, 0) + 1
    assert {w.week.key: w.intake for w in weeks if w.intake} == expected
    this_week = kpi.Week.of(TODAY).key
    assert {w.week.key: w.closed for w in weeks if w.closed} == {this_week: 2}
    assert sum(w.intake for w in weeks) == 5


def test_time_per_phase_from_the_phase_history(db: Database, admin: Principal) -> None:
    now = dt.datetime.now(dt.UTC)  # not the module's NOW: the suite may reach this test minutes after import
    slow = new_case(db, admin, opened_at=now - dt.timedelta(hours=48), team="complaints")
    quick = new_case(db, admin, opened_at=now - dt.timedelta(hours=2), team="complaints")
    instant = new_case(db, admin, team="complaints")
    move(db, admin, slow, Phase.ASSESSMENT)
    move(db, admin, quick, Phase.ASSESSMENT)
    move(db, admin, instant, Phase.CLOSED, outcome="withdrawn")
    new_case(db, admin, opened_at=now - dt.timedelta(hours=30), team="complaints")  # still in screening: not a finished stay

    times = {p.phase: p for p in kpi.phase_times(db, admin, _period())}
    assert list(times) == ["screening", "assessment", "risk", "planning", "implementation", "follow_up", "evaluation"]
    screening = times["screening"]
    assert screening.stays == 3
    assert screening.average_hours == pytest.approx(50 / 3, abs=0.05)  # the moves take a few seconds
    assert screening.median_hours == 2.0
    assert times["assessment"].stays == 0 and times["assessment"].average_hours is None
    # the whole report computes the same figures (the time per phase on a thread of its own)
    whole = kpi.report(db, admin, _period(), max_age=0)
    assert whole.phase_times == list(times.values()) and whole.open == kpi.open_cases(db, admin, _period())

    # a stay counts in the period its end falls in
    assert all(p.stays == 0 for p in kpi.phase_times(db, admin, kpi.Period(TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=1))))


def test_time_per_phase_counts_long_stays_in_days_and_keeps_phases_apart(db: Database, admin: Principal) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    case = new_case(db, admin, opened_at=now - dt.timedelta(days=20), team="complaints")
    stays = [  # (phase, start, end): written as the moves would have
        ("screening", now - dt.timedelta(days=20), now - dt.timedelta(days=10, hours=5)),  # 9 days 19 hours
        ("assessment", now - dt.timedelta(days=10, hours=5), now - dt.timedelta(days=9, hours=3, minutes=30)),  # 25.5 h
        ("risk", now - dt.timedelta(days=9, hours=3, minutes=30), now - dt.timedelta(days=9, hours=3)),  # 30 min
        ("evaluation", now - dt.timedelta(days=9, hours=3), now - dt.timedelta(hours=1)),  # 9 days 2 hours
    ]
    with db.write() as s:
        first = s.scalars(select(PhaseChange).where(PhaseChange.case_id == case.id)).one()
        first.at = stays[0][1]
        first.end_stay(stays[0][2])
        for seq, (phase, start, end) in enumerate(stays[1:], start=2):
            row = PhaseChange(case_id=case.id, seq=seq, from_phase=stays[seq - 2][0], to_phase=phase, kind="forward",
                              actor_id=admin.user_id, at=start)  # fmt: skip
            row.end_stay(end)
            s.add(row)
        s.add(PhaseChange(case_id=case.id, seq=len(stays) + 1, from_phase="evaluation", to_phase="closed", kind="close",
                          outcome="withdrawn", actor_id=admin.user_id, at=stays[-1][2]))  # fmt: skip

    times = {p.phase: p for p in kpi.phase_times(db, admin, _period())}
    assert {p: (t.stays, t.median_hours) for p, t in times.items() if t.stays} == {
        "screening": (1, 9 * 24.0),  # beyond a week: whole days
        "assessment": (1, 25.0),  # below a week: whole hours
        "risk": (1, 0.0),
        "evaluation": (1, 9 * 24.0),
    }
    assert times["screening"].average_hours == pytest.approx(9 * 24 + 19)
    assert times["assessment"].average_hours == pytest.approx(25.5)
    assert times["risk"].average_hours == pytest.approx(0.5)


def test_outcomes_by_case_type(db: Database, admin: Principal) -> None:
    for outcome in ("withdrawn", "withdrawn", "rejected"):
        move(db, admin, new_case(db, admin, team="complaints"), Phase.CLOSED, outcome=outcome)
    move(db, admin, new_case(db, admin, case_type="support_ticket", team="support"), Phase.CLOSED, outcome="duplicate")
    new_case(db, admin, team="complaints")  # open: no outcome yet

    figures = kpi.outcomes(db, admin, _period())
    assert figures.by_case_type == {"complaint": {"withdrawn": 2, "rejected": 1}, "support_ticket": {"duplicate": 1}}
    assert figures.outcomes == ["withdrawn", "duplicate", "rejected"]
    assert kpi.outcomes(db, admin, _period(case_type="support_ticket")).by_case_type == {"support_ticket": {"duplicate": 1}}
    earlier = kpi.Period(TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=1))
    assert kpi.outcomes(db, admin, earlier).by_case_type == {}


def test_outcome_after_the_whole_lifecycle(db: Database, admin: Principal) -> None:
    case = advance_to(db, admin, new_case(db, admin, team="complaints"), Phase.EVALUATION)
    move(db, admin, case, Phase.CLOSED, outcome="upheld")
    assert kpi.outcomes(db, admin, _period()).by_case_type == {"complaint": {"upheld": 1}}
    times = {p.phase: p.stays for p in kpi.phase_times(db, admin, _period())}
    assert times == {p: 1 for p in ("screening", "assessment", "risk", "planning", "implementation", "follow_up", "evaluation")}
    weeks = kpi.flow(db, admin, _period())
    assert sum(w.intake for w in weeks) == 1 and sum(w.closed for w in weeks) == 1


def _clock(case_id: uuid.UUID, *, due: dt.datetime, stopped: dt.datetime | None = None, breached: dt.datetime | None = None) -> SlaClock:
    start = due - dt.timedelta(hours=24)
    return SlaClock(case_id=case_id, kind="phase", name="screening", priority="P3", started_at=start, due_at=due,
                    warn_at=due - dt.timedelta(hours=4), stopped_at=stopped, breached_at=breached)  # fmt: skip


def test_sla_compliance_per_week_and_case_type(db: Database, admin: Principal) -> None:
    policy = SlaPolicy(phase_hours={"screening": {"P3": 24}})
    complaint = opened_under(db, admin, policy, hours_ago=30, team="complaints")
    ticket = opened_under(db, admin, policy, hours_ago=30, case_type="support_ticket", team="support")
    hour = dt.timedelta(hours=1)
    last_week = NOW - dt.timedelta(days=7)
    with db.write() as s:
        s.execute(delete(SlaClock))
        s.add_all([
            _clock(complaint.id, due=NOW - 2 * hour, stopped=NOW - 3 * hour),  # met, this week (when stopped)
            _clock(complaint.id, due=NOW - 2 * hour, stopped=NOW - hour, breached=NOW - 1.5 * hour),  # missed: breached
            _clock(complaint.id, due=NOW - 2 * hour, stopped=NOW - hour),  # missed: stopped late, never breached
            _clock(complaint.id, due=NOW - 2 * hour),  # missed: still running past its deadline
            _clock(complaint.id, due=NOW + 5 * hour),  # running, not due: not settled
            _clock(ticket.id, due=NOW + 48 * hour, stopped=NOW - hour),  # met early: settled now
            _clock(ticket.id, due=last_week, stopped=last_week - hour),  # met last week
            _clock(ticket.id, due=last_week, breached=last_week + hour),  # missed last week
            _clock(ticket.id, due=NOW - dt.timedelta(days=200), stopped=NOW - dt.timedelta(days=201)),  # before the period
        ])  # fmt: skip

    sla = kpi.sla_compliance(db, admin, _period(), now=NOW)
    weeks = {w.week.key: (w.met, w.missed) for w in sla.weeks if w.total}
    this_week, previous = kpi.Week.of((NOW - 3 * hour).date()).key, kpi.Week.of(last_week.date()).key
    expected: dict[str, tuple[int, int]] = {}
    for key, met, missed in ((this_week, 1, 0), (this_week, 0, 3), (this_week, 1, 0), (previous, 1, 1)):
        old = expected.get(key, (0, 0))
        expected[key] = (old[0] + met, old[1] + missed)
    assert weeks == expected
    assert {k: (v.met, v.missed) for k, v in sla.by_case_type.items()} == {"complaint": (1, 3), "support_ticket": (2, 1)}
    assert sla.overall.met == 3 and sla.overall.missed == 4 and sla.overall.share_met == pytest.approx(3 / 7)

    only = kpi.sla_compliance(db, admin, _period(case_type="complaint"), now=NOW)
    assert (only.overall.met, only.overall.missed) == (1, 3)


def _settled(db: Database, case_id: uuid.UUID) -> dict[tuple[str, str], tuple[str, bool, dt.datetime, dt.datetime]]:
    with db.read() as s:
        clocks = s.scalars(select(SlaClock).where(SlaClock.case_id == case_id)).all()
        return {(c.kind, c.name): (c.case_type, c.met, c.settled_at, c.due_at) for c in clocks}


def test_clocks_keep_their_case_type_result_and_when_they_count(db: Database, admin: Principal) -> None:
    policy = SlaPolicy(phase_hours={"screening": {"P3": 24}, "assessment": {"P3": 1}})
    case = opened_under(db, admin, policy, hours_ago=2, team="complaints")
    screening = _settled(db, case.id)[("phase", "screening")]
    assert screening[:2] == ("complaint", False) and screening[2] == screening[3]  # running: counts at its deadline

    with db.write() as s:  # the case moves on within the target: the screening clock is met when it stops
        row = s.get(Case, case.id)
        row.phase = Phase.ASSESSMENT.value
        sla.on_phase_entered(s, row, policy, NOW)
    clocks = _settled(db, case.id)
    assert clocks[("phase", "screening")][1:3] == (True, NOW)
    assert clocks[("phase", "assessment")][1] is False

    later = NOW + dt.timedelta(hours=2)  # the assessment target (1 h) passes: breached, missed at its deadline
    sla.scan(db, now=later)
    case_type, met, settled, due = _settled(db, case.id)[("phase", "assessment")]
    assert (case_type, met, settled) == ("complaint", False, due)


def test_migration_fills_in_the_clocks_report_columns(db_url: str, db: Database, admin: Principal) -> None:
    from alembic import command

    from casework.store.migrate import alembic_config, upgrade

    policy = SlaPolicy(phase_hours={"screening": {"P3": 24}})
    case = opened_under(db, admin, policy, hours_ago=30, team="complaints")
    ticket = opened_under(db, admin, policy, hours_ago=30, case_type="support_ticket", team="support")
    hour = dt.timedelta(hours=1)
    with db.write() as s:
        s.add_all([
            _clock(case.id, due=NOW - 2 * hour, stopped=NOW - 3 * hour),  # met
            _clock(case.id, due=NOW - 2 * hour, stopped=NOW - hour, breached=NOW - 1.5 * hour),  # missed
            _clock(ticket.id, due=NOW - 2 * hour, stopped=NOW - hour),  # stopped late
            _clock(ticket.id, due=NOW - 2 * hour),  # running past its deadline
        ])  # fmt: skip
    sla.scan(db, now=NOW)  # the breaches point at their clocks: the migration must keep those links
    with db.read() as s:
        breaches = s.scalar(select(func.count()).select_from(SlaBreach))
    assert breaches
    report = kpi.sla_compliance(db, admin, _period(), now=NOW)
    with db.read() as s:
        expected = sorted((c.case_type, c.met, c.settled_at) for c in s.scalars(select(SlaClock)))

    command.downgrade(alembic_config(db_url), "0009")
    upgrade(db_url)
    db.engine.dispose()  # the schema changed under the pooled connections

    with db.read() as s:
        assert sorted((c.case_type, c.met, c.settled_at) for c in s.scalars(select(SlaClock))) == expected
    assert kpi.sla_compliance(db, admin, _period(), now=NOW) == report
    assert sum(1 for _t, met, _s in expected if met) == 1
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SlaBreach)) == breaches


def test_case_workers_get_figures_for_the_cases_they_may_see(db: Database, admin: Principal) -> None:
    new_case(db, admin, team="complaints")
    new_case(db, admin, team="complaints", priority="P1")
    new_case(db, admin, case_type="support_ticket", team="support")
    worker = principal(db, admin, "worker@example.test", teams=["complaints"])
    assert kpi.open_cases(db, worker, _period()).total == 2
    assert sum(w.intake for w in kpi.flow(db, worker, _period())) == 2
    supervisor = principal(db, admin, "boss@example.test", Role.SUPERVISOR, teams=["support"])
    assert kpi.open_cases(db, supervisor, _period()).total == 3  # SLA reporting covers every case
    report = kpi.report(db, worker, _period())
    assert report.open.total == 2 and len(report.flow) == len(_period().weeks()) == 13  # 84 days from a Thursday

    customer = principal(db, admin, "partner@example.test", Role.THIRD_PARTY)
    with pytest.raises(Forbidden):
        kpi.open_cases(db, customer, _period())
    with pytest.raises(Forbidden):
        kpi.parse_period(db, customer, None, None, None)


def test_parse_period(db: Database, admin: Principal) -> None:
    new_case(db, admin)  # installs the shipped case types
    today = dt.date(2026, 11, 25)  # a Wednesday
    default = kpi.parse_period(db, admin, "", None, "", today=today)
    assert (default.start, default.end, default.case_type) == (dt.date(2026, 9, 7), today, None)
    assert kpi.parse_period(db, admin, "2026-01-01", "2026-01-31", "complaint", today=today) == kpi.Period(
        dt.date(2026, 1, 1), dt.date(2026, 1, 31), "complaint"
    )
    assert kpi.parse_period(db, admin, "2024-01-01", "2028-12-31", None, today=today).end == dt.date(2028, 12, 31)  # five years
    only_end = kpi.parse_period(db, admin, None, "2026-03-31", None, today=today)
    assert only_end == kpi.default_period(dt.date(2026, 3, 31)) and only_end.start == dt.date(2026, 1, 12)
    only_start = kpi.parse_period(db, admin, "2026-11-01", None, None, today=today)
    assert (only_start.start, only_start.end) == (dt.date(2026, 11, 1), today)
    assert kpi.parse_period(db, admin, "2027-01-04", None, None, today=today).end == dt.date(2027, 3, 28)

    def problem(start: str | None, end: str | None, case_type: str | None = None) -> tuple[str | None, list[object]]:
        with pytest.raises(InvalidInput) as caught:
            kpi.parse_period(db, admin, start, end, case_type, today=today)
        return caught.value.field, [e["field"] for e in caught.value.extra["errors"]]  # type: ignore[index]

    assert problem("2026-02-01", "2026-01-01") == ("to", ["to"])
    assert problem("2026-13-01", None) == ("from", ["from"])
    assert problem("x" * 50, "nope", "nope") == ("from", ["from", "to", "case_type"])
    assert problem("2020-01-01", "2026-01-01") == ("from", ["from"])
    assert problem(None, None, "not_a_type") == ("case_type", ["case_type"])


def test_report_reuses_recent_figures_for_the_same_scope(db: Database, admin: Principal) -> None:
    new_case(db, admin, team="complaints")
    first = kpi.report(db, admin, _period())
    assert first.open.total == 1 and first.computed_at is not None
    new_case(db, admin, team="complaints")
    assert kpi.report(db, admin, _period()) is first  # within kpi.CACHE_SECONDS
    supervisor = principal(db, admin, "boss@example.test", Role.SUPERVISOR)
    assert kpi.report(db, supervisor, _period()) is first  # same scope: every case
    worker = principal(db, admin, "worker@example.test", teams=["complaints"])
    assert kpi.report(db, worker, _period()).open.total == 2  # another scope is computed afresh
    assert kpi.report(db, admin, _period(), max_age=0).open.total == 2
    assert kpi.report(db, admin, _period(days=7)).open.total == 2  # another period too
    assert kpi.report(db, admin, _period(), parts={"open"}).flow == []
