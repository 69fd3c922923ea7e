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
