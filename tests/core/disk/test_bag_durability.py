"""Batched durability (issue 15): a checkpoint's copies are written, made durable with one
sync of the disk, read back, and only then listed and reported. Nothing is listed or
reported as on the disk before it is durable and read back, even when the process dies
between the writes and the sync."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brankas.core import fsutil
from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Hooks, PayloadItem
from brankas.core.disk.verify import verify
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import items, open_bag, sample_files, validate


def test_each_checkpoint_syncs_once_then_reads_back_then_reports(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(12)
    events: list[tuple[str, object]] = []

    def syncing() -> None:
        staged = sorted(p.name for p in (dest / ".brankas-staging").glob("*.part"))
        events.append(("sync", staged))

    def staged(path: Path) -> None:
        assert path.exists()
        events.append(("read back", path.name))

    with open_bag(dest, hooks=Hooks(syncing=syncing, staged=staged)) as bag:
        bag.add_files(items(files), workers=2, checkpoint_files=4, checkpoint_seconds=60,
                      on_commit=lambda paths: events.append(("listed", sorted(paths))))
    syncs = [e for e in events if e[0] == "sync"]
    assert len(syncs) == 3  # one per checkpoint of four, not one per file
    listed = [p for kind, paths in events if kind == "listed" for p in paths]  # type: ignore[union-attr]
    assert sorted(listed) == sorted(files)
    # Within each checkpoint: the sync (its four copies already written; copies of the
    # next checkpoint may be in the making beside them), then four read-backs of those
    # copies, then the listing.
    for i in range(3):
        kind, staged_then = events[6 * i]
        assert kind == "sync"
        reads = events[6 * i + 1: 6 * i + 5]
        assert all(k == "read back" for k, _ in reads)
        assert {n for _, n in reads} <= set(staged_then)  # type: ignore[arg-type]
        assert events[6 * i + 5][0] == "listed"
    validate(dest)
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()


def test_a_failed_sync_lists_and_reports_nothing_of_its_checkpoint(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(8)
    calls = []

    def syncing() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")

    reported: list[str] = []
    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag, pytest.raises(BrankasError):
        bag.add_files(items(files), workers=1, checkpoint_files=4, checkpoint_seconds=60,
                      on_commit=reported.extend)
    assert len(reported) == 4
    assert sorted(bagformat.read_payload_manifest(dest)) == sorted(reported)
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)


CHILD = """
import os, signal, sys
from pathlib import Path
from brankas.core.disk.bag import Hooks, file_item, open_or_create

dest, src, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
items = [file_item(p.relative_to(src).as_posix(), p)
         for p in sorted(src.rglob("*")) if p.is_file()]
syncs = []

def syncing():
    syncs.append(1)
    if len(syncs) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

def listed(paths):
    for p in paths:
        print("listed", p, flush=True)

with open_or_create(dest, label="Crash", organization="Dinas", software="Brankas test",
                    hooks=Hooks(syncing=syncing)) as bag:
    bag.add_files(items, checkpoint_files=5, checkpoint_seconds=60, on_commit=listed)
print("done", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("kill_at", [1, 3])
def test_killed_between_the_writes_and_the_sync_nothing_of_the_batch_is_listed(
        tmp_path: Path, kill_at: int) -> None:
    """SIGKILL after a checkpoint's copies are written and before the sync: the copies
    written since the last checkpoint are neither in ``data/`` nor in the manifest, and
    nothing was reported for them; the next run copies them and completes."""
    src, dest = tmp_path / "src", tmp_path / "disk"
    files = sample_files(15)
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    child = subprocess.run([sys.executable, "-c", CHILD, str(dest), str(src), str(kill_at)],
                           capture_output=True, text=True, check=False, timeout=120)
    assert child.returncode == -signal.SIGKILL
    reported = [line.split(" ", 1)[1] for line in child.stdout.splitlines()
                if line.startswith("listed ")]
    assert len(reported) == 5 * (kill_at - 1)
    listed = bagformat.read_payload_manifest(dest)
    assert sorted(listed) == sorted(reported)
    on_disk = sorted(p.relative_to(dest / "data").as_posix()
                     for p in (dest / "data").rglob("*") if p.is_file())
    assert on_disk == sorted(reported)
    assert list((dest / ".brankas-staging").glob("*.part"))  # the unlisted copies

    child = subprocess.run([sys.executable, "-c", CHILD, str(dest), str(src), "0"],
                           capture_output=True, text=True, check=False, timeout=120)
    assert child.returncode == 0, child.stderr
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()
    assert not list((dest / ".brankas-staging").glob("*.part"))
    validate(dest)
    assert verify(dest).ok


def test_sync_filesystem_makes_files_durable_with_or_without_syncfs(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"x" * (i + 1))
        paths.append(path)
    fsutil.sync_filesystem(tmp_path, paths)  # syncfs on Linux
    if sys.platform.startswith("linux"):
        assert fsutil._syncfs_call()
    saved = fsutil._libc_syncfs
    fsutil._libc_syncfs = False  # as on a system without syncfs: an fsync of each path
    try:
        fsutil.sync_filesystem(tmp_path, [*paths, tmp_path])
    finally:
        fsutil._libc_syncfs = saved
    with pytest.raises(FileNotFoundError):
        fsutil._libc_syncfs = False
        try:
            fsutil.sync_filesystem(tmp_path, [tmp_path / "missing"])
        finally:
            fsutil._libc_syncfs = saved


def test_a_staged_copy_swapped_for_a_link_before_its_read_back_is_never_listed(
        tmp_path: Path) -> None:
    """Between the sync and the read-back a copy in the staging folder becomes a link to
    a file with the very same bytes elsewhere (outside the disk): the read-back does not
    follow it, the copy is refused, nothing in ``data/`` is a link."""
    dest, outside = tmp_path / "disk", tmp_path / "laptop"
    outside.mkdir()
    files = sample_files(3)
    victim = sorted(files)[1]

    def swap(staged: Path) -> None:
        if staged.read_bytes() == files[victim]:
            twin = outside / "twin.pdf"
            twin.write_bytes(files[victim])
            staged.unlink()
            staged.symlink_to(twin)

    with open_bag(dest, hooks=Hooks(staged=swap)) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1)
    assert victim in str(info.value)
    assert victim not in bagformat.read_payload_manifest(dest)
    assert not [p for p in (dest / "data").rglob("*") if p.is_symlink()]
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("what", ["fifo", "folder", "cut short", "grown"])
def test_a_staged_copy_replaced_before_its_read_back_is_never_listed(
        tmp_path: Path, what: str) -> None:
    """The read-back opens each staged copy by its own name: a FIFO (which must not make
    it wait), a folder, or a regular file with fewer or more bytes in its place is
    refused as a read-back mismatch, and never moved into ``data/``."""
    dest = tmp_path / "disk"
    files = sample_files(3)
    victim = sorted(files)[1]

    def swap(staged: Path) -> None:
        if staged.read_bytes() != files[victim]:
            return
        if what in {"fifo", "folder"}:
            staged.unlink()
            os.mkfifo(staged) if what == "fifo" else staged.mkdir()
        else:
            staged.write_bytes(files[victim][:-1] if what == "cut short"
                               else files[victim] + b"x")

    with open_bag(dest, hooks=Hooks(staged=swap)) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1)
    assert info.value.code == "backup_readback_mismatch" and victim in str(info.value)
    listed = bagformat.read_payload_manifest(dest)
    assert victim not in listed and len(listed) == 2
    assert not (dest / "data" / victim).exists()


@pytest.mark.parametrize("when", ["sync", "read-back"])
def test_a_disk_gone_during_a_big_checkpoint_is_reported_as_gone_and_lists_nothing_of_it(
        tmp_path: Path, when: str) -> None:
    """A checkpoint of many copies (a quarter of a big disk) whose disk is pulled before
    its sync, or halfway through its read-backs: the run says the disk is gone, and no
    copy of that checkpoint was reported as on the disk."""
    dest = tmp_path / "disk"
    first, big = sample_files(8), sample_files(40, start=100)
    with open_bag(dest) as bag:
        bag.add_files(items(first))
    reads: list[Path] = []

    def pull() -> None:
        import shutil

        shutil.rmtree(dest)

    def reading(staged: Path) -> None:
        reads.append(staged)
        if len(reads) == 20:
            pull()

    hooks = Hooks(syncing=pull) if when == "sync" else Hooks(staged=reading)
    reported: list[str] = []
    with open_bag(dest, hooks=hooks) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items({**first, **big}), workers=2, checkpoint_files=1000,
                      checkpoint_seconds=3600, on_commit=reported.extend)
    assert info.value.code == "backup_disk_gone", info.value
    assert reported == []


def test_the_next_copies_are_staged_while_a_checkpoint_waits_for_the_disk(
        tmp_path: Path) -> None:
    """The copy threads do not stand idle while a checkpoint syncs, reads back and writes
    its lists (s19 P15): they stage the next copies meanwhile. None of those is part of
    the checkpoint being committed: each checkpoint lists only copies staged before its
    sync, and every copy is listed once, after its own sync."""
    dest = tmp_path / "disk"
    files = sample_files(24)
    opened: list[str] = []
    events: list[tuple[str, object]] = []
    during: list[list[str]] = []

    def item(path: str, data: bytes) -> PayloadItem:
        def opener() -> io.BytesIO:
            opened.append(path)
            return io.BytesIO(data)
        return PayloadItem(path, opener, len(data), hashlib.sha256(data).hexdigest())

    def syncing() -> None:
        events.append(("sync", list(opened)))

    def committing() -> None:
        # In the first checkpoint's window (its copies renamed into data/, its lists not
        # yet replaced). Without staging ahead, one thread holds at most two tasks of two
        # copies beyond the checkpoint's four when it begins: eight opened at most.
        if not during:
            deadline = time.monotonic() + 10
            while len(opened) <= 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            during.append(list(opened))

    with open_bag(dest, hooks=Hooks(syncing=syncing, committing=committing)) as bag:
        bag.add_files([item(p, d) for p, d in files.items()], workers=1, checkpoint_files=4,
                      checkpoint_seconds=3600,
                      on_commit=lambda paths: events.append(("listed", sorted(paths))))
    assert len(during[0]) > 8, "the thread stood idle while the first checkpoint committed"
    listed_so_far: set[str] = set()
    staged_before: list[str] = []
    for kind, value in events:
        if kind == "sync":
            staged_before = value  # type: ignore[assignment]
        else:
            paths = set(value)  # type: ignore[arg-type]
            assert paths <= set(staged_before) - listed_so_far  # opened before its sync
            listed_so_far |= paths
    assert len(events[1][1]) == 4 and set(events[1][1]) <= set(during[0][:8])  # type: ignore[arg-type]
    assert listed_so_far == set(files)
    validate(dest)
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()


def wait_staged_ahead(staging: Path) -> int:
    """Inside a checkpoint: wait until the threads have staged more than a checkpoint's
    copies and no more came for 50 ms (they wait for the checkpoint); how many are staged.
    (CHILD_AHEAD waits the same way in its process.)"""
    counts: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            len(counts) >= 5 and counts[-1] > 4 and len(set(counts[-5:])) == 1):
        time.sleep(0.01)
        counts.append(len(list(staging.glob("*.part"))))
    return counts[-1]


CHILD_AHEAD = """
import os, signal, sys, time
from pathlib import Path
from brankas.core.disk.bag import Hooks, file_item, open_or_create

dest, src, kill_at, where = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
items = [file_item(p.relative_to(src).as_posix(), p)
         for p in sorted(src.rglob("*")) if p.is_file()]
seen = {"syncing": 0, "committing": 0}
staging = dest / ".brankas-staging"

def hook(name):
    def run():
        seen[name] += 1
        if name == where and seen[name] == kill_at:
            # the threads stage the next copies meanwhile: killed once more than a
            # checkpoint's copies are staged and no more came for 50 ms (they wait for it)
            counts, deadline = [], time.monotonic() + 60
            while time.monotonic() < deadline and not (
                    len(counts) >= 5 and counts[-1] > 4 and len(set(counts[-5:])) == 1):
                time.sleep(0.01)
                counts.append(len(list(staging.glob("*.part"))))
            print("parts", len(list(staging.glob("*.part"))), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    return run

def listed(paths):
    for p in paths:
        print("listed", p, flush=True)

with open_or_create(dest, label="Crash", organization="Dinas", software="Brankas test",
                    hooks=Hooks(syncing=hook("syncing"), committing=hook("committing"))) as bag:
    bag.add_files(items, workers=2, checkpoint_files=4, checkpoint_seconds=60,
                  on_commit=listed)
print("done", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize(("where", "kill_at"), [("syncing", 2), ("committing", 1),
                                                ("committing", 3)])
def test_killed_while_copies_are_staged_ahead_of_a_checkpoint_the_disk_is_repaired(
        tmp_path: Path, where: str, kill_at: int) -> None:
    """SIGKILL inside a checkpoint (before its sync, or in its window) while the threads
    stage the next copies: after the next open nothing listed is missing or unverified,
    nothing in data/ is unlisted, no copy staged ahead is listed, and a re-run completes."""
    src, dest = tmp_path / "src", tmp_path / "disk"
    files = sample_files(48)
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    child = subprocess.run(
        [sys.executable, "-c", CHILD_AHEAD, str(dest), str(src), str(kill_at), where],
        capture_output=True, text=True, check=False, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    parts = [int(line.split()[1]) for line in child.stdout.splitlines()
             if line.startswith("parts ")]
    assert parts and parts[0] > 4  # copies staged ahead of the checkpoint in progress
    reported = {line.split(" ", 1)[1] for line in child.stdout.splitlines()
                if line.startswith("listed ")}
    # The next open repairs the disk (the journal of a cut window).
    with open_bag(dest) as _bag:
        pass
    listed = bagformat.read_payload_manifest(dest)
    assert reported <= listed.keys()
    on_disk = {p.relative_to(dest / "data").as_posix()
               for p in (dest / "data").rglob("*") if p.is_file()}
    assert on_disk == set(listed)
    assert len(listed) % 4 == 0  # whole checkpoints only: none staged ahead is listed
    assert verify(dest).ok
    validate(dest)

    child = subprocess.run(
        [sys.executable, "-c", CHILD_AHEAD, str(dest), str(src), "0", "none"],
        capture_output=True, text=True, check=False, timeout=120)
    assert child.returncode == 0, child.stderr
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()
    assert not list((dest / ".brankas-staging").glob("*.part"))
    validate(dest)
    assert verify(dest).ok


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need no privilege on POSIX")
def test_a_payload_folder_swapped_for_a_link_between_checkpoints_is_never_followed(
        tmp_path: Path) -> None:
    """A folder of data/ that held the first checkpoint's copies, swapped for a link to a
    folder off the disk before the next checkpoint moves its copies there: nothing is
    written through the link (off the disk), nothing more is listed."""
    dest, outside = tmp_path / "disk", tmp_path / "outside"
    outside.mkdir()
    files = sample_files(8)
    folder = dest / "data" / next(iter(files)).rpartition("/")[0]
    syncs: list[int] = []

    def syncing() -> None:
        syncs.append(1)
        if len(syncs) == 2:
            folder.rename(folder.with_name("aside"))
            folder.symlink_to(outside, target_is_directory=True)

    with pytest.raises(BrankasError), open_bag(dest, hooks=Hooks(syncing=syncing)) as bag:
        bag.add_files(items(files), workers=1, checkpoint_files=4, checkpoint_seconds=3600)
    assert list(outside.iterdir()) == []
    assert len(bagformat.read_payload_manifest(dest)) == 4


def test_a_read_back_mismatch_while_copies_are_staged_ahead_leaves_no_stray_copy(
        tmp_path: Path) -> None:
    """A checkpoint's read-back fails while the threads have staged the next copies: the
    error is raised once the good copies are listed, the copies staged ahead are removed
    (none listed, none left in data/ or staging), and the next run completes."""
    dest = tmp_path / "disk"
    files = sample_files(40)
    victim = sorted(files)[1]
    syncs: list[int] = []
    seen: list[int] = []

    def swap(staged: Path) -> None:
        if staged.read_bytes() == files[victim]:
            staged.write_bytes(files[victim] + b"x")

    def syncing() -> None:
        syncs.append(1)
        if len(syncs) == 1:  # the threads stage ahead meanwhile
            seen.append(wait_staged_ahead(dest / ".brankas-staging"))

    with open_bag(dest, hooks=Hooks(staged=swap, syncing=syncing)) as bag, \
            pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=2, checkpoint_files=4, checkpoint_seconds=3600)
    assert info.value.code == "backup_readback_mismatch"
    assert seen[0] > 4, seen  # copies were staged ahead of the checkpoint that failed
    listed = bagformat.read_payload_manifest(dest)
    assert victim not in listed
    on_disk = {p.relative_to(dest / "data").as_posix()
               for p in (dest / "data").rglob("*") if p.is_file()}
    assert on_disk == set(listed)
    assert not list((dest / ".brankas-staging").glob("*.part"))
    assert verify(dest).ok
    with open_bag(dest) as bag:
        bag.add_files(items(files), workers=2, checkpoint_files=4)
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()
    validate(dest)
