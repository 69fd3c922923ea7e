"""Reading an offsite copy on a new machine (``recover --from-offsite``; docs/offsite.md).

Nothing is known but the bucket, the endpoint, the credentials and a key holder's
passphrase or the recovery identity. So, without Django:

- ``parse_url``: ``s3://BUCKET[/PREFIX]``, checked;
- ``unlock``: the identities that open the copy. The recovery identity (typed, or rebuilt
  from shares) as it is; a passphrase opens a holder's key file, found among the small
  object versions of the bucket (their names say nothing: each small object is read and only the
  age passphrase files Brankas writes are tried, as a disk's ``keys/`` are);
- ``choose_seal``: the office key believed only through an anchor (``keys/anchors/`` of
  the sealed index) whose tag checks with an identity that opened the copy, as the disk
  recover believes it; among the seals signed by a believed key, the one of the highest
  push (an older seal written again as a newer version is a rollback, named and not used);
- ``Versions``: every payload object read by version, the version the sealed manifest
  names by its SHA-256 (a newer version planted under the name, or a delete marker, does
  not hide the office's locked one).

Everything read from the bucket is hostile input: bounded, checked against the seal
before it is used.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from brankas.core import crypto
from brankas.core.disk import format as fmt
from brankas.core.disk import seal as diskseal
from brankas.core.disk.layout import KEY_FILE_LIMIT, KEY_FILES_TRIED, KEYS_DIR, UNLOCK_BUDGET
from brankas.core.errors import BrankasError, CryptoFailure, IntegrityFailure, InvalidInput
from brankas.core.offsite import index as layout
from brankas.core.register.store import HashingWriter

SEALS_READ = 10_000  # seal versions read at most (one per push: 27 years of daily pushes;
# about a kilobyte kept of each); more is refused, not a choice among the newest read
SIGNERS_TRIED = 10  # distinct signing keys whose anchors are looked for
VERSIONS_TRIED = 20  # versions of one payload name tried for the one the manifest names
_URL = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?")


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://BUCKET[/PREFIX]``; refused when malformed."""
    match = _URL.fullmatch(url.strip())
    prefix = (match.group(2) or "").strip("/") if match else ""
    parts = prefix.split("/") if prefix else []
    if (match is None or len(prefix) > 200 or "\\" in prefix
            or any(p in ("", ".", "..") for p in parts)):
        raise InvalidInput("offsite_field_invalid", field="--from-offsite",
                           detail="s3://BUCKET[/PREFIX]")
    return match.group(1), prefix


def age_limit(size: int) -> int:
    """The most an age file of ``size`` plaintext bytes can be."""
    return size + (size // 65536 + 1) * 16 + (64 << 10)


def passed_over(exc: BrankasError, *kinds: str) -> bool:
    """Whether a failed read of one version is that version's (named, the next tried)
    rather than the remote's: damaged or too large, or refused for this version alone
    (a version PUT with a customer's encryption key, SSE-C, cannot be read without it)."""
    return exc.kind in ("integrity", "invalid", *kinds) or exc.code == "offsite_refused"


def fetch(client: Any, key: str, version: str | None, limit: int) -> bytes:
    out = io.BytesIO()
    client.get(key, out, version_id=version, max_bytes=limit)
    return out.getvalue()


# -- the identities -------------------------------------------------------------------------

def unlock(client: Any, *, passphrase: str | None = None, identity_text: str | None = None,
           shares: Sequence[tuple[str, str]] | None = None) -> tuple[list[Any], str]:
    """The identities that open the copy, and how they were unlocked."""
    if shares is not None:
        from brankas.core.keyring import shares as core_shares

        return [core_shares.identity(shares)], "recovery shares"
    if identity_text is not None:
        return [crypto.parse_identity(identity_text)], "recovery identity"
    if passphrase is None:
        raise InvalidInput("recover_secret_needed")
    found: list[Any] = []
    tried = 0
    stopped = False
    deadline = time.monotonic() + UNLOCK_BUDGET
    # every version (a delete marker hides nothing here), newest of each name first
    for info in client.list_versions(f"{layout.DATA}/"):
        if info.size > KEY_FILE_LIMIT or layout.OBJECT_KEY.fullmatch(info.key) is None:
            continue
        if tried >= KEY_FILES_TRIED or time.monotonic() > deadline:
            stopped = True  # what is left may hold the holder's file: said, not hidden
            break
        try:
            data = fetch(client, info.key, info.version_id, KEY_FILE_LIMIT)
        except BrankasError as exc:
            if not passed_over(exc):
                raise
            continue
        factor = crypto.scrypt_work_factor(data)
        if factor is None or factor > crypto.MAX_WORK_FACTOR:
            continue  # not an identity file Brankas wrote: costs nothing, does not count
        tried += 1
        try:
            found.append(crypto.unlock_identity(data, passphrase, username="offsite"))
        except CryptoFailure:
            continue
    if not found and stopped:
        raise CryptoFailure("offsite_recover_unlock_bounded", tried=tried,
                            files=KEY_FILES_TRIED, seconds=int(UNLOCK_BUDGET))
    if not found:
        raise CryptoFailure("offsite_recover_cannot_unlock", what="passphrase")
    return found, "key holder passphrase"


# -- payload objects by version -------------------------------------------------------------

@dataclass
class Versions:
    """Each payload name's versions (newest first), and the one found to be the sealed
    manifest's (``chosen``); what was passed over is named in ``problems``."""

    client: Any
    manifest: dict[str, str]  # key -> SHA-256 of the object as stored (sealed)
    problems: list[str]
    by_key: dict[str, list[str | None]] = field(default_factory=dict)  # the oldest kept
    counts: dict[str, int] = field(default_factory=dict)  # every version listed
    chosen: dict[str, str | None] = field(default_factory=dict)
    sizes: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def listing(self, prefix: str = f"{layout.DATA}/") -> None:
        """Only the sealed manifest's names, only the ``VERSIONS_TRIED`` oldest of each
        (the listing says newest first): what is kept is bounded by the office's objects,
        however many the bucket holds."""
        for info in self.client.list_versions(prefix):
            if info.key not in self.manifest or not (info.key == prefix
                                                     or prefix.endswith("/")):
                continue
            kept = self.by_key.setdefault(info.key, [])
            kept.append(info.version_id)
            self.sizes[(info.key, info.version_id)] = info.size
            self.counts[info.key] = self.counts.get(info.key, 0) + 1
            if len(kept) > VERSIONS_TRIED:
                self.sizes.pop((info.key, kept.pop(0)), None)

    def download(self, entry: layout.Entry, fh: IO[bytes]) -> bool:
        """Stream the version of ``entry.key`` whose SHA-256 is the sealed manifest's into
        ``fh`` (seekable: emptied before each try). False when no version is (missing, or
        every version altered)."""
        want = self.manifest.get(entry.key)
        if want is None:
            return False
        limit = age_limit(entry.size) if entry.wrap == layout.WRAP_AGE else entry.size
        listed = self.by_key.get(entry.key, [])
        count = self.counts.get(entry.key, len(listed))
        if count > len(listed):
            self.problems.append(f"{entry.key}: {count} versi, {len(listed)} terlama dicoba / "
                                 f"{count} versions, the {len(listed)} oldest tried")
        # oldest first: a payload object is written once, what is planted over it is newer
        for version in listed[::-1]:
            fh.seek(0)
            fh.truncate()
            sink = HashingWriter(fh)
            try:
                self.client.get(entry.key, sink, version_id=version, max_bytes=limit)
            except BrankasError as exc:
                if not passed_over(exc):
                    raise
                self.problems.append(f"{entry.key} [{version}]: {exc.code}")
                continue
            if sink.hash.hexdigest() == want:
                self.chosen[entry.key] = version
                fh.flush()
                size = self.sizes.get((entry.key, version))
                newer = len([v for v in listed[:listed.index(version)]
                             if self.sizes.get((entry.key, v)) != size]) + count - len(listed)
                if newer:  # (a push resumed may have sent the same object again)
                    self.problems.append(f"{entry.key}: {newer} versi lebih baru bukan "
                                         f"yang disegel, diabaikan / {newer} newer "
                                         "versions, not the sealed object, ignored")
                return True
            self.problems.append(f"{entry.key} [{version}]: bukan yang disegel, diabaikan / "
                                 "not the sealed object, ignored")
        return False

    def read(self, entry: layout.Entry, identities: list[Any], limit: int) -> bytes | None:
        """A small object's file (decrypted when the push encrypted it), checked against
        the sealed manifest and index; None when no version is."""
        box = io.BytesIO()
        if entry.size > limit or not self.download(entry, box):
            return None
        data = box.getvalue()
        if entry.wrap == layout.WRAP_AGE:
            try:
                data = crypto.decrypt_bytes(data, identities)
            except Exception:  # noqa: BLE001 - pyrage: damaged, or not to these identities
                self.problems.append(f"{entry.key}: tidak terbuka / does not open")
                return None
        if layout.sha256(data) != entry.sha256 or len(data) != entry.size:
            self.problems.append(f"{entry.key}: bukan berkas yang diindeks / not the file "
                                 "the index names")
            return None
        return data


# -- which seal -----------------------------------------------------------------------------

@dataclass
class SealChoice:
    sealed: layout.SealedPush
    version: str | None  # of brankas-seal.age
    trusted: set[str]
    trusted_by: list[str]
    problems: list[str]
    older: list[str | None]  # the other authentic seal versions (older pushes)


def _index_of(client: Any, sealed: layout.SealedPush, identities: list[Any]) -> bytes:
    data = crypto.decrypt_bytes(fetch(client, layout.INDEX, sealed.index_version,
                                      age_limit(layout.INDEX_LIMIT)), identities)
    if layout.sha256(data) != sealed.index_sha256:
        raise ValueError("the index is not the one sealed")
    return data


def _anchored(client: Any, sealed: layout.SealedPush, identities: list[Any],
              secrets: list[tuple[str, str]]) -> dict[str, str]:
    """The office keys the anchors of ``sealed``'s index name, each checked with one of
    ``secrets`` (label, identity): {public key: what believed it}."""
    entries, _ = layout.parse_index(_index_of(client, sealed, identities))
    manifest = fetch(client, layout.MANIFEST, sealed.manifest_version, layout.TAG_LIMIT)
    if layout.sha256(manifest) != sealed.manifest_sha256:
        raise ValueError("the manifest is not the one sealed")
    objects, _ = layout.parse_manifest(manifest)
    versions = Versions(client, objects, [])
    prefix = f"{KEYS_DIR}/{diskseal.ANCHORS_DIR}/"
    anchors = [e for e in entries if e.path.startswith(prefix)]
    for e in anchors:  # only the anchors' names: one listing each
        versions.listing(e.key)
    found: dict[str, str] = {}
    for e in anchors:
        data = versions.read(e, identities, diskseal.ANCHOR_LIMIT)
        if data is None:
            continue
        for label, secret in secrets:
            statement = diskseal.anchor_open(data, secret)
            if statement is not None:
                key = str(statement["office_key"])
                found.setdefault(key, f"anchor ({label}): {diskseal.fingerprint(key)}")
    return found


def choose_seal(client: Any, *, identities: list[Any], secrets: list[tuple[str, str]],
                where: str) -> SealChoice:
    """The seal a recover uses: signed by an office key an anchor (opened with
    ``secrets``) names, of the highest push. Refused (``offsite_recover_not_sealed``) when
    no seal opens with these identities (another office's copy, or none), or none is
    signed by a key the identities anchor (forged)."""
    problems: list[str] = []
    opened: list[tuple[str | None, diskseal.Seal, bytes]] = []
    read = 0
    for info in client.list_versions(layout.SEAL):
        if info.key != layout.SEAL:
            continue
        label = f"{layout.SEAL} [{info.version_id}]"
        if read >= SEALS_READ:
            # The versions not read are the oldest: the newest authentic seal may be among
            # them (versions planted over it, an older seal replayed). Choosing among those
            # read would roll back: refused, named.
            raise IntegrityFailure("offsite_recover_not_sealed", where=where,
                                   detail=f"{layout.SEAL}: lebih dari / more than "
                                          f"{SEALS_READ} versions, the newest push cannot "
                                          "be told")
        read += 1
        try:
            plain = crypto.decrypt_bytes(fetch(client, layout.SEAL, info.version_id,
                                               age_limit(layout.SEAL_LIMIT)), identities)
            seal = diskseal.parse_seal(plain)
        except BrankasError as exc:
            if not passed_over(exc, "crypto"):
                raise
            problems.append(f"{label}: ditolak / refused ({exc.code})")
            continue
        except Exception:  # noqa: BLE001 - pyrage (not to these identities), parse_seal
            problems.append(f"{label}: tidak terbuka dengan kunci ini atau bukan segel / "
                            "does not open with this key, or not a seal")
            continue
        if not seal.valid:
            problems.append(f"{label}: tanda tangan tidak cocok / the signature does not "
                            "check")
            continue
        opened.append((info.version_id, seal, plain))
    if not opened:
        raise IntegrityFailure("offsite_recover_not_sealed", where=where,
                               detail="; ".join(problems)[:500] or "no seal")
    trusted: dict[str, str] = {}
    spent: set[str] = set()  # signers whose anchors were looked for: one index read each
    indexed: list[tuple[str, str]] = []  # (signer, remote) of each seal whose index is here
    # The signers in the order they first signed here (what is planted is newer than the
    # office's first push: signers planted as the newest do not crowd the office's out).
    signers = list(dict.fromkeys(seal.key for _v, seal, _p in reversed(opened)))
    for version, seal, plain in opened:  # newest first: each signer's newest seal whose
        # index is here (a seal of another prefix replayed names none: a HEAD, not a read)
        if seal.key in spent or seal.key not in signers[:SIGNERS_TRIED]:
            continue
        try:
            sealed = layout.open_seal(plain, {seal.key})
            if client.head(layout.INDEX, sealed.index_version) is None:
                problems.append(f"{layout.SEAL} [{version}]: indeksnya tidak ada di sini / "
                                "names no index here (another copy's seal), ignored")
                continue
            spent.add(seal.key)
            found = _anchored(client, sealed, identities, secrets)
        except BrankasError as exc:  # what it names is not there, or not as sealed
            problems.append(f"{layout.SEAL} [{version}]: {exc.code}")
            continue
        except Exception as exc:  # noqa: BLE001 - pyrage, a malformed statement or index
            problems.append(f"{layout.SEAL} [{version}]: {str(exc)[:200]}")
            continue
        indexed.append((seal.key, sealed.remote))
        trusted.update({k: v for k, v in found.items() if k not in trusted})
    # The copy under this prefix: that of the newest believed seal whose index is here.
    home = next((r for k, r in indexed if k in trusted), None)
    best: tuple[int, int, str | None, layout.SealedPush] | None = None
    authentic: list[tuple[int, str | None, layout.SealedPush]] = []
    for n, (version, seal, plain) in enumerate(opened):
        label = f"{layout.SEAL} [{version}]"
        if seal.key not in trusted:
            problems.append(f"{label}: ditandatangani kunci yang tidak dipercaya / signed by "
                            f"a key no anchor names ({diskseal.fingerprint(seal.key)}), "
                            "ignored")
            continue
        try:
            sealed = layout.open_seal(plain, set(trusted))
        except ValueError as exc:
            problems.append(f"{label}: ditolak / refused ({exc})")
            continue
        if sealed.remote != home:
            problems.append(f"{label}: segel salinan lain (prefix atau bucket lain), "
                            "diabaikan / another copy's seal (another prefix or bucket), "
                            "ignored")
            continue
        authentic.append((n, version, sealed))
        if best is None or sealed.push > best[0]:
            best = (sealed.push, n, version, sealed)
    if best is None:
        raise IntegrityFailure("offsite_recover_not_sealed", where=where,
                               detail="; ".join(problems)[:500])
    push, position, version, sealed = best
    for n, v, other in authentic:
        if n < position:  # written after the chosen one, by an older push: replayed
            problems.append(f"{layout.SEAL} [{v}]: segel lama (kiriman {other.push}) ditulis "
                            f"ulang, diabaikan / an older seal (push {other.push}) written "
                            "again: a rollback, ignored")
    return SealChoice(sealed, version, set(trusted), sorted(set(trusted.values())),
                      problems, [v for n, v, o in authentic if n != position])


def segment_chain(entries: list[layout.Entry], head: tuple[int, str] | None
                  ) -> list[layout.Entry]:
    """The audit segments (``audit/<first>-<last>.jsonl.age``) that make the log from entry
    1 to the sealed head: from each entry, the segment reaching furthest (a push cut short
    after its segment left one the next push's overlaps)."""
    from brankas.core.disk import segments as segs

    ranged: dict[int, list[tuple[int, layout.Entry]]] = {}
    for e in entries:
        found = segs.name_range(e.path)
        if found is not None:
            ranged.setdefault(found[0], []).append((found[1], e))
    chain: list[layout.Entry] = []
    expected = 1
    last = head[0] if head is not None else 0
    while expected <= last:
        options = [(end, e) for end, e in ranged.get(expected, []) if end <= last]
        if not options:
            break
        end, e = max(options, key=lambda o: o[0])
        chain.append(e)
        expected = end + 1
    return chain


def shown(value: str) -> str:
    return fmt.shown(value, 200)
