"""The backed-up CLI office of tests/cli/backup (a private copy per test)."""

import pytest

from tests.cli.backup.conftest import office  # noqa: F401


@pytest.fixture
def quick_rebuilds(cli_office_template, monkeypatch, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The rebuilds the test starts (``python -m brankas.instance recover``, its own or a
    drill's) give their new database the tables this process migrated rather than
    migrating it from nothing (tests/web/rebuilds.py); the rest of each rebuild is real.
    A new database migrated from nothing in a process: tests/cli/test_process_smoke.py
    (``init``, ``recover``). (``cli_office_template``: its ``init``, in this process, is
    the migration whose tables are given.)"""
    from tests.web.rebuilds import quick_rebuild_env

    for name, value in quick_rebuild_env(tmp_path_factory.getbasetemp() / "rebuild").items():
        monkeypatch.setenv(name, value)
