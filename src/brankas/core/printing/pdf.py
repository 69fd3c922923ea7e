"""Printable documents (PDF) in the office layout, rendered in memory with ReportLab.

ReportLab installs with pip alone on Windows, Linux and macOS and writes to a
``BytesIO`` without temporary files, so a sensitive list (the safes' combinations) is
never on disk unless the user saves it. Every text given here is plain text: it is
escaped before ReportLab's paragraph markup sees it.

The layout follows the Tata Naskah Dinas: the letterhead (kop) with the optional logo at
the left and the government, department and division lines centred, the address under
them and a double rule (thick over thin); the title centred, its number under it; every
page numbered "Halaman x dari y". Tables are laid out here, not by ReportLab's paragraph
wrapping: each column is at least as wide as its widest word, so a word is never broken
in the middle ("Permi ntaan"); a value too long for its column wraps at a space, or after
a "/" ("005/1234/ Setda/2026"); a table that does not fit a portrait page gets landscape
pages of its own.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    HRFlowable,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from brankas.core.printing.dates import MONTHS_ID


@dataclass
class PrintTable:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # ignored since issue 14: laid out by content
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

    heading: str  # e.g. "Disahkan oleh,\nKepala Bidang ..."
    name: str
    position: str = ""
    nip: str = ""
    signed: str = ""  # e.g. "ditandatangani secara elektronik 3 Mei 2026 10.12 WIB"


@dataclass
class PrintDocument:
    office: str  # the letterhead's first line (kop surat): the government, or the office
    title: str
    subtitle: str = ""
    marking: str = ""  # e.g. "RAHASIA", printed on top and at the foot of every page
    facts: Sequence[tuple[str, str]] = ()  # label: value lines under the title
    tables: Sequence[PrintTable | PrintText | PrintBoxes] = field(default_factory=list)
    notes: Sequence[str] = ()
    letterhead: Sequence[str] = ()  # further heading lines (department, division)
    number: str = ""  # the paper's number, printed under the title
    signatures: Sequence[Signature] = ()
    place_date: str = ""  # "Lolak, 3 Mei 2026", above the signature blocks
    footer: str = ""  # printed at the foot of every page, beside the page number
    wide: bool = False  # landscape throughout
    keywords: str = ""  # the PDF's /Keywords (an approved report: its audit-chain head)
    contact: Sequence[str] = ()  # the letterhead's small lines (address, phone, e-mail)
    logo: bytes | None = None  # a PNG, at the left of the letterhead


FONT, BOLD = "Helvetica", "Helvetica-Bold"
CELL_SIZE, CELL_LEADING = 8.0, 10.0
PAD = 3.0  # a cell's left and right padding
MARGIN = 15 * mm


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()

    def style(name: str, parent: str = "Normal", **kw: object) -> ParagraphStyle:
        # splitLongWords=1 breaks only a word wider than the whole line (a value of 300
        # letters without a space), which would otherwise run off the page; a word that
        # fits goes whole to the next line.
        return ParagraphStyle(name, parent=base[parent], splitLongWords=1, **kw)  # type: ignore[arg-type]

    return {
        "kop1": style("kop1", fontName=BOLD, fontSize=13, leading=16, alignment=TA_CENTER),
        "kop2": style("kop2", fontName=BOLD, fontSize=12, leading=15, alignment=TA_CENTER),
        "kop3": style("kop3", fontSize=8.5, leading=10.5, alignment=TA_CENTER),
        "title": style("title", fontName=BOLD, fontSize=12, leading=15, alignment=TA_CENTER,
                       spaceBefore=8, spaceAfter=1),
        "subtitle": style("subtitle", fontSize=10, leading=13, alignment=TA_CENTER,
                          spaceAfter=6),
        "fact": style("fact", fontSize=9, leading=12),
        "factlabel": style("factlabel", fontName=BOLD, fontSize=9, leading=12),
        "sign": style("sign", fontSize=9, leading=12, alignment=TA_CENTER),
        "signname": style("signname", fontName=BOLD, fontSize=9, leading=12,
                          alignment=TA_CENTER),
        "place": style("place", fontSize=9, leading=12, alignment=TA_RIGHT),
        "head": style("head", fontName=BOLD, fontSize=8, leading=10),
        "h3": style("h3", parent="Heading4", spaceBefore=8, spaceAfter=4),
        "note": style("note", fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
    }


_INVISIBLE = {"Cc", "Cf"}  # control and format characters: no glyph in any font


def clean(text: object) -> str:
    """``text`` as the paper prints it: composed (NFC: "e" + a combining accent is "\u00e9",
    which the standard fonts have), without control or format characters (a bell, an
    escape, a direction mark), which would print as missing-glyph boxes; a tab is a space."""
    value = unicodedata.normalize("NFC", str(text)).replace("\t", " ")
    return "".join(ch for ch in value
                   if ch == "\n" or unicodedata.category(ch) not in _INVISIBLE)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(clean(text)).replace("\n", "<br/>"), style)


# -- tables: widths by content, wrapping at spaces and after "/" --------------------------

# A long table is laid out in chunks: ReportLab re-splits the rest of a table at every
# page, which grows with the square of its length; chunks keep a 5,000-row list linear.
CHUNK_ROWS = 150

_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS_ID) + r") (\d{4})\b")
_ATOM = re.compile(r"[^/]*/+|[^/]+")


def _glue_dates(text: str) -> str:
    """A date is one unit on paper: "7 Mei 2026" is never broken over two lines."""
    return _DATE.sub(lambda m: f"{m[1]}\u00a0{m[2]}\u00a0{m[3]}", text)


def _width(text: str, font: str, size: float) -> float:
    return stringWidth(text, font, size)


def _words(text: str) -> list[str]:
    return [w for line in text.split("\n") for w in line.split(" ") if w]


def wrap(text: str, width: float, font: str = FONT, size: float = CELL_SIZE) -> list[str]:
    """``text`` as lines no wider than ``width``: broken at spaces, a word longer than the
    line after a "/" inside it; a piece with no such place stays whole (the column widths
    are chosen so that it fits)."""
    lines: list[str] = []
    for para in str(text).split("\n"):
        current = ""
        for word in para.split(" "):
            if not word:
                continue
            candidate = f"{current} {word}" if current else word
            if _width(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if _width(word, font, size) <= width:
                current = word
                continue
            for atom in _ATOM.findall(word):
                if current and _width(current + atom, font, size) > width:
                    lines.append(current)
                    current = atom
                else:
                    current += atom
                while _width(current, font, size) > width and len(current) > 1:
                    # Only when no layout keeps the piece whole (the last resort of
                    # ``_lay_out``): cut it where the line is full rather than overprint.
                    cut = len(current) - 1
                    while cut > 1 and _width(current[:cut], font, size) > width:
                        cut -= 1
                    lines.append(current[:cut])
                    current = current[cut:]
        lines.append(current)
    return lines


def _column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], frame: float,
                   size: float) -> list[float] | None:
    """Widths that fill ``frame`` and keep every word whole, or None when even the widest
    unbreakable pieces do not fit side by side."""
    n = len(columns)
    atom = [0.0] * n
    word = [0.0] * n
    natural = [0.0] * n

    def measure(j: int, text: str, font: str) -> None:
        for line in text.split("\n"):
            natural[j] = max(natural[j], _width(line, font, size))
            for w in line.split(" "):
                if not w:
                    continue
                ww = _width(w, font, size)
                word[j] = max(word[j], ww)
                if ww > atom[j]:
                    atom[j] = max(atom[j], *(_width(a, font, size) for a in _ATOM.findall(w)))

    for j, head in enumerate(columns):
        measure(j, head, BOLD)
    for row in rows:
        for j, cell in enumerate(row[:n]):
            measure(j, cell, FONT)
    extra = 2 * PAD + 0.5
    atom = [a + extra for a in atom]
    word = [max(w + extra, a) for w, a in zip(word, atom, strict=True)]
    natural = [max(x + extra, w) for x, w in zip(natural, word, strict=True)]
    for low, high in ((natural, None), (word, natural), (atom, word)):
        if sum(low) > frame:
            continue
        room = frame - sum(low)
        if high is None:  # everything fits on one line: share out the room evenly
            return [x + room * x / sum(low) for x in low]
        want = [h - lo for h, lo in zip(high, low, strict=True)]
        if sum(want) <= 0:
            return [x + room / n for x in low]
        return [lo + room * w / sum(want) for lo, w in zip(low, want, strict=True)]
    return None


@dataclass
class _Laid:
    widths: list[float]
    size: float
    wide: bool


def _lay_out(table: PrintTable, tall: float, wide: float, landscape_ok: bool) -> _Laid:
    rows = [[_glue_dates(clean(c)) for c in row] for row in table.rows]
    for size, frame, is_wide in ((CELL_SIZE, tall, False), (7.0, tall, False),
                                 (CELL_SIZE, wide, True),
                                 (7.0, wide, True), (6.0, wide, True)):
        if is_wide and not landscape_ok:
            continue
        widths = _column_widths(table.columns, rows, frame, size)
        if widths is not None:
            return _Laid(widths, size, is_wide)
    # The last resort (no real paper is this wide): shares after the widest pieces, where a
    # piece too long for its column is cut (``wrap``) rather than printed over the next.
    frame = wide if landscape_ok else tall
    n = len(table.columns)
    pieces = [max([_width(a, BOLD, 6.0) for a in _ATOM.findall(table.columns[j]) or [""]]
                  + [_width(a, FONT, 6.0) for row in rows if j < len(row)
                     for a in _ATOM.findall(row[j])]) + 1 for j in range(n)]
    # A column whose widest piece fits under the cap keeps it whole (a heading "No" is
    # never cut to "N o"); only the columns wider than the cap share what is left.
    pieces = [p + 2 * PAD for p in pieces]
    cap = frame
    for _ in range(n):
        narrow = [p for p in pieces if p < cap]
        wide_count = n - len(narrow)
        if not wide_count:
            break
        cap = max((frame - sum(narrow)) / wide_count, 2 * PAD + 6)
    widths = [min(p, cap) for p in pieces]
    room = frame - sum(widths)
    if room > 0:
        widths = [w + room / n for w in widths]
    return _Laid(widths, 6.0, landscape_ok)


def _numeric(values: Sequence[str]) -> bool:
    # A column of "-" only (a table with nothing in it) is not a column of numbers.
    return (any(re.search(r"\d", v or "") for v in values)
            and all(re.fullmatch(r"-|[-+]?\d[\d.,]*%?", v or "-") for v in values))


def _table(table: PrintTable, laid: _Laid) -> list:
    size = laid.size
    leading = size * 1.25
    widths = laid.widths
    inner = [w - 2 * PAD for w in widths]
    head = ["\n".join(wrap(_glue_dates(c), w, BOLD, size)) for c, w in zip(table.columns, inner,
                                                                            strict=False)]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), leading),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    rows = [[_glue_dates(clean(c)) for c in row] for row in table.rows]
    for j in range(len(table.columns)):
        if _numeric([r[j] for r in rows if j < len(r)]):
            style.append(("ALIGN", (j, 1), (j, -1), "RIGHT"))
    grid_style = TableStyle(style)
    out: list = []
    for start in range(0, max(len(rows), 1), CHUNK_ROWS):
        data = [head] + [["\n".join(wrap(c, w, FONT, size)) if _width(c, FONT, size) > w
                          or "\n" in c else c for c, w in zip(row, inner, strict=False)]
                         for row in rows[start:start + CHUNK_ROWS]]
        grid = Table(data, colWidths=widths, repeatRows=1)
        grid.setStyle(grid_style)
        out.append(grid)
    return out


# -- the other blocks -------------------------------------------------------------------

def _facts(facts: Sequence[tuple[str, str]], styles: dict[str, ParagraphStyle],
           frame_width: float) -> list:
    """``Label : value`` lines, the colons under one another."""
    if not facts:
        return []
    label_w = min(max(_width(str(k), BOLD, 9) for k, _ in facts) + 8, frame_width * 0.4)
    data = [[_p(k, styles["factlabel"]), ":", _p(str(v), styles["fact"])] for k, v in facts]
    grid = Table(data, colWidths=[label_w, 8, frame_width - label_w - 8])
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("FONTSIZE", (0, 0), (-1, -1), 9),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                              ("TOPPADDING", (0, 0), (-1, -1), 0),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    grid.hAlign = "LEFT"
    return [grid]


def _text_block(block: PrintText, styles: dict[str, ParagraphStyle],
                frame_width: float) -> list:
    inner: list = [_p(t, styles["fact"]) for t in block.paragraphs]
    inner += _facts(block.facts, styles, frame_width - 12)
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


def _signature_cell(sig: Signature, styles: dict[str, ParagraphStyle]) -> list:
    # The heading always takes two lines and the electronic-signature line one, so that
    # the names of blocks side by side stand on one line.
    heading = sig.heading if "\n" in sig.heading else f"{sig.heading}\n\u00a0"
    lines = [_p(heading, styles["sign"]),
             _p(sig.signed or "\u00a0", ParagraphStyle("signed", parent=styles["note"],
                                                       alignment=TA_CENTER)),
             Spacer(1, 14 * mm),
             Paragraph(f"<u>{escape(clean(sig.name))}</u>", styles["signname"])]
    if sig.position:
        lines.append(_p(sig.position, styles["sign"]))
    lines.append(_p(f"NIP. {sig.nip}" if sig.nip else "NIP. ....................",
                    styles["sign"]))
    return lines


def _signatures(doc: PrintDocument, styles: dict[str, ParagraphStyle],
                frame_width: float) -> list:
    """Two blocks to a row; an odd last block is centred (the "Mengetahui" of the head of
    the office). The place and date stand above the right-hand block of the first row."""
    cells = [_signature_cell(s, styles) for s in doc.signatures]
    half = frame_width / 2
    rows: list[list] = []
    for i in range(0, len(cells), 2):
        pair = cells[i:i + 2]
        if len(pair) == 1 and len(cells) > 1:
            grid = Table([[pair[0]]], colWidths=[half])
        else:
            grid = Table([pair + [[]] * (2 - len(pair))], colWidths=[half, half])
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                  ("TOPPADDING", (0, 0), (-1, -1), 6)]))
        rows.append([grid])
    out: list = [Spacer(1, 6 * mm)]
    if doc.place_date:
        place = Table([["", _p(doc.place_date, styles["sign"])]], colWidths=[half, half])
        out.append(place)
    out += [r[0] for r in rows]
    return [KeepTogether(out)]


def _letterhead(doc: PrintDocument, styles: dict[str, ParagraphStyle],
                frame_width: float) -> list:
    out: list = []
    logo = None
    if doc.logo:
        try:
            logo = Image(io.BytesIO(doc.logo))
            ratio = logo.imageWidth / max(1, logo.imageHeight)
            logo.drawHeight = 22 * mm
            logo.drawWidth = min(22 * mm * ratio, 30 * mm)
            logo.drawHeight = logo.drawWidth / ratio
        except Exception:  # an unreadable logo: the letterhead without it
            logo = None
    side = (logo.drawWidth + 3 * mm) if logo is not None else 0
    middle = frame_width - 2 * side

    def fitted(text: str, style: ParagraphStyle) -> Paragraph:
        # A heading line stays on one line: a smaller type rather than a broken line.
        size = style.fontSize
        while size > 9 and _width(text, style.fontName, size) > middle - 4:
            size -= 0.5
        if size != style.fontSize:
            style = ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size,
                                   leading=size * 1.25)
        return _p(text, style)

    lines: list = [fitted(doc.office, styles["kop1"])]
    lines += [fitted(line, styles["kop2"]) for line in doc.letterhead]
    lines += [_p(line, styles["kop3"]) for line in doc.contact]
    if logo is not None:
        grid = Table([[logo, lines, ""]], colWidths=[side, frame_width - 2 * side, side])
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                  ("ALIGN", (0, 0), (0, 0), "LEFT"),
                                  ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        out.append(grid)
    else:
        out += lines
    # The double rule of the Tata Naskah Dinas: a thick line over a thin one.
    out += [Spacer(1, 2), HRFlowable(width="100%", thickness=2.2, color=colors.black,
                                     spaceBefore=2, spaceAfter=1.2),
            HRFlowable(width="100%", thickness=0.6, color=colors.black, spaceAfter=4)]
    return out


def _story(doc: PrintDocument, styles: dict[str, ParagraphStyle], tall: float,
           wide: float) -> list:
    frame_width = wide if doc.wide else tall
    story: list = _letterhead(doc, styles, frame_width)
    story.append(_p(doc.title, styles["title"]))
    if doc.number:
        story.append(_p(f"Nomor: {doc.number}", styles["subtitle"]))
    if doc.subtitle:
        story.append(_p(doc.subtitle, styles["subtitle"]))
    if not doc.number and not doc.subtitle:
        story.append(Spacer(1, 3 * mm))
    story += _facts(doc.facts, styles, frame_width)
    on_wide = doc.wide
    for block in doc.tables:
        if isinstance(block, PrintText):
            story += _text_block(block, styles, wide if on_wide else tall)
            continue
        if isinstance(block, PrintBoxes):
            story += _boxes(block, styles, wide if on_wide else tall)
            continue
        laid = _lay_out(block, wide if doc.wide else tall, wide, landscape_ok=True)
        if laid.wide and not on_wide:  # the table gets landscape pages of its own
            story += [NextPageTemplate("wide"), PageBreak()]
            on_wide = True
        elif on_wide and not laid.wide and not doc.wide:
            story += [NextPageTemplate("tall"), PageBreak()]
            on_wide = False
        story.append(_p(block.title, styles["h3"]) if block.title else Spacer(1, 4 * mm))
        story += _table(block, laid)
    if on_wide and not doc.wide and (doc.notes or doc.signatures):
        story += [NextPageTemplate("tall"), PageBreak()]
        on_wide = False
    if doc.notes:
        story.append(Spacer(1, 4 * mm))
        story += [_p(n, styles["note"]) for n in doc.notes]
    if doc.signatures:
        story += _signatures(doc, styles, wide if on_wide else tall)
    if on_wide and not doc.wide:
        story.append(NextPageTemplate("tall"))
    return story


class _NumberedCanvas(Canvas):
    """A canvas that prints "Halaman x dari y" once the number of pages is known."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.saveState()
            self.setFont(FONT, 7.5)
            self.drawRightString(self._pagesize[0] - MARGIN, 10 * mm,
                                 f"Halaman {self._pageNumber} dari {total}")
            self.restoreState()
            super().showPage()
        super().save()


# The room kept at the right of the footer for "Halaman 999 dari 999" (7.5 points).
FOOTER_ROOM = stringWidth("Halaman 999 dari 999", FONT, 7.5) + 6 * mm


def _fitted_line(text: str, width: float, font: str, size: float) -> str:
    """``text`` on one line no wider than ``width``, cut with "..." when it is longer."""
    line = " ".join(clean(text).split())
    if _width(line, font, size) <= width:
        return line
    while line and _width(line + "...", font, size) > width:
        line = line[:-1]
    return line.rstrip() + "..."


def render_pdf(doc: PrintDocument) -> bytes:
    """The document as PDF bytes (A4), numbered "Halaman x dari y"."""
    return render_pdfs([doc])


def render_pdfs(docs: Sequence[PrintDocument]) -> bytes:
    """Several documents in one PDF, each from a new page (the share sheets of a split,
    one per page). The page decoration (marking, footer, landscape) is the first's."""
    first = docs[0]
    styles = _styles()
    out = io.BytesIO()
    tall_size, wide_size = A4, landscape(A4)
    tall = tall_size[0] - 2 * MARGIN
    wide = wide_size[0] - 2 * MARGIN
    story: list = []
    for i, doc in enumerate(docs):
        if i:
            story.append(PageBreak())
        story += _story(doc, styles, tall, wide)

    def decorate(canvas, template) -> None:  # type: ignore[no-untyped-def]
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, 10 * mm, _fitted_line(first.footer, width - 2 * MARGIN
                                                        - FOOTER_ROOM, FONT, 7))
        if first.marking:
            canvas.setFont(BOLD, 10)
            canvas.setFillColor(colors.HexColor("#a00000"))
            canvas.drawCentredString(width / 2, height - 10 * mm, first.marking)
            canvas.drawCentredString(width / 2, 5 * mm, first.marking)
        canvas.restoreState()

    def frame(size: tuple[float, float], name: str) -> PageTemplate:
        box = Frame(MARGIN, 16 * mm, size[0] - 2 * MARGIN, size[1] - 32 * mm, id=name,
                    leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        return PageTemplate(id=name, frames=[box], onPage=decorate, pagesize=size)

    templates = [frame(tall_size, "tall"), frame(wide_size, "wide")]
    if first.wide:
        templates.reverse()
    template = BaseDocTemplate(out, pagesize=templates[0].pagesize, leftMargin=MARGIN,
                               rightMargin=MARGIN, topMargin=16 * mm, bottomMargin=16 * mm,
                               title=first.title, author=first.office, creator="Brankas",
                               keywords=first.keywords, pageTemplates=templates)
    template.build(story, canvasmaker=_NumberedCanvas)
    return out.getvalue()
