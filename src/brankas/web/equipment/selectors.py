"""Reading the equipment register, its log and the disks' health; the warnings the
dashboard and the backup report show.

Disks and safes Brankas already knows are listed as equipment without being entered
twice: an ``Equipment`` row linked to the disk or safe when someone recorded something
about it, otherwise an item made from the disk's or safe's own record (reference
``disk:LABEL`` or ``brankas:NAME``; the first log entry links it, ``services._adopt``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Max, QuerySet, Subquery
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.chains.custody import MediumState
from brankas.core.equipment import advice
from brankas.core.errors import NotFound
from brankas.core.printing import numbers
from brankas.core.terms import (
    CONDITION_LABELS,
    DAMAGED_CONDITIONS,
    EQUIPMENT_KIND_LABELS,
    Condition,
    EquipmentKind,
)
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.backup.models import Medium
from brankas.web.custody.models import Safe
from brankas.web.equipment.models import DiskHealth, Equipment, MaintenanceEntry
from brankas.web.runtime import brankas_settings

DISK_PREFIX, SAFE_PREFIX = "disk:", "brankas:"
SAFE_ALIASES = ("brankas:", "safe:")  # a safe's reference in either language
SAFE_ID_PREFIX = "brankas-id:"  # a known safe by its number (the pages' addresses)


@dataclass
class Item:
    """One item of equipment as the register shows it (a row, or a known disk or safe
    not yet recorded: ``pk`` None)."""

    ref: str
    pk: int | None
    kind: str
    name: str
    serial: str = ""
    location: str = ""
    responsible: str = ""  # username
    responsible_name: str = ""
    acquired: date | None = None
    condition: str = ""  # "" when nothing was recorded
    next_check_due: date | None = None
    notes: str = ""
    retired_at: datetime | None = None
    retired_reason: str = ""
    medium: Medium | None = None
    safe: Safe | None = None
    health: DiskHealth | None = None  # a disk's latest reading
    last_check: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return EQUIPMENT_KIND_LABELS[EquipmentKind(self.kind)]

    @property
    def condition_label(self) -> str:
        return CONDITION_LABELS[Condition(self.condition)] if self.condition else ""

    @property
    def active(self) -> bool:
        return self.retired_at is None and self.condition != Condition.INACTIVE.value

    @property
    def url_ref(self) -> str:
        """The reference in a page's address: a number, or a known disk's id or a known
        safe's number (a label or a name may hold any character, "/" among them)."""
        if self.pk is not None:
            return str(self.pk)
        if self.medium is not None:
            return DISK_PREFIX + self.medium.medium_id
        return SAFE_ID_PREFIX + str(self.safe.pk if self.safe else 0)

    @property
    def linked(self) -> str:
        return "disk" if self.medium is not None else "safe" if self.safe is not None else ""

    def as_dict(self) -> dict[str, Any]:
        h = self.health
        return {
            "ref": self.ref, "recorded": self.pk is not None, "kind": self.kind,
            "name": self.name, "serial": self.serial, "location": self.location,
            "responsible": self.responsible or None,
            "acquired": self.acquired.isoformat() if self.acquired else None,
            "condition": self.condition or None,
            "next_check_due": self.next_check_due.isoformat() if self.next_check_due else None,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "notes": self.notes,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "disk": self.medium.label if self.medium else None,
            "safe": self.safe.name if self.safe else None,
            "health": health_as_dict(h) if h is not None else None,
        }


def health_as_dict(h: DiskHealth) -> dict[str, Any]:
    return {
        "at": h.at.isoformat(), "source": h.source, "status": h.status, "reason": h.reason,
        "device": h.device, "model": h.model, "serial": h.serial,
        "power_on_hours": h.power_on_hours, "temperature": h.temperature,
        "reallocated": h.reallocated, "pending": h.pending, "uncorrectable": h.uncorrectable,
        "crc_errors": h.crc_errors, "media_errors": h.media_errors,
        "failing_attributes": h.failing_attributes, "rose": h.rose,
        "free_bytes": h.free_bytes, "capacity_bytes": h.capacity_bytes,
        "runs_left": h.runs_left,
    }


def _latest_health() -> dict[int, DiskHealth]:
    """Each disk's latest reading, in one query however many there are."""
    last = DiskHealth.objects.values("medium_id").annotate(last=Max("id")).values("last")
    return {h.medium_id: h for h in DiskHealth.objects.filter(id__in=Subquery(last))}


def _medium_place(medium: Medium) -> str:
    custody = getattr(medium, "custody", None)
    if custody is None:
        return ""
    if custody.safe is not None:
        return f"{custody.safe.name} ({custody.safe.location})"
    return custody.location


def _from_row(row: Equipment, health: dict[int, DiskHealth], checks: dict[int, date]) -> Item:
    return Item(
        ref=str(row.pk), pk=row.pk, kind=row.kind, name=row.name, serial=row.serial,
        location=row.location or (_medium_place(row.medium) if row.medium else ""),
        responsible=row.responsible.username if row.responsible else "",
        responsible_name=row.responsible.display() if row.responsible else "",
        acquired=row.acquired, condition=row.condition, next_check_due=row.next_check_due,
        notes=row.notes, retired_at=row.retired_at, retired_reason=row.retired_reason,
        medium=row.medium, safe=row.safe,
        health=health.get(row.medium_id) if row.medium_id else None,
        last_check=checks.get(row.pk))


def _from_medium(medium: Medium, health: dict[int, DiskHealth]) -> Item:
    custody = getattr(medium, "custody", None)
    retired = custody is not None and custody.state == MediumState.RETIRED.value
    h = health.get(medium.pk)
    return Item(
        ref=DISK_PREFIX + medium.label, pk=None, kind=EquipmentKind.EXTERNAL_DISK.value,
        name=medium.label, serial=h.serial if h else "", location=_medium_place(medium),
        condition=Condition.INACTIVE.value if retired else "",
        retired_at=custody.since if retired and custody else None, medium=medium, health=h)


def _from_safe(safe: Safe) -> Item:
    return Item(ref=SAFE_PREFIX + safe.name, pk=None, kind=EquipmentKind.SAFE.value,
                name=safe.name, location=safe.location, notes=safe.description, safe=safe)


def all_items() -> list[Item]:
    """Every item, recorded or known (no role check: the dashboard's and the report's
    warnings; the pages and the CLI use ``equipment_items``)."""
    return _items(whole=True)


def _items(*, whole: bool) -> list[Item]:
    """``all_items``; without ``whole``, only what ``equipment_warnings`` reads (the
    dashboard's, on every visit): no last check (no warning reads it) and no safe that no
    record names (its item has no check date, condition or disk: nothing to warn of),
    two queries fewer."""
    rows = list(Equipment.objects.select_related(
        "responsible", "medium", "medium__custody", "medium__custody__safe", "safe"))
    health = _latest_health()
    checks: dict[int, date] = dict(MaintenanceEntry.objects.values("equipment_id").annotate(
        last=Max("on")).values_list("equipment_id", "last")) if whole else {}
    items = [_from_row(r, health, checks) for r in rows]
    linked_media = {r.medium_id for r in rows if r.medium_id}
    linked_safes = {r.safe_id for r in rows if r.safe_id}
    items += [_from_medium(m, health) for m in Medium.objects.select_related(
        "custody", "custody__safe").exclude(pk__in=linked_media)]
    if whole:
        items += [_from_safe(s) for s in Safe.objects.exclude(pk__in=linked_safes)]
    order = {k.value: i for i, k in enumerate(EquipmentKind)}
    items.sort(key=lambda i: (order.get(i.kind, 99), i.name.lower(), i.pk or 0))
    return items


def equipment_items(*, actor: User, via: str = "", target: str = "",
                    include_retired: bool = True) -> list[Item]:
    require_audited(actor, Action.VIEW_EQUIPMENT, target=target, via=via)
    items = all_items()
    return items if include_retired else [i for i in items if i.active]


def _number(text: str) -> bool:
    """A row number as typed: ASCII digits only ("²" and "١" are digits to Python but no
    number int() takes), and short enough for the database's integer."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def item_resolve(ref: str) -> Item:
    """An item by its reference: a number, ``disk:LABEL`` (or a disk's id) or
    ``brankas:NAME`` (or ``safe:NAME``); a disk or safe that is recorded comes back as
    its row."""
    from brankas.web.custody.selectors import medium_resolve, safe_get

    ref = (ref or "").strip()
    row: Equipment | None = None
    if _number(ref):
        row = Equipment.objects.filter(pk=int(ref)).first()
        if row is None:
            raise NotFound("equipment_not_found", ref=ref)
    elif ref.lower().startswith(DISK_PREFIX):
        try:
            medium = medium_resolve(ref[len(DISK_PREFIX):])
        except NotFound:
            raise NotFound("equipment_not_found", ref=ref) from None
        row = Equipment.objects.filter(medium=medium).first()
        if row is None:
            return _from_medium(Medium.objects.select_related(
                "custody", "custody__safe").get(pk=medium.pk), _latest_health())
    elif ref.lower().startswith(SAFE_ID_PREFIX) and _number(ref[len(SAFE_ID_PREFIX):]):
        safe_row = Safe.objects.filter(pk=int(ref[len(SAFE_ID_PREFIX):])).first()
        if safe_row is None:
            raise NotFound("equipment_not_found", ref=ref)
        row = Equipment.objects.filter(safe=safe_row).first()
        if row is None:
            return _from_safe(safe_row)
    elif ref.lower().startswith(SAFE_ALIASES):
        try:
            safe = safe_get(ref.split(":", 1)[1])
        except NotFound:
            raise NotFound("equipment_not_found", ref=ref) from None
        row = Equipment.objects.filter(safe=safe).first()
        if row is None:
            return _from_safe(safe)
    else:
        raise NotFound("equipment_not_found", ref=ref)
    last = row.log.order_by("-on", "-id").first()
    return _from_row(row, _latest_health(), {row.pk: last.on} if last else {})


def equipment_item(*, actor: User, ref: str, via: str = "", target: str = "") -> Item:
    require_audited(actor, Action.VIEW_EQUIPMENT, target=target or ref, via=via)
    return item_resolve(ref)


def item_log(item: Item) -> QuerySet[MaintenanceEntry]:
    if item.pk is None:
        return MaintenanceEntry.objects.none()
    return MaintenanceEntry.objects.filter(equipment_id=item.pk).select_related(
        "actor").order_by("-on", "-id")


def item_health(item: Item, limit: int = 20) -> list[DiskHealth]:
    if item.medium is None:
        return []
    return list(DiskHealth.objects.filter(medium=item.medium).order_by("-at", "-id")[:limit])


# -- warnings -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EquipmentWarning:
    code: str  # advice.WARNINGS
    params: dict[str, Any]
    ref: str  # the item it is about
    url_ref: str = ""  # the same in a page's address (``Item.url_ref``)

    def text(self, lang: str = "id") -> str:
        return advice.text(self.code, self.params, lang)


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _size(n: int | None) -> str:
    """A size on the paper (Bahasa Indonesia), as the report's other sizes."""
    return "-" if n is None else numbers.size(n)


def _months(since: date, today: date) -> int:
    return (today.year - since.year) * 12 + today.month - since.month \
        - (1 if today.day < since.day else 0)


def equipment_warnings(items: list[Item] | None = None,
                       today: date | None = None) -> list[EquipmentWarning]:
    """Checks overdue, items in rusak condition, and of the disks in use: SMART failed,
    failure-predicting counters that rose at the latest reading, full within
    ``BRANKAS_DISK_FULL_RUNS`` runs, in use longer than ``BRANKAS_DISK_MAX_AGE_MONTHS``."""
    settings = brankas_settings()
    today = today or timezone.localdate()
    out: list[EquipmentWarning] = []
    for item in items if items is not None else _items(whole=False):
        if not item.active:
            continue
        if item.medium is not None:
            custody = getattr(item.medium, "custody", None)
            if custody is not None and custody.state in (MediumState.RETIRED.value,
                                                         MediumState.LOST.value):
                continue
        name = f"{item.kind_label} {item.name}"
        if item.next_check_due is not None and item.next_check_due < today:
            out.append(EquipmentWarning("check_overdue", {
                "item": name, "ref": item.ref, "due": item.next_check_due.isoformat(),
                "days": (today - item.next_check_due).days}, item.ref, item.url_ref))
        if item.condition in DAMAGED_CONDITIONS:
            out.append(EquipmentWarning("damaged", {
                "item": name, "ref": item.ref, "condition": item.condition_label},
                item.ref, item.url_ref))
        if item.medium is None:
            continue
        disk = item.medium.label
        h = item.health
        if h is not None and h.status == "failed":
            out.append(EquipmentWarning("smart_failed", {"disk": disk, "when": _when(h.at)},
                                        item.ref, item.url_ref))
        if h is not None and h.rose:
            out.append(EquipmentWarning("counters_rose", {
                "disk": disk, "when": _when(h.at), "rose": h.rose},
                item.ref, item.url_ref))
        if h is not None and h.runs_left is not None and h.runs_left <= settings.disk_full_runs:
            out.append(EquipmentWarning("full_soon", {
                "disk": disk, "runs": h.runs_left, "free_bytes": h.free_bytes},
                item.ref, item.url_ref))
        since = item.acquired or timezone.localtime(item.medium.first_used_at).date()
        months = _months(since, today)
        if months > settings.disk_max_age_months:
            out.append(EquipmentWarning("disk_old", {
                "disk": disk, "months": months, "since": since.isoformat(),
                "limit": settings.disk_max_age_months}, item.ref, item.url_ref))
    return out


# -- the backup report's section -----------------------------------------------------------

def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def equipment_figures(low: datetime, high: datetime) -> dict[str, Any]:
    """The condition of the equipment in the period [low, high): the items, the checks
    and repairs logged, the disks' health read, the problems found, and the warnings
    standing when the report was gathered (all text in Bahasa Indonesia)."""
    items = all_items()
    entries = list(MaintenanceEntry.objects.filter(
        recorded_at__gte=low, recorded_at__lt=high).select_related("equipment", "actor")
        .order_by("on", "id"))
    readings = list(DiskHealth.objects.filter(at__gte=low, at__lt=high)
                    .select_related("medium").order_by("at", "id"))
    latest: dict[int, DiskHealth] = {}
    for h in readings:
        latest[h.medium_id] = h
    problems = []
    for e in entries:
        if e.condition_after in DAMAGED_CONDITIONS:
            problems.append([e.on.isoformat(), e.equipment.name,
                             f"kondisi {CONDITION_LABELS[Condition(e.condition_after)]}: "
                             f"{e.work}"])
    for h in readings:
        if h.status == "failed":
            problems.append([_when(h.at), h.medium.label, "status SMART GAGAL"])
        if h.rose:
            problems.append([_when(h.at), h.medium.label,
                             "penghitung kerusakan naik: " + advice.which_text(h.rose)])
    warnings = equipment_warnings(items)
    return {
        "items": [[i.ref, i.kind_label, i.name, i.condition_label or "belum dicatat",
                   i.next_check_due.isoformat() if i.next_check_due else "-",
                   i.responsible_name or "-"] for i in items if i.active],
        "items_inactive": sum(1 for i in items if not i.active),
        "checks": [[e.on.isoformat(), e.equipment.name, e.actor.display(), e.work,
                    CONDITION_LABELS[Condition(e.condition_after)]] for e in entries],
        "health": [[h.medium.label, _when(h.at), advice.STATUS_WORDS[h.status][0],
                    _n(h.power_on_hours), _n(h.temperature), _n(h.reallocated),
                    _n(h.pending), _n(h.uncorrectable), _n(h.crc_errors),
                    _size(h.free_bytes), _n(h.runs_left)]
                   for h in sorted(latest.values(), key=lambda h: h.medium.label)],
        "problems": problems,
        "warnings": [w.text("id") for w in warnings],
    }


def equipment_counts(low: datetime, high: datetime) -> dict[str, int]:
    """The executive summary's equipment figures: items in service, checks and repairs
    logged in the period, problems found in it, warnings standing now."""
    figures = equipment_figures(low, high)
    return {"equipment_items": len(figures["items"]),
            "equipment_checks": len(figures["checks"]),
            "equipment_problems": len(figures["problems"]),
            "equipment_warnings": len(figures["warnings"])}
