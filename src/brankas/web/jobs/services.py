"""Starting, running, interrupting and resuming jobs (writes; the pages read ``selectors``).

A job is a row (``models.Job``) and, unless it holds a secret, a django-tasks task on the
database backend (``tasks.run_job``) that any worker takes: the embedded one in
``brankas serve`` or ``brankas worker``. A job that needs a passphrase, shares or the
recovery identity is *local*: it is not queued; it runs in a thread of the process that took
the form, its secret in that process's memory only (``_secrets``), never in a row, a task's
arguments or a log. When that process ends, the secret is gone: the job is marked
interrupted and is started again from its form (the work done so far is kept).

Liveness: the running job's process writes the row's counters and ``heartbeat`` from a
thread of its own (at most every ``FLUSH_SECONDS``, each write its own short transaction, so
neither SQLite's single writer nor the work's own transactions hold it back for long). A job
whose heartbeat is older than ``stale_seconds()``, or whose process on this computer is
gone, is marked interrupted (``jobs_interrupt_stale``: at every worker's start, and when a
page reads the job)."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.db import (
    IntegrityError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone

from brankas.core.errors import AccessDenied, BrankasError, Conflict
from brankas.core.processes import pid_alive
from brankas.web.jobs.models import ACTIVE, DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, Job

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5  # the counters reach the row at most this often
HEARTBEAT_SECONDS = 5.0  # and the heartbeat at least this often while the job runs


# A live job's heartbeat may be HEARTBEAT_SECONDS old, plus the beat's wait for a database
# busy with another writer (SQLite's timeout, settings.py: 30 s): a shorter limit would mark
# live jobs interrupted. A day at most: a dead job is not left running for ever.
STALE_MIN, STALE_MAX = 45.0, 86400.0


def stale_seconds() -> float:
    """With no heartbeat for this long, a running job's worker is taken as dead
    (``BRANKAS_JOB_STALE_SECONDS``, 60 by default, within ``STALE_MIN``..``STALE_MAX``)."""
    try:
        value = float(os.environ.get("BRANKAS_JOB_STALE_SECONDS", "60"))
    except ValueError:
        return 60.0
    if value != value:  # NaN
        return 60.0
    return min(STALE_MAX, max(STALE_MIN, value))


_PROCESS = uuid.uuid4().hex[:8]  # this process, even under a reused process number


def worker_identity() -> str:
    """``host|pid|token``: where the job runs, and which process (a restarted server in a
    container often has the same number as the one that died)."""
    return f"{socket.gethostname()}|{os.getpid()}|{_PROCESS}"


class JobStopped(Exception):
    """Raised into the work at its next progress once its row is no longer running (another
    process took the job for dead and marked it interrupted): it stops rather than go on
    beside the job that resumes it."""


class JobBusy(Exception):
    """Another job is queued or running; ``job`` is that one."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


# -- the secrets of local jobs: this process's memory only ----------------------------------

_secrets_lock = threading.Lock()
_secrets: dict[str, dict[str, Any]] = {}
_threads: dict[str, threading.Thread] = {}
# Jobs started by this process: set when the job ends here (``wait`` without polling).
_ended: dict[str, threading.Event] = {}
# What the embedded worker waits on between looks at the queue (``worker.EmbeddedWorker``).
queued_here = threading.Event()
# And the offsite lane's worker (``worker.OffsiteLane``, s18 review).
queued_offsite = threading.Event()
# And the OCR lane's (``worker.Lane``, s19).
queued_ocr = threading.Event()
# The jobs this process is running now (its worker's or its local threads'): alive, whatever
# their heartbeat says (a laptop that slept wakes before the job's next beat).
_executing: set[str] = set()


def _take_secrets(job_id: str) -> dict[str, Any] | None:
    with _secrets_lock:
        return _secrets.pop(job_id, None)


def running_here() -> set[str]:
    """The local jobs whose thread runs in this process."""
    with _secrets_lock:
        return {job_id for job_id, t in _threads.items() if t.is_alive()}


# -- start --------------------------------------------------------------------------------

def job_create(*, kind: str, user: Any, dest: str = "", mode: str = "",
               params: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None,
               lang: str = "", resumed_from: Job | None = None, exclusive: bool = True) -> Job:
    """Record a job and queue it (or, with ``secrets``, run it in a thread of this process).

    ``JobBusy`` while another job is queued or running (``exclusive``: one long job at a
    time, as on the operator's laptop) and, whatever ``exclusive`` says, while another
    backup to the same disk is: the database refuses a second active job with the same
    ``lock`` (a unique constraint over the active jobs), so two web processes cannot both
    start one. One at a time is held by the database too (``slot``, the same kind of
    constraint): on PostgreSQL two processes may both find no active job before either
    inserts its own."""
    from brankas.web.jobs import runners
    from brankas.web.jobs.tasks import run_job

    params = _plain(params or {})
    secrets = {k: v for k, v in (secrets or {}).items() if v is not None}
    local = bool(secrets) or kind in runners.LOCAL_ONLY
    lock = runners.lock_of(kind, params)
    jobs_interrupt_stale()
    try:
        with transaction.atomic():
            if exclusive:
                # (s18 OC) an offsite push or verify runs beside: it holds no office
                other = Job.objects.filter(state__in=ACTIVE).exclude(
                    kind__in=runners.beside(kind)).select_related("user").first()
                if other is not None:
                    raise JobBusy(other)
            with transaction.atomic():  # the constraint's refusal leaves the outer usable
                job = Job.objects.create(
                    kind=kind, user=user, dest=dest, mode=mode, params=params, local=local,
                    lang=lang, lock=lock, slot="office" if exclusive else None,
                    resumable=kind in runners.RESUMABLE,
                    resumed_from=resumed_from,
                    worker=worker_identity() if local else "")
            queue = runners.queue_of(kind)
            if not local:
                result = run_job.using(queue_name=queue).enqueue(job.id)
                job.task_id = str(result.id)
                Job.objects.filter(pk=job.pk).update(task_id=job.task_id)
    except IntegrityError:
        others = Job.objects.filter(state__in=ACTIVE).select_related("user")
        other = (others.filter(lock=lock).first() if lock is not None else None) or \
            (others.filter(slot="office").first() if exclusive else None)
        if other is None:  # ended meanwhile: still refused, the page says so
            raise
        raise JobBusy(other) from None
    with _secrets_lock:
        _ended[job.id] = threading.Event()
    if not local:
        transaction.on_commit({runners.OFFSITE_QUEUE: queued_offsite.set,
                               runners.OCR_QUEUE: queued_ocr.set}.get(queue, queued_here.set))
    if local:
        with _secrets_lock:
            _secrets[job.id] = secrets
            thread = threading.Thread(target=_run_local, args=(job.id,),
                                      name=f"brankas-job-{kind}", daemon=True)
            _threads[job.id] = thread
        thread.start()
    return job


def job_resume(*, job: Job, user: Any) -> Job:
    """A new job continuing an interrupted (or failed) one of a kind that resumes: the
    backup copies only what the disk still lacks. A local job cannot be resumed here (its
    secret is gone): its form is filled again."""
    if job.running:
        raise JobBusy(job)
    # Only what stopped before its end, once (a completed backup, or one already resumed,
    # is started again from its form: it is no continuation).
    if (job.state not in (INTERRUPTED, FAILED) or not job.resumable or job.local
            or job.resumed_by.exists()):
        raise Conflict("job_not_resumable", kind=job.kind)
    _check_same_disk(job)
    from brankas.web.jobs import runners

    return job_create(kind=job.kind, user=user, dest=job.dest, mode=job.mode,
                      params=job.params, lang=job.lang, resumed_from=job,
                      exclusive=job.kind not in runners.BESIDE)


def _check_same_disk(job: Job) -> None:
    """A backup resumes on the disk it began on: once its run was numbered, the disk now at
    its folder must be that run's (another disk mounted at the same place is refused: it
    would be written while the record says the first one is continued)."""
    from brankas.web.jobs import runners

    if job.kind != runners.BACKUP or job.run_number is None:
        return  # nothing was written yet: any disk is the one it begins on
    from pathlib import Path

    from brankas.core.disk.format import read_medium
    from brankas.web.backup.models import BackupRun

    run = BackupRun.objects.select_related("medium").filter(number=job.run_number).first()
    if run is None:
        return
    try:
        there = read_medium(Path(str(job.params.get("dest", job.dest))))
    except (BrankasError, OSError):
        there = None
    if there is None or there.medium_id != run.medium.medium_id:
        raise Conflict("job_resume_other_disk", path=job.dest, label=run.medium.label)


def _plain(value: Any) -> Any:
    """``value`` as JSON makes it (paths and dates as text)."""
    return json.loads(json.dumps(value, default=str))


# -- run ----------------------------------------------------------------------------------

class JobRun:
    """The running job's progress. The work's callbacks keep it in memory and write it to
    the row from the work's own thread and connection, at most every ``FLUSH_SECONDS``, each
    write its own short transaction (not while the work is inside one of its own: it would
    be seen only at its commit). A beat thread writes the heartbeat (and the counters) when
    the work has written nothing for ``HEARTBEAT_SECONDS``: a long step without progress
    (building a snapshot) is not taken for a dead worker."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.files_done = self.files_total = self.bytes_done = self.bytes_total = 0
        self.notes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._owner = threading.get_ident()
        self._written = time.monotonic() - FLUSH_SECONDS  # the first progress at once
        self._stop = threading.Event()
        self.stopped = threading.Event()  # the row is no longer running: stop the work
        self._thread = threading.Thread(target=self._beat, name=f"brankas-job-beat-{job.pk}",
                                        daemon=True)

    # the work's callbacks

    def _check(self) -> None:
        if self.stopped.is_set():
            raise JobStopped(self.job.pk)

    def progress(self, files_done: int, files_total: int, bytes_done: int,
                 bytes_total: int) -> None:
        self._check()
        with self._lock:
            new_totals = (files_total, bytes_total) != (self.files_total, self.bytes_total)
            self.files_done, self.files_total = files_done, files_total
            self.bytes_done, self.bytes_total = bytes_done, bytes_total
        self._maybe_write(force=new_totals)  # a new phase (what is to do) shows at once

    def advance(self, files: int = 1, size: int = 0) -> None:
        self._check()
        with self._lock:
            self.files_done += files
            self.bytes_done += size
        self._maybe_write()

    def note(self, **fields: Any) -> None:
        """``run_number``, ``medium_label``, ``rewrap_job_id``: on the page as soon as known."""
        self._check()
        with self._lock:
            self.notes.update({k: v for k, v in fields.items() if v is not None})
        self._maybe_write(force=True)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {"files_done": self.files_done, "files_total": self.files_total,
                    "bytes_done": self.bytes_done, "bytes_total": self.bytes_total,
                    **self.notes}

    # the writes

    def _maybe_write(self, force: bool = False) -> None:
        if threading.get_ident() != self._owner or connection.in_atomic_block:
            return  # the beat writes it
        if force or time.monotonic() - self._written >= FLUSH_SECONDS:
            self._write()

    def _write(self) -> None:
        try:
            if not Job.objects.filter(pk=self.job.pk, state=RUNNING).update(
                    heartbeat=timezone.now(), **self.counters()):
                self.stopped.set()
            self._written = time.monotonic()
        except OperationalError:  # the database busy: the next write tries again
            log.warning("job %s: progress not written (database busy)", self.job.pk)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(min(1.0, HEARTBEAT_SECONDS)):
                if time.monotonic() - self._written >= HEARTBEAT_SECONDS:
                    self._write()
        finally:
            connection.close()


def job_execute(job_id: str) -> None:
    """Run the job ``job_id`` here (the task's body, or a local job's thread): claim it,
    run its kind's work with its progress written to the row, record the result or the
    error. Never raises for the work's failure: it is the job's result."""
    try:
        _execute(job_id)
    finally:
        with _secrets_lock:
            ended = _ended.get(job_id)
        if ended is not None:
            ended.set()


def _execute(job_id: str) -> None:
    from brankas.web.jobs import runners

    job = Job.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.state != QUEUED:
        return  # interrupted meanwhile, or run already
    secrets: dict[str, Any] | None = {}
    if job.local:
        secrets = _take_secrets(job_id)
        if secrets is None and job.kind not in runners.LOCAL_ONLY:
            _finish(job, FAILED, error=BrankasError("job_secret_elsewhere", kind=job.kind))
            return
    claimed = Job.objects.filter(pk=job_id, state=QUEUED).update(
        state=RUNNING, began_at=timezone.now(), heartbeat=timezone.now(),
        worker=worker_identity())
    if not claimed:
        return
    job.state = RUNNING
    if job.user is not None and not job.user.is_active:
        # Queued, then the account was deactivated: nothing is done in its name (the work
        # checks the role; the account is checked here).
        from brankas.web.audit.services import audit_record

        refused = AccessDenied("job_user_inactive", username=job.user.username)
        audit_record(actor=job.user.username, action="job.run", target=f"{job.kind} {job.pk}",
                     outcome="denied", detail={"error": refused.code, "kind": job.kind})
        _finish(job, FAILED, error=refused)
        return
    with _secrets_lock:
        _executing.add(job_id)
    run = JobRun(job)
    try:
        run.start()
        _run_work(job, run, secrets)
    finally:
        secrets = None
        with _secrets_lock:
            _executing.discard(job_id)


def _run_work(job: Job, run: JobRun, secrets: dict[str, Any] | None) -> None:
    from brankas.web.jobs import runners

    try:
        result = runners.RUNNERS[job.kind](run, job, secrets or {})
    except JobStopped:
        run.stop()
        log.warning("%s job %s stopped: marked interrupted meanwhile", job.kind, job.pk)
        return
    except BrankasError as exc:
        # Kept without its traceback or the exceptions chained to it: their frames hold the
        # work's locals (a passphrase, the recovery identity).
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        run.stop()
        _finish(job, FAILED, run=run, error=exc)
    except Exception as exc:  # shown on the job page; the traceback goes to the log
        log.exception("%s job %s failed", job.kind, job.pk)
        run.stop()
        _finish(job, FAILED, run=run, error_text=f"{type(exc).__name__}: {exc}")
    else:
        run.stop()
        _finish(job, DONE, run=run, result=result)


def _run_local(job_id: str) -> None:
    try:
        job_execute(job_id)
    finally:
        with _secrets_lock:
            _secrets.pop(job_id, None)
            _threads.pop(job_id, None)
        connection.close()


def _finish(job: Job, state: str, *, run: JobRun | None = None, result: Any = None,
            error: BrankasError | None = None, error_text: str = "") -> None:
    fields: dict[str, Any] = {"state": state, "lock": None, "finished_at": timezone.now(),
                              "heartbeat": timezone.now()}
    if run is not None:
        fields.update(run.counters())
    if result is not None:
        fields["result"] = _plain(result)
    if error is not None:
        fields.update(error_code=error.code, error_params=_plain(error.params))
    if error_text:
        fields["error_text"] = error_text
    for attempt in range(20):  # the end is written, whatever else holds the database
        try:
            # Not over "interrupted": another process marked it so (and may have resumed it).
            Job.objects.filter(pk=job.pk, state__in=ACTIVE).update(**fields)
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)


# -- interrupted jobs --------------------------------------------------------------------


def _died_here(job: Job) -> bool:
    """The job's process was on this computer and is gone (or is this process, which does
    not run it)."""
    host, _, rest = job.worker.partition("|")
    pid_text, _, token = rest.partition("|")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        if token != _PROCESS:  # an earlier process with this number
            return True
        return job.local and job.pk not in running_here() and job.state == RUNNING
    return not pid_alive(pid)


def job_interrupt(job: Job) -> bool:
    """Mark ``job`` interrupted (its worker died); its task, if still marked running, failed."""
    code = "job_interrupted_resumable" if job.resumable else "job_interrupted"
    marked = Job.objects.filter(pk=job.pk, state__in=ACTIVE).update(
        state=INTERRUPTED, lock=None, finished_at=timezone.now(), error_code=code,
        error_params={"kind": job.kind})
    if marked and job.task_id:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(id=job.task_id, status__in=("READY", "RUNNING")).update(
            status="FAILED", finished_at=timezone.now(),
            exception_class_path="brankas.job_interrupted",
            traceback="The worker running this job stopped before it ended.")
    if marked:
        log.warning("%s job %s interrupted (its worker stopped)", job.kind, job.pk)
    return bool(marked)


def _task_lost(job: Job, limit: float, now: Any) -> bool:
    """A job queued for any worker whose task no worker will run: the task ended without
    the job being claimed (its worker failed first), is gone (pruned), or was taken more
    than ``limit`` seconds ago by a worker that never claimed the job (killed in between;
    django-tasks never looks at a running task again)."""
    if job.state != QUEUED or job.local or not job.task_id:
        return False
    from django_tasks_db.models import DBTaskResult

    task = DBTaskResult.objects.filter(id=job.task_id).values("status", "started_at").first()
    if task is None or task["status"] in ("SUCCESSFUL", "FAILED"):
        return True
    if task["status"] != "RUNNING":
        return False  # waiting for a worker
    taken = task["started_at"] or job.started_at
    return bool((now - taken).total_seconds() > limit)


def job_dead(job: Job, limit: float | None = None, now: Any = None) -> bool:
    """Whether ``job`` (queued or running) will never end by itself: its worker died."""
    with _secrets_lock:
        if job.pk in _executing:  # running here: alive
            return False
    limit = stale_seconds() if limit is None else limit
    now = now or timezone.now()
    return job.stale(limit, now) or _died_here(job) or _task_lost(job, limit, now)


def jobs_interrupt_stale(*, seconds: float | None = None) -> int:
    """Mark interrupted every job whose worker died: no heartbeat for ``seconds``, its
    process on this computer gone, or its task taken by a worker that never ran it. A job
    queued for any worker waits on."""
    limit = stale_seconds() if seconds is None else seconds
    now = timezone.now()
    count = 0
    for job in Job.objects.filter(state__in=ACTIVE):
        if job_dead(job, limit, now) and job_interrupt(job):
            count += 1
    return count


def wait(job: Job, timeout: float | None = None,
         sleep: Callable[[float], None] = time.sleep) -> Job:
    """Until ``job`` ends (tests, a command that follows a job), read afresh from its row;
    a job started by this process is waited for without reading the row meanwhile."""
    with _secrets_lock:
        ended = _ended.get(job.pk)
    if ended is not None and ended.wait(timeout):
        with _secrets_lock:
            _ended.pop(job.pk, None)
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            job.refresh_from_db()
        except OperationalError:  # the worker writing: read again
            close_old_connections()
        if not job.running or (end is not None and time.monotonic() >= end):
            return job
        sleep(0.05)
