"""How many threads copy a run's files (session 24): one for small files, whose copies
are a few system calls each and lose more to handing the interpreter lock between
threads than they gain; four for large ones. Seen from inside the copy (each source is
opened by the thread that copies it), on a real file system."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from pathlib import Path

import bagit

from brankas.core.disk.bag import copy_workers
from tests.core.disk.test_bag import assert_on_disk, items, open_bag, sample_files


def _copy_threads(dest: Path, files: dict[str, bytes], **kwargs: object) -> set[str]:
    names: set[str] = set()

    def opener(data: bytes) -> io.BytesIO:
        names.add(threading.current_thread().name)
        return io.BytesIO(data)

    given = [replace(item, opener=lambda data=files[item.path]: opener(data))
             for item in items(files)]
    with open_bag(dest) as bag:
        bag.add_files(given, **kwargs)  # type: ignore[arg-type]
    assert_on_disk(dest, files)
    bagit.Bag(str(dest)).validate()
    return names


def test_small_files_are_copied_by_one_thread(tmp_path: Path) -> None:
    files = sample_files(300)  # one-page PDFs: under 3 KiB each
    names = _copy_threads(tmp_path / "disk", files)
    assert len(names) == 1, names
    assert all(n.startswith("brankas-bag") for n in names)


def test_large_files_are_copied_by_several_threads(tmp_path: Path) -> None:
    files = {f"arsip/biasa/masuk/2026/B-{i:03d}-scan.pdf": b"%PDF-1.7\n" + bytes([i]) * (1 << 20)
             for i in range(16)}  # 1 MiB scans: four tasks of four files
    names = _copy_threads(tmp_path / "disk", files)
    assert len(names) > 1, names


def test_a_caller_may_still_choose(tmp_path: Path) -> None:
    names = _copy_threads(tmp_path / "disk", sample_files(300), workers=3)
    assert len(names) > 1, names


def test_the_rule() -> None:
    assert copy_workers(100_000, 141 << 20) == 1  # the 100,000-document bench
    assert copy_workers(5_000, 1_400_000_000) == 4  # the 5,000 scans of 50-500 KB
    assert copy_workers(10, 10 * (64 << 10)) == 4
    assert copy_workers(10, 10 * (64 << 10) - 10) == 1
    assert copy_workers(0, 0) == 4
