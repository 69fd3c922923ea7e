"""The database snapshot kept on a disk as a full snapshot plus a journal of parts.

A full snapshot (``database.json.age``) holds every row; at 100,000 documents and 400,000
copies it is about 170 MB encrypted, and writing it whole costs a backup of 100 new
documents as much as one of all of them. Once a disk's full snapshot is larger than
``journal_min_bytes`` (settings), a run that must make the disk's database current writes
instead a **journal part** (``database-journal.json.age``, encrypted like the snapshot):
per table, the rows added since the previous snapshot or part this disk carries, or the
whole table again when rows of it changed or went. The run's seal names the base snapshot
and every part after it, in order; recover loads the base and applies the parts
(``compose``) and gets exactly the database a full snapshot of that moment holds.

Which rows changed is told by the database itself (``web/changes.py``): the register
(``documents_document``) and the copies (``backup_backupcopy``) have change stamps; on
SQLite the stamp counts updates and deletes, and an unchanged count with a higher
``MAX(id)`` means rows were only added (ids never go back: ``AUTOINCREMENT``), so the part
holds the rows after the previous maximum. On PostgreSQL the stamp counts every write: a
table unchanged since is left out, a changed one is written whole. Every other table (a
few hundred rows: users, keys, runs, custody) is written whole in each part, except the
text of documents (issue 19, ``TIMED``): the rows of the groups of rows changed since.

What the next run needs to know (each tracked table's stamp, hashed, and its maximum id,
and the users' names the registers print) goes in the seal, in the clear
(``snapshot_marks``): the backup runs without a key and cannot read the parts back.

The full snapshot is written again when the disk's chain is not whole as sealed (a part
or the base missing or changed: ``last_snapshot``), when the seal that ends it carries no
marks, when the base is small (a journal saves nothing), and every ``journal_max_parts``
parts (a recover reads them all).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.db import connection

from brankas.core.errors import SetupError
from brankas.web import changes

FORMAT = "brankas-snapshot-journal/1"
JOURNAL = "database-journal.json.age"
REGISTER_BIASA_PART = "register-biasa-tambahan.csv"
REGISTER_FULL_PART = "register-lengkap-tambahan.csv.age"
MARKS_KEY = "snapshot_marks"
# The tables whose changes the database counts (``changes_tracked``), by model.
TRACKED = {"documents.Document": "documents_document",
           "backup.BackupCopy": "backup_backupcopy"}
APPEND, REPLACE, UPDATE = "append", "replace", "update"
MERGE = "merge"  # s19: rows changed since (each replaces its pk's row or joins in pk order)
# Tables whose rows change after they are written but only a few at a time: a part holds
# the rows changed since the disk's last snapshot or part (``UPDATE``), found by a
# digest of each row kept in the marks; the field left out of the digest never changes
# once the row's other fields stop changing (a run's agendas: written while it runs,
# with its status; the run's own row is still running when its part is written).
ROW_MARKED = {"backup.BackupRun": ("agendas", "status", "running")}
# s19: tables of many rows, each rewritten now and then in any order and never deleted
# (the text of documents, issue 19: 100,000 rows of a few kB): a part holds the rows of
# the groups of ``TIMED_GROUP`` consecutive pks whose digest changed since the previous
# snapshot or part (``MERGE``; the digests kept in the marks, a few hundred for the whole
# table). Not by the time a row was written (s19 review): a clock that steps back (NTP, a
# laptop's clock set right) or a PostgreSQL commit that waits gives a row written since a
# time before the marks' latest, and it was never carried. Fewer rows in a group than the
# marks counted (a row went): the whole table. A row's digest: its time (the field named
# here) and ``TIMED_FIELDS``, not its body (read again, a row gets a new time).
TIMED = {"text.DocumentText": "read_at"}
TIMED_FIELDS = ("status", "method", "pages", "engine", "content_sha256")
TIMED_GROUP = 128
# A table's mode in a part: (APPEND, after), (REPLACE, 0), (UPDATE, 0, pks) or
# (MERGE, 0, pks).
Mode = tuple[Any, ...]
# A seal naming more parts than this is not read (a run writes at most
# ``journal_max_parts``, 16 by default, before a full snapshot again).
MAX_PARTS_READ = 256


# -- marks: where the disk's snapshot stands ---------------------------------------------

def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:32]


def table_mark(label: str) -> dict[str, Any] | None:
    """The tracked table's state as of this transaction: its stamp hashed (SQLite without
    the maximum id, which is kept apart) and its maximum id; None when its changes are not
    all counted (a trigger missing: the table is written whole)."""
    table = TRACKED[label]
    current = changes.stamp(table)
    if current is None:
        return None
    vendor = connection.vendor
    if vendor == "sqlite":  # (name, n, epoch, max id)
        return {"state": _digest([vendor, *current[:3]]), "max": int(current[3] or 0),
                "appends": True}
    model = apps.get_model(label)
    top = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return {"state": _digest([vendor, *current]), "max": int(top or 0), "appends": False}


def users_mark() -> str:
    """The users' names as the registers print them (a renamed user: registers anew)."""
    from brankas.web.accounts.models import User

    return _digest(sorted(User.objects.values_list("id", "username")))


def rows_mark(label: str) -> dict[str, str]:
    """{pk: digest} of each row of a ``ROW_MARKED`` table, every field but the one left
    out (read without it: a full run's agendas are 100,000 numbers); a row whose status
    says it is still being written is marked as never equal (always carried)."""
    left_out, status, busy = ROW_MARKED[label]
    model = apps.get_model(label)
    meta = model._meta
    names = [f.attname for f in meta.concrete_fields if f.name != left_out]
    at = names.index(status) if status in names else None
    out: dict[str, str] = {}
    for row in model._default_manager.order_by("pk").values_list(*names).iterator(
            chunk_size=2000):
        out[str(row[names.index(meta.pk.attname)])] = (
            "busy" if at is not None and row[at] == busy else _digest(list(row))[:20])
    return out


def _timed_scan(label: str) -> tuple[int, dict[str, tuple[str, list[int]]]]:
    """A ``TIMED`` table read once (its pk, time and ``TIMED_FIELDS``, not its bodies,
    through a plain cursor: 100,000 rows), the rows counted, and per group of
    ``TIMED_GROUP`` pks its digest (``count:hash``, of the values as the database driver
    gives them: a database moved to another kind makes every group new once) and its
    pks."""
    meta = apps.get_model(label)._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column)
                        for name in (meta.pk.name, TIMED[label], *TIMED_FIELDS))
    count = 0
    hashers: dict[int, Any] = {}
    pks: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(meta.db_table)} "  # noqa: S608
                       f"ORDER BY {quote(meta.pk.column)}")
        while rows := cursor.fetchmany(5000):
            count += len(rows)
            for row in rows:
                key = row[0] // TIMED_GROUP
                hasher = hashers.get(key)
                if hasher is None:
                    hasher = hashers[key] = hashlib.sha256()
                    pks[key] = []
                hasher.update("\x1f".join(map(str, row)).encode() + b"\x1e")
                pks[key].append(row[0])
    return count, {str(key): (f"{len(pks[key])}:{hasher.hexdigest()[:16]}", pks[key])
                   for key, hasher in hashers.items()}


def timed_mark(label: str) -> dict[str, Any]:
    """A ``TIMED`` table's rows counted, the latest time a row was written (ISO: for a
    reader), and each group's digest (``_timed_scan``)."""
    from django.db.models import Max

    count, groups = _timed_scan(label)
    latest = apps.get_model(label)._default_manager.aggregate(latest=Max(TIMED[label]))["latest"]
    return {"count": count, "latest": latest.isoformat() if latest else None,
            "groups": {key: digest for key, (digest, _) in groups.items()}}


def _timed_rows(label: str, previous: dict[str, Any]) -> Mode | None:
    """(MERGE, 0, pks) of the rows of the groups of a ``TIMED`` table changed since the
    ``previous`` marks (None: none); (REPLACE, 0) when they hold no digests for it or a
    row went."""
    timed = previous.get("timed")
    then = timed.get(label) if isinstance(timed, dict) else None
    if not isinstance(then, dict):
        return (REPLACE, 0)
    before = then.get("groups")
    if not isinstance(before, dict) or type(then.get("count")) is not int:
        return (REPLACE, 0)
    count, groups = _timed_scan(label)
    if count < then["count"]:
        return (REPLACE, 0)
    pks: list[int] = []
    for key, digest in before.items():
        now = groups.get(str(key))
        try:
            counted = int(str(digest).split(":", 1)[0])
        except ValueError:
            return (REPLACE, 0)
        if now is None or len(now[1]) < counted:
            return (REPLACE, 0)  # a row went
    for key, (digest, rows) in groups.items():
        if before.get(key) != digest:
            pks.extend(rows)
    if not pks:
        return None
    pks.sort()
    return (MERGE, 0, tuple(pks))


def marks(base_bytes: int) -> dict[str, Any]:
    """What the run's seal records for the next run (``MARKS_KEY``)."""
    return {"base_bytes": base_bytes, "users": users_mark(),
            "tables": {label: table_mark(label) for label in TRACKED},
            "rows": {label: rows_mark(label) for label in ROW_MARKED},
            "timed": {label: timed_mark(label) for label in TIMED}}


def _changed_rows(label: str, previous: dict[str, Any]) -> Mode | None:
    """(UPDATE, 0, pks) of the rows of a ``ROW_MARKED`` table added or changed since the
    ``previous`` marks (None: none); (REPLACE, 0) when they hold none for it or a row
    went."""
    rows = previous.get("rows")
    then = rows.get(label) if isinstance(rows, dict) else None
    if not isinstance(then, dict):
        return (REPLACE, 0)
    now = rows_mark(label)
    if not then.keys() <= now.keys():
        return (REPLACE, 0)
    changed = tuple(sorted(int(pk) for pk, digest in now.items()
                           if digest == "busy" or then.get(pk) != digest))
    return (UPDATE, 0, changed) if changed else None


def modes(previous: dict[str, Any]) -> dict[str, Mode | None]:
    """For each tracked model, what a part holds against the ``previous`` marks: None (the
    table is unchanged: left out), (APPEND, after) (the rows with a higher id) or
    (REPLACE, 0); for each ``ROW_MARKED`` model, (UPDATE, 0, pks) (the rows added or
    changed). Other models are always REPLACE."""
    out: dict[str, Mode | None] = {label: _changed_rows(label, previous)
                                   for label in ROW_MARKED}
    out.update({label: _timed_rows(label, previous) for label in TIMED})
    tables = previous.get("tables")
    before: dict[str, Any] = tables if isinstance(tables, dict) else {}
    for label in TRACKED:
        now, then = table_mark(label), before.get(label)
        if (now is None or not isinstance(then, dict) or then.get("state") != now["state"]
                or type(then.get("max")) is not int or then["max"] > now["max"]):
            out[label] = (REPLACE, 0)
        elif then["max"] == now["max"]:
            out[label] = None
        elif now["appends"]:
            out[label] = (APPEND, then["max"])
        else:  # pragma: no cover - PostgreSQL: a new row is a new stamp (state differs)
            out[label] = (REPLACE, 0)
    return out


def registers_append(previous: dict[str, Any],
                     table_modes: dict[str, Mode | None]) -> int | None:
    """The id after which the run's register parts hold the documents (None: the
    registers are written whole: a document changed or went, or a user was renamed)."""
    mode = table_modes.get("documents.Document")
    if previous.get("users") != users_mark():
        return None
    if mode is None:
        tables = previous.get("tables") or {}
        return int(tables["documents.Document"]["max"])
    return mode[1] if mode[0] == APPEND else None


# -- writing a part ----------------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    folder: str
    sha256: str

    def as_json(self) -> list[str]:
        return [self.folder, self.sha256]


def part_write(out: IO[bytes], *, labels: Iterable[str], base: Ref, previous: Ref | None,
               run_folder: str, medium_id: str,
               table_modes: dict[str, Mode | None]) -> None:
    """The journal part, written to ``out`` model by model (rows read 2,000 at a time)."""
    from brankas.web.backup.snapshot import _dump_objects, _Encoder

    text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # type: ignore[arg-type]
    try:
        head = {"format": FORMAT, "base": base.as_json(),
                "previous": previous.as_json() if previous else None,
                "run": run_folder, "medium_id": medium_id}
        text.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "models": [')
        first = True
        for label in labels:
            mode = table_modes.get(label, (REPLACE, 0))
            if mode is None:
                continue
            text.write(("" if first else ", ")
                       + json.dumps({"model": label, "mode": mode[0], "after": mode[1]})[:-1]
                       + ', "objects": [')
            first = False
            one = True
            model = apps.get_model(label)
            objects = (_dump_rows(model, mode[2]) if mode[0] in (UPDATE, MERGE)
                       else _dump_objects(model, after=mode[1]))
            for obj in objects:
                text.write(("" if one else ", ")
                           + json.dumps(obj, cls=_Encoder, ensure_ascii=False))
                one = False
            text.write("]}")
        text.write("]}")
        text.flush()
    finally:
        text.detach()


def _dump_rows(model: Any, pks: tuple[int, ...]) -> Iterator[dict[str, Any]]:
    """The rows ``pks`` of ``model`` as the snapshot writes objects (``_dump_objects``),
    in pk order."""
    from django.core import serializers

    serializer = serializers.get_serializer("python")()
    for i in range(0, len(pks), 500):
        chunk = model._default_manager.filter(pk__in=pks[i:i + 500]).order_by("pk")
        for obj in chunk.iterator(chunk_size=500):
            yield from serializer.serialize([obj])


# -- recover: the base and its parts, composed ---------------------------------------------

def _refuse(detail: str) -> SetupError:
    return SetupError("recover_snapshot_invalid", detail=detail[:300])


def compose(base: list[dict[str, Any]], parts: Iterable[tuple[Ref, bytes]], *, base_ref: Ref,
            medium_id: str, allowed: Iterable[str]) -> list[dict[str, Any]]:
    """The objects of the base snapshot with each (decrypted) part applied in order: the
    fixture a full snapshot of the last part's moment holds. Each part must name the base,
    the part before it, its own run folder and this disk; each table in it must be one a
    snapshot holds, appended rows must follow the table's last id."""
    allowed = set(allowed)
    tables: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for obj in base:
        label = obj.get("model") if isinstance(obj, dict) else None
        if not isinstance(label, str):
            raise _refuse("the base snapshot holds an object that is not a record")
        if label not in tables:
            tables[label] = []
            order.append(label)
        tables[label].append(obj)
    previous: Ref | None = None
    for ref, data in parts:
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _refuse(f"journal part of run {ref.folder}: {exc}") from None
        del data  # ``parts`` may read each part as it is needed: one in memory at a time
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise _refuse(f"journal part of run {ref.folder}: not a journal part")
        expected = {"base": base_ref.as_json(), "run": ref.folder, "medium_id": medium_id,
                    "previous": previous.as_json() if previous else None}
        for key, value in expected.items():
            if body.get(key) != value:
                raise _refuse(f"journal part of run {ref.folder}: its {key} is "
                              f"{str(body.get(key))[:80]}, not {str(value)[:80]}")
        models_ = body.get("models")
        if not isinstance(models_, list):
            raise _refuse(f"journal part of run {ref.folder}: no tables")
        for table in models_:
            _apply(tables, order, table, ref, allowed)
        previous = ref
    return [obj for label in order for obj in tables[label]]


def _apply(tables: dict[str, list[dict[str, Any]]], order: list[str], table: Any, ref: Ref,
           allowed: set[str]) -> None:
    where = f"journal part of run {ref.folder}"
    if not isinstance(table, dict) or not isinstance(table.get("objects"), list):
        raise _refuse(f"{where}: a table is malformed")
    label, mode, after = table.get("model"), table.get("mode"), table.get("after")
    if label not in allowed:
        raise _refuse(f"{where}: it holds {str(label)[:60]}, not a Brankas record")
    objects = table["objects"]
    key = str(apps.get_model(label)._meta)  # as the objects name it: documents.document
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("model") != key \
                or type(obj.get("pk")) is not int or not isinstance(obj.get("fields"), dict):
            raise _refuse(f"{where}: a row of {label} is malformed")
    if key not in tables:
        tables[key] = []
        order.append(key)
    if mode == REPLACE:
        tables[key] = objects
    elif mode == APPEND and type(after) is int:
        rows = tables[key]
        last = rows[-1]["pk"] if rows else 0
        if after != last or any(o["pk"] <= p for o, p in _pairs(objects, last)):
            raise _refuse(f"{where}: the rows added to {label} do not follow its last "
                          f"(#{last})")
        rows.extend(objects)
    elif mode == UPDATE and after == 0:
        # Rows changed in place (by pk) or added after the table's last, in pk order.
        rows = tables[key]
        at = {o["pk"]: i for i, o in enumerate(rows)}
        last = rows[-1]["pk"] if rows else 0
        previous = 0
        for obj in objects:
            pk = obj["pk"]
            if pk <= previous:
                raise _refuse(f"{where}: the rows of {label} are not in order")
            previous = pk
            if pk in at:
                rows[at[pk]] = obj
            elif pk > last:
                rows.append(obj)
                last = pk
            else:
                raise _refuse(f"{where}: a row of {label} (#{pk}) is neither changed "
                              f"nor added after its last (#{last})")
    elif mode == MERGE and after == 0 and label in TIMED:
        # s19: rows changed since: each replaces its pk's row or joins, in pk order.
        rows = tables[key]
        at = {o["pk"]: i for i, o in enumerate(rows)}
        previous = 0
        added = False
        for obj in objects:
            pk = obj["pk"]
            if pk <= previous:
                raise _refuse(f"{where}: the rows of {label} are not in order")
            previous = pk
            if pk in at:
                rows[at[pk]] = obj
            else:
                rows.append(obj)
                added = True
        if added:
            rows.sort(key=lambda o: o["pk"])
    else:
        raise _refuse(f"{where}: {label}: unknown mode {str(mode)[:20]}")


def _pairs(objects: list[dict[str, Any]], last: int) -> Iterator[tuple[dict[str, Any], int]]:
    previous = last
    for obj in objects:
        yield obj, previous
        previous = obj["pk"]
