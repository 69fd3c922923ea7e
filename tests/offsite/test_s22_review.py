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
        pytest.skip("the refusal is a SQLite trigger")
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
