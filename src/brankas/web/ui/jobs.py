"""Long work started from the web (a backup, a disk check, a key grant or rekey, an import,
a restore, a drill, an audit check against disks): the pages' side of the persistent jobs
of ``brankas.web.jobs``.

A job is a database row that survives a restart of the web process; it is queued for a
worker (the one ``brankas serve`` embeds, or ``brankas worker``), or, when it needs a
passphrase, shares or the recovery identity, run in a thread of this process with the
secret in memory only. The progress page polls ``progress_json`` read from the row.

One long job at a time in the office (both read or write an external disk or the whole
archive), and never two backups to one disk: the database refuses the second (``JobBusy``).

The first-run recover is the exception (``memory_job_start``): it runs before the instance
exists and replaces its database, so its job cannot be a row of it; it lives in this
process's memory, as every job did before issue 15.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from brankas.core.errors import BrankasError
from brankas.web.jobs import services
from brankas.web.jobs.models import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, Job, Rates
from brankas.web.jobs.runners import (
    AUDIT_VERIFY,
    BACKUP,
    DRILL,
    GRANT,
    IMPORT,
    RECOVER,
    RESTORE,
    VERIFY,
    chain_report_from_dict,
)
from brankas.web.jobs.services import JobBusy

log = logging.getLogger(__name__)

__all__ = ["AUDIT_VERIFY", "BACKUP", "DONE", "DRILL", "FAILED", "GRANT", "IMPORT",
           "INTERRUPTED", "QUEUED", "RECOVER", "RESTORE", "RUNNING", "STEPS", "VERIFY", "Job",
           "JobBusy", "MemoryJob", "chain_report_from_dict", "job_active", "job_get",
           "job_resume", "job_start", "memory_job_start", "progress_json"]

STEPS = (IMPORT, RESTORE, DRILL, AUDIT_VERIFY)  # followed on the steps' job page


def job_start(*, kind: str, user: Any, dest: str = "", mode: str = "",
              params: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None,
              lang: str = "", exclusive: bool = True) -> Job:
    """Record and queue a job (``JobBusy`` while another runs). ``params`` are stored and
    must hold no secret; ``secrets`` stay in this process's memory."""
    return services.job_create(kind=kind, user=user, dest=dest, mode=mode, params=params,
                               secrets=secrets, lang=lang, exclusive=exclusive)


def job_resume(job: Job, user: Any) -> Job:
    return services.job_resume(job=job, user=user)


def job_get(job_id: str) -> Job | MemoryJob | None:
    """The job (a recover's from memory, any other from its row, read afresh; one whose
    worker died is marked interrupted on the way)."""
    with _lock:
        memory = _jobs.get(job_id)
    if memory is not None:
        return memory
    if len(job_id) != 32:
        return None
    job = Job.objects.select_related("user").filter(pk=job_id).first()
    if job is not None and job.running and services.jobs_interrupt_stale():
        job.refresh_from_db()
    return job


def job_active() -> Job | MemoryJob | None:
    """The job queued or running (its worker alive) that holds the office, if any (an
    offsite push or verify, s18, and the OCR of s19 run beside the others: not this one)."""
    with _lock:
        if _active is not None and _active.running:
            return _active
    from brankas.web.jobs.models import ACTIVE
    from brankas.web.jobs.runners import BESIDE

    job = Job.objects.select_related("user").filter(state__in=ACTIVE).exclude(
        kind__in=BESIDE).first()
    if job is not None and services.job_dead(job):
        services.job_interrupt(job)
        return None
    return job


def progress_json(job: Job | MemoryJob) -> dict[str, Any]:
    """What a job's page script polls (about once a second): counts, percent, speed, time
    left, and the same as text in the active language. ``state`` is "running" while the job
    is queued or running (the script reloads the page on any other)."""
    import datetime as dt

    from brankas.web.ui.formats import size_text as filesizeformat
    from brankas.web.ui.templatetags.brankas_ui import duration

    speed, left = job.speed, job.seconds_left
    return {
        "id": job.id, "kind": job.kind, "state": RUNNING if job.running else job.state,
        "queued": job.state == QUEUED, "percent": job.percent,
        "files_done": job.files_done, "files_total": job.files_total,
        "bytes_done": job.bytes_done, "bytes_total": job.bytes_total,
        "speed": round(speed) if speed is not None else None,
        "seconds_left": round(left) if left is not None else None,
        "run": job.run_number,
        "text": {
            "files": f"{job.files_done} / {job.files_total}",
            "bytes": f"{filesizeformat(job.bytes_done)} / {filesizeformat(job.bytes_total)}",
            "speed": f"{filesizeformat(round(speed))}/s" if speed is not None else "—",
            "left": duration(dt.timedelta(seconds=round(left))) if left is not None else "—",
            "elapsed": duration(dt.timedelta(seconds=round(job.elapsed))),
        },
    }


# -- the first-run recover: a job in this process's memory ------------------------------------

@dataclass
class MemoryJob(Rates):
    kind: str
    user_id: int
    username: str
    dest: str
    mode: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=timezone.now)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    state: str = RUNNING
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    run_number: int | None = None
    medium_label: str = ""
    result: dict[str, Any] | None = None
    error: BrankasError | None = None
    error_text: str = ""
    resumable: bool = False
    thread: threading.Thread | None = field(default=None, repr=False)

    def progress(self, files_done: int, files_total: int, bytes_done: int,
                 bytes_total: int) -> None:
        self.files_done, self.files_total = files_done, files_total
        self.bytes_done, self.bytes_total = bytes_done, bytes_total

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


    @property
    def percent(self) -> int:
        if self.bytes_total > 0:
            return min(100, int(self.bytes_done * 100 / self.bytes_total))
        if self.files_total > 0:
            return min(100, int(self.files_done * 100 / self.files_total))
        return 100 if self.state == DONE else 0

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


_lock = threading.Lock()
_jobs: dict[str, MemoryJob] = {}
_active: MemoryJob | None = None
KEEP = 20


def memory_job_start(job: MemoryJob, work: Callable[[MemoryJob], None]) -> MemoryJob:
    """Run ``work(job)`` in a thread; ``JobBusy`` while another memory job runs."""
    global _active
    with _lock:
        if _active is not None and _active.running:
            raise JobBusy(_active)  # type: ignore[arg-type]
        _active = job
        _jobs[job.id] = job
        finished = [j for j in _jobs.values() if not j.running]
        for old in finished[:-KEEP]:
            _jobs.pop(old.id, None)
    job.thread = threading.Thread(target=_run_memory, args=(job, work),
                                  name=f"brankas-{job.kind}", daemon=True)
    job.thread.start()
    return job


def _run_memory(job: MemoryJob, work: Callable[[MemoryJob], None]) -> None:
    global _active
    try:
        work(job)
    except BrankasError as exc:
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        job.error = exc
        job.state = FAILED
    except Exception as exc:
        log.exception("%s job %s failed", job.kind, job.id)
        job.error_text = f"{type(exc).__name__}: {exc}"
        job.state = FAILED
    else:
        job.state = DONE
    finally:
        job.finished = time.monotonic()
        connection.close()
        with _lock:
            if _active is job:
                _active = None
