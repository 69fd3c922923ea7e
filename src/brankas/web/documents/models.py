from __future__ import annotations

from django.conf import settings
from django.db import models

from brankas.core.sealing import SealedRow
from brankas.core.terms import (
    CATEGORY_LABELS,
    CLASSIFICATION_LABELS,
    DIRECTION_LABELS,
    Category,
    choices,
)


class AgendaCounter(models.Model):
    """The last agenda sequence given per year and direction; numbers are never reused."""

    year = models.PositiveIntegerField()
    direction = models.CharField(max_length=20)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "direction"], name="agenda_counter_unique")
        ]


class Document(SealedRow, models.Model):
    agenda = models.CharField(max_length=100, unique=True)
    year = models.PositiveIntegerField()
    seq = models.PositiveIntegerField()
    direction = models.CharField(
        max_length=20, choices=choices(DIRECTION_LABELS)
    )
    classification = models.CharField(
        max_length=20, choices=choices(CLASSIFICATION_LABELS)
    )
    category = models.CharField(
        max_length=20, choices=choices(CATEGORY_LABELS)
    )
    # The data-input form (SOP step 1).
    number = models.CharField(max_length=100, blank=True)  # the document's own number
    doc_date = models.DateField()
    subject = models.CharField(max_length=500)  # perihal
    correspondent = models.CharField(max_length=300)  # sender (incoming) / addressee (outgoing)
    pages = models.PositiveIntegerField(default=0)
    attachments = models.CharField(max_length=200, blank=True)  # lampiran
    notes = models.TextField(blank=True)
    # Who and when: the SOP's standard times are measured from these.
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered"
    )
    form_opened_at = models.DateTimeField()
    registered_at = models.DateTimeField()
    source = models.CharField(max_length=20, default="cli")  # cli, web, import
    # What came in and what is stored.
    originals = models.JSONField(default=list)  # [{name, kind, size, sha256}]
    source_sha256 = models.CharField(max_length=64, db_index=True)
    content_sha256 = models.CharField(max_length=64)  # of the PDF (plaintext)
    content_size = models.BigIntegerField()
    stored_path = models.CharField(max_length=400, unique=True)  # relative, '/'-separated
    stored_sha256 = models.CharField(max_length=64)  # of the file on disk
    stored_size = models.BigIntegerField()
    suite = models.CharField(max_length=20, blank=True)  # cipher suite; empty for biasa
    recipients = models.JSONField(default=list)  # fingerprints the file was encrypted to
    # 1 for the file as registered; one more at every re-encryption (grant, rekey), whose
    # new file gets a new name (``<agenda>.v2.pdf.age``) because backup disks are append-only.
    file_version = models.PositiveIntegerField(default=1)
    # The sealed fields of an exempted entry (issue 16, ``core.sealing``): the columns above
    # are empty for them, their values only age-encrypted here.
    sealed = models.JSONField(default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    class Meta:
        ordering = ["-year", "direction", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["year", "direction", "seq"], name="agenda_seq_unique")
        ]
        # Every filter of the register (docs/benchmarks.md, "Indexes"): each leads with the
        # filtered column and ends with the list's order, so a page is read in order from
        # the index and stops after 50 rows; the count reads the index alone.
        indexes = [
            models.Index(fields=["year", "direction", "classification"]),
            models.Index(fields=["registered_at", "seq"], name="doc_registered_idx"),
            models.Index(fields=["direction", "registered_at", "seq"], name="doc_direction_idx"),
            models.Index(fields=["classification", "registered_at", "seq"],
                         name="doc_classification_idx"),
            models.Index(fields=["year", "registered_at", "seq"], name="doc_year_idx"),
            models.Index(fields=["category", "registered_at", "seq"], name="doc_category_idx"),
            models.Index(fields=["category", "direction"], name="doc_folder_idx"),  # dashboard
            # the exempted documents grouped by their recipients (key coverage, dashboard)
            models.Index(fields=["category", "recipients"], name="doc_recipients_idx"),
        ]

    def __str__(self) -> str:
        return self.agenda

    @property
    def exempted(self) -> bool:
        return self.category == Category.EXEMPTED.value
