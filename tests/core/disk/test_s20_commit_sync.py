"""A checkpoint's commit made durable by two syncs of the disk (session 20, issue 15): the
temporary tag files and the journal written, one sync, the journal put in place (its
folder fsynced), the lists' lines added, the window's renames and replaces, one sync for
all of it, then the journal removed. Before, each tag file, list and folder was fsynced
on its own (about 16 fsyncs a checkpoint).

A process killed (SIGKILL) at each of those steps, with ``syncfs`` and with the fsync of
each path that stands in for it elsewhere, leaves a disk that lists only files it holds
whole, reported nothing it did not list, and that the next opening repairs (journal) or
finds intact; a second run completes it. The order of what reaches the platter is not
what a kill tests (the page cache survives a process); the argument for that is in
``disk.state``'s docstring and docs/disk-format.md."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from brankas.core import fsutil
from brankas.core.disk import format as bagformat
from brankas.core.disk import state as statemodule
from brankas.core.disk.state import COMMIT_STEPS, JOURNAL
from brankas.core.disk.verify import verify
from tests.core.disk.test_bag import items, open_bag, sample_files, validate

CHILD = """
import os, signal, sys
from pathlib import Path
from brankas.core import fsutil
from brankas.core.disk.bag import Hooks, file_item, open_or_create

dest, src, step, at, syncfs = (Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3],
                               int(sys.argv[4]), sys.argv[5] == "1")
if not syncfs:
    fsutil._libc_syncfs = False  # as where there is no syncfs: an fsync of each path
items = [file_item(p.relative_to(src).as_posix(), p)
         for p in sorted(src.rglob("*")) if p.is_file()]
seen = {}

def commit_step(name):
    seen[name] = seen.get(name, 0) + 1
    if name == step and seen[name] == at:
        os.kill(os.getpid(), signal.SIGKILL)

def listed(paths):
    for p in paths:
        print("listed", p, flush=True)

with open_or_create(dest, label="Crash", organization="Dinas", software="Brankas test",
                    hooks=Hooks(commit_step=commit_step)) as bag:
    bag.add_files(items, checkpoint_files=5, checkpoint_seconds=60, workers=2,
                  on_commit=listed)
print("done", flush=True)
"""


def _source(root: Path) -> dict[str, bytes]:
    files = {**sample_files(6), **sample_files(5, prefix="arsip/biasa/surat-masuk/2025"),
             **sample_files(4, prefix="arsip/dikecualikan/nota/2024")}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _child(dest: Path, src: Path, step: str, at: int,
           syncfs: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(dest), str(src), step, str(at),
                           "1" if syncfs else "0"],
                          capture_output=True, text=True, check=False, timeout=120)


def _in_data(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest / "data").as_posix(): p.read_bytes()
            for p in (dest / "data").rglob("*") if p.is_file()}


@pytest.mark.slow  # a process killed at each step: 14 interpreters
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-each"])
@pytest.mark.parametrize("step", COMMIT_STEPS)
def test_killed_at_each_step_of_a_commit_the_disk_lists_only_what_it_holds(
        tmp_path: Path, step: str, syncfs: bool) -> None:
    if syncfs and not fsutil._syncfs_call():  # Linux only; the fsync-each case runs everywhere
        pytest.skip("syncfs is Linux-only: the fsync-each case covers this step here")
    src, dest = tmp_path / "src", tmp_path / "disk"
    files = _source(src)
    # The commit of the second checkpoint of copies (five each; its lists appended).
    # The new bag's creation is a commit too, without a journal: every step but
    # "journaled" is reached a first time there.
    child = _child(dest, src, step, 2 if step == "journaled" else 3, syncfs)
    assert child.returncode == -signal.SIGKILL, child.stderr
    reported = [line.split(" ", 1)[1] for line in child.stdout.splitlines()
                if line.startswith("listed ")]
    assert len(reported) == 5  # the first checkpoint only: nothing of the one killed
    journal = (dest / ".brankas-staging" / JOURNAL).exists()
    # The journal is in place from "journaled" until it is removed after "durable".
    assert journal == (COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("journaled"))
    if not journal:
        # Killed before anything of the commit was put in place: the disk is as the
        # last checkpoint left it, and valid as it is.
        validate(dest)
        assert sorted(bagformat.read_payload_manifest(dest)) == sorted(reported)
        assert sorted(_in_data(dest)) == sorted(reported)

    # The next opening repairs what the kill cut short (the journal) or finds it intact.
    with open_bag(dest):
        pass
    assert not (dest / ".brankas-staging" / JOURNAL).exists()
    validate(dest)
    listed = bagformat.read_payload_manifest(dest)
    on_disk = _in_data(dest)
    assert set(reported) <= set(listed)
    assert set(listed) <= set(on_disk)
    for path in listed:
        assert on_disk[path] == files[path]
    if COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("moved"):
        assert len(listed) == 10  # renamed in before the kill: kept by the repair
    assert verify(dest).ok

    # A second run copies the rest and completes.
    child = _child(dest, src, "none", 0, syncfs)
    assert child.returncode == 0, child.stderr
    assert bagformat.read_payload_manifest(dest).keys() == files.keys()
    assert _in_data(dest) == files
    assert not list((dest / ".brankas-staging").glob("*.part"))
    assert not list((dest / ".brankas-staging").glob("*.tag"))
    validate(dest)
    assert verify(dest).ok


class _Counting:
    """Counts the calls of a real function (and makes them)."""

    def __init__(self, fn):  # type: ignore[no-untyped-def]
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.fn(*args, **kwargs)


def test_a_checkpoint_costs_two_syncs_and_one_fsync_however_many_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fsutil._syncfs_call():
        pytest.skip("syncfs is Linux-only: the fsync-each fallback's count is tested beside it")
    dest = tmp_path / "disk"
    files = {}
    for month in range(1, 13):  # twelve folders in each checkpoint
        files.update(sample_files(2, start=month * 10, prefix=f"arsip/biasa/nota/2026/{month:02d}"))
    fsyncs = _Counting(os.fsync)
    syncs = _Counting(statemodule.sync_filesystem)
    with open_bag(dest) as bag:
        monkeypatch.setattr(os, "fsync", fsyncs)
        monkeypatch.setattr(statemodule, "sync_filesystem", syncs)
        bag.add_files(items(files), workers=2, checkpoint_files=12, checkpoint_seconds=60)
        monkeypatch.undo()
    # Two checkpoints of twelve files in twelve folders: per checkpoint two syncs of the
    # disk and one fsync (the journal's folder), not one per folder, list and tag file.
    assert syncs.calls == 4
    assert fsyncs.calls == 2
    validate(dest)
    assert verify(dest).ok


def test_without_syncfs_each_file_and_folder_of_a_commit_is_fsynced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is no ``syncfs`` the two syncs fsync what the commit wrote: the
    temporary tag files and the journal, then the lists, every folder a file was renamed
    into (and each folder made), and the disk's top folder."""
    dest = tmp_path / "disk"
    files = {}
    for month in range(1, 4):
        files.update(sample_files(2, start=month * 10, prefix=f"arsip/biasa/nota/2026/{month:02d}"))
    with open_bag(dest) as bag:
        monkeypatch.setattr(fsutil, "_libc_syncfs", False)
        synced: list[Path] = []
        real = fsutil._fsync_path

        def fsync_path(path: Path) -> None:
            synced.append(Path(path))
            real(path)

        monkeypatch.setattr(fsutil, "_fsync_path", fsync_path)
        bag.add_files(items(files), workers=1, checkpoint_files=6, checkpoint_seconds=60)
        monkeypatch.undo()
    names = {p.name for p in synced}
    for month in ("01", "02", "03"):
        assert dest / "data" / "arsip" / "biasa" / "nota" / "2026" / month in synced
    assert dest in synced
    assert {"manifest-sha256.txt", "brankas-sizes.txt"} <= names  # the lists (appended)
    assert any(n.endswith(".tag") for n in names)  # the tag files and journal, before
    validate(dest)
    assert verify(dest).ok
