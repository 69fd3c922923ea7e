"""The dashboard's equipment warnings read fewer items than the register of equipment (no
last check, no safe no record names: web/equipment/selectors.py ``_items``): they are the
warnings of every item, one by one (s24)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def test_the_warnings_read_alone_are_those_of_every_item(office, settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from brankas.web.backup.models import Medium
    from brankas.web.custody.services import safe_add
    from brankas.web.equipment.selectors import all_items, equipment_warnings
    from brankas.web.equipment.services import equipment_add, equipment_log

    operator = office.users["operator"]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, disk_max_age_months=12)
    today = dt.date(2026, 2, 1)
    laptop = equipment_add(actor=operator, kind="komputer-laptop", name="Laptop Sandi",
                           next_check_due="2026-01-10")
    equipment_log(actor=operator, ref=str(laptop.pk), work="Dicek", condition="rusak-ringan",
                  next_check_due="2026-01-20")
    equipment_add(actor=operator, kind="peralatan-enkripsi", name="Token",
                  condition="rusak-berat")
    safe_add(actor=operator, name="Brankas-A", location="Ruang Sandi", combination="12-34-56")
    safe_add(actor=operator, name="Brankas-B", location="Gudang", combination="65-43-21")
    equipment_add(actor=operator, safe="Brankas-B", next_check_due="2026-01-05")
    old = timezone.now() - dt.timedelta(days=800)
    Medium.objects.create(medium_id="0f0e0d0c-0000-4000-8000-000000000001", label="DISK-LAMA",
                          first_used_at=old, last_used_at=old)
    Medium.objects.create(medium_id="0f0e0d0c-0000-4000-8000-000000000002", label="DISK-BARU",
                          first_used_at=timezone.now(), last_used_at=timezone.now())

    def seen(warnings):  # type: ignore[no-untyped-def]
        return [(w.code, w.ref, w.url_ref, w.params) for w in warnings]

    alone = seen(equipment_warnings(today=today))
    assert alone == seen(equipment_warnings(all_items(), today=today))
    assert {code for code, *_ in alone} == {"check_overdue", "damaged", "disk_old"}
    assert len([c for c, *_ in alone if c == "check_overdue"]) == 2  # the laptop, the safe
