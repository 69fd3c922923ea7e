"""The life of an instance: its data folder, and the Django process that works on it.

Vocabulary:

- **home**: the data folder (``BRANKAS_HOME``): the database, the four folders, the keys'
  files, ``tmp/`` and the instance secret (``config/secret_key``).
- **prepare**: make a home usable by a process: its fixed folders (private to the
  owner), an empty SQLite file of the right mode, the instance secret. Idempotent.
  Importing the settings never does this (they only read); every entry point does,
  before Django reads the settings: the ``brankas`` command (``start``), ``web/wsgi.py``,
  ``python -m brankas.instance manage`` and the test harness.
- **start**: prepare the home, then set Django up on it (once per process).
- **initialise** (``brankas init``): a new office in the home: tightened, migrated, the
  first admin, the office recovery key and signing key.
- **upgrade** (``brankas serve``, before serving): an existing home brought to this
  version: tightened, migrated, laid out, old exempted names renamed, stale staging
  files swept.
- **recover into** (``brankas recover``, the drill): a new instance rebuilt from a backup
  disk, built beside its final folder and renamed into place when complete; on any
  failure nothing is left (``recovering``). It needs a Django process of its own, set up
  on the new home: the drill runs it as a child process, ``python -m brankas.instance
  recover`` (never the ``brankas`` command).
- **recover in place** (the first-run page of a served instance not set up yet): the same
  rebuild in a child process beside the data folder, then put in place of the served,
  empty home without a restart (``recover_in_place``; docs/architecture.md).

This package is the one home of these steps: the command line and the web's services
call it; it never imports the command line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from brankas.core import config, fsutil, startup
from brankas.core.config import Settings

if TYPE_CHECKING:
    from brankas.web.accounts.services import InitResult

SETTINGS_MODULE = "brankas.web.settings"


def prepare(settings: Settings | None = None) -> Settings:
    """Make the home of ``settings`` (by default the one ``BRANKAS_*`` names) ready for a
    process: folders, the empty database file, the instance secret. Returns the settings."""
    settings = settings or config.load()
    config.ensure_home(settings)
    config.secret_key(settings)
    return settings


# The job queue's apps (django-tasks and its database backend, issue 15 B). Importing them
# costs a fifth of a command's start (django-tasks monkeypatches Django's classes for
# mypy, importing the admin, feeds, sitemaps...), so a process that neither queues, runs
# nor migrates jobs (most commands) sets Django up without them: ``start(queue=False)``.
# Our own job records (``brankas.web.jobs``) are always installed.
QUEUE_APPS = ("django_tasks", "django_tasks_db")
_queue = True

# The apps only web pages use (issue 15, CLI start-up): flash messages, static files and
# the Content Security Policy header. None has a model or a migration, and no command
# renders a template, so a command's process (``start(web=False)``) is set up without
# them, and without Django's default logging (whose e-mail handler, a no-op without
# ``ADMINS``, imports the debug views and the template engine): ``web_logging``.
WEB_APPS = ("django.contrib.messages", "django.contrib.staticfiles", "csp")
_web = True


def queue_wanted() -> bool:
    """Whether the settings list the job queue's apps (read by ``brankas.web.settings``)."""
    return _queue


def web_wanted() -> bool:
    """Whether the settings list the web-only apps and Django's default logging (read by
    ``brankas.web.settings``)."""
    return _web


def start(*, queue: bool = True, web: bool = True) -> Settings:
    """Prepare the home and set Django up on it; returns the settings Django uses. In a
    process whose Django is already set up (a test, a WSGI server), its home is prepared.
    ``queue=False``: without the job queue's apps (a command that does not need them;
    such a process cannot migrate). ``web=False``: without the web-only apps and with
    the command line's logging (a command that serves no page)."""
    global _queue, _web
    import django
    from django.apps import apps
    from django.conf import settings

    if not settings.configured:
        _queue, _web = queue, web
        prepare()  # before the settings are read: they read the secret this makes
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
        with startup.collector_paused():
            django.setup()
            if not web:
                command_logging(settings.LOGGING)
        return settings.BRANKAS  # type: ignore[no-any-return]
    if not apps.ready:
        django.setup()
    return prepare(settings.BRANKAS)


def command_logging(extra: dict[str, object]) -> None:
    """A command's logging (``LOGGING_CONFIG = None`` in its settings): Django's default
    (``django.utils.log.DEFAULT_LOGGING``: the ``django`` logger's records on the console
    when ``DEBUG``) but the handler that mails errors to ``ADMINS`` (Brankas sets none,
    so it never sends) and ``runserver``'s, then the settings' ``LOGGING``, as Django's
    ``configure_logging`` does."""
    import logging
    import logging.config

    logging.captureWarnings(True)
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"require_debug_true": {"()": "django.utils.log.RequireDebugTrue"}},
        "handlers": {"console": {"level": "INFO", "filters": ["require_debug_true"],
                                 "class": "logging.StreamHandler"}},
        "loggers": {"django": {"handlers": ["console"], "level": "INFO"}},
    })
    if extra:
        logging.config.dictConfig(extra)


def secure(settings: Settings) -> int:
    """Prepare the home and tighten what is already in it (folders 0700, files 0600);
    returns how many files and folders were tightened."""
    prepare(settings)
    return len(fsutil.tighten(settings.home))


def migrate(database: str = "default") -> None:
    """Migrate the instance's database (or the connection ``database``: migrate-db's target)."""
    from django.apps import apps
    from django.core.management import call_command

    missing = [app for app in QUEUE_APPS if not apps.is_installed(app)]
    if missing:  # a schema without the queue's tables: a programming error, never silent
        raise RuntimeError(f"migrate needs the job queue's apps ({', '.join(missing)}): "
                           "this process was set up with start(queue=False)")
    call_command("migrate", database=database, verbosity=0, interactive=False)


def migrations_pending(database: str = "default") -> bool:
    """Whether the database lacks a migration of the apps this process installed (an
    older Brankas made it and no ``serve`` or ``worker`` has migrated it since)."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[database])
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except Exception:  # noqa: BLE001 - no answer is no claim: the caller's error stands
        return False


@dataclass(frozen=True)
class Initialised:
    home: Path
    result: InitResult  # the office, the first admin, the recovery identity (shown once)
    office_key_fingerprint: str
    tightened: int


def initialise(*, office_name: str, admin_username: str, admin_password: str,
               admin_full_name: str = "",
               on_tightened: Callable[[int], None] | None = None) -> Initialised:
    """A new office in the home: the folder made private (an existing one tightened:
    ``on_tightened`` hears how many entries, before anything else can fail), the database
    migrated, the first admin and the office's keys."""
    settings = start()
    tightened = secure(settings)
    if on_tightened is not None:
        on_tightened(tightened)
    migrate()
    from brankas.web.accounts.services import office_initialize
    from brankas.web.keys.services import office_key

    result = office_initialize(office_name=office_name, admin_username=admin_username,
                               admin_password=admin_password, admin_full_name=admin_full_name)
    return Initialised(home=settings.home, result=result,
                       office_key_fingerprint=office_key().fingerprint, tightened=tightened)


@dataclass(frozen=True)
class Upgraded:
    home: Path
    renamed: list[str]  # what the renaming of exempted files reports, one line each


def upgrade() -> Upgraded:
    """An existing home brought to this version before it is served: tightened, migrated,
    the four folders laid out, exempted files still named with their subject renamed (an
    instance rebuilt from an older disk; a no-op once done), stale staging files swept."""
    from brankas.core.register import store

    settings = start()
    secure(settings)
    migrate()
    store.create_layout(settings)
    lines = rename_exempted(settings.home)
    store.sweep_staging(settings)
    return Upgraded(home=settings.home, renamed=lines)


def rename_exempted(home: Path) -> list[str]:
    """Exempted files still named with their subject (an instance rebuilt from a disk
    written before the rule, or a migration run against another data folder) are renamed
    as the migration does; a no-op when there are none."""
    from brankas.web.documents.models import Document
    from brankas.web.documents.renames import documents_rename, letters_rename
    from brankas.web.sendrequests.models import SendRequest

    lines: list[str] = []
    for what, summary in (
        ("arsip dikecualikan / exempted archive",
         documents_rename(home=home, document_model=Document)),
        ("surat permintaan / request letters",
         letters_rename(home=home, request_model=SendRequest)),
    ):
        lines += summary.lines(what)
    return lines


# The recover half of the service (``recovering``) is imported when first asked for: every
# command starts here, and the recovery's imports (the disk reader, age) are not its cost.
_RECOVERING = {
    "PROGRESS_PREFIX", "OffsiteSource", "RecoverSource", "Switched", "check_target", "recover",
    "recover_in_child", "recover_in_place", "recover_into", "recover_source", "tie_to_parent",
}

if TYPE_CHECKING:
    from brankas.instance.recovering import (  # noqa: F401
        PROGRESS_PREFIX,
        OffsiteSource,
        RecoverSource,
        Switched,
        check_target,
        recover,
        recover_in_child,
        recover_in_place,
        recover_into,
        recover_source,
        tie_to_parent,
    )


def __getattr__(name: str) -> object:
    if name in _RECOVERING:
        from brankas.instance import recovering

        return getattr(recovering, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PROGRESS_PREFIX", "QUEUE_APPS", "SETTINGS_MODULE", "WEB_APPS", "Initialised",
    "OffsiteSource",
    "RecoverSource", "Switched", "Upgraded", "check_target", "initialise", "migrate",
    "prepare", "recover",
    "queue_wanted", "recover_in_child", "recover_in_place", "recover_into",
    "recover_source", "rename_exempted", "secure", "start", "tie_to_parent", "upgrade",
    "web_wanted", "command_logging",
]
