"""What the dashboard warns of the offsite copies (issue 18, s18 OC): a remote that is not
immutable (its canary deleted a locked version), a remote whose daily push is on and whose
last successful push is older than ``STALE_DAYS``, and no offsite copy at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone

from brankas.web.offsite.models import Push, Remote, Schedule

STALE_DAYS = 2


@dataclass(frozen=True)
class OffsiteWarning:
    code: str  # not_immutable, verify_failed, push_stale, no_copy
    params: dict[str, Any] = field(default_factory=dict)


def offsite_warnings(now: dt.datetime | None = None) -> list[OffsiteWarning]:
    now = now or timezone.now()
    out = [OffsiteWarning("not_immutable", {"name": name}) for name in
           Remote.objects.filter(immutable=False).order_by("name").values_list("name",
                                                                               flat=True)]
    # s18 review: the last ``offsite verify`` named missing, changed or unlocked objects
    out += [OffsiteWarning("verify_failed", {"name": name}) for name in
            Remote.objects.filter(last_verify_ok=False).order_by("name").values_list(
                "name", flat=True)]
    done = Push.objects.filter(status=Push.COMPLETED).values("remote")
    last: dict[Any, Any] = dict(done.annotate(at=Max("finished_at")).values_list("remote", "at"))
    # A push or schedule dated after now was recorded under a clock set ahead (since put
    # right): it is no recent push, and it would hide the failures until that date (s18
    # review).
    before: dict[Any, Any] = dict(done.filter(finished_at__lte=now).annotate(
        at=Max("finished_at")).values_list("remote", "at"))
    for schedule in Schedule.objects.filter(daily_at__isnull=False).select_related(
            "remote").order_by("remote__name"):
        at = before.get(schedule.remote_id)
        # a schedule set less than STALE_DAYS ago has not had its chance yet
        since = at or schedule.set_at
        if since > now or now - since > dt.timedelta(days=STALE_DAYS):
            out.append(OffsiteWarning("push_stale", {"name": schedule.remote.name,
                                                     "days": STALE_DAYS, "last": at}))
    if not last:
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
