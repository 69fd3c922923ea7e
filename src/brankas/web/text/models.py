"""The text of biasa documents (issue 19): one row per document whose text was read.

An exempted document never has a row (its text is not indexed: docs/ocr.md). The search
index over ``body`` is the database's own full-text search: SQLite FTS5 on the embedded
default, PostgreSQL's ``indonesian`` configuration on the server (``selectors.py`` hides
which)."""

from __future__ import annotations

from django.db import models

from brankas.web.documents.models import Document


class DocumentText(models.Model):
    document = models.OneToOneField(Document, primary_key=True, on_delete=models.CASCADE,
                                    related_name="text")
    status = models.CharField(max_length=20)  # core.text STATUS_TEXT / STATUS_UNREADABLE
    method = models.CharField(max_length=10)  # core.text METHOD_PDF / METHOD_OCR
    body = models.TextField(blank=True)
    pages = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=200, blank=True)
    # the stored file's SHA-256 the text was read from: a re-encrypted or renamed file of
    # the same document keeps its content, a different one makes this row stale
    content_sha256 = models.CharField(max_length=64)
    read_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status"], name="text_status_idx")]

    def __str__(self) -> str:
        return f"text of {self.document_id}"
