"""s22 review: what the push's fewer transactions must not lose. The seal's record is
written with the push's seal and audit head in one transaction (``_put_tags``'s ``then``);
when that second write fails, the seal the server confirmed is still recorded (the office's
own: else ``verify`` names it an unsealed version for as long as the lock keeps it, that is
for ever on a locked bucket), as it was when the two were committed apart.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest tests/offsite
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import office_once
from tests.offsite.conftest import office_on_server

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def template(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, lambda office, base: {}) as made:
        yield made


@pytest.fixture
def office(template, db, settings, tmp_path: Path, server):  # type: ignore[no-untyped-def]
    return office_on_server(template, settings, tmp_path, server)


def _push(office: Any) -> Any:
    from brankas.web.offsite.services import offsite_push

    return offsite_push(actor=office.users["operator"], name="pdn")


def test_a_failure_recording_the_push_s_seal_keeps_the_seal_s_record(office) -> None:  # type: ignore[no-untyped-def]
    """The database refuses the push's seal (a real refusal: a trigger, as a full disk or a
    constraint would): the push fails, audited; the seal's object the server confirmed is
    recorded all the same, so ``verify`` finds nothing unexpected, and the next push and
    verify are clean."""
    from django.db import DatabaseError, connection

    from brankas.core.offsite import index as layout
    from brankas.web.audit.models import AuditEvent
    from brankas.web.offsite.models import Push, PushedObject
    from brankas.web.offsite.services import offsite_verify, remote_add

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: the refusal is a SQLite trigger's RAISE(ABORT) "
                    "(the offsite tests run on SQLite)")
    remote_add(actor=office.users["operator"], name="pdn", endpoint=office.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2)
    assert _push(office).ok
    with connection.cursor() as cur:
        cur.execute("CREATE TRIGGER no_seal BEFORE UPDATE OF seal_sha256 ON offsite_push "
                    "WHEN NEW.seal_sha256 != '' BEGIN SELECT RAISE(ABORT, 'no seal'); END")
    with pytest.raises(DatabaseError):
        _push(office)
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER no_seal")
    failed = Push.objects.get(number=2)
    assert failed.status == Push.FAILED and failed.seal_sha256 == ""
    assert AuditEvent.objects.filter(action="offsite.push", outcome="failed").exists()
    assert PushedObject.objects.filter(push=failed, key=layout.SEAL).count() == 1
    report = offsite_verify(actor=office.users["operator"], name="pdn", sample=0)
    assert report.ok, report.as_dict()
    assert _push(office).ok
    report = offsite_verify(actor=office.users["operator"], name="pdn", sample=0)
    assert report.ok, report.as_dict()




@pytest.mark.parametrize("when", ["before", "after"])
def test_a_push_killed_between_its_seal_s_put_and_record_leaves_no_unsealed_version(  # type: ignore[no-untyped-def]
        pushed, cli_home, tmp_path, run_cli, when) -> None:
    """SIGKILL after the seal was sent (the server holds it, under its lock) and before its
    record was committed (``before`` the record's insert; ``after`` it, the push's seal
    still to be written in the same transaction): the next push adopts the version the
    killed push named in its journal, so verify finds no unsealed version."""
    import subprocess
    import sys

    from tests.conftest import cli_env

    # a no-change push's record inserts: the adopted objects (none), the tags, the seal
    kill = f"brankas.web.offsite.models:PushedObject.objects.bulk_create:3:{when}"
    env = cli_env(cli_home, tmp_path, "operator", {"BRANKAS_TEST_KILL": kill,
                                                   "PYTHONPATH": str(Path(__file__).parents[2])})
    killed = subprocess.run([sys.executable, "-m", "tests.cli.keys.killpoint", "offsite",
                             "push", pushed, "--json"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    again = run_cli("offsite", "push", pushed, "--json", user="operator", process=True)
    assert again.returncode == 0, again.stderr
    report = run_cli("offsite", "verify", pushed, "--json", user="operator", process=True)
    assert report.returncode == 0, report.stdout + report.stderr
    assert report.json()["unexpected"] == [], report.stdout


def test_a_clean_push_whose_result_cannot_be_written_does_not_end_as_a_success(  # type: ignore[no-untyped-def]
        pushed, cli_home, tmp_path) -> None:
    """The quick end (``startup.leave``) of a push and of ``list`` whose standard output is
    a full disk: the status is not 0 (the command says it could not write its result)."""
    import subprocess
    import sys

    from tests.conftest import cli_env

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full (not Linux): the output check needs the always-full "
                    "device")
    env = cli_env(cli_home, tmp_path, "operator")
    for args in (("offsite", "push", pushed, "--json"), ("offsite", "push", pushed),
                 ("list", "--json")):
        with full.open("w") as out:
            done = subprocess.run([sys.executable, "-m", "brankas", *args], env=env,
                                  cwd=tmp_path, stdout=out, stderr=subprocess.PIPE,
                                  text=True, timeout=180, stdin=subprocess.DEVNULL)
        assert done.returncode not in (0, None), (args, done.stderr)
        assert "No space left on device" in done.stderr, done.stderr
