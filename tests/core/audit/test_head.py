"""audit/head.py: the audit-chain head of an approved report, read back from its PDF alone:
from the document information, or else from the printed verification block."""

from __future__ import annotations

import io

import pikepdf
import pytest

from brankas.core.audit import head as audithead
from brankas.core.audit.head import HEAD_LABEL, Head, read_pdf_head
from brankas.core.errors import InvalidInput
from brankas.core.printing.pdf import PrintDocument, PrintTable, PrintText, render_pdf

DIGEST = "0123456789abcdef" * 4
OTHER = "fedcba9876543210" * 4


def report(*, keywords: str = "", head: str = audithead.printed(1234, DIGEST),
           summary: str = "", rows: int = 3) -> bytes:
    blocks: list[PrintTable | PrintText] = []
    if summary:
        blocks.append(PrintText("RINGKASAN EKSEKUTIF", paragraphs=[summary]))
    blocks.append(PrintTable(columns=["No", "Agenda"],
                             rows=[[str(i), f"M-2026-{i:04d}"] for i in range(rows)]))
    blocks.append(PrintText("BLOK VERIFIKASI", boxed=True, facts=[
        ("Hash data laporan (SHA-256)", OTHER), (HEAD_LABEL, head)]))
    return render_pdf(PrintDocument(office="DINAS", title="LAPORAN", tables=blocks,
                                    keywords=keywords))


def test_an_approved_report_carries_its_head_in_the_document_information() -> None:
    pdf = report(keywords=audithead.keywords(77, DIGEST), head=audithead.printed(77, DIGEST))
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert str(doc.docinfo["/Keywords"]) == f"brankas-audit-head #77 {DIGEST}"
    assert read_pdf_head(pdf, name="l.pdf") == Head(77, DIGEST)


def test_the_keywords_come_first() -> None:
    pdf = report(keywords=audithead.keywords(9, OTHER))
    assert read_pdf_head(pdf, name="l.pdf") == Head(9, OTHER)


def test_an_older_report_is_read_from_its_printed_verification_block() -> None:
    # Over many pages, the head on the last one, the hash wrapped onto its own line.
    pdf = report(rows=400)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) > 5 and str(doc.docinfo.get("/Keywords", "")) == ""
    assert read_pdf_head(pdf, name="l.pdf") == Head(1234, DIGEST)


def test_a_head_typed_into_the_summary_is_not_taken_for_the_real_one() -> None:
    fake = f"{HEAD_LABEL}: {audithead.printed(5, OTHER)}"
    pdf = report(summary=fake)
    assert read_pdf_head(pdf, name="l.pdf") == Head(1234, DIGEST)


def _hand_made(content: bytes, *, compress: bool) -> bytes:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(content)
    out = io.BytesIO()
    pdf.save(out, compress_streams=compress)
    return out.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_text_split_over_operators_and_lines_is_joined(compress: bool) -> None:
    first, second = DIGEST[:40], DIGEST[40:]
    content = (
        "BT /F1 9 Tf 40 700 Td (Kepala rantai audit) Tj 0 -11 Td [(saat ) -20 (pengesahan)] TJ "
        f"(: #42 {first}) Tj 0 -11 Td <{second.encode().hex()}> Tj "
        "0 -11 Td (abcdef lanjutan) ' ET").encode("latin-1")
    assert read_pdf_head(_hand_made(content, compress=compress), name="x.pdf") == Head(
        42, DIGEST)


@pytest.mark.parametrize("text", [
    "Kepala rantai audit saat pengesahan: #0 " + DIGEST,  # no entry #0
    "Kepala rantai audit saat pengesahan: #42 " + DIGEST[:63],  # one digit short
    "Kepala rantai audit saat pengesahan: #42 " + DIGEST + "ab",  # too long: not a hash
    "#42 " + DIGEST,  # no label
    "Laporan tanpa blok verifikasi",
])
def test_no_head_is_none(text: str) -> None:
    content = f"BT /F1 9 Tf 40 700 Td ({text}) Tj ET".encode("latin-1")
    assert read_pdf_head(_hand_made(content, compress=False), name="x.pdf") is None


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF\n"])
def test_a_file_that_is_not_a_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput) as exc:
        read_pdf_head(data, name="x.pdf")
    assert exc.value.code == "pdf_unreadable" and "x.pdf" in exc.value.message("en")


def test_keywords_and_text_parsers() -> None:
    assert audithead.parse_keywords(f"brankas-audit-head #3 {DIGEST.upper()}") is None
    assert audithead.parse_keywords(f"laporan, brankas-audit-head #3 {DIGEST}") == Head(
        3, DIGEST)
    assert audithead.parse_text(f"{HEAD_LABEL}:\n#3\n{DIGEST[:10]}\n{DIGEST[10:]}") == Head(
        3, DIGEST)
