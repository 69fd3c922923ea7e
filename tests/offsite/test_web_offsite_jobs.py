"""The offsite pages' jobs (issue 18, s18 OC) against the real S3 server of the tests
(scripts/s3server.py: SeaweedFS): a remote added from the page (its canary run), a push
started from the page and run to completion by the jobs' worker (the one ``brankas serve``
embeds) with its progress in the job's row, the daily push queued by the scheduler and run
by that worker, a verify, and a restore whose passphrase never reaches the database.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -m s3 tests/offsite

One test (committed records: the worker reads them on its own connection), on its own
prefix of the one bucket."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from brankas.web.jobs import runners
from brankas.web.jobs.models import DONE, Job
from brankas.web.offsite.models import Push, Remote, Schedule
from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES
from tests.leakscan import files_containing
from tests.web.ui.conftest import born_digital, english, register_directly, text_of

pytestmark = [pytest.mark.s3, pytest.mark.slow, pytest.mark.usefixtures("no_job_left_running")]

from tests.web.ui.conftest import no_job_left_running, signed_in  # noqa: E402, F401


def _started(response) -> Job:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, text_of(response)
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert isinstance(job, Job)
    return job


def test_push_scheduled_push_verify_and_restore_run_as_jobs_by_the_worker(
        transactional_db, office, signed_in, s3_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from brankas.web.offsite.schedule import schedule_tick

    biasa = register_directly(office, subject="Undangan rapat koordinasi",
                              pdf=born_digital("Undangan rapat koordinasi")).agenda
    secret = register_directly(office, subject="Sandi negara", classification="rahasia").agenda
    operator = english(signed_in("operator"))
    r = operator.post("/offsite/", {
        "name": "pdn", "endpoint": s3_server["BRANKAS_TEST_S3_ENDPOINT"],
        "bucket": s3_server["BRANKAS_TEST_S3_BUCKET"], "region": s3_server["region"],
        "prefix": f"t-{uuid.uuid4().hex[:12]}", "retention_days": "2", "credentials_file": ""})
    assert r.status_code == 302 and r["Location"] == "/offsite/pdn/", text_of(r)
    remote = Remote.objects.get(name="pdn")
    assert remote.immutable is not None and remote.canary_at is not None

    # A push from the page, run by the worker; its progress and result in the job's row.
    job = _started(operator.post("/offsite/pdn/push", {"bwlimit": ""})).wait(180)
    assert job.state == DONE, (job.error_code, job.error_params, job.error_text)
    assert not job.local and job.task_id  # queued for any worker: no secret
    assert job.files_done == job.files_total > 0 and job.bytes_done == job.bytes_total > 0
    push = Push.objects.get(remote=remote, number=1)
    assert push.status == Push.COMPLETED and job.run_number == 1
    assert job.result["ok"] and job.result["objects_sent"] == push.objects_sent > 0
    status = operator.get(f"/offsite/jobs/{job.id}/status").json()
    assert status["state"] == "done" and status["percent"] == 100
    page = text_of(operator.get(f"/offsite/jobs/{job.id}/"))
    assert f"Push 1 is complete: {push.objects_sent} objects sent" in page
    assert "Last push" in text_of(operator.get("/offsite/pdn/"))

    # The daily push: due, queued by the scheduler in the Sandiman's name, run by the worker.
    assert operator.post("/offsite/pdn/schedule", {"daily_at": "00:00"}).status_code == 302
    Schedule.objects.update(set_at=timezone.now() - dt.timedelta(days=1))
    queued = schedule_tick()
    assert len(queued) == 1 and schedule_tick() == []
    daily = Job.objects.get(pk=queued[0]).wait(180)
    assert daily.state == DONE and daily.params["scheduled"] and daily.user == office.users[
        "operator"], (daily.error_code, daily.error_text)
    assert daily.result["objects_skipped"] > 0 and daily.result["push"] == 2
    assert "(scheduler)" in text_of(operator.get(f"/offsite/jobs/{daily.id}/"))

    # Verify with its sample, from the page.
    check = _started(operator.post("/offsite/pdn/verify", {"sample": "100"})).wait(180)
    assert check.state == DONE and check.kind == runners.OFFSITE_VERIFY
    assert check.result["missing"] == [] and check.result["changed"] == []
    assert check.result["checked"] + check.result["sampled"] > 0

    # A key holder restores; the passphrase stays in the process's memory.
    passphrase = PASSPHRASES["kabid"]
    kabid = english(signed_in("kabid"))
    out = tmp_path / "pulih"
    restore = _started(kabid.post("/offsite/pdn/restore/", {
        "to": str(out), "agendas": f"{biasa} {secret}", "passphrase": passphrase}))
    assert restore.local and restore.task_id == ""
    restore = restore.wait(180)
    assert restore.state == DONE, (restore.error_code, restore.error_params, restore.error_text)
    assert sorted(restore.result["restored"]) == sorted([biasa, secret])
    assert any(p.suffix == ".pdf" for p in out.rglob("*")) and any(
        p.suffix == ".age" for p in out.rglob("*"))  # biasa opened, rahasia still sealed
    assert f"2 documents were restored into {out}" in text_of(
        kabid.get(f"/offsite/jobs/{restore.id}/"))
    # Another user does not see a restore's page (it names documents and a folder).
    assert english(signed_in("kasi")).get(f"/offsite/jobs/{restore.id}/").status_code == 404

    for row in Job.objects.all():
        assert passphrase not in repr(vars(row)), row
    for task in DBTaskResult.objects.all():
        assert passphrase not in repr(vars(task))
    connection.close()
    name = Path(connection.settings_dict["NAME"])
    # Read by another process (leakscan.files_containing): reading them here would drop
    # this process's SQLite locks on them while a thread may still hold a connection.
    files = [str(p) for p in (Path(f"{name}-wal"), Path(f"{name}-shm"), name) if p.exists()]
    assert str(name) in files
    assert files_containing(files, [passphrase.encode()]) == {}
