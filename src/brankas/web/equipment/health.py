"""Recording a backup disk's health and free space after each use (issue 17).

Called through ``backup.healthhook`` after a backup run, a verification and a drill:
``smartctl --json`` for the device under DEST (``core.equipment.smart``: bounded by
``BRANKAS_SMART_TIMEOUT``; ``BRANKAS_SMART_JSON`` names a recorded output to use
instead), the counters that rose since the disk's previous reading, the free space and
the runs left at the recent growth rate. Audited as ``backup.disk_health``: backup
bookkeeping, which does not make the next run write a new snapshot.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core.equipment import forecast, smart
from brankas.web.accounts.models import User
from brankas.web.audit import outcomes
from brankas.web.audit.services import audit_record
from brankas.web.backup.models import BackupRun, Medium, MediumCheck
from brankas.web.equipment.models import DiskHealth
from brankas.web.runtime import brankas_settings


def health_read(dest: Path) -> smart.Health:
    settings = brankas_settings()
    return smart.read(dest, timeout=settings.smart_timeout_seconds,
                      recorded=settings.smart_json)


def _space(dest: Path) -> tuple[int | None, int | None]:
    try:
        usage = shutil.disk_usage(dest)
    except OSError:
        return None, None
    return usage.free, usage.total


def _last_known(medium: Medium) -> dict[str, int | None]:
    """Each counter's value at the latest reading that knew it: a reading in between that
    could not be read (unknown, its counters None) must not hide a rise from the one
    before it."""
    readings = DiskHealth.objects.filter(medium=medium).order_by("-at", "-id")
    known: dict[str, int | None] = {}
    for name in smart.COUNTERS:
        last = readings.filter(**{f"{name}__isnull": False}).values_list(name, flat=True)[:1]
        known[name] = next(iter(last), None)
    return known


def health_record(*, medium: Medium, dest: Path | str, actor: User, source: str,
                  run: BackupRun | None = None, check: MediumCheck | None = None,
                  health: smart.Health | None = None) -> DiskHealth:
    """Read and record the health and free space of the disk at ``dest``."""
    dest = Path(dest)
    health = health or health_read(dest)
    free, capacity = _space(dest)
    before = _last_known(medium)
    rose = forecast.counters_rose(before, health.counters())
    # The disk's first run copied the whole archive: no measure of what a run adds, and it
    # would make a fresh disk look full within a few runs. Until a later run, unknown.
    completed = BackupRun.objects.filter(medium=medium, status=BackupRun.COMPLETED)
    first = completed.order_by("number").values_list("number", flat=True).first()
    later = completed.exclude(number=first) if first is not None else completed
    growth = list(later.order_by("-number")
                  .values_list("bytes_added", flat=True)[:forecast.RECENT_RUNS])
    with transaction.atomic():
        row = DiskHealth.objects.create(
            medium=medium, source=source, run=run, medium_check=check, at=timezone.now(),
            status=health.status, reason=health.reason[:200], device=health.device[:200],
            device_type=health.device_type[:40], model=health.model[:100],
            serial=health.serial[:100], power_on_hours=health.power_on_hours,
            temperature=health.temperature, reallocated=health.reallocated,
            pending=health.pending, uncorrectable=health.uncorrectable,
            crc_errors=health.crc_errors, media_errors=health.media_errors,
            failing_attributes=list(health.failing_attributes),
            rose=[list(r) for r in rose], free_bytes=free, capacity_bytes=capacity,
            runs_left=forecast.runs_left(free, growth))
        detail: dict[str, Any] = {"medium": medium.medium_id, "source": source,
                                  "status": health.status, "free_bytes": free,
                                  "runs_left": row.runs_left}
        if health.reason:
            detail["reason"] = health.reason
        if rose:
            detail["rose"] = row.rose
        # One vocabulary for every audit entry (web/audit/outcomes.py): a disk whose own
        # check failed is "failed"; a reading done, good or unknown, is "ok" (its detail
        # says which: "unknown" is never shown as good).
        outcome = outcomes.FAILED if health.status == smart.FAILED else outcomes.OK
        audit_record(actor=actor.username, action="backup.disk_health", target=medium.label,
                     outcome=outcome,
                     detail=detail)
    return row


def health_record_after_use(*, medium: Medium | None, dest: Path | str, actor: User,
                            source: str, run: BackupRun | None = None,
                            check: MediumCheck | None = None) -> DiskHealth | None:
    if medium is None:
        return None
    return health_record(medium=medium, dest=dest, actor=actor, source=source, run=run,
                         check=check)
