"""What differs between the databases Brankas runs on (SQLite, PostgreSQL), in one place,
and moving an instance from one to the other (``brankas migrate-db``).

``reset_sequences``: rows written with their own primary keys (a snapshot loaded by
``recover``, a database copied by ``migrate-db``) leave PostgreSQL's sequences where they
were, and the next row made would take a key already used; SQLite takes the next key from
the table itself and needs nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.management.color import no_style
from django.db import connections, models, transaction

from brankas.core.access import Action
from brankas.core.errors import Conflict, IntegrityFailure, InvalidInput, SetupError


def reset_sequences(model_list: Iterable[type[models.Model]], using: str = "default") -> None:
    """Move each model's key sequence past its largest key (PostgreSQL; nothing on SQLite)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def refresh_statistics(using: str = "default") -> None:
    """After a bulk load (migrate-db's copy, a recover's rebuild): PostgreSQL's planner
    statistics taken now (``ANALYZE``, allowed in the loading transaction), not left to
    autovacuum: until then the planner takes every table for empty and picks plans for that
    (a two-character search through the bigram index for a pair found in thousands of rows:
    right, but slow). Nothing on SQLite (it plans without them)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# -- migrate-db: the whole database copied into another, counted and hashed -------------------

# PostgreSQL's "could not serialize access" (a REPEATABLE READ transaction met a newer write).
SERIALIZATION_FAILURE = "40001"
TARGET = "brankas_migrate_target"  # the target's connection alias while the copy runs
_BATCH = 1000


@dataclass
class TableResult:
    table: str
    rows: int
    sha256: str


@dataclass
class MigrateReport:
    source: str  # engine of the source ("sqlite", "postgresql")
    target: str  # the target URL, its password hidden
    target_engine: str
    tables: list[TableResult] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "source": self.source, "target": self.target,
                "target_engine": self.target_engine, "rows": self.rows,
                "tables": [asdict(t) for t in self.tables]}


def shown_url(url: str) -> str:
    """``url`` with its passwords replaced by ``***`` (for the audit log and the output):
    the one before the host and any given as a parameter (``?password=``, which libpq and
    dj-database-url accept as well, ``?sslpassword=``)."""
    parts = urlsplit(url)
    if parts.password is None and "password" not in parts.query.lower():
        return url  # as given (urlunsplit would drop an sqlite:/// URL's empty host)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}:***@{netloc[1]}")
    if parts.query:
        params = [(k, "***" if "password" in k.lower() else v)
                  for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query=urlencode(params, safe="*"))
    return urlunsplit(parts)


def copy_order() -> list[type[models.Model]]:
    """Every table of the instance (Django's, Brankas's, the many-to-many tables), each
    after the tables it refers to."""
    from django.apps import apps

    pending = [m for m in apps.get_models(include_auto_created=True)
               if m._meta.managed and not m._meta.proxy]
    pending.sort(key=lambda m: m._meta.db_table)
    done: list[type[models.Model]] = []
    while pending:
        ready = [m for m in pending if all(
            dep in done or dep is m or dep not in pending for dep in _refers_to(m))]
        if not ready:  # a cycle: the constraints are checked at commit (deferred)
            ready = pending[:1]
        for m in ready:
            pending.remove(m)
            done.append(m)
    return done


def _refers_to(model: type[models.Model]) -> list[type[models.Model]]:
    return [f.related_model for f in model._meta.concrete_fields  # type: ignore[misc]
            if f.is_relation and f.related_model is not None]


def _canonical(value: Any) -> Any:
    """A value as both engines give it back, for the content hash."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def _rows(model: type[models.Model], using: str) -> Iterator[models.Model]:
    return model._base_manager.using(using).order_by("pk").iterator(chunk_size=2000)


def _row_digest(model: type[models.Model], obj: models.Model) -> bytes:
    values = [_canonical(getattr(obj, f.attname)) for f in model._meta.concrete_fields]
    return json.dumps(values, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def table_digest(model: type[models.Model], using: str) -> TableResult:
    h = hashlib.sha256()
    count = 0
    for obj in _rows(model, using):
        h.update(_row_digest(model, obj))
        count += 1
    return TableResult(model._meta.db_table, count, h.hexdigest())


def _copy_table(model: type[models.Model], connection: Any) -> TableResult:
    """Copy ``model``'s rows from the instance's database into the target, as they are
    (raw: no field fills itself in); the source's count and content hash."""
    fields = list(model._meta.concrete_fields)
    batch_size = max(1, min(_BATCH, connection.ops.bulk_batch_size(fields, [None] * _BATCH)))
    h = hashlib.sha256()
    count = 0
    batch: list[models.Model] = []
    manager = model._base_manager.using(TARGET)
    for obj in _rows(model, "default"):
        h.update(_row_digest(model, obj))
        count += 1
        batch.append(obj)
        if len(batch) >= batch_size:
            manager._insert(batch, fields=fields, raw=True, using=TARGET)  # type: ignore[attr-defined]
            batch = []
    if batch:
        manager._insert(batch, fields=fields, raw=True, using=TARGET)  # type: ignore[attr-defined]
    return TableResult(model._meta.db_table, count, h.hexdigest())


# Rows a fresh migration makes in the target (the permissions and content types Django
# makes after migrating, the audit counter at 0): replaced by the source's own.
def _made_by_migrate(model: type[models.Model]) -> bool:
    return model._meta.label in {"contenttypes.ContentType", "auth.Permission"}


def _check_empty(order: list[type[models.Model]]) -> None:
    from brankas.web.audit.models import AuditSequence

    for model in order:
        rows = model._base_manager.using(TARGET)
        if _made_by_migrate(model):
            continue
        if model is AuditSequence:
            rows = rows.exclude(last=0)
        n = rows.count()
        if n:
            raise Conflict("migrate_db_not_empty", table=model._meta.db_table, rows=n)


def migrations_unknown_here(connection: Any) -> list[str]:
    """The migrations the database ``connection`` records as applied that this version of
    Brankas does not have (``app.name``): a newer version prepared it, and its data
    migrations ran on no rows, so rows copied or recovered into it would never get them."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations()
                  if (app, name) not in known)


def rows_already_there(connection: Any) -> tuple[str, int] | None:
    """The first table of the database ``connection`` that holds a row, and how many (raw
    SQL: its tables may be another Brankas version's, or another application's); None
    when it holds nothing but the rows a fresh migration makes (an earlier attempt refused
    or interrupted after migrating it). Asked before a database is migrated and filled
    (migrate-db's target, recover's BRANKAS_DATABASE_URL): a refused one is left as it was."""
    from brankas.web.audit.models import AuditSequence
    from brankas.web.changes import TABLE as CHANGES_TABLE
    from brankas.web.text.fts import FIELD_TABLES, FTS_TABLES

    made = {m._meta.db_table for m in copy_order() if _made_by_migrate(m)}
    made.add("django_migrations")
    # the change counters (web/changes.py): each database's own bookkeeping, moved on by the
    # migrations themselves (changes.retrack), never data
    made.add(CHANGES_TABLE)
    # the full-text index's tables (web/text/fts.py, SQLite): made by the migration, kept
    # by triggers from the texts, never data of their own
    made.update(FTS_TABLES)
    made.update(FIELD_TABLES)
    counter = AuditSequence._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in made:
                continue
            sql = f"SELECT COUNT(*) FROM {quote(table)}"  # noqa: S608 (the database's own names)
            if table == counter.db_table:
                sql += f" WHERE {quote(counter.get_field('last').column)} <> 0"
            cursor.execute(sql)
            (rows,) = cursor.fetchone()
            if rows:
                return table, int(rows)
    return None


@contextlib.contextmanager
def _target(url: str) -> Iterator[Any]:
    import dj_database_url

    try:
        config = dict(dj_database_url.parse(url))
    except Exception as exc:  # noqa: BLE001 (its errors are plain ValueErrors and others)
        raise InvalidInput("migrate_db_bad_url", detail=str(exc)[:200]) from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise InvalidInput("migrate_db_bad_url", detail="no engine or database name")
    source = connections["default"].settings_dict
    if (config["ENGINE"], str(config.get("NAME")), config.get("HOST") or "",
            str(config.get("PORT") or "")) == (source["ENGINE"], str(source["NAME"]),
                                               source.get("HOST") or "",
                                               str(source.get("PORT") or "")):
        raise InvalidInput("migrate_db_same")
    connections.settings[TARGET] = connections.configure_settings({"default": config})["default"]
    try:
        yield connections[TARGET]
    finally:
        connections[TARGET].close()
        del connections[TARGET]
        connections.settings.pop(TARGET, None)


def database_migrate(*, actor: Any, target_url: str,
                     on_table: Callable[[str], None] | None = None) -> MigrateReport:
    """Copy this instance's whole database into the empty database ``target_url``
    (PostgreSQL or SQLite; migrated here first): every table in dependency order, in one
    transaction on the target; its sequences moved past the copied keys; then each table's
    row count and content hash read back from the target and compared with the source's.
    Anything different and the target's transaction is rolled back: nothing is kept. The
    source is read as one view (web/consistency.py) and is left as it is, but for the
    audit entry of the move, written first, so that it is in both."""
    from django.db.utils import Error as DatabaseError

    from brankas import instance
    from brankas.web.audit.guard import require_audited
    from brankas.web.audit.services import audit_record
    from brankas.web.consistency import one_view

    require_audited(actor, Action.OFFICE_SETTINGS, target="migrate-db")
    shown = shown_url(target_url)
    behind = _migrations_not_applied()
    if behind:  # the copy would fail on the source's missing tables, blamed on the target
        _audit_failed(actor, shown, "migrate_db_source_behind")
        raise SetupError("migrate_db_source_behind", count=behind)
    with _target(target_url) as target:
        report = MigrateReport(source=connections["default"].vendor, target=shown,
                               target_engine=target.vendor)
        order = copy_order()
        try:
            # Looked at before it is migrated: a refused target is left as it was.
            there = rows_already_there(target)
            if there is not None:
                raise Conflict("migrate_db_not_empty", table=there[0], rows=there[1])
            newer = migrations_unknown_here(target)
            if newer:
                raise Conflict("migrate_db_target_newer", migration=newer[0],
                               count=len(newer))
            instance.migrate(database=TARGET)
        except DatabaseError as exc:
            raise SetupError("migrate_db_unreachable", detail=str(exc).strip()[:300]) from None
        except Conflict as exc:
            _audit_failed(actor, shown, exc.code)
            raise
        try:
            with one_view(), transaction.atomic(using=TARGET):
                _check_empty(order)
                audit_record(actor=actor.username, action="database.migrate", target=shown,
                             detail={"from": report.source, "to": report.target_engine,
                                     "tables": len(order)})
                for model in order:
                    if _made_by_migrate(model) or model._meta.label == "audit.AuditSequence":
                        model._base_manager.using(TARGET).all().delete()
                for model in order:
                    if on_table is not None:
                        on_table(model._meta.db_table)
                    report.tables.append(_copy_table(model, target))
                reset_sequences(order, using=TARGET)
                refresh_statistics(TARGET)
                for model, copied in zip(order, report.tables, strict=True):
                    back = table_digest(model, TARGET)
                    if (back.rows, back.sha256) != (copied.rows, copied.sha256):
                        raise IntegrityFailure(
                            "migrate_db_mismatch", table=copied.table,
                            detail=f"{copied.rows} rows -> {back.rows}, sha256 "
                                   f"{copied.sha256[:12]} -> {back.sha256[:12]}")
        except DatabaseError as exc:
            _audit_failed(actor, shown, str(exc))
            if getattr(exc.__cause__, "sqlstate", None) == SERIALIZATION_FAILURE:
                # The source's one view (REPEATABLE READ) met a newer write: still in use.
                raise SetupError("migrate_db_source_busy") from None
            raise SetupError("migrate_db_unreachable", detail=str(exc).strip()[:300]) from None
        except (Conflict, IntegrityFailure) as exc:
            _audit_failed(actor, shown, exc.code)
            raise
    return report


def _migrations_not_applied() -> int:
    """How many of this version's migrations the instance's own database lacks."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _audit_failed(actor: Any, shown: str, error: str) -> None:
    from brankas.web.audit.services import audit_record

    audit_record(actor=actor.username, action="database.migrate", target=shown,
                 outcome="failed", detail={"error": error[:300]})
