"""The fast snapshot writer against Django's serializer on every model of the snapshot,
each holding rows with unusual and hostile values: control characters and NUL, bidi and
line-separator characters, emoji, quotes and backslashes, strings of a megabyte, the
largest integers each column takes, times in another time zone with and without
microseconds, the first and last dates, None in every nullable column, empty strings,
bytes with NUL, JSON with every kind of value. ``snapshot_write`` claims the very bytes
of Django's serializer; a snapshot that differed would load differently in ``recover``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction

from brankas.web.backup import services, snapshot
from tests.web.backup.test_services import register

NASTY = ("\x00\x01\x08\t\n\r\x0b\x0c\x1b[31m\x7f\x85 \u2028\u2029\u202e\ufeff\ufffd "
         "'\"\\ </script> <!-- ]]> {\"a\": 1} \U0001f512 \u00e9\u0301 \u4e2d\u6587 ")
LONG = "panjang-\u00e9-" * 90_000  # about a megabyte of text in one column
ZONE = datetime.timezone(datetime.timedelta(hours=7, minutes=30))
JSON_VALUE: Any = {
    "": "", "nul": "\x00", "ctrl": "\x01\x1f\x7f\u2028", "text": NASTY,
    "numbers": [0, -1, 2**63 - 1, 2**70, -(2**70), 1.5e-300, 1e300, 0.1, -0.0],
    "nested": [None, True, False, [], {}, [[[]]], {"x": {"y": {"z": None}}}],
    "\U0001f512 key \x00": ["duplicate", "duplicate"],
}
INTEGERS = {
    "PositiveSmallIntegerField": 32767, "SmallIntegerField": -32768,
    "PositiveIntegerField": 2**31 - 1, "IntegerField": -(2**31),
    "PositiveBigIntegerField": 2**63 - 1, "BigIntegerField": -(2**63),
}


def _value(field: models.Field, n: int, variant: str) -> Any:  # type: ignore[type-arg]
    """A hostile value for ``field``; ``variant`` "none" gives None (or the emptiest
    value) wherever the column allows it."""
    kind = field.get_internal_type()
    if variant == "none" and field.null:
        return None
    if kind in {"CharField", "TextField", "EmailField", "SlugField"}:
        if variant == "none":
            return f"{n}" if field.unique else ""
        return f"{n}{LONG if kind == 'TextField' else NASTY}"
    if kind in INTEGERS:
        value = INTEGERS[kind]
        return value - n if value > 0 else value + n
    if kind == "BooleanField":
        return variant != "none"
    if kind == "DateTimeField":
        if variant == "none":
            return datetime.datetime(2026, 1, 1, 0, 0, n, tzinfo=datetime.UTC)  # no µs
        return datetime.datetime(1999, 12, 31, 23, 59, 59, 999_999 - n, tzinfo=ZONE)
    if kind == "DateField":
        return datetime.date(1, 1, 1 + n) if variant == "none" else datetime.date(9999, 12, 31 - n)
    if kind == "BinaryField":
        return b"" if variant == "none" else bytes(range(256)) * 3 + b"\x00" * 10
    if kind == "JSONField":
        return [] if variant == "none" else {**JSON_VALUE, "n": n}
    if kind == "FloatField":
        return 0.0 if variant == "none" else 1.7976931348623157e308
    raise AssertionError(f"no hostile value for {kind} ({field})")


def _hostile_row(model: type[models.Model], n: int, variant: str) -> bool:
    """One row of ``model`` with hostile values (its relations to the newest row of each
    target); False when the table takes no more rows (a one-row table)."""
    values: dict[str, Any] = {}
    for field in model._meta.local_fields:
        if field.primary_key and field.get_internal_type().endswith("AutoField"):
            continue
        if field.is_relation:
            target = field.related_model
            newest = target._default_manager.order_by("-pk").first()  # type: ignore[union-attr]
            if variant == "none" and field.null or newest is None:
                values[field.attname] = None
            else:
                values[field.attname] = newest.pk
            continue
        values[field.attname] = _value(field, n, variant)
    try:
        with transaction.atomic():
            model._default_manager.bulk_create([model(**values)])
    except IntegrityError:
        return False
    return True


def test_every_model_with_hostile_values_is_byte_for_byte_djangos(office,
                                                                  tmp_path: Path) -> None:
    register(office, "Surat biasa")
    register(office, "Surat rahasia", "rahasia")
    services.backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    plain = []
    for n, label in enumerate(snapshot.MODELS, 1):
        model = apps.get_model(label)
        made = [_hostile_row(model, n, variant) for variant in ("hostile", "none")]
        assert model._default_manager.exists(), label
        assert any(made) or label == "audit.AuditSequence", label
        meta = model._meta
        plain.append(label) if not meta.many_to_many and all(
            f.get_internal_type() in snapshot._PLAIN
            for f in meta.local_fields) else None
    fast = snapshot.snapshot_bytes()
    django = snapshot._django_snapshot()
    assert len(fast) > 8 * len(LONG)  # the long texts are in it
    assert fast == django
    # Both paths of the fast writer are exercised: rows read as plain values, and
    # objects through Django's Python serializer (binary fields, many-to-many).
    assert {"audit.AuditEvent", "documents.Document", "backup.BackupRun"} <= set(plain)
    assert {"accounts.User", "keys.HolderKey"}.isdisjoint(plain)
    loaded = json.loads(fast)
    assert {o["model"] for o in loaded} == {apps.get_model(m)._meta.label_lower
                                            for m in snapshot.MODELS}
