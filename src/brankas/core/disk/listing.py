"""What a disk's two long lists say, held in one map (a backup of 100,000 documents).

The manifest (``{payload path: sha256}``) and the sizes (``{payload path: bytes}``) list
the same paths. Held as two dicts of strings and ints they cost about 340 bytes a listed
file (a hex digest is a 113-byte string); ``Listing`` holds one dict, each path to one
40-byte value: the 32-byte digest and the size (8 bytes, little-endian; all ones while
the size is not known, as for a disk whose sizes file lacks the path). ``Listing.entries``
and ``Listing.sizes`` are the two lists as mappings over that one dict (a hex digest is
made only when asked for), so the code that reads and changes them reads as before.

A size is only ever known for a listed path: setting the size of a path the manifest
does not list is a ``KeyError``, and a path dropped from the manifest drops its size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from brankas.core.disk.format import DATA, encode_path

_UNKNOWN = b"\xff" * 8
_DIGEST = 32


def _packed_digest(sha256: str) -> bytes:
    digest = bytes.fromhex(sha256)
    if len(digest) != _DIGEST:
        raise ValueError(f"not a SHA-256: {sha256[:80]!r}")
    return digest


class Listing:
    """The paths a disk lists, each with its digest and (when known) its size."""

    __slots__ = ("entries", "files", "sizes", "total", "unknown")

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # payload path -> digest (32) + size (8)
        self.unknown = 0  # listed paths whose size is not known
        self.total = 0  # the known sizes' sum (Payload-Oxum), kept as they change
        self.entries = Digests(self)
        self.sizes = Sizes(self)

    def replace_entries(self, entries: Mapping[str, str]) -> None:
        """List exactly ``entries`` ({path: sha256}), every size unknown. A dict given is
        emptied as it is taken (a big disk's manifest is not held twice at once)."""
        files: dict[str, bytes] = {}
        if isinstance(entries, dict):
            for path in list(entries):
                files[path] = _packed_digest(entries.pop(path)) + _UNKNOWN
        else:
            for path, sha256 in entries.items():
                files[path] = _packed_digest(sha256) + _UNKNOWN
        self.files = files
        self.unknown = len(files)
        self.total = 0

    def load_known(self, entries: dict[str, str], sizes: dict[str, str]) -> None:
        """Add ``entries`` ({path: sha256 as hex}, paths not listed yet) with their
        ``sizes`` ({path: bytes as decimal text}), as read from lists this office wrote
        itself (each line checked when it was made: nothing is checked here but the
        form). The sizes taken are removed from ``sizes``."""
        files = self.files
        fromhex = bytes.fromhex
        pop = sizes.pop
        before = len(files)
        for path, sha256 in entries.items():
            digest = fromhex(sha256)
            size = pop(path, None)
            if len(digest) != _DIGEST:
                raise ValueError(f"not a SHA-256 for {path[:80]!r}")
            if size is None:
                files[path] = digest + _UNKNOWN
                self.unknown += 1
            else:
                number = int(size)
                self.total += number
                files[path] = digest + number.to_bytes(8, "little")
        if len(files) != before + len(entries):
            raise ValueError("a path listed twice")

    def replace_sizes(self, sizes: Mapping[str, int]) -> None:
        """Make ``sizes`` the known sizes of the listed paths (a path not listed is left
        out; a dict given is emptied as it is taken)."""
        files = self.files
        for path, value in files.items():
            files[path] = value[:_DIGEST] + _UNKNOWN
        self.unknown = len(files)
        self.total = 0
        paths = list(sizes)
        for path in paths:
            size = sizes.pop(path) if isinstance(sizes, dict) else sizes[path]
            if path in files:
                self.sizes[path] = size


class Digests(MutableMapping[str, str]):
    """``{payload path: sha256}`` over a ``Listing``."""

    __slots__ = ("_listing",)

    def __init__(self, listing: Listing) -> None:
        self._listing = listing

    def __getitem__(self, path: str) -> str:
        return self._listing.files[path][:_DIGEST].hex()

    def get(self, path: str, default: Any = None) -> Any:
        value = self._listing.files.get(path)
        return default if value is None else value[:_DIGEST].hex()

    def __setitem__(self, path: str, sha256: str) -> None:
        listing = self._listing
        old = listing.files.get(path)
        if old is None:
            listing.unknown += 1
        listing.files[path] = _packed_digest(sha256) + (_UNKNOWN if old is None
                                                        else old[_DIGEST:])

    def __delitem__(self, path: str) -> None:
        listing = self._listing
        old = listing.files.pop(path)
        if old[_DIGEST:] == _UNKNOWN:
            listing.unknown -= 1
        else:
            listing.total -= int.from_bytes(old[_DIGEST:], "little")

    def __contains__(self, path: object) -> bool:
        return path in self._listing.files

    def __iter__(self) -> Iterator[str]:
        return iter(self._listing.files)

    def __len__(self) -> int:
        return len(self._listing.files)

    def chunks(self, lines: int = 2000) -> Iterator[bytes]:
        """The manifest's bytes (``fmt.payload_chunks`` of this mapping, sorted by path),
        each line made straight from the map, not through a lookup per path."""
        files = self._listing.files
        paths = sorted(files)
        for i in range(0, len(paths), lines):
            yield "".join(f"{files[p][:_DIGEST].hex()}  {DATA}/{encode_path(p)}\n"
                          for p in paths[i:i + lines]).encode("utf-8")


class Sizes(MutableMapping[str, int]):
    """``{payload path: bytes}`` of the listed paths whose size is known."""

    __slots__ = ("_listing",)

    def __init__(self, listing: Listing) -> None:
        self._listing = listing

    def __getitem__(self, path: str) -> int:
        value = self._listing.files[path][_DIGEST:]
        if value == _UNKNOWN:
            raise KeyError(path)
        return int.from_bytes(value, "little")

    def get(self, path: str, default: Any = None) -> Any:
        value = self._listing.files.get(path)
        if value is None or value[_DIGEST:] == _UNKNOWN:
            return default
        return int.from_bytes(value[_DIGEST:], "little")

    def __setitem__(self, path: str, size: int) -> None:
        listing = self._listing
        old = listing.files[path]  # only a listed path has a size
        if not 0 <= size < (1 << 64) - 1:
            raise ValueError(f"not a file size: {size}")
        if old[_DIGEST:] == _UNKNOWN:
            listing.unknown -= 1
        else:
            listing.total -= int.from_bytes(old[_DIGEST:], "little")
        listing.total += size
        listing.files[path] = old[:_DIGEST] + size.to_bytes(8, "little")

    def __delitem__(self, path: str) -> None:
        listing = self._listing
        old = listing.files[path]
        if old[_DIGEST:] == _UNKNOWN:
            raise KeyError(path)
        listing.total -= int.from_bytes(old[_DIGEST:], "little")
        listing.files[path] = old[:_DIGEST] + _UNKNOWN
        listing.unknown += 1

    def __contains__(self, path: object) -> bool:
        value = self._listing.files.get(path)  # type: ignore[call-overload]
        return value is not None and value[_DIGEST:] != _UNKNOWN

    def __iter__(self) -> Iterator[str]:
        return (path for path, value in self._listing.files.items()
                if value[_DIGEST:] != _UNKNOWN)

    def __len__(self) -> int:
        return len(self._listing.files) - self._listing.unknown

    def values(self) -> _SizeValues:  # type: ignore[override]
        return _SizeValues(self._listing.files)

    def chunks(self, lines: int = 2000) -> Iterator[bytes]:
        """The sizes file's bytes (``fmt.payload_chunks`` of this mapping), as
        ``Digests.chunks``."""
        files = self._listing.files
        paths = sorted(path for path, value in files.items() if value[_DIGEST:] != _UNKNOWN)
        for i in range(0, len(paths), lines):
            yield "".join(f"{int.from_bytes(files[p][_DIGEST:], 'little')}  "
                          f"{DATA}/{encode_path(p)}\n"
                          for p in paths[i:i + lines]).encode("utf-8")


class _SizeValues:
    """The known sizes, made straight from the map (``sum`` of 100,000 at a checkpoint)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._files = files

    def __iter__(self) -> Iterator[int]:
        return (int.from_bytes(value[_DIGEST:], "little")
                for value in self._files.values() if value[_DIGEST:] != _UNKNOWN)
