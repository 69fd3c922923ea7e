"""The daily offsite push (issue 18, s18 OC): set per remote (``brankas offsite schedule``,
the remote's page), run by the jobs' worker (``brankas worker``, the one ``brankas serve``
embeds), which calls ``schedule_tick`` at its start and about once a minute.

When a remote's time of day (``daily_at``, local: settings.TIME_ZONE) has passed and no push
was queued for that day, the tick queues one push job (a persistent job, its progress on
the job's page) in the name of the Sandiman who set the schedule; the scheduler itself is
recorded in the audit log as the actor ``SCHEDULER``. Never two for one day (the day is
claimed in the same transaction that queues the job), none while a push or verify of the
remote runs (left for the next tick), and a day missed while the computer was off runs once
at the next start (the most recent slot only, not one per missed day). The day's push
interrupted (its worker killed) is resumed once by the next tick; a clock once set ahead
and put right does not stop the schedule (s18 review)."""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brankas.core.access import Action, allowed
from brankas.core.errors import Conflict, InvalidInput
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.offsite.models import Remote, Schedule

log = logging.getLogger(__name__)

SCHEDULER = "penjadwal"  # the audit log's actor for what the scheduler does by itself
TICK_SECONDS = 60.0
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_daily(text: str) -> dt.time:
    """``HH:MM`` (24 hours) as a time of day; else ``offsite_field_invalid``."""
    found = _HHMM.fullmatch(text.strip())
    if found is None:
        raise InvalidInput("offsite_field_invalid", field="--daily", detail="HH:MM (00:00-23:59)")
    return dt.time(int(found.group(1)), int(found.group(2)))


def schedule_set(*, actor: User, name: str, daily_at: dt.time | None) -> Schedule:
    """The daily push of remote ``name`` at ``daily_at`` (local time), or off (None).
    The Sandiman (who may push) sets it; the pushes run in their name."""
    from brankas.web.offsite.services import _remote

    require_audited(actor, Action.OFFSITE_PUSH, target=name[:200])
    remote = _remote(name)
    now = timezone.now()
    with transaction.atomic():
        schedule, _ = Schedule.objects.select_for_update().get_or_create(
            remote=remote, defaults={"set_by": actor, "set_at": now})
        schedule.daily_at = daily_at
        schedule.set_by = actor
        schedule.set_at = now
        schedule.save()
        audit_record(actor=actor.username, action="offsite.schedule", target=remote.name,
                     detail={"daily_at": daily_at.strftime("%H:%M") if daily_at else "off",
                             "time_zone": timezone.get_current_timezone_name()})
    return schedule


def _slot_day(schedule: Schedule, now: dt.datetime) -> dt.date:
    """The day of the most recent slot at ``now``: today once its time has passed, else
    yesterday."""
    local = timezone.localtime(now)
    at = schedule.daily_at or dt.time(0)
    return local.date() if local.time() >= at else local.date() - dt.timedelta(1)


def due_day(schedule: Schedule, now: dt.datetime) -> dt.date | None:
    """The day whose push is due at ``now`` and not queued yet, else None: today once its
    time has passed, else yesterday (a slot missed while the computer was off), never a
    slot before the schedule was set. A day claimed, or a schedule set, after ``now`` was
    the work of a clock set ahead (a dead clock battery, a typo) since put right: not a
    reason to push no more until that date comes (s18 review)."""
    if schedule.daily_at is None:
        return None
    day = _slot_day(schedule, now)
    today = timezone.localtime(now).date()
    if schedule.last_day is not None and day <= schedule.last_day <= today:
        return None
    slot = timezone.make_aware(dt.datetime.combine(day, schedule.daily_at))
    if slot < schedule.set_at <= now:
        return None
    return day


def schedule_tick(now: dt.datetime | None = None) -> list[str]:
    """Queue the pushes due at ``now`` (default: the clock); the ids of the jobs queued."""
    from brankas.web.jobs import runners
    from brankas.web.jobs.services import JobBusy, job_create

    now = now or timezone.now()
    queued: list[str] = []
    schedules = list(Schedule.objects.select_related("remote", "set_by").filter(
        daily_at__isnull=False))
    if schedules and not _archive_free():
        return queued  # a grant or rekey re-encrypts the archive: the next tick
    for schedule in schedules:
        day = due_day(schedule, now)
        if day is None:
            resumed = _resume_interrupted(schedule, now)
            if resumed is not None:
                queued.append(resumed)
            continue
        remote, user = schedule.remote, schedule.set_by
        today = timezone.localtime(now).date()
        claim = Schedule.objects.filter(pk=schedule.pk).filter(
            Q(last_day__isnull=True) | Q(last_day__lt=day) | Q(last_day__gt=today))
        if not user.is_active or not allowed(user.role, Action.OFFSITE_PUSH):
            if claim.update(last_day=day, last_job=""):  # refused once for the day
                audit_record(actor=SCHEDULER, action="offsite.schedule.run", target=remote.name,
                             outcome="denied", detail={"day": day.isoformat(),
                                                       "on_behalf_of": user.username,
                                                       "error": "offsite_schedule_user"})
            continue
        try:
            with transaction.atomic():
                if not claim.update(last_day=day):
                    continue  # another worker queued it
                job = job_create(kind=runners.OFFSITE_PUSH, user=user, dest=remote.name,
                                 params={"remote": remote.name, "scheduled": day.isoformat()},
                                 exclusive=False)
                Schedule.objects.filter(pk=schedule.pk).update(last_job=job.pk)
                audit_record(actor=SCHEDULER, action="offsite.schedule.run",
                             target=remote.name,
                             detail={"day": day.isoformat(), "on_behalf_of": user.username,
                                     "job": job.pk,
                                     "daily_at": schedule.daily_at.strftime("%H:%M")})  # type: ignore[union-attr]
        except JobBusy:
            continue  # a push or verify of this remote runs: the next tick, once it ended
        queued.append(job.pk)
    return queued


def _archive_free() -> bool:
    """Whether a push could take the archive lock now: a grant or rekey re-encrypting the
    archive holds it exclusively (for hours on a large archive), and a push queued then
    is refused at once (``rewrap_running``): the day's push would be lost (s18 review).
    A look at the lock, released at once (the push takes it shared, as a backup)."""
    from brankas.core.register import lock as archivelock
    from brankas.web.runtime import brankas_settings

    try:
        with archivelock.archive_lock(brankas_settings().tmp, archivelock.BACKUP, shared=True):
            return True
    except Conflict:
        return False


def _resume_interrupted(schedule: Schedule, now: dt.datetime) -> str | None:
    """The day's push, queued and then interrupted (its worker killed, the computer cut
    off: ``jobs_interrupt_stale`` marked it at the worker's next start), resumed once by
    a new job continuing it (what arrived is not sent again); else the day had no push
    (s18 review). A failed push is not retried here: its error is for a person to read."""
    from brankas.web.jobs.models import ACTIVE, INTERRUPTED, Job
    from brankas.web.jobs.services import JobBusy, job_dead, job_interrupt, job_resume

    if not schedule.last_job or schedule.last_day != _slot_day(schedule, now):
        return None
    job = Job.objects.filter(pk=schedule.last_job).select_related("user").first()
    if job is not None and job.state in ACTIVE and job_dead(job):
        job_interrupt(job)  # its worker was killed and not started again: none marked it
        job.refresh_from_db()
    if job is not None and job.state != INTERRUPTED:
        job = None
    user = schedule.set_by
    if (job is None or job.resumed_by.exists() or not user.is_active
            or not allowed(user.role, Action.OFFSITE_PUSH)):
        return None  # (a Sandiman who left: refused at the next day's slot, audited)
    try:
        with transaction.atomic():
            new = job_resume(job=job, user=user)
            if not Schedule.objects.filter(pk=schedule.pk, last_job=job.pk).update(
                    last_job=new.pk):
                transaction.set_rollback(True)  # another worker resumed it
                return None
            audit_record(actor=SCHEDULER, action="offsite.schedule.run",
                         target=schedule.remote.name,
                         detail={"day": schedule.last_day.isoformat(),
                                 "on_behalf_of": user.username, "job": new.pk,
                                 "resumed": job.pk})
    except JobBusy:
        return None  # a push or verify of this remote runs: the next tick
    except Conflict:
        return None  # another worker resumed it meanwhile (job_not_resumable)
    return new.pk


def schedule_of(remote: Remote) -> Schedule | None:
    return Schedule.objects.filter(remote=remote).select_related("set_by").first()


def safe_tick() -> None:
    """``schedule_tick`` for the worker's loop: a failure is logged, the worker goes on."""
    from django.db import DatabaseError

    try:
        schedule_tick()
    except DatabaseError as exc:  # busy a moment, or not made yet (first run): the next tick
        log.warning("offsite schedule not checked: %s", exc)
    except Exception:
        log.exception("offsite schedule not checked")
