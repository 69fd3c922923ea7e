"""File access on a backup disk, which is untrusted input.

A backup disk travels: it leaves the safe and comes back, and whoever held it may have
prepared it. Nothing it says may make Brankas read, write or delete outside it, follow
a link, block, or read without bound. Every reader and writer of a disk (the bag writer,
verify, restore, recover, the drill) goes through this module:

- ``check_relative`` is the minimum every path from a disk must meet before use:
  relative, '/'-separated, no empty, ``.`` or ``..`` component, no absolute path, drive
  letter, UNC prefix, backslash, colon (NTFS streams), NUL or control character, and a
  bounded length. Payload paths must in addition be valid exFAT/NTFS names
  (``disk.format.check_payload_path``), which implies this check.
- ``open_file`` opens a file under a root without following a link anywhere on the way:
  every folder on the path is checked with ``lstat`` (a symbolic link, a Windows junction
  or any other reparse point is refused), the file itself is opened with ``O_NOFOLLOW``
  and ``O_NONBLOCK`` (a FIFO cannot make the open wait) and must be a regular file
  (``fstat``); where ``O_NOFOLLOW`` does not exist (Windows) the file is ``lstat``-ed first
  and the opened handle must be that same file. A size limit is checked before reading.
- ``read_file`` reads a whole (small) file with that limit; ``real_dir`` walks (and, for
  a writer, makes) folders, refusing anything that is not a real folder.

The threat is a disk prepared while it was away, not a process racing Brankas on the
machine while it runs (that process could do anything anyway): checks are made on the
path just before each use.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from brankas.core.errors import SetupError

MAX_PATH_CHARS = 1024  # a Brankas payload path is well under 300
MAX_COMPONENT_CHARS = 255
MAX_DEPTH = 32  # a Brankas path is at most 7 deep; deep chains only cost memory and time
_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT (Windows)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
_HAS_NOFOLLOW = hasattr(os, "O_NOFOLLOW")


def kind_of(st: os.stat_result) -> str:
    """What an ``lstat`` result is: file, dir, link, fifo, device, socket or other. A
    Windows reparse point (junction, mount point, symbolic link) is a link."""
    if getattr(st, "st_file_attributes", 0) & _REPARSE_POINT or stat.S_ISLNK(st.st_mode):
        return "link"
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISFIFO(st.st_mode):
        return "fifo"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "device"
    if stat.S_ISSOCK(st.st_mode):
        return "socket"
    return "other"


def lkind(path: Path) -> str | None:
    """``kind_of`` the entry at ``path`` itself (never followed); None when there is none.
    A path reached only through a loop of links (a folder on the way is a link to itself or
    its parent) is a link: it is not there as a real entry, and nothing may be made there."""
    try:
        return kind_of(os.lstat(path))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "link"
        raise


def check_relative(text: str) -> str | None:
    """Why ``text`` cannot be used as a path relative to a disk's root, or None."""
    if not text:
        return "empty path"
    if len(text) > MAX_PATH_CHARS:
        return f"longer than {MAX_PATH_CHARS} characters"
    if _CONTROL.search(text):
        return "a control character"
    if "\\" in text:
        return "a backslash"
    if text.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(text):
        return "a drive letter"
    parts = text.split("/")
    if len(parts) > MAX_DEPTH:
        return f"more than {MAX_DEPTH} levels deep"
    for part in parts:
        if part in {"", ".", ".."}:
            return "an empty, '.' or '..' component"
        if ":" in part:
            return "a colon (drive letter or NTFS stream)"
        if len(part) > MAX_COMPONENT_CHARS:
            return f"a name longer than {MAX_COMPONENT_CHARS} characters"
    return None


def refused(dest: Path, name: str, kind: str) -> SetupError:
    """The refusal for an entry on the disk that is not what Brankas may use."""
    if kind == "link":
        return SetupError("disk_link", path=str(dest), name=name)
    return SetupError("disk_not_regular", path=str(dest), name=name, what=kind)


def _checked(dest: Path, rel: str) -> list[str]:
    reason = check_relative(rel)
    if reason is not None:
        raise SetupError("disk_path_invalid", path=str(dest), name=rel[:200], detail=reason)
    return rel.split("/")


def _check_dirs(root: Path, parts: list[str], known: set[str] | None) -> None:
    """Every folder on the way to ``parts[-1]`` must be a real folder (not a link)."""
    if len(parts) > 1:
        parent = "/".join(parts[:-1])
        if known is not None and parent in known:  # the common case, without a Path
            return
        real_dir(root, parent, create=False, known_dirs=known)


class NotRegular(Exception):
    """What ``open_regular`` found at a path instead of a regular file: ``kind`` (as
    ``kind_of`` names it: link, fifo, device, socket, dir, other)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def open_regular(path: Path | str, *, buffering: int = -1) -> tuple[BinaryIO, os.stat_result]:
    """The regular file at ``path`` opened for reading, and its ``fstat``: the last
    component not followed if a link (``O_NOFOLLOW``; where it does not exist, ``lstat``
    first and the opened handle that same file), a FIFO not waited for (``O_NONBLOCK``);
    anything else there raises ``NotRegular``. The folders on the way are the caller's
    to check (``open_file``). A missing file raises FileNotFoundError."""
    before = None
    if not _HAS_NOFOLLOW:
        before = os.lstat(path)
        if kind_of(before) != "file":
            raise NotRegular(kind_of(before))
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and _HAS_NOFOLLOW):
            raise NotRegular("link") from None
        if exc.errno in {errno.ENXIO, errno.EOPNOTSUPP}:  # a socket, or a FIFO with no writer
            raise NotRegular(lkind(Path(path)) or "other") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(kind_of(st))
        if before is not None and st.st_ino and (st.st_ino, st.st_dev) != (
                before.st_ino, before.st_dev):
            raise NotRegular("link")
        return os.fdopen(fd, "rb", buffering=buffering), st
    except BaseException:
        os.close(fd)
        raise


def open_file(root: Path, rel: str, *, limit: int | None = None,
              known_dirs: set[str] | None = None) -> BinaryIO:
    """Open the regular file ``root/rel`` (``root``: the disk; ``rel``: '/'-separated) for
    reading, following no link (see the module docstring). ``known_dirs`` caches the
    folders already checked. A missing file raises FileNotFoundError."""
    parts = _checked(root, rel)
    _check_dirs(root, parts, known_dirs)
    try:
        f, st = open_regular(root.joinpath(*parts), buffering=0)
    except NotRegular as exc:
        raise refused(root, rel, exc.kind) from None
    if limit is not None and st.st_size > limit:
        f.close()
        raise SetupError("disk_file_too_large", path=str(root), name=rel, limit=limit)
    return f


def stat_file(root: Path, rel: str, *, known_dirs: set[str] | None = None) -> os.stat_result:
    """``lstat`` of the regular file ``root/rel``, reached through real folders only; a
    link or anything else there is refused, a missing file raises FileNotFoundError."""
    parts = _checked(root, rel)
    _check_dirs(root, parts, known_dirs)
    st = os.lstat(os.path.join(root, *parts))
    if kind_of(st) != "file":
        raise refused(root, rel, kind_of(st))
    return st


def check_dest(dest: Path) -> None:
    """The disk's folder itself (DEST, as typed) must not be a link or junction: through
    one, a backup would be written to wherever it points, a laptop folder included."""
    if lkind(dest) == "link":
        raise SetupError("backup_dest_link", path=str(dest))


def read_file(root: Path, rel: str, *, limit: int,
              known_dirs: set[str] | None = None) -> bytes:
    """The whole of a regular file, refused when it holds more than ``limit`` bytes (also
    when it grows while being read)."""
    with open_file(root, rel, limit=limit, known_dirs=known_dirs) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SetupError("disk_file_too_large", path=str(root), name=rel, limit=limit)
    return data


def real_dir(root: Path, rel: str, *, create: bool,
             known_dirs: set[str] | None = None) -> tuple[Path, list[Path]]:
    """The folder ``root/rel``, every step of it a real folder (made when ``create``).
    Returns the folder and the folders whose entries changed (made here), parents first,
    for the caller to fsync."""
    dest = root
    made: list[Path] = []
    if not rel:
        return root, made
    if known_dirs is not None and rel in known_dirs:  # checked before: no Path per step
        return root.joinpath(*rel.split("/")), made
    folder = root
    done = ""
    for part in _checked(dest, rel):
        folder = folder / part
        done = f"{done}/{part}" if done else part
        if known_dirs is not None and done in known_dirs:
            continue
        kind = lkind(folder)
        if kind is None and create:
            try:
                folder.mkdir()
                made.append(folder.parent)
            except FileExistsError:
                pass
            kind = lkind(folder)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(folder))
        if kind != "dir":
            raise refused(dest, done, kind)
        if known_dirs is not None:
            known_dirs.add(done)
    return folder, made
