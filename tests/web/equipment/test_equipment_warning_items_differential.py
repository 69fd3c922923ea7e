"""Review (s24): the dashboard's equipment warnings read from fewer items (f91c1b5: no last
check, no safe no record names) are those read from every item (main's list) over many
generated registers: items of every kind and condition, checks due before, on and after
today, retired items, linked and unlinked safes, several disks with and without health
readings (failed, counters risen, nearly full), old and new."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone


def test_the_warnings_are_those_of_every_item_over_generated_registers(office, settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from brankas.core.terms import Condition, EquipmentKind
    from brankas.web.backup.models import Medium
    from brankas.web.custody.models import Safe
    from brankas.web.equipment.models import DiskHealth, Equipment, MaintenanceEntry
    from brankas.web.equipment.selectors import all_items, equipment_warnings

    operator = office.users["operator"]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, disk_max_age_months=12)
    today = dt.date(2026, 6, 15)
    rng = random.Random(24)
    now = timezone.now()
    dues = [None, today - dt.timedelta(days=1), today, today + dt.timedelta(days=1),
            today - dt.timedelta(days=400)]
    seen: set[str] = set()

    def shown(warnings):  # type: ignore[no-untyped-def]
        return [(w.code, w.ref, w.url_ref, w.params) for w in warnings]

    for rnd in range(30):
        MaintenanceEntry.objects.all().delete()
        Equipment.objects.all().delete()
        DiskHealth.objects.all().delete()
        Medium.objects.all().delete()
        # the safes of earlier rounds stay: unlinked safes, more of them each round
        safes = [Safe.objects.create(name=f"S{rnd}-{i}", location="Ruang", created_by=operator,
                                     created_at=now) for i in range(rng.choice([0, 1, 3]))]
        media = []
        for i in range(rng.choice([0, 1, 2, 4])):
            first = now - dt.timedelta(days=rng.choice([1, 200, 800, 2000]))
            m = Medium.objects.create(medium_id=f"0f0e0d0c-0000-4000-8000-{rnd:06d}{i:06d}",
                                      label=f"DISK-{rnd}-{i}", first_used_at=first,
                                      last_used_at=first)
            media.append(m)
            for _ in range(rng.choice([0, 1, 2])):
                DiskHealth.objects.create(
                    medium=m, source="backup", at=now - dt.timedelta(hours=rng.randint(1, 99)),
                    status=rng.choice(["passed", "failed"]) if rng.random() < 0.9 else "passed",
                    rose=rng.choice([[], [["reallocated", 0, 3]]]),
                    runs_left=rng.choice([None, 0, 1, 50]))
        for i in range(rng.choice([0, 1, 3, 6])):
            link = rng.random()
            medium = media.pop() if media and link < 0.3 else None
            safe = safes.pop() if safes and medium is None and link < 0.6 else None
            kind = (EquipmentKind.EXTERNAL_DISK if medium else EquipmentKind.SAFE if safe
                    else rng.choice([k for k in EquipmentKind if k not in (
                        EquipmentKind.EXTERNAL_DISK, EquipmentKind.SAFE)]))
            row = Equipment.objects.create(
                kind=kind.value, name=f"Item {rnd}-{i}",
                condition=rng.choice(list(Condition)).value,
                next_check_due=rng.choice(dues), medium=medium, safe=safe,
                acquired=rng.choice([None, today - dt.timedelta(days=900)]),
                retired_at=now if rng.random() < 0.15 else None,
                created_by=operator, created_at=now)
            if rng.random() < 0.5:
                MaintenanceEntry.objects.create(equipment=row, on=today, work="Dicek",
                                                actor=operator, recorded_at=now)
        alone = shown(equipment_warnings(today=today))
        assert alone == shown(equipment_warnings(all_items(), today=today)), rnd
        seen |= {code for code, *_ in alone}
    assert {"check_overdue", "damaged", "smart_failed", "counters_rose", "full_soon",
            "disk_old"} <= seen
