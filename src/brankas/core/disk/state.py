"""The tag files of a backup disk and the order in which they change: commit and repair.

``BagState`` holds what the tag files say (the manifest's entries, the sizes, bag-info)
and is the only code that changes them or moves files into ``data/``. ``bag.Bag`` stages
and verifies copies, then hands them here in batches.

Crash safety. BagIt's rules tie four things together: the files in ``data/``, the
manifest, ``Payload-Oxum`` in ``bag-info.txt`` and the tag manifest. No file system
changes two files in one atomic step, so a bag whose payload grows cannot pass
``bagit.Bag(dest).validate()`` at every instant. The window is kept as small as it can
be, and any interrupted one is closed by the next open:

1. The batch's copies are already staged in ``.brankas-staging/``, durable (the bag's
   sync) and read back. The new short tag files (bag-info, tag manifest; a long list when
   it is written whole) and the journal (``commit.json``: each new path with its staged
   name, hash and size, the run, and the length and SHA-256 of each long list before the
   commit) are written under temporary names; the target folders are made. Then one
   sync of the disk (``fsutil.sync_filesystem``: Linux ``syncfs``, which writes back
   every dirty file and folder of that file system and its journal; elsewhere an fsync
   of each of those files) makes them all durable. A kill up to here leaves the
   previous bag untouched (staging is cleared on open).
2. The journal is renamed into place and the staging folder fsynced: from here on a
   cut commit is repaired from it.
3. The long lists (sizes, manifest) gain the batch's lines at their end, not synced
   yet (or, when this process does not hold them as they are on the disk, they were
   written whole under temporary names in 1). A full disk here cuts them back.
4. The window: the staged files are renamed into ``data/`` (a rename each, nothing else
   between them; never over anything there: ``move_new``), then the changed tag files
   are replaced (``os.replace``), the tag manifest last. One window per checkpoint
   batch, not per file.
5. One sync of the disk makes the appended lines, the renames, the replaces and the
   folders durable (elsewhere an fsync of each list, each folder a file was renamed
   into or made, and the disk's top folder), then the journal is removed.

Two syncs a checkpoint, not an fsync per tag file, list and folder (about 16). Why the
order still holds: everything renamed into place in 2 and 4 was durable under its
temporary name before (1), so a rename that reaches the disk never names missing bytes;
the journal is durable (2) before any list line or rename of 3-4 can reach the disk, so
whatever part of 3-4 the disk kept when the power went, the journal is there to repair
it; and the journal goes only after 5. What a ``syncfs`` does not order among 3-4 (a
rename kept, a list line lost, or the reverse) is exactly what the repair below undoes
or completes.

A journal found on open (or before the next ``add_files``) means a window was cut
short. First each long list whose first bytes are still the length and SHA-256 the
journal recorded, followed only by lines of the files the journal names, is cut back to
them (an append cut in the middle of a line included; any other list is left to be read
and checked as any disk's). Each journal file that
is in ``data/``, or still staged, with the journal's hash and size is kept (a staged
one is renamed in); every other is dropped from the manifest; all tag files are then
rebuilt, and only then is the journal removed. Only files named in the journal are
added this way. The journal is on the disk, so whoever
held the disk could have written one naming a file they put in ``data/``: it is read as
untrusted (checked paths, our staging names, nothing outside ``data/``), and such a file
is not thereby believed: ``verify`` with the instance names every archive file whose
bytes no document of the register has, and recover sets it aside. As the journal is durable
before the first list line or rename and removed only after the second sync, the same
repair holds after a power cut, whatever order the disk persisted the lines, renames and
replaces in.

A new bag is created the same way, ``bagit.txt`` last: until it exists the folder is not
a bag, and the next ``open_or_create`` starts the creation again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import re
import stat
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk.format import MediumInfo, read_medium
from brankas.core.disk.listing import Digests, Listing, Sizes
from brankas.core.errors import Conflict, SetupError
from brankas.core.fsutil import CHUNK, fsync_dir, sync_filesystem

JOURNAL = "commit.json"
JOURNAL_LIMIT = 64 << 20
# What Brankas itself puts in the staging folder: the lock, the journal, and staging
# copies and tag files named <12 hex>-<8 digits>.part|.tag. Nothing else is touched there.
_OURS = re.compile(r"(?:lock|commit\.json|[0-9a-f]{12}-[0-9]{8}\.(?:part|tag))")


def staging_strangers(dest: Path) -> list[tuple[str, str]]:
    """What is in the disk's staging folder that Brankas did not put there, as
    (name from DEST, kind): the folder itself when it is not a real folder, or each entry
    that is not a regular file with one of our names."""
    staging = dest / fmt.STAGING
    kind = diskfs.lkind(staging)
    if kind is None:
        return []
    if kind != "dir":
        return [(fmt.STAGING, kind)]
    out = []
    with os.scandir(staging) as entries:
        for entry in entries:
            kind = diskfs.kind_of(entry.stat(follow_symlinks=False))
            if kind != "file" or _OURS.fullmatch(entry.name) is None:
                out.append((f"{fmt.STAGING}/{entry.name}",
                            kind if kind != "file" else "an unknown file"))
    return sorted(out)


@dataclass(frozen=True)
class Hooks:
    """Fault-injection points for tests (restic style: a test wraps the target). Unset in use."""

    staged: Callable[[Path], None] | None = None  # a copy is durable, before its read-back
    syncing: Callable[[], None] | None = None  # a checkpoint's copies written, before the sync
    committing: Callable[[], None] | None = None  # in the window: after the renames into data/
    # Each step of a checkpoint's commit, by name (``COMMIT_STEPS``), as it is reached.
    commit_step: Callable[[str], None] | None = None


# The points of a commit ``Hooks.commit_step`` is called at: the temporary tag files and
# the journal written (not yet durable); all of them made durable (the first sync); the
# journal in place (its folder fsynced); the long lists' lines added; the window's renames
# and replaces done (before the second sync); the second sync done (before the journal is
# removed).
COMMIT_STEPS = ("written", "synced", "journaled", "appended", "moved", "durable")


@dataclass(frozen=True)
class _Append:
    """The lines a commit adds at the end of a long list: its length and SHA-256 before,
    the bytes, the running hash after."""

    length: int
    before: str
    data: bytes
    after: Any  # hashlib's sha256 object


@dataclass(frozen=True, slots=True)  # a checkpoint holds up to 10,000 of them
class Staged:
    """A complete, fsynced and verified copy in the staging folder."""

    path: str  # payload path
    staged: str  # the staging file (text: a checkpoint holds up to 10,000, a Path is 440 B)
    sha256: str
    size: int
    ref: object = None  # the caller's own note on the item (``PayloadItem.ref``)


class BagState:
    def __init__(self, dest: Path, *, organization: str, software: str, hooks: Hooks,
                 known_lists: Mapping[str, Any] | None = None) -> None:
        self.dest = dest
        # The SHA-256 of the two long lists as this office last wrote them to the disk
        # (``_read_known_lists``): lists with those bytes were checked when they were made.
        self.known_lists = dict(known_lists or {})
        self.organization = organization
        self.software = software
        self.hooks = hooks
        self.medium = MediumInfo("", "", "", "")
        self.data = dest / fmt.DATA
        self.staging = dest / fmt.STAGING
        self._staging_text = str(self.staging)
        # The manifest (payload path -> sha256) and the sizes, in one map (``listing``).
        self.listing = Listing()
        self.info: dict[str, str] = {}
        self._tag_hashes: dict[str, str | None] = {}  # what each tag file on the disk holds
        # The long tag files this process wrote from ``entries``/``sizes`` as they are now.
        self._clean: set[str] = set()
        self.medium_bytes = b""
        self.known_dirs: set[str] = set()  # folders under DEST checked to be real folders
        self._prefix = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self.held_lock: int | None = None  # the lock file's descriptor, while we hold it
        self.repairs = 0  # interrupted commits finished (``recover``): the lists were re-read
        # The long lists' length and running SHA-256 as they are on the disk (when this
        # process read or wrote them whole): a commit adds its lines at their end.
        self._list_end: dict[str, tuple[int, Any]] = {}
        with fmt.disk_errors(dest):
            self._identity = _identity(dest)  # the disk opened (see ``check_same_disk``)

    @property
    def entries(self) -> Digests:
        """{payload path: sha256} of every file the manifest lists."""
        return self.listing.entries

    @entries.setter
    def entries(self, entries: Mapping[str, str]) -> None:
        self.listing.replace_entries(entries)  # every size unknown until ``sizes`` is set

    @property
    def sizes(self) -> Sizes:
        """{payload path: bytes} of the listed files whose size is known."""
        return self.listing.sizes

    @sizes.setter
    def sizes(self, sizes: Mapping[str, int]) -> None:
        self.listing.replace_sizes(sizes)

    def final(self, path: str) -> Path:
        return self.data.joinpath(*path.split("/"))

    def staging_name(self, suffix: str) -> Path:
        return self.staging / f"{self._prefix}-{next(self._counter):08d}{suffix}"

    def is_staging_file(self, path: str) -> bool:
        """Whether ``path`` is a name ``staging_file`` gave in this open of the bag (never
        the staging folder's lock or journal, nor a name of an earlier run)."""
        folder, name = os.path.split(path)
        return folder == self._staging_text and name.startswith(f"{self._prefix}-")

    def staging_file(self, suffix: str) -> str:
        """``staging_name`` as text (a staged copy's name, held until its checkpoint)."""
        return os.path.join(self._staging_text, f"{self._prefix}-{next(self._counter):08d}{suffix}")

    def on_disk(self) -> contextlib.AbstractContextManager[None]:
        """OSErrors of the backup disk become one clear error: full, gone, or other."""
        return fmt.disk_errors(self.dest)

    # -- committing ------------------------------------------------------------------

    def commit(self, batch: list[Staged], *, run: str | None, journal: bool = True) -> None:
        """Make ``batch`` part of the bag (the order is in the module docstring). Without
        ``journal``: a new bag (no bagit.txt until the end) or a repair (whose journal
        stays until the repair is complete)."""
        # The batch joins the lists in place (no copy of a manifest of 100,000 files per
        # checkpoint) and leaves them again if the checkpoint fails.
        entries, sizes = self.entries, self.sizes
        new = [s for s in batch if s.path not in entries]
        try:
            self._commit(batch, entries, sizes, run=run, journal=journal)
        except BaseException:
            for s in new:
                entries.pop(s.path, None)
                sizes.pop(s.path, None)
            raise

    def _commit(self, batch: list[Staged], entries: Digests, sizes: Sizes, *,
                run: str | None, journal: bool) -> None:
        old = {s.path: (entries[s.path], sizes.get(s.path)) for s in batch if s.path in entries}
        # The lines the lists gain (``_appends``): the paths not listed before, the sizes
        # not known before; None when a listed path would change (the lists are then
        # written whole).
        if any(old[s.path][0] != s.sha256.lower() for s in batch if s.path in old):
            lines = None
        else:
            fresh = sorted({s.path for s in batch if s.path not in old})
            sized = sorted({s.path for s in batch if s.path not in old or old[s.path][1] is None})
            lines = (fresh, sized)
        entries.update({s.path: s.sha256 for s in batch})
        sizes.update({s.path: s.size for s in batch})
        try:
            self._write_commit(batch, entries, sizes, run=run, journal=journal, lines=lines)
        except BaseException:
            for path, (sha, size) in old.items():  # a file listed again (copied anew)
                entries[path] = sha
                if size is not None:
                    sizes[path] = size
            raise

    def _write_commit(self, batch: list[Staged], entries: Digests,
                      sizes: Sizes, *, run: str | None, journal: bool,
                      lines: tuple[list[str], list[str]] | None = None) -> None:
        info = self._bag_info(sizes, run)
        temps: list[tuple[str, Path]] = []
        journal_temp: Path | None = None
        with self.on_disk():
            self.check_same_disk()
            try:
                # The two long lists (a line per file) gain the batch's lines at their
                # end when the disk holds them as this process knows them (``_appends``);
                # otherwise they are written whole as they are made, hashed on the way,
                # never held whole; unchanged since this process last wrote them (no file
                # added), they are not made again.
                hashes: dict[str, str] = {}
                written: dict[str, tuple[int, Any]] = {}
                appends = self._appends(entries, sizes, lines) if batch and journal else {}
                for name, values in ((fmt.SIZES, sizes), (fmt.MANIFEST, entries)):
                    if name in appends:
                        hashes[name] = appends[name].after.hexdigest()
                        continue
                    known = self._tag_hashes.get(name)
                    if not batch and known is not None and name in self._clean:
                        hashes[name] = known
                        continue
                    if not batch and known is not None:
                        # Opening a disk: its list is most likely what we would write.
                        # Hashed first, it is written only when it differs (not 23 MB
                        # written, fsynced and deleted on every open of a 100,000-file disk).
                        digest = hashlib.sha256()
                        for chunk in values.chunks():
                            digest.update(chunk)
                        if digest.hexdigest() == known or self._same_lines(name, values):
                            # The same lines (a list that grew at its end is not sorted):
                            # left as it is.
                            hashes[name] = known
                            continue
                    temp, hashes[name], end = self._write_temp_chunks(values.chunks(),
                                                                      durable=False)
                    if hashes[name] == known:
                        temp.unlink()
                    else:
                        temps.append((name, temp))
                        written[name] = end
                tags = self._tag_contents(hashes, info)
                hashes.update({name: fmt.sha256_bytes(data) for name, data in tags.items()})
                changed = [name for name in tags if self._tag_hashes.get(name) != hashes[name]]
                if not batch and not changed and not temps:
                    self._clean.update((fmt.SIZES, fmt.MANIFEST))  # the disk holds them as made
                    return
                for name in changed:
                    temps.append((name, self._write_temp(tags[name], durable=False)))
                folders, folders_of = self._make_folders(batch)
                if journal:
                    journal_temp = self._write_journal(batch, run=info.get("Brankas-Run"),
                                                       lists={name: [a.length, a.before]
                                                              for name, a in appends.items()})
                self._step("written")
                # Batched durability: the temporary tag files and the journal are made
                # durable together (one sync of the disk; an fsync of each where there is
                # no ``syncfs``) before any of them is renamed into place.
                self._sync([temp for _, temp in temps]
                           + ([journal_temp] if journal_temp is not None else []))
                self._step("synced")
                if journal_temp is not None:
                    self._place_journal(journal_temp)
                    self._step("journaled")
                # The lists gain their lines before the window (a full disk usually fails
                # here, and the lists are cut back): until the renames they name files not
                # yet in data/, which the journal, already durable, repairs. They are made
                # durable with the window (the second sync): until then the journal
                # repairs whatever part of them the disk kept.
                self._append_lists(appends, journal=journal)
                self._step("appended")
            except BaseException:
                left = [t for _, t in temps] + ([journal_temp] if journal_temp else [])
                for temp in left:
                    with contextlib.suppress(OSError):
                        temp.unlink()  # the journal's temporary name: gone once placed
                raise
            # The window: from the first rename to the last replace.
            try:
                for staged in batch:
                    parent, _, name = staged.path.rpartition("/")
                    try:
                        move_new(staged.staged, folders_of[parent] + name)
                    except FileExistsError:  # only a stranger writing beside us gets here
                        raise Conflict("backup_unexpected_file", name=staged.path) from None
                if batch and self.hooks.committing is not None:
                    self.hooks.committing()
                for name, temp in temps:
                    os.replace(temp, self.dest / name)
                self._step("moved")
                # The window is closed; make it durable (the lists' lines, the renames,
                # the replaces and the folders: one sync of the disk, or an fsync of each
                # of them), then forget the journal.
                self._sync([*(self.dest / name for name in appends), *folders, self.dest])
                # The sync opened the disk by its path: a disk swapped since the commit
                # began (another at the same mount point) took the files and that sync,
                # not the disk opened. Nothing is reported, the journal is left (s20 review).
                self.check_same_disk()
                self._step("durable")
            except BaseException:
                # The lists on the disk may now hold lines the listing does not: the next
                # commit writes them whole (the journal left repairs them at the next open).
                self._clean.difference_update((fmt.SIZES, fmt.MANIFEST))
                self._list_end.clear()
                raise
            if journal:
                (self.staging / JOURNAL).unlink()
        self.info = info
        self._tag_hashes.update({name: hashes[name] for name, _ in temps})
        for name, append in appends.items():
            self._tag_hashes[name] = hashes[name]
            self._list_end[name] = (append.length + len(append.data), append.after)
        self._list_end.update(written)
        self._clean.update((fmt.SIZES, fmt.MANIFEST))

    def _same_lines(self, name: str, values: Digests | Sizes) -> bool:
        """Whether the list ``name`` on the disk holds exactly the lines this process
        would write from ``values``, in any order (each line's keyed hash summed: a list
        that grew at its end is not sorted, and is not written again for that)."""
        def total(chunks: Iterable[bytes]) -> tuple[int, int, bytes]:
            out = count = 0
            carry = b""
            for chunk in chunks:
                lines = (carry + chunk).split(b"\n")
                carry = lines.pop()
                out += sum(map(hash, lines))
                count += len(lines)
            return out, count, carry

        try:
            with diskfs.open_file(self.dest, name, limit=fmt.MANIFEST_LIMIT) as fh:
                on_disk = total(iter(lambda: fh.read(CHUNK), b""))
        except (OSError, SetupError):
            return False
        return on_disk[2] == b"" and on_disk == total(values.chunks())

    def _appends(self, entries: Digests, sizes: Sizes,
                 lines: tuple[list[str], list[str]] | None) -> dict[str, _Append]:
        """The lines each long list gains from a batch, when it can gain them at its end:
        the disk holds the list as this process last read or wrote it (its length and
        running SHA-256 known, ``_list_end``, and the listing matched it before the
        batch). Nothing is ever written twice: a path already listed adds no line."""
        if lines is None:
            return {}
        fresh, sized = lines
        out: dict[str, _Append] = {}
        for name, paths, line in (
                (fmt.SIZES, sized, lambda p: f"{sizes[p]}  {fmt.DATA}/{fmt.encode_path(p)}\n"),
                (fmt.MANIFEST, fresh,
                 lambda p: f"{entries[p]}  {fmt.DATA}/{fmt.encode_path(p)}\n")):
            end = self._list_end.get(name)
            if (end is None or name not in self._clean
                    or end[1].hexdigest() != self._tag_hashes.get(name)):
                continue
            data = "".join(line(p) for p in paths).encode("utf-8")
            after = end[1].copy()
            after.update(data)
            out[name] = _Append(end[0], end[1].hexdigest(), data, after)
        return out

    def _append_lists(self, appends: dict[str, _Append], *, journal: bool) -> None:
        """``_append_list`` of each; on a failure, each list is cut back to its length
        before and the journal removed (when that worked: else the next open repairs)."""
        started: list[str] = []
        try:
            for name, append in appends.items():
                started.append(name)
                self._append_list(name, append)
        except BaseException:
            self._clean.difference_update((fmt.SIZES, fmt.MANIFEST))
            self._list_end.clear()
            with contextlib.suppress(OSError, SetupError):
                for name in started:
                    fd = _open_list(self.dest, name, os.O_WRONLY)
                    try:
                        os.ftruncate(fd, appends[name].length)
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                if journal:
                    (self.staging / JOURNAL).unlink()
            raise

    def _append_list(self, name: str, append: _Append) -> None:
        """Add ``append.data`` at the end of the list ``name``, which must still be the
        regular file of the length this process knows (no link followed), and make it
        durable."""
        if not append.data:
            return
        fd = _open_list(self.dest, name, os.O_WRONLY)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != append.length:
                raise SetupError("backup_bag_invalid", path=str(self.dest),
                                 detail=f"{name} changed while the disk was in use")
            os.lseek(fd, append.length, os.SEEK_SET)
            view = memoryview(append.data)
            while view:
                view = view[os.write(fd, view):]
            # Durable with the window (``_write_commit``'s second sync), not here.
        finally:
            os.close(fd)

    def _step(self, name: str) -> None:
        if self.hooks.commit_step is not None:
            self.hooks.commit_step(name)

    def _sync(self, paths: list[Path]) -> None:
        """Make what this commit wrote durable: one ``syncfs`` of the disk (Linux); where
        there is none, an fsync of each of ``paths`` (the files and folders written)."""
        sync_filesystem(self.dest, paths)

    def check_same_disk(self) -> None:
        """The disk at DEST is still the one opened (and locked): the same folder (device
        and inode), the lock file the one we hold, the identity file unchanged. Paths are
        names: a disk pulled mid-run and another mounted in its place (the same mount point
        or drive letter) would otherwise receive this run's journal, tag files, folders
        and manifest."""
        if _identity(self.dest) != self._identity:
            raise SetupError("backup_disk_replaced", path=str(self.dest))
        if self.held_lock is not None:
            held = os.fstat(self.held_lock)
            try:
                now = os.lstat(self.staging / fmt.LOCK)
            except FileNotFoundError:
                now = None
            if now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
                raise SetupError("backup_disk_replaced", path=str(self.dest))
        if self.medium_bytes:
            try:
                current = diskfs.read_file(self.dest, fmt.MEDIUM, limit=fmt.MEDIUM_LIMIT)
            except FileNotFoundError:
                current = b""
            if current != self.medium_bytes:
                raise SetupError("backup_disk_replaced", path=str(self.dest))

    def _bag_info(self, sizes: Mapping[str, int], run: str | None) -> dict[str, str]:
        info = {
            "Source-Organization": self.organization or self.info.get("Source-Organization", ""),
            "Bagging-Date": date.today().isoformat(),
            "Payload-Oxum": (f"{self.listing.total}.{len(self.listing.sizes)}"
                             if sizes is self.listing.sizes else fmt.oxum(sizes)),
            "Bag-Software-Agent": self.software,
            "External-Identifier": self.medium.medium_id,
            "Brankas-Medium-Label": self.medium.label,
            "Brankas-Medium-Created": self.medium.created,
        }
        run = run or self.info.get("Brankas-Run")
        if run:
            info["Brankas-Run"] = run
        return info

    def _tag_contents(self, lists: Mapping[str, str],
                      info: Mapping[str, str]) -> dict[str, bytes]:
        """Every other tag file the bag should hold, in the order they are replaced: the
        tag manifest after the files it lists, bagit.txt last (a new bag is no bag
        before). ``lists``: the hashes of the sizes and the manifest."""
        tags = {**fmt.guide_texts(), fmt.BAG_INFO: fmt.bag_info_text(info)}
        listed = {**lists, **{name: fmt.sha256_bytes(data) for name, data in tags.items()}}
        listed[fmt.MEDIUM] = fmt.sha256_bytes(self.medium_bytes)
        listed[fmt.BAGIT_TXT] = fmt.sha256_bytes(fmt.BAGIT_CONTENT)
        tags[fmt.TAGMANIFEST] = fmt.tag_lines(listed)
        tags[fmt.BAGIT_TXT] = fmt.BAGIT_CONTENT
        return tags

    def _write_temp_chunks(self, chunks: Iterable[bytes], *, durable: bool = True
                           ) -> tuple[Path, str, tuple[int, Any]]:
        """``_write_temp`` of the concatenated ``chunks``; returns the file, its SHA-256
        and (its length, the running hash: ``_list_end``)."""
        temp = self.staging_name(".tag")
        digest = hashlib.sha256()
        length = 0
        try:
            with open(temp, "xb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    fh.write(chunk)
                    length += len(chunk)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        return temp, digest.hexdigest(), (length, digest)

    def _write_temp(self, data: bytes, *, durable: bool = True) -> Path:
        """``data`` in a new temporary file of the staging folder; fsynced unless the
        caller makes it durable itself (``durable=False``: a commit's one sync)."""
        temp = self.staging_name(".tag")
        try:
            with open(temp, "xb") as fh:
                fh.write(data)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
        except BaseException:  # a full disk fails here: leave no half-written tag file
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        return temp

    def _write_journal(self, batch: list[Staged], *, run: str | None,
                       lists: dict[str, list[Any]] | None = None) -> Path:
        """The commit's journal, under a temporary name (not yet durable: the caller syncs,
        then ``_place_journal``): its files, and (``lists``) the length and SHA-256 of each
        long list the commit appends to, before the append (``recover`` cuts a list
        back to them)."""
        body: dict[str, Any] = {
            "run": run, "files": [{"path": s.path, "staged": os.path.basename(s.staged),
                                   "sha256": s.sha256, "size": s.size} for s in batch]}
        if lists:
            body["lists"] = lists
        return self._write_temp(json.dumps(body).encode("utf-8"), durable=False)

    def _place_journal(self, temp: Path) -> None:
        """The durable journal renamed into place, its folder fsynced: from here a cut
        commit is repaired from it."""
        try:
            os.replace(temp, self.staging / JOURNAL)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        fsync_dir(self.staging)

    def _make_folders(self, batch: list[Staged]) -> tuple[list[Path], dict[str, str]]:
        """Create the folders the batch needs, each step a real folder (a link on the disk
        is refused, never followed); the folders to fsync once it is in place, and for
        each payload folder of the batch ("" for the top) its path on the disk as text
        ending with the separator (checked once a folder, not once a file: a checkpoint
        of 10,000 files has a few dozen folders)."""
        to_sync: dict[Path, None] = {}
        folders_of: dict[str, str] = {}
        # Checked again at each checkpoint, each step once (not taken from
        # ``known_dirs``: a folder that was real at the last checkpoint may have been
        # swapped for a link since, and the renames would follow it off the disk).
        checked: set[str] = set()
        for staged in batch:
            rel = staged.path.rpartition("/")[0]
            if rel in folders_of:
                continue
            parent = f"{fmt.DATA}/{rel}" if rel else fmt.DATA
            folder, made = diskfs.real_dir(self.dest, parent, create=True, known_dirs=checked)
            to_sync.update(dict.fromkeys(made))
            to_sync[folder] = None
            folders_of[rel] = os.path.join(folder, "")
        self.known_dirs.update(checked)
        return list(to_sync), folders_of

    # -- opening and repair ----------------------------------------------------------

    def create(self, label: str, medium: MediumInfo | None) -> None:
        """Make a new bag (or finish making one an interrupted creation left)."""
        with self.on_disk():
            if medium is None:
                medium = MediumInfo(medium_id=str(uuid.uuid4()), label=label,
                                    created=datetime.now(UTC).isoformat(timespec="seconds"),
                                    organization=self.organization)
                os.replace(self._write_temp(medium.to_json()), self.dest / fmt.MEDIUM)
            self.medium = medium
            self.medium_bytes = diskfs.read_file(self.dest, fmt.MEDIUM, limit=fmt.MEDIUM_LIMIT)
            self.clean_staging()
            diskfs.real_dir(self.dest, fmt.DATA, create=True, known_dirs=self.known_dirs)
            fsync_dir(self.dest)
        self.commit([], run=None, journal=False)

    def load(self) -> None:
        """Read an existing bag, finish an interrupted commit, clear the staging folder."""
        with self.on_disk():
            version = fmt.read_tags(self.dest, fmt.BAGIT_TXT)
            if version.get("BagIt-Version") != "1.0" or (
                version.get("Tag-File-Character-Encoding", "").upper() != "UTF-8"
            ):
                raise SetupError("backup_bag_invalid", path=str(self.dest),
                                 detail="bagit.txt is not BagIt 1.0 in UTF-8")
            medium = read_medium(self.dest)
            if medium is None:
                raise SetupError("backup_not_brankas", path=str(self.dest))
            self.medium = medium
            self.medium_bytes = diskfs.read_file(self.dest, fmt.MEDIUM, limit=fmt.MEDIUM_LIMIT)
            self.clean_staging(check_only=True)  # before the journal is read or acted on
            diskfs.real_dir(self.dest, fmt.DATA, create=True, known_dirs=self.known_dirs)
            self._journal_lists()  # an append cut short is cut back before the lists are read
            self._read_tags()
            self.recover()
            self.clean_staging()
            for path in (self.entries.keys() - self.sizes.keys()
                         if self.listing.unknown else ()):
                with contextlib.suppress(OSError, SetupError):
                    self.sizes[path] = diskfs.stat_file(
                        self.dest, f"{fmt.DATA}/{path}", known_dirs=self.known_dirs).st_size
        self.commit([], run=None)  # brings the guides and a missing tag file up to date

    def list_hashes(self) -> dict[str, Any]:
        """The length and SHA-256 of the two long lists as they are on the disk now
        (known once a commit wrote or kept them), ``{name: [bytes, sha256]}``: what the
        next opening may trust (``known_lists``)."""
        out: dict[str, Any] = {}
        for name in (fmt.MANIFEST, fmt.SIZES):
            digest = self._tag_hashes.get(name)
            end = self._list_end.get(name)
            if digest is not None:
                out[name] = ([end[0], digest] if end is not None
                             and end[1].hexdigest() == digest else digest)
        return out

    def _read_tags(self) -> None:
        self._clean.clear()  # the lists now are what the disk says, not what we wrote
        self._list_end.clear()
        if self._read_known_lists():
            self.info = fmt.read_bag_info(self.dest)
            for name in (*fmt.GUIDES, fmt.BAG_INFO, fmt.TAGMANIFEST, fmt.BAGIT_TXT):
                try:
                    self._tag_hashes[name] = _hash_disk_file(self.dest, name,
                                                             limit=fmt.TAG_LIMIT)
                except FileNotFoundError:
                    self._tag_hashes[name] = None
            return
        try:
            self.entries = fmt.read_payload_manifest(self.dest)
        except FileNotFoundError:
            raise SetupError("backup_bag_invalid", path=str(self.dest),
                             detail=f"{fmt.MANIFEST} is missing") from None
        # The sizes are keyed by the manifest's own path strings (one string per file,
        # not two: at 100,000 files that is about 13 MiB).
        read = fmt.read_sizes(self.dest)
        sizes: dict[str, int] = {}
        for path in self.entries:
            size = read.pop(path, None)
            if size is not None:
                sizes[path] = size
        del read
        self.sizes = sizes
        self.info = fmt.read_bag_info(self.dest)
        for name in (fmt.SIZES, fmt.MANIFEST, *fmt.GUIDES, fmt.BAG_INFO, fmt.TAGMANIFEST,
                     fmt.BAGIT_TXT):
            limit = fmt.MANIFEST_LIMIT if name in {fmt.SIZES, fmt.MANIFEST} else fmt.TAG_LIMIT
            try:
                self._tag_hashes[name] = _hash_disk_file(self.dest, name, limit=limit,
                                                         ends=self._list_end)
            except FileNotFoundError:
                self._tag_hashes[name] = None

    def _read_known_lists(self) -> bool:
        """When the disk's manifest and sizes are, byte for byte, the lists this office
        last wrote there (their SHA-256 are ``known_lists``), read them without checking
        each line again (they were checked when made; at 100,000 files that check is most
        of the cost of opening a disk); True then. Each list is hashed from the very
        bytes parsed (no second read a writer could slip a change into): any other bytes,
        and the lists are read and checked as any disk's (False)."""
        known = self.known_lists
        if not (known.get(fmt.MANIFEST) and known.get(fmt.SIZES)):
            return False
        sizes = _known_list(self.dest, fmt.SIZES, known[fmt.SIZES])
        if sizes is None:
            return False
        # The manifest's lines go straight into the listing's map, a block at a time (no
        # second map of 100,000 hex digests), keyed by the manifest's own strings.
        loaded = Listing()
        manifest = _known_list(self.dest, fmt.MANIFEST, known[fmt.MANIFEST],
                               into=lambda block: loaded.load_known(block, sizes[0]))
        if manifest is None:
            return False
        self.listing.files, self.listing.unknown = loaded.files, loaded.unknown
        self.listing.total = loaded.total
        sizes[0].clear()
        for name, (_values, end) in ((fmt.MANIFEST, manifest), (fmt.SIZES, sizes)):
            self._tag_hashes[name] = end[1].hexdigest()
            self._list_end[name] = end
        self._clean.update((fmt.SIZES, fmt.MANIFEST))  # the disk holds them as made
        return True

    def recover(self) -> bool:
        """Finish an interrupted commit from its journal; True when there was one."""
        journal = self.staging / JOURNAL
        with self.on_disk():
            try:
                raw = diskfs.read_file(self.dest, f"{fmt.STAGING}/{JOURNAL}",
                                       limit=JOURNAL_LIMIT)
            except FileNotFoundError:
                return False
            try:
                body = fmt.json_from_disk(raw)
                files, run = list(body["files"]), body.get("run")
            except (ValueError, KeyError, TypeError):
                body, files, run = {}, [], None  # written whole and renamed: unreadable
            self._cut_lists(body.get("lists") if isinstance(body, dict) else None, files)
            self._read_tags()  # the tag files as the interruption left them
            for record in files:
                if isinstance(record, dict):
                    self._recover_file(record)
            self._tag_hashes = dict.fromkeys(self._tag_hashes)  # rewrite every tag file
            self.repairs += 1
            self.commit([], run=run if isinstance(run, str) else None, journal=False)
            journal.unlink()
            fsync_dir(self.staging)
        return True

    def _journal_lists(self) -> None:
        """``_cut_lists`` of the journal an interrupted commit left, if any."""
        try:
            raw = diskfs.read_file(self.dest, f"{fmt.STAGING}/{JOURNAL}", limit=JOURNAL_LIMIT)
            body = fmt.json_from_disk(raw)
        except (FileNotFoundError, ValueError):
            return
        if isinstance(body, dict):
            self._cut_lists(body.get("lists"), body.get("files"))

    def _cut_lists(self, lists: object, files: object) -> None:
        """Undo an interrupted commit's appends (its journal's ``lists``: each list's
        length and SHA-256 before it): a list whose first bytes are still those, and
        whose bytes after them are only lines of the files the journal names (``files``,
        each with its hash or size: what the commit appended, the last line perhaps cut
        in its middle), is cut back to them; those files are listed again below when
        they are on the disk whole. The journal is the disk's word: a list whose first
        bytes differ, or that holds any other line after them, is left as it is and read
        and checked as any disk's; a cut only ever drops lines the journal names, never
        one of another file (a planted journal recording a genuine prefix cut the
        office's own lines). The list is opened as ``disk.fs`` opens a file: no link
        followed, where there is no O_NOFOLLOW either; one past the lists' size limit
        is not read (it is refused as too large right after)."""
        if not isinstance(lists, dict):
            return
        records = [r for r in files if isinstance(r, dict)] if isinstance(files, list) else []
        for name in (fmt.MANIFEST, fmt.SIZES):
            recorded = _known_value(lists.get(name))
            if recorded is None or recorded[0] is None or recorded[0] < 0:
                continue
            length: int = recorded[0]
            wanted = recorded[1]
            lines = _journal_lines(name, records)
            try:
                fd = _open_list(self.dest, name, os.O_RDWR)
            except (OSError, SetupError):
                continue  # not a file we may cut: read (and refused) as any disk's
            try:
                st = os.fstat(fd)
                if (not stat.S_ISREG(st.st_mode) or st.st_size <= length
                        or st.st_size > fmt.MANIFEST_LIMIT  # refused unread, uncut
                        or st.st_size - length > sum(map(len, lines)) + len(lines)):
                    continue
                digest = hashlib.sha256()
                left = length
                last = b"\n"
                while left and (block := os.read(fd, min(CHUNK, left))):
                    digest.update(block)
                    left -= len(block)
                    last = block[-1:]
                if left or last != b"\n" or digest.hexdigest() != wanted:
                    continue
                tail = bytearray()
                while block := os.read(fd, CHUNK):
                    tail += block
                if _only_lines(bytes(tail), lines):
                    os.ftruncate(fd, length)
                    os.fsync(fd)
            finally:
                os.close(fd)

    def _recover_file(self, record: dict[str, object]) -> None:
        """One file of an interrupted commit. The journal is on the disk, so it is read as
        untrusted: the path must be a safe payload path, the staged name one of ours, and
        nothing is followed or written outside ``data/``."""
        path, staged_name = record.get("path"), record.get("staged")
        sha256, size = record.get("sha256"), record.get("size")
        if not (isinstance(path, str) and isinstance(staged_name, str)
                and isinstance(sha256, str) and isinstance(size, int)):
            return
        if fmt.check_payload_path(path) is not None or _OURS.fullmatch(staged_name) is None:
            return
        final, staged = self.final(path), self.staging / staged_name
        rel_final, rel_staged = f"{fmt.DATA}/{path}", f"{fmt.STAGING}/{staged_name}"
        if (diskfs.lkind(final) is None and diskfs.lkind(staged) == "file"
                and fmt.hash_disk_file(self.dest, rel_staged) == (sha256, size)):
            folder, _ = diskfs.real_dir(self.dest, rel_final.rsplit("/", 1)[0], create=True,
                                        known_dirs=self.known_dirs)
            os.replace(staged, final)
            fsync_dir(folder)
        if (diskfs.lkind(final) == "file"
                and fmt.hash_disk_file(self.dest, rel_final,
                                       known_dirs=self.known_dirs) == (sha256, size)):
            self.entries[path] = sha256
            self.sizes[path] = size
        elif self.entries.get(path) == sha256:
            # Listed, yet not on the disk whole: the manifest must name only complete files.
            del self.entries[path]
            self.sizes.pop(path, None)

    def clean_staging(self, *, check_only: bool = False) -> None:
        """Remove what an interrupted run left in the staging folder (never the lock). Only
        regular files with the names Brankas gives are removed; anything else there (a
        link, a folder, a stranger's file) is refused by name, and nothing is removed."""
        strangers = staging_strangers(self.dest)
        if strangers:
            name, kind = strangers[0]
            raise SetupError("backup_staging_foreign", path=str(self.dest), name=name,
                             what=kind)
        if check_only:
            return
        with os.scandir(self.staging) as entries:
            names = [e.name for e in entries if e.name != fmt.LOCK]
        for name in names:
            with contextlib.suppress(OSError):
                (self.staging / name).unlink()


def read_known_manifest(dest: Path, known: Mapping[str, Any] | None, *,
                        under: str = "") -> dict[str, str] | None:
    """The disk's manifest as {payload path: sha256} when it is, byte for byte, the one
    this office last wrote there (``known``: ``Bag.list_hashes``), else None. ``under``:
    only the paths in that payload folder (e.g. ``"backup/"``)."""
    digest = (known or {}).get(fmt.MANIFEST)
    found = _known_list(dest, fmt.MANIFEST, digest, under=under) if digest else None
    return found[0] if found is not None else None


def _known_value(known: object) -> tuple[int | None, str] | None:
    """A recorded list as (its length or None, its SHA-256): ``[bytes, sha256]``, or the
    SHA-256 alone as an office recorded it before lists were appended to."""
    if isinstance(known, str):
        return None, known
    if (isinstance(known, list | tuple) and len(known) == 2 and type(known[0]) is int
            and isinstance(known[1], str)):
        return known[0], known[1]
    return None


def _journal_lines(name: str, records: list[dict[str, object]]) -> set[bytes]:
    """The lines (without their newline) a commit whose journal names ``records`` added
    to the list ``name``: ``<sha256>  data/<path>`` or ``<size>  data/<path>``."""
    out: set[bytes] = set()
    for record in records:
        path, value = record.get("path"), record.get(
            "sha256" if name == fmt.MANIFEST else "size")
        if not isinstance(path, str) or not (
                isinstance(value, str) if name == fmt.MANIFEST else type(value) is int):
            continue
        text = value.lower() if isinstance(value, str) else str(value)
        with contextlib.suppress(UnicodeEncodeError):
            out.add(f"{text}  {fmt.DATA}/{fmt.encode_path(path)}".encode())
    return out


def _only_lines(tail: bytes, lines: set[bytes]) -> bool:
    """Whether ``tail`` holds only ``lines``, each at most once, the last one perhaps
    cut short (an append a power cut stopped; on a FAT or NTFS disk the length may have
    grown before the bytes were written: NULs at the end)."""
    found = tail.rstrip(b"\0").split(b"\n")
    cut = found.pop()
    if len(set(found)) != len(found) or not all(line in lines for line in found):
        return False
    return not cut or any(line.startswith(cut) for line in lines.difference(found))


def _open_list(dest: Path, name: str, flags: int) -> int:
    """A descriptor of the long list ``name`` (in DEST itself) for writing, opened as
    ``disk.fs.open_file`` opens one: no link followed, not blocking, and where there is
    no O_NOFOLLOW (Windows) ``lstat``-ed first and the handle that same file."""
    path = dest / name
    nofollow = getattr(os, "O_NOFOLLOW", None)
    before = None
    if nofollow is None:
        before = os.lstat(path)
        if diskfs.kind_of(before) != "file":
            raise diskfs.refused(dest, name, diskfs.kind_of(before))
    fd = os.open(path, flags | (nofollow or 0) | getattr(os, "O_BINARY", 0)
                 | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (
                before is not None and st.st_ino
                and (st.st_ino, st.st_dev) != (before.st_ino, before.st_dev)):
            raise diskfs.refused(dest, name, "link" if before is not None else "other")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _known_list(dest: Path, name: str, known: object, *, under: str = "",
                into: Callable[[dict[str, str]], None] | None = None
                ) -> tuple[dict[str, str], tuple[int, Any]] | None:
    """The list ``name`` ("<value>  data/<path>" lines, as this office writes them) as
    {payload path: value} when its bytes are those recorded (``known``: their length
    and SHA-256), else None; with its (length, running SHA-256) for appending. Read a
    block at a time and parsed, a block at once, from the bytes hashed (opened as
    ``diskfs.read_file`` does: no link followed, bounded). ``under``: only the paths in
    that payload folder are kept."""
    recorded = _known_value(known)
    if recorded is None:
        return None
    length, wanted = recorded
    digest = hashlib.sha256()
    out: dict[str, str] = {}
    prefix = f"{fmt.DATA}/{under}"
    carry = b""
    read = 0
    try:
        with diskfs.open_file(dest, name, limit=fmt.MANIFEST_LIMIT) as fh:
            if length is not None and os.fstat(fh.fileno()).st_size != length:
                return None  # cut short or grown: read and checked as any disk's
            while block := fh.read(CHUNK):
                read += len(block)
                if read > fmt.MANIFEST_LIMIT:
                    return None
                digest.update(block)
                data = carry + block
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                _parse_known(data[:cut].decode("utf-8"), out, prefix)
                if into is not None:  # each block handed on, not kept
                    into(out)
                    out.clear()
    except (OSError, SetupError, UnicodeDecodeError, ValueError):
        return None
    if carry or digest.hexdigest() != wanted or (length is not None and read != length):
        return None
    return out, (read, digest)


def _parse_known(text: str, out: dict[str, str], prefix: str) -> None:
    """Add the lines of ``text`` (whole lines, as this office writes them:
    ``<value>  data/<path>``) to ``out`` as {payload path: value}, a block at once."""
    lines = text.split("\n")
    lines.pop()  # after the last newline
    skip = len(fmt.DATA) + 1
    pairs = [line.split("  ", 1) for line in lines]
    del lines
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("not a list line")
    if prefix != f"{fmt.DATA}/":
        pairs = [pair for pair in pairs if pair[1].startswith(prefix)]
    if "%" in text:
        out.update({fmt.decode_path(path[skip:]): value for value, path in pairs})
    else:
        out.update({path[skip:]: value for value, path in pairs})
    if len(out) < len(pairs) and prefix == f"{fmt.DATA}/":
        raise ValueError("a path listed twice")  # (never in a list this office wrote)


def _hash_disk_file(dest: Path, name: str, *, limit: int,
                    ends: dict[str, tuple[int, Any]] | None = None) -> str:
    """The SHA-256 of the tag file ``name``, read a block at a time (opened as
    ``diskfs.read_file`` does: no link followed, at most ``limit`` bytes): a manifest of
    100,000 files is not held whole to be hashed. ``ends``: where the long lists' length
    and running hash are kept (``BagState._list_end``)."""
    digest = hashlib.sha256()
    read = 0
    with diskfs.open_file(dest, name, limit=limit) as fh:
        while block := fh.read(CHUNK):
            read += len(block)
            if read > limit:
                raise SetupError("disk_file_too_large", path=str(dest), name=name,
                                 limit=limit)
            digest.update(block)
    if ends is not None and name in (fmt.MANIFEST, fmt.SIZES):
        ends[name] = (read, digest.copy())
    return digest.hexdigest()


# ``renameat2`` of the C library (Linux, glibc 2.28+): None before the first call, False
# where there is none (or the file system refuses RENAME_NOREPLACE).
_renameat2: Any = None
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _renameat2_call() -> Any:
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                import ctypes.util

                libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
                fn = libc.renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
                fn.restype = ctypes.c_int
                _renameat2 = fn
            except (ImportError, OSError, AttributeError):  # no ctypes: lexists + replace
                _renameat2 = False
    return _renameat2


def move_new(src: str, dst: str) -> None:
    """Rename ``src`` to ``dst``, which must not exist (anything there, a link included,
    is never replaced: ``FileExistsError``). On Linux one ``renameat2(RENAME_NOREPLACE)``
    (the check and the rename in one step, one call a file as a checkpoint moves 10,000);
    where the call or the flag is missing (another system, an old kernel, a file system
    that refuses it), ``lexists`` then ``os.replace``."""
    global _renameat2
    fn = _renameat2_call()
    if fn:
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        import ctypes

        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(err, os.strerror(err), dst)
        if err not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP,
                       getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            raise OSError(err, os.strerror(err), src, None, dst)
        _renameat2 = False  # not here: the two steps from now on
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
    os.replace(src, dst)


def _identity(path: Path) -> tuple[int, int]:
    """Which file system object ``path`` names now: (device, inode; on Windows the volume
    serial number and file index)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino
