"""The backup writer: an append-only BagIt bag on an external disk.

``open_or_create(dest, ...)`` gives a ``Bag``; ``Bag.add_files(items)`` copies what the
disk lacks. Each file is copied to ``.brankas-staging/`` (outside ``data/``), hashed on
the way and checked against the size and hash the caller expects; at each checkpoint the
batch's copies are made durable together (one ``syncfs`` of the disk, or an fsync each
where there is none), dropped from the page cache and read back from the disk; only a
copy whose read-back hash matches goes on. Verified copies are moved into ``data/`` and
listed in batches (checkpoints) by
``disk.state.BagState``, whose docstring gives the crash-safety argument. The format is in
``disk.format``, the fixity check in ``disk.verify``.

Append-only: a payload file, once in ``data/``, is never overwritten or deleted. Giving
a path that is on the disk with other content is an error: a changed document needs a
new version path. Whether a file is already there is decided by its path and content
hash (the manifest), never by modification times, so FAT's 2-second clock plays no part.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import stat
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import BinaryIO, TypeGuard

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk import stager, stagerproc
from brankas.core.disk.format import MediumInfo, read_medium
from brankas.core.disk.state import BagState, Hooks, Staged
from brankas.core.errors import BrankasError, Conflict, IntegrityFailure, InvalidInput, SetupError
from brankas.core.fsutil import sync_filesystem

__all__ = ["AddResult", "Bag", "FileOpener", "Hooks", "MediumInfo", "PayloadItem", "Progress",
           "file_item", "open_or_create", "read_medium"]

Progress = Callable[[int, int, int, int], None]  # files_done, files_total, bytes_done, bytes_total
# Names an operating system may put at the root of a disk: they do not make a folder "used".
OS_FILES = {"System Volume Information", "$RECYCLE.BIN", ".Trashes", ".Spotlight-V100",
            ".fseventsd", ".DS_Store", "lost+found", "desktop.ini", "Thumbs.db"}


@dataclass(frozen=True)
class PayloadItem:
    """One file to put on the disk: its payload path (under ``data/``, '/'-separated), how
    to open its bytes, and what the register says they are (checked while copying)."""

    path: str
    opener: Callable[[], BinaryIO]
    size: int | None = None
    sha256: str | None = None
    ref: object = None  # the caller's note, handed back with the committed copy
    # The caller's own records (never the disk's word) say this file is on this disk: when
    # the manifest lists it with the same hash, ``add_files`` checks only that its folder
    # holds a regular file of that name (one listing per folder, no stat per file); its
    # size and bytes are ``verify``'s to check.
    recorded: bool = False
    # A file the caller wrote itself into this disk's staging folder, under a name from
    # ``Bag.staging_file`` (the run's own files, s27): listed there once durable and read
    # back, never copied; ``size`` and ``sha256`` are what was written.
    staged: str | None = None


class FileOpener:
    """Opens one file of the local disk (the archive): small, as a run may plan 100,000
    of them, and known to ``Bag`` so a small file is copied with one read and one write."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> BinaryIO:
        fd = _open_regular(self.path)
        return open(fd, "rb", buffering=0)  # noqa: SIM115 - read into the bag's buffer


def _no_opener() -> BinaryIO:
    raise RuntimeError("not to be read")


def file_item(path: str, source: Path, *, sha256: str | None = None) -> PayloadItem:
    """A PayloadItem for a file on the local disk."""
    return PayloadItem(path, lambda: open(source, "rb"), source.stat().st_size, sha256)  # noqa: SIM115


@dataclass(frozen=True)
class AddResult:
    added: tuple[str, ...]  # payload paths copied, verified and listed in this call
    skipped: int  # items already on the disk with the same content
    bytes_added: int
    files: int  # payload files on the disk afterwards (Payload-Oxum)
    bytes: int


class Bag:
    """An open backup disk, locked for this process until ``close()``. Use
    ``open_or_create``."""

    def __init__(self, state: BagState, lock: int | None) -> None:
        self._state = state
        self._lock = lock
        self._closed = False
        state.held_lock = lock
        self._folded: tuple[_FoldedNames, set[str], int] | None = None  # ``_folded_names``
        # How many paths the lists held when ``_folded`` was last brought up to date: the
        # paths listed since are those after it in the listing (a dict: in the order
        # listed), not a list of 100,000 planned names held through the copy.
        self._folded_from = 0
        # The staging names of the files callers wrote themselves (``PayloadItem.staged``):
        # read back before they are listed even without ``verify_after_write`` (the bag
        # never read their bytes; s27 review).
        self._written_names: set[str] = set()

    @property
    def dest(self) -> Path:
        return self._state.dest

    @property
    def medium(self) -> MediumInfo:
        return self._state.medium

    # -- reading ---------------------------------------------------------------------

    def list_hashes(self) -> dict[str, object]:
        """The length and SHA-256 of the manifest and sizes on the disk now,
        ``{name: [bytes, sha256]}`` (``open_or_create``'s ``known_lists`` for the next
        opening)."""
        return self._state.list_hashes()

    @property
    def entries(self) -> Mapping[str, str]:
        """{payload path: sha256} of every file the manifest lists."""
        return MappingProxyType(self._state.entries)

    @property
    def sizes(self) -> Mapping[str, int]:
        """{payload path: bytes} of every file the manifest lists."""
        return MappingProxyType(self._state.sizes)

    def has(self, path: str) -> bool:
        return path in self._state.listing.files

    def settled(self) -> Callable[[str, str | None, int | None], bool]:
        """A check for the files the caller's own records say are on this disk: whether
        one needs no planning at all (a run of 100 new documents on a disk of 100,000
        does not make and plan an item for each of the others). True when the manifest
        lists the path with this SHA-256 and size and its folder holds a regular file of
        that name: what ``add_files`` checks of a recorded item it skips (``_listed``).
        Anything else is False: give it to ``add_files``, which decides. Each folder is
        listed once (names of listed files only) for the check's life."""
        files = self._state.listing.files
        listings: dict[str, set[str]] = {}
        folder_names = self._folder_names

        def check(path: str, sha256: str | None, size: int | None) -> bool:
            value = files.get(path)
            if value is None or not sha256 or size is None or size < 0:
                return False
            try:
                if value != bytes.fromhex(sha256) + size.to_bytes(8, "little"):
                    return False
            except (ValueError, OverflowError):
                return False
            parent, _, name = path.rpartition("/")
            names = listings.get(parent)
            if names is None:
                names = listings[parent] = folder_names(PayloadItem(path, _no_opener), parent)
            return name in names

        return check

    @property
    def medium_sha256(self) -> str:
        """SHA-256 of the disk's ``brankas-medium.json`` as it was read when opened."""
        return fmt.sha256_bytes(self._state.medium_bytes)

    def close(self) -> None:
        fmt.unlock(self._lock)
        self._lock = None
        self._closed = True

    def __enter__(self) -> Bag:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

    def add_files(self, items: Iterable[PayloadItem] | Callable[[], Iterable[PayloadItem]], *,
                  on_progress: Progress | None = None,
                  on_commit: Callable[[list[str]], None] | None = None,
                  on_committed: Callable[[list[Staged]], None] | None = None,
                  verify_after_write: bool = True, run: str | None = None,
                  workers: int | None = None, checkpoint_files: int = 500,
                  checkpoint_seconds: float = 5.0,
                  child: bool | None = None) -> AddResult:
        """Copy every item the disk lacks; skip those it has with the same content.

        Every item is checked before anything is written (names, case twins, conflicts).
        ``on_progress(files_done, files_total, bytes_done, bytes_total)`` counts the files
        to copy. ``on_commit(paths)`` (and ``on_committed(copies)``, each copy with its
        item's ``ref``) is called after each checkpoint with what is from then on durably
        on the disk, read back and listed: a caller that records per checkpoint never
        records a file that is not there. On an error, the copies verified before it are
        still committed (unless the disk is gone), then it is raised. ``run`` is written
        to bag-info.txt as Brankas-Run.

        ``items`` may be a function giving the items afresh at each call (a list read
        from a file): they are then read twice, once to check them all and once to copy,
        and never held all at once (a run of 100,000 documents keeps only their names'
        folded keys between the two passes). Any other iterable is read into a list.

        Durability is batched: the copies of a checkpoint are written without an fsync
        each; at the checkpoint one ``fsutil.sync_filesystem`` of the disk (Linux
        ``syncfs``; elsewhere an fsync of every copy) makes them durable, then each is
        dropped from the page cache and read back from the disk, and only the copies whose
        read-back matches are moved into ``data/`` and listed. A checkpoint is due every
        ``checkpoint_files`` copies (or a quarter of the files the disk already lists, up
        to 10,000, whichever is more: the manifest is rewritten whole at each, so a disk
        of 100,000 files is not rewritten 200 times) or ``checkpoint_seconds``. While a
        checkpoint waits for the disk, the threads stage the copies of the next ones
        (``_AHEAD_FILES`` at most): never part of the checkpoint being committed. With a
        staging child, a checkpoint's copies, read back, are moved and listed by the next
        checkpoint while the child reads that one's back (``_Checkpoints.commit`` ``hold``;
        s26); the last checkpoint lists what is left.

        ``workers``: the copy threads; by default (None) as many as the planned files'
        mean size pays for (``copy_workers``). ``child``: whether a second process stages
        the small files (``disk.stager``; s25) while this one makes the checkpoints; by
        default (None) when one thread copies many of them (``stager_wanted``)."""
        if self._closed:
            raise RuntimeError("the bag is closed")
        state = self._state
        state.recover()
        if callable(items):
            source = items
        else:
            given = list(items)
            source = lambda: given  # noqa: E731
        plan = self._plan(source())
        skipped = plan.skipped
        workers = max(1, workers if workers is not None else copy_workers(plan.files,
                                                                          plan.bytes))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brankas-bag")
        feed: _Feed | None = None
        try:
            if stager_wanted(plan.files, workers, child):
                feed = _Feed.start()
            checkpoints = _Checkpoints(self, run=run, on_commit=on_commit,
                                       on_committed=on_committed, pool=pool,
                                       verify=verify_after_write, feed=feed)
            # Nothing to copy (a no-change run): the items are not read a second time.
            chosen = plan.select(source()) if plan.files else iter(())
            error = self._copy_plan(chosen, plan.files, plan.bytes,
                                    checkpoints, on_progress=on_progress,
                                    workers=workers,
                                    checkpoint_files=checkpoint_files,
                                    checkpoint_seconds=checkpoint_seconds)
            del plan
            if error is not None:
                # Keep what was verified before the error: the next run need not copy it
                # again.
                if ((checkpoints.ready or checkpoints.held) and not _disk_gone(error)
                        and isinstance(error, Exception)):
                    with contextlib.suppress(Exception):
                        checkpoints.commit()
                checkpoints.abandon()
                raise error
            checkpoints.commit()  # the last files; or only bag-info, when the date or run changed
        finally:
            if feed is not None:
                feed.close()
            pool.shutdown(wait=True, cancel_futures=True)
        added = checkpoints.added
        return AddResult(added=tuple(added), skipped=skipped,
                         bytes_added=checkpoints.bytes_added,
                         files=len(state.entries), bytes=state.listing.total)

    def _copy_plan(self, plan: Iterator[PayloadItem], files_total: int, bytes_total: int,
                   checkpoints: _Checkpoints, *,
                   on_progress: Progress | None, workers: int,
                   checkpoint_files: int, checkpoint_seconds: float) -> BaseException | None:
        """Stage the planned items in the pool of ``checkpoints`` (``workers`` threads),
        handing each copy to ``checkpoints`` and committing every ``checkpoint_files``
        files (or a quarter of the disk's files) or ``checkpoint_seconds``. After the
        first failed copy nothing more is started; returns that failure (what was copied
        stays with ``checkpoints``). Interrupted (a BaseException, or a failed
        checkpoint), every staged copy not committed is removed."""
        error: BaseException | None = None
        done_files = done_bytes = 0
        if on_progress is not None:
            on_progress(0, files_total, 0, bytes_total)
        # Small files go to the threads a few at a time (``_batches``): one task per file
        # costs more than copying a one-page PDF. No more are in flight than a checkpoint
        # holds (a checkpoint of 3 files stages one file a task, as before batches).
        most = _BATCH_FILES if checkpoints.feed is None else _BATCH_CHILD
        per_batch = max(1, min(most, checkpoint_files // (2 * workers)))
        pending = _batches(plan, per_batch)
        more = True
        inflight: dict[Future[tuple[list[Staged], BaseException | None]],
                       list[PayloadItem]] = {}
        pool = checkpoints.pool
        waiting: list[Staged] = []

        def submit(limit: int) -> None:
            """Hand the threads more to stage, up to ``limit`` tasks not yet done (those
            done wait in ``inflight`` until the loop takes their copies)."""
            nonlocal more
            busy = sum(1 for f in inflight if not f.done())
            while error is None and more and busy < limit:
                batch = next(pending, None)
                if batch is None:
                    more = False
                    break
                feed = checkpoints.feed
                inflight[pool.submit(self._stage_batch, batch) if feed is None
                         else feed.thread.submit(self._stage_batch_child, feed.child,
                                                 batch)] = batch
                busy += 1

        try:
            while more or inflight:
                submit(2 * workers)
                if not inflight:
                    break
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in finished:
                    del inflight[future]
                    if future.exception() is not None:
                        error = error or future.exception()
                        continue
                    copies, failed = future.result()
                    if failed is not None:
                        error = error or failed  # later errors follow from it
                    waiting = copies  # removed if a checkpoint fails before they are handed on
                    while waiting:
                        staged = waiting.pop(0)
                        checkpoints.ready.append(staged)
                        done_files += 1
                        done_bytes += staged.size
                        if on_progress is not None:
                            on_progress(done_files, files_total, done_bytes, bytes_total)
                        every = max(checkpoint_files,
                                    min(len(self._state.entries) // 4, _CHECKPOINT_MOST))
                        if error is None and checkpoints.due(every, checkpoint_seconds):
                            # The threads go on staging the next copies while the
                            # checkpoint waits for the disk (its sync, read-back and
                            # folder syncs): up to half a checkpoint ahead. None of
                            # them is part of this checkpoint, nor listed before its own.
                            # A staging child stages more ahead (``_AHEAD_CHILD``): it
                            # works on the other core while this one commits (s25).
                            most = _AHEAD_FILES if checkpoints.feed is None else _AHEAD_CHILD
                            ahead = max(2 * workers, min(every // 2, most) // per_batch)
                            checkpoints.commit(top_up=functools.partial(submit, ahead),
                                               hold=True)
        except BaseException:
            for future in inflight:
                future.cancel()
            wait(inflight)
            checkpoints.abandon()
            self._discard(waiting)
            for f in inflight:
                if f.done() and not f.cancelled() and f.exception() is None:
                    self._discard(f.result()[0])
            raise
        return error

    # -- planning --------------------------------------------------------------------

    def _plan(self, items: Iterable[PayloadItem]) -> _Plan:
        """Which items to copy. Refuses, before anything is written, every item that could
        not be placed: a bad name, a case twin, a file/folder clash, other content on a
        path the disk has (append-only). Keeps each new item's path and hash, not the item."""
        entries = self._state.entries
        folded = _FoldedNames({})
        folded_dirs: set[str] = set()
        known_folded = False  # ``folded`` is made at the first new item (not on a no-change run)
        plan = _Plan()
        planned = plan.planned
        parent_exists: dict[str, bool] = {}  # a folder missing on the disk holds no file
        data = str(self._state.final(""))
        listings: dict[str, set[str]] = {}  # a few folders' listed files (``_listed``)
        good_folders: set[str] = set()  # folders whose names were checked
        # Folded folders of planned items, each found to be no file (listed or planned)
        # with every folder above it: a file there later is refused as a folder's name
        # (``folded_dirs``), so the next item of the same folder is not checked again.
        clear_dirs: set[str] = set()
        for item in items:
            if item.path in entries:  # its name was checked when it was written
                self._check_same(item)
                there = (self._listed(item, listings) if item.recorded
                         else self._still_there(item))
                if there:
                    plan.skipped += 1
                else:  # listed, yet gone from the disk: copy it again (same bytes)
                    plan.recopy.add(item.path)
                    plan.count(item)
                continue
            reason = fmt.check_payload_path(item.path, good_folders)
            if reason is not None:
                raise InvalidInput("backup_name_invalid", name=item.path, detail=reason)
            if not known_folded:
                folded, folded_dirs = self._folded_names()
                known_folded = True
            key = fmt.fold(item.path)
            twin = planned.twin(item.path, key) or folded.get(key)
            if (twin == item.path and item.sha256
                    and planned.paths[twin] == _digest(item.sha256)):
                plan.skipped += 1  # the same file given twice
                continue
            if twin is not None:
                detail = ("given twice" if twin == item.path
                          else f"differs only in letter case from data/{twin}")
                raise InvalidInput("backup_name_invalid", name=item.path, detail=detail)
            if key in folded_dirs:
                raise InvalidInput("backup_name_invalid", name=item.path,
                                   detail="a folder of that name exists")
            folder_key = key.rpartition("/")[0]
            parents = [] if folder_key in clear_dirs else _parents(key)
            clash = next((p for p in parents if p in folded or p in planned), None)
            if clash is not None:
                raise InvalidInput("backup_name_invalid", name=item.path,
                                   detail=f"data/{clash} is a file, not a folder")
            parent = item.path.rpartition("/")[0]  # no Path per item: a run may plan 100,000
            with self._state.on_disk():
                if parent not in parent_exists:
                    parent_exists[parent] = os.path.lexists(
                        os.path.join(data, *parent.split("/")) if parent else data)
                occupied = parent_exists[parent] and os.path.lexists(
                    os.path.join(data, *item.path.split("/")))
            if occupied:
                raise Conflict("backup_unexpected_file", name=item.path)
            planned.add(item.path, key, _digest(item.sha256))
            if parents:
                folded_dirs.update(parents)
                clear_dirs.add(folder_key)
            plan.count(item)
        planned.planned()
        return plan

    def _folded_names(self) -> tuple[_FoldedNames, set[str]]:
        """The folded names of the paths the disk lists and their folded folders, made
        once for the open disk (a run plans two or three times: its documents, its run
        files, its closing files) and brought up to date with what the plans before this
        one listed since (the listing's paths after ``_folded_from``). After a repair
        that dropped paths from the lists they are made again."""
        entries = self._state.entries
        cached = self._folded
        if (cached is None or cached[2] != self._state.repairs
                or len(entries) < self._folded_from):
            folded = _FoldedNames(entries)
            cached = self._folded = (folded, folded.folders(), self._state.repairs)
            self._folded_from = len(entries)
        folded, dirs, _ = cached
        # Listed since: a path joins the listing at its end (a failed checkpoint takes
        # its own paths off the end again; any other removal is a repair, after which
        # the names are made anew above).
        for path in itertools.islice(entries, self._folded_from, None):
            key = fmt.fold(path)
            folded.add(key)
            dirs.update(_parents(key))
        self._folded_from = len(entries)
        # ``_plan`` adds its own new folders to the set as it goes: a copy, so a plan
        # whose files are never listed leaves the cache as the disk is.
        return folded, set(dirs)

    def _still_there(self, item: PayloadItem) -> bool:
        """Whether a listed file is on the disk as the manifest says: a regular file of the
        size recorded (an ``lstat``; the full check is ``verify``'s). A disk is not
        believed on its manifest's word alone: one that lists files it does not hold gets
        them copied again; one holding something else at that name is refused."""
        rel = f"{fmt.DATA}/{item.path}"
        try:
            st = diskfs.stat_file(self._state.dest, rel, known_dirs=self._state.known_dirs)
        except FileNotFoundError:
            return False
        except SetupError as exc:
            raise Conflict("backup_disk_file_wrong", name=item.path,
                           detail=exc.message()) from None
        expected = item.size if item.size is not None else self._state.sizes.get(item.path)
        if expected is not None and st.st_size != expected:
            raise Conflict("backup_disk_file_wrong", name=item.path,
                           detail=f"{st.st_size} bytes, {expected} recorded")
        return True

    def _listed(self, item: PayloadItem, listings: dict[str, set[str]]) -> bool:
        """Whether the folder of a recorded, listed file holds a regular file of its name
        (the folder reached through real folders only; its names read once, a few
        folders kept). Anything else of that name gets the full ``_still_there``."""
        parent, _, name = item.path.rpartition("/")
        names = listings.get(parent)
        if names is None:
            if len(listings) >= 64:
                del listings[next(iter(listings))]
            names = listings[parent] = self._folder_names(item, parent)
        # Not among the names (gone, or a file system that lists names in another
        # normalisation), or not a regular file: the full check decides.
        return True if name in names else self._still_there(item)

    def _folder_names(self, item: PayloadItem, parent: str) -> set[str]:
        """The names of the regular files in the payload folder ``parent`` that the
        manifest lists (empty when the folder is missing): other names there (a prepared
        disk may hold any number) are not kept."""
        state = self._state
        entries = state.entries
        rel = f"{fmt.DATA}/{parent}" if parent else fmt.DATA
        prefix = f"{parent}/" if parent else ""
        try:
            folder, _ = diskfs.real_dir(state.dest, rel, create=False,
                                        known_dirs=state.known_dirs)
            with os.scandir(folder) as found:
                if os.name != "nt":  # a regular file by the listing's type: not a link
                    return {entry.name for entry in found
                            if entry.is_file(follow_symlinks=False)
                            and prefix + entry.name in entries}
                return {entry.name for entry in found
                        if prefix + entry.name in entries and _plain_file(entry)}
        except FileNotFoundError:
            return set()
        except SetupError as exc:
            raise Conflict("backup_disk_file_wrong", name=item.path,
                           detail=exc.message()) from None

    def _check_same(self, item: PayloadItem) -> None:
        """An item whose path is on the disk must carry the same bytes (append-only)."""
        known = self._state.sizes.get(item.path)
        if item.size is not None and known is not None and item.size != known:
            raise Conflict("backup_path_conflict", name=item.path)
        digest = item.sha256.lower() if item.sha256 else self._hash_source(item)
        if digest != self._state.entries[item.path]:
            raise Conflict("backup_path_conflict", name=item.path)

    def _hash_source(self, item: PayloadItem) -> str:
        digest = hashlib.sha256()
        buf = fmt.read_buffer()
        with _source(item) as src:
            while n := _read(src, item, buf):
                digest.update(memoryview(buf)[:n])
        return digest.hexdigest()

    # -- copying (worker threads) ----------------------------------------------------

    def _stage(self, item: PayloadItem) -> Staged:
        """Copy one item to a staging file, hashing it and checking it against what the
        item says (no fsync: the checkpoint makes its copies durable together)."""
        state = self._state
        if item.staged is not None:
            return self._written(item)
        staged = state.staging_file(".part")
        if _whole(item):
            return self._stage_whole(item, item.opener.path, staged)  # type: ignore[attr-defined]
        digest = hashlib.sha256()
        size = 0
        buf = fmt.read_buffer()
        view = memoryview(buf)
        try:
            with _source(item) as src, state.on_disk(), open(staged, "xb") as out:
                while n := _read(src, item, buf):
                    digest.update(view[:n])
                    out.write(view[:n])
                    size += n
            sha256 = digest.hexdigest()
            if item.size is not None and size != item.size:
                raise IntegrityFailure("backup_source_changed", name=item.path,
                                       detail=f"{size} bytes read, {item.size} expected")
            if item.sha256 and sha256 != item.sha256.lower():
                raise IntegrityFailure("backup_source_changed", name=item.path,
                                       detail="its SHA-256 is not the one recorded")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise
        return Staged(item.path, staged, sha256, size, item.ref)

    def _written(self, item: PayloadItem) -> Staged:
        """The copy a caller wrote itself into this disk's staging folder (``staged``):
        taken as it is, to be made durable and read back like any other. A name outside
        that folder, or anything but a regular file of the size written there, is refused
        (the read-back then checks its bytes)."""
        state = self._state
        staged = item.staged or ""
        if (not state.is_staging_file(staged)
                or item.size is None or not item.sha256):
            raise ValueError(f"{item.path}: not a file written to this disk's staging folder")
        with state.on_disk():
            st = os.lstat(staged)
        if not stat.S_ISREG(st.st_mode) or st.st_size != item.size:
            raise IntegrityFailure("backup_readback_mismatch", name=item.path)
        self._written_names.add(staged)
        return Staged(item.path, staged, item.sha256.lower(), item.size, item.ref)

    def staging_file(self, suffix: str) -> str:
        """A new name in the disk's staging folder, for a file the caller writes there
        itself (created new: ``O_EXCL``) and hands to ``add_files`` as a ``PayloadItem``
        with ``staged``; removed with the staging folder if never listed."""
        return self._state.staging_file(suffix)

    def on_disk(self) -> contextlib.AbstractContextManager[None]:
        """The disk's OSErrors as one clear error (full, gone, or other)."""
        return self._state.on_disk()

    def _stage_whole(self, item: PayloadItem, source: str, staged: str) -> Staged:
        """``_stage`` of a small file of the local disk: read whole (checked against the
        item before anything is written), then written with one call: what the staging
        child does (``stagerproc.stage_one``), here in this process."""
        try:
            fields = stagerproc.stage_one(os.fsencode(source), os.fsencode(staged),
                                          item.size or 0,
                                          (item.sha256 or "").encode("ascii", "replace"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise
        answers = stager.answers(fields, 1)
        if answers is None:  # never from this module's own answer
            raise RuntimeError(f"staging {item.path}: {fields!r}")
        return self._taken(item, staged, answers[0])

    def _taken(self, item: PayloadItem, staged: str, answer: stager.Answer) -> Staged:
        """The copy ``answer`` (``stager.Answer``) reports for ``item`` at ``staged``; or
        the error it reports, as ``_stage`` raises it."""
        expected = item.size or 0
        if answer.kind == "ok":
            if answer.size != expected or (item.sha256 and answer.sha256 != item.sha256.lower()):
                with contextlib.suppress(OSError):
                    os.unlink(staged)
                raise stager.StagerGone(f"{item.path}: the copy is not the one asked for")
            return Staged(item.path, staged, answer.sha256, answer.size, item.ref)
        if answer.kind == "src":
            raise InvalidInput("backup_source_unreadable", name=item.path,
                               detail=answer.message)
        if answer.kind == "size":
            got = f"more than {expected}" if answer.size > expected else str(answer.size)
            raise IntegrityFailure("backup_source_changed", name=item.path,
                                   detail=f"{got} bytes read, {expected} expected")
        if answer.kind == "sha":
            raise IntegrityFailure("backup_source_changed", name=item.path,
                                   detail="its SHA-256 is not the one recorded")
        raise self._disk_error(answer)  # "disk": the copy could not be written

    def _disk_error(self, answer: stager.Answer) -> BaseException:
        """The error a ``disk`` answer's OSError is on this disk (full, gone, or other),
        as ``BagState.on_disk`` makes it of the run's own calls (``fmt.disk_error``)."""
        return fmt.disk_error(OSError(answer.errno, answer.message, answer.path),
                              self._state.dest)

    def _stage_batch(self, items: list[PayloadItem]) -> tuple[list[Staged], BaseException | None]:
        """``_stage`` each item in turn: the copies, and the failure that stopped the
        batch (an ``Exception``; nothing after it is copied). Interrupted otherwise, the
        batch's copies are removed."""
        copies: list[Staged] = []
        try:
            for item in items:
                try:
                    copies.append(self._stage(item))
                except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
                    return copies, exc
        except BaseException:
            self._discard(copies)
            raise
        return copies, None

    def _stage_batch_child(self, child: stager.Stager,
                           items: list[PayloadItem]) -> tuple[list[Staged], BaseException | None]:
        """``_stage_batch`` by the staging child (``stager``): the same copies and the
        same failure. A batch it cannot take (not every item a small file of the local
        disk), or a child gone, is staged here."""
        if not child.alive or not all(_whole(item) for item in items):
            return self._stage_batch(items)
        state = self._state
        names = [state.staging_file(".part") for _ in items]
        try:
            answers = child.stage([
                stager.Request(item.opener.path, name, item.size or 0,  # type: ignore[attr-defined]
                               item.sha256 or "")
                for item, name in zip(items, names, strict=True)])
        except stager.StagerGone:
            self._discard_names(names)
            return self._stage_batch(items)
        copies: list[Staged] = []
        for item, name, answer in zip(items, names, answers, strict=False):
            try:
                copies.append(self._taken(item, name, answer))
            except stager.StagerGone:
                self._discard_names(names)
                child.stop("it staged a copy other than the one asked for")
                return self._stage_batch(items)
            except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
                return copies, exc
        return copies, None

    @staticmethod
    def _discard_names(names: list[str]) -> None:
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(name)

    def _read_back_batch(self, batch: list[Staged]) -> list[BaseException | None]:
        """``_read_back`` of each copy: None, or the ``Exception`` it raised.

        Where the disk's files open with O_NOFOLLOW, every copy of the batch is first
        opened (each checked as ``_read_back`` checks it), dropped from the page cache
        and asked for again (``POSIX_FADV_WILLNEED``: the disk starts reading them all
        at once, not one small read at a time), then each is read and hashed. The bytes
        still come from the disk, not from what was written."""
        check = _outcome(self._read_back)
        if len(batch) < 2 or not hasattr(os, "O_NOFOLLOW"):
            return [check(staged) for staged in batch]
        state = self._state
        results: list[BaseException | None] = [None] * len(batch)
        opened: list[tuple[int, int, int]] = []  # (index in batch, descriptor, size)
        try:
            for i, staged in enumerate(batch):
                try:
                    with state.on_disk():
                        if state.hooks.staged is not None:
                            state.hooks.staged(Path(staged.staged))
                        fd, size = _open_read_back(state, staged, ahead=True)
                    if fd is None:
                        results[i] = IntegrityFailure("backup_readback_mismatch",
                                                      name=staged.path)
                    else:
                        opened.append((i, fd, size))
                except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
                    results[i] = exc
            for i, fd, size in opened:
                staged = batch[i]
                try:
                    with state.on_disk():
                        found = _hash_read_back(fd, size, staged)
                    if found != (staged.sha256, staged.size):
                        raise IntegrityFailure("backup_readback_mismatch", name=staged.path)
                except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
                    results[i] = exc
        finally:
            for _, fd, _ in opened:
                os.close(fd)
        return results

    def _read_back_batch_child(self, child: stager.Stager,
                               batch: list[Staged]) -> list[BaseException | None]:
        """``_read_back_batch`` by the staging child: the same outcome per copy (each
        opened with O_NOFOLLOW, its pages dropped and asked for again, then read from the
        disk and hashed, its name still holding the file read). Here, not there: the
        check of the staging folder (a real folder), the comparison with what was written,
        and every batch the child cannot take (a test's hook, a copy over ``_WHOLE``, no
        O_NOFOLLOW) or a child gone."""
        state = self._state
        if (not child.alive or state.hooks.staged is not None
                or not hasattr(os, "O_NOFOLLOW") or any(s.size > _WHOLE for s in batch)):
            return self._read_back_batch(batch)
        try:
            with state.on_disk():
                diskfs.real_dir(state.dest, fmt.STAGING, create=False,
                                known_dirs=state.known_dirs)
        except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
            return [exc for _ in batch]
        try:
            answers = child.read_back([(s.staged, s.size) for s in batch])
        except stager.StagerGone:
            return self._read_back_batch(batch)
        results: list[BaseException | None] = []
        for staged, answer in zip(batch, answers, strict=True):
            if answer.kind == "disk":
                results.append(self._disk_error(answer))
            elif answer.kind == "ok" and (answer.sha256, answer.size) == (staged.sha256,
                                                                            staged.size):
                results.append(None)
            else:  # another content, or "notfile" / "moved"
                results.append(IntegrityFailure("backup_readback_mismatch", name=staged.path))
        return results

    def _read_back(self, staged: Staged) -> None:
        """A durable copy, dropped from the page cache and read back from the disk: its
        bytes must be the ones written."""
        state = self._state
        with state.on_disk():
            if state.hooks.staged is not None:
                state.hooks.staged(Path(staged.staged))
            # Opened as anything on the disk is (``disk.fs``): a link or anything but a
            # regular file in its place is not read through, and never moved into data/.
            found = _read_back_hash(state, staged)
            if found != (staged.sha256, staged.size):
                raise IntegrityFailure("backup_readback_mismatch", name=staged.path)

    def _make_durable(self, batch: list[Staged]) -> None:
        """Every copy of ``batch`` on the disk itself, not only in its cache: one sync of
        the disk's file system (an fsync of each where there is no ``syncfs``)."""
        with self._state.on_disk():
            self._state.check_same_disk()  # a disk swapped mid-run: nothing of it is read
            if self._state.hooks.syncing is not None:
                self._state.hooks.syncing()
            # The copies' paths only where there is no ``syncfs`` (an fsync each).
            sync_filesystem(self._state.staging, (Path(s.staged) for s in batch))

    def _discard(self, batch: Iterable[Staged]) -> None:
        for staged in batch:
            with contextlib.suppress(OSError):
                os.unlink(staged.staged)


class _Plan:
    """What ``_plan`` decided, small enough for 100,000 items: the new items
    (``_Planned``), the listed paths to copy again, the totals."""

    def __init__(self) -> None:
        self.planned = _Planned()
        self.recopy: set[str] = set()
        self.skipped = 0
        self.files = 0
        self.bytes = 0

    def count(self, item: PayloadItem) -> None:
        self.files += 1
        self.bytes += item.size or 0

    def select(self, items: Iterable[PayloadItem]) -> Iterator[PayloadItem]:
        """The items to copy, from a second reading of the same items, each once."""
        planned, recopy = self.planned, self.recopy
        for item in items:
            if item.path in recopy:
                recopy.discard(item.path)
                yield item
                continue
            if item.path in planned.paths:
                del planned.paths[item.path]
                yield item
        # Every item chosen: the emptied map's table (sized for every new path) is let go
        # now, not when the copy ends (when the disk's listing is at its largest).
        planned.paths.clear()
        recopy.clear()


class _Planned:
    """The new items of a plan: each path with its hash (to tell a case twin from the same
    file given twice), and the hashes of their folded names. No folded name is kept (at
    100,000 new files, 13 MiB of strings): a folded name whose hash is found is confirmed
    by folding the planned paths again, which only a real twin (an error) or a collision
    of 64-bit hashes leads to."""

    def __init__(self) -> None:
        self.paths: dict[str, bytes | None] = {}
        self._folded: set[int] = set()

    def add(self, path: str, key: str, digest: bytes | None) -> None:
        self.paths[path] = digest
        self._folded.add(hash(key))

    def twin(self, path: str, key: str) -> str | None:
        """The planned path whose folded name is ``key`` (that of ``path``), or None."""
        if path in self.paths:
            return path
        if hash(key) not in self._folded:
            return None
        return next((p for p in self.paths if fmt.fold(p) == key), None)

    def __contains__(self, key: str) -> bool:
        return hash(key) in self._folded and any(fmt.fold(p) == key for p in self.paths)

    def planned(self) -> None:
        """Planning is over: the folded names' hashes are not needed while copying."""
        self._folded = set()


# A checkpoint grows with the disk (a quarter of the files it lists: the manifest is
# rewritten whole at each) up to this many copies (each waits in memory until then).
_CHECKPOINT_MOST = 10_000
# Copies staged ahead while a checkpoint waits for the disk (``_copy_plan``), at most.
_AHEAD_FILES = 1024
# ... when a staging child stages them (``_Feed``): it works while this process commits.
_AHEAD_CHILD = 4096
# Copy threads for large files (``copy_workers``), and the mean size of the planned files
# below which one thread copies them all.
_WORKERS = 4
_SMALL_FILES = 64 << 10


def copy_workers(files: int, size: int) -> int:
    """How many threads copy ``files`` files of ``size`` bytes in all. Small files (a
    mean under ``_SMALL_FILES``) go to one thread: each copy is a few system calls around
    little work, and every call passes the interpreter lock between threads, so four
    threads spent more time handing it over than copying (session 24, docs/benchmarks.md:
    100,000 one-page PDFs took 20 s with four threads, 14 s with one). Larger files keep
    four: their reads, writes and hashing run outside the lock and overlap."""
    return 1 if files and size // files < _SMALL_FILES else _WORKERS


# At least this many small files planned: a second process stages them (``_Feed``).
_CHILD_FILES = 2000


def stager_wanted(files: int, workers: int, child: bool | None) -> bool:
    """Whether a staging child copies the planned files (``add_files``'s ``child``; by
    default when one thread would copy at least ``_CHILD_FILES``: small files, each a
    few system calls, whose Python around them kept one core busy while the other
    idled; a few files do not pay for starting a process)."""
    if child is not None:
        return child
    return workers == 1 and files >= _CHILD_FILES


@dataclass
class _Feed:
    """The staging child and the one thread that hands it batches (waiting for its
    answers outside the interpreter lock, while the main thread checkpoints and the
    pool's thread reads back)."""

    child: stager.Stager
    thread: ThreadPoolExecutor

    @classmethod
    def start(cls) -> _Feed | None:
        """A feed; None when the child cannot be started (the run stages in process)."""
        try:
            child = stager.Stager()
        except stager.StagerGone:
            return None
        return cls(child, ThreadPoolExecutor(max_workers=1,
                                             thread_name_prefix="brankas-bag-feed"))

    def close(self) -> None:
        try:
            self.thread.shutdown(wait=True, cancel_futures=True)
        finally:  # interrupted (a second Ctrl-C): the child is ended all the same
            self.child.close()


# A thread's task: up to this many small files, or this many bytes (a bigger file alone).
_BATCH_FILES = 32
# ... a staging child's: each batch is a round trip through the pipes and waits for the
# interpreter lock at both ends (up to its switch interval, 5 ms), so it takes more.
_BATCH_CHILD = 256
_BATCH_BYTES = 4 << 20


def _batches(items: Iterable[PayloadItem], files: int) -> Iterator[list[PayloadItem]]:
    batch: list[PayloadItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += item.size if item.size is not None else _BATCH_BYTES
        if len(batch) >= files or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _slices(items: list[Staged], n: int) -> list[list[Staged]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def _digest(sha256: str | None) -> bytes | None:
    if not sha256:
        return None
    try:
        return bytes.fromhex(sha256)
    except ValueError:
        return sha256.encode("utf-8", "replace")


class _Checkpoints:
    """Copies waiting for the next checkpoint, and the payload paths committed (durably
    on the disk, read back and listed) so far in one ``add_files``."""

    def __init__(self, bag: Bag, *, run: str | None,
                 on_commit: Callable[[list[str]], None] | None,
                 on_committed: Callable[[list[Staged]], None] | None,
                 pool: ThreadPoolExecutor, verify: bool, feed: _Feed | None = None) -> None:
        self._bag = bag
        self.feed = feed
        self._run = run
        self._on_commit = on_commit
        self._on_committed = on_committed
        self.pool = pool
        self._verify = verify
        self.ready: list[Staged] = []
        self.held: list[Staged] = []  # read back, listed by the next checkpoint (``commit``)
        self.added: list[str] = []
        self.bytes_added = 0
        self._last = time.monotonic()

    def due(self, files: int, seconds: float) -> bool:
        return bool(self.ready) and (len(self.ready) >= files
                                     or time.monotonic() - self._last >= seconds)

    def commit(self, top_up: Callable[[], None] | None = None, *, hold: bool = False) -> None:
        """Make the ready copies durable (one sync), read each back from the disk, move
        those that match into ``data/`` and list them (``BagState.commit``); then tell
        ``on_commit`` their paths. A copy whose read-back differs is removed, never
        listed; once the others are committed its error is raised. A failed checkpoint
        removes its copies. ``top_up`` is called before each wait for the disk (the sync,
        the read-back, the commit's renames and folder syncs) to give the threads more
        copies to stage meanwhile (for the next checkpoints: never this one's).

        ``hold`` (a checkpoint due in the middle of a run with a staging child): the copies
        read back and found good are held, durable and verified yet still under their
        staging names, and moved and listed by the next checkpoint while the child reads
        that one's back (s26: the renames and lists on this core, the reads on the other,
        instead of one after the other). Held copies are not listed: what is listed is
        still only ever on the disk, read back. Without ``hold`` (the last checkpoint,
        one after an error), the held ones and these are listed now."""
        batch, self.ready = self.ready, []
        bag = self._bag
        failed: BaseException | None = None
        top_up = top_up or (lambda: None)
        reads: list[Future[list[BaseException | None]]] = []
        try:
            if batch:
                top_up()
                bag._make_durable(batch)
            # Without ``verify``, still the files callers wrote themselves: the bag never
            # read their bytes (s27 review).
            checked = (batch if self._verify
                       else [s for s in batch if s.staged in bag._written_names])
            if checked:
                feed = self.feed
                reads = [self.pool.submit(bag._read_back_batch, part) if feed is None
                         else feed.thread.submit(bag._read_back_batch_child, feed.child, part)
                         for part in _slices(checked,
                                             _BATCH_FILES if feed is None else _BATCH_CHILD)]
                top_up()  # queued behind the read-back
                self._list_held()  # while the copies are read back
                results = [problem for read in reads for problem in read.result()]
                bad = [s for s, problem in zip(checked, results, strict=True) if problem]
                failed = next((p for p in results if p is not None), None)
                if _disk_gone(failed):
                    raise failed  # nothing of this checkpoint is listed on a disk gone
                bag._discard(bad)
                refused = {id(s) for s in bad}
                batch = [s for s in batch if id(s) not in refused]
            else:
                self._list_held()
            if hold and failed is None and batch and self.feed is not None:
                self.held, batch = batch, []
                return
            if batch:
                top_up()  # staged while the lists are written and the folders synced
            self._list(batch)
        except BaseException as error:
            wait(reads)  # no read-back still at a copy removed here
            bag._discard(batch)
            # Held copies were verified before this checkpoint failed (its sync, say):
            # listed, as ``add_files`` promises, unless interrupted or the disk is gone.
            if self.held and isinstance(error, Exception) and not _disk_gone(error):
                with contextlib.suppress(Exception):
                    self._list_held()
            raise
        if failed is not None:
            raise failed

    def _list_held(self) -> None:
        held, self.held = self.held, []
        if held:
            try:
                self._list(held)
            except BaseException:
                self._bag._discard(held)
                raise

    def _list(self, batch: list[Staged]) -> None:
        """Move the copies ``batch`` (durable, read back) into ``data/`` and list them."""
        self._bag._state.commit(batch, run=self._run)
        self._last = time.monotonic()
        paths = [s.path for s in batch]
        self.added.extend(paths)
        self.bytes_added += sum(s.size for s in batch)
        if self._on_commit is not None and paths:
            self._on_commit(paths)
        if self._on_committed is not None and batch:
            self._on_committed(batch)

    def abandon(self) -> None:
        """Remove every copy not listed: ready for a checkpoint, or held by the last."""
        ready, held, self.ready, self.held = self.ready, self.held, [], []
        self._bag._discard([*held, *ready])


def _disk_gone(error: BaseException | None) -> TypeGuard[BrankasError]:
    """Whether ``error`` says the disk is gone (pulled out mid-run): nothing more is
    listed on it, not even copies verified before."""
    return isinstance(error, BrankasError) and error.code == "backup_disk_gone"


def _outcome(fn: Callable[[Staged], None]) -> Callable[[Staged], BaseException | None]:
    """``fn`` that returns its exception (an ``Exception``) instead of raising it."""
    def call(staged: Staged) -> BaseException | None:
        try:
            fn(staged)
        except Exception as exc:  # noqa: BLE001 - handed back, raised by the caller
            return exc
        return None
    return call


def open_or_create(dest: Path | str, *, label: str, organization: str, software: str,
                   hooks: Hooks | None = None,
                   known_lists: Mapping[str, object] | None = None) -> Bag:
    """Open the backup disk at DEST, or make a new bag there (DEST must then be empty).

    ``label`` names a new disk (an existing disk keeps the label written on it);
    ``software`` is the Bag-Software-Agent ("Brankas 0.1.0"). Repairs an interrupted run,
    clears leftover staging files, and holds the disk's lock until ``Bag.close()``: a
    second writer or a verifier meanwhile gets ``backup_busy``. ``known_lists``: the
    SHA-256 of the manifest and sizes as this office last wrote them (``Bag.list_hashes``):
    lists with exactly those bytes are read without checking each line again, and a
    commit adds its lines at their end rather than writing them whole."""
    dest = Path(dest)
    diskfs.check_dest(dest)
    try:
        dest.mkdir(exist_ok=True)
    except FileNotFoundError:
        # Only DEST itself is made, never the folders above it: a missing parent is
        # usually a disk that is not connected (E:\ or /media/usb), and making it would
        # back up onto the laptop's own disk. The message names the missing folder.
        missing = dest.parent
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        raise SetupError("backup_dest_parent_missing", path=str(dest),
                         parent=str(missing)) from None
    except FileExistsError:
        raise SetupError("backup_dest_not_empty", path=str(dest)) from None
    except OSError as exc:
        raise fmt.disk_error(exc, dest) from exc
    state = BagState(dest, organization=organization, software=software,
                     hooks=hooks or Hooks(), known_lists=known_lists)
    with state.on_disk():
        is_bag = diskfs.lkind(dest / fmt.BAGIT_TXT) is not None
        medium = read_medium(dest)
        if is_bag and medium is None:
            raise SetupError("backup_not_brankas", path=str(dest))
        if not is_bag:
            _check_empty(dest)
        bag = Bag(state, fmt.lock(dest, create=True))
    try:
        if is_bag:
            state.load()
        else:
            state.create(label, medium)
    except BaseException:
        bag.close()
        raise
    return bag


def _check_empty(dest: Path) -> None:
    """A new bag goes only into an empty folder, or one our own interrupted creation left
    (our tag files as regular files, an empty ``data/`` folder, our staging folder)."""
    ours = {fmt.MEDIUM, fmt.BAG_INFO, fmt.MANIFEST, fmt.SIZES, fmt.TAGMANIFEST, *fmt.GUIDES}
    for entry in dest.iterdir():
        kind = diskfs.lkind(entry)
        if entry.name in OS_FILES or (entry.name in ours and kind == "file"):
            continue
        if entry.name == fmt.STAGING and kind == "dir":
            continue  # its content is checked when the lock is taken and staging cleared
        if entry.name == fmt.DATA and kind == "dir" and not _holds_anything(entry):
            continue
        raise SetupError("backup_dest_not_empty", path=str(dest))


def _holds_anything(folder: Path) -> bool:
    """Whether a folder holds anything but empty real folders (links are not followed; a
    loop, not recursion: a prepared disk may nest folders thousands deep)."""
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if diskfs.kind_of(entry.stat(follow_symlinks=False)) != "dir":
                    return True
                stack.append(Path(entry.path))
    return False


@contextlib.contextmanager
def _source(item: PayloadItem) -> Iterator[BinaryIO]:
    try:
        src = item.opener()
    except OSError as exc:
        raise InvalidInput("backup_source_unreadable", name=item.path,
                           detail=exc.strerror or str(exc)) from exc
    with src:
        yield src


def _plain_file(entry: os.DirEntry[str]) -> bool:
    """Whether a listed entry is a regular file as ``disk.fs`` counts one. On Windows any
    reparse point (a WSL link, a placeholder: not only a symbolic link, which is all
    ``is_symlink`` tells) is a link there; the listing's attributes say so, no call."""
    if not entry.is_file(follow_symlinks=False) or entry.is_symlink():
        return False
    return os.name != "nt" or diskfs.kind_of(entry.stat(follow_symlinks=False)) == "file"


# A file of the archive at most this big is read whole by ``_stage_whole``.
_WHOLE = 1 << 20
# A regular file of the local disk, opened read-only (a FIFO or anything else there is
# refused without waiting for it).
_open_regular = stagerproc.open_regular


def _whole(item: PayloadItem) -> bool:
    """Whether ``item`` is staged read whole (``Bag._stage_whole``; by the staging child,
    when there is one): a small file of the local disk, its size known."""
    return (isinstance(item.opener, FileOpener) and item.size is not None
            and item.size <= _WHOLE and item.staged is None)


# How a staged copy is opened to be read back, and what that open says of a link, a
# socket or a FIFO (``stagerproc``: the child opens them so too).
_READ_BACK = stagerproc.READ_BACK_FLAGS
_NOT_A_FILE = stagerproc.NOT_A_FILE


def _read_back_hash(state: BagState, staged: Staged) -> tuple[str, int] | None:
    """SHA-256 and size of a staged copy read back from the disk, its cached pages dropped
    first (``fmt.drop_cache``: they are clean once synced, so the read comes from the
    disk); None when its name holds a link or anything but a regular file. Opened as
    ``disk.fs.open_file`` opens a disk's file (the staging folder a real folder, no link
    followed, O_NONBLOCK, a regular file by ``fstat``), with the copy's own name: no
    path to check and no file object per copy, as a run reads back 100,000. A small copy
    is read with one call (at most one byte past its size); where there is no O_NOFOLLOW
    (Windows), ``fmt.hash_disk_file`` opens it."""
    rel = f"{fmt.STAGING}/{os.path.basename(staged.staged)}"
    if not hasattr(os, "O_NOFOLLOW"):
        try:
            return fmt.hash_disk_file(state.dest, rel, uncached=True,
                                      known_dirs=state.known_dirs)
        except SetupError as exc:
            if exc.code not in {"disk_link", "disk_not_regular"}:
                raise
            return None
    fd, size = _open_read_back(state, staged)
    if fd is None:
        return None
    try:
        return _hash_read_back(fd, size, staged)
    finally:
        os.close(fd)


def _open_read_back(state: BagState, staged: Staged, *,
                    ahead: bool = False) -> tuple[int | None, int]:
    """A descriptor of the staged copy (O_NOFOLLOW, O_NONBLOCK, the staging folder a real
    folder) and its size by ``fstat``, its cached pages dropped (``ahead``: and asked for
    again, so the disk reads it meanwhile; small copies only); (None, 0) when its name
    holds a link or anything but a regular file."""
    diskfs.real_dir(state.dest, fmt.STAGING, create=False, known_dirs=state.known_dirs)
    try:
        fd = os.open(staged.staged, _READ_BACK)
    except OSError as exc:
        if exc.errno in _NOT_A_FILE:
            return None, 0
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None, 0
        fmt.drop_cache(fd)
        if ahead and st.st_size <= _WHOLE and hasattr(os, "POSIX_FADV_WILLNEED"):
            with contextlib.suppress(OSError):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd, st.st_size


def _hash_read_back(fd: int, size: int, staged: Staged) -> tuple[str, int]:
    """SHA-256 and length of the open copy ``fd`` (``size`` by its ``fstat`` when opened),
    read from its start: one read for a small copy (at most one byte past its size);
    ("", 0) when the copy's name no longer holds the file read (``_same_file``)."""
    found = _hash_open_copy(fd, size, staged)
    return found if _same_file(fd, staged) else ("", 0)


def _same_file(fd: int, staged: Staged) -> bool:
    """The copy's name still holds the file ``fd`` read (the same device and inode, not a
    link): a batch opens its copies before it reads them, and the window renames the
    name, not the file read (s20 review)."""
    try:
        now = os.lstat(staged.staged)
    except OSError:
        return False
    held = os.fstat(fd)
    return stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _hash_open_copy(fd: int, size: int, staged: Staged) -> tuple[str, int]:
    if staged.size > _WHOLE:
        with open(fd, "rb", buffering=0, closefd=False) as fh:
            return fmt.hash_stream(fh)
    first = os.read(fd, staged.size + 1)
    if len(first) == staged.size == size:
        # The whole copy in one read: its length was the size written when opened,
        # and the read, asked for a byte more, stopped at its end.
        return hashlib.sha256(first).hexdigest(), len(first)
    parts: list[bytes] = [first]
    total = len(first)
    while first and total <= staged.size and (
            chunk := os.read(fd, staged.size + 1 - total)):
        parts.append(chunk)
        total += len(chunk)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    return hashlib.sha256(data).hexdigest(), len(data)


def _read(src: BinaryIO, item: PayloadItem, buf: bytearray) -> int:
    try:
        readinto = getattr(src, "readinto", None)
        if readinto is not None:
            return int(readinto(buf) or 0)
        data = src.read(len(buf))
        buf[: len(data)] = data
        return len(data)
    except OSError as exc:
        raise InvalidInput("backup_source_unreadable", name=item.path,
                           detail=exc.strerror or str(exc)) from exc


class _FoldedNames:
    """The folded names (``fmt.fold``) of the paths a disk lists, as a sorted array of
    their hashes (8 bytes a file, not a dict of 100,000 new strings) and a set of those
    listed since it was made: ``get`` confirms a hash found by folding the listed paths
    again, which happens only for a real twin (or a collision of 64-bit hashes). Made
    by folding every path in one text (``fmt.fold`` of each line: normalisation and case
    folding never join or split lines across the NUL that no path holds)."""

    def __init__(self, entries: Mapping[str, object]) -> None:
        self._entries = entries
        self._added: set[int] = set()
        hashes = array("q")
        # Each folded folder that holds a listed file, once (hundreds, not 100,000).
        self._folders: set[str] = set()
        paths = iter(entries)
        while chunk := list(itertools.islice(paths, _FOLD_CHUNK)):  # bounded memory
            folded = _fold_all(chunk)
            hashes.extend(map(hash, folded))
            self._folders.update(key.rpartition("/")[0] for key in folded)
        self._hashes = array("q", sorted(hashes))

    def folders(self) -> set[str]:
        """Every folded folder above a listed path (its parents included)."""
        out: set[str] = set()
        for folder in self._folders:
            if folder and folder not in out:
                out.update(_parents(folder + "/"))
        self._folders = set()
        return out

    def add(self, key: str) -> None:
        self._added.add(hash(key))

    def get(self, key: str) -> str | None:
        """The listed path whose folded name is ``key``, or None."""
        wanted = hash(key)
        at = bisect_left(self._hashes, wanted)
        if wanted not in self._added and (
                at == len(self._hashes) or self._hashes[at] != wanted):
            return None
        return next((path for path in self._entries if fmt.fold(path) == key), None)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


_FOLD_CHUNK = 2000


def _fold_all(paths: list[str]) -> list[str]:
    """``[fmt.fold(p) for p in paths]``, folded as one text (a path never holds NUL)."""
    if not paths:
        return []
    text = "\x00".join(paths)
    if text.count("\x00") != len(paths) - 1:  # a NUL in a path: one by one
        return [fmt.fold(p) for p in paths]
    folded = fmt.fold(text).split("\x00")
    if len(folded) != len(paths):
        return [fmt.fold(p) for p in paths]
    return folded


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
