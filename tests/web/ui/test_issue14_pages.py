"""Issue 14 on the pages: the audit page (details, outcomes, the chain button, one view per
report preview, a wrong signing passphrase), report periods that have not begun, the
Sandiman's reply after a return, the request list's filter state and field ids, numbers
and times as on the papers, dates on forms. Real SQLite, real signatures."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record
from brankas.web.reports.models import Report
from tests.web.reports.conftest import SIGNING, add_signer_keys
from tests.web.ui.conftest import post_register, text_of


def in_language(client: Client, lang: str) -> Client:
    client.cookies["django_language"] = lang
    return client


def tbody(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""


# ---------------------------------------------------------------- the audit page

def test_audit_details_are_label_value_pairs_and_times_one_line(signed_in) -> None:  # type: ignore[no-untyped-def]
    audit_record(actor="operator", action="report.export", target="7",
                 detail={"format": "pdf", "corrects": None, "from": "submitted"})
    client = in_language(signed_in("kasi"), "id")
    page = text_of(client.get("/audit/", {"action": "report.export"}))
    rows = tbody(page)
    assert "{'format'" not in rows and "None" not in rows and "{" not in rows
    assert "<dt>format</dt><dd>pdf</dd>" in rows
    assert "<dt>mengoreksi laporan</dt><dd>—</dd>" in rows
    assert "<dt>dari</dt><dd>diajukan ke Kasi</dd>" in rows  # a state, in words
    assert re.search(r'<td class="nowrap"><time datetime="[^"]+">\d{1,2} \w+ \d{4}\xa0'
                     r'\d{2}:\d{2}:\d{2}</time></td>', rows)
    rows = tbody(text_of(in_language(client, "en").get("/audit/", {"action": "report.export"})))
    assert "<dt>corrects report</dt><dd>—</dd>" in rows
    assert "<dt>from</dt><dd>submitted to the Kasi</dd>" in rows


@pytest.mark.parametrize("lang,words", [("id", "ditolak: keadaan tidak memungkinkan"),
                                        ("en", "refused: not possible now")])
def test_every_outcome_is_translated_and_filterable(signed_in, lang, words) -> None:  # type: ignore[no-untyped-def]
    audit_record(actor="operator", action="backup.run", target="/media/x", outcome="refused",
                 detail={"error": "medium_in_safe"})
    client = in_language(signed_in("kabid"), lang)
    page = text_of(client.get("/audit/"))
    for code in ("ok", "denied", "refused", "failed"):  # one choice each
        assert f'<option value="{code}"' in page
    assert f'<option value="refused">{words}</option>' in page
    rows = tbody(text_of(client.get("/audit/", {"outcome": "refused"})))
    assert "/media/x" in rows and words in rows
    assert ">refused<" not in rows or lang == "en"
    assert "report.create" not in rows


def test_every_outcome_written_is_in_the_vocabulary() -> None:
    """The services write only outcomes the page can name and filter."""
    from pathlib import Path

    from brankas.web.audit.outcomes import OUTCOMES

    src = Path(__file__).resolve().parents[3] / "src" / "brankas"
    written = set()
    for path in src.rglob("*.py"):
        written |= set(re.findall(r'outcome="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert written and written <= set(OUTCOMES), written - set(OUTCOMES)


def test_the_chain_check_is_a_button_not_a_command(signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("kasi").get("/audit/").content.decode()
    assert re.search(r'<a class="btn" href="/audit/verify/">', page)
    assert "brankas audit verify" not in page


# ---------------------------------------------------------------- reports

def _draft(client: Client, period: str = "2026-11"):  # type: ignore[no-untyped-def]
    return client.post("/reports/", {"kind": "messages", "period": period, "runs": ""})


def test_a_preview_is_one_view_and_a_download_an_export(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("operator")
    assert _draft(client).status_code == 302
    n = Report.objects.get().number
    start = AuditEvent.objects.order_by("-seq").first().seq

    def actions() -> list[str]:
        return list(AuditEvent.objects.filter(seq__gt=start).values_list("action", flat=True))

    page = client.get(f"/reports/{n}/").content.decode()
    assert actions() == []  # the page itself writes nothing; its frame does
    frame = re.search(r'<iframe[^>]+src="([^"]+)"', page).group(1)
    r = client.get(frame)
    assert r["Content-Type"] == "application/pdf" and "inline" in r["Content-Disposition"]
    assert actions() == ["report.view"]
    link = re.search(r'href="(/reports/\d+/report\.pdf\?download)"', page).group(1)
    r = client.get(link)
    assert "attachment" in r["Content-Disposition"]
    assert actions() == ["report.view", "report.export"]


def test_a_wrong_signing_passphrase_is_audited(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    add_signer_keys(office.users)
    client = signed_in("operator")
    _draft(client)
    n = Report.objects.get().number
    r = client.post(f"/reports/{n}/submit", {"sign-passphrase": "salah sekali"})
    assert r.status_code == 400 and Report.objects.get().state == "draft"
    e = AuditEvent.objects.order_by("-seq").first()
    assert (e.actor, e.action, e.target, e.outcome) == ("operator", "report.submit", str(n),
                                                        "failed")
    assert e.detail == {"error": "signing_passphrase_wrong"}


@pytest.mark.parametrize("lang,text", [("id", "periode 2099-01 belum dimulai"),
                                       ("en", "the period 2099-01 has not begun")])
def test_a_period_that_has_not_begun_is_refused(office, signed_in, lang, text) -> None:  # type: ignore[no-untyped-def]
    client = in_language(signed_in("operator"), lang)
    r = _draft(client, "2099-01")
    assert r.status_code == 400 and Report.objects.count() == 0
    field = text_of(r).split('<label for="id_period"')[1].split('<label for="id_runs"')[0]
    assert text in field  # beside the period field
    this_month = timezone.localdate().strftime("%Y-%m")
    assert _draft(client, this_month).status_code == 302  # a period that has begun


def test_the_service_and_the_cli_refuse_a_future_period(office, run_cli, cli_office) -> None:  # type: ignore[no-untyped-def]
    from brankas.core.errors import InvalidInput
    from brankas.web.reports.services import report_create

    next_year = str(timezone.localdate().year + 1)
    with pytest.raises(InvalidInput) as info:
        report_create(actor=office.users["operator"], kind="backup", period=next_year)
    assert info.value.code == "report_period_future"
    r = run_cli("report", "create", "messages", "--period", f"{next_year}-Q1",
                user="operator")
    assert r.returncode == 1
    assert r.stderr.startswith(f"brankas: the period {next_year}-Q1 has not begun")


def test_the_sandiman_replies_to_a_return_and_gathers_the_figures_again(office, signed_in):  # type: ignore[no-untyped-def]
    add_signer_keys(office.users)
    client = signed_in("operator")
    _draft(client)
    n = Report.objects.get().number
    client.post(f"/reports/{n}/submit", {"sign-passphrase": SIGNING["operator"]})
    signed_in("kasi").post(f"/reports/{n}/return", {"return-note": "Tambahkan surat 30/11"})
    client = in_language(signed_in("operator"), "en")
    page = text_of(client.get(f"/reports/{n}/"))
    assert "Your reply to the note (optional)" in page and "Gather the figures again" in page
    before = Report.objects.get().data_sha256
    post_register(client, [("surat.pdf", b"%PDF-1.4\n%%EOF\n")])  # may be refused: no matter
    r = client.post(f"/reports/{n}/refresh")
    assert r.status_code == 302
    e = AuditEvent.objects.filter(action="report.refresh").get()
    assert e.detail["from"] == before[:16] and e.target == str(n)
    r = client.post(f"/reports/{n}/submit", {"sign-reply": "Sudah ditambahkan.",
                                             "sign-passphrase": SIGNING["operator"]})
    assert r.status_code == 302 and Report.objects.get().state == "submitted"
    history = tbody(text_of(client.get(f"/reports/{n}/")).split("history-title")[-1])
    assert "Sudah ditambahkan." in history and "submitted" in history
    # Refreshing is for a draft only, and for the Sandiman's role only.
    r = client.post(f"/reports/{n}/refresh")
    assert "no longer a draft" in text_of(client.get(r["Location"]))
    assert signed_in("kasi").post(f"/reports/{n}/refresh").status_code == 403


def test_report_pages_show_the_papers_number_steps_and_local_times(office, signed_in):  # type: ignore[no-untyped-def]
    add_signer_keys(office.users)
    client = signed_in("operator")
    _draft(client, "2026-05")
    n = Report.objects.get().number
    client.post(f"/reports/{n}/submit", {"sign-passphrase": SIGNING["operator"]})
    signed_in("kasi").post(f"/reports/{n}/forward", {"forward-summary": "Ringkas",
                                                     "forward-passphrase": SIGNING["kasi"]})
    signed_in("kabid").post(f"/reports/{n}/approve", {"sign-passphrase": SIGNING["kabid"]})
    client = in_language(signed_in("kadis"), "id")
    assert f"00{n}/LAP-BRT/2026-05" in text_of(client.get("/reports/"))
    page = text_of(client.get(f"/reports/{n}/"))
    assert f"Laporan 00{n}/LAP-BRT/2026-05" in page
    history = tbody(page.split("history-title")[-1])
    assert "diajukan" in history and "disahkan" in history
    assert not re.search(r">(submit|approve|forward)<", history)
    pdf = client.get(f"/reports/{n}/report.pdf").content
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post("/reports/verify", {"file": SimpleUploadedFile("l.pdf", pdf)})
    checked = text_of(r)
    assert "diajukan:" in checked and "disahkan:" in checked
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", checked)  # no ISO timestamps
    step = Report.objects.get().steps.get(step="approve")
    local = timezone.localtime(step.at)
    assert f"{local:%H:%M}" in checked


# ---------------------------------------------------------------- requests

class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.fors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"] or ""] += 1
        if tag == "label" and a.get("for"):
            self.fors.append(a["for"] or "")


def test_the_request_page_has_one_id_per_field(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.sendrequests.services import request_create

    req = request_create(actor=office.users["kadis"], subject="Uji", classification="biasa",
                         addressee="Uji")
    parser = _Ids()
    parser.feed(signed_in("kadis").get(f"/requests/{req.pk}/").content.decode())
    assert [i for i, n in parser.ids.items() if n > 1] == []
    assert len(parser.fors) >= 3
    assert Counter(parser.fors).most_common(1)[0][1] == 1  # no two labels for one field
    assert all(parser.ids[f] == 1 for f in parser.fors)


def test_the_request_list_says_what_its_filter_hides(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.sendrequests.services import request_create, request_return

    req = request_create(actor=office.users["kadis"], subject="Ditolak",
                         classification="biasa", addressee="Uji")
    request_return(actor=office.users["kadis"], number=req.pk, note="Tidak perlu")
    client = in_language(signed_in("kadis"), "id")
    status = text_of(client.get("/requests/")).split('id="request-filter-state">')[1]
    status = status.split("</p>")[0]
    assert "0 permintaan" in status and "hanya yang masih terbuka" in status
    assert "1 lagi disembunyikan oleh saringan ini" in status and "?show=all" in status
    page = text_of(client.get("/requests/", {"show": "all"}))
    assert "termasuk yang sudah selesai" in page and f"P-{req.pk}" in page
    assert "Dikembalikan ke pemohon" in page
    page = text_of(in_language(client, "en").get("/requests/", {"show": "all"}))
    assert "Returned to the requester" in page and "Dikembalikan ke pemohon" not in page


# ---------------------------------------------------------------- formats

def test_sizes_have_one_style() -> None:
    from django.utils import translation

    from brankas.web.ui.formats import size_text

    with translation.override("id"):
        assert [size_text(v) for v in (0, 512, 1536, 5 * 1024**3)] == [
            "0 B", "512 B", "1,5\xa0KB", "5,0\xa0GB"]
    with translation.override("en"):
        assert size_text(1536) == "1.5\xa0KB"


def test_a_document_date_is_typed_dd_mm_yyyy(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from tests.conftest import make_pdf

    client = signed_in("operator")
    page = client.get("/documents/new/").content.decode()
    assert 'placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
    r = post_register(client, [("surat.pdf", make_pdf(text="tanggal"))], doc_date="20/11/2026")
    assert r.status_code == 302, text_of(r)
    assert Document.objects.get().doc_date == dt.date(2026, 11, 20)


def test_form_errors_have_no_english_detail(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.core.errors import InvalidInput
    from brankas.web.accounts.services import user_create

    with pytest.raises(InvalidInput) as info:
        user_create(actor=office.users["admin"], username="baru", role="sandiman",
                    password="Sandiman-Baru-2026!", full_name="Baru", nip="123")
    assert info.value.message("id").endswith("kolom NIP tidak sah: 18 angka")
    assert "digits" not in info.value.message("id")


@pytest.mark.parametrize(("lang", "words"), [
    ("id", ["uji pemulihan", "tidak diketahui",
            "tidak ada perangkat blok untuk folder ini di sistem ini",
            "smartctl tidak menjawab dalam 20 s"]),
    ("en", ["restore drill", "unknown", "no block device found for the folder on this system",
            "smartctl did not answer within 20 s"])])
def test_a_disk_health_entry_reads_in_the_page_language(signed_in, lang, words) -> None:  # type: ignore[no-untyped-def]
    """Issue 17's health readings (web/equipment/health.py): where, what and why, in words."""
    audit_record(actor="operator", action="backup.disk_health", target="DISK-1",
                 detail={"medium": "m1", "source": "drill", "status": "unknown",
                         "reason": "no block device found for the folder on this system"})
    audit_record(actor="operator", action="backup.disk_health", target="DISK-2",
                 detail={"source": "drill", "status": "unknown",
                         "reason": "smartctl did not answer within 20 s"})
    client = in_language(signed_in("kasi"), lang)
    rows = tbody(text_of(client.get("/audit/", {"action": "backup.disk_health"})))
    for word in words:
        assert word in rows, (word, rows)
