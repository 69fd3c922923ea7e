"""Quick rebuilds for the tests of recovering and drilling: the rebuild's process (started
by the product, ``python -m brankas.instance recover``) gives its new database the tables
the test process migrated instead of migrating it from nothing
(``tests/web/quick_rebuild/sitecustomize.py``). Everything else of the rebuild is as it is:
the disk read and checked, the keys opened, the register and the archive written, the
instance put in place."""

from __future__ import annotations

import os
from pathlib import Path

SITE = Path(__file__).resolve().parent / "quick_rebuild"
TEMPLATE = "QUICK_REBUILD_MIGRATED"


def quick_rebuild_env(folder: Path) -> dict[str, str]:
    """The environment a process needs for quick rebuilds in the processes it starts (its
    ``PYTHONPATH`` with ``SITE`` first; the migrated tables in a file under ``folder``), or
    nothing when this process has migrated no test database."""
    from tests import clirun

    if clirun._MIGRATED.database is None:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "migrated.sqlite3"
    if not path.exists():
        clirun._MIGRATED.write(path)
    paths = [str(SITE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(paths), TEMPLATE: str(path)}
