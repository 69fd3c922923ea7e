"""Review of session 20's commit (two syncs) and batched read-back (each thread's copies
opened first, then read): a copy changed or swapped after its batch opened it, and a disk
swapped while a checkpoint is committed, on the real file system, through the bag's hooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Hooks
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import error_code, items, open_bag, sample_files, validate


def _content_of(files: dict[str, bytes], staged: Path) -> str:
    data = staged.read_bytes()
    return next(path for path, body in files.items() if body == data)


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="the batched read-back is POSIX")
def test_a_copy_swapped_for_a_link_after_its_batch_opened_it_is_never_listed(
        tmp_path: Path) -> None:
    """The batch opens every copy, then reads them: the first copy's name is swapped for a
    link to a twin outside the disk once it is open (when the next copy is opened). Its
    descriptor still reads the bytes written, but what the window would rename into
    ``data/`` is the link: it must be refused, never listed, no link in ``data/``."""
    dest, outside = tmp_path / "disk", tmp_path / "laptop"
    outside.mkdir()
    files = sample_files(4)
    seen: list[Path] = []
    victim: list[str] = []

    def swap(staged: Path) -> None:
        seen.append(staged)
        if len(seen) == 2:  # the first copy is open by now
            first = seen[0]
            victim.append(_content_of(files, first))
            twin = outside / "twin.pdf"
            twin.write_bytes(first.read_bytes())
            first.unlink()
            first.symlink_to(twin)

    committed: list[str] = []
    with open_bag(dest, hooks=Hooks(staged=swap)) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1, on_commit=committed.extend)
    assert error_code(info) == "backup_readback_mismatch"
    assert victim[0] in str(info.value)
    assert victim[0] not in committed
    assert victim[0] not in bagformat.read_payload_manifest(dest)
    assert not [p for p in (dest / "data").rglob("*") if p.is_symlink()]
    validate(dest)


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="the batched read-back is POSIX")
def test_a_byte_flipped_after_its_batch_opened_the_copy_is_found(tmp_path: Path) -> None:
    """A byte of the first copy changes on the disk after the batch opened it (and after
    the sync): the read through that descriptor finds it; nothing of it is listed."""
    dest = tmp_path / "disk"
    files = sample_files(4)
    seen: list[Path] = []
    victim: list[str] = []

    def flip(staged: Path) -> None:
        seen.append(staged)
        if len(seen) == 2:
            first = seen[0]
            victim.append(_content_of(files, first))
            with open(first, "r+b") as fh:
                fh.seek(20)
                byte = fh.read(1)
                fh.seek(20)
                fh.write(bytes([byte[0] ^ 0x01]))

    committed: list[str] = []
    with open_bag(dest, hooks=Hooks(staged=flip)) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1, on_commit=committed.extend)
    assert error_code(info) == "backup_readback_mismatch"
    assert victim[0] not in committed
    assert victim[0] not in bagformat.read_payload_manifest(dest)
    assert not (dest / "data" / victim[0]).exists()
    assert sorted(committed) == sorted(bagformat.read_payload_manifest(dest))
    validate(dest)


@pytest.mark.parametrize("step", ["appended", "moved"])
def test_a_disk_swapped_before_the_second_sync_reports_nothing(tmp_path: Path,
                                                                 step: str) -> None:
    """In the window the disk is swapped for a copy of itself (taken at that instant: the
    same files, the journal, the lock's name) at the same path. The second sync opens the
    disk by its path, so it syncs the copy, not the disk the renames were made on: the
    checkpoint must not be reported (nor its journal removed from the disk it was made
    on)."""
    dest, gone, clone = tmp_path / "disk", tmp_path / "pulled", tmp_path / "other-disk"
    files = sample_files(4)

    journaled: list[str] = []

    def swap(name: str) -> None:
        if name == "journaled":
            journaled.append(name)  # the checkpoint of the files (not the bag's creation)
        if name == step and journaled and not clone.exists():
            shutil.copytree(dest, clone, symlinks=True)
            dest.rename(gone)
            dest.symlink_to(clone, target_is_directory=True)

    committed: list[str] = []
    with pytest.raises(BrankasError) as info, \
            open_bag(dest, hooks=Hooks(commit_step=swap)) as bag:  # the close may report it
        bag.add_files(items(files), workers=1, on_commit=committed.extend)
    assert error_code(info) == "backup_disk_replaced"
    assert committed == []
    assert (gone / ".brankas-staging" / "commit.json").exists()  # repaired when reopened


WITHOUT_CTYPES = """
import sys
sys.modules["ctypes"] = None  # a Python built without ctypes: ``import ctypes`` fails
from pathlib import Path
from brankas.core.disk.bag import file_item, open_or_create

dest, src = Path(sys.argv[1]), Path(sys.argv[2])
items = [file_item(p.name, p) for p in sorted(src.iterdir())]
with open_or_create(dest, label="Tanpa ctypes", organization="Dinas",
                    software="Brankas test") as bag:
    bag.add_files(items, workers=1)
print("done", flush=True)
"""


def test_a_python_without_ctypes_falls_back_to_an_fsync_of_each_file(tmp_path: Path) -> None:
    """``syncfs`` (and ``renameat2``) are reached through ctypes; a Python without it (an
    ``ImportError``, not an ``OSError``) must fall back as a system without the call does,
    not fail every checkpoint."""
    src, dest = tmp_path / "src", tmp_path / "disk"
    src.mkdir()
    files = {f"B-{i}.pdf": b"%PDF-1.7\n" + bytes([i]) * (100 + i) for i in range(3)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    done = subprocess.run([sys.executable, "-c", WITHOUT_CTYPES, str(dest), str(src)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-2000:]
    assert sorted(bagformat.read_payload_manifest(dest)) == sorted(files)
    validate(dest)
