"""Backup disks (media), backup runs with their control lists, and checks of the disks."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Medium(models.Model):
    """An external backup disk, recognised by the id written on it (brankas-medium.json),
    whatever drive letter or mount point it has today."""

    medium_id = models.CharField(max_length=36, unique=True)
    label = models.CharField(max_length=100)
    created_on_disk = models.CharField(max_length=40, blank=True)  # as written on the disk
    capacity_bytes = models.BigIntegerField(null=True, blank=True)  # of the disk, at last use
    free_bytes = models.BigIntegerField(null=True, blank=True)
    files = models.PositiveIntegerField(default=0)  # payload files on the disk (manifest)
    bytes = models.BigIntegerField(default=0)
    last_path = models.CharField(max_length=500, blank=True)  # where it was mounted last
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    last_backup_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verify_mode = models.CharField(max_length=10, blank=True)
    last_verify_ok = models.BooleanField(null=True, blank=True)
    sample_offset = models.BigIntegerField(default=0)  # where the next sample check starts
    # s17 N: the SHA-256 of the disk's manifest and sizes as the last completed run left
    # them ({"manifest-sha256.txt": ..., "brankas-sizes.txt": ...}): a run that finds
    # exactly those bytes reads them without checking every line again.
    lists = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["label", "first_used_at"]

    def __str__(self) -> str:
        return self.label


class BackupRun(models.Model):
    """One run of ``brankas backup``: a numbered entry of the backup control list."""

    RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
    STATUSES = [(RUNNING, RUNNING), (COMPLETED, COMPLETED), (FAILED, FAILED)]

    number = models.PositiveIntegerField(unique=True)
    medium = models.ForeignKey(Medium, on_delete=models.PROTECT, related_name="runs")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="backup_runs"
    )
    folder = models.CharField(max_length=100)  # data/backup/<folder>/ on the disk
    dest = models.CharField(max_length=500)  # the folder the disk was at
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=RUNNING)
    error = models.TextField(blank=True)
    # What this run carried to the disk: {"biasa/pengiriman": {"files": n, "bytes": b}, ...}
    categories = models.JSONField(default=dict)
    agendas = models.JSONField(default=list)  # agenda numbers of the documents it carried
    files_added = models.PositiveIntegerField(default=0)  # every payload file it copied
    bytes_added = models.BigIntegerField(default=0)
    files_skipped = models.PositiveIntegerField(default=0)  # already on the disk
    disk_files = models.PositiveIntegerField(default=0)  # on the disk afterwards
    disk_bytes = models.BigIntegerField(default=0)
    # Read-after-write: every file copied was re-read from the disk and matched its SHA-256.
    verified = models.BooleanField(null=True, blank=True)
    # The database snapshot and registers this run wrote (``snapshot``), and the last audit
    # entry they cover other than sign-ins and backup bookkeeping (``snapshot_seq``).
    snapshot = models.BooleanField(default=False)
    snapshot_seq = models.PositiveIntegerField(null=True, blank=True)
    # The run ended with the office's seal on the disk (``core.disk.seal``); runs made
    # before seals existed have none.
    sealed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.number}"


class BackupCopy(models.Model):
    """A document that is on a disk (listed in its manifest, read back after writing)."""

    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="copies"
    )
    medium = models.ForeignKey(Medium, on_delete=models.CASCADE, related_name="copies")
    run = models.ForeignKey(BackupRun, null=True, on_delete=models.SET_NULL, related_name="copies")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "medium"], name="backup_copy_unique")
        ]


class MediumCheck(models.Model):
    """A verification (full, fast or sample) or a restore drill of a disk, and its result."""

    VERIFY, DRILL = "verify", "drill"
    medium = models.ForeignKey(Medium, null=True, on_delete=models.SET_NULL, related_name="checks")
    kind = models.CharField(max_length=10, choices=[(VERIFY, VERIFY), (DRILL, DRILL)])
    mode = models.CharField(max_length=10, blank=True)  # full, fast, sample
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="medium_checks"
    )
    dest = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    files_checked = models.PositiveIntegerField(default=0)
    bytes_checked = models.BigIntegerField(default=0)
    problems = models.JSONField(default=dict)  # {"missing": [...], "changed": [...], ...}

    class Meta:
        ordering = ["-started_at"]
