"""Command-line commands for documents on cases: ``documents upload|list|review|checklist|request|verify``.

Imported at the end of :mod:`casework.cli`, like :mod:`casework.cli_workflow`: it registers its
sub-application on the main application, sharing its global options and one-line errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casework.cli import CaseRef, JsonFlag, _dump, _parse_id, _print_json, _state, _t, _when, app
from casework.domain.errors import InvalidInput
from casework.services import documents
from casework.services.documents import DocumentChannel, DocumentVisibility, ReviewDecision

documents_app = typer.Typer(help="Documents on cases: upload, list, review, checklist, requests and integrity.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")

CHUNK = 1024 * 1024
STATE_STYLE = {"missing": "bold red", "rejected": "red", "received": "yellow", "in_review": "cyan", "validated": "green"}


def _table(*columns: str) -> Table:
    return Table(*columns, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while data := f.read(CHUNK):
            yield data


@documents_app.command("upload")
def documents_upload(
    ctx: typer.Context,
    case: CaseRef,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The file to attach.", show_default=False, dir_okay=False)],
    kind: Annotated[str, typer.Option("--kind", help="A kind of the case type's checklist, or 'other'.", show_default=False)],
    visibility: Annotated[DocumentVisibility, typer.Option("--visibility", help="internal (staff) or shared.")] = (
        DocumentVisibility.INTERNAL
    ),
    channel: Annotated[DocumentChannel, typer.Option("--channel", help="How the document arrived.")] = DocumentChannel.UPLOAD,
    as_json: JsonFlag = False,
) -> None:
    """Attach a file to a case (its type is detected from its bytes)."""
    state = _state(ctx)
    if not file.is_file():
        raise InvalidInput(f"no such file: {file}", field="file")
    try:
        view = documents.upload_document(
            state.db, state.who, case, kind=kind, filename=file.name, stream=_chunks(file), visibility=visibility, channel=channel
        )
    except PermissionError:
        raise InvalidInput(f"cannot read {file}: permission denied", field="file") from None
    if as_json:
        _print_json(view)
        return
    typer.echo(f"document {view.id} added: {view.original_name} ({view.mime}, {_size(view.size)}, sha256 {view.sha256[:12]}…)")


@documents_app.command("list")
def documents_list(ctx: typer.Context, case: CaseRef, as_json: JsonFlag = False) -> None:
    """The documents of a case you may see."""
    state = _state(ctx)
    found = documents.list_documents(state.db, state.who, case)
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no documents")
        return
    t = _table("Id", "Kind", "Name", "Type", "Size", "Status", "Visibility", "Uploaded")
    for d in found:
        status = _t(d.status.value, STATE_STYLE.get(d.status.value, ""))
        t.add_row(
            _t(str(d.id)), _t(d.kind), _t(d.original_name), _t(d.mime), _size(d.size), status, _t(d.visibility.value), _when(d.uploaded_at)
        )
    state.console.print(t)


@documents_app.command("checklist")
def documents_checklist(ctx: typer.Context, case: CaseRef, as_json: JsonFlag = False) -> None:
    """The documents the case type asks for, and what has been received of each."""
    state = _state(ctx)
    items = documents.checklist(state.db, state.who, case)
    if as_json:
        _print_json(_dump(items))
        return
    t = _table("Kind", "Document", "Required", "State", "Requested", "Received")
    for i in items:
        t.add_row(
            _t(i.kind), _t(i.title), "yes" if i.required else "no", _t(i.state.value, STATE_STYLE.get(i.state.value, "")),
            "yes" if i.requested else "", str(len(i.documents)),
        )  # fmt: skip
    state.console.print(t)


@documents_app.command("request")
def documents_request(
    ctx: typer.Context,
    case: CaseRef,
    kind: Annotated[str, typer.Option("--kind", help="The kind of document wanted.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is needed (sent on to the customer).", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Ask for a document (other systems are told through the outbox)."""
    state = _state(ctx)
    view = documents.request_document(state.db, state.who, case, kind, reason)
    if as_json:
        _print_json(view)
        return
    typer.echo(f"requested {view.kind} ({view.id})")


@documents_app.command("review")
def documents_review(
    ctx: typer.Context,
    case: CaseRef,
    document: Annotated[str, typer.Argument(metavar="DOCUMENT_ID", help="The document's id.", show_default=False)],
    decision: Annotated[ReviewDecision, typer.Option("--decision", help="validate or reject.", show_default=False)],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required to reject).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate or reject a document (four-eyes kinds need a second, different reviewer)."""
    state = _state(ctx)
    doc_id = _parse_id(document, "document", "document")
    view = documents.review_document(state.db, state.who, case, doc_id, decision, reason)
    if as_json:
        _print_json(view)
        return
    typer.echo(f"document {view.id} is now {view.status.value}")


@documents_app.command("check")
def documents_check(
    ctx: typer.Context,
    case: CaseRef,
    document: Annotated[str, typer.Argument(metavar="DOCUMENT_ID", help="The document's id.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Run the kind's automated checks now (MRZ, IBAN, 2D-Doc), replacing earlier automatic results."""
    from casework.services.document_checks import STAGE, run_document_checks

    state = _state(ctx)
    doc_id = _parse_id(document, "document", "document")
    view = run_document_checks(state.db, state.who, case, doc_id)
    if as_json:
        _print_json(view)
        return
    results = [c for c in view.checks if c.get("stage") == STAGE]
    if not results:
        typer.echo(f"document {view.id} ({view.kind}): its kind has no automated checks; it is {view.status.value}")
        return
    t = _table("Check", "Outcome", "Message")
    for c in results:
        outcome = str(c.get("outcome"))
        t.add_row(_t(c.get("check")), _t(outcome, {"pass": "green", "fail": "red"}.get(outcome, "yellow")), _t(c.get("message")))
    state.console.print(t)
    typer.echo(f"document {view.id} is {view.status.value} (authenticity score {view.authenticity_score})")


@documents_app.command("review-queue")
def documents_review_queue(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Documents waiting for a person's review on the cases you see, oldest first."""
    from casework.services.document_checks import review_queue

    state = _state(ctx)
    found = review_queue(state.db, state.who, limit=limit)
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no documents waiting for review")
        return
    t = _table("Id", "Case", "Kind", "Name", "Score", "Uploaded")
    for d in found:
        score = "" if d.authenticity_score is None else str(d.authenticity_score)
        t.add_row(_t(str(d.id)), d.case_reference, _t(d.kind), _t(d.original_name), score, _when(d.uploaded_at))
    state.console.print(t)


@documents_app.command("verify")
def documents_verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Re-hash every stored file against its SHA-256; exit 1 naming the missing or altered ones."""
    state = _state(ctx)
    columns = (TextColumn("Verifying stored files"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=state.console, transient=True, disable=as_json) as progress:
        task = progress.add_task("verify", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = documents.verify_blobs(state.db, state.who, progress=advance)
    if as_json:
        _print_json(report)
    else:
        for p in report.problems:
            ids = ", ".join(str(i) for i in p.documents)
            typer.echo(f"{p.problem}: {p.sha256} (documents {ids})", err=True)
        typer.echo(report.message, err=not report.ok)
    if not report.ok:
        raise typer.Exit(1)
