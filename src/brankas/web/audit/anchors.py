"""The audit chain's anchors, and checking the log against them (``brankas audit verify``).

An anchor is a chain head ``(seq, hash)`` kept outside the audit table, where someone who
rewrites the database does not reach it (or not every copy of it):

- every approved report's head, recorded with the report (``report_anchors``) and printed
  on its PDF, which also carries it in its document information;
- the head each backup run writes in its control list on the disk (``disk_anchors``);
- a report PDF given as a file (``pdf_anchors``).

``audit_verify_anchors`` checks the chain, the sequence counter, every approved report's
head and the anchors given, in one pass over the log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brankas.core.access import Action
from brankas.core.audit import head as audithead
from brankas.core.audit.hashchain import Anchor, ChainReport
from brankas.core.disk.format import json_from_disk
from brankas.core.disk.layout import CONTROL_JSON, RUNS_DIR
from brankas.core.disk.reader import BagReader
from brankas.core.errors import BrankasError, InvalidInput, NotFound
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.audit.services import audit_check
from brankas.web.reports.models import Report

MAX_PDF_BYTES = 256 * 1024 * 1024  # far above any report; a wrong file is refused early
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _valid_head(head: Any) -> tuple[int, str] | None:
    """``{"seq": N, "hash": "<64 hex>"}`` as a control list records it, else None."""
    if not isinstance(head, dict):
        return None
    seq, digest = head.get("seq"), head.get("hash")
    if type(seq) is not int or seq < 1 or not isinstance(digest, str):
        return None
    digest = digest.lower()
    return (seq, digest) if _HEX64.fullmatch(digest) else None


def _shown(text: str, limit: int = 60) -> str:
    """Text read from a disk, fit to be printed: no control characters, bounded."""
    return "".join(ch for ch in text if ch.isprintable())[:limit] or "?"


def disk_anchors(dest: Path | str) -> list[Anchor]:
    """The head every run on the backup disk at ``dest`` recorded (newest run first): from
    the seals made with this office's key (``core.disk.seal``), which a disk cannot forge,
    and from the control lists of the office's own runs made before seals existed. A
    damaged or foreign record is left out."""
    from brankas.core.disk import seal as diskseal
    from brankas.web.backup.models import BackupRun
    from brankas.web.keys.services import office_keys_trusted

    reader = BagReader(dest)
    label = _shown(reader.medium.label)
    seals = diskseal.read_disk_seals(reader.dest, reader.entries,
                                     trusted=office_keys_trusted(),
                                     medium_id=reader.medium.medium_id, runs_dir=RUNS_DIR)
    heads: dict[str, tuple[int, str]] = {}
    for run in seals.authentic:
        head = _valid_head(run.statement("audit_head"))
        if head is not None:
            heads[run.folder] = head
    unsealed = set(BackupRun.objects.filter(sealed=False).values_list("folder", flat=True))
    for payload in reader.run_folders(RUNS_DIR, CONTROL_JSON):
        folder = payload.split("/")[1]
        known = seals.run(folder)
        if folder in heads or folder not in unsealed or (known and known.seal is not None):
            continue
        try:
            control = json_from_disk(reader.read_bytes(payload, limit=64 << 20))
        except (BrankasError, ValueError):
            continue
        head = _valid_head(control.get("audit_head")) if isinstance(control, dict) else None
        if head is not None:
            heads[folder] = head
    found = []
    for folder in sorted(heads, key=lambda f: diskseal.run_number(f) or 0, reverse=True):
        seq, digest = heads[folder]
        number = str(diskseal.run_number(folder) or 0)
        found.append(Anchor(source=(f"disk {label}, back up {number}",
                                    f"disk {label}, backup {number}"),
                            seq=seq, hash=digest, kind="disk",
                            ref=f"{_shown(reader.medium.medium_id)}/{_shown(folder)}"))
    return found


def report_anchors() -> list[Anchor]:
    """The head recorded with every approved report (the head just before approval)."""
    reports = (Report.objects.filter(audit_seq__isnull=False).exclude(audit_hash="")
               .order_by("number").values_list("number", "audit_seq", "audit_hash"))
    return [Anchor(source=(f"laporan {n}", f"report {n}"), seq=seq or 0, hash=digest,
                   kind="report", ref=str(n)) for n, seq, digest in reports]


def pdf_anchors(path: Path | str) -> list[Anchor]:
    """The head a report PDF anchors: the recorded head of the approved report whose PDF
    it is byte for byte, and the head the PDF itself carries (document information, or
    the printed verification block of a report approved before it was written there)
    when that differs, as it does when the database's record was rewritten."""
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > MAX_PDF_BYTES:
        raise InvalidInput("file_too_large", name=name, size=size // 2**20,
                           limit=MAX_PDF_BYTES // 2**20)
    return pdf_anchors_data(path.read_bytes(), name=name, ref=str(path))


def pdf_anchors_data(data: bytes, *, name: str, ref: str) -> list[Anchor]:
    """``pdf_anchors`` of a PDF already read (an upload on the audit check page): ``name``
    as shown, ``ref`` where it came from."""
    digest = hashlib.sha256(data).hexdigest()
    found: list[Anchor] = []
    report = Report.objects.filter(final_sha256=digest).first()
    if report is not None and report.audit_seq and report.audit_hash:
        found.append(Anchor(source=(f"laporan {report.number} ({name})",
                                    f"report {report.number} ({name})"),
                            seq=report.audit_seq, hash=report.audit_hash, kind="report",
                            ref=str(report.number)))
    head = audithead.read_pdf_head(data, name=name)
    if head is not None and all((a.seq, a.hash) != (head.seq, head.hash) for a in found):
        found.append(Anchor(source=(f"PDF {name}", f"PDF {name}"), seq=head.seq,
                            hash=head.hash, kind="pdf", ref=ref))
    if not found:
        raise InvalidInput("audit_anchor_pdf_no_head", name=name)
    return found


def anchors_from_paths(paths: Sequence[Path | str]) -> list[Anchor]:
    """``--against``: a folder is a backup disk, a file a report PDF."""
    found: list[Anchor] = []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if path.is_dir():
            heads = disk_anchors(path)
            if not heads:
                raise NotFound("audit_anchor_disk_no_head", path=str(path))
            found += heads
        elif path.is_file():
            found += pdf_anchors(path)
        else:
            raise NotFound("audit_anchor_not_found", path=str(path))
    return found


def audit_verify_anchors(*, anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Check the chain, the counter, every approved report's recorded head and
    ``anchors``; each anchor's result names its first problem."""
    return audit_check([*report_anchors(), *anchors])


def audit_chain_report(*, actor: Actor, via: str = "", target: str = "") -> ChainReport:
    """``audit_verify_anchors`` for the audit pages (view-audit). ``brankas audit verify``
    stays open to every role and calls ``audit_verify_anchors`` itself."""
    require_audited(actor, Action.VIEW_AUDIT, target=target, via=via)
    return audit_verify_anchors()
