"""Reading with real identities, for tests that check who can open a stored file: a
holder's identity from the passphrase file under ``keys/``, and whether an identity opens
an age file (pyrage refuses a file that is not encrypted to it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyrage

from brankas.core import crypto


def identity_from_key_file(home: Path, username: str, passphrase: str) -> Any:
    """The identity in ``username``'s one key file under ``home/keys``."""
    (key_file,) = (home / "keys").glob(f"{username}-*.age")
    return crypto.parse_identity(
        pyrage.passphrase.decrypt(key_file.read_bytes(), passphrase).decode("ascii"))


def opens(data: bytes, identity: Any) -> bool:
    """Does ``identity`` open the age file ``data``?"""
    try:
        crypto.decrypt_bytes(data, [identity])
    except Exception:  # noqa: BLE001 - pyrage: not one of the recipients
        return False
    return True
