"""The ``casework`` command line (Typer + Rich).

The CLI is one more front end to the services layer: every command calls
``casework.services.*`` functions only (plus the migration runner for ``db upgrade``), so it
enforces exactly the rules and audit trail the HTTP API does.

User errors (a broken lifecycle rule, invalid input, a bad option value) print one line on
stderr, ``error: <field>: <message>``, and exit with code 2; storage problems (database not
reachable, schema missing) print one line and exit with code 1. No tracebacks for either.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

# Typer vendors Click; its exception types are needed to print usage errors on one line.
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from casework import __version__
from casework.config import Settings
from casework.domain.errors import DomainError, InvalidInput, NotFound
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import cases as case_service
from casework.services import history, lifecycle, notes, parties, plans, users
from casework.services.database import Database, open_database, storage_problem
from casework.services.schemas import (
    CaseCreate,
    CaseFilter,
    CaseTypeKey,
    CaseUpdate,
    CaseView,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyKind,
    SortKey,
    TransitionRequest,
    UserCreate,
)

USER_ERROR = 2
STORAGE_ERROR = 1

# Service field names as the CLI spells them (options and arguments).
CLI_NAMES = {
    "case_type": "type",
    "customer_party_id": "customer",
    "assignee_id": "assignee",
    "due_date": "due",
    "custom_data": "data",
    "risk_score": "risk",
    "to_phase": "phase",
    "case_id": "case",
    "body": "text",
    "database_url": "database-url",
}
PRIORITY_STYLE = {"P1": "bold red", "P2": "yellow", "P3": "default", "P4": "dim"}
PHASE_STYLE = {"closed": "dim", "screening": "cyan", "evaluation": "green"}


# ---------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _field(name: str | None) -> str | None:
    return CLI_NAMES.get(name, name) if name else None


def describe_error(exc: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for an error a user can cause, or ``None`` for a bug."""
    if isinstance(exc, DomainError):
        name = _field(exc.field)
        return (f"{name}: {exc.message}" if name else exc.message), USER_ERROR
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            if loc:
                loc[0] = CLI_NAMES.get(loc[0], loc[0])
            parts.append(f"{'.'.join(loc)}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
        return "; ".join(parts) or "invalid input", USER_ERROR
    problem = storage_problem(exc)
    if problem is not None:
        return problem, STORAGE_ERROR
    return None


def _fail(message: str, code: int = USER_ERROR) -> NoReturn:
    typer.echo(f"error: {_one_line(message)}", err=True)
    sys.exit(code)


class CaseworkGroup(TyperGroup):
    """Runs the command and turns user errors into one line on stderr instead of panels or tracebacks."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:
            # The help text has already been printed.
            sys.exit(exc.exit_code)
        except ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except Exception as exc:
            described = describe_error(exc)
            if described is None:
                raise
            _fail(*described)
        sys.exit(result if isinstance(result, int) else 0)


# ---------------------------------------------------------------- state shared by the commands


@dataclass
class State:
    database_url: str
    acting: str | None
    console: Console = field(default_factory=lambda: Console(highlight=False))
    _db: Database | None = None
    _actor: uuid.UUID | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.database_url)
        return self._db

    @property
    def actor(self) -> uuid.UUID:
        if self._actor is None:
            if self.acting:
                try:
                    self._actor = users.find_user(self.db, self.acting).id
                except NotFound:
                    raise NotFound(f"no user with email or id {self.acting!r}", field="as") from None
            else:
                self._actor = users.ensure_system_user(self.db)
        return self._actor

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _state(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:  # e.g. CASEWORK_PORT=abc
        raise InvalidInput(f"invalid CASEWORK_* environment variable: {exc}") from None


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _print_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _dump(items: Sequence[BaseModel]) -> list[Any]:
    return [i.model_dump(mode="json") for i in items]


def _user_id(db: Database, key: str | None, option: str) -> uuid.UUID | None:
    if key is None:
        return None
    try:
        return users.find_user(db, key).id
    except NotFound:
        raise NotFound(f"no user with email or id {key!r}", field=option) from None


def _user_names(db: Database) -> dict[uuid.UUID, str]:
    return {u.id: u.name for u in users.list_users(db, 1000)}


def _json_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}", field="data") from None
    if not isinstance(value, dict):
        raise InvalidInput('must be a JSON object such as {"amount": 10}', field="data")
    return value


def _nullable(value: str | None) -> str | None:
    """Options of nullable fields take ``none`` (or an empty string) to clear the field."""
    return None if value is not None and value.strip().lower() in ("", "none", "null") else value


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _t(value: Any, style: str = "") -> Text:
    """User-supplied text as Rich text (never interpreted as markup)."""
    return Text("" if value is None else str(value), style=style)


# ---------------------------------------------------------------- the application

app = typer.Typer(
    cls=CaseworkGroup,
    name="casework",
    help="Case management from intake to closure: seven phases, a central database and a tamper-evident audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
cases_app = typer.Typer(help="Open, read, edit and move cases.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
users_app = typer.Typer(help="Staff users.", no_args_is_help=True)
parties_app = typer.Typer(help="Customers and other parties (people and organisations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cases_app, name="cases")
app.add_typer(parties_app, name="parties")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"casework {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", metavar="URL", help="Database URL (default: $CASEWORK_DATABASE_URL, else sqlite:///./casework.db)."),
    ] = None,
    acting: Annotated[
        str | None, typer.Option("--as", metavar="EMAIL", help="Acting user, by email or id (default: the system user).")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    state = State(database_url or _settings().database_url, acting)
    ctx.obj = state
    ctx.call_on_close(state.close)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
CaseRef = Annotated[str, typer.Argument(metavar="REF_OR_ID", help="Case reference (CASE-2026-000123) or id.", show_default=False)]


# ---------------------------------------------------------------- serve and db


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: $CASEWORK_HOST, else 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (default: $CASEWORK_PORT, else 8000).", show_default=False)
    ] = None,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Restart on code changes (development).")] = False,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    settings = _settings()
    # The application factory reads its database from the environment, also in reload workers.
    os.environ["CASEWORK_DATABASE_URL"] = _state(ctx).database_url
    uvicorn.run(
        "casework.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        log_level=settings.log_level.lower(),
    )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply the database migrations up to the latest revision."""
    from casework.store import migrate

    state = _state(ctx)
    with state.console.status("Applying migrations…"):
        migrate.upgrade(state.database_url)
        revision = migrate.current(state.database_url)
    typer.echo(f"database {_redact(state.database_url)} is at revision {revision or 'none'} (head)")


# ---------------------------------------------------------------- demo


@demo_app.command("load")
def demo_load(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--cases", min=1, max=100_000, help="How many cases to create.")] = 300,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the database already holds cases.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data set.")] = 42,
) -> None:
    """Load a realistic demo data set through the services layer."""
    from casework.demo import load_demo

    state = _state(ctx)
    existing = case_service.count_cases(state.db, CaseFilter())
    if if_empty and existing:
        typer.echo(f"the database already holds {existing} cases; demo data not loaded")
        return
    actor = state.actor
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=state.console) as progress:
        task = progress.add_task("Loading demo cases", total=count)
        report = load_demo(state.db, actor, cases=count, seed=seed, progress=lambda n: progress.advance(task, n))
    typer.echo(
        f"loaded {report.cases} demo cases, {report.users} staff users and {report.parties} parties "
        f"({report.service_calls} service calls) in {report.seconds:.1f} s"
    )
    table = Table("phase", "cases", title="Demo cases by phase", title_justify="left")
    for phase in Phase:
        table.add_row(phase.value, str(report.by_phase.get(phase.value, 0)))
    state.console.print(table)


# ---------------------------------------------------------------- cases


SHORT_TYPES = {"support_ticket": "support", "disputed_transaction": "dispute"}


def _case_table(items: list[CaseView], names: dict[uuid.UUID, str], width: int) -> Table:
    """Short columns keep their full width; the title gives way on narrow terminals, where the long
    case-type keys are abbreviated too."""
    short = width < 120
    kinds = [SHORT_TYPES.get(c.case_type, c.case_type) if short else c.case_type for c in items]
    assignees = [names.get(c.assignee_id, str(c.assignee_id))[:24] if c.assignee_id else "—" for c in items]
    fixed = [
        max(9, *(len(c.reference) for c in items)),
        max(4, *(len(k) for k in kinds)),
        max(5, *(len(c.phase.value) for c in items)),
        4,
        6,
        max(8, *(len(a) for a in assignees)),
    ]
    title_width = max(10, width - sum(fixed) - 3 * 6)  # six column gaps of three characters
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, w in zip(["Reference", "Type", "Phase", "Prio", "Status"], fixed, strict=False):
        table.add_column(name, no_wrap=True, min_width=w)
    table.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=title_width)
    table.add_column("Assignee", no_wrap=True, min_width=fixed[-1])
    for c, kind, assignee in zip(items, kinds, assignees, strict=True):
        table.add_row(
            _t(c.reference),
            _t(kind),
            _t(c.phase.value, PHASE_STYLE.get(c.phase.value, "")),
            _t(c.priority.value, PRIORITY_STYLE[c.priority.value]),
            _t(c.status.value),
            _t(c.title),
            _t(assignee, "" if c.assignee_id else "dim"),
        )
    return table


@cases_app.command("list")
def cases_list(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(case_sensitive=False, help="open or closed")] = None,
    phase: Annotated[Phase | None, typer.Option(case_sensitive=False)] = None,
    case_type: Annotated[CaseTypeKey | None, typer.Option("--type", case_sensitive=False)] = None,
    priority: Annotated[Priority | None, typer.Option()] = None,
    assignee: Annotated[str | None, typer.Option(metavar="EMAIL_OR_ID", help="Cases assigned to this user.")] = None,
    team: Annotated[str | None, typer.Option()] = None,
    customer: Annotated[str | None, typer.Option(metavar="PARTY_ID")] = None,
    q: Annotated[str | None, typer.Option("--q", metavar="TEXT", help="Full-text search over title, description and notes.")] = None,
    sort: Annotated[SortKey, typer.Option(help="Sort key; a leading - sorts descending (use --sort=-priority).")] = SortKey.CREATED_DESC,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page (the printed next cursor).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List cases, newest first, with filters and cursor paging."""
    state = _state(ctx)
    db = state.db
    f = CaseFilter.model_validate(
        {
            "status": status,
            "phase": phase,
            "case_type": case_type,
            "priority": priority,
            "assignee_id": _user_id(db, assignee, "assignee"),
            "team": team,
            "customer_party_id": customer,
            "q": q,
        }
    )
    page = case_service.list_cases(db, f, sort=sort, cursor=cursor, limit=limit)
    if as_json:
        _print_json(page)
        return
    if not page.items:
        typer.echo("no cases match")
        return
    state.console.print(_case_table(page.items, _user_names(db), state.console.width))
    if page.next_cursor:
        typer.echo(f"next cursor: {page.next_cursor}")


@cases_app.command("show")
def cases_show(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """Everything about one case: details, parties, phase history, plan, notes and communications."""
    state = _state(ctx)
    db = state.db
    case = case_service.get_case(db, ref)
    linked = parties.case_parties(db, case.id)
    phases = lifecycle.phase_history(db, case.id)
    plan = plans.get_plan(db, case.id)
    case_notes = notes.list_notes(db, case.id)
    comms = notes.list_communications(db, case.id)
    if as_json:
        _print_json({
            "case": case.model_dump(mode="json"), "parties": _dump(linked), "phases": _dump(phases), "plan": _dump(plan),
            "notes": _dump(case_notes), "communications": _dump(comms),
        })  # fmt: skip
        return
    names = _user_names(db)
    out = state.console

    def who(user_id: uuid.UUID | None) -> str:
        return names.get(user_id, str(user_id)) if user_id else "—"

    customer = next((p.party.name for p in linked if p.party.id == case.customer_party_id), None)
    details = Table.grid(padding=(0, 2))
    details.add_column(style="bold", no_wrap=True)
    details.add_column()
    rows: list[tuple[str, Any]] = [
        ("Type", case.case_type),
        ("Status", f"{case.status.value} · phase {case.phase.value}" + (f" · outcome: {case.outcome}" if case.outcome else "")),
        ("Priority", _t(case.priority.value, PRIORITY_STYLE[case.priority.value])),
        ("Risk score", case.risk_score if case.risk_score is not None else "—"),
        ("Assignee", who(case.assignee_id) + (f" ({case.team})" if case.team else "")),
        ("Customer", customer or "—"),
        ("Due", case.due_date.isoformat() if case.due_date else "—"),
        ("Opened", _when(case.created_at)),
        ("Updated", _when(case.updated_at)),
        ("Closed", _when(case.closed_at) or "—"),
        ("Version", case.version),
        ("Can move to", ", ".join(p.value for p in case.allowed_transitions)),
    ]
    if case.custom_data:
        rows.append(("Data", json.dumps(case.custom_data, ensure_ascii=False)))
    for label, value in rows:
        details.add_row(label, value if isinstance(value, Text) else _t(value))
    body: list[Any] = [details]
    if case.description:
        body += [Text(""), _t(case.description)]
    out.print(Panel(Group(*body), title=Text(f"{case.reference} · {case.title}", style="bold"), title_align="left"))

    if linked:
        t = Table("Role", "Name", "Kind", "Email", "Phone", title="Parties", title_justify="left")
        for link in linked:
            t.add_row(
                _t(link.role.value), _t(link.party.name), _t(link.party.kind.value), _t(link.party.email or ""), _t(link.party.phone or "")
            )
        out.print(t)

    t = Table("#", "When", "Move", "Kind", "Reason / outcome", "By", title="Phase history", title_justify="left")
    for ph in phases:
        move = f"{ph.from_phase.value} → {ph.to_phase.value}" if ph.from_phase else f"opened in {ph.to_phase.value}"
        t.add_row(str(ph.seq), _when(ph.at), _t(move), _t(ph.kind), _t(ph.outcome or ph.reason or ""), _t(who(ph.actor_id)))
    out.print(t)

    if plan:
        t = Table("Goal / task", "Status", "Assignee", "Due", title="Plan", title_justify="left")
        for goal in plan:
            t.add_row(_t(goal.title, "bold"), _t(goal.status.value), "", "")
            for task in goal.tasks:
                mark = "✔" if task.status.value == "done" else "·"
                t.add_row(
                    _t(f"  {mark} {task.title}"), _t(task.status.value), _t(who(task.assignee_id)),
                    _t(task.due_date.isoformat() if task.due_date else ""),
                )  # fmt: skip
        out.print(t)

    if comms:
        t = Table("When", "Channel", "Direction", "Subject", title="Communications", title_justify="left")
        for c in comms:
            t.add_row(_when(c.occurred_at), _t(c.channel.value), _t(c.direction.value), _t(c.subject))
        out.print(t)

    if case_notes:
        out.print(Text("Notes", style="italic"))
        for n in case_notes:
            title = Text(f"{_when(n.created_at)} · {who(n.author_id)} · {n.visibility.value}")
            out.print(
                Panel(_t(n.body), title=title, title_align="left", border_style="dim" if n.visibility.value == "internal" else "green")
            )


@cases_app.command("create")
def cases_create(
    ctx: typer.Context,
    case_type: Annotated[CaseTypeKey, typer.Option("--type", case_sensitive=False, help="Case type.", show_default=False)],
    title: Annotated[str, typer.Option(help="Short title.", show_default=False)],
    description: Annotated[str, typer.Option(help="Longer description.")] = "",
    priority: Annotated[Priority, typer.Option()] = Priority.P3,
    risk: Annotated[int | None, typer.Option(metavar="0-100", help="Risk score.")] = None,
    customer: Annotated[str | None, typer.Option(metavar="PARTY_ID", help="Customer party id (see `casework parties`).")] = None,
    assignee: Annotated[str | None, typer.Option(metavar="EMAIL_OR_ID")] = None,
    team: Annotated[str | None, typer.Option()] = None,
    due: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="Due date.")] = None,
    data: Annotated[str | None, typer.Option(metavar="JSON", help="Custom data as a JSON object, e.g. '{\"amount\": 10}'.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a case (in screening) and print its reference."""
    state = _state(ctx)
    fields: dict[str, Any] = {
        "case_type": case_type,
        "title": title,
        "description": description,
        "priority": priority,
        "risk_score": risk,
        "customer_party_id": customer,
        "assignee_id": _user_id(state.db, assignee, "assignee"),
        "team": team,
        "due_date": due,
        "custom_data": _json_object(data) or {},
    }
    cmd = CaseCreate.model_validate(fields)
    view = case_service.create_case(state.db, state.actor, cmd)
    if as_json:
        _print_json(view)
    else:
        typer.echo(view.reference)


@cases_app.command("update")
def cases_update(
    ctx: typer.Context,
    ref: CaseRef,
    version: Annotated[int, typer.Option(help="The version you are editing (see `cases show`).", show_default=False)],
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[Priority | None, typer.Option()] = None,
    risk: Annotated[str | None, typer.Option(metavar="0-100|none")] = None,
    customer: Annotated[str | None, typer.Option(metavar="PARTY_ID|none")] = None,
    assignee: Annotated[str | None, typer.Option(metavar="EMAIL_OR_ID|none")] = None,
    team: Annotated[str | None, typer.Option(metavar="TEAM|none")] = None,
    due: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD|none")] = None,
    data: Annotated[str | None, typer.Option(metavar="JSON", help="Replaces the custom data.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Edit a case; only the options given change. `none` clears an optional field."""
    state = _state(ctx)
    given: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("priority", priority)):
        if value is not None:
            given[name] = value
    for name, raw in (("risk_score", risk), ("customer_party_id", customer), ("team", team), ("due_date", due)):
        if raw is not None:
            given[name] = _nullable(raw)
    if assignee is not None:
        key = _nullable(assignee)
        given["assignee_id"] = _user_id(state.db, key, "assignee") if key else None
    if data is not None:
        given["custom_data"] = _json_object(data)
    if not given:
        raise InvalidInput("nothing to change: give at least one of --title, --description, --priority, --risk, --customer, "
                           "--assignee, --team, --due, --data")  # fmt: skip
    cmd = CaseUpdate.model_validate({**given, "version": version})
    view = case_service.update_case(state.db, state.actor, ref, cmd)
    if as_json:
        _print_json(view)
    elif view.version == version:
        typer.echo(f"{view.reference}: nothing changed (version {view.version})")
    else:
        typer.echo(f"{view.reference} updated (version {view.version})")


@cases_app.command("move")
def cases_move(
    ctx: typer.Context,
    ref: CaseRef,
    phase: Annotated[Phase, typer.Argument(case_sensitive=False, help="Target phase.", show_default=False)],
    reason: Annotated[str | None, typer.Option(help="Why (required to go back or to reopen).")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome (required to close).")] = None,
    version: Annotated[int | None, typer.Option(help="Refuse the move if the case is no longer at this version.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Move a case to another phase (forward one step, back with a reason, close with an outcome, reopen with a reason)."""
    state = _state(ctx)
    cmd = TransitionRequest.model_validate({"to_phase": phase, "reason": reason, "outcome": outcome, "version": version})
    view = lifecycle.transition_case(state.db, state.actor, ref, cmd)
    if as_json:
        _print_json(view)
        return
    last = lifecycle.phase_history(state.db, view.id)[-1]
    source = last.from_phase.value if last.from_phase else "—"
    allowed = ", ".join(p.value for p in view.allowed_transitions)
    typer.echo(f"{view.reference}: {source} → {view.phase.value} ({last.kind}); can now move to: {allowed}")


@cases_app.command("note")
def cases_note(
    ctx: typer.Context,
    ref: CaseRef,
    text: Annotated[str, typer.Argument(help="The note.", show_default=False)],
    shared: Annotated[bool, typer.Option("--shared", help="Visible to the customer (default: internal).")] = False,
) -> None:
    """Add a note to a case."""
    state = _state(ctx)
    cmd = NoteCreate(body=text, visibility=NoteVisibility.SHARED if shared else NoteVisibility.INTERNAL)
    note = notes.add_note(state.db, state.actor, ref, cmd)
    typer.echo(f"{note.visibility.value} note added to {ref}")


@cases_app.command("history")
def cases_history(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """The case's audit entries, oldest first."""
    state = _state(ctx)
    entries = history.case_history(state.db, ref)
    if as_json:
        _print_json(_dump(entries))
        return
    names = _user_names(state.db)
    t = Table("Seq", "When", "By", "Action", "Details", title=f"Audit history of {ref}", title_justify="left")
    t.columns[4].overflow = "fold"
    for e in entries:
        by = names.get(e.actor_id, str(e.actor_id)) if e.actor_id else "—"
        data = {k: v for k, v in e.data.items() if v is not None} if isinstance(e.data, dict) else e.data
        details = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
        t.add_row(str(e.seq), _when(e.at), _t(by), _t(e.action), _t(details if len(details) <= 300 else details[:297] + "…"))
    state.console.print(t)


# ---------------------------------------------------------------- parties and users


@parties_app.command("create")
def parties_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(show_default=False)],
    kind: Annotated[PartyKind, typer.Option(case_sensitive=False)] = PartyKind.PERSON,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a person or organisation and print its id (for `cases create --customer`)."""
    state = _state(ctx)
    cmd = PartyCreate.model_validate({"kind": kind, "name": name, "email": email, "phone": phone, "address": address})
    party = parties.create_party(state.db, state.actor, cmd)
    if as_json:
        _print_json(party)
    else:
        typer.echo(str(party.id))


@parties_app.command("list")
def parties_list(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List parties by name."""
    state = _state(ctx)
    found = parties.list_parties(state.db, name, limit)
    if as_json:
        _print_json(_dump(found))
        return
    t = Table("Id", "Name", "Kind", "Email", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.columns[0].no_wrap = True
    for p in found:
        t.add_row(str(p.id), _t(p.name), _t(p.kind.value), _t(p.email or ""))
    state.console.print(t)


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(show_default=False)],
    email: Annotated[str, typer.Option(show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Create a staff user."""
    state = _state(ctx)
    user = users.create_user(state.db, state.actor, UserCreate.model_validate({"name": name, "email": email}))
    if as_json:
        _print_json(user)
    else:
        typer.echo(f"created user {user.email} ({user.id})")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List users by name."""
    state = _state(ctx)
    found = users.list_users(state.db, 1000)
    if as_json:
        _print_json(_dump(found))
        return
    t = Table("Name", "Email", "Created", "Id", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.columns[1].overflow = "fold"
    t.columns[2].no_wrap = t.columns[3].no_wrap = True
    for u in found:
        t.add_row(_t(u.name), _t(u.email), _when(u.created_at), str(u.id))
    state.console.print(t)


# ---------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Recompute the hash chain over every audit entry; exit 1 naming the first bad entry."""
    state = _state(ctx)
    with state.console.status("Verifying the audit chain…"):
        report = history.verify_audit(state.db)
    if as_json:
        _print_json(report)
    elif report.ok:
        typer.echo(report.message)
    else:
        typer.echo(report.message, err=True)
    if not report.ok:
        raise typer.Exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=list(argv) if argv is not None else None, prog_name="casework")
