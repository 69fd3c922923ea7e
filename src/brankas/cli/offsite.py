"""Offsite copies (issue 18): offsite add, list, push, verify, restore (docs/offsite.md)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit_json, fail, handles_errors, read_secret_file

NOT_IMMUTABLE = ("PERINGATAN: remote ini TIDAK IMMUTABLE: versi yang dikunci dapat dihapus "
                 "(uji canary); ransomware yang memegang kredensialnya dapat menghapus salinan "
                 "ini / WARNING: this remote is NOT IMMUTABLE: a locked version could be "
                 "deleted (canary test); ransomware holding its credentials could delete "
                 "this copy")
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB](?:/s)?)?")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_rate(text: str) -> int:
    """``--bwlimit``: bytes per second, with an optional K, M or G (binary: 1M = 1 MiB/s)."""
    found = _RATE.fullmatch(text.strip())
    if found is None or float(found.group(1)) <= 0:
        fail(f"--bwlimit {text!r}: contoh / e.g. 500K, 2M", 2)
        raise AssertionError  # fail exits
    return max(1, int(float(found.group(1)) * _UNITS[found.group(2).lower()]))


@contextlib.contextmanager
def _progress(title: str, quiet: bool) -> Iterator[Any]:
    """The progress bar on a terminal (``progress_bar``); with ``--json`` or no terminal
    none at all, and its library (rich) not even imported: a no-change push is mostly
    start-up (s19 P18)."""
    if quiet or not os.isatty(2):
        yield None
        return
    from brankas.cli.backup import progress_bar  # (its module: the backup's commands)

    with progress_bar(title, quiet) as update:
        yield update


def _push_modules() -> Any:
    """The push's modules (its services, the S3 layer, urllib3 and botocore's signer),
    loaded in one go with the cyclic collector paused, as Django's set-up is
    (``core.startup``): a no-change push is mostly start-up (s20). Frozen with the rest
    in ``brankas``'s own process, as the set-up's are (s22: the collector no longer walks
    them during the push, ≈ 0.008 CPU-s); in anyone else's (a test, the web's worker) not:
    an in-process caller's objects stay collectable."""
    from brankas.core import startup

    with startup.collector_paused(freeze=startup.is_own_process()):
        from brankas.core.offsite.remote import load_transport
        from brankas.web.offsite.services import offsite_push

        load_transport()
    return offsite_push


@main.group()
def offsite() -> None:
    """Offsite copies in S3-compatible object storage with Object Lock (docs/offsite.md)."""


def _remote_dict(r: Any) -> dict[str, Any]:
    return {"name": r.name, "endpoint": r.endpoint, "bucket": r.bucket, "region": r.region,
            "prefix": r.prefix, "retention_days": r.retention_days,
            "credentials_file": r.credentials_file or None, "immutable": r.immutable,
            "canary_at": r.canary_at.isoformat() if r.canary_at else None,
            "canary_detail": r.canary_detail,
            "last_push_at": r.last_push_at.isoformat() if r.last_push_at else None,
            "last_verified_at": r.last_verified_at.isoformat() if r.last_verified_at else None,
            "last_verify_ok": r.last_verify_ok}


def _warn_mutable(immutable: bool | None) -> None:
    if immutable is False:
        click.secho(NOT_IMMUTABLE, err=True, fg="red", bold=True)


@offsite.command("add")
@click.argument("name")
@click.option("--endpoint", required=True, help="The S3 server, http(s)://host[:port].")
@click.option("--bucket", required=True, help="A bucket made with Object Lock enabled.")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--retention-days", type=int, default=400, show_default=True,
              help="Object Lock (COMPLIANCE) period of every object written.")
@click.option("--prefix", default="", help="A folder in the bucket (objects go under it).")
@click.option("--credentials-file", type=click.Path(dir_okay=False),
              help="A file with the S3 keys (else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); "
                   "only its path is recorded.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def add_cmd(actor, name: str, endpoint: str, bucket: str, region: str,  # type: ignore[no-untyped-def]
            retention_days: int, prefix: str, credentials_file: str | None,
            as_json: bool) -> None:
    """Register the bucket as remote NAME: checked (versioned, Object Lock), then the
    canary (a one-day locked object whose delete must be refused)."""
    from brankas.web.offsite.services import remote_add

    remote = remote_add(actor=actor, name=name, endpoint=endpoint, bucket=bucket,
                        region=region, prefix=prefix, retention_days=retention_days,
                        credentials_file=credentials_file)
    if as_json:
        emit_json(_remote_dict(remote))
    else:
        click.echo(f"remote offsite / offsite remote {remote.name}: {remote.endpoint} "
                   f"bucket {remote.bucket}" + (f" prefix {remote.prefix}" if remote.prefix
                                                 else ""))
        click.echo("immutable (canary): " + ("ya / yes" if remote.immutable else "TIDAK / NO"))
    _warn_mutable(remote.immutable)


@offsite.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def list_cmd(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The offsite remotes, their lock status (canary) and last push and verify."""
    from brankas.web.offsite.selectors import remote_list

    rows = [_remote_dict(r) for r in remote_list(actor=actor)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("belum ada remote offsite / no offsite remote yet")
    for r in rows:
        lock = {True: "immutable", False: "TIDAK IMMUTABLE / NOT IMMUTABLE",
                None: "belum diuji / not tested"}[r["immutable"]]
        click.echo(f"{r['name']:<20} {r['endpoint']} {r['bucket']}/{r['prefix']}  {lock}  "
                   f"push: {r['last_push_at'] or '-'}  verify: {r['last_verified_at'] or '-'}"
                   + ("" if r["last_verify_ok"] is not False else " (MASALAH / PROBLEMS)"))


@offsite.command("push")
@click.argument("name")
@click.option("--bwlimit", help="Bandwidth limit, bytes per second (500K, 2M).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def push_cmd(actor, name: str, bwlimit: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Push to remote NAME what it lacks (an interrupted push resumes), then a new sealed
    index."""
    offsite_push = _push_modules()

    rate = parse_rate(bwlimit) if bwlimit else None
    with _progress("offsite", as_json) as on_progress:
        outcome = offsite_push(actor=actor, name=name, bwlimit=rate, on_progress=on_progress)
    if as_json:
        emit_json(outcome.as_dict())
    else:
        p = outcome.push
        click.echo(f"push {p.number} ke / to {name}: {p.objects_sent} objek dikirim / objects "
                   f"sent ({p.bytes_sent:,} B), {p.objects_skipped} sudah ada / already there")
        for path in outcome.damaged:
            click.echo(f"  RUSAK, TIDAK DIKIRIM / DAMAGED, NOT SENT  {path}")
    _warn_mutable(outcome.remote.immutable)
    if not outcome.ok:
        raise SystemExit(1)
    from brankas.core import startup

    startup.finished_cleanly()  # committed, its files closed, its result written (s22)


@offsite.command("verify")
@click.argument("name")
@click.option("--sample", type=float, default=5.0, show_default=True,
              help="Percent of the objects downloaded when the server reports no checksum.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def verify_cmd(actor, name: str, sample: float, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Check remote NAME: the canary, and every object pushed (present, unchanged, its
    SHA-256). Exit status 1 when anything is wrong."""
    from brankas.web.offsite.services import offsite_verify

    with _progress("verify", as_json) as on_progress:
        report = offsite_verify(actor=actor, name=name, sample=sample, on_progress=on_progress)
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"diperiksa / checked: {report.checked} (SHA-256 server), "
                   f"sampel / sampled: {report.sampled}")
        for label, items in (("HILANG / MISSING", report.missing),
                             ("BERUBAH / CHANGED", report.changed),
                             ("TAK TERDUGA / UNEXPECTED", report.unexpected),
                             ("TIDAK TERKUNCI / NOT LOCKED", report.unlocked)):
            for item in items:
                click.echo(f"  {label:<26}  {item}")
        click.echo("utuh / intact" if report.ok else "DITEMUKAN MASALAH / PROBLEMS FOUND")
    _warn_mutable(report.immutable)
    if not report.ok:
        raise SystemExit(1)


@offsite.command("restore")
@click.argument("name")
@click.argument("agendas", nargs=-1)
@click.option("--to", "to", required=True, type=click.Path(file_okay=False),
              help="An empty folder to restore into (the four-folder tree).")
@click.option("--decrypt", is_flag=True, help="Decrypt your exempted documents too.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your key passphrase (or BRANKAS_PASSPHRASE): everything offsite is "
                   "encrypted.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def restore_cmd(actor, name: str, agendas: tuple[str, ...], to: str, decrypt: bool,  # type: ignore[no-untyped-def]
                passphrase_file: str | None, as_json: bool) -> None:
    """Restore documents (all, or the AGENDA numbers given) from remote NAME into --to DIR,
    each checked against the sealed manifest and the register."""
    from brankas.web.offsite.services import offsite_restore

    passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                  "Frasa sandi kunci / Key passphrase")
    if passphrase is None:
        fail("frasa sandi diperlukan / a passphrase is needed: --passphrase-file F", 2)
        return
    with _progress("pulihkan", as_json) as on_progress:
        report = offsite_restore(actor=actor, name=name, to=Path(to), passphrase=passphrase,
                                 agendas=list(agendas) or None, decrypt=decrypt,
                                 on_progress=on_progress)
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"dipulihkan / restored: {len(report.restored)} dokumen ke / into "
                   f"{report.to} (push {report.push}; didekripsi / decrypted: "
                   f"{len(report.decrypted)})")
        for label, items in (("TIDAK ADA / NOT THERE", report.missing),
                             ("RUSAK / DAMAGED", report.damaged),
                             ("MASALAH / PROBLEM", report.problems)):
            for item in items:
                click.echo(f"  {label:<22}  {item}")
    if not report.ok:
        raise SystemExit(1)


# s18 OC: the daily push
@offsite.command("schedule")
@click.argument("name")
@click.option("--daily", "daily", metavar="HH:MM",
              help="Push every day at this local time (the worker queues it: brankas "
                   "worker, or the one in brankas serve).")
@click.option("--off", "off", is_flag=True, help="No daily push for this remote.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def schedule_cmd(actor, name: str, daily: str | None, off: bool,  # type: ignore[no-untyped-def]
                 as_json: bool) -> None:
    """The daily push of remote NAME: --daily HH:MM or --off."""
    from brankas.web.offsite.schedule import parse_daily, schedule_set

    if (daily is None) == (not off):
        fail("beri --daily HH:MM atau --off / give --daily HH:MM or --off", 2)
    at = None if off else parse_daily(str(daily))
    schedule = schedule_set(actor=actor, name=name, daily_at=at)
    text = at.strftime("%H:%M") if at else None
    if as_json:
        emit_json({"remote": name, "daily_at": text, "set_by": schedule.set_by.username})
    elif text:
        click.echo(f"push harian / daily push {name}: {text} (waktu setempat / local time); "
                   "dijalankan oleh / run by brankas worker / brankas serve")
    else:
        click.echo(f"push harian / daily push {name}: mati / off")
