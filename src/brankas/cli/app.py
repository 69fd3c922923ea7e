"""The command group and the instance-level commands (init, serve, audit)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from brankas import __version__
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit_json, fail, handles_errors, read_secret_file, setup_django
from brankas.core import fsutil


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="brankas")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Brankas: register, encrypted four-folder archive and backup of official documents.

    Data folder: BRANKAS_HOME (default ./brankas-data). Messages: BRANKAS_LANG=id|en.
    """
    # Whatever a command creates (the database, its journal, documents, keys, staging
    # files, a rebuilt instance) is private to the user running it; restored afterwards
    # for a caller that runs commands in-process.
    previous = fsutil.private_umask()
    if previous is not None:
        ctx.call_on_close(lambda: os.umask(previous))


def _secure_home() -> int:
    """Create the data folder privately and tighten what is already in it; returns how
    many files and folders were tightened."""
    from django.conf import settings

    from brankas.core.config import ensure_home

    ensure_home(settings.BRANKAS)
    return len(fsutil.tighten(settings.BRANKAS.home))


@main.command()
@click.option("--office", "office_name", required=True, help="Office name (nama instansi).")
@click.option("--admin", "admin_username", required=True, help="Username of the first admin.")
@click.option("--password-file", type=click.Path(dir_okay=False), help="Admin password file.")
@click.option("--full-name", default="", help="Admin's full name.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handles_errors
def init(
    office_name: str, admin_username: str, password_file: str | None, full_name: str, as_json: bool
) -> None:
    """Set up a new Brankas in BRANKAS_HOME: database, the four folders, the first admin and
    the office recovery key (its secret is printed once: write it down, keep it in the safe).
    The data folder is made readable by its owner only; an existing one is tightened first."""
    setup_django()
    from django.core.management import call_command

    from brankas.web.accounts.services import office_initialize

    password = read_secret_file(
        password_file, "BRANKAS_PASSWORD", "Kata sandi admin / Admin password", confirm=True
    )
    if password is None:
        fail("kata sandi admin diperlukan: --password-file F / admin password needed", 2)
    tightened = _secure_home()
    if tightened and not as_json:
        click.echo(f"izin folder data diperketat / data folder permissions tightened: "
                   f"{tightened}", err=True)
    call_command("migrate", verbosity=0, interactive=False)
    result = office_initialize(
        office_name=office_name,
        admin_username=admin_username,
        admin_password=password or "",
        admin_full_name=full_name,
    )
    from django.conf import settings

    from brankas.web.keys.services import office_key

    fingerprint = office_key().fingerprint
    if as_json:
        emit_json(
            {
                "home": str(settings.BRANKAS.home),
                "office": result.office.name,
                "admin": result.admin.username,
                "recovery_recipient": result.office.recovery_recipient,
                "recovery_identity": result.recovery_identity,
                "office_key_fingerprint": fingerprint,
                "tightened": tightened,
            }
        )
        return
    click.echo(f"Brankas siap di / ready in {settings.BRANKAS.home}")
    recipient = result.office.recovery_recipient
    click.echo(f"Kunci pemulihan kantor / office recovery recipient: {recipient}")
    click.echo("")
    click.echo("RAHASIA — kunci pemulihan (ditampilkan sekali saja). Tulis dan simpan di brankas.")
    click.echo("SECRET — recovery identity (shown once only). Write it down, keep it in the safe.")
    click.echo(result.recovery_identity)
    click.echo("")
    click.echo("Sidik jari kunci kantor (tulis bersama kunci pemulihan; membuktikan disk back up "
               "milik kantor ini) /")
    click.echo("Office key fingerprint (write it down with the recovery key; it proves a backup "
               "disk is this office's):")
    click.echo(fingerprint)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@handles_errors
def serve(host: str, port: int) -> None:
    """Run the web interface (migrates the database first)."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from brankas.core import store

    _secure_home()
    call_command("migrate", verbosity=0, interactive=False)
    store.create_layout(settings.BRANKAS)
    _rename_exempted(settings.BRANKAS.home)
    store.sweep_staging(settings.BRANKAS)
    click.echo(f"Brankas: http://{host}:{port}/  (BRANKAS_HOME={settings.BRANKAS.home})", err=True)
    from brankas.web.server import serve as run_server

    run_server(host=host, port=port)


def _rename_exempted(home: Path) -> None:
    """Exempted files still named with their subject (an instance rebuilt from a disk
    written before the rule, or a migration run against another data folder) are renamed
    as the migration does; a no-op when there are none."""
    from brankas.web.dispatch.models import SendRequest
    from brankas.web.documents.models import Document
    from brankas.web.documents.renames import documents_rename, letters_rename

    for what, summary in (
        ("arsip dikecualikan / exempted archive",
         documents_rename(home=home, document_model=Document)),
        ("surat permintaan / request letters",
         letters_rename(home=home, request_model=SendRequest)),
    ):
        for line in summary.lines(what):
            click.echo(f"brankas: {line}", err=True)


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def audit_verify(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Recompute the hash chain; exit 1 and name the first bad entry if it is broken."""
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.services import audit_verify as verify_chain

    problem = verify_chain()
    count = AuditEvent.objects.count()
    if as_json:
        emit_json({"entries": count, "ok": problem is None,
                   "first_bad": problem.seq if problem else None,
                   "reason": problem.reason if problem else None})
    elif problem is None:
        click.echo(f"audit log intact: {count} entries")
    if problem is not None:
        fail(f"audit log broken at entry {problem.seq}: {problem.reason}")


from brankas.cli import (  # noqa: E402,F401  (registers the commands)
    backup,
    custody,
    dispatch,
    documents,
    reports,
    users,
)
