"""Where Brankas puts things in a backup disk's payload (``data/``), and unlocking the
disk's encrypted register with a key holder's passphrase or the recovery identity.

::

    data/arsip/<biasa|dikecualikan>/<pengiriman|penerimaan>/<year>/<file>   the archive
    data/permintaan/<year>/<file>                  request letters not yet registered
    data/keys/<holder>-<fingerprint>.age           identities, passphrase-protected
    data/keys/<holder>-p<N>-<fingerprint>.age      the same under a changed passphrase
                                                   (N = 2, 3, ...; older files stay)
    data/backup/<NNNN>_<started UTC>/              one folder per backup run:
        register-biasa.csv                         the biasa register (plain)
        register-lengkap.csv.age                   the full register (encrypted)
        database.json.age                          the database snapshot (encrypted)
        recipients.txt                             the public recipients
        daftar-kontrol.csv, daftar-kontrol.json    the run's backup control list
"""

from __future__ import annotations

import re
import time
from typing import Any

from brankas.core import crypto
from brankas.core.disk.reader import BagReader
from brankas.core.errors import CryptoFailure, IntegrityFailure, InvalidInput

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


# <holder>-<fingerprint>.age, and <holder>-p<N>-<fingerprint>.age after a passphrase change
_KEY_FILE = re.compile(rf"{KEYS_DIR}/[^/]+-[0-9a-f]{{16}}\.age")
KEY_FILE_LIMIT = 64 << 10  # an identity file is a few hundred bytes
KEY_FILES_TRIED = 100  # each try costs a scrypt (about a second): a disk may not make us wait
UNLOCK_BUDGET = 180.0  # seconds of trying at most, however many files a disk holds


def unlock_with_passphrase(reader: BagReader, passphrase: str) -> list[Any]:
    """Every identity on the disk (``data/keys/*.age``) that the passphrase opens. At most
    ``KEY_FILES_TRIED`` files are tried, for at most ``UNLOCK_BUDGET`` seconds, and only
    files asking for an ordinary scrypt work factor (an office has a handful of holders; a
    prepared disk with thousands would otherwise keep the command busy for hours)."""
    found = []
    tried = 0
    deadline = time.monotonic() + UNLOCK_BUDGET
    for payload in sorted(reader.entries):
        if _KEY_FILE.fullmatch(payload) is None:
            continue  # not named as Brankas names an identity file
        if tried >= KEY_FILES_TRIED or time.monotonic() > deadline:
            break
        try:
            data = reader.read_bytes(payload, limit=KEY_FILE_LIMIT)
        except IntegrityFailure:
            continue
        factor = crypto.scrypt_work_factor(data)
        if factor is None or factor > crypto.MAX_WORK_FACTOR:
            continue  # not an identity Brankas wrote: costs nothing, does not count
        tried += 1
        try:
            found.append(crypto.unlock_identity(data, passphrase,
                                                username=payload.split("/")[1]))
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
