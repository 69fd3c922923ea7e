"""The acting user's password check begun at a command's first step (CLI start-up, s16 D).

Before Django is set up, the user's stored password hash is read straight from the
instance's SQLite file (read-only; ``accounts_user``, the ``User`` model's table, checked
by a test), and the check itself begins in a thread (``hashers.begin``). The sign-in then
goes its usual way through Django and uses the result only for exactly the same password
and the same stored hash (``BrankasArgon2PasswordHasher.verify``). Nothing is begun for a
PostgreSQL instance, a missing database, or anything unexpected: the sign-in then checks
as it always did. Plain ``sqlite3``, no Django: it runs before the settings are read.
"""

from __future__ import annotations

import contextlib
import sqlite3

USER_TABLE = "accounts_user"  # User._meta.db_table (tests/web/accounts/test_early_check.py)


def stored_hash(username: str) -> str | None:
    """The stored password hash of ``username`` in the data folder's SQLite database (as
    ``BRANKAS_*`` names it), read-only; None for anything but one plain answer."""
    from brankas.core import config

    settings = config.load()
    if settings.database_url or not settings.database_path.is_file():
        return None
    uri = settings.database_path.resolve().as_uri() + "?mode=ro"
    with contextlib.suppress(sqlite3.Error, OSError):
        con = sqlite3.connect(uri, uri=True, timeout=0.2)
        try:
            rows = con.execute(f"SELECT password FROM {USER_TABLE} WHERE username = ?",  # noqa: S608
                               (username,)).fetchall()
        finally:
            con.close()
        if len(rows) == 1 and isinstance(rows[0][0], str):
            return str(rows[0][0])
    return None


def begin(username: str, password: str) -> bool:
    """Begin checking ``password`` against ``username``'s stored hash; False if not begun."""
    encoded = stored_hash(username)
    if encoded is None:
        return False
    from brankas.web.accounts import hashers

    return hashers.begin(password, encoded)
