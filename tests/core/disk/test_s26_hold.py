"""A checkpoint's copies, read back by the staging child, are listed by the next
checkpoint while the child reads that one's back (s26, ``_Checkpoints.commit`` ``hold``):
the listing overlaps the next read-back, and nothing is ever listed before it was read
back and matched. Real files, the real staging child, the real ``bagit`` library."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Hooks
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import open_bag, sample_files
from tests.core.disk.test_s25_stager import archive


def test_a_checkpoint_is_listed_by_the_next_one_after_its_sync(tmp_path: Path) -> None:
    """The first checkpoint's copies are listed by the second checkpoint, after that one's
    sync (its read-back then running in the child), not at their own: each listing comes
    one sync later; at every listing, what is listed was read back before and the
    manifest holds exactly it; the run ends with every file listed once, a valid bag.
    (Whether the child is then still reading back or staging ahead is the machine's
    timing: the order is what is held.)"""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    read_back: list[str] = []
    listed: list[str] = []
    syncs: list[int] = []
    syncs_at_listing: list[int] = []
    lock = threading.Lock()

    def staged(path: Path) -> None:  # each copy, durable, just before its read-back
        with lock:
            read_back.append(path.name)

    def on_commit(paths: list[str]) -> None:
        with lock:
            assert len(read_back) >= len(listed) + len(paths)  # read back before listed
        syncs_at_listing.append(len(syncs))
        listed.extend(paths)
        assert sorted(bagformat.read_payload_manifest(dest)) == sorted(listed)

    dest = tmp_path / "disk"
    with open_bag(dest, hooks=Hooks(staged=staged, syncing=lambda: syncs.append(1))) as bag:
        result = bag.add_files(given, child=True, checkpoint_files=10,
                               checkpoint_seconds=3600, on_commit=on_commit)
    # three checkpoints of ten (the last one's own sync lists it with the held second)
    assert syncs_at_listing == [2, 3, 3], syncs_at_listing
    assert sorted(result.added) == sorted(files) == sorted(listed)
    assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"]
    bagit.Bag(str(dest)).validate()


def test_a_bad_read_back_lists_the_held_copies_and_the_good_ones_then_raises(
        tmp_path: Path) -> None:
    """A copy changed on the disk between its sync and its read-back, in the second
    checkpoint: the first (held) and the second's good copies are listed, the changed one
    is not (removed), the error is raised; the next run copies it again."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    seen: list[Path] = []

    def staged(path: Path) -> None:
        seen.append(path)
        if len(seen) == 15:
            path.write_bytes(b"%PDF-1.7\nnot what was written")

    dest = tmp_path / "disk"
    committed: list[str] = []
    with open_bag(dest, hooks=Hooks(staged=staged)) as bag, \
            pytest.raises(BrankasError) as raised:
        bag.add_files(given, child=True, checkpoint_files=10, checkpoint_seconds=3600,
                      on_commit=committed.extend)
    assert raised.value.code == "backup_readback_mismatch"
    assert len(committed) == 19 and len(set(committed)) == 19
    assert sorted(bagformat.read_payload_manifest(dest)) == sorted(committed)
    assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"]
    with open_bag(dest) as bag:  # the next run copies the rest
        again = bag.add_files(given, child=True)
    assert len(again.added) == 11
    bagit.Bag(str(dest)).validate()
