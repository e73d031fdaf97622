"""Command-line commands for daily work and background jobs: ``worker``, ``sla``, ``queue``,
``notifications`` and ``events``.

Imported at the end of :mod:`casework.cli` and registered on its application, so they share
its global options (``--database-url``, ``--as``) and its one-line error handling.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from casework.cli import (
    PRIORITY_STYLE,
    CaseRef,
    JsonFlag,
    State,
    _dump,
    _name_of,
    _print_json,
    _redact,
    _settings,
    _state,
    _t,
    _user_id,
    _user_names,
    _when,
    app,
)
from casework.domain.access import Principal
from casework.services import notifications, queue, sla

sla_app = typer.Typer(help="SLA timers: run a scan, list breaches, show a case's clocks.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")

ActingOption = Annotated[
    str | None,
    typer.Option("--as", metavar="EMAIL", help="Act as this account (same as the global --as).", show_default=False),
]


def _acting(state: State, acting: str | None) -> Principal:
    """The command's own --as (given after the command name) overrides the global one."""
    if acting:
        state._who = state.principal(acting)
    return state.who


def _in(delta: dt.timedelta) -> str:
    """A deadline relative to now: 'in 3h 10m' or '2d 4h overdue'."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m"
    return f"in {text}" if delta.total_seconds() > 0 else f"{text} overdue"


# ---------------------------------------------------------------- worker


@app.command()
def worker(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker threads executing tasks.")] = 1,
) -> None:
    """Run the background worker (Huey consumer): the SLA scan every minute, and queued tasks.

    The queue is in Redis when CASEWORK_REDIS_URL is set, else in a SQLite file (CASEWORK_JOBS_PATH).
    SIGTERM stops it after the running task; SIGINT (Ctrl-C) stops it at once.
    """
    state = _state(ctx)
    # The tasks (and the default jobs file, next to a SQLite database) follow the environment.
    os.environ["CASEWORK_DATABASE_URL"] = state.database_url
    settings = _settings()
    level = getattr(logging, settings.log_level.upper(), None)
    logging.basicConfig(stream=sys.stderr, level=level if isinstance(level, int) else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    from casework.jobs import tasks

    where = f"Redis {_redact(settings.redis_url)}" if settings.redis_url else f"SQLite file {settings.jobs_path}"
    logging.getLogger("casework.jobs").info(
        "casework worker: queue in %s, database %s, %d worker(s); SLA scan every minute", where, _redact(state.database_url), workers
    )
    consumer = tasks.huey.create_consumer(workers=workers, periodic=True, graceful_signal="TERM", shutdown_timeout=30)
    consumer.run()


# ---------------------------------------------------------------- sla


@sla_app.command("scan")
def sla_scan(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Run one SLA scan now: warn about clocks near their deadline, breach and escalate overdue ones."""
    state = _state(ctx)
    report = sla.scan(state.db)
    if as_json:
        _print_json(report)
    else:
        typer.echo(f"SLA scan: {report.warned} warned, {report.breached} breached, {report.escalated} escalated"
                   + (f", {report.failed} failed (see the log)" if report.failed else ""))  # fmt: skip


@sla_app.command("breaches")
def sla_breaches(
    ctx: typer.Context,
    since: Annotated[dt.datetime | None, typer.Option(help="Breached at or after (UTC unless an offset is given).")] = None,
    until: Annotated[dt.datetime | None, typer.Option(help="Breached before.")] = None,
    case_type: Annotated[str | None, typer.Option("--type", help="Only this case type.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Missed SLA targets, newest first, with totals by case type, kind and priority."""
    state = _state(ctx)
    aware = [v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v for v in (since, until)]
    report = sla.breach_report(state.db, state.who, since=aware[0], until=aware[1], case_type=case_type, limit=limit)
    if as_json:
        _print_json(report)
        return
    if not report.total:
        typer.echo("no SLA breaches")
        return
    t = Table("Breached", "Reference", "Type", "Clock", "Prio", "Due", "Escalated to", header_style="bold", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False)  # fmt: skip
    for b in report.items:
        t.add_row(_when(b.breached_at), _t(b.reference), _t(b.case_type), _t(f"{b.kind.value} {b.name}"),
                  _t(b.priority.value, PRIORITY_STYLE[b.priority.value]), _when(b.due_at),
                  _t(b.escalated_to.value if b.escalated_to else "—"))  # fmt: skip
    state.console.print(t)

    def line(totals: dict[str, int]) -> str:
        return ", ".join(f"{k} {n}" for k, n in totals.items())

    typer.echo(f"{report.total} breaches · by type: {line(report.by_case_type)} · by kind: {line(report.by_kind)}"
               f" · by priority: {line(report.by_priority)}")  # fmt: skip


@sla_app.command("show")
def sla_show(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """The SLA clocks of one case."""
    state = _state(ctx)
    clocks = sla.case_clocks(state.db, state.who, ref)
    if as_json:
        _print_json(_dump(clocks))
        return
    if not clocks:
        typer.echo(f"{ref} has no SLA clocks")
        return
    now = dt.datetime.now(dt.UTC)
    t = Table("Clock", "Prio", "Started", "Due", "State", "", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for c in clocks:
        left = _in(c.due_at - now) if c.stopped_at is None else f"stopped {_when(c.stopped_at)}"
        style = {"breached": "bold red", "missed": "red", "warning": "yellow", "met": "green"}.get(c.state, "")
        t.add_row(_t(f"{c.kind.value} {c.name}"), _t(c.priority.value), _when(c.started_at), _when(c.due_at), _t(c.state, style), _t(left))
    state.console.print(t)


# ---------------------------------------------------------------- queue, notifications, events


@app.command("queue")
def work_queue(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option(help="The open cases of this team.")] = None,
    assignee: Annotated[str | None, typer.Option(metavar="EMAIL_OR_ID", help="The open cases assigned to this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    acting: ActingOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open cases, most urgent first (priority, nearest SLA deadline, oldest); by default yours."""
    state = _state(ctx)
    me = _acting(state, acting)
    items = queue.work_queue(state.db, me, assignee_id=_user_id(state, assignee, "assignee"), team=team, limit=limit)
    if as_json:
        _print_json(_dump(items))
        return
    if not items:
        typer.echo("the queue is empty")
        return
    names = _user_names(state)
    now = dt.datetime.now(dt.UTC)
    t = Table("Prio", "Reference", "Phase", "Title", "Next deadline", "", "Assignee", header_style="bold", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False)  # fmt: skip
    t.columns[3].overflow = "ellipsis"
    t.columns[3].no_wrap = True
    for item in items:
        deadline = f"{item.deadline_kind.value} {item.deadline_name}" if item.deadline_kind else "—"
        left = _in(item.next_deadline - now) if item.next_deadline else ""
        t.add_row(_t(item.priority.value, PRIORITY_STYLE[item.priority.value]), _t(item.reference), _t(item.phase.value), _t(item.title),
                  _t(deadline), _t(left, "bold red" if item.overdue else ""),
                  _t(_name_of(names, item.assignee_id, state) + (f" ({item.team})" if item.team else "")))  # fmt: skip
    state.console.print(t)


@app.command("notifications")
def list_notifications(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark the listed notifications read.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    acting: ActingOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Your in-app notifications (SLA warnings, breaches), newest first; --as EMAIL picks the account."""
    state = _state(ctx)
    me = _acting(state, acting)
    found = notifications.list_notifications(state.db, me, unread_only=unread, limit=limit)
    if mark_read:
        found = [notifications.mark_read(state.db, me, n.id) if n.read_at is None else n for n in found]
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no notifications")
        return
    t = Table("When", "Kind", "Case", "Message", "Read", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.columns[3].overflow = "fold"
    for n in found:
        t.add_row(_when(n.created_at), _t(n.kind), _t(n.case_reference or ""), _t(n.message, "" if n.read_at else "bold"),
                  _t("yes" if n.read_at else "no"))  # fmt: skip
    state.console.print(t)


@app.command("events")
def list_events(
    ctx: typer.Context,
    after: Annotated[int, typer.Option(min=0, help="Only events with a larger id (the last id you processed).")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Outbox events for other systems, oldest first (administrators)."""
    state = _state(ctx)
    found = notifications.list_events(state.db, state.who, after=after, limit=limit)
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no events")
        return
    t = Table("Id", "When", "Topic", "Case", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for e in found:
        t.add_row(str(e.id), _when(e.created_at), _t(e.topic), _t(e.payload.get("reference") or e.case_id or ""))
    state.console.print(t)
