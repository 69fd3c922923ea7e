"""The offsite pages (issue 18, s18 OC) without an S3 server: who sees and may do what
(the role matrix of core/access.py, on the web side), the daily push's schedule (due, not
due, a missed day, never two, not while one runs: "now" injected), the dashboard's
warnings and the backup report's section. Real SQLite, an office built once per module;
the remotes are records (the pages that talk to the server: test_web_offsite_jobs.py)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from brankas.core.access import Action, allowed
from brankas.web.jobs import runners
from brankas.web.jobs.models import DONE, RUNNING, Job
from brankas.web.offsite.models import Push, Remote, Schedule
from tests.conftest import office_once
from tests.web.ui.conftest import english, register_directly, text_of

NAMES = ("admin", "operator", "kasi", "kabid", "kadis")


def _documents(office: SimpleNamespace, base: Any) -> dict[str, Any]:
    return {"agenda": register_directly(office, subject="Undangan rapat").agenda}


@pytest.fixture(scope="module")
def template(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _documents) as made:
        yield made


@pytest.fixture
def office(template, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    return template.copy_for(settings, tmp_path)


@pytest.fixture
def signed_in(client: Client, office):  # type: ignore[no-untyped-def]
    def sign_in(name: str) -> Client:
        client.force_login(office.users[name])
        return client

    return sign_in


def _remote(office: SimpleNamespace, name: str = "pdn", immutable: bool | None = True) -> Remote:
    return Remote.objects.create(
        name=name, remote_id=name.ljust(32, "0")[:32], endpoint="http://127.0.0.1:9",
        bucket="arsip-sandi", retention_days=400, immutable=immutable,
        added_by=office.users["operator"], added_at=timezone.now())


def _push(remote: Remote, office: SimpleNamespace, at: dt.datetime, number: int = 1) -> Push:
    return Push.objects.create(remote=remote, number=number, folder=f"offsite-{number:04d}",
                               operator=office.users["operator"], started_at=at,
                               finished_at=at, status=Push.COMPLETED)


# -- the role matrix, on the web ----------------------------------------------------------

def test_every_role_sees_what_its_actions_allow_and_is_refused_the_rest(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    _remote(office)
    for name in NAMES:
        user = office.users[name]
        may = {a: allowed(user.role, a) for a in (
            Action.VIEW_BACKUPS, Action.OFFSITE_ADD, Action.OFFSITE_PUSH,
            Action.OFFSITE_VERIFY, Action.OFFSITE_RESTORE)}
        client = english(signed_in(name))
        page = client.get("/offsite/")
        assert page.status_code == (200 if may[Action.VIEW_BACKUPS] else 403), name
        assert ('name="endpoint"' in page.content.decode()) == may[Action.OFFSITE_ADD], name
        assert 'href="/offsite/"' in page.content.decode()  # the nav link
        remote = text_of(client.get("/offsite/pdn/"))
        assert "arsip-sandi" in remote
        assert ('action="/offsite/pdn/push"' in remote) == may[Action.OFFSITE_PUSH], name
        assert ('action="/offsite/pdn/verify"' in remote) == may[Action.OFFSITE_VERIFY], name
        assert ('action="/offsite/pdn/schedule"' in remote) == may[Action.OFFSITE_PUSH], name
        assert ('href="/offsite/pdn/restore/"' in remote) == may[Action.OFFSITE_RESTORE], name
        assert client.get("/offsite/pdn/restore/").status_code == \
            (200 if may[Action.OFFSITE_RESTORE] else 403), name
        # what a role may not do is refused (and audited: core/access through the guard)
        if not may[Action.OFFSITE_ADD]:
            r = client.post("/offsite/", {"name": "x", "endpoint": "http://127.0.0.1:9",
                                          "bucket": "abc", "retention_days": "1"})
            assert r.status_code == 403, name
        if not may[Action.OFFSITE_PUSH]:
            assert client.post("/offsite/pdn/push", {}).status_code == 403, name
            assert client.post("/offsite/pdn/schedule", {"daily_at": "02:00"}).status_code == 403
        if not may[Action.OFFSITE_VERIFY]:
            assert client.post("/offsite/pdn/verify", {"sample": "5"}).status_code == 403, name
    assert not Job.objects.exists() and not Schedule.objects.exists()
    from brankas.web.audit.models import AuditEvent

    denied = AuditEvent.objects.filter(action="access.denied")
    assert denied.filter(actor="kasi", detail__action="offsite-push").exists()
    assert denied.filter(actor="operator", detail__action="offsite-restore").exists()


def test_the_sandiman_starts_a_push_and_a_verify_as_jobs_of_that_remote_only_once(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    _remote(office)
    _remote(office, "cadangan")
    client = english(signed_in("operator"))
    r = client.post("/offsite/pdn/push", {"bwlimit": "2M"})
    assert r.status_code == 302 and r["Location"].startswith("/offsite/jobs/")
    job = Job.objects.get()
    assert job.kind == runners.OFFSITE_PUSH and job.params == {"remote": "pdn",
                                                              "bwlimit": 2 << 20}
    assert job.lock == "offsite:pdn" and job.slot is None and job.user == office.users["operator"]
    page = text_of(client.get(r["Location"]))
    assert "Offsite push" in page and "Waiting for a worker" in page
    assert client.get(r["Location"] + "status").json()["state"] == "running"
    # a second push or a verify of the same remote waits for it: the page says so (409)
    again = client.post("/offsite/pdn/verify", {"sample": "10"})
    assert again.status_code == 409 and "already running" in text_of(again)
    # another remote, and a disk backup, are not held up by it (not the office's slot)
    assert client.post("/offsite/cadangan/verify", {"sample": "10"}).status_code == 302
    from brankas.web.ui import jobs

    assert jobs.job_active() is None
    bad = client.post("/offsite/pdn/verify", {"sample": "150"})
    assert bad.status_code == 400
    assert client.post("/offsite/pdn/push", {"bwlimit": "fast"}).status_code == 400
    # every role that sees the remotes follows a push; the restore page is the holder's
    kadis = english(signed_in("kadis"))
    assert kadis.get(r["Location"]).status_code == 200


def test_no_secret_field_on_the_add_form_and_a_bad_remote_is_refused_beside_its_field(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = english(signed_in("operator"))
    page = client.get("/offsite/").content.decode()
    assert 'name="credentials_file"' in page
    assert "secret" not in page.lower().replace("aws_secret_access_key", "")
    assert 'type="password"' not in page
    r = client.post("/offsite/", {"name": "../x", "endpoint": "ftp://nope", "bucket": "AB",
                                  "retention_days": "400"})
    assert r.status_code == 400 and not Remote.objects.exists()


def test_the_restore_page_needs_the_passphrase_and_never_shows_it_back(
        office, signed_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _remote(office)
    client = english(signed_in("kabid"))
    r = client.post("/offsite/pdn/restore/", {"to": str(tmp_path / "out"), "agendas": ""})
    assert r.status_code == 400 and "Type your key passphrase." in text_of(r)
    secret = "rahasia-tidak-boleh-tampil"
    r = client.post("/offsite/pdn/restore/", {"to": "relatif", "passphrase": secret})
    assert r.status_code == 400 and secret not in r.content.decode()
    assert not Job.objects.exists()


# -- the schedule ---------------------------------------------------------------------------

def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def test_the_daily_push_is_queued_once_a_day_when_due_and_a_missed_day_once(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.audit.models import AuditEvent
    from brankas.web.offsite.schedule import schedule_tick

    remote = _remote(office)
    client = english(signed_in("operator"))
    assert client.post("/offsite/pdn/schedule", {"daily_at": "02:30"}).status_code == 302
    schedule = Schedule.objects.get(remote=remote)
    assert schedule.daily_at == dt.time(2, 30) and schedule.set_by == office.users["operator"]
    day = dt.date(2027, 1, 10)
    Schedule.objects.filter(pk=schedule.pk).update(set_at=_at(day, 1))
    assert "02:30" in text_of(client.get("/offsite/pdn/"))

    assert schedule_tick(_at(day, 2, 29)) == []  # not due yet (and set after yesterday's)
    queued = schedule_tick(_at(day, 2, 31))
    assert len(queued) == 1
    job = Job.objects.get(pk=queued[0])
    assert job.kind == runners.OFFSITE_PUSH and job.user == office.users["operator"]
    assert job.params == {"remote": "pdn", "scheduled": "2027-01-10"} and job.lock == "offsite:pdn"
    assert schedule_tick(_at(day, 2, 32)) == []  # never two for one day
    assert schedule_tick(_at(day, 23, 59)) == []
    run = AuditEvent.objects.get(action="offsite.schedule.run")
    assert run.actor == "penjadwal" and run.detail["on_behalf_of"] == "operator"
    assert run.detail["job"] == job.pk and run.target == "pdn"
    assert AuditEvent.objects.filter(action="offsite.schedule", actor="operator").exists()

    # The next day, while that push still runs: not queued (the next tick, once it ended).
    next_day = day + dt.timedelta(1)
    Job.objects.filter(pk=job.pk).update(state=RUNNING, heartbeat=timezone.now(),
                                         began_at=timezone.now(),
                                         worker="elsewhere|1|x")
    assert schedule_tick(_at(next_day, 3)) == []
    Job.objects.filter(pk=job.pk).update(state=DONE, lock=None)
    assert len(schedule_tick(_at(next_day, 3, 1))) == 1

    # The laptop off for three days: one push at the next start, for the last slot.
    back = next_day + dt.timedelta(4)
    Job.objects.update(state=DONE, lock=None)
    assert len(schedule_tick(_at(back, 1))) == 1  # before 02:30: yesterday's, missed
    assert Schedule.objects.get(pk=schedule.pk).last_day == back - dt.timedelta(1)
    assert schedule_tick(_at(back, 1, 5)) == []
    Job.objects.update(state=DONE, lock=None)
    assert len(schedule_tick(_at(back, 2, 31))) == 1  # and today's at its time
    assert Job.objects.filter(kind=runners.OFFSITE_PUSH).count() == 4

    # Off: nothing more.
    assert client.post("/offsite/pdn/schedule", {"daily_at": ""}).status_code == 302
    Job.objects.update(state=DONE, lock=None)
    assert schedule_tick(_at(back + dt.timedelta(1), 3)) == []


def test_a_schedule_whose_sandiman_left_is_refused_once_and_audited(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.audit.models import AuditEvent
    from brankas.web.offsite.schedule import schedule_set, schedule_tick

    _remote(office)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    Schedule.objects.update(set_at=_at(dt.date(2027, 1, 1), 0))
    operator = office.users["operator"]
    operator.is_active = False
    operator.save()
    assert schedule_tick(_at(dt.date(2027, 1, 2), 3)) == []
    assert schedule_tick(_at(dt.date(2027, 1, 2), 4)) == []
    denied = AuditEvent.objects.filter(action="offsite.schedule.run", outcome="denied")
    assert denied.count() == 1 and denied.get().actor == "penjadwal"
    assert not Job.objects.exists()


def test_the_cli_sets_and_turns_off_the_schedule(office) -> None:  # type: ignore[no-untyped-def]
    """``brankas offsite schedule`` in-process (its wiring; the services are tested above)."""
    from click.testing import CliRunner

    from brankas.cli.app import main
    from tests.conftest import PASSWORDS

    _remote(office)
    runner = CliRunner()
    args: list[str] = []
    r = runner.invoke(main, ["offsite", "schedule", "pdn", "--daily", "21:15", "--json", *args],
                      env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": PASSWORDS["operator"]})
    assert r.exit_code == 0, r.output
    assert Schedule.objects.get().daily_at == dt.time(21, 15)
    r = runner.invoke(main, ["offsite", "schedule", "pdn", "--daily", "25:00", *args],
                      env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": PASSWORDS["operator"]})
    assert r.exit_code != 0 and Schedule.objects.get().daily_at == dt.time(21, 15)
    r = runner.invoke(main, ["offsite", "schedule", "pdn", "--off", *args],
                      env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": PASSWORDS["operator"]})
    assert r.exit_code == 0, r.output
    assert Schedule.objects.get().daily_at is None


# -- the dashboard and the report ---------------------------------------------------------

def test_the_dashboard_warns_of_a_mutable_remote_a_late_daily_push_and_no_offsite_copy(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.schedule import schedule_set

    page = text_of(english(signed_in("operator")).get("/"))
    assert "The archive has no offsite copy" in page  # the Sandiman, who can make one
    assert "no offsite copy" not in text_of(english(signed_in("kadis")).get("/"))

    remote = _remote(office, immutable=False)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    now = timezone.now()
    _push(remote, office, now - dt.timedelta(days=3))
    Schedule.objects.update(set_at=now - dt.timedelta(days=10))
    for name in NAMES:
        page = text_of(english(signed_in(name)).get("/"))
        assert "Offsite remote pdn is NOT IMMUTABLE" in page, name
        assert "The daily push to offsite remote pdn has not succeeded for more than 2 days" \
            in page, name
        assert "no offsite copy" not in page
    Remote.objects.update(immutable=True)
    _push(remote, office, now - dt.timedelta(hours=5), number=2)
    page = text_of(english(signed_in("operator")).get("/"))
    assert "NOT IMMUTABLE" not in page and "daily push" not in page
    # Bahasa Indonesia first
    Remote.objects.update(immutable=False)
    client = signed_in("kabid")
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert "TIDAK KEBAL" in text_of(client.get("/"))
    assert "TIDAK KEBAL" in text_of(client.get("/offsite/"))


def test_the_backup_report_has_the_offsite_copies(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.core.reports.render import _offsite_tables
    from brankas.web.offsite.warnings import offsite_figures

    empty = _offsite_tables(offsite_figures())
    assert "tidak ada salinan" in empty[0].rows[0][2]  # type: ignore[union-attr]
    remote = _remote(office, immutable=False)
    _push(remote, office, timezone.now())
    table = _offsite_tables(offsite_figures())[0]
    assert table.title.startswith("Salinan di luar kantor")  # type: ignore[union-attr]
    row = table.rows[0]  # type: ignore[union-attr]
    assert row[0] == "pdn" and row[2] == "TIDAK TERKUNCI (dapat dihapus)" and row[4] == "0"
    assert _offsite_tables(None) == []  # a report gathered before issue 18



def test_the_keep_one_elsewhere_hint_points_to_the_offsite_page(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from brankas.core.chains.custody import MediumState
    from brankas.web.backup.models import Medium
    from brankas.web.custody.models import MediumCustody, Safe

    now = timezone.now()
    safe = Safe.objects.create(name="Brankas-A", location="Ruang Sandi",
                               created_by=office.users["operator"], created_at=now)
    for label in ("D1", "D2"):
        medium = Medium.objects.create(medium_id=str(uuid.uuid4()), label=label,
                                       first_used_at=now, last_used_at=now,
                                       last_verified_at=now)
        MediumCustody.objects.create(medium=medium, state=MediumState.IN_SAFE, safe=safe,
                                     since=now)
    html = english(signed_in("kasi")).get("/").content.decode()
    hint = html[html.index("Every backup disk is in the same safe"):]
    assert hint[:hint.index("</p>")].endswith('<a href="/offsite/">Offsite copies</a>')


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_offsite_pages_speak_one_language(office, signed_in, lang) -> None:  # type: ignore[no-untyped-def]
    """The remote's page, the restore page and a push's page (the every-page test sees the
    list only: it knows no remote), with the every-page test's own check."""
    from tests.web.ui.test_every_page import _data_values, _english_msgids, _found, visible_text

    remote = _remote(office, immutable=False)
    _push(remote, office, timezone.now())
    from brankas.web.offsite.schedule import schedule_set

    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    job = Job.objects.create(kind=runners.OFFSITE_PUSH, user=office.users["operator"],
                             dest="pdn", params={"remote": "pdn", "scheduled": "2027-01-01"},
                             state=DONE, result={"ok": True, "push": 1, "objects_sent": 3,
                                                 "bytes_sent": 10, "objects_skipped": 1,
                                                 "files": 4, "bytes": 10,
                                                 "retention_extended": 0, "immutable": False,
                                                 "damaged": []})
    values, msgids, problems = _data_values(), _english_msgids(), []
    for name in ("operator", "kabid"):
        client = signed_in(name)
        client.cookies["django_language"] = lang
        for path in ("/offsite/", "/offsite/pdn/", f"/offsite/jobs/{job.pk}/",
                     *(["/offsite/pdn/restore/"] if name == "kabid" else [])):
            r = client.get(path)
            assert r.status_code == 200, path
            html = r.content.decode()
            assert f'<html lang="{lang}">' in html
            problems += [f"{path} ({name}): {f}" for f in
                         _found(visible_text(html), lang, values, msgids)]
    assert problems == []


# -- s18 review (offweb): the schedule under a wrong clock, and a killed scheduled push ----

def test_a_clock_once_set_ahead_does_not_silence_the_daily_push(office) -> None:  # type: ignore[no-untyped-def]
    """The laptop's clock set a year ahead for one tick (a dead RTC battery, a typo), then
    put right: the schedule claimed a day in the future (and may have been set then). The
    next day's push is still queued, once; the dashboard still warns of the missing pushes."""
    from brankas.web.offsite.schedule import schedule_set, schedule_tick
    from brankas.web.offsite.warnings import offsite_warnings

    remote = _remote(office)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    day = dt.date(2027, 3, 1)
    ahead = day + dt.timedelta(days=365)
    Schedule.objects.update(set_at=_at(ahead, 1))  # set while the clock was ahead
    assert schedule_tick(_at(day, 3)) != []  # the clock put right: today's push is queued
    Job.objects.update(state=DONE, lock=None)
    assert len(schedule_tick(_at(ahead, 3))) == 1  # the clock ahead again for a tick
    Job.objects.update(state=DONE, lock=None)
    assert len(schedule_tick(_at(day + dt.timedelta(1), 3))) == 1  # put right: queued
    assert schedule_tick(_at(day + dt.timedelta(1), 4)) == []  # and only once
    # A push recorded while the clock was ahead does not hide the next days' failures.
    _push(remote, office, _at(ahead, 3))
    codes = [w.code for w in offsite_warnings(now=_at(day + dt.timedelta(10), 3))]
    assert "push_stale" in codes


def test_a_scheduled_push_whose_worker_was_killed_is_resumed_once_that_day(office) -> None:  # type: ignore[no-untyped-def]
    """The worker running the daily push is killed (SIGKILL, power cut): at its next start
    the job is marked interrupted, and the schedule queues one push resuming it (the objects
    that arrived are not sent again), not nothing until tomorrow."""
    from brankas.web.jobs.models import INTERRUPTED
    from brankas.web.jobs.services import job_interrupt
    from brankas.web.offsite.schedule import schedule_set, schedule_tick

    _remote(office)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    day = dt.date(2027, 4, 1)
    Schedule.objects.update(set_at=_at(day, 0))
    first = Job.objects.get(pk=schedule_tick(_at(day, 2, 1))[0])
    Job.objects.filter(pk=first.pk).update(state=RUNNING, worker="elsewhere|1|x")
    assert job_interrupt(Job.objects.get(pk=first.pk))  # what jobs_interrupt_stale does
    assert Job.objects.get(pk=first.pk).state == INTERRUPTED
    queued = schedule_tick(_at(day, 2, 5))
    assert len(queued) == 1
    again = Job.objects.get(pk=queued[0])
    assert again.kind == runners.OFFSITE_PUSH and again.resumed_from_id == first.pk
    assert again.user == office.users["operator"] and again.params["scheduled"] == "2027-04-01"
    assert Schedule.objects.get().last_job == again.pk
    assert schedule_tick(_at(day, 2, 6)) == []  # once
    # A push of an older day, interrupted, is not taken up: the day's own push goes on.
    Job.objects.filter(pk=again.pk).update(state=INTERRUPTED, lock=None)
    queued = schedule_tick(_at(day + dt.timedelta(1), 2, 1))
    assert len(queued) == 1 and Job.objects.get(pk=queued[0]).resumed_from_id is None


def test_the_daily_push_waits_while_a_grant_or_rekey_re_encrypts_the_archive(office) -> None:  # type: ignore[no-untyped-def]
    """A rekey after a revocation holds the archive lock exclusively (hours on a large
    archive): a push queued then is refused at once (rewrap_running) and the day's push
    was lost. The tick leaves the day unclaimed until the re-encryption ends (s18 review)."""
    from brankas.core.register import lock as archivelock
    from brankas.web.offsite.schedule import schedule_set, schedule_tick
    from brankas.web.runtime import brankas_settings

    _remote(office)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    day = dt.date(2027, 5, 1)
    Schedule.objects.update(set_at=_at(day, 0))
    with archivelock.archive_lock(brankas_settings().tmp, archivelock.REWRAP):
        assert schedule_tick(_at(day, 2, 1)) == []
        assert Schedule.objects.get().last_day is None
    assert len(schedule_tick(_at(day, 2, 2))) == 1


def test_a_grant_is_refused_as_busy_while_an_offsite_push_reads_the_archive(office) -> None:  # type: ignore[no-untyped-def]
    """A push on a slow link holds the archive lock shared for hours; a grant or rekey
    re-encrypts the archive under it exclusively. Left out of the office's one long job,
    the push let the grant be queued and fail at once, saying "a backup" runs (none is on
    the backup page). The grant is refused before it starts, naming the push (s18 review);
    a disk backup still runs beside it."""
    from brankas.web.jobs.services import JobBusy, job_create

    _remote(office)
    push = job_create(kind=runners.OFFSITE_PUSH, user=office.users["operator"], dest="pdn",
                      params={"remote": "pdn"}, exclusive=False)
    Job.objects.filter(pk=push.pk).update(state=RUNNING, heartbeat=timezone.now(),
                                          began_at=timezone.now(), worker="elsewhere|1|x")
    with pytest.raises(JobBusy) as busy:
        job_create(kind=runners.GRANT, user=office.users["kasi"], params={"to": "kabid"})
    assert busy.value.job.pk == push.pk
    assert Job.objects.count() == 1


def test_a_scheduled_push_left_running_by_a_dead_worker_is_resumed_by_the_next_tick(
        office) -> None:  # type: ignore[no-untyped-def]
    """``brankas worker`` killed and not restarted: ``brankas serve``'s embedded worker
    ticks on, but only a worker's start (or a page reading the job) marks the job
    interrupted. The tick looks at the day's job itself (s18 review)."""
    from brankas.web.jobs.models import INTERRUPTED
    from brankas.web.offsite.schedule import schedule_set, schedule_tick

    _remote(office)
    schedule_set(actor=office.users["operator"], name="pdn", daily_at=dt.time(2))
    day = dt.date(2027, 6, 1)
    Schedule.objects.update(set_at=_at(day, 0))
    first = schedule_tick(_at(day, 2, 1))[0]
    Job.objects.filter(pk=first).update(state=RUNNING, worker="elsewhere|1|x",
                                        began_at=timezone.now() - dt.timedelta(hours=2),
                                        heartbeat=timezone.now() - dt.timedelta(hours=2))
    queued = schedule_tick(_at(day, 9))
    assert len(queued) == 1 and Job.objects.get(pk=queued[0]).resumed_from_id == first
    assert Job.objects.get(pk=first).state == INTERRUPTED


def test_the_dashboard_warns_every_role_of_an_offsite_copy_whose_check_found_problems(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """``offsite verify`` naming missing or changed objects (someone deleting or replacing
    the offsite copy) was on the remote's page only: the Kasi and the Kabid, who check the
    Sandiman's work, were not told. A warning for every role that sees the backups, in
    both languages (s18 review)."""
    remote = _remote(office)
    _push(remote, office, timezone.now())
    Remote.objects.update(last_verify_ok=False, last_verified_at=timezone.now())
    for name in NAMES:
        page = text_of(english(signed_in(name)).get("/"))
        assert "The last check of offsite remote pdn found problems" in page, name
    client = signed_in("kasi")
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert "Pemeriksaan terakhir penyimpanan di luar kantor pdn menemukan masalah" in text_of(
        client.get("/"))
    Remote.objects.update(last_verify_ok=True)
    assert "found problems" not in text_of(english(signed_in("kabid")).get("/"))
