"""Running the real ``brankas`` command: in this process (the default) or in a subprocess.

A subprocess costs about a second of interpreter and Django start-up per command; the
suite runs hundreds of commands. ``run_in_process`` runs the same click command object
(``brankas.cli.main``) in this process and gives the same ``CliResult`` a subprocess gives:
its exit status, what it printed on stdout and on stderr (a traceback included, as Python
prints one), with the isolation a process has:

- its environment is exactly the one given (``os.environ`` replaced for the call: the
  BRANKAS_* variables, TMPDIR, ...), its working folder, its standard input (not a
  terminal), its umask (inherited from the caller, as a child inherits it);
- Django is set up from that environment when the command sets it up
  (``brankas.instance.start``, once per command), as in a fresh process: the settings module is
  executed again with the command's environment, every setting that differs from this
  process's is overridden for the call (``override_settings``: Django's own caches that
  depend on a setting are reset through its signals), and the database connections are
  the command's own (its home's database), separate from the test's;
- until the command sets Django up it has no database at all (a command that would use
  one without setting Django up fails here as it would in a process), and Django counts as
  not set up (``brankas recover`` builds its new instance only in such a process);
- a new SQLite database that the command migrates (``brankas init``, an upgrade) is first
  given the tables of the first one this process migrated (SQLite's backup API, about
  0.01 s instead of 0.8 s); the command's ``migrate`` then runs as it does in a process and
  finds nothing left to apply. ``python -m brankas`` in a subprocess migrates in full;
- the password hashes it makes and checks are Argon2id at small parameters (t=1, 64 KiB:
  ``_quick_passwords``), as keys are made quickly (tests/conftest.quick_key_making): a
  command checks its user's password, and the suite runs hundreds of commands (the
  product's parameters, about 0.05 s a check, are tested in tests/web/accounts);
- afterwards everything is put back: the settings, the connections (the command's are
  closed, the test's restored untouched, open transaction and all), the environment,
  TMPDIR's cache in ``tempfile``, the working folder, the umask, the active language and
  time zone, ``brankas.instance.start``, the log handlers' streams, the signal handlers, and
  pytest-django's database blocker.

One command runs at a time (a lock): calls from several threads are serialised.
Commands that must be a separate process (killed, signalled, tied to their parent, run
concurrently, or guarded against a hang by a time limit) use ``run_subprocess``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

PROG_NAME = "python -m brankas"  # what click calls the command in a subprocess
SETTINGS_MODULE = "brankas.web.settings"

# Set by tests/conftest.py (pytest_configure): pytest-django's database blocker.
DB_BLOCKER: Any = None

_lock = threading.Lock()


@dataclasses.dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.stdout)


def run_subprocess(args: Sequence[str], *, env: dict[str, str], cwd: Path,
                   input: str | None = None, timeout: float = 300) -> CliResult:
    """``python -m brankas ARGS`` in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "brankas", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_in_process(args: Sequence[str], *, env: dict[str, str], cwd: Path,
                   input: str | None = None) -> CliResult:
    """``brankas ARGS`` in this process, isolated as a subprocess would be (see above)."""
    if _event_loop_running():
        # Playwright's sync API runs an event loop in this thread, where Django refuses
        # database work (a process has no such loop): the command runs in a thread of its own.
        done: list[CliResult | BaseException] = []

        def run() -> None:
            try:
                done.append(run_in_process(args, env=env, cwd=cwd, input=input))
            except BaseException as exc:  # handed to the caller
                done.append(exc)

        thread = threading.Thread(target=run, name="brankas-cli")
        thread.start()
        thread.join()
        if isinstance(done[0], BaseException):
            raise done[0]
        return done[0]
    from click.testing import CliRunner

    from brankas.cli import main

    with _lock, _isolated(env, cwd):
        result = CliRunner(catch_exceptions=True).invoke(
            _Command(main), list(args), input=input or "", prog_name=PROG_NAME)
        stderr = result.stderr
        code = result.exit_code
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            # What the interpreter prints for an uncaught exception, and its status.
            stderr += "".join(traceback.format_exception(result.exception))
            code = 1
    return CliResult(code, result.stdout, stderr)


T = TypeVar("T")


def call_in_process(fn: Callable[[], T], *, env: dict[str, str], cwd: Path,
                    set_up: bool = True) -> T:
    """``fn()`` (Python code, not a command) in this process as a process of its own would
    run it against a data folder: ``env`` and ``cwd`` with ``run_in_process``'s isolation,
    Django set up from ``env`` (``brankas.cli.runtime.setup_django``); ``set_up=False``:
    ``fn`` sets Django up itself (``brankas.instance.start``), as in a fresh process. For
    the steps a test only needs done, not proven in a fresh process (what a web process
    does when a form is posted: a job recorded and queued)."""
    with _lock, _isolated(env, cwd):
        if set_up:
            from brankas.cli.runtime import setup_django

            setup_django()
        return fn()


def _event_loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Command:
    """``main`` as CliRunner calls it, with click's help width as a process has it
    (CliRunner forces 80 columns; a process without a terminal takes its own)."""

    def __init__(self, command: Any) -> None:
        self.command = command
        self.name = command.name

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from click import formatting

        formatting.FORCED_WIDTH = None
        # A process logs to its own stderr: so does the command (CliRunner's stderr).
        streams = [(h, h.setStream(sys.stderr)) for h in _stream_handlers()]
        try:
            return self.command.main(*args, **kwargs)
        finally:
            for handler, stream in streams:
                handler.setStream(stream)


# ------------------------------------------------------------------ the isolation

@contextlib.contextmanager
def _isolated(env: dict[str, str], cwd: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(env, cwd))
        stack.enter_context(_process_state())
        stack.enter_context(_quick_passwords())
        stack.enter_context(_database_unblocked())
        django_state = stack.enter_context(_django_unset())
        yield
        django_state.close()


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path) -> Iterator[None]:
    """os.environ, the working folder, TMPDIR as ``tempfile`` sees it, the umask."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_tempdir = tempfile.tempdir
    saved_umask = os.umask(0o077)
    os.umask(saved_umask)  # the caller's umask stays in force, as a child inherits it
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    try:
        os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        os.umask(saved_umask)
        os.environ.clear()
        os.environ.update(saved_env)
        tempfile.tempdir = saved_tempdir
        if hasattr(time, "tzset"):
            time.tzset()  # TZ as it was (Django sets it from TIME_ZONE)


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    """Signal handlers, and the staging-name prefix each process draws afresh."""
    from brankas.core import fsutil

    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    fsutil._names.reset()
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():
            for s, previous in saved_signals.items():
                if signal.getsignal(s) is not previous and previous is not None:
                    signal.signal(s, previous)


@contextlib.contextmanager
def _quick_passwords() -> Iterator[None]:
    """The product's Argon2id hasher at small parameters for the command: hashes made now
    are quick to check, and a check of one does not ask for an upgrade (Django re-hashes a
    password whose parameters differ from the hasher's)."""
    from brankas.web.accounts.hashers import BrankasArgon2PasswordHasher as Hasher

    saved = Hasher.time_cost, Hasher.memory_cost
    Hasher.time_cost, Hasher.memory_cost = 1, 64
    try:
        yield
    finally:
        Hasher.time_cost, Hasher.memory_cost = saved


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    """The plain stream handlers of the configured loggers (Django's ``console``), not
    pytest's capturing handlers (subclasses)."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values()
                if isinstance(lg, logging.Logger)]
    out: dict[int, logging.StreamHandler[Any]] = {}
    for lg in loggers:
        for handler in lg.handlers:
            if type(handler) is logging.StreamHandler:
                out[id(handler)] = handler
    return list(out.values())


@contextlib.contextmanager
def _database_unblocked() -> Iterator[None]:
    """pytest-django blocks database access outside tests marked for it; the command's
    database is its own, so access is allowed for the call (and blocked again after)."""
    if DB_BLOCKER is None:
        yield
        return
    with DB_BLOCKER.unblock():
        yield


class _DjangoState:
    """Django as a fresh process has it until the command sets it up, then configured
    from the command's environment; ``close`` puts back what this process had."""

    def __init__(self) -> None:
        import django
        from django.db import connections
        from django.utils import timezone
        from django.utils.translation import trans_real

        from brankas import instance

        self.instance = instance
        self.saved_migrate = instance.migrate
        from brankas.instance import recovering

        self.recovering = recovering
        self.saved_is_set_up = recovering._django_is_set_up
        self.django = django
        self.connections = connections
        self.saved_start = instance.start
        self.saved_setup = django.setup
        self.saved_conn_settings = connections.__dict__.get("settings")
        self.saved_conn_raw = connections._settings
        self.saved_conn_local = connections._connections
        self.saved_language = getattr(trans_real._active, "value", None)
        self.saved_timezone = getattr(timezone._active, "value", None)
        self.override: Any = None
        self.closed = False

    def start(self) -> None:
        from django.utils import timezone, translation

        self.instance.start = self.instance_start  # type: ignore[assignment]
        self.instance.migrate = self.migrate  # type: ignore[assignment]
        # ``brankas recover`` builds its instance in a process whose Django is not set up
        # yet (recovering.recover_into refuses another): so is the command's until it sets
        # Django up itself.
        self.recovering._django_is_set_up = (  # type: ignore[attr-defined]
            lambda: self.override is not None)
        self.django.setup = self.setup  # type: ignore[assignment]
        translation.deactivate()
        timezone.deactivate()
        self._use_databases({})  # no database until the command sets Django up

    def instance_start(self, *, queue: bool = True, web: bool = True) -> Any:
        """``brankas.instance.start`` as in a fresh process: the home of the command's
        environment prepared (before the settings read its secret), then Django set up
        from that environment. ``queue`` and ``web`` are the fresh process's choice of the
        job queue's and the web-only apps; in this process they stay installed (the test
        settings have every app: the start-up without them is proven by real processes,
        test_startup_imports)."""
        from django.conf import settings

        if self.override is not None:  # set up already in this command: prepare only
            return self.instance.prepare(settings.BRANKAS)
        self.instance.prepare()
        self.setup()
        return settings.BRANKAS

    def migrate(self, database: str = "default") -> None:
        """``brankas.instance.migrate`` for the command: a new SQLite database gets the
        tables of a migrated one first (``_MigratedTemplate``), then the real migrate runs
        (another connection, migrate-db's target: the real migrate alone, unless the test
        asked for the template there too: ``migrate_db_targets_from_template``)."""
        from django.db import connections

        connection = connections[database]
        fresh = ((database == "default" or _TARGETS_FROM_TEMPLATE[0])
                 and connection.vendor == "sqlite" and _MIGRATED.is_empty(connection))
        if fresh:
            _MIGRATED.copy_into(connection)
        self.saved_migrate(database)
        if fresh:
            _MIGRATED.keep(connection)

    def setup(self, set_prefix: bool = True) -> None:
        """``django.setup()`` as the command calls it: the settings of its environment."""
        from django.conf import settings
        from django.test.utils import override_settings

        fresh = _settings_from_environment()
        missing = object()
        changed = {k: v for k, v in fresh.items() if getattr(settings, k, missing) != v}
        for name in ("INSTALLED_APPS", "MIDDLEWARE", "TEMPLATES"):
            if name in changed:
                raise RuntimeError(f"in-process CLI: {name} differs from the test settings")
        self.override = override_settings(**changed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Overriding setting DATABASES can lead to ..."
            self.override.enable()
        self._use_databases(copy.deepcopy(fresh["DATABASES"]))

    def _use_databases(self, databases: dict[str, Any]) -> None:
        from asgiref.local import Local

        self._close_command_connections()
        c = self.connections
        c._settings = databases
        c.__dict__.pop("settings", None)
        c._connections = Local(c.thread_critical)

    def _close_command_connections(self) -> None:
        c = self.connections
        if c._connections is self.saved_conn_local:
            return
        for conn in c.all(initialized_only=True):
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone
        from django.utils.translation import trans_real

        c = self.connections
        try:
            self._close_command_connections()
        finally:
            c._connections = self.saved_conn_local
            c._settings = self.saved_conn_raw
            c.__dict__.pop("settings", None)
            if self.saved_conn_settings is not None:
                c.__dict__["settings"] = self.saved_conn_settings
            if self.override is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.override.disable()
            ContentType.objects.clear_cache()  # ids read from the command's database
            self.django.setup = self.saved_setup  # type: ignore[method-assign]
            self.instance.start = self.saved_start  # type: ignore[method-assign]
            self.instance.migrate = self.saved_migrate  # type: ignore[method-assign]
            self.recovering._django_is_set_up = self.saved_is_set_up  # type: ignore[attr-defined]
            if self.saved_language is None:
                trans_real.deactivate()
            else:
                trans_real._active.value = self.saved_language
            if self.saved_timezone is None:
                timezone.deactivate()
            else:
                timezone._active.value = self.saved_timezone


class _MigratedTemplate:
    """The tables of the first new SQLite database a command migrated in this process (its
    ``django_migrations`` rows, content types and permissions included), kept in memory.
    A database made by the same migrations, so copying it gives the same tables and rows
    as migrating does (the data migrations have nothing to do in a new, empty database)."""

    def __init__(self) -> None:
        self.database: Any = None  # an in-memory sqlite3 connection, once one is migrated

    @staticmethod
    def is_empty(connection: Any) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master")
            return bool(cursor.fetchone()[0] == 0)

    def copy_into(self, connection: Any) -> None:
        if self.database is None:
            self.database = self._from_file()
        if self.database is not None:
            connection.ensure_connection()
            self.database.backup(connection.connection)
            import sqlite3

            # As migrating makes it: a change counter's epoch of its own (web/changes.py:
            # a database rebuilt under the same name never answers with another's figure).
            with contextlib.suppress(sqlite3.OperationalError):  # no such table: not made
                connection.connection.execute(
                    "UPDATE brankas_changes SET epoch = lower(hex(randomblob(16)))")
                connection.connection.commit()

    @staticmethod
    def _from_file() -> Any:
        """The migrated test database an earlier pytest process left in the temporary
        folder (tests/conftest.py ``_MigratedFile``: made by the same migrations), when
        there is one: a command run before any test of this process set up pytest-django's
        database (a session fixture's ``brankas init``) copies it instead of migrating
        (about 3 CPU-s)."""
        path = MIGRATED_FILE() if MIGRATED_FILE is not None else None
        if path is None or not path.is_file():
            return None
        import sqlite3

        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            database = sqlite3.connect(":memory:", check_same_thread=False)
            source.backup(database)
        finally:
            source.close()
        return database

    def keep(self, connection: Any) -> None:
        if self.database is None:
            import sqlite3

            connection.ensure_connection()
            database = sqlite3.connect(":memory:", check_same_thread=False)
            connection.connection.backup(database)
            self.database = database

    def write(self, path: Any) -> Any:
        """The tables in the SQLite file ``path`` (for another process: a server, a
        rebuild); ``path``, or None when no command has migrated one in this process."""
        if self.database is None:
            return None
        import sqlite3

        target = sqlite3.connect(path)
        try:
            self.database.backup(target)
        finally:
            target.close()
        return path


_MIGRATED = _MigratedTemplate()
_TARGETS_FROM_TEMPLATE = [False]


@contextlib.contextmanager
def migrate_db_targets_from_template() -> Iterator[None]:
    """While it lasts, an in-process command's new SQLite database on another connection
    (``migrate-db``'s target) is given the migrated tables as ``default``'s is, before its
    real migrate (which then finds nothing to apply): for a test about what migrate-db
    copies, not about migrating (about 1.5 CPU-s of migrations a target). The real migrate
    of an empty SQLite target: tests/cli/test_migrate_db.py (slow) and the PostgreSQL
    targets; the template is the database migrate makes (test_clirun.py)."""
    _TARGETS_FROM_TEMPLATE[0] = True
    try:
        yield
    finally:
        _TARGETS_FROM_TEMPLATE[0] = False
# The path of the migrated test database kept between runs, or None (set by
# tests/conftest.py: ``_MigratedFile.path``).
MIGRATED_FILE: Callable[[], Any] | None = None


@contextlib.contextmanager
def _django_unset() -> Iterator[_DjangoState]:
    state = _DjangoState()
    try:
        state.start()
        yield state
    finally:
        state.close()


def _settings_from_environment() -> dict[str, Any]:
    """Every setting the settings module gives when executed now (with the command's
    environment), as a fresh process imports it."""
    name = os.environ.get("DJANGO_SETTINGS_MODULE") or SETTINGS_MODULE
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {k: getattr(module, k) for k in dir(module) if k.isupper()}
