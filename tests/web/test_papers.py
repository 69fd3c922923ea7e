"""Every paper Brankas prints, checked for the layout rules that code can check (issue 14):
words in tables are never broken in the middle, words never run into one another (a
date into the next column), every page says "Halaman x dari y", no English word is left,
the office letterhead is on top. The pages are read back with ``pdftotext -bbox``
(poppler-utils, installed by ``make test``), which gives every word with its box.

Set BRANKAS_PAPERS_DIR to keep the PDFs (to look at them: ``pdftoppm -png``)."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from brankas.core.printing.pdf import PrintTable
from tests.conftest import office_once
from tests.web.reports.conftest import MONTH, SIGNING, _office_profile, generate_month

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is not installed")

LONG_NUMBER = "005/1234/Setda/2026"
LONG_SUBJECT = "Permintaan data kepegawaian dan laporan pelaksanaan kegiatan persandian"
SAFE = "Brankas Arsip Lantai Dua"
# English words that must not be on an Indonesian paper (the command and the address of
# the verify page are names, taken out before the check).
ENGLISH = {"completed", "failed", "running", "verify", "full", "fast", "sample", "when",
           "secret", "printed", "superseded", "current", "location", "combination", "move",
           "reason", "from", "by", "the", "of", "and", "date", "page", "checked", "safe",
           "backup", "none", "true", "false", "submitted", "approved", "draft"}
NAMES = ("brankas report verify", "/reports/verify")


def _png_logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 150), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 110, 140), outline="darkgreen", width=6, fill="gold")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _build(office, base: Path) -> dict:  # type: ignore[no-untyped-def]
    from brankas.web.accounts.office import office_update
    from brankas.web.custody.services import safe_add
    from brankas.web.documents.models import Document
    from brankas.web.reports.services import (
        report_approve,
        report_create,
        report_forward,
        report_submit,
    )

    _office_profile(office)
    office_update(actor=office.users["admin"], changes={
        "place": "Lolak", "phone": "(0434) 22001", "email": "kominfo@bolmongkab.go.id",
        "sop_number": "800/123/DKI/2025", "sop_effective_on": "2025-01-02",
        "letterhead_extra": "Laman bolmongkab.go.id"}, logo=_png_logo())
    month = generate_month(office, incoming=40, outgoing=30, previous=10)
    first = Document.objects.filter(classification="biasa", registered_at__month=5
                                    ).order_by("registered_at")[:3]
    for doc in first:
        Document.objects.filter(pk=doc.pk).update(number=LONG_NUMBER, subject=LONG_SUBJECT,
                                                  correspondent="Sekretariat Daerah "
                                                  "Kabupaten Bolaang Mongondow")
    u = office.users
    draft = report_create(actor=u["operator"], kind="messages", period=MONTH)
    approved = report_create(actor=u["operator"], kind="backup", period=MONTH)
    report_submit(actor=u["operator"], number=approved.number, passphrase=SIGNING["operator"])
    report_forward(actor=u["kasi"], number=approved.number, passphrase=SIGNING["kasi"],
                   summary="Seluruh back up selesai tepat waktu.\n\nDisk tersimpan utuh.")
    report_approve(actor=u["kabid"], number=approved.number, passphrase=SIGNING["kabid"])
    safe_add(actor=u["operator"], name=SAFE, location="Ruang Sandi lantai 2, lemari besi",
             combination="12-34-56")
    return {"draft": draft.number, "approved": approved.number,
            "medium": month.media[0].pk}


@pytest.fixture(scope="module")
def papers_office(django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _build) as template:
        yield template


@pytest.fixture
def office(papers_office, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    made = papers_office.copy_for(settings, tmp_path)
    made.extra = papers_office.extra
    return made


# -- reading a PDF back -------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


class Page(list[Word]):
    """A page's words as pdftotext reads them, and the page's width (``width``)."""

    width: float


_WIDTH = re.compile(r'width="([\d.]+)"')


def pages_of(pdf: bytes, tmp_path: Path, name: str) -> list[Page]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    keep = os.environ.get("BRANKAS_PAPERS_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         check=True, text=True).stdout
    pages = []
    for chunk in out.split("<page ")[1:]:
        page = Page(Word(html.unescape(m[5]), float(m[1]), float(m[2]), float(m[3]),
                         float(m[4])) for m in _WORD.finditer(chunk))
        width = _WIDTH.match(chunk)
        assert width is not None, chunk[:200]
        page.width = float(width[1])
        pages.append(page)
    return pages


def atoms(text: str) -> list[str]:
    """The pieces of ``text`` that must each stand whole on the paper: its words, a word
    with "/" inside cut after each "/" (the one place a long value may wrap)."""
    out = []
    for word in text.split():
        out += [a for a in re.findall(r"[^/]*/+|[^/]+", word) if a]
    return out


def check_layout(pages: list[list[Word]], *, expected: list[str], letterhead: str) -> None:
    assert pages, "no page"
    total = len(pages)
    seen = set()
    for number, words in enumerate(pages, start=1):
        text = " ".join(w.text for w in words)
        assert f"Halaman {number} dari {total}" in text, (number, text[-200:])
        # No two words on one line overlap: nothing runs into the next column.
        lines: dict[int, list[Word]] = {}
        for w in words:
            lines.setdefault(round(w.y1), []).append(w)
        for line in lines.values():
            line.sort(key=lambda w: w.x0)
            for a, b in zip(line, line[1:], strict=False):
                assert a.x1 <= b.x0 + 0.5, f"page {number}: {a.text!r} runs into {b.text!r}"
        lowered = text.lower()
        for name in NAMES:
            lowered = lowered.replace(name, " ")
        english = set(re.findall(r"[a-z]+", lowered)) & ENGLISH
        assert not english, f"page {number}: English words {sorted(english)}"
        seen.update(w.text for w in words)
    assert letterhead in " ".join(w.text for w in pages[0])
    joined = " ".join(seen)
    broken = [a for a in dict.fromkeys(expected) if a not in joined]
    assert not broken, f"broken or missing on the paper: {broken[:20]}"


def table_atoms(doc) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for block in doc.tables:
        if isinstance(block, PrintTable):
            for cell in [*block.columns, *(c for row in block.rows for c in row)]:
                out += atoms(str(cell))
    return out


# -- the papers -------------------------------------------------------------------------

def _report_doc(number: int):  # type: ignore[no-untyped-def]
    from brankas.core.reports.render import report_document
    from brankas.web.reports.models import Report
    from brankas.web.reports.selectors import report_steps
    from brankas.web.reports.services import _meta

    report = Report.objects.get(number=number)
    return report, report_document(_meta(report, report_steps(report)), report.data)


def test_the_messages_report_keeps_every_word_whole_and_numbers_every_page(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.reports.models import Report
    from brankas.web.reports.services import report_render

    report = Report.objects.get(number=office.extra["draft"])
    # Requests with long values (the chain's 13 columns): the widest table of all.
    report.data["requests"] = [
        {"request": f"P-{i}", "classification": "sangat-rahasia", "urgency": "Kilat",
         "state": "sent", "agenda": f"K-2026-{i:04d}", "steps": ["15", "40", "5", "3", "12",
                                                                 "1440"],
         "total": "1515", "returns": i % 2} for i in range(1, 30)]
    report.save()
    _, doc = _report_doc(report.number)
    pages = pages_of(report_render(report), tmp_path, "laporan-berita")
    check_layout(pages, expected=table_atoms(doc) + ["Mengetahui,"],
                 letterhead="PEMERINTAH KABUPATEN BOLAANG MONGONDOW")
    words = {w.text for page in pages for w in page}
    assert {"Setda/2026", "005/1234/"} & words or LONG_NUMBER in words
    assert "Permintaan" in words and "Sandiman" in words
    text = " ".join(w.text for page in pages for w in page)
    assert "SOP Nomor 800/123/DKI/2025 tanggal 2 Januari 2025" in text
    assert "2026-05" not in text.replace("2026-05 ", "")  # periods only, dates in words


def test_the_approved_backup_report_has_the_acknowledgement_and_the_verify_page(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.reports.models import Report

    report, doc = _report_doc(office.extra["approved"])
    pdf = bytes(Report.objects.get(number=report.number).final_pdf)
    pages = pages_of(pdf, tmp_path, "laporan-back-up-disahkan")
    check_layout(pages, expected=table_atoms(doc), letterhead="PEMERINTAH KABUPATEN")
    text = " ".join(w.text for page in pages for w in page)
    assert "Mengetahui, Kepala Dinas Komunikasi dan Informatika" in text
    assert "Periksa keaslian PDF laporan (alamat /reports/verify)" in text
    assert "brankas report verify BERKAS.pdf" in text
    assert "selesai" in text and "penuh" in text
    assert "KONSEP" not in text


def test_the_custody_record_is_numbered_with_names_nip_and_signatures(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.audit.models import AuditEvent
    from brankas.web.backup.models import Medium
    from brankas.web.custody.printing import custody_log_pdf

    medium = Medium.objects.get(pk=office.extra["medium"])
    kasi, operator = office.users["kasi"], office.users["operator"]
    first = pages_of(custody_log_pdf(actor=kasi, medium=medium), tmp_path, "riwayat-disk")
    second = pages_of(custody_log_pdf(actor=kasi, medium=medium), tmp_path, "riwayat-2")
    expected = ["No", "Waktu", "Perpindahan", "Dari", "Ke", "Oleh", "Alasan",
                *atoms(operator.full_name), operator.nip, "dikeluarkan", "Brankas-Utama",
                "Yang", "menyerahkan,", "menerima,", "mencetak,", "Mengetahui,"]
    check_layout(first, expected=expected, letterhead="DINAS KOMUNIKASI DAN INFORMATIKA")
    text = " ".join(w.text for page in first for w in page)
    year = text.split("/RPD/")[1][:4]
    assert f"Nomor: 001/RPD/{year}" in text
    assert f"Nomor: 002/RPD/{year}" in " ".join(w.text for p in second for w in p)
    assert kasi.nip in text and operator.username not in text.split()
    assert list(AuditEvent.objects.filter(action="custody.print").values_list(
        "detail__number", flat=True)) == [f"001/RPD/{year}", f"002/RPD/{year}"]


def test_the_combination_list_is_numbered_secret_and_indonesian(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.audit.models import AuditEvent
    from brankas.web.custody.printing import combination_list_pdf
    from tests.conftest import PASSPHRASES

    kabid = office.users["kabid"]
    pages = pages_of(combination_list_pdf(actor=kabid, passphrase=PASSPHRASES["kabid"]),
                     tmp_path, "daftar-kombinasi")
    expected = ["Brankas", "Lokasi", "Kombinasi", "Ditetapkan", "Oleh", "Status",
                *atoms(SAFE), "12-34-56", "berlaku", *atoms(office.users["operator"].full_name),
                office.users["operator"].nip, "mencetak,", "Mengetahui,"]
    check_layout(pages, expected=expected, letterhead="PEMERINTAH KABUPATEN")
    text = " ".join(w.text for page in pages for w in page)
    assert "RAHASIA" in text and "/DNKK/" in text and kabid.nip in text
    [entry] = AuditEvent.objects.filter(action="safe.combination.print")
    assert entry.detail["number"].startswith("001/DNKK/")


def test_an_edited_profile_shows_on_new_papers_and_approved_reports_keep_their_bytes(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.accounts.office import office_update
    from brankas.web.backup.models import Medium
    from brankas.web.custody.printing import custody_log_pdf
    from brankas.web.reports.models import Report
    from brankas.web.reports.services import report_export

    number = office.extra["approved"]
    stored = bytes(Report.objects.get(number=number).final_pdf)
    office_update(actor=office.users["admin"],
                  changes={"government": "Pemerintah Kabupaten Bolaang Mongondow Timur",
                           "place": "Tutuyan"}, remove_logo=True)
    again = report_export(actor=office.users["kadis"], number=number, fmt="pdf")
    assert again == stored  # the approved bytes, with the profile they had
    old = " ".join(w.text for p in pages_of(again, tmp_path, "tetap") for w in p)
    assert "MONGONDOW TIMUR" not in old and "Lolak," in old
    medium = Medium.objects.get(pk=office.extra["medium"])
    new = " ".join(w.text for p in pages_of(custody_log_pdf(actor=office.users["kasi"],
                                                           medium=medium), tmp_path, "baru")
                   for w in p)
    assert "PEMERINTAH KABUPATEN BOLAANG MONGONDOW TIMUR" in new and "Tutuyan," in new
    draft = report_export(actor=office.users["kasi"], number=office.extra["draft"], fmt="pdf")
    assert "MONGONDOW TIMUR" in " ".join(
        w.text for p in pages_of(draft, tmp_path, "konsep-baru") for w in p)


# -- hostile values and extreme data ------------------------------------------------------

HOSTILE = '<font size="40">Dinas</font> & <script>x</script> <img src="/etc/passwd"/>'


def _inside(pages: list[Page]) -> None:
    """No word beyond its page's left or right edge (the widths of the same pdftotext run)."""
    for number, words in enumerate(pages, start=1):
        off = [w.text[:30] for w in words if w.x0 < 0 or w.x1 > words.width]
        assert not off, f"page {number}: off the page: {off[:5]}"


def test_a_hostile_office_profile_prints_as_text_and_stays_on_the_page(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.accounts.office import office_update
    from brankas.web.backup.models import Medium
    from brankas.web.custody.printing import combination_list_pdf, custody_log_pdf
    from tests.conftest import PASSPHRASES

    long_word = "Kabupaten" * 22  # 198 letters without a space
    office_update(actor=office.users["admin"], changes={
        "government": HOSTILE, "department": long_word, "division": "Bidang Sandi\x07",
        "address": "Jl. <b>Tebal</b> & Co", "place": "Lola\u0301k", "city": long_word[:99]})
    medium = Medium.objects.get(pk=office.extra["medium"])
    for name, pdf in (("riwayat-hostile", custody_log_pdf(actor=office.users["kasi"],
                                                           medium=medium)),
                      ("kombinasi-hostile", combination_list_pdf(
                          actor=office.users["kabid"], passphrase=PASSPHRASES["kabid"]))):
        pages = pages_of(pdf, tmp_path, name)
        check_layout(pages, expected=["Mengetahui,"], letterhead="&")
        _inside(pages)
        text = " ".join(w.text for p in pages for w in p)
        assert '<FONT SIZE="40">DINAS</FONT>' in text and "<SCRIPT>X</SCRIPT>" in text
        assert "Jl. <b>Tebal</b> & Co" in text and "Lolák," in text
        assert "\u25a0" not in text  # no missing-glyph box
        # whole on the paper (pdftotext leaves out what is printed beyond the page's edge)
        assert long_word.upper() in text.replace(" ", "")


@pytest.mark.slow  # 5,000 rows: 132 pages
def test_a_report_of_5000_entries_with_a_300_letter_subject_stays_on_its_pages(
        office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.reports.models import Report
    from brankas.web.reports.services import report_render

    report = Report.objects.get(number=office.extra["draft"])
    entries = report.data["entries"]
    row = list(entries[0])
    long_subject, long_number = "Perihal" + "X" * 293, "005/" + "9" * 296
    report.data["entries"] = [[row[0], row[1], row[2], row[3],
                               long_number if i == 7 else row[4],
                               long_subject if i == 3 else row[5], row[6]]
                              for i in range(5000)]
    report.save()
    pdf = report_render(report)
    pages = pages_of(pdf, tmp_path, "laporan-5000")
    check_layout(pages, expected=["No", "Agenda", "Perihal", "5000"],
                 letterhead="PEMERINTAH KABUPATEN")
    _inside(pages)
    text = "".join(w.text for p in pages for w in p)
    assert long_subject in text and long_number in text  # whole, on wrapped lines


def test_a_period_with_nothing_in_it_is_a_paper_all_the_same(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.reports.services import report_create, report_render

    u = office.users
    for kind in ("messages", "backup"):
        report = report_create(actor=u["operator"], kind=kind, period="2025-01")
        pages = pages_of(report_render(report), tmp_path, f"kosong-{kind}")
        check_layout(pages, expected=["Januari", "2025", "Mengetahui,"],
                     letterhead="PEMERINTAH KABUPATEN")
        _, doc = _report_doc(report.number)
        empty = [b.title for b in doc.tables if isinstance(b, PrintTable) and not b.rows]
        assert not empty, f"tables with a heading and no row at all: {empty}"


def test_sizes_on_the_report_are_written_as_on_the_pages(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One style of sizes (issue 14): "22,5 KB" as the Indonesian pages write it
    (``brankas.web.ui.formats.size_text``), not "22.5 KiB"."""
    from django.utils import translation

    from brankas.web.reports.models import Report
    from brankas.web.reports.services import report_render
    from brankas.web.ui.formats import size_text

    report = Report.objects.get(number=office.extra["approved"])
    report.final_pdf = None  # rendered afresh, as a draft would be
    text = " ".join(w.text for p in pages_of(report_render(report), tmp_path, "ukuran")
                    for w in p).replace("\u00a0", " ")
    per_folder = report.data["per_category"]
    with translation.override("id"):
        expected = [size_text(v["bytes"]).replace("\u00a0", " ")
                    for v in per_folder.values()]
    assert "KiB" not in text and "MiB" not in text, text
    assert all(e in text for e in expected), (expected, text[:2000])
