from __future__ import annotations

from django.conf import settings
from django.db import models


class HolderKeyQuerySet(models.QuerySet["HolderKey"]):
    """The one definition of an active key. Every exempted file made from now on is
    encrypted to the active keys (``keys.selectors.recipients_for``); nothing else spells
    these filters out.

    ``unretired``: the holder's current key, neither replaced by a newer key of its holder
    (``retired_at``) nor revoked (``revoked_at``). A revoked key is never current again:
    it receives no new file, and a new key of its holder leaves it as it is (revoked, not
    retired). ``active``: unretired and held by a user who is still active."""

    def unretired(self) -> HolderKeyQuerySet:
        return self.filter(retired_at__isnull=True, revoked_at__isnull=True)

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
    # Revoked (``key revoke``): out of every encryption from then on, for good. What it
    # already opened on backup disks stays readable to it.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="keys_revoked",
    )
    # When the holder last proved the passphrase (``key check``, or any unlock that counts).
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # Which passphrase protection of the identity is current: 1 at creation, one more at
    # every passphrase change (part of the key file's name, so a backup disk, which is
    # append-only, gets the new file under a new name).
    protection = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["created_at"]

    @property
    def active(self) -> bool:
        """This key as ``HolderKey.objects.active()`` judges it (one key at hand)."""
        return self.retired_at is None and self.revoked_at is None and self.holder.is_active

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


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


class RecoverySplit(models.Model):
    """One split of the office recovery identity into SLIP-39 shares (``recovery split``,
    or ``init --recovery-shares``). The words are never stored, only what identifies the
    split. Splitting again makes a new split with a new identifier; the old shares still
    rebuild the same recovery key (only a new recovery key makes them useless)."""

    identifier = models.PositiveIntegerField()  # the SLIP-39 identifier (15 bits)
    threshold = models.PositiveSmallIntegerField()  # K: shares needed
    shares = models.PositiveSmallIntegerField()  # N: shares made
    # The recovery key the shares rebuild (``crypto.recipient_fingerprint``).
    recovery_fingerprint = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="recovery_splits",
    )
    # When a set of its shares last rebuilt the key (``recovery check`` or any use).
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]


class RewrapJob(models.Model):
    """One grant or rekey run: what it set out to do and how far it got. It serves the
    progress page and the summary; correctness never depends on it (a re-run selects the
    files whose recipients still lack the target keys)."""

    GRANT, REKEY = "grant", "rekey"
    KINDS = [(GRANT, GRANT), (REKEY, REKEY)]
    RUNNING, DONE, FAILED = "running", "done", "failed"
    STATES = [(RUNNING, RUNNING), (DONE, DONE), (FAILED, FAILED)]

    kind = models.CharField(max_length=10, choices=KINDS)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rewrap_jobs"
    )
    grantee_key = models.ForeignKey(  # grant: the key that gains access
        HolderKey, null=True, blank=True, on_delete=models.PROTECT, related_name="grants_received"
    )
    revoked_key = models.ForeignKey(  # rekey after a revocation: the key shut out
        HolderKey, null=True, blank=True, on_delete=models.PROTECT, related_name="rekeys"
    )
    # What opened the files: "recovery" (shares) or the granter's key fingerprint.
    via = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=STATES, default=RUNNING)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]


class SupersededFile(models.Model):
    """An earlier encrypted version of a document or request letter, replaced by a
    re-encrypted one (grant or rekey). The file leaves the archive; backup disks, which
    are append-only, keep it, so verify, restore and recover still know its hash, and the
    keys it was encrypted to (``recipients``) can still open those copies."""

    DOCUMENT, LETTER = "document", "letter"
    KINDS = [(DOCUMENT, DOCUMENT), (LETTER, LETTER)]

    kind = models.CharField(max_length=10, choices=KINDS)
    # documents.Document or dispatch.SendRequest by kind (no foreign key across apps).
    object_id = models.PositiveIntegerField()
    path = models.CharField(max_length=400)  # relative, '/'-separated, as it was stored
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    recipients = models.JSONField(default=list)  # fingerprints it was encrypted to
    superseded_at = models.DateTimeField()
    job = models.ForeignKey(
        RewrapJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded"
    )

    class Meta:
        ordering = ["superseded_at", "id"]
        indexes = [models.Index(fields=["kind", "object_id"])]


class SupersededCopy(models.Model):
    """A superseded version that is on a backup disk (the ``BackupCopy`` of the version
    it was, moved here when the document or letter was re-encrypted)."""

    superseded = models.ForeignKey(
        SupersededFile, on_delete=models.CASCADE, related_name="copies"
    )
    medium = models.ForeignKey(
        "backup.Medium", on_delete=models.CASCADE, related_name="superseded_copies"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["superseded", "medium"],
                                    name="superseded_copy_unique")
        ]
