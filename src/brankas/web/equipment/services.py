"""Recording equipment: add an item, log a check or repair, retire it. The Sandiman
records (``record-equipment``); every change is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.errors import Conflict, InvalidInput, NotFound
from brankas.core.terms import (
    EQUIPMENT_KIND_LABELS,
    Condition,
    EquipmentKind,
    parse_condition,
    parse_equipment_kind,
)
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.equipment.models import Equipment, MaintenanceEntry
from brankas.web.equipment.selectors import Item, item_resolve


def _kind(value: str | EquipmentKind) -> EquipmentKind:
    try:
        return parse_equipment_kind(str(value))
    except ValueError:
        raise InvalidInput("equipment_kind_invalid", value=str(value),
                           choices=", ".join(k.value for k in EQUIPMENT_KIND_LABELS)) from None


def _condition(value: str | Condition) -> Condition:
    try:
        return parse_condition(str(value))
    except ValueError:
        raise InvalidInput("equipment_condition_invalid", value=str(value)) from None


def _day(name: str, value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("equipment_date_invalid", field=name, value=str(value)) from None


def _past(name: str, value: date | None) -> date | None:
    """A day that has happened: an item acquired or a check done tomorrow is a typing
    error, and would hide an overdue check or a disk's age."""
    today = timezone.localdate()
    if value is not None and value > today:
        raise InvalidInput("equipment_date_future", field=name, value=value.isoformat(),
                           today=today.isoformat())
    return value


def _text(name: str, value: str, limit: int, *, required: bool = False,
          lines: bool = False) -> str:
    """Printable text; line breaks only where the field is text (``lines``): a name,
    serial, location or reason is one line wherever it is shown (the CLI's list, a
    warning, a report table)."""
    keep = "\n\t" if lines else ""
    text = "".join(ch if ch.isprintable() or ch in keep else " " if ch in "\r\n\t" else ""
                   for ch in (value or "")).strip()
    if required and not text:
        raise InvalidInput("field_required", field=name)
    if len(text) > limit:
        raise InvalidInput("field_too_long", field=name, limit=limit)
    return text


def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username.strip()).first()
    if user is None:
        raise NotFound("user_not_found", username=username)
    return user


def _detail(row: Equipment) -> dict[str, Any]:
    return {"kind": row.kind, "name": row.name, "condition": row.condition,
            "next_check_due": row.next_check_due.isoformat() if row.next_check_due else None,
            "disk": row.medium.medium_id if row.medium else None,
            "safe": row.safe.name if row.safe else None}


def equipment_add(*, actor: User, kind: str | EquipmentKind = "", name: str = "",
                  serial: str = "", location: str = "", responsible: str | None = None,
                  acquired: date | str | None = None,
                  condition: str | Condition = Condition.GOOD,
                  next_check_due: date | str | None = None, notes: str = "",
                  disk: str | None = None, safe: str | None = None) -> Equipment:
    """Record an item. ``disk`` (a label or id) or ``safe`` (a name) links a disk or safe
    Brankas already knows (its kind follows; it is never entered twice)."""
    from brankas.web.custody.selectors import medium_resolve, safe_get

    require_audited(actor, Action.RECORD_EQUIPMENT, target=name or disk or safe or "")
    if disk and safe:
        raise InvalidInput("equipment_link_both")
    medium = medium_resolve(disk) if disk else None
    safe_row = safe_get(safe) if safe else None
    if medium is not None:
        kind = EquipmentKind.EXTERNAL_DISK
        name = name or medium.label
    elif safe_row is not None:
        kind = EquipmentKind.SAFE
        name = name or safe_row.name
        location = location or safe_row.location
    with transaction.atomic():
        for what, found in (("disk " + medium.label if medium else "",
                             Equipment.objects.filter(medium=medium).first() if medium else None),
                            ("brankas " + safe_row.name if safe_row else "",
                             Equipment.objects.filter(safe=safe_row).first()
                             if safe_row else None)):
            if found is not None:
                raise Conflict("equipment_linked", what=what, ref=str(found.pk))
        kind_value, serial_text = _kind(kind).value, _text("serial", serial, 100)
        same = (Equipment.objects.filter(kind=kind_value, serial__iexact=serial_text,
                                         retired_at__isnull=True).first()
                if serial_text else None)
        if same is not None:
            raise Conflict("equipment_duplicate", kind=EQUIPMENT_KIND_LABELS[
                EquipmentKind(kind_value)], serial=serial_text, ref=str(same.pk))
        row = Equipment.objects.create(
            kind=kind_value, name=_text("name", name, 100, required=True),
            serial=serial_text, location=_text("location", location, 200),
            responsible=_user(responsible), acquired=_past("acquired", _day("acquired", acquired)),
            condition=_condition(condition).value,
            next_check_due=_day("next-check", next_check_due),
            notes=_text("notes", notes, 2000, lines=True), medium=medium, safe=safe_row,
            created_by=actor, created_at=timezone.now())
        audit_record(actor=actor.username, action="equipment.add", target=str(row.pk),
                     detail=_detail(row))
    return row


def _adopt(item: Item, actor: User) -> Equipment:
    """The row of a known disk or safe listed from its own record: made now, linked."""
    if item.pk is not None:
        return Equipment.objects.select_related("medium", "safe").get(pk=item.pk)
    row = Equipment.objects.create(
        kind=item.kind, name=item.name, serial=item.serial[:100],
        location=item.location[:200] if item.safe is not None else "",
        condition=Condition.GOOD.value, medium=item.medium, safe=item.safe,
        created_by=actor, created_at=timezone.now())
    audit_record(actor=actor.username, action="equipment.add", target=str(row.pk),
                 detail={**_detail(row), "linked_from": item.ref})
    return row


def _live(item: Item) -> None:
    if item.retired_at is not None:
        raise Conflict("equipment_retired", ref=item.ref,
                       date=timezone.localtime(item.retired_at).date().isoformat())


def equipment_log(*, actor: User, ref: str, work: str, condition: str | Condition,
                  on: date | str | None = None,
                  next_check_due: date | str | None = None) -> MaintenanceEntry:
    """Log a check or repair of an item: what was done and its condition after; the
    item's condition (and, when given, its next check) follow."""
    require_audited(actor, Action.RECORD_EQUIPMENT, target=ref)
    item = item_resolve(ref)
    _live(item)
    work_text = _text("work", work, 2000, required=True, lines=True)
    after = _condition(condition)
    day = _past("date", _day("date", on)) or timezone.localdate()
    due = _day("next-check", next_check_due)
    with transaction.atomic():
        row = _adopt(item, actor)
        entry = MaintenanceEntry.objects.create(
            equipment=row, on=day, actor=actor, work=work_text, condition_after=after.value,
            recorded_at=timezone.now())
        row.condition = after.value
        if due is not None:
            row.next_check_due = due
        row.save(update_fields=["condition", "next_check_due"])
        audit_record(actor=actor.username, action="equipment.log", target=str(row.pk),
                     detail={"on": day.isoformat(), "condition": after.value,
                             "before": item.condition or None, "work": work_text[:200],
                             "next_check_due": due.isoformat() if due else None})
    return entry


def equipment_retire(*, actor: User, ref: str, reason: str) -> Equipment:
    """Take an item out of service (condition tidak aktif); its log stays. A disk's
    custody is its own step (``brankas media retire``)."""
    require_audited(actor, Action.RECORD_EQUIPMENT, target=ref)
    item = item_resolve(ref)
    _live(item)
    why = _text("reason", reason, 500, required=True)
    with transaction.atomic():
        row = _adopt(item, actor)
        now = timezone.now()
        MaintenanceEntry.objects.create(
            equipment=row, on=timezone.localdate(), actor=actor,
            work=f"tidak aktif / retired: {why}", condition_after=Condition.INACTIVE.value,
            recorded_at=now)
        row.condition = Condition.INACTIVE.value
        row.retired_at, row.retired_reason = now, why
        row.save(update_fields=["condition", "retired_at", "retired_reason"])
        audit_record(actor=actor.username, action="equipment.retire", target=str(row.pk),
                     detail={"reason": why, "before": item.condition or None})
    return row
