"""Command-line commands for the 2D-Doc trust store: ``trust add|list|revoke``.

Imported at the end of :mod:`casework.cli`, like :mod:`casework.cli_documents`: it registers its
sub-application on the main application, sharing its global options and one-line errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from casework.cli import JsonFlag, _dump, _parse_id, _print_json, _state, _t, _when, app
from casework.domain.errors import InvalidInput
from casework.services import trust

trust_app = typer.Typer(help="Certificates trusted for 2D-Doc signatures (administrators).", no_args_is_help=True)
app.add_typer(trust_app, name="trust")


@trust_app.command("add")
def trust_add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="One certificate, PEM or DER.", show_default=False, dir_okay=False)],
    label: Annotated[str, typer.Option("--label", help="What this certificate is, for people.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Trust a certificate: a certification authority or a 2D-Doc signing certificate."""
    state = _state(ctx)
    if not file.is_file():
        raise InvalidInput(f"no such file: {file}", field="file")
    try:
        data = file.read_bytes()
    except PermissionError:
        raise InvalidInput(f"cannot read {file}: permission denied", field="file") from None
    view = trust.add_certificate(state.db, state.who, data, label)
    if as_json:
        _print_json(view)
        return
    what = "authority" if view.is_authority else f"signing certificate {view.ca_id}/{view.cert_id}"
    typer.echo(f"trusted {what} {view.id}: {view.subject} (valid {view.not_before:%Y-%m-%d} to {view.not_after:%Y-%m-%d})")


@trust_app.command("list")
def trust_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked certificates.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The trusted certificates."""
    state = _state(ctx)
    found = trust.list_certificates(state.db, state.who, include_revoked=all_)
    if as_json:
        _print_json(_dump(found))
        return
    if not found:
        typer.echo("no trusted certificates")
        return
    t = Table("Id", "Label", "Kind", "Subject", "Valid until", "Added", "Revoked", header_style="bold", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False)  # fmt: skip
    for c in found:
        kind = "authority" if c.is_authority else f"signer {c.ca_id or '?'}/{c.cert_id or '?'}"
        t.add_row(_t(str(c.id)), _t(c.label), kind, _t(c.subject), f"{c.not_after:%Y-%m-%d}", _when(c.added_at), _when(c.revoked_at))
    state.console.print(t)


@trust_app.command("revoke")
def trust_revoke(
    ctx: typer.Context,
    certificate: Annotated[str, typer.Argument(metavar="ID", help="The certificate's id.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Stop trusting a certificate (it stays listed with --all, marked revoked)."""
    state = _state(ctx)
    cert_id = _parse_id(certificate, "certificate", "certificate_id")
    view = trust.revoke_certificate(state.db, state.who, cert_id)
    if as_json:
        _print_json(view)
        return
    typer.echo(f"certificate {view.id} ({view.label}) revoked")
