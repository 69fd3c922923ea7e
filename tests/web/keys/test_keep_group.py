"""``keep_rewrapped_many``: several staged files recorded in one transaction (a grant's
group). Each recorded file's old version becomes a ``SupersededFile`` whose
``SupersededCopy`` rows are exactly the disks that held it (a document's ``BackupCopy``
rows, a letter's completed runs); a file whose record changed meanwhile is refused
without anything of it written (its record, copies and old file as they were), and the
others of the group are recorded. Real SQLite, real files, real age."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from brankas.core import crypto
from brankas.core.errors import Conflict
from brankas.core.register.intake import InputFile
from brankas.web.backup.models import BackupCopy
from brankas.web.backup.services import backup_run
from brankas.web.documents.models import Document
from brankas.web.keys import rewrap as engine
from brankas.web.keys.grants import _all_files
from brankas.web.keys.models import RewrapJob, SupersededCopy, SupersededFile
from brankas.web.keys.selectors import Purpose, recipients_adding
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create
from tests.conftest import make_pdf
from tests.web.keys.test_grants import join_kabid2, register


def test_a_group_moves_each_files_own_disk_copies_and_refuses_a_changed_one(
        office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    on_both = [register(office, f"Dua Disk {i}") for i in range(3)]
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk-a", label="A")
    req = request_create(actor=office.users["kadis"], subject="Berita rahasia",
                         classification="rahasia", addressee="Gubernur",
                         files=[InputFile.from_bytes("s.pdf", make_pdf(text="surat"))])
    on_one = register(office, "Satu Disk")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk-b", label="B")
    on_none = register(office, "Belum Dicadangkan")
    key2 = join_kabid2(office)
    disks = {d.pk: set(BackupCopy.objects.filter(document=d).values_list("medium_id",
                                                                         flat=True))
             for d in [*on_both, on_one, on_none]}
    assert [len(disks[d.pk]) for d in [*on_both, on_one, on_none]] == [2, 2, 2, 1, 0]

    recovery = crypto.parse_identity(office.recovery_identity)
    files = list(_all_files())
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=office.users["admin"],
                                   via="recovery", files_total=len(files),
                                   bytes_total=sum(f.size for f in files),
                                   started_at=timezone.now())
    group = []
    for stored in files:
        readers = recipients_adding(list(stored.recipients), key2, purpose=(
            Purpose.DOCUMENT if stored.kind == engine.DOCUMENT else Purpose.LETTER))
        staged = engine.stage_file(stored, identities=[recovery], recipients=readers.age(),
                                   header_only=True)
        group.append((stored, staged, readers))
    # The second document's record changes after it was staged (another change meanwhile).
    changed = on_both[1]
    Document.objects.filter(pk=changed.pk).update(stored_sha256="0" * 64)

    results = engine.keep_rewrapped_many(group, job=job, action="key.grant.file",
                                         actor="admin", detail={})

    by_number = {stored.number: result for (stored, _s, _r), result in zip(group, results,
                                                                            strict=True)}
    assert isinstance(by_number[changed.agenda], Conflict)
    # the one refused: nothing of it written
    assert not SupersededFile.objects.filter(kind="document", object_id=changed.pk).exists()
    assert set(BackupCopy.objects.filter(document=changed).values_list(
        "medium_id", flat=True)) == disks[changed.pk]
    changed.refresh_from_db()
    assert changed.file_version == 1 and (office.home / changed.stored_path).exists()
    assert not any(p.name.endswith(".v2.pdf.age") and changed.agenda in p.name
                   for p in (office.home / changed.stored_path).parent.iterdir())
    # the others: each old version superseded, with exactly the disks that held it
    for doc in [on_both[0], on_both[2], on_one, on_none]:
        doc.refresh_from_db()
        assert doc.file_version == 2 and key2.fingerprint in doc.recipients
        old = SupersededFile.objects.get(kind="document", object_id=doc.pk)
        assert old.job_id == job.pk and not (office.home / old.path).exists()
        assert set(SupersededCopy.objects.filter(superseded=old).values_list(
            "medium_id", flat=True)) == disks[doc.pk]
        assert not BackupCopy.objects.filter(document=doc).exists()
    req.refresh_from_db()
    assert req.letter_version == 2
    letter_old = SupersededFile.objects.get(kind="letter", object_id=req.pk)
    # the letter was made after disk A's run and before disk B's: disk B holds it
    assert list(SupersededCopy.objects.filter(superseded=letter_old).values_list(
        "medium__label", flat=True)) == ["B"]
    assert SendRequest.objects.get(pk=req.pk).letter_path.endswith(".v2.pdf.age")
    job.refresh_from_db()
    assert job.files_done == len(files) - 1


def test_staged_files_not_synced_are_fsynced_before_they_are_published(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A grant's workers leave the fsync to the recording (``sync=False``): each such
    staging file is fsynced before it gets its name in the archive, and a file staged
    with its fsync is not fsynced again."""
    import os

    from brankas.core import fsutil

    docs = [register(office, f"Sinkron {i}") for i in range(3)]
    key2 = join_kabid2(office)
    recovery = crypto.parse_identity(office.recovery_identity)
    files = [f for f in _all_files() if f.object_id in {d.pk for d in docs}]
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=office.users["admin"],
                                   via="recovery", files_total=3, bytes_total=0,
                                   started_at=timezone.now())
    group = []
    for i, stored in enumerate(files):
        readers = recipients_adding(list(stored.recipients), key2, purpose=Purpose.DOCUMENT)
        group.append((stored, engine.stage_file(stored, identities=[recovery],
                                                recipients=readers.age(), header_only=True,
                                                sync=i == 0), readers))
    assert [staged.synced for _f, staged, _r in group] == [True, False, False]
    inodes = {staged.path.stat().st_ino: stored.number for stored, staged, _r in group}
    synced: list[int] = []
    published: list[str] = []
    real_fsync, real_publish = os.fsync, fsutil.publish

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    def publish(staged, final, **kwargs):  # type: ignore[no-untyped-def]
        number = inodes[staged.stat().st_ino]
        published.append(number)
        if number != files[0].number:  # staged without its fsync: fsynced by now
            assert staged.stat().st_ino in synced, number
        return real_publish(staged, final, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(fsutil, "publish", publish)
    results = engine.keep_rewrapped_many(group, job=job, action="key.grant.file",
                                         actor="admin", detail={})
    assert not any(isinstance(r, Exception) for r in results)
    assert published == [f.number for f in files]
    staged_synced = [inodes[i] for i in synced if i in inodes]
    assert sorted(staged_synced) == sorted(f.number for f in files[1:])  # not the first again


def test_a_grant_publishes_only_files_fsynced_after_they_were_written(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Through ``key_grant`` (worker threads, copies made ahead, the group's fsync beside
    the sealed values' steps): every new file was fsynced after its last write and before
    it got its name in the archive; every document then opens for the grantee."""
    import os

    from brankas.core import fsutil
    from brankas.core.keyring import rewrap as core_rewrap
    from brankas.web.keys import grants
    from brankas.web.keys.grants import key_grant
    from tests.conftest import PASSPHRASES
    from tests.web.keys.test_grants import KABID2_PASSPHRASE, open_doc

    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1)
    monkeypatch.setattr(grants, "KEEP_TOGETHER", 3)
    docs = [register(office, f"Urutan {i}") for i in range(7)]
    join_kabid2(office)
    events: list[tuple[str, int]] = []  # ("write" | "sync", inode), in order
    real_fsync, real_publish = os.fsync, fsutil.publish
    real_writeback = core_rewrap.start_writeback

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(("sync", os.fstat(fd).st_ino))

    def writeback(fd: int, offset: int, length: int) -> None:  # after each write
        events.append(("write", os.fstat(fd).st_ino))
        real_writeback(fd, offset, length)

    published: list[int] = []

    def publish(staged, final, **kwargs):  # type: ignore[no-untyped-def]
        inode = staged.stat().st_ino
        mine = [kind for kind, ino in events if ino == inode]
        assert "sync" in mine and mine[-1] == "sync", (final.name, mine)
        published.append(inode)
        return real_publish(staged, final, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(core_rewrap, "start_writeback", writeback)
    monkeypatch.setattr(fsutil, "publish", publish)
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert summary.failed == [] and summary.documents == len(docs) == len(published)
    assert summary.sealed > 0
    for doc in docs:
        assert open_doc(office, "kabid2", doc.agenda, KABID2_PASSPHRASE)
