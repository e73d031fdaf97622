"""Command-line commands for keeping records: ``archive``, ``retention apply`` and ``cases hold``.

Imported at the end of :mod:`casework.cli`; it registers its commands on the main application
(and on ``cases``), so they share the global options and the one-line error handling.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from casework.cli import CaseRef, JsonFlag, _print_json, _state, _t, _when, app, cases_app
from casework.domain.errors import InvalidInput
from casework.services import retention

retention_app = typer.Typer(help="Retention periods of documents: report and purge what is past them.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


def _date(value: str | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD option; anything else is a one-line user error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {value!r}", field=option) from None


def _table(*columns: str) -> Table:
    return Table(*columns, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


# ---------------------------------------------------------------- archive


@app.command("archive")
def archive(
    ctx: typer.Context,
    closed_before: Annotated[
        str, typer.Option("--closed-before", metavar="YYYY-MM-DD", help="Archive cases closed before this day (UTC).", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Where the bags go (one directory per case).", file_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the cases that would be archived.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export closed cases as BagIt bags (documents, case.json, audit.json; SHA-256 manifests)."""
    state = _state(ctx)
    before = _date(closed_before, "closed-before")
    assert before is not None
    if as_json:
        report = retention.archive_cases(state.db, state.who, closed_before=before, out_dir=out, dry_run=dry_run)
    else:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=state.console, transient=True) as progress:
            task = progress.add_task("Archiving cases" if not dry_run else "Listing cases", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = retention.archive_cases(state.db, state.who, closed_before=before, out_dir=out, dry_run=dry_run, progress=advance)
    if as_json:
        _print_json(report)
    else:
        t = _table("Reference", "Closed", "Documents", "Size", "Bag" if not dry_run else "")
        for item in report.archived:
            t.add_row(_t(item.reference), _when(item.closed_at), str(item.documents), _size(item.bytes), _t(item.path or ""))
        if report.archived:
            state.console.print(t)
        verb = "would archive" if dry_run else "archived"
        typer.echo(f"{verb} {len(report.archived)} case(s) closed before {before.isoformat()}" + ("" if dry_run else f" into {out}"))
        for problem in report.problems:
            typer.echo(f"error: {problem.reference}: {problem.problem}", err=True)
    if report.problems:
        raise typer.Exit(1)


# ---------------------------------------------------------------- retention


@retention_app.command("apply")
def retention_apply(
    ctx: typer.Context,
    today: Annotated[
        str | None, typer.Option("--today", metavar="YYYY-MM-DD", help="Judge as of this day (default: today, UTC).", show_default=False)
    ] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Purge the documents (default: a dry run that only reports).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the documents past their retention period; with --execute, delete their content (rows stay as tombstones)."""
    state = _state(ctx)
    day = _date(today, "today")
    report = retention.apply_retention(state.db, state.who, today=day, dry_run=not execute)
    if as_json:
        _print_json(report)
        return
    purged = set(report.purged)
    rows = [(item, "purged" if item.document_id in purged else ("due" if report.dry_run else "kept")) for item in report.due]
    rows += [(item, "legal hold") for item in report.skipped_legal_hold]
    if rows:
        t = _table("Document", "Case", "Kind", "Closed", "Days", "Kept until", "State")
        t.columns[0].no_wrap = True
        for item, what in rows:
            t.add_row(str(item.document_id), _t(item.case_reference), _t(item.kind), item.closed_at.date().isoformat(),
                      str(item.retention_days), item.expires_on.isoformat(), _t(what, "dim" if what == "legal hold" else ""))  # fmt: skip
        state.console.print(t)
    held = len({i.document_id for i in report.skipped_legal_hold})
    if report.dry_run:
        typer.echo(
            f"dry run as of {report.today.isoformat()}: {len(report.due)} document(s) due for purging, {held} under legal hold, "
            f"{report.skipped_open_case} on open cases; run with --execute to purge"
        )
    else:
        typer.echo(
            f"purged {len(report.purged)} document(s) as of {report.today.isoformat()} ({report.blobs_deleted} file(s) deleted, "
            f"{report.blobs_shared} kept for other documents), {held} under legal hold, {report.skipped_open_case} on open cases"
        )


# ---------------------------------------------------------------- legal hold


@cases_app.command("hold")
def cases_hold(
    ctx: typer.Context,
    ref: CaseRef,
    reason: Annotated[str, typer.Option("--reason", help="Why the hold is placed (or released).", show_default=False)],
    release: Annotated[bool, typer.Option("--release", help="Release the hold instead of placing it.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Place a legal hold on a case's documents (never purged while held), or release it."""
    state = _state(ctx)
    result = retention.set_legal_hold(state.db, state.who, ref, not release, reason)
    if as_json:
        _print_json(result)
        return
    state_word = "placed on" if result.legal_hold else "released from"
    typer.echo(f"legal hold {state_word} {result.reference} ({result.documents} document(s))")
