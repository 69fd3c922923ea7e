"""The audit-chain head on an approved report's PDF: how approval writes it, and reading
it back from the PDF alone (``brankas audit verify --against REPORT.pdf``).

An approved report prints ``#<seq> <64 hex>`` in its verification block under
``HEAD_LABEL``. Since issue 11 the approval also writes the head into the PDF's document
information (``/Keywords``: ``brankas-audit-head #<seq> <hash>``), which any PDF reader
shows under the document's properties. ``read_pdf_head`` takes the keywords first and,
for a PDF approved before, finds the printed head in the pages' text (the last page
first: the verification block closes the report). A hash wrapped over two lines is still
found.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from brankas.core.errors import InvalidInput

HEAD_LABEL = "Kepala rantai audit saat pengesahan"
KEYWORD = "brankas-audit-head"
_HEAD = re.compile(r"#(\d{1,18})\s+((?:[0-9a-f]\s*){63}[0-9a-f])(?![0-9a-f])")
_KEYWORDS = re.compile(re.escape(KEYWORD) + r"\s+" + _HEAD.pattern)
_TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def printed(seq: int, digest: str) -> str:
    """The head as the verification block prints it."""
    return f"#{seq} {digest}"


def keywords(seq: int, digest: str) -> str:
    """The PDF's ``/Keywords`` on an approved report."""
    return f"{KEYWORD} {printed(seq, digest)}"


def _head(match: re.Match[str] | None) -> Head | None:
    if match is None or int(match.group(1)) < 1:
        return None
    return Head(int(match.group(1)), re.sub(r"\s", "", match.group(2)))


def parse_keywords(text: str) -> Head | None:
    return _head(_KEYWORDS.search(text))


def parse_text(text: str) -> Head | None:
    """The head printed after the last ``HEAD_LABEL`` in a page's text."""
    flat = re.sub(r"\s+", " ", text)
    at = flat.rfind(HEAD_LABEL)
    if at < 0:
        return None
    return _head(_HEAD.search(flat, at + len(HEAD_LABEL)))


def _page_text(page) -> str:  # type: ignore[no-untyped-def]
    """The strings a page draws, in order, one per text operator (line breaks between)."""
    import pikepdf

    parts: list[str] = []
    for instruction in pikepdf.parse_content_stream(page):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction) \
                or str(instruction.operator) not in _TEXT_OPERATORS:
            continue
        for operand in instruction.operands:
            items = operand if isinstance(operand, pikepdf.Array) else [operand]
            parts.append("".join(bytes(x).decode("latin-1") for x in items
                                 if isinstance(x, pikepdf.String)))
    return "\n".join(parts)


def read_pdf_head(data: bytes, *, name: str) -> Head | None:
    """The audit-chain head an approved report carries, from its document information or
    else its pages; None when it has none. A file that is not a readable PDF is refused."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, ValueError) as exc:
        raise InvalidInput("pdf_unreadable", name=name, detail=str(exc)[:200]) from None
    with pdf:
        try:
            found = parse_keywords(str(pdf.docinfo.get("/Keywords", "")))
        except (pikepdf.PdfError, ValueError):
            found = None
        if found is not None:
            return found
        for page in reversed(pdf.pages):
            try:
                found = parse_text(_page_text(page))
            except (pikepdf.PdfError, ValueError, TypeError):
                continue
            if found is not None:
                return found
    return None
