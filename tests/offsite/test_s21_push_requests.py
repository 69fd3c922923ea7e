"""A full push's cost per object (s21; docs/benchmarks.md "Offsite full push, session 21"),
against the real S3 server of the tests through the counting proxy (tests/offsite/proxy.py):
one request per object (a PUT carrying its checksum and its lock: no HEAD, no read-back, no
second request for the retention), each body sent once, each archive file read once.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest tests/offsite
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import office_once
from tests.offsite.conftest import office_on_server

pytestmark = pytest.mark.s3

_OPENED: list[str] | None = None  # while set: every file opened (the audit hook's)


def _opened(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], str | Path):
        _OPENED.append(str(args[0]))


def _documents(office: SimpleNamespace, base: Path) -> dict[str, Any]:
    from tests.web.ui.conftest import register_directly

    return {"biasa": register_directly(office, subject="Undangan rapat").agenda,
            "biasa2": register_directly(office, subject="Laporan", direction="pengiriman"
                                        ).agenda,
            "secret": register_directly(office, subject="Sandi", classification="rahasia"
                                        ).agenda}


@pytest.fixture(scope="module")
def template(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _documents) as made:
        yield made


@pytest.fixture
def office(template, db, settings, tmp_path: Path, server):  # type: ignore[no-untyped-def]
    return office_on_server(template, settings, tmp_path, server)


def test_a_full_push_makes_one_request_per_object_and_reads_each_file_once(  # type: ignore[no-untyped-def]
        office, faults, raw) -> None:
    global _OPENED
    from brankas.web.documents.models import Document
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_push, remote_add
    from brankas.web.runtime import brankas_settings

    remote_add(actor=office.users["operator"], name="hitung", endpoint=faults.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2)
    faults.reset()
    home = brankas_settings().home
    archive = {str(home / d.stored_path): d for d in Document.objects.all()}
    sys.addaudithook(_opened)  # (a hook stays for the process; it records only when asked)
    _OPENED = []
    try:
        outcome = offsite_push(actor=office.users["operator"], name="hitung")
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert outcome.ok, outcome.as_dict()
    payload = list(PushedObject.objects.filter(push=outcome.push, kind="payload"))
    assert len(payload) == outcome.push.objects_sent >= len(archive) + 4
    # Each payload object: one request, a PUT with its whole body once; nothing else names it.
    for obj in payload:
        named = [s for s in faults.seen if f"/{office.prefix}/{obj.key}" in s.target]
        assert [(s.method, s.status, s.body) for s in named] == [("PUT", 200, obj.size)], (
            obj.bag_path, named)
    # The rest of the push: the bucket check (2 GETs), the index and tags, then the seal
    # (6 PUTs): 8, whatever the number of documents.
    others = [s for s in faults.seen if "/data/" not in s.target]
    assert len(others) <= 8, [(s.method, s.target) for s in others]
    assert len(faults.seen) == len(payload) + len(others)
    # Each archive file opened once (read, checked against the register, encrypted or sent).
    for path in archive:
        assert opened.count(path) == 1, (path, opened.count(path))
    # and each object is as the server holds it: locked, with the SHA-256 it confirmed
    for obj in payload[:3]:
        head = raw.head_object(Bucket=office.bucket, Key=f"{office.prefix}/{obj.key}",
                               VersionId=obj.version_id, ChecksumMode="ENABLED")
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert obj.confirmed == "checksum"


def test_a_file_changed_in_size_since_it_was_measured_is_refused_before_it_is_sent(
        tmp_path: Path) -> None:
    from brankas.core.errors import IntegrityFailure
    from brankas.core.offsite.remote import _read_exactly

    f = tmp_path / "x.age"
    f.write_bytes(b"abc")
    assert _read_exactly(f, 3, "data/x") == b"abc"
    for size in (2, 4):
        with pytest.raises(IntegrityFailure) as err:
            _read_exactly(f, size, "data/x")
        assert err.value.code == "offsite_source_changed"


def test_a_push_s_completion_is_one_transaction(office, server) -> None:  # type: ignore[no-untyped-def]
    """s22: the push marked completed, the remote's last push and the audit entry saying
    so are written in one transaction, and so are the seal's record and the push's seal
    and audit head (one commit each: a no-change push's cost is its start-up and its
    commits), as its start is. (The test runs inside a transaction of its own: the push's
    is a savepoint in it, opened before the first write and still open at the last.)"""
    from django.db import connection

    from brankas.core.offsite import index as layout
    from brankas.web.offsite.models import Push, Remote
    from brankas.web.offsite.services import offsite_push, remote_add

    remote_add(actor=office.users["operator"], name="sekali", endpoint=server[
        "BRANKAS_TEST_S3_ENDPOINT"], bucket=office.bucket, prefix=office.prefix,
        retention_days=2)
    assert offsite_push(actor=office.users["operator"], name="sekali").ok
    seen: list[tuple[str, tuple[Any, ...], tuple[str, ...]]] = []

    def watch(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append((sql, tuple(params or ()), tuple(connection.savepoint_ids)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        outcome = offsite_push(actor=office.users["operator"], name="sekali")  # no change
    assert outcome.ok and outcome.push.objects_skipped > 0
    outside = seen[0][2]  # the push's first read: in no transaction of the push's own
    completed = next(i for i, (sql, params, _) in enumerate(seen)
                     if sql.startswith('UPDATE "offsite_push"') and Push.COMPLETED in params)
    last_push = next(i for i, (sql, _, _) in enumerate(seen)
                     if sql.startswith('UPDATE "offsite_remote" SET "last_push_at"'))
    audited = next(i for i, (sql, params, _) in enumerate(seen)
                   if sql.startswith('INSERT INTO "audit_auditevent"')
                   and "offsite.push" in params and "ok" in params)

    def one_transaction(first: int, last: int) -> None:
        """The queries from ``first`` to ``last`` in one transaction of the push's own (a
        savepoint in the test's; a bulk insert's own is no savepoint: None)."""
        own = seen[first][2][:len(outside) + 1]
        assert len(own) == len(outside) + 1 and own[-1] is not None, (outside, own)
        assert all(ids[:len(own)] == own for _, _, ids in seen[first:last + 1])

    assert completed < last_push < audited
    one_transaction(completed, audited)
    # the seal's record and the push's seal (its SHA-256 and audit head): one as well
    seal_record = next(i for i, (sql, params, _) in enumerate(seen)
                       if sql.startswith('INSERT INTO "offsite_pushedobject"')
                       and layout.SEAL in params)
    sealed = next(i for i, (sql, _, _) in enumerate(seen)
                  if sql.startswith('UPDATE "offsite_push" SET "audit_seq"'))
    assert seal_record < sealed < completed
    one_transaction(seal_record, sealed)
    remote = Remote.objects.get(name="sekali")
    assert remote.last_push_at == Push.objects.get(pk=outcome.push.pk).finished_at


def test_the_disk_s_readers_are_read_once_for_its_three_purposes(office) -> None:  # type: ignore[no-untyped-def]
    """s22: a push reads the readers of the registers, the snapshot and the audit segment
    once (``_disk_readers``): the same as asking ``recipients_for`` for each, with the
    holders' keys and without (every purpose of the three is written with the recovery
    key alone; none is refused)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brankas.web.keys.models import HolderKey
    from brankas.web.keys.selectors import recipients_for
    from brankas.web.offsite.services import DISK_PURPOSES, _disk_readers

    for holders in (True, False):
        with CaptureQueriesContext(connection) as once:
            readers = _disk_readers()
        assert readers == {p: recipients_for(purpose=p) for p in DISK_PURPOSES}
        assert [r.purpose for r in readers.values()] == list(DISK_PURPOSES)
        assert bool(readers[DISK_PURPOSES[0]].keys) is holders
        assert len(once.captured_queries) == 2  # the active keys, the office
        HolderKey.objects.all().delete()
