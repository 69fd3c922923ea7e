"""The backed-up CLI office of tests/backup (a private copy per test)."""

from tests.backup.conftest import office  # noqa: F401
