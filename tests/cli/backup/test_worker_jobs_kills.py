"""Persistent jobs killed at other moments than mid-copy (test_worker_jobs.py): just after
the worker claimed the job (nothing on the disk yet), and once every file was copied (the
run being read back, sealed and recorded: "while writing the result"). Each time: the job
is never left running, never done; the next worker marks it interrupted; a resume
completes it on the same disk, which verifies. Real processes, SIGKILL (the worker kills
itself at the moment named: tests/cli/keys/killpoint.py)."""

from __future__ import annotations

import json
import os

import pytest

from tests.cli.backup.conftest import Office
from tests.cli.backup.test_worker_jobs import _job, _killed, _python, _worker

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
              pytest.mark.slow]

# Where the worker kills itself (SIGKILL; tests/cli/keys/killpoint.py): just after it
# claimed the job (the row says running; its work, whose first step records the run, not
# begun), and once every file was copied and listed, before the run is sealed and recorded.
MOMENTS = {
    "claimed": "brankas.web.jobs.services:JobRun.start:1:before",
    "copied": "brankas.web.backup.services:_close_run:1:before",
}


@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_a_worker_killed_at_another_moment_leaves_a_job_that_resumes(
        scanned_office: Office, moment: str) -> None:
    office = scanned_office  # its archive of scans imported, its OCR jobs run
    disk = office.base / "disk-k"
    job_id = _python(office, "exclusive", str(disk))["job"]  # type: ignore[index]
    _killed(_worker(office, kill=MOMENTS[moment]))
    row = _job(office, job_id)
    assert row["state"] == "running", (moment, row)  # nobody left to say otherwise
    runs = office.sql("select status from backup_backuprun order by number")
    if moment == "claimed":  # nothing begun: no run recorded, nothing on the disk
        assert runs == [] and not disk.exists(), (runs, sorted(disk.rglob("*")))
    else:  # every file copied; the run not yet recorded as completed
        assert runs == [("running",)], runs
        assert row["files_total"] > 10, row

    again = _worker(office, "--burst")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    row = _job(office, job_id)
    assert row["state"] == "interrupted" and row["lock"] is None, row

    resumed = _python(office, "resume", job_id)["job"]  # type: ignore[index]
    again = _worker(office, "--burst")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    new = _job(office, resumed)
    assert new["state"] == "done", new
    assert new["files_done"] == new["files_total"]
    r = office.cli("verify", str(disk), "--json", user="operator")
    assert r.returncode == 0 and r.json()["ok"], r.stdout + r.stderr
    # The control list: the killed run is marked failed by the next run on the disk, the
    # resumed one completed; none is left running.
    runs = office.sql("select status from backup_backuprun order by number")
    assert ("running",) not in runs and runs[-1] == ("completed",), runs


def test_two_workers_started_together_run_a_job_once(scanned_office: Office) -> None:
    """Two ``brankas worker`` processes over one queue: the task is taken by one (django-tasks'
    locked claim), the job by one (our claim of a queued row): one backup run, one worker
    named on the task."""
    office = scanned_office
    disk = office.base / "disk-two"
    job_id = _python(office, "exclusive", str(disk))["job"]  # type: ignore[index]
    before = office.sql("select count(*) from backup_backuprun")[0][0]
    workers = [_worker(office, "--burst") for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    row = _job(office, job_id)
    assert row["state"] == "done", row
    assert office.sql("select count(*) from backup_backuprun")[0][0] == before + 1
    ids = office.sql("select worker_ids from django_tasks_database_dbtaskresult where id = ?",
                     row["task_id"].replace("-", ""))
    assert len(json.loads(ids[0][0])) == 1, ids
