"""Whether a table has changed since a figure was computed from it: a change stamp read in
O(1), so an aggregate over a large table (the dashboard's backup status reads every backup
copy: 400,000 rows for 100,000 documents on four disks) is computed once per change
instead of once per page.

The stamp of a table is kept by the database itself, whoever writes (the web, a worker, the
CLI, a recover, raw SQL), in a small table that is not a Django model (so neither the
backup snapshot nor ``migrate-db`` copy it: each database keeps its own):

- PostgreSQL: a statement-level trigger after INSERT, UPDATE, DELETE and TRUNCATE adds one
  to the table's counter, inside the writing transaction. A reader sees the counter and the
  rows of the same commits; concurrent writers hold the counter row only until they commit.
- SQLite: writers are serialised and the table's ids never go back (``AUTOINCREMENT``), so
  an insert is seen as a higher ``MAX(id)`` (one seek) and costs nothing more; a row trigger
  counts only DELETEs and UPDATEs (rare: a rewrap moving a document's copies, a disk
  removed). This assumes rows are added with new ids, as Django does; the writers that
  give explicit ids (``recover``, ``migrate-db``) fill a new database, whose ``epoch``
  differs.

``epoch`` is a random token written when the table is made: a database rebuilt under the
same name never answers with another database's figure. A database put back from a dump
(``pg_restore --clean``, docs/server.md) has its counters as they were, epoch included, and
counts on from there to values it had before, for other contents: on PostgreSQL the stamp
also holds the counter row's ``xmin`` (the transaction that last wrote it; the restore's,
then each writer's), which no write before the restore had.

SQLite drops a table's triggers with the table, and Django changes most columns there by
making the table again (a later ``AlterField``, an ``AddField`` with a default): so the
stamp also says whether both triggers are there, and without them a figure is computed and
never kept (``cached``); after every ``migrate`` (``retrack``, post_migrate) missing
triggers are made again and the table's counter moved on, so that no figure cached before
them is taken for one after changes they did not count.

A figure cached under a stamp read *before* the figure was computed can only be newer than
the stamp says, never older: the next reader sees the new stamp and computes again. Nothing
is kept from inside a transaction (``cached``).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection

TABLE = "brankas_changes"
_SQLITE_EVENTS = ("DELETE", "UPDATE")  # counted by a row trigger each (SQLite)
T = TypeVar("T")


def changes_tracked(table: str) -> Any:
    """The migration operation that makes ``table``'s changes counted (see the module)."""
    from django.db import migrations

    def create(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        ex = schema_editor.execute
        ex(f'CREATE TABLE IF NOT EXISTS "{TABLE}" (tbl varchar(100) PRIMARY KEY, '
           f"n bigint NOT NULL, epoch varchar(40) NOT NULL)")
        ex(f'INSERT INTO "{TABLE}" (tbl, n, epoch) VALUES (%s, 0, %s)',  # noqa: S608 (names: code)
           [table, secrets.token_hex(16)])
        for statement in trigger_sql(vendor, table):
            ex(statement)

    def drop(apps: Any, schema_editor: Any) -> None:
        ex = schema_editor.execute
        if schema_editor.connection.vendor == "postgresql":
            ex(f'DROP TRIGGER IF EXISTS "{table}_changes" ON "{table}"')
        else:
            for name in _sqlite_triggers(table):
                ex(f'DROP TRIGGER IF EXISTS "{name}"')
        ex(f'DELETE FROM "{TABLE}" WHERE tbl = %s', [table])  # noqa: S608 (names: code)

    return migrations.RunPython(create, drop)


def trigger_sql(vendor: str, table: str) -> list[str]:
    """The statements that make the database count ``table``'s changes."""
    if vendor == "postgresql":
        return [
            f'CREATE OR REPLACE FUNCTION "{TABLE}_count"() RETURNS trigger '  # noqa: S608
            f"LANGUAGE plpgsql AS $$ BEGIN "
            f'UPDATE "{TABLE}" SET n = n + 1 WHERE tbl = TG_TABLE_NAME; RETURN NULL; END $$',
            f'CREATE TRIGGER "{table}_changes" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION "{TABLE}_count"()']
    if vendor == "sqlite":
        return [f'CREATE TRIGGER "{table}_changes_{event.lower()}" AFTER {event} ON '  # noqa: S608
                f'"{table}" FOR EACH ROW BEGIN UPDATE "{TABLE}" SET n = n + 1 '
                f"WHERE tbl = '{table}'; END" for event in _SQLITE_EVENTS]
    raise NotImplementedError(vendor)  # pragma: no cover - the two databases Brankas supports


_request = threading.local()  # the stamps and figures read during this thread's request


def _request_started(environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
    # Only a GET or HEAD (which change nothing here): a POST may change a table after its
    # stamp was read and read a figure again.
    method = (environ or {}).get("REQUEST_METHOD", "")
    reads = method in ("GET", "HEAD")
    _request.stamps = {} if reads else None
    _request.figures = {} if reads else None


def _request_finished(**kwargs: Any) -> None:
    forget_request()


def forget_request() -> None:
    """This thread's request kept nothing more (request_finished; and the first middleware
    when the view's response is made: a streaming body never read never finishes)."""
    _request.stamps = None
    _request.figures = None


def per_request(name: Any, compute: Callable[[], T]) -> T:
    """``compute()`` once per web GET or HEAD request (which change nothing here): the
    parts of one page that ask for the same figure (the dashboard's register counts, the
    office row of the heading and of the key warnings) share one reading. Outside such a
    request (a POST, the CLI, a worker) every call computes. Kept for this thread's
    request only: nothing passes from one request, or one user, to the next."""
    memo: dict[Any, Any] | None = getattr(_request, "figures", None)
    if memo is None:
        return compute()
    if name not in memo:
        memo[name] = compute()
    return memo[name]  # type: ignore[no-any-return]


def remember_per_request() -> None:
    """Read each stamp once per web request (the dashboard asks for the register's three
    times): connected to Django's request signals by the ui app. Outside a request (the
    CLI, a worker) every call reads the database."""
    from django.core.signals import request_finished, request_started

    request_started.connect(_request_started, dispatch_uid="brankas.changes.started")
    request_finished.connect(_request_finished, dispatch_uid="brankas.changes.finished")


def stamp(table: str) -> tuple[Any, ...] | None:
    """The change stamp of ``table`` (tracked by ``changes_tracked``) on the default
    database: equal stamps, equal contents; None when its changes are not all counted
    (nothing may be kept). Within one web request, read once."""
    memo: dict[str, tuple[Any, ...] | None] | None = getattr(_request, "stamps", None)
    if memo is not None and table in memo:
        return memo[table]
    value = _read_stamp(table)
    if memo is not None:
        memo[table] = value
    return value


def _read_stamp(table: str) -> tuple[Any, ...] | None:
    """The stamp, or None on SQLite when a trigger is missing (a remade table, see the
    module): the changes are not all counted, nothing may be kept."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'SELECT n, epoch, (SELECT MAX(id) FROM "{table}"), '  # noqa: S608
                           f"(SELECT group_concat(name, ' ') FROM sqlite_master "
                           f"WHERE type = 'trigger' AND tbl_name = %s) "
                           f'FROM "{TABLE}" WHERE tbl = %s', [table, table])
        else:
            # xmin: the transaction that wrote the counter last; a counter put back by a
            # restore (pg_restore --clean: the dump's n and epoch) has a new one.
            cursor.execute(f'SELECT n, epoch, xmin::text FROM "{TABLE}" '  # noqa: S608
                           f"WHERE tbl = %s", [table])
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"{table}: its changes are not tracked (migrations not applied?)")
    if connection.vendor == "sqlite":
        if not set(_sqlite_triggers(table)) <= set((row[3] or "").split()):
            return None
        row = row[:3]
    return (connection.settings_dict["NAME"], *row)


def _sqlite_triggers(table: str) -> list[str]:
    return [f"{table}_changes_{event.lower()}" for event in _SQLITE_EVENTS]


def retrack(using: str = "default", **kwargs: Any) -> None:
    """After a ``migrate`` (post_migrate): on SQLite, make again the triggers of every
    tracked table that lost them (its table remade by a migration) and move its counter
    on: the changes made without them were not counted."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return  # PostgreSQL alters a table in place: its triggers stay
    with conn.cursor() as cursor:
        if TABLE not in conn.introspection.table_names(cursor):
            return
        cursor.execute(f'SELECT tbl FROM "{TABLE}"')  # noqa: S608 (our own table)
        tables = [tbl for (tbl,) in cursor.fetchall()]
        for table in tables:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = %s", [table])
            there = {name for (name,) in cursor.fetchall()}
            missing = [name for name in _sqlite_triggers(table) if name not in there]
            if not missing:
                continue
            for statement in trigger_sql("sqlite", table):
                if any(f'"{name}"' in statement for name in missing):
                    cursor.execute(statement)
            cursor.execute(f'UPDATE "{TABLE}" SET n = n + 1 WHERE tbl = %s',  # noqa: S608
                           [table])


_cached: dict[str, tuple[tuple[Any, ...], Any]] = {}
_lock = threading.Lock()


def cached(name: str, table: str, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, computed again only when ``table`` changed (or ``key`` differs) since
    it was last computed in this process. One figure kept per ``name``. Inside a
    transaction the figure is computed and not kept: the transaction's own writes (which a
    rollback may undo, and whose stamp a later commit may reuse) are not a state to keep.
    Within one web GET request it is computed at most once (``per_request``), in a
    transaction or not."""
    return per_request(("changes.cached", name, key),
                       lambda: _cached_compute(name, table, key, compute))


def _cached_compute(name: str, table: str, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    if connection.in_atomic_block:
        return compute()
    current = stamp(table)  # read before computing: see the module
    if current is None:  # a trigger missing (SQLite): not every change is counted
        return compute()
    full = (name, key, current)
    hit = _cached.get(name)
    if hit is not None and hit[0] == full:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _cached[name] = (full, value)
    return value
