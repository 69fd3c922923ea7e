from __future__ import annotations

from django.conf import settings
from django.db import models

from brankas.core.chains.request import STATE_LABELS, State, Step
from brankas.core.sealing import REQUEST_FIELD, SealedRow
from brankas.core.terms import CLASSIFICATION_LABELS, URGENCY_LABELS, Urgency, choices


class SendRequest(SealedRow, models.Model):
    """A request to the Kadis to send a secret letter or message through cryptography."""

    # Who asks, and what (record 1).
    requester_unit = models.CharField(max_length=300)  # the unit (OPD, bagian) that asks
    requester_name = models.CharField(max_length=200)  # the person who asks
    subject = models.CharField(max_length=500)  # perihal
    classification = models.CharField(
        max_length=20, choices=choices(CLASSIFICATION_LABELS)
    )
    addressee = models.CharField(max_length=300)  # to whom the message goes
    urgency = models.CharField(
        max_length=20, choices=choices(URGENCY_LABELS),
        default=Urgency.BIASA.value,
    )
    notes = models.TextField(blank=True)
    # The sealed fields of an exempted request (issue 16, ``core.sealing``).
    sealed = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField()  # when the request was made
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="send_requests_created"
    )
    created_at = models.DateTimeField()
    # Where it is in the chain.
    state = models.CharField(
        max_length=30, choices=choices(STATE_LABELS),
        default=State.SUBMITTED.value,
    )
    assignee = models.ForeignKey(  # the user it waits for (None: any Kadis)
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="send_requests_waiting",
    )
    state_since = models.DateTimeField()
    # The letter (optional until the Sandiman receives it), as stored under permintaan/.
    letter_path = models.CharField(max_length=400, blank=True)  # relative, '/'-separated
    letter_originals = models.JSONField(default=list)
    letter_source_sha256 = models.CharField(max_length=64, blank=True)
    letter_sha256 = models.CharField(max_length=64, blank=True)  # of the PDF (plaintext)
    letter_size = models.BigIntegerField(default=0)
    letter_pages = models.PositiveIntegerField(default=0)
    letter_stored_sha256 = models.CharField(max_length=64, blank=True)
    letter_stored_size = models.BigIntegerField(default=0)
    letter_suite = models.CharField(max_length=20, blank=True)  # empty for biasa
    letter_recipients = models.JSONField(default=list)  # fingerprints it was encrypted to
    letter_version = models.PositiveIntegerField(default=1)  # as Document.file_version
    # Records 5 to the end.
    received_at = models.DateTimeField(null=True, blank=True)
    document = models.OneToOneField(  # the register entry of the letter, once registered
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT,
        related_name="send_request",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=200, blank=True)  # e.g. JKS, aplikasi pesan
    reference = models.CharField(max_length=200, blank=True)  # the message's reference number
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "assignee"]),
                   models.Index(fields=["created_at"], name="request_created_idx"),
                   models.Index(fields=["state", "created_at"], name="request_state_idx")]

    FIELD_ATTRS = REQUEST_FIELD

    def __str__(self) -> str:
        return f"permintaan {self.pk}"

    @property
    def number(self) -> int:
        return int(self.pk)

    @property
    def has_letter(self) -> bool:
        return bool(self.letter_path)

    @property
    def letter_encrypted(self) -> bool:
        return bool(self.letter_suite)


class RequestStep(models.Model):
    """One entry of a request's history: who did what, when, and why."""

    request = models.ForeignKey(SendRequest, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=[(s.value, s.value) for s in Step])
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="request_steps"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="request_steps_assigned",
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
