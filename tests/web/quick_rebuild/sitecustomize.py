"""Run at the start of every Python process whose ``PYTHONPATH`` holds this folder (Python's
``site`` imports the first ``sitecustomize`` it finds): the processes a test starts while it
asks for quick rebuilds (``tests/web/rebuilds.py``), among them the rebuild of a recover or
a drill (``python -m brankas.instance recover``, a process the product starts itself).

When ``QUICK_REBUILD_MIGRATED`` names a migrated SQLite database (the tables the test
process migrated), a new, empty SQLite database is first given those tables, then
``brankas.instance.migrate`` runs as always and finds nothing left to apply: the same
database as migrating gives (tests/test_clirun.py
``test_a_new_database_copied_from_the_migrated_one_is_the_database_migrate_makes``), in
milliseconds instead of the 2–3 CPU-s of a new database's migrations in each rebuild. The
same shortcut as the browser tests' servers (tests/browser/quick_serve.py)."""

import os

_TEMPLATE = os.environ.get("QUICK_REBUILD_MIGRATED")

if _TEMPLATE:
    try:
        from brankas import instance
    except ImportError:  # not a Brankas process (a tool the test runs): nothing to do
        instance = None  # type: ignore[assignment]
    if instance is not None:
        from quick_template import from_template  # beside this file, on PYTHONPATH

        instance.migrate = from_template(_TEMPLATE, instance.migrate)  # type: ignore[assignment]
