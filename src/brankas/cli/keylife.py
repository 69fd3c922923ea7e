"""``brankas key passphrase`` and ``brankas key check``: a holder's own key over time
(``brankas.web.keys.lifecycle``)."""

from __future__ import annotations

import click

from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit, fail, handles_errors, local_time, read_secret_file
from brankas.cli.users import key
from brankas.core.errors import CryptoFailure

# What a passphrase change cannot reach: told after every change (output and docs).
OLD_FILES_NOTE = (
    "Disk back up yang sudah ditulis tetap memuat berkas kunci lama, yang terbuka dengan "
    "frasa sandi lama (disk hanya ditambah, tidak pernah diubah). Back up berikutnya "
    "menambahkan berkas kunci baru di sampingnya. / Backup disks already written keep the "
    "old key file, which the old passphrase still opens (disks are append-only); the next "
    "backup adds the new key file beside it.")


@key.command("passphrase")
@click.option("--holder", required=True, metavar="USERNAME",
              help="Your own username: a holder changes only their own key's passphrase.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="File with the current passphrase (or BRANKAS_PASSPHRASE; else asked).")
@click.option("--new-passphrase-file", type=click.Path(dir_okay=False),
              help="File with the new passphrase (else asked twice, hidden).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def key_passphrase(actor, holder: str, passphrase_file: str | None,  # type: ignore[no-untyped-def]
                   new_passphrase_file: str | None, as_json: bool) -> None:
    """Protect your key with a new passphrase (the current one is needed). The key stays
    the same: nothing is re-encrypted. Its file gets a new name, which the next backup
    carries; disks already written keep the old file, which the old passphrase opens."""
    from brankas.web.keys.lifecycle import key_passphrase_change
    from brankas.web.keys.services import key_file_name

    old = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                           "Frasa sandi sekarang / Current passphrase")
    if old is None:
        raise CryptoFailure("passphrase_missing")
    new = read_secret_file(new_passphrase_file, "", "Frasa sandi baru / New passphrase",
                           confirm=True)
    if new is None:
        fail("frasa sandi baru diperlukan / a new passphrase is needed: "
             "--new-passphrase-file F (or type it at the prompt)", 2)
        return
    changed = key_passphrase_change(actor=actor, holder=holder, old=old, new=new)
    name = key_file_name(changed)
    emit({"holder": holder, "fingerprint": changed.fingerprint,
          "protection": changed.protection, "key_file": f"keys/{name}",
          "note": OLD_FILES_NOTE}, as_json,
         f"frasa sandi diganti / passphrase changed: {holder} {changed.fingerprint}\n"
         f"berkas kunci / key file: keys/{name}\n{OLD_FILES_NOTE}")


@key.command("check")
@click.option("--holder", required=True, metavar="USERNAME",
              help="Your own username: a holder checks only their own key.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="File with the passphrase (or BRANKAS_PASSPHRASE; else asked).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def key_check_command(actor, holder: str, passphrase_file: str | None,  # type: ignore[no-untyped-def]
                      as_json: bool) -> None:
    """Prove that your passphrase still opens your key, without opening any document.
    Audited; a wrong passphrase is refused (exit status 1)."""
    from brankas.web.keys.lifecycle import key_check

    passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                  "Frasa sandi kunci / Key passphrase")
    if passphrase is None:
        raise CryptoFailure("passphrase_missing")
    checked = key_check(actor=actor, holder=holder, passphrase=passphrase)
    when = checked.last_checked_at.isoformat() if checked.last_checked_at else ""
    emit({"holder": holder, "fingerprint": checked.fingerprint, "ok": True,
          "checked_at": when}, as_json,
         f"kunci terbuka / key unlocks: {holder} {checked.fingerprint} "
         f"({local_time(when)})")
