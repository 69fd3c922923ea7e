"""The office's seal on a backup run, and the audit tails of disks written before the
audit log went to the disk as segments.

Each run ends with ``segel.json`` (``core.disk.seal``): the office key's signature over
the run's files, the disk, the current snapshot, the audit segments that make the log up
to the audit head (``core.disk.segments``, written by ``web.backup.segments``) and the
head. Before segments, a snapshot held the audit log as it was when it was read, and the
entries written after it went with every later run as ``audit-tail.json.age``, encrypted
and sealed; ``replay`` still appends such a tail when recovering from an older disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from brankas import __version__
from brankas.core import crypto
from brankas.core.audit import hashchain as auditchain
from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments as seg
from brankas.core.disk.bag import Bag
from brankas.core.disk.layout import RUNS_DIR, SNAPSHOT
from brankas.core.disk.state import read_known_manifest
from brankas.core.errors import BrankasError, SetupError
from brankas.web.audit.models import AuditEvent, AuditSequence
from brankas.web.audit.services import audit_content
from brankas.web.backup import journal
from brankas.web.backup.models import BackupRun, Medium
from brankas.web.keys.models import OfficeKey
from brankas.web.keys.services import office_keys_trusted

AUDIT_TAIL = "audit-tail.json.age"
TAIL_FORMAT = "brankas-audit-tail/1"
TAIL_LIMIT = 256 << 20


def disk_seals(bag: Bag, medium: Medium) -> diskseal.SealReport:
    """The seals on the disk being written, checked with the office's keys."""
    return diskseal.read_disk_seals(bag.dest, bag.entries, trusted=office_keys_trusted(),
                                    medium_id=medium.medium_id, runs_dir=RUNS_DIR)


def check_disk_is(dest: Path, medium: Medium) -> None:
    """A disk that claims the id of a disk the office has sealed runs on must carry at
    least one run the office sealed for that disk (signed by an office key, naming this
    disk and its own folder; its files may since have been damaged): a disk that merely
    copied another's identity file gets no backup, which would then be sealed as that
    disk's. Read only, before the disk is opened for writing."""
    sealed = set(BackupRun.objects.filter(medium=medium, sealed=True)
                 .values_list("folder", flat=True))
    if not sealed:
        return
    try:  # a disk whose manifest or data/ folder cannot be read is refused as such
        # The manifest this office last wrote there (the same bytes) is not checked line
        # by line again (``state.read_known_manifest``); any other is.
        ours = read_known_manifest(dest, medium.lists if isinstance(medium.lists, dict)
                                   else None, under=f"{RUNS_DIR}/")
        entries = ({p: h for p, h in ours.items() if p.startswith(f"{RUNS_DIR}/")}
                   if ours is not None
                   else fmt.read_payload_manifest(dest, problems=[], under=f"{RUNS_DIR}/"))
        del ours
        diskfs.real_dir(dest, fmt.DATA, create=False)
    except FileNotFoundError:
        raise SetupError("backup_bag_invalid", path=str(dest),
                         detail=f"{fmt.MANIFEST} or {fmt.DATA}/ is missing") from None
    except OSError as exc:
        raise fmt.disk_error(exc, dest) from exc
    report = diskseal.read_disk_seals(dest, entries, trusted=office_keys_trusted(),
                                      medium_id=medium.medium_id, runs_dir=RUNS_DIR)
    proven = {r.folder for r in report.runs if r.signed and r.folder in sealed
              and r.statement("medium_id") == medium.medium_id
              and r.statement("folder") == r.folder}
    if not proven:
        raise SetupError("backup_disk_unproven", path=str(dest), label=medium.label)


@dataclass(frozen=True)
class LastSnapshot:
    run: BackupRun
    audit_seq: int  # the last audit entry the snapshot holds
    sha256: str  # of the snapshot file (or the chain's last journal part), as sealed
    # The chain the disk's seal names: the full snapshot and the journal parts after it
    # (``web.backup.journal``), each on the disk as sealed; and the marks that say where
    # it stands (None: the seal has none, the next snapshot is written whole).
    base: journal.Ref | None = None
    parts: tuple[journal.Ref, ...] = ()
    marks: dict[str, Any] | None = None

    @property
    def statement(self) -> dict[str, Any]:
        """The seal's ``snapshot`` entry naming this chain (``seal``)."""
        return snapshot_statement(self.base, self.parts)


def snapshot_statement(base: journal.Ref | None,
                       parts: tuple[journal.Ref, ...] | list[journal.Ref]) -> dict[str, Any]:
    """A seal's ``snapshot``: the current snapshot's folder and SHA-256; with a journal,
    the folder and SHA-256 of its last part, the base and every part (a reader that knows
    no journal finds no snapshot file in that folder and refuses, rather than load the
    base alone)."""
    if base is None:
        return {"folder": "", "sha256": "", "audit_seq": 0}
    if not parts:
        return {"folder": base.folder, "sha256": base.sha256, "audit_seq": 0}
    return {"folder": parts[-1].folder, "sha256": parts[-1].sha256, "audit_seq": 0,
            "base": base.as_json(), "journal": [p.as_json() for p in parts]}


def chain_from_statement(named: Any) -> tuple[journal.Ref, tuple[journal.Ref, ...]] | None:
    """The (base, parts) a seal's ``snapshot`` names, or None when it is malformed."""
    if not isinstance(named, dict):
        return None

    def ref(value: Any) -> journal.Ref | None:
        if (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, str) for v in value)):
            return journal.Ref(value[0], value[1])
        return None

    if "journal" not in named:
        folder, sha = named.get("folder"), named.get("sha256")
        if not isinstance(folder, str) or not isinstance(sha, str):
            return None
        return journal.Ref(folder, sha), ()
    base, listed = ref(named.get("base")), named.get("journal")
    if base is None or not isinstance(listed, list) or not listed \
            or len(listed) > journal.MAX_PARTS_READ:
        return None
    parts = tuple(ref(v) for v in listed)
    if any(p is None for p in parts) or len({p.folder for p in parts}) != len(parts):  # type: ignore[union-attr]
        return None
    if (parts[-1].folder, parts[-1].sha256) != (named.get("folder"), named.get("sha256")):  # type: ignore[union-attr]
        return None
    return base, parts  # type: ignore[return-value]


def chain_paths(base: journal.Ref, parts: tuple[journal.Ref, ...]) -> list[tuple[str, str]]:
    """(payload path, SHA-256) of each file of a chain."""
    return [(f"{RUNS_DIR}/{base.folder}/{SNAPSHOT}", base.sha256),
            *((f"{RUNS_DIR}/{p.folder}/{journal.JOURNAL}", p.sha256) for p in parts)]


def _still_there(bag: Bag, path: str) -> bool:
    """Whether a file of the chain is on the disk as the manifest says: a regular file of
    the size recorded, reached through real folders (an ``lstat``, as for a document and
    an audit segment; the full check of its bytes is ``verify``'s)."""
    try:
        st = diskfs.stat_file(bag.dest, f"{fmt.DATA}/{path}")
    except (OSError, BrankasError):
        return False
    return st.st_size == bag.sizes.get(path)


def last_snapshot(bag: Bag, medium: Medium, seals: diskseal.SealReport) -> LastSnapshot | None:
    """The newest completed run that wrote a snapshot (or a journal part) to this disk, if
    the disk still carries that run as the office sealed it, the seal names the last audit
    entry the snapshot holds (a run from before seals existed does not count: a no-change
    run must name a snapshot a recover can authenticate) and every file of the chain it
    names (the base snapshot and the journal parts) is on the disk as sealed. The disk
    may have been altered since (a snapshot replaced, its seal removed or re-signed):
    then this run writes a new snapshot rather than seal a pointer to one that recover
    would refuse."""
    last = (BackupRun.objects.filter(medium=medium, status=BackupRun.COMPLETED, snapshot=True)
            .order_by("-number").first())
    if last is None or not last.sealed:
        return None
    sealed = seals.run(last.folder)
    if sealed is None or not sealed.authentic:
        return None  # its seal is gone or its files are not what was sealed: write anew
    if seg.STATEMENT_KEY not in (sealed.seal.statement if sealed.seal else {}):
        return None  # a snapshot from before segments holds the log: a run writes anew
    named = sealed.statement("snapshot")
    audit_seq = named.get("audit_seq") if isinstance(named, dict) else None
    chain = chain_from_statement(named)
    if type(audit_seq) is not int or chain is None:
        return None
    base, parts = chain
    mine = parts[-1].folder if parts else base.folder
    if mine != last.folder:
        return None  # the run that wrote it names another snapshot: not this layout
    files = sealed.statement("files") or {}
    entries = bag.entries
    for path, sha in chain_paths(base, parts):
        if entries.get(path) != sha or not _still_there(bag, path):
            return None  # a part of the chain is not on the disk as sealed: write anew
    if not parts and files.get(f"{RUNS_DIR}/{last.folder}/{SNAPSHOT}") != base.sha256:
        return None
    if parts and files.get(f"{RUNS_DIR}/{last.folder}/{journal.JOURNAL}") != parts[-1].sha256:
        return None
    marks = sealed.statement(journal.MARKS_KEY)
    return LastSnapshot(last, audit_seq, (parts[-1] if parts else base).sha256, base, parts,
                        marks if isinstance(marks, dict) else None)


def seal(seals: diskseal.SealReport, bag: Bag, signing: OfficeKey, *, office: str,
         run: BackupRun, medium: Medium, files: dict[str, str], snapshot: dict[str, Any],
         marks: dict[str, Any] | None, segments: list[seg.Segment], head: Any,
         finished: Any) -> bytes:
    """The run's seal: signed by the office key, naming the disk, this run's files, the
    current snapshot (``snapshot_statement``: which holds no audit entry, ``audit_seq``
    0), the marks where it stands (``journal.marks``), the audit segments that make the
    log up to the audit head (``core.disk.segments``), the head and the disk's previous
    seal."""
    signed = [r for r in seals.runs if r.signed and r.seal is not None]
    statement = {
        "office": office, "office_key": signing.fingerprint,
        "run": run.number, "folder": run.folder,
        "medium_id": medium.medium_id, "medium_sha256": bag.medium_sha256,
        "started_at": run.started_at.isoformat(), "finished_at": finished.isoformat(),
        "files": files,
        "snapshot": snapshot,
        **({journal.MARKS_KEY: marks} if marks is not None else {}),
        "audit_tail": None,
        seg.STATEMENT_KEY: seg.statement_value(segments),
        "audit_head": head,
        "previous": signed[-1].seal.sha256 if signed and signed[-1].seal else None,
        "software": f"Brankas {__version__}",
    }
    return diskseal.seal_bytes(statement, diskseal.OfficeKey(signing.public,
                                                             bytes(signing.private)))


# -- recover: the entries after the snapshot ------------------------------------------

def replay(data: bytes, identities: list[Any], *, head: Any) -> str | None:
    """Append a sealed audit tail to the log just loaded from its snapshot; None when done,
    else why not (nothing is appended then). Every entry must follow the log's last one
    (sequence and hash) and hash as it claims, and the last must be the sealed head."""
    try:
        body = fmt.json_from_disk(crypto.decrypt_bytes(data, identities))
        entries = body["entries"]
        if body.get("format") != TAIL_FORMAT or not isinstance(entries, list):
            return "not an audit tail"
    except Exception:  # noqa: BLE001 - damaged, or not encrypted to these identities
        return "does not open"
    last = AuditEvent.objects.order_by("-seq").first()
    seq, prev = (last.seq, last.hash) if last else (0, auditchain.GENESIS)
    events = []
    try:
        for row in entries:
            at = parse_datetime(str(row["at"]))
            if at is None:
                raise ValueError("no time")
            event = AuditEvent(seq=int(row["seq"]), at=at, actor=str(row["actor"]),
                               action=str(row["action"]), target=str(row["target"]),
                               outcome=str(row["outcome"]), detail=row["detail"],
                               prev_hash=str(row["prev_hash"]), hash=str(row["hash"]))
            if (event.seq != seq + 1 or event.prev_hash != prev
                    or auditchain.entry_hash(prev, audit_content(event)) != event.hash):
                return f"entry #{row.get('seq')} does not follow the log"
            events.append(event)
            seq, prev = event.seq, event.hash
    except (KeyError, TypeError, ValueError):
        return "an entry is malformed"
    if not isinstance(head, dict) or (seq, prev) != (head.get("seq"), head.get("hash")):
        return "it does not end at the sealed head"
    with transaction.atomic():
        AuditEvent.objects.bulk_create(events)
        counter, _ = AuditSequence.objects.get_or_create(id=1)
        if counter.last < seq:
            AuditSequence.objects.filter(id=1).update(last=seq)
    return None


def raise_counter(seq: int) -> None:
    """Numbers up to ``seq`` were given (a disk's sealed head says so): never again."""
    counter, _ = AuditSequence.objects.get_or_create(id=1)
    if counter.last < seq:
        AuditSequence.objects.filter(id=1).update(last=seq)
