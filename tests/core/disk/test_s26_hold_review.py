"""Held checkpoints (s26, ``_Checkpoints.commit`` ``hold``) under an outside review: a
failure at every step of listing the held copies, ``on_commit`` raising while they are
listed beside the next read-back, the staging child killed between or during checkpoints,
the last checkpoint with nothing ready but held copies, a held copy gone from the disk
before it is listed, a disk that fills up. The invariants: nothing reported before it is
listed, durable and read back; nothing staged left behind; nothing listed missing; the
next run completes and the real ``bagit`` validates. Real files, the real child."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Hooks, PayloadItem
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import open_bag, sample_files
from tests.core.disk.test_s25_stager import Spy, archive
from tests.tmpfs import leave_free, mount_tmpfs

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX signals here")


def _staged_left(dest: Path) -> list[str]:
    """Copies left under a staging name (the lock and a journal a cut commit left are
    not copies: the next open repairs from the journal)."""
    return [n for n in os.listdir(dest / ".brankas-staging") if n.endswith(".part")]


def _listed_all_there(dest: Path, files: dict[str, bytes]) -> dict[str, str]:
    """The manifest, each file it lists in data/ with the bytes given."""
    listed = bagformat.read_payload_manifest(dest)
    for path, sha in listed.items():
        data = (dest / "data" / path).read_bytes()
        assert data == files[path] and hashlib.sha256(data).hexdigest() == sha, path
    return listed


def _reporter(dest: Path, files: dict[str, bytes], told: list[list[str]]):  # type: ignore[no-untyped-def]
    """An ``on_commit`` that checks each path it is told is listed and in data/."""
    def on_commit(paths: list[str]) -> None:
        listed = _listed_all_there(dest, files)
        assert set(paths) <= set(listed)
        told.append(list(paths))
    return on_commit


@pytest.mark.parametrize("count", [5, 20, 25])
@pytest.mark.parametrize("verify", [True, False])
def test_the_last_checkpoint_lists_what_is_held(tmp_path: Path, count: int,
                                                verify: bool) -> None:
    """20 files at 10 a checkpoint: the last checkpoint has nothing ready, only the
    second's held copies (with and without read-back); 5: no checkpoint mid-run; 25:
    both. Each file is reported once, after it is listed; nothing is left staged."""
    files = sample_files(count)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"
    told: list[list[str]] = []
    with open_bag(dest) as bag:
        result = bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                               checkpoint_seconds=3600, verify_after_write=verify,
                               on_commit=_reporter(dest, files, told))
    assert sorted(result.added) == sorted(files)
    assert sorted(p for paths in told for p in paths) == sorted(files)
    assert [len(paths) for paths in told] == {5: [5], 20: [10, 10], 25: [10, 10, 5]}[count]
    assert _staged_left(dest) == []
    assert sorted(_listed_all_there(dest, files)) == sorted(files)
    bagit.Bag(str(dest)).validate()


@pytest.mark.parametrize("step", ["written", "synced", "journaled", "appended", "moved",
                                  "durable"])
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_a_failure_at_each_step_of_listing_the_held_copies(
        tmp_path: Path, step: str, exc: type[BaseException]) -> None:
    """The first listing of the run is the held first checkpoint, beside the second's
    read-back by the child: cut at each step, nothing is reported, no copy is left staged
    (the held ones, the one read back, those staged ahead), what the manifest lists is in
    data/ once the next open repaired the cut; the next run completes."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"
    armed: list[bool] = []

    def commit_step(name: str) -> None:
        if armed and name == step:
            armed.clear()
            raise exc("cut")

    told: list[list[str]] = []
    with open_bag(dest, hooks=Hooks(commit_step=commit_step)) as bag, pytest.raises(exc):
        armed.append(True)
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600, on_commit=told.append)
    assert told == []
    assert _staged_left(dest) == []
    with open_bag(dest) as bag:  # the next open repairs a cut commit; the run completes
        assert _staged_left(dest) == []
        _listed_all_there(dest, files)
        bag.add_files(given, child=True, checkpoint_files=10)
    assert sorted(_listed_all_there(dest, files)) == sorted(files)
    bagit.Bag(str(dest)).validate()


@pytest.mark.parametrize("call", [1, 2])
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_on_commit_raising_while_held_copies_are_listed(
        tmp_path: Path, call: int, exc: type[BaseException]) -> None:
    """``on_commit`` raising (the caller's database gone; Ctrl-C) at its first or second
    call, each the listing of a held checkpoint while the next is read back by the child:
    the copy being read back and those staged ahead are removed, what was reported is
    listed and in data/, and the next run completes."""
    files = sample_files(40)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"
    told: list[list[str]] = []
    check = _reporter(dest, files, told)

    def on_commit(paths: list[str]) -> None:
        check(paths)
        if len(told) == call:
            raise exc("recording failed")

    with open_bag(dest) as bag, pytest.raises(exc):
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600, on_commit=on_commit)
    assert len(told) == call
    assert _staged_left(dest) == []
    listed = _listed_all_there(dest, files)
    assert sorted(listed) == sorted(p for paths in told for p in paths)
    with open_bag(dest) as bag:
        again = bag.add_files(given, child=True, checkpoint_files=10)
    assert len(again.added) == len(files) - 10 * call
    bagit.Bag(str(dest)).validate()


@posix_only
@pytest.mark.parametrize("when", ["between checkpoints", "during the read-back"])
def test_the_child_killed_with_copies_held(tmp_path: Path, when: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL to the staging child at the second checkpoint's sync (the first held), or
    while it reads the second checkpoint back (the first being listed): the run takes
    over, lists every copy once, leaves nothing staged; the bag validates."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"
    syncs: list[int] = []

    def kill() -> None:
        child = spy.children[0]
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.wait()

    def syncing() -> None:
        syncs.append(1)
        if when == "between checkpoints" and len(syncs) == 2:
            kill()

    told: list[list[str]] = []
    check = _reporter(dest, files, told)

    def on_commit(paths: list[str]) -> None:
        if when == "during the read-back" and not told:
            kill()
        check(paths)

    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag:
        result = bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                               checkpoint_seconds=3600, on_commit=on_commit)
    assert spy.children[0].proc.returncode == -signal.SIGKILL
    assert sorted(result.added) == sorted(files)
    assert sorted(p for paths in told for p in paths) == sorted(files)
    assert _staged_left(dest) == []
    bagit.Bag(str(dest)).validate()


def _at_second_sync(act: Callable[[Path], None], dest: Path) -> Callable[[], None]:
    """A ``syncing`` hook that, at the second checkpoint's sync (the first one held, read
    back, not yet listed), does ``act`` to the first held copy in the staging folder."""
    syncs: list[int] = []

    def syncing() -> None:
        syncs.append(1)
        if len(syncs) == 2:
            act(sorted((dest / ".brankas-staging").glob("*.part"))[0])
    return syncing


def test_a_held_copy_gone_before_it_is_listed(tmp_path: Path) -> None:
    """A held copy removed from the staging folder after its read-back, before the next
    checkpoint lists it (a stranger on the disk): the listing fails, nothing of the held
    checkpoint is reported or listed missing, nothing is left staged; the next run copies
    it again."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"
    syncing = _at_second_sync(lambda part: part.unlink(), dest)
    told: list[list[str]] = []
    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag, \
            pytest.raises(BrankasError):
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600, on_commit=_reporter(dest, files, told))
    assert told == []
    assert _staged_left(dest) == []
    with open_bag(dest) as bag:
        _listed_all_there(dest, files)
        bag.add_files(given, child=True)
    assert sorted(_listed_all_there(dest, files)) == sorted(files)
    bagit.Bag(str(dest)).validate()


def test_a_source_error_after_a_hold_lists_the_held_copies(tmp_path: Path) -> None:
    """A source changed (its size not the one recorded) after the first checkpoint was
    held: the run's error path lists the held copies (and any good ones), reports them,
    then raises; nothing staged is left."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    bad = given[24]
    Path(bad.opener.path).write_bytes(b"%PDF-1.7\nchanged since it was registered")  # type: ignore[attr-defined]
    dest = tmp_path / "disk"
    told: list[list[str]] = []
    with open_bag(dest) as bag, pytest.raises(BrankasError) as raised:
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600, on_commit=_reporter(dest, files, told))
    assert raised.value.code == "backup_source_changed"
    reported = sorted(p for paths in told for p in paths)
    assert set(p.path for p in given[:10]) <= set(reported)
    assert bad.path not in reported
    assert sorted(_listed_all_there(dest, files)) == reported
    assert _staged_left(dest) == []
    bagit.Bag(str(dest)).validate()


def test_a_full_disk_with_copies_held(tmp_path: Path) -> None:
    """The disk full at a different point each round, four checkpoints a run so copies
    are held: a full disk's error or done, nothing left staged, what is reported is listed
    and in data/, the bag validates."""
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "2m")
    files = {f"arsip/B-{i:03d}.pdf": os.urandom(1000 + 97 * i) for i in range(40)}
    given: list[PayloadItem] = archive(tmp_path / "src", files)
    try:
        codes = set()
        for pages in (2, 8, 24, 40, 56, 72, 400):
            dest = mnt / "brankas"
            with open_bag(dest):
                pass
            leave_free(mnt, pages)
            told: list[list[str]] = []
            try:
                with open_bag(dest) as bag:
                    bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                                  checkpoint_seconds=3600, on_commit=told.append)
                codes.add("done")
            except BrankasError as exc:
                assert exc.code == "backup_disk_full", exc.code
                codes.add(exc.code)
            assert _staged_left(dest) == [], pages
            (mnt / "filler").unlink()
            listed = _listed_all_there(dest, files)
            assert set(p for paths in told for p in paths) <= set(listed)
            bagit.Bag(str(dest)).validate()
            shutil.rmtree(dest)
        assert codes == {"done", "backup_disk_full"}
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("fault", ["ctrl-c", "full", "other error", "gone"])
def test_the_next_checkpoint_failing_at_its_sync_with_copies_held(
        tmp_path: Path, fault: str) -> None:
    """The second checkpoint's sync fails, the first checkpoint held (read back, not yet
    listed). Ctrl-C: nothing listed, nothing left staged. A disk error (full, another
    error, not the disk gone): the held copies, verified before the error, are listed
    and reported as ``add_files`` promises ("on an error, the copies verified before it are still
    committed, unless the disk is gone"), as before s26 when they were listed at their
    own checkpoint; the failing checkpoint's are not. The disk gone: nothing more is
    listed. In every case the next run completes and the bag validates."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"
    syncs: list[int] = []
    raised: BaseException = {"ctrl-c": KeyboardInterrupt(),
                             "full": OSError(errno.ENOSPC, "No space left on device"),
                             "other error": OSError(errno.EPERM, "Operation not permitted"),
                             "gone": OSError(errno.ENODEV, "No such device")}[fault]
    code = {"full": "backup_disk_full", "other error": "backup_disk_error",
            "gone": "backup_disk_gone"}.get(fault)

    def syncing() -> None:
        syncs.append(1)
        if len(syncs) == 2:
            raise raised

    told: list[list[str]] = []
    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag, \
            pytest.raises(BrankasError if code else KeyboardInterrupt) as caught:
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600, on_commit=_reporter(dest, files, told))
    if code:
        assert caught.value.code == code  # type: ignore[attr-defined]
    reported = sorted(p for paths in told for p in paths)
    # the first checkpoint's ten (which ten is the order the staging batches came back in)
    held = 10 if fault in ("full", "other error") else 0
    assert len(set(reported)) == len(reported) == held and set(reported) <= set(files)
    expected = reported
    assert sorted(_listed_all_there(dest, files)) == expected
    assert _staged_left(dest) == []
    with open_bag(dest) as bag:
        again = bag.add_files(given, child=True)
    assert len(again.added) == len(files) - len(expected)
    bagit.Bag(str(dest)).validate()


@pytest.mark.xfail(strict=True, reason="known limit (s26 review): the listing step does not "
                   "check a held copy again; a stranger rewriting it on the disk after its "
                   "read-back, before the next checkpoint lists it, is not caught (as a "
                   "rewrite in data/ after listing is not); the held window is a checkpoint "
                   "long, it was the time of the renames before s26")
def test_a_held_copy_rewritten_before_it_is_listed_is_not_listed(tmp_path: Path) -> None:
    """A held copy rewritten in place (same length, other bytes) at the second
    checkpoint's sync, after its read-back: were it caught, the run would fail and list
    only good copies; the manifest lists it with the bytes first written, and the bag
    does not validate."""
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    dest = tmp_path / "disk"

    def rewrite(part: Path) -> None:
        data = part.read_bytes()
        with open(part, "r+b") as fh:
            fh.write(bytes(b ^ 0xFF for b in data[:64]))

    syncing = _at_second_sync(rewrite, dest)
    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag, contextlib.suppress(BrankasError):
        bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                      checkpoint_seconds=3600)
    bagit.Bag(str(dest)).validate()


def test_without_o_nofollow_the_run_reads_back_and_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the disk's files do not open with O_NOFOLLOW (Windows), the feed thread
    reads the copies back in this process while the main thread lists the held ones: the
    child reads nothing back, each checkpoint is reported once after it is listed, and
    the bag validates."""
    monkeypatch.delattr(os, "O_NOFOLLOW")
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"
    told: list[list[str]] = []
    with open_bag(dest) as bag:
        result = bag.add_files(given, child=True, workers=1, checkpoint_files=10,
                               checkpoint_seconds=3600, on_commit=_reporter(dest, files, told))
    assert spy.read_back == 0 and spy.staged  # staged by the child, read back here
    assert [len(paths) for paths in told] == [10, 10, 10]
    assert sorted(result.added) == sorted(files)
    assert _staged_left(dest) == []
    bagit.Bag(str(dest)).validate()
