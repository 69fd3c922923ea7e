"""Review of s27 (the run's own files written straight onto the disk): what a hostile
or failing disk can do to them between their writing and their listing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from brankas.core.disk import bag as bagmod
from brankas.core.disk import format as fmt
from brankas.core.errors import BrankasError
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

