"""PostgreSQL for the tests: databases made on the server ``BRANKAS_TEST_PG_URL`` names.

``make test`` starts a throw-away cluster (scripts/pgcluster.py) and sets the URL, and
``BRANKAS_TEST_PG_REQUIRED=1``: a test marked ``postgres`` then FAILS when the URL is
missing. Elsewhere (``make test-fast``, a bare ``pytest``) those tests are skipped, saying
why; set the URL (``python scripts/pgcluster.py run -- pytest ...``) to run them.

Databases: the migrations run once per server into a template database (named after a
digest of the migration files, made under an advisory lock so that pytest-xdist's workers
make it once between them); every module (or test) that asks gets its own database,
``CREATE DATABASE ... TEMPLATE`` (a file copy: milliseconds), dropped at the session's end.

- ``new_database(label)``: a fresh migrated database, its URL (for CLI processes:
  ``BRANKAS_DATABASE_URL``);
- ``use_database(url)``: while it lasts, this process's Django ``default`` connection is
  that database (the ``office`` fixture, the services, the web client all use it);
- ``BOTH``: parameters for a module-scoped ``database`` fixture running a module on
  SQLite and on PostgreSQL (tests/conftest.py ``database``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

URL_ENV = "BRANKAS_TEST_PG_URL"
REQUIRED_ENV = "BRANKAS_TEST_PG_REQUIRED"
# Set by scripts/pgcluster.py ``run --early``: a file saying when the cluster is up.
READY_ENV = "BRANKAS_TEST_PG_READY"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
BOTH = [pytest.param(SQLITE, id="sqlite"),
        pytest.param(POSTGRESQL, id="postgresql", marks=pytest.mark.postgres)]

_MIGRATIONS = Path(__file__).resolve().parent.parent / "src" / "brankas"
_made: list[str] = []
_template: str | None = None
# Advisory lock key for making the template (any constant shared by the workers).
_TEMPLATE_LOCK = 0x6272616E  # "bran"


def server_url() -> str:
    """The server's superuser URL; fails (under make test) or skips the test without it.
    Under ``pgcluster.py run --early`` (make test: the tests start while the cluster is
    made), it first waits until the cluster is up (``READY_ENV``)."""
    url = os.environ.get(URL_ENV)
    if url:
        _wait_until_ready()
        return url
    message = (f"PostgreSQL tests need {URL_ENV} (make test starts a throw-away cluster: "
               "scripts/pgcluster.py)")
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(message + "; it is missing under make test", pytrace=False)
    pytest.skip(message)


_ready: list[bool] = [False]


def _wait_until_ready(timeout: float = 300.0) -> None:
    """The file ``READY_ENV`` names (scripts/pgcluster.py ``run --early``) says ``ready``:
    returns (at once when it is not set); says ``error: ...``: the test fails with it."""
    path = os.environ.get(READY_ENV)
    if not path or _ready[0]:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            said = Path(path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            said = ""
        if said == "ready":
            _ready[0] = True
            return
        if said:
            pytest.fail(f"the PostgreSQL cluster for the tests did not start: {said}",
                        pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"the PostgreSQL cluster for the tests was not up after {timeout:.0f} s "
                        f"({path} says nothing)", pytrace=False)
        time.sleep(0.02)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _migrations_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(_MIGRATIONS.rglob("migrations/*.py")):
        h.update(str(path.relative_to(_MIGRATIONS)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _migrate(url: str) -> None:
    """Migrate the database ``url`` as an instance does (a process of its own: this
    process's Django is set up on the test database)."""
    with tempfile.TemporaryDirectory(prefix="brankas-pg-tpl-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
        env.update(BRANKAS_HOME=home, BRANKAS_DATABASE_URL=url, BRANKAS_LANG="en")
        code = "from brankas import instance; instance.start(); instance.migrate()"
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300,
                       stdin=subprocess.DEVNULL)


def template() -> str:
    """The name of the migrated template database (made once per server and migrations)."""
    global _template
    if _template is not None:
        return _template
    url = server_url()
    name = f"brankas_tpl_{_migrations_digest()}"
    with _connect(url) as con:
        con.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATE_LOCK,))
        try:
            exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 (name,)).fetchone()
            if not exists:
                building = f"{name}_building_{uuid.uuid4().hex[:8]}"
                con.execute(f'CREATE DATABASE "{building}"')
                _migrate(with_database(url, building))
                # Published whole by the rename: a worker never clones a half-made one.
                con.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                con.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
        finally:
            con.execute("SELECT pg_advisory_unlock(%s)", (_TEMPLATE_LOCK,))
    _template = name
    return name


def new_database(label: str = "t") -> str:
    """A fresh, migrated, empty database of its own; its URL."""
    url = server_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    safe = "".join(c if c.isalnum() else "_" for c in label.lower())[:24]
    name = f"t_{worker}_{safe}_{uuid.uuid4().hex[:8]}"
    tpl = template()
    with _connect(url) as con:
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
    _made.append(name)
    return with_database(url, name)


def empty_database(label: str = "e") -> str:
    """A database with no table at all (``migrate-db`` and ``recover`` migrate it)."""
    url = server_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"e_{worker}_{label}_{uuid.uuid4().hex[:8]}"
    with _connect(url) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    _made.append(name)
    return with_database(url, name)


def drop_made() -> None:
    """Drop the databases this process made (the session's end)."""
    url = os.environ.get(URL_ENV)
    if not url or not _made:
        return
    with contextlib.suppress(Exception), _connect(url) as con:
        while _made:
            con.execute(f'DROP DATABASE IF EXISTS "{_made.pop()}" WITH (FORCE)')


@contextlib.contextmanager
def use_database(url: str) -> Iterator[None]:
    """While it lasts, Django's ``default`` connection in this process is the database
    ``url`` (settings.DATABASES is connections.settings: both see it)."""
    import dj_database_url
    from django.db import connections

    fresh = connections.configure_settings({"default": dict(dj_database_url.parse(url))})
    saved = connections.settings["default"]
    connections["default"].close()
    del connections["default"]
    connections.settings["default"] = fresh["default"]
    try:
        yield
    finally:
        connections["default"].close()
        del connections["default"]
        connections.settings["default"] = saved


def vendor() -> str:
    from django.db import connection

    return str(connection.vendor)
