"""The jobs on PostgreSQL (issue 15): two processes asking for a backup to one disk at once
queue exactly one (the partial unique constraint, on PostgreSQL), and ``brankas worker``
takes it from the django-tasks queue (``FOR UPDATE SKIP LOCKED`` there) and runs it. Real
processes against the server ``BRANKAS_TEST_PG_URL`` names
(``python scripts/pgcluster.py run -- pytest -m postgres ...``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.backup import test_worker_jobs as on_sqlite
from tests.cli.backup.conftest import Office
from tests.conftest import PASSWORDS, CliResult, cli, make_pdf

PG_URL = os.environ.get("BRANKAS_TEST_PG_URL", "")
pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="BRANKAS_TEST_PG_URL is not set")]


class PgOffice(Office):
    """An office whose database is a database of the PostgreSQL server."""

    extra_env: dict[str, str]

    def cli(self, *args: str, user: str | None = None, **kwargs: Any) -> CliResult:
        return cli(self.home, self.base, *args, user=user, env=self.extra_env, **kwargs)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.extra_env["BRANKAS_DATABASE_URL"]) as con:
            return [tuple(row) for row in con.execute(query.replace("?", "%s"),  # type: ignore[arg-type]
                                                      params)]


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Iterator[PgOffice]:  # type: ignore[no-untyped-def]
    """The office set up through the CLI in a database cloned from the migrated template
    (tests/pg.py: ``init`` then finds its tables made; the migrations on an empty
    PostgreSQL database are tested by test_migrate_db_pg and test_recover_pg), in this
    process (tests/clirun.py). The registered PDF carries a text layer long enough to be
    read without OCR: its text job, which the first worker takes beside the backup, runs
    no Tesseract (the OCR jobs are tested in tests/web/text)."""
    import psycopg

    from tests import pg

    url = pg.new_database("jobs")
    base = tmp_path_factory.mktemp("pg-jobs")
    made = PgOffice(base=base, home=base / "home", disk=base / "disk", secrets=base,
                    recovery_file=base / "recovery.txt")
    made.extra_env = {"BRANKAS_DATABASE_URL": url}
    try:
        for who in ("admin", "operator"):
            (base / f"{who}.pw").write_text(PASSWORDS[who] + "\n")
        r = made.cli("init", "--office", "Dinas Kominfo", "--admin", "admin",
                     "--password-file", str(base / "admin.pw"), "--json")
        assert r.returncode == 0, r.stderr
        r = made.cli("user", "add", "operator", "--role", "sandiman", "--full-name",
                     "Operator", "--password-file", str(base / "operator.pw"), user="admin")
        assert r.returncode == 0, r.stderr
        made.register("penerimaan", "biasa", "Undangan rapat", pdf=make_pdf(
            text="Undangan rapat: surat dinas tentang rapat koordinasi bidang persandian"))
        yield made
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_two_processes_asking_for_a_backup_to_one_disk_queue_exactly_one(
        office: PgOffice) -> None:
    on_sqlite.test_two_processes_asking_for_a_backup_to_one_disk_queue_exactly_one(office)


def test_the_worker_takes_the_job_from_the_queue_and_runs_it(office: PgOffice) -> None:
    disk = office.base / "disk-w"
    job_id = on_sqlite._python(office, "per-disk", str(disk))["job"]  # type: ignore[index]
    worker = on_sqlite._worker(office, "--burst")
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err
    row = on_sqlite._job(office, job_id)
    assert row["state"] == "done" and row["lock"] is None, row
    assert row["files_done"] == row["files_total"] > 0
    status = office.sql("select status from django_tasks_database_dbtaskresult where id = ?",
                        row["task_id"])
    assert status == [("SUCCESSFUL",)]


def test_two_processes_asking_for_jobs_to_two_disks_at_once_queue_one(
        office: PgOffice) -> None:
    """One long job at a time in the office: on PostgreSQL (read committed) two processes
    both looking for an active job before either inserts its own must not both queue one.
    Several rounds, each two processes let go together."""
    # The module's office is shared: a job an earlier test left queued (the per-disk test's,
    # when the worker test did not run after it) would make both of round 0 busy, no race
    office.sql("update jobs_job set state = 'failed', lock = null, slot = null "
               "where state in ('queued', 'running') returning id")
    rounds = [[str(office.base / f"disk-x{attempt}-{n}") for n in (1, 2)]
              for attempt in range(6)]
    for attempt, answers in enumerate(on_sqlite.racing(office, "exclusive", rounds)):
        active = office.sql("select id from jobs_job where state in ('queued', 'running') "
                            "and kind != 'ocr'")  # s19: the OCR jobs run beside
        assert len(active) == 1, (attempt, answers)
        assert [a for a in answers if "job" in a] == [{"job": active[0][0]}], (attempt, answers)
        assert sorted(a.get("job") or a.get("busy") for a in answers) == [active[0][0]] * 2
        office.sql("update jobs_job set state = 'failed', lock = null, slot = null "
                   "where state in ('queued', 'running') returning id")
