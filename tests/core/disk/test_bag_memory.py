"""Memory held per listed file, at a small scale (issue 15: a backup of 100,000 documents
stays within 150 MiB). Measured with tracemalloc's peak while a disk whose manifest lists
FILES files is opened, and while one new file is planned and added to it; the bounds are
bytes per listed file, so a dict or a string too many per file fails them. No timing."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import Bag, PayloadItem, open_or_create

FILES = 20_000
# Per listed file, what opening may hold at its peak: the manifest's path (about 130
# bytes as a str) and hash (113), a size, two dict slots, and brankas-sizes.txt's line
# while it is matched. Before issue 15's memory work this was about 1,000 bytes.
OPEN_BYTES_PER_FILE = 700
# Planning a new file against FILES listed ones (``Bag._plan``, which every run does):
# the folded names of the listed paths are kept as 8-byte hashes, sorted from a passing
# list of ints (about 52 bytes a file at the peak), not a dict of new strings (149).
PLAN_BYTES_PER_FILE = 80


def _path(i: int) -> str:
    year = 2016 + i % 10
    return (f"arsip/biasa/penerimaan/{year}/M-{year}-{i:05d}-undangan-rapat-koordinasi-"
            f"nomor-{i % 97}.pdf")


def _open(dest: Path) -> Bag:
    return open_or_create(dest, label="Memori", organization="Dinas", software="Brankas test")


def _item(path: str, data: bytes) -> PayloadItem:
    return PayloadItem(path, lambda: io.BytesIO(data), len(data),
                       hashlib.sha256(data).hexdigest())


@pytest.fixture(scope="module")
def big_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A disk whose manifest and sizes list FILES files (written as Brankas writes them;
    the files themselves are not needed to open it), and one real file."""
    dest = tmp_path_factory.mktemp("memory") / "disk"
    with _open(dest) as bag:
        bag.add_files([_item("arsip/first.pdf", b"%PDF-1.7 first")])
    digest = hashlib.sha256(b"%PDF-1.7 first").hexdigest()
    entries = {_path(i): hashlib.sha256(str(i).encode()).hexdigest() for i in range(FILES)}
    entries["arsip/first.pdf"] = digest
    sizes = {path: 1000 + len(path) for path in entries}
    sizes["arsip/first.pdf"] = len(b"%PDF-1.7 first")
    for name, values in ((bagformat.MANIFEST, entries), (bagformat.SIZES, sizes)):
        (dest / name).write_bytes(b"".join(bagformat.payload_chunks(values)))
    _open(dest).close()  # brings bag-info and the tag manifest up to date
    return dest


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # 2-4 CPU-s (tracemalloc over a large input): make test, not test-fast
def test_opening_a_disk_holds_little_per_listed_file(big_disk: Path) -> None:
    lists = {name: (big_disk / name).stat() for name in (bagformat.MANIFEST, bagformat.SIZES)}
    peak = _peak(lambda: _open(big_disk).close())
    assert peak / FILES <= OPEN_BYTES_PER_FILE, f"{peak / FILES:.0f} bytes per listed file"
    # Unchanged lists are not written again (same file, same modification time).
    for name, before in lists.items():
        after = (big_disk / name).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), name


def test_planning_a_new_file_holds_little_per_listed_file(big_disk: Path) -> None:
    bag = _open(big_disk)
    try:
        n = len(bag.entries)
        new = _item("arsip/biasa/penerimaan/2026/M-2026-99999-baru.pdf", b"%PDF-1.7 new")
        peak = _peak(lambda: bag._plan([new]))
        bag.add_files([new])
        assert bag.has(new.path) and len(bag.entries) == n + 1
        # A case twin of a listed file is still refused (found through the hashes).
        twin = _item(_path(7).replace("undangan", "UNDANGAN"), b"%PDF-1.7 twin")
        with pytest.raises(Exception, match="letter case"):
            bag.add_files([twin])
    finally:
        bag.close()
    assert peak / FILES <= PLAN_BYTES_PER_FILE, f"{peak / FILES:.0f} bytes per listed file"
