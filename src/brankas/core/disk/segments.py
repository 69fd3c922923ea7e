"""The audit log on a backup disk as append-only, sealed segments.

The audit log only grows (a million entries after ten years), so a backup does not write
it whole each time: each run adds to the disk one **segment** holding the entries the disk
lacks, ``data/audit/<first seq>-<last seq>.jsonl.age`` (both numbers ten digits, so the
names sort in log order). A segment is age-encrypted (to the key holders and the recovery
key, like the snapshot) JSON lines, one entry a line, whole: the fields its hash covers
(``seq at actor action target outcome detail``) and ``prev_hash``, ``hash``. Decrypted and
concatenated in name order, the segments are the whole log.

The office's seal of every run (``seal``) names the segments that make the log up to the
run's audit head, each with its range and SHA-256 (``"audit_segments"``), so a segment
missing, cut short, changed, duplicated, moved out of order or brought from another disk
or office is refused: the list must start at entry 1, each segment must start where the
one before ended, the last must end at the sealed head, and every file must be on the
disk with the sealed SHA-256. Decrypted, each entry must follow the one before (sequence
and hash) and hash as it claims (``Chain``); recover loads a hash break in a sealed segment
as sealed, for ``audit verify`` to report.

A run writes its segment in the same checkpoint as its seal (``bag``): a run killed at any
point leaves either both on the disk or neither, and the next run continues from the last
sealed segment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brankas.core.audit import hashchain

AUDIT_DIR = "audit"
STATEMENT_KEY = "audit_segments"  # in a seal's statement
SEGMENTS_FORMAT = "brankas-audit-segments/1"
SEGMENT_SUFFIX = ".jsonl.age"
SEGMENT_LIMIT = 4 << 30  # bytes of one segment file (a full log of ten years is ~0.5 GB)
LINE_LIMIT = 1 << 20  # one entry's line, decrypted
# Segments one seal lists at most (~130 bytes each in the seal, which is read whole and
# bounded by ``seal.SEAL_LIMIT``, by every run): a run whose list would be longer writes
# the log whole again as one segment (once in 1,024 runs).
MAX_SEGMENTS = 1024
_NAME = re.compile(rf"{AUDIT_DIR}/([0-9]{{10}})-([0-9]{{10}})\.jsonl\.age")  # ASCII digits
_CONTENT = ("seq", "at", "actor", "action", "target", "outcome", "detail")


@dataclass(frozen=True)
class Segment:
    path: str  # payload path (under data/)
    first: int
    last: int
    sha256: str

    def as_list(self) -> list[Any]:
        return [self.path, self.first, self.last, self.sha256]


def segment_path(first: int, last: int) -> str:
    return f"{AUDIT_DIR}/{first:010d}-{last:010d}{SEGMENT_SUFFIX}"


def name_range(path: str) -> tuple[int, int] | None:
    """(first, last) of a segment's payload path, or None for a name Brankas does not
    write."""
    match = _NAME.fullmatch(path)
    return (int(match.group(1)), int(match.group(2))) if match else None


def statement_value(segments: list[Segment]) -> dict[str, Any]:
    """What a seal's statement carries under ``STATEMENT_KEY``."""
    return {"format": SEGMENTS_FORMAT, "segments": [s.as_list() for s in segments]}


def from_statement(value: Any) -> list[Segment]:
    """The segments a seal names; ValueError when the value is not what Brankas writes."""
    if not isinstance(value, dict) or value.get("format") != SEGMENTS_FORMAT:
        raise ValueError("not a list of audit segments")
    rows = value.get("segments")
    if not isinstance(rows, list):
        raise ValueError("not a list of audit segments")
    out = []
    for row in rows:
        if (not isinstance(row, list) or len(row) != 4 or not isinstance(row[0], str)
                or type(row[1]) is not int or type(row[2]) is not int
                or not isinstance(row[3], str)):
            raise ValueError("a malformed audit segment")
        out.append(Segment(row[0], row[1], row[2], row[3]))
    return out


def list_problems(segments: list[Segment], head: Any,
                  entries: Mapping[str, str]) -> list[str]:
    """Why the sealed list ``segments`` does not make the log up to ``head`` (the sealed
    audit head, ``{"seq", "hash"}``) on a disk whose manifest is ``entries``; empty when
    it does. Only names, ranges and SHA-256 are checked (no key is needed)."""
    problems: list[str] = []
    expected = 1
    seen: set[str] = set()
    for s in segments:
        if name_range(s.path) != (s.first, s.last) or s.first > s.last:
            problems.append(f"audit segment {s.path[:80]}: its name is not its range "
                            f"{s.first}-{s.last}")
            return problems
        if s.path in seen or s.first < expected:
            problems.append(f"data/{s.path}: overlaps the segment before it (entries "
                            f"{s.first}-{expected - 1} twice)")
            return problems
        if s.first > expected:
            problems.append(f"data/{s.path}: entries {expected}-{s.first - 1} are in no "
                            "segment (a gap in the audit log)")
            return problems
        seen.add(s.path)
        found = entries.get(s.path)
        if found is None:
            problems.append(f"data/{s.path} is missing (audit entries {s.first}-{s.last})")
        elif found != s.sha256:
            problems.append(f"data/{s.path} is not what the office sealed")
        expected = s.last + 1
    seq = head.get("seq") if isinstance(head, dict) else None
    if type(seq) is not int or expected - 1 != seq:
        problems.append(f"the audit segments end at entry {expected - 1}, the sealed head is "
                        f"{seq if type(seq) is int else 'missing'}")
    return problems


def sealed_segments(statement: Mapping[str, Any]) -> list[Segment] | None:
    """The segments a run's statement names; None when it names none (a run written
    before segments: the log is in its snapshot and audit tail). ValueError: malformed."""
    if STATEMENT_KEY not in statement:
        return None
    return from_statement(statement[STATEMENT_KEY])


def disk_problems(runs: list[Any], entries: Mapping[str, str]) -> list[str]:
    """For ``verify``: what is wrong with the audit segments on a disk, given its authentic
    sealed runs (``seal.RunSeal``, oldest first) and its manifest: the newest run that
    names segments must name a whole log, and every file under ``data/audit/`` must be a
    segment a sealed run names (no file there is left by a killed run: a segment reaches
    the disk in one checkpoint with its seal)."""
    problems: list[str] = []
    named: set[str] = set()
    newest = None
    for run in runs:
        if run.seal is None or STATEMENT_KEY not in run.seal.statement:
            continue
        newest = run
        try:
            segments = from_statement(run.seal.statement[STATEMENT_KEY])
        except ValueError as exc:
            problems.append(f"run {run.folder}: {exc}")
            continue
        named |= {s.path for s in segments}
    if newest is not None and not problems:
        segments = from_statement(newest.seal.statement[STATEMENT_KEY])
        problems += [f"run {newest.folder}: {p}" for p in
                     list_problems(segments, newest.seal.statement.get("audit_head"), entries)]
    for path in sorted(p for p in entries if p.startswith(f"{AUDIT_DIR}/")):
        if path not in named:
            problems.append(f"data/{path[:200]}: not an audit segment the office sealed")
    return problems


class ChainBroken(ValueError):
    """A decrypted segment's entry that does not follow the log."""


class Chain:
    """Checks decrypted segment lines one by one: each entry whole, the next sequence
    number, naming the previous entry's hash and hashing as it claims.

    With ``breaks_allowed`` (recover), an entry that does not name the previous entry's
    hash or does not hash as it claims is counted in ``breaks`` and taken as it is: the
    segment's bytes are the ones the office sealed (SHA-256), so a break is in the office's
    own log (altered in its database before the run) and is evidence for ``audit verify``
    to report once recovered, not a reason to recover nothing."""

    def __init__(self, seq: int = 0, prev: str = hashchain.GENESIS, *,
                 breaks_allowed: bool = False) -> None:
        self.seq = seq
        self.prev = prev
        self.breaks_allowed = breaks_allowed
        self.breaks = 0

    def take(self, line: bytes) -> dict[str, Any]:
        """The entry of one line (its content fields and ``prev_hash``, ``hash``)."""
        try:
            row = json.loads(line)
            content = {k: row[k] for k in _CONTENT}
            prev, digest = row["prev_hash"], row["hash"]
        except (ValueError, KeyError, TypeError):
            raise ChainBroken(f"after entry {self.seq}: a line is not an audit entry") from None
        if type(content["seq"]) is not int or not all(
                isinstance(content[k], str) for k in _CONTENT[1:6]) or len(row) != 9 or not (
                _is_hash(prev) and _is_hash(digest)):
            raise ChainBroken(f"after entry {self.seq}: a malformed entry")
        if content["seq"] != self.seq + 1:
            raise ChainBroken(f"entry {content['seq']} where {self.seq + 1} was due")
        if prev != self.prev or hashchain.entry_hash(prev, content) != digest:
            if not self.breaks_allowed:
                raise ChainBroken(f"entry {content['seq']} does not follow the log (hash)")
            self.breaks += 1
        self.seq, self.prev = content["seq"], digest
        return row


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(
        c in "0123456789abcdef" for c in value)


class Lines:
    """Splits a decrypted stream (written to it by ``crypto.decrypt_stream``) into lines,
    each handed to ``on_line``; a line longer than ``LINE_LIMIT`` is refused."""

    def __init__(self, on_line: Any) -> None:
        self._on_line = on_line
        self._rest = b""

    def write(self, data: Any) -> int:
        chunk = self._rest + bytes(data)
        *lines, self._rest = chunk.split(b"\n")
        if len(self._rest) > LINE_LIMIT:
            raise ChainBroken("a line longer than an audit entry can be")
        for line in lines:
            self._on_line(line)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._rest:
            raise ChainBroken("the segment does not end with a whole line")
