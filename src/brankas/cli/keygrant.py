"""``brankas key grant`` (hand-over to a new holder) and ``brankas key revoke``."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from brankas.cli.auth import acting_user
from brankas.cli.runtime import (
    SharesOption,
    emit_json,
    fail,
    handles_errors,
    read_secret_file,
)
from brankas.cli.usage import Usage
from brankas.cli.users import key
from brankas.core.access import Action

SHARES_HELP = ("The office recovery shares (share files, one share each, K of them); the "
               "admin's way.")


def recovery_from_shares(actor: Any, action: Any, target: str,
                         paths: tuple[Path, ...]) -> Any:
    """The recovery identity rebuilt in memory from share files (``keys.recovery``), once
    the actor's role may use shares for ``action`` (checked first, so a refusal names the
    role, not a share)."""
    from brankas.web.audit.guard import require_audited

    require_audited(actor, action, target=target)
    from brankas.cli.recovery import read_share_files
    from brankas.web.keys.recovery import shares_identity

    return shares_identity(read_share_files(paths), actor=actor,
                           purpose=f"{action.value}:{target}")


@contextmanager
def rewrap_progress(title: str, quiet: bool) -> Iterator[Callable[[Any], None]]:
    """The backup's progress bar (files, bytes, speed, time left on stderr), fed with
    ``RewrapProgress``."""
    from brankas.cli.backup import progress_bar

    with progress_bar(title, quiet) as update:
        yield lambda p: update(p.files_done, p.files_total, p.bytes_done, p.bytes_total)


def _summary_lines(s: Any) -> list[str]:
    mib = s.bytes / (1 << 20)
    lines = [f"berkas dienkripsi ulang / files re-encrypted: {s.files} ({mib:,.1f} MiB): "
             f"{s.documents} dokumen / documents, {s.letters} surat permintaan / request "
             f"letters",
             f"kombinasi brankas / safe combinations: {s.combinations}",
             f"sudah terbuka sebelumnya / already readable: {s.skipped}"]
    if s.unreadable:
        lines.append(f"tidak terbuka dengan kunci pemberi / not opened by the granter's keys: "
                     f"{s.unreadable}")
    for f in s.failed:
        lines.append(f"GAGAL / FAILED {f['number']}: {f['message']}")
    return lines


def unlocks_ahead(fn: Any) -> Any:
    """Begin unlocking the acting holder's newest key file (``keyring.early``) before the
    command sets Django up and checks the password: the scrypt work then runs on the other
    core meanwhile. Only with a passphrase given without a prompt (``--passphrase-file``,
    BRANKAS_PASSPHRASE) and no ``--shares``; the grant uses the result only for exactly
    its own key and passphrase, after its own checks. Any problem here is left for the
    command to meet and report as it always did."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("acting_username") or os.environ.get("BRANKAS_USER")
        source = kwargs.get("passphrase_file") or os.environ.get("BRANKAS_PASSPHRASE")
        given: tuple[str | None, BaseException | None] | None = None
        if name and source and not kwargs.get("shares"):
            # read once, here: the command takes it as given (a file may give its text
            # only once: a pipe, ``<(...)``); a problem reading it is reported in its turn
            try:
                given = (read_secret_file(kwargs.get("passphrase_file"),
                                          "BRANKAS_PASSPHRASE", ""), None)
            except Exception as exc:  # noqa: BLE001 - raised again by the command
                given = (None, exc)
            passphrase = given[0]
            with contextlib.suppress(Exception):
                if passphrase:
                    from brankas.core import config
                    from brankas.core.keyring import early
                    from brankas.core.names import safe_component

                    found = early.newest_key_file(
                        config.load().keys, safe_component(name, max_len=60))
                    if found is not None:
                        early.begin(found, passphrase)
        return fn(*args, given_passphrase=given, **kwargs)

    return wrapper


@key.command("grant")
@click.option("--to", "to", required=True, metavar="USERNAME",
              help="The holder who gains access (with an active key of their own).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your own key passphrase (or BRANKAS_PASSPHRASE): a holder's way.")
@click.option("--shares", cls=SharesOption, help=SHARES_HELP)
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@handles_errors
@unlocks_ahead
@acting_user
def key_grant(actor, to: str, passphrase_file: str | None, shares: tuple[Path, ...],  # type: ignore[no-untyped-def]
              as_json: bool, quiet: bool,
              given_passphrase: tuple[str | None, BaseException | None] | None = None) -> None:
    """Hand over: re-encrypt every exempted document, request letter and safe combination
    you can open so that USERNAME's key opens it too (one file at a time, crash-safe; run
    again to continue after an interruption). Later backups include USERNAME's key."""
    from brankas.web.keys.grants import key_grant as grant

    recovery = None
    passphrase = None
    if shares:
        if passphrase_file:
            raise Usage("usage_not_both", first="--passphrase-file", second="--shares")
        recovery = recovery_from_shares(actor, Action.GRANT_KEY_WITH_SHARES, to, shares)
    else:
        if given_passphrase is None:
            passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                          "Frasa sandi kunci Anda / Your key passphrase")
        elif given_passphrase[1] is not None:
            raise given_passphrase[1]
        else:  # read once, by ``unlocks_ahead``
            passphrase = given_passphrase[0]
        if passphrase is None:
            raise Usage("usage_one_of", options="--passphrase-file, --shares")
    with rewrap_progress("Memberi akses / Granting", quiet or as_json) as progress:
        summary = grant(actor=actor, to=to, passphrase=passphrase, recovery=recovery,
                        on_progress=progress)
    if as_json:
        emit_json(summary.as_dict())
    else:
        click.echo(f"akses diberikan kepada / access granted to {summary.grantee} "
                   f"({summary.grantee_fingerprint}) oleh / by {summary.via}")
        for line in _summary_lines(summary):
            click.echo(line)
    if summary.failed:
        fail(f"{len(summary.failed)} berkas gagal; jalankan lagi / files failed; run again")


@key.command("revoke")
@click.option("--holder", required=True, metavar="USERNAME")
@click.option("--rekey", is_flag=True,
              help="Also re-encrypt the working archive under fresh file keys to the "
                   "remaining readers (needs --shares).")
@click.option("--shares", cls=SharesOption, help=SHARES_HELP)
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@handles_errors
@acting_user
def key_revoke(actor, holder: str, rekey: bool, shares: tuple[Path, ...], as_json: bool,  # type: ignore[no-untyped-def]
               quiet: bool) -> None:
    """Revoke every key of USERNAME: out of every future encryption at once, and Brankas
    opens nothing with it any more. Prints what the revoked key can still open: the
    versions already on backup disks, per disk."""
    from brankas.web.keys.revocation import key_revoke as revoke

    if rekey and not shares:
        raise Usage("usage_rekey_shares")
    recovery = (recovery_from_shares(actor, Action.REVOKE_KEY, holder, shares)
                if shares else None)
    with rewrap_progress("Enkripsi ulang / Rekeying", quiet or as_json) as progress:
        result = revoke(actor=actor, holder=holder, rekey=rekey, recovery=recovery,
                        on_progress=progress)
    if as_json:
        emit_json({"holder": result.holder, "fingerprints": result.fingerprints,
                   "newly_revoked": result.newly_revoked,
                   "rekey": result.rekey.as_dict() if result.rekey else None,
                   "still_opens": [vars(e) for e in result.still_opens],
                   "recovery_only": result.recovery_only})
    else:
        click.echo(f"kunci dicabut / keys revoked: {result.holder} "
                   f"{', '.join(result.fingerprints)}")
        if result.recovery_only:
            click.echo(f"PERINGATAN: {result.recovery_only} dokumen/surat kini hanya terbuka "
                       "dengan kunci pemulihan (tidak ada pemegang aktif) / WARNING: "
                       f"{result.recovery_only} documents/letters now open with the recovery "
                       "key only (no active holder): grant them with --shares",
                       err=True)
        if result.rekey is not None:
            for line in _summary_lines(result.rekey):
                click.echo(line)
        if not result.still_opens:
            click.echo("tidak ada salinan di disk cadangan yang terbuka dengan kunci ini / "
                       "no copy on a backup disk opens with this key")
        for e in result.still_opens:
            click.echo(f"masih terbuka di disk / still opens on disk {e.medium_label} "
                       f"({e.medium_id}): {len(e.documents)} dokumen / documents, "
                       f"{len(e.letters)} surat / letters")
            for number in [*e.documents, *e.letters]:
                click.echo(f"  {number}")
    if result.rekey is not None and result.rekey.failed:
        fail(f"{len(result.rekey.failed)} berkas gagal; jalankan lagi / files failed; run again")
