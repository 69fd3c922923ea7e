"""Printable documents (PDF) in the office layout, rendered in memory with ReportLab.

ReportLab installs with pip alone on Windows, Linux and macOS and writes to a
``BytesIO`` without temporary files, so a sensitive list (the safes' combinations) is
never on disk unless the user saves it. Every text given here is plain text: it is
escaped before ReportLab's paragraph markup sees it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    HRFlowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)


@dataclass
class PrintTable:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # relative widths; equal when not given
    title: str = ""


@dataclass
class PrintText:
    """A titled block of paragraphs (an executive summary, a verification block)."""

    title: str
    paragraphs: Sequence[str] = ()
    facts: Sequence[tuple[str, str]] = ()  # label: value lines after the paragraphs
    boxed: bool = False


@dataclass
class PrintBoxes:
    """Short items in numbered boxes, ``columns`` to a row (the words of a recovery share):
    each box reads ``n  item`` in a large monospaced type, to copy by hand without doubt."""

    items: Sequence[str]
    columns: int = 3
    title: str = ""


@dataclass
class Signature:
    """A signature block: the role line, then room to sign, name, position and NIP."""

    heading: str  # e.g. "Disahkan oleh, Kepala Bidang ..."
    name: str
    position: str = ""
    nip: str = ""
    signed: str = ""  # e.g. "ditandatangani secara elektronik 2026-05-03 10:12"


@dataclass
class PrintDocument:
    office: str  # the letterhead (kop surat)
    title: str
    subtitle: str = ""
    marking: str = ""  # e.g. "RAHASIA", printed on top of every page
    facts: Sequence[tuple[str, str]] = ()  # label: value lines under the title
    tables: Sequence[PrintTable | PrintText | PrintBoxes] = field(default_factory=list)
    notes: Sequence[str] = ()
    letterhead: Sequence[str] = ()  # lines under the office name (address, phone ...)
    number: str = ""  # the report's number, printed under the title
    signatures: Sequence[Signature] = ()
    place_date: str = ""  # "Lolak, 3 Mei 2026", above the signature blocks
    footer: str = ""  # printed at the foot of every page, beside the page number
    wide: bool = False  # landscape, for wide tables
    keywords: str = ""  # the PDF's /Keywords (an approved report: its audit-chain head)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "office": ParagraphStyle("office", parent=base["Title"], fontSize=14, leading=17,
                                 spaceAfter=2),
        "title": ParagraphStyle("title", parent=base["Heading2"], alignment=TA_CENTER,
                                spaceBefore=6, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base["Normal"], alignment=TA_CENTER,
                                   spaceAfter=8),
        "fact": ParagraphStyle("fact", parent=base["Normal"], fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=base["Normal"], fontSize=8, leading=10,
                               fontName="Helvetica-Bold"),
        "h3": ParagraphStyle("h3", parent=base["Heading4"], spaceBefore=8, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base["Normal"], fontSize=8, leading=10,
                               textColor=colors.HexColor("#444444")),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


# A long table is laid out in chunks: ReportLab re-splits the rest of a table at every
# page, which grows with the square of its length; chunks keep a 5,000-row list linear.
CHUNK_ROWS = 150
# Cells no longer than this are drawn as plain strings (no paragraph layout: much faster).
PLAIN_CELL = 28


def _cell(value: str, style: ParagraphStyle, width: float) -> object:
    text = str(value)
    if len(text) <= PLAIN_CELL and "\n" not in text and width > len(text) * 4.6:
        return text
    return _p(text, style)


def _table(table: PrintTable, styles: dict[str, ParagraphStyle], frame_width: float) -> list:
    weights = list(table.widths or [1] * len(table.columns))
    widths = [frame_width * w / sum(weights) for w in weights]
    head = [_p(c, styles["head"]) for c in table.columns]
    style = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 1), (-1, -1), 8),
        ("LEADING", (0, 1), (-1, -1), 10),
    ])
    rows = list(table.rows)
    out: list = []
    for start in range(0, max(len(rows), 1), CHUNK_ROWS):
        data = [head] + [[_cell(c, styles["cell"], w) for c, w in zip(row, widths, strict=False)]
                         for row in rows[start:start + CHUNK_ROWS]]
        grid = Table(data, colWidths=widths, repeatRows=1)
        grid.setStyle(style)
        out.append(grid)
    return out


def _text_block(block: PrintText, styles: dict[str, ParagraphStyle],
                frame_width: float) -> list:
    inner: list = [_p(t, styles["fact"]) for t in block.paragraphs]
    inner += [Paragraph(f"<b>{escape(label)}</b>: {escape(str(value))}", styles["fact"])
              for label, value in block.facts]
    if not block.boxed:
        return [_p(block.title, styles["h3"]), *inner] if block.title else inner
    box = Table([[_p(block.title, styles["head"])], *[[x] for x in inner]],
                colWidths=[frame_width])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]))
    return [Spacer(1, 4 * mm), box]


def _boxes(block: PrintBoxes, styles: dict[str, ParagraphStyle], frame_width: float) -> list:
    per_row = max(1, block.columns)
    cells = [f"{n:>2}  {item}" for n, item in enumerate(block.items, start=1)]
    cells += [""] * (-len(cells) % per_row)
    # Numbered down each column, as one reads a printed list: 1..11 | 12..22 | 23..33.
    rows_count = len(cells) // per_row
    rows = [[cells[c * rows_count + r] for c in range(per_row)] for r in range(rows_count)]
    grid = Table(rows, colWidths=[frame_width / per_row] * per_row)
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), "Courier-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 12),
        ("LEADING", (0, 0), (-1, -1), 14),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    out: list = [_p(block.title, styles["h3"])] if block.title else [Spacer(1, 4 * mm)]
    return [*out, grid]


def _signatures(doc: PrintDocument, styles: dict[str, ParagraphStyle],
                frame_width: float) -> list:
    cells = []
    for sig in doc.signatures:
        lines = [_p(sig.heading, styles["fact"]),
                 _p(sig.signed or " ", styles["note"]), Spacer(1, 10 * mm),
                 Paragraph(f"<b><u>{escape(sig.name)}</u></b>", styles["fact"])]
        if sig.position:
            lines.append(_p(sig.position, styles["fact"]))
        if sig.nip:
            lines.append(_p(f"NIP. {sig.nip}", styles["fact"]))
        cells.append(lines)
    out: list = [Spacer(1, 6 * mm)]
    if doc.place_date:
        out.append(Paragraph(escape(doc.place_date), ParagraphStyle(
            "place", parent=styles["fact"], alignment=2)))
    per_row = 2
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    rows = [r + [[]] * (per_row - len(r)) for r in rows]
    grid = Table(rows, colWidths=[frame_width / per_row] * per_row)
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("TOPPADDING", (0, 0), (-1, -1), 8)]))
    out.append(grid)
    return out


def _story(doc: PrintDocument, styles: dict[str, ParagraphStyle], frame_width: float) -> list:
    story: list = [_p(doc.office, styles["office"])]
    story += [_p(line, styles["subtitle"]) for line in doc.letterhead]
    story += [HRFlowable(width="100%", thickness=1.2, color=colors.black, spaceAfter=4),
              _p(doc.title, styles["title"])]
    if doc.number:
        story.append(_p(f"Nomor: {doc.number}", styles["subtitle"]))
    if doc.subtitle:
        story.append(_p(doc.subtitle, styles["subtitle"]))
    for label, value in doc.facts:
        story.append(Paragraph(f"<b>{escape(label)}</b>: {escape(str(value))}", styles["fact"]))
    for block in doc.tables:
        if isinstance(block, PrintText):
            story += _text_block(block, styles, frame_width)
            continue
        if isinstance(block, PrintBoxes):
            story += _boxes(block, styles, frame_width)
            continue
        if block.title:
            story.append(_p(block.title, styles["h3"]))
        else:
            story.append(Spacer(1, 4 * mm))
        story += _table(block, styles, frame_width)
    if doc.notes:
        story.append(Spacer(1, 4 * mm))
        story += [_p(n, styles["note"]) for n in doc.notes]
    if doc.signatures:
        story += _signatures(doc, styles, frame_width)
    return story


def render_pdf(doc: PrintDocument) -> bytes:
    """The document as PDF bytes (A4), numbered "Halaman X dari Y"."""
    return render_pdfs([doc])


def render_pdfs(docs: Sequence[PrintDocument]) -> bytes:
    """Several documents in one PDF, each from a new page (the share sheets of a split,
    one per page). The page decoration (marking, footer, landscape) is the first's."""
    first = docs[0]
    styles = _styles()
    pagesize = landscape(A4) if first.wide else A4
    out = io.BytesIO()
    frame_width = pagesize[0] - 30 * mm
    story: list = []
    for i, doc in enumerate(docs):
        if i:
            story.append(PageBreak())
        story += _story(doc, styles, frame_width)

    def decorate(canvas, template) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, first.footer[:160])
        canvas.drawRightString(pagesize[0] - 15 * mm, 10 * mm,
                               f"Halaman {canvas.getPageNumber()}")
        if first.marking:
            canvas.setFont("Helvetica-Bold", 10)
            canvas.setFillColor(colors.HexColor("#a00000"))
            canvas.drawCentredString(pagesize[0] / 2, pagesize[1] - 10 * mm, first.marking)
        canvas.restoreState()

    template = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=15 * mm,
                                 rightMargin=15 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
                                 title=first.title, author=first.office, creator="Brankas",
                                 keywords=first.keywords)
    template.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
