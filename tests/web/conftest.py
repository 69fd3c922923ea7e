"""Fixtures for the web tests' modules (tests/web/ui/conftest.py has the pages' own)."""

from __future__ import annotations

import pytest


@pytest.fixture
def quick_rebuilds(django_db_setup, monkeypatch, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The rebuilds the test starts (a recover's, a drill's: ``python -m brankas.instance
    recover``) give their new database the tables this process migrated rather than
    migrating it from nothing (tests/web/rebuilds.py); the rest of each rebuild is real."""
    from tests.web.rebuilds import quick_rebuild_env

    for name, value in quick_rebuild_env(tmp_path_factory.getbasetemp() / "rebuild").items():
        monkeypatch.setenv(name, value)
