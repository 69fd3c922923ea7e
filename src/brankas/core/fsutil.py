"""Durable file writes: write to a staging name, fsync, rename, fsync the folder.

Bulk callers (the import) may defer the two fsyncs of many files and then make them all
durable at once with ``fsync_paths``: the writes are the same, the waits overlap. The
rule stays: nothing refers to a file (no database record commits) before the file and
its folder entry are durable.

Everything Brankas writes under its data folder is private to the owner on POSIX: the
entry points set a restrictive umask (``private_umask``), and the writers here ask for
the private modes explicitly as well (``PRIVATE_FILE``, ``PRIVATE_DIR``), so a library
caller with a loose umask gets the same. ``tighten`` brings an existing folder in line.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from brankas.core.errors import SetupError

if TYPE_CHECKING:  # imported when first used: not a cost of every command's start
    from concurrent.futures import ThreadPoolExecutor

CHUNK = 1 << 20
PRIVATE_FILE = 0o600  # owner reads and writes; nobody else anything
PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077
POSIX_MODES = os.name != "nt"  # Windows ignores these modes: an ACL protects the folder
SYNC_WORKERS = 8  # fsyncs in flight at once: the file system and disk serve them together
STAGING_BUFFER = 64 * 1024


def fsync_dir(path: Path) -> None:
    """Make a rename durable. Windows cannot open folders for fsync; NTFS journals renames."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    # Windows flushes only a handle opened for writing; POSIX accepts either.
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except (IsADirectoryError, PermissionError):
        if not path.is_dir():
            raise
        fsync_dir(path)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_each(paths: list[Path]) -> None:
    for path in paths:
        _fsync_path(path)


_sync_pool: ThreadPoolExecutor | None = None
_sync_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _sync_pool
    with _sync_pool_lock:
        if _sync_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _sync_pool = ThreadPoolExecutor(max_workers=SYNC_WORKERS, thread_name_prefix="fsync")
        return _sync_pool


def _reset_pool_in_child() -> None:
    global _sync_pool, _sync_pool_lock
    _sync_pool, _sync_pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_in_child)


def fsync_paths(paths: Iterable[Path]) -> None:
    """fsync many files and folders, several at a time (each call waits for the disk;
    concurrent calls let the file system and the disk serve them together). Returns when
    all are done; raises the first error."""
    unique = list(dict.fromkeys(paths))
    try:
        if len(unique) <= 1:
            _fsync_each(unique)
            return
        # SYNC_WORKERS shares, each fsynced in turn by one thread: that many in flight.
        shares = [unique[i::SYNC_WORKERS] for i in range(min(SYNC_WORKERS, len(unique)))]
        for _ in _pool().map(_fsync_each, shares):
            pass
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise SetupError("disk_full", path=str(unique[0].parent)) from exc
        raise


def fsync_paths_each(paths: Iterable[Path]) -> dict[Path, OSError]:
    """``fsync_paths`` that goes on past a failure: every path is fsynced (several at a
    time) and those whose fsync failed (an EIO, a file removed meanwhile) are returned
    with their error; the others are durable. For a caller that drops a failed file alone
    (a grant's group) and never fsyncs it again (after an EIO a second fsync may report
    success for data that is lost)."""
    unique = list(dict.fromkeys(paths))

    def each(share: list[Path]) -> dict[Path, OSError]:
        failed: dict[Path, OSError] = {}
        for path in share:
            try:
                _fsync_path(path)
            except OSError as exc:
                failed[path] = exc
        return failed

    if len(unique) <= 1:
        return each(unique)
    failed: dict[Path, OSError] = {}
    shares = [unique[i::SYNC_WORKERS] for i in range(min(SYNC_WORKERS, len(unique)))]
    for part in _pool().map(each, shares):
        failed.update(part)
    return failed


_libc_syncfs: object = None  # None: not looked up yet; False: not available


def _syncfs_call() -> object:
    global _libc_syncfs
    if _libc_syncfs is None:
        _libc_syncfs = False
        if os.name == "posix":
            try:
                import ctypes
                import ctypes.util

                libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
                fn = libc.syncfs
                fn.argtypes = [ctypes.c_int]
                fn.restype = ctypes.c_int
                _libc_syncfs = fn
            except (ImportError, OSError, AttributeError):  # no ctypes: an fsync each
                _libc_syncfs = False
    return _libc_syncfs


def sync_filesystem(path: Path, paths: Iterable[Path] = ()) -> None:
    """Make everything written to the file system holding ``path`` durable with one call:
    Linux's ``syncfs(2)`` (through libc: Python has no ``os.syncfs``), which writes back
    every dirty file, folder and the journal of that file system and waits for them.
    Elsewhere (macOS, the BSDs, Windows: no ``syncfs``) each of ``paths`` (the files and
    folders written since the last call) is fsynced instead, several at a time, as
    ``fsync_paths`` does. Batched durability: write many files, call this once, and only
    then record any of them."""
    fn = _syncfs_call()
    if fn:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            if fn(fd) != 0:  # type: ignore[operator]
                import ctypes

                err = ctypes.get_errno()
                if err == errno.ENOSPC:
                    raise SetupError("disk_full", path=str(path))
                raise OSError(err, os.strerror(err), str(path))
        finally:
            os.close(fd)
        return
    fsync_paths(paths)


def private_umask() -> int | None:
    """Make every file and folder this process creates from now on private to its owner
    (``umask 077``), whoever creates it (SQLite, Django, a library). Returns the previous
    umask to restore, or None where there is none (Windows)."""
    if not POSIX_MODES:
        return None
    return os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """``mkdir -p`` where every folder created is 0700 (``Path.mkdir(parents=True)`` gives
    the parents the default mode). Existing folders are left as they are."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by another process
            if not folder.is_dir():
                raise
            continue
        if POSIX_MODES:
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask


def open_private(path: Path, *, buffering: int = -1) -> BinaryIO:
    """Create ``path`` (never an existing file) for writing, readable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        return os.fdopen(fd, "wb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def tighten(root: Path) -> list[Path]:
    """Make ``root`` and everything in it private: folders 0700, files 0600. Links are
    neither followed nor changed (what they point at is not ours to change). POSIX only;
    returns what was changed."""
    import stat

    changed: list[Path] = []
    if not POSIX_MODES:
        return changed

    def fix(path: Path, st: os.stat_result) -> None:
        if stat.S_ISDIR(st.st_mode):
            want = PRIVATE_DIR
        elif stat.S_ISREG(st.st_mode):
            want = PRIVATE_FILE
        else:
            return  # a link, socket or FIFO: left alone
        if stat.S_IMODE(st.st_mode) != want:
            os.chmod(path, want)
            changed.append(path)

    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return changed
    fix(root, st)
    if not stat.S_ISDIR(st.st_mode):
        return changed
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:  # removed meanwhile
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                st = entry.stat(follow_symlinks=False)
                fix(path, st)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode):
                pending.append(path)
    return changed


class _StagingNames:
    """Staging file names: random per process, counted within it (no system call each)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = uuid.uuid4().hex
        self.count = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}-{next(self.count):08d}.part"


_names = _StagingNames()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_names.reset)


@contextlib.contextmanager
def staged_file(staging_dir: Path, *, sync: bool = True) -> Iterator[tuple[Path, BinaryIO]]:
    """Open a fresh staging file; it is removed if the block fails. With ``sync=False``
    the caller fsyncs it (``fsync_paths``) before publishing it."""
    path = staging_dir / _names.next()
    # An explicit buffer size also spares the terminal check of ``open`` (one system call).
    try:
        fh = open_private(path, buffering=STAGING_BUFFER)
    except FileNotFoundError:
        make_private_dir(staging_dir)
        fh = open_private(path, buffering=STAGING_BUFFER)
    try:
        yield path, fh
        fh.flush()
        if sync:
            os.fsync(fh.fileno())
    except OSError as exc:
        fh.close()
        path.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise SetupError("disk_full", path=str(staging_dir)) from exc
        raise
    except BaseException:
        fh.close()
        path.unlink(missing_ok=True)
        raise
    fh.close()


class WritebackHint:
    """Start writing a big file to disk while it is still being written, so that its
    final fsync waits for the last few MiB only, not for the whole file.

    Call ``wrote(n)`` after each write to ``fh``. Every ``STEP`` bytes the part written
    so far is handed to the kernel with ``posix_fadvise(DONTNEED)``, which on Linux starts
    its writeback at once (and lets the page cache forget it once it is on disk). Only
    a hint: durability still comes from the fsync; where the call does not exist it is
    a no-op."""

    STEP = 16 * CHUNK

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.start = 0
        self.pending = 0
        self.enabled = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_DONTNEED")

    def wrote(self, n: int) -> None:
        self.pending += n
        if not self.enabled or self.pending < self.STEP:
            return
        self.fh.flush()
        try:
            os.posix_fadvise(self.fh.fileno(), self.start, self.pending, os.POSIX_FADV_DONTNEED)
        except (OSError, ValueError):
            self.enabled = False
        self.start += self.pending
        self.pending = 0


def publish(staged: Path, final: Path, *, sync_dir: bool = True, make_parent: bool = True) -> None:
    """Move a complete, fsynced staging file to its final name, never over an existing file.
    With ``sync_dir=False`` the caller fsyncs the folder (``fsync_paths``) before anything
    refers to the file; with ``make_parent=False`` the caller has made the folder."""
    if make_parent:
        make_private_dir(final.parent)
    if final.exists():
        raise FileExistsError(final)
    os.replace(staged, final)
    if sync_dir:
        fsync_dir(final.parent)


_buffers = threading.local()


def copy_stream(src: BinaryIO, dst: BinaryIO, on_chunk=None) -> int:  # type: ignore[no-untyped-def]
    # One reusable buffer per thread: allocating and zeroing a fresh MiB for every small
    # scan costs more than copying the scan.
    buf = getattr(_buffers, "free", None) or bytearray(CHUNK)
    _buffers.free = None  # taken: a nested call gets its own
    try:
        total = 0
        view = memoryview(buf)
        while True:
            n = src.readinto(buf)  # type: ignore[attr-defined]
            if not n:
                return total
            chunk = view[:n]
            if on_chunk is not None:
                on_chunk(chunk)
            dst.write(chunk)
            total += n
    finally:
        _buffers.free = buf
