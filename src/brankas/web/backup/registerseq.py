"""The register's last change as a backup and an offsite push see it (``register_seq``):
in a module of its own, light to import (an offsite push needs it at every run, the
backup's services only when its registers and snapshot are written; s20)."""

from __future__ import annotations

from django.db.models import Max

from brankas.web.audit.models import AuditEvent

# Audit entries that do not change what a snapshot restores: sign-ins and the backup's
# own bookkeeping (which the control lists on the disk carry), and an offsite push's
# (s18 OB: the offsite tables are not in the snapshot).
BOOKKEEPING = ("auth.", "backup.", "offsite.")


def register_seq() -> int:
    """The last audit entry that is not bookkeeping: every change to the register, users,
    keys or office writes one."""
    qs = AuditEvent.objects.all()
    for prefix in BOOKKEEPING:
        qs = qs.exclude(action__startswith=prefix)
    return int(qs.aggregate(n=Max("seq"))["n"] or 0)
