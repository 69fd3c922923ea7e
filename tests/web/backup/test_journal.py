"""The snapshot journal (``web/backup/journal.py``): a base snapshot and the parts after it,
composed, are exactly the full snapshot of the moment the last part was read, whatever
happened between (rows added, changed, deleted; a grant moving copies); a backup writes
parts once the disk's snapshot is large enough, and recover reads them."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from brankas.core import crypto
from brankas.core.disk import seal as diskseal
from brankas.core.disk.format import read_payload_manifest
from brankas.core.errors import SetupError
from brankas.web.backup import journal
from brankas.web.backup.models import BackupCopy, BackupRun, Medium
from brankas.web.backup.services import backup_run
from brankas.web.backup.snapshot import DISK_MODELS, snapshot_write
from tests.web.backup.test_services import register
from tests.web.keys.supersede import supersede_document

BASE = journal.Ref("0001_x", "a" * 64)


def _full() -> list[dict[str, Any]]:
    out = io.BytesIO()
    snapshot_write(out, labels=DISK_MODELS)
    return json.loads(out.getvalue())


def _part(marks: dict[str, Any], *, previous: journal.Ref | None, folder: str) -> bytes:
    out = io.BytesIO()
    journal.part_write(out, labels=DISK_MODELS, base=BASE, previous=previous,
                       run_folder=folder, medium_id="m-1", table_modes=journal.modes(marks))
    return out.getvalue()


def _medium() -> Medium:
    from django.utils import timezone

    now = timezone.now()
    return Medium.objects.create(medium_id="m-1", label="A", first_used_at=now,
                                 last_used_at=now)


def test_a_base_and_its_parts_compose_to_the_full_snapshot_of_that_moment(office) -> None:  # type: ignore[no-untyped-def]
    docs = [register(office, f"Surat nomor {i}") for i in range(3)]
    secret = register(office, "Operasi Senyap", "rahasia")
    medium = _medium()
    BackupCopy.objects.bulk_create([BackupCopy(document=d, medium=medium) for d in docs])
    base, marks = _full(), journal.marks(1)
    # Part 1: only rows added (documents and copies): appended after the previous max.
    more = [register(office, f"Surat tambahan {i}") for i in range(2)]
    BackupCopy.objects.bulk_create([BackupCopy(document=d, medium=medium) for d in more])
    modes = journal.modes(marks)
    from django.db import connection

    if connection.vendor == "sqlite":  # rows only added: the rows after the previous max
        assert modes["documents.Document"] == (journal.APPEND, more[0].pk - 1)
    else:  # PostgreSQL counts every write: the table whole
        assert modes["documents.Document"] == (journal.REPLACE, 0)
    part1, ref1 = _part(marks, previous=None, folder="0002_x"), journal.Ref("0002_x", "b" * 64)
    assert json.loads(part1)["models"][0]["mode"] == journal.REPLACE  # an untracked table
    moment1, marks = _full(), journal.marks(1)
    composed = journal.compose(base, [(ref1, part1)], base_ref=BASE, medium_id="m-1",
                               allowed=DISK_MODELS)
    assert composed == moment1
    # Part 2: a document changed, a copy deleted (a grant moves them): whole tables.
    secret.subject = "Diubah"
    secret.save()
    BackupCopy.objects.filter(document=docs[0]).delete()
    assert journal.modes(marks)["backup.BackupCopy"] == (journal.REPLACE, 0)
    part2 = _part(marks, previous=ref1, folder="0003_x")
    ref2 = journal.Ref("0003_x", "c" * 64)
    moment2, marks = _full(), journal.marks(1)
    assert journal.compose(base, [(ref1, part1), (ref2, part2)], base_ref=BASE,
                           medium_id="m-1", allowed=DISK_MODELS) == moment2
    # Part 3: nothing tracked changed: those tables are left out.
    assert journal.modes(marks) == {label: None for label in (*journal.TRACKED,
                                                                *journal.ROW_MARKED,
                                                                *journal.TIMED)}
    part3 = _part(marks, previous=ref2, folder="0004_x")
    assert {t["model"] for t in json.loads(part3)["models"]}.isdisjoint(journal.TRACKED)
    ref3 = journal.Ref("0004_x", "d" * 64)
    assert journal.compose(base, [(ref1, part1), (ref2, part2), (ref3, part3)],
                           base_ref=BASE, medium_id="m-1", allowed=DISK_MODELS) == _full()


def test_parts_out_of_place_or_malformed_are_refused(office) -> None:  # type: ignore[no-untyped-def]
    register(office, "Surat satu")
    base, marks = _full(), journal.marks(1)
    register(office, "Surat dua")
    part1, ref1 = _part(marks, previous=None, folder="0002_x"), journal.Ref("0002_x", "b" * 64)
    marks = journal.marks(1)
    register(office, "Surat tiga")
    part2, ref2 = _part(marks, previous=ref1, folder="0003_x"), journal.Ref("0003_x", "c" * 64)

    def refused(parts: list[tuple[journal.Ref, bytes]], medium: str = "m-1") -> str:
        with pytest.raises(SetupError) as err:
            journal.compose(base, parts, base_ref=BASE, medium_id=medium, allowed=DISK_MODELS)
        assert err.value.code == "recover_snapshot_invalid"
        return err.value.message()

    assert "its previous is" in refused([(ref2, part2), (ref1, part1)])  # reordered
    assert "its previous is" in refused([(ref2, part2)])  # the first one missing
    assert "its run is" in refused([(ref1, part2.replace(b"0003_x", b"0009_x", 1)),
                                    (ref2, part2)])  # another run's part under this name
    assert "its medium_id is" in refused([(ref1, part1)], medium="m-2")  # another disk's
    assert "its base is" in refused([(ref1, part1.replace(b"a" * 64, b"e" * 64, 1))])
    body = json.loads(part1)
    body["models"].append({"model": "auth.Permission", "mode": "replace", "after": 0,
                           "objects": []})
    assert "not a Brankas record" in refused([(ref1, json.dumps(body).encode())])
    body = json.loads(part1)
    doc = next(t for t in body["models"] if t["model"] == "documents.Document")
    doc["mode"], doc["after"] = journal.APPEND, 0  # rows "added" over the base's own
    assert "do not follow" in refused([(ref1, json.dumps(body).encode())])
    assert "not a journal part" in refused([(ref1, b'{"format": "x"}')])
    assert "journal part of run 0002_x" in refused([(ref1, b"\xff")])


def _chain(disk: Path) -> dict[str, Any]:
    newest = sorted((disk / "data" / "backup").iterdir())[-1]
    seal = diskseal.parse_seal((newest / diskseal.SEAL).read_bytes())
    return seal.statement


def test_backups_write_parts_once_the_snapshot_is_large_and_recover_composes_them(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0,
                                           journal_max_parts=2)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    register(office, "Surat satu")
    backup_run(actor=operator, dest=disk, label="A")  # full: the base
    first = _chain(disk)
    assert "journal" not in first["snapshot"] and first[journal.MARKS_KEY]["tables"]
    new = register(office, "Surat dua")
    second = backup_run(actor=operator, dest=disk)
    folder = disk / "data" / "backup" / second.run.folder
    assert {p.name for p in folder.iterdir()} >= {
        journal.JOURNAL, journal.REGISTER_BIASA_PART, journal.REGISTER_FULL_PART}
    assert not (folder / "database.json.age").exists()
    # The register part holds the new document alone (header and one row).
    rows = (folder / journal.REGISTER_BIASA_PART).read_text("utf-8-sig").splitlines()
    assert len(rows) == 2 and new.agenda in rows[1]
    named = _chain(disk)["snapshot"]
    assert named["base"] == [first["snapshot"]["folder"], first["snapshot"]["sha256"]]
    assert named["journal"] == [[second.run.folder, read_payload_manifest(disk)[
        f"backup/{second.run.folder}/{journal.JOURNAL}"]]]
    identity = [crypto.parse_identity(office.recovery_identity)]
    part = json.loads(crypto.decrypt_bytes((folder / journal.JOURNAL).read_bytes(), identity))
    tables = {t["model"]: t for t in part["models"]}
    assert tables["documents.Document"]["mode"] == journal.APPEND
    assert [o["pk"] for o in tables["documents.Document"]["objects"]] == [new.pk]
    # A grant moves a document's copies: the whole copies table in the next part.
    secret = register(office, "Operasi Senyap", "rahasia")
    backup_run(actor=operator, dest=disk)
    supersede_document(secret, identity=office.recovery_identity,
                       drop=[office.keys["kasi"]])
    third = backup_run(actor=operator, dest=disk)  # the chain at its length: full again
    assert "journal" not in _chain(disk)["snapshot"]
    assert (disk / "data" / "backup" / third.run.folder / "database.json.age").exists()
    assert BackupRun.objects.filter(snapshot=True).count() == 4


def test_a_chain_with_a_part_gone_is_written_whole_again(office, settings,
                                                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    register(office, "Surat satu")
    backup_run(actor=operator, dest=disk, label="A")
    register(office, "Surat dua")
    second = backup_run(actor=operator, dest=disk)
    part = disk / "data" / "backup" / second.run.folder / journal.JOURNAL
    part.write_bytes(part.read_bytes()[:-10])  # cut short (the manifest left as it was)
    register(office, "Surat tiga")
    third = backup_run(actor=operator, dest=disk)
    # The chain's part is not on the disk as sealed (cut short; the manifest as it was): the
    # run writes a whole snapshot, not a part that leans on it.
    named = _chain(disk)["snapshot"]
    assert "journal" not in named and named["folder"] == third.run.folder
