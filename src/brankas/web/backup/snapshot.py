"""The database snapshot written (encrypted) on every backup disk, and loading it back.

The snapshot is a Django fixture (JSON: ``[{"model": ..., "pk": ..., "fields": {...}}]``):
a documented, engine-independent text format that ``loaddata`` and any JSON reader
understand, so an instance recovered from a disk may run on SQLite or PostgreSQL. It is
read inside one transaction, so it is consistent with the documents the run copies.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

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
)
FORMAT = "brankas-snapshot/1"


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
    out = io.StringIO()
    serializers.serialize("json", _objects(), stream=out, cls=_Encoder)
    return out.getvalue().encode("utf-8")


def snapshot_load(data: bytes) -> int:
    """Load a snapshot into an empty, migrated database; returns the number of objects.
    Only the models of ``MODELS`` are loaded: anything else (sessions, permissions, a
    table a snapshot never holds) refuses the whole snapshot."""
    from django.core.serializers.base import DeserializationError

    from brankas.core.errors import SetupError
    from brankas.web.databases import reset_sequences

    allowed = {apps.get_model(label)._meta.label for label in MODELS}
    count = 0
    try:
        with transaction.atomic():
            for obj in serializers.deserialize("json", data.decode("utf-8")):
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
