"""The copy loop's shortcuts (session 16): small archive files copied whole and a batch
per thread task, and the files the caller's records say are on the disk checked by a
folder listing. Real files, real folders; faults by the files themselves."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from brankas.core.disk import bag as bagmodule
from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import FileOpener, PayloadItem
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import error_code, open_bag, sample_files, validate


def archive(tmp_path: Path, files: dict[str, bytes]) -> list[PayloadItem]:
    """The files written to a local archive folder, as items opened by ``FileOpener``."""
    out = []
    for path, data in files.items():
        source = tmp_path / "arsip-src" / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        out.append(PayloadItem(path, FileOpener(str(source)), len(data),
                               hashlib.sha256(data).hexdigest()))
    return out


def test_small_files_are_copied_whole_in_batches_and_read_back(tmp_path: Path) -> None:
    files = sample_files(150)
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        result = bag.add_files(archive(tmp_path, files), workers=3)
    assert sorted(result.added) == sorted(files)
    for path, data in files.items():
        assert (dest / "data" / path).read_bytes() == data
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)


def test_a_source_that_differs_mid_batch_is_never_listed_and_leaves_no_copy(
        tmp_path: Path) -> None:
    files = sample_files(120)
    given = archive(tmp_path, files)
    bad = given[70]
    Path(bad.opener.path).write_bytes(b"%PDF-1.7\nother bytes")  # type: ignore[attr-defined]
    given[70] = replace(bad, size=len(b"%PDF-1.7\nother bytes"))  # the size fits, not the hash
    dest = tmp_path / "disk"
    committed: list[str] = []
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(given, workers=2, on_commit=committed.extend)
    assert error_code(info) == "backup_source_changed" and bad.path in str(info.value)
    listed = bagformat.read_payload_manifest(dest)
    assert bad.path not in listed and sorted(committed) == sorted(listed)
    assert not (dest / "data" / bad.path).exists()
    assert os.listdir(dest / ".brankas-staging") == ["lock"]
    validate(dest)


def test_recorded_files_are_checked_by_listing_their_folder(tmp_path: Path) -> None:
    """Recorded: a file gone is copied again, a link in its place refused, one cut short
    skipped (its size is verify's); not recorded: the lstat and size check as before."""
    files = sample_files(6)
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(archive(tmp_path, files))
    paths = sorted(files)
    gone, short, linked = paths[0], paths[1], paths[2]
    (dest / "data" / gone).unlink()
    with open(dest / "data" / short, "r+b") as fh:
        fh.truncate(10)
    recorded = [replace(i, recorded=True) for i in archive(tmp_path / "again", files)]

    with open_bag(dest) as bag:
        result = bag.add_files([i for i in recorded if i.path != linked])
    assert result.added == (gone,) and result.skipped == 4
    assert (dest / "data" / gone).read_bytes() == files[gone]
    assert (dest / "data" / short).stat().st_size == 10  # left to verify

    unrecorded = [replace(i, recorded=False) for i in recorded]
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(unrecorded)
    assert error_code(info) == "backup_disk_file_wrong" and short in str(info.value)

    if os.name != "posix":  # a link needs a privilege on Windows
        return
    target = tmp_path / "laptop.pdf"
    target.write_bytes(files[linked])
    (dest / "data" / linked).unlink()
    (dest / "data" / linked).symlink_to(target)
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([i for i in recorded if i.path == linked])
    assert error_code(info) == "backup_disk_file_wrong" and linked in str(info.value)


def test_a_small_file_is_read_once_from_the_archive_and_once_back_from_the_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """s19 P15: asked for one byte more than it holds, a small file's first read is the
    whole file; no second read to find its end, on either side of the copy."""
    files = sample_files(40)
    given = archive(tmp_path, files)
    reads: list[int] = []
    real_read = os.read

    def counting(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        reads.append(len(data))
        return data

    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        monkeypatch.setattr(bagmodule.os, "read", counting)
        result = bag.add_files(given, workers=2)
        monkeypatch.undo()
    assert sorted(result.added) == sorted(files)
    sizes = sorted(len(d) for d in files.values())
    assert sorted(reads) == sorted(sizes * 2)  # one read from the archive, one back
    validate(dest)


@pytest.mark.parametrize("change", ["grown", "shrunk"])
def test_a_source_of_another_length_than_registered_is_refused(
        tmp_path: Path, change: str) -> None:
    files = sample_files(3)
    given = archive(tmp_path, files)
    source = Path(given[1].opener.path)  # type: ignore[attr-defined]
    data = source.read_bytes()
    source.write_bytes(data + b"x" if change == "grown" else data[:-1])
    dest = tmp_path / "disk"
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files(given, workers=1)
    assert error_code(info) == "backup_source_changed" and given[1].path in str(info.value)
    assert given[1].path not in bagformat.read_payload_manifest(dest)
