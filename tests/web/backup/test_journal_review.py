"""Review of the snapshot journal (s17 review): defects found, each shown by a test."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from brankas.core.errors import BrankasError
from brankas.web.backup import journal
from brankas.web.backup.services import backup_run
from brankas.web.backup.snapshot import DISK_MODELS
from tests.web.backup.test_journal import _chain
from tests.web.backup.test_services import register
from tests.web.keys.supersede import supersede_document


def test_a_changed_document_writes_whole_registers_and_a_part_not_a_whole_snapshot_too(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    secret = register(office, "Operasi Senyap", "rahasia")
    backup_run(actor=operator, dest=disk, label="A")
    supersede_document(secret, identity=office.recovery_identity,
                       drop=[office.keys["kasi"]])
    second = backup_run(actor=operator, dest=disk)
    folder = disk / "data" / "backup" / second.run.folder
    names = {p.name for p in folder.iterdir()}
    assert "journal" in _chain(disk)["snapshot"]
    assert journal.JOURNAL in names and "register-biasa.csv" in names
    assert "database.json.age" not in names, names


needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="the guides' recipe is sh")


def _guide_recipe(disk: Path) -> str:
    """The register-joining commands of the disk's own restore guide, as printed."""
    lines = (disk / "RESTORE-GUIDE.txt").read_text("utf-8").splitlines()
    start = lines.index("    cd data/backup")
    end = next(i for i in range(start, len(lines)) if "register-biasa-semua.csv" in lines[i])
    return "\n".join(line[4:] for line in lines[start:end + 1]) + "\n"


@needs_sh
def test_the_guides_recipe_joins_the_register_once_after_a_run_cut_short(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A run cut short after its run files were committed (before its seal) leaves a
    ``register-biasa-tambahan.csv`` that the next run's part repeats (its rows follow the
    last *sealed* run): the guide's recipe must not count that folder."""
    import subprocess

    from brankas.core.disk.state import Hooks

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    docs = [register(office, "Surat satu")]
    backup_run(actor=operator, dest=disk, label="A")
    docs.append(register(office, "Surat dua"))
    runs: list[Any] = []

    def cut() -> None:  # the closing checkpoint (the seal), once the part is on the disk
        part = disk / "data" / "backup" / runs[0].folder / journal.JOURNAL
        if part.exists():
            raise OSError(5, "Input/output error")

    with pytest.raises(BrankasError):
        backup_run(actor=operator, dest=disk, hooks=Hooks(syncing=cut), on_start=runs.append)
    cut_short = disk / "data" / "backup" / runs[0].folder
    assert (cut_short / journal.REGISTER_BIASA_PART).exists()
    assert not (cut_short / "segel.json").exists()
    docs.append(register(office, "Surat tiga"))
    after = backup_run(actor=operator, dest=disk)
    # The run after it writes the registers whole (its part would repeat those rows).
    assert (disk / "data" / "backup" / after.run.folder / "register-biasa.csv").exists()
    subprocess.run(["sh", "-c", _guide_recipe(disk)], cwd=disk, check=True)
    joined = (disk / "register-biasa-semua.csv").read_text("utf-8-sig").splitlines()
    assert len(joined) == 1 + len(docs), joined
    for doc in docs:
        assert sum(doc.agenda in row for row in joined) == 1, (doc.agenda, joined)


@pytest.mark.slow  # nine backup runs of a 2 MiB register
def test_recover_holds_one_journal_part_in_memory_at_a_time(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A part that replaces the register (a document changed: a grant, an edit) is about
    as large as the base; a chain of such parts must not be held decrypted all at once
    (16 parts of a 500 MB register: 8 GB). Measured with tracemalloc (allocations, not
    time): the peak while a chain of 8 such parts is read is about that of a chain of 2,
    not 6 parts' size above it."""
    import tracemalloc

    from brankas.core import crypto
    from brankas.core.disk import seal as diskseal
    from brankas.core.disk.layout import RUNS_DIR
    from brankas.core.disk.reader import BagReader
    from brankas.web.backup.recover import choose_snapshot
    from brankas.web.keys.services import office_keys_trusted

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    big = register(office, "Surat dengan catatan panjang")
    size = 2 << 20
    identities = [crypto.parse_identity(office.recovery_identity)]

    def peak_of_recover_read() -> tuple[int, list[Any]]:
        reader = BagReader(disk)
        seals = diskseal.read_disk_seals(reader.dest, reader.entries,
                                         trusted=office_keys_trusted(),
                                         medium_id=reader.medium.medium_id,
                                         runs_dir=RUNS_DIR)
        tracemalloc.start()
        try:
            choice = choose_snapshot(reader, seals, identities, allow_older=False)
            return tracemalloc.get_traced_memory()[1], choice.data  # type: ignore[return-value]
        finally:
            tracemalloc.stop()

    backup_run(actor=operator, dest=disk, label="A")
    peaks = {}
    for i in range(8):
        big.notes = f"{i:02d}" + "x" * size  # a changed document: the register replaced
        big.save()
        register(office, f"Surat {i}")  # audited: the run must write the database
        backup_run(actor=operator, dest=disk)
        if i + 1 in (2, 8):
            peak, data = peak_of_recover_read()
            assert len(_chain(disk)["snapshot"]["journal"]) == i + 1
            notes = [o["fields"]["notes"] for o in data if o.get("model") ==
                     "documents.document" and o.get("pk") == big.pk]
            assert notes and notes[0].startswith(f"{i:02d}")
            peaks[i + 1] = peak
            del data
    # Held at once, the six further parts (2 MiB each) add 12 MiB to the peak.
    assert peaks[8] - peaks[2] < 3 * size, {k: v / size for k, v in peaks.items()}


def test_equipment_changes_between_parts_compose_to_the_full_snapshot(office) -> None:  # type: ignore[no-untyped-def]
    """Issue 17's tables (merged with the journal) have no change counter: every part
    holds them whole, so an item added, edited or retired between runs is not lost."""
    import datetime

    from django.utils import timezone

    from brankas.core.terms import Condition
    from brankas.web.equipment.models import Equipment, MaintenanceEntry
    from tests.web.backup.test_journal import BASE, _full, _part

    admin = office.users["operator"]
    register(office, "Surat satu")
    now = timezone.now()
    item = Equipment.objects.create(kind=Equipment._meta.get_field("kind").choices[0][0],
                                    name="Printer", condition=Condition.GOOD, created_by=admin,
                                    created_at=now)
    base, marks = _full(), journal.marks(1)
    item.name, item.retired_at = "Printer lama", now  # edited and retired
    item.save()
    MaintenanceEntry.objects.create(equipment=item, on=datetime.date(2026, 12, 1),
                                    actor=admin, work="Servis", condition_after=Condition.GOOD,
                                    recorded_at=now)
    assert journal.modes(marks) == {label: None for label in (*journal.TRACKED,
                                                                *journal.ROW_MARKED,
                                                                *journal.TIMED)}
    part = _part(marks, previous=None, folder="0002_x")
    tables = {t["model"] for t in json.loads(part)["models"]}
    assert {"equipment.Equipment", "equipment.MaintenanceEntry",
            "equipment.DiskHealth"} <= tables
    assert journal.compose(base, [(journal.Ref("0002_x", "b" * 64), part)], base_ref=BASE,
                           medium_id="m-1", allowed=DISK_MODELS) == _full()


def test_allow_older_falls_back_to_the_newest_usable_chain_not_the_base_alone(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The newest part damaged (same size: the manifest as it was): ``--allow-older``
    takes the chain the run before sealed (the base and the parts before the damaged
    one), not the base alone (which loses every run since the base)."""
    from brankas.core import crypto
    from brankas.core.disk import seal as diskseal
    from brankas.core.disk.layout import RUNS_DIR
    from brankas.core.disk.reader import BagReader
    from brankas.web.backup.recover import choose_snapshot
    from brankas.web.keys.services import office_keys_trusted

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    register(office, "Surat satu")
    base = backup_run(actor=operator, dest=disk, label="A")
    second = register(office, "Surat dua")
    middle = backup_run(actor=operator, dest=disk)
    register(office, "Surat tiga")
    newest = backup_run(actor=operator, dest=disk)
    assert len(_chain(disk)["snapshot"]["journal"]) == 2
    part = disk / "data" / "backup" / newest.run.folder / journal.JOURNAL
    data = bytearray(part.read_bytes())
    data[-1] ^= 1
    part.write_bytes(bytes(data))
    reader = BagReader(disk)
    seals = diskseal.read_disk_seals(reader.dest, reader.entries,
                                     trusted=office_keys_trusted(),
                                     medium_id=reader.medium.medium_id, runs_dir=RUNS_DIR)
    identities = [crypto.parse_identity(office.recovery_identity)]
    with pytest.raises(BrankasError) as err:
        choose_snapshot(reader, seals, identities, allow_older=False)
    assert err.value.code == "recover_newest_unusable"
    assert f"lose runs {newest.run.folder};" in err.value.message(), err.value.message()
    assert base.run.folder not in err.value.message()
    choice = choose_snapshot(reader, seals, identities, allow_older=True)
    assert choice.folder == middle.run.folder, (choice.folder, choice.passed_over)
    pks = [o["pk"] for o in choice.data if o.get("model") == "documents.document"]
    assert second.pk in pks and len(pks) == 2


@needs_sh
def test_a_run_sealed_but_not_recorded_leaves_no_register_rows_twice(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A run killed after its seal reached the disk but before the office recorded it
    complete (the next run marks it failed, "interrupted"): the disk holds its sealed
    register part; the next run leans on the run before it and must not repeat those
    rows in a part of its own (the guides' recipe would join them twice)."""
    import subprocess

    from brankas.web.backup.models import BackupRun

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    docs = [register(office, "Surat satu")]
    backup_run(actor=operator, dest=disk, label="A")
    docs.append(register(office, "Surat dua"))
    killed = backup_run(actor=operator, dest=disk)
    assert (disk / "data" / "backup" / killed.run.folder / "segel.json").exists()
    # What the kill leaves in the office's database (``_record_completed`` never ran).
    BackupRun.objects.filter(pk=killed.run.pk).update(
        status=BackupRun.FAILED, error="interrupted", sealed=False, snapshot=False)
    docs.append(register(office, "Surat tiga"))
    after = backup_run(actor=operator, dest=disk)
    assert (disk / "data" / "backup" / after.run.folder / "register-biasa.csv").exists()
    subprocess.run(["sh", "-c", _guide_recipe(disk)], cwd=disk, check=True)
    joined = (disk / "register-biasa-semua.csv").read_text("utf-8-sig").splitlines()
    assert len(joined) == 1 + len(docs), joined
    for doc in docs:
        assert sum(doc.agenda in row for row in joined) == 1, (doc.agenda, joined)
