"""A PostgreSQL role that may not create the ``pg_trgm`` extension (its database belongs to
someone else, docs/server.md "Tuning"): ``brankas init`` (and ``serve``, which migrates the
same way) says so in both languages and what to do, instead of a traceback; once the
database's administrator has created the extension, the same role sets the office up."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import pg
from tests.conftest import cli

pytestmark = pytest.mark.postgres


def _database_not_owned(password: str) -> tuple[str, str]:
    """A database owned by the superuser where a new role may create tables (public schema)
    but not extensions; (the superuser's URL of it, the role's URL of it)."""
    import psycopg

    server = pg.server_url()
    role = f"r_{uuid.uuid4().hex[:8]}"
    name = pg.empty_database("trgm")
    admin_url = pg.with_database(server, urlsplit(name).path.lstrip("/"))
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(f"GRANT ALL ON SCHEMA public TO {role}")
    parts = urlsplit(admin_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return admin_url, urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))


def _init(tmp_path: Path, url: str, tag: str):  # type: ignore[no-untyped-def]
    """``brankas init`` on ``url``, in this process (tests/clirun.py: a PostgreSQL database
    is migrated for real; ``init`` as a process: tests/cli/test_process_smoke.py)."""
    password = tmp_path / "admin.pw"
    password.write_text("Adm1n-Pass-Kuat-2026!x\n")
    return cli(tmp_path / f"home-{tag}", tmp_path, "init", "--office", "Dinas Uji",
               "--admin", "admin", "--password-file", str(password),
               env={"BRANKAS_DATABASE_URL": url})


def test_a_role_that_may_not_create_pg_trgm_is_told_what_to_do(tmp_path: Path) -> None:
    import psycopg

    admin_url, role_url = _database_not_owned("role-pw-1")
    r = _init(tmp_path, role_url, "refused")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "pg_trgm" in r.stderr and "CREATE EXTENSION pg_trgm" in r.stderr, r.stderr
    assert r.stderr.startswith("brankas: ") and "may not create" in r.stderr, r.stderr

    with psycopg.connect(admin_url, autocommit=True) as con:  # the administrator does it
        con.execute("CREATE EXTENSION pg_trgm")
    r = _init(tmp_path, role_url, "allowed")
    assert r.returncode == 0, r.stdout + r.stderr
    with psycopg.connect(admin_url, autocommit=True) as con:
        indexes = {row[0] for row in con.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")}
    assert "documents_document_subject_trgm" in indexes
