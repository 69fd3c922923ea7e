"""The staging child (session 25, ``disk.stager`` / ``disk.stagerproc``): a second process
stages a run's small files and reads them back while the run checkpoints. It must give
exactly what the run's own threads give: the same bag, the same refusals, the same
read-back failures; a child that dies or answers nonsense is given up and the run stages
the rest itself. Real files, a real second process, the real ``bagit`` library."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import bag as bagmod
from brankas.core.disk import format as bagformat
from brankas.core.disk import stager, stagerproc
from brankas.core.disk.bag import FileOpener, Hooks, PayloadItem
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import assert_on_disk, open_bag, sample_files


def archive(root: Path, files: dict[str, bytes]) -> list[PayloadItem]:
    """The files written under ``root`` and their items as a run gives them (a
    ``FileOpener``, the size and SHA-256 the register holds)."""
    out = []
    for path, data in files.items():
        source = root / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        out.append(PayloadItem(path, FileOpener(str(source)), len(data),
                               hashlib.sha256(data).hexdigest()))
    return out


class Spy:
    """Counts what the real child is asked (it still does the work)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.staged = self.read_back = 0
        self.children: list[stager.Stager] = []
        cls = stager.Stager
        stage, read_back, init = cls.stage, cls.read_back, cls.__init__

        def spy_init(child: stager.Stager) -> None:
            init(child)
            self.children.append(child)

        def spy_stage(child: stager.Stager, requests: list[stager.Request]) -> list[stager.Answer]:
            self.staged += len(requests)
            return stage(child, requests)

        def spy_read_back(child: stager.Stager,
                          copies: list[tuple[str, int]]) -> list[stager.Answer]:
            self.read_back += len(copies)
            return read_back(child, copies)

        monkeypatch.setattr(stager.Stager, "__init__", spy_init)
        monkeypatch.setattr(stager.Stager, "stage", spy_stage)
        monkeypatch.setattr(stager.Stager, "read_back", spy_read_back)


def _staging_empty(dest: Path) -> bool:
    return os.listdir(dest / ".brankas-staging") == ["lock"]


def test_the_child_makes_the_bag_the_threads_make(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    files = sample_files(120)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    with open_bag(tmp_path / "child") as bag:
        result = bag.add_files(given, child=True, checkpoint_files=40)
    assert spy.staged == spy.read_back == len(files)  # the child did both, for every file
    assert len(spy.children) == 1 and spy.children[0].proc.returncode == 0  # and ended
    with open_bag(tmp_path / "threads") as bag:
        bag.add_files(given, child=False, checkpoint_files=40)
    assert spy.staged == len(files)
    assert sorted(result.added) == sorted(files)
    assert_on_disk(tmp_path / "child", files)
    bagit.Bag(str(tmp_path / "child")).validate()
    assert (bagformat.read_payload_manifest(tmp_path / "child")
            == bagformat.read_payload_manifest(tmp_path / "threads"))
    assert _staging_empty(tmp_path / "child")


def test_many_small_files_get_a_child_by_default_and_few_do_not() -> None:
    assert bagmod.stager_wanted(100_000, 1, None)
    assert bagmod.stager_wanted(bagmod._CHILD_FILES, 1, None)
    assert not bagmod.stager_wanted(bagmod._CHILD_FILES - 1, 1, None)
    assert not bagmod.stager_wanted(100_000, 4, None)  # large files: four threads
    assert bagmod.stager_wanted(3, 4, True) and not bagmod.stager_wanted(100_000, 1, False)


def _hostile_sources(root: Path) -> dict[str, tuple[PayloadItem, str, str]]:
    """Sources that are not what the register says: each item, the error's code and a
    word of its detail."""
    good = b"%PDF-1.7 a letter\n" * 20
    sha = hashlib.sha256(good).hexdigest()
    root.mkdir()

    def put(name: str, data: bytes) -> str:
        (root / name).write_bytes(data)
        return str(root / name)

    fifo = root / "fifo.pdf"
    os.mkfifo(fifo)  # a FIFO where a document was: refused at once, never waited on
    (root / "folder.pdf").mkdir()
    return {
        "missing": (PayloadItem("arsip/a.pdf", FileOpener(str(root / "gone.pdf")), len(good), sha),
                    "backup_source_unreadable", "No such file"),
        "grown": (PayloadItem("arsip/b.pdf", FileOpener(put("b.pdf", good + b"more")),
                              len(good), sha), "backup_source_changed", "more than"),
        "shrunk": (PayloadItem("arsip/c.pdf", FileOpener(put("c.pdf", good[:-5])),
                               len(good), sha), "backup_source_changed", f"{len(good) - 5} bytes"),
        "other bytes": (PayloadItem("arsip/d.pdf", FileOpener(put("d.pdf", good.upper())),
                                    len(good), sha), "backup_source_changed", "SHA-256"),
        "fifo": (PayloadItem("arsip/e.pdf", FileOpener(str(fifo)), len(good), sha),
                 "backup_source_unreadable", "not a regular file"),
        "folder": (PayloadItem("arsip/f.pdf", FileOpener(str(root / "folder.pdf")), len(good),
                               sha), "backup_source_unreadable", ""),
    }


@pytest.mark.parametrize("case", ["missing", "grown", "shrunk", "other bytes", "fifo", "folder"])
def test_a_bad_source_is_refused_as_the_threads_refuse_it(tmp_path: Path, case: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    item, code, word = _hostile_sources(tmp_path / "src")[case]
    fine = archive(tmp_path / "fine", sample_files(5))
    spy = Spy(monkeypatch)
    errors = []
    for child in (True, False):
        dest = tmp_path / f"disk-{child}"
        with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
            bag.add_files([*fine[:2], item, *fine[2:]], child=child)
        errors.append((info.value.code, str(info.value)))
        assert item.path not in bagformat.read_payload_manifest(dest)
        assert _staging_empty(dest)  # nothing half-written left behind
        bagit.Bag(str(dest)).validate()
    assert spy.staged >= 3  # the child was asked, up to the bad one
    assert errors[0] == errors[1]  # the same error, word for word
    assert errors[0][0] == code and word in errors[0][1] and item.path in errors[0][1]


@pytest.mark.parametrize("child", [True, False])
def test_a_copy_changed_before_its_read_back_is_never_listed(
        tmp_path: Path, child: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk changes a copy after it was written (other bytes; a link in its place):
    the read-back, by the child or by the threads, refuses it and lists the others."""
    files = sample_files(8)
    given = archive(tmp_path / "src", files)
    victims = sorted(files)[2:4]
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"

    def tamper() -> None:  # just before the sync: every copy of the checkpoint is staged
        for staged in (dest / ".brankas-staging").glob("*.part"):
            data = staged.read_bytes()
            if data == files[victims[0]]:
                staged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
            elif data == files[victims[1]]:
                staged.unlink()
                staged.symlink_to(tmp_path / "src" / victims[1])

    with open_bag(dest, hooks=Hooks(syncing=tamper)) as bag, \
            pytest.raises(BrankasError) as info:
        bag.add_files(given, child=child, checkpoint_files=100)
    assert info.value.code == "backup_readback_mismatch"
    assert spy.read_back == (len(files) if child else 0)
    listed = bagformat.read_payload_manifest(dest)
    assert sorted(listed) == sorted(set(files) - set(victims))
    assert _staging_empty(dest)
    bagit.Bag(str(dest)).validate()


def test_a_child_killed_mid_run_is_given_up_and_the_run_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sample_files(90)
    given = archive(tmp_path / "src", files)
    spy = Spy(monkeypatch)
    dest = tmp_path / "disk"

    def kill_child() -> None:  # at the first checkpoint's sync (s26: its listing comes
        child = spy.children[0]  # a checkpoint later, when the child may have staged all)
        if child.proc.poll() is None:
            os.kill(child.proc.pid, signal.SIGKILL)
            child.proc.wait()

    with open_bag(dest, hooks=Hooks(syncing=kill_child)) as bag:
        result = bag.add_files(given, child=True, checkpoint_files=20)
    assert spy.children[0].proc.returncode == -signal.SIGKILL
    assert not spy.children[0].alive  # given up: the run staged the rest itself
    assert 20 <= spy.staged < len(files)
    assert sorted(result.added) == sorted(files)
    assert_on_disk(dest, files)
    assert _staging_empty(dest)
    bagit.Bag(str(dest)).validate()


@pytest.mark.parametrize("reply, asked, every", [
    ([b"ok", b"0" * 63, b"5", b""], 1, False),  # a SHA-256 of 63 digits
    ([b"ok", b"0" * 64, b"five", b""], 1, False),  # a size that is no number
    ([b"ok", b"0" * 64, b"5"], 1, False),  # a field short
    ([b"ok", b"0" * 64, b"5", b"", b"ok", b"0" * 64, b"5", b""], 1, False),  # more than asked
    ([b"ok", b"0" * 64, b"5", b""], 2, False),  # fewer, none failed
    ([b"sha", b"", b"", b"", b"ok", b"0" * 64, b"5", b""], 2, False),  # on after a failure
    ([b"link", b"", b"", b""], 1, False),  # a kind that does not exist
    ([b"notfile", b"", b"", b""], 1, False),  # a read-back answer to a staging batch
    ([b"size", b"3", b"", b""], 1, True),  # a staging answer to a read-back batch
    ([b"notfile", b"", b"", b""], 2, True),  # a read-back answers every copy
    ([b"disk", b"x", b"m", b"p"], 1, True),  # an errno that is no number
    ([], 1, False),
])
def test_an_answer_that_is_not_one_is_refused(reply: list[bytes], asked: int,
                                             every: bool) -> None:
    assert stager.answers(reply, asked, every=every) is None


def test_the_frames_hold_what_was_sent_and_refuse_a_cut_or_huge_one(tmp_path: Path) -> None:
    import io
    fields = [b"S", os.fsencode("/tmp/a b\u00e9.pdf"), b"12", b""]
    framed = stagerproc.frame(fields)
    assert stagerproc.read_frame(io.BytesIO(framed)) == fields
    assert stagerproc.read_frame(io.BytesIO(framed[:-1])) is None
    assert stagerproc.read_frame(io.BytesIO((stagerproc.MAX_FRAME + 1).to_bytes(4, "big"))) is None
    # A copy's name already taken on the disk is never replaced nor removed.
    taken = tmp_path / "taken.part"
    taken.write_bytes(b"someone else's")
    source = tmp_path / "s.pdf"
    source.write_bytes(b"%PDF")
    answer = stagerproc.stage_one(os.fsencode(source), os.fsencode(taken), 4, b"")
    assert answer[0] == b"disk" and int(answer[1]) == errno.EEXIST
    assert taken.read_bytes() == b"someone else's"
