"""The backup disk's format: a BagIt 1.0 bag (RFC 8493) with a few Brankas tag files.

::

    DEST/
      bagit.txt                "BagIt-Version: 1.0", "Tag-File-Character-Encoding: UTF-8"
      bag-info.txt             Source-Organization, Bagging-Date, Payload-Oxum, ...
      manifest-sha256.txt      "<sha256>  data/<path>" for every payload file
      brankas-sizes.txt        "<bytes>  data/<path>" for every payload file (fast verify)
      brankas-medium.json      the disk's identity (medium id, label, created); written once
      PANDUAN-PEMULIHAN.txt    the restore guide, Bahasa Indonesia
      RESTORE-GUIDE.txt        the restore guide, English
      tagmanifest-sha256.txt   "<sha256>  <name>" for every tag file above
      data/                    the payload
      .brankas-staging/        not part of the bag: staging copies, the lock, the journal

Vocabulary: a *payload path* is '/'-separated and relative to ``data/`` (``arsip/biasa/
pengiriman/2026/A-1.pdf``); a *bag path* is relative to DEST (``data/arsip/...``). Only
bag paths appear in manifest files. Paths in manifests are percent-encoded as RFC 8493
§2.1.3 requires (CR, LF and ``%``); the writer refuses ``%`` in payload names anyway,
because bagit-python 1.9 and ``sha256sum -c`` would read ``%25`` literally.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import stat
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from brankas.core.disk import fs as diskfs
from brankas.core.errors import BrankasError, SetupError
from brankas.core.fsutil import CHUNK
from brankas.core.names import is_safe_component

BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"
MANIFEST = "manifest-sha256.txt"
SIZES = "brankas-sizes.txt"
MEDIUM = "brankas-medium.json"
TAGMANIFEST = "tagmanifest-sha256.txt"
DATA = "data"
STAGING = ".brankas-staging"
GUIDES = {"PANDUAN-PEMULIHAN.txt": "restore-id.txt", "RESTORE-GUIDE.txt": "restore-en.txt"}

BAGIT_CONTENT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MEDIUM_FORMAT = "brankas-medium/1"

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_LINE = re.compile(r"(\S+)[ \t]+\*?(.+)")


@dataclass(frozen=True)
class MediumInfo:
    """What is written on a disk to recognise it, whatever its mount point today."""

    medium_id: str  # uuid4
    label: str
    created: str  # ISO 8601, UTC
    organization: str

    def to_json(self) -> bytes:
        body = {"format": MEDIUM_FORMAT, "medium_id": self.medium_id, "label": self.label,
                "created": self.created, "organization": self.organization}
        return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_path(path: str) -> str:
    """RFC 8493 §2.1.3: percent-encode ``%``, CR and LF (and only those)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_DECODE = {"%25": "%", "%0D": "\r", "%0A": "\n"}


def decode_path(text: str) -> str:
    if "%" not in text:  # nearly every line of a manifest
        return text
    return re.sub(r"%(25|0[dDaA])", lambda m: _DECODE[m.group(0).upper()], text)


def check_payload_path(path: str, good_folders: set[str] | None = None) -> str | None:
    """Why ``path`` cannot be a payload path on exFAT/NTFS, or None when it can: first the
    safety of any path from a disk, as ``data/<path>`` (``disk.fs.check_relative``), then
    the names. ``good_folders``: folders whose names this check passed before (it adds
    the folder of each path it passes): their names are not checked again (a run plans
    100,000 files in a few hundred folders)."""
    reason = diskfs.check_relative(f"{DATA}/{path}")
    if reason is not None:
        return reason
    folder, _, name = path.rpartition("/")
    known = good_folders is not None and folder in good_folders
    for part in [name] if known else path.split("/"):
        if "%" in part:
            return "the '%' sign (RFC 8493 would percent-encode it)"
        if not is_safe_component(part):
            return f"component {shown(part, 60)!r} is not valid on Windows, exFAT or NTFS"
    if good_folders is not None and folder:
        good_folders.add(folder)
    return None


def fold(path: str) -> str:
    """The key under which exFAT and NTFS (case-insensitive) see a name."""
    return unicodedata.normalize("NFC", path).casefold()


# Bounds on what is read from a disk (it is untrusted input: see ``disk.fs``).
MANIFEST_LIMIT = 256 << 20  # a manifest of a million files is about 120 MiB
TAG_LIMIT = 1 << 20  # bagit.txt, bag-info.txt, the guides, the tag manifest
MEDIUM_LIMIT = 64 << 10
LINE_LIMIT = 4096  # one manifest line: a path (at most 1,024 characters) and a value
_LINE_BYTES = 4 * LINE_LIMIT + 2  # the longest line of LINE_LIMIT characters, CR LF
PROBLEMS_KEPT = 100  # problems listed by name; beyond that, only counted
TAG_NAMES = frozenset({BAGIT_TXT, BAG_INFO, MANIFEST, SIZES, MEDIUM, *GUIDES})


def shown(text: str, limit: int = 120) -> str:
    """A name, label or line from a disk as it may be shown, printed or stored: bounded,
    and escaped when it holds a control or format character (so a terminal escape
    sequence on a disk cannot reach the screen)."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def note(problems: list[str], text: str) -> None:
    """Add a problem to a bounded list (the rest are counted in the last line)."""
    if len(problems) < PROBLEMS_KEPT:
        problems.append(text)
    elif len(problems) == PROBLEMS_KEPT:
        problems.append("… (more problems not listed)")


MAX_LINES = 4_000_000  # a manifest line per file: a million files is a big office
_LINES = re.compile(r"[^\n]*\n|[^\n]+$")


def json_from_disk(data: bytes | str) -> Any:
    """JSON read from a disk; ValueError for anything that is not (also JSON nested so deep
    that parsing it would exhaust the interpreter's stack)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from None


def parse_lines(text: str | Iterable[str], *, what: str, dest: Path,
                problems: list[str] | None = None) -> dict[str, str]:
    """A manifest-like file ("<value>  <bag path>" per line) as {bag path: value}: its
    text, or its lines as read (``file_lines``). A bad line (malformed, too long, a path
    twice) raises ``backup_bag_invalid``; with ``problems`` it is noted there and skipped
    instead (the first of twins is kept)."""
    out: dict[str, str] = {}

    def bad(detail: str) -> None:
        if problems is None:
            raise SetupError("backup_bag_invalid", path=str(dest), detail=detail)
        note(problems, detail)

    for path, value in _lines_of(text, what=what, bad=bad):
        if path in out:
            bad(f"{what} lists {shown(path)} twice")
            continue
        out[path] = value
    return out


def _lines_of(text: str | Iterable[str], *, what: str,
              bad: Callable[[str], None]) -> Iterator[tuple[str, str]]:
    """``parse_lines``'s (bag path, value) pairs as read, before the check for twins (the
    caller's, in whatever it keeps)."""
    lines = (found.group(0) for found in _LINES.finditer(text)) if isinstance(text, str) \
        else text
    for number, found in enumerate(lines, 1):  # no list of every line
        if number > MAX_LINES:
            bad(f"{what} has more than {MAX_LINES} lines")
            break
        line = found.rstrip("\n").rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if len(line) > LINE_LIMIT:
            bad(f"{what} line {number} is too long (more than {LINE_LIMIT} characters)")
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            bad(f"{what} line {number} is malformed")
            continue
        yield decode_path(match.group(2)), match.group(1)


def read_text(dest: Path, name: str, *, limit: int = TAG_LIMIT) -> str:
    """A tag file as text: UTF-8, lines as written (no newline translation: CR and LF in a
    name are percent-encoded). Read without following a link, as a regular file of at
    most ``limit`` bytes. Bytes that are not UTF-8 make the bag invalid, not a crash."""
    raw = diskfs.read_file(dest, name, limit=limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SetupError("backup_bag_invalid", path=str(dest),
                         detail=f"{name} is not UTF-8 text") from None


@contextlib.contextmanager
def file_lines(dest: Path, name: str, *, limit: int) -> Iterator[Iterator[str]]:
    """The lines of the tag file ``name`` (opened as ``read_text`` does), read a block at
    a time: a manifest of 100,000 files is never held whole, as bytes or as text. More
    than ``limit`` bytes, or bytes that are not UTF-8, raise as ``read_text`` does."""
    with diskfs.open_file(dest, name, limit=limit) as raw:
        reader = io.BufferedReader(raw, buffer_size=CHUNK)  # type: ignore[arg-type,type-var]

        def lines() -> Iterator[str]:
            read = 0
            while line := reader.readline(_LINE_BYTES):
                read += len(line)
                if len(line) == _LINE_BYTES and not line.endswith(b"\n"):
                    # Longer than any line ``parse_lines`` takes: its rest is skipped, a
                    # block at a time (a hostile line is never held whole).
                    while (rest := reader.readline(CHUNK)) and not rest.endswith(b"\n"):
                        read += len(rest)
                        if read > limit:
                            break
                    read += len(rest)
                    line = line.decode("utf-8", "replace")[:LINE_LIMIT + 1].encode()
                if read > limit:
                    raise SetupError("disk_file_too_large", path=str(dest), name=name,
                                     limit=limit)
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError:
                    raise SetupError("backup_bag_invalid", path=str(dest),
                                     detail=f"{name} is not UTF-8 text") from None

        yield lines()


def read_payload_manifest(dest: Path, problems: list[str] | None = None, *,
                          under: str = "") -> dict[str, str]:
    """manifest-sha256.txt as {payload path: sha256}. Every path must be a safe payload
    path under ``data/`` (``check_payload_path``): a line that is not is refused, or, with
    ``problems``, noted there and never used. ``under``: only the paths in that payload
    folder (e.g. ``"backup/"``) are checked and returned."""
    with file_lines(dest, MANIFEST, limit=MANIFEST_LIMIT) as lines:
        parsed = parse_lines(lines, what=MANIFEST, dest=dest, problems=problems)
    out = {}
    wanted = f"{DATA}/{under}"
    for path in list(parsed):
        digest = parsed.pop(path)
        if under and not path.startswith(wanted):
            continue
        reason = None
        if not path.startswith(DATA + "/"):
            reason = "not under data/"
        elif _HEX64.fullmatch(digest) is None:
            reason = "not a SHA-256"
        else:
            reason = check_payload_path(path[len(DATA) + 1:])
        if reason is not None:
            detail = f"{MANIFEST} has a bad line for {shown(path)}: {reason}"
            if problems is None:
                raise SetupError("backup_bag_invalid", path=str(dest), detail=detail)
            note(problems, detail)
            continue
        out[path[len(DATA) + 1:]] = digest.lower()
    return out


def read_sizes(dest: Path) -> dict[str, int]:
    """brankas-sizes.txt as {payload path: bytes}; empty when the file is absent. Lines
    that are not a safe payload path and a number are left out."""
    def bad(detail: str) -> None:
        raise SetupError("backup_bag_invalid", path=str(dest), detail=detail)

    # Read as ``parse_lines`` reads (the same refusals), without its dict of every line's
    # text: only the paths kept, with their sizes as numbers.
    out: dict[str, int] = {}
    left_out: set[str] = set()  # lines not kept, still checked for twins
    try:
        with file_lines(dest, SIZES, limit=MANIFEST_LIMIT) as lines:
            for path, value in _lines_of(lines, what=SIZES, bad=bad):
                rel = path[len(DATA) + 1:]
                if (path.startswith(DATA + "/") and rel in out) or path in left_out:
                    bad(f"{SIZES} lists {shown(path)} twice")
                if (path.startswith(DATA + "/") and value.isdigit() and len(value) < 20
                        and check_payload_path(rel) is None):
                    out[rel] = int(value)
                else:
                    left_out.add(path)
    except FileNotFoundError:
        return {}
    return out


def read_tag_manifest(dest: Path, problems: list[str] | None = None) -> dict[str, str]:
    """tagmanifest-sha256.txt as {tag file name: sha256}. Only Brankas's own tag files
    (``TAG_NAMES``) are taken: any other name is refused, or noted in ``problems``."""
    text = read_text(dest, TAGMANIFEST)
    out = {}
    for name, digest in parse_lines(text, what=TAGMANIFEST, dest=dest,
                                    problems=problems).items():
        if name not in TAG_NAMES or _HEX64.fullmatch(digest) is None:
            detail = f"{TAGMANIFEST} names {shown(name)}, not a tag file of Brankas"
            if problems is None:
                raise SetupError("backup_bag_invalid", path=str(dest), detail=detail)
            note(problems, detail)
            continue
        out[name] = digest.lower()
    return out


def read_tags(dest: Path, name: str) -> dict[str, str]:
    """A tag file ("Label: value" lines, as bagit.txt and bag-info.txt) as {label: first
    value}; continuation lines are joined."""
    info: dict[str, str] = {}
    last: str | None = None
    raw = diskfs.read_file(dest, name, limit=TAG_LIMIT)
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if line[:1] in {" ", "\t"} and last is not None:
            info[last] += " " + line.strip()
        elif ":" in line:
            label, _, value = line.partition(":")
            last = label.strip()
            info.setdefault(last, value.strip())
    return info


def read_bag_info(dest: Path) -> dict[str, str]:
    try:
        return read_tags(dest, BAG_INFO)
    except FileNotFoundError:
        return {}


def payload_lines(values: Mapping[str, object]) -> bytes:
    """A manifest-like file from {payload path: value}, sorted by path."""
    return "".join(
        f"{values[p]}  {DATA}/{encode_path(p)}\n" for p in sorted(values)
    ).encode("utf-8")


def payload_chunks(values: Mapping[str, object], lines: int = 2000) -> Iterator[bytes]:
    """``payload_lines(values)`` in pieces of ``lines`` lines (the same bytes, joined)."""
    paths = sorted(values)
    for i in range(0, len(paths), lines):
        yield "".join(f"{values[p]}  {DATA}/{encode_path(p)}\n"
                      for p in paths[i:i + lines]).encode("utf-8")


def tag_lines(hashes: Mapping[str, str]) -> bytes:
    return "".join(f"{hashes[n]}  {encode_path(n)}\n" for n in sorted(hashes)).encode("utf-8")


def bag_info_text(info: Mapping[str, str]) -> bytes:
    """bag-info.txt; values are kept on one line."""
    lines = [f"{label}: {' '.join(str(value).split())}" for label, value in info.items()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def oxum(sizes: Mapping[str, int]) -> str:
    return f"{sum(sizes.values())}.{len(sizes)}"


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def read_medium(dest: Path | str) -> MediumInfo | None:
    """The identity written on the disk at DEST, or None when DEST holds none. It is read
    as an untrusted file: a link, a FIFO or an oversized file is refused, and the id must
    be a UUID."""
    dest = Path(dest)
    try:
        raw = diskfs.read_file(dest, MEDIUM, limit=MEDIUM_LIMIT)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        body = json_from_disk(raw)
        if body.get("format") != MEDIUM_FORMAT:
            raise ValueError(body.get("format"))
        medium_id = str(body["medium_id"])
        if _UUID.fullmatch(medium_id) is None:
            raise ValueError(medium_id)
        return MediumInfo(medium_id=medium_id, label=shown(str(body.get("label", "")), 100),
                          created=shown(str(body.get("created", "")), 40),
                          organization=shown(str(body.get("organization", "")), 200))
    except (ValueError, KeyError, AttributeError):
        raise SetupError("backup_bag_invalid", path=str(dest),
                         detail=f"{MEDIUM} is not readable") from None


def guide_texts() -> dict[str, bytes]:
    """The restore guides as they are written on a disk: {file name: content}."""
    folder = resources.files("brankas.core.disk").joinpath("guides")
    return {name: folder.joinpath(source).read_bytes() for name, source in GUIDES.items()}


# Disk errors -------------------------------------------------------------------------

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_GONE = {errno.EIO, errno.ENODEV, errno.ENOENT, errno.ENXIO, errno.EROFS, errno.ENOTDIR,
         getattr(errno, "ESTALE", errno.EIO), getattr(errno, "ENOMEDIUM", errno.EIO)}


def disk_error(exc: OSError, dest: Path) -> BrankasError:
    """What an OSError on the backup disk means to its user: full, gone, or another fault."""
    if exc.errno in _FULL:
        return SetupError("backup_disk_full", path=str(dest))
    try:
        dest_reachable = (dest / BAGIT_TXT).exists() or dest.is_dir()
    except OSError:
        dest_reachable = False
    detail = exc.strerror or str(exc)
    if exc.errno in _GONE or not dest_reachable:
        return SetupError("backup_disk_gone", path=str(dest), detail=detail)
    return SetupError("backup_disk_error", path=str(dest), detail=detail)


@contextlib.contextmanager
def disk_errors(dest: Path) -> Iterator[None]:
    """OSErrors of the backup disk become one clear error (``disk_error``)."""
    try:
        yield
    except BrankasError:
        raise
    except OSError as exc:
        raise disk_error(exc, dest) from exc


# Hashing ------------------------------------------------------------------------------

_buffers = threading.local()


def read_buffer() -> bytearray:
    """One reusable 1 MiB buffer per thread (zeroing a fresh one per small file costs more
    than hashing the file)."""
    buf: bytearray | None = getattr(_buffers, "buf", None)
    if buf is None:
        buf = _buffers.buf = bytearray(CHUNK)
    return buf


def drop_cache(fd: int) -> None:
    """Ask the OS to forget the file's cached pages, so the next read comes from the disk.
    Only clean (already written back) pages are dropped: fsync first. A no-op where the
    call does not exist (Windows, macOS)."""
    if hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_DONTNEED"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def hash_stream(fh: BinaryIO, *, uncached: bool = False) -> tuple[str, int]:
    """SHA-256 and size of an open file, read to its end; ``uncached`` reads it from the
    disk, not the cache. hashlib releases the GIL on large updates, so threads hash in
    parallel."""
    digest = hashlib.sha256()
    size = 0
    buf = read_buffer()
    view = memoryview(buf)
    if uncached:
        drop_cache(fh.fileno())
    while n := fh.readinto(buf):  # type: ignore[attr-defined]
        digest.update(view[:n])
        size += n
    return digest.hexdigest(), size


def hash_file(path: Path, *, uncached: bool = False) -> tuple[str, int]:
    """SHA-256 and size of a file Brankas made itself (a staging copy)."""
    with open(path, "rb", buffering=0) as fh:
        return hash_stream(fh, uncached=uncached)


def hash_disk_file(dest: Path, rel: str, *, uncached: bool = False,
                   known_dirs: set[str] | None = None) -> tuple[str, int]:
    """SHA-256 and size of a file on the disk (``rel`` from DEST), opened as untrusted:
    no link followed, a regular file only (``disk.fs.open_file``)."""
    with diskfs.open_file(dest, rel, known_dirs=known_dirs) as fh:
        return hash_stream(fh, uncached=uncached)


# The lock: one writer or verifier per disk at a time ---------------------------------

LOCK = "lock"


def lock(dest: Path, *, create: bool) -> int | None:
    """Take the disk's lock, or refuse with ``backup_busy``. Returns the descriptor to pass to
    ``unlock``; None where there is nothing to lock (``create=False`` and no lock file, a
    read-only disk) or the file system has no locks. The OS drops the lock when the
    process dies, however it dies.

    The staging folder and the lock file are used only as a real folder and a regular
    file: a link or anything else in their place is refused (``backup_staging_foreign``)
    by a writer, and makes a reader (``create=False``) go without the lock."""
    staging = dest / STAGING
    kind = diskfs.lkind(staging)
    if kind is None and create:
        staging.mkdir(exist_ok=True)
        kind = diskfs.lkind(staging)
    if kind != "dir":
        if create and kind is not None:
            raise SetupError("backup_staging_foreign", path=str(dest), name=STAGING, what=kind)
        return None
    path = staging / LOCK
    kind = diskfs.lkind(path)
    if kind not in {None, "file"}:
        if create:
            raise SetupError("backup_staging_foreign", path=str(dest),
                             name=f"{STAGING}/{LOCK}", what=kind)
        return None
    flags = (os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | (os.O_CREAT if create else 0))
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:
        if create:
            raise
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        if create:
            raise SetupError("backup_staging_foreign", path=str(dest),
                             name=f"{STAGING}/{LOCK}", what="not a regular file")
        return None
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK}:
            raise SetupError("backup_busy", path=str(dest)) from None
        return None
    return fd


def unlock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
