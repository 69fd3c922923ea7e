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
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments
from brankas.core.disk.format import MediumInfo
from brankas.core.disk.reader import locate, same_folder_index
from brankas.core.disk.state import staging_strangers
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


@dataclass(frozen=True)
class Expectations:
    """What this office's records say the disk must hold (verify with an instance)."""

    office_keys: frozenset[str]  # the office's signing keys (base64 public keys)
    runs_dir: str  # where run folders are, under data/
    # payload path -> (sha256, agenda) of every document recorded as on this disk
    documents: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    sealed_runs: frozenset[str] = frozenset()  # run folders recorded as sealed on this disk
    known_runs: frozenset[str] = frozenset()  # every run folder this office wrote (any disk)
    label: str = ""  # the disk's label in the records
    # SHA-256 of every file of the register (documents, request letters); None: unchecked
    known_files: frozenset[str] | None = None
    archive_prefixes: tuple[str, ...] = ()  # payload folders that hold only those files


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
    seal_problems: list[str] = field(default_factory=list)  # the office's seals on the disk
    register_problems: list[str] = field(default_factory=list)  # the disk against the records
    runs_sealed: int = 0  # run folders whose seal is authentic

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.unexpected or self.tag_problems
                    or self.seal_problems or self.register_problems)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


def verify(dest: Path | str, *, mode: str = "full", sample_percent: float = 10,
           sample_offset: int = 0, workers: int = 2, on_progress: Progress | None = None,
           expect: Expectations | None = None) -> VerifyReport:
    """Check the bag at DEST; ``report.ok`` when nothing is missing, changed or extra.
    The disk is read as untrusted input (``disk.fs``): no link is followed, only regular
    files are read, every name and size is bounded. With ``expect`` (an instance's
    records), the office's seals are checked with its keys and the disk against what the
    records say it holds (``check_expectations``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if not 0 < sample_percent <= 100:
        raise ValueError("sample_percent must be in (0, 100]")
    dest = Path(dest)
    diskfs.check_dest(dest)
    if not dest.is_dir():
        raise SetupError("backup_dest_missing", path=str(dest))
    if diskfs.lkind(dest / fmt.BAGIT_TXT) is None:
        raise SetupError("backup_not_brankas", path=str(dest))
    lock = fmt.lock(dest, create=False)
    try:
        with fmt.disk_errors(dest):
            report, entries = _verify(dest, mode, sample_percent,
                                      sample_offset % SAMPLE_SPACE, max(1, workers),
                                      on_progress)
            if expect is not None:
                check_expectations(dest, report, entries, expect)
            return report
    finally:
        fmt.unlock(lock)


def _verify(dest: Path, mode: str, percent: float, offset: int, workers: int,
            on_progress: Progress | None) -> tuple[VerifyReport, dict[str, str]]:
    tag_problems = _check_tags(dest)
    try:
        medium = fmt.read_medium(dest)
    except BrankasError as exc:
        medium = None
        fmt.note(tag_problems, f"{fmt.MEDIUM}: {_why(exc)}")
    try:
        entries = fmt.read_payload_manifest(dest, tag_problems)
    except FileNotFoundError:
        raise SetupError("backup_bag_invalid", path=str(dest),
                         detail=f"{fmt.MANIFEST} is missing") from None
    try:
        sizes = fmt.read_sizes(dest)
    except (BrankasError, FileNotFoundError) as exc:
        sizes = {}
        fmt.note(tag_problems, f"{fmt.SIZES}: {_why(exc)}")
    for name, kind in staging_strangers(dest):
        fmt.note(tag_problems, f"{fmt.shown(name)}: not made by Brankas ({kind})")
    known_dirs: set[str] = set()
    on_disk = _payload_files(dest, known_dirs, tag_problems)
    report = VerifyReport(dest=str(dest), mode=mode, medium=medium, files_total=len(entries),
                          bytes_total=sum(sizes.get(p, 0) for p in entries),
                          tag_problems=tag_problems)
    report.tag_problems += _check_oxum(dest, on_disk)
    listed = {_nfc(p): p for p in entries}
    folded: dict[str, str] = {}
    for path in sorted(entries):
        twin = folded.setdefault(fmt.fold(path), path)
        if twin != path:
            fmt.note(report.tag_problems, f"{fmt.MANIFEST} lists data/{fmt.shown(twin)} and "
                     f"data/{fmt.shown(path)}, one file on exFAT/NTFS")
    report.unexpected = sorted(fmt.shown(on_disk[key][0], 300) + _kind_suffix(on_disk[key][2])
                               for key in on_disk.keys() - listed.keys())
    to_hash: list[tuple[str, str, int]] = []
    width = SAMPLE_SPACE if percent >= 100 else max(1, math.ceil(SAMPLE_SPACE * percent / 100))
    for key, path in sorted(listed.items()):
        if key not in on_disk:
            report.missing.append(path)
            continue
        actual_name, actual_size, kind = on_disk[key]
        expected_size = sizes.get(path)
        if kind != "file":
            report.changed.append(Changed(path, kind, entries[path], _KIND_TEXT.get(kind, kind)))
        elif expected_size is not None and expected_size != actual_size:
            report.changed.append(Changed(path, "size", str(expected_size), str(actual_size)))
        elif mode == "full" or (mode == "sample" and _in_window(path, offset, width)):
            to_hash.append((path, f"{fmt.DATA}/{actual_name}", actual_size))
    if mode == "sample":
        report.next_offset = (offset + width) % SAMPLE_SPACE
    _hash_all(dest, to_hash, entries, report, workers, on_progress, known_dirs)
    return report, entries


def check_expectations(dest: Path, report: VerifyReport, entries: Mapping[str, str],
                       expect: Expectations) -> None:
    """The disk against the office's records: every run folder sealed by the office's key
    (a foreign, altered or unsigned run is named, except runs the office wrote before
    seals existed), the runs recorded as sealed on this disk present (a disk rolled back,
    or one that only claims this disk's id, cannot show them), and every document
    recorded as on this disk listed with its recorded SHA-256."""
    medium_id = report.medium.medium_id if report.medium else ""
    seals = diskseal.read_disk_seals(dest, entries, trusted=set(expect.office_keys),
                                     medium_id=medium_id, runs_dir=expect.runs_dir)
    problems = report.seal_problems
    for problem in seals.problems:
        fmt.note(problems, problem)
    for run in seals.runs:
        if run.status == "unsealed" and run.folder not in expect.known_runs:
            fmt.note(problems, f"run {run.folder}: not sealed by the office, and not a run "
                               "this office wrote")
    for problem in segments.disk_problems(seals.authentic, entries):
        fmt.note(problems, problem)
    authentic = {r.folder for r in seals.authentic}
    report.runs_sealed = len(authentic)
    missing_runs = sorted(expect.sealed_runs - authentic)
    if missing_runs and not authentic:
        fmt.note(problems, f"the disk claims to be {expect.label or medium_id} but carries "
                           "none of the runs the office sealed on it: it cannot prove it is "
                           "that disk")
    for folder in missing_runs:
        fmt.note(problems, f"run {folder}: recorded as sealed on this disk, but its sealed "
                           "folder is not here (removed, or the disk was rolled back)")
    register = report.register_problems
    listed = dict(entries)
    if expect.known_files is not None:
        for path in sorted(listed):
            if path.startswith(expect.archive_prefixes) and (
                    listed[path] not in expect.known_files):
                fmt.note(register, f"data/{path} is on the disk, but the register has no "
                                   "document or letter with these bytes")
    index = same_folder_index(listed)
    for path, (digest, agenda) in sorted(expect.documents.items()):
        on_disk = locate(listed, index, path, digest)
        found = entries.get(on_disk) if on_disk else None
        if found is None:
            fmt.note(register, f"{agenda}: recorded as on this disk, but data/{path} is not "
                               "in its manifest")
        elif found != digest:
            fmt.note(register, f"{agenda}: data/{path} is listed with another SHA-256 than "
                               "the register's")


_KIND_TEXT = {"link": "a link (not followed)", "fifo": "a FIFO", "device": "a device",
              "socket": "a socket", "other": "not a regular file"}


def _kind_suffix(kind: str) -> str:
    return "" if kind == "file" else f" ({_KIND_TEXT.get(kind, kind)})"


def _why(exc: BaseException) -> str:
    if isinstance(exc, BrankasError):
        return exc.message("en")
    if isinstance(exc, FileNotFoundError):
        return "missing"
    return str(exc)


def _check_tags(dest: Path) -> list[str]:
    problems: list[str] = []
    try:
        listed = fmt.read_tag_manifest(dest, problems)
    except FileNotFoundError:
        return [f"{fmt.TAGMANIFEST}: missing"]
    except BrankasError as exc:
        return [f"{fmt.TAGMANIFEST}: unreadable ({_why(exc)})"]
    for name, expected in sorted(listed.items()):
        limit = fmt.MANIFEST_LIMIT if name in {fmt.MANIFEST, fmt.SIZES} else fmt.TAG_LIMIT
        try:
            found = fmt.sha256_bytes(diskfs.read_file(dest, name, limit=limit))
        except FileNotFoundError:
            problems.append(f"{name}: missing")
            continue
        except BrankasError as exc:
            problems.append(f"{name}: {_why(exc)}")
            continue
        if found != expected:
            problems.append(f"{name}: changed")
    return problems


def _check_oxum(dest: Path, on_disk: dict[str, tuple[str, int, str]]) -> list[str]:
    try:
        stated = fmt.read_bag_info(dest).get("Payload-Oxum")
    except BrankasError as exc:
        return [f"{fmt.BAG_INFO}: {_why(exc)}"]
    found = f"{sum(size for _, size, _ in on_disk.values())}.{len(on_disk)}"
    if stated is None:
        return [f"{fmt.BAG_INFO}: no Payload-Oxum"]
    if stated != found:
        return [f"{fmt.BAG_INFO}: Payload-Oxum {fmt.shown(stated)} (bytes.files), "
                f"data/ holds {found}"]
    return []


def _payload_files(dest: Path, known_dirs: set[str],
                   problems: list[str]) -> dict[str, tuple[str, int, str]]:
    """{NFC payload path: (payload path as on the disk, size, kind)} of every entry in
    data/ that is not a real folder; real folders are walked (and noted in
    ``known_dirs``), a link or anything else is listed by its kind, never followed."""
    out: dict[str, tuple[str, int, str]] = {}
    kind = diskfs.lkind(dest / fmt.DATA)
    if kind == "dir":
        known_dirs.add(fmt.DATA)
        stack = [(dest / fmt.DATA, "")]  # a loop, not recursion: a disk may be 10,000 deep
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as it:
                for entry in it:
                    rel = prefix + entry.name
                    st = entry.stat(follow_symlinks=False)
                    kind = diskfs.kind_of(st)
                    if kind == "dir":
                        known_dirs.add(f"{fmt.DATA}/{rel}")
                        stack.append((Path(entry.path), rel + "/"))
                    else:
                        out[_nfc(rel)] = (rel, st.st_size, kind)
    elif kind is not None:
        problems.append(f"{fmt.DATA}: {_KIND_TEXT.get(kind, kind)}, not a folder; not read")
    return out


def _in_window(path: str, offset: int, width: int) -> bool:
    key = int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:4], "big")
    return (key - offset) % SAMPLE_SPACE < width


def _hash_all(dest: Path, to_hash: list[tuple[str, str, int]], entries: dict[str, str],
              report: VerifyReport, workers: int, on_progress: Progress | None,
              known_dirs: set[str]) -> None:
    total_bytes = sum(size for _, _, size in to_hash)
    if on_progress is not None:
        on_progress(0, len(to_hash), 0, total_bytes)

    def one(item: tuple[str, str, int]) -> tuple[str, int] | OSError | BrankasError:
        try:
            # known_dirs is only read here: the walk filled it before the threads start.
            return fmt.hash_disk_file(dest, item[1], uncached=True, known_dirs=known_dirs)
        except (OSError, BrankasError) as exc:
            return exc

    done = done_bytes = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brankas-verify") as pool:
        for (path, _, size), result in zip(to_hash, pool.map(one, to_hash), strict=True):
            done += 1
            done_bytes += size
            if isinstance(result, BrankasError):
                report.changed.append(Changed(path, "unreadable", entries[path], _why(result)))
            elif isinstance(result, OSError):
                if diskfs.lkind(dest / fmt.BAGIT_TXT) is None:
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
