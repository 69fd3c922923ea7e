"""web/databases.py without a PostgreSQL server: what migrate-db shows of a target URL,
and a refused target left as it was."""

from __future__ import annotations

import pytest

from brankas.web.databases import shown_url

SECRET = "s3cr3t-Kata-Sandi"


@pytest.mark.parametrize("url", [
    f"postgresql://brankas:{SECRET}@db.kantor:5432/brankas",
    f"postgresql://brankas@db.kantor/brankas?password={SECRET}",
    f"postgresql://brankas@db.kantor/brankas?sslmode=require&password={SECRET}&x=1",
    f"postgresql://brankas@db.kantor/brankas?sslpassword={SECRET}",
    f"postgres://brankas:{SECRET}@db.kantor/brankas?password={SECRET}",
    f"postgresql://brankas:{SECRET.replace('-', '%40')}@db.kantor/brankas",
])
def test_a_password_is_never_shown(url: str) -> None:
    shown = shown_url(url)
    assert SECRET not in shown and SECRET.replace("-", "%40") not in shown
    assert "db.kantor" in shown and "***" in shown


def test_a_url_without_a_password_is_shown_as_it_is() -> None:
    url = "postgresql://brankas@db.kantor:5432/brankas?sslmode=require"
    assert shown_url(url) == url
    assert shown_url("sqlite:////srv/brankas/brankas.sqlite3") == (
        "sqlite:////srv/brankas/brankas.sqlite3")
