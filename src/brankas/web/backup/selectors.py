"""Reading the control lists, the disks, and whether the archive is safely backed up.

The control lists and the disks are reads the access matrix governs (view-backups): each
selector takes the acting user and refuses, audited, a role the matrix does not allow;
``via`` (``web``, ``cli``) and ``target`` only describe the refusal in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.chains.custody import ACTIVE
from brankas.web import changes
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.backup.models import BackupCopy, BackupRun, Medium, MediumCheck
from brankas.web.documents.selectors import document_total
from brankas.web.runtime import brankas_settings, get_or_not_found

MIN_DISKS = 2  # the dashboard warns when a document is on fewer disks


def run_list(*, actor: User, via: str = "", target: str = "") -> QuerySet[BackupRun]:
    require_audited(actor, Action.VIEW_BACKUPS, target=target, via=via)
    return BackupRun.objects.select_related("medium", "operator").order_by("-number")


def run_get(*, actor: User, number: int, via: str = "", target: str = "") -> BackupRun:
    require_audited(actor, Action.VIEW_BACKUPS, target=target or str(number), via=via)
    return get_or_not_found(BackupRun.objects.select_related("medium", "operator"),
                            "backup_run_not_found", number=number)


def medium_list(*, actor: User, via: str = "", target: str = "") -> QuerySet[Medium]:
    require_audited(actor, Action.VIEW_BACKUPS, target=target, via=via)
    return Medium.objects.annotate(documents=Count("copies")).order_by("label", "first_used_at")


def medium_checks(*, actor: User, medium: Medium, via: str = "",
                  target: str = "") -> QuerySet[MediumCheck]:
    require_audited(actor, Action.VIEW_BACKUPS, target=target or medium.label, via=via)
    return MediumCheck.objects.filter(medium=medium).select_related("actor")


@dataclass(frozen=True)
class BackupStatus:
    documents: int
    on_no_disk: int
    on_one_disk: int  # on fewer than MIN_DISKS disks, but on one
    last_backup_at: datetime | None
    max_age_days: int

    @property
    def overdue(self) -> bool:
        if self.documents == 0:
            return False
        if self.last_backup_at is None:
            return True
        return timezone.now() - self.last_backup_at > timedelta(days=self.max_age_days)

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.on_no_disk:
            out.append("on_no_disk")
        if self.on_one_disk:
            out.append("fewer_than_two")
        if self.overdue:
            out.append("overdue")
        return out


def copied_counts() -> dict[str, int]:
    """How many documents are on at least one usable disk (``some``) and on fewer than
    ``MIN_DISKS`` (``fewer``): an aggregate over every copy (400,000 rows for 100,000
    documents on four disks), so computed again only when the copies changed (a change
    stamp kept by the database, ``web/changes.py``) or a disk became usable or not."""
    usable = tuple(usable_media().order_by("pk").values_list("pk", flat=True))

    def compute() -> dict[str, int]:
        return dict(copies_per_document().aggregate(
            some=Count("document"), fewer=Count("document", filter=Q(n__lt=MIN_DISKS))))

    return changes.cached("backup_copied_counts", "backup_backupcopy", usable, compute)


def usable_media() -> QuerySet[Medium]:
    """The disks whose copies count: not retired, not reported lost."""
    return Medium.objects.filter(Q(custody__isnull=True)
                                 | Q(custody__state__in=[s.value for s in ACTIVE]))


def copies_per_document() -> QuerySet[Any, Any]:
    """For each document on at least one usable disk, on how many (``n``). A disk retired
    or reported lost no longer counts as a copy. Grouped by the database over the copies
    (read from the (document, medium) unique index), never a row per document in Python."""
    return (BackupCopy.objects.filter(medium__in=usable_media()).order_by()
            .values("document").annotate(n=Count("medium", distinct=True)))


def backup_status() -> BackupStatus:
    """For the dashboard: documents on no disk, on fewer than two, and the last backup."""
    copied = copied_counts()
    documents = document_total()
    last = (BackupRun.objects.filter(status=BackupRun.COMPLETED)
            .order_by("-finished_at").values_list("finished_at", flat=True).first())
    return BackupStatus(
        documents=documents,
        on_no_disk=documents - copied["some"],
        on_one_disk=copied["fewer"],
        last_backup_at=last,
        max_age_days=brankas_settings().backup_max_age_days,
    )
