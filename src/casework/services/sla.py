"""SLA timers: clocks per phase, for the whole resolution and per milestone; warnings, breaches, escalation.

The policy (targets in hours per priority) comes from the case type; callers build a
:class:`SlaPolicy` from it, so this module does not depend on how case types are defined.

The ``on_*`` hooks run inside the case service's open transaction (they take its Session and
never commit). :func:`scan` is the background job: it warns when a clock reaches its warning
time and records a breach when it reaches its deadline, escalating the case one priority step
and notifying the people who must act. It is idempotent, and safe to run from several workers
at once: on PostgreSQL each case is claimed with ``FOR UPDATE SKIP LOCKED``; SQLite serialises
writers anyway.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Perm, Principal
from casework.domain.errors import Forbidden
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import notifications
from casework.services.common import load_case, require
from casework.store.models import Case, SlaBreach, SlaClock
from casework.store.types import utcnow
from casework.store.unit_of_work import Database
from casework.store.visibility import visible_cases

log = logging.getLogger("casework.sla")


class ClockKind(str, enum.Enum):
    PHASE = "phase"
    RESOLUTION = "resolution"
    MILESTONE = "milestone"


RESOLUTION = "resolution"  # the name of the resolution clock

#: One step up on breach; P1 stays P1.
ESCALATION = {Priority.P4.value: Priority.P3.value, Priority.P3.value: Priority.P2.value, Priority.P2.value: Priority.P1.value}

WARNING_KIND = "sla.warning"
BREACH_KIND = "sla.breach"
WARNING_TOPIC = "case.sla_warning"
BREACH_TOPIC = "case.sla_breached"


# ---------------------------------------------------------------- policy (built by callers from a case type)


@dataclass(frozen=True)
class MilestonePolicy:
    """Reached when the case first enters ``phase``; due ``within_hours[priority]`` hours after intake."""

    key: str
    title: str
    phase: str
    within_hours: Mapping[str, float]


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in hours. ``warn_fraction`` of a target before its deadline, the assignee is warned."""

    warn_fraction: float = 0.2
    phase_hours: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # phase -> priority -> hours
    resolution_hours: Mapping[str, float] = field(default_factory=dict)  # priority -> hours, intake to closure
    milestones: Sequence[MilestonePolicy] = ()

    def target(self, kind: str, name: str, priority: str) -> float | None:
        """Hours allowed for clock ``kind``/``name`` at ``priority``; None when there is no target."""
        if kind == ClockKind.RESOLUTION.value:
            return _hours(self.resolution_hours, priority)
        if kind == ClockKind.PHASE.value:
            for phase, by_priority in self.phase_hours.items():
                if _key(phase) == name:
                    return _hours(by_priority, priority)
            return None
        milestone = self.milestone(name)
        return _hours(milestone.within_hours, priority) if milestone else None

    def milestone(self, key: str) -> MilestonePolicy | None:
        return next((m for m in self.milestones if m.key == key), None)


#: Where the scanner finds the policy of a case (to recompute deadlines after an escalation).
PolicyResolver = Callable[[Session, Case], SlaPolicy | None]
_policy_resolver: PolicyResolver | None = None


def set_policy_resolver(resolver: PolicyResolver | None) -> None:
    """Register how to find a case's policy (the case-type layer does this); None forgets it."""
    global _policy_resolver
    _policy_resolver = resolver


def _key(value: Any) -> str:
    """Mapping keys may be plain strings or str enums (Phase, Priority)."""
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _hours(mapping: Mapping[Any, float], key: str) -> float | None:
    for k, v in mapping.items():
        if _key(k) == key:
            return float(v)
    return None


# ---------------------------------------------------------------- hooks (inside the case service's transaction)


def _new_clock(case: Case, kind: ClockKind, name: str, now: dt.datetime, hours: float, policy: SlaPolicy) -> SlaClock:
    clock = SlaClock(case_id=case.id, case_type=case.case_type, kind=kind.value, name=name, priority=case.priority, started_at=now)
    _set_deadline(clock, hours, policy)
    return clock


def _set_deadline(clock: SlaClock, hours: float, policy: SlaPolicy) -> None:
    duration = dt.timedelta(hours=hours)
    fraction = min(max(policy.warn_fraction, 0.0), 1.0)
    clock.due_at = clock.started_at + duration
    clock.warn_at = clock.started_at + duration * (1 - fraction)


def _open_phase_clock(s: Session, case: Case, policy: SlaPolicy, now: dt.datetime) -> SlaClock | None:
    if case.phase == Phase.CLOSED.value:
        return None
    hours = policy.target(ClockKind.PHASE.value, case.phase, case.priority)
    if hours is None:
        return None
    clock = _new_clock(case, ClockKind.PHASE, case.phase, now, hours, policy)
    s.add(clock)
    return clock


def on_case_opened(s: Session, case: Case, policy: SlaPolicy, now: dt.datetime | None = None) -> list[SlaClock]:
    """Start the resolution clock, one clock per milestone and the clock of the case's phase.

    A milestone whose phase is the phase the case opens in is met at once (its clock is stopped).
    Only targets the policy sets for the case's priority start a clock.
    """
    now = now or utcnow()
    if case.id is None:
        s.flush()  # the case's id is drawn when it is first written
    clocks: list[SlaClock] = []
    hours = _hours(policy.resolution_hours, case.priority)
    if hours is not None:
        clocks.append(_new_clock(case, ClockKind.RESOLUTION, RESOLUTION, now, hours, policy))
    for milestone in policy.milestones:
        hours = _hours(milestone.within_hours, case.priority)
        if hours is None:
            continue
        clock = _new_clock(case, ClockKind.MILESTONE, milestone.key, now, hours, policy)
        if _key(milestone.phase) == case.phase:
            clock.stopped_at = now
        clocks.append(clock)
    s.add_all(clocks)
    phase_clock = _open_phase_clock(s, case, policy, now)
    if phase_clock is not None:
        clocks.append(phase_clock)
    s.flush()
    return clocks


def _running(s: Session, case_id: uuid.UUID) -> list[SlaClock]:
    stmt = select(SlaClock).where(SlaClock.case_id == case_id, SlaClock.stopped_at.is_(None)).order_by(SlaClock.due_at, SlaClock.id)
    return list(s.scalars(stmt))


def on_phase_entered(s: Session, case: Case, policy: SlaPolicy, now: dt.datetime | None = None) -> list[SlaClock]:
    """Call after ``case.phase`` was set to the phase just entered.

    Stops the running phase clock, stops (meets) the milestones of the entered phase (only the
    first entry counts: a met milestone stays stopped), then starts the new phase's clock.
    Entering ``closed`` stops every running clock; a reopened case gets a new phase clock only.
    Returns the clocks started.
    """
    now = now or utcnow()
    closing = case.phase == Phase.CLOSED.value
    for clock in _running(s, case.id):
        if clock.kind == ClockKind.PHASE.value or closing:
            clock.stopped_at = now
        elif clock.kind == ClockKind.MILESTONE.value:
            milestone = policy.milestone(clock.name)
            if milestone is not None and _key(milestone.phase) == case.phase:
                clock.stopped_at = now
    started = _open_phase_clock(s, case, policy, now)
    s.flush()
    return [started] if started is not None else []


def on_priority_changed(s: Session, case: Case, policy: SlaPolicy, now: dt.datetime | None = None) -> list[SlaClock]:
    """Recompute the deadlines of the running clocks for ``case.priority`` (call after setting it).

    Deadlines stay measured from each clock's start. A clock whose new deadline has already passed
    is left for the scanner to breach; one whose warning time moved into the future may warn again.
    A clock the policy has no target for at the new priority keeps its deadline. Returns the clocks changed.
    """
    now = now or utcnow()
    changed = []
    for clock in _running(s, case.id):
        if clock.breached_at is not None:
            continue
        hours = policy.target(clock.kind, clock.name, case.priority)
        if hours is None:
            continue
        clock.priority = case.priority
        _set_deadline(clock, hours, policy)
        if clock.warned_at is not None and clock.warn_at > now:
            clock.warned_at = None
        changed.append(clock)
    s.flush()
    return changed


# ---------------------------------------------------------------- the scanner (background job)


class ScanReport(BaseModel):
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    failed: int = 0  # cases skipped after an unexpected error (logged); retried by the next scan


def _label(clock: SlaClock) -> str:
    if clock.kind == ClockKind.RESOLUTION.value:
        return "resolution target"
    return f"{clock.kind} '{clock.name}'"


def _clock_data(clock: SlaClock) -> dict[str, Any]:
    return {"clock_id": clock.id, "kind": clock.kind, "name": clock.name, "priority": clock.priority, "due_at": clock.due_at}


def _candidates(s: Session, now: dt.datetime, after: uuid.UUID | None, batch: int) -> list[uuid.UUID]:
    """Cases with a clock to warn about or breach, in id order after ``after`` (keyset paging, so a
    case is visited once per scan even when it still has clocks due afterwards)."""
    stmt = (
        select(SlaClock.case_id)
        .where(
            SlaClock.stopped_at.is_(None),
            SlaClock.breached_at.is_(None),
            or_(SlaClock.due_at <= now, (SlaClock.warn_at <= now) & SlaClock.warned_at.is_(None)),
        )
        .group_by(SlaClock.case_id)
        .order_by(SlaClock.case_id)
        .limit(batch)
    )
    if after is not None:
        stmt = stmt.where(SlaClock.case_id > after)
    return list(s.scalars(stmt))


def _claim(s: Session, case_id: uuid.UUID) -> Case | None:
    """Lock the case row, or None when another transaction holds it (PostgreSQL; retried next scan)."""
    stmt = select(Case).where(Case.id == case_id).with_for_update(skip_locked=True).execution_options(populate_existing=True)
    return s.scalars(stmt).first()


def _process_case(
    s: Session, case: Case, now: dt.datetime, system_id: uuid.UUID, policy_for: PolicyResolver | None, report: ScanReport
) -> None:
    # The case row is locked: its clocks can only change under that lock, so read them fresh.
    stmt = (
        select(SlaClock)
        .where(SlaClock.case_id == case.id, SlaClock.stopped_at.is_(None), SlaClock.breached_at.is_(None))
        .order_by(SlaClock.due_at, SlaClock.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    clocks = list(s.scalars(stmt))
    if case.status != Status.OPEN.value:
        # A closed case whose clocks were never stopped (hooks not called): stop them, do not breach.
        for clock in clocks:
            clock.stopped_at = now
        return
    breached = [c for c in clocks if c.due_at <= now]
    to_warn = [c for c in clocks if c.due_at > now and c.warn_at <= now and c.warned_at is None]
    for clock in to_warn:
        clock.warned_at = now
        message = f"SLA warning: {case.reference} — {_label(clock)} is due {clock.due_at:%Y-%m-%d %H:%M} UTC"
        if case.assignee_id is not None:
            notifications.notify(s, case.assignee_id, case.id, WARNING_KIND, message, at=now)
        else:
            notifications.notify_team_supervisors(s, case.team, case.id, WARNING_KIND, message, at=now)
        notifications.emit(s, WARNING_TOPIC, case.id, _event(case, clock, warned_at=now), at=now)
        report.warned += 1
    if not breached:
        return
    before = case.priority
    after = ESCALATION.get(before)
    if after is not None:
        case.priority = after
        case.updated_at = now
        report.escalated += 1
    for i, clock in enumerate(breached):
        escalated_to = after if i == 0 else None  # one step per case per scan, credited to the earliest breach
        clock.breached_at = now
        s.add(SlaBreach(clock_id=clock.id, case_id=case.id, case_type=case.case_type, kind=clock.kind, name=clock.name,
                        priority=clock.priority, due_at=clock.due_at, breached_at=now, escalated_to=escalated_to))  # fmt: skip
        message = f"SLA breached: {case.reference} — {_label(clock)} was due {clock.due_at:%Y-%m-%d %H:%M} UTC"
        if escalated_to:
            message += f"; priority raised {before} → {escalated_to}"
        sent = notifications.notify_team_supervisors(s, case.team, case.id, BREACH_KIND, message, at=now)
        recipients = {n.user_id for n in sent}
        if case.assignee_id is not None and case.assignee_id not in recipients:
            sent.append(notifications.notify(s, case.assignee_id, case.id, BREACH_KIND, message, at=now))
        escalation = {"from": before, "to": escalated_to} if escalated_to else None
        notifications.emit(s, BREACH_TOPIC, case.id, _event(case, clock, breached_at=now, escalation=escalation), at=now)
        audit.append(s, actor_id=system_id, action="sla.breach", case_id=case.id,
                     data={"clock": _clock_data(clock), "breached_at": now, "escalation": escalation,
                           "notified": sorted(str(n.user_id) for n in sent)})  # fmt: skip
        report.breached += 1
    if after is not None:
        s.flush()
        policy = policy_for(s, case) if policy_for is not None else None
        if policy is not None:
            on_priority_changed(s, case, policy, now)


def _event(case: Case, clock: SlaClock, **extra: Any) -> dict[str, Any]:
    return {"case_id": case.id, "reference": case.reference, "case_type": case.case_type, "team": case.team,
            "assignee_id": case.assignee_id, **_clock_data(clock), **extra}  # fmt: skip


def scan(db: Database, now: dt.datetime | None = None, *, batch: int = 500, policy_for: PolicyResolver | None = None) -> ScanReport:
    """Warn about and breach the clocks that are due at ``now``; each case in its own transaction.

    A breach raises the case's priority one step (once per case per scan), notifies the
    supervisors of its team (and its assignee), writes an outbox event and an audit entry by the
    system account. With a policy resolver (``policy_for`` or :func:`set_policy_resolver`) the
    other running clocks of an escalated case get the deadlines of the new priority; those now
    overdue are breached by the next scan. Running it again at the same ``now`` does nothing.
    """
    from casework.services.users import ensure_system_user

    now = now or utcnow()
    batch = max(1, batch)
    resolver = policy_for or _policy_resolver
    system_id = ensure_system_user(db)
    report = ScanReport()
    last: uuid.UUID | None = None
    while True:
        with db.read() as s:
            case_ids = _candidates(s, now, last, batch)
        for case_id in case_ids:
            last = case_id
            try:
                with db.write() as s:
                    case = _claim(s, case_id)
                    if case is not None:
                        _process_case(s, case, now, system_id, resolver, report)
            except Exception:
                log.exception("SLA scan failed for case %s; the next scan retries it", case_id)
                report.failed += 1
        if len(case_ids) < batch:
            return report


# ---------------------------------------------------------------- read side


ClockState = Literal["running", "warning", "breached", "met", "missed"]


class SlaClockView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    kind: ClockKind
    name: str
    priority: Priority
    started_at: dt.datetime
    due_at: dt.datetime
    warn_at: dt.datetime
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    stopped_at: dt.datetime | None
    state: ClockState = "running"


def _state(clock: SlaClock) -> ClockState:
    if clock.stopped_at is not None:
        return "missed" if clock.breached_at is not None else "met"
    if clock.breached_at is not None:
        return "breached"
    return "warning" if clock.warned_at is not None else "running"


def clock_view(clock: SlaClock) -> SlaClockView:
    view = SlaClockView.model_validate(clock)
    view.state = _state(clock)
    return view


def case_clocks(db: Database, who: Principal, key: str | uuid.UUID) -> list[SlaClockView]:
    """Every SLA clock of a case (running and stopped), in the order they started."""
    require(who, Perm.CASE_READ)
    if not who.is_staff:
        raise Forbidden("SLA timers are internal to the institution")
    with db.read() as s:
        case = load_case(s, key, who)
        stmt = select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.started_at, SlaClock.due_at, SlaClock.id)
        return [clock_view(c) for c in s.scalars(stmt)]


class BreachView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    reference: str = ""
    case_type: str
    kind: ClockKind
    name: str
    priority: Priority
    due_at: dt.datetime
    breached_at: dt.datetime
    escalated_to: Priority | None


class BreachReport(BaseModel):
    total: int
    by_case_type: dict[str, int]
    by_kind: dict[str, int]
    by_priority: dict[str, int]
    items: list[BreachView]  # newest first, at most ``limit``


def breach_report(
    db: Database,
    who: Principal,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    case_type: str | None = None,
    limit: int = 100,
) -> BreachReport:
    """Missed targets with ``since <= breached_at < until``, among the cases the caller may see."""
    require(who, Perm.SLA_REPORT)
    limit = max(1, min(limit, 1000))
    conds: list[Any] = [visible_cases(who, utcnow())]
    if since is not None:
        conds.append(SlaBreach.breached_at >= since)
    if until is not None:
        conds.append(SlaBreach.breached_at < until)
    if case_type is not None:
        conds.append(SlaBreach.case_type == case_type)
    with db.read() as s:

        def totals(column: Any) -> dict[str, int]:
            stmt = select(column, func.count()).select_from(SlaBreach).join(Case, Case.id == SlaBreach.case_id)
            rows = s.execute(stmt.where(*conds).group_by(column).order_by(column))
            return {str(k): int(n) for k, n in rows}

        by_kind = totals(SlaBreach.kind)
        items_stmt = (
            select(SlaBreach, Case.reference)
            .join(Case, Case.id == SlaBreach.case_id)
            .where(*conds)
            .order_by(SlaBreach.breached_at.desc(), SlaBreach.id)
            .limit(limit)
        )
        items = []
        for breach, reference in s.execute(items_stmt):
            view = BreachView.model_validate(breach)
            view.reference = reference
            items.append(view)
        return BreachReport(
            total=sum(by_kind.values()),
            by_case_type=totals(SlaBreach.case_type),
            by_kind=by_kind,
            by_priority=totals(SlaBreach.priority),
            items=items,
        )
