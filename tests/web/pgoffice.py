"""The ``office`` fixture on PostgreSQL, built once for a module (import both fixtures into
a module whose ``_on_postgresql`` puts it on its own database, tests/conftest.py
``pg_database``, and whose tests use ``db``).

The ``office`` fixture makes the office through the services each time on PostgreSQL
(the copy laid down on SQLite, ``_OfficeCopy``, reads SQLite's row ids): about 50 ms of
CPU a test here. ``office_once`` makes it once, in a transaction that lasts the module;
each test takes its copy (its folder copied to ``tmp_path/home``, as the ``office``
fixture's; its records instances of its own, tests/conftest.py ``_records``) in the
savepoint of pytest-django's ``db``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import OfficeTemplate, office_once


@pytest.fixture(scope="module")
def pg_office(_on_postgresql: None, django_db_blocker: Any,
              tmp_path_factory: Any) -> Iterator[OfficeTemplate]:
    with office_once(django_db_blocker, tmp_path_factory) as template:
        yield template


@pytest.fixture
def office(pg_office: OfficeTemplate, db: None, settings: Any,
           tmp_path: Path) -> SimpleNamespace:
    return pg_office.copy_for(settings, tmp_path)
