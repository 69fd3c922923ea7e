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


# -- resume: only what was interrupted (or failed), once, by whom may start it ----------------

def _ended(office, kind: str, state: str, **fields) -> Job:  # type: ignore[no-untyped-def]
    return Job.objects.create(kind=kind, user=office.users["operator"], dest="/media/usb/x",
                              params={"dest": "/media/usb/x"}, state=state,
                              resumable=kind == jobs.BACKUP, finished_at=timezone.now(),
                              **fields)


@pytest.mark.parametrize("case", ["verify", "done", "resumed"])
def test_a_job_that_must_not_be_resumed_is_refused_with_a_page(office, signed_in, case):
    """A hand-made POST: a disk check (which does not resume), a backup that completed, an
    interrupted backup already resumed. A page with the reason, no new job, no error 500."""
    if case == "verify":
        job = _ended(office, jobs.VERIFY, INTERRUPTED, error_code="job_interrupted")
    elif case == "done":
        job = _ended(office, jobs.BACKUP, DONE)
    else:
        job = _ended(office, jobs.BACKUP, INTERRUPTED, error_code="job_interrupted_resumable")
        _ended(office, jobs.BACKUP, DONE, resumed_from=job)
    before = Job.objects.count()
    client = english(signed_in("operator"))
    response = client.post(f"/backup/jobs/{job.pk}/resume")
    assert response.status_code == 409, response.status_code
    assert "this job cannot be resumed from here" in text_of(response)
    assert Job.objects.count() == before


def test_only_a_role_that_may_back_up_resumes_a_backup(office, signed_in):
    job = _ended(office, jobs.BACKUP, INTERRUPTED, error_code="job_interrupted_resumable")
    for name in ("kadis", "kabid", "kasi"):
        client = english(signed_in(name))
        assert client.post(f"/backup/jobs/{job.pk}/resume").status_code == 403
        assert client.get(f"/backup/jobs/{job.pk}/").status_code == 403
        assert client.get(f"/backup/jobs/{job.pk}/status").status_code == 403
    assert Job.objects.count() == 1


@pytest.mark.parametrize("job_id", ["x", "0" * 32, "Z" * 32, "../" * 11, "%00" * 11])
def test_a_job_page_with_a_bad_id_is_not_found(office, signed_in, job_id):
    client = english(signed_in("operator"))
    for url in ("/backup/jobs/{}/", "/backup/jobs/{}/status", "/backup/steps/{}/",
                "/keys/jobs/{}/", "/setup/recover/{}/"):
        assert client.get(url.format(job_id)).status_code == 404, url
    assert client.post(f"/backup/jobs/{job_id}/resume").status_code == 404


# -- a job alive in this process is never taken for dead ----------------------------------------

def test_a_job_running_in_this_process_is_not_interrupted_after_a_pause(
        transactional_db, office, signed_in, monkeypatch):
    """The operator's laptop slept in the middle of a backup: on waking, the page's poll
    comes before the job's next heartbeat. The job runs in this very process (the worker
    ``brankas serve`` embeds): it is alive, whatever its heartbeat says, and must not be
    marked interrupted (then offered for a resume, then written done over that)."""
    release = threading.Event()
    entered = threading.Event()

    def pause(run, job, secrets):  # type: ignore[no-untyped-def]
        entered.set()
        assert release.wait(120)
        return {"paused": True}

    monkeypatch.setitem(runners.RUNNERS, "pause", pause)
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 3600.0)  # asleep: no beat meanwhile
    job = services.job_create(kind="pause", user=office.users["operator"])
    try:
        assert entered.wait(120)
        assert Job.objects.get(pk=job.pk).state == RUNNING
        Job.objects.filter(pk=job.pk).update(  # the sleep, as the row sees it
            heartbeat=timezone.now() - dt.timedelta(seconds=services.stale_seconds() + 60))
        assert services.jobs_interrupt_stale() == 0
        active = jobs.job_active()
        assert active is not None and active.pk == job.pk
        assert Job.objects.get(pk=job.pk).state == RUNNING
    finally:
        release.set()
    assert job.wait(120).state == DONE and job.result == {"paused": True}


def test_a_local_job_running_in_this_process_is_not_interrupted_after_a_pause(
        transactional_db, office, monkeypatch):
    """The same for a job holding a secret (run in a thread of this process)."""
    release = threading.Event()
    entered = threading.Event()

    def pause(run, job, secrets):  # type: ignore[no-untyped-def]
        entered.set()
        assert release.wait(120)
        return {"had": sorted(secrets)}

    monkeypatch.setitem(runners.RUNNERS, "pause", pause)
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 3600.0)
    job = services.job_create(kind="pause", user=office.users["operator"],
                              secrets={"passphrase": "rahasia sekali"})
    try:
        assert entered.wait(120)
        Job.objects.filter(pk=job.pk).update(
            heartbeat=timezone.now() - dt.timedelta(seconds=services.stale_seconds() + 60))
        assert services.jobs_interrupt_stale() == 0
        assert Job.objects.get(pk=job.pk).state == RUNNING
    finally:
        release.set()
    assert job.wait(120).state == DONE and job.result == {"had": ["passphrase"]}


# -- a resume continues on the disk it began on --------------------------------------------------

def test_a_backup_is_not_resumed_onto_another_disk(office, signed_in, tmp_path):
    """Backup 1 to disk A was interrupted. Disk B is now at the same folder (the same label
    mounts at the same place): a "resume" would write disk B while the record says it
    continues disk A (whose run stays unfinished). Refused, with the reason; with disk A
    back, it resumes."""
    from brankas.web.backup.services import backup_run

    register_directly(office, subject="Undangan")
    operator = office.users["operator"]
    slot, other = tmp_path / "slot", tmp_path / "other"
    first = backup_run(actor=operator, dest=slot, label="DISK-A")
    backup_run(actor=operator, dest=other, label="DISK-B")
    job = Job.objects.create(
        kind=jobs.BACKUP, user=operator, dest=str(slot), params={"dest": str(slot)},
        state=INTERRUPTED, resumable=True, error_code="job_interrupted_resumable",
        run_number=first.run.number, medium_label="DISK-A", finished_at=timezone.now())
    slot.rename(tmp_path / "disk-a")
    other.rename(slot)  # disk B where disk A was
    client = english(signed_in("operator"))
    response = client.post(f"/backup/jobs/{job.pk}/resume")
    assert response.status_code == 409
    assert f"the disk at {slot} is not disk DISK-A" in text_of(response)
    assert Job.objects.count() == 1
    slot.rename(other)  # no disk at all there: refused too
    response = client.post(f"/backup/jobs/{job.pk}/resume")
    assert response.status_code == 409 and Job.objects.count() == 1
    (tmp_path / "disk-a").rename(slot)  # disk A back: resumed
    response = client.post(f"/backup/jobs/{job.pk}/resume")
    assert response.status_code == 302
    assert Job.objects.get(resumed_from=job).state == QUEUED


@pytest.mark.parametrize("value", ["5", "1", "-3", "inf", "nan", "1e400", "soon"])
def test_the_stale_limit_is_never_below_what_a_live_job_can_go_without_a_heartbeat(
        monkeypatch, value):
    """A live job's heartbeat may be ``HEARTBEAT_SECONDS`` old, plus a beat thread's wait
    for a database busy with another writer (SQLite's timeout, 30 s): a limit below that
    marks live jobs interrupted (from another process, where its own process cannot vouch
    for it). A limit of infinity would leave dead jobs running for ever."""
    monkeypatch.setenv("BRANKAS_JOB_STALE_SECONDS", value)
    limit = services.stale_seconds()
    assert services.HEARTBEAT_SECONDS + 30 < limit < 365 * 24 * 3600


# -- one backup per disk, however the disk's folder is spelled ------------------------------------

def test_one_backup_per_disk_whatever_the_spelling(office, tmp_path):
    """A trailing slash, a link to the folder, a link to a folder above it, ``..``: one
    disk, one lock (and the disk's own lock file refuses a second writer the database
    missed: ``backup_busy``, tests/core/disk)."""
    disk = tmp_path / "media" / "usb" / "brankas"
    disk.mkdir(parents=True)
    (tmp_path / "link").symlink_to(disk, target_is_directory=True)
    (tmp_path / "mnt").symlink_to(tmp_path / "media", target_is_directory=True)
    first = _backup_job(office, str(disk))
    for spelling in (f"{disk}/", str(tmp_path / "link"), f"{tmp_path}/link/",
                     str(tmp_path / "mnt" / "usb" / "brankas"),
                     str(disk / ".." / ".." / "usb" / "brankas")):
        with pytest.raises(services.JobBusy) as refused:
            services.job_create(kind=jobs.BACKUP, user=office.users["operator"],
                                dest=spelling, params={"dest": spelling}, exclusive=False)
        assert refused.value.job.pk == first.pk, spelling


# -- a queued job runs with the authority of an account still active ----------------------------

def test_a_job_queued_by_an_account_since_deactivated_is_not_run(office, tmp_path):
    """Queued while no worker ran (``serve --no-worker``), the Sandiman's account is then
    deactivated (they left; their password leaked): the worker must not back up, import
    or restore in that account's name. The role is checked when the work runs; the account
    must be too. Refused, audited."""
    from brankas.web.accounts.models import User
    from brankas.web.audit.models import AuditEvent
    from brankas.web.backup.models import BackupRun

    job = _backup_job(office, str(tmp_path / "disk"))
    User.objects.filter(username="operator").update(is_active=False)
    services.job_execute(job.pk)
    job.refresh_from_db()
    assert job.state == FAILED and job.error_code == "job_user_inactive", job.error_text
    assert job.lock is None and BackupRun.objects.count() == 0
    assert not (tmp_path / "disk").exists()
    entry = AuditEvent.objects.order_by("-seq").first()
    assert entry is not None and entry.actor == "operator" and entry.outcome == "denied"


def test_another_users_grant_or_step_job_is_not_theirs_to_read_or_resume(office, signed_in):
    """A grant's result names the keys and files opened; a restore's, the documents: only
    who started it (and, for a grant, the admin who may revoke) reads it."""
    kabid = office.users["kabid"]
    grant = Job.objects.create(kind=jobs.GRANT, user=kabid, local=True, state=DONE,
                               params={"to": "kasi"}, result={"grant": {"files": 3}},
                               resumable=True)
    restore = Job.objects.create(kind=jobs.RESTORE, user=kabid, state=DONE,
                                 params={"dest": "/d", "to": "/t"}, result={"restored": ["1"]})
    for name in ("operator", "kasi", "kadis"):
        client = english(signed_in(name))
        for url in (f"/keys/jobs/{grant.pk}/", f"/keys/jobs/{grant.pk}/status"):
            assert client.get(url).status_code in (403, 404), (name, url)
        for url in (f"/backup/steps/{restore.pk}/", f"/backup/steps/{restore.pk}/status"):
            assert client.get(url).status_code in (403, 404), (name, url)
        for job in (grant, restore):  # not a backup: not resumed from the backup's page
            assert client.post(f"/backup/jobs/{job.pk}/resume").status_code in (403, 404)
    assert Job.objects.count() == 2
    own = english(signed_in("kabid"))
    assert own.get(f"/keys/jobs/{grant.pk}/").status_code == 200
    assert own.get(f"/backup/steps/{restore.pk}/").status_code == 200


# -- a job another process took for dead stops, and is not written done over that ---------------

def test_a_job_marked_interrupted_while_alive_stops_and_stays_interrupted(
        transactional_db, office, monkeypatch):
    """Another process found the job's heartbeat too old (its database was busy, its clock
    ahead) and marked it interrupted, freeing its disk and offering a resume. The job, alive
    after all, must stop at its next progress rather than go on beside the resumed one, and
    must not write "done" over "interrupted"."""
    seen: list[int] = []
    marked = threading.Event()

    def steady(run, job, secrets):  # type: ignore[no-untyped-def]
        run.progress(0, 1000, 0, 0)
        for i in range(1000):
            if i == 5:
                marked.wait(120)
            seen.append(i)
            run.advance()
            run._write()  # (each step long enough for its progress to reach the row)
        return {"steps": len(seen)}

    monkeypatch.setitem(runners.RUNNERS, "steady", steady)
    job = services.job_create(kind="steady", user=office.users["operator"])
    for _ in range(2400):  # until it runs
        if Job.objects.get(pk=job.pk).state == RUNNING:
            break
        time.sleep(0.05)
    assert services.job_interrupt(Job.objects.get(pk=job.pk))  # as the other process does
    marked.set()
    job = job.wait(120)
    assert job.state == INTERRUPTED and job.result is None, (job.state, job.result)
    assert len(seen) < 1000  # it stopped


def test_a_spelling_the_database_does_not_join_meets_the_disks_own_lock(office, tmp_path):
    """A folder bind-mounted at a second place (or, on a case-insensitive disk, typed in
    another case) is another lock string to the database: the disk's own lock file (which
    the OS holds for the running backup, and drops if it dies) refuses the second writer."""
    import subprocess

    from brankas.core.disk import format as fmt
    from brankas.core.errors import SetupError
    from brankas.web.backup.services import backup_run

    disk, other = tmp_path / "disk", tmp_path / "also"
    disk.mkdir()
    other.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(disk), str(other)], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("mount --bind refused here (it needs root with CAP_SYS_ADMIN; a "
                    "container may lack it)")
    try:
        assert runners.lock_of(jobs.BACKUP, {"dest": str(disk)}) != \
            runners.lock_of(jobs.BACKUP, {"dest": str(other)})  # (what the database sees)
        held = fmt.lock(disk, create=True)  # as the running backup to "disk" holds it
        try:
            with pytest.raises(SetupError) as refused:
                backup_run(actor=office.users["operator"], dest=other, label="KEDUA")
            assert refused.value.code == "backup_busy"
        finally:
            fmt.unlock(held)
    finally:
        subprocess.run(["umount", str(other)], check=False, capture_output=True, timeout=30)
