"""The audit log page: who sees it, filters, pagination, stored markup escaped, and the CSV
export (formula-safe, itself audited)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.web.ui.conftest import text_of


def add(actor: str, action: str, target: str = "", outcome: str = "ok"):  # type: ignore[no-untyped-def]
    from brankas.web.audit.services import audit_record

    return audit_record(actor=actor, action=action, target=target, outcome=outcome)


@pytest.mark.parametrize(("name", "sees"), [("admin", True), ("kasi", True), ("kabid", True),
                                            ("kadis", False), ("operator", False)])
def test_only_admin_kasi_and_kabid_see_the_log(signed_in, name, sees):
    from brankas.web.audit.models import AuditEvent

    client = signed_in(name)
    assert ('href="/audit/"' in text_of(client.get("/"))) is sees
    r = client.get("/audit/")
    assert r.status_code == (200 if sees else 403)
    assert client.get("/audit/export.csv").status_code == (200 if sees else 403)
    if not sees:
        refusals = AuditEvent.objects.filter(actor=name, action="access.denied",
                                             detail__action="view-audit")
        assert refusals.count() == 2


def test_filters_by_user_action_outcome_text_and_date(signed_in):
    add("kasi", "document.open", "M-2026-0007")
    add("kabid", "document.open", "M-2026-0008", outcome="denied")
    add("kabid", "backup.run", "3")
    client = signed_in("admin")

    def rows(**params: str) -> list[str]:
        page = client.get("/audit/", params).content.decode()
        page = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
        return [t for t in ("M-2026-0007", "M-2026-0008", "backup.run") if t in page]

    assert rows() == ["M-2026-0007", "M-2026-0008", "backup.run"]
    assert rows(actor="kabid") == ["M-2026-0008", "backup.run"]
    assert rows(action="document.") == ["M-2026-0007", "M-2026-0008"]
    assert rows(outcome="denied") == ["M-2026-0008"]
    assert rows(q="0007") == ["M-2026-0007"]
    today = dt.date.today()
    assert rows(since=(today + dt.timedelta(days=1)).isoformat()) == []
    assert rows(until=(today - dt.timedelta(days=1)).isoformat()) == []
    assert len(rows(since=today.isoformat(), until=today.isoformat())) == 3


def test_the_log_is_paginated(signed_in):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.services import AuditEntry, audit_record_many

    audit_record_many([AuditEntry(actor="kasi", action="test.bulk", target=f"T-{i:03d}")
                       for i in range(120)])
    client = signed_in("kabid")
    first = text_of(client.get("/audit/", {"action": "test.bulk"}))
    assert "120 entri" in first and "T-119" in first and "T-069" not in first
    assert "Halaman 1 dari 3" in first
    third = text_of(client.get("/audit/", {"action": "test.bulk", "page": "3"}))
    assert "T-000" in third and "T-020" not in third
    assert AuditEvent.objects.filter(action="test.bulk").count() == 120


def test_markup_in_an_entry_is_escaped(signed_in):
    add("kasi", "document.view", "<script>alert('x')</script>")
    raw = signed_in("admin").get("/audit/").content.decode()
    assert "<script>alert" not in raw and "&lt;script&gt;" in raw


def test_the_export_is_formula_safe_filtered_and_audited(signed_in):
    from brankas.web.audit.models import AuditEvent

    add("kasi", "document.view", "=HYPERLINK(\"http://x.invalid\",\"klik\")")
    add("kabid", "document.view", "@SUM(A1)")
    add("kabid", "backup.run", "-1+2")
    r = signed_in("kasi").get("/audit/export.csv", {"action": "document."})
    assert r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"].startswith('attachment; filename="log-audit-')
    assert r.streaming  # issue 15: a million entries are never held in memory
    # audited before the first byte is sent (the stream not read yet)
    assert AuditEvent.objects.filter(action="audit.export", actor="kasi").exists()
    body = b"".join(r.streaming_content)
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:6] == ["No.", "Waktu", "Pengguna", "Tindakan", "Sasaran", "Hasil"]
    targets = [row[4] for row in rows]
    assert targets == ["'=HYPERLINK(\"http://x.invalid\",\"klik\")", "'@SUM(A1)"]
    from django.utils import timezone

    first = AuditEvent.objects.get(seq=int(rows[0][0]))  # the office's time zone, its offset
    assert rows[0][1] == timezone.localtime(first.at).isoformat()
    assert rows[0][1].endswith(timezone.localtime(first.at).strftime("%z")[:3] + ":"
                               + timezone.localtime(first.at).strftime("%z")[3:])
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == "kasi" and export.detail["entries"] == 2
    assert export.detail["filters"] == {"action": "document."}


def test_the_chain_check_shows_the_counter_and_each_approved_reports_head(signed_in, office):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.reports.services import (
        report_approve,
        report_create,
        report_forward,
        report_submit,
    )
    from tests import auditforge
    from tests.web.reports.conftest import SIGNING, add_signer_keys

    u = office.users
    add_signer_keys(u)
    report = report_create(actor=u["operator"], kind="messages", period="2026-11")
    report_submit(actor=u["operator"], number=report.number, passphrase=SIGNING["operator"])
    report_forward(actor=u["kasi"], number=report.number, summary="Ringkasan.",
                   passphrase=SIGNING["kasi"])
    report = report_approve(actor=u["kabid"], number=report.number,
                            passphrase=SIGNING["kabid"])
    for i in range(3):
        add("kasi", "document.view", f"M-2026-{i:04d}")
    client = signed_in("kasi")
    assert 'href="/audit/verify/"' in text_of(client.get("/audit/"))
    page = text_of(client.get("/audit/verify/"))
    assert "Utuh:" in page and "Ditemukan masalah" not in page
    assert f"laporan {report.number}" in page and f"#{report.audit_seq} " in page
    assert "cocok" in page

    end = AuditEvent.objects.order_by("-seq").first().seq
    auditforge.cut_tail(report.audit_seq - 1)  # the report's head and what followed
    page = text_of(client.get("/audit/verify/"))
    assert "Ditemukan masalah:" in page
    assert (f"entri #{report.audit_seq}–#{end} hilang: log sudah menghitung sampai #{end}"
            in page)
    assert (f"entri setelah #{report.audit_seq - 1} hilang; laporan {report.number} "
            f"mencatat #{report.audit_seq}") in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = text_of(client.get("/audit/verify/"))
    assert f"entries after #{report.audit_seq - 1} are missing; report {report.number}" in page


@pytest.mark.parametrize("name", ["kadis", "operator"])
def test_the_chain_check_is_for_those_who_read_the_log(signed_in, name):
    assert signed_in(name).get("/audit/verify/").status_code == 403
