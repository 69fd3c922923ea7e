"""Review (s24): the offsite warnings read in fewer queries (bb7a6ac) are the warnings of
main's code (kept here as ``_before``) over many generated records: no remote, remotes
never pushed, failed and running pushes, a completed push with no end time, pushes dated
exactly now and after now, schedules off, set long ago, just now, after now; immutable and
the last check each None, True or False."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone


def _before(now: dt.datetime) -> list[Any]:  # main's offsite_warnings, as it was
    from django.db.models import Max

    from brankas.web.offsite.models import Push, Remote, Schedule
    from brankas.web.offsite.warnings import STALE_DAYS, OffsiteWarning

    out = [OffsiteWarning("not_immutable", {"name": name}) for name in
           Remote.objects.filter(immutable=False).order_by("name").values_list("name",
                                                                               flat=True)]
    out += [OffsiteWarning("verify_failed", {"name": name}) for name in
            Remote.objects.filter(last_verify_ok=False).order_by("name").values_list(
                "name", flat=True)]
    done = Push.objects.filter(status=Push.COMPLETED).values("remote")
    last: dict[Any, Any] = dict(done.annotate(at=Max("finished_at")).values_list("remote", "at"))
    before: dict[Any, Any] = dict(done.filter(finished_at__lte=now).annotate(
        at=Max("finished_at")).values_list("remote", "at"))
    for schedule in Schedule.objects.filter(daily_at__isnull=False).select_related(
            "remote").order_by("remote__name"):
        at = before.get(schedule.remote_id)
        since = at or schedule.set_at
        if since > now or now - since > dt.timedelta(days=STALE_DAYS):
            out.append(OffsiteWarning("push_stale", {"name": schedule.remote.name,
                                                     "days": STALE_DAYS, "last": at}))
    if not last:
        out.append(OffsiteWarning("no_copy"))
    return out


def test_the_warnings_are_main_s_over_generated_records(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import Push, PushedObject, Remote, Schedule
    from brankas.web.offsite.warnings import offsite_warnings

    now = timezone.now().replace(microsecond=0)
    offsets = [None, dt.timedelta(0), dt.timedelta(seconds=1), -dt.timedelta(seconds=1),
               -dt.timedelta(days=1), -dt.timedelta(days=2), -dt.timedelta(days=2, seconds=1),
               -dt.timedelta(days=30), dt.timedelta(days=3)]
    rng = random.Random(24)
    seen_codes: set[str] = set()
    for _round in range(60):
        PushedObject.objects.all().delete()
        Push.objects.all().delete()
        Schedule.objects.all().delete()
        Remote.objects.all().delete()
        for i in range(rng.choice([0, 1, 2, 3, 5])):
            name = rng.choice("abcxyz") + str(i)
            remote = Remote.objects.create(
                name=name, remote_id=f"{_round:04d}{i:04d}".ljust(32, "0"),
                endpoint="https://s3.invalid", bucket="b", added_by=office.users["admin"],
                added_at=now, immutable=rng.choice([None, True, False]),
                last_verify_ok=rng.choice([None, True, False]))
            for n in range(rng.choice([0, 0, 1, 2, 4])):
                off = rng.choice(offsets)
                Push.objects.create(
                    remote=remote, number=n + 1, folder=f"run-{n}",
                    operator=office.users["operator"], started_at=now - dt.timedelta(days=40),
                    finished_at=None if off is None else now + off,
                    status=rng.choice([Push.COMPLETED, Push.COMPLETED, Push.FAILED,
                                       Push.RUNNING]))
            if rng.random() < 0.7:
                set_off = rng.choice(offsets[1:])
                Schedule.objects.create(remote=remote, set_by=office.users["admin"],
                                        daily_at=rng.choice([None, dt.time(1, 0)]),
                                        set_at=now + set_off)
        new = offsite_warnings(now=now)
        assert new == _before(now), _round
        seen_codes |= {w.code for w in new}
    # the generated records reached every warning
    assert seen_codes == {"not_immutable", "verify_failed", "push_stale", "no_copy"}
