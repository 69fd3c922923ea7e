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
