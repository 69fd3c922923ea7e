"""The report pages: drafting, the inbox on the dashboard, the chain with a return through
the forms, the PDF preview (inline, same-origin frame), XLSX, role refusals, and checking
an uploaded PDF. Real SQLite and real signatures; nothing is mocked."""

from __future__ import annotations

import io

import pypdf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from brankas.web.reports.models import Report
from tests.web.reports.conftest import SIGNING, add_signer_keys
from tests.web.ui.conftest import english, text_of


def test_the_chain_on_the_web_with_preview_inbox_and_verify(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    add_signer_keys(office.users)
    english(signed_in("operator"))

    def as_(name: str) -> Client:  # one test client: sign in as whoever acts next
        return signed_in(name)

    r = as_("operator").post("/reports/", {"kind": "messages", "period": "2026-13", "runs": ""})
    assert r.status_code == 400 and "period 2026-13 is invalid" in text_of(r)
    r = as_("operator").post("/reports/", {"kind": "messages", "period": "2026-11", "runs": ""})
    assert r.status_code == 302
    n = Report.objects.get().number
    assert "Reports waiting for you" in text_of(as_("operator").get("/"))
    page = text_of(as_("operator").get(f"/reports/{n}/"))
    assert "Submit to the Kasi" in page and "Return with a note" not in page
    preview = as_("operator").get(f"/reports/{n}/report.pdf")
    assert preview["Content-Type"] == "application/pdf"
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    detail = as_("operator").get(f"/reports/{n}/").content.decode()
    assert f'src="/reports/{n}/report.pdf"' in detail
    r = as_("operator").post(f"/reports/{n}/submit", {"sign-passphrase": "salah sekali"})
    assert r.status_code == 400 and "signing key passphrase is wrong" in text_of(r)
    r = as_("operator").post(f"/reports/{n}/submit", {"sign-passphrase": SIGNING["operator"]})
    assert r.status_code == 302 and Report.objects.get().state == "submitted"

    assert "Reports waiting for you" in text_of(as_("kasi").get("/"))
    r = as_("kasi").post(f"/reports/{n}/return", {"return-note": "Periode salah"})
    assert r.status_code == 302
    page = text_of(as_("operator").get(f"/reports/{n}/"))
    assert "Returned with a note:" in page and "Periode salah" in page
    as_("operator").post(f"/reports/{n}/submit", {"sign-passphrase": SIGNING["operator"]})
    # Forwarding is open on a submitted report, to the Kasi's role only: a Kadis is refused.
    r = as_("kadis").post(f"/reports/{n}/forward", {"forward-summary": "x",
                                             "forward-passphrase": SIGNING["kadis"]})
    assert r.status_code == 403 and Report.objects.get().state == "submitted"
    r = as_("kasi").post(f"/reports/{n}/forward", {"forward-summary": "Ringkasan Kasi web",
                                            "forward-passphrase": SIGNING["kasi"]})
    assert r.status_code == 302, text_of(r)

    r = as_("kadis").post(f"/reports/{n}/approve", {"sign-passphrase": SIGNING["kadis"]})
    assert r.status_code == 403  # a Kadis cannot approve (nor edit)
    # Once forwarded, forwarding is no step this report can take: refused as such (400).
    r = as_("kadis").post(f"/reports/{n}/forward", {"forward-summary": "x",
                                             "forward-passphrase": SIGNING["kadis"]})
    assert r.status_code == 400 and Report.objects.get().summary == "Ringkasan Kasi web"
    assert f"report {n} is forwarded to the Kabid; it cannot be checked and forwarded" in (
        text_of(r))
    r = as_("kabid").post(f"/reports/{n}/approve", {"sign-passphrase": SIGNING["kabid"]})
    assert r.status_code == 302
    r = as_("kadis").post(f"/reports/{n}/acknowledge", {"sign-passphrase": SIGNING["kadis"]})
    assert r.status_code == 302 and Report.objects.get().state == "acknowledged"

    shown = as_("kadis").get(f"/reports/{n}/report.pdf")
    # The detail page frames its own PDF: the CSP lets this one response be framed by us.
    assert "frame-ancestors 'self'" in shown["Content-Security-Policy"]
    assert "style=" not in as_("kadis").get(f"/reports/{n}/").content.decode()
    pdf = shown.content
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Ringkasan Kasi web" in text and "BLOK VERIFIKASI" in text
    changed = bytearray(pdf)
    changed[200] ^= 0x01  # one byte
    r = as_("kadis").post("/reports/verify", {"file": SimpleUploadedFile("l.pdf", pdf)})
    assert "Authentic:" in text_of(r)
    r = as_("kadis").post("/reports/verify", {"file": SimpleUploadedFile("l.pdf", bytes(changed))})
    assert "Not authentic:" in text_of(r)
    xlsx = as_("kadis").get(f"/reports/{n}/report.xlsx")
    assert xlsx.content[:2] == b"PK"
    assert as_("admin").get("/reports/").status_code == 403
