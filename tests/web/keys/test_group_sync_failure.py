"""Review of the grant's group recording (s19): the group's staged files are fsynced
together (in a helper thread beside the sealed values' steps, else by
``keep_rewrapped_many``). A file whose fsync fails (EIO: the disk lost the write) is not
durable, so it must never be published; but, as when each worker fsynced its own file,
that file alone fails (named, ``rewrap_failed``) and stays as it was, the rest of its
group is recorded, nothing is left in tmp/, and the grant goes on. The failing fsync is
injected on one staging file (the EIO a dying disk gives; real files, SQLite, age)."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

from brankas.core import crypto
from brankas.core.errors import BrankasError
from brankas.web.documents.models import Document
from brankas.web.keys import grants
from brankas.web.keys import rewrap as engine
from brankas.web.keys.grants import _all_files, key_grant
from brankas.web.keys.models import RewrapJob
from brankas.web.keys.selectors import Purpose, recipients_adding
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, open_doc, register

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="the fd's name is read from /proc")


def _eio_on(monkeypatch, nth: int, path: Path | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """fsync fails with EIO for the ``nth`` distinct staging file (``*.part``) fsynced,
    or for the staging file ``path``."""
    real_fsync = os.fsync
    seen: list[str] = []
    lock = threading.Lock()

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        if name.endswith(".part"):
            with lock:
                if name not in seen:
                    seen.append(name)
                hit = name == str(path) if path is not None else seen.index(name) == nth
            if hit:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def _staging(office) -> list[Path]:  # type: ignore[no-untyped-def]
    tmp = office.home / "tmp"
    return sorted(tmp.glob("*.part")) if tmp.exists() else []


def _unchanged(office, doc: Document) -> None:  # type: ignore[no-untyped-def]
    doc.refresh_from_db()
    assert doc.file_version == 1
    data = (office.home / doc.stored_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc.stored_sha256


@pytest.mark.parametrize("beside_sealed", [True, False])
def test_an_fsync_failing_for_one_file_fails_that_file_alone(office, monkeypatch,
                                                              beside_sealed):  # type: ignore[no-untyped-def]
    """Through ``key_grant``: the group's fsync in its thread (beside the sealed values'
    steps) or, once those are done, in ``keep_rewrapped_many``."""
    monkeypatch.setattr(grants, "KEEP_TOGETHER", 4)
    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1 if beside_sealed else 10_000)
    docs = [register(office, f"Disk Sekarat {i}") for i in range(8)]
    join_kabid2(office)
    _eio_on(monkeypatch, 1)
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert [f["error"] for f in summary.failed] == ["rewrap_failed"], summary.failed
    failed = summary.failed[0]["number"]
    assert summary.documents == len(docs) - 1
    assert _staging(office) == []
    for doc in docs:
        if doc.agenda == failed:
            _unchanged(office, doc)
        else:
            assert open_doc(office, "kabid2", doc.agenda, KABID2_PASSPHRASE)
    monkeypatch.undo()
    again = key_grant(actor=office.users["kabid"], to="kabid2",
                      passphrase=PASSPHRASES["kabid"])
    assert again.failed == [] and again.documents == 1
    assert open_doc(office, "kabid2", failed, KABID2_PASSPHRASE)


def test_keep_rewrapped_many_refuses_only_the_file_whose_fsync_failed(office, monkeypatch):  # type: ignore[no-untyped-def]
    docs = [register(office, f"Sinkron Gagal {i}") for i in range(3)]
    key2 = join_kabid2(office)
    recovery = crypto.parse_identity(office.recovery_identity)
    files = [f for f in _all_files() if f.object_id in {d.pk for d in docs}]
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=office.users["admin"],
                                   via="recovery", files_total=3, bytes_total=0,
                                   started_at=timezone.now())
    group = []
    for stored in files:
        readers = recipients_adding(list(stored.recipients), key2, purpose=Purpose.DOCUMENT)
        group.append((stored, engine.stage_file(stored, identities=[recovery],
                                                recipients=readers.age(), header_only=True,
                                                sync=False), readers))
    _eio_on(monkeypatch, -1, path=group[1][1].path)
    results = engine.keep_rewrapped_many(group, job=job, action="key.grant.file",
                                         actor="admin", detail={})
    assert [isinstance(r, BrankasError) for r in results] == [False, True, False]
    assert results[1].code == "rewrap_failed"  # type: ignore[union-attr]
    assert _staging(office) == []
    by_pk = {d.pk: d for d in docs}
    _unchanged(office, by_pk[files[1].object_id])
    for stored in (files[0], files[2]):
        doc = by_pk[stored.object_id]
        doc.refresh_from_db()
        assert doc.file_version == 2
    job.refresh_from_db()
    assert job.files_done == 2


def test_a_grant_failing_while_its_group_fsync_runs_leaves_nothing(office, monkeypatch):  # type: ignore[no-untyped-def]
    """The main thread fails (a sealed values' step: the database gone, say) while the
    fsync thread is still fsyncing the group: the grant stops with that error, its job is
    marked failed, no file of the group is published nor recorded, no staging file is
    left once the grant has returned, and a re-run completes."""
    from brankas.core import fsutil

    monkeypatch.setattr(grants, "KEEP_TOGETHER", 4)
    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1)
    docs = [register(office, f"Sela Gagal {i}") for i in range(8)]
    join_kabid2(office)
    in_fsync, release = threading.Event(), threading.Event()
    real_fsync_path = fsutil._fsync_path

    def slow_fsync_path(path: Path) -> None:
        if path.name.endswith(".part"):
            in_fsync.set()
            release.wait(10)
        real_fsync_path(path)

    real_steps = grants.rewrap_sealed_steps

    def steps(*args, **kwargs):  # type: ignore[no-untyped-def]
        for step in real_steps(*args, **kwargs):
            if in_fsync.is_set():
                threading.Timer(0.3, release.set).start()  # still fsyncing as this fails
                raise RuntimeError("the database went away")
            yield step
        # Every step taken before the fsync thread began the group's fsync (a loaded
        # machine: the thread not run yet): steps of nothing until it has, so that the
        # failure still comes while it fsyncs (the grant takes steps while it waits).
        deadline = time.monotonic() + 60
        while not in_fsync.is_set() and time.monotonic() < deadline:
            time.sleep(0.005)
            yield None
        if in_fsync.is_set():
            threading.Timer(0.3, release.set).start()
            raise RuntimeError("the database went away")

    monkeypatch.setattr(fsutil, "_fsync_path", slow_fsync_path)
    monkeypatch.setattr(grants, "rewrap_sealed_steps", steps)
    with pytest.raises(RuntimeError):
        key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert release.is_set()
    assert _staging(office) == []
    for doc in docs:
        _unchanged(office, doc)
    assert not any(p.name.endswith(".v2.pdf.age")
                   for p in (office.home / docs[0].stored_path).parent.iterdir())
    assert RewrapJob.objects.get().state == RewrapJob.FAILED
    monkeypatch.undo()
    again = key_grant(actor=office.users["kabid"], to="kabid2",
                      passphrase=PASSPHRASES["kabid"])
    assert again.failed == [] and again.documents == len(docs)
    for doc in docs:
        assert open_doc(office, "kabid2", doc.agenda, KABID2_PASSPHRASE)


def test_a_staged_file_removed_before_the_group_fsync_fails_alone(office):  # type: ignore[no-untyped-def]
    """A staging file removed from tmp/ under the grant (a cleaner, a hand) before the
    group's fsync: that file fails alone, named; the others of its group are recorded."""
    docs = [register(office, f"Hilang Di Tmp {i}") for i in range(3)]
    key2 = join_kabid2(office)
    recovery = crypto.parse_identity(office.recovery_identity)
    files = [f for f in _all_files() if f.object_id in {d.pk for d in docs}]
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=office.users["admin"],
                                   via="recovery", files_total=3, bytes_total=0,
                                   started_at=timezone.now())
    group = []
    for stored in files:
        readers = recipients_adding(list(stored.recipients), key2, purpose=Purpose.DOCUMENT)
        group.append((stored, engine.stage_file(stored, identities=[recovery],
                                                recipients=readers.age(), header_only=True,
                                                sync=False), readers))
    group[1][1].path.unlink()
    results = engine.keep_rewrapped_many(group, job=job, action="key.grant.file",
                                         actor="admin", detail={})
    assert [isinstance(r, BrankasError) for r in results] == [False, True, False]
    assert _staging(office) == []
    by_pk = {d.pk: d for d in docs}
    _unchanged(office, by_pk[files[1].object_id])
    job.refresh_from_db()
    assert job.files_done == 2
