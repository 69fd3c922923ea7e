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
from tests.web.quick_rebuild.quick_template import from_template

MIGRATED = "QUICK_SERVE_MIGRATED"


def quick(data: bytes, passphrase: str) -> bytes:
    return passphrase_encrypt(bytes(data), passphrase)


BrankasArgon2PasswordHasher.time_cost, BrankasArgon2PasswordHasher.memory_cost = 1, 64
_template = os.environ.pop(MIGRATED, None)
if _template:
    instance.migrate = from_template(_template, instance.migrate)  # type: ignore[assignment]
with mock.patch.object(pyrage.passphrase, "encrypt", quick):
    main()
