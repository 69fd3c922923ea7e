"""Fixity check of a backup disk: every missing, changed or unexpected file, by name.

Modes:

- ``full``: every payload file is read from the disk and hashed, by ``workers``
  threads (hashlib releases the GIL on large reads, so two threads use two cores).
- ``fast``: no hashing: every file's presence and size (``brankas-sizes.txt``), every
  unexpected file, and ``Payload-Oxum``. Catches deletions and truncations, not a
  same-size change.
- ``sample``: ``fast`` plus hashing a slice of the files. Each file has a fixed place in
  a 2**32 hash space (the first four bytes of the SHA-256 of its path); a run hashes the
  files in ``[offset, offset + sample_percent%)`` and returns the next offset. Runs
  chained through ``next_offset`` cover the whole disk every ``100 / sample_percent``
  runs, and files added later keep their place, so the coverage survives growth.

The tag files (bagit.txt, bag-info.txt, the manifests, the guides) are checked against
the tag manifest in every mode. Files are read past the page cache where the OS allows
(``posix_fadvise``): a fixity check reads the disk, not memory's copy of it. Payload
paths in the report are relative to ``data/``, as everywhere in the bag API.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brankas.core import bagformat as fmt
from brankas.core.bagformat import MediumInfo
from brankas.core.errors import BrankasError, SetupError

MODES = ("full", "fast", "sample")
SAMPLE_SPACE = 1 << 32
Progress = Callable[[int, int, int, int], None]  # files_done, files_total, bytes_done, bytes_total


@dataclass(frozen=True)
class Changed:
    path: str  # payload path
    reason: str  # "size", "sha256" or "unreadable"
    expected: str
    found: str


@dataclass
class VerifyReport:
    dest: str
    mode: str
    medium: MediumInfo | None
    files_total: int  # payload files the manifest lists
    bytes_total: int
    files_hashed: int = 0
    bytes_hashed: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    tag_problems: list[str] = field(default_factory=list)
    next_offset: int | None = None  # sample mode: the offset for the next run

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.unexpected or self.tag_problems)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


def verify(dest: Path | str, *, mode: str = "full", sample_percent: float = 10,
           sample_offset: int = 0, workers: int = 2,
           on_progress: Progress | None = None) -> VerifyReport:
    """Check the bag at DEST; ``report.ok`` when nothing is missing, changed or extra."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if not 0 < sample_percent <= 100:
        raise ValueError("sample_percent must be in (0, 100]")
    dest = Path(dest)
    if not dest.is_dir():
        raise SetupError("backup_dest_missing", path=str(dest))
    if not (dest / fmt.BAGIT_TXT).is_file():
        raise SetupError("backup_not_brankas", path=str(dest))
    lock = fmt.lock(dest, create=False)
    try:
        with fmt.disk_errors(dest):
            return _verify(dest, mode, sample_percent, sample_offset % SAMPLE_SPACE,
                           max(1, workers), on_progress)
    finally:
        fmt.unlock(lock)


def _verify(dest: Path, mode: str, percent: float, offset: int, workers: int,
            on_progress: Progress | None) -> VerifyReport:
    tag_problems = _check_tags(dest)
    try:
        medium = fmt.read_medium(dest)
    except BrankasError:
        medium = None
        tag_problems.append(f"{fmt.MEDIUM}: unreadable")
    try:
        entries = fmt.read_payload_manifest(dest)
    except FileNotFoundError:
        raise SetupError("backup_bag_invalid", path=str(dest),
                         detail=f"{fmt.MANIFEST} is missing") from None
    try:
        sizes = fmt.read_sizes(dest)
    except BrankasError:
        sizes = {}
        tag_problems.append(f"{fmt.SIZES}: unreadable")
    on_disk = _payload_files(dest / fmt.DATA)
    report = VerifyReport(dest=str(dest), mode=mode, medium=medium, files_total=len(entries),
                          bytes_total=sum(sizes.get(p, 0) for p in entries),
                          tag_problems=tag_problems)
    report.tag_problems += _check_oxum(dest, on_disk)
    listed = {_nfc(p): p for p in entries}
    report.unexpected = sorted(on_disk[key][0] for key in on_disk.keys() - listed.keys())
    to_hash: list[tuple[str, Path, int]] = []
    width = SAMPLE_SPACE if percent >= 100 else max(1, math.ceil(SAMPLE_SPACE * percent / 100))
    for key, path in sorted(listed.items()):
        if key not in on_disk:
            report.missing.append(path)
            continue
        actual_name, actual_size = on_disk[key]
        expected_size = sizes.get(path)
        if expected_size is not None and expected_size != actual_size:
            report.changed.append(Changed(path, "size", str(expected_size), str(actual_size)))
        elif mode == "full" or (mode == "sample" and _in_window(path, offset, width)):
            to_hash.append((path, dest / fmt.DATA / actual_name, actual_size))
    if mode == "sample":
        report.next_offset = (offset + width) % SAMPLE_SPACE
    _hash_all(dest, to_hash, entries, report, workers, on_progress)
    return report


def _check_tags(dest: Path) -> list[str]:
    try:
        listed = fmt.read_tag_manifest(dest)
    except FileNotFoundError:
        return [f"{fmt.TAGMANIFEST}: missing"]
    except BrankasError:
        return [f"{fmt.TAGMANIFEST}: unreadable"]
    problems = []
    for name, expected in sorted(listed.items()):
        try:
            found = fmt.sha256_bytes((dest / name).read_bytes())
        except FileNotFoundError:
            problems.append(f"{name}: missing")
            continue
        if found != expected:
            problems.append(f"{name}: changed")
    return problems


def _check_oxum(dest: Path, on_disk: dict[str, tuple[str, int]]) -> list[str]:
    stated = fmt.read_bag_info(dest).get("Payload-Oxum")
    found = f"{sum(size for _, size in on_disk.values())}.{len(on_disk)}"
    if stated is None:
        return [f"{fmt.BAG_INFO}: no Payload-Oxum"]
    if stated != found:
        return [f"{fmt.BAG_INFO}: Payload-Oxum {stated} (bytes.files), data/ holds {found}"]
    return []


def _payload_files(data: Path) -> dict[str, tuple[str, int]]:
    """{NFC payload path: (payload path as on the disk, size)} of every file in data/;
    a link or anything else that is not a plain file counts as a file (it is unexpected
    or changed, never followed)."""
    out: dict[str, tuple[str, int]] = {}

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    walk(Path(entry.path), rel + "/")
                else:
                    out[_nfc(rel)] = (rel, entry.stat(follow_symlinks=False).st_size)

    if data.is_dir():
        walk(data, "")
    return out


def _in_window(path: str, offset: int, width: int) -> bool:
    key = int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:4], "big")
    return (key - offset) % SAMPLE_SPACE < width


def _hash_all(dest: Path, to_hash: list[tuple[str, Path, int]], entries: dict[str, str],
              report: VerifyReport, workers: int, on_progress: Progress | None) -> None:
    total_bytes = sum(size for _, _, size in to_hash)
    if on_progress is not None:
        on_progress(0, len(to_hash), 0, total_bytes)

    def one(item: tuple[str, Path, int]) -> tuple[str, int] | OSError:
        try:
            return fmt.hash_file(item[1], uncached=True)
        except OSError as exc:
            return exc

    done = done_bytes = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brankas-verify") as pool:
        for (path, _, size), result in zip(to_hash, pool.map(one, to_hash), strict=True):
            done += 1
            done_bytes += size
            if isinstance(result, OSError):
                if not (dest / fmt.BAGIT_TXT).exists():
                    raise fmt.disk_error(result, dest)
                if result.errno == errno.ENOENT:
                    report.missing.append(path)
                else:
                    report.changed.append(Changed(path, "unreadable", entries[path],
                                                  result.strerror or str(result)))
            else:
                digest, read = result
                if digest != entries[path]:
                    report.changed.append(Changed(path, "sha256", entries[path], digest))
                report.files_hashed += 1
                report.bytes_hashed += read
            if on_progress is not None:
                on_progress(done, len(to_hash), done_bytes, total_bytes)
    report.missing.sort()
    report.changed.sort(key=lambda c: c.path)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
