"""The backed-up CLI office of tests/cli/backup (a private copy per test), and its quick
rebuilds."""

from tests.cli.backup.conftest import office, quick_rebuilds  # noqa: F401
