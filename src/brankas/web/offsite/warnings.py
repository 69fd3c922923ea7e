"""What the dashboard warns of the offsite copies (issue 18, s18 OC): a remote that is not
immutable (its canary deleted a locked version), a remote whose daily push is on and whose
last successful push is older than ``STALE_DAYS``, and no offsite copy at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone

from brankas.web.offsite.models import Push, Remote, Schedule

STALE_DAYS = 2


@dataclass(frozen=True)
class OffsiteWarning:
    code: str  # not_immutable, verify_failed, push_stale, no_copy
    params: dict[str, Any] = field(default_factory=dict)


def offsite_warnings(now: dt.datetime | None = None) -> list[OffsiteWarning]:
    now = now or timezone.now()
    # One reading of the remotes that warn (not immutable, or failed their last check),
    # by name: the not-immutable ones first, then (s18 review) those whose last ``offsite
    # verify`` named missing, changed or unlocked objects.
    flagged = list(Remote.objects.filter(Q(immutable=False) | Q(last_verify_ok=False))
                   .order_by("name").values_list("name", "immutable", "last_verify_ok"))
    out = [OffsiteWarning("not_immutable", {"name": name})
           for name, immutable, _ok in flagged if immutable is False]
    out += [OffsiteWarning("verify_failed", {"name": name})
            for name, _immutable, ok in flagged if ok is False]
    # Each remote with a successful push (none: no offsite copy), and its last one not
    # dated after now: a push or schedule dated after now was recorded under a clock set
    # ahead (since put right): it is no recent push, and it would hide the failures until
    # that date (s18 review).
    done: dict[Any, Any] = dict(
        Push.objects.filter(status=Push.COMPLETED).order_by().values("remote")
        .annotate(at=Max("finished_at", filter=Q(finished_at__lte=now)))
        .values_list("remote", "at"))
    before: dict[Any, Any] = {remote: at for remote, at in done.items() if at is not None}
    for schedule in Schedule.objects.filter(daily_at__isnull=False).select_related(
            "remote").order_by("remote__name"):
        at = before.get(schedule.remote_id)
        # a schedule set less than STALE_DAYS ago has not had its chance yet
        since = at or schedule.set_at
        if since > now or now - since > dt.timedelta(days=STALE_DAYS):
            out.append(OffsiteWarning("push_stale", {"name": schedule.remote.name,
                                                     "days": STALE_DAYS, "last": at}))
    if not done:
        out.append(OffsiteWarning("no_copy"))
    return out


def offsite_figures() -> list[list[str]]:
    """The backup report's section on the offsite copies (s18 OC): one row per remote, as
    gathered (remote, immutable or not, last successful push, objects and their size)."""
    from django.db.models import Count, Sum

    rows = []
    for remote in Remote.objects.order_by("name").annotate(n=Count("pushed"),
                                                            size=Sum("pushed__size")):
        last = remote.pushes.filter(status=Push.COMPLETED).order_by("-number").first()
        # the official paper is in Bahasa Indonesia only (as every other table of it)
        lock = {True: "terkunci (tidak dapat dihapus)", False: "TIDAK TERKUNCI (dapat dihapus)",
                None: "belum diuji"}[remote.immutable]
        when = (timezone.localtime(last.finished_at).strftime("%Y-%m-%d %H:%M")
                if last is not None and last.finished_at else "belum pernah")
        rows.append([remote.name, f"{remote.endpoint} {remote.bucket}", lock, when,
                     str(remote.n), str(remote.size or 0)])  # type: ignore[attr-defined]
    return rows
