"""Password hashing: Argon2id with the OWASP Password Storage Cheat Sheet's parameters.

Django's default Argon2 costs 100 MiB a hash (memory_cost 102400 KiB, parallelism 8).
OWASP recommends m=19 MiB, t=2, p=1 as an equivalent-strength configuration; it keeps a
command's peak memory low on an office laptop (every CLI command checks a password) while
staying memory-hard. Hashes made with other parameters are upgraded at the next login.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.contrib.auth.hashers import Argon2PasswordHasher


class BrankasArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1

    def verify(self, password: str, encoded: str) -> bool:
        begun = _take(password, encoded)
        if begun is not None:  # the same check, begun at the command's start
            return bool(begun.result())
        return bool(super().verify(password, encoded))


# -- the check begun early (CLI start-up, s16 D) ----------------------------------------
#
# A command checks its user's password (Argon2id, about 0.045 s of one core) only after
# Django is set up, single-threaded work that leaves the second core idle. ``begin`` runs
# the very same check (``Argon2PasswordHasher.verify``, the hasher's full parameters) in a
# thread at the command's first step, for a password and a stored hash read before the
# set-up (``accounts/early.py``); ``verify`` above hands its result over only for exactly
# that password and that stored hash, once. Nothing is decided early: the sign-in still
# reads its user through Django, checks the lock-out first, audits and counts as always;
# any other pair is checked as before.

_begun: dict[tuple[str, str], Future[bool]] = {}
_lock = threading.Lock()


def _take(password: str, encoded: str) -> Future[bool] | None:
    with _lock:
        return _begun.pop((password, encoded), None)


def begin(password: str, encoded: str) -> bool:
    """Start checking ``password`` against the stored ``encoded`` hash in a thread (only an
    Argon2 hash of this hasher); False when not begun."""
    hasher = BrankasArgon2PasswordHasher()
    if not encoded.startswith(f"{hasher.algorithm}$"):
        return False
    import argon2  # noqa: F401 - imported here, not in the thread (as the hasher loads it)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brankas-early-check")
    try:
        future = worker.submit(Argon2PasswordHasher.verify, hasher, password, encoded)
    finally:
        worker.shutdown(wait=False)
    with _lock:
        _begun[(password, encoded)] = future
    return True


def forget() -> None:
    with _lock:
        _begun.clear()
