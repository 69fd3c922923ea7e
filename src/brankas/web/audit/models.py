from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (see
    ``brankas.core.audit.hashchain``)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # username, kept even if the user goes
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, default="ok")  # ok, denied, failed
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        # The audit page's filters (newest first): each leads with the filtered column and
        # ends with ``seq``, so a page is read in order from the index.
        indexes = [
            models.Index(fields=["actor", "seq"], name="audit_actor_idx"),
            models.Index(fields=["action", "seq"], name="audit_action_idx"),
            models.Index(fields=["outcome", "seq"], name="audit_outcome_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]


class AuditSequence(models.Model):
    """The highest sequence number ever given to an audit entry (one row). It only grows:
    a number is never given twice, and entries deleted from the end of the log leave a
    gap between the last entry and this counter, which ``audit verify`` names."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1),
                                              name="audit_sequence_single_row")]
