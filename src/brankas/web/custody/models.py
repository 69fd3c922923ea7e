"""Safes, encrypted combinations, and each disk's custody state and moves."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brankas.core.chains.custody import MediumState, Move

STATE_CHOICES = [(s.value, s.value) for s in MediumState]
MOVE_CHOICES = [(m.value, m.value) for m in Move]


class Safe(models.Model):
    """A safe with a combination lock, where the backup disks are kept."""

    name = models.CharField(max_length=100, unique=True)
    location = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="safes_created"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SafeCombination(models.Model):
    """One combination of a safe, never stored in plaintext: an age file encrypted to the
    holders allowed to read it (``fingerprints``) and the office recovery key. The newest
    has ``superseded_at`` empty; older ones stay readable to the same people."""

    safe = models.ForeignKey(Safe, on_delete=models.CASCADE, related_name="combinations")
    ciphertext = models.BinaryField()
    fingerprints = models.JSONField(default=list)  # the holders' keys it is encrypted to
    suite = models.CharField(max_length=20)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="combinations_set"
    )
    set_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["safe", "-set_at", "-id"]

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class MediumCustody(models.Model):
    """Where a disk is now: its state, and the safe when it is locked in one."""

    medium = models.OneToOneField("backup.Medium", on_delete=models.CASCADE,
                                  related_name="custody")
    state = models.CharField(max_length=10, choices=STATE_CHOICES)
    safe = models.ForeignKey(Safe, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="media")
    location = models.CharField(max_length=200, blank=True)  # offsite: where
    since = models.DateTimeField()


class CustodyMove(models.Model):
    """One link of a disk's chain of custody: who moved it, when, from where to where, why."""

    medium = models.ForeignKey("backup.Medium", on_delete=models.CASCADE, related_name="moves")
    move = models.CharField(max_length=12, choices=MOVE_CHOICES)
    from_state = models.CharField(max_length=10, blank=True, choices=STATE_CHOICES)
    to_state = models.CharField(max_length=10, choices=STATE_CHOICES)
    from_safe = models.ForeignKey(Safe, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="moves_out")
    to_safe = models.ForeignKey(Safe, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="moves_in")
    location = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="custody_moves")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    @property
    def reason_shown(self) -> str:
        """The reason as a user typed it. A disk's first backup has none: its move's name
        says it (rows written before issue 14 hold the system's bilingual text "back up
        pertama / first backup", shown in neither language)."""
        return "" if self.move == "first_seen" else self.reason


class PaperNumber(models.Model):
    """The running number of a printed paper kind in a year (issue 14): the custody record
    of a disk, the combination list. Each print takes the next number."""

    kind = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"],
                                               name="custody_paper_number_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"
