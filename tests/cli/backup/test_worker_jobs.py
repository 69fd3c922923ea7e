"""Persistent jobs across real processes (issue 15): a backup queued as the web page queues
it, run by ``brankas worker`` killed with SIGKILL mid-copy; the next worker marks the job
interrupted, a resumed job completes the backup and the disk verifies; likewise killed at
other moments (just after the worker claimed the job, nothing on the disk yet; once every
file was copied, the run being read back, sealed and recorded). Two processes asking for a
backup to one disk at once: exactly one is queued; two workers over one queue run a job
once. Real SQLite (the instance's file), real processes where a process is the point (a
worker killed: a child of the fork server, tests/hostile_disk/forkcli.py; two workers at
once; the server); the job queued as the web page queues it and the workers after a
killed one run in this process (tests/clirun.py ``call_in_process``: another process
than the killed worker, without a second of start-up each). (One module: its office with
the scans, built once per pytest worker, serves them all.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office
from tests.clirun import call_in_process
from tests.conftest import cli, cli_env
from tests.hostile_disk import forkcli, harness

REPO = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

# What a web process does when the backup form is posted (ui.backup.views.backup_page calls
# this service): record the job and queue it; or the page's resume button. Run in this
# process against the office's home and database (tests/clirun.py ``call_in_process``),
# as a process of its own would (the workers that run the jobs are processes, or the
# in-process command).
def _enqueue(what: str, arg: str) -> dict:
    from brankas.web.accounts.models import User
    from brankas.web.jobs import services

    if what == "resume":
        from brankas.web.jobs.models import Job

        job = services.job_resume(job=Job.objects.get(pk=arg),
                                  user=User.objects.get(username="operator"))
        return {"job": job.pk}
    try:
        job = services.job_create(kind="backup", user=User.objects.get(username="operator"),
                                  dest=arg, params={"dest": arg, "label": None},
                                  exclusive=what == "exclusive")
    except services.JobBusy as exc:
        return {"busy": exc.job.pk}
    return {"job": job.pk}


# Two web processes asking at once, round after round: one launcher sets Django up and
# imports the services once (no database connection open: each child opens its own), then
# for each round forks a child a disk (tests/forklaunch.run_together: all released together
# by one pipe), prints the round's answers as a line and waits for a line on its standard
# input (the test's checks of the round done) before the next.
RACE = """
import json, sys
from pathlib import Path
from brankas.cli.runtime import setup_django
setup_django()
from django.db import connections
from brankas.web.accounts.models import User
from brankas.web.jobs import services
from tests.forklaunch import run_together
connections.close_all()
what, out, rounds = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])

def ask(n, dest):
    try:
        job = services.job_create(kind="backup", user=User.objects.get(username="operator"),
                                  dest=dest, params={"dest": dest, "label": None},
                                  exclusive=what == "exclusive")
    except services.JobBusy as exc:
        answer = {"busy": exc.job.pk}
    else:
        answer = {"job": job.pk}
    (out / f"{n}.json").write_text(json.dumps(answer))

for dests in rounds:
    for old in out.glob("*.json"):
        old.unlink()
    statuses = run_together(dests, ask)
    answers = [json.loads(path.read_text()) if path.exists() else None
               for path in (out / f"{n}.json" for n in range(len(dests)))]
    print(json.dumps({"statuses": statuses, "answers": answers}), flush=True)
    sys.stdin.readline()
"""


def _env(office: Office) -> dict[str, str]:
    """The processes' environment: the office's data folder (and its database's URL, when
    it is on PostgreSQL: test_worker_jobs_pg.py)."""
    return {**cli_env(office.home, office.base), **getattr(office, "extra_env", {})}


def _python(office: Office, what: str, arg: str) -> dict:
    """``_enqueue(what, arg)`` against the office (its home, its database)."""
    return call_in_process(lambda: _enqueue(what, arg), env=_env(office), cwd=office.base)


def racing(office: Office, what: str, rounds: list[list[str]]) -> Iterator[list[dict]]:
    """``RACE``: the answers of each round's processes (each ``{"job": id}`` or ``{"busy":
    id}``), round after round; the next round starts when the caller asks for it."""
    env = {**_env(office),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), _env(office).get("PYTHONPATH")]))}
    out = office.base / f"race-{what}"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", RACE, what, str(out), json.dumps(rounds)],
                            env=env, cwd=office.base, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for _ in rounds:
            line = proc.stdout.readline()
            assert line, f"the launcher ended: {proc.communicate(timeout=60)[1][-3000:]}"
            got = json.loads(line)
            assert got["statuses"] == [0] * len(got["statuses"]), \
                f"{got}: {proc.stderr.read() if proc.stderr else ''}"[-3000:]
            yield got["answers"]
            proc.stdin.write("\n")
            proc.stdin.flush()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _worker(office: Office, *extra: str) -> subprocess.Popen[str]:
    """``python -m brankas worker``."""
    return subprocess.Popen([sys.executable, "-m", "brankas", "worker", "--interval", "0.2",
                             *extra], env=_env(office), cwd=office.base, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _burst(office: Office) -> None:
    """``brankas worker --burst`` in this process (tests/clirun.py): the next worker after a
    killed one (another process than the killed one: at its start it finds the job's
    process gone), then the worker that runs the resumed job to its end. The workers killed
    at their points, two workers at once and the server's embedded worker are processes."""
    r = cli(office.home, office.base, "worker", "--interval", "0.2", "--burst",
            env=getattr(office, "extra_env", None))
    assert r.returncode == 0, r.stdout + r.stderr


def _killed(office: Office, kill: str) -> None:
    """``brankas worker`` in a process of its own (a child of the fork server,
    tests/hostile_disk/forkcli.py: no interpreter and Django start-up), killed (SIGKILL, by
    itself) at the point ``kill`` (``module:attribute:N:when``, tests/cli/keys/killpoint.py)
    of its work: at the moment named, never a moment earlier or later. It ended killed
    there (not ended by itself, not failed; not still waiting after 120 s)."""
    env = {**_env(office), "BRANKAS_TEST_KILL": kill}
    code, _, err, hung = harness._commands().run(
        ["worker", "--interval", "0.2"], env, office.base, 120, on_hang=lambda: None)
    assert not hung, f"the worker was not killed at its point\n{err[-3000:]}"
    assert code == -signal.SIGKILL, (code, err[-3000:])


def _job(office: Office, job_id: str) -> dict:
    names = ("state", "files_done", "files_total", "error_code", "resumable", "resumed_from_id",
             "task_id", "lock", "run_number")
    rows = office.sql("select state, files_done, files_total, error_code, resumable, "
                      "resumed_from_id, task_id, lock, run_number from jobs_job where id = ?",
                      job_id)
    assert rows, job_id
    return dict(zip(names, rows[0], strict=True))


def test_a_worker_killed_mid_backup_leaves_an_interrupted_job_that_resumes(
        scanned_office: Office) -> None:
    office = scanned_office  # its archive of big scans imported, its OCR jobs run
    disk = office.base / "disk-2"  # an empty disk: the whole archive to copy

    job_id = _python(office, "exclusive", str(disk))["job"]  # type: ignore[index]
    assert _job(office, job_id)["state"] == "queued"
    # Mid-backup: killed just after the fifth file's copy was counted (the first progress,
    # 0 of the total, is on the row at once), with more than as many left to copy.
    _killed(office, "brankas.web.jobs.services:JobRun.progress:6:after")
    row = _job(office, job_id)
    # Killed mid-backup: the row still says running (nobody was left to say otherwise),
    # and so does the backup's own record of its run.
    assert row["state"] == "running" and row["files_total"] > 10, row
    assert office.sql("select status from backup_backuprun where number = ?",
                      row["run_number"]) == [("running",)]

    # The next worker, at its start, finds the job's process gone: interrupted, resumable.
    _burst(office)
    row = _job(office, job_id)
    assert row["state"] == "interrupted" and row["error_code"] == "job_interrupted_resumable"
    assert row["resumable"] and row["lock"] is None
    assert office.sql("select status from django_tasks_database_dbtaskresult where id = ?",
                      row["task_id"].replace("-", ""))[0][0] == "FAILED"

    # Resumed (the page's button): a new job continuing it, run to the end.
    resumed = _python(office, "resume", job_id)["job"]  # type: ignore[index]
    _burst(office)
    new = _job(office, resumed)
    assert new["state"] == "done", new
    assert new["resumed_from_id"] == job_id and new["files_done"] == new["files_total"]
    r = office.cli("verify", str(disk), "--json", user="operator")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.json()["ok"], r.stdout


def test_two_processes_asking_for_a_backup_to_one_disk_queue_exactly_one(
        office: Office) -> None:
    disk = str(office.base / "one-disk")
    # exclusive=False: the one-job-at-a-time rule is left out; only the database's
    # per-disk constraint stands between the two.
    [answers] = racing(office, "per-disk", [[disk, disk]])
    queued = [a["job"] for a in answers if "job" in a]
    busy = [a["busy"] for a in answers if "busy" in a]
    assert len(queued) == 1 and busy == queued, answers
    # (s19: the OCR jobs of the office's registrations run beside, on their own queue)
    rows = office.sql("select id from jobs_job where state in ('queued', 'running') "
                      "and kind != 'ocr'")
    assert rows == [(queued[0],)]


def test_serve_runs_the_queued_jobs_with_its_embedded_worker(scanned_office: Office) -> None:
    """``brankas serve`` (as ``make run`` starts it, ``python -m brankas``) on an office set
    up before: it answers with its sign-in page, names the data folder it serves, and runs
    a job another process queued with its embedded worker."""
    office = scanned_office  # (its OCR jobs run: no Tesseract beside the backup)
    import urllib.request

    from tests.browser.conftest import free_port, wait_until_up

    port = free_port()
    disk = office.base / "disk-serve"
    env = cli_env(office.home, office.base)
    log = office.base / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "brankas", "serve", "--port",
                                   str(port)], env=env, cwd=office.base, stdout=out,
                                  stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None
        with urllib.request.urlopen(url + "/login/", timeout=10) as page:  # noqa: S310
            assert page.status == 200
            assert b"Brankas" in page.read()
        job_id = _python(office, "exclusive", str(disk))["job"]  # type: ignore[index]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            if _job(office, job_id)["state"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        row = _job(office, job_id)
    finally:
        server.terminate()
        server.wait(60)
    assert f"BRANKAS_HOME={office.home}" in log.read_text()
    assert row["state"] == "done", row
    assert row["files_done"] == row["files_total"] > 0
    r = office.cli("verify", str(disk), "--json", user="operator")
    assert r.returncode == 0 and r.json()["ok"], r.stdout + r.stderr


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
    _killed(office, MOMENTS[moment])
    row = _job(office, job_id)
    assert row["state"] == "running", (moment, row)  # nobody left to say otherwise
    runs = office.sql("select status from backup_backuprun order by number")
    if moment == "claimed":  # nothing begun: no run recorded, nothing on the disk
        assert runs == [] and not disk.exists(), (runs, sorted(disk.rglob("*")))
    else:  # every file copied; the run not yet recorded as completed
        assert runs == [("running",)], runs
        assert row["files_total"] > 10, row

    _burst(office)
    row = _job(office, job_id)
    assert row["state"] == "interrupted" and row["lock"] is None, row

    resumed = _python(office, "resume", job_id)["job"]  # type: ignore[index]
    _burst(office)
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
