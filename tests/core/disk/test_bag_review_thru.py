"""Review of the copy path's shortcuts (session 16): what a grown source or a hostile
manifest costs in memory. Real files; memory measured by ``tracemalloc`` (every thread's
Python allocations), never by time."""

from __future__ import annotations

import os
import tracemalloc
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from brankas.core.disk import format as bagformat
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import error_code, open_bag, sample_files, validate
from tests.core.disk.test_bag_throughput import archive

BIG = 48 << 20  # far more than any bound below; sparse, so cheap on the test's disk


def peak_of(call: Callable[[], Any]) -> tuple[int, BaseException | None]:
    """The peak of Python allocations while ``call`` runs, and what it raised."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            call()
            raised = None
        except BrankasError as exc:
            raised = exc
        return tracemalloc.get_traced_memory()[1], raised
    finally:
        tracemalloc.stop()


def test_a_small_source_grown_huge_is_not_read_whole_into_memory(tmp_path: Path) -> None:
    """A file planned as a small one (its size recorded) that has become huge: the copy
    stops at the first byte past the recorded size, it does not hold the file."""
    files = sample_files(3)
    given = archive(tmp_path, files)
    grown = given[1]
    with open(grown.opener.path, "r+b") as fh:  # type: ignore[attr-defined]
        fh.truncate(BIG)
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        peak, raised = peak_of(lambda: bag.add_files(given, workers=1))
    assert isinstance(raised, BrankasError) and raised.code == "backup_source_changed"
    assert grown.path in str(raised)
    assert peak < 8 << 20, f"{peak >> 20} MiB held for a {BIG >> 20} MiB source"
    assert grown.path not in bagformat.read_payload_manifest(dest)
    validate(dest)


def test_an_endless_manifest_line_is_not_held_whole(tmp_path: Path) -> None:
    """A hostile manifest of one huge line (within the manifest's byte limit): reading the
    manifest holds about a line's worth (LINE_LIMIT), not the line."""
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(archive(tmp_path, sample_files(2)))
    manifest = dest / bagformat.MANIFEST
    with open(manifest, "r+b") as fh:  # not "ab": appending ignores the seek
        fh.seek(0, os.SEEK_END)
        fh.write(b"0" * 64 + b"  data/")
        fh.seek(BIG, os.SEEK_CUR)  # a hole: zero bytes, read as NULs
        fh.write(b"x.pdf\n" + b"0" * 64 + b"  data/after.pdf\n")
    problems: list[str] = []
    peak, raised = peak_of(lambda: bagformat.read_payload_manifest(dest, problems))
    assert raised is None
    assert peak < 8 << 20, f"{peak >> 20} MiB held for a {BIG >> 20} MiB line"
    assert any("too long" in p for p in problems), problems
    with pytest.raises(BrankasError) as info:
        bagformat.read_payload_manifest(dest)
    assert error_code(info) == "backup_bag_invalid"


def test_a_grown_source_is_named_with_the_bytes_it_had_over(tmp_path: Path) -> None:
    """A small source with a few bytes more than recorded: refused before anything of it
    is written (the bound above must not turn a grown file into a wrong verdict)."""
    files = sample_files(2)
    given = archive(tmp_path, files)
    with open(given[0].opener.path, "ab") as fh:  # type: ignore[attr-defined]
        fh.write(b"more")
    dest = tmp_path / "disk"
    with open_bag(dest) as bag, pytest.raises(BrankasError) as info:
        bag.add_files([replace(i) for i in given], workers=1)
    assert error_code(info) == "backup_source_changed"
    assert not (dest / "data" / given[0].path).exists()


@pytest.mark.skipif(os.name != "posix", reason="links and FIFOs need POSIX here")
def test_recorded_files_in_the_wrong_shape_are_not_taken_for_the_file(tmp_path: Path) -> None:
    """The no-change shortcut (``recorded``) against a prepared disk: a folder or a FIFO
    in a recorded file's place, a folder higher on its path a link, or only a twin of its
    name (another Unicode form, another case) there: never skipped as present."""
    name = "arsip/biasa/pengiriman/2026/B-0001-Surat-Dinas-\u00e9.pdf"
    files = {**sample_files(2), name: b"%PDF-1.7\nsurat"}
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(archive(tmp_path, files))
    again = [replace(i, recorded=True) for i in archive(tmp_path / "again", files)]
    target = dest / "data" / name

    def backup() -> tuple[str | None, Any]:
        with open_bag(dest) as bag:
            try:
                return None, bag.add_files(again)
            except BrankasError as exc:
                return exc.code, None

    saved = target.read_bytes()
    target.unlink()
    target.mkdir()
    assert backup()[0] == "backup_disk_file_wrong"
    target.rmdir()
    os.mkfifo(target)
    assert backup()[0] == "backup_disk_file_wrong"
    target.unlink()
    twin = target.with_name(unicodedata.normalize("NFD", target.name))
    twin.write_bytes(saved)
    code, result = backup()  # the NFC name is not there: copied again beside the twin
    assert code is None and result.added == (name,) and target.read_bytes() == saved
    target.unlink()
    twin.unlink()
    target.with_name(target.name.upper()).write_bytes(saved)
    code, result = backup()
    assert code is None and result.added == (name,)
    folder = dest / "data" / "arsip" / "biasa"
    laptop = tmp_path / "laptop-biasa"
    folder.rename(laptop)
    folder.symlink_to(laptop)
    assert backup()[0] == "backup_disk_file_wrong"
    assert sorted(p.name for p in (laptop / "pengiriman" / "2026").iterdir()) == sorted(
        [Path(p).name for p in files] + [target.name.upper()])


def test_a_folder_stuffed_with_strangers_costs_no_memory_per_stranger(tmp_path: Path) -> None:
    """The no-change shortcut lists a recorded file's folder: a prepared disk with tens of
    thousands of long-named strangers beside it must not have them all held (64 such
    folders are kept at once)."""
    files = sample_files(3)
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(archive(tmp_path, files))
    folder = (dest / "data" / next(iter(files))).parent
    for i in range(5_000):
        os.close(os.open(folder / f"{i:06d}-{'x' * 240}", os.O_CREAT | os.O_WRONLY, 0o644))
    again = [replace(i, recorded=True) for i in archive(tmp_path / "again", files)]
    with open_bag(dest) as bag:
        peak, raised = peak_of(lambda: bag.add_files(again))
    assert raised is None
    assert peak < 1 << 20, f"{peak >> 10} KiB held for 5,000 strangers"
