"""The command group and the instance-level commands (init, serve, audit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brankas import __version__
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit_json, fail, handles_errors, read_secret_file, setup_django
from brankas.cli.usage import BrankasGroup, LazyGroup, Usage
from brankas.core import fsutil

if TYPE_CHECKING:  # `audit verify` only: not a cost of every command's start
    from brankas.core.audit.hashchain import ChainReport, Finding


@click.group(cls=BrankasGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


@main.command()
@click.option("--office", "office_name", required=True, help="Office name (nama instansi).")
@click.option("--admin", "admin_username", required=True, help="Username of the first admin.")
@click.option("--password-file", type=click.Path(dir_okay=False), help="Admin password file.")
@click.option("--full-name", default="", help="Admin's full name.")
@click.option("--recovery-shares", type=int, default=None,
              help="Split the recovery key at once into N shares (with the two options below).")
@click.option("--recovery-threshold", type=int, default=None,
              help="K: how many of the shares rebuild the recovery key.")
@click.option("--recovery-out-dir", type=click.Path(file_okay=False), default=None,
              help="An empty or new folder for the share files (.txt and .pdf).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handles_errors
def init(
    office_name: str, admin_username: str, password_file: str | None, full_name: str,
    recovery_shares: int | None, recovery_threshold: int | None, recovery_out_dir: str | None,
    as_json: bool,
) -> None:
    """Set up a new Brankas in BRANKAS_HOME: database, the four folders, the first admin and
    the office recovery key (its secret is printed once: write it down, keep it in the safe;
    or, with --recovery-shares, split at once into share sheets and not printed at all).
    The data folder is made readable by its owner only; an existing one is tightened first."""
    from brankas import instance

    split_asked = (recovery_shares, recovery_threshold, recovery_out_dir)
    if any(x is not None for x in split_asked) and None in split_asked:
        raise Usage("usage_together",
                    options="--recovery-shares, --recovery-threshold, --recovery-out-dir")
    shares_dir = None
    if recovery_out_dir is not None:
        from brankas.cli.recovery import check_out_dir
        from brankas.core.keyring.shares import check_numbers

        check_numbers(int(recovery_shares or 0), int(recovery_threshold or 0))
        shares_dir = check_out_dir(recovery_out_dir)
    setup_django()
    password = read_secret_file(
        password_file, "BRANKAS_PASSWORD", "Kata sandi admin / Admin password", confirm=True
    )
    if password is None:
        fail("kata sandi admin diperlukan: --password-file F / admin password needed", 2)

    def on_tightened(tightened: int) -> None:
        if tightened and not as_json:
            click.echo(f"izin folder data diperketat / data folder permissions tightened: "
                       f"{tightened}", err=True)

    done = instance.initialise(office_name=office_name, admin_username=admin_username,
                               admin_password=password or "", admin_full_name=full_name,
                               on_tightened=on_tightened)
    result, fingerprint = done.result, done.office_key_fingerprint
    shares, split_error = (None, None) if shares_dir is None else _init_split(
        result, shares_dir, int(recovery_shares or 0), int(recovery_threshold or 0))
    # With the shares written, the whole identity is shown nowhere: the shares are its
    # paper. If splitting failed, the identity is shown as without shares (it is stored
    # nowhere, so it must reach the person now).
    identity = None if shares is not None else result.recovery_identity
    if as_json:
        emit_json(
            {
                "home": str(done.home),
                "office": result.office.name,
                "admin": result.admin.username,
                "recovery_recipient": result.office.recovery_recipient,
                "recovery_identity": identity,
                "recovery_shares": shares,
                "recovery_split_error": split_error,
                "office_key_fingerprint": fingerprint,
                "tightened": done.tightened,
            }
        )
        if split_error:
            sys.exit(1)
        return
    click.echo(f"Brankas siap di / ready in {done.home}")
    recipient = result.office.recovery_recipient
    click.echo(f"Kunci pemulihan kantor / office recovery recipient: {recipient}")
    click.echo("")
    if shares is not None:
        click.echo(f"Kunci pemulihan dibagi menjadi {shares['shares']} bagian (ambang "
                   f"{shares['threshold']}) / recovery key split into {shares['shares']} "
                   f"shares (threshold {shares['threshold']}): {shares_dir}")
        click.echo("Cetak setiap .pdf, serahkan kepada pejabat yang berbeda, lalu hapus folder "
                   "itu. / Print every .pdf, hand them to different officials, then delete "
                   "that folder.")
    else:
        if split_error:
            click.echo(f"brankas: {split_error}", err=True)
        click.echo("RAHASIA — kunci pemulihan (ditampilkan sekali saja). Tulis dan simpan di "
                   "brankas.")
        click.echo("SECRET — recovery identity (shown once only). Write it down, keep it in "
                   "the safe.")
        click.echo(result.recovery_identity)
    click.echo("")
    click.echo("Sidik jari kunci kantor (tulis bersama kunci pemulihan; membuktikan disk back up "
               "milik kantor ini) /")
    click.echo("Office key fingerprint (write it down with the recovery key; it proves a backup "
               "disk is this office's):")
    click.echo(fingerprint)
    if split_error:
        sys.exit(1)


def _init_split(result: Any, out_dir: Path, shares: int,
                threshold: int) -> tuple[dict[str, Any] | None, str | None]:
    """The new recovery key split at once (by the first admin) and its share files
    written; on failure (None, why), and the caller shows the identity instead."""
    from brankas.cli.recovery import split_dict, write_share_files
    from brankas.core.errors import BrankasError
    from brankas.web.keys.recovery import recovery_split

    try:
        split = recovery_split(actor=result.admin, identity_text=result.recovery_identity,
                               shares=shares, threshold=threshold)
        files = write_share_files(out_dir, split, actor=result.admin)
    except BrankasError as exc:
        return None, exc.message()
    except OSError as exc:
        return None, f"{out_dir}: {exc.strerror or exc}"
    return split_dict(split, files), None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Run the queued jobs (backup, verify, import, ...) in this process too. "
              "With --no-worker they wait for `brankas worker`.")
@handles_errors
def serve(host: str, port: int, with_worker: bool) -> None:
    """Run the web interface (migrates the database first) and, unless --no-worker, the
    worker that runs the long jobs."""
    from brankas import instance

    upgraded = instance.upgrade()
    for line in upgraded.renamed:
        click.echo(f"brankas: {line}", err=True)
    click.echo(f"Brankas: http://{host}:{port}/  (BRANKAS_HOME={upgraded.home})", err=True)
    from brankas.web.server import serve as run_server

    run_server(host=host, port=port, worker=with_worker)


@main.command()
@click.option("--burst", is_flag=True,
              help="Run the jobs queued now, then stop (instead of waiting for more).")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds between looks at the queue while it is empty.")
@handles_errors
def worker(burst: bool, interval: float) -> None:
    """Run the long jobs queued by the web pages (backup, verify, import, restore, drill,
    audit check), until stopped. Jobs that need a passphrase run only in the web process
    that took their form."""
    from brankas import instance

    settings = instance.start()  # not upgrade(): its sweep of staging files is the server's
    instance.migrate()
    click.echo(f"Brankas worker (BRANKAS_HOME={settings.home})", err=True)
    from brankas.web.jobs.worker import run_worker

    ran = run_worker(interval=interval, batch=burst)
    if burst:
        click.echo(f"brankas: {ran} job(s) run", err=True)


@main.group(cls=LazyGroup)
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--against", "against", multiple=True, type=click.Path(),
              metavar="DISK_OR_PDF",
              help="Also check the heads recorded on a backup disk (its folder) or printed on "
                   "an approved report (its PDF file). Repeatable.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def audit_verify(actor, against: tuple[str, ...], as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Recompute the hash chain and check it against its anchors: the sequence counter,
    every approved report's recorded head, and each --against disk or report PDF. Exit 1
    and name the first problem of each if the log was altered, truncated or rewritten."""
    from brankas.core.errors import message
    from brankas.web.audit.anchors import anchors_from_paths, audit_verify_anchors

    report = audit_verify_anchors(anchors=anchors_from_paths(against))
    problems = report.problems
    if as_json:
        emit_json(_verify_dict(report))
    else:
        _print_verify(report)
    if problems:
        fail(message("audit_problems", count=len(problems), first=problems[0].message()))


def _finding_dict(finding: Finding | None) -> dict[str, Any] | None:
    if finding is None:
        return None
    return {"seq": finding.seq, "code": finding.code, "message": finding.message()}


def _verify_dict(report: ChainReport) -> dict[str, Any]:
    first = report.problems[0] if report.problems else None
    return {
        "entries": report.entries, "ok": report.ok, "last": report.last_seq,
        "counted_to": report.counted_to,
        "first_bad": first.seq if first else None,
        "reason": first.message() if first else None,
        "chain": _finding_dict(report.chain), "counter": _finding_dict(report.counter),
        "anchors": [{"kind": r.anchor.kind, "ref": r.anchor.ref,
                     "source": r.anchor.source_text(), "seq": r.anchor.seq,
                     "hash": r.anchor.hash, "ok": r.ok, "problem": _finding_dict(r.problem)}
                    for r in report.anchors],
        "problems": [_finding_dict(f) for f in report.problems],
    }


def _print_verify(report: ChainReport) -> None:
    counted = "-" if report.counted_to is None else report.counted_to
    click.echo(f"log audit / audit log: {report.entries} entri / entries, "
               f"terakhir / last #{report.last_seq}, penghitung / counter #{counted}")
    for label, finding in (("rantai / chain", report.chain),
                           ("penghitung / counter", report.counter)):
        click.echo(f"  {label}: {finding.message() if finding else 'utuh / intact'}")
    click.echo(f"jangkar / anchors: {len(report.anchors)}")
    for r in report.anchors:
        state = "OK" if r.ok else "MASALAH / PROBLEM"
        click.echo(f"  {state:<18} {r.anchor.source_text()}: #{r.anchor.seq} "
                   f"{r.anchor.hash[:16]}…")
        if r.problem is not None:
            click.echo(f"  {'':<18} {r.problem.message()}")
    click.echo("utuh / intact" if report.ok else "DITEMUKAN MASALAH / PROBLEMS FOUND")


# Each command's module is imported when the command is called (LazyGroup): ``brankas
# list`` does not pay for the backup's, the reports' or the keys' imports.
main.lazy = {
    "backup": ("brankas.cli.backup",), "drill": ("brankas.cli.backup",),
    "recover": ("brankas.cli.backup",), "restore": ("brankas.cli.backup",),
    "verify": ("brankas.cli.backup",),
    "migrate-db": ("brankas.cli.databases",),  # issue 15 A
    "media": ("brankas.cli.custody",), "safe": ("brankas.cli.custody",),
    "import": ("brankas.cli.documents",), "list": ("brankas.cli.documents",),
    "open": ("brankas.cli.documents",), "register": ("brankas.cli.documents",),
    "show": ("brankas.cli.documents",),
    # issue 13: keycoverage, keygrant, keylife extend users' `key` group
    "key": ("brankas.cli.users", "brankas.cli.keycoverage", "brankas.cli.keygrant",
            "brankas.cli.keylife"),
    "user": ("brankas.cli.users",),  # users imports useradmin (issue 14)
    "office": ("brankas.cli.office",),  # issue 14 B: office show, office set
    "recovery": ("brankas.cli.recovery",),
    "report": ("brankas.cli.reports",),
    "request": ("brankas.cli.sendrequests",),
    "seal-fields": ("brankas.cli.sealfields",),  # issue 16
    "equipment": ("brankas.cli.equipment",),  # s17 E: issue 17
    "offsite": ("brankas.cli.offsite",),  # s18 OB: issue 18
    "ocr": ("brankas.cli.text",),  # s19: issue 19
}
assert isinstance(audit, LazyGroup)
audit.lazy = {"list": ("brankas.cli.audit",), "export": ("brankas.cli.audit",)}
