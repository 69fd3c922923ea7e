"""Versions of an encrypted file on append-only backup disks.

A grant or a rekey re-encrypts a document (or a request letter) into a new file beside
the old one (``<agenda>.v2.pdf.age``) and records the old one as a ``SupersededFile``; the
old file leaves the archive but stays on every disk that carried it. Verify, restore, the
drill and recover read those disks: a superseded version is a known file, and when a disk
lacks the current version the newest older version on it is the one restored (it opens
for the keys it was encrypted to, ``recipients``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from brankas.core.disk.reader import locate, same_folder_index
from brankas.web.keys.models import SupersededFile

_VERSIONED = re.compile(r"^(?P<stem>.+)\.v(?P<n>\d{1,6})(?P<ext>\.pdf\.age)$")


@dataclass(frozen=True)
class Version:
    """One version of a document's stored file."""

    path: str
    sha256: str
    size: int
    recipients: tuple[str, ...]
    current: bool  # the version the register names now


def current_version(doc) -> Version:  # type: ignore[no-untyped-def]
    return Version(doc.stored_path, doc.stored_sha256, doc.stored_size,
                   tuple(doc.recipients or ()), True)


def older_versions(kind: str, ids: Iterable[int] | None = None) -> dict[int, list[Version]]:
    """{object id: its superseded versions, newest first} (``ids`` None: every one)."""
    qs = SupersededFile.objects.filter(kind=kind).order_by("-superseded_at", "-id")
    if ids is not None:
        qs = qs.filter(object_id__in=list(ids))
    out: dict[int, list[Version]] = {}
    for row in qs.values_list("object_id", "path", "sha256", "size", "recipients"):
        object_id, path, sha, size, recipients = row
        out.setdefault(object_id, []).append(
            Version(path, sha, size, tuple(recipients or ()), False))
    return out


def superseded_hashes() -> frozenset[str]:
    """The SHA-256 of every superseded file (documents and letters)."""
    return frozenset(SupersededFile.objects.values_list("sha256", flat=True))


class VersionFinder:
    """Which version of a document a disk's manifest holds: the current one when it is
    there (by path, or by hash in the same folder), else the newest older one."""

    def __init__(self, entries: dict[str, str],
                 older: dict[int, list[Version]] | None = None) -> None:
        self.entries = entries
        self.index = same_folder_index(entries)
        self.older = older if older is not None else older_versions(SupersededFile.DOCUMENT)

    def find(self, doc) -> tuple[str, Version] | None:  # type: ignore[no-untyped-def]
        """(payload path on the disk, the version) or None when no version is there."""
        for version in [current_version(doc), *self.older.get(doc.pk, [])]:
            found = locate(self.entries, self.index, version.path, version.sha256)
            if found is not None:  # the caller compares the hash (other bytes: damaged)
                return found, version
        return None


def unversioned(path: str) -> tuple[str, int]:
    """(the path as version 1 names it, the version number) of a stored path."""
    match = _VERSIONED.match(path)
    if match is None:
        return path, 1
    return match["stem"] + match["ext"], int(match["n"])
