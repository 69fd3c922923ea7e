"""The in-process CLI runner (tests/clirun.py) gives what the real process gives, and a
command run in-process leaves nothing behind in the test's process."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from brankas import instance
from brankas.instance import recovering
from brankas.web.accounts.hashers import BrankasArgon2PasswordHasher
from tests.conftest import PASSWORDS, cli


def _state() -> dict[str, Any]:
    """What a command could change in this process."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers
    from django.db import connections
    from django.utils import timezone, translation

    return {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "umask": _umask(),
        "tempdir": (tempfile.tempdir, tempfile.gettempdir()),
        "language": translation.get_language(),
        "timezone": timezone.get_current_timezone_name(),
        "brankas": settings.BRANKAS,
        "secret": settings.SECRET_KEY,
        "databases": repr(settings.DATABASES),
        "connection": repr(connections["default"].settings_dict),
        "connection_object": id(connections["default"]),
        "hashers": [type(h).__name__ for h in get_hashers()],
        "start": instance.start,
        "migrate": instance.migrate,
        "recovering": recovering._django_is_set_up,
        "argon2": (BrankasArgon2PasswordHasher.time_cost, BrankasArgon2PasswordHasher.memory_cost),
        "handlers": [(id(h), getattr(h, "stream", None)) for h in logging.getLogger().handlers],
        "signals": [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)],
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("args", [
    ("--help",),
    ("report", "--help"),
    ("register",),  # a usage error: status 2
    ("list", "--json"),
    ("show", "M-1999-0001"),  # a refusal: status 1
    ("media", "list"),
], ids=lambda a: "-".join(a))
def test_in_process_gives_what_the_process_gives(cli_office, cli_home, tmp_path, args) -> None:  # type: ignore[no-untyped-def]
    inside = cli(cli_home, tmp_path, *args, user="kasi")
    outside = cli(cli_home, tmp_path, *args, user="kasi", process=True)
    assert inside == outside


def test_messages_follow_the_commands_language(cli_office, cli_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = cli(cli_home, tmp_path, "show", "M-1999-0001", user="kasi", env={"BRANKAS_LANG": "id"})
    assert r.returncode == 1 and r.stderr.startswith("brankas: ") and "not found" not in r.stderr
    r = cli(cli_home, tmp_path, "show", "M-1999-0001", user="kasi")
    assert r.returncode == 1 and "not found" in r.stderr


def test_a_crash_is_a_traceback_and_status_1_as_in_a_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "brankas.sqlite3").write_bytes(b"not a database at all" * 100)
    inside = cli(home, tmp_path, "list", user="admin")
    outside = cli(home, tmp_path, "list", user="admin", process=True)
    for r in (inside, outside):
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.startswith("Traceback (most recent call last):")
        assert "DatabaseError: file is not a database" in r.stderr


def test_nothing_leaks_from_a_command_into_the_test_process(cli_office, cli_home, tmp_path,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    own_tmp = tmp_path / "own-tmp"
    own_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_tmp))  # as a test may have it
    from django.utils import translation

    translation.activate("en")  # as a request through the test client leaves it
    before = _state()
    pw = tmp_path / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    new = tmp_path / "new-home"
    commands = [
        (cli_home, ("list", "--json"), "operator", {}),
        (cli_home, ("show", "M-1999-0001"), "kasi", {"BRANKAS_LANG": "id"}),
        (new, ("init", "--office", "Baru", "--admin", "admin", "--password-file", str(pw)), None,
         {"BRANKAS_TIME_ZONE": "Asia/Makassar", "TMPDIR": str(tmp_path)}),
        (new, ("user", "list"), "admin", {"BRANKAS_LOGIN_FAILURE_LIMIT": "2"}),
        (cli_home, ("audit", "verify"), "admin", {}),
    ]
    for home, args, user, env in commands:
        r = cli(home, tmp_path, *args, user=user, env=env)
        assert r.returncode in (0, 1), r.stderr
        assert _state() == before, args
    translation.deactivate()
    # Each command saw its own data folder: the new office has only its admin.
    r = cli(new, tmp_path, "user", "list", "--json", user="admin")
    assert [u["username"] for u in r.json()] == ["admin"]
    r = cli(cli_home, tmp_path, "user", "list", "--json", user="admin")
    assert len(r.json()) == 5


def test_the_tests_own_database_and_transaction_are_untouched(office, cli_office, cli_home,  # type: ignore[no-untyped-def]
                                                             tmp_path) -> None:
    from brankas.web.accounts.models import User

    User.objects.create(username="hanya-di-tes", role="kasi")
    mine = sorted(User.objects.values_list("username", flat=True))
    before = _state()
    assert before["hashers"] == ["MD5PasswordHasher"]  # the office fixture's; the CLI's differ
    r = cli(cli_home, tmp_path, "user", "list", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert _state() == before
    theirs = sorted(u["username"] for u in r.json())
    assert "hanya-di-tes" not in theirs and "hanya-di-tes" in mine
    assert sorted(User.objects.values_list("username", flat=True)) == mine
    from django.db import connection

    assert connection.in_atomic_block  # the test's transaction is still open


def test_calls_from_several_threads_are_serialised(cli_office, cli_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    results: dict[str, Any] = {}

    def run(user: str) -> None:
        results[user] = cli(cli_home, tmp_path / user, "user", "list", "--json", user=user,
                            env={"BRANKAS_LANG": "en"})

    threads = [threading.Thread(target=run, args=(u,)) for u in ("admin", "kasi", "kabid")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {u: r.returncode for u, r in results.items()} == {"admin": 0, "kasi": 1, "kabid": 1}
    assert [u["username"] for u in results["admin"].json()] == [
        "admin", "kabid", "kadis", "kasi", "operator"]


def _database_of(home: Path) -> dict[str, Any]:
    """What migrating made in the database of ``home``: its schema, the rows the migrations
    write (applied migrations, content types, permissions), its journal mode."""
    import sqlite3

    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return {
            "schema": sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")),
            "migrations": sorted(db.execute("SELECT app, name FROM django_migrations")),
            "content_types": sorted(db.execute("SELECT app_label, model FROM django_content_type")),
            "permissions": sorted(db.execute(
                "SELECT p.codename, p.name, c.app_label, c.model FROM auth_permission p"
                " JOIN django_content_type c ON c.id = p.content_type_id")),
            "journal_mode": db.execute("PRAGMA journal_mode").fetchone(),
        }


def _epochs(home: Path) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return dict(db.execute("SELECT tbl, epoch FROM brankas_changes"))


@pytest.mark.slow  # migrates a database from scratch to compare (about 2 s)
def test_a_new_database_copied_from_the_migrated_one_is_the_database_migrate_makes(
        tmp_path: Path, monkeypatch, db) -> None:  # type: ignore[no-untyped-def]
    """``brankas init`` in process: the first new database is migrated, the next ones are
    given its tables (tests/clirun.py ``_MigratedTemplate``); they are the same database,
    and the office set up in the copy works. The tables of pytest-django's migrated test
    database, which the tests' processes give the CLI's first new database instead
    (tests/conftest.py ``django_db_setup``), are that database too."""
    from tests import clirun, conftest

    monkeypatch.setattr(clirun, "_MIGRATED", clirun._MigratedTemplate())
    secret = tmp_path / "pw"
    secret.write_text(PASSWORDS["admin"] + "\n")
    homes = [tmp_path / "migrated", tmp_path / "copied"]
    for home in homes:
        r = cli(home, tmp_path, "init", "--office", "Dinas Kominfo", "--admin", "admin",
                "--password-file", str(secret))
        assert r.returncode == 0, r.stderr
    assert clirun._MIGRATED.database is not None
    migrated, copied = (_database_of(home) for home in homes)
    assert migrated["migrations"] and migrated["permissions"]
    assert copied == migrated
    # ... but for the change counters' epochs, random as each migration makes them.
    epochs = [_epochs(home) for home in homes]
    assert epochs[0] and epochs[0].keys() == epochs[1].keys()
    assert all(epochs[0][t] != epochs[1][t] for t in epochs[0]), epochs
    assert conftest._MIGRATED_DB.snapshot is not None
    from_tests = clirun._MigratedTemplate()
    from_tests.database = conftest._MIGRATED_DB.copy()
    monkeypatch.setattr(clirun, "_MIGRATED", from_tests)
    r = cli(tmp_path / "seeded", tmp_path, "init", "--office", "Dinas Kominfo", "--admin",
            "admin", "--password-file", str(secret))
    assert r.returncode == 0, r.stderr
    assert _database_of(tmp_path / "seeded") == migrated
    r = cli(homes[1], tmp_path, "user", "list", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert [u["username"] for u in r.json()] == ["admin"]
