from __future__ import annotations

from django.conf import settings
from django.db import models


class HolderKeyQuerySet(models.QuerySet["HolderKey"]):
    """The one definition of an active key: ``unretired`` (no newer key of its holder
    replaced it) and held by a user who is still active. Every exempted file made from now
    on is encrypted to the active keys (``keys.selectors.recipients_for``); nothing else
    spells these filters out."""

    def unretired(self) -> HolderKeyQuerySet:
        return self.filter(retired_at__isnull=True)

    def active(self) -> HolderKeyQuerySet:
        return self.unretired().filter(holder__is_active=True)


class HolderKey(models.Model):
    """A key holder's age identity. Only the passphrase-protected form is stored."""

    objects = HolderKeyQuerySet.as_manager()

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="keys"
    )
    recipient = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=16, unique=True)
    protected_identity = models.BinaryField()  # age scrypt file, readable by `age -d`
    suite = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # The office signing key's anchor, tagged with this identity (``core.disk.seal``), and
    # the fingerprint of the office key it names; empty until the identity was at hand.
    anchor = models.BinaryField(default=b"", blank=True)
    anchor_office_key = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["created_at"]

    @property
    def active(self) -> bool:
        """This key as ``HolderKey.objects.active()`` judges it (one key at hand)."""
        return self.retired_at is None and self.holder.is_active


class OfficeKey(models.Model):
    """The office's Ed25519 signing key: it seals every backup run (``core.disk.seal``).

    The private key is kept here, unprotected, because a backup (run by a Sandiman, who
    holds no passphrase) must be able to seal; it travels only inside the encrypted
    database snapshot. Its public key is trusted on a disk only through an anchor: the
    fingerprint printed at set-up, or an anchor tagged by a holder's identity or the
    recovery identity (``recovery_anchor``, made when the recovery identity is at hand)."""

    public = models.CharField(max_length=64, unique=True)  # base64 of the raw public key
    private = models.BinaryField()  # raw 32 bytes
    fingerprint = models.CharField(max_length=40, unique=True)
    recovery_anchor = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
