"""The staging child under a hostile outside review (session 25): a backup disk that
fills up, is pulled, or has its staging folder replaced mid-run; a copy gone between its
opening and its read; a child that stops answering; a child started from a hostile
working folder. Each outcome by the child must be the one the run's own threads give.
Real files, a real second process, a real size-limited tmpfs where mounting is allowed."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import bag as bagmod
from brankas.core.disk import format as bagformat
from brankas.core.disk import stager, stagerproc
from brankas.core.disk.bag import Hooks, PayloadItem
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import open_bag, sample_files
from tests.core.disk.test_s25_stager import Spy, archive
from tests.tmpfs import leave_free, mount_tmpfs

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX links and signals here")


def _outcome(dest: Path, given: list[PayloadItem], child: bool, **kwargs: object
             ) -> tuple[str, list[str]]:
    """The error code of one run (or "done") and what its checkpoints reported."""
    committed: list[str] = []
    try:
        with open_bag(dest) as bag:
            bag.add_files(given, child=child, checkpoint_seconds=3600,
                          on_commit=committed.extend, **kwargs)  # type: ignore[arg-type]
    except BrankasError as exc:
        return exc.code, committed
    return "done", committed


def test_a_full_disk_gives_the_child_the_threads_outcome(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk full at a different point each round: the same code, nothing half-written
    in the staging folder, a valid bag, whoever staged."""
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "1m")
    spy = Spy(monkeypatch)
    given = archive(tmp_path / "src", {f"arsip/B-{i}.pdf": os.urandom(3000) for i in range(3)})
    try:
        outcomes: dict[bool, set[str]] = {True: set(), False: set()}
        for pages in (1, 2, 3, 5, 8):
            for child in (True, False):
                dest = mnt / "brankas"
                with open_bag(dest):
                    pass
                leave_free(mnt, pages)
                code, committed = _outcome(dest, given, child, workers=1, checkpoint_files=1)
                outcomes[child].add(code)
                assert code in ("done", "backup_disk_full"), code
                assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"], (pages, child)
                (mnt / "filler").unlink()
                assert sorted(committed) == sorted(bagformat.read_payload_manifest(dest))
                bagit.Bag(str(dest)).validate()
                shutil.rmtree(dest)
        assert outcomes[True] == outcomes[False] == {"done", "backup_disk_full"}
        assert spy.staged  # the child did stage
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@posix_only
@pytest.mark.parametrize("what", ["link", "file", "pulled"])
def test_a_staging_folder_replaced_or_a_disk_pulled_mid_run_ends_as_with_the_threads(
        tmp_path: Path, what: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first checkpoint the staging folder becomes a link to a folder of the
    laptop holding the same files (or a file), or the whole disk is pulled: the child's
    run fails as the threads' run does, lists nothing more and writes nothing outside."""
    files = sample_files(12)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    gate = threading.Lock()
    stage = bagmod.Bag._stage

    def gated(bag: bagmod.Bag, item: PayloadItem) -> object:
        with gate:
            return stage(bag, item)

    monkeypatch.setattr(bagmod.Bag, "_stage", gated)
    results = {}
    for child in (True, False):
        dest = tmp_path / f"disk-{child}"
        elsewhere = tmp_path / f"laptop-{child}"
        done = []

        def swap(_paths: list[str], dest: Path = dest, elsewhere: Path = elsewhere,
                 done: list[int] = done, child: bool = child) -> None:
            if done:
                return
            done.append(1)
            staging = dest / ".brankas-staging"
            # The swap at once for whoever stages meanwhile (not a window where the
            # staging folder is missing, whose outcome depends on the moment): the child
            # stopped, the threads held at their next copy.
            held = spy.children[-1].proc.pid if child else None
            if held is not None:
                os.kill(held, signal.SIGSTOP)
            gate.acquire()
            try:
                if what == "pulled":
                    dest.rename(dest.with_name(dest.name + "-pulled"))
                elif what == "link":
                    staging.rename(elsewhere)
                    staging.symlink_to(elsewhere, target_is_directory=True)
                else:
                    staging.rename(elsewhere)
                    staging.write_bytes(b"not a folder")
            finally:
                gate.release()
                if held is not None:
                    os.kill(held, signal.SIGCONT)

        committed: list[str] = []
        try:
            with open_bag(dest) as bag:
                bag.add_files(given, child=child, workers=1, checkpoint_files=4,
                              checkpoint_seconds=3600,
                              on_commit=lambda p, s=swap, c=committed: (c.extend(p), s(p)))
            code = "done"
        except BrankasError as exc:
            code = exc.code
        results[child] = (code, len(committed))
        if what != "pulled":
            assert sorted(committed) == sorted(bagformat.read_payload_manifest(dest))
        if what == "link":  # nothing of this run's copies left beside the moved lock
            assert sorted(os.listdir(elsewhere)) == ["lock"]
    assert spy.staged
    assert results[True] == results[False], results
    # The same folder moved and linked back (a link can only reach the same disk: the
    # copies are renamed into data/) is still the disk's; a file there is refused.
    assert results[True][0] == {"link": "done", "file": "backup_disk_gone",
                                "pulled": "backup_disk_gone"}[what], results


@posix_only  # the child reads back only where there is O_NOFOLLOW
def test_a_copy_gone_between_its_opening_and_its_read_is_a_mismatch(tmp_path: Path) -> None:
    """The read-back opens every copy of a batch before it reads them: a copy whose name
    is gone meanwhile is the same mismatch by the child as by the threads (``bag
    ._same_file``), not a fault of the disk."""
    copy = tmp_path / "a.part"
    copy.write_bytes(b"%PDF-1.7 a letter")
    fd = stagerproc._open_copy(os.fsencode(copy))
    assert fd is not None
    try:
        copy.unlink()
        answer = stagerproc._hash_copy(fd, os.fsencode(copy), len(b"%PDF-1.7 a letter"))
    finally:
        os.close(fd)
    assert answer[0] == b"moved", answer


def test_the_child_imports_nothing_from_the_folder_the_run_was_started_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m`` puts the working folder first on the import path: a run started in a
    folder holding a ``hashlib.py`` (a hostile disk's root) must not run it."""
    files = sample_files(4)
    given = archive(tmp_path / "src", files)
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "hashlib.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(7)\n")
    monkeypatch.chdir(evil)
    spy = Spy(monkeypatch)
    with open_bag(tmp_path / "disk") as bag:
        bag.add_files(given, child=True)
    assert not marker.exists()
    assert spy.staged == len(files) and spy.children[0].proc.returncode == 0


def _stop_first_child(spy: Spy) -> None:
    child = spy.children[0]
    if child.proc.poll() is None and not child.late:
        os.kill(child.proc.pid, signal.SIGSTOP)


def _threads_left() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.name.startswith(("brankas-bag", "brankas-stager"))]


@posix_only
def test_a_child_that_stops_answering_is_given_up_and_the_run_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child stopped (SIGSTOP) mid-run held the run for ever: it is killed when its
    answer is overdue, and the run stages and reads back the rest itself."""
    monkeypatch.setattr(stager, "ANSWER_WAIT", 0.4)
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"
    before = _fds()
    with open_bag(dest) as bag:
        result = bag.add_files(given, child=True, checkpoint_files=10,
                               on_commit=lambda _p: _stop_first_child(spy))
    assert _fds() == before  # the child's pipes and error file closed
    child = spy.children[0]
    assert child.late and child.proc.returncode == -signal.SIGKILL
    assert sorted(result.added) == sorted(files)
    assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"]
    bagit.Bag(str(dest)).validate()
    assert not _threads_left()


@posix_only
@pytest.mark.parametrize("where", ["sync, child working", "after commit, child stopped"])
def test_ctrl_c_during_a_checkpoint_ends_the_child_and_its_threads(
        tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """KeyboardInterrupt in the main thread during a checkpoint (the child staging ahead,
    or stopped): the run ends (the child ended, its thread and its watch stopped), leaving
    only what it listed; the next run completes."""
    monkeypatch.setattr(stager, "ANSWER_WAIT", 0.4)
    monkeypatch.setattr(stager, "STOP_WAIT", 0.4)  # a stopped child never reads its end
    files = sample_files(30)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"
    committed: list[str] = []
    syncs: list[int] = []

    def on_commit(paths: list[str]) -> None:
        committed.extend(paths)
        if where.startswith("after commit"):
            _stop_first_child(spy)
            raise KeyboardInterrupt

    def syncing() -> None:
        syncs.append(1)
        # s26: the third checkpoint's sync (the first is listed by the second, beside its
        # read-back; the second is held, read back, and removed with the third)
        if where.startswith("sync") and len(syncs) == 3:
            raise KeyboardInterrupt

    before = _fds()
    with open_bag(dest, hooks=Hooks(syncing=syncing)) as bag, \
            pytest.raises(KeyboardInterrupt):
        bag.add_files(given, child=True, checkpoint_files=10, on_commit=on_commit)
    assert _fds() == before
    assert spy.children[0].proc.returncode is not None
    assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"]
    assert sorted(bagformat.read_payload_manifest(dest)) == sorted(committed)
    assert committed and len(committed) < len(files)
    assert not _threads_left()
    with open_bag(dest) as bag:  # the next run completes
        bag.add_files(given, child=True)
    bagit.Bag(str(dest)).validate()


def _fake(monkeypatch: pytest.MonkeyPatch, how: str) -> stager.Stager:
    monkeypatch.setattr(stager, "CHILD_MODULE", "tests.core.disk.fakestager")
    monkeypatch.setenv("BRANKAS_FAKE_STAGER", how)
    return stager.Stager()


def _two_copies(root: Path) -> list[tuple[str, int]]:
    copies = []
    for name, data in (("a.part", b"%PDF-1.7 letter A"), ("b.part", b"%PDF-1.7 letter B!")):
        (root / name).write_bytes(data)
        copies.append((str(root / name), len(data)))
    return copies


def test_an_answer_repeated_is_never_taken_for_the_next_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that answers one frame too many: the extra frame, read as the answer to the
    next batch, would say a copy on the disk holds another copy's bytes (a read-back
    mismatch the disk never made)."""
    child = _fake(monkeypatch, "double")
    try:
        a, b = _two_copies(tmp_path)
        first = child.read_back([a])
        assert first[0].kind == "ok"
        assert first[0].sha256 == hashlib.sha256(b"%PDF-1.7 letter A").hexdigest()
        with pytest.raises(stager.StagerGone):
            child.read_back([b])
        assert not child.alive
    finally:
        child.close()


@pytest.mark.parametrize("how", ["cut", "huge", "noise"])
def test_an_answer_cut_too_long_or_no_frame_gives_the_child_up(
        tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stager, "ANSWER_WAIT", 0.4)
    child = _fake(monkeypatch, how)
    try:
        with pytest.raises(stager.StagerGone):
            child.read_back(_two_copies(tmp_path))
        assert not child.alive and child.proc.returncode is not None
        assert child.late == (how == "cut")
    finally:
        child.close()


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


@pytest.mark.parametrize("how", ["frozen", "no interpreter", "cannot start"])
def test_without_a_child_to_start_the_run_stages_itself(
        tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen program (its executable is itself: given ``-m`` it would start itself),
    no interpreter, or one that cannot be started: no child, the same bag, no descriptor
    left open."""
    files = sample_files(6)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    if how == "frozen":
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    else:
        monkeypatch.setattr(sys, "executable", "" if how == "no interpreter"
                            else str(tmp_path / "no-such-python"))
    dest = tmp_path / "disk"
    before = _fds()
    with open_bag(dest) as bag:
        result = bag.add_files(given, child=True)
    assert _fds() == before
    assert not spy.children
    assert sorted(result.added) == sorted(files)
    bagit.Bag(str(dest)).validate()


@posix_only
def test_a_disk_mounted_at_a_strange_path_is_staged_and_read_back_by_the_child(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging folder's path comes from where the disk is mounted: spaces, letters
    beyond ASCII, a newline, a byte that is no UTF-8 (Linux names are bytes)."""
    mount = tmp_path / "USB dïsk\nbaru \udcff"  # \udcff: the byte 0xFF, as Python names it
    files = {"arsip/surat édaran 2026.pdf": b"%PDF-1.7 one", "arsip/ä b.pdf": b"%PDF two"}
    given = archive(mount / "sumber \udcfe", files)
    spy = Spy(monkeypatch)
    with open_bag(mount / "disk") as bag:
        result = bag.add_files(given, child=True)
    assert spy.staged == spy.read_back == len(files)
    assert sorted(result.added) == sorted(files)
    assert sorted(os.listdir(mount / "disk" / ".brankas-staging")) == ["lock"]


def test_a_frame_of_exactly_the_limit_is_read_and_one_byte_more_is_not() -> None:
    import io

    body = b"x" * (stagerproc.MAX_FRAME - 2) + b"\0y"
    framed = stagerproc.MAX_FRAME.to_bytes(4, "big") + body
    got = stagerproc.read_frame(io.BytesIO(framed))
    assert got is not None and len(got) == 2 and got[1] == b"y"
    over = (stagerproc.MAX_FRAME + 1).to_bytes(4, "big") + body + b"z"
    assert stagerproc.read_frame(io.BytesIO(over)) is None


_KILLED_RUN = """
import os, signal, sys
from brankas.core.disk.bag import Hooks
from brankas.core.disk import stager
from tests.core.disk.test_bag import open_bag, sample_files
from tests.core.disk.test_s25_stager import archive
from pathlib import Path
root = Path(sys.argv[1])
given = archive(root / "src", sample_files(40))
children = []
init = stager.Stager.__init__
def spy(self):
    init(self)
    children.append(self)
stager.Stager.__init__ = spy
syncs = []
def syncing():
    syncs.append(1)
    if len(syncs) == 2:  # the child staging the next checkpoints meanwhile
        print(children[0].proc.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
with open_bag(root / "disk", hooks=Hooks(syncing=syncing)) as bag:
    bag.add_files(given, child=True, checkpoint_files=10)
"""


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "Z"  # ended, not yet reaped
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_the_run_killed_mid_run_its_child_ends_and_the_next_run_completes(
        tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(tmp_path)],
                         capture_output=True, text=True, env=stager.child_env(), timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    pid = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _ended(pid)  # its input ended with the run: it ended too
    dest = tmp_path / "disk"
    files = sample_files(40)
    with open_bag(dest) as bag:  # the next run sweeps what the child staged, and completes
        bag.add_files(archive(tmp_path / "src", files), child=True)
    assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"]
    assert sorted(bagformat.read_payload_manifest(dest)) == sorted(files)
    bagit.Bag(str(dest)).validate()


@posix_only
def test_ctrl_c_while_the_feed_is_stopped_still_ends_the_child(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second Ctrl-C while the run waits for the feed's thread at its end (a batch still
    being staged): the child still ends, and its watch with it. Left running, the watch
    kept the child's pipes (and so the child) alive as long as the process lived."""
    from brankas.core.disk.bag import _Feed

    feed = _Feed.start()
    assert feed is not None
    release = threading.Event()
    feed.thread.submit(release.wait, 10)  # the batch being staged
    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main
    # Python's own Ctrl-C whatever this process inherited or an earlier test left: SIGINT
    # ignored (a suite started in the background of a shell without job control) or
    # SIG_DFL (an in-process ``run_worker``: django-tasks' reset_signals)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            feed.close()
        assert feed.child.proc.returncode is not None
        assert not feed.child._watch.is_alive()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
        release.set()
        feed.thread.shutdown(wait=True)
        feed.child.close()
