"""Long work started from the web (a backup, a disk check, a key grant or rekey) in a
background thread.

One job at a time per process: both read or write an external disk, and the server runs on
the operator's own laptop. The job's progress lives in memory for the progress page to
poll; what matters afterwards (the run, the check, the audit entries) is in the database,
written by the services.
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

from brankas.core.disk.verify import VerifyReport
from brankas.core.errors import BrankasError

log = logging.getLogger(__name__)

BACKUP, VERIFY = "backup", "verify"
GRANT = "grant"  # a key grant, or a revocation's rekey (``keys.grants``; progress: RewrapJob)
# issue 14: every SOP step on the web (ui/backup/step_views.py, recover_views.py,
# ui/audit/verify_views.py); their result is in ``Job.result``.
IMPORT, RESTORE, DRILL, RECOVER = "import", "restore", "drill", "recover"
AUDIT_VERIFY = "audit-verify"
STEPS = (IMPORT, RESTORE, DRILL, AUDIT_VERIFY)  # followed on the steps' job page
RUNNING, DONE, FAILED = "running", "done", "failed"
KEEP = 20  # finished jobs kept for their result pages


@dataclass
class Job:
    kind: str  # BACKUP, VERIFY, GRANT, or one of STEPS, or RECOVER
    user_id: int
    username: str
    dest: str
    mode: str = ""  # verify: full, fast, sample
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=timezone.now)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    state: str = RUNNING
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    run_number: int | None = None  # backup: the control-list entry, once numbered
    outcome: dict[str, Any] | None = None  # backup: BackupOutcome.as_dict()
    report: VerifyReport | None = None  # verify
    medium_label: str = ""
    rewrap_job_id: int | None = None  # grant: the RewrapJob row, once made
    result: dict[str, Any] | None = None  # grant: the summary (and a revocation's disks);
    # the steps and recover: their report as a dict
    error: BrankasError | None = None
    error_text: str = ""  # an unexpected failure (not a BrankasError)
    thread: threading.Thread | None = field(default=None, repr=False)

    def advance(self, files: int = 1, size: int = 0) -> None:
        """One more file (of ``size`` bytes) done: for work that counts as it goes."""
        self.files_done += files
        self.bytes_done += size

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
    def speed(self) -> float | None:
        """Bytes per second so far (None in the first moments)."""
        elapsed = self.elapsed
        if elapsed < 0.5 or self.bytes_done <= 0:
            return None
        return self.bytes_done / elapsed

    @property
    def seconds_left(self) -> float | None:
        speed = self.speed
        if not self.running or speed is None or self.bytes_total <= 0:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / speed)

    @property
    def percent(self) -> int:
        if self.bytes_total > 0:
            return min(100, int(self.bytes_done * 100 / self.bytes_total))
        if self.files_total > 0:
            return min(100, int(self.files_done * 100 / self.files_total))
        return 100 if self.state == DONE else 0

    def wait(self, timeout: float | None = None) -> None:
        """Until the thread ends (for tests and for shutting down)."""
        if self.thread is not None:
            self.thread.join(timeout)


class JobBusy(Exception):
    """Another job is still running; ``job`` is the one running."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


_lock = threading.Lock()
_jobs: dict[str, Job] = {}
_active: Job | None = None


def job_get(job_id: str) -> Job | None:
    with _lock:
        return _jobs.get(job_id)


def job_active() -> Job | None:
    with _lock:
        return _active if _active is not None and _active.running else None


def job_start(job: Job, work: Callable[[Job], None]) -> Job:
    """Run ``work(job)`` in a thread; ``JobBusy`` while another job runs."""
    global _active
    with _lock:
        if _active is not None and _active.running:
            raise JobBusy(_active)
        _active = job
        _jobs[job.id] = job
        finished = [j for j in _jobs.values() if not j.running]
        for old in finished[:-KEEP]:
            _jobs.pop(old.id, None)
    job.thread = threading.Thread(target=_run, args=(job, work), name=f"brankas-{job.kind}",
                                  daemon=True)
    job.thread.start()
    return job


def _run(job: Job, work: Callable[[Job], None]) -> None:
    global _active
    try:
        work(job)
    except BrankasError as exc:
        # Kept for the job page, without its traceback or the exceptions chained to it: their
        # frames hold the work's locals (a passphrase, the recovery identity) for as long as
        # the job is kept.
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        job.error = exc
        job.state = FAILED
    except Exception as exc:  # shown on the job page; the traceback goes to the log
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


def progress_json(job: Job) -> dict[str, Any]:
    """What a job's page script polls (about once a second): counts, percent, speed, time
    left, and the same as text in the active language."""
    import datetime as dt

    from brankas.web.ui.formats import size_text as filesizeformat
    from brankas.web.ui.templatetags.brankas_ui import duration

    speed, left = job.speed, job.seconds_left
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "percent": job.percent,
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
