"""``brankas worker``'s loop and the daily offsite push (issue 18, s18 OC): at its start
the worker looks at the schedule, queues the push that is due, and django-tasks' worker
runs it (committed records: that worker closes and reopens its connections). No S3 server:
the remote's push lock is held here, so the push is refused at once, for that reason."""

from __future__ import annotations

import datetime as dt
import fcntl
import os

from django.utils import timezone

from brankas.web.jobs import runners
from brankas.web.jobs.models import FAILED, Job
from brankas.web.offsite.models import Remote, Schedule


def test_brankas_worker_queues_the_due_daily_push_at_its_start_and_runs_it(
        transactional_db, office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.jobs.worker import run_worker
    from brankas.web.offsite.schedule import schedule_set
    from brankas.web.runtime import brankas_settings

    remote = Remote.objects.create(
        name="pdn", remote_id="f" * 32, endpoint="http://127.0.0.1:9", bucket="arsip-sandi",
        immutable=True, added_by=office.users["operator"], added_at=timezone.now())
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(0, 0))
    Schedule.objects.update(set_at=timezone.now() - dt.timedelta(days=1))
    tmp = brankas_settings().tmp
    tmp.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp / f"offsite-{remote.remote_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run_worker(batch=True) == 1
    finally:
        os.close(fd)
    job = Job.objects.get()
    assert job.kind == runners.OFFSITE_PUSH and job.params["scheduled"]
    assert job.user == office.users["operator"] and job.began_at is not None
    assert job.state == FAILED and job.error_code == "offsite_push_running"
    assert run_worker(batch=True) == 0  # never two for one day
    assert Job.objects.count() == 1


def test_two_workers_ticking_at_once_never_queue_two_pushes_for_one_day(
        transactional_db, office) -> None:  # type: ignore[no-untyped-def]
    """``brankas serve``'s embedded worker and ``brankas worker`` tick together: real
    threads, each its own SQLite connection (IMMEDIATE transactions), released together
    at each tick; one push per day, and the day's interrupted push resumed once (s18
    review)."""
    import threading

    from django.db import connection

    from brankas.web.jobs.models import INTERRUPTED
    from brankas.web.offsite.schedule import schedule_set, schedule_tick

    Remote.objects.create(
        name="pdn", remote_id="f" * 32, endpoint="http://127.0.0.1:9", bucket="arsip-sandi",
        immutable=True, added_by=office.users["operator"], added_at=timezone.now())
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2, 0))
    Schedule.objects.update(set_at=timezone.make_aware(dt.datetime(2027, 1, 1)))
    errors: list[str] = []

    def together(now: dt.datetime) -> None:
        barrier = threading.Barrier(3)

        def tick() -> None:
            try:
                barrier.wait()
                schedule_tick(now)
            except Exception as exc:  # noqa: BLE001 (any failure fails the test)
                errors.append(repr(exc))
            finally:
                connection.close()
        threads = [threading.Thread(target=tick) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for i in range(6):
        now = timezone.make_aware(dt.datetime(2027, 1, 2, 3) + dt.timedelta(days=i))
        together(now)
        if i % 2:  # that day's push killed: resumed once
            Job.objects.update(state=INTERRUPTED, lock=None)
            together(now + dt.timedelta(minutes=1))
        Job.objects.update(state="done", lock=None)
    assert errors == []
    days = list(Job.objects.filter(resumed_from=None).values_list("params__scheduled",
                                                                 flat=True))
    assert len(days) == len(set(days)) == 6, days
    assert Job.objects.exclude(resumed_from=None).count() == 3


def test_a_long_offsite_push_does_not_hold_the_office_jobs_in_the_queue(
        transactional_db, office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A push on a slow link runs for hours "beside" the office's one long job: it takes no
    office slot, but one worker runs its tasks one at a time, so the disk backup queued
    meanwhile waited, queued, until the push ended. The offsite jobs have a lane (a queue
    and a worker thread) of their own (s18 review). The push here is a stand-in that runs
    until released (this test is about the worker, not the push); the office job is a
    real one (the audit log's check)."""
    import threading
    import time

    from brankas.web.jobs.models import ACTIVE, DONE, RUNNING
    from brankas.web.jobs.services import job_create
    from brankas.web.jobs.worker import EmbeddedWorker

    release, started = threading.Event(), threading.Event()

    def slow_push(run, job, secrets):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(120)
        return {"ok": True}

    monkeypatch.setitem(runners.RUNNERS, runners.OFFSITE_PUSH, slow_push)
    Remote.objects.create(
        name="pdn", remote_id="f" * 32, endpoint="http://127.0.0.1:9", bucket="arsip-sandi",
        immutable=True, added_by=office.users["operator"], added_at=timezone.now())
    worker = EmbeddedWorker(interval=0.2).start()
    try:
        push = job_create(kind=runners.OFFSITE_PUSH, user=office.users["operator"],
                          dest="pdn", params={"remote": "pdn"}, exclusive=False)
        assert started.wait(60)
        check = job_create(kind=runners.AUDIT_VERIFY, user=office.users["kasi"],
                           params={"disks": [], "anchors": []})
        end = time.monotonic() + 60  # a bound, not a timing: the check ends while the push runs
        while time.monotonic() < end and Job.objects.get(pk=check.pk).state in ACTIVE:
            time.sleep(0.1)
        assert Job.objects.get(pk=check.pk).state == DONE
        assert Job.objects.get(pk=push.pk).state == RUNNING
    finally:
        release.set()
        end = time.monotonic() + 60
        while time.monotonic() < end and Job.objects.filter(state__in=ACTIVE).exists():
            time.sleep(0.1)
        worker.stop(60)
