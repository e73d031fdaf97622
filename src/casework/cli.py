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
from casework.domain.access import Perm, Principal, Role, Scope
from casework.domain.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from casework.domain.lifecycle import Phase, Priority, Status
from casework.services import accounts, auth, history, lifecycle, notes, parties, plans, users
from casework.services import cases as case_service
from casework.services.database import Database, open_database, storage_problem
from casework.services.schemas import (
    CaseCreate,
    CaseFilter,
    CaseUpdate,
    CaseView,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyKind,
    SortKey,
    TransitionRequest,
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
    "party_id": "party",
    "token_id": "token",
    "is_active": "active",
}
PRIORITY_STYLE = {"P1": "bold red", "P2": "yellow", "P3": "default", "P4": "dim"}
PHASE_STYLE = {"closed": "dim", "screening": "cyan", "evaluation": "green"}


# ---------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _field(name: str | None) -> str | None:
    """The option a service field is given by: ``custom_data.product`` is ``data.product`` on the command line."""
    if not name:
        return None
    head, dot, rest = name.partition(".")
    return CLI_NAMES.get(head, head) + dot + rest


def describe_error(exc: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for an error a user can cause, or ``None`` for a bug."""
    if isinstance(exc, DomainError):
        name = _field(exc.field)
        message = exc.message.removeprefix(f"{exc.field}: ") if exc.field else exc.message  # some messages name the field already
        return (f"{name}: {message}" if name else message), USER_ERROR
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
    _who: Principal | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.database_url)
        return self._db

    @property
    def who(self) -> Principal:
        """The acting principal: the ``--as`` account, else the system account (an administrator)."""
        if self._who is None:
            self._who = self.principal(self.acting)
        return self._who

    def principal(self, key: str | None) -> Principal:
        """The principal of an active account by email or id; ``None`` means the system account."""
        if not key:
            return users.system_principal(self.db).with_client("cli")
        try:
            try:
                user_id = uuid.UUID(key)
            except ValueError:
                found = users.principal_by_email(self.db, key)
            else:
                found = auth.load_principal(self.db, user_id)
        except Unauthenticated as exc:
            raise Unauthenticated(exc.message, field="as") from None
        return found.with_client("cli")

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _parse_id(text: str, what: str, field: str) -> uuid.UUID:
    """An id argument, or the one-line CLI error naming what was expected (exit code 2)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"not a {what} id: {text!r}", field=field) from None


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


def _account(state: State, key: str, option: str) -> accounts.AccountView:
    try:
        return accounts.get_account(state.db, state.who, key)
    except NotFound:
        raise NotFound(f"no user with email or id {key!r}", field=option) from None


def _user_id(state: State, key: str | None, option: str) -> uuid.UUID | None:
    return None if key is None else _account(state, key, option).id


def _user_names(state: State) -> dict[uuid.UUID, str]:
    """Display names of accounts; a principal who may not read accounts (a customer) knows only their own."""
    me = state.who
    if not me.can(Perm.USER_READ):
        return {me.user_id: accounts.get_account(state.db, me, str(me.user_id)).name}
    return {a.id: a.name for a in accounts.list_accounts(state.db, me, limit=5000)}


def _name_of(names: dict[uuid.UUID, str], user_id: uuid.UUID | None, state: State) -> str:
    """A user's name; "—" for nobody, and for accounts the acting principal may not look up."""
    if user_id is None:
        return "—"
    return names.get(user_id) or (str(user_id) if state.who.can(Perm.USER_READ) else "—")


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
users_app = typer.Typer(help="Accounts: staff, customers and third parties; roles, teams and passwords.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens (sent as `Authorization: Bearer cwt_…`).", no_args_is_help=True)
parties_app = typer.Typer(help="Customers and other parties (people and organisations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cases_app, name="cases")
app.add_typer(parties_app, name="parties")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
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
        str | None,
        typer.Option("--as", metavar="EMAIL", help="Act as this account, by email or id (default: the system account, an administrator)."),
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
    from casework.services import casetypes

    with state.console.status("Applying migrations…"):
        migrate.upgrade(state.database_url)
        revision = migrate.current(state.database_url)
        installed = [f"{key} v{version}" for key, version, new in casetypes.install_shipped(state.db) if new]
    typer.echo(f"database {_redact(state.database_url)} is at revision {revision or 'none'} (head)")
    if installed:
        typer.echo(f"installed the shipped case types: {', '.join(installed)}")


# ---------------------------------------------------------------- demo


@demo_app.command("load")
def demo_load(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--cases", min=1, max=100_000, help="How many cases to create.")] = 300,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the database already holds cases.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data set.")] = 42,
) -> None:
    """Load a realistic demo data set through the services layer."""
    from casework.demo import DEMO_PASSWORD, load_demo

    state = _state(ctx)
    existing = case_service.count_cases(state.db, state.who, CaseFilter())
    if if_empty and existing:
        typer.echo(f"the database already holds {existing} cases; demo data not loaded")
        return
    who = state.who
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=state.console) as progress:
        task = progress.add_task("Loading demo cases", total=count)
        report = load_demo(state.db, who, cases=count, seed=seed, progress=lambda n: progress.advance(task, n))
    typer.echo(
        f"loaded {report.cases} demo cases, {report.accounts} accounts, {report.parties} parties and {report.documents} documents "
        f"({report.service_calls} service calls) in {report.seconds:.1f} s"
    )
    table = Table("phase", "cases", title="Demo cases by phase", title_justify="left")
    for phase in Phase:
        table.add_row(phase.value, str(report.by_phase.get(phase.value, 0)))
    state.console.print(table)
    accounts_table = Table("Email", "Role", "Teams", title="Demo accounts", title_justify="left")
    for account in report.sign_ins:
        accounts_table.add_row(_t(account.email), _t(account.role.value), _t(", ".join(account.teams)))
    state.console.print(accounts_table)
    typer.echo(f"sign in with any of these emails and the demo password: {DEMO_PASSWORD}")


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
    case_type: Annotated[str | None, typer.Option("--type", help="Case type key, e.g. complaint.")] = None,
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
            "assignee_id": _user_id(state, assignee, "assignee"),
            "team": team,
            "customer_party_id": customer,
            "q": q,
        }
    )
    page = case_service.list_cases(db, state.who, f, sort=sort, cursor=cursor, limit=limit)
    if as_json:
        _print_json(page)
        return
    if not page.items:
        typer.echo("no cases match")
        return
    state.console.print(_case_table(page.items, _user_names(state), state.console.width))
    if page.next_cursor:
        typer.echo(f"next cursor: {page.next_cursor}")


@cases_app.command("show")
def cases_show(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """Everything about one case: details, parties, phase history, plan, notes and communications."""
    state = _state(ctx)
    db, me = state.db, state.who
    case = case_service.get_case(db, me, ref)
    # Each part is shown when the acting principal may read it (a customer sees less than staff).
    linked = parties.case_parties(db, me, case.id) if me.can(Perm.PARTY_READ) else []
    phases = lifecycle.phase_history(db, me, case.id)
    plan = plans.get_plan(db, me, case.id) if me.can(Perm.PLAN_READ) else []
    try:
        case_notes = notes.list_notes(db, me, case.id)
    except Forbidden:  # a third party the notes are not shared with
        case_notes = []
    comms = notes.list_communications(db, me, case.id) if me.can(Perm.COMMUNICATION_READ) else []
    if as_json:
        _print_json({
            "case": case.model_dump(mode="json"), "parties": _dump(linked), "phases": _dump(phases), "plan": _dump(plan),
            "notes": _dump(case_notes), "communications": _dump(comms),
        })  # fmt: skip
        return
    names = _user_names(state)
    out = state.console

    def who(user_id: uuid.UUID | None) -> str:
        return _name_of(names, user_id, state)

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
    case_type: Annotated[str, typer.Option("--type", help="Case type key (see `casework casetypes list`).", show_default=False)],
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
        "assignee_id": _user_id(state, assignee, "assignee"),
        "team": team,
        "due_date": due,
        "custom_data": _json_object(data) or {},
    }
    cmd = CaseCreate.model_validate(fields)
    view = case_service.create_case(state.db, state.who, cmd)
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
        given["assignee_id"] = _user_id(state, key, "assignee") if key else None
    if data is not None:
        given["custom_data"] = _json_object(data)
    if not given:
        raise InvalidInput("nothing to change: give at least one of --title, --description, --priority, --risk, --customer, "
                           "--assignee, --team, --due, --data")  # fmt: skip
    cmd = CaseUpdate.model_validate({**given, "version": version})
    view = case_service.update_case(state.db, state.who, ref, cmd)
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
    view = lifecycle.transition_case(state.db, state.who, ref, cmd)
    if as_json:
        _print_json(view)
        return
    last = lifecycle.phase_history(state.db, state.who, view.id)[-1]
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
    note = notes.add_note(state.db, state.who, ref, cmd)
    typer.echo(f"{note.visibility.value} note added to {ref}")


@cases_app.command("history")
def cases_history(
    ctx: typer.Context,
    ref: CaseRef,
    access: Annotated[bool, typer.Option("--access", help="Include who read the case, and when (access.* entries).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The case's audit entries, oldest first."""
    state = _state(ctx)
    entries = history.case_history(state.db, state.who, ref, include_access=access)
    if as_json:
        _print_json(_dump(entries))
        return
    names = _user_names(state)
    t = Table("Seq", "When", "By", "Action", "Details", title=f"Audit history of {ref}", title_justify="left")
    t.columns[4].overflow = "fold"
    for e in entries:
        by = _name_of(names, e.actor_id, state)
        data = {k: v for k, v in e.data.items() if v is not None} if isinstance(e.data, dict) else e.data
        details = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
        t.add_row(str(e.seq), _when(e.at), _t(by), _t(e.action), _t(details if len(details) <= 300 else details[:297] + "…"))
    state.console.print(t)


# ---------------------------------------------------------------- parties


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
    party = parties.create_party(state.db, state.who, cmd)
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
    found = parties.list_parties(state.db, state.who, name, limit)
    if as_json:
        _print_json(_dump(found))
        return
    t = Table("Id", "Name", "Kind", "Email", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.columns[0].no_wrap = True
    for p in found:
        t.add_row(str(p.id), _t(p.name), _t(p.kind.value), _t(p.email or ""))
    state.console.print(t)


# ---------------------------------------------------------------- accounts

TeamsOption = Annotated[list[str] | None, typer.Option("--team", metavar="TEAM", help="A team (repeat the option for several).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts; one line).")]
EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help="The account's email (or id).", show_default=False)]


def _read_password(*, prompt: bool, stdin: bool) -> str | None:
    """A password from standard input, or typed twice at a hidden prompt; ``None`` when neither was asked for."""
    if prompt and stdin:
        raise InvalidInput("give either --password (prompt) or --password-stdin, not both", field="password")
    if stdin:
        text = typer.get_text_stream("stdin").read()
        password = text.removesuffix("\n").removesuffix("\r")
        if not password:
            raise InvalidInput("no password on standard input", field="password")
        return password
    if prompt:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return None


def _account_line(view: accounts.AccountView) -> str:
    teams = f", teams: {', '.join(view.teams)}" if view.teams else ""
    state = "" if view.is_active else ", disabled"
    return f"{view.email} ({view.role.value}{teams}{state})"


def _update_account(ctx: typer.Context, key: str, fields: dict[str, Any]) -> accounts.AccountView:
    state = _state(ctx)
    target = _account(state, key, "email")
    return accounts.update_account(state.db, state.who, target.id, accounts.AccountUpdate.model_validate(fields))


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(show_default=False)],
    email: Annotated[str, typer.Option(show_default=False)],
    role: Annotated[Role, typer.Option(case_sensitive=False, help="What the account may do.")] = Role.CASE_WORKER,
    team: TeamsOption = None,
    party: Annotated[str | None, typer.Option(metavar="PARTY_ID", help="The party a customer account belongs to.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Set a password, typed at a hidden prompt (twice).")] = False,
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
) -> None:
    """Create an account. Without a password it cannot sign in (API tokens still work).

    The first administrator is created the same way: the CLI acts as the built-in system account.
    """
    state = _state(ctx)
    secret = _read_password(prompt=password, stdin=password_stdin)
    fields = {"name": name, "email": email, "role": role, "teams": team or [], "party_id": party, "password": secret}
    view = accounts.create_account(state.db, state.who, accounts.AccountCreate.model_validate(fields))
    if as_json:
        _print_json(view)
    else:
        typer.echo(f"created account {_account_line(view)}, id {view.id}")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List accounts by name."""
    state = _state(ctx)
    found = accounts.list_accounts(state.db, state.who, limit=5000)
    if as_json:
        _print_json(_dump(found))
        return
    t = Table("Name", "Email", "Role", "Teams", "Active", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.columns[1].overflow = "fold"
    t.columns[2].no_wrap = t.columns[4].no_wrap = True
    for u in found:
        t.add_row(_t(u.name), _t(u.email), _t(u.role.value), _t(", ".join(u.teams)), _t("yes") if u.is_active else _t("no", "red"))
    state.console.print(t)


@users_app.command("disable")
def users_disable(ctx: typer.Context, email: EmailArg) -> None:
    """Disable an account: it can no longer sign in or use its tokens; its history stays."""
    typer.echo(f"disabled {_account_line(_update_account(ctx, email, {'is_active': False}))}")


@users_app.command("enable")
def users_enable(ctx: typer.Context, email: EmailArg) -> None:
    """Enable a disabled account again."""
    typer.echo(f"enabled {_account_line(_update_account(ctx, email, {'is_active': True}))}")


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    email: EmailArg,
    role: Annotated[Role, typer.Argument(case_sensitive=False, help="The new role.", show_default=False)],
) -> None:
    """Change an account's role."""
    typer.echo(f"updated {_account_line(_update_account(ctx, email, {'role': role}))}")


@users_app.command("set-teams")
def users_set_teams(
    ctx: typer.Context,
    email: EmailArg,
    team: TeamsOption = None,
    none: Annotated[bool, typer.Option("--none", help="Remove the account from all its teams.")] = False,
) -> None:
    """Replace an account's teams (case workers and supervisors see their teams' cases)."""
    if none and team:
        raise InvalidInput("give either --team or --none, not both", field="team")
    if not none and not team:
        raise InvalidInput("give the teams with --team (repeatable), or --none to clear them", field="team")
    typer.echo(f"updated {_account_line(_update_account(ctx, email, {'teams': team or []}))}")


@users_app.command("set-password")
def users_set_password(ctx: typer.Context, email: EmailArg, password_stdin: PasswordStdin = False) -> None:
    """Set an account's password (typed twice at a hidden prompt, or from standard input); also lifts a lockout."""
    state = _state(ctx)
    target = _account(state, email, "email")  # a typo in the email fails before the prompt
    secret = _read_password(prompt=not password_stdin, stdin=password_stdin)
    view = accounts.update_account(state.db, state.who, target.id, accounts.AccountUpdate(password=secret))
    typer.echo(f"password set for {view.email}")


# ---------------------------------------------------------------- API tokens

TokenOwner = Annotated[
    str | None, typer.Option("--as", metavar="EMAIL", help="The account the token belongs to (by email or id).", show_default=False)
]


def _token_owner(ctx: typer.Context, acting: str | None) -> Principal:
    state = _state(ctx)
    key = acting or state.acting
    if not key:
        raise InvalidInput("API tokens belong to an account: give --as EMAIL", field="as")
    return state.principal(key)


def _token_status(tok: auth.TokenView, now: dt.datetime) -> str:
    if tok.revoked_at is not None:
        return "revoked"
    if tok.expires_at is not None and tok.expires_at <= now:
        return "expired"
    return "active"


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'nightly export'.", show_default=False)],
    acting: TokenOwner = None,
    scope: Annotated[Scope, typer.Option(case_sensitive=False, help="read: only the account's read permissions.")] = Scope.READ,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until the token expires.")] = 90,
    as_json: JsonFlag = False,
) -> None:
    """Create a personal API token and print it. It is shown only this once."""
    state = _state(ctx)
    owner = _token_owner(ctx, acting)
    if not name.strip():
        raise InvalidInput("must not be empty", field="name")
    new = auth.create_token(state.db, owner, name.strip(), scope, days)
    if as_json:
        _print_json(new)
        return
    typer.echo(new.token)
    expires = new.expires_at.strftime("%Y-%m-%d") if new.expires_at else "never"
    typer.echo(f"{scope.value} token {new.name!r} ({new.id}) expires {expires}; store it now: it is not shown again", err=True)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, acting: TokenOwner = None, as_json: JsonFlag = False) -> None:
    """List an account's API tokens (never the secrets themselves)."""
    state = _state(ctx)
    found = auth.list_tokens(state.db, _token_owner(ctx, acting))
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no tokens")
        return
    now = dt.datetime.now(dt.UTC)
    t = Table("Id", "Name", "Prefix", "Scope", "Created", "Expires", "Status", header_style="bold", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False)  # fmt: skip
    t.columns[0].no_wrap = True
    for tok in found:
        status = _token_status(tok, now)
        t.add_row(str(tok.id), _t(tok.name), _t(tok.prefix + "…"), _t(tok.scope.value), _when(tok.created_at),
                  _when(tok.expires_at) or "never", _t(status, "" if status == "active" else "dim"))  # fmt: skip
    state.console.print(t)


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The token's id (see `tokens list`).", show_default=False)],
    acting: TokenOwner = None,
) -> None:
    """Revoke an API token at once (an administrator may revoke anyone's)."""
    state = _state(ctx)
    owner = _token_owner(ctx, acting)
    key = _parse_id(token_id, "token", "token")
    auth.revoke_token(state.db, owner, key)
    typer.echo(f"token {key} revoked")


# ---------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Recompute the hash chain over every audit entry; exit 1 naming the first bad entry."""
    state = _state(ctx)
    with state.console.status("Verifying the audit chain…"):
        report = history.verify_audit(state.db, state.who)
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


# Commands for daily work and background jobs (worker, sla, queue, notifications, events) live in
# their own module, which registers them on `app`; imported last, when this module is complete.
from casework import cli_work  # noqa: E402, F401

# isort: split
# Commands for configured workflows (casetypes, decisions, answers, cases readiness) live in their
# own module, which registers them on `app` and `cases_app`; imported last, like cli_work.
from casework import cli_workflow  # noqa: E402, F401

# isort: split
# Commands for documents on cases live in their own module, registered on `app` like cli_workflow.
from casework import cli_documents  # noqa: E402, F401

# isort: split
# Email intake (mail fetch) lives in its own module, registered on `app` like cli_workflow.
from casework import cli_mail  # noqa: E402, F401

# isort: split
# Commands for keeping records (archive, retention apply, cases hold) live in their own module,
# which registers them on `app` and `cases_app`; imported last, like cli_work.
from casework import cli_retention  # noqa: E402, F401

# isort: split
# The 2D-Doc trust store (trust add|list|revoke) lives in its own module, registered on `app` like cli_documents.
from casework import cli_trust  # noqa: E402, F401
