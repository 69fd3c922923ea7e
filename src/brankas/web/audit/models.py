from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (see ``brankas.core.auditchain``)."""

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
