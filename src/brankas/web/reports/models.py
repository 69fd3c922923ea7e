"""Reports, each step of their sign-off chain, and the signers' Ed25519 keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brankas.core.chains.report import State, Step
from brankas.core.reports.periods import Kind

KIND_CHOICES = [(k.value, k.value) for k in Kind]
STATE_CHOICES = [(s.value, s.value) for s in State]
STEP_CHOICES = [(s.value, s.value) for s in Step]


class Report(models.Model):
    """One version of a report. Its figures (``data``) are gathered when it is created and
    again when it is submitted; from approval on it is frozen, with the approved PDF kept
    byte for byte. A correction is a new report that ``corrects`` the old one."""

    number = models.PositiveIntegerField(unique=True)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    period = models.CharField(max_length=10)
    runs = models.JSONField(default=list)  # backup: chosen run numbers (empty: the period's)
    version = models.PositiveIntegerField(default=1)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="corrections")
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=State.DRAFT.value)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="reports_created")
    created_at = models.DateTimeField()
    data = models.JSONField(default=dict)  # the figures, as printed
    data_sha256 = models.CharField(max_length=64, blank=True)
    summary = models.TextField(blank=True)  # the Kasi's executive summary text
    return_note = models.TextField(blank=True)  # the latest return's note, shown until resent
    final_pdf = models.BinaryField(null=True, blank=True)  # the approved PDF, byte for byte
    final_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    audit_seq = models.PositiveIntegerField(null=True, blank=True)  # audit head at approval
    audit_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["state", "number"], name="report_state_idx")]  # inbox

    def __str__(self) -> str:
        return f"{self.number}"


class ReportStep(models.Model):
    """One transition: who, when, from which state to which, the note, and for a signed
    step the SHA-256 of the PDF as rendered then, the signed statement and the signature."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=12, choices=STEP_CHOICES)
    from_state = models.CharField(max_length=12, choices=STATE_CHOICES)
    to_state = models.CharField(max_length=12, choices=STATE_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="report_steps")
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    statement = models.TextField(blank=True)  # the exact signed bytes (UTF-8 JSON)
    signature = models.CharField(max_length=100, blank=True)  # base64 Ed25519
    signer_public = models.CharField(max_length=60, blank=True)  # base64 raw public key

    class Meta:
        ordering = ["at", "id"]


class SignerKey(models.Model):
    """A signer's Ed25519 key: the private half only as passphrase-encrypted PKCS#8."""

    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="signer_keys")
    public = models.CharField(max_length=60, unique=True)
    fingerprint = models.CharField(max_length=16)
    protected_private = models.BinaryField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["holder", "-created_at"]
