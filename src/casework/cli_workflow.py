"""Command-line commands for configured workflows: ``casetypes``, ``decisions``, ``answers`` and
``cases readiness``.

Imported at the end of :mod:`casework.cli`; this module registers its sub-applications on the
main application itself, so they share its global options (``--database-url``, ``--as``) and its
one-line error handling (user errors exit with code 2).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from casework.casetypes.loader import CaseTypeError, load_table_text
from casework.cli import CaseRef, JsonFlag, _dump, _json_object, _parse_id, _print_json, _state, _t, _when, app, cases_app
from casework.domain.errors import InvalidInput
from casework.services import answers, casetypes, decisions, rulesets, workflow
from casework.services.workflow_schemas import (
    AnswersSubmit,
    DecisionPoint,
    DecisionResolve,
    DecisionView,
    DraftCreate,
)

casetypes_app = typer.Typer(help="Case types: list, show, validate, install and compare definitions (YAML).", no_args_is_help=True)
decisions_app = typer.Typer(
    help="Decisions on cases and the versioned decision tables behind them (draft, simulate, publish).", no_args_is_help=True
)
answers_app = typer.Typer(help="Questionnaire answers on a case.", no_args_is_help=True)
app.add_typer(casetypes_app, name="casetypes")
app.add_typer(decisions_app, name="decisions")
app.add_typer(answers_app, name="answers")

MAX_FILE = 200_000


def _table(*columns: str) -> Table:
    return Table(*columns, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def _read(path: Path, option: str = "file") -> str:
    """A definition file's text; an unreadable or oversized file is a one-line user error."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise InvalidInput(f"{path} is larger than {MAX_FILE // 1000} kB", field=option)
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}", field=option) from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a file", field=option) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", field=option) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}", field=option) from None


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _outputs(outputs: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in (outputs or {}).items()) or "—"


FileArg = Annotated[Path, typer.Argument(metavar="FILE", help="A definition in YAML.", show_default=False, dir_okay=False)]
VersionOption = Annotated[int | None, typer.Option("--version", min=1, help="A given version (default: the latest).")]


# ---------------------------------------------------------------- case types


@casetypes_app.command("list")
def casetypes_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Installed case types with their versions, questionnaires and outcomes."""
    state = _state(ctx)
    found = casetypes.list_case_types(state.db, state.who)
    if as_json:
        _print_json(_dump(found))
        return
    t = _table("Key", "Name", "Latest", "Versions", "Questionnaires", "Outcomes")
    t.columns[0].no_wrap = True
    for ct in found:
        t.add_row(
            _t(ct.key),
            _t(ct.name),
            str(ct.latest_version),
            ", ".join(str(v) for v in ct.versions),
            _t(", ".join(ct.questionnaires) or "—"),
            _t(", ".join(ct.outcomes)),
        )
    state.console.print(t)


@casetypes_app.command("show")
def casetypes_show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="Case type key, e.g. complaint.", show_default=False)],
    version: VersionOption = None,
    source: Annotated[bool, typer.Option("--source", help="Print the definition's YAML text as it was installed.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """One version of a case type: its questionnaires, phase criteria, decisions and outcomes (or its YAML source)."""
    state = _state(ctx)
    detail = casetypes.get_case_type(state.db, state.who, key, version)
    if source:
        typer.echo(detail.source, nl=not detail.source.endswith("\n"))
        return
    if as_json:
        _print_json(detail)
        return
    d = detail.definition
    out = state.console
    out.print(_t(f"{detail.key} version {detail.version}: {detail.name}", "bold"))
    if d.get("description"):
        out.print(_t(d["description"]))
    out.print(_t(f"installed {_when(detail.installed_at)}, checksum {detail.checksum[:12]}"))
    out.print(_t(f"teams: {', '.join(d.get('teams') or []) or '—'}; outcomes: {', '.join(d.get('outcomes') or []) or '—'}"))
    fields = sorted(((d.get("fields") or {}).get("properties") or {}).keys())
    if fields:
        out.print(_t(f"fields: {', '.join(fields)}"))
    questionnaires = d.get("questionnaires") or []
    if questionnaires:
        t = _table("Questionnaire", "Title", "Phase", "Questions")
        for q in questionnaires:
            t.add_row(
                _t(q.get("key")), _t(q.get("title")), _t(q.get("phase")), _t(", ".join(x.get("key", "") for x in q.get("questions") or []))
            )
        out.print(t)
    bindings = d.get("decisions") or {}
    if bindings:
        t = _table("Decision point", "Table", "Mode")
        for point, binding in bindings.items():
            t.add_row(_t(point), _t(binding.get("table")), _t(binding.get("mode")))
        out.print(t)


@casetypes_app.command("validate")
def casetypes_validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Definitions in YAML.", show_default=False, dir_okay=False)],
) -> None:
    """Check definitions without installing them: every problem as `file:line: field: message`; exit 2 if any is invalid."""
    state = _state(ctx)
    invalid = 0
    for path in files:
        report = casetypes.validate_source(state.db, state.who, _read(path), filename=str(path))
        if report.valid:
            typer.echo(f"{path}: ok ({report.key} version {report.version})")
            continue
        invalid += 1
        for e in report.errors:
            where = f"{e.file}:{e.line}" if e.line is not None else e.file
            typer.echo(f"{where}: {e.field}: {e.message}" if e.field else f"{where}: {e.message}")
    if invalid:
        typer.echo(f"{invalid} of {len(files)} file{'s' if len(files) != 1 else ''} invalid", err=True)
        raise typer.Exit(2)


@casetypes_app.command("install")
def casetypes_install(ctx: typer.Context, file: FileArg, as_json: JsonFlag = False) -> None:
    """Install a case type (a new key, or a higher version of an installed one). Open cases keep their version."""
    state = _state(ctx)
    view = casetypes.install_source(state.db, state.who, _read(file), filename=file.name)
    if as_json:
        _print_json(view)
    else:
        typer.echo(f"installed {view.key} version {view.version} ({view.name}), checksum {view.checksum[:12]}")


@casetypes_app.command("diff")
def casetypes_diff(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="Case type key.", show_default=False)],
    from_version: Annotated[int, typer.Option("--from", min=1, help="The older installed version.", show_default=False)],
    to_version: Annotated[int | None, typer.Option("--to", min=1, help="The newer installed version (default: the latest).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Compare with this definition instead (not installed).", dir_okay=False)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """What changed between two versions of a case type, or between a version and a file."""
    if to_version is not None and file is not None:
        raise InvalidInput("give either --to or --file, not both", field="to")
    state = _state(ctx)
    source = _read(file) if file is not None else None
    diff = casetypes.diff_case_type(state.db, state.who, key, from_version, to_version, source=source)
    if as_json:
        _print_json(diff)
        return
    typer.echo(f"{diff.key}: version {diff.from_version} → {diff.to_version}")
    typer.echo(diff.text.rstrip("\n") if diff.changes else "no changes")


# ---------------------------------------------------------------- decision tables

TableArg = Annotated[str, typer.Argument(metavar="NAME", help="Decision table name, e.g. complaint.risk.", show_default=False)]


@decisions_app.command("tables")
def decisions_tables(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Decision tables: the published version, drafts, and the case types that use each."""
    state = _state(ctx)
    found = rulesets.list_tables(state.db, state.who)
    if as_json:
        _print_json(_dump(found))
        return
    t = _table("Name", "Title", "Published", "Latest", "Drafts", "Used by")
    t.columns[0].no_wrap = True
    for tb in found:
        published = str(tb.published_version) if tb.published_version is not None else "—"
        drafts = ", ".join(str(v) for v in tb.drafts) or "—"
        t.add_row(_t(tb.name), _t(tb.title), published, str(tb.latest_version), drafts, _t(", ".join(tb.used_by) or "—"))
    state.console.print(t)


@decisions_app.command("show")
def decisions_show(ctx: typer.Context, name: TableArg, version: VersionOption = None, as_json: JsonFlag = False) -> None:
    """A decision table's rules (the published version unless --version is given)."""
    state = _state(ctx)
    view = rulesets.get_table(state.db, state.who, name, version)
    if as_json:
        _print_json(view)
        return
    d = view.definition
    out = state.console
    out.print(_t(f"{view.name} version {view.version} ({view.status.value}): {d.get('title') or ''}".rstrip(": "), "bold"))
    policy = str(d.get("hit_policy") or "UNIQUE") + (f" {d['aggregation']}" if d.get("aggregation") else "")
    out.print(_t(f"hit policy {policy}" + (f"; comment: {view.comment}" if view.comment else "")))
    inputs = d.get("inputs") or []
    outputs = d.get("outputs") or []
    t = _table("Rule", *[str(i.get("name")) for i in inputs], *[f"→ {o.get('name')}" for o in outputs], "Note")
    for column in t.columns:
        column.overflow = "fold"
    for rule in d.get("rules") or []:
        cells = [str(c) for c in rule.get("when") or []]
        then = rule.get("then") or {}
        results = [_t(_value(then[o["name"]]) if o.get("name") in then else "") for o in outputs]
        t.add_row(_t(rule.get("id")), *[_t(c) for c in cells], *results, _t(rule.get("note") or ""))
    out.print(t)


@decisions_app.command("draft")
def decisions_draft(
    ctx: typer.Context,
    name: TableArg,
    file: FileArg,
    comment: Annotated[str, typer.Option(help="What the draft changes and why.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Save a new draft version of a table from a YAML file; it decides nothing until published."""
    state = _state(ctx)
    text = _read(file)
    try:
        view = rulesets.create_draft(state.db, state.who, name, DraftCreate(source=text, comment=comment))
    except InvalidInput as exc:
        if exc.field == "source" or (exc.field or "").startswith("definition."):
            try:  # the same problem, named by file and line
                load_table_text(text, filename=file.name)
            except CaseTypeError as err:
                raise InvalidInput(str(err), field="file") from None
        raise
    if as_json:
        _print_json(view)
    else:
        typer.echo(f"saved draft version {view.version} of {view.name}")


@decisions_app.command("publish")
def decisions_publish(
    ctx: typer.Context,
    name: TableArg,
    version: Annotated[int, typer.Argument(metavar="VERSION", min=1, help="The draft version to publish.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Publish a draft: later decisions use it, and the version published until now is retired."""
    state = _state(ctx)
    view = rulesets.publish(state.db, state.who, name, version)
    if as_json:
        _print_json(view)
    else:
        typer.echo(f"published {view.name} version {view.version}")


@decisions_app.command("simulate")
def decisions_simulate(
    ctx: typer.Context,
    name: TableArg,
    draft: Annotated[int, typer.Option("--draft", min=1, help="The draft version to try.", show_default=False)],
    last: Annotated[int, typer.Option("--last", min=1, max=10_000, help="How many recently closed cases to replay.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Replay a draft over recently closed cases and compare it with the published version (nothing is written)."""
    state = _state(ctx)
    report = rulesets.simulate(state.db, state.who, name, draft, last=last)
    if as_json:
        _print_json(report)
        return
    against = f"published version {report.published_version}" if report.published_version is not None else "no published version"
    typer.echo(f"{report.table}: draft version {report.draft_version} against {against}")
    typer.echo(f"cases considered: {report.cases}")
    typer.echo(f"changed: {report.changed}")
    typer.echo(f"unchanged: {report.unchanged}")
    if report.errors:
        typer.echo(f"could not decide: {report.errors}")
    if report.examples:
        t = _table("Case", "Published decides", "Draft decides", "Rules (published → draft)")
        t.columns[0].no_wrap = True
        for ex in report.examples:
            rules = f"{', '.join(ex.current_rules) or '—'} → {', '.join(ex.draft_rules) or '—'}"
            t.add_row(_t(ex.reference), _t(_outputs(ex.current)), _t(_outputs(ex.draft)), _t(rules))
        state.console.print(t)


# ---------------------------------------------------------------- decisions on cases

DecisionArg = Annotated[str, typer.Argument(metavar="DECISION_ID", help="The decision's id (see `decisions list`).", show_default=False)]


def _decision_id(text: str) -> uuid.UUID:
    return _parse_id(text, "decision", "decision")


def _decision_line(d: DecisionView) -> str:
    shown = d.final_outputs if d.final_outputs is not None else d.outputs
    return f"{d.point.value}: {d.table_name} v{d.table_version} ({d.mode}, {d.status.value}): {_outputs(shown)}"


def _print_decision(d: DecisionView) -> None:
    """A decision as a block: what was decided, then its id, the matched rules and the explanation, indented."""
    typer.echo(f"{_when(d.decided_at)}  {_decision_line(d)}")
    typer.echo(f"    id: {d.id}")
    typer.echo(f"    matched: {', '.join(d.matched) or 'no rule'}")
    if d.final_outputs is not None and d.final_outputs != d.outputs:
        typer.echo(f"    recommended: {_outputs(d.outputs)}")
    if d.reason:
        typer.echo(f"    reason: {d.reason}")
    for line in d.explanation.splitlines():
        typer.echo(f"    | {line}")


@decisions_app.command("run")
def decisions_run(
    ctx: typer.Context,
    ref: CaseRef,
    point: Annotated[DecisionPoint, typer.Argument(case_sensitive=False, help="The decision point.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Take a decision on a case now, with the published table its case type binds at that point."""
    state = _state(ctx)
    view = decisions.run_decision(state.db, state.who, ref, point)
    if as_json:
        _print_json(view)
    else:
        _print_decision(view)


@decisions_app.command("list")
def decisions_list(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """The decisions taken on a case, oldest first, each with its explanation."""
    state = _state(ctx)
    found = decisions.list_decisions(state.db, state.who, ref)
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo(f"no decisions on {ref}")
        return
    for i, d in enumerate(found):
        if i:
            typer.echo("")
        _print_decision(d)


def _resolved(d: DecisionView, reference: str, version: int, as_json: bool) -> None:
    if as_json:
        _print_json(d)
        return
    typer.echo(f"{d.status.value} {_decision_line(d)}")
    typer.echo(f"{reference} is now at version {version}")


@decisions_app.command("accept")
def decisions_accept(
    ctx: typer.Context,
    ref: CaseRef,
    decision_id: DecisionArg,
    reason: Annotated[str | None, typer.Option(help="Why (optional).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Accept a pending recommendation: its outputs take effect on the case."""
    state = _state(ctx)
    cmd = DecisionResolve.model_validate({"reason": reason})
    view, case = decisions.resolve_decision(state.db, state.who, ref, _decision_id(decision_id), cmd)
    _resolved(view, case.reference, case.version, as_json)


def _assignment(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise InvalidInput(f"expected key=value, got {text!r}", field="set")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


@decisions_app.command("override")
def decisions_override(
    ctx: typer.Context,
    ref: CaseRef,
    decision_id: DecisionArg,
    assignments: Annotated[
        list[str], typer.Option("--set", metavar="KEY=VALUE", help="An output to replace (repeatable); the value is JSON or text.")
    ],
    reason: Annotated[str, typer.Option(help="Why the recommendation is overridden.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Override a pending recommendation with other outputs and a reason; those outputs take effect."""
    state = _state(ctx)
    if not reason.strip():
        raise InvalidInput("overriding a recommendation requires a reason", field="reason")
    outputs = dict(_assignment(a) for a in assignments)
    cmd = DecisionResolve.model_validate({"outputs": outputs, "reason": reason})
    view, case = decisions.resolve_decision(state.db, state.who, ref, _decision_id(decision_id), cmd)
    _resolved(view, case.reference, case.version, as_json)


# ---------------------------------------------------------------- questionnaire answers

QuestionnaireArg = Annotated[
    str, typer.Argument(metavar="QUESTIONNAIRE", help="Questionnaire key, e.g. complaint_details.", show_default=False)
]


@answers_app.command("list")
def answers_list(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """The questionnaires of a case's type, with how far each is answered."""
    state = _state(ctx)
    found = answers.list_questionnaires(state.db, state.who, ref)
    if as_json:
        _print_json(_dump(found))
        return
    t = _table("Questionnaire", "Title", "Phase", "Version", "Complete", "Missing")
    for a in found:
        t.add_row(
            _t(a.questionnaire), _t(a.title), _t(a.phase.value), str(a.version), "yes" if a.complete else "no", _t(", ".join(a.missing))
        )
    state.console.print(t)


@answers_app.command("show")
def answers_show(ctx: typer.Context, ref: CaseRef, questionnaire: QuestionnaireArg, as_json: JsonFlag = False) -> None:
    """A questionnaire's questions (those that apply now) and the latest answers."""
    state = _state(ctx)
    view = answers.get_answers(state.db, state.who, ref, questionnaire)
    if as_json:
        _print_json(view)
        return
    state_text = "complete" if view.complete else f"missing: {', '.join(view.missing)}"
    typer.echo(f"{view.title} ({view.questionnaire}, {view.phase.value}): version {view.version}, {state_text}")
    t = _table("Question", "Text", "Type", "Answer")
    t.columns[0].no_wrap = True
    for q in view.questions:
        answer = _value(view.answers[q.key]) if q.key in view.answers else ("—" if q.required else "— (optional)")
        kind = q.type + (f" ({', '.join(q.options)})" if q.options else "")
        t.add_row(_t(q.key), _t(q.text), _t(kind), _t(answer))
    state.console.print(t)


@answers_app.command("set")
def answers_set(
    ctx: typer.Context,
    ref: CaseRef,
    questionnaire: QuestionnaireArg,
    data: Annotated[
        str, typer.Option("--data", metavar="JSON", help='All the answers, e.g. {"raised_before": false}.', show_default=False)
    ],
    version: Annotated[
        int | None, typer.Option("--version", min=0, help="The answers version you edited (0 for none yet); refused when stale.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Save a new version of a questionnaire's answers (the whole set; answers may be incomplete)."""
    state = _state(ctx)
    cmd = AnswersSubmit.model_validate({"answers": _json_object(data), "version": version})
    view = answers.submit_answers(state.db, state.who, ref, questionnaire, cmd)
    if as_json:
        _print_json(view)
        return
    state_text = "complete" if view.complete else f"missing: {', '.join(view.missing)}"
    typer.echo(f"saved {view.questionnaire} version {view.version} on {ref} ({state_text})")


# ---------------------------------------------------------------- readiness


@cases_app.command("readiness")
def cases_readiness(ctx: typer.Context, ref: CaseRef, as_json: JsonFlag = False) -> None:
    """Whether the case may make each of its next moves and, if not, which criteria are unmet."""
    state = _state(ctx)
    view = workflow.readiness(state.db, state.who, ref)
    if as_json:
        _print_json(view)
        return
    typer.echo(f"{ref} ({view.case_type} version {view.case_type_version}) is in {view.phase.value}")
    for move in view.moves:
        if move.ready:
            typer.echo(f"  → {move.to_phase.value}: ready")
        else:
            typer.echo(f"  → {move.to_phase.value}: not ready: {'; '.join(move.unmet)}")
    if view.required_documents:
        typer.echo(f"documents still required: {', '.join(view.required_documents)}")
