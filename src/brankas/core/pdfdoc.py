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
class PrintDocument:
    office: str  # the letterhead (kop surat)
    title: str
    subtitle: str = ""
    marking: str = ""  # e.g. "RAHASIA", printed on top of every page
    facts: Sequence[tuple[str, str]] = ()  # label: value lines under the title
    tables: list[PrintTable] = field(default_factory=list)
    notes: Sequence[str] = ()
    footer: str = ""  # printed at the foot of every page, beside the page number
    wide: bool = False  # landscape, for wide tables


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


def render_pdf(doc: PrintDocument) -> bytes:
    """The document as PDF bytes (A4), numbered "Halaman X dari Y"."""
    styles = _styles()
    pagesize = landscape(A4) if doc.wide else A4
    out = io.BytesIO()
    frame_width = pagesize[0] - 30 * mm
    story: list = [_p(doc.office, styles["office"]),
                   HRFlowable(width="100%", thickness=1.2, color=colors.black, spaceAfter=4),
                   _p(doc.title, styles["title"])]
    if doc.subtitle:
        story.append(_p(doc.subtitle, styles["subtitle"]))
    for label, value in doc.facts:
        story.append(Paragraph(f"<b>{escape(label)}</b>: {escape(str(value))}", styles["fact"]))
    for table in doc.tables:
        if table.title:
            story.append(_p(table.title, styles["h3"]))
        else:
            story.append(Spacer(1, 4 * mm))
        data = [[_p(c, styles["head"]) for c in table.columns]]
        data += [[_p(c, styles["cell"]) for c in row] for row in table.rows]
        weights = list(table.widths or [1] * len(table.columns))
        widths = [frame_width * w / sum(weights) for w in weights]
        grid = Table(data, colWidths=widths, repeatRows=1)
        grid.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(grid)
    if doc.notes:
        story.append(Spacer(1, 4 * mm))
        story += [_p(n, styles["note"]) for n in doc.notes]

    def decorate(canvas, template) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, doc.footer[:160])
        canvas.drawRightString(pagesize[0] - 15 * mm, 10 * mm,
                               f"Halaman {canvas.getPageNumber()}")
        if doc.marking:
            canvas.setFont("Helvetica-Bold", 10)
            canvas.setFillColor(colors.HexColor("#a00000"))
            canvas.drawCentredString(pagesize[0] / 2, pagesize[1] - 10 * mm, doc.marking)
        canvas.restoreState()

    template = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=15 * mm,
                                 rightMargin=15 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
                                 title=doc.title, author=doc.office, creator="Brankas")
    template.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
