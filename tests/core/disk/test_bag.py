"""The backup disk writer on a real file system, checked with the Library of Congress
``bagit`` library after every run. Faults are injected by wrapping the source opener or
through the bag's hooks, never by mocking the file system."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Bag, Hooks, PayloadItem, file_item, open_or_create, read_medium
from brankas.core.disk.verify import verify
from brankas.core.errors import BrankasError
from tests.tmpfs import mount_tmpfs

ORG = "Dinas Komunikasi dan Informatika"
SOFTWARE = "Brankas 0.1.0"


def open_bag(dest: Path, **kwargs) -> Bag:  # type: ignore[no-untyped-def]
    return open_or_create(dest, label=kwargs.pop("label", "Disk A"), organization=ORG,
                          software=SOFTWARE, **kwargs)


def sample_files(count: int, *, start: int = 0, prefix: str = "arsip/biasa/pengiriman/2026",
                 ) -> dict[str, bytes]:
    out = {}
    for i in range(start, start + count):
        body = hashlib.sha256(f"{prefix}{i}".encode()).digest() * (1 + (i * 37) % 90)
        out[f"{prefix}/B-{i:04d}-nota-dinas.pdf"] = b"%PDF-1.7\n" + body
    return out


def items(files: dict[str, bytes], *, with_hash: bool = True) -> list[PayloadItem]:
    return [
        PayloadItem(path, (lambda data=data: io.BytesIO(data)), len(data),
                    hashlib.sha256(data).hexdigest() if with_hash else None)
        for path, data in files.items()
    ]


def validate(dest: Path) -> None:
    bagit.Bag(str(dest)).validate()


def assert_on_disk(dest: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        assert (dest / "data" / path).read_bytes() == data, path


def error_code(info: pytest.ExceptionInfo[BrankasError]) -> str:
    return info.value.code


# ------------------------------------------------------------------ first, incremental, resumed

def test_first_run_makes_a_valid_bagit_bag(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(25)
    with open_bag(dest) as bag:
        result = bag.add_files(items(files), run="7", checkpoint_files=10)
        medium_id = bag.medium.medium_id
    assert sorted(result.added) == sorted(files)
    assert (result.skipped, result.files) == (0, 25)
    assert result.bytes == result.bytes_added == sum(map(len, files.values()))
    validate(dest)
    assert_on_disk(dest, files)

    assert (dest / "bagit.txt").read_bytes() == (
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )
    info = bagit.Bag(str(dest)).info
    assert info["Payload-Oxum"] == f"{result.bytes}.25"
    assert info["External-Identifier"] == medium_id
    assert info["Source-Organization"] == ORG
    assert info["Bag-Software-Agent"] == SOFTWARE
    assert info["Brankas-Medium-Label"] == "Disk A"
    assert info["Brankas-Run"] == "7"
    manifest = (dest / "manifest-sha256.txt").read_text().splitlines()
    assert len(manifest) == 25
    path, data = next(iter(files.items()))
    assert f"{hashlib.sha256(data).hexdigest()}  data/{path}" in manifest
    tagged = bagformat.read_tag_manifest(dest)
    assert set(tagged) == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                           "brankas-sizes.txt", "brankas-medium.json",
                           "PANDUAN-PEMULIHAN.txt", "RESTORE-GUIDE.txt"}
    assert os.listdir(dest / ".brankas-staging") == ["lock"]


def test_incremental_run_copies_only_what_the_disk_lacks(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    old = sample_files(20)
    with open_bag(dest) as bag:
        bag.add_files(items(old))
    before = {p: (dest / "data" / p).stat() for p in old}
    manifest_before = (dest / "manifest-sha256.txt").stat().st_mtime_ns

    new = sample_files(5, start=100, prefix="arsip/dikecualikan/penerimaan/2026")
    with open_bag(dest) as bag:
        result = bag.add_files(items({**old, **new}))
    assert sorted(result.added) == sorted(new)
    assert result.skipped == 20
    validate(dest)
    assert_on_disk(dest, {**old, **new})
    for path, stat in before.items():
        now = (dest / "data" / path).stat()
        assert (now.st_mtime_ns, now.st_ino) == (stat.st_mtime_ns, stat.st_ino), path

    # A run with nothing new rewrites nothing.
    manifest_after = (dest / "manifest-sha256.txt").stat().st_mtime_ns
    assert manifest_after != manifest_before
    with open_bag(dest) as bag:
        again = bag.add_files(items({**old, **new}))
    assert again.added == () and again.skipped == 25
    assert (dest / "manifest-sha256.txt").stat().st_mtime_ns == manifest_after
    validate(dest)


def test_an_interrupted_run_resumes_and_completes(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(30)
    broken = sorted(files)[17]

    def failing(item: PayloadItem) -> PayloadItem:
        def opener():  # type: ignore[no-untyped-def]
            raise OSError(errno.EIO, "Input/output error")
        if item.path != broken:
            return item
        return PayloadItem(item.path, opener, item.size, item.sha256)

    committed: list[str] = []
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([failing(i) for i in items(files)], on_commit=committed.extend,
                      checkpoint_files=4, workers=1)
    assert error_code(info) == "backup_source_unreadable" and broken in str(info.value)
    validate(dest)
    listed = bagformat.read_payload_manifest(dest)
    assert sorted(listed) == sorted(committed) and broken not in listed
    assert len(committed) >= 16  # what was verified before the failure is kept

    with open_bag(dest) as bag:
        result = bag.add_files(items(files))
    assert sorted(result.added) == sorted(set(files) - set(committed))
    validate(dest)
    assert_on_disk(dest, files)


def test_files_from_the_local_disk(tmp_path: Path) -> None:
    source = tmp_path / "src.pdf"
    source.write_bytes(b"%PDF-1.7 hello")
    with open_bag(tmp_path / "disk") as bag:
        bag.add_files([file_item("arsip/a.pdf", source)])
        assert bag.has("arsip/a.pdf") and bag.sizes["arsip/a.pdf"] == 14
        assert bag.entries["arsip/a.pdf"] == hashlib.sha256(b"%PDF-1.7 hello").hexdigest()
    validate(tmp_path / "disk")


def test_progress_is_reported_through_the_callback(tmp_path: Path) -> None:
    files = sample_files(12)
    seen: list[tuple[int, int, int, int]] = []
    with open_bag(tmp_path / "disk") as bag:
        bag.add_files(items(files), on_progress=lambda *a: seen.append(a))
    total = sum(map(len, files.values()))
    assert seen[0] == (0, 12, 0, total) and seen[-1] == (12, 12, total, total)
    assert [s[0] for s in seen] == list(range(13))


# ------------------------------------------------------------------ the medium

def test_a_disk_is_recognised_by_what_is_written_on_it(tmp_path: Path) -> None:
    with open_bag(tmp_path / "E", label="Disk Brankas 1") as bag:
        bag.add_files(items(sample_files(3)))
        medium = bag.medium
    assert read_medium(tmp_path / "E") == medium
    assert medium.label == "Disk Brankas 1" and medium.organization == ORG
    (tmp_path / "E").rename(tmp_path / "F")  # another drive letter, another mount point
    with open_bag(tmp_path / "F", label="ignored for an existing disk") as bag:
        assert bag.medium == medium
    assert read_medium(tmp_path / "nowhere") is None
    assert json.loads((tmp_path / "F" / "brankas-medium.json").read_text())["medium_id"] == (
        medium.medium_id
    )


def test_a_new_bag_goes_only_into_an_empty_folder(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "laporan.docx").write_bytes(b"x")
    with pytest.raises(BrankasError) as info:
        open_bag(used)
    assert error_code(info) == "backup_dest_not_empty"
    assert sorted(os.listdir(used)) == ["laporan.docx"]

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "a.txt").write_text("a")
    bagit.make_bag(str(foreign))
    with pytest.raises(BrankasError) as info:
        open_bag(foreign)
    assert error_code(info) == "backup_not_brankas"

    # Only the backup folder is made, not the folders above it (the disk's mount point):
    # the message names the first missing one, and nothing is made.
    with pytest.raises(BrankasError) as info:
        open_bag(tmp_path / "not-mounted" / "sub" / "brankas")
    assert error_code(info) == "backup_dest_parent_missing"
    assert info.value.params["parent"] == str(tmp_path / "not-mounted")
    assert f"the folder {tmp_path / 'not-mounted'} does not exist" in info.value.message("en")
    assert f"folder {tmp_path / 'not-mounted'} tidak ada" in info.value.message("id")
    assert not (tmp_path / "not-mounted").exists()
    made = tmp_path / "mounted"
    made.mkdir()
    open_bag(made / "brankas").close()  # the folder itself is made when missing
    assert (made / "brankas" / "bagit.txt").is_file()

    root = tmp_path / "disk-root"  # the root of a disk, with what the OS put there
    (root / "System Volume Information").mkdir(parents=True)
    open_bag(root).close()
    validate(root)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest):
        for attempt in (lambda: open_bag(dest), lambda: verify(dest)):
            with pytest.raises(BrankasError) as info:
                attempt()
            assert error_code(info) == "backup_busy"
    open_bag(dest).close()
    assert verify(dest).ok


# ------------------------------------------------------------------ append-only and names

def test_append_only_a_path_never_gets_other_content(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items({"arsip/a.pdf": b"original content"}))
        for changed in (
            items({"arsip/a.pdf": b"changed content!"}),  # same size, hash given
            items({"arsip/a.pdf": b"changed content!"}, with_hash=False),  # hash of the source
            items({"arsip/a.pdf": b"longer changed content"}, with_hash=False),  # size
        ):
            with pytest.raises(BrankasError) as info:
                bag.add_files(changed)
            assert error_code(info) == "backup_path_conflict" and "arsip/a.pdf" in str(info.value)
        same = bag.add_files(items({"arsip/a.pdf": b"original content"}, with_hash=False))
        assert same.skipped == 1
    assert (dest / "data/arsip/a.pdf").read_bytes() == b"original content"
    validate(dest)


@pytest.mark.parametrize("path", [
    "arsip/CON.pdf", "arsip/a:b.pdf", "arsip/100%.pdf", "../escape.pdf", "arsip//a.pdf",
    "arsip/a.pdf.", "/abs.pdf", "arsip/a\nb.pdf", "arsip/a\\b.pdf", "arsip/e\u0301.pdf",
])
def test_names_invalid_on_exfat_or_ntfs_are_refused(tmp_path: Path, path: str) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([*items(sample_files(2)), PayloadItem(path, lambda: io.BytesIO(b"x"), 1)])
    assert error_code(info) == "backup_name_invalid"
    assert bagformat.read_payload_manifest(dest) == {}  # refused before anything is written
    validate(dest)


def test_case_twins_and_file_folder_clashes_are_refused(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items({"arsip/Nota.pdf": b"a", "arsip/2026/x.pdf": b"b"}))
        for path in ("arsip/NOTA.pdf", "arsip/2026", "arsip/Nota.pdf/y.pdf"):
            with pytest.raises(BrankasError) as info:
                bag.add_files(items({path: b"c"}))
            assert error_code(info) == "backup_name_invalid", path
        with pytest.raises(BrankasError):
            bag.add_files(items({"arsip/new.pdf": b"1"}) + items({"arsip/NEW.pdf": b"2"}))
    validate(dest)


@pytest.mark.parametrize("order", ["file first", "folder first"])
def test_a_file_and_a_folder_of_one_name_in_one_plan_are_refused(tmp_path: Path,
                                                                 order: str) -> None:
    """Within one plan, after many files of the same folders were planned (s19 P15: a
    folder found clear is not checked again for each of its files)."""
    siblings = sample_files(30, prefix="arsip/biasa/2026")
    clash = {"arsip/biasa/2026/Rapat": b"a file", "arsip/biasa/2026/rapat/x.pdf": b"b"}
    pairs = list(clash.items())
    if order == "folder first":
        pairs.reverse()
    given = {**siblings, pairs[0][0]: pairs[0][1], **sample_files(5, start=40,
             prefix="arsip/biasa/2026"), pairs[1][0]: pairs[1][1]}
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        with pytest.raises(BrankasError) as info:
            bag.add_files(items(given))
        assert error_code(info) == "backup_name_invalid"
        assert ("is a file, not a folder" if order == "file first"
                else "a folder of that name exists") in info.value.message(), info.value
        assert bag.entries == {}
    validate(dest)


def test_names_listed_by_an_earlier_plan_of_the_same_bag_are_twins_and_unlisted_are_not(
        tmp_path: Path) -> None:
    """The folded names a plan checks are brought up to date with what the plans before
    it listed (the listing's paths listed since): a copy committed before a failure is
    a twin to later plans; a path planned but never listed (its copy failed) is not."""
    dest = tmp_path / "disk"
    data = b"%PDF-1.7 register says otherwise"
    with open_bag(dest) as bag:
        bag.add_files(items({"arsip/Satu.pdf": b"1"}))
        good = items({"arsip/Dua.pdf": b"2"})
        bad = PayloadItem("arsip/Tiga.pdf", lambda: io.BytesIO(data), len(data), "0" * 64)
        with pytest.raises(BrankasError) as info:
            bag.add_files(good + [bad], workers=1)
        assert error_code(info) == "backup_source_changed"
        assert "arsip/Dua.pdf" in bag.entries and "arsip/Tiga.pdf" not in bag.entries
        for twin in ("arsip/SATU.pdf", "arsip/dua.pdf"):
            with pytest.raises(BrankasError) as info:
                bag.add_files(items({twin: b"x"}))
            assert error_code(info) == "backup_name_invalid", twin
        bag.add_files(items({"arsip/tiga.pdf": b"3"}))  # its twin was never listed
        assert "arsip/tiga.pdf" in bag.entries
    validate(dest)


def test_a_strangers_file_is_neither_overwritten_nor_blessed(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    open_bag(dest).close()
    (dest / "data/arsip").mkdir(parents=True)
    (dest / "data/arsip/a.pdf").write_bytes(b"not from brankas")
    with open_bag(dest) as bag:  # opening does not add it to the manifest
        assert not bag.has("arsip/a.pdf")
        with pytest.raises(BrankasError) as info:
            bag.add_files(items({"arsip/a.pdf": b"ours"}))
        assert error_code(info) == "backup_unexpected_file"
    assert (dest / "data/arsip/a.pdf").read_bytes() == b"not from brankas"
    assert verify(dest).unexpected == ["arsip/a.pdf"]


def test_a_source_that_is_not_what_the_register_says_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    data = b"%PDF-1.7 register says otherwise"
    wrong_size = PayloadItem("arsip/a.pdf", lambda: io.BytesIO(data), len(data) + 1)
    wrong_hash = PayloadItem("arsip/b.pdf", lambda: io.BytesIO(data), len(data), "0" * 64)
    with open_bag(dest) as bag:
        for item in (wrong_size, wrong_hash):
            with pytest.raises(BrankasError) as info:
                bag.add_files([item])
            assert error_code(info) == "backup_source_changed" and item.path in str(info.value)
        assert dict(bag.entries) == {}
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)


# ------------------------------------------------------------------ read-after-write

def test_read_after_write_catches_a_disk_that_returns_other_bytes(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(6)
    victim = sorted(files)[3]
    victim_data = files[victim]

    def corrupt(staged: Path) -> None:  # the disk changes a byte between write and re-read
        if staged.read_bytes() == victim_data:
            with open(staged, "r+b") as fh:
                fh.seek(len(victim_data) // 2)
                byte = fh.read(1)
                fh.seek(-1, os.SEEK_CUR)
                fh.write(bytes([byte[0] ^ 0x01]))

    with open_bag(dest, hooks=Hooks(staged=corrupt)) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1)
    assert error_code(info) == "backup_readback_mismatch"
    assert victim in str(info.value)
    assert victim not in bagformat.read_payload_manifest(dest)
    assert not (dest / "data" / victim).exists()
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)

    with open_bag(dest) as bag:  # a healthy disk completes the run
        bag.add_files(items(files))
    assert_on_disk(dest, files)
    validate(dest)


# ------------------------------------------------------------------ the disk fails

def test_disk_io_error_is_reported_as_disk_gone_and_the_bag_stays_valid(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(10)
    calls = []

    def failing_disk(staged: Path) -> None:
        content = staged.read_bytes()  # which document this staged copy is
        calls.append(next(path for path, data in files.items() if data == content))
        if len(calls) == 6:
            raise OSError(errno.EIO, "Input/output error")

    committed: list[str] = []
    syncs: list[int] = []
    # Checkpoints by count only (never by the clock: a slow moment would cut one short and
    # move the failing read-back into another checkpoint).
    with open_bag(dest, hooks=Hooks(staged=failing_disk,
                                    syncing=lambda: syncs.append(len(committed)))) as bag, \
            pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1, checkpoint_files=2, checkpoint_seconds=3600,
                      on_commit=committed.extend)
    assert error_code(info) == "backup_disk_gone" and str(dest) in str(info.value)
    assert syncs == [0, 2, 4]  # the third checkpoint's second read-back failed
    assert sorted(committed) == sorted(bagformat.read_payload_manifest(dest))
    assert len(committed) == 4 and set(committed) <= set(files)
    # Which four depends on the order the copies reach the disk (a reader runs ahead); the
    # one whose read-back failed is never among them.
    assert calls[5] not in committed and set(committed) <= set(calls[:4]), calls
    validate(dest)


def test_disk_removed_mid_run_reports_nothing_that_is_not_on_it(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(12)
    order = sorted(files)
    committed: list[str] = []
    removed = []

    def pulling(item: PayloadItem) -> PayloadItem:
        def opener():  # type: ignore[no-untyped-def]
            if item.path == order[7]:
                # The disk is pulled out: at once, as a disk is (a rename: an rmtree is not
                # atomic, and failed half-way on a file the checkpoint in flight was
                # writing, its error then taken for the source's: it failed under load).
                os.rename(dest, dest.with_name("pulled"))
                removed.append(len(committed))
            return io.BytesIO(files[item.path])
        return PayloadItem(item.path, opener, item.size, item.sha256)

    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([pulling(i) for i in items(files)], workers=1, checkpoint_files=3,
                      checkpoint_seconds=3600,  # by count only, never by the clock
                      on_commit=committed.extend)
    assert error_code(info) == "backup_disk_gone"
    # Nothing reported after the removal: the checkpoints before it (none, one or two: the
    # thread stages ahead while a checkpoint waits for the disk, so on a loaded machine the
    # eighth file may be opened during the first or the second checkpoint, which then fails).
    # A checkpoint whose last write to the disk was done before the pull may still report
    # its three files (they were on the disk, listed, when it was pulled).
    assert removed and removed[0] in (0, 3, 6) and len(committed) - removed[0] in (0, 3)
    assert len(committed) <= 6
    # Files opened before the disk was pulled (which depends on the order the copy
    # thread's read-backs finished in: not always the name order).
    assert len(set(committed)) == removed[0] and set(committed) <= set(order[:7]), committed


def test_disk_full_keeps_a_valid_bag_and_a_later_run_completes(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "2m")
    try:
        dest = mnt / "brankas"
        files = {f"arsip/biasa/pengiriman/2026/B-{i:03d}.pdf": os.urandom(300_000)
                 for i in range(10)}
        committed: list[str] = []
        with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
            bag.add_files(items(files), workers=2, checkpoint_files=2,
                          on_commit=committed.extend)  # few in flight: some commit first
        assert error_code(info) == "backup_disk_full" and str(dest) in str(info.value)
        validate(dest)
        # Some checkpoints commit before the disk is full, as a rule; under load the copies
        # staged ahead (bag._copy_plan tops the threads up during a checkpoint's waits) can
        # fill it first, and none does: either way what is listed is what was committed.
        assert len(committed) < len(files)
        assert sorted(committed) == sorted(bagformat.read_payload_manifest(dest))
        assert os.listdir(dest / ".brankas-staging") == ["lock"]  # partial copies removed

        subprocess.run(["mount", "-o", "remount,size=8m", str(mnt)], check=True)
        with open_bag(dest) as bag:
            result = bag.add_files(items(files))
        assert sorted(result.added) == sorted(set(files) - set(committed))
        validate(dest)
        assert_on_disk(dest, files)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_at_any_step_of_a_commit_leaves_no_stray_file(tmp_path: Path) -> None:
    """The disk fills up at a different point each round (payload, tag files, journal):
    whatever fails, the staging folder holds only the lock and the bag stays valid."""
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "1m")
    try:
        outcomes = set()
        for pages in range(1, 13):
            dest = mnt / f"brankas-{pages}"
            with open_bag(dest):
                pass
            filler = mnt / "filler"
            free = shutil.disk_usage(mnt).free
            with open(filler, "wb") as fh:  # leave exactly `pages` pages free
                fh.write(b"\0" * max(0, free - pages * 4096))
            files = {f"arsip/biasa/pengiriman/2026/B-{i:03d}.pdf": os.urandom(3000)
                     for i in range(3)}
            try:
                with open_bag(dest) as bag:
                    bag.add_files(items(files), workers=1, checkpoint_files=1)
                outcomes.add("done")
            except BrankasError as exc:
                assert exc.code == "backup_disk_full", exc
                outcomes.add("full")
            assert sorted(os.listdir(dest / ".brankas-staging")) == ["lock"], pages
            filler.unlink()
            validate(dest)
            shutil.rmtree(dest)
        assert outcomes == {"done", "full"}  # the rounds did reach both ends
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# ------------------------------------------------------------------ the commit window

def _break_window(dest: Path, files: dict[str, bytes]) -> None:
    def crash() -> None:
        raise RuntimeError("killed inside the commit window")

    with open_bag(dest, hooks=Hooks(committing=crash)) as bag, pytest.raises(RuntimeError):
        bag.add_files(items(files))


def test_a_commit_cut_short_is_repaired_on_the_next_open(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    old, new = sample_files(5), sample_files(7, start=50)
    with open_bag(dest) as bag:
        bag.add_files(items(old))
    _break_window(dest, new)
    with pytest.raises(bagit.BagValidationError):
        validate(dest)  # the documented window: renamed, not yet listed
    with open_bag(dest) as bag:
        assert sorted(bag.entries) == sorted({**old, **new})
    validate(dest)
    assert_on_disk(dest, {**old, **new})
    assert os.listdir(dest / ".brankas-staging") == ["lock"]


def test_a_rename_the_disk_lost_is_redone_from_the_staged_copy(tmp_path: Path) -> None:
    """As after a power cut that persisted the journal but not a rename."""
    dest = tmp_path / "disk"
    files = sample_files(4)
    _break_window(dest, files)
    journal = json.loads((dest / ".brankas-staging/commit.json").read_text())
    lost = journal["files"][0]
    os.replace(dest / "data" / lost["path"], dest / ".brankas-staging" / lost["staged"])
    with open_bag(dest) as bag:
        assert sorted(bag.entries) == sorted(files)
    validate(dest)
    assert_on_disk(dest, files)


def test_the_same_bag_object_repairs_before_its_next_run(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    fail = [True]

    def crash_once() -> None:
        if fail.pop() if fail else False:
            raise RuntimeError("cut")

    with open_bag(dest, hooks=Hooks(committing=crash_once)) as bag:
        with pytest.raises(RuntimeError):
            bag.add_files(items(sample_files(3)))
        bag.add_files(items(sample_files(3, start=10)))
        assert len(bag.entries) == 6
    validate(dest)


# ------------------------------------------------------------------ the restore guide

def test_the_restore_guide_is_on_the_disk_and_sha256sum_checks_it(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    files = sample_files(8)
    with open_bag(dest) as bag:
        bag.add_files(items(files))
    english = (dest / "RESTORE-GUIDE.txt").read_text(encoding="utf-8")
    indonesian = (dest / "PANDUAN-PEMULIHAN.txt").read_text(encoding="utf-8")
    for guide in (english, indonesian):
        assert "sha256sum -c" in guide and "manifest-sha256.txt" in guide
        assert "age -d -i data/keys/" in guide and "AGE-SECRET-KEY-1" in guide
    assert "PDF reader" in english and "pembaca PDF" in indonesian
    tagged = bagformat.read_tag_manifest(dest)
    assert {"RESTORE-GUIDE.txt", "PANDUAN-PEMULIHAN.txt"} <= set(tagged)

    def sha256sum(manifest: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sha256sum", "-c", manifest], cwd=dest, capture_output=True,
                              text=True)

    assert sha256sum("manifest-sha256.txt").returncode == 0
    assert sha256sum("tagmanifest-sha256.txt").returncode == 0
    victim = sorted(files)[2]
    flip(dest / "data" / victim)
    failed = sha256sum("manifest-sha256.txt")
    assert failed.returncode != 0
    assert f"data/{victim}: FAILED" in failed.stdout


def test_an_outdated_guide_is_brought_up_to_date_on_open(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    open_bag(dest).close()
    (dest / "RESTORE-GUIDE.txt").write_text("old guide")
    with pytest.raises(bagit.BagValidationError):
        validate(dest)
    open_bag(dest).close()
    assert "sha256sum -c" in (dest / "RESTORE-GUIDE.txt").read_text()
    validate(dest)


def flip(path: Path, offset: int = 20) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


# ------------------------------------------------------------------ the format

@pytest.mark.parametrize("name", ["a%b.pdf", "a\nb", "a\rb", "100%0A.pdf", "plain.pdf"])
def test_manifest_paths_are_percent_encoded_as_rfc_8493_says(name: str) -> None:
    encoded = bagformat.encode_path(name)
    assert "\n" not in encoded and "\r" not in encoded
    assert bagformat.decode_path(encoded) == name


def test_a_progress_callback_can_stop_a_run(tmp_path: Path) -> None:
    """An exception from a callback (the user pressed Ctrl-C) leaves a valid bag."""
    dest = tmp_path / "disk"

    def stop(done: int, *_: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with open_bag(dest) as bag, pytest.raises(KeyboardInterrupt):
        bag.add_files(items(sample_files(20)), on_progress=stop, checkpoint_files=2)
    validate(dest)
    assert os.listdir(dest / ".brankas-staging") == ["lock"]



# ------------------------------------------------------------------ a disk is hostile input

def test_a_disk_replaced_mid_run_gets_nothing_of_the_first(tmp_path: Path) -> None:
    """The operator swaps disks at the same mount point during a run: the writer notices
    at its next checkpoint (the lock it holds and the identity it read are not this
    disk's) and stops; the second disk's bag is untouched."""
    dest, first, other = tmp_path / "E", tmp_path / "first", tmp_path / "other"
    with open_bag(other, label="Disk B") as bag:
        bag.add_files(items(sample_files(3, prefix="arsip/biasa/penerimaan/2025")))
    before = {p.name: p.read_bytes() for p in other.iterdir() if p.is_file()}
    files = sample_files(4)
    plan = items(files)

    def swap_then_open(data: bytes) -> io.BytesIO:
        if not first.exists():  # the first copy is staged on disk A: now swap the disks
            dest.rename(first)
            other.rename(dest)
        return io.BytesIO(data)

    plan[1:] = [PayloadItem(i.path, (lambda d=files[i.path]: swap_then_open(d)), i.size,
                            i.sha256) for i in plan[1:]]
    with open_bag(dest) as bag, pytest.raises(BrankasError) as refused:
        bag.add_files(plan, workers=1, checkpoint_files=1000)
    assert refused.value.code == "backup_disk_replaced"
    after = {p.name: p.read_bytes() for p in dest.iterdir() if p.is_file()}
    assert after == before  # disk B's tag files, manifest included, are as they were
    validate(dest)


@pytest.mark.skipif(os.name == "nt", reason="symlinks need POSIX here")
def test_a_staging_folder_that_is_a_link_deletes_nothing_anywhere(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(2)))
    laptop = tmp_path / "laptop-data"
    laptop.mkdir()
    (laptop / "brankas.sqlite3").write_bytes(b"the register")
    shutil.rmtree(dest / ".brankas-staging")
    (dest / ".brankas-staging").symlink_to(laptop)
    with pytest.raises(BrankasError) as refused:
        open_bag(dest)
    assert refused.value.code == "backup_staging_foreign"
    assert ".brankas-staging" in refused.value.message("en")
    assert sorted(p.name for p in laptop.iterdir()) == ["brankas.sqlite3"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need POSIX here")
def test_a_stranger_in_the_staging_folder_is_named_and_kept(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(2)))
    (dest / ".brankas-staging" / "catatan.txt").write_text("not ours")
    (dest / ".brankas-staging" / "0123456789ab-00000001.part").symlink_to(tmp_path)
    with pytest.raises(BrankasError) as refused:
        open_bag(dest)
    assert refused.value.code == "backup_staging_foreign"
    assert (dest / ".brankas-staging" / "catatan.txt").read_text() == "not ours"
    assert (dest / ".brankas-staging" / "0123456789ab-00000001.part").is_symlink()


@pytest.mark.skipif(os.name == "nt", reason="symlinks need POSIX here")
def test_a_folder_link_inside_data_is_not_written_through(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(1)))
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "data" / "arsip" / "dikecualikan").symlink_to(outside, target_is_directory=True)
    with open_bag(dest) as bag, pytest.raises(BrankasError) as refused:
        bag.add_files(items(sample_files(1, prefix="arsip/dikecualikan/penerimaan/2026")))
    assert refused.value.code == "disk_link"
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("what", ["file", "link", "dangling link", "folder"])
def test_a_strangers_entry_put_in_place_after_the_plan_is_never_replaced(
        tmp_path: Path, what: str) -> None:
    """Something made at a copy's final path after its plan checked it (a stranger writing
    beside us, just before the checkpoint's window): the checkpoint is refused, the
    stranger's entry left as it is, and nothing of the checkpoint listed (s19 P15: the
    check and the rename are one ``renameat2(RENAME_NOREPLACE)`` on Linux)."""
    dest = tmp_path / "disk"
    files = sample_files(3, prefix="arsip/2026")
    target = sorted(files)[1]
    final = dest / "data" / target
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"outside")

    def stranger() -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        if what == "file":
            final.write_bytes(b"not from brankas")
        elif what == "link":
            final.symlink_to(outside)
        elif what == "dangling link":
            final.symlink_to(tmp_path / "nowhere")
        else:
            final.mkdir()

    with open_bag(dest, hooks=Hooks(syncing=stranger)) as bag, \
            pytest.raises(BrankasError) as info:
        bag.add_files(items(files), workers=1)
    assert error_code(info) == "backup_unexpected_file" and target in str(info.value)
    assert outside.read_bytes() == b"outside"
    if what == "file":
        assert final.read_bytes() == b"not from brankas"
    elif what == "folder":
        assert final.is_dir() and not any(final.iterdir())
    else:
        assert final.is_symlink()
    with open_bag(dest) as bag:  # the journal repaired: what is listed is there, whole
        assert target not in bag.entries
        for path in bag.entries:
            assert (dest / "data" / path).read_bytes() == files[path]


def test_move_new_never_replaces_and_falls_back_where_renameat2_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from brankas.core.disk import state as statemodule

    for refused in (False, True):
        if refused:  # a file system without RENAME_NOREPLACE: lexists, then os.replace
            monkeypatch.setattr(statemodule, "_renameat2", False)
        src, dst, there = (tmp_path / f"{refused}-{n}" for n in ("src", "dst", "there"))
        src.write_bytes(b"new")
        there.write_bytes(b"old")
        with pytest.raises(FileExistsError):
            statemodule.move_new(str(src), str(there))
        assert there.read_bytes() == b"old" and src.read_bytes() == b"new"
        statemodule.move_new(str(src), str(dst))
        assert dst.read_bytes() == b"new" and not src.exists()


def test_move_new_falls_back_safely_where_the_call_is_refused_or_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system refusing RENAME_NOREPLACE (EINVAL: vfat, exFAT through FUSE), a C
    library without ``renameat2`` (musl, glibc before 2.28) and a system that is not
    Linux (Windows: no libc looked up) all take the two steps, which never replace
    anything, a dangling link included."""
    import ctypes
    import sys

    from brankas.core.disk import state as statemodule

    calls: list[int] = []

    def refusing(*_args: object) -> int:
        calls.append(1)
        ctypes.set_errno(errno.EINVAL)
        return -1

    class NoRenameat2:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

    cases = {"einval": lambda: monkeypatch.setattr(statemodule, "_renameat2", refusing),
             "nolibc": lambda: (monkeypatch.setattr(statemodule, "_renameat2", None),
                                monkeypatch.setattr(ctypes, "CDLL", NoRenameat2)),
             "windows": lambda: (monkeypatch.setattr(statemodule, "_renameat2", None),
                                 monkeypatch.setattr(sys, "platform", "win32"))}
    for name, arrange in cases.items():
        arrange()
        src, dst, link = (tmp_path / f"{name}-{n}" for n in ("src", "dst", "link"))
        src.write_bytes(b"new")
        link.symlink_to(tmp_path / "nowhere")
        with pytest.raises(FileExistsError):
            statemodule.move_new(str(src), str(link))
        assert link.is_symlink() and not (tmp_path / "nowhere").exists()
        assert statemodule._renameat2 is False  # the two steps from now on
        statemodule.move_new(str(src), str(dst))
        assert dst.read_bytes() == b"new" and not src.exists()
        monkeypatch.undo()
    assert calls == [1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("size", [10, 2 << 20])
def test_a_source_replaced_by_a_fifo_is_refused_without_blocking(tmp_path: Path,
                                                                  size: int) -> None:
    """An archive file replaced by a FIFO after planning (no writer at the other end):
    the copy is refused at once, nothing listed; it never waits for a writer."""
    import threading

    from brankas.core.disk.bag import FileOpener

    dest, src = tmp_path / "disk", tmp_path / "src"
    src.mkdir()
    data = os.urandom(size)
    source = src / "a.pdf"
    source.write_bytes(data)
    item = PayloadItem("arsip/a.pdf", FileOpener(str(source)), size,
                       hashlib.sha256(data).hexdigest())
    source.unlink()
    os.mkfifo(source)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with open_bag(dest) as bag:
                bag.add_files([item], checkpoint_files=1)
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    blocked = thread.is_alive()
    if blocked:  # let the blocked open go (a writer at the other end), then fail
        fd = os.open(source, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(20)
    assert not blocked, "the copy waited for a writer at the other end of a FIFO"
    assert errors and isinstance(errors[0], BrankasError), errors
    assert errors[0].code == "backup_source_unreadable"
    assert bagformat.read_payload_manifest(dest) == {}


@pytest.mark.parametrize("size", [1000, 2 << 20])  # read whole in one read; streamed
@pytest.mark.parametrize("change", ["grown", "shrunk", "emptied", "same size", "link"])
def test_an_archive_file_changed_after_planning_is_refused_and_nothing_listed(
        tmp_path: Path, size: int, change: str) -> None:
    """Checked against the register's size and SHA-256 while it is copied: a source
    grown by a byte, shrunk by a byte, emptied, rewritten with other bytes of the same
    size, or replaced by a link to another file is refused; nothing of it is listed."""
    from brankas.core.disk.bag import FileOpener

    dest, src = tmp_path / "disk", tmp_path / "src"
    src.mkdir()
    data = os.urandom(size)
    source = src / "a.pdf"
    source.write_bytes(data)
    item = PayloadItem("arsip/a.pdf", FileOpener(str(source)), size,
                       hashlib.sha256(data).hexdigest())
    other = bytes(b ^ 1 for b in data[:16]) + data[16:]
    if change == "grown":
        source.write_bytes(data + b"x")
    elif change == "shrunk":
        source.write_bytes(data[:-1])
    elif change == "emptied":
        source.write_bytes(b"")
    elif change == "same size":
        source.write_bytes(other)
    else:
        (src / "other.pdf").write_bytes(other)
        source.unlink()
        source.symlink_to(src / "other.pdf")
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([item], checkpoint_files=1)
    assert info.value.code == "backup_source_changed", info.value
    assert bagformat.read_payload_manifest(dest) == {}
    assert not (dest / "data" / "arsip" / "a.pdf").exists()
    assert not list((dest / ".brankas-staging").glob("*.part"))
