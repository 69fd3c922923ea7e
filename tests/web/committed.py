"""An office built once for a test module with its records committed, for the tests on
``transactional_db`` (the jobs' worker reads the records on its own connection), which
``office_once`` (tests/conftest.py: a transaction rolled back at the module's end) cannot
serve.

``committed_office`` builds the ``office`` fixture's office in a folder of the module
(``base/home``), then ``extend(office, base)`` (what the module adds: documents, a backup
disk beside the data folder), runs the jobs that queued (a registration's text job) with
the worker the page tests embed, and keeps the database as it then is (SQLite's backup API,
in memory) and a copy of ``base``. Each test of the module then takes ``restore``: the
folder ``base`` laid down again at the same place (the records name its paths) and the
database put back as it was kept, a few milliseconds instead of registering and backing up
again (and starting a text reader process) for every test. The database goes back to the
migrated one once the template is taken, so the tests before and after the module's find
it as ever; each test's ``transactional_db`` lays the migrated database down after it.

SQLite only (the test database of tests/conftest.py, ``_MigratedTestDatabase``)."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any


@dataclasses.dataclass
class CommittedOffice:
    base: Path  # base/home is the data folder; the module's other folders beside it
    saved: Path  # a copy of base as the template left it
    database: Any  # sqlite3 connection (in memory): the test database as the template left it
    recovery_identity: str
    user_ids: dict[str, int]
    key_ids: dict[str, int]
    office_id: int
    extra: dict[str, Any]

    def restore(self, settings: Any) -> SimpleNamespace:
        """This test's office (``transactional_db`` set up): the folder and the database as
        the template left them; settings.BRANKAS names ``base/home``."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        from brankas.web import changes
        from brankas.web.accounts.models import Office, User
        from brankas.web.keys.models import HolderKey
        from tests.conftest import MD5_HASHERS

        assert not connection.in_atomic_block, "a committed office needs transactional_db"
        for entry in list(self.base.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(self.saved, self.base, symlinks=True, dirs_exist_ok=True)
        connection.ensure_connection()
        self.database.backup(connection.connection)
        ContentType.objects.clear_cache()
        changes._cached.clear()  # figures of another test's writes under the same stamps
        settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=self.base / "home")
        settings.PASSWORD_HASHERS = MD5_HASHERS
        users = User.objects.in_bulk(list(self.user_ids.values()))
        keys = HolderKey.objects.in_bulk(list(self.key_ids.values()))
        return SimpleNamespace(
            home=self.base / "home",
            users={name: users[pk] for name, pk in self.user_ids.items()},
            keys={name: keys[pk] for name, pk in self.key_ids.items()},
            recovery_identity=self.recovery_identity,
            office=Office.objects.get(pk=self.office_id),
        )


@contextlib.contextmanager
def committed_office(django_db_blocker: Any, tmp_path_factory: Any,
                     extend: Callable[[SimpleNamespace, Path], dict[str, Any]],
                     ) -> Iterator[CommittedOffice]:
    """For a module-scoped fixture (set up before the test's ``transactional_db``): the
    template described in this module's docstring."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings

    from brankas.core.config import ensure_home
    from brankas.web import changes
    from brankas.web.jobs.worker import EmbeddedWorker
    from tests.conftest import _MIGRATED_DB, MD5_HASHERS, build_office
    from tests.web.ui.conftest import wait_for_jobs

    base = tmp_path_factory.mktemp("committed-office")
    saved = base.with_name(base.name + "-saved")
    home = base / "home"
    override = override_settings(BRANKAS=dataclasses.replace(settings.BRANKAS, home=home),
                                 PASSWORD_HASHERS=MD5_HASHERS)
    override.enable()
    try:
        with django_db_blocker.unblock():
            assert connection.vendor == "sqlite" and _MIGRATED_DB.snapshot is not None
            ensure_home(settings.BRANKAS)
            try:
                worker = EmbeddedWorker(interval=3600).start()  # woken by the jobs queued
                try:
                    made = build_office(home)
                    extra = extend(made, base)
                    wait_for_jobs()
                finally:
                    worker.stop(60)
                connection.ensure_connection()
                database = sqlite3.connect(":memory:", check_same_thread=False)
                connection.connection.backup(database)
                shutil.copytree(base, saved, symlinks=True)
            finally:  # even when the build failed: the database as the next tests find it
                _MIGRATED_DB.restore()
                changes._cached.clear()
            template = CommittedOffice(
                base=base, saved=saved, database=database,
                recovery_identity=made.recovery_identity,
                user_ids={name: u.pk for name, u in made.users.items()},
                key_ids={name: k.pk for name, k in made.keys.items()},
                office_id=made.office.pk, extra=extra)
    finally:
        override.disable()
    try:
        yield template
    finally:
        database.close()
