"""Shared fixtures: a temporary data folder, an initialised office, a CLI runner.

Everything is real: SQLite on disk, the file system, pyrage, the ``brankas`` command.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import clirun
from tests.clirun import CliResult

# Settings read BRANKAS_HOME at import: never let a test run touch ./brankas-data.
if "BRANKAS_HOME" not in os.environ:
    os.environ["BRANKAS_HOME"] = _home = tempfile.mkdtemp(prefix="brankas-test-home-")
    # this process's own: gone when it ends (each xdist worker made one; they piled up)
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
os.environ.setdefault("BRANKAS_LANG", "en")


def _prepare_test_instance() -> None:
    """pytest-django reads the settings before this file runs, so they name the default
    ./brankas-data (which importing them no longer creates): point them at this run's
    temporary home and prepare it, as every entry point does (``brankas.instance``)."""
    from django.conf import settings

    from brankas import instance
    from brankas.core import config

    settings.BRANKAS = instance.prepare(config.load())
    settings.SECRET_KEY = config.read_secret_key(settings.BRANKAS)
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # A file, as the instance's own (WAL, a busy wait between connections): the jobs'
        # worker and the pages read and write it at once from their own connections, which
        # the shared in-memory test database answers with "table is locked".
        database.setdefault("TEST", {})["NAME"] = str(
            Path(os.environ["BRANKAS_HOME"]) / f"test-{os.getpid()}.sqlite3")


_prepare_test_instance()

class _MigratedTestDatabase:
    """The SQLite test database as the migrations left it (pytest-django's
    ``django_db_setup``), kept in memory: a ``transactional_db`` test ends by laying it
    down again (SQLite's backup API, a few milliseconds) instead of Django's flush
    (deleting every table, then the post-migrate signal making the content types and
    permissions again under new ids: about 40 ms a test here). Each such test then starts
    from the database a fresh instance has, as the first one did (the flush also dropped
    the rows the migrations themselves add, e.g. the audit counter's); the ``office``
    fixture's copy fits it (``_OfficeCopy``). Only for Django's ``default`` connection on
    that SQLite file; anything else (a module on PostgreSQL) is flushed as before."""

    def __init__(self) -> None:
        self.snapshot: Any = None
        self.name: str | None = None

    def take(self) -> None:
        import sqlite3

        from django.db import connections

        connection = connections["default"]
        if connection.vendor != "sqlite" or (
                connection.settings_dict["NAME"] != connection.settings_dict["TEST"]["NAME"]):
            return  # no test database was made (no test of the session uses one)
        connection.ensure_connection()
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(snapshot)
        self.snapshot, self.name = snapshot, connection.settings_dict["NAME"]

    def copy(self) -> Any:
        import sqlite3

        copy = sqlite3.connect(":memory:", check_same_thread=False)
        self.snapshot.backup(copy)
        return copy

    def restores(self, case: Any) -> bool:
        from django.db import connections

        connection = connections["default"]
        return (self.snapshot is not None
                and list(case._databases_names(include_mirrors=False)) == ["default"]
                and case.available_apps is None and not case.serialized_rollback
                and connection.vendor == "sqlite"
                and connection.settings_dict["NAME"] == self.name
                and not connection.in_atomic_block)

    def restore(self) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.db import connections

        connection = connections["default"]
        connection.ensure_connection()
        self.snapshot.backup(connection.connection)
        ContentType.objects.clear_cache()


_MIGRATED_DB = _MigratedTestDatabase()


def _install_quick_flush() -> None:
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):  # type: ignore[no-untyped-def]
        if _MIGRATED_DB.restores(self):
            _MIGRATED_DB.restore()
        else:
            flush(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


_install_quick_flush()


def _install_quick_login() -> None:
    """Django's test client signs a user in (``force_login``, ``login``) on the session its
    cookie names, or, without one, on an empty session it first saves (a query for a free
    key, an insert) only for ``login()`` to give it a new key at once (``cycle_key``: the
    same again, and a delete): about 2 ms of every sign-in here. Without a cookie the
    session is now made unsaved, as a browser's first sign-in finds it (``login()`` then
    saves it once, under its fresh key); with one, as before.
    A cookieless sign-in is no sign-in through the page either: django-axes's receiver of
    ``user_logged_in`` (its AccessLog row, the user's failures cleared and the expired ones
    swept: four queries, about 1.5 ms a sign-in, 2 CPU-s of make test-fast) is left out of
    it, as of ``force_login``'s skipped password check; what axes does at a sign-in is
    tested through the real sign-in page (test_lockout, test_user_admin_pages,
    test_unknown_login), which goes through ``login`` with axes as configured."""
    from importlib import import_module

    from django.conf import settings
    from django.http import HttpRequest
    from django.test.client import Client

    login_on = Client._login

    def _login(self, user, backend=None):  # type: ignore[no-untyped-def]
        if self.cookies.get(settings.SESSION_COOKIE_NAME):
            return login_on(self, user, backend)
        from django.contrib.auth import login

        request = HttpRequest()
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        enabled = settings.AXES_ENABLED
        settings.AXES_ENABLED = False  # read by axes's receivers at each signal
        try:
            login(request, user, backend)
        finally:
            settings.AXES_ENABLED = enabled
        request.session.save()
        self._set_login_cookies(request)
        return None

    Client._login = _login  # type: ignore[method-assign]


_install_quick_login()


class _MigratedFile:
    """The SQLite test database as the migrations leave it, kept between runs in a file of
    the temporary folder named by what it is made from (every installed app's migration
    files, Django's and SQLite's versions): each pytest process (each xdist worker) copies
    it instead of migrating (about 1.5 CPU-s a process here); the first process after a
    migration changed migrates as before and writes the file (in one rename: a reader
    sees the whole file or none). The same tables and rows as migrating gives (the data
    migrations find an empty database: tests/clirun.py ``_MigratedTemplate`` relies on
    the same; test_clirun.py
    ``test_a_new_database_copied_from_the_migrated_one_is_the_database_migrate_makes``).
    BRANKAS_TEST_MIGRATED_CACHE=0: migrate every time."""

    @staticmethod
    def path(under: Path | None = None) -> Path | None:
        import hashlib
        import sqlite3

        import django
        from django.apps import apps

        if os.environ.get("BRANKAS_TEST_MIGRATED_CACHE", "1") == "0":
            return None
        digest = hashlib.sha256(f"{django.__version__} {sqlite3.sqlite_version}".encode())
        read: list[Path] = []
        for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
            folder = Path(config.path) / "migrations"
            digest.update(f"\0{config.label}".encode())
            for migration in sorted(folder.glob("*.py")) if folder.is_dir() else []:
                digest.update(f"\0{migration.name}\0".encode())
                digest.update(migration.read_bytes())
                read.append(migration)
            ready = Path(config.path) / "apps.py"
            if ready.is_file() and "post_migrate" in ready.read_text(encoding="utf-8"):
                digest.update(ready.read_bytes())
                read.append(ready)
        # The product code the migrations run (the triggers of web/changes.py and
        # web/text/fts.py, ...) and the apps' post_migrate receivers make the tables too:
        # a change there is a new file, not the tables the old code made.
        for source in _MigratedFile.imported(read):
            digest.update(f"\0{source.as_posix().rpartition('/brankas/')[2]}\0".encode())
            digest.update(source.read_bytes())
        name = f"brankas-test-migrated-{digest.hexdigest()[:24]}.sqlite3"
        return (under or Path(tempfile.gettempdir())) / name

    @staticmethod
    def imported(files: list[Path]) -> list[Path]:
        """The source files of the ``brankas`` modules ``files`` import (at any depth of
        their code: a migration's function imports when it runs)."""
        import ast
        import importlib.util

        found: set[Path] = set()

        def add(module: str) -> bool:
            try:
                spec = importlib.util.find_spec(module)
            except (ImportError, ValueError):
                return False
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                return False
            found.add(Path(spec.origin))
            return True

        for path in files:
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            if "brankas" not in text:
                continue
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.split(".")[0] == "brankas":
                            add(alias.name)
                elif (isinstance(node, ast.ImportFrom) and node.module and not node.level
                      and node.module.split(".")[0] == "brankas"):
                    for alias in node.names:  # a module named, or a name of the module
                        if not add(f"{node.module}.{alias.name}"):
                            add(node.module)
        return sorted(found)


def _install_migrated_file() -> None:
    from django.db.backends.sqlite3.creation import DatabaseCreation

    create = DatabaseCreation.create_test_db

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True,  # type: ignore[no-untyped-def]
                       keepdb=False):
        from django.conf import settings as django_settings
        from django.core.management import call_command

        cached = _MigratedFile.path()
        name = self._get_test_db_name()
        if (self.connection.alias != "default" or cached is None or keepdb
                or self.is_in_memory_db(name)
                or self.connection.settings_dict["TEST"].get("MIGRATE") is False):
            return create(self, verbosity, autoclobber, serialize, keepdb)
        if not cached.is_file():
            made = create(self, verbosity, autoclobber, serialize, keepdb)
            self.connection.close()
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
            shutil.copyfile(made, partial)
            os.replace(partial, cached)
            self.connection.ensure_connection()
            return made
        # As create_test_db with the migrate already run: the file laid down, the
        # connection pointed at it, the serialised contents and the cache tables.
        self.connection.close()
        if os.path.exists(name):
            os.remove(name)
        shutil.copyfile(cached, name)
        django_settings.DATABASES[self.connection.alias]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        call_command("createcachetable", database=self.connection.alias)
        self.connection.ensure_connection()
        return name

    DatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]


_install_migrated_file()
# A command's new database before any test's (the run's temporary folder: a command runs
# with a TMPDIR of its own)
clirun.MIGRATED_FILE = functools.partial(_MigratedFile.path, Path(tempfile.gettempdir()))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """pytest-django's test database, kept as migrated (``_MigratedTestDatabase``); also
    the tables the in-process CLI gives a new database before its own migrate (instead of
    migrating the first one in full: tests/clirun.py ``_MigratedTemplate``; the same
    database, test_clirun.py
    ``test_a_new_database_copied_from_the_migrated_one_is_the_database_migrate_makes``)."""
    with django_db_blocker.unblock():
        _MIGRATED_DB.take()
    if _MIGRATED_DB.snapshot is not None and clirun._MIGRATED.database is None:
        clirun._MIGRATED.database = _MIGRATED_DB.copy()
    yield


PASSWORDS = {
    "admin": "Admin-Pass-2026!",
    "operator": "Sandiman-Pass-2026!",
    "kasi": "Kasi-Pass-2026!x",
    "kabid": "Kabid-Pass-2026!",
    "kadis": "Kadis-Pass-2026!",
}
ROLES = {"operator": "sandiman", "kasi": "kasi", "kabid": "kabid", "kadis": "kadis"}
PASSPHRASES = {
    "kasi": "lembah sunyi menara biru pagi",
    "kabid": "kuda merah berlari di sawah hijau",
}


@functools.cache
def _key_pair(passphrase: str) -> tuple[str, str]:
    from brankas.core import crypto

    pair = crypto.generate()
    return pair.identity, pair.recipient


@functools.cache
def protected_identity(passphrase: str) -> tuple[str, str, bytes]:
    """A key pair whose identity is protected by ``passphrase`` as the product protects it
    (``crypto.protect_identity``: scrypt at rage's work factor, about a second; cached)."""
    from brankas.core import crypto

    identity, recipient = _key_pair(passphrase)
    return identity, recipient, crypto.protect_identity(identity, passphrase)


@functools.cache
def quick_protected_identity(passphrase: str) -> tuple[str, str, bytes]:
    """The same key pair, its identity in an age passphrase file of a small work factor
    (tests/agefile.py): what the fixtures hand out, opened in milliseconds."""
    from tests.agefile import passphrase_encrypt

    identity, recipient = _key_pair(passphrase)
    return identity, recipient, passphrase_encrypt((identity + "\n").encode("ascii"), passphrase)


def add_key(user, passphrase: str):  # type: ignore[no-untyped-def]
    """Give ``user`` an active key quickly (the service path is tested in test_keys)."""
    from brankas.core import crypto
    from brankas.core.disk import seal as diskseal
    from brankas.web.keys.models import HolderKey
    from brankas.web.keys.services import keys_write_files, office_key

    identity, recipient, protected = quick_protected_identity(passphrase)
    fingerprint = crypto.recipient_fingerprint(recipient)
    signing = office_key()
    key = HolderKey.objects.create(
        holder=user,
        recipient=recipient,
        fingerprint=fingerprint,
        protected_identity=protected,
        suite=crypto.SUITE,
        anchor=diskseal.anchor_bytes(public=signing.public, office="Kantor", holder=fingerprint,
                                     secret=identity),
        anchor_office_key=signing.fingerprint,
    )
    keys_write_files()
    return key


@pytest.fixture
def brankas_home(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A fresh data folder for this test, seen by the services through settings.BRANKAS."""
    home = tmp_path / "home"
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=home)
    from brankas.core.config import ensure_home

    ensure_home(settings.BRANKAS)
    return home


MD5_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def office(db, brankas_home: Path, settings):  # type: ignore[no-untyped-def]
    """An initialised office: one user per role, keys for the Kasi and the Kabid."""
    settings.PASSWORD_HASHERS = MD5_HASHERS
    return build_office(brankas_home)


def build_office(home: Path) -> SimpleNamespace:
    """The office of the ``office`` fixture in the data folder ``home`` (which
    settings.BRANKAS names): made through the services the first time in this process,
    then a copy of that one (``_OfficeCopy``) wherever the database is as it was then."""
    from django.db import connection

    global _OFFICE_COPY
    if connection.vendor != "sqlite":  # the PostgreSQL part: through the services each time
        return _office_through_services(home)
    if _OFFICE_COPY is not None and _OFFICE_COPY.fits(connection, home):
        return _OFFICE_COPY.restore(connection, home)
    if _OFFICE_COPY is not None:
        return _office_through_services(home)
    before = _OfficeCopy.state(connection, home)
    before["present"] = _OfficeCopy.present_rows(connection, before)
    made = _office_through_services(home)
    _OFFICE_COPY = _OfficeCopy.take(connection, home, before, made)
    return made


class _OfficeCopy:
    """The office made through the services, kept to be laid down again: the rows it added
    to each table (inserted again with the same ids, which the rollback or the flush after
    each test gives back), the rows already there that it changed (the audit counter:
    written again as they were after it) and the files it wrote in its data folder. Only
    into a database and a data folder in the state the first one was in before it was made
    (checked: the highest row id of every table; the data folder's files); otherwise the
    services make it. Each office of the process then has the same keys and recovery
    identity, as the holders' keys already are (``quick_protected_identity``)."""

    def __init__(self, before: dict[str, Any], rows: dict[str, tuple[list[str], list[Any]]],
                 sequences: list[Any], files: dict[str, bytes], modes: dict[str, int],
                 made: SimpleNamespace) -> None:
        self.before, self.rows, self.sequences = before, rows, sequences
        self.changed: dict[str, tuple[list[str], list[Any]]] = {}
        self.files, self.modes = files, modes
        self.user_ids = {name: u.pk for name, u in made.users.items()}
        self.key_ids = {name: k.pk for name, k in made.keys.items()}
        self.office_id = made.office.pk
        self.recovery_identity = made.recovery_identity
        self.records: bytes | None = None  # ``_records``

    @staticmethod
    def _tables(connection) -> list[str]:  # type: ignore[no-untyped-def]
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite_%' ORDER BY name")
            # the full-text index (web/text/fts.py): its triggers keep it, not the copy
            from brankas.web.text.fts import FIELD_TABLES, FTS_TABLES

            return [name for (name,) in cursor.fetchall()
                    if name not in FTS_TABLES + FIELD_TABLES]

    @classmethod
    def state(cls, connection, home: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        tables = cls._tables(connection)
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(
                f"SELECT '{t}', max(rowid) FROM \"{t}\"" for t in tables))  # noqa: S608
            rowids = dict(cursor.fetchall())
        files = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
        return {"rowids": rowids, "files": files}

    @classmethod
    def take(cls, connection, home: Path, before: dict[str, Any],  # type: ignore[no-untyped-def]
             made: SimpleNamespace) -> _OfficeCopy:
        rows: dict[str, tuple[list[str], list[Any]]] = {}
        with connection.cursor() as cursor:
            for table, last in before["rowids"].items():
                cursor.execute(f'SELECT * FROM "{table}" WHERE rowid > %s'  # noqa: S608
                               " ORDER BY rowid", [last or 0])
                found = cursor.fetchall()
                if found:
                    rows[table] = ([c[0] for c in cursor.description], found)
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            sequences = cursor.fetchall()
        changed: dict[str, tuple[list[str], list[Any]]] = {}
        for table, (columns, old) in before.pop("present").items():
            now = cls.present_rows(connection, before, [table])[table][1]
            if len(now) != len(old):
                raise AssertionError(f"office copy: rows of {table} deleted")
            if now != old:
                changed[table] = (columns, now)
        old = set(before["files"])
        files, modes = {}, {}
        for path in sorted(home.rglob("*")):
            name = str(path.relative_to(home))
            if path.is_symlink():
                raise AssertionError(f"office copy: a symbolic link {name}")
            modes[name] = path.stat().st_mode & 0o7777
            if path.is_file() and name not in old:  # the folder's own files stay its own
                files[name] = path.read_bytes()
        copy = cls(before, rows, sequences, files, modes, made)
        copy.changed = changed
        return copy

    @classmethod
    def present_rows(cls, connection, before: dict[str, Any],  # type: ignore[no-untyped-def]
                     tables: list[str] | None = None,
                     ) -> dict[str, tuple[list[str], list[Any]]]:
        """The rows each table held before the office was made (up to its highest rowid
        then), by rowid; the columns with the rowid first."""
        found = {}
        with connection.cursor() as cursor:
            for table in tables or list(before["rowids"]):
                last = before["rowids"][table]
                if last is None:
                    continue
                cursor.execute(f'SELECT rowid, * FROM "{table}" WHERE rowid <= %s'  # noqa: S608
                               " ORDER BY rowid", [last])
                found[table] = ([c[0] for c in cursor.description][1:], cursor.fetchall())
        return found

    def fits(self, connection, home: Path) -> bool:  # type: ignore[no-untyped-def]
        return bool(self.state(connection, home) == self.before)

    def restore(self, connection, home: Path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
        from brankas.web.accounts.models import Office, User
        from brankas.web.keys.models import HolderKey

        for name, mode in self.modes.items():  # folders (sorted: parents first)
            path = home / name
            if name not in self.files and not path.is_file():
                path.mkdir(exist_ok=True)
                path.chmod(mode)
        for name, data in self.files.items():
            path = home / name
            path.write_bytes(data)
            path.chmod(self.modes[name])
        with connection.cursor() as cursor:
            for table, (columns, values) in self.rows.items():
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608
                                   values)
            for table, (columns, values) in self.changed.items():
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT OR REPLACE INTO "{table}" ({names})'  # noqa: S608
                                   f" VALUES ({marks})", [row[1:] for row in values])
            cursor.executemany("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                               [(seq, name) for name, seq in self.sequences])
            cursor.execute("SELECT name FROM sqlite_sequence")
            present = {name for (name,) in cursor.fetchall()}
            cursor.executemany("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               [(n, q) for n, q in self.sequences if n not in present])
        self.records, users, keys, office = _records(
            self.records, lambda: (User.objects.in_bulk(list(self.user_ids.values())),
                                   HolderKey.objects.in_bulk(list(self.key_ids.values())),
                                   Office.objects.get(pk=self.office_id)))
        return SimpleNamespace(
            home=home,
            users={name: users[pk] for name, pk in self.user_ids.items()},
            keys={name: keys[pk] for name, pk in self.key_ids.items()},
            recovery_identity=self.recovery_identity,
            office=office,
        )


def _records(kept: bytes | None, read: Callable[[], tuple[Any, Any, Any]],
             ) -> tuple[bytes, Any, Any, Any]:
    """The office's users, keys and office record (``read()``: the same rows in every test
    that lays the office down), read from the database the first time and kept pickled:
    each later test unpickles instances of its own, as a read would give them (a
    millisecond of queries saved a test)."""
    if kept is None:
        kept = pickle.dumps(read())
    users, keys, office = pickle.loads(kept)  # noqa: S301 (this process's own pickle)
    return kept, users, keys, office


_OFFICE_COPY: _OfficeCopy | None = None


def _office_through_services(home: Path) -> SimpleNamespace:
    from brankas.web.accounts.services import office_initialize, user_create

    result = office_initialize(
        office_name="Dinas Komunikasi dan Informatika Kabupaten Bolaang Mongondow",
        admin_username="admin",
        admin_password=PASSWORDS["admin"],
        admin_full_name="Admin Kantor",
    )
    users = {"admin": result.admin}
    for name, role in ROLES.items():
        users[name] = user_create(
            actor=result.admin,
            username=name,
            role=role,
            password=PASSWORDS[name],
            full_name=f"{name.title()} Test",
            position=role,
            nip="19800101200501100" + str(len(users)),
        )
    keys = {name: add_key(users[name], PASSPHRASES[name]) for name in PASSPHRASES}
    return SimpleNamespace(
        home=home,
        users=users,
        keys=keys,
        recovery_identity=result.recovery_identity,
        office=result.office,
    )


# ---------------------------------------------------------------- an office built once

@dataclasses.dataclass
class OfficeTemplate:
    """An office built once for a test module (``office_once``): its records, in a
    transaction that lasts the module, and its folder ``base`` (the data folder
    ``base/home`` and whatever the module made beside it). A test takes its own copy with
    ``copy_for``: it works in a savepoint of that transaction (pytest-django's ``db``
    fixture, rolled back after the test) on a copy of ``base``."""

    base: Path
    recovery_identity: str
    user_ids: dict[str, int]
    key_ids: dict[str, int]
    office_id: int
    extra: dict[str, Any]
    records: bytes | None = None  # ``_records``

    def copy_for(self, settings, tmp_path: Path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
        """This test's office: ``tmp_path`` holds a copy of ``base`` (``tmp_path/home`` is
        the data folder settings.BRANKAS names), the records instances of its own
        (``_records``: read by the first test, unpickled for each later one)."""
        import shutil

        from brankas.web.accounts.models import Office, User
        from brankas.web.keys.models import HolderKey

        for entry in self.base.iterdir():
            if entry.is_dir():
                shutil.copytree(entry, tmp_path / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, tmp_path / entry.name)
        home = tmp_path / "home"
        settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=home)
        settings.PASSWORD_HASHERS = MD5_HASHERS
        self.records, users, keys, office = _records(
            self.records, lambda: (User.objects.in_bulk(list(self.user_ids.values())),
                                   HolderKey.objects.in_bulk(list(self.key_ids.values())),
                                   Office.objects.get(pk=self.office_id)))
        return SimpleNamespace(
            home=home,
            users={name: users[pk] for name, pk in self.user_ids.items()},
            keys={name: keys[pk] for name, pk in self.key_ids.items()},
            recovery_identity=self.recovery_identity,
            office=office,
        )


@contextlib.contextmanager
def office_once(django_db_blocker, tmp_path_factory,  # type: ignore[no-untyped-def]
                extend: Callable[[SimpleNamespace, Path], dict[str, Any]] | None = None,
                ) -> Iterator[OfficeTemplate]:
    """For a module-scoped fixture: the ``office`` fixture's office, then ``extend(office,
    base)`` (what the module adds: documents, a backup, a report; it returns what the tests
    need to know of it), built once in a transaction rolled back when the module ends.

    Only for modules whose tests use ``db`` (a savepoint each), not ``transactional_db``."""
    from django.conf import settings
    from django.db import transaction
    from django.test.utils import override_settings

    from brankas.core.config import ensure_home

    base = tmp_path_factory.mktemp("office-once")
    home = base / "home"
    override = override_settings(BRANKAS=dataclasses.replace(settings.BRANKAS, home=home),
                                 PASSWORD_HASHERS=MD5_HASHERS)
    override.enable()
    try:
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            with django_db_blocker.unblock():
                ensure_home(settings.BRANKAS)
                made = build_office(home)
                extra = extend(made, base) if extend is not None else {}
            yield OfficeTemplate(
                base=base, recovery_identity=made.recovery_identity,
                user_ids={name: u.pk for name, u in made.users.items()},
                key_ids={name: k.pk for name, k in made.keys.items()},
                office_id=made.office.pk, extra=extra)
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
    finally:
        override.disable()


# ---------------------------------------------------------------- sample files

def make_pdf(path: Path | None = None, *, text: str = "Brankas test", pages: int = 1) -> bytes:
    """A small, valid PDF whose content stream carries ``text`` uncompressed."""
    import pikepdf

    pdf = pikepdf.new()
    for i in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        font = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                               BaseFont=pikepdf.Name.Helvetica)
        )
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        content = f"BT /F1 12 Tf 72 760 Td ({text} page {i + 1}) Tj ET".encode("latin-1")
        page.Contents = pdf.make_stream(content)
    import io

    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def make_jpeg(path: Path | None = None, *, size: tuple[int, int] = (120, 160),
              color: str = "white") -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "surat.pdf"
    make_pdf(path)
    return path


# ---------------------------------------------------------------- the real CLI

def pytest_configure(config: pytest.Config) -> None:
    """The in-process CLI runs a command against its own database: it lifts pytest-django's
    database blocker for the call (tests/clirun.py)."""
    from pytest_django.plugin import blocking_manager_key

    if blocking_manager_key in config.stash:
        clirun.DB_BLOCKER = config.stash[blocking_manager_key]
    if os.environ.get("BRANKAS_TEST_COSTS"):  # what each test costs (tests/costs.py)
        from tests import costs

        config.pluginmanager.register(costs, "brankas-test-costs")


# The collector's first threshold while the tests run: the young generation collected every
# this many allocations instead of Python's 700 (the tests' requests, queries and templates
# make millions of short-lived objects: about 2,400 collections in 1,100 page and CLI tests
# at 700, 300 here; 1.9 -> 1.1 CPU-s of their 44 in the collector). The tests that measure
# memory run under Python's own thresholds (``PYTHON_COLLECTOR_TESTS``).
TEST_GC_THRESHOLD = (20_000, 20, 20)
# Modules whose tests measure a peak (tracemalloc, VmHWM, a tree's RSS): the garbage a
# higher threshold leaves for later must not count in it (``_collector_as_python``).
PYTHON_COLLECTOR_TESTS = (
    "tests/bench/test_s24_tree_peak.py",
    "tests/core/disk/test_bag_memory.py",
    "tests/core/disk/test_bag_review_thru.py",
    "tests/core/keyring/test_rewrap.py",
    "tests/core/test_crypto.py",
    "tests/core/text/test_hostile.py",
    "tests/core/text/test_ocr_hostile.py",
    "tests/web/backup/test_journal_review.py",
    "tests/web/backup/test_segments_review.py",
)
_PYTHON_GC_THRESHOLD: list[tuple[int, int, int]] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the collection made (every test module, the product's modules, Django's
    models and settings: a few hundred thousand objects that live as long as the process)
    goes to the cyclic collector's permanent generation, as the product's own start-up
    does (``brankas.core.startup.collector_paused``): not walked again by each of the
    collections the tests cause (about a third of the collector's time in a worker). Then
    the tests' thresholds (``TEST_GC_THRESHOLD``)."""
    import gc

    gc.freeze()
    if not _PYTHON_GC_THRESHOLD:
        _PYTHON_GC_THRESHOLD.append(gc.get_threshold())
    gc.set_threshold(*TEST_GC_THRESHOLD)


@pytest.fixture(scope="module", autouse=True)
def _collector_as_python(request: pytest.FixtureRequest) -> Iterator[None]:
    """The tests of a module of ``PYTHON_COLLECTOR_TESTS`` (and its module fixtures) run
    under Python's own collector thresholds (one check a module, not a test)."""
    if not _PYTHON_GC_THRESHOLD or request.node.nodeid.split("::", 1)[0] \
            not in PYTHON_COLLECTOR_TESTS:
        yield
        return
    import gc

    raised = gc.get_threshold()
    gc.set_threshold(*_PYTHON_GC_THRESHOLD[0])
    try:
        yield
    finally:
        gc.set_threshold(*raised)


# Tests whose cost is Python processes of their own, started to check what only a fresh
# process shows (the imports of a command, a settings import's side effects, Django's
# deploy check, makemessages, a hang killed at its time limit, the in-process runner
# against a real process): marked ``process`` here (a module, or a test with all its
# parameters). make test runs them; make test-fast leaves them out (about 14 of its 170
# CPU-s, session 19: docs/benchmarks.md).
PROCESS_TESTS = (
    "tests/cli/test_startup_imports.py",
    "tests/cli/test_lazy_commands.py::test_every_command_is_reached_when_called_alone",
    "tests/instance/test_instance.py::test_importing_the_settings_creates_no_folder_and_writes_no_file",
    "tests/instance/test_instance.py::test_the_settings_read_a_prepared_secret",
    "tests/instance/test_instance.py::test_the_manage_entry_point_prepares_the_home_first",
    "tests/web/ui/test_i18n.py::test_every_string_in_the_code_is_in_the_catalogue",
    "tests/web/ui/test_hardening.py::test_production_settings_pass_the_deploy_check",
    "tests/web/ui/test_totp.py::test_the_real_cli_refuses_a_holder_without_the_code",
    "tests/hostile_disk/test_harness.py::test_a_command_blocked_on_a_read_is_a_hang_and_is_killed",
    "tests/test_clirun.py::test_in_process_gives_what_the_process_gives",
    "tests/test_clirun.py::test_a_crash_is_a_traceback_and_status_1_as_in_a_process",
)


def _mark_process_tests(items: list[pytest.Item]) -> None:
    modules = {entry for entry in PROCESS_TESTS if "::" not in entry}
    tests = {entry for entry in PROCESS_TESTS if "::" in entry}
    for item in items:
        if (item.nodeid.split("::", 1)[0] in modules
                or item.nodeid.split("[", 1)[0] in tests):
            item.add_marker(pytest.mark.process)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests of ``PROCESS_TESTS`` marked ``process`` (before ``-m`` deselects). The
    modules that hold slow tests (a kill test, the hostile-disk corpus, a leak scan:
    seconds to a minute each; up to a hundred tests) at the head of the pytest-xdist
    workers' shares, spread over them, each module whole (its module fixtures are built
    once). ``--dist worksteal`` first hands each of the N workers a contiguous 1/N of the
    collection (the first ``total // N``, ...) and an idle worker steals the tail of
    another's queue: the long tests then start at once, and the short ones left at the
    end even the workers out, instead of a minute-long test starting last while the other
    worker idles.
    (tests/browser/conftest.py then places its SOP walks at the very heads: it runs after
    this hook; the browser modules are left where they are.)"""
    _mark_process_tests(items)
    workerinput = getattr(config, "workerinput", None)
    workers = int(workerinput["workercount"]) if workerinput else 1
    if workers > 1 and items:
        items[:] = _dear_modules_first(items, workers)


def _dear_modules_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def slow(module: list[pytest.Item]) -> int:
        return sum(1 for item in module if item.get_closest_marker("slow") is not None)

    # A module of one or a few slow tests (a kill test, a concurrency test) holds the
    # longest single tests: first. A module of hundreds (the access matrix: a hundredth
    # of a second each) stays where it is: moved, a worker's steal would cut it in pieces,
    # each building its module fixtures again.
    dear = sorted(((path, tests) for path, tests in modules.items()
                   if slow(tests) and len(tests) <= 100
                   and not path.startswith("tests/browser/")),
                  key=lambda entry: len(entry[1]))
    if not dear:
        return items
    sizes, left = [], len(items)
    for i in range(workers):  # as xdist's worksteal shares the collection out
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    weights = [0] * workers
    for _, tests in dear:  # each to the lightest share so far
        share = min(range(workers), key=lambda i: (weights[i], len(heads[i])))
        heads[share] += tests
        weights[share] += slow(tests)
    if any(len(head) > size for head, size in zip(heads, sizes, strict=True)):
        return items
    moved = {id(item) for head in heads for item in head}
    rest = iter([item for item in items if id(item) not in moved])
    ordered: list[pytest.Item] = []
    for head, size in zip(heads, sizes, strict=True):
        ordered += head
        ordered += [next(rest) for _ in range(size - len(head))]
    assert len(ordered) == len(items)
    return ordered


def cli_env(home: Path, scratch: Path, user: str | None = None,
            env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a command against the data folder ``home`` (messages in English,
    temporary files under ``scratch/tmp``), acting as ``user`` when given."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    full_env.update({"BRANKAS_HOME": str(home), "BRANKAS_LANG": "en", "TMPDIR": str(tmp)})
    if user:
        full_env.update({"BRANKAS_USER": user, "BRANKAS_PASSWORD": PASSWORDS[user]})
    full_env.update(env or {})
    return full_env


def cli(home: Path, scratch: Path, *args: str, user: str | None = None,
        env: dict[str, str] | None = None, input: str | None = None,
        cwd: Path | None = None, process: bool = False) -> CliResult:
    """Run the real ``brankas`` command against the data folder ``home``: in this process,
    isolated as a process would be (tests/clirun.py), or with ``process=True`` as
    ``python -m brankas`` in a subprocess."""
    full_env = cli_env(home, scratch, user, env)
    if process:
        return clirun.run_subprocess(args, env=full_env, input=input, cwd=cwd or scratch)
    return clirun.run_in_process(args, env=full_env, input=input, cwd=cwd or scratch)


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    return tmp_path / "cli-home"


@pytest.fixture
def run_cli(cli_home: Path, tmp_path: Path) -> Callable[..., CliResult]:
    """Run the real ``brankas`` command against ``cli_home`` (see ``cli``)."""
    return functools.partial(cli, cli_home, tmp_path)


@pytest.fixture(scope="session")
def cli_office_template(tmp_path_factory) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """An office set up once through the CLI: users of every role; a key for the Kabid."""
    base = tmp_path_factory.mktemp("cli-office")
    home = base / "home"
    secrets = base / "secrets"
    secrets.mkdir()
    for name, pw in PASSWORDS.items():
        (secrets / f"{name}.pw").write_text(pw + "\n")
    for name, pp in PASSPHRASES.items():
        (secrets / f"{name}.pp").write_text(pp + "\n")
    run = functools.partial(cli, home, base)
    r = run("init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(secrets / "admin.pw"), "--json")
    assert r.returncode == 0, r.stderr
    recovery = r.json()["recovery_identity"]
    for name, role in ROLES.items():
        r = run("user", "add", name, "--role", role, "--full-name", name.title(),
                "--password-file", str(secrets / f"{name}.pw"), user="admin")
        assert r.returncode == 0, r.stderr
    with quick_key_making():
        r = run("key", "new", "--holder", "kabid", "--passphrase-file",
                str(secrets / "kabid.pp"), user="kabid")
    assert r.returncode == 0, r.stderr
    return SimpleNamespace(home=home, secrets=secrets, recovery_identity=recovery,
                           kabid_recipient=r.stdout.strip())


@contextlib.contextmanager
def quick_key_making() -> Iterator[None]:
    """While it lasts, a key made in this process (``brankas key new`` run in-process by
    tests/clirun.py, a report signer's key made at the first signature) is protected at a
    small scrypt work factor (tests/agefile.py) instead of rage's second: the same age
    passphrase file, opened in milliseconds by every later command of the tests. The
    product's work factor is tested in tests/web/keys and tests/core/test_crypto.py."""
    from unittest import mock

    import pyrage

    from tests.agefile import passphrase_encrypt

    def quick(data: bytes, passphrase: str) -> bytes:
        return passphrase_encrypt(bytes(data), passphrase)

    # Every age passphrase file the product writes goes through this one call: holders'
    # identities (crypto.protect_identity) and report signers' keys (reports/signing.py).
    with mock.patch.object(pyrage.passphrase, "encrypt", quick):
        yield


@pytest.fixture(scope="session")
def backed_up_template(cli_office_template, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The CLI office of tests/cli/backup with a few documents, backed up once (built once per
    session for tests/cli/backup and tests/hostile_disk)."""
    from tests.cli.backup.conftest import build_backed_up

    return build_backed_up(cli_office_template, tmp_path_factory)


@pytest.fixture
def cli_office(cli_office_template, cli_home: Path):  # type: ignore[no-untyped-def]
    """A private copy of the CLI office for this test (its own database and archive)."""
    import shutil

    shutil.copytree(cli_office_template.home, cli_home)
    return cli_office_template


# ---------------------------------------------------------------- PostgreSQL (issue 15 A)

@pytest.fixture(scope="module")
def pg_database(request, django_db_setup) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """For a module marked ``postgres``: a fresh migrated PostgreSQL database of its own
    (tests/pg.py), Django's ``default`` connection in this process while the module runs
    (``db``, ``office``, the web client use it); its URL for CLI processes
    (``BRANKAS_DATABASE_URL``)."""
    from tests import pg

    url = pg.new_database(request.module.__name__.rsplit(".", 1)[-1])
    with pg.use_database(url):
        yield url


# The handlers of the signals a test may leave changed (an in-process ``run_worker``: the
# queue's worker sets SIGINT, SIGTERM and SIGQUIT to stop it, then to SIG_DFL, not to what
# they were; a Ctrl-C then killed the pytest process without its report and clean-up).
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGQUIT")
                 if hasattr(signal, name))
_SIGNALS_AT_START: dict[int, Any] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    for number in _SIGNALS:
        _SIGNALS_AT_START[number] = signal.getsignal(number)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Each signal's handler put back as it was when the session started, after each test
    (a hook, not an autouse fixture: a few microseconds a test)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for number, handler in _SIGNALS_AT_START.items():
        if handler is not None and signal.getsignal(number) is not handler:
            signal.signal(number, handler)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests import pg

    pg.drop_made()
