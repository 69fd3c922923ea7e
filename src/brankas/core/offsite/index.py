"""The offsite copy's object layout (issue 18; docs/offsite.md): a BagIt bag of ciphertext
under the remote's prefix, its encrypted index and the office seal over both.

::

    bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    brankas-index.age   (encrypted) object <TAB> age|plain <TAB> sha256 <TAB> size <TAB> path
    brankas-seal.age    (encrypted) the office seal naming the index and manifest versions
    data/<32 hex>       one object per file of the disk bag, age ciphertext
    canary/<UTC time>-<8 hex>  canary objects (remote.py names them)

No Django here. Everything read back from a bucket is hostile input: the parsers below
check every field and bound every size.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from brankas.core.disk import format as fmt
from brankas.core.disk import seal as diskseal

BAGIT = fmt.BAGIT_TXT
BAG_INFO = fmt.BAG_INFO
MANIFEST = fmt.MANIFEST
TAGMANIFEST = fmt.TAGMANIFEST
INDEX = "brankas-index.age"
SEAL = "brankas-seal.age"
TAGS = (BAGIT, BAG_INFO, MANIFEST, INDEX, TAGMANIFEST, SEAL)  # the order a push writes them
DATA = fmt.DATA
CANARY = "canary"
INDEX_FORMAT = "brankas-offsite-index/1"
SEAL_KIND = "offsite"  # the seal statement's ``kind`` (a disk's run seal has none)
WRAP_AGE, WRAP_PLAIN = "age", "plain"  # encrypted by the push / sent as it is (an .age file)

OBJECT_KEY = re.compile(rf"{DATA}/[0-9a-f]{{32}}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
INDEX_LIMIT = 256 << 20  # 100,000 files are about 20 MB of index
SEAL_LIMIT = 64 << 10
TAG_LIMIT = 256 << 20  # the manifest of 100,000 objects is about 10 MB
MAX_SIZE = 1 << 40


def new_object_key() -> str:
    """A payload object's name: random, so it says nothing about the file."""
    return f"{DATA}/{secrets.token_hex(16)}"


@dataclass(frozen=True)
class Entry:
    """One file of the disk bag as an object: ``path`` is its payload path (relative to
    the bag's ``data/``), ``sha256``/``size`` the file's own (as on a disk), ``wrap``
    whether the push encrypted it (``age``) or sent it as it is (``plain``: already .age)."""

    key: str
    wrap: str
    sha256: str
    size: int
    path: str


def index_bytes(entries: Iterable[Entry]) -> bytes:
    lines = [f"# {INDEX_FORMAT}\n"]
    lines.extend(f"{e.key}\t{e.wrap}\t{e.sha256}\t{e.size}\t{fmt.encode_path(e.path)}\n"
                 for e in sorted(entries, key=lambda e: (e.path, e.key)))
    return "".join(lines).encode("utf-8")


def parse_index(data: bytes) -> tuple[list[Entry], list[str]]:
    """The index's entries and what was wrong with it (a line refused is named, never
    followed): a key not shaped as Brankas names objects, a path outside ``data/`` or not
    valid on a disk, a bad hash or size."""
    if len(data) > INDEX_LIMIT:
        return [], [f"index larger than {INDEX_LIMIT} bytes"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], ["index is not UTF-8"]
    lines = text.split("\n")
    if not lines or lines[0] != f"# {INDEX_FORMAT}":
        return [], ["not a Brankas offsite index"]
    entries: list[Entry] = []
    problems: list[str] = []
    seen: set[str] = set()
    good: set[str] = set()
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 5:
            problems.append(f"index line {n}: not five fields")
            continue
        key, wrap, sha, size_text, encoded = parts
        path = fmt.decode_path(encoded)
        why = None
        if OBJECT_KEY.fullmatch(key) is None:
            why = f"object name {fmt.shown(key, 60)!r}"
        elif wrap not in (WRAP_AGE, WRAP_PLAIN):
            why = "wrap"
        elif _HEX64.fullmatch(sha) is None:
            why = "sha256"
        elif not size_text.isdigit() or int(size_text) > MAX_SIZE:
            why = "size"
        elif key in seen:
            why = "object listed twice"
        else:
            reason = fmt.check_payload_path(path, good)
            if reason is not None:
                why = f"path: {reason}"
        if why is not None:
            problems.append(f"index line {n}: {why}")
            continue
        seen.add(key)
        entries.append(Entry(key, wrap, sha, int(size_text), path))
    return entries, problems


def manifest_bytes(objects: Mapping[str, str]) -> bytes:
    """manifest-sha256.txt: the SHA-256 of each object as stored ({key: sha256})."""
    return "".join(f"{objects[k]}  {k}\n" for k in sorted(objects)).encode("utf-8")


def parse_manifest(data: bytes) -> tuple[dict[str, str], list[str]]:
    if len(data) > TAG_LIMIT:
        return {}, ["manifest too large"]
    found: dict[str, str] = {}
    problems: list[str] = []
    for n, line in enumerate(data.decode("utf-8", "replace").split("\n"), start=1):
        if not line:
            continue
        sha, _, key = line.partition("  ")
        if _HEX64.fullmatch(sha) is None or OBJECT_KEY.fullmatch(key) is None:
            problems.append(f"manifest line {n}")
            continue
        found[key] = sha
    return found, problems


def bag_info_bytes(sizes: Mapping[str, int]) -> bytes:
    """bag-info.txt: the payload's size and count only (no office, no date)."""
    return fmt.bag_info_text({"Payload-Oxum": fmt.oxum(sizes),
                              "Brankas-Format": INDEX_FORMAT})


def tag_manifest_bytes(hashes: Mapping[str, str]) -> bytes:
    return fmt.tag_lines(hashes)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the seal ----------------------------------------------------------------------------

def seal_statement(*, remote_id: str, push: int, folder: str, index: tuple[str, str | None],
                   manifest: tuple[str, str | None], objects: int,
                   audit_head: tuple[int, str] | None, previous: str | None) -> dict[str, Any]:
    """What a push's seal says: the index and manifest it wrote, by SHA-256 (of the
    plaintext index; of the manifest's bytes) and version id, the push, the remote (its
    random id) and the audit head; ``previous``: the SHA-256 of the seal before."""
    return {"kind": SEAL_KIND, "remote": remote_id, "push": push, "folder": folder,
            "index": {"sha256": index[0], "version": index[1]},
            "manifest": {"sha256": manifest[0], "version": manifest[1]},
            "objects": objects,
            "audit_head": list(audit_head) if audit_head is not None else None,
            "previous": previous}


@dataclass(frozen=True)
class SealedPush:
    push: int
    remote: str
    folder: str
    index_sha256: str
    index_version: str | None
    manifest_sha256: str
    manifest_version: str | None
    audit_head: tuple[int, str] | None
    seal_sha256: str


def _version(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 1024:
        raise ValueError("version id")
    return value


def open_seal(data: bytes, trusted: set[str]) -> SealedPush:
    """A seal as read from the bucket (decrypted): its statement when it is signed by a
    key in ``trusted`` (public keys) and is an offsite seal; ValueError otherwise."""
    if len(data) > SEAL_LIMIT:
        raise ValueError("seal too large")
    seal = diskseal.parse_seal(data)
    if not seal.valid:
        raise ValueError("the signature does not check")
    if seal.key not in trusted:
        raise ValueError(f"signed by a key the office does not trust ({seal.fingerprint})")
    st = seal.statement
    try:
        if st.get("kind") != SEAL_KIND:
            raise ValueError("not an offsite seal")
        index, manifest = st["index"], st["manifest"]
        push, remote, folder = st["push"], st["remote"], st["folder"]
        if not (isinstance(push, int) and isinstance(remote, str) and isinstance(folder, str)):
            raise ValueError("fields")
        if not (_HEX64.fullmatch(str(index["sha256"])) and
                _HEX64.fullmatch(str(manifest["sha256"]))):
            raise ValueError("hashes")
        head = st.get("audit_head")
        audit = (int(head[0]), str(head[1])) if isinstance(head, list) and len(head) == 2 \
            else None
        return SealedPush(push, remote, folder, index["sha256"], _version(index["version"]),
                          manifest["sha256"], _version(manifest["version"]), audit, seal.sha256)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"not an offsite seal ({exc})") from None
