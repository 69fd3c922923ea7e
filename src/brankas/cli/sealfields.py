"""``brankas seal-fields``: seal the register fields of exempted entries registered before
sealing existed (issue 16), then rewrite the database so no old value remains."""

from __future__ import annotations

from pathlib import Path

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import SharesOption, emit_json, handles_errors, read_secret_file
from brankas.cli.usage import Usage
from brankas.core.access import Action


@main.command("seal-fields")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your key passphrase (or BRANKAS_PASSPHRASE): a key holder's way.")
@click.option("--shares", cls=SharesOption,
              help="The office recovery shares (K share files): the admin's way.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def seal_fields(actor, passphrase_file: str | None, shares: tuple[Path, ...],  # type: ignore[no-untyped-def]
                as_json: bool) -> None:
    """Seal the subject, notes and attachments (BRANKAS_SEALED_FIELDS) of every exempted
    document and request not sealed yet, to the active key holders and the recovery key;
    then VACUUM the database and empty its write-ahead log (SQLite), or VACUUM FULL the two
    tables (PostgreSQL). Resumable: run it again after an interruption."""
    from brankas.web.documents.sealmigrate import seal_existing

    recovery = None
    passphrase = None
    if shares:
        if passphrase_file:
            raise Usage("usage_not_both", first="--passphrase-file", second="--shares")
        from brankas.cli.keygrant import recovery_from_shares

        recovery = recovery_from_shares(actor, Action.SEAL_FIELDS, "seal-fields", shares)
    else:
        passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                      "Frasa sandi kunci Anda / Your key passphrase")
        if passphrase is None:
            raise Usage("usage_one_of", options="--passphrase-file, --shares")
    summary = seal_existing(actor=actor, passphrase=passphrase, recovery=recovery)
    if as_json:
        emit_json(summary.as_dict())
        return
    click.echo(f"disegel / sealed: {summary.documents} dokumen / documents, "
               f"{summary.requests} permintaan / requests "
               f"(sudah tersegel sebelumnya / already sealed: {summary.already})")
    click.echo(f"isian / fields: {', '.join(summary.fields) or '-'}")
    click.echo(f"basis data ditulis ulang / database rewritten: {summary.vacuum or '-'}")
