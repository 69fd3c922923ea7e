"""The equipment register, its log and the disks' health through the services and the
pages (real SQLite, real disks in temporary folders, real backups); the disk's health
comes from recorded ``smartctl --json`` outputs through ``BRANKAS_SMART_JSON``
(``settings.BRANKAS.smart_json``), the product's own seam, so the parsing, the
recording and the warnings all run as they do in an office."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from brankas.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.backup.models import Medium
from brankas.web.backup.restore import backup_drill
from brankas.web.backup.services import backup_run, medium_verify
from brankas.web.custody.services import safe_add
from brankas.web.documents.services import document_register
from brankas.web.equipment.models import DiskHealth, Equipment, MaintenanceEntry
from brankas.web.equipment.selectors import (
    all_items,
    equipment_items,
    equipment_warnings,
    item_resolve,
)
from brankas.web.equipment.services import equipment_add, equipment_log, equipment_retire
from brankas.web.reports.services import report_create, report_export
from tests.conftest import make_pdf

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "smartctl"


def register(office, subject: str) -> None:  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="pengiriman", classification="biasa", number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    document_register(actor=office.users["operator"], meta=meta,
                      files=[InputFile.from_bytes("a.pdf", make_pdf(text=subject))])


def use_recorded(settings, tmp_path: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The recorded output ``name`` as the disk's health from now on."""
    target = tmp_path / "smartctl.json"
    shutil.copyfile(RECORDED / name, target)
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, smart_json=target)
    return target


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# -- the register and its rules ------------------------------------------------------------

def test_the_sandiman_records_and_the_kasi_and_kabid_review(office) -> None:  # type: ignore[no-untyped-def]
    users = office.users
    row = equipment_add(actor=users["operator"], kind="Pemindai", name="Scanner Canon DR-C225",
                        serial="CN-8812", location="Ruang Persandian", responsible="operator",
                        acquired="2024-03-01", next_check_due="2027-01-31")
    assert (row.kind, row.condition, row.responsible.username) == ("pemindai", "baik",
                                                                    "operator")
    for who in ("kasi", "kabid", "operator"):
        refs = [i.ref for i in equipment_items(actor=users[who], via="test")]
        assert str(row.pk) in refs
    for who in ("kadis", "admin"):
        with pytest.raises(AccessDenied):
            equipment_items(actor=users[who], via="test")
    for who in ("kasi", "kabid", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            equipment_add(actor=users[who], kind="lainnya", name="X")
        with pytest.raises(AccessDenied):
            equipment_log(actor=users[who], ref=str(row.pk), work="cek", condition="baik")
    denied = AuditEvent.objects.filter(action="access.denied")
    assert {e.actor for e in denied} == {"kasi", "kabid", "kadis", "admin"}

    entry = equipment_log(actor=users["operator"], ref=str(row.pk),
                          work="Roller macet, dibersihkan", condition="rusak-ringan",
                          on="2026-11-30", next_check_due="2026-12-15")
    row.refresh_from_db()
    assert (row.condition, row.next_check_due) == ("rusak-ringan", dt.date(2026, 12, 15))
    assert entry.on == dt.date(2026, 11, 30) and entry.actor == users["operator"]
    retired = equipment_retire(actor=users["operator"], ref=str(row.pk), reason="diganti")
    assert retired.condition == "tidak-aktif" and retired.retired_at is not None
    with pytest.raises(Conflict):
        equipment_log(actor=users["operator"], ref=str(row.pk), work="x", condition="baik")
    actions = list(AuditEvent.objects.filter(
        target=str(row.pk), action__startswith="equipment.").values_list(
        "action", flat=True))
    assert actions == ["equipment.add", "equipment.log", "equipment.retire"]
    assert MaintenanceEntry.objects.filter(equipment=row).count() == 2  # the log stays


@pytest.mark.parametrize(("field", "value", "code"), [
    ("kind", "mesin-tik", "equipment_kind_invalid"),
    ("condition", "bagus", "equipment_condition_invalid"),
    ("acquired", "31-12-2024", "equipment_date_invalid"),
    ("name", "", "field_required"),
])
def test_bad_values_are_refused_and_nothing_is_stored(office, field, value, code) -> None:  # type: ignore[no-untyped-def]
    fields = {"kind": "lainnya", "name": "Printer", "condition": "baik", "acquired": None}
    fields[field] = value
    with pytest.raises(InvalidInput) as caught:
        equipment_add(actor=office.users["operator"], **fields)
    assert caught.value.code == code
    assert not Equipment.objects.exists()


def test_known_disks_and_safes_are_equipment_without_being_entered_twice(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    use_recorded(settings, tmp_path, "sata-healthy.json")
    safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
             combination="12-34-56")
    register(office, "Surat pertama")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="DISK-01")
    refs = [i.ref for i in all_items()]
    assert refs.count("disk:DISK-01") == 1 and refs.count("brankas:Brankas-A") == 1
    disk = item_resolve("disk:DISK-01")
    assert disk.pk is None and disk.kind == "hard-disk-eksternal"
    assert disk.serial == "WD-WXB2A91KLP37" and disk.health.status == "good"
    # The first record about it links it; it is still listed once.
    equipment_log(actor=office.users["operator"], ref="disk:DISK-01", work="Dicek fisik",
                  condition="baik", next_check_due="2027-06-01")
    row = Equipment.objects.get(medium__label="DISK-01")
    refs = [i.ref for i in all_items()]
    assert str(row.pk) in refs and "disk:DISK-01" not in refs
    assert item_resolve("disk:DISK-01").pk == row.pk
    with pytest.raises(Conflict) as caught:
        equipment_add(actor=office.users["operator"], disk="DISK-01")
    assert caught.value.code == "equipment_linked"
    linked = equipment_add(actor=office.users["operator"], safe="Brankas-A",
                           next_check_due="2027-01-01")
    assert (linked.kind, linked.name, linked.location) == ("brankas", "Brankas-A",
                                                          "Ruang Sandi")
    assert [i.ref for i in all_items()].count(str(linked.pk)) == 1
    with pytest.raises(NotFound):
        item_resolve("disk:NOPE")


def test_an_overdue_check_and_a_damaged_item_warn_with_what_to_do(office) -> None:  # type: ignore[no-untyped-def]
    users = office.users
    laptop = equipment_add(actor=users["operator"], kind="komputer-laptop", name="Laptop Sandi",
                           next_check_due="2026-01-10")
    crypto = equipment_add(actor=users["operator"], kind="peralatan-enkripsi", name="Token",
                           condition="rusak-berat")
    equipment_add(actor=users["operator"], kind="pemindai", name="Baik saja",
                  next_check_due="2099-01-01")
    warnings = equipment_warnings(today=dt.date(2026, 2, 1))
    assert [(w.code, w.ref) for w in warnings] == [("check_overdue", str(laptop.pk)),
                                                   ("damaged", str(crypto.pk))]
    assert "22 hari" in warnings[0].text("id")
    assert f"brankas equipment log {laptop.pk}" in warnings[0].text("en")
    assert f"brankas equipment retire {crypto.pk}" in warnings[1].text("en")
    equipment_retire(actor=users["operator"], ref=str(crypto.pk), reason="rusak total")
    assert [w.code for w in equipment_warnings(today=dt.date(2026, 2, 1))] == [
        "check_overdue"]


# -- the full path: a backup to a disk whose health turns bad --------------------------------

def test_a_disk_turning_bad_raises_the_warning_and_appears_in_the_report(
        office, settings, tmp_path: Path, client) -> None:  # type: ignore[no-untyped-def]
    operator = office.users["operator"]
    dest = tmp_path / "disk"
    recorded = use_recorded(settings, tmp_path, "sata-healthy.json")
    register(office, "Surat satu")
    backup_run(actor=operator, dest=dest, label="DISK-07")
    first = DiskHealth.objects.get()
    assert (first.source, first.status, first.reallocated, first.rose) == ("backup", "good",
                                                                          0, [])
    assert first.free_bytes and first.run.number == 1
    assert first.runs_left is None  # the first run copied the archive: no growth rate yet
    assert equipment_warnings() == []

    # The next run finds sectors reallocated and pending: the counters rose.
    shutil.copyfile(RECORDED / "sata-reallocating.json", recorded)
    register(office, "Surat dua")
    backup_run(actor=operator, dest=dest)
    second = DiskHealth.objects.order_by("-id").first()
    assert second.status == "good"  # still PASSED: the counters are what warns
    assert second.rose == [["reallocated", 0, 8], ["pending", 0, 3], ["uncorrectable", 0, 1]]
    [warning] = equipment_warnings()
    assert warning.code == "counters_rose"
    assert "sektor dialokasikan ulang 0 → 8" in warning.text("id")
    assert "brankas media retire DISK-07" in warning.text("id")
    audit = AuditEvent.objects.filter(action="backup.disk_health").order_by("seq").last()
    assert audit.detail["rose"] == second.rose and audit.target == "DISK-07"
    assert audit.outcome == "ok"  # the audit's one vocabulary (web/audit/outcomes.py)

    client.force_login(operator)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Penghitung kerusakan disk DISK-07 naik" in page
    client.cookies["django_language"] = "en"
    page = client.get("/").content.decode()
    assert "The failure-predicting counters of disk DISK-07 rose" in page
    client.force_login(office.users["kadis"])  # the Kadis does not see the register
    assert "DISK-07 rose" not in client.get("/").content.decode()

    # A verification reads it again: the self-assessment now FAILED.
    shutil.copyfile(RECORDED / "sata-failing.json", recorded)
    medium_verify(actor=operator, dest=dest, mode="fast")
    third = DiskHealth.objects.order_by("-id").first()
    assert (third.source, third.status, third.medium_check.kind) == ("verify", "failed",
                                                                    "verify")
    assert [w.code for w in equipment_warnings()] == ["smart_failed", "counters_rose"]
    assert AuditEvent.objects.filter(action="backup.disk_health").order_by("seq").last() \
        .outcome == "failed"

    month = timezone.localdate().strftime("%Y-%m")
    report = report_create(actor=operator, kind="backup", period=month)
    equipment = report.data["equipment"]
    assert [row[0] for row in equipment["health"]] == ["DISK-07"]
    assert equipment["health"][0][2] == "GAGAL"
    problems = [row[2] for row in equipment["problems"]]
    assert "status SMART GAGAL" in problems
    assert any(p.startswith("penghitung kerusakan naik: sektor dialokasikan ulang 0 → 8")
               for p in problems)
    key = report.data["key"]
    assert key["equipment_problems"] == len(problems) >= 3
    assert key["equipment_warnings"] == 2
    text = pdf_text(report_export(actor=operator, number=report.number, fmt="pdf"))
    assert "Kesehatan disk back up (SMART) dalam periode" in text
    assert "Masalah peralatan yang ditemukan dalam periode" in text
    assert "melaporkan status SMART GAGAL" in text
    # Dates and times as on the rest of the paper ("5 Desember 2026 14.30"), never raw ISO
    # stamps; "back up" kept on one line in the narrow column's heading.
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), text
    assert "back\nup" not in text.replace(" \n", "\n")


def test_a_drill_records_health_and_an_unreadable_disk_is_unknown(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No recorded output: the real path (the folder's device, smartctl when installed).
    A temporary folder's disk is no SMART disk here: unknown, never good, no warning."""
    register(office, "Surat")
    dest = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=dest, label="DISK-09")
    backup_drill(actor=office.users["operator"], dest=dest)
    readings = list(DiskHealth.objects.order_by("id"))
    assert [r.source for r in readings] == ["backup", "drill"]
    assert readings[1].medium_check is not None
    for r in readings:
        assert r.status != "good" or r.device  # good only from a real disk's own answer
        if r.status == "unknown":
            assert r.reason
    assert not [w for w in equipment_warnings() if w.code in ("smart_failed", "counters_rose")]


def test_a_disk_filling_up_or_too_old_warns(office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    use_recorded(settings, tmp_path, "nvme-healthy.json")
    register(office, "Surat")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="DISK-03")
    assert DiskHealth.objects.get().runs_left is None  # a fresh disk: no growth rate yet
    register(office, "Surat kedua")
    run = backup_run(actor=office.users["operator"], dest=tmp_path / "disk").run
    reading = DiskHealth.objects.order_by("-id").first()
    assert reading.media_errors == 0
    # Review: the rate is what the later runs add, not the first run's whole archive.
    assert run.number == 2 and reading.runs_left == reading.free_bytes // run.bytes_added
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS,
                                           disk_full_runs=reading.runs_left + 1,
                                           disk_max_age_months=12)
    Medium.objects.update(first_used_at=timezone.now() - dt.timedelta(days=800))
    codes = {w.code: w for w in equipment_warnings()}
    assert set(codes) == {"full_soon", "disk_old"}
    assert f"sekitar {reading.runs_left} kali back up lagi" in codes["full_soon"].text("id")
    assert "limit 12 months" in codes["disk_old"].text("en")


# -- outside review (s17 rev) ----------------------------------------------------------------

def test_a_rise_is_named_though_an_unreadable_reading_came_between(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Backup (healthy, 0 reallocated), a verification where the disk could not be read
    (unknown: no counters), then a backup that finds 8 reallocated: the rise is since the
    last reading that knew the counter, not lost behind the unknown one."""
    operator = office.users["operator"]
    dest = tmp_path / "disk"
    recorded = use_recorded(settings, tmp_path, "sata-healthy.json")
    register(office, "Surat satu")
    backup_run(actor=operator, dest=dest, label="DISK-11")
    recorded.write_text("not json")  # the reading in between: unknown
    medium_verify(actor=operator, dest=dest, mode="fast")
    assert DiskHealth.objects.order_by("-id").first().status == "unknown"
    shutil.copyfile(RECORDED / "sata-reallocating.json", recorded)
    register(office, "Surat dua")
    backup_run(actor=operator, dest=dest)
    last = DiskHealth.objects.order_by("-id").first()
    assert last.rose == [["reallocated", 0, 8], ["pending", 0, 3], ["uncorrectable", 0, 1]]
    assert [w.code for w in equipment_warnings()] == ["counters_rose"]


def test_absurd_smart_numbers_do_not_lose_the_reading(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A reading with numbers beyond any column is still recorded (the status, the other
    values); before, the database refused the row and the hook swallowed it: no reading."""
    import json
    data = json.loads((RECORDED / "sata-failing.json").read_text())
    data["power_on_time"]["hours"] = 2**70
    data["temperature"]["current"] = 2**40
    target = tmp_path / "smartctl.json"
    target.write_text(json.dumps(data))
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, smart_json=target)
    register(office, "Surat")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="DISK-12")
    reading = DiskHealth.objects.get()
    assert (reading.status, reading.power_on_hours, reading.temperature) == ("failed", None,
                                                                            None)
    assert [w.code for w in equipment_warnings()][:1] == ["smart_failed"]


def test_dates_not_yet_come_links_to_both_and_duplicates_are_refused(office) -> None:  # type: ignore[no-untyped-def]
    """Review: an item acquired tomorrow, a check done tomorrow (it would hide an overdue
    check), an item linked to a disk and a safe at once, the same kind and serial number
    entered twice: each refused, nothing stored, nothing audited as done."""
    operator = office.users["operator"]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    safe_add(actor=operator, name="Brankas-1", location="Ruang Sandi",
             combination="12-34-56")
    now = timezone.now()
    Medium.objects.create(medium_id="0f0e0d0c-0000-4000-8000-000000000001", label="DISK-A",
                          first_used_at=now, last_used_at=now)
    row = equipment_add(actor=operator, kind="pemindai", name="Pemindai-1", serial="SN-1")
    before = (Equipment.objects.count(), MaintenanceEntry.objects.count(),
              AuditEvent.objects.filter(action__startswith="equipment.").count())
    with pytest.raises(InvalidInput) as exc:
        equipment_add(actor=operator, kind="pemindai", name="Pemindai-2", acquired=tomorrow)
    assert exc.value.code == "equipment_date_future"
    with pytest.raises(InvalidInput) as exc:
        equipment_log(actor=operator, ref=str(row.pk), work="Dicek", condition="baik",
                      on=tomorrow)
    assert exc.value.code == "equipment_date_future"
    with pytest.raises(InvalidInput) as exc:
        equipment_add(actor=operator, name="Dua-duanya", disk="DISK-A", safe="Brankas-1")
    assert exc.value.code == "equipment_link_both"
    with pytest.raises(Conflict) as exc:
        equipment_add(actor=operator, kind="pemindai", name="Pemindai lagi", serial="sn-1")
    assert exc.value.code == "equipment_duplicate"
    assert (Equipment.objects.count(), MaintenanceEntry.objects.count(),
            AuditEvent.objects.filter(action__startswith="equipment.").count()) == before
    # A next check in the past is honest (it is overdue at once); a retired item's serial
    # may be entered again (a repaired item back in service under a new record).
    equipment_log(actor=operator, ref=str(row.pk), work="Dicek", condition="baik",
                  on=timezone.localdate().isoformat(), next_check_due="2020-01-01")
    equipment_retire(actor=operator, ref=str(row.pk), reason="diganti")
    equipment_add(actor=operator, kind="pemindai", name="Pemindai-1", serial="SN-1")


@pytest.mark.parametrize("ref", ["²", "١٢", "9" * 30, "brankas-id:" + "9" * 30,
                                 "brankas-id:²"])
def test_odd_numbers_as_a_reference_are_not_found(office, ref: str) -> None:  # type: ignore[no-untyped-def]
    """Review: "²" is a digit to Python but no number int() takes: a crash (ValueError,
    a server error on the page), not "not found". The others held; kept as guards."""
    with pytest.raises(NotFound):
        item_resolve(ref)


def test_one_line_fields_stay_one_line(office) -> None:  # type: ignore[no-untyped-def]
    """Review: a name, serial or location with a line break (or a terminal escape) broke
    the CLI's list line and every warning naming it; the work done keeps its lines."""
    operator = office.users["operator"]
    row = equipment_add(actor=operator, kind="pemindai", name="Pemindai\nPALSU\x1b[2J",
                        serial="S\r\n2", location="Ruang\tSandi")
    assert (row.name, row.serial, row.location) == ("Pemindai PALSU[2J", "S  2",
                                                    "Ruang Sandi")
    entry = equipment_log(actor=operator, ref=str(row.pk), work="Dicek\nkabel diganti",
                          condition="baik")
    assert entry.work == "Dicek\nkabel diganti"
    retired = equipment_retire(actor=operator, ref=str(row.pk), reason="rusak\ntotal")
    assert retired.retired_reason == "rusak total"


def test_markup_in_a_name_is_text_on_the_dashboard_and_in_the_report(
        office, client) -> None:  # type: ignore[no-untyped-def]
    """Review (held): a name with HTML/JS and ReportLab markup is shown as text on the
    dashboard and printed as text in the backup report; retiring twice is refused."""
    operator = office.users["operator"]
    name = '<script>alert(1)</script><font color="red">X</font>'
    row = equipment_add(actor=operator, kind="lainnya", name=name, condition="rusak-berat")
    client.force_login(operator)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    month = timezone.localdate().strftime("%Y-%m")
    report = report_create(actor=operator, kind="backup", period=month)
    text = pdf_text(report_export(actor=operator, number=report.number, fmt="pdf"))
    assert "<script>alert(1)</script>" in text and '<font color="red">X' in text
    equipment_retire(actor=operator, ref=str(row.pk), reason="dibuang")
    with pytest.raises(Conflict) as exc:
        equipment_retire(actor=operator, ref=str(row.pk), reason="lagi")
    assert exc.value.code == "equipment_retired"
