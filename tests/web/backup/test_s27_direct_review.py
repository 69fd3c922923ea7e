"""Review of s27 (the run's own files written straight onto the disk): what a hostile
or failing disk can do to them between their writing and their listing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import bag as bagmod
from brankas.core.disk import format as fmt
from brankas.core.disk.bag import PayloadItem
from brankas.core.errors import BrankasError, IntegrityFailure
from brankas.web.backup import runfiles
from tests.tmpfs import leave_free, mount_tmpfs


def _open(dest: Path) -> bagmod.Bag:
    return bagmod.open_or_create(dest, label="T", organization="O", software="t")


def _staging_left(dest: Path) -> list[str]:
    return sorted(p.name for p in (dest / fmt.STAGING).iterdir() if p.name != fmt.LOCK)


def test_a_file_cut_short_by_a_full_disk_is_a_full_disk(tmp_path: Path) -> None:
    """The disk fills during the last write of a file (``write`` takes part of it, as
    Linux does when a write only partly fits): the run says the disk is full, not that a
    file it wrote reads back wrong; and the record never names bytes that are not there."""
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "1m")
    try:
        dest = mnt / "disk"
        with _open(dest) as bag, runfiles.RunFiles(tmp_path / "home-tmp", disk=bag) as files:
            leave_free(mnt, 8)  # 32 KiB free; the file is 96 KiB, written in one go
            with pytest.raises(BrankasError) as info, files.write("control.csv") as (out, done):
                out.write(os.urandom(96 * 1024))
            assert info.value.code == "backup_disk_full"
            assert done == []
            (mnt / "filler").unlink()
        assert _staging_left(dest) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_written_file_is_read_back_even_where_copies_are_not(tmp_path: Path) -> None:
    """``add_files(verify_after_write=False)`` skips the read-back of the copies the bag
    makes itself (it hashed their source); a file the caller wrote into the staging folder
    was never read by the bag at all: its bytes are still read back before it is listed,
    and one rewritten with other bytes of the same size is refused."""
    data = b"isi daftar kontrol\n" * 40
    digest = hashlib.sha256(data).hexdigest()
    dest = tmp_path / "disk"
    with _open(dest) as bag:
        name = bag.staging_file(".part")
        with open(name, "xb") as fh:
            fh.write(data[:-1] + b"?")  # not the bytes hashed: the same size
        with pytest.raises(IntegrityFailure) as info:
            bag.add_files([PayloadItem("arsip/k.csv", _unused, len(data), digest,
                                       staged=name)], verify_after_write=False)
        assert info.value.code == "backup_readback_mismatch"
        assert not bag.has("arsip/k.csv")
    assert _staging_left(dest) == []
    bagit.Bag(str(dest)).validate()


def _unused():  # type: ignore[no-untyped-def]
    raise AssertionError("a file written on the disk is never read from its source")


@pytest.mark.parametrize("which", ["database.json.age", "register-lengkap.csv.age",
                                   "daftar-kontrol.csv", ".jsonl.age"])
def test_the_disk_filling_up_under_each_run_file(
        office, tmp_path: Path, monkeypatch, which: str) -> None:  # type: ignore[no-untyped-def]
    """A real disk (tmpfs) left with a few pages free just before the run writes one of its
    own files there: ``backup_disk_full``, a bag that validates, nothing of the run left
    in either staging folder; the disk given room again, the next run completes."""
    from brankas.web.audit.services import audit_record
    from brankas.web.backup.services import backup_run
    from tests.web.backup.test_services import register

    for i in range(3):
        register(office, f"Surat nomor {i}")
    for i in range(400):
        audit_record(actor="operator", action="document.open", target=f"K-{i:040d}")
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "4m")
    try:
        real = runfiles.RunFiles.write
        filled: list[str] = []

        def write(self, name, **kwargs):  # type: ignore[no-untyped-def]
            if name.endswith(which) and not filled:
                filled.append(name)
                leave_free(mnt, 2)
            return real(self, name, **kwargs)

        monkeypatch.setattr(runfiles.RunFiles, "write", write)
        dest = mnt / "disk"
        with pytest.raises(BrankasError) as info:
            backup_run(actor=office.users["operator"], dest=dest)
        assert filled, "the file was never written"
        assert info.value.code == "backup_disk_full", info.value
        if (dest / "bagit.txt").exists():
            bagit.Bag(str(dest)).validate()
        assert _staging_left(dest) == []
        assert not [p.name for p in (office.home / "tmp").iterdir()
                    if p.name.startswith("backup-")]
        (mnt / "filler").unlink()
        monkeypatch.setattr(runfiles.RunFiles, "write", real)
        assert backup_run(actor=office.users["operator"], dest=dest).run.status == "completed"
        bagit.Bag(str(dest)).validate()
        assert _staging_left(dest) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("which", ["database.json.age", "register-biasa.csv",
                                   "daftar-kontrol.json", ".jsonl.age"])
def test_the_disk_pulled_while_a_run_file_is_written(
        office, tmp_path: Path, monkeypatch, which: str) -> None:  # type: ignore[no-untyped-def]
    """The disk pulled (its folder renamed at once) while the run writes one of its own
    files there: ``backup_disk_gone``, never a traceback; plugged back, the next run sweeps
    what the pulled one left, completes, and the bag validates."""
    import contextlib

    from brankas.web.backup.services import backup_run
    from tests.web.backup.test_services import register

    for i in range(3):
        register(office, f"Surat nomor {i}")
    dest, away = tmp_path / "disk", tmp_path / "pulled"
    real = runfiles.RunFiles.write
    pulled: list[str] = []

    @contextlib.contextmanager
    def write(self, name, **kwargs):  # type: ignore[no-untyped-def]
        with real(self, name, **kwargs) as (out, done):
            out.write(b"x" * 10)
            if name.endswith(which) and not pulled:
                pulled.append(name)
                os.rename(dest, away)
            yield out, done

    monkeypatch.setattr(runfiles.RunFiles, "write", write)
    with pytest.raises(BrankasError) as info:
        backup_run(actor=office.users["operator"], dest=dest)
    assert pulled
    assert info.value.code == "backup_disk_gone", info.value
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]
    os.rename(away, dest)
    monkeypatch.setattr(runfiles.RunFiles, "write", real)
    assert backup_run(actor=office.users["operator"], dest=dest).run.status == "completed"
    bagit.Bag(str(dest)).validate()
    assert _staging_left(dest) == []


def test_a_name_already_taken_on_the_disk_is_never_removed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The run's new file cannot be made (``O_EXCL``: its name already holds a file, on a
    disk that is hostile input): the run fails, and its close does not remove the file
    that was there (it never was the run's)."""
    dest = tmp_path / "disk"
    with _open(dest) as bag:
        theirs = Path(bag.staging_file(".part"))
        theirs.write_bytes(b"not the run's")
        monkeypatch.setattr(bag, "staging_file", lambda suffix: str(theirs))
        with runfiles.RunFiles(tmp_path / "home-tmp", disk=bag) as files, \
                pytest.raises(BrankasError), files.write("daftar-kontrol.csv") as (out, _):
            out.write(b"x")
        assert theirs.read_bytes() == b"not the run's"


@pytest.mark.parametrize("fault", ["disk full", "child killed"])
def test_the_segment_child_writing_on_the_disk_failing(
        transactional_db, office, tmp_path: Path, monkeypatch, fault: str) -> None:  # type: ignore[no-untyped-def]
    """The audit segment's child writes on the disk (s27). The disk full as it starts: a
    clear ``backup_disk_full``, the child stopped, nothing of it left on the disk. The child
    killed: the run makes the segment itself, on the disk, and completes. Either way the
    bag validates, the staging folder holds only its lock, and a next run completes."""
    import signal

    from brankas.web.audit.services import audit_record
    from brankas.web.backup import segments
    from brankas.web.backup.services import backup_run

    for i in range(300):
        audit_record(actor="operator", action="document.open", target=f"K-{i:060d}")
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "4m")
    made: list[segments.EarlySegment] = []
    real = segments.EarlySegment

    class Faulty(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            if fault == "disk full":
                leave_free(mnt, 0)
            super().__init__(*args, **kwargs)
            made.append(self)
            if fault == "child killed":
                self.proc.send_signal(signal.SIGKILL)

    monkeypatch.setattr(segments, "EARLY_ENTRIES", 1)
    monkeypatch.setattr(segments, "EarlySegment", Faulty)
    dest = mnt / "disk"
    try:
        if fault == "disk full":
            with pytest.raises(BrankasError) as info:
                backup_run(actor=office.users["operator"], dest=dest)
            assert info.value.code == "backup_disk_full", info.value
            (mnt / "filler").unlink()
        else:
            assert backup_run(actor=office.users["operator"], dest=dest).run.status == "completed"
            assert made[0].fell_back
        assert made and made[0].proc.returncode is not None
        if (dest / "bagit.txt").exists():
            bagit.Bag(str(dest)).validate()
        assert _staging_left(dest) == []
        assert not [p.name for p in (office.home / "tmp").iterdir()
                    if p.name.startswith("backup-")]
        monkeypatch.setattr(segments, "EarlySegment", real)
        assert backup_run(actor=office.users["operator"], dest=dest).run.status == "completed"
        bagit.Bag(str(dest)).validate()
        assert _staging_left(dest) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_an_error_of_the_computers_own_is_not_the_disks(
        office, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """While the run writes its control list on the disk, the list it reads it from (in
    ``BRANKAS_HOME/tmp``) is found missing: that is not "the backup disk cannot be reached
    any more" (the disk is there, and fine); the run fails, nothing is left of it, and the
    next run completes."""
    from brankas.web.backup import registers
    from brankas.web.backup.services import backup_run
    from tests.web.backup.test_services import register

    register(office, "Surat")
    real = registers.control_write

    def broken(out_csv, out_json, control, carried):  # type: ignore[no-untyped-def]
        carried.path.unlink()  # the computer's own file, gone
        return real(out_csv, out_json, control, carried)

    monkeypatch.setattr(registers, "control_write", broken)
    dest = tmp_path / "disk"
    with pytest.raises(FileNotFoundError):
        backup_run(actor=office.users["operator"], dest=dest)
    assert _staging_left(dest) == []
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]
    monkeypatch.setattr(registers, "control_write", real)
    assert backup_run(actor=office.users["operator"], dest=dest).run.status == "completed"
    bagit.Bag(str(dest)).validate()
