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
from brankas.core.errors import SetupError
from brankas.web.audit.models import AuditEvent, AuditSequence
from brankas.web.audit.services import audit_content
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
        entries = fmt.read_payload_manifest(dest, problems=[], under=f"{RUNS_DIR}/")
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
    sha256: str  # of the snapshot file, as the office sealed it


def last_snapshot(bag: Bag, medium: Medium, seals: diskseal.SealReport) -> LastSnapshot | None:
    """The newest completed run that wrote a snapshot to this disk, if the disk still
    carries that run as the office sealed it and the seal names the last audit entry the
    snapshot holds (a run from before seals existed does not count: a no-change run must
    name a snapshot a recover can authenticate). The disk may have been altered since (a
    snapshot replaced, its seal removed or re-signed): then this run writes a new
    snapshot rather than seal a pointer to one that recover would refuse."""
    last = (BackupRun.objects.filter(medium=medium, status=BackupRun.COMPLETED, snapshot=True)
            .order_by("-number").first())
    if last is None or not last.sealed or not bag.has(f"{RUNS_DIR}/{last.folder}/{SNAPSHOT}"):
        return None
    sealed = seals.run(last.folder)
    if sealed is None or not sealed.authentic:
        return None  # its seal is gone or its files are not what was sealed: write anew
    if seg.STATEMENT_KEY not in (sealed.seal.statement if sealed.seal else {}):
        return None  # a snapshot from before segments holds the log: a run writes anew
    named = sealed.statement("snapshot")
    audit_seq = named.get("audit_seq") if isinstance(named, dict) else None
    sha256 = (sealed.statement("files") or {}).get(f"{RUNS_DIR}/{last.folder}/{SNAPSHOT}")
    if type(audit_seq) is not int or not isinstance(sha256, str):
        return None
    return LastSnapshot(last, audit_seq, sha256)


def seal(seals: diskseal.SealReport, bag: Bag, signing: OfficeKey, *, office: str,
         run: BackupRun, medium: Medium, files: dict[str, str], snapshot_folder: str,
         snapshot_sha256: str, segments: list[seg.Segment], head: Any,
         finished: Any) -> bytes:
    """The run's seal: signed by the office key, naming the disk, this run's files, the
    current snapshot (which holds no audit entry: ``audit_seq`` 0), the audit segments
    that make the log up to the audit head (``core.disk.segments``), the head and the
    disk's previous seal."""
    signed = [r for r in seals.runs if r.signed and r.seal is not None]
    statement = {
        "office": office, "office_key": signing.fingerprint,
        "run": run.number, "folder": run.folder,
        "medium_id": medium.medium_id, "medium_sha256": bag.medium_sha256,
        "started_at": run.started_at.isoformat(), "finished_at": finished.isoformat(),
        "files": files,
        "snapshot": {"folder": snapshot_folder, "sha256": snapshot_sha256,
                     "audit_seq": 0},
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
