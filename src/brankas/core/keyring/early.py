"""A holder's key unlocked ahead of need: a grant's scrypt work begun at the command's start.

Unlocking a holder's key file is memory-hard scrypt, about a second and a half (the work
factor rage chose when the key was made), and ``hashlib.scrypt`` runs it without the
interpreter's lock (``keyring.agepass``). A grant needs it only once Django is set up, the
user signed in and the grant allowed, all of it single-threaded work that leaves the
second core idle. ``begin`` therefore starts the unlock of the holder's newest key file
(``BRANKAS_HOME/keys/<holder>-….age``, what ``keys_write_files`` keeps in step with the
database) in a thread at once, with the passphrase the command was given, and the grant
asks ``take`` for it later.

Nothing here decides anything: ``take`` hands the result over only for exactly the bytes
and passphrase the grant would unlock itself (the key's ``protected_identity`` from the
database, the same passphrase), after the grant's own checks (signed in, role, key not
revoked); anything else (another file, a changed key, another passphrase) is not in the
table and the grant unlocks as before. Each result is taken once. A file whose work
factor would go to the age library (which holds the lock) is not begun.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

# (SHA-256 of the key file's bytes, passphrase) -> the unlock under way
_begun: dict[tuple[bytes, str], Future[Any]] = {}
_lock = threading.Lock()


def _key(protected: bytes, passphrase: str) -> tuple[bytes, str]:
    return hashlib.sha256(protected).digest(), passphrase


_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def newest_key_file(keys_dir: Path, holder_component: str) -> Path | None:
    """The most recently written ``<holder>-<fingerprint>.age`` file in ``keys_dir``, if any
    (the fingerprint: 16 hex digits; ``kabid-2-….age`` is another holder's, not kabid's)."""
    try:
        files = [p for p in keys_dir.glob(f"{holder_component}-*.age") if p.is_file()
                 and _FINGERPRINT.fullmatch(p.name[len(holder_component) + 1:-len(".age")])]
    except OSError:
        return None
    if not files:
        return None
    return max(files, key=lambda p: p.stat().st_mtime_ns)


def begin(path: Path, passphrase: str, *,
          unlock: Callable[[bytes, str], Any] | None = None) -> bool:
    """Start unlocking the key file ``path`` with ``passphrase`` in a thread of its own;
    False (nothing begun) when the file cannot be read or is not one ``agepass`` opens
    without the interpreter's lock. ``unlock``: how (``crypto.unlock_identity``)."""
    from brankas.core import crypto

    try:
        protected = path.read_bytes()
    except OSError:
        return False
    factor = crypto.scrypt_work_factor(protected)
    if factor is None or factor > crypto.MAX_WORK_FACTOR:
        return False
    run = unlock or (lambda data, words: crypto.unlock_identity(data, words, username=""))
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brankas-early-unlock")
    try:
        future = worker.submit(run, protected, passphrase)
    finally:
        worker.shutdown(wait=False)  # its one thread ends with the unlock
    with _lock:
        _begun[_key(protected, passphrase)] = future
    return True


def take(protected: bytes, passphrase: str) -> Future[Any] | None:
    """The unlock begun for exactly these bytes and this passphrase, once; else None."""
    with _lock:
        return _begun.pop(_key(protected, passphrase), None)


def forget() -> None:
    """Drop every unlock not taken (their threads finish; their results are dropped)."""
    with _lock:
        _begun.clear()
