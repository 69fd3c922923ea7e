"""The database snapshot written (encrypted) on every backup disk, and loading it back.

The snapshot is a Django fixture (JSON: ``[{"model": ..., "pk": ..., "fields": {...}}]``):
a documented, engine-independent text format that ``loaddata`` and any JSON reader
understand, so an instance recovered from a disk may run on SQLite or PostgreSQL. It is
read inside one transaction, so it is consistent with the documents the run copies.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from brankas.web.backup import rowtext

# Every model that makes an instance, parents before children (loading keeps this order).
MODELS = (
    "accounts.Office",
    "accounts.User",
    "accounts.Qualification",
    "keys.HolderKey",
    "keys.OfficeKey",
    "keys.RecoverySplit",
    "documents.AgendaCounter",
    "documents.Document",
    "text.DocumentText",  # s19: the text of biasa documents (issue 19)
    "audit.AuditEvent",
    "audit.AuditSequence",
    "backup.Medium",
    "backup.BackupRun",
    "backup.BackupCopy",
    "backup.MediumCheck",
    "keys.RewrapJob",
    "keys.SupersededFile",
    "keys.SupersededCopy",
    "custody.Safe",
    "custody.SafeCombination",
    "custody.MediumCustody",
    "custody.CustodyMove",
    "custody.PaperNumber",
    "dispatch.SendRequest",
    "dispatch.RequestStep",
    "reports.SignerKey",
    "reports.Report",
    "reports.ReportStep",
    # s17 E: the equipment register, its log and the disks' health (issue 17)
    "equipment.Equipment",
    "equipment.MaintenanceEntry",
    "equipment.DiskHealth",
)
FORMAT = "brankas-snapshot/1"
# What a backup's snapshot holds: every model but the audit log's entries, which go to
# the disk as append-only segments (``web/backup/segments.py``). A snapshot written before
# segments holds them too; ``snapshot_load`` still takes those.
DISK_MODELS = tuple(label for label in MODELS if label != "audit.AuditEvent")


def _objects() -> Iterator[models.Model]:
    for label in MODELS:
        model = apps.get_model(label)
        yield from model._default_manager.order_by("pk").iterator(chunk_size=2000)


class _Encoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; the audit chain hashes microseconds."""

    def default(self, o: object) -> object:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


def snapshot_bytes() -> bytes:
    """The whole database as a JSON fixture (call inside the run's read transaction)."""
    out = io.BytesIO()
    snapshot_write(out)
    return out.getvalue()


def snapshot_write(out: IO[bytes], *, labels: tuple[str, ...] = MODELS) -> None:
    """``snapshot_bytes`` (of the models ``labels``, in that order), written to the binary
    stream ``out`` object by object (rows read 2,000 at a time): memory does not grow
    with the database. A backup writes ``DISK_MODELS``.

    The bytes are those of Django's JSON serializer (``_django_snapshot``; tests hold
    them equal on SQLite and PostgreSQL), made faster for 100,000 documents and their
    copies: the models whose every column is a plain value Django's serializer writes
    as the database gives it (numbers, text, times, dates, booleans, JSON, foreign keys:
    the register, the copies, the runs) are read through the cursor as tuples and each
    row becomes one formatted string (``rowtext``); any other model (binary keys,
    many-to-many fields, a field class ``rowtext`` does not know) goes through Django's
    serializer, one ``json.dumps`` per object."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # type: ignore[arg-type]
    try:
        text.write("[")
        first = True
        for label in labels:
            for obj in object_texts(apps.get_model(label)):
                text.write(obj if first else ", " + obj)
                first = False
        text.write("]")
        text.flush()
    finally:
        text.detach()


def object_texts(model: type[models.Model], *, after: int = 0) -> Iterator[str]:
    """The JSON text of each object of ``model`` as Django's JSON serializer writes it,
    in pk order (those whose pk is above ``after`` when it is not 0)."""
    read = rowtext.model_rows(model, after=after)
    if read is None:  # Django's own serializer, object by object
        manager = model._default_manager
        base = manager.filter(pk__gt=after) if after else manager.all()
        serializer = serializers.get_serializer("python")()
        for obj in base.order_by("pk").iterator(chunk_size=2000):
            for data in serializer.serialize([obj]):
                yield json.dumps(data, cls=_Encoder, ensure_ascii=False)
        return
    fields, rows = read
    # '{"model": "documents.document", "pk": %s, "fields": {"agenda": %s, ...}}'
    head = json.dumps({"model": str(model._meta), "pk": 0, "fields": {f.name: 0 for f in fields}},
                      ensure_ascii=False)
    keys = [json.dumps(f.name, ensure_ascii=False) for f in fields]
    template = (head[:head.index('"pk": ')].replace("%", "%%") + '"pk": %s, "fields": {'
                + ", ".join(f"{k.replace('%', '%%')}: %s" for k in keys) + "}}")
    for row in rows:
        yield template % row


# Fields whose value, as ``values_list`` gives it, is what Django's serializer writes
# (a protected type, or a JSON value, or a foreign key's raw id).
_PLAIN = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
          "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
          "PositiveSmallIntegerField", "CharField", "TextField", "BooleanField", "DateField",
          "DateTimeField", "JSONField", "ForeignKey", "OneToOneField", "FloatField",
          "EmailField", "SlugField"}


def _dump_objects(model: type[models.Model], *,
                  after: int = 0) -> Iterator[dict[str, object]]:
    """The model's objects as Django's Python serializer gives them, in pk order (those
    whose pk is above ``after`` when it is not 0: a journal part's added rows)."""
    manager = model._default_manager
    base = manager.filter(pk__gt=after) if after else manager.all()
    meta = model._meta.concrete_model._meta  # type: ignore[union-attr]
    fields = [f for f in meta.local_fields if getattr(f, "serialize", True)]
    plain = (not meta.many_to_many and meta.pk is not None
             and all(f.get_internal_type() in _PLAIN for f in [*fields, meta.pk]))
    if not plain:
        serializer = serializers.get_serializer("python")()
        for obj in base.order_by("pk").iterator(chunk_size=2000):
            yield from serializer.serialize([obj])
        return
    name = str(model._meta)
    names = [f.name for f in fields]
    rows = (base.order_by("pk")
            .values_list(meta.pk.attname, *(f.attname for f in fields))
            .iterator(chunk_size=2000))
    for pk, *values in rows:
        yield {"model": name, "pk": pk, "fields": dict(zip(names, values, strict=True))}


def _django_snapshot() -> bytes:
    """The snapshot as Django's own JSON serializer writes it (what ``snapshot_write``
    must equal; slow at scale)."""
    out = io.StringIO()
    serializers.serialize("json", _objects(), stream=out, cls=_Encoder)
    return out.getvalue().encode("utf-8")


def snapshot_load(data: bytes | list[dict[str, Any]]) -> int:
    """Load a snapshot (its JSON, or its objects: a base and its journal composed) into an
    empty, migrated database; returns the number of objects.
    Only the models of ``MODELS`` are loaded: anything else (sessions, permissions, a
    table a snapshot never holds) refuses the whole snapshot."""
    from django.core.serializers.base import DeserializationError

    from brankas.core.errors import SetupError
    from brankas.web.databases import reset_sequences

    allowed = {apps.get_model(label)._meta.label for label in MODELS}
    count = 0
    try:
        with transaction.atomic():
            objects = (serializers.deserialize("python", data) if isinstance(data, list)
                       else serializers.deserialize("json", data.decode("utf-8")))
            for obj in objects:
                label = obj.object._meta.label
                if label not in allowed:
                    raise SetupError("recover_snapshot_invalid",
                                     detail=f"it holds {label[:60]}, not a Brankas record")
                obj.save()
                count += 1
            reset_sequences(apps.get_model(label) for label in MODELS)
    except (DeserializationError, UnicodeDecodeError) as exc:
        raise SetupError("recover_snapshot_invalid", detail=str(exc)[:300]) from None
    return count
