"""Giving a stored file a new name in its folder, safe to kill at any point and run again.

Used when the naming rule of the store changes (exempted files named by their agenda
number alone): the record names the old path, the file moves to the new one, then the
record is updated. A run killed anywhere leaves one of four states, each recognised by
the next run (``rename_stored``):

- the file still at the old name: it is moved now;
- the file at the new name only (moved, record not updated yet): the record may follow;
- the file at both names (a hard link made, the old name not removed yet): the old name
  goes once the new one is checked to hold the recorded content;
- the file at neither name: nothing is done; the record keeps its path.

Nothing is ever overwritten: the new name is made as a hard link, which fails when the
name exists, and only then is the old name removed; on a file system without hard links
the rename is checked not to replace anything (and on Windows a rename never does). A
new name that holds other content is a conflict: nothing is touched.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
from pathlib import Path

from brankas.core import fsutil


class Outcome(enum.Enum):
    RENAMED = "renamed"  # moved by this run
    DONE = "done"  # already at the new name (an earlier run was cut short)
    MISSING = "missing"  # at neither name: nothing to move
    CONFLICT = "conflict"  # the new name holds something else (or the old is not a file)

    @property
    def moved(self) -> bool:
        """Whether the file is now at the new name, with the recorded content or untouched
        since it was recorded there: the record may name the new path."""
        return self in (Outcome.RENAMED, Outcome.DONE)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _sha256(path: Path) -> str:
    from brankas.core.register.store import file_sha256

    return file_sha256(path)


def move_new(old: Path, new: Path) -> None:
    """Give ``old`` the name ``new`` (same folder); ``FileExistsError`` if ``new`` exists."""
    try:
        os.link(old, new)  # ``old`` was checked to be a regular file, not a link
    except FileExistsError:
        raise
    except OSError as exc:
        # No hard links here (FAT, exFAT, some network shares): a plain rename, which
        # Windows refuses over an existing name and which is checked for here elsewhere.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                             errno.ENOSYS, errno.EINVAL, errno.EACCES):
            raise
        if os.path.lexists(new):
            raise FileExistsError(errno.EEXIST, "exists", str(new)) from None
        os.rename(old, new)
        return
    os.unlink(old)


def rename_stored(old: Path, new: Path, *, sha256: str, sync_dir: bool = True) -> Outcome:
    """Move the file recorded at ``old`` (with SHA-256 ``sha256``) to ``new``, which is in
    the same folder. Never overwrites; never follows a link. With ``sync_dir=False`` the
    caller fsyncs the folder (``fsutil.fsync_paths``) before the record names ``new``."""
    if old == new:
        return Outcome.DONE
    new_st = _lstat(new)
    old_st = _lstat(old)
    if new_st is not None:
        if not stat.S_ISREG(new_st.st_mode) or _sha256(new) != sha256:
            return Outcome.CONFLICT
        if old_st is not None and stat.S_ISREG(old_st.st_mode):
            same = (old_st.st_ino, old_st.st_dev) == (new_st.st_ino, new_st.st_dev)
            if same or _sha256(old) == sha256:  # a second name of the same content
                os.unlink(old)
                if sync_dir:
                    fsutil.fsync_dir(old.parent)
        return Outcome.DONE
    if old_st is None:
        return Outcome.MISSING
    if not stat.S_ISREG(old_st.st_mode):
        return Outcome.CONFLICT
    try:
        move_new(old, new)
    except FileExistsError:  # made meanwhile: decide on the next run
        return Outcome.CONFLICT
    if sync_dir:
        fsutil.fsync_dir(new.parent)
    return Outcome.RENAMED
