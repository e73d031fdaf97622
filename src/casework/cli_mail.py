"""Command-line email intake: ``casework mail fetch``.

Imported at the end of :mod:`casework.cli` and registered on its application, so it shares its
global options (``--database-url``) and its one-line error handling: a missing
``CASEWORK_IMAP_HOST``, a refused sign-in or an unusable default case type print one line and
exit with code 2. The intake always acts as the built-in system account.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from casework.cli import JsonFlag, _one_line, _print_json, _state, app
from casework.services.mail_intake import FetchReport, MailSettings, MessageReport, fetch

mail_app = typer.Typer(help="Email intake: file the messages of an IMAP mailbox on cases (CASEWORK_IMAP_*).", no_args_is_help=True)
app.add_typer(mail_app, name="mail")


def _line(m: MessageReport) -> str:
    subject = f'"{_one_line(m.subject)[:80]}"' if m.subject else "(no subject)"
    head = f"{m.status:<9} {m.uid:>6}  {subject} from {_one_line(m.sender) or 'an unknown sender'}"
    r = m.report
    if m.status == "failed":
        return f"{head}: {_one_line(m.error or 'unknown error')}"
    if r is None or r.status == "unmatched":
        return f"{head}: no case reference and no default case type; left unseen"
    parts = [f"{'new case ' if r.created else ''}{r.case_reference}", f"{len(r.documents)} document(s)"]
    if r.duplicates:
        parts.append(f"{r.duplicates} already on the case")
    parts.extend(f"refused {_one_line(name)!r}: {_one_line(reason)}" for name, reason in r.refused)
    return f"{head} -> " + "; ".join(parts)


def _summary(report: FetchReport) -> str:
    filed = report.count("filed")
    created = sum(1 for m in report.messages if m.report is not None and m.report.created)
    text = (
        f"{len(report.messages)} of {report.unseen} unseen message(s) in {report.mailbox}: {filed} filed ({created} new case(s)), "
        f"{report.count('duplicate')} filed before, {report.count('unmatched')} unmatched, {report.count('failed')} failed"
    )
    return text


@mail_app.command("fetch")
def mail_fetch(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="File at most this many unseen messages.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """File the unseen messages of the mailbox on cases; marks them read once filed. Exit 1 when a message failed.

    The case is the one whose reference (CASE-2026-000123) is in the subject or body; else a new
    case of CASEWORK_MAIL_CASE_TYPE is opened for the sender; else the message stays unseen.
    """
    state = _state(ctx)
    settings = MailSettings.from_env()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # The bar goes to stderr so that stdout holds only the report (or the JSON).
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=as_json) as progress:
        task = progress.add_task(f"Filing mail from {settings.mailbox}", total=None)
        report = fetch(state.db, settings, limit=limit, progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        _print_json(report)
    else:
        for message in report.messages:
            typer.echo(_line(message))
        typer.echo(_summary(report))
    if report.count("failed"):
        raise typer.Exit(1)
