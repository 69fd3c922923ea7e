"""The unit's equipment (the SOP's PERALATAN/PERLENGKAPAN), its maintenance log, and the
health of the backup disks read at each use."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from brankas.core.equipment.smart import STATUSES
from brankas.core.terms import CONDITION_LABELS, EQUIPMENT_KIND_LABELS, choices


class Equipment(models.Model):
    """One item of equipment. A backup disk or a safe Brankas already knows is linked
    (``medium``, ``safe``) rather than entered again; until someone records something
    about it, it is listed from its own record (``selectors.equipment_items``)."""

    kind = models.CharField(max_length=30, choices=choices(EQUIPMENT_KIND_LABELS))
    name = models.CharField(max_length=100)
    serial = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="equipment_held")
    acquired = models.DateField(null=True, blank=True)
    condition = models.CharField(max_length=20, choices=choices(CONDITION_LABELS))
    next_check_due = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    medium = models.OneToOneField("backup.Medium", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="equipment")
    safe = models.OneToOneField("custody.Safe", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="equipment")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="equipment_created")
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class MaintenanceEntry(models.Model):
    """A check or a repair of an item: when, who, what was done, the condition after."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="log")
    on = models.DateField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="maintenance_entries")
    work = models.TextField()
    condition_after = models.CharField(max_length=20, choices=choices(CONDITION_LABELS))
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["on", "id"]


class DiskHealth(models.Model):
    """The health of a backup disk as smartctl read it, and its free space, after a
    backup run, a verification or a drill."""

    BACKUP, VERIFY, DRILL = "backup", "verify", "drill"
    medium = models.ForeignKey("backup.Medium", on_delete=models.CASCADE,
                               related_name="health")
    source = models.CharField(max_length=10, choices=[(s, s) for s in (BACKUP, VERIFY, DRILL)])
    run = models.ForeignKey("backup.BackupRun", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="health")
    medium_check = models.ForeignKey("backup.MediumCheck", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="health")
    at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=[(s, s) for s in STATUSES])
    reason = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=200, blank=True)
    device_type = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    power_on_hours = models.PositiveIntegerField(null=True, blank=True)
    temperature = models.PositiveSmallIntegerField(null=True, blank=True)
    reallocated = models.PositiveBigIntegerField(null=True, blank=True)
    pending = models.PositiveBigIntegerField(null=True, blank=True)
    uncorrectable = models.PositiveBigIntegerField(null=True, blank=True)
    crc_errors = models.PositiveBigIntegerField(null=True, blank=True)
    media_errors = models.PositiveBigIntegerField(null=True, blank=True)
    failing_attributes = models.JSONField(default=list)
    # The counters that rose since the disk's previous reading: [[name, before, after], ...]
    rose = models.JSONField(default=list)
    free_bytes = models.BigIntegerField(null=True, blank=True)
    capacity_bytes = models.BigIntegerField(null=True, blank=True)
    runs_left = models.PositiveIntegerField(null=True, blank=True)  # at the recent growth

    class Meta:
        ordering = ["-at", "-id"]
