"""The office's seal on what a backup run writes, and the anchors that prove the office's key.

A disk's encrypted snapshot proves nothing about who wrote it: the recipients it is
encrypted to are public (they are on every disk), so anyone can make a snapshot of their
own, encrypt it to the office's recipients and fix the manifests. Each run therefore ends
with a **seal** (``data/backup/<run>/segel.json``): an Ed25519 signature, by the office's
signing key, over a statement that names the run, the disk (its id and the SHA-256 of its
``brankas-medium.json``), the SHA-256 of every file the run wrote in its folder (the
database snapshot, the registers, the recipients, the control list), the snapshot that is
current as of this run, the audit chain's head, and the SHA-256 of the disk's previous
seal (so a run taken out of the middle of a disk breaks the chain).

A signature is worth what its public key is worth, and a key found on the disk is the
attacker's to choose. The office's public key is trusted only through an **anchor** the
disk cannot forge:

- on this machine, the instance's own key (``verify``, ``drill``);
- a fingerprint printed on paper at set-up (``recover --fingerprint``);
- an anchor file on the disk (``data/keys/anchors/…``) whose HMAC-SHA256 tag is keyed by a
  secret only the office has: the key holder's age identity (which the holder's
  passphrase unlocks) or the office recovery identity. Whoever can make a tag that checks
  with that identity knows the identity; the tag's key is derived with HKDF-SHA256.

Primitives only from ``cryptography`` (Ed25519, HKDF, HMAC); nothing here is invented
beyond how the statements are laid out (canonical JSON, as the report signatures).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.errors import BrankasError

SEAL = "segel.json"
SEAL_FORMAT = "brankas-seal/1"
STATEMENT_FORMAT = "brankas-run-statement/1"
ANCHOR_FORMAT = "brankas-office-key-anchor/1"
ANCHORS_DIR = "anchors"  # under keys/, on the laptop and on the disk
SEAL_LIMIT = 1 << 20
ANCHOR_LIMIT = 64 << 10
_HKDF_INFO = b"brankas office key anchor v1"
_FOLDER = re.compile(r"(\d{4,9})_[0-9A-Za-z\-]{1,40}")


# -- the office key ------------------------------------------------------------------

@dataclass(frozen=True)
class OfficeKey:
    public: str  # base64 of the raw 32-byte Ed25519 public key
    private: bytes  # raw 32-byte private key ("" when only the public part is known)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def generate() -> OfficeKey:
    # (imported here: its package loads SSH keys' and every cipher's modules, ~8 ms of
    # every command that seals, for the raw encodings of a key made once; s20)
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    private = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return OfficeKey(base64.b64encode(public).decode("ascii"), private)


def fingerprint(public: str) -> str:
    """128 bits of the SHA-256 of the public key, in eight groups of four hex digits: short
    enough to print and compare by eye, long enough that no one can make a key to match."""
    digest = hashlib.sha256(base64.b64decode(public)).hexdigest()[:32]
    return "-".join(digest[i:i + 4] for i in range(0, 32, 4))


def normalize_fingerprint(text: str) -> str | None:
    """A fingerprint as typed (any case, with or without dashes or spaces), or None."""
    digits = re.sub(r"[\s\-:]", "", text).lower()
    if re.fullmatch(r"[0-9a-f]{32}", digits) is None:
        return None
    return "-".join(digits[i:i + 4] for i in range(0, 32, 4))


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# -- seals ------------------------------------------------------------------------------

def seal_bytes(statement: Mapping[str, Any], key: OfficeKey) -> bytes:
    """The seal file: the statement (canonical JSON, kept as the exact text signed), the
    public key and the signature."""
    text = _canonical({"format": STATEMENT_FORMAT, **statement})
    signature = Ed25519PrivateKey.from_private_bytes(key.private).sign(text.encode("utf-8"))
    body = {"format": SEAL_FORMAT, "statement": text, "key": key.public,
            "fingerprint": key.fingerprint,
            "signature": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Seal:
    statement: dict[str, Any]
    key: str  # the public key the file names (trusted only through an anchor)
    valid: bool  # the signature checks with ``key``
    sha256: str  # of the seal file's bytes (the next seal on the disk names it)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def parse_seal(data: bytes) -> Seal:
    """A seal file as read from a disk; ValueError when it is not one."""
    try:
        body = fmt.json_from_disk(data)
        text, key, signature = body["statement"], body["key"], body["signature"]
        if body.get("format") != SEAL_FORMAT or not all(
                isinstance(x, str) for x in (text, key, signature)):
            raise ValueError("not a Brankas seal")
        statement = fmt.json_from_disk(text)
        if not isinstance(statement, dict) or statement.get("format") != STATEMENT_FORMAT:
            raise ValueError("not a Brankas run statement")
        raw_key = base64.b64decode(key, validate=True)
        raw_signature = base64.b64decode(signature, validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError(f"not a Brankas seal ({exc})") from None
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_signature, text.encode("utf-8"))
        valid = True
    except (InvalidSignature, ValueError):
        valid = False
    return Seal(statement, key, valid, hashlib.sha256(data).hexdigest())


def run_number(folder: str) -> int | None:
    """The run number a run folder's name starts with, or None for a name Brankas does not
    write."""
    match = _FOLDER.fullmatch(folder)
    return int(match.group(1)) if match else None


# -- anchors ------------------------------------------------------------------------------

def _anchor_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_HKDF_INFO).derive(secret.strip().encode("utf-8"))


def anchor_bytes(*, public: str, office: str, holder: str, secret: str) -> bytes:
    """An anchor file: the office's public key, tagged with a key derived from ``secret``
    (an age identity, ``AGE-SECRET-KEY-1…``: a holder's, or the recovery identity).
    ``holder`` names whose identity it is (the key's fingerprint, or "recovery")."""
    text = _canonical({"format": ANCHOR_FORMAT, "office_key": public,
                       "fingerprint": fingerprint(public), "office": office, "holder": holder})
    tag = hmac.new(_anchor_key(secret), text.encode("utf-8"), hashlib.sha256).hexdigest()
    body = {"about": "Brankas: the public key this office signs its backups with. The tag "
                     "checks only with the secret identity named by 'holder'.",
            "statement": text, "hmac_sha256": tag}
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def anchor_open(data: bytes, secret: str) -> dict[str, Any] | None:
    """The anchor's statement when its tag checks with ``secret``; None otherwise (another
    holder's anchor, or a forgery)."""
    try:
        body = fmt.json_from_disk(data)
        text, tag = body["statement"], body["hmac_sha256"]
        if not (isinstance(text, str) and isinstance(tag, str)):
            return None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    expected = hmac.new(_anchor_key(secret), text.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, tag.lower()):
        return None
    try:
        statement = fmt.json_from_disk(text)
        base64.b64decode(statement["office_key"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(statement, dict) or statement.get("format") != ANCHOR_FORMAT:
        return None
    return statement


# -- a disk's seals, checked --------------------------------------------------------------

@dataclass
class RunSeal:
    """One run folder on a disk and what its seal says about it."""

    folder: str
    number: int
    files: dict[str, str]  # payload path -> sha256 (manifest) of the folder's files
    status: str = "unsealed"  # authentic | foreign | invalid | damaged | unsealed
    seal: Seal | None = None
    problems: list[str] = field(default_factory=list)
    signed: bool = False  # the seal's signature checks with a trusted office key

    @property
    def authentic(self) -> bool:
        return self.status == "authentic"

    def statement(self, key: str, default: Any = None) -> Any:
        return self.seal.statement.get(key, default) if self.seal else default


@dataclass
class SealReport:
    """What the seals on a disk prove, given the office keys trusted."""

    runs: list[RunSeal]  # every run folder, oldest first
    problems: list[str] = field(default_factory=list)

    @property
    def authentic(self) -> list[RunSeal]:
        return [r for r in self.runs if r.authentic]

    @property
    def newest(self) -> RunSeal | None:
        runs = self.authentic
        return runs[-1] if runs else None

    def run(self, folder: str) -> RunSeal | None:
        return next((r for r in self.runs if r.folder == folder), None)

    def snapshot_folder(self) -> str | None:
        """The folder of the snapshot that is current as of the newest authentic run."""
        newest = self.newest
        if newest is None:
            return None
        snapshot = newest.statement("snapshot") or {}
        folder = snapshot.get("folder") if isinstance(snapshot, dict) else None
        return folder if isinstance(folder, str) else None

    def audit_heads(self) -> list[tuple[int, int, str]]:
        """(run, seq, hash) of the audit chain's head each authentic run recorded."""
        out = []
        for r in self.authentic:
            head = r.statement("audit_head")
            if isinstance(head, dict) and isinstance(head.get("seq"), int) and isinstance(
                    head.get("hash"), str):
                out.append((r.number, head["seq"], head["hash"]))
        return out


def run_folders(entries: Mapping[str, str], runs_dir: str) -> dict[str, RunSeal]:
    """The run folders a manifest lists (``<runs_dir>/<folder>/<file>``), by folder."""
    found: dict[str, RunSeal] = {}
    prefix = f"{runs_dir}/"
    for path in entries:  # a disk lists 100,000 documents beside a few hundred run files
        if not path.startswith(prefix):
            continue
        digest = entries[path]
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != runs_dir:
            continue
        number = run_number(parts[1])
        if number is None:
            continue
        found.setdefault(parts[1], RunSeal(parts[1], number, {})).files[path] = digest
    return found


def check_runs(runs: dict[str, RunSeal], seals: Mapping[str, bytes | None], *,
               trusted: set[str], medium_id: str, medium_sha256: str,
               runs_dir: str) -> SealReport:
    """Check each run folder's seal (``seals``: folder -> the seal file's bytes, or None when
    it could not be read) against the office keys ``trusted`` and the manifest."""
    report = SealReport(sorted(runs.values(), key=lambda r: (r.number, r.folder)))
    for run in report.runs:
        seal_path = f"{runs_dir}/{run.folder}/{SEAL}"
        if seal_path not in run.files:
            continue
        data = seals.get(run.folder)
        if data is None:
            run.status = "damaged"
            run.problems.append(f"run {run.folder}: its seal cannot be read")
            continue
        try:
            seal = parse_seal(data)
        except ValueError as exc:
            run.status = "invalid"
            run.problems.append(f"run {run.folder}: {exc}")
            continue
        run.seal = seal
        if not seal.valid:
            run.status = "invalid"
            run.problems.append(f"run {run.folder}: the seal's signature does not check")
            continue
        if seal.key not in trusted:
            run.status = "foreign"
            run.problems.append(f"run {run.folder}: sealed by a key that is not this office's "
                                f"(fingerprint {seal.fingerprint})")
            continue
        run.status, run.signed = "authentic", True
        _check_statement(run, seal, medium_id=medium_id, medium_sha256=medium_sha256,
                         seal_path=seal_path)
        if run.problems:
            run.status = "invalid"
    _check_chain(report)
    for run in report.runs:
        report.problems.extend(run.problems)
    return report


def _check_statement(run: RunSeal, seal: Seal, *, medium_id: str, medium_sha256: str,
                     seal_path: str) -> None:
    s = seal.statement
    if s.get("folder") != run.folder or s.get("run") != run.number:
        run.problems.append(f"run {run.folder}: its seal was made for run "
                            f"{str(s.get('folder'))[:60]}, not this folder")
    if s.get("medium_id") != medium_id:
        run.problems.append(f"run {run.folder}: sealed for another disk "
                            f"({str(s.get('medium_id'))[:40]})")
    elif s.get("medium_sha256") != medium_sha256:
        run.problems.append(f"run {run.folder}: the disk's brankas-medium.json is not the one "
                            "the office sealed")
    files = s.get("files")
    if not isinstance(files, dict):
        run.problems.append(f"run {run.folder}: its seal lists no files")
        return
    for path, digest in sorted(files.items()):
        found = run.files.get(path)
        if found is None:
            run.problems.append(f"run {run.folder}: data/{str(path)[:200]} is missing")
        elif found != digest:
            run.problems.append(f"run {run.folder}: data/{path} is not what the office sealed")
    for path in sorted(set(run.files) - set(files) - {seal_path}):
        run.problems.append(f"run {run.folder}: data/{path} was not sealed by the office")


def _check_chain(report: SealReport) -> None:
    """Each authentic seal names the disk's previous seal: a sealed run taken off the disk
    (or put on it from elsewhere) breaks the chain."""
    known = {r.seal.sha256: r for r in report.runs if r.seal is not None}
    previous: RunSeal | None = None
    for run in [r for r in report.runs if r.signed]:
        named = run.statement("previous")
        expected = previous.seal.sha256 if previous and previous.seal else None
        if named != expected:
            if named is None:
                detail = "it names no earlier seal, yet the disk has one"
            elif named in known:
                detail = f"it follows run {known[named].folder}, not the seal before it"
            else:
                detail = "a sealed run before it is missing from this disk"
            run.problems.append(f"run {run.folder}: {detail}")
        previous = run


def read_disk_seals(dest: Path, entries: Mapping[str, str], *, trusted: set[str],
                    medium_id: str, runs_dir: str) -> SealReport:
    """Read and check every run folder's seal on the disk at DEST (``entries``: its
    manifest). Seal files are read as untrusted (``disk.fs``), bounded, and used only when
    their bytes are the ones the manifest lists."""
    try:
        medium_sha256 = hashlib.sha256(
            diskfs.read_file(dest, fmt.MEDIUM, limit=fmt.MEDIUM_LIMIT)).hexdigest()
    except (OSError, BrankasError):
        medium_sha256 = ""
    runs = run_folders(entries, runs_dir)
    seals: dict[str, bytes | None] = {}
    for folder, run in runs.items():
        path = f"{runs_dir}/{folder}/{SEAL}"
        if path not in run.files:
            continue
        try:
            data = diskfs.read_file(dest, f"{fmt.DATA}/{path}", limit=SEAL_LIMIT)
        except (OSError, BrankasError):
            seals[folder] = None
            continue
        seals[folder] = data if hashlib.sha256(data).hexdigest() == run.files[path] else None
    return check_runs(runs, seals, trusted=trusted, medium_id=medium_id,
                      medium_sha256=medium_sha256, runs_dir=runs_dir)
