"""Persistent jobs (brankas.web.jobs): a job is a row any worker runs; its progress and result
are read from the row; the database refuses a second active backup to one disk; a job whose
worker died is marked interrupted and a backup resumes; a secret never reaches the database.
Real SQLite (a file), real files, real age; the worker is the one ``brankas serve`` embeds."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from brankas.web.jobs import services
from brankas.web.jobs.models import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, Job
from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES
from tests.leakscan import files_containing
from tests.web.ui.conftest import born_digital, english, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running")


def started(response) -> Job:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, text_of(response)
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert isinstance(job, Job)
    return job


def test_a_backup_is_queued_run_by_the_worker_and_read_back_from_its_row(
        transactional_db, office, signed_in, tmp_path):
    from django_tasks_db.models import DBTaskResult

    for i in range(3):
        register_directly(office, subject=f"Surat {i}")
    client = english(signed_in("operator"))
    disk = tmp_path / "usb" / "brankas"
    disk.parent.mkdir()
    job = started(client.post("/backup/", {"dest": str(disk), "label": "DISK-J"})).wait(120)
    assert job.state == DONE, (job.error_code, job.error_text)
    # Progress and result are the row's: counters, the run's number, the disk's label.
    assert job.files_done == job.files_total > 0 and job.bytes_done == job.bytes_total > 0
    assert job.run_number == 1 and job.medium_label == "DISK-J"
    assert job.result is not None and job.result["run"] == 1 and job.result["verified"]
    assert job.began_at is not None and job.finished_at is not None and job.lock is None
    # The task is django-tasks-db's, and carries the job's id only.
    task = DBTaskResult.objects.get(id=job.task_id)
    for _ in range(600):  # the worker marks it once the job's function has returned
        if task.status != "RUNNING":
            break
        time.sleep(0.05)
        task.refresh_from_db()
    assert task.status == "SUCCESSFUL" and task.args_kwargs == {"args": [job.id], "kwargs": {}}
    # The page (as after a restart: nothing of the job is in this process's memory).
    status = client.get(f"/backup/jobs/{job.id}/status").json()
    assert status["state"] == "done" and status["percent"] == 100 and status["run"] == 1
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "Backup 1 to disk DISK-J is complete." in page


def test_the_database_refuses_a_second_active_backup_to_one_disk(office, tmp_path):
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    first = services.job_create(kind=jobs.BACKUP, user=operator, dest=str(disk),
                                params={"dest": str(disk)})
    assert first.state == QUEUED and first.lock and first.lock.startswith("disk:")
    # The same disk, even named another way, and even where one-at-a-time is not asked.
    with pytest.raises(services.JobBusy) as refused:
        services.job_create(kind=jobs.BACKUP, user=operator, dest=str(disk / ".." / "disk"),
                            params={"dest": str(disk / ".." / "disk")}, exclusive=False)
    assert refused.value.job.pk == first.pk
    # The constraint itself, below the service: a second active row with the same lock.
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind=jobs.BACKUP, user=operator, lock=first.lock, state=RUNNING)
    # Another disk may (without one-at-a-time), and the disk is free once the job ended.
    other = services.job_create(kind=jobs.BACKUP, user=operator, dest=str(tmp_path / "d2"),
                                params={"dest": str(tmp_path / "d2")}, exclusive=False)
    assert other.lock != first.lock
    Job.objects.filter(pk=first.pk).update(state=DONE, lock=None)
    Job.objects.create(kind=jobs.BACKUP, user=operator, lock=first.lock, state=QUEUED)


def test_a_job_whose_worker_died_is_interrupted_and_a_backup_resumes(
        transactional_db, office, signed_in, tmp_path):
    from django_tasks_db.models import DBTaskResult

    register_directly(office, subject="Undangan")
    disk = tmp_path / "disk"
    operator = office.users["operator"]
    # A backup another process took, then died: its heartbeat stopped long ago.
    dead = Job.objects.create(
        kind=jobs.BACKUP, user=operator, dest=str(disk), params={"dest": str(disk)},
        lock="disk:" + str(disk), state=RUNNING, resumable=True, worker="elsewhere|4242",
        began_at=timezone.now() - dt.timedelta(hours=1),
        heartbeat=timezone.now() - dt.timedelta(seconds=services.stale_seconds() + 5))
    task = DBTaskResult.objects.create(args_kwargs={"args": [dead.pk], "kwargs": {}},
                                       task_path="brankas.web.jobs.tasks.run_job",
                                       backend_name="default", status="RUNNING",
                                       run_after=timezone.now())
    Job.objects.filter(pk=dead.pk).update(task_id=str(task.id))
    client = english(signed_in("operator"))
    page = text_of(client.get(f"/backup/jobs/{dead.pk}/"))  # read: found dead on the way
    dead.refresh_from_db()
    assert dead.state == INTERRUPTED and dead.lock is None
    assert dead.error_code == "job_interrupted_resumable"
    assert "The job was interrupted." in page and "the work done so far is kept" in page
    assert "Resume the backup" in page
    task.refresh_from_db()
    assert task.status == "FAILED"  # never taken again by a worker
    # In Indonesian too (the default language).
    from django.test import Client

    fresh = Client()
    fresh.force_login(operator)
    indonesian = text_of(fresh.get(f"/backup/jobs/{dead.pk}/"))
    assert "Pekerjaan ini terputus." in indonesian and "Lanjutkan back-up" in indonesian
    assert "yang sudah dikerjakan tetap tersimpan" in indonesian
    # Resume: a new job continuing it, run by the worker; the old one says so.
    response = client.post(f"/backup/jobs/{dead.pk}/resume")
    resumed = started(response).wait(120)
    assert resumed.state == DONE, (resumed.error_code, resumed.error_text)
    assert resumed.resumed_from_id == dead.pk and resumed.resumable
    page = text_of(client.get(f"/backup/jobs/{dead.pk}/"))
    assert "Resumed: see the job that continues it" in page
    assert f"/backup/jobs/{resumed.pk}/" in page and "Resume the backup" not in page


def test_a_local_job_without_its_secret_is_refused_by_any_other_worker(office):
    # A restore with a passphrase, recorded by a web process that then ended: the secret
    # was in that process only. Whoever runs it now refuses, with the reason.
    job = Job.objects.create(kind=jobs.RESTORE, user=office.users["kasi"], local=True,
                             params={"dest": "/x", "to": "/y"}, state=QUEUED)
    services.job_execute(job.pk)
    job.refresh_from_db()
    assert job.state == FAILED and job.error_code == "job_secret_elsewhere"
    assert "never in the database" in job.error.message("en")
    assert "tidak pernah di basis data" in job.error.message("id")


def test_no_secret_reaches_the_database(transactional_db, office, signed_in, tmp_path):
    """A grant and a restore with a passphrase: the database file (and
    its write-ahead log), the job rows and the task rows never hold the passphrase."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from tests.web.ui.test_key_grant_pages import KABID2_PASSPHRASE, join_kabid2

    register_directly(office, subject="Rahasia", classification="rahasia")
    register_directly(office, subject="Biasa", pdf=born_digital("Biasa"))
    join_kabid2(office)
    passphrase = PASSPHRASES["kabid"]
    client = english(signed_in("kabid"))
    grant = started(client.post("/keys/grant/", {"mode": "passphrase", "to": "kabid2",
                                                 "passphrase": passphrase})).wait(120)
    assert grant.state == DONE and grant.local and grant.task_id == ""
    operator = english(signed_in("operator"))
    disk = tmp_path / "disk"
    backup = started(operator.post("/backup/", {"dest": str(disk), "label": "D1"})).wait(120)
    assert backup.state == DONE
    kasi_pp = PASSPHRASES["kasi"]
    kabid = english(signed_in("kabid"))
    out = tmp_path / "pulih"
    restore = started(kabid.post("/backup/restore/", {
        "dest": str(disk), "to": str(out), "decrypt": "on", "passphrase": passphrase,
        "agendas": ""}))
    restore.wait(120)
    assert restore.local and restore.state in (DONE, FAILED)
    markers = {passphrase, kasi_pp, KABID2_PASSPHRASE}
    for row in Job.objects.all():
        text = repr(vars(row))
        assert not any(m in text for m in markers), row
    for task in DBTaskResult.objects.all():
        assert not any(m in repr(vars(task)) for m in markers)
    connection.close()  # the file as it stands, the log included
    name = Path(connection.settings_dict["NAME"])
    assert name.stat().st_size > 0
    # The log and its index, then the file again: the worker's thread may close the last
    # connection meanwhile, which folds the log into the file and removes it.
    # Read by another process (leakscan.files_containing): reading them here would drop
    # this process's SQLite locks on them while a thread may still hold a connection.
    files = [str(p) for p in (Path(f"{name}-wal"), Path(f"{name}-shm"), name) if p.exists()]
    assert str(name) in files
    assert files_containing(files, [m.encode() for m in markers]) == {}
    assert services._secrets == {}  # and not kept in memory once the jobs ended


def test_the_progress_page_shows_a_queued_job_waiting_for_a_worker(office, signed_in,
                                                                   tmp_path):
    job = services.job_create(kind=jobs.VERIFY, user=office.users["operator"],
                              dest=str(tmp_path), mode="fast",
                              params={"dest": str(tmp_path), "mode": "fast"})
    client = english(signed_in("operator"))
    status = client.get(f"/backup/jobs/{job.pk}/status").json()
    assert status["state"] == "running" and status["queued"]  # the script keeps polling
    page = text_of(client.get(f"/backup/jobs/{job.pk}/"))
    assert "Waiting for a worker to take this job" in page


def test_a_job_of_a_dead_process_on_this_computer_is_interrupted_at_once(office):
    import os
    import socket

    host, pid = socket.gethostname(), os.getpid()

    def running(worker: str) -> Job:
        return Job.objects.create(kind=jobs.VERIFY, user=office.users["operator"],
                                  state=RUNNING, worker=worker, heartbeat=timezone.now(),
                                  began_at=timezone.now())

    alive = running(services.worker_identity())  # this process runs it
    earlier = running(f"{host}|{pid}|0000dead")  # a process that had this number before
    elsewhere = running("another-server|1|00000000")  # its heartbeat is fresh: alive
    assert services.jobs_interrupt_stale() == 1
    states = dict(Job.objects.values_list("pk", "state"))
    assert states == {alive.pk: RUNNING, earlier.pk: INTERRUPTED, elsewhere.pk: RUNNING}
    assert Job.objects.get(pk=earlier.pk).error_code == "job_interrupted"  # not resumable
    # Without a heartbeat for longer than the limit, wherever it runs.
    Job.objects.filter(pk=elsewhere.pk).update(
        heartbeat=timezone.now() - dt.timedelta(seconds=services.stale_seconds() + 1))
    assert services.jobs_interrupt_stale() == 1
    assert Job.objects.get(pk=elsewhere.pk).state == INTERRUPTED
    assert Job.objects.get(pk=alive.pk).state == RUNNING
