"""The password check begun at a command's first step (s16 D, CLI start-up): the same
Argon2id check in a thread, its result used only for exactly the same password and stored
hash, once (``accounts/hashers.begin``); the stored hash read before Django's set-up from
the SQLite file (``accounts/early``). Real SQLite, real Argon2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password, make_password

from brankas.web.accounts import early, hashers
from brankas.web.accounts.models import User


@pytest.fixture(autouse=True)
def _clean() -> None:
    hashers.forget()


def test_the_early_reader_names_the_user_models_table_and_columns() -> None:
    assert User._meta.db_table == early.USER_TABLE
    assert User._meta.get_field("password").column == "password"
    assert User._meta.get_field("username").column == "username"


@pytest.mark.parametrize("typed", ["Kata-Sandi-Benar-2026", "kata sandi salah"])
def test_a_check_begun_early_is_the_one_used_once(typed: str) -> None:
    encoded = make_password("Kata-Sandi-Benar-2026")
    assert encoded.startswith("argon2$")
    assert hashers.begin(typed, encoded)
    assert hashers._take("another", encoded) is None  # not what was begun
    assert check_password(typed, encoded) is (typed == "Kata-Sandi-Benar-2026")
    assert hashers._begun == {}  # taken by that check
    # the same pair again: checked as always, with the same answer
    assert check_password(typed, encoded) is (typed == "Kata-Sandi-Benar-2026")


def test_a_check_begun_for_another_password_is_not_used() -> None:
    encoded = make_password("Kata-Sandi-Benar-2026")
    assert hashers.begin("kata sandi salah", encoded)
    assert check_password("Kata-Sandi-Benar-2026", encoded) is True  # checked itself
    assert len(hashers._begun) == 1


def test_only_argon2_hashes_are_begun() -> None:
    assert not hashers.begin("x", "pbkdf2_sha256$600000$salt$hash")
    assert hashers._begun == {}


def test_the_stored_hash_is_read_from_the_sqlite_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BRANKAS_HOME", str(home))
    monkeypatch.delenv("BRANKAS_DATABASE_URL", raising=False)
    from brankas.core import config

    db = config.load().database_path
    assert early.stored_hash("kabid") is None  # no database yet
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE {early.USER_TABLE} (username TEXT, password TEXT)")
    con.executemany(f"INSERT INTO {early.USER_TABLE} VALUES (?, ?)",  # noqa: S608
                    [("kabid", "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
                     ("dua", "a"), ("dua", "b")])
    con.commit()
    con.close()
    assert early.stored_hash("kabid") == "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    assert early.stored_hash("KABID") is None and early.stored_hash("dua") is None
    monkeypatch.setenv("BRANKAS_DATABASE_URL", "postgres://x@localhost/brankas")
    assert early.stored_hash("kabid") is None  # PostgreSQL: not read
