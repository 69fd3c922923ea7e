"""Where Brankas puts things in a backup disk's payload (``data/``), and unlocking the
disk's encrypted register with a key holder's passphrase or the recovery identity.

::

    data/arsip/<biasa|dikecualikan>/<pengiriman|penerimaan>/<year>/<file>   the archive
    data/permintaan/<year>/<file>                  request letters not yet registered
    data/keys/<holder>-<fingerprint>.age           identities, passphrase-protected
    data/backup/<NNNN>_<started UTC>/              one folder per backup run:
        register-biasa.csv                         the biasa register (plain)
        register-lengkap.csv.age                   the full register (encrypted)
        database.json.age                          the database snapshot (encrypted)
        recipients.txt                             the public recipients
        daftar-kontrol.csv, daftar-kontrol.json    the run's backup control list
"""

from __future__ import annotations

from typing import Any

from brankas.core import crypto
from brankas.core.bagread import BagReader
from brankas.core.errors import CryptoFailure, InvalidInput

ARCHIVE_DIR = "arsip"
RUNS_DIR = "backup"
KEYS_DIR = "keys"
REGISTER_BIASA = "register-biasa.csv"
REGISTER_FULL = "register-lengkap.csv.age"
SNAPSHOT = "database.json.age"
RECIPIENTS = "recipients.txt"
CONTROL_CSV = "daftar-kontrol.csv"
CONTROL_JSON = "daftar-kontrol.json"
CONTROL_FORMAT = "brankas-control-list/1"


def unlock_with_passphrase(reader: BagReader, passphrase: str) -> list[Any]:
    """Every identity on the disk (``data/keys/*.age``) that the passphrase opens."""
    found = []
    for payload in sorted(reader.entries):
        parts = payload.split("/")
        if len(parts) != 2 or parts[0] != KEYS_DIR or not parts[1].endswith(".age"):
            continue
        try:
            found.append(crypto.unlock_identity(reader.read_bytes(payload), passphrase,
                                                username=parts[1]))
        except CryptoFailure:
            continue
    return found


def disk_identities(reader: BagReader, *, passphrase: str | None,
                    identity_text: str | None) -> tuple[list[Any], str]:
    """The identities that open the disk's encrypted files, and how they were unlocked."""
    if identity_text is not None:
        return [crypto.parse_identity(identity_text)], "recovery identity"
    if passphrase is None:
        raise InvalidInput("recover_secret_needed")
    found = unlock_with_passphrase(reader, passphrase)
    if not found:
        raise CryptoFailure("recover_cannot_unlock", what="passphrase")
    return found, "key holder passphrase"
