"""``python -m tests.browser.quick_serve serve …``: the ``brankas`` command, with every key it
makes protected at a small scrypt work factor, for the long browser walks, where each holder's
and signer's key is opened many times. The same patch as tests/conftest.quick_key_making (one
call, ``pyrage.passphrase.encrypt``, writes every age passphrase file of the product), made
here without importing tests/conftest.py (pytest and the fixtures' imports: a third of a
second of each server's start). The product's own work factor is tested in tests/web/keys and
tests/core/test_crypto.py.

Two more of the test process's shortcuts (tests/clirun.py), for the same reason:

- the passwords are Argon2id at small parameters (t=1, 64 KiB), as in the in-process
  commands (``clirun._quick_passwords``): a walk signs in and sets passwords dozens of times
  (the product's parameters, about 0.05 s a check, are tested in tests/web/accounts);
- a new SQLite database is first given the tables of the one the test process migrated
  (the file ``$QUICK_SERVE_MIGRATED`` names, when set: ``tests/browser/conftest.starting``),
  then the command's own ``migrate`` runs as always and finds nothing left to apply (as
  ``clirun._MigratedTemplate``; the same database as migrating gives: test_clirun.py
  ``test_a_new_database_copied_from_the_migrated_one_is_the_database_migrate_makes``).
  A recover's or a drill's rebuild (a process of its own, started by the server) does
  likewise through tests/web/quick_rebuild/sitecustomize.py (``starting`` sets it up)."""

import os
from unittest import mock

import pyrage

from brankas import instance
from brankas.cli import main
from brankas.web.accounts.hashers import BrankasArgon2PasswordHasher
from tests.agefile import passphrase_encrypt

MIGRATED = "QUICK_SERVE_MIGRATED"


def quick(data: bytes, passphrase: str) -> bytes:
    return passphrase_encrypt(bytes(data), passphrase)


def _from_template(template: str, migrate):  # type: ignore[no-untyped-def]
    def migrate_from_template(database: str = "default") -> None:
        import sqlite3

        from django.db import connections

        connection = connections[database]
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_master")
                empty = cursor.fetchone()[0] == 0
            if empty:
                source = sqlite3.connect(template)
                try:
                    source.backup(connection.connection)
                finally:
                    source.close()
        migrate(database)

    return migrate_from_template


BrankasArgon2PasswordHasher.time_cost, BrankasArgon2PasswordHasher.memory_cost = 1, 64
_template = os.environ.pop(MIGRATED, None)
if _template:
    instance.migrate = _from_template(_template, instance.migrate)  # type: ignore[assignment]
with mock.patch.object(pyrage.passphrase, "encrypt", quick):
    main()
