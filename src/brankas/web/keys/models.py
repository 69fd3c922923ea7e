from __future__ import annotations

from django.conf import settings
from django.db import models


class HolderKey(models.Model):
    """A key holder's age identity. Only the passphrase-protected form is stored."""

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="keys"
    )
    recipient = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=16, unique=True)
    protected_identity = models.BinaryField()  # age scrypt file, readable by `age -d`
    suite = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    @property
    def active(self) -> bool:
        return self.retired_at is None
