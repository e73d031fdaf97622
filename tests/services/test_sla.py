"""SLA clocks, warnings, breaches and escalation.

Cases are opened through the services; their clocks are then (re)started by calling the SLA
hooks directly with an explicit policy and explicit times, so nothing here sleeps or depends
on the wall clock or on what the case types define.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from casework.domain.access import Principal, Role
from casework.domain.errors import Forbidden, NotFound
from casework.services import history, sla
from casework.services.sla import MilestonePolicy, ScanReport, SlaPolicy
from casework.store.models import AuditEntry, Case, Notification, OutboxEvent, SlaBreach, SlaClock
from casework.store.unit_of_work import Database
from tests.factories import new_case, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
#: Other features notify and publish too (decision recommendations...): these tests look at the SLA's own.
SLA_NOTE = Notification.kind.like("sla.%")
SLA_EVENT = OutboxEvent.topic.like("case.sla%")

POLICY = SlaPolicy(
    warn_fraction=0.25,
    phase_hours={
        "screening": {"P1": 4, "P2": 8, "P3": 24, "P4": 48},
        "assessment": {"P1": 8, "P2": 16, "P3": 48, "P4": 96},
    },
    resolution_hours={"P1": 24, "P2": 72, "P3": 240, "P4": 480},
    milestones=(
        MilestonePolicy(
            key="assessed", title="Assessment started", phase="assessment", within_hours={"P1": 2, "P2": 6, "P3": 12, "P4": 24}
        ),
    ),
)


def no_policy(_s: Any, _case: Case) -> None:
    """Scan without a policy resolver: escalation leaves the other clocks' deadlines alone."""
    return None


def with_policy(_s: Any, _case: Case) -> SlaPolicy:
    return POLICY


def open_case(db: Database, who: Principal, *, priority: str = "P3", now: dt.datetime = T0, policy: SlaPolicy = POLICY,
              **fields: Any) -> uuid.UUID:  # fmt: skip
    """A case opened at ``now`` whose only clocks are those ``policy`` starts."""
    view = new_case(db, who, opened_at=now, priority=priority, **fields)
    with db.write() as s:
        s.execute(delete(SlaClock).where(SlaClock.case_id == view.id))  # whatever the case type started
        sla.on_case_opened(s, s.get(Case, view.id), policy, now)
    return view.id


def enter(db: Database, case_id: uuid.UUID, phase: str, now: dt.datetime, policy: SlaPolicy = POLICY) -> None:
    with db.write() as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.phase = phase
        case.status = "closed" if phase == "closed" else "open"
        sla.on_phase_entered(s, case, policy, now)


def clocks(db: Database, case_id: uuid.UUID) -> dict[tuple[str, str], list[SlaClock]]:
    with db.read() as s:
        rows = s.scalars(select(SlaClock).where(SlaClock.case_id == case_id).order_by(SlaClock.started_at, SlaClock.id)).all()
    out: dict[tuple[str, str], list[SlaClock]] = {}
    for row in rows:
        out.setdefault((row.kind, row.name), []).append(row)
    return out


def one(db: Database, case_id: uuid.UUID, kind: str, name: str) -> SlaClock:
    found = clocks(db, case_id)[(kind, name)]
    assert len(found) == 1, found
    return found[0]


def get_case(db: Database, case_id: uuid.UUID) -> Case:
    with db.read() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case


def rows(db: Database, model: Any, *conds: Any) -> list[Any]:
    with db.read() as s:
        return list(s.scalars(select(model).where(*conds)))


def count(db: Database, model: Any, *conds: Any) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*conds)).scalar_one())


# ---------------------------------------------------------------- hooks


def test_opening_starts_clocks_due_by_priority(db: Database, actor: Principal) -> None:
    p2 = open_case(db, actor, priority="P2")
    running = clocks(db, p2)
    assert set(running) == {("resolution", "resolution"), ("milestone", "assessed"), ("phase", "screening")}
    resolution = one(db, p2, "resolution", "resolution")
    assert (resolution.priority, resolution.started_at, resolution.due_at) == ("P2", T0, T0 + 72 * H)
    assert resolution.warn_at == T0 + 54 * H  # 72 h less a quarter
    assert one(db, p2, "milestone", "assessed").due_at == T0 + 6 * H
    screening = one(db, p2, "phase", "screening")
    assert (screening.due_at, screening.warn_at) == (T0 + 8 * H, T0 + 6 * H)
    assert all(c.stopped_at is None and c.warned_at is None and c.breached_at is None for (c,) in running.values())

    p4 = open_case(db, actor, priority="P4")
    assert one(db, p4, "resolution", "resolution").due_at == T0 + 480 * H
    assert one(db, p4, "phase", "screening").due_at == T0 + 48 * H


def test_only_targets_set_for_the_priority_start_a_clock(db: Database, actor: Principal) -> None:
    partial = SlaPolicy(phase_hours={"assessment": {"P3": 5}}, resolution_hours={"P1": 10})
    case_id = open_case(db, actor, priority="P3", policy=partial)
    assert clocks(db, case_id) == {}  # no resolution target for P3, no screening target at all
    enter(db, case_id, "assessment", T0 + H, partial)
    assert one(db, case_id, "phase", "assessment").due_at == T0 + 6 * H


def test_a_milestone_of_the_opening_phase_is_met_at_once(db: Database, actor: Principal) -> None:
    policy = SlaPolicy(milestones=(MilestonePolicy("triaged", "Triaged", "screening", {"P3": 1}),))
    case_id = open_case(db, actor, policy=policy)
    assert one(db, case_id, "milestone", "triaged").stopped_at == T0


def test_phase_change_stops_the_phase_clock_meets_the_milestone_and_starts_the_next(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P2")
    enter(db, case_id, "assessment", T0 + H)
    assert one(db, case_id, "phase", "screening").stopped_at == T0 + H
    assert one(db, case_id, "milestone", "assessed").stopped_at == T0 + H  # met: reached assessment in time
    assessment = one(db, case_id, "phase", "assessment")
    assert (assessment.started_at, assessment.due_at, assessment.stopped_at) == (T0 + H, T0 + 17 * H, None)
    assert one(db, case_id, "resolution", "resolution").stopped_at is None

    # Back to screening and forward again: new phase clocks; the milestone keeps its first entry.
    enter(db, case_id, "screening", T0 + 2 * H)
    enter(db, case_id, "assessment", T0 + 3 * H)
    found = clocks(db, case_id)
    assert [c.stopped_at for c in found[("phase", "screening")]] == [T0 + H, T0 + 3 * H]
    assert [c.stopped_at for c in found[("phase", "assessment")]] == [T0 + 2 * H, None]
    assert found[("phase", "assessment")][1].due_at == T0 + 19 * H
    assert one(db, case_id, "milestone", "assessed").stopped_at == T0 + H


def test_a_milestone_runs_until_its_own_phase_is_entered(db: Database, actor: Principal) -> None:
    policy = SlaPolicy(milestones=(MilestonePolicy("planned", "Plan agreed", "planning", {"P3": 48}),))
    case_id = open_case(db, actor, policy=policy)
    for hours, phase in ((1, "assessment"), (2, "risk")):
        enter(db, case_id, phase, T0 + hours * H, policy)
        assert one(db, case_id, "milestone", "planned").stopped_at is None, phase
    enter(db, case_id, "planning", T0 + 3 * H, policy)
    assert one(db, case_id, "milestone", "planned").stopped_at == T0 + 3 * H


def test_closing_stops_every_clock_and_reopening_starts_only_a_phase_clock(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor)
    enter(db, case_id, "closed", T0 + 2 * H)
    assert all(c.stopped_at == T0 + 2 * H for group in clocks(db, case_id).values() for c in group)
    enter(db, case_id, "assessment", T0 + 5 * H)  # reopened
    running = [c for group in clocks(db, case_id).values() for c in group if c.stopped_at is None]
    assert [(c.kind, c.name, c.started_at) for c in running] == [("phase", "assessment", T0 + 5 * H)]


def test_priority_change_recomputes_running_deadlines_from_their_start(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P3")
    enter(db, case_id, "assessment", T0 + H)  # milestone met, screening stopped
    with db.write() as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.priority = "P1"
        changed = sla.on_priority_changed(s, case, POLICY, T0 + 2 * H)
    assert {(c.kind, c.name) for c in changed} == {("resolution", "resolution"), ("phase", "assessment")}
    resolution = one(db, case_id, "resolution", "resolution")
    assert (resolution.priority, resolution.due_at, resolution.warn_at) == ("P1", T0 + 24 * H, T0 + 18 * H)
    assessment = one(db, case_id, "phase", "assessment")
    assert (assessment.priority, assessment.due_at) == ("P1", T0 + 9 * H)
    stopped = one(db, case_id, "phase", "screening")
    assert (stopped.priority, stopped.due_at) == ("P3", T0 + 24 * H)  # stopped clocks keep their target


def test_lowering_the_priority_lets_a_warned_clock_warn_again(db: Database, actor: Principal) -> None:
    phases_only = SlaPolicy(warn_fraction=0.25, phase_hours=POLICY.phase_hours)
    case_id = open_case(db, actor, priority="P1", team="fraud", policy=phases_only)
    assert sla.scan(db, T0 + 3 * H, policy_for=no_policy).warned == 1  # P1 screening: due at 4 h, warns at 3 h
    with db.write() as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.priority = "P4"
        sla.on_priority_changed(s, case, phases_only, T0 + 3 * H)
    screening = one(db, case_id, "phase", "screening")
    assert (screening.due_at, screening.warn_at, screening.warned_at) == (T0 + 48 * H, T0 + 36 * H, None)
    assert sla.scan(db, T0 + 35 * H, policy_for=no_policy).warned == 0
    assert sla.scan(db, T0 + 36 * H, policy_for=no_policy).warned == 1
    assert one(db, case_id, "phase", "screening").warned_at == T0 + 36 * H


def test_a_deadline_moved_into_the_past_is_breached_by_the_next_scan(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P3")
    with db.write() as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.priority = "P1"
        sla.on_priority_changed(s, case, POLICY, T0 + 5 * H)
    screening = one(db, case_id, "phase", "screening")
    assert screening.due_at == T0 + 4 * H and screening.breached_at is None  # left for the scanner
    report = sla.scan(db, T0 + 5 * H, policy_for=no_policy)
    assert report.breached == 2  # the screening phase (4 h) and the milestone (2 h) at P1
    assert one(db, case_id, "phase", "screening").breached_at == T0 + 5 * H


# ---------------------------------------------------------------- the scanner: warnings


def test_warning_once_at_warn_time_to_the_assignee(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    case_id = open_case(db, actor, priority="P3", team="fraud", assignee_id=will.user_id)
    # P3: the milestone is due at 12 h and warns at 9 h; nothing else warns before 18 h.
    assert sla.scan(db, T0 + 9 * H - dt.timedelta(seconds=1), policy_for=no_policy) == ScanReport()
    report = sla.scan(db, T0 + 9 * H, policy_for=no_policy)
    assert (report.warned, report.breached, report.escalated) == (1, 0, 0)
    milestone = one(db, case_id, "milestone", "assessed")
    assert (milestone.warned_at, milestone.breached_at) == (T0 + 9 * H, None)
    notes = rows(db, Notification, SLA_NOTE)
    assert [(n.user_id, n.case_id, n.kind) for n in notes] == [(will.user_id, case_id, "sla.warning")]
    reference = get_case(db, case_id).reference
    assert reference in notes[0].message and "assessed" in notes[0].message
    events = rows(db, OutboxEvent, SLA_EVENT)
    assert [(e.topic, e.case_id) for e in events] == [("case.sla_warning", case_id)]
    assert events[0].payload["reference"] == reference
    assert (events[0].payload["kind"], events[0].payload["name"]) == ("milestone", "assessed")

    # Idempotent: later scans before the deadline do nothing more.
    assert sla.scan(db, T0 + 9 * H, policy_for=no_policy) == ScanReport()
    assert sla.scan(db, T0 + 11 * H, policy_for=no_policy) == ScanReport()
    assert count(db, Notification, SLA_NOTE) == 1 and count(db, OutboxEvent, SLA_EVENT) == 1
    assert get_case(db, case_id).priority == "P3"


def test_warning_on_an_unassigned_case_goes_to_the_team_supervisors(db: Database, actor: Principal) -> None:
    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    principal(db, actor, "kim@example.org", Role.SUPERVISOR, teams=["kyc"])
    principal(db, actor, "will@example.org", teams=["fraud"])
    case_id = open_case(db, actor, team="fraud")
    sla.scan(db, T0 + 9 * H, policy_for=no_policy)
    assert [(n.user_id, n.case_id, n.kind) for n in rows(db, Notification, SLA_NOTE)] == [(sue.user_id, case_id, "sla.warning")]


# ---------------------------------------------------------------- the scanner: breaches


def test_breach_records_escalates_notifies_emits_and_audits_once(db: Database, actor: Principal) -> None:
    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    kim = principal(db, actor, "kim@example.org", Role.SUPERVISOR, teams=["kyc"])
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    case_id = open_case(db, actor, priority="P3", team="fraud", assignee_id=will.user_id)
    before = get_case(db, case_id)
    sla.scan(db, T0 + 9 * H, policy_for=no_policy)  # the milestone warning
    audit_before = count(db, AuditEntry)

    report = sla.scan(db, T0 + 12 * H, policy_for=no_policy)  # the milestone is due at 12 h exactly
    assert (report.warned, report.breached, report.escalated, report.failed) == (0, 1, 1, 0)

    milestone = one(db, case_id, "milestone", "assessed")
    assert (milestone.breached_at, milestone.stopped_at) == (T0 + 12 * H, None)
    (breach,) = rows(db, SlaBreach)
    assert (breach.clock_id, breach.case_id, breach.case_type, breach.kind, breach.name) == (
        milestone.id, case_id, before.case_type, "milestone", "assessed")  # fmt: skip
    assert (breach.priority, breach.due_at, breach.breached_at, breach.escalated_to) == ("P3", T0 + 12 * H, T0 + 12 * H, "P2")

    after = get_case(db, case_id)
    assert after.priority == "P2"
    assert after.version == before.version + 1
    assert after.updated_at == T0 + 12 * H

    breach_notes = rows(db, Notification, Notification.kind == "sla.breach")
    assert {n.user_id for n in breach_notes} == {sue.user_id, will.user_id}  # the team's supervisor, and the assignee
    assert kim.user_id not in {n.user_id for n in breach_notes}
    assert all("P3 → P2" in n.message for n in breach_notes)

    (event,) = rows(db, OutboxEvent, OutboxEvent.topic == "case.sla_breached")
    assert event.case_id == case_id
    assert event.payload["escalation"] == {"from": "P3", "to": "P2"}
    assert event.payload["name"] == "assessed"

    (entry,) = rows(db, AuditEntry, AuditEntry.action == "sla.breach")
    assert entry.case_id == case_id
    from casework.services.users import ensure_system_user

    assert entry.actor_id == ensure_system_user(db)
    assert entry.data["clock"]["kind"] == "milestone" and entry.data["clock"]["name"] == "assessed"
    assert entry.data["escalation"] == {"from": "P3", "to": "P2"}
    assert count(db, AuditEntry) == audit_before + 1
    assert history.verify_audit(db, actor).ok

    # Idempotent: scanning again (same time or later, before another deadline) changes nothing.
    for when in (T0 + 12 * H, T0 + 13 * H):
        assert sla.scan(db, when, policy_for=no_policy) == ScanReport()
    assert count(db, SlaBreach) == 1
    assert count(db, Notification, Notification.kind == "sla.breach") == 2
    assert count(db, OutboxEvent, OutboxEvent.topic == "case.sla_breached") == 1
    assert get_case(db, case_id).priority == "P2"


def test_escalation_recomputes_the_other_clocks_with_a_policy(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P3", team="fraud")
    report = sla.scan(db, T0 + 12 * H, policy_for=with_policy)
    assert (report.breached, report.escalated) == (1, 1)
    assert get_case(db, case_id).priority == "P2"
    screening = one(db, case_id, "phase", "screening")
    assert (screening.priority, screening.due_at) == ("P2", T0 + 8 * H)  # now overdue: breached by the next scan
    assert one(db, case_id, "resolution", "resolution").due_at == T0 + 72 * H
    report = sla.scan(db, T0 + 12 * H + dt.timedelta(minutes=1), policy_for=with_policy)
    assert (report.breached, report.escalated) == (1, 1)
    assert get_case(db, case_id).priority == "P1"
    assert {(b.kind, b.priority, b.escalated_to) for b in rows(db, SlaBreach)} == {("milestone", "P3", "P2"), ("phase", "P2", "P1")}


def test_p1_stays_p1_and_breaches_without_team_supervisors_go_to_administrators(db: Database, actor: Principal) -> None:
    ada = principal(db, actor, "ada@example.org", Role.ADMINISTRATOR)
    case_id = open_case(db, actor, priority="P1")  # no team, nobody assigned
    report = sla.scan(db, T0 + 2 * H, policy_for=no_policy)
    assert (report.breached, report.escalated) == (1, 0)
    assert get_case(db, case_id).priority == "P1"
    assert rows(db, SlaBreach)[0].escalated_to is None
    notes = rows(db, Notification, Notification.kind == "sla.breach")
    assert [n.user_id for n in notes] == [ada.user_id]  # the built-in system account gets nothing
    assert rows(db, AuditEntry, AuditEntry.action == "sla.breach")[0].data["escalation"] is None


def test_several_clocks_breached_at_once_escalate_the_case_one_step(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P4", team="fraud")
    report = sla.scan(db, T0 + 500 * H, policy_for=no_policy)  # all three P4 targets missed
    assert (report.breached, report.escalated) == (3, 1)
    assert get_case(db, case_id).priority == "P3"
    assert sorted(str(b.escalated_to) for b in rows(db, SlaBreach)) == ["None", "None", "P3"]


def test_stopped_clocks_are_never_warned_or_breached(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor, priority="P3")
    enter(db, case_id, "assessment", T0 + H)
    enter(db, case_id, "closed", T0 + 2 * H)
    assert sla.scan(db, T0 + 1000 * H, policy_for=no_policy) == ScanReport()
    assert count(db, SlaBreach) == 0 and get_case(db, case_id).priority == "P3"


def test_clocks_left_running_on_a_closed_case_are_stopped_not_breached(db: Database, actor: Principal) -> None:
    case_id = open_case(db, actor)
    with db.write() as s:  # closed without the hook being called
        case = s.get(Case, case_id)
        assert case is not None
        case.status, case.phase = "closed", "closed"
    assert sla.scan(db, T0 + 1000 * H, policy_for=no_policy) == ScanReport()
    assert all(c.stopped_at == T0 + 1000 * H and c.breached_at is None for g in clocks(db, case_id).values() for c in g)


def test_scan_pages_through_many_cases(db: Database, actor: Principal) -> None:
    ids = [open_case(db, actor, priority="P2", policy=SlaPolicy(resolution_hours={"P2": 1})) for _ in range(7)]
    report = sla.scan(db, T0 + 2 * H, batch=3, policy_for=no_policy)
    assert (report.breached, report.escalated) == (7, 7)
    assert {get_case(db, i).priority for i in ids} == {"P1"}


def test_two_scans_at_once_breach_each_clock_once(db: Database, actor: Principal) -> None:
    principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    ids = [open_case(db, actor, priority="P3", team="fraud", policy=SlaPolicy(resolution_hours={"P3": 1})) for _ in range(8)]
    reports: list[ScanReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            reports.append(sla.scan(db, T0 + 2 * H, batch=2, policy_for=no_policy))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(r.breached for r in reports) == 8 and sum(r.failed for r in reports) == 0
    assert count(db, SlaBreach) == 8
    assert {get_case(db, i).priority for i in ids} == {"P2"}  # each escalated exactly once
    assert count(db, OutboxEvent, OutboxEvent.topic == "case.sla_breached") == 8
    assert history.verify_audit(db, actor).ok


def test_a_registered_policy_resolver_is_used_by_default(db: Database, actor: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[uuid.UUID] = []

    def resolver(_s: Any, case: Case) -> SlaPolicy:
        calls.append(case.id)
        return POLICY

    monkeypatch.setattr(sla, "_policy_resolver", None)
    sla.set_policy_resolver(resolver)
    case_id = open_case(db, actor, priority="P3")
    sla.scan(db, T0 + 12 * H)
    assert calls == [case_id]
    assert one(db, case_id, "phase", "screening").priority == "P2"


# ---------------------------------------------------------------- read side


def test_case_clocks_view_states_and_visibility(db: Database, actor: Principal) -> None:
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    olga = principal(db, actor, "olga@example.org", teams=["kyc"])
    from casework.services import parties
    from casework.services.schemas import PartyCreate

    party = parties.create_party(db, actor, PartyCreate(name="Chloe Customer"))
    chloe = principal(db, actor, "chloe@example.org", Role.CUSTOMER, party_id=party.id)
    case_id = open_case(db, actor, priority="P3", team="fraud", customer_party_id=party.id)
    sla.scan(db, T0 + 12 * H, policy_for=no_policy)  # milestone breached (P3 12 h)
    enter(db, case_id, "assessment", T0 + 13 * H)  # milestone met late, screening met
    views = sla.case_clocks(db, will, get_case(db, case_id).reference)
    states = {(v.kind.value, v.name): v.state for v in views}
    assert states == {("resolution", "resolution"): "running", ("milestone", "assessed"): "missed", ("phase", "screening"): "met",
                      ("phase", "assessment"): "running"}  # fmt: skip
    with pytest.raises(NotFound):
        sla.case_clocks(db, olga, case_id)
    with pytest.raises(Forbidden):
        sla.case_clocks(db, chloe, case_id)


def test_breach_report_totals_filters_and_visibility(db: Database, actor: Principal) -> None:
    sue = principal(db, actor, "sue@example.org", Role.SUPERVISOR, teams=["fraud"])
    kim = principal(db, actor, "kim@example.org", Role.SUPERVISOR, teams=["kyc"])
    will = principal(db, actor, "will@example.org", teams=["fraud"])
    auditor = principal(db, actor, "audrey@example.org", Role.AUDITOR)
    first = open_case(db, actor, priority="P3", team="fraud")
    second = open_case(db, actor, priority="P1", team="fraud", case_type="support_ticket")
    sla.scan(db, T0 + 3 * H, policy_for=no_policy)  # second: milestone (2 h) breached
    sla.scan(db, T0 + 12 * H, policy_for=no_policy)  # first: milestone (12 h); second: screening (4 h)

    report = sla.breach_report(db, sue)
    assert report.total == 3
    assert report.by_case_type == {"complaint": 1, "support_ticket": 2}
    assert report.by_kind == {"milestone": 2, "phase": 1}
    assert report.by_priority == {"P1": 2, "P3": 1}
    assert [b.breached_at for b in report.items] == sorted((b.breached_at for b in report.items), reverse=True)
    assert report.items[-1].case_id == second and report.items[-1].breached_at == T0 + 3 * H
    assert {b.reference for b in report.items} == {get_case(db, first).reference, get_case(db, second).reference}

    assert sla.breach_report(db, sue, since=T0 + 4 * H).total == 2
    assert sla.breach_report(db, sue, until=T0 + 4 * H).total == 1
    assert sla.breach_report(db, sue, case_type="complaint").total == 1
    assert len(sla.breach_report(db, sue, limit=1).items) == 1
    assert sla.breach_report(db, auditor).total == 3
    assert sla.breach_report(db, kim).total == 0  # another team's cases
    with pytest.raises(Forbidden):
        sla.breach_report(db, will)


def test_hooks_accept_enum_keys_as_case_types_build_them(db: Database, actor: Principal) -> None:
    from casework.domain.lifecycle import Phase, Priority

    policy = SlaPolicy(phase_hours={Phase.SCREENING: {Priority.P3: 10}}, resolution_hours={Priority.P3: 20})  # type: ignore[dict-item]
    case_id = open_case(db, actor, policy=policy)
    assert one(db, case_id, "phase", "screening").due_at == T0 + 10 * H
    assert one(db, case_id, "resolution", "resolution").due_at == T0 + 20 * H
