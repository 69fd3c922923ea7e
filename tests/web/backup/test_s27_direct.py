"""The run's own files written straight onto the disk (s27, ``runfiles.RunFiles`` ``disk``):
the snapshot, the registers, the control list and the audit segments are written into the
disk's staging folder, encrypted and hashed on the way, and listed there once durable and
read back, never copied from the computer's own disk (which then needs no room for them).
What the disk ends up with is what it had before; a run that fails leaves nothing of them
on either disk; a file that is not the one written is never listed."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import bag as bagmod
from brankas.core.disk import format as fmt
from brankas.core.disk.bag import PayloadItem
from brankas.core.errors import BrankasError, IntegrityFailure
from brankas.web.audit.services import audit_record
from brankas.web.backup import registers, runfiles
from brankas.web.backup.services import backup_run
from tests.web.backup.test_s23_early_segment import early  # noqa: F401
from tests.web.backup.test_services import register

# The run's own files, by the end of their payload path.
RUN_FILES = ("database.json.age", "register-lengkap.csv.age", "register-biasa.csv",
             "daftar-kontrol.csv", "daftar-kontrol.json", ".jsonl.age")


def _spy_items(monkeypatch: pytest.MonkeyPatch, office) -> list[tuple[str, str | None, list[str]]]:  # type: ignore[no-untyped-def]
    """Every item the run hands the bag: its payload path, where it was written (``staged``)
    and, at that moment, the files in the instance's own temporary folder."""
    seen: list[tuple[str, str | None, list[str]]] = []
    real = bagmod.Bag.add_files

    def add_files(self, items, **kwargs):  # type: ignore[no-untyped-def]
        given = list(items() if callable(items) else items)
        tmp = sorted(p.name for p in (office.home / "tmp").iterdir())
        seen.extend((i.path, i.staged, tmp) for i in given)
        return real(self, given, **kwargs)

    monkeypatch.setattr(bagmod.Bag, "add_files", add_files)
    return seen


def test_the_runs_own_files_are_written_on_the_disk_and_listed_not_copied(
        transactional_db, office, tmp_path: Path, early, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for i in range(3):
        register(office, f"Surat nomor {i}")
        register(office, f"Surat rahasia {i}", classification="rahasia")
    for i in range(20):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")
    seen = _spy_items(monkeypatch, office)
    disk = tmp_path / "disk"
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    assert outcome.run.status == "completed"
    assert len(early) == 1 and not early[0].fell_back  # the child wrote its segment there too

    staging = str(disk / fmt.STAGING)
    run_files = [(p, s) for p, s, _ in seen if p.endswith(RUN_FILES)]
    # Every one of them (the child's segment and the close's, the snapshot, both registers,
    # both control lists) was written in the disk's staging folder; nothing else was.
    assert {next(e for e in RUN_FILES if p.endswith(e)) for p, _ in run_files} == set(RUN_FILES)
    assert all(s is not None and os.path.dirname(s) == staging for _, s in run_files), run_files
    assert all(s is None for p, s, _ in seen if not p.endswith(RUN_FILES))
    # The instance's own temporary folder held only the run's lists and its lock.
    for _, _, tmp in seen:
        assert all(n.endswith((".lock", "documents.jsonl.part", "carried.jsonl.part"))
                   for n in tmp if n.startswith("backup-")), tmp

    # The disk is what it was: a valid bag, each file listed with the hash of its bytes,
    # the staging folder empty but for the lock, made as the document copies are.
    bagit.Bag(str(disk)).validate()
    manifest = dict(line.split("  ", 1)[::-1] for line in
                    (disk / "manifest-sha256.txt").read_text().splitlines())
    for path, _ in run_files:
        data = (disk / "data" / path).read_bytes()
        assert manifest[f"data/{path}"] == hashlib.sha256(data).hexdigest()
    assert [p.name for p in (disk / fmt.STAGING).iterdir()] == [fmt.LOCK]
    if os.name == "posix":
        doc = next(p for p in (disk / "data" / "arsip").rglob("*") if p.is_file())
        for path, _ in run_files:
            assert stat.S_IMODE((disk / "data" / path).stat().st_mode) == stat.S_IMODE(
                doc.stat().st_mode), path
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]


def test_a_run_failing_while_it_writes_on_the_disk_leaves_nothing_of_it(
        office, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The disk failing under the control list (the last file the run writes there): a
    clear disk error, a bag that validates, nothing of the run's files left in the disk's
    staging folder or in the instance's; the next run completes."""
    for i in range(3):
        register(office, f"Surat nomor {i}")

    def eio(self, data):  # type: ignore[no-untyped-def]
        raise OSError(5, "Input/output error")

    def failing(out_csv, out_json, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The disk's own write fails (s27 review: an OSError of the code that writes is
        # not the disk's, and is no longer reported as the disk's).
        monkeypatch.setattr(runfiles._WholeWrites, "_write_all", eio)
        out_csv.write(b"nomor;agenda\n")
        out_csv.flush()

    monkeypatch.setattr(registers, "control_write", failing)
    disk = tmp_path / "disk"
    with pytest.raises(BrankasError) as info:
        backup_run(actor=office.users["operator"], dest=disk)
    assert info.value.code.startswith("backup_"), info.value.code
    if (disk / "bagit.txt").exists():  # a new disk has none until its first run completes
        bagit.Bag(str(disk)).validate()
    assert [p.name for p in (disk / fmt.STAGING).iterdir()] == [fmt.LOCK]
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]

    monkeypatch.undo()
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    assert outcome.run.status == "completed"
    bagit.Bag(str(disk)).validate()


def test_a_written_file_outside_the_staging_folder_or_not_as_written_is_never_listed(
        tmp_path: Path) -> None:
    """``PayloadItem.staged`` names a file the caller wrote in this disk's staging folder:
    one elsewhere (another folder, a file of the computer's) is refused; one changed in
    size, or swapped for a link, is never listed; one rewritten with other bytes of the
    same size fails its read-back."""
    data = b"%PDF-1.4 isi berkas\n" * 50
    digest = hashlib.sha256(data).hexdigest()
    outside = tmp_path / "elsewhere.part"
    outside.write_bytes(data)
    with bagmod.open_or_create(tmp_path / "disk", label="T", organization="O",
                               software="t") as bag:
        with pytest.raises(ValueError, match="staging folder"):
            bag.add_files([PayloadItem("arsip/a.pdf", _unused, len(data), digest,
                                       staged=str(outside))])
        # Nor the staging folder's own files (its lock), nor a name this open never gave.
        lock = tmp_path / "disk" / fmt.STAGING / fmt.LOCK
        lock_bytes = lock.read_bytes()
        for name in (str(lock), str(lock.with_name("other-00000001.part"))):
            with pytest.raises(ValueError, match="staging folder"):
                bag.add_files([PayloadItem("arsip/b.pdf", _unused, len(lock_bytes),
                                           hashlib.sha256(lock_bytes).hexdigest(),
                                           staged=name)])
        assert lock.read_bytes() == lock_bytes and not bag.has("arsip/b.pdf")

        def written(body: bytes) -> str:
            name = bag.staging_file(".part")
            with open(name, "xb") as fh:
                fh.write(body)
            return name

        cases = {
            "shorter": written(data[:-1]),
            "other bytes": written(data[:-1] + b"?"),
        }
        link = bag.staging_file(".part")
        if hasattr(os, "symlink"):
            os.symlink(outside, link)
            cases["a link"] = link
        for why, name in cases.items():
            with pytest.raises(IntegrityFailure) as info:
                bag.add_files([PayloadItem(f"arsip/{why}.pdf", _unused, len(data), digest,
                                           staged=name)])
            assert info.value.code == "backup_readback_mismatch", why
            assert not bag.has(f"arsip/{why}.pdf"), why
        good = written(data)
        result = bag.add_files([PayloadItem("arsip/ok.pdf", _unused, len(data), digest,
                                            staged=good)])
        assert result.added == ("arsip/ok.pdf",)
    assert outside.read_bytes() == data  # never moved, never removed
    bagit.Bag(str(tmp_path / "disk")).validate()


def _unused():  # type: ignore[no-untyped-def]
    raise AssertionError("a file written on the disk is never read from its source")
