"""Backup disks: backup, backup list/show/export, verify, restore, recover, drill."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import (
    SharesOption,
    emit_json,
    fail,
    handles_errors,
    local_time,
    read_secret_file,
    read_text_file,
)
from brankas.cli.usage import Usage

Progress = Callable[[int, int, int, int], None]


def _no_bar(files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
    """No bar to draw (``--json``, or stderr is no terminal): a backup of 100,000 files
    calls this once a file (s22: rich's bar, drawn or not, cost ~3 us a call)."""


@contextmanager
def progress_bar(title: str, quiet: bool) -> Iterator[Progress]:
    """Files, bytes, speed and time left, on stderr (stdout stays for --json); with
    ``quiet`` or no terminal on stderr, nothing (not even rich is loaded)."""
    if quiet or not os.isatty(2):
        yield _no_bar
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(TextColumn(f"[bold]{title}[/]"), BarColumn(),
                   TextColumn("{task.fields[files]}"), DownloadColumn(binary_units=True),
                   TransferSpeedColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task(title, total=None, files="")

        def update(files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
            bar.update(task, completed=bytes_done, total=bytes_total or None,
                       files=f"{files_done}/{files_total} berkas")

        yield update


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB"


def _echo_problems(missing: Sequence[str], damaged: Sequence[str], problems: Sequence[str], *,
                   unregistered: Sequence[str] = (),
                   unregistered_damaged: Sequence[str] = ()) -> None:
    """What a restore or a recovery found wrong: documents the disk lacks or has damaged,
    files on it no register names (a recovery), and the disk's own problems."""
    _echo_findings(35, [
        ("TIDAK ADA DI DISK / NOT ON THE DISK", missing),
        ("RUSAK / DAMAGED", damaged),
        ("TANPA REGISTER / UNREGISTERED", [f"data/{path}" for path in unregistered]),
        ("TANPA REGISTER, RUSAK / UNREGISTERED, DAMAGED",
         [f"data/{path}" for path in unregistered_damaged]),
    ])
    _echo_findings(0, [("MASALAH DISK / DISK PROBLEM", problems)])


def _echo_findings(width: int, findings: list[tuple[str, Sequence[str]]]) -> None:
    """One indented line a finding: its label, padded to ``width``, then the item."""
    for label, items in findings:
        for item in items:
            click.echo(f"  {label:<{width}}  {item}")


def _finish(report: Any, as_json: bool, echo: Callable[[], None]) -> None:
    """A disk command's end: the report as JSON (``--json``) or ``echo``'s text, and exit
    status 1 when the report is not ok."""
    if as_json:
        emit_json(report.as_dict())
    else:
        echo()
    if not report.ok:
        raise SystemExit(1)


class _BackupGroup(click.Group):
    """``brankas backup DEST`` runs a backup; ``brankas backup list|show|export`` read the
    control lists (a disk folder literally named "list" is given as ./list)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in {"-h", "--help"}:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_BackupGroup)
def backup() -> None:
    """Back up to an external disk (brankas backup DEST), and the backup control list."""


@backup.command("run")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--label", default=None, help="Label of a new disk (written on the disk).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def backup_run_cmd(actor, dest: str, label: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Copy to the disk at DEST what it lacks (a BagIt bag); every copy is read back."""
    from brankas.web.backup.services import backup_run

    with progress_bar("back up", as_json) as on_progress:
        outcome = backup_run(actor=actor, dest=Path(dest), label=label, on_progress=on_progress)
    from brankas.web.custody.selectors import return_reminder

    out = outcome.as_dict()
    out["reminder"] = return_reminder(outcome.medium)
    if as_json:
        emit_json(out)
        return
    click.echo(f"back up nomor / run {out['run']}: disk {out['medium']['label']} ({dest})")
    click.echo(f"  disalin / copied: {out['files_added']} berkas, {_mib(out['bytes_added'])}; "
               f"sudah ada / already there: {out['skipped']}")
    for cat in out["categories"].values():
        click.echo(f"  {cat['label']}: {cat['files']} dokumen, {_mib(cat['bytes'])}")
    click.echo(f"  di disk / on the disk: {out['files']} berkas, {_mib(out['bytes'])}")
    click.echo("  verifikasi baca-ulang / read-after-write verification: "
               + ("lulus / passed" if out["verified"] else "-"))
    if out["reminder"]:
        click.echo("")
        click.echo("Kembalikan disk ke brankas dan catat / return the disk to its safe and "
                   "record it:")
        click.echo(f"  {out['reminder']['command']}")


def _run_dict(run: Any) -> dict[str, Any]:
    return {
        "run": run.number, "status": run.status, "error": run.error or None,
        "medium": {"medium_id": run.medium.medium_id, "label": run.medium.label},
        "operator": run.operator.username, "dest": run.dest, "folder": run.folder,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "categories": run.categories, "agendas": run.agendas,
        "files_added": run.files_added, "bytes_added": run.bytes_added,
        "skipped": run.files_skipped, "files": run.disk_files, "bytes": run.disk_bytes,
        "verified": run.verified,
    }


@backup.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def backup_list(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The backup control list: every run, newest first."""
    from brankas.web.backup.selectors import run_list

    runs = [_run_dict(r) for r in run_list(actor=actor, via="cli")]
    if as_json:
        emit_json(runs)
        return
    for r in runs:
        click.echo(f"{r['run']:>5}  {local_time(r['started_at'])}  {r['status']:<9}  "
                   f"{r['medium']['label']:<12}  {r['operator']:<12}  "
                   f"{len(r['agendas'])} dokumen, {_mib(r['bytes_added'])}")


@backup.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def backup_show(actor, number: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One entry of the backup control list."""
    from brankas.web.backup.selectors import run_get

    r = _run_dict(run_get(actor=actor, number=number, via="cli"))
    if as_json:
        emit_json(r)
        return
    for key in ("run", "status", "error", "operator", "dest", "folder", "started_at",
                "finished_at", "files_added", "bytes_added", "skipped", "files", "bytes",
                "verified"):
        click.echo(f"{key:<12} {r[key]}")
    click.echo(f"{'medium':<12} {r['medium']['label']} ({r['medium']['medium_id']})")
    for cat in r["categories"].values():
        click.echo(f"  {cat['label']}: {cat['files']} dokumen, {_mib(cat['bytes'])}")
    click.echo("agenda: " + (", ".join(r["agendas"]) or "-"))


@backup.command("export")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx",
              show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@handles_errors
@acting_user
def backup_export(actor, number: int, fmt: str, out: str) -> None:  # type: ignore[no-untyped-def]
    """Export one control-list entry as CSV or XLSX (the attachment of the backup report).
    An existing file is refused, never overwritten."""
    from brankas.web.backup.exports import control_list_export

    with out_file(out) as fh:
        fh.write(control_list_export(actor=actor, number=number, fmt=fmt, via="cli",
                                     out=str(out)))
    click.echo(out)


@main.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--fast", "mode", flag_value="fast", help="Sizes and counts only (no hashing).")
@click.option("--sample", "sample", type=click.FloatRange(0, 100, min_open=True), default=None,
              help="Hash a rotating PERCENT of the files (a year of small checks covers all).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def verify(actor, dest: str, mode: str | None, sample: float | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Check the fixity of the whole disk at DEST. Exit 0 intact, 1 problems found."""
    from brankas.web.backup.services import medium_verify

    chosen = "sample" if sample is not None else (mode or "full")
    with progress_bar("verifikasi", as_json) as on_progress:
        report, medium = medium_verify(actor=actor, dest=Path(dest), mode=chosen,
                                       sample_percent=sample or 10, on_progress=on_progress)
    if as_json:
        out = report.as_dict()
        out["medium"] = ({"medium_id": medium.medium_id, "label": medium.label}
                         if medium else None)
        emit_json(out)
    else:
        click.echo(f"disk {medium.label if medium else dest}: {report.files_total} berkas, "
                   f"{report.files_hashed} diperiksa hash / hashed ({chosen})")
        _echo_findings(19, [
            ("HILANG / MISSING", [f"data/{path}" for path in report.missing]),
            ("BERUBAH / CHANGED", [f"data/{c.path} ({c.reason})" for c in report.changed]),
            ("TAK TERDUGA / EXTRA", [f"data/{path}" for path in report.unexpected]),
            ("TAG", report.tag_problems),
            ("SEGEL / SEAL", report.seal_problems),
            ("REGISTER", report.register_problems),
        ])
        click.echo(f"back up bersegel kantor / runs sealed by the office: {report.runs_sealed}")
        click.echo("utuh / intact" if report.ok else "DITEMUKAN MASALAH / PROBLEMS FOUND")
    if not report.ok:
        raise SystemExit(1)


@main.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.argument("agendas", nargs=-1)
@click.option("--to", "to", required=True, type=click.Path(file_okay=False),
              help="An empty folder to restore into (the four-folder tree).")
@click.option("--decrypt", is_flag=True,
              help="Key holders: decrypt your exempted documents (asks for the passphrase).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="With --decrypt: your key passphrase (or BRANKAS_PASSPHRASE).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def restore(actor, dest: str, agendas: tuple[str, ...], to: str, decrypt: bool,  # type: ignore[no-untyped-def]
            passphrase_file: str | None, as_json: bool) -> None:
    """Restore documents (all, or the AGENDA numbers given) from the disk at DEST into
    --to DIR, each checked against its hash. Exempted ones stay .age unless --decrypt."""
    from brankas.web.backup.restore import backup_restore

    passphrase = None
    if decrypt:
        passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                      "Frasa sandi kunci / Key passphrase")
        if passphrase is None:
            fail("frasa sandi diperlukan / a passphrase is needed: --passphrase-file F", 2)
    with progress_bar("pulihkan", as_json) as on_progress:
        report = backup_restore(actor=actor, dest=Path(dest), to=Path(to),
                                agendas=list(agendas) or None, passphrase=passphrase,
                                on_progress=on_progress)

    def echo() -> None:
        click.echo(f"dipulihkan / restored: {len(report.restored)} dokumen ke / into {report.to}"
                   f" (didekripsi / decrypted: {len(report.decrypted)})")
        _echo_older(report.older)
        _echo_problems(report.missing, report.damaged, report.problems)

    _finish(report, as_json, echo)


def _echo_older(older: list[str]) -> None:
    """Documents of which the disk holds only an older version (re-encrypted since)."""
    if not older:
        return
    click.echo("  versi lama dipulihkan (disk belum memuat versi terkini; terbuka hanya bagi "
               "kunci penerima versi itu) / older version restored (the disk lacks the "
               "current one; it opens only for the keys it was encrypted to):")
    for line in older:
        click.echo(f"  VERSI LAMA / OLDER  {line}")


@main.command()
@click.argument("dest", type=click.Path(file_okay=False), required=False)
@click.option("--home", "new_home", required=True, type=click.Path(file_okay=False),
              help="A new, empty data folder for the rebuilt instance.")
@click.option("--from-offsite", "offsite_url", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="Recover from an offsite copy (S3 with Object Lock) instead of a disk.")
@click.option("--endpoint", default=None, help="The offsite copy's S3 endpoint URL.")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--credentials-file", type=click.Path(dir_okay=False), default=None,
              help="An AWS credentials file (else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).")
@click.option("--remote-name", default="offsite", show_default=True,
              help="The name the offsite remote gets in the rebuilt instance.")
@click.option("--retention-days", type=int, default=400, show_default=True,
              help="The remote's retention in the rebuilt instance.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="A key holder's passphrase (or BRANKAS_PASSPHRASE).")
@click.option("--identity", "identity_file", type=click.Path(dir_okay=False),
              help="A file holding the office recovery identity (AGE-SECRET-KEY-1...).")
@click.option("--shares", cls=SharesOption,
              help="Recovery share files (K of them): the recovery identity rebuilt in memory.")
@click.option("--fingerprint", default=None,
              help="The office key fingerprint printed at set-up (proves the disk's seals).")
@click.option("--allow-older", is_flag=True,
              help="If the newest snapshot cannot be used, recover from an older one.")
@click.option("--allow-unsigned", is_flag=True,
              help="Accept a disk with no office seal (written before backups were sealed).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
def recover(dest: str | None, new_home: str, offsite_url: str | None,  # type: ignore[no-untyped-def]
            endpoint: str | None, region: str, credentials_file: str | None,
            remote_name: str, retention_days: int, passphrase_file: str | None,
            identity_file: str | None, shares: tuple[Path, ...], fingerprint: str | None,
            allow_older: bool, allow_unsigned: bool, as_json: bool) -> None:
    """Rebuild a whole instance (register, users, keys, archive, control lists) from one
    disk, when the laptop is lost; or, with --from-offsite s3://BUCKET[/PREFIX] --endpoint
    URL, from the offsite copy alone. A key holder's passphrase, the recovery identity or
    recovery shares unlock the encrypted register; the seals must prove it is the
    office's. All or nothing: the instance is built beside NEW_HOME and renamed into
    place only when complete."""
    from brankas import instance
    from brankas.cli.recovery import read_share_files

    if sum(bool(x) for x in (passphrase_file, identity_file, shares)) > 1:
        raise Usage("usage_one_of", options="--passphrase-file, --identity, --shares")
    if (dest is None) == (offsite_url is None) or (offsite_url is None) != (endpoint is None):
        raise Usage("usage_one_of", options="DEST, --from-offsite URL --endpoint URL")
    if offsite_url is not None and (fingerprint or allow_older or allow_unsigned):
        raise Usage("usage_one_of", options="--from-offsite, --fingerprint/--allow-older/"
                                            "--allow-unsigned")
    source = instance.recover_source(dest=dest, home=new_home) if dest is not None else None
    share_texts = read_share_files(shares) if shares else None
    identity_text = read_text_file(identity_file) if identity_file else None
    passphrase = None if identity_text is not None or share_texts else read_secret_file(
        passphrase_file, "BRANKAS_PASSPHRASE", "Frasa sandi pemegang kunci / Key passphrase")
    with progress_bar("pulihkan", as_json) as on_progress:
        if source is not None:
            report = instance.recover(
                source, identity_text=identity_text, passphrase=passphrase,
                fingerprint=fingerprint, allow_older=allow_older,
                allow_unsigned=allow_unsigned, on_progress=on_progress, shares=share_texts)
        else:
            from brankas.instance.offsite import recover_from_offsite

            report = recover_from_offsite(
                url=str(offsite_url), endpoint=str(endpoint), home=new_home, region=region,
                credentials_file=credentials_file, passphrase=passphrase,
                identity_text=identity_text, shares=share_texts, remote_name=remote_name,
                retention_days=retention_days, on_progress=on_progress)

    def echo() -> None:
        click.echo(f"instans dipulihkan di / instance rebuilt in {report.home}")
        click.echo(f"  dari salinan / from snapshot {report.snapshot_run} "
                   f"({report.unlocked_with})")
        if report.authenticated:
            click.echo("  segel kantor / office seal: sah / authentic ("
                       + "; ".join(report.trusted_by) + ")")
            click.echo(f"  back up bersegel terbaru / newest sealed run: "
                       f"{report.newest_sealed_run}")
        else:
            click.echo("  PERINGATAN / WARNING: tanpa segel kantor / not sealed by the office "
                       "(--allow-unsigned)")
        for line in report.passed_over:
            click.echo(f"  TIDAK DIPAKAI / NOT USED  {line}")
        click.echo(f"  pengguna / users: {report.users}, kunci / keys: {report.keys}, "
                   f"dokumen / documents: {report.restored}/{report.documents}, "
                   f"daftar kontrol / control lists: {report.runs}")
        if report.older_versions or report.newer_versions:
            click.echo(f"  versi lain di disk (enkripsi ulang) / other versions on the disk "
                       f"(re-encrypted): {report.older_versions} lama / older, "
                       f"{len(report.newer_versions)} lebih baru dari salinan ini / newer "
                       "than this snapshot (tidak disalin / not copied)")
        chain = "utuh / intact" if report.audit_ok else "RUSAK / BROKEN"
        click.echo(f"  log audit / audit log: {chain}")
        _echo_problems(report.missing, report.damaged, report.problems,
                       unregistered=report.unregistered,
                       unregistered_damaged=report.unregistered_damaged)

    _finish(report, as_json, echo)


@main.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Key holders: also rebuild the whole instance from the disk.")
@click.option("--shares", cls=SharesOption,
              help="Recovery share files: rebuild the instance with the recovery key "
                   "rebuilt from them (and test-open documents).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def drill(actor, dest: str, passphrase_file: str | None, shares: tuple[Path, ...],  # type: ignore[no-untyped-def]
          as_json: bool) -> None:
    """A restore drill: check the whole disk, restore every document into a temporary
    folder and compare with the register; the result is recorded for the disk."""
    from brankas.cli.recovery import read_share_files
    from brankas.web.backup.restore import backup_drill

    if passphrase_file and shares:
        raise Usage("usage_one_of", options="--passphrase-file, --shares")
    passphrase = None
    if not shares and (passphrase_file or os.environ.get("BRANKAS_PASSPHRASE")):
        passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE", "")
    share_texts = read_share_files(shares) if shares else None
    with progress_bar("uji pemulihan", as_json) as on_progress:
        report = backup_drill(actor=actor, dest=Path(dest), passphrase=passphrase,
                              on_progress=on_progress, shares=share_texts)

    def echo() -> None:
        click.echo(f"uji pemulihan / restore drill: {report.restored} dokumen dipulihkan")
        _echo_older(report.older)
        for key in ("missing", "damaged", "mismatched"):
            for agenda in getattr(report, key):
                click.echo(f"  {key.upper():<10} {agenda}")
        click.echo("LULUS / PASSED" if report.ok else "GAGAL / FAILED")

    _finish(report, as_json, echo)
