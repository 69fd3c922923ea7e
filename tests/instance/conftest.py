"""The backed-up CLI office of tests/cli/backup (a private copy per test)."""

from tests.cli.backup.conftest import office  # noqa: F401
