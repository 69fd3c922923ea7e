"""The worker loop: django-tasks-db's own (``db_worker``'s ``Worker``), run by
``brankas worker`` in a process of its own, or by ``brankas serve`` in a thread beside the
web server (``EmbeddedWorker``). Before it takes a task it marks interrupted the jobs whose
worker died (``services.jobs_interrupt_stale``)."""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection
from django.utils.crypto import get_random_string

log = logging.getLogger(__name__)

QUEUE = "default"


def make_worker(*, interval: float = 1.0, batch: bool = False, max_tasks: int | None = None,  # type: ignore[no-untyped-def]
                queue: str = QUEUE):
    from django_tasks_db.management.commands.db_worker import Worker

    from brankas.web.jobs.services import worker_identity

    ident = worker_identity().replace("|", "-")[:40] + "-" + get_random_string(8)
    return Worker(queue_names=[queue], interval=interval, batch=batch, backend_name="default",
                  startup_delay=False, max_tasks=max_tasks, worker_id=ident[:64],
                  excluded_queue_names=[])


def run_worker(*, interval: float = 1.0, batch: bool = False,
               max_tasks: int | None = None) -> int:
    """Run queued jobs here until stopped (``batch``: until none is left); the number of
    tasks run."""
    from brankas.web.jobs.services import jobs_interrupt_stale
    from brankas.web.offsite.schedule import safe_tick

    jobs_interrupt_stale()
    safe_tick()  # s18 OC: a daily push due (or missed while off) is queued first
    worker = make_worker(interval=interval, batch=batch, max_tasks=max_tasks)
    ticker = None if batch else ScheduleTicker().start()
    lane = OffsiteLane(interval=interval, batch=batch).start()  # s18 review
    ocr = OcrLane(interval=interval, batch=batch).start()  # s19
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()
        if ticker is not None:
            ticker.stop()
        # batch: what the lane took ends first; else a push running is cut (it resumes)
        lane.stop(None if batch else 5.0)
        ocr.stop(None if batch else 5.0)  # an OCR job cut resumes with what is left
    return int(worker._run_tasks) + int(lane.worker._run_tasks) + int(ocr.worker._run_tasks)


class Lane:
    """A queue of its own run by a worker thread of its own, beside the office's worker: a
    worker runs its tasks one at a time, and a push of hours on a slow link (s18 review) or
    the OCR of an imported archive (s19) held the disk backup (and every other office job)
    queued behind it. One job at a time in this process's lane."""

    QUEUE = ""
    NAME = ""

    def __init__(self, *, interval: float = 1.0, batch: bool = False) -> None:
        self.interval = interval
        self.batch = batch
        self.worker = make_worker(interval=0.1, batch=True, queue=self.QUEUE)
        self.running = True
        self.thread = threading.Thread(target=self._run, name=self.NAME, daemon=True)

    def _event(self) -> threading.Event:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            while self.running:
                try:
                    self.worker.running = True
                    self.worker.run()  # batch: what is queued now
                except Exception:  # the database away for a moment: go on
                    log.exception("the %s worker failed; it goes on", self.QUEUE)
                    time.sleep(1.0)
                finally:
                    connection.close()
                if self.batch:
                    break
                self._event().wait(self.interval)
                self._event().clear()
        finally:
            connection.close()

    def start(self) -> Lane:
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self.running = False
        self.worker.running = False
        self._event().set()
        self.thread.join(timeout)


class OffsiteLane(Lane):
    """s18 review: the offsite push and verify jobs' queue (``runners.OFFSITE_QUEUE``)."""

    QUEUE = "offsite"
    NAME = "brankas-offsite-worker"

    def _event(self) -> threading.Event:
        from brankas.web.jobs.services import queued_offsite

        return queued_offsite


class OcrLane(Lane):
    """s19: the OCR jobs' queue (``runners.OCR_QUEUE``)."""

    QUEUE = "ocr"
    NAME = "brankas-ocr-worker"

    def _event(self) -> threading.Event:
        from brankas.web.jobs.services import queued_ocr

        return queued_ocr


class ScheduleTicker:
    """s18 OC: the offsite schedule looked at about once a minute beside ``brankas worker``'s
    loop (``offsite.schedule.schedule_tick``; the jobs it queues, that worker runs)."""

    def __init__(self) -> None:
        from brankas.web.offsite.schedule import TICK_SECONDS

        self.every = TICK_SECONDS
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="brankas-schedule", daemon=True)

    def _run(self) -> None:
        from brankas.web.offsite.schedule import safe_tick

        while not self.done.wait(self.every):
            try:
                safe_tick()
            finally:
                connection.close()

    def start(self) -> ScheduleTicker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.done.set()


class EmbeddedWorker:
    """The worker in a thread of the web process (``brankas serve``; the tests). It looks at
    the queue when this process has queued a job (at its commit) and every ``interval``
    seconds for the jobs other processes queue; each look runs what is queued."""

    def __init__(self, *, interval: float = 1.0) -> None:
        from brankas.web.offsite.schedule import TICK_SECONDS

        self.interval = interval
        self.tick_seconds = TICK_SECONDS
        self.worker = make_worker(interval=0.1, batch=True)  # 0.1: a retry on a locked db
        self.lane = OffsiteLane(interval=interval)  # s18 review: the offsite jobs' own
        self.ocr = OcrLane(interval=interval)  # s19: the OCR jobs' own
        self.running = True
        self.thread = threading.Thread(target=self._run, name="brankas-worker", daemon=True)

    def _run(self) -> None:
        from brankas.web.jobs.services import jobs_interrupt_stale, queued_here

        try:
            try:
                jobs_interrupt_stale()
            except Exception:  # the database busy: the jobs' pages check again
                log.exception("stale jobs not checked")
            ticked = None  # s18 OC: the offsite schedule, at the start and once a minute
            while self.running:
                if ticked is None or time.monotonic() - ticked >= self.tick_seconds:
                    from brankas.web.offsite.schedule import safe_tick

                    safe_tick()
                    ticked = time.monotonic()
                queued_here.wait(min(self.interval, self.tick_seconds))
                queued_here.clear()
                if not self.running:
                    break
                try:
                    self.worker.running = True
                    self.worker.run()  # batch: what is queued now, then back here
                except Exception:  # the database away for a moment: keep serving
                    log.exception("the embedded worker failed; it goes on")
                    time.sleep(1.0)
                finally:
                    # No connection held between looks: the first-run recover puts another
                    # database in place of this one (and Windows renames no open file).
                    connection.close()
        finally:
            connection.close()

    def start(self) -> EmbeddedWorker:
        self.thread.start()
        self.lane.start()
        self.ocr.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """No new task is taken; the one running ends first."""
        from brankas.web.jobs.services import queued_here

        self.running = False
        self.worker.running = False
        queued_here.set()
        self.thread.join(timeout)
        self.lane.stop(timeout)
        self.ocr.stop(timeout)
