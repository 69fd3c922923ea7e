"""A long job's record: what it is, who asked, where it stands, its result or its error.

The work itself is in the services; the queue is django-tasks' database backend
(``django_tasks_db``), whose row ``task_id`` names. This row is ours: the progress page reads
it, the running job writes its counters to it (at most twice a second, each write its own
short transaction), and a job whose worker died is marked interrupted from it. It never
holds a secret: a job that needs a passphrase or the recovery identity gets it in memory
(``services``, "local" jobs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
ACTIVE = (QUEUED, RUNNING)
STATES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED, INTERRUPTED)]


def new_id() -> str:
    """Unguessable: a job's page is reached by its number alone (the first-run recover)."""
    return uuid.uuid4().hex


class Rates:
    """Speed and time left of a job from its bytes and elapsed time: the database's jobs
    and the one kept in memory (``ui.jobs``, the first-run recover) alike."""

    bytes_done: int
    bytes_total: int

    @property
    def elapsed(self) -> float:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    @property
    def speed(self) -> float | None:
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


class Job(Rates, models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    kind = models.CharField(max_length=20)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="jobs")
    dest = models.CharField(max_length=2000, blank=True)  # the disk or folder, as typed
    mode = models.CharField(max_length=20, blank=True)  # verify: full, fast, sample
    # What no two active jobs may share: a backup's disk (its folder, resolved). With the
    # constraint below, two web processes never queue or run two backups to one disk.
    lock = models.CharField(max_length=2100, null=True, blank=True)
    # "office" for a job that wants the office to itself (one long job at a time): with the
    # constraint below, two processes both finding no active job cannot both queue one (on
    # PostgreSQL, read committed, their look and their insert interleave).
    slot = models.CharField(max_length=20, null=True, blank=True)
    state = models.CharField(max_length=12, choices=STATES, default=QUEUED)
    params = models.JSONField(default=dict, blank=True)  # the work's arguments; no secret
    local = models.BooleanField(default=False)  # runs only in the process that took the form
    lang = models.CharField(max_length=5, blank=True)
    files_done = models.BigIntegerField(default=0)
    files_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    run_number = models.IntegerField(null=True, blank=True)  # backup: once numbered
    medium_label = models.CharField(max_length=200, blank=True)
    rewrap_job_id = models.BigIntegerField(null=True, blank=True)  # grant: its RewrapJob
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    error_params = models.JSONField(null=True, blank=True)
    error_text = models.TextField(blank=True)  # an unexpected failure (not a BrankasError)
    started_at = models.DateTimeField(default=timezone.now)  # asked for
    began_at = models.DateTimeField(null=True, blank=True)  # a worker took it
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)  # host|pid of the running process
    task_id = models.CharField(max_length=64, blank=True)  # django_tasks_db's DBTaskResult
    resumable = models.BooleanField(default=False)  # a re-run goes on from where it stopped
    resumed_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="resumed_by")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["lock"], condition=Q(state__in=ACTIVE),
                                    name="jobs_one_active_job_per_disk"),
            models.UniqueConstraint(fields=["slot"], condition=Q(state__in=ACTIVE),
                                    name="jobs_one_active_job_per_office"),
        ]
        indexes = [models.Index(fields=["state", "started_at"], name="jobs_state_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    # -- what the pages read ------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Not ended yet (queued for a worker, or running)."""
        return self.state in ACTIVE

    @property
    def username(self) -> str:
        return self.user.username if self.user_id else ""  # type: ignore[union-attr]

    @property
    def elapsed(self) -> float:
        start = self.began_at
        if start is None:
            return 0.0
        end = self.finished_at or (timezone.now() if self.running else self.heartbeat or start)
        return max(0.0, (end - start).total_seconds())


    @property
    def percent(self) -> int:
        if self.bytes_total > 0:
            return min(100, int(self.bytes_done * 100 / self.bytes_total))
        if self.files_total > 0:
            return min(100, int(self.files_done * 100 / self.files_total))
        return 100 if self.state == DONE else 0

    @property
    def error(self) -> Any:
        """The refusal (a ``BrankasError``) the job ended with, rebuilt from its code."""
        if not self.error_code:
            return None
        from brankas.core.errors import MESSAGES, BrankasError

        if self.error_code not in MESSAGES:  # a code since removed: shown as text
            return None
        return BrankasError(self.error_code, **(self.error_params or {}))

    @property
    def outcome(self) -> dict[str, Any] | None:  # backup: BackupOutcome.as_dict()
        return self.result if self.kind == "backup" and self.state == DONE else None

    @property
    def report(self) -> dict[str, Any] | None:  # verify: VerifyReport.as_dict()
        return self.result if self.kind == "verify" and self.state == DONE else None

    def wait(self, timeout: float | None = None) -> Job:
        """Until the job ends (tests; a command that follows a job), read afresh."""
        from brankas.web.jobs.services import wait

        return wait(self, timeout)

    def stale(self, seconds: float, now: dt.datetime | None = None) -> bool:
        """Running (or a local job waiting) with no sign of life for ``seconds``."""
        if not self.running or (self.state == QUEUED and not self.local):
            return False
        seen = self.heartbeat or self.began_at or self.started_at
        return ((now or timezone.now()) - seen).total_seconds() > seconds

