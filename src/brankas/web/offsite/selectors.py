"""Reading the offsite remotes and their pushes (issue 18)."""

from __future__ import annotations

from django.db.models import QuerySet

from brankas.core.access import Action
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.offsite.models import Push, Remote


def remote_list(*, actor: User) -> QuerySet[Remote]:
    """Every remote (the backups' readers may see them, as the disks)."""
    require_audited(actor, Action.VIEW_BACKUPS, target="offsite")
    return Remote.objects.order_by("name")


def push_list(*, actor: User, remote: Remote) -> QuerySet[Push]:
    require_audited(actor, Action.VIEW_BACKUPS, target=remote.name)
    return Push.objects.filter(remote=remote).order_by("-number")


def remotes_not_immutable() -> list[str]:
    """The remotes whose canary's locked version could be deleted (the dashboard's
    warning, when it shows one)."""
    return list(Remote.objects.filter(immutable=False).values_list("name", flat=True))
