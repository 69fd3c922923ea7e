"""Persistent jobs under attack (issue 15's outside review): a job whose task ended or whose
worker died before the job was claimed, resumes of jobs that must not be resumed, a job
alive in this very process whose heartbeat is old (a laptop that slept), a resume onto
another disk. Real SQLite, real files, real age, django-tasks' own worker methods."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.utils import timezone

from brankas.web.jobs import runners, services
from brankas.web.jobs.models import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, Job
from brankas.web.ui import jobs
from tests.web.ui.conftest import english, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running")


def _backup_job(office, dest: str) -> Job:  # type: ignore[no-untyped-def]
    return services.job_create(kind=jobs.BACKUP, user=office.users["operator"], dest=dest,
                               params={"dest": dest, "label": None})


# -- a queued job no worker will ever run ------------------------------------------------------

def test_a_queued_job_whose_task_failed_before_the_job_was_claimed_is_interrupted(
        office, tmp_path):
    """The worker took the task and failed before it claimed the job (the database locked
    for longer than its timeout, say): django-tasks records the task failed and never runs
    it again. The job must not stay queued for ever, holding the disk and, one job at a time,
    the whole office."""
    from django_tasks_db.models import DBTaskResult

    job = _backup_job(office, str(tmp_path / "disk"))
    task = DBTaskResult.objects.get(id=job.task_id)
    task.claim("worker-that-failed")
    task.set_failed(RuntimeError("database is locked"))  # as the worker records it
    assert services.jobs_interrupt_stale() == 1
    job.refresh_from_db()
    assert job.state == INTERRUPTED and job.lock is None
    assert job.error_code == "job_interrupted_resumable"
    # The office may start a job again.
    again = _backup_job(office, str(tmp_path / "disk"))
    assert again.state == QUEUED


def test_a_queued_job_whose_worker_died_just_after_taking_its_task_is_interrupted(
        office, tmp_path):
    """Killed between django-tasks' claim of the task and our claim of the job: the task
    says running (for ever: django-tasks does not look back), the job says queued."""
    from django_tasks_db.models import DBTaskResult

    job = _backup_job(office, str(tmp_path / "disk"))
    task = DBTaskResult.objects.get(id=job.task_id)
    task.claim("worker-killed")
    # Taken a moment ago: the worker may be about to claim the job; left alone.
    assert services.jobs_interrupt_stale() == 0
    assert Job.objects.get(pk=job.pk).state == QUEUED
    # Taken longer ago than a running job may go without a heartbeat: its worker is gone.
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=services.stale_seconds() + 1))
    assert services.jobs_interrupt_stale() == 1
    job.refresh_from_db()
    assert job.state == INTERRUPTED and job.lock is None
    # A worker that took it after all (it was only slow) no longer runs it.
    services.job_execute(job.pk)
    assert Job.objects.get(pk=job.pk).state == INTERRUPTED


def test_a_queued_job_whose_task_is_gone_is_interrupted(office, tmp_path):
    """The task rows pruned (django-tasks' ``prune_db_task_results``) under a queued job."""
    from django_tasks_db.models import DBTaskResult

    job = _backup_job(office, str(tmp_path / "disk"))
    DBTaskResult.objects.filter(id=job.task_id).delete()
    assert services.jobs_interrupt_stale() == 1
    assert Job.objects.get(pk=job.pk).state == INTERRUPTED


def test_a_job_queued_for_a_worker_still_waits(office, tmp_path):
    """(The other side: no worker has taken it yet, however long ago it was queued.)"""
    job = _backup_job(office, str(tmp_path / "disk"))
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - dt.timedelta(days=1))
    assert services.jobs_interrupt_stale() == 0
    assert Job.objects.get(pk=job.pk).state == QUEUED
