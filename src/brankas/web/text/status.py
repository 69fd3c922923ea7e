"""Where a document's text stands, as its page shows it (a read): ada teks, tidak terbaca,
belum dibaca, OCR tidak terpasang, or (an exempted document) never read."""

from __future__ import annotations

from dataclasses import dataclass

from brankas.core.text import STATUS_TEXT, STATUS_UNREADABLE, ocr_engine
from brankas.web.documents.models import Document
from brankas.web.text.models import DocumentText

TEXT, UNREADABLE = STATUS_TEXT, STATUS_UNREADABLE
PENDING = "pending"  # belum dibaca: a job will read it (or `brankas ocr`)
UNAVAILABLE = "unavailable"  # OCR tidak terpasang: no text yet, and no engine to read a scan
EXEMPTED = "exempted"  # never read (docs/ocr.md)


@dataclass(frozen=True)
class TextState:
    status: str
    row: DocumentText | None = None

    @property
    def body(self) -> str:
        return self.row.body if self.row is not None and self.status == TEXT else ""


def text_state(document: Document) -> TextState:
    """The text of ``document`` when it has a fresh one (read from the file the register
    holds now), else why not."""
    if document.exempted:
        return TextState(EXEMPTED)
    row = DocumentText.objects.filter(pk=document.pk).first()
    if row is not None and row.content_sha256 == document.stored_sha256:
        return TextState(row.status, row)
    from brankas.web.jobs.models import ACTIVE, Job
    from brankas.web.jobs.runners import OCR

    if ocr_engine() is None and not Job.objects.filter(kind=OCR, state__in=ACTIVE).exists():
        return TextState(UNAVAILABLE)
    return TextState(PENDING)
