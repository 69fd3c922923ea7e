"""Reading a backup disk: payload files out of the bag, each checked against the manifest.

Used by restore, recover and the restore drill. Nothing here writes to the disk. A file
copied out goes to ``<target>.part`` first and gets its final name only once its SHA-256
matched; a decrypted document is authenticated chunk by chunk by age before it is
renamed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path
from typing import Any, BinaryIO

from brankas.core import crypto
from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk.format import MediumInfo
from brankas.core.errors import IntegrityFailure, NotFound, SetupError
from brankas.core.fsutil import fsync_dir


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer) or 0  # type: ignore[attr-defined]
        self.digest.update(memoryview(buffer)[:n])
        self.size += n
        return n


def same_folder_index(entries: dict[str, str]) -> dict[tuple[str, str], str]:
    """{(folder, sha256): payload path} of the manifest's files (the first of equal ones)."""
    index: dict[tuple[str, str], str] = {}
    for path, digest in sorted(entries.items()):
        index.setdefault((path.rpartition("/")[0], digest), path)
    return index


def locate(entries: dict[str, str], index: dict[tuple[str, str], str], stored_path: str,
           sha256: str) -> str | None:
    """``BagReader.locate`` over a manifest and its ``same_folder_index``."""
    if stored_path in entries:
        return stored_path
    return index.get((stored_path.rpartition("/")[0], sha256))


def _create(target: Path, part: Path, payload: str) -> BinaryIO:
    """The new file ``part`` beside ``target``, its folders made. A name the disk chose
    that cannot be made here (a file already where a folder must go, too long a name for
    this file system) refuses that one file, not the whole restore or recover."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(part, "xb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise IntegrityFailure("backup_file_refused", name=payload,
                               detail=f"cannot be written here: {exc.strerror or exc}") from None


# The codes of a file on the disk that cannot be used: damaged, or refused (a link, not a
# regular file, too large).
DAMAGED = frozenset({"backup_file_damaged", "backup_file_refused"})
READ_LIMIT = 4 << 30  # the most ``read_bytes`` holds in memory (a database snapshot)


class BagReader:
    """A backup disk opened for reading, as untrusted input: the manifest's paths are
    checked (``problems`` names the lines that are not used), and every file is opened
    without following a link, as a regular file (``disk.fs``)."""

    def __init__(self, dest: Path | str) -> None:
        self.dest = Path(dest).expanduser().absolute()
        diskfs.check_dest(self.dest)
        if not self.dest.is_dir():
            raise SetupError("backup_dest_missing", path=str(self.dest))
        self._dirs: set[str] = set()
        self._located: dict[tuple[str, str], str] | None = None
        self.problems: list[str] = []  # manifest lines refused (unsafe paths, twins)
        with fmt.disk_errors(self.dest):
            if diskfs.lkind(self.dest / fmt.BAGIT_TXT) != "file":
                raise SetupError("backup_not_brankas", path=str(self.dest))
            medium = fmt.read_medium(self.dest)
            if medium is None:
                raise SetupError("backup_not_brankas", path=str(self.dest))
            self.medium: MediumInfo = medium
            try:
                self.entries = fmt.read_payload_manifest(self.dest, self.problems)
            except FileNotFoundError:
                raise SetupError("backup_bag_invalid", path=str(self.dest),
                                 detail=f"{fmt.MANIFEST} is missing") from None

    def has(self, payload: str) -> bool:
        return payload in self.entries

    def locate(self, stored_path: str, sha256: str) -> str | None:
        """Where a registered file is on this disk: its own path, or (a disk written when
        exempted files were named with their subject) a file in the same folder with the
        same SHA-256; None when neither is there."""
        if self._located is None:
            self._located = same_folder_index(self.entries)
        return locate(self.entries, self._located, stored_path, sha256)

    def _expect(self, payload: str) -> str:
        try:
            return self.entries[payload]
        except KeyError:
            raise NotFound("backup_file_missing", name=payload) from None

    def _open(self, payload: str, limit: int | None = None) -> BinaryIO:
        """A listed payload file, opened as untrusted (no link followed, a regular file).
        One that is gone or refused while the disk is there is reported as that file being
        unusable, not as the disk being gone (every file)."""
        try:
            return diskfs.open_file(self.dest, f"{fmt.DATA}/{payload}", limit=limit,
                                    known_dirs=self._dirs)
        except FileNotFoundError:
            if diskfs.lkind(self.dest / fmt.BAGIT_TXT) == "file":
                raise IntegrityFailure("backup_file_damaged", name=payload) from None
            raise
        except SetupError as exc:
            raise IntegrityFailure("backup_file_refused", name=payload,
                                   detail=exc.message()) from None

    def read_bytes(self, payload: str, *, limit: int = READ_LIMIT) -> bytes:
        """A (small) payload file, checked against the manifest."""
        expected = self._expect(payload)
        chunks = []
        total = 0
        with fmt.disk_errors(self.dest), self._open(payload, limit) as fh:
            while total <= limit and (chunk := fh.read(min(fmt.CHUNK * 64, limit + 1 - total))):
                chunks.append(chunk)  # a loop: one read() returns at most 2 GiB
                total += len(chunk)
        data = b"".join(chunks)
        del chunks
        if len(data) > limit or hashlib.sha256(data).hexdigest() != expected:
            raise IntegrityFailure("backup_file_damaged", name=payload)
        return data

    def copy_out(self, payload: str, target: Path, *,
                 identities: list[Any] | None = None) -> str:
        """Copy a payload file to ``target`` (decrypted with ``identities`` when given);
        returns its SHA-256 as stored on the disk. Refuses a damaged or missing file and
        leaves nothing at ``target`` then. ``target`` is the caller's: a folder it made,
        below which the (checked) payload path decides the name."""
        expected = self._expect(payload)
        part = target.with_name(target.name + ".part")
        with fmt.disk_errors(self.dest):
            src_raw = self._open(payload)
        try:
            out_fh = _create(target, part, payload)
        except BaseException:
            src_raw.close()
            raise
        try:
            with src_raw, out_fh as out:
                src = _Hashing(src_raw)
                if identities is None:
                    buf = fmt.read_buffer()
                    view = memoryview(buf)
                    while n := src.readinto(buf):
                        out.write(view[:n])
                else:
                    crypto.decrypt_stream(src, out, identities)  # type: ignore[arg-type]
                    while src.readinto(fmt.read_buffer()):  # hash any trailing bytes too
                        pass
                out.flush()
                os.fsync(out.fileno())
            if src.digest.hexdigest() != expected:
                raise IntegrityFailure("backup_file_damaged", name=payload)
            try:
                os.replace(part, target)
            except OSError as exc:  # a folder already stands at that name
                raise IntegrityFailure("backup_file_refused", name=payload,
                                       detail=f"cannot be written here: {exc.strerror}"
                                       ) from None
            fsync_dir(target.parent)
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        return expected

    def decrypt_to(self, payload: str, sink: Any, identities: list[Any], *,
                   limit: int = READ_LIMIT) -> None:
        """Decrypt a payload file into ``sink`` (anything with ``write``) as a stream, in
        bounded memory; the file's SHA-256 is checked against the manifest once it is read
        whole (``backup_file_damaged`` then): the caller keeps what ``sink`` took only when
        this returns."""
        expected = self._expect(payload)
        with fmt.disk_errors(self.dest), self._open(payload, limit) as raw:
            src = _Hashing(raw)
            try:
                crypto.decrypt_stream(src, sink, identities)  # type: ignore[arg-type]
            except Exception:
                # A file cut short or altered fails to decrypt (pyrage: "decryption
                # error", an OSError): when its bytes are not the manifest's, say so.
                while src.readinto(fmt.read_buffer()):
                    pass
                if src.digest.hexdigest() != expected:
                    raise IntegrityFailure("backup_file_damaged", name=payload) from None
                raise
            while src.readinto(fmt.read_buffer()):  # hash any trailing bytes too
                pass
        if src.digest.hexdigest() != expected:
            raise IntegrityFailure("backup_file_damaged", name=payload)

    def check(self, payload: str) -> bool:
        """Whether the file on the disk matches the manifest (read from the disk)."""
        expected = self.entries.get(payload)
        if expected is None:
            return False
        try:
            digest, _ = fmt.hash_disk_file(self.dest, f"{fmt.DATA}/{payload}", uncached=True,
                                           known_dirs=self._dirs)
        except (OSError, SetupError):
            return False
        return digest == expected

    def run_folders(self, prefix: str, name: str) -> list[str]:
        """Payload paths ``<prefix>/<folder>/<name>`` on the disk, newest run first (run
        folders start with the run number)."""
        found = []
        for payload in self.entries:
            parts = payload.split("/")
            if len(parts) == 3 and parts[0] == prefix and parts[2] == name:
                number = parts[1].split("_", 1)[0]
                found.append((int(number) if number.isdigit() else -1, parts[1], payload))
        return [p for _, _, p in sorted(found, reverse=True)]
